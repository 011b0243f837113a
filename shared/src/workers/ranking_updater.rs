//! `ranking-updater` (hourly): scores every active service and levels every freelancer who
//! sells one (`app::ranking`).

use chrono::Utc;

use crate::app::ranking::{RankingReport, run};
use crate::deps::Deps;
use crate::entry::BoxError;

/// Handles the schedule's event (its content does not matter: "now" is the clock's).
pub async fn handle(deps: &'static Deps, _event: serde_json::Value) -> Result<Report, BoxError> {
    let r = run(&deps.store, Utc::now()).await?;
    tracing::info!(?r, "ranking ran");
    Ok(Report::from(r))
}

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub services: u32,
    pub rescored: u32,
    pub freelancers: u32,
    pub levels_changed: u32,
}

impl From<RankingReport> for Report {
    fn from(r: RankingReport) -> Report {
        Report {
            services: r.services,
            rescored: r.rescored,
            freelancers: r.freelancers,
            levels_changed: r.levels_changed,
        }
    }
}
