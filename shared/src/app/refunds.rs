//! Refunds to the original payment (原路退款) and earnings clearance.
//!
//! A refund is decided in the transaction of the change that returns the money (a cancelled
//! order, a dispute's refund or split, a payment that arrived for an order that could no
//! longer take it). Then the gateway is asked at once ([`push`]); whatever it did not settle
//! is asked again by `order-timers` ([`retry_due`]) — first *where it stands*, so that a
//! request that reached the gateway is never sent as a second refund — and by the gateway's
//! own notification ([`apply_notice`]). A refusal that the gateway signed puts the money into
//! the client's wallet instead; silence never moves money.

use chrono::{DateTime, Utc};

use crate::domain::clearance::Clearance;
use crate::domain::ledger::Movement;
use crate::domain::payment::Gateway;
use crate::domain::refund::{
    REFUND_ATTEMPTS_BEFORE_ALARM, Refund, RefundNotice, RefundOutcome, RefundStatus,
};
use crate::domain::split::SplitOutcome;
use crate::payments::{GatewayError, Gateways, RefundRequest};
use crate::store::{MoveRefusal, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("no such refund of ours")]
    Unknown,
    #[error("the notified amount differs from the refund")]
    AmountMismatch,
    #[error("the refund kept changing")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn request(r: &Refund) -> RefundRequest {
    RefundRequest {
        refund_no: r.refund_no.clone(),
        out_trade_no: r.out_trade_no.clone(),
        total: r.total,
        amount: r.amount,
        reason: r.reason.clone(),
    }
}

/// What the gateway says about `r` now: where it stands if it may have been asked before,
/// else (or if the gateway has no such refund) the answer to the refund request itself.
async fn ask(
    gateways: &Gateways,
    r: &Refund,
    now: DateTime<Utc>,
) -> Result<RefundOutcome, GatewayError> {
    let req = request(r);
    let unavailable = || GatewayError::Network(format!("{} is not configured", r.gateway));
    match r.gateway {
        gateway if r.sub_mchid.is_some() => {
            let e = gateways
                .split_channel
                .as_ref()
                .filter(|p| p.gateway() == gateway)
                .ok_or_else(unavailable)?;
            let sub = r.sub_mchid.as_deref().unwrap_or_default();
            if r.should_query_first() {
                let state = e.refund_state(&req.refund_no, sub).await?;
                if state != RefundOutcome::NotFound {
                    return Ok(state);
                }
            }
            e.refund(&req, sub).await
        }
        Gateway::Alipay => {
            let a = gateways.alipay.as_ref().ok_or_else(unavailable)?;
            if r.should_query_first() {
                let state = a.refund_state(&req, now).await?;
                if state != RefundOutcome::NotFound {
                    return Ok(state);
                }
            }
            a.refund(&req, now).await
        }
        Gateway::Wechat => {
            let w = gateways.wechat.as_ref().ok_or_else(unavailable)?;
            if r.should_query_first() {
                let state = w.refund_state(&req.refund_no).await?;
                if state != RefundOutcome::NotFound {
                    return Ok(state);
                }
            }
            w.refund(&req).await
        }
    }
}

/// Writes what the gateway said (or `None`: it said nothing usable) about `r`, read at its
/// version; a refusal credits the client's wallet in the same transaction. `Ok(None)`: the
/// refund changed meanwhile (another attempt or a notification got there first).
async fn record(
    store: &Store,
    r: &Refund,
    outcome: Option<RefundOutcome>,
    now: DateTime<Utc>,
) -> Result<Option<Refund>, RefundError> {
    let next = r.answered(outcome, now);
    let movement = if next.status == RefundStatus::Credited {
        Some(
            Movement::refund_credited(r.user_id, r.amount, r.order_id, &r.refund_no)
                .map_err(|e| StoreError::Decode(e.to_string()))?,
        )
    } else {
        None
    };
    match store
        .write_refund(&next, r.version, movement.as_ref(), now)
        .await?
    {
        Ok(()) => {
            if next.status == RefundStatus::Credited {
                tracing::warn!(
                    alarm = "refund_credited_to_wallet",
                    refund_no = %r.refund_no,
                    reason = next.failure.as_deref().unwrap_or(""),
                    "the gateway refused the refund; the money is in the client's wallet"
                );
            } else if !next.status.is_final() && next.attempts >= REFUND_ATTEMPTS_BEFORE_ALARM {
                tracing::warn!(
                    alarm = "refund_unanswered",
                    refund_no = %r.refund_no,
                    attempts = next.attempts,
                    "the gateway has not settled this refund"
                );
            }
            Ok(Some(next))
        }
        Err(MoveRefusal::Companion(_) | MoveRefusal::AlreadyApplied) => Ok(None),
        Err(MoveRefusal::Insufficient(a)) => Err(StoreError::Decode(format!(
            "refund credit refused by {a}: clearing may go negative"
        ))
        .into()),
    }
}

/// Asks the gateway about the refund `refund_no` and records the answer. Returns the refund
/// as it now stands.
pub async fn push(
    store: &Store,
    gateways: &Gateways,
    refund_no: &str,
    now: DateTime<Utc>,
) -> Result<Refund, RefundError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let r = store
            .get_refund(refund_no)
            .await?
            .ok_or(RefundError::Unknown)?;
        if r.status.is_final() {
            return Ok(r);
        }
        let outcome = match ask(gateways, &r, now).await {
            Ok(o) => Some(o),
            Err(e) => {
                tracing::warn!(refund_no, error = %e, "refund not confirmed; asked again later");
                None
            }
        };
        if let Some(next) = record(store, &r, outcome, now).await? {
            return Ok(next);
        }
    }
    Err(RefundError::Busy)
}

/// Pushes a refund just decided, without failing the request that decided it: whatever the
/// gateway does not settle now, `order-timers` asks again.
pub async fn push_quietly(store: &Store, gateways: &Gateways, refund_no: &str) {
    if let Err(e) = push(store, gateways, refund_no, Utc::now()).await {
        tracing::warn!(refund_no, error = %e, "refund left for the timers");
    }
}

/// What `order-timers` did with due refunds and clearances.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DueReport {
    pub refunds_asked: u32,
    pub refunds_settled: u32,
    pub cleared: u32,
    pub failed: u32,
}

/// Asks the gateways again about every refund due at `now` (at most 50 a run).
pub async fn retry_due(
    store: &Store,
    gateways: &Gateways,
    now: DateTime<Utc>,
    report: &mut DueReport,
) -> Result<(), StoreError> {
    for r in store.due_refunds(now, 50).await? {
        report.refunds_asked += 1;
        match push(store, gateways, &r.refund_no, now).await {
            Ok(done) if done.status.is_final() => report.refunds_settled += 1,
            Ok(_) => {}
            Err(e) => {
                report.failed += 1;
                tracing::error!(refund_no = %r.refund_no, error = %e, "refund retry failed");
            }
        }
    }
    Ok(())
}

/// The split instruction's number for an order's clearance: one per order.
fn split_order_no(c: &Clearance) -> String {
    format!("SP{}", c.order_id)
}

/// Clears `c` if it is due at `now`: `Ok(true)` when this call cleared it. Earnings paid
/// through the split channel clear once the channel has split them (asked again on the next
/// run while it is processing).
async fn clear_one(
    store: &Store,
    gateways: &Gateways,
    c: &Clearance,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Ok(movement) = c.clear(now) else {
        return Ok(false);
    };
    if let Some(split) = &c.split {
        let Some(e) = gateways.split_channel.as_ref() else {
            return Err(StoreError::Decode(
                "earnings paid through the split channel, which is not configured".into(),
            ));
        };
        match e.split(&split_order_no(c), split).await {
            Ok(SplitOutcome::Finished) => {}
            Ok(SplitOutcome::Processing | SplitOutcome::NotFound) => return Ok(false),
            Ok(SplitOutcome::Closed { reason }) => {
                return Err(StoreError::Decode(format!(
                    "the split channel refused the split of order {}: {reason}",
                    c.order_id
                )));
            }
            Err(err) => {
                tracing::warn!(order_id = %c.order_id, error = %err, "split not confirmed; asked again on the next run");
                return Ok(false);
            }
        }
    }
    match store.clear(c, &movement, now).await? {
        Ok(()) => Ok(true),
        // Cleared by a run before (or meanwhile): nothing moves twice.
        Err(MoveRefusal::Companion(_) | MoveRefusal::AlreadyApplied) => Ok(false),
        Err(MoveRefusal::Insufficient(a)) => Err(StoreError::Decode(format!(
            "pending earnings of {a} do not cover the clearance of order {}",
            c.order_id
        ))),
    }
}

/// What the clearance timer does for one order's earnings at `now` (the timers' work for one
/// item, as `orders::fire_timer` is for one order): `Ok(true)` when they cleared.
pub async fn fire_clearance(
    store: &Store,
    gateways: &Gateways,
    seller: crate::domain::UserId,
    order: crate::domain::OrderId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    match store.get_clearance(seller, order).await? {
        Some(c) => clear_one(store, gateways, &c, now).await,
        None => Ok(false),
    }
}

/// Clears every seller's earnings due at `now` (at most 100 a run).
pub async fn clear_due(
    store: &Store,
    gateways: &Gateways,
    now: DateTime<Utc>,
    report: &mut DueReport,
) -> Result<(), StoreError> {
    for c in store.due_clearances(now, 100).await? {
        match clear_one(store, gateways, &c, now).await {
            Ok(true) => report.cleared += 1,
            Ok(false) => {}
            Err(e) => {
                report.failed += 1;
                tracing::error!(alarm = "clearance_failed", order_id = %c.order_id, error = %e, "earnings not cleared");
            }
        }
    }
    Ok(())
}

/// What a verified refund notification did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noticed {
    Recorded(RefundStatus),
    AlreadyFinal,
}

/// Applies a verified refund notification: the same rules as an answer to a query, so a
/// notification delivered many times, or many at once, moves money at most once.
pub async fn apply_notice(
    store: &Store,
    notice: &RefundNotice,
    now: DateTime<Utc>,
) -> Result<Noticed, RefundError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let r = store
            .get_refund(&notice.refund_no)
            .await?
            .filter(|r| r.gateway == notice.gateway && r.out_trade_no == notice.out_trade_no)
            .ok_or(RefundError::Unknown)?;
        if r.amount != notice.amount {
            tracing::warn!(alarm = "refund_amount_mismatch", refund_no = %r.refund_no, ours = %r.amount, notified = %notice.amount, "refused");
            return Err(RefundError::AmountMismatch);
        }
        if r.status.is_final() {
            return Ok(Noticed::AlreadyFinal);
        }
        if let Some(next) = record(store, &r, Some(notice.outcome.clone()), now).await? {
            return Ok(Noticed::Recorded(next.status));
        }
    }
    Err(RefundError::Busy)
}
