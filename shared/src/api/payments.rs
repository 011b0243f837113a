//! The wallet and its statement.

use lambda_http::Request;
use serde::Serialize;

use super::session::signed_in;
use super::views::{PageView, rfc3339};
use crate::app::ledger;
use crate::deps::Deps;
use crate::domain::Money;
use crate::domain::ledger::{Bucket, MovementKind};
use crate::http::{ApiError, ListParams, Reply};
use crate::i18n::Text;
use crate::store::LineRecord;

#[derive(Debug, Serialize)]
struct WalletView {
    /// Spendable.
    balance: Money,
    /// Held in escrow for orders in progress.
    frozen_balance: Money,
    total_earned: Money,
    total_spent: Money,
    currency: &'static str,
}

/// `GET /payments/wallet` [wallet-get].
pub async fn wallet(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    let b = ledger::wallet(&deps.store, user.id).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        WalletView {
            balance: Money::from_fen(b.available_fen),
            frozen_balance: Money::from_fen(b.frozen_fen),
            total_earned: Money::from_fen(b.total_earned_fen),
            total_spent: Money::from_fen(b.total_spent_fen),
            currency: "CNY",
        },
    ))
}

#[derive(Debug, Serialize)]
struct LineView {
    id: String,
    movement_id: String,
    #[serde(rename = "type")]
    kind: MovementKind,
    /// `available` (spendable) or `frozen` (escrow).
    bucket: Bucket,
    /// Signed: money in is positive, money out negative.
    amount: Money,
    order_id: Option<String>,
    description: &'static str,
    description_zh: &'static str,
    created_at: String,
}

impl LineView {
    fn of(l: &LineRecord) -> LineView {
        let (en, zh) = l.kind.describe();
        LineView {
            id: format!("{}#{}", l.movement_id, l.index),
            movement_id: l.movement_id.clone(),
            kind: l.kind,
            bucket: l.bucket,
            amount: Money::from_fen(l.amount),
            order_id: l.order_id.map(|o| o.to_string()),
            description: en,
            description_zh: zh,
            created_at: rfc3339(&l.created_at),
        }
    }
}

/// `GET /payments/transactions` [transaction-list]: the caller's ledger lines, newest first.
pub async fn transactions(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let page = ledger::lines(&deps.store, user.id, params.limit, params.cursor.as_deref()).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page.items.iter().map(LineView::of).collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        },
    ))
}
