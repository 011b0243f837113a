//! `ledger-reconciler` (daily): proves from the ledger alone that every wallet equals its
//! lines and that all postings sum to zero. A disagreement is logged at error level with
//! `alarm = "ledger_mismatch"` and the accounts involved, and fails the invocation; the
//! `LedgerMismatchMetric` filter of `stacks/workers.yaml` counts those lines and
//! `LedgerMismatchAlarm` alarms on the first.

use chrono::Utc;

use crate::app::ledger::reconcile;
use crate::deps::Deps;
use crate::entry::BoxError;

#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub accounts: usize,
    pub movements: usize,
    pub lines: usize,
    pub findings: usize,
}

pub async fn handle(deps: &'static Deps, _event: serde_json::Value) -> Result<Report, BoxError> {
    let r = reconcile(&deps.store, Utc::now()).await?;
    for f in &r.findings {
        tracing::error!(alarm = "ledger_mismatch", finding = ?f, "ledger does not reconcile");
    }
    tracing::info!(
        accounts = r.accounts,
        movements = r.movements,
        lines = r.lines,
        findings = r.findings.len(),
        "ledger reconciled"
    );
    if !r.findings.is_empty() {
        return Err(format!("{} ledger findings", r.findings.len()).into());
    }
    Ok(Report {
        accounts: r.accounts,
        movements: r.movements,
        lines: r.lines,
        findings: 0,
    })
}
