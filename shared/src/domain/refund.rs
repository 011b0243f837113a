//! Refunds to the original payment. Money going back to a client who paid through Alipay or
//! WeChat Pay goes back there (原路退款), not into the wallet: a [`Refund`] records our request
//! to the gateway under our own refund number, which the gateway refunds once however often it
//! is asked. The money leaves our books through gateway clearing when the refund is decided;
//! should the gateway refuse for good, it comes back into the client's wallet instead
//! ([`crate::domain::ledger::Movement::refund_credited`]), so it is never lost and never paid
//! twice.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{OrderId, UserId};
use super::money::{Money, fen};
use super::payment::{Charge, Gateway};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Decided; the gateway has not (yet) confirmed that it took the request.
    Pending,
    /// Accepted by the gateway, on its way to the payer (bank cards can take days).
    Processing,
    /// Back on the payer's Alipay or WeChat Pay.
    Succeeded,
    /// The gateway would not refund it: the money is in the client's wallet instead.
    Credited,
}

impl RefundStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Processing => "processing",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Credited => "credited",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self, RefundStatus::Succeeded | RefundStatus::Credited)
    }
}

/// What a gateway said about a refund, checked (signed) by the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    /// The money is back with the payer.
    Succeeded { gateway_refund_id: Option<String> },
    /// Accepted, not final yet.
    Processing { gateway_refund_id: Option<String> },
    /// Refused for good (the trade cannot be refunded, the refund was closed).
    Refused { reason: String },
    /// The gateway has no refund under our number (a query before the request reached it).
    NotFound,
}

/// What a verified refund notification says about one of our refunds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundNotice {
    pub gateway: Gateway,
    pub refund_no: String,
    pub out_trade_no: String,
    pub amount: Money,
    pub outcome: RefundOutcome,
}

/// After how many unanswered attempts a refund is left for an operator (an alarm), still
/// pending: without a signed answer nothing is credited.
pub const REFUND_ATTEMPTS_BEFORE_ALARM: u32 = 12;

/// One refund through a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Ours: Alipay `out_request_no`, WeChat Pay `out_refund_no`.
    pub refund_no: String,
    pub order_id: Option<OrderId>,
    /// Who gets the money back.
    pub user_id: UserId,
    pub gateway: Gateway,
    /// The charge it refunds.
    pub out_trade_no: String,
    /// What that charge took.
    #[serde(with = "fen")]
    pub total: Money,
    /// The seller's sub-merchant whose frozen funds it comes from (a split-channel payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    #[serde(with = "fen")]
    pub amount: Money,
    pub reason: String,
    pub status: RefundStatus,
    /// The gateway's own id for the refund, once it gave one.
    #[serde(default)]
    pub gateway_refund_id: Option<String>,
    /// Why the gateway refused, when it did.
    #[serde(default)]
    pub failure: Option<String>,
    /// Requests and queries sent without a final answer.
    pub attempts: u32,
    /// When to ask the gateway next (pending and processing refunds).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl Refund {
    /// A refund of `amount` of an order paid by `charge` (`total`) through `gateway`. An
    /// order is refunded once, so its refund number follows from the order number.
    #[allow(clippy::too_many_arguments)]
    pub fn of_order(
        order: OrderId,
        order_number: &str,
        client: UserId,
        gateway: Gateway,
        charge: &str,
        total: Money,
        amount: Money,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Refund {
        let tail = order_number.strip_prefix("ORD").unwrap_or(order_number);
        Refund::new(
            format!("RF{tail}"),
            Some(order),
            client,
            (gateway, charge.to_owned(), total),
            amount,
            reason,
            now,
        )
    }

    /// A whole charge paid for an order that could no longer take it (paid another way,
    /// cancelled, expired): the payment goes back.
    pub fn of_charge(charge: &Charge, now: DateTime<Utc>) -> Refund {
        let tail = charge
            .out_trade_no
            .strip_prefix("GB")
            .unwrap_or(&charge.out_trade_no);
        Refund::new(
            format!("RL{tail}"),
            charge.order_id(),
            charge.user_id,
            (charge.gateway, charge.out_trade_no.clone(), charge.amount),
            charge.amount,
            "订单已无法接收该笔付款，原路退回 / The order could no longer take this payment",
            now,
        )
        .from_sub_merchant(charge.sub_mchid.clone())
    }

    /// The refund of a split-channel payment comes from the seller's sub-merchant account.
    pub fn from_sub_merchant(self, sub_mchid: Option<String>) -> Refund {
        Refund { sub_mchid, ..self }
    }

    fn new(
        refund_no: String,
        order_id: Option<OrderId>,
        user_id: UserId,
        (gateway, out_trade_no, total): (Gateway, String, Money),
        amount: Money,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Refund {
        Refund {
            refund_no,
            order_id,
            user_id,
            gateway,
            out_trade_no,
            total,
            sub_mchid: None,
            amount,
            reason: reason.chars().take(80).collect(),
            status: RefundStatus::Pending,
            gateway_refund_id: None,
            failure: None,
            attempts: 0,
            next_attempt_at: Some(now),
            created_at: now,
            updated_at: now,
            finished_at: None,
            version: 1,
        }
    }

    /// When to ask the gateway after `attempts` unanswered ones: 1, 2, 4 … minutes, at most
    /// six hours apart.
    fn backoff(attempts: u32) -> Duration {
        Duration::minutes(1i64 << attempts.min(9)).min(Duration::hours(6))
    }

    /// The refund after the gateway's answer (or its silence, `None`) at `now`.
    pub fn answered(&self, outcome: Option<RefundOutcome>, now: DateTime<Utc>) -> Refund {
        let mut r = self.clone();
        r.updated_at = now;
        r.version += 1;
        match outcome {
            Some(RefundOutcome::Succeeded { gateway_refund_id }) => {
                r.status = RefundStatus::Succeeded;
                r.gateway_refund_id = gateway_refund_id.or(r.gateway_refund_id);
                r.next_attempt_at = None;
                r.finished_at = Some(now);
            }
            Some(RefundOutcome::Refused { reason }) => {
                r.status = RefundStatus::Credited;
                r.failure = Some(reason.chars().take(200).collect());
                r.next_attempt_at = None;
                r.finished_at = Some(now);
            }
            Some(RefundOutcome::Processing { gateway_refund_id }) => {
                r.status = RefundStatus::Processing;
                r.gateway_refund_id = gateway_refund_id.or(r.gateway_refund_id);
                r.attempts += 1;
                r.next_attempt_at = Some(now + Refund::backoff(r.attempts));
            }
            Some(RefundOutcome::NotFound) | None => {
                r.attempts += 1;
                r.next_attempt_at = Some(now + Refund::backoff(r.attempts));
            }
        }
        r
    }

    /// Whether the next step is to ask the gateway where the refund stands (it may have
    /// received an earlier request) rather than to send it.
    pub fn should_query_first(&self) -> bool {
        self.attempts > 0 || self.status == RefundStatus::Processing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refund() -> Refund {
        let now = Utc::now();
        Refund::of_order(
            OrderId::new(),
            "ORD20261204120000ABCDEF",
            UserId::new(),
            Gateway::Alipay,
            "GB20261204120000ABCDEFGHIJ",
            Money::from_fen(39_900),
            Money::from_fen(39_900),
            "取消",
            now,
        )
    }

    #[test]
    fn an_orders_refund_number_follows_from_the_order_number() {
        let r = refund();
        assert_eq!(r.refund_no, "RF20261204120000ABCDEF");
        assert!(r.refund_no.len() <= 64);
        assert_eq!(r.status, RefundStatus::Pending);
        assert!(!r.should_query_first());
    }

    #[test]
    fn silence_backs_off_and_a_final_answer_ends_the_timer() {
        let r = refund();
        let now = r.created_at;
        let once = r.answered(None, now);
        assert_eq!(once.attempts, 1);
        assert_eq!(once.next_attempt_at, Some(now + Duration::minutes(2)));
        assert!(once.should_query_first());
        let mut late = once.clone();
        for _ in 0..20 {
            late = late.answered(None, now);
        }
        assert_eq!(late.next_attempt_at, Some(now + Duration::hours(6)));
        let done = once.answered(
            Some(RefundOutcome::Succeeded {
                gateway_refund_id: Some("x".into()),
            }),
            now,
        );
        assert_eq!(done.status, RefundStatus::Succeeded);
        assert_eq!(done.next_attempt_at, None);
        let refused = once.answered(
            Some(RefundOutcome::Refused {
                reason: "ACQ.TRADE_HAS_CLOSE".into(),
            }),
            now,
        );
        assert_eq!(refused.status, RefundStatus::Credited);
        assert!(refused.status.is_final());
    }
}
