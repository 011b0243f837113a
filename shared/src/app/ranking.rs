//! The hourly ranking run: services whose inputs changed (the dirty set the stream keeps) get
//! their score, freelancers whose record changed their level; once a day every active service
//! and every freelancer who sells one (see `domain::ranking` and `docs/ranking.md`). Reads go through the
//! status index and per-freelancer key ranges, never a scan; a write happens only where the
//! value moved.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::domain::ranking::{
    self, FULL_PASS_EVERY, LEVEL_WINDOW, RankTarget, Record, SellerLevel, Signals,
};
use crate::domain::service::{Service, ServiceStatus};
use crate::domain::{User, UserId};
use crate::store::{ListError, ServiceListing, Store, StoreError, all_pages};

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RankingReport {
    /// Every active service was ranked (else only the dirty set).
    pub full: bool,
    /// Entries of the dirty set this run found.
    pub dirty: u32,
    pub services: u32,
    pub rescored: u32,
    pub freelancers: u32,
    pub levels_changed: u32,
}

/// What the services of one freelancer need of them.
#[derive(Debug, Clone, Copy)]
struct Standing {
    level: SellerLevel,
    response_rate: Decimal,
}

/// The level `user` has earned at `now`: two key-range queries (orders completed and
/// ratings received in the window).
async fn level_of(
    store: &Store,
    user: &User,
    now: DateTime<Utc>,
) -> Result<SellerLevel, StoreError> {
    let Some(profile) = &user.freelancer_profile else {
        return Ok(SellerLevel::New);
    };
    let since = now - LEVEL_WINDOW;
    let completed = store.completed_since(user.id, since).await?;
    let ratings = store.ratings_since(user.id, since).await?;
    let record = Record::of(
        &completed,
        &ratings,
        (profile.rating_sum, u64::from(profile.total_reviews)),
        user.created_at,
        now,
    );
    Ok(ranking::level(&record))
}

/// `response_rate` and `response_time` from the enquiries of the last 30 days (one
/// key-range query of the freelancer's conversations by last activity).
pub async fn response_of(
    store: &Store,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(rust_decimal::Decimal, u32), StoreError> {
    use crate::domain::messaging::{RESPONSE_WINDOW_DAYS, response_metrics};
    let since = now - chrono::Duration::days(RESPONSE_WINDOW_DAYS);
    let enquiries: Vec<_> = store
        .conversations_since(user, since)
        .await?
        .iter()
        .filter_map(|m| m.enquiry())
        .collect();
    Ok(response_metrics(&enquiries, now))
}

/// Levels and response metrics for these freelancers, written where they changed.
async fn standings(
    store: &Store,
    ids: Vec<UserId>,
    now: DateTime<Utc>,
    report: &mut RankingReport,
) -> Result<HashMap<UserId, Standing>, StoreError> {
    let mut out = HashMap::new();
    for user in store.get_users(&ids).await? {
        let Some(profile) = &user.freelancer_profile else {
            continue;
        };
        let level = level_of(store, &user, now).await?;
        if level != profile.seller_level && store.set_seller_level(user.id, level).await? {
            report.levels_changed += 1;
        }
        let (response_rate, response_time) = response_of(store, user.id, now).await?;
        if (response_rate, response_time) != (profile.response_rate, profile.response_time) {
            store
                .set_response_metrics(user.id, response_rate, response_time)
                .await?;
        }
        report.freelancers += 1;
        out.insert(
            user.id,
            Standing {
                level,
                response_rate,
            },
        );
    }
    Ok(out)
}

/// Scores one service with its freelancer's standing, written if it moved.
async fn rescore(
    store: &Store,
    service: &Service,
    standing: Standing,
    report: &mut RankingReport,
) -> Result<(), StoreError> {
    report.services += 1;
    let score = ranking::score(&Signals {
        rating_sum: service.rating_sum,
        reviews: service.reviews_count,
        orders: service.orders_count,
        views: service.views_count,
        response_rate: standing.response_rate,
    });
    let moved = (score - service.ranking_score).abs() > f64::EPSILON
        || standing.level != service.seller_level;
    if moved
        && store
            .set_service_ranking(service.id, score, standing.level)
            .await?
    {
        report.rescored += 1;
    }
    Ok(())
}

const UNRANKED: Standing = Standing {
    level: SellerLevel::New,
    response_rate: Decimal::ZERO,
};

/// One run over every active service.
pub async fn run(store: &Store, now: DateTime<Utc>) -> Result<RankingReport, ListError> {
    let mut report = RankingReport::default();
    let mut known: HashMap<UserId, Standing> = HashMap::new();
    let listing = ServiceListing::Status(ServiceStatus::Active);
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_services(&listing, 100, cursor.as_deref())
            .await?;
        let mut new: Vec<UserId> = page
            .items
            .iter()
            .map(|s| s.freelancer_id)
            .filter(|id| !known.contains_key(id))
            .collect();
        new.sort();
        new.dedup();
        known.extend(standings(store, new, now, &mut report).await?);
        for service in &page.items {
            let standing = known
                .get(&service.freelancer_id)
                .copied()
                .unwrap_or(UNRANKED);
            rescore(store, service, standing, &mut report).await?;
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(report),
        }
    }
}

/// One run over the dirty set only: each marked freelancer's level and response metrics
/// again and every active service of theirs; each marked service with its freelancer's
/// standing as stored. Entries are cleared once handled (unless marked again meanwhile).
async fn run_dirty(store: &Store, now: DateTime<Utc>) -> Result<RankingReport, ListError> {
    let mut report = RankingReport::default();
    let dirty = store.ranking_dirty().await?;
    report.dirty = dirty.len() as u32;
    let mut freelancers: Vec<UserId> = dirty
        .iter()
        .filter_map(|d| match d.target {
            RankTarget::Freelancer(u) => Some(u),
            RankTarget::Service(_) => None,
        })
        .collect();
    freelancers.sort();
    freelancers.dedup();
    let mut known = standings(store, freelancers.clone(), now, &mut report).await?;
    for user in &freelancers {
        let standing = known.get(user).copied().unwrap_or(UNRANKED);
        let listing = &ServiceListing::Freelancer {
            user: *user,
            status: ServiceStatus::Active,
        };
        let services =
            all_pages(|c| async move { store.list_services(listing, 100, c.as_deref()).await })
                .await?;
        for service in &services {
            rescore(store, service, standing, &mut report).await?;
        }
    }
    let mut services = Vec::new();
    for d in &dirty {
        if let RankTarget::Service(id) = d.target
            && let Some(service) = store.get_service(id, false).await?
            && service.status == ServiceStatus::Active
            && !freelancers.contains(&service.freelancer_id)
        {
            services.push(service);
        }
    }
    let mut owners: Vec<UserId> = services
        .iter()
        .map(|s| s.freelancer_id)
        .filter(|u| !known.contains_key(u))
        .collect();
    owners.sort();
    owners.dedup();
    for user in store.get_users(&owners).await? {
        if let Some(p) = &user.freelancer_profile {
            known.insert(
                user.id,
                Standing {
                    level: p.seller_level,
                    response_rate: p.response_rate,
                },
            );
        }
    }
    for service in &services {
        let standing = known
            .get(&service.freelancer_id)
            .copied()
            .unwrap_or(UNRANKED);
        rescore(store, service, standing, &mut report).await?;
    }
    for d in dirty {
        store.clear_ranking_dirty(d).await?;
    }
    Ok(report)
}

/// `ranking-updater` (hourly): the dirty set, or everything when the last full pass is
/// `FULL_PASS_EVERY` old (levels and response rates also move with time alone). A full pass
/// clears the entries marked before it started.
pub async fn run_hourly(store: &Store, now: DateTime<Utc>) -> Result<RankingReport, ListError> {
    let full_due = store
        .ranking_full_at()
        .await?
        .is_none_or(|at| now - at >= FULL_PASS_EVERY - chrono::Duration::minutes(5));
    if !full_due {
        return run_dirty(store, now).await;
    }
    let started_ms = now.timestamp_millis();
    let before = store.ranking_dirty().await?;
    let mut report = run(store, now).await?;
    report.full = true;
    report.dirty = before.len() as u32;
    for d in before.into_iter().filter(|d| d.marked_at_ms <= started_ms) {
        store.clear_ranking_dirty(d).await?;
    }
    store.set_ranking_full_at(now).await?;
    Ok(report)
}
