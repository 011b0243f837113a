//! Wallets and the ledger: balances, statements, deposits, and the daily proof that the
//! books balance.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::domain::ledger::{Account, Balances, Movement, MovementError, sum_lines};
use crate::domain::{Money, UserId};
use crate::store::{
    AccountSnapshot, LineRecord, ListError, MoveRefusal, MovementRecord, Page, ReconcileCheckpoint,
    Store, StoreError,
};

/// A user's balances.
pub async fn wallet(store: &Store, user: UserId) -> Result<Balances, StoreError> {
    Ok(store.balances(Account::User(user), false).await?.0)
}

/// A user's balances and, when earnings are waiting to clear, which and until when.
pub async fn wallet_with_clearances(
    store: &Store,
    user: UserId,
) -> Result<(Balances, Vec<crate::domain::clearance::Clearance>), StoreError> {
    let balances = wallet(store, user).await?;
    let pending = if balances.pending_fen != 0 {
        store.pending_clearances(user).await?
    } else {
        Vec::new()
    };
    Ok((balances, pending))
}

/// A user's ledger lines, newest first.
pub async fn lines(
    store: &Store,
    user: UserId,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<LineRecord>, ListError> {
    store.ledger_lines(Account::User(user), limit, cursor).await
}

#[derive(Debug, thiserror::Error)]
pub enum DepositError {
    #[error(transparent)]
    Invalid(#[from] MovementError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Credits `amount` to `user` once per `reference` (gateway clearing → available). Returns
/// whether it was new. Top-ups call this on a verified payment; locally, demo data does.
pub async fn deposit(
    store: &Store,
    user: UserId,
    amount: Money,
    reference: &str,
    now: DateTime<Utc>,
) -> Result<bool, DepositError> {
    let m = Movement::deposit(user, amount, reference)?;
    match store.apply_movement(&m, now).await? {
        Ok(()) => Ok(true),
        Err(MoveRefusal::AlreadyApplied) => Ok(false),
        Err(other) => Err(DepositError::Store(StoreError::Decode(format!(
            "deposit refused: {other:?}"
        )))),
    }
}

/// One disagreement the reconciliation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The wallet's balance is not the sum of its lines.
    WalletMismatch {
        account: Account,
        bucket: &'static str,
        wallet_fen: i64,
        lines_fen: i64,
    },
    /// A user's bucket below zero.
    Negative { account: Account, fen: i64 },
    /// A movement whose postings do not sum to zero.
    UnbalancedMovement { id: String, sum_fen: i64 },
    /// A movement whose lines are not exactly its postings.
    LinesDisagree { id: String },
    /// A seller's `pending_clearance` is not what their earnings waiting to clear add up to.
    ClearanceMismatch {
        account: Account,
        pending_fen: i64,
        waiting_fen: i64,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    pub accounts: usize,
    pub movements: usize,
    pub lines: usize,
    /// Sum of every line of the movements settled before the run (must be zero).
    pub settled_sum_fen: i64,
    pub findings: Vec<Finding>,
}

/// The full reconciliation (`make reconcile`; in AWS from a table export, see
/// `reconcile_export`): recomputes every wallet from its lines and proves that every movement
/// balances and that its lines are its postings. Reads the whole ledger (one Scan, then three
/// requests per wallet): the hourly job is `reconcile_since`.
pub async fn reconcile(store: &Store, now: DateTime<Utc>) -> Result<Reconciliation, StoreError> {
    let (accounts, movements) = store.ledger_inventory().await?;
    let mut wallets = Vec::with_capacity(accounts.len());
    for account in accounts {
        wallets.push(store.account_snapshot(account).await?);
    }
    Ok(check_books(&wallets, &movements, now))
}

/// The full reconciliation over a table export (the data files of
/// `ExportTableToPointInTime`, DynamoDB JSON, decompressed): the same checks, no read on the
/// live table. An export is one moment of the table, so nothing is in flight.
pub fn reconcile_export<'a>(
    files: impl IntoIterator<Item = &'a str>,
    exported_at: DateTime<Utc>,
) -> Result<Reconciliation, StoreError> {
    let mut items = Vec::new();
    for text in files {
        items.extend(crate::store::export_items(text)?);
    }
    let (wallets, movements) = crate::store::books_of(items)?;
    Ok(check_books(
        &wallets,
        &movements,
        exported_at + Duration::minutes(1),
    ))
}

/// The checks of the whole books: each wallet equals its lines and no user's bucket is below
/// zero; every movement's postings sum to zero and, for those settled before the last
/// minute before `now` (later ones may still be written while the books are read), its lines
/// are exactly its postings; all settled lines sum to zero.
fn check_books(
    wallets: &[AccountSnapshot],
    movements: &[MovementRecord],
    now: DateTime<Utc>,
) -> Reconciliation {
    let settled_before = now - Duration::minutes(1);
    let mut report = Reconciliation {
        accounts: wallets.len(),
        movements: movements.len(),
        ..Reconciliation::default()
    };
    let mut lines_by_movement: HashMap<&str, Vec<&LineRecord>> = HashMap::new();
    for snap in wallets {
        report.lines += snap.lines.len();
        report.findings.extend(wallet_findings(snap));
        for line in &snap.lines {
            lines_by_movement
                .entry(line.movement_id.as_str())
                .or_default()
                .push(line);
        }
    }
    for m in movements {
        let lines = lines_by_movement
            .get(m.id.as_str())
            .cloned()
            .unwrap_or_default();
        let settled = m.created_at < settled_before;
        if settled {
            report.settled_sum_fen += lines.iter().map(|l| l.amount).sum::<i64>();
        }
        report
            .findings
            .extend(movement_findings(m, &lines, settled));
    }
    if report.settled_sum_fen != 0 {
        report.findings.push(Finding::UnbalancedMovement {
            id: "*".into(),
            sum_fen: report.settled_sum_fen,
        });
    }
    report
}

/// A wallet against its lines (and its pending earnings against what waits to clear).
fn wallet_findings(snap: &AccountSnapshot) -> Vec<Finding> {
    let postings: Vec<_> = snap
        .lines
        .iter()
        .map(|l| crate::domain::ledger::Posting {
            account: l.account,
            bucket: l.bucket,
            amount_fen: l.amount,
        })
        .collect();
    let sums = sum_lines(&postings);
    let mut out = Vec::new();
    for b in crate::domain::ledger::Bucket::ALL {
        let (bucket, wallet_fen, lines_fen) = (b.as_str(), snap.balances.bucket(b), sums.bucket(b));
        if wallet_fen != lines_fen {
            out.push(Finding::WalletMismatch {
                account: snap.account,
                bucket,
                wallet_fen,
                lines_fen,
            });
        }
        if wallet_fen < 0 && !snap.account.may_go_negative() {
            out.push(Finding::Negative {
                account: snap.account,
                fen: wallet_fen,
            });
        }
    }
    if snap.waiting_fen != snap.balances.pending_fen {
        out.push(Finding::ClearanceMismatch {
            account: snap.account,
            pending_fen: snap.balances.pending_fen,
            waiting_fen: snap.waiting_fen,
        });
    }
    out
}

/// A movement against its postings and (once `settled`) the lines it wrote.
fn movement_findings(m: &MovementRecord, lines: &[&LineRecord], settled: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let sum: i64 = m.postings.iter().map(|p| p.amount_fen).sum();
    if sum != 0 {
        out.push(Finding::UnbalancedMovement {
            id: m.id.clone(),
            sum_fen: sum,
        });
    }
    if !settled {
        return out;
    }
    let seen: BTreeMap<usize, (Account, i64)> = lines
        .iter()
        .map(|l| (l.index, (l.account, l.amount)))
        .collect();
    let expected: BTreeMap<usize, (Account, i64)> = m
        .postings
        .iter()
        .enumerate()
        .map(|(i, p)| (i, (p.account, p.amount_fen)))
        .collect();
    if seen != expected {
        out.push(Finding::LinesDisagree { id: m.id.clone() });
    }
    out
}

/// Table items the hourly run reads of the rolling wallet sample (one Scan page).
pub const SAMPLE_ITEMS: i32 = 1000;

/// What one incremental run covered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncrementalReport {
    /// The window of movements checked: written after `from` (`None`: the first run, which
    /// starts a day back) and up to `to`.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub movements: usize,
    pub lines: usize,
    pub wallets_sampled: usize,
    /// The sample reached the end of the table and starts again next run.
    pub sample_wrapped: bool,
    pub findings: Vec<Finding>,
}

/// `ledger-reconciler` (hourly): checks the movements written since the last checkpoint
/// (each balances, each wrote exactly its lines: one Query per day of the movements' day
/// index, one BatchGetItem per 100 lines) and a rolling sample of wallets (each equals its
/// lines: one Scan page of `sample_items` items, three requests per wallet found), then
/// moves the checkpoint. Its cost follows the movements per hour, not the size of the table;
/// the whole table is covered by the full reconciliation from an export. Movements of the
/// last minute are left for the next run (they may still be in flight).
pub async fn reconcile_since(
    store: &Store,
    now: DateTime<Utc>,
    sample_items: i32,
) -> Result<IncrementalReport, StoreError> {
    let checkpoint = store.reconcile_checkpoint().await?;
    let until = now - Duration::minutes(1);
    let from = checkpoint.through.unwrap_or(until - Duration::days(1));
    let mut report = IncrementalReport {
        from: checkpoint.through,
        to: Some(until),
        ..IncrementalReport::default()
    };
    if from < until {
        let movements = store.movements_between(from, until).await?;
        let lines = store.movement_lines(&movements).await?;
        let mut by_movement: HashMap<&str, Vec<&LineRecord>> = HashMap::new();
        for line in &lines {
            by_movement
                .entry(line.movement_id.as_str())
                .or_default()
                .push(line);
        }
        for m in &movements {
            let mine = by_movement.get(m.id.as_str()).cloned().unwrap_or_default();
            report.findings.extend(movement_findings(m, &mine, true));
        }
        report.movements = movements.len();
        report.lines = lines.len();
    }
    let (accounts, next) = store
        .wallet_sample(checkpoint.sample_after.as_ref(), sample_items)
        .await?;
    for account in accounts {
        let snap = store.account_snapshot(account).await?;
        report.findings.extend(wallet_findings(&snap));
        report.wallets_sampled += 1;
    }
    report.sample_wrapped = next.is_none();
    store
        .save_reconcile_checkpoint(&ReconcileCheckpoint {
            through: Some(until.max(from)),
            sample_after: next,
        })
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_earnings_must_be_what_waits_to_clear() {
        let account = Account::User(UserId::new());
        let snap = |pending_fen, waiting_fen| AccountSnapshot {
            account,
            balances: Balances {
                pending_fen,
                ..Balances::default()
            },
            lines: vec![],
            waiting_fen,
        };
        // The lines are empty, so the pending bucket also disagrees with them; the clearance
        // finding is the one about what waits.
        let findings = wallet_findings(&snap(15_920, 0));
        assert!(findings.contains(&Finding::ClearanceMismatch {
            account,
            pending_fen: 15_920,
            waiting_fen: 0
        }));
        assert!(
            !wallet_findings(&snap(0, 0))
                .iter()
                .any(|f| matches!(f, Finding::ClearanceMismatch { .. }))
        );
    }
}
