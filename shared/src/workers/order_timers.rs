//! `order-timers` (every minute): unpaid orders cancel after 30 minutes, overdue orders are
//! marked late, delivered orders complete 3 days after delivery; sellers' earnings clear at
//! the end of their clearance period; refunds the gateways have not settled are asked about
//! again; sellers' sub-merchant applications are asked about; reviews still sealed when the 30
//! days to review end are shown; custom offers past their time are marked expired. One run at a time: a run takes the job's lease first and does nothing when another
//! run holds it.

use chrono::{DateTime, Utc};

use crate::app::orders::{TimerReport, run_timers};
use crate::app::refunds::{DueReport, clear_due, retry_due};
use crate::deps::Deps;
use crate::entry::BoxError;
use crate::payments::Gateways;
use crate::store::Store;

/// The lease outlasts the function's timeout (50 s in the template), so a run that dies
/// holding it blocks at most the next run.
pub const LEASE_SECONDS: i64 = 55;

/// Handles the schedule's event (its content does not matter: "now" is the clock's).
pub async fn handle(deps: &'static Deps, _event: serde_json::Value) -> Result<Report, BoxError> {
    let holder = crate::crypto::random_token()?;
    run_once(&deps.store, &deps.gateways, &holder, Utc::now()).await
}

/// One run as `holder` at `now`: the timers' work if it takes the lease, nothing otherwise.
pub async fn run_once(
    store: &Store,
    gateways: &Gateways,
    holder: &str,
    now: DateTime<Utc>,
) -> Result<Report, BoxError> {
    if !store
        .take_lease("order-timers", holder, now, LEASE_SECONDS)
        .await?
    {
        tracing::info!("another run holds the order timers' lease: nothing to do");
        return Ok(Report::default());
    }
    let ran = run_timers(store, now).await;
    let mut due = DueReport::default();
    let money = async {
        clear_due(store, gateways, now, &mut due).await?;
        retry_due(store, gateways, now, &mut due).await
    }
    .await;
    // Sellers' sub-merchant applications WeChat Pay is deciding (split channel only).
    let applyments = crate::app::merchants::check_due(store, gateways, now).await;
    let reveals = crate::app::reviews::reveal_due(store, now).await;
    let offers = crate::app::offers::expire_due(store, now).await;
    store.release_lease("order-timers", holder).await?;
    let r = ran?;
    money?;
    let applyments = applyments?;
    let reveals = reveals?;
    let offers_expired = offers?;
    tracing::info!(?r, ?due, ?reveals, "order timers ran");
    if r.failed > 0 || due.failed > 0 || reveals.failed > 0 {
        return Err(format!(
            "{} order timers, {} money timers and {} sealed reviews failed",
            r.failed, due.failed, reveals.failed
        )
        .into());
    }
    Ok(Report {
        applyments_changed: applyments,
        reviews_revealed: reveals.revealed,
        offers_expired,
        ..Report::from((r, due))
    })
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub cancelled: u32,
    pub marked_late: u32,
    pub completed: u32,
    pub skipped: u32,
    pub cleared: u32,
    pub refunds_asked: u32,
    pub refunds_settled: u32,
    pub applyments_changed: u32,
    pub reviews_revealed: u32,
    pub offers_expired: u32,
}

impl From<(TimerReport, DueReport)> for Report {
    fn from((r, due): (TimerReport, DueReport)) -> Report {
        Report {
            cancelled: r.cancelled,
            marked_late: r.marked_late,
            completed: r.completed,
            skipped: r.skipped,
            cleared: due.cleared,
            refunds_asked: due.refunds_asked,
            refunds_settled: due.refunds_settled,
            applyments_changed: 0,
            reviews_revealed: 0,
            offers_expired: 0,
        }
    }
}
