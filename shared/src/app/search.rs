//! Search: keeping the index in step with the table, answering queries, rebuilding.

use std::collections::HashMap;

use crate::domain::brief::{Brief, BriefId};
use crate::domain::service::ServiceStatus;
use crate::domain::{ServiceId, UserId};
use crate::search::{Change, SearchDoc, SearchError, SearchIndex, SearchPage, SearchQuery};
use crate::store::{BriefListing, ListError, ServiceListing, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

impl From<ListError> for SyncError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::Store(s) => SyncError::Store(s),
            ListError::BadCursor(b) => SyncError::Store(StoreError::Decode(b.to_string())),
        }
    }
}

/// Where each freelancer is (shown on cards): one batch read of the distinct freelancers.
async fn locations(
    store: &Store,
    freelancers: impl Iterator<Item = UserId>,
) -> Result<HashMap<UserId, String>, StoreError> {
    let mut ids: Vec<UserId> = freelancers.collect();
    ids.sort();
    ids.dedup();
    Ok(store
        .get_users(&ids)
        .await?
        .into_iter()
        .map(|u| {
            let location = u.freelancer_profile.map(|p| p.location).unwrap_or_default();
            (u.id, location)
        })
        .collect())
}

/// The changes that make the index show `ids` as the table has them now: active ones
/// upserted, every other (paused, rejected, deleted, draft, gone) removed.
async fn changes_for(store: &Store, ids: &[ServiceId]) -> Result<Vec<Change>, StoreError> {
    let found = store.services_with_rev(ids).await?;
    let places = locations(store, found.iter().map(|(s, _)| s.freelancer_id)).await?;
    let mut by_id: HashMap<ServiceId, Change> = HashMap::new();
    for (service, rev) in &found {
        let location = places
            .get(&service.freelancer_id)
            .map(String::as_str)
            .unwrap_or("");
        let change = match SearchDoc::of(service, *rev, location) {
            Some(doc) => Change::Upsert(Box::new(doc)),
            None => Change::Remove {
                id: service.id.to_string(),
                rev: Some(*rev),
            },
        };
        by_id.insert(service.id, change);
    }
    Ok(ids
        .iter()
        .map(|id| {
            by_id.remove(id).unwrap_or_else(|| Change::Remove {
                id: id.to_string(),
                rev: None,
            })
        })
        .collect())
}

/// Brings the index in step with the table for these services. One outcome per id, in order.
pub async fn sync(
    store: &Store,
    index: &impl SearchIndex,
    ids: &[ServiceId],
) -> Result<Vec<Result<(), String>>, SyncError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let changes = changes_for(store, ids).await?;
    Ok(index.apply(&changes).await?)
}

/// The ids of every service in `listing`, page after page.
async fn listed(store: &Store, listing: &ServiceListing) -> Result<Vec<ServiceId>, SyncError> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.list_services(listing, 100, cursor.as_deref()).await?;
        ids.extend(page.items.iter().map(|s| s.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(ids),
        }
    }
}

/// Every active service of a freelancer, whose cards show their name and location.
pub async fn freelancer_services(store: &Store, user: UserId) -> Result<Vec<ServiceId>, SyncError> {
    let listing = ServiceListing::Freelancer {
        user,
        status: ServiceStatus::Active,
    };
    listed(store, &listing).await
}

/// Rebuilds the index from the table: every active service (read through the status index,
/// never a scan). Returns how many were indexed.
pub async fn reindex(store: &Store, index: &impl SearchIndex) -> Result<usize, SyncError> {
    let ids = listed(store, &ServiceListing::Status(ServiceStatus::Active)).await?;
    let mut docs = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(100) {
        for change in changes_for(store, chunk).await? {
            if let Change::Upsert(doc) = change {
                docs.push(*doc);
            }
        }
    }
    Ok(index.rebuild(docs).await?)
}

pub async fn search(
    index: &impl SearchIndex,
    query: &SearchQuery,
) -> Result<SearchPage, SearchError> {
    index.search(query).await
}

/// The briefs' index's changes for `ids` as the table has them now: open public ones upserted,
/// every other (awarded, closed, unlisted, gone) removed.
async fn brief_changes(store: &Store, ids: &[BriefId]) -> Result<Vec<Change>, StoreError> {
    let found = store.get_briefs(ids).await?;
    Ok(ids
        .iter()
        .map(|id| match found.iter().find(|b| b.id == *id) {
            Some(b) => match SearchDoc::of_brief(b) {
                Some(doc) => Change::Upsert(Box::new(doc)),
                None => Change::Remove {
                    id: id.to_string(),
                    rev: Some(b.version),
                },
            },
            None => Change::Remove {
                id: id.to_string(),
                rev: None,
            },
        })
        .collect())
}

/// Brings the briefs' index in step with the table for these briefs. One outcome per id.
pub async fn sync_briefs(
    store: &Store,
    index: &impl SearchIndex,
    ids: &[BriefId],
) -> Result<Vec<Result<(), String>>, SyncError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let changes = brief_changes(store, ids).await?;
    Ok(index.apply(&changes).await?)
}

/// Rebuilds the briefs' index from the table: every open public brief (through their list
/// index, never a scan). Returns how many were indexed.
pub async fn reindex_briefs(store: &Store, index: &impl SearchIndex) -> Result<usize, SyncError> {
    let briefs = crate::store::all_pages(|c| async move {
        store
            .list_briefs(&BriefListing::Open, (None, None), 100, c.as_deref())
            .await
    })
    .await?;
    let docs = briefs.iter().filter_map(SearchDoc::of_brief).collect();
    Ok(index.rebuild(docs).await?)
}

/// Open public briefs matching `query`, in the engine's order, as the table has them now (one
/// that closed since it was indexed is left out).
pub async fn search_briefs(
    store: &Store,
    index: &impl SearchIndex,
    query: &SearchQuery,
) -> Result<(Vec<Brief>, SearchPage), SyncError> {
    let page = index.search(query).await?;
    let ids: Vec<BriefId> = page
        .items
        .iter()
        .filter_map(|card| card.id.parse().ok())
        .collect();
    let found = store.get_briefs(&ids).await?;
    let briefs = ids
        .iter()
        .filter_map(|id| found.iter().find(|b| b.id == *id && b.listed()).cloned())
        .collect();
    Ok((briefs, page))
}
