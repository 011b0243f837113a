//! Wallets and the ledger: balances, statements, deposits, and the daily proof that the
//! books balance.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::domain::ledger::{Account, Balances, Movement, MovementError, sum_lines};
use crate::domain::{Money, UserId};
use crate::store::{LineRecord, ListError, MoveRefusal, Page, Store, StoreError};

/// A user's balances.
pub async fn wallet(store: &Store, user: UserId) -> Result<Balances, StoreError> {
    Ok(store.balances(Account::User(user), false).await?.0)
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

/// `ledger-reconciler`: recomputes every wallet from its lines and proves that every movement
/// balances and that its lines are its postings. Movements written while the run reads (the
/// last minute) are left for the next run.
pub async fn reconcile(store: &Store, now: DateTime<Utc>) -> Result<Reconciliation, StoreError> {
    let settled_before = now - Duration::minutes(1);
    let (accounts, movements) = store.ledger_inventory().await?;
    let mut report = Reconciliation {
        accounts: accounts.len(),
        movements: movements.len(),
        ..Reconciliation::default()
    };
    let mut lines_by_movement: HashMap<String, Vec<LineRecord>> = HashMap::new();
    for account in accounts {
        let snap = store.account_snapshot(account).await?;
        report.lines += snap.lines.len();
        let postings: Vec<_> = snap
            .lines
            .iter()
            .map(|l| crate::domain::ledger::Posting {
                account: l.account,
                bucket: l.bucket,
                amount_fen: l.amount,
            })
            .collect();
        let (available, frozen) = sum_lines(&postings);
        for (bucket, wallet_fen, lines_fen) in [
            ("available", snap.balances.available_fen, available),
            ("frozen", snap.balances.frozen_fen, frozen),
        ] {
            if wallet_fen != lines_fen {
                report.findings.push(Finding::WalletMismatch {
                    account,
                    bucket,
                    wallet_fen,
                    lines_fen,
                });
            }
            if wallet_fen < 0 && !account.may_go_negative() {
                report.findings.push(Finding::Negative {
                    account,
                    fen: wallet_fen,
                });
            }
        }
        for line in snap.lines {
            lines_by_movement
                .entry(line.movement_id.clone())
                .or_default()
                .push(line);
        }
    }
    for m in movements {
        let sum: i64 = m.postings.iter().map(|p| p.amount_fen).sum();
        if sum != 0 {
            report.findings.push(Finding::UnbalancedMovement {
                id: m.id.clone(),
                sum_fen: sum,
            });
        }
        if m.created_at >= settled_before {
            continue;
        }
        let mut seen: BTreeMap<usize, (Account, i64)> = BTreeMap::new();
        for l in lines_by_movement.get(&m.id).into_iter().flatten() {
            seen.insert(l.index, (l.account, l.amount));
            report.settled_sum_fen += l.amount;
        }
        let expected: BTreeMap<usize, (Account, i64)> = m
            .postings
            .iter()
            .enumerate()
            .map(|(i, p)| (i, (p.account, p.amount_fen)))
            .collect();
        if seen != expected {
            report
                .findings
                .push(Finding::LinesDisagree { id: m.id.clone() });
        }
    }
    if report.settled_sum_fen != 0 {
        report.findings.push(Finding::UnbalancedMovement {
            id: "*".into(),
            sum_fen: report.settled_sum_fen,
        });
    }
    Ok(report)
}
