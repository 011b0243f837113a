//! `devtool seed FILE`: creates the demo accounts listed in FILE (idempotent: existing ones
//! are left as they are) and prints their credentials. `devtool seed-catalog FILE` loads the
//! category and skill catalogue. Reads the same environment as the
//! functions (`TABLE_NAME`, `JWT_SECRET`, `AWS_ENDPOINT_URL`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::Deserialize;
use shared::app::ClientInfo;
use shared::app::auth::{NewAccount, RegisterError, register};
use shared::domain::{Email, Password, Phone, UserType, Username};

#[derive(Debug, Deserialize)]
struct DemoUser {
    username: String,
    password: String,
    user_type: String,
    email: Option<String>,
    phone: Option<String>,
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
        let outcome = match register(
            &deps.store,
            &deps.keys,
            account(u)?,
            &client,
            chrono::Utc::now(),
        )
        .await
        {
            Ok(_) => "created",
            Err(RegisterError::Taken(_)) => "exists",
            Err(e) => bail!("seeding {}: {e}", u.username),
        };
        println!(
            "  {:<11} {:<17} password {:<24} {:<8} {}",
            u.user_type,
            u.username,
            u.password,
            outcome,
            u.email.as_deref().unwrap_or("")
        );
    }
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
        _ => bail!("usage: devtool seed FILE | devtool seed-catalog FILE"),
    }
}
