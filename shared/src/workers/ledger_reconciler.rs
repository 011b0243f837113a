//! `ledger-reconciler` (hourly): checks what moved since its last run and a rolling sample of
//! wallets (`app::ledger::reconcile_since`), so a run costs what an hour of trade costs, not
//! what the table holds. A disagreement is logged at error level with
//! `alarm = "ledger_mismatch"` and the accounts involved, and fails the invocation; the
//! `LedgerMismatchMetric` filter of `stacks/workers.yaml` counts those lines and
//! `LedgerMismatchAlarm` alarms on the first. The whole ledger is proven by the full
//! reconciliation over a table export (docs/operations.md).

use chrono::Utc;

use crate::app::ledger::{SAMPLE_ITEMS, reconcile_since};
use crate::deps::Deps;
use crate::entry::BoxError;

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub movements: usize,
    pub lines: usize,
    pub wallets_sampled: usize,
    pub findings: usize,
}

pub async fn handle(deps: &'static Deps, _event: serde_json::Value) -> Result<Report, BoxError> {
    let r = reconcile_since(&deps.store, Utc::now(), SAMPLE_ITEMS).await?;
    for f in &r.findings {
        tracing::error!(alarm = "ledger_mismatch", finding = ?f, "ledger does not reconcile");
    }
    tracing::info!(
        from = ?r.from,
        to = ?r.to,
        movements = r.movements,
        lines = r.lines,
        wallets_sampled = r.wallets_sampled,
        sample_wrapped = r.sample_wrapped,
        findings = r.findings.len(),
        "ledger reconciled since the last run"
    );
    if !r.findings.is_empty() {
        return Err(format!("{} ledger findings", r.findings.len()).into());
    }
    Ok(Report {
        movements: r.movements,
        lines: r.lines,
        wallets_sampled: r.wallets_sampled,
        findings: 0,
    })
}
