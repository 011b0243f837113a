//! Services: create, edit, publish (automated moderation), pause, delete, read, list, save;
//! and the operators' moderation actions.
//!
//! Visibility: an active service is public. Draft, paused and rejected services exist only
//! for their owner and admins; to everyone else they are "not found", like a deleted one.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::catalog::catalog;
use crate::domain::moderation::RulesError;
use crate::domain::service::{
    MediaKeys, Rejection, Service, ServiceInput, ServiceStatus, Violation,
};
use crate::domain::{ServiceId, User, UserId, UserType};
use crate::files::Files;
use crate::store::{
    AuditRecord, ListError, Page, RateLimit, SavedEntry, ServiceListing, Store, StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no such service")]
    NotFound,
    #[error("only freelancers sell services")]
    FreelancerOnly,
    #[error("invalid service")]
    Invalid(Vec<Violation>),
    #[error("read-only fields: {0:?}")]
    ReadOnly(Vec<String>),
    #[error("unknown fields: {0:?}")]
    Unknown(Vec<String>),
    #[error("empty patch")]
    EmptyPatch,
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("changed meanwhile")]
    Conflict,
    #[error("not allowed while {0:?}")]
    InvalidTransition(ServiceStatus),
    #[error("open orders")]
    HasOpenOrders,
    /// An edit of a live service that would no longer pass moderation.
    #[error("edit fails moderation")]
    ModerationFailed(Vec<crate::domain::moderation::Finding>),
    #[error("no change")]
    NoChange,
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who is looking at a service (none for anonymous visitors).
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: UserId,
    pub is_admin: bool,
}

impl Viewer {
    pub fn of(user: &User) -> Viewer {
        Viewer {
            user_id: user.id,
            is_admin: user.user_type == UserType::Admin,
        }
    }
}

/// Whether `viewer` may see `service` at all.
pub fn visible_to(service: &Service, viewer: Option<Viewer>) -> bool {
    match service.status {
        ServiceStatus::Active => true,
        ServiceStatus::Deleted => false,
        _ => viewer.is_some_and(|v| v.is_admin || v.user_id == service.freelancer_id),
    }
}

/// The owner's copy of a service (404 for anyone else, and for deleted services).
async fn owned(store: &Store, owner: UserId, id: ServiceId) -> Result<Service, ServiceError> {
    store
        .get_service(id, true)
        .await?
        .filter(|s| s.freelancer_id == owner && s.status != ServiceStatus::Deleted)
        .ok_or(ServiceError::NotFound)
}

/// A body with only writable fields: read-only and unknown fields are refused by name.
fn writable(body: ServiceInput) -> Result<ServiceInput, ServiceError> {
    let (read_only, unknown) = body.not_writable();
    if !read_only.is_empty() {
        return Err(ServiceError::ReadOnly(read_only));
    }
    if !unknown.is_empty() {
        return Err(ServiceError::Unknown(unknown));
    }
    Ok(body)
}

/// Writes a changed service read at `read_version` (stamping `updated_at` and the next
/// version) with its companion items. `Ok(false)`: someone else wrote it in between (the
/// caller reads again, see [`super::Tries`]).
async fn write(
    store: &Store,
    service: &mut Service,
    read_version: u64,
    companions: Vec<crate::store::TxWrite>,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    service.updated_at = now;
    service.version = read_version + 1;
    Ok(store
        .update_service(service, read_version, false, companions)
        .await?)
}

/// A freelancer creates a draft from a request body. Rules first (a refused body costs no
/// quota), then the 3-per-hour limit, then one write.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn create(
    store: &Store,
    user: &User,
    body: ServiceInput,
    now: DateTime<Utc>,
) -> Result<Service, ServiceError> {
    if !user.is_seller() {
        return Err(ServiceError::FreelancerOnly);
    }
    let input = writable(body)?;
    let catalog = catalog(store).await?;
    let content = input
        .parse(&catalog, &MediaKeys::default())
        .map_err(ServiceError::Invalid)?;
    if let Err(r) = store
        .hit_rate_limit(
            RateLimit::SERVICE_CREATE_PER_USER,
            &user.id.to_string(),
            now,
        )
        .await?
    {
        return Err(ServiceError::RateLimited(r.retry_after_secs));
    }
    let service = Service::draft(user.id, user.username.as_str(), content, now);
    store.create_service(&service).await?;
    Ok(service)
}

/// A service as `viewer` may see it.
pub async fn get(
    store: &Store,
    id: ServiceId,
    viewer: Option<Viewer>,
) -> Result<Service, ServiceError> {
    store
        .get_service(id, false)
        .await?
        .filter(|s| visible_to(s, viewer))
        .ok_or(ServiceError::NotFound)
}

/// Counts a view of an active service by someone other than its owner, on a random shard.
pub async fn count_view(
    store: &Store,
    service: &Service,
    viewer: Option<Viewer>,
) -> Result<bool, StoreError> {
    if service.status != ServiceStatus::Active
        || viewer.is_some_and(|v| v.user_id == service.freelancer_id)
    {
        return Ok(false);
    }
    let shard = (ulid::Ulid::new().random() % 256) as u32;
    store.record_view(service.id, shard).await?;
    Ok(true)
}

/// The owner edits. The patch is laid over the stored service and every rule is checked on
/// the result. A live service stays live only if the edit still passes moderation;
/// otherwise nothing is written and the findings are returned.
#[instrument(skip_all, fields(service_id = %id), err)]
pub async fn update(
    (store, files): (&Store, &Files),
    owner: UserId,
    id: ServiceId,
    patch: ServiceInput,
    now: DateTime<Utc>,
) -> Result<Service, ServiceError> {
    if patch.is_empty() {
        return Err(ServiceError::EmptyPatch);
    }
    let patch = writable(patch)?;
    let catalog = catalog(store).await?;
    // A gallery image attached or an order placed in between bumps the version: apply the
    // patch again to what is there now.
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut service = owned(store, owner, id).await?;
        let read_version = service.version;
        let input = patch.clone().over(service.content.to_input());
        let media = MediaKeys {
            images: service.content.images.clone(),
            video: service.content.video.clone(),
        };
        service.content = input
            .parse(&catalog, &media)
            .map_err(ServiceError::Invalid)?;
        if service.status == ServiceStatus::Active {
            let findings = service.moderate()?;
            if !findings.is_empty() {
                return Err(ServiceError::ModerationFailed(findings));
            }
        }
        if write(store, &mut service, read_version, vec![], now).await? {
            forget_media(files, &media, &service).await;
            return Ok(service);
        }
    }
    Err(ServiceError::Conflict)
}

/// Deletes the gallery images and the video an edit dropped: nothing refers to them any more
/// (an edit may only choose from what the service owns). Best effort: a failure leaves an
/// object nobody links to, and is logged.
async fn forget_media(files: &Files, before: &MediaKeys, after: &Service) {
    let kept = &after.content;
    let dropped = before
        .images
        .iter()
        .filter(|k| !kept.images.contains(k))
        .chain(
            before
                .video
                .iter()
                .filter(|v| kept.video.as_ref() != Some(*v)),
        );
    for key in dropped {
        match files.delete(key).await {
            Ok(()) => tracing::info!(%key, "removed media deleted"),
            Err(e) => tracing::error!(%key, error = %e, "removed media not deleted"),
        }
    }
}

/// The owner publishes a draft, paused or rejected service: automated moderation either
/// activates it or rejects it with its findings (both are written; neither is an error).
#[instrument(skip_all, fields(service_id = %id), err)]
pub async fn publish(
    store: &Store,
    owner: UserId,
    id: ServiceId,
    now: DateTime<Utc>,
) -> Result<Service, ServiceError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut service = owned(store, owner, id).await?;
        if !service.status.can_publish() {
            return Err(ServiceError::InvalidTransition(service.status));
        }
        let read_version = service.version;
        let findings = service.moderate()?;
        if findings.is_empty() {
            service.status = ServiceStatus::Active;
            service.rejection = None;
            service.published_at.get_or_insert(now);
        } else {
            service.status = ServiceStatus::Rejected;
            service.rejection = Some(Rejection {
                findings,
                note: None,
                at: now,
            });
        }
        if write(store, &mut service, read_version, vec![], now).await? {
            return Ok(service);
        }
    }
    Err(ServiceError::Conflict)
}

/// The owner takes an active service off the market.
pub async fn pause(
    store: &Store,
    owner: UserId,
    id: ServiceId,
    now: DateTime<Utc>,
) -> Result<Service, ServiceError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut service = owned(store, owner, id).await?;
        if service.status != ServiceStatus::Active {
            return Err(ServiceError::InvalidTransition(service.status));
        }
        let read_version = service.version;
        service.status = ServiceStatus::Paused;
        if write(store, &mut service, read_version, vec![], now).await? {
            return Ok(service);
        }
    }
    Err(ServiceError::Conflict)
}

/// The owner deletes a service without open orders. The item stays (orders and reviews
/// refer to it) but leaves every list and answers 404 from now on.
#[instrument(skip_all, fields(service_id = %id), err)]
pub async fn delete(
    store: &Store,
    owner: UserId,
    id: ServiceId,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut service = owned(store, owner, id).await?;
        if service.open_orders > 0 {
            return Err(ServiceError::HasOpenOrders);
        }
        let read_version = service.version;
        let mut companions = Vec::new();
        if let Some(at) = service.featured_at.take() {
            companions.push(store.featured_delete_op(id, at)?);
        }
        service.status = ServiceStatus::Deleted;
        service.updated_at = now;
        service.version += 1;
        if store
            .update_service(&service, read_version, true, companions)
            .await?
        {
            return Ok(());
        }
    }
    Err(ServiceError::Conflict)
}

/// One page of a list, newest first.
pub async fn list(
    store: &Store,
    listing: &ServiceListing,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Service>, ListError> {
    store.list_services(listing, limit, cursor).await
}

/// How a `?category=` slug is listed: `None` when no active category has that slug.
pub async fn category_listing(
    store: &Store,
    slug: &str,
) -> Result<Option<ServiceListing>, StoreError> {
    let catalog = catalog(store).await?;
    Ok(catalog
        .category(slug)
        .filter(|c| c.is_active)
        .map(|c| ServiceListing::Category {
            slug: c.slug.clone(),
            top_level: c.parent.is_none(),
        }))
}

/// Up to `limit` featured services that are live, best ranked first.
pub async fn featured(store: &Store, limit: usize) -> Result<Vec<Service>, StoreError> {
    let ids = store.featured_ids(50).await?;
    let mut services: Vec<Service> = store
        .get_services(&ids)
        .await?
        .into_iter()
        .filter(|s| s.status == ServiceStatus::Active && s.is_featured())
        .collect();
    // Best ranked first (`ranking-updater`); among equals, the most recently featured.
    services.sort_by(|a, b| {
        b.ranking_score
            .total_cmp(&a.ranking_score)
            .then(b.featured_at.cmp(&a.featured_at))
            .then(a.id.cmp(&b.id))
    });
    services.truncate(limit);
    Ok(services)
}

/// Saves a service the caller can see. Saving twice is not an error: `Ok(false)`.
pub async fn save(
    store: &Store,
    viewer: Viewer,
    id: ServiceId,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    get(store, id, Some(viewer)).await?;
    Ok(store.save_service(viewer.user_id, id, now).await?)
}

/// Removes a saved service; `Ok(false)` when it was not saved.
pub async fn unsave(store: &Store, viewer: Viewer, id: ServiceId) -> Result<bool, StoreError> {
    store.unsave_service(viewer.user_id, id).await
}

/// One page of the caller's saved services, each with the service while it is still
/// visible to them (`None` once it is paused, rejected or deleted).
pub async fn saved(
    store: &Store,
    viewer: Viewer,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<(SavedEntry, Option<Service>)>, ListError> {
    let page = store.saved_services(viewer.user_id, limit, cursor).await?;
    let ids: Vec<ServiceId> = page.items.iter().map(|e| e.service_id).collect();
    let mut services = store.get_services(&ids).await?;
    let items = page
        .items
        .into_iter()
        .map(|e| {
            let pos = services.iter().position(|s| s.id == e.service_id);
            let service = pos
                .map(|i| services.swap_remove(i))
                .filter(|s| visible_to(s, Some(viewer)));
            (e, service)
        })
        .collect();
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// What an operator does to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationAction {
    Approve,
    Reject,
    Feature,
    Unfeature,
}

impl ModerationAction {
    pub fn parse(s: &str) -> Option<ModerationAction> {
        Some(match s {
            "approve" => ModerationAction::Approve,
            "reject" => ModerationAction::Reject,
            "feature" => ModerationAction::Feature,
            "unfeature" => ModerationAction::Unfeature,
            _ => return None,
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ModerationAction::Approve => "approve",
            ModerationAction::Reject => "reject",
            ModerationAction::Feature => "feature",
            ModerationAction::Unfeature => "unfeature",
        }
    }
}

/// An operator's decision, written with its audit entry (and the featured pointer) in one
/// transaction. Approving overrides automated moderation; rejecting needs a reason;
/// only an active service can be featured.
#[instrument(skip_all, fields(service_id = %id, action = action.as_str()), err)]
pub async fn moderate(
    store: &Store,
    admin: UserId,
    id: ServiceId,
    action: ModerationAction,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Service, ServiceError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut service = store
            .get_service(id, true)
            .await?
            .filter(|s| s.status != ServiceStatus::Deleted)
            .ok_or(ServiceError::NotFound)?;
        let read_version = service.version;
        let before = service.status;
        let mut companions = Vec::new();
        match action {
            ModerationAction::Approve => {
                if service.status == ServiceStatus::Active {
                    return Err(ServiceError::NoChange);
                }
                service.status = ServiceStatus::Active;
                service.rejection = None;
                service.published_at.get_or_insert(now);
            }
            ModerationAction::Reject => {
                if service.status == ServiceStatus::Rejected {
                    return Err(ServiceError::NoChange);
                }
                service.status = ServiceStatus::Rejected;
                service.rejection = Some(Rejection {
                    findings: Vec::new(),
                    note: reason.map(str::to_owned),
                    at: now,
                });
            }
            ModerationAction::Feature => {
                if service.status != ServiceStatus::Active {
                    return Err(ServiceError::InvalidTransition(service.status));
                }
                if service.is_featured() {
                    return Err(ServiceError::NoChange);
                }
                service.featured_at = Some(now);
                companions.push(store.featured_put_op(id, now)?);
            }
            ModerationAction::Unfeature => {
                let Some(at) = service.featured_at.take() else {
                    return Err(ServiceError::NoChange);
                };
                companions.push(store.featured_delete_op(id, at)?);
            }
        }
        let audit = AuditRecord::new(
            admin,
            &format!("service.{}", action.as_str()),
            "service",
            &id.to_string(),
            reason,
            serde_json::json!({"from": before.as_str(), "to": service.status.as_str()}),
            now,
        );
        companions.push(audit.put(store.table())?);
        if write(store, &mut service, read_version, companions, now).await? {
            return Ok(service);
        }
    }
    Err(ServiceError::Conflict)
}
