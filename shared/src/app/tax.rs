//! `tax-report`: each quarter, per seller, who they are (实名认证, opened only inside the job)
//! and what they earned in the quarter before, as a CSV in the private bucket for operators
//! (`admin-tax-reports` hands out a short-lived link, audited).
//!
//! Income is read from the ledger, not from orders: the settlements written in the quarter (the
//! movements' day index), then their orders in batches for the seller and the refunded part.
//! The job's cost follows the quarter's settlements, not the table.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::crypto::PiiVault;
use crate::domain::identity::SealedIdentity;
use crate::domain::ledger::{Account, MovementKind, PlatformAccount};
use crate::domain::tax::{COLUMNS, Quarter, SellerIncome, TaxIdentity, TaxRow, records};
use crate::domain::{OrderId, UserId};
use crate::files::Files;
use crate::store::{Store, StoreError, TaxReportRecord};

#[derive(Debug, thiserror::Error)]
pub enum TaxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the report could not be written: {0}")]
    Write(String),
}

/// Each seller's income from the orders settled in `quarter`, by seller.
pub async fn incomes(
    store: &Store,
    quarter: &Quarter,
) -> Result<BTreeMap<UserId, SellerIncome>, StoreError> {
    let (start, end) = quarter.bounds();
    let ms = Duration::milliseconds(1);
    let settled: Vec<_> = store
        .movements_between(start - ms, end - ms)
        .await?
        .into_iter()
        .filter(|m| {
            matches!(
                m.kind,
                MovementKind::EscrowRelease | MovementKind::EscrowSplit
            )
        })
        .collect();
    let ids: Vec<OrderId> = settled.iter().filter_map(|m| m.order_id).collect();
    let orders: BTreeMap<OrderId, _> = store
        .get_orders(&ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut out: BTreeMap<UserId, SellerIncome> = BTreeMap::new();
    for m in &settled {
        let Some(order) = m.order_id.and_then(|id| orders.get(&id)) else {
            tracing::warn!(movement = %m.id, "a settlement without its order: left out");
            continue;
        };
        let commission: i64 = m
            .postings
            .iter()
            .filter(|p| matches!(p.account, Account::Platform(PlatformAccount::Revenue, _)))
            .map(|p| p.amount_fen)
            .sum();
        let refunded = order.settlement.as_ref().map_or(0, |s| s.refunded.fen());
        out.entry(order.freelancer_id).or_default().add(
            order.total_amount.fen(),
            refunded,
            commission,
        );
    }
    Ok(out)
}

/// The report's lines: each seller with income, with their identity opened from their
/// approved 实名认证 (`None` for a seller without one).
pub async fn rows(
    store: &Store,
    vault: &PiiVault,
    incomes: BTreeMap<UserId, SellerIncome>,
) -> Result<Vec<TaxRow>, StoreError> {
    let ids: Vec<UserId> = incomes.keys().copied().collect();
    let users: BTreeMap<UserId, _> = store
        .get_users(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut out = Vec::with_capacity(incomes.len());
    for (seller, income) in incomes {
        let user = users.get(&seller);
        let identity = match user.and_then(|u| u.verification.as_ref()) {
            Some(v) if v.status == crate::domain::VerificationStatus::Approved => {
                match v.id.parse().ok() {
                    Some(vid) => match store.get_verification(vid).await? {
                        Some(record) => vault
                            .open(&record.sealed_identity, &record.pk)
                            .ok()
                            .and_then(|json| SealedIdentity::from_json(&json))
                            .map(|i| TaxIdentity {
                                real_name: i.real_name,
                                id_number: i.id_number,
                            }),
                        None => None,
                    },
                    None => None,
                }
            }
            _ => None,
        };
        if identity.is_none() {
            tracing::warn!(seller = %seller, "a seller with income has no approved 实名认证");
        }
        out.push(TaxRow {
            seller_id: seller,
            username: user
                .map(|u| u.username.as_str().to_owned())
                .unwrap_or_default(),
            identity,
            income,
        });
    }
    Ok(out)
}

/// The report as CSV text (UTF-8 with a byte-order mark, so spreadsheet programs in China open
/// it as UTF-8).
pub fn csv(quarter: &Quarter, rows: &[TaxRow]) -> Result<String, TaxError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)
        .map_err(|e| TaxError::Write(e.to_string()))?;
    for r in records(quarter, rows) {
        w.write_record(&r)
            .map_err(|e| TaxError::Write(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| TaxError::Write(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|e| TaxError::Write(e.to_string()))?;
    Ok(format!("\u{feff}{text}"))
}

/// Writes `quarter`'s report to the private bucket and records it (a run again replaces both).
pub async fn write_report(
    store: &Store,
    files: &Files,
    vault: &PiiVault,
    quarter: Quarter,
    now: DateTime<Utc>,
) -> Result<TaxReportRecord, TaxError> {
    let incomes = incomes(store, &quarter).await?;
    let rows = rows(store, vault, incomes).await?;
    let text = csv(&quarter, &rows)?;
    let key = format!("tax-reports/{}.csv", quarter.label());
    files
        .put_private(
            &key,
            text.into_bytes(),
            "text/csv; charset=utf-8",
            &format!("gigbao-tax-{}.csv", quarter.label()),
        )
        .await
        .map_err(|e| TaxError::Write(e.to_string()))?;
    let record = TaxReportRecord::new(
        &quarter.label(),
        &key,
        rows.len(),
        rows.iter().filter(|r| r.identity.is_none()).count(),
        rows.iter().map(|r| r.income.gross_fen).sum(),
        rows.iter().map(|r| r.income.net_fen).sum(),
        now,
    );
    store.put_tax_report(&record).await?;
    Ok(record)
}
