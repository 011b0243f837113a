//! `ranking-updater` (hourly): scores the services and levels the freelancers whose inputs
//! changed since the last run (the dirty set `stats-updater` keeps from the stream), and once
//! a day every active service and every freelancer who sells one (`app::ranking::run_hourly`).

use chrono::Utc;

use crate::app::ranking::{RankingReport, run_hourly};
use crate::deps::Deps;
use crate::entry::BoxError;

/// Handles the schedule's event (its content does not matter: "now" is the clock's).
pub async fn handle(deps: &'static Deps, _event: serde_json::Value) -> Result<Report, BoxError> {
    let r = run_hourly(&deps.store, Utc::now()).await?;
    tracing::info!(?r, "ranking ran");
    Ok(Report::from(r))
}

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub full: bool,
    pub dirty: u32,
    pub services: u32,
    pub rescored: u32,
    pub freelancers: u32,
    pub levels_changed: u32,
}

impl From<RankingReport> for Report {
    fn from(r: RankingReport) -> Report {
        Report {
            full: r.full,
            dirty: r.dirty,
            services: r.services,
            rescored: r.rescored,
            freelancers: r.freelancers,
            levels_changed: r.levels_changed,
        }
    }
}
