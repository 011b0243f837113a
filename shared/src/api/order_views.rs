//! An order as its parties and the operators see it: shared by the order handlers and the
//! ones that place orders elsewhere (an accepted proposal).

use serde::Serialize;

use super::uploads::FileView;
use super::views::rfc3339;
use crate::domain::Money;
use crate::domain::order::{
    Actor, Dispute, ExtraKind, Order, OrderOrigin, OrderStatus, Party, PaymentStatus, Resolution,
    Settlement,
};
use crate::domain::service::Tier;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PartyView {
    id: String,
    username: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ServiceRef {
    id: String,
    title: Option<String>,
    title_zh: Option<String>,
}

/// The brief an order came from, and the proposal accepted on it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BriefRef {
    id: String,
    proposal_id: String,
    title: Option<String>,
}

/// Where an order came from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OriginView {
    /// A service's package.
    Service,
    /// A brief and the proposal its buyer accepted.
    Proposal,
    /// A seller's custom offer the buyer accepted.
    Offer,
}

/// The package as bought (a copy taken when the order was placed).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OrderPackageView)]
pub(crate) struct PackageView {
    tier: Tier,
    name: &'static str,
    name_zh: &'static str,
    price: Money,
    description: String,
    delivery_days: u32,
    revisions: u32,
    features: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CancellationView {
    requested_by: Party,
    reason: String,
    requested_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DisputeView {
    opened_by: Party,
    reason: String,
    evidence_keys: Vec<String>,
    /// The checked files behind `evidence_keys` (download links from `GET /files/{file_id}`).
    evidence: Vec<FileView>,
    opened_at: String,
    previous_status: OrderStatus,
}

impl From<&Dispute> for DisputeView {
    fn from(d: &Dispute) -> Self {
        DisputeView {
            opened_by: d.by,
            reason: d.reason.clone(),
            evidence_keys: d.evidence_keys.clone(),
            evidence: d
                .evidence
                .iter()
                .map(|a| FileView::attached(a, None))
                .collect(),
            opened_at: rfc3339(&d.at),
            previous_status: d.from,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SettlementView {
    resolution: Resolution,
    refund_amount: Money,
    note: String,
    resolved_at: String,
}

impl From<&Settlement> for SettlementView {
    fn from(s: &Settlement) -> Self {
        SettlementView {
            resolution: s.resolution,
            refund_amount: s.refunded,
            note: s.note.clone(),
            resolved_at: rfc3339(&s.at),
        }
    }
}

/// A paid extra the client added during the order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ExtraView {
    /// `revision`, `faster` or `item`.
    kind: &'static str,
    /// Days sooner, for `faster`.
    days: Option<u32>,
    description: String,
    price: Money,
    added_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TipView {
    amount: Money,
    /// The commission the platform kept of it.
    fee: Money,
    at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ExtensionView {
    days: u32,
    reason: String,
    requested_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    id: String,
    order_number: String,
    client: PartyView,
    freelancer: PartyView,
    origin: OriginView,
    /// The service ordered; `null` for an order from a brief.
    service: Option<ServiceRef>,
    /// The brief an order came from; `null` for an order of a service.
    brief: Option<BriefRef>,
    /// The custom offer an order came from.
    offer_id: Option<String>,
    package: PackageView,
    requirements: String,
    total_amount: Money,
    platform_fee: Money,
    freelancer_earnings: Money,
    /// The commission rate frozen when the order was placed, in basis points (2000 = 20 %).
    fee_rate_bp: u32,
    /// The least commission the order pays.
    minimum_fee: Money,
    /// Days the freelancer's earnings wait before they can be withdrawn.
    clearance_days: u32,
    status: OrderStatus,
    payment_status: PaymentStatus,
    payment_method: Option<String>,
    delivery_deadline: String,
    /// While a revision is being worked on: when it is due (the order's deadline, or a grace
    /// period after a revision asked for near or after it). The order is late only after it.
    revision_due_at: Option<String>,
    is_late: bool,
    revisions_used: u32,
    revisions_left: u32,
    /// Until when an unpaid order can be paid.
    pay_by: Option<String>,
    /// When a delivered order completes by itself.
    auto_complete_at: Option<String>,
    cancellation_request: Option<CancellationView>,
    /// The freelancer's request for more days, while the client has not answered.
    extension_request: Option<ExtensionView>,
    /// Paid extras (their prices are in `total_amount`).
    extras: Vec<ExtraView>,
    tip: Option<TipView>,
    dispute: Option<DisputeView>,
    resolution: Option<SettlementView>,
    cancel_reason: Option<String>,
    last_event: &'static str,
    last_event_by: Actor,
    paid_at: Option<String>,
    delivered_at: Option<String>,
    completed_at: Option<String>,
    cancelled_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl OrderView {
    pub fn of(o: &Order) -> OrderView {
        let (name, name_zh) = o.package.tier.names();
        let timer = o.timer();
        OrderView {
            id: o.id.to_string(),
            order_number: o.order_number.clone(),
            client: PartyView {
                id: o.client_id.to_string(),
                username: o.client_username.clone(),
            },
            freelancer: PartyView {
                id: o.freelancer_id.to_string(),
                username: o.freelancer_username.clone(),
            },
            origin: match o.origin {
                OrderOrigin::Service => OriginView::Service,
                OrderOrigin::Proposal { .. } => OriginView::Proposal,
                OrderOrigin::Offer { .. } => OriginView::Offer,
            },
            offer_id: match o.origin {
                OrderOrigin::Offer { offer_id } => Some(offer_id.to_string()),
                _ => None,
            },
            service: o.service_id.map(|id| ServiceRef {
                id: id.to_string(),
                title: o.service_title.clone(),
                title_zh: o.service_title_zh.clone(),
            }),
            brief: match o.origin {
                OrderOrigin::Proposal {
                    brief_id,
                    proposal_id,
                } => Some(BriefRef {
                    id: brief_id.to_string(),
                    proposal_id: proposal_id.to_string(),
                    title: o.service_title_zh.clone(),
                }),
                OrderOrigin::Service | OrderOrigin::Offer { .. } => None,
            },
            package: PackageView {
                tier: o.package.tier,
                name,
                name_zh,
                price: o.package.price,
                description: o.package.description.clone(),
                delivery_days: o.package.delivery_days,
                revisions: o.package.revisions,
                features: o.package.features.clone(),
            },
            requirements: o.requirements.clone(),
            total_amount: o.total_amount,
            platform_fee: o.platform_fee,
            freelancer_earnings: o.freelancer_earnings,
            fee_rate_bp: o.fee.rate_bp,
            minimum_fee: o.fee.minimum,
            clearance_days: o.clearance_days,
            status: o.status,
            payment_status: o.payment_status,
            payment_method: o.payment_method.clone(),
            delivery_deadline: rfc3339(&o.delivery_deadline),
            revision_due_at: o
                .revision_due
                .filter(|_| o.status == OrderStatus::InProgress)
                .map(|_| rfc3339(&o.due())),
            is_late: o.is_late,
            revisions_used: o.revisions_used,
            revisions_left: o.package.revisions.saturating_sub(o.revisions_used),
            pay_by: (o.status == OrderStatus::Pending)
                .then(|| rfc3339(&(o.created_at + crate::domain::order::PAY_WITHIN))),
            auto_complete_at: timer
                .filter(|(k, _)| *k == crate::domain::order::TimerKind::AutoComplete)
                .map(|(_, at)| rfc3339(&at)),
            cancellation_request: o
                .cancellation
                .as_ref()
                .filter(|_| o.status.is_open())
                .map(|c| CancellationView {
                    requested_by: c.by,
                    reason: c.reason.clone(),
                    requested_at: rfc3339(&c.at),
                }),
            extension_request: o.extension.as_ref().map(|e| ExtensionView {
                days: e.days,
                reason: e.reason.clone(),
                requested_at: rfc3339(&e.requested_at),
            }),
            extras: o
                .extras
                .iter()
                .map(|e| ExtraView {
                    kind: match e.kind {
                        ExtraKind::Revision => "revision",
                        ExtraKind::Faster { .. } => "faster",
                        ExtraKind::Item => "item",
                    },
                    days: match e.kind {
                        ExtraKind::Faster { days } => Some(days),
                        _ => None,
                    },
                    description: e.description.clone(),
                    price: e.price,
                    added_at: rfc3339(&e.added_at),
                })
                .collect(),
            tip: o.tip.as_ref().map(|t| TipView {
                amount: t.amount,
                fee: t.fee,
                at: rfc3339(&t.at),
            }),
            dispute: o.dispute.as_ref().map(DisputeView::from),
            resolution: o.settlement.as_ref().map(SettlementView::from),
            cancel_reason: o.cancel_reason.clone(),
            last_event: o.last_event.kind.as_str(),
            last_event_by: o.last_event.by,
            paid_at: o.paid_at.as_ref().map(rfc3339),
            delivered_at: o.delivered_at.as_ref().map(rfc3339),
            completed_at: o.completed_at.as_ref().map(rfc3339),
            cancelled_at: o.cancelled_at.as_ref().map(rfc3339),
            created_at: rfc3339(&o.created_at),
            updated_at: rfc3339(&o.updated_at),
        }
    }
}
