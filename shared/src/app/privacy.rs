//! PIPL: a user may take everything we hold about them, and may have their account erased.
//! Erasure keeps what accounting needs (the ledger, the orders, with the account id as a
//! pseudonym) and detaches their messages from them; the other party keeps the conversation.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::domain::brief::{Brief, BriefStatus, Proposal};
use crate::domain::export::{DataExport, ExportStatus, LINK_SECONDS};
use crate::domain::ledger::Account;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::review::{ClientReview, Review};
use crate::domain::service::{Service, ServiceStatus};
use crate::domain::user::Social;
use crate::domain::{
    ExportId, FreelancerProfile, Money, NotificationPreferences, User, UserId, UserStatus, Username,
};
use crate::files::{Files, FilesError};
use crate::store::change::EntityType;
use crate::store::{
    BriefListing, LineRecord, ListError, OrderListing, RateLimit, ServiceListing, Store,
    StoreError, StoredItem, all_pages, keys,
};

/// How an erased account's copies of the name read.
const DELETED_NAME: &str = "已注销用户";

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("orders are still open")]
    OpenOrders(usize),
    #[error("the wallet is not empty")]
    BalanceNotZero,
    #[error("the password is needed")]
    PasswordRequired,
    #[error("wrong password")]
    WrongPassword,
    #[error("changed concurrently")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error("too many exports; retry after {0} s")]
    RateLimited(u64),
    #[error(transparent)]
    List(#[from] ListError),
}

async fn all_orders(store: &Store, user: UserId) -> Result<Vec<Order>, ListError> {
    let mut out = Vec::new();
    for listing in [
        OrderListing::Client(user, None),
        OrderListing::Freelancer(user, None),
    ] {
        out.extend(
            all_pages(|c| async move { store.list_orders(listing, 100, c.as_deref()).await })
                .await?,
        );
    }
    Ok(out)
}

/// Every brief the user posted, every status.
async fn all_briefs(store: &Store, user: UserId) -> Result<Vec<Brief>, ListError> {
    all_pages(|c| async move {
        store
            .list_briefs(&BriefListing::Client(user), (None, None), 100, c.as_deref())
            .await
    })
    .await
}

/// Every proposal the user sent.
async fn all_proposals(store: &Store, user: UserId) -> Result<Vec<Proposal>, ListError> {
    let pages = all_pages(|c| async move {
        let page = store.seller_proposals(user, 100, c.as_deref()).await?;
        Ok(crate::store::Page {
            items: page.items.into_iter().map(|(p, _)| p).collect(),
            next_cursor: page.next_cursor,
        })
    })
    .await?;
    Ok(pages)
}

/// Both reviews of each order as `user` may read them: their own, and the other side's once
/// it is shown (a sealed review is not theirs to read yet, not even through an export).
async fn readable_reviews(
    store: &Store,
    user: UserId,
    orders: &[Order],
) -> Result<(Vec<Review>, Vec<ClientReview>), StoreError> {
    let (mut reviews, mut client_reviews) = (Vec::new(), Vec::new());
    for order in orders {
        if let Some(r) = store.get_order_review(order.id).await?
            && (r.client_id == user || r.sealed_until.is_none())
        {
            reviews.push(r);
        }
        if let Some(r) = store.get_client_review(order.id).await?
            && (r.seller_id == user || r.sealed_until.is_none())
        {
            client_reviews.push(r);
        }
    }
    Ok((reviews, client_reviews))
}

async fn all_services(store: &Store, user: UserId) -> Result<Vec<Service>, ListError> {
    let mut out = Vec::new();
    for status in [
        ServiceStatus::Draft,
        ServiceStatus::Active,
        ServiceStatus::Paused,
        ServiceStatus::Rejected,
    ] {
        let listing = &ServiceListing::Freelancer { user, status };
        out.extend(
            all_pages(|c| async move { store.list_services(listing, 100, c.as_deref()).await })
                .await?,
        );
    }
    Ok(out)
}

/// `user-data-exporter`: everything held about a user — the account, its services (as
/// stored), orders (with their reviews), conversations with their messages, notifications,
/// saved services, monthly reports, wallet and every ledger line, withdrawals. Identity
/// numbers stay masked. Reads grow with the account, which is why a worker runs it.
pub async fn collect(
    store: &Store,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Export, PrivacyError> {
    let partition = store.user_partition(user).await?;
    let of = |kind: EntityType| -> Vec<StoredItem> {
        partition
            .iter()
            .filter(|v| v.entity_type() == kind)
            .cloned()
            .collect()
    };
    let account = of(EntityType::User)
        .into_iter()
        .next()
        .unwrap_or_default()
        .without("tokens_valid_after");
    let mut conversations = Vec::new();
    for side in of(EntityType::ConversationMember) {
        let Some(id) = side.text("conversation_id").and_then(|c| c.parse().ok()) else {
            continue;
        };
        let messages = store.all_messages(id).await?;
        conversations.push(ExportedConversation {
            conversation: side,
            messages,
        });
    }
    let orders = all_orders(store, user).await?;
    let (reviews, client_reviews) = readable_reviews(store, user, &orders).await?;
    let services = store
        .items_as_json(
            all_services(store, user)
                .await?
                .iter()
                .map(|s| keys::service(s.id))
                .collect(),
        )
        .await?;
    let account_key = Account::User(user);
    let snapshot = store.account_snapshot(account_key).await?;
    let withdrawals =
        all_pages(|c| async move { store.user_withdrawals(user, 100, c.as_deref()).await }).await?;
    Ok(Export {
        account,
        services,
        orders,
        reviews,
        client_reviews,
        briefs: all_briefs(store, user).await?,
        proposals: all_proposals(store, user).await?,
        conversations,
        notifications: of(EntityType::Notification),
        saved_services: of(EntityType::Saved),
        monthly_reports: of(EntityType::MonthlyReport),
        wallet: ExportedWallet {
            balance: Money::from_fen(snapshot.balances.available_fen),
            frozen_balance: Money::from_fen(snapshot.balances.frozen_fen),
        },
        ledger_lines: snapshot.lines,
        withdrawals,
        exported_at: crate::domain::rfc3339(&now),
    })
}

/// A data export: the JSON document handed to the user.
#[derive(Debug, serde::Serialize)]
pub struct Export {
    pub account: StoredItem,
    pub services: Vec<StoredItem>,
    pub orders: Vec<Order>,
    pub reviews: Vec<crate::domain::review::Review>,
    /// Sellers' reviews of the user as a buyer, and the user's of their buyers.
    pub client_reviews: Vec<ClientReview>,
    /// The briefs (需求) the user posted, with their attachments' names and checksums.
    pub briefs: Vec<Brief>,
    /// The proposals (投标) the user sent.
    pub proposals: Vec<Proposal>,
    pub conversations: Vec<ExportedConversation>,
    pub notifications: Vec<StoredItem>,
    pub saved_services: Vec<StoredItem>,
    pub monthly_reports: Vec<StoredItem>,
    pub wallet: ExportedWallet,
    pub ledger_lines: Vec<LineRecord>,
    pub withdrawals: Vec<crate::domain::payment::Withdrawal>,
    pub exported_at: String,
}

/// One conversation: the user's side as stored, and every message.
#[derive(Debug, serde::Serialize)]
pub struct ExportedConversation {
    pub conversation: StoredItem,
    pub messages: Vec<crate::domain::messaging::Message>,
}

#[derive(Debug, serde::Serialize)]
pub struct ExportedWallet {
    pub balance: Money,
    pub frozen_balance: Money,
}

/// `user-data-export-request`: starts an export (at most `EXPORTS_PER_USER_DAY`), or answers
/// with the last one while it is being written (`DataExport::answers_request_at`). `true`: a
/// new one was started.
#[instrument(skip_all, fields(user_id = %me.id), err)]
pub async fn request_export(
    store: &Store,
    me: &User,
    now: DateTime<Utc>,
) -> Result<(DataExport, bool), PrivacyError> {
    if let Some(last) = store.latest_export(me.id).await?
        && last.answers_request_at(now)
    {
        return Ok((last, false));
    }
    store
        .hit_rate_limit(RateLimit::EXPORTS_PER_USER_DAY, &me.id.to_string(), now)
        .await?
        .map_err(|r| PrivacyError::RateLimited(r.retry_after_secs))?;
    let export = DataExport::new(me.id, now);
    store.create_export(&export).await?;
    tracing::info!(export_id = %export.id, "data export requested");
    Ok((export, true))
}

/// What became of an export job.
#[derive(Debug, PartialEq, Eq)]
pub enum Exported {
    /// The archive was written: its size in bytes.
    Written(u64),
    /// Written by an earlier delivery of the same job, or no longer asked for.
    AlreadyDone,
}

/// `user-data-exporter`: writes the archive of a pending export to the file store and marks
/// it ready (the stream then notifies the user). A redelivered job finds it ready and does
/// nothing; one that dies half way is redone whole (the archive is one object, replaced).
#[instrument(skip_all, fields(user_id = %user, export_id = %id), err)]
pub async fn write_export(
    store: &Store,
    files: &Files,
    user: UserId,
    id: ExportId,
    now: DateTime<Utc>,
) -> Result<Exported, PrivacyError> {
    let Some(export) = store.get_export(user, id).await? else {
        return Ok(Exported::AlreadyDone);
    };
    if export.status != ExportStatus::Pending {
        return Ok(Exported::AlreadyDone);
    }
    let data = collect(store, user, now).await?;
    let bytes = serde_json::to_vec_pretty(&data)
        .map_err(|e| PrivacyError::Store(StoreError::Decode(e.to_string())))?;
    let size = bytes.len() as u64;
    let sha256 = crate::crypto::sha256_hex_of(&bytes);
    files
        .put_private(
            &export.object_key(),
            bytes,
            "application/json; charset=utf-8",
            &export.file_name(),
        )
        .await?;
    let ready = export.ready(size, sha256, Utc::now());
    if !store.finish_export(&ready).await? {
        return Ok(Exported::AlreadyDone);
    }
    tracing::info!(size_bytes = size, "data export written");
    Ok(Exported::Written(size))
}

/// The user's newest export and, when it can be downloaded, a link that works for
/// `LINK_SECONDS`.
pub async fn latest_export(
    store: &Store,
    files: &Files,
    me: &User,
    now: DateTime<Utc>,
) -> Result<Option<(DataExport, Option<Link>)>, PrivacyError> {
    let Some(export) = store.latest_export(me.id).await? else {
        return Ok(None);
    };
    let link = match export.archive_expires_at() {
        Some(until) if export.status == ExportStatus::Ready && now < until => {
            let url = files
                .presign_get(
                    &export.object_key(),
                    std::time::Duration::from_secs(LINK_SECONDS),
                )
                .await?;
            Some(Link {
                url,
                expires_at: now + chrono::Duration::seconds(LINK_SECONDS as i64),
            })
        }
        _ => None,
    };
    Ok(Some((export, link)))
}

/// A short-lived download link.
#[derive(Debug, Clone)]
pub struct Link {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// `user-delete`: refused while an order is open or money is held; otherwise erases the
/// account, and the archives of its data exports with it. `password` is required of accounts
/// that have one.
#[instrument(skip_all, fields(user_id = %me.id), err)]
pub async fn delete(
    store: &Store,
    files: &Files,
    me: &User,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), PrivacyError> {
    if let Some(phc) = &me.password_hash {
        let candidate = password.ok_or(PrivacyError::PasswordRequired)?;
        if !crate::auth::verify_password(phc, candidate) {
            return Err(PrivacyError::WrongPassword);
        }
    }
    let orders = all_orders(store, me.id).await?;
    let open = orders
        .iter()
        .filter(|o| !matches!(o.status, OrderStatus::Completed | OrderStatus::Cancelled))
        .count();
    if open > 0 {
        return Err(PrivacyError::OpenOrders(open));
    }
    let (balances, _) = store.balances(Account::User(me.id), true).await?;
    if !balances.is_empty() {
        return Err(PrivacyError::BalanceNotZero);
    }

    // Conversations first: if anything below fails the account still exists, and deleting
    // again picks up where this stopped (each step is idempotent).
    let ghost = UserId::new();
    for side in store.user_partition(me.id).await? {
        if side.entity_type() != EntityType::ConversationMember {
            continue;
        }
        let Some(conversation) = side.text("conversation_id").and_then(|c| c.parse().ok()) else {
            continue;
        };
        let other = side.text("other_user_id").and_then(|u| u.parse().ok());
        store
            .detach_conversation(me.id, ghost, DELETED_NAME, conversation, other)
            .await?;
    }
    for order in &orders {
        let field = if order.client_id == me.id {
            "client_username"
        } else {
            "freelancer_username"
        };
        store
            .rename_copy(keys::order(order.id), field, DELETED_NAME)
            .await?;
        if let Some(review) = store.order_review_id(order.id).await? {
            store
                .rename_copy(keys::review(review), field, DELETED_NAME)
                .await?;
        }
        if order.freelancer_id == me.id {
            store
                .rename_copy(
                    keys::client_review(order.id),
                    "seller_username",
                    DELETED_NAME,
                )
                .await?;
        }
    }
    // Their briefs: open ones closed (their proposals declined), their files deleted, the
    // name on each replaced. Their proposals keep the terms, not the name.
    for brief in all_briefs(store, me.id).await? {
        if brief.status == BriefStatus::Open {
            match super::briefs::close(store, me, brief.id, now).await {
                Ok(_) | Err(super::briefs::BriefError::NotOpen(_)) => {}
                Err(e) => {
                    return Err(
                        StoreError::Decode(format!("closing brief {}: {e}", brief.id)).into(),
                    );
                }
            }
        }
        for f in &brief.content.attachments {
            files.delete(&f.key).await?;
        }
        store.erase_brief_copy(brief.id, DELETED_NAME).await?;
    }
    for p in all_proposals(store, me.id).await? {
        store
            .rename_copy(
                keys::proposal(p.brief_id, p.id),
                "seller_username",
                DELETED_NAME,
            )
            .await?;
    }
    for service in all_services(store, me.id).await? {
        // Counters and gallery images may bump a service's version meanwhile: read it again.
        let mut read = Some(service);
        let mut tries = super::Tries::new();
        while tries.next().await {
            let Some(mut service) = read.take() else {
                break;
            };
            let version = service.version;
            service.status = ServiceStatus::Deleted;
            service.freelancer_username = DELETED_NAME.to_owned();
            service.version += 1;
            service.updated_at = now;
            if store
                .update_service(&service, version, false, vec![])
                .await?
            {
                break;
            }
            read = store.get_service(service.id, true).await?;
            if tries.spent() {
                return Err(PrivacyError::Conflict);
            }
        }
    }

    let mut guards = vec![keys::unique_username(&me.username.canonical())];
    if let Some(email) = &me.email {
        guards.push(keys::unique_email(email.as_str()));
    }
    if let Some(phone) = &me.phone {
        guards.push(keys::unique_phone(phone.as_str()));
    }
    // The WeChat and Alipay identities bound to the account sign into a new account afterwards.
    for social in Social::ALL {
        if let Some(binding) = store.social_of(social, me.id).await? {
            guards.push(keys::unique_social(social, &binding));
        }
    }
    let verification = match &me.verification {
        Some(summary) => match summary.id.parse() {
            Ok(id) => store
                .get_verification(id)
                .await?
                .map(|r| (keys::verification(id), keys::unique_id_number(&r.id_index))),
            Err(_) => None,
        },
        None => None,
    };
    // Background work (ratings, levels) may bump the account's version meanwhile.
    let mut current = me.clone();
    let mut erased = false;
    let mut tries = super::Tries::new();
    while tries.next().await {
        let anonymous = anonymised(&current, now);
        if store
            .erase_account(
                &anonymous,
                current.version,
                guards.clone(),
                verification.clone(),
            )
            .await?
        {
            erased = true;
            break;
        }
        current = store
            .get_user_latest(me.id)
            .await?
            .ok_or(PrivacyError::Conflict)?;
    }
    if !erased {
        return Err(PrivacyError::Conflict);
    }
    let revoked = store.revoke_user_sessions(me.id, "deleted").await?;
    // The archives hold everything that was just erased: they go before their records do (a
    // failure here leaves the records, so deleting again finds the archives again).
    for export in store.exports_of(me.id).await? {
        files.delete(&export.object_key()).await?;
    }
    // So do the files they uploaded: the avatar, deliveries, evidence, documents.
    if let Some(avatar) = &me.avatar {
        files.delete(avatar).await?;
    }
    let erased_files = super::files::erase(store, files, me.id)
        .await
        .map_err(|e| match e {
            super::files::FileProcessError::Files(e) => PrivacyError::Files(e),
            super::files::FileProcessError::Store(e) => PrivacyError::Store(e),
        })?;
    let removed = store.delete_user_items(me.id).await?;
    tracing::info!(revoked, removed, erased_files, "account erased");
    Ok(())
}

/// The account with nothing personal left: a placeholder name, no contact details, no
/// password, an empty profile, no 实名认证.
fn anonymised(me: &User, now: DateTime<Utc>) -> User {
    let id = me.id.to_string().to_lowercase();
    let tail: String = id
        .chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let username =
        Username::parse(&format!("{DELETED_NAME}_{tail}")).unwrap_or_else(|_| me.username.clone());
    User {
        id: me.id,
        username,
        email: None,
        phone: None,
        user_type: me.user_type,
        roles: me.roles.clone(),
        status: UserStatus::Deactivated,
        avatar: None,
        is_verified: false,
        email_verified: false,
        phone_verified: false,
        password_hash: None,
        freelancer_profile: me
            .freelancer_profile
            .as_ref()
            .map(|_| FreelancerProfile::default()),
        client_profile: me.client_profile.as_ref().map(|_| Default::default()),
        buyer_rating: (0, 0),
        tokens_valid_after: Some(now),
        verification: None,
        notification_preferences: NotificationPreferences {
            email: false,
            sms: false,
        },
        registered_ip: None,
        restricted_until: None,
        created_at: me.created_at,
        updated_at: now,
        version: me.version + 1,
    }
}
