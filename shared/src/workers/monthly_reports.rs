//! `monthly-reports` (the 1st of each month, 01:00 China time): every active user's report of
//! the month before is stored once (`USER#{u} / MONTHLY#{yyyy-mm}`); the stream sends it to
//! them as a notification.
//!
//! No run grows with the number of users: the schedule only sends the first page's message to
//! the reports queue; each invocation then writes the reports of one page of users and sends
//! the next page's message. A page is idempotent (a report is stored once), and the message
//! for the next page is sent only by the first delivery of a page (`claim_report_page`), so a
//! redelivered page never starts a second chain. A page that keeps failing ends in the
//! reports DLQ, alarmed; redriving it resumes the chain there.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, Utc};

use super::{Batch, WorkMessage, work_message};
use crate::app::stats::{monthly_report, previous_month};
use crate::config::Config;
use crate::deps::Deps;
use crate::entry::BoxError;
use crate::store::{AdminUserFilter, Store, StoreError};

/// Users per page (one invocation).
const PAGE_SIZE: i32 = 100;

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub month: String,
    pub users: u32,
    pub stored: u32,
}

/// One page of `month`'s reports: the users after `cursor`. Returns what it did and the cursor
/// of the next page (`None`: this was the last).
pub async fn page(
    store: &Store,
    month: &str,
    cursor: Option<&str>,
    limit: i32,
    now: DateTime<Utc>,
) -> Result<(Report, Option<String>), StoreError> {
    let (_, start, end) = previous_month(now);
    let mut out = Report {
        month: month.to_owned(),
        ..Report::default()
    };
    let users = store
        .list_users(&AdminUserFilter::default(), limit, cursor)
        .await?;
    for user in &users.items {
        out.users += 1;
        if let Some(report) = monthly_report(store, user, month, start, end).await?
            && store
                .put_monthly_report(user.id, month, &report, now)
                .await?
        {
            out.stored += 1;
        }
    }
    Ok((out, users.next_cursor))
}

/// Reports of the month before `now` for every user, page after page in this process
/// (`devtool monthly`, `make monthly`; in AWS the pages go through the queue).
pub async fn run(store: &Store, now: DateTime<Utc>) -> Result<Report, StoreError> {
    let (month, _, _) = previous_month(now);
    let mut total = Report {
        month: month.clone(),
        ..Report::default()
    };
    let mut cursor: Option<String> = None;
    loop {
        let (r, next) = page(store, &month, cursor.as_deref(), PAGE_SIZE, now).await?;
        total.users += r.users;
        total.stored += r.stored;
        match next {
            Some(c) => cursor = Some(c),
            None => return Ok(total),
        }
    }
}

/// The message for the page after `cursor`, if this delivery is the first to claim it.
pub async fn next_page(
    store: &Store,
    month: &str,
    next_cursor: Option<String>,
    started_at_ms: i64,
    now: DateTime<Utc>,
) -> Result<Option<WorkMessage>, StoreError> {
    let Some(cursor) = next_cursor else {
        return Ok(None);
    };
    if !store.claim_report_page(month, &cursor, now).await? {
        tracing::info!(%month, "next page sent before: not again");
        return Ok(None);
    }
    Ok(Some(WorkMessage::ReportsPage {
        month: month.to_owned(),
        cursor: Some(cursor),
        started_at_ms,
    }))
}

async fn send(deps: &Deps, message: &WorkMessage) -> Result<(), String> {
    let url = Config::require(&deps.config.reports_queue_url, "REPORTS_QUEUE_URL")
        .map_err(|e| e.to_string())?;
    let body = serde_json::to_string(message).map_err(|e| e.to_string())?;
    deps.sqs()
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
    Ok(())
}

/// The schedule's event starts the month's chain; a reports-queue batch works one page each.
pub async fn handle(
    deps: &'static Deps,
    event: serde_json::Value,
) -> Result<serde_json::Value, BoxError> {
    if event.get("Records").is_none() {
        let now = Utc::now();
        let (month, _, _) = previous_month(now);
        send(
            deps,
            &WorkMessage::ReportsPage {
                month: month.clone(),
                cursor: None,
                started_at_ms: now.timestamp_millis(),
            },
        )
        .await?;
        tracing::info!(%month, "monthly reports started");
        return Ok(serde_json::json!({ "started": month }));
    }
    let batch: SqsEvent = serde_json::from_value(event)?;
    let batch = Batch::decode(&batch, |body| {
        work_message(body, |m| match m {
            WorkMessage::ReportsPage {
                month,
                cursor,
                started_at_ms,
            } => Some((month, cursor, started_at_ms)),
            _ => None,
        })
    });
    let answer = batch
        .each(|(month, cursor, started_at_ms)| async move {
            let now = DateTime::from_timestamp_millis(started_at_ms).unwrap_or_else(Utc::now);
            let (r, next) = page(&deps.store, &month, cursor.as_deref(), PAGE_SIZE, now)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(message) = next_page(&deps.store, &month, next, started_at_ms, Utc::now())
                .await
                .map_err(|e| e.to_string())?
            {
                send(deps, &message).await?;
            }
            Ok(format!(
                "{month}: {} users, {} reports stored",
                r.users, r.stored
            ))
        })
        .await;
    Ok(serde_json::to_value(answer)?)
}
