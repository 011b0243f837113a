//! `devtool seed FILE`: creates the demo accounts listed in FILE (idempotent: existing ones
//! are left as they are), credits their demo wallets once, publishes a new account's demo
//! services, and prints the credentials. `devtool seed-catalog FILE` loads the category and
//! skill catalogue. `devtool credit USERNAME AMOUNT` credits a wallet (local stack only: the
//! money comes from the gateway clearing account, as a top-up's would). `devtool reconcile`
//! runs the full ledger reconciliation now; `devtool reconcile-export DIR` runs it over a
//! table export's (gunzipped) data files. `devtool reindex` rebuilds the search index from the
//! table (OpenSearch with `SEARCH_URL`, tantivy with `SEARCH_INDEX_DIR`). `devtool rank` runs
//! the hourly ranking (scores and seller levels) now; `devtool monthly` last month's reports. `devtool
//! bench-search N` measures the local search engine on N generated services (`make bench`).
//! `devtool token-keys` prints a new token secret (for Secrets Manager) and its public key
//! (the `AccessTokenPublicKey` parameter); `devtool pii-key` a new 实名认证 key secret.
//! Reads the same environment as the functions (`TABLE_NAME`, `ACCESS_TOKEN_PUBLIC_KEY`,
//! `TOKEN_SECRET_ID`, `AWS_ENDPOINT_URL`).

mod bench;

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;
use shared::app::ClientInfo;
use shared::app::auth::{NewAccount, RegisterError, register};
use shared::app::services;
use shared::domain::{Email, Money, Password, Phone, User, UserType, Username};
use shared::store::LoginKey;

#[derive(Debug, Deserialize)]
struct DemoUser {
    username: String,
    password: String,
    user_type: String,
    email: Option<String>,
    phone: Option<String>,
    /// Demo money in the wallet, e.g. `"5000.00"` (credited once).
    wallet: Option<String>,
    /// Services a new demo freelancer publishes (bodies as for `POST /services`).
    #[serde(default)]
    services: Vec<shared::domain::service::ServiceInput>,
}

fn account(u: &DemoUser) -> anyhow::Result<NewAccount> {
    let text = |t: shared::i18n::Text| anyhow::anyhow!("{}: {}", u.username, t.en);
    Ok(NewAccount {
        username: Username::parse(&u.username).map_err(text)?,
        password: Password::parse(&u.password, Some(&u.username)).map_err(text)?,
        user_type: UserType::parse(&u.user_type)
            .with_context(|| format!("bad user_type {}", u.user_type))?,
        email: u
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(text)?,
        phone: u
            .phone
            .as_deref()
            .map(Phone::parse)
            .transpose()
            .map_err(text)?,
    })
}

async fn seed(path: PathBuf) -> anyhow::Result<()> {
    let users: Vec<DemoUser> = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
    )?;
    let deps = shared::Deps::from_env().await?;
    let client = ClientInfo {
        ip: "127.0.0.1".into(),
        user_agent: "devtool".into(),
    };
    println!("Demo accounts (log in with username, email or phone):");
    for u in &users {
        let now = chrono::Utc::now();
        let (outcome, user) =
            match register(&deps.store, &deps.keys, account(u)?, &client, now).await {
                Ok(signed_in) => ("created", signed_in.user),
                Err(RegisterError::Taken(_)) => ("exists", find(&deps.store, &u.username).await?),
                Err(e) => bail!("seeding {}: {e}", u.username),
            };
        if let Some(amount) = &u.wallet {
            let amount: Money = amount
                .parse()
                .with_context(|| format!("wallet of {}", u.username))?;
            shared::app::ledger::deposit(
                &deps.store,
                user.id,
                amount,
                &format!("demo:{}", u.username),
                now,
            )
            .await?;
        }
        if outcome == "created" {
            for body in &u.services {
                let service = services::create(&deps.store, &user, body.clone(), now)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo service of {}: {e:?}", u.username))?;
                services::publish(&deps.store, user.id, service.id, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("publishing a demo service: {e:?}"))?;
            }
        }
        let mut extra = String::new();
        if let Some(amount) = &u.wallet {
            extra.push_str(&format!("  wallet ¥{amount}"));
        }
        if !u.services.is_empty() {
            extra.push_str(&format!("  {} services on sale", u.services.len()));
        }
        println!(
            "  {:<11} {:<17} password {:<24} {:<8} {}{extra}",
            u.user_type,
            u.username,
            u.password,
            outcome,
            u.email.as_deref().unwrap_or("")
        );
    }
    Ok(())
}

async fn find(store: &shared::store::Store, username: &str) -> anyhow::Result<User> {
    let name = Username::parse(username).map_err(|t| anyhow::anyhow!("{username}: {}", t.en))?;
    let id = store
        .find_user_id(&LoginKey::Username(name))
        .await?
        .with_context(|| format!("no user {username}"))?;
    store
        .get_user(id)
        .await?
        .with_context(|| format!("no user {username}"))
}

/// Credits `amount` to `username`'s wallet (a deposit from gateway clearing).
async fn credit(username: &str, amount: &str) -> anyhow::Result<()> {
    let amount: Money = amount
        .parse()
        .map_err(|_| anyhow::anyhow!("not an amount: {amount} (write it like 500.00)"))?;
    let deps = shared::Deps::from_env().await?;
    let user = find(&deps.store, username).await?;
    let reference = format!("devtool:{}", ulid::Ulid::new());
    shared::app::ledger::deposit(&deps.store, user.id, amount, &reference, chrono::Utc::now())
        .await?;
    let b = shared::app::ledger::wallet(&deps.store, user.id).await?;
    println!(
        "Credited {amount} to {username}; balance {}",
        Money::from_fen(b.available_fen)
    );
    Ok(())
}

/// Clears `username`'s pending earnings now, as `order-timers` would at the end of each
/// clearance period (local stack only: a shortcut for trying withdrawals).
async fn clear(username: &str) -> anyhow::Result<()> {
    let deps = shared::Deps::from_env().await?;
    let user = find(&deps.store, username).await?;
    let mut cleared = Money::ZERO;
    for c in deps.store.pending_clearances(user.id).await? {
        if shared::app::refunds::fire_clearance(
            &deps.store,
            &deps.gateways,
            user.id,
            c.order_id,
            c.clears_at,
        )
        .await?
        {
            cleared = Money::from_fen(cleared.fen() + c.amount.fen());
        }
    }
    let b = shared::app::ledger::wallet(&deps.store, user.id).await?;
    println!(
        "Cleared {cleared} for {username}; balance {}, pending clearance {}",
        Money::from_fen(b.available_fen),
        Money::from_fen(b.pending_fen)
    );
    Ok(())
}

/// Runs the full ledger reconciliation on the live table now and prints what it found.
async fn reconcile() -> anyhow::Result<()> {
    let deps = shared::Deps::from_env().await?;
    let r = shared::app::ledger::reconcile(&deps.store, chrono::Utc::now()).await?;
    print_reconciliation(&r)
}

/// The full reconciliation over a table export: every `*.json` file under `dir` (the
/// export's `data/` files, gunzipped). Reads nothing from AWS.
fn reconcile_export(dir: &str) -> anyhow::Result<()> {
    let mut texts = Vec::new();
    let mut pending = vec![PathBuf::from(dir)];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).with_context(|| path.display().to_string())? {
                pending.push(entry?.path());
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            texts.push(std::fs::read_to_string(&path).with_context(|| path.display().to_string())?);
        }
    }
    if texts.is_empty() {
        bail!("no .json data files under {dir} (gunzip the export's data/ files first)");
    }
    let modified = std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .map(chrono::DateTime::<chrono::Utc>::from)
        .unwrap_or_else(|_| chrono::Utc::now());
    println!("Export: {} data files", texts.len());
    let r = shared::app::ledger::reconcile_export(texts.iter().map(String::as_str), modified)?;
    print_reconciliation(&r)
}

fn print_reconciliation(r: &shared::app::ledger::Reconciliation) -> anyhow::Result<()> {
    println!(
        "Ledger: {} wallets, {} movements, {} lines; settled lines sum to {} fen",
        r.accounts, r.movements, r.lines, r.settled_sum_fen
    );
    for f in &r.findings {
        println!("  MISMATCH {f:?}");
    }
    if r.findings.is_empty() {
        println!("  every wallet equals its lines; every movement balances");
        Ok(())
    } else {
        bail!("{} findings", r.findings.len())
    }
}

/// Rebuilds the search indexes from the table's active services and open public briefs.
async fn reindex() -> anyhow::Result<()> {
    let deps = shared::Deps::from_env().await?;
    let started = std::time::Instant::now();
    let n = shared::app::search::reindex(&deps.store, &deps.search).await?;
    let b = shared::app::search::reindex_briefs(&deps.store, &deps.brief_search).await?;
    println!(
        "Search indexes rebuilt: {n} active services and {b} open briefs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Runs the hourly ranking now: scores and seller levels.
async fn rank() -> anyhow::Result<()> {
    let deps = shared::Deps::from_env().await?;
    let r = shared::app::ranking::run(&deps.store, chrono::Utc::now()).await?;
    println!(
        "Ranking: {} services ({} rescored), {} freelancers ({} new levels)",
        r.services, r.rescored, r.freelancers, r.levels_changed
    );
    Ok(())
}

/// Writes the monthly reports of last month now (the schedule runs on the 1st).
async fn monthly() -> anyhow::Result<()> {
    let deps = shared::Deps::from_env().await?;
    let r = shared::workers::monthly_reports::run(&deps.store, chrono::Utc::now()).await?;
    println!(
        "Monthly reports for {}: {} users, {} reports stored",
        r.month, r.users, r.stored
    );
    Ok(())
}

/// Gives accounts written before roles existed their roles, in place (idempotent).
async fn migrate_roles() -> anyhow::Result<()> {
    let deps = shared::Deps::from_env().await?;
    let r = shared::app::users::migrate_roles(&deps.store).await?;
    println!(
        "Roles: {} accounts without roles, {} migrated now",
        r.found, r.migrated
    );
    Ok(())
}

/// Loads the catalogue file (`infra/seed/catalog.json`) into the table.
async fn seed_catalog(path: PathBuf) -> anyhow::Result<()> {
    let json =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let catalog = shared::domain::catalog::Catalog::from_seed_json(&json)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let deps = shared::Deps::from_env().await?;
    deps.store.put_catalog(&catalog).await?;
    println!(
        "Catalogue: {} categories, {} skills",
        catalog.categories.len(),
        catalog.skills.len()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("seed"), Some(file)) => seed(PathBuf::from(file)).await,
        (Some("seed-catalog"), Some(file)) => seed_catalog(PathBuf::from(file)).await,
        (Some("reconcile"), None) => reconcile().await,
        (Some("reconcile-export"), Some(dir)) => reconcile_export(&dir),
        (Some("reindex"), None) => reindex().await,
        (Some("rank"), None) => rank().await,
        (Some("monthly"), None) => monthly().await,
        (Some("migrate-roles"), None) => migrate_roles().await,
        (Some("token-keys"), None) => {
            let secret = shared::auth::TokenSecret::generate()?;
            println!(
                "token secret (Secrets Manager, SecretString):\n{}",
                secret.to_json()
            );
            println!("AccessTokenPublicKey:\n{}", secret.public_key()?);
            Ok(())
        }
        (Some("pii-key"), None) => {
            println!("{}", shared::crypto::new_pii_secret()?);
            Ok(())
        }
        (Some("bench-search"), n) => {
            bench::search(n.as_deref().unwrap_or("100000").parse().context("N")?).await
        }
        (Some("clear"), Some(user)) => clear(&user).await,
        (Some("credit"), Some(user)) => match args.next() {
            Some(amount) => credit(&user, &amount).await,
            None => bail!("usage: devtool credit USERNAME AMOUNT"),
        },
        _ => bail!(
            "usage: devtool seed FILE | devtool seed-catalog FILE | devtool credit USERNAME AMOUNT | devtool clear USERNAME | devtool reconcile | devtool reconcile-export DIR | devtool reindex | devtool rank | devtool monthly | devtool migrate-roles | devtool bench-search N | devtool token-keys | devtool pii-key"
        ),
    }
}
