//! `monthly-reports` (the 1st of each month, 01:00 China time): every active user's report of
//! the month before is stored once (`USER#{u} / MONTHLY#{yyyy-mm}`); the stream sends it to
//! them as a notification.

use chrono::{DateTime, Utc};

use crate::app::stats::{monthly_report, previous_month};
use crate::deps::Deps;
use crate::entry::BoxError;
use crate::store::{AdminUserFilter, Store, StoreError};

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub month: String,
    pub users: u32,
    pub stored: u32,
}

/// Reports of the month before `now` for every user (a page of 100 users at a time).
pub async fn run(store: &Store, now: DateTime<Utc>) -> Result<Report, StoreError> {
    let (month, start, end) = previous_month(now);
    let mut out = Report {
        month: month.clone(),
        ..Report::default()
    };
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .list_users(&AdminUserFilter::default(), 100, cursor.as_deref())
            .await?;
        for user in &page.items {
            out.users += 1;
            if let Some(report) = monthly_report(store, user, &month, start, end).await?
                && store
                    .put_monthly_report(user.id, &month, &report, now)
                    .await?
            {
                out.stored += 1;
            }
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            return Ok(out);
        }
    }
}

pub async fn handle(deps: &'static Deps, _event: serde_json::Value) -> Result<Report, BoxError> {
    let r = run(&deps.store, Utc::now()).await?;
    tracing::info!(month = %r.month, users = r.users, stored = r.stored, "monthly reports");
    Ok(r)
}
