//! `order-timers` (every minute): unpaid orders cancel after 30 minutes, overdue orders are
//! marked late, delivered orders complete 3 days after delivery.

use chrono::Utc;

use crate::app::orders::{TimerReport, run_timers};
use crate::deps::Deps;
use crate::entry::BoxError;

/// Handles the schedule's event (its content does not matter: "now" is the clock's).
pub async fn handle(deps: &'static Deps, _event: serde_json::Value) -> Result<Report, BoxError> {
    let r = run_timers(&deps.store, Utc::now()).await?;
    tracing::info!(?r, "order timers ran");
    if r.failed > 0 {
        return Err(format!("{} order timers failed", r.failed).into());
    }
    Ok(Report::from(r))
}

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub cancelled: u32,
    pub marked_late: u32,
    pub completed: u32,
    pub skipped: u32,
}

impl From<TimerReport> for Report {
    fn from(r: TimerReport) -> Report {
        Report {
            cancelled: r.cancelled,
            marked_late: r.marked_late,
            completed: r.completed,
            skipped: r.skipped,
        }
    }
}
