//! `tax-report` (the 1st of January, April, July and October, 02:00 China time): the quarter
//! before's income report per seller, as a CSV in the private bucket (`app::tax`). The
//! schedule's event may name a quarter (`{"quarter": "2026Q3"}`) to write it again.

use chrono::Utc;

use crate::app::tax::write_report;
use crate::deps::Deps;
use crate::domain::tax::Quarter;
use crate::entry::BoxError;

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub quarter: String,
    pub sellers: usize,
    pub unverified: usize,
}

pub async fn handle(deps: &'static Deps, event: serde_json::Value) -> Result<Report, BoxError> {
    let now = Utc::now();
    let quarter = match event.get("quarter").and_then(|q| q.as_str()) {
        Some(q) => Quarter::parse(q).ok_or_else(|| format!("not a quarter: {q}"))?,
        None => Quarter::containing(now).previous(),
    };
    let vault = deps.pii.as_ref().ok_or("PII_SECRET_ID is not configured")?;
    let files = deps.media_files()?;
    let r = write_report(&deps.store, &files, vault, quarter, now).await?;
    if r.unverified > 0 {
        tracing::warn!(
            alarm = "tax_report_unverified_sellers",
            quarter = %r.quarter,
            unverified = r.unverified,
            "sellers with income have no approved 实名认证"
        );
    }
    tracing::info!(quarter = %r.quarter, sellers = r.sellers, key = %r.key, "tax report written");
    Ok(Report {
        quarter: r.quarter,
        sellers: r.sellers,
        unverified: r.unverified,
    })
}
