//! Orders: a client buys one package of a service; the money waits in escrow while the work is
//! done, delivered and revised, and is released or refunded exactly once.
//!
//! Every rule is here, as pure functions from an order (and who asks, and when) to the next
//! order and the money that moves with it. The store writes the result conditionally on the
//! version read, so two racing transitions cannot both happen.

use super::split::{SplitInstruction, SplitTarget};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::clearance::Clearance;
use super::fee::FeeTerms;
use super::ids::{OrderId, ServiceId, UserId};
use super::ledger::{Movement, MovementError, RefundTo};
use super::money::Money;
use super::payment::Gateway;
use super::refund::Refund;
use super::service::{Package, Service, Tier};
use super::user::User;

/// An unpaid order cancels itself this long after it was placed.
pub const PAY_WITHIN: Duration = Duration::minutes(30);
/// A delivered order completes itself this long after the delivery.
const AUTO_COMPLETE_AFTER: Duration = Duration::days(3);
/// The most a revision gives the freelancer beyond the order's own deadline: a revision
/// asked for near or after the deadline is due the package's delivery days later, at most
/// this many (at least one day), so that on-time work is never "late" for the deadline it met.
const REVISION_GRACE_MAX_DAYS: u32 = 3;
pub const MAX_REQUIREMENTS_CHARS: usize = 5_000;
pub const MAX_MESSAGE_CHARS: usize = 5_000;
pub const MAX_REASON_CHARS: usize = 1_000;
pub const MAX_FILES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    InProgress,
    Delivered,
    Completed,
    Cancelled,
    Disputed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Pending,
        OrderStatus::InProgress,
        OrderStatus::Delivered,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Disputed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Disputed => "disputed",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Completed and cancelled orders are closed for good.
    pub fn is_open(&self) -> bool {
        !matches!(self, OrderStatus::Completed | OrderStatus::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Refunded,
    PartiallyRefunded,
}

/// The two sides of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Client,
    Freelancer,
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Client,
    Freelancer,
    Admin,
    /// The order timers.
    System,
}

impl From<Party> for Actor {
    fn from(p: Party) -> Actor {
        match p {
            Party::Client => Actor::Client,
            Party::Freelancer => Actor::Freelancer,
        }
    }
}

/// What happened to an order: carried on the item, so the table's stream tells the
/// notification work what to say and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Placed,
    Paid,
    Delivered,
    RevisionRequested,
    Completed,
    CancellationRequested,
    Cancelled,
    Disputed,
    Resolved,
    MarkedLate,
    ExtensionRequested,
    ExtensionAccepted,
    ExtensionDeclined,
    ExtraAdded,
    Tipped,
}

impl EventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Placed => "order.placed",
            EventKind::Paid => "order.paid",
            EventKind::Delivered => "order.delivered",
            EventKind::RevisionRequested => "order.revision_requested",
            EventKind::Completed => "order.completed",
            EventKind::CancellationRequested => "order.cancellation_requested",
            EventKind::Cancelled => "order.cancelled",
            EventKind::Disputed => "order.disputed",
            EventKind::Resolved => "order.resolved",
            EventKind::MarkedLate => "order.marked_late",
            EventKind::ExtensionRequested => "order.extension_requested",
            EventKind::ExtensionAccepted => "order.extension_accepted",
            EventKind::ExtensionDeclined => "order.extension_declined",
            EventKind::ExtraAdded => "order.extra_added",
            EventKind::Tipped => "order.tipped",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub kind: EventKind,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

use super::money::fen;

/// The package as it was when the order was placed: later edits of the service do not
/// change what was bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageTerms {
    pub tier: Tier,
    #[serde(with = "fen")]
    pub price: Money,
    pub description: String,
    pub delivery_days: u32,
    pub revisions: u32,
    pub features: Vec<String>,
}

impl PackageTerms {
    pub fn of(tier: Tier, p: &Package) -> PackageTerms {
        PackageTerms {
            tier,
            price: p.price,
            description: p.description.clone(),
            delivery_days: p.delivery_days,
            revisions: p.revisions,
            features: p.features.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRequest {
    pub by: Party,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub by: Party,
    pub reason: String,
    pub evidence_keys: Vec<String>,
    /// The checked files behind `evidence_keys`.
    #[serde(default)]
    pub evidence: Vec<super::attachment::Attachment>,
    pub at: DateTime<Utc>,
    /// The status it interrupted.
    pub from: OrderStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Everything back to the client.
    Refund,
    /// Everything to the freelancer (less the fee), as if accepted.
    Release,
    /// `refund` back to the client, the rest released.
    Split,
}

impl Resolution {
    pub fn parse(s: &str) -> Option<Resolution> {
        match s {
            "refund" => Some(Resolution::Refund),
            "release" => Some(Resolution::Release),
            "split" => Some(Resolution::Split),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub resolution: Resolution,
    #[serde(with = "fen")]
    pub refunded: Money,
    pub note: String,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// The most days one extension may add.
pub const MAX_EXTENSION_DAYS: u32 = 30;
/// The most extras one order may take.
pub const MAX_EXTRAS: usize = 10;

/// What an extra buys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExtraKind {
    /// One more revision.
    Revision,
    /// Delivery `days` sooner.
    Faster { days: u32 },
    /// Anything else the parties agreed (a line item).
    Item,
}

/// A paid extra the client added during the order, paid into the same escrow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extra {
    #[serde(flatten)]
    pub kind: ExtraKind,
    pub description: String,
    #[serde(with = "fen")]
    pub price: Money,
    pub added_at: DateTime<Utc>,
}

/// A tip on a completed order: what the client gave and what the platform kept of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tip {
    #[serde(with = "fen")]
    pub amount: Money,
    #[serde(with = "fen")]
    pub fee: Money,
    pub at: DateTime<Utc>,
}

/// The freelancer's request for more time, waiting for the client's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub days: u32,
    pub reason: String,
    pub requested_at: DateTime<Utc>,
}

/// Where an order came from: a service's package, or a buyer's brief and the proposal they
/// accepted (its price and terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderOrigin {
    #[default]
    Service,
    Proposal {
        brief_id: crate::domain::BriefId,
        proposal_id: crate::domain::ProposalId,
    },
    /// A seller's custom offer in a conversation.
    Offer { offer_id: crate::domain::OfferId },
}

/// What a custom order (from a proposal or an offer) is for and at what terms.
struct CustomTerms {
    title: String,
    requirements: String,
    description: String,
    price: Money,
    delivery_days: u32,
    revisions: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub order_number: String,
    pub client_id: UserId,
    pub client_username: String,
    pub freelancer_id: UserId,
    pub freelancer_username: String,
    /// The service ordered; none for an order from a brief.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ServiceId>,
    #[serde(default)]
    pub origin: OrderOrigin,
    /// The freelancer's request for more days, while the client has not answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<ExtensionRequest>,
    /// Paid extras added during the order (their prices are in `total_amount`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extras: Vec<Extra>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tip: Option<Tip>,
    pub service_title: Option<String>,
    pub service_title_zh: Option<String>,
    pub package: PackageTerms,
    pub requirements: String,
    #[serde(with = "fen")]
    pub total_amount: Money,
    #[serde(with = "fen")]
    pub platform_fee: Money,
    #[serde(with = "fen")]
    pub freelancer_earnings: Money,
    /// The commission frozen when the order was placed (the rules may change after).
    #[serde(default)]
    pub fee: FeeTerms,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub payment_method: Option<String>,
    /// Our trade number of the charge that paid the order through a gateway: money going
    /// back to the client goes back through it.
    #[serde(default)]
    pub payment_reference: Option<String>,
    /// Paid through the split channel: the seller's sub-merchant and the transaction that its
    /// refunds and its split instruction name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitTarget>,
    /// How many days the freelancer's earnings wait before they can be withdrawn (the
    /// clearance period of their seller level when the order was placed).
    #[serde(default = "default_clearance_days")]
    pub clearance_days: u32,
    pub delivery_deadline: DateTime<Utc>,
    pub is_late: bool,
    pub paid_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The first delivery: whether the order was delivered on time is judged on it.
    #[serde(default)]
    pub first_delivered_at: Option<DateTime<Utc>>,
    /// When the delivery after the latest revision request is due (see [`Order::due`]).
    #[serde(default)]
    pub revision_due: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub revisions_used: u32,
    pub deliveries_count: u32,
    pub cancellation: Option<CancellationRequest>,
    pub dispute: Option<Dispute>,
    pub settlement: Option<Settlement>,
    pub last_event: OrderEvent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

fn default_clearance_days() -> u32 {
    14
}

/// What the order timers look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    AutoCancel,
    MarkLate,
    AutoComplete,
}

impl TimerKind {
    pub const ALL: [TimerKind; 3] = [
        TimerKind::AutoCancel,
        TimerKind::MarkLate,
        TimerKind::AutoComplete,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TimerKind::AutoCancel => "autocancel",
            TimerKind::MarkLate => "late",
            TimerKind::AutoComplete => "autocomplete",
        }
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRuleError {
    #[error("only the {0:?} may do this")]
    WrongParty(Party),
    #[error("not allowed while the order is {0:?}")]
    WrongStatus(OrderStatus),
    #[error("the payment window has passed")]
    PaymentExpired,
    #[error("no revisions left")]
    RevisionsExhausted,
    #[error("a cancellation from this party is already waiting")]
    CancellationPending,
    #[error("the refund must be more than zero and less than the total")]
    BadRefund,
    #[error("not due yet")]
    NotDue,
    #[error("an extension is already waiting for the client")]
    ExtensionPending,
    #[error("no extension is waiting")]
    NoExtension,
    #[error("an extension is 1 to {MAX_EXTENSION_DAYS} days")]
    ExtensionDays,
    #[error("extras are paid from the wallet into an order paid from the wallet")]
    ExtrasWalletOnly,
    #[error("at most {MAX_EXTRAS} extras per order")]
    TooManyExtras,
    #[error("faster delivery must leave at least a day")]
    TooFast,
    #[error("the order was tipped already")]
    AlreadyTipped,
    #[error(transparent)]
    Money(#[from] MovementError),
}

/// The next state of an order, the money that moves with it, and whether the order closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub order: Order,
    pub movement: Option<Movement>,
    pub closed: bool,
    /// Money going back to the client's original payment, written with the transition.
    pub refund: Option<Refund>,
    /// The freelancer's earnings waiting to clear, written with the transition.
    pub clearance: Option<Clearance>,
}

/// `ORD` + local time in China (yyyymmddHHMMSS) + six characters from `random`.
pub fn order_number(now: DateTime<Utc>, random: u128) -> String {
    super::stamped_number("ORD", now, random, 6)
}

impl Order {
    /// A new unpaid order for `tier` of `service`, with a fresh id and order number.
    pub fn place(
        client: &User,
        service: &Service,
        tier: Tier,
        package: &Package,
        requirements: String,
        (fee_terms, clearance_days): (FeeTerms, u32),
        now: DateTime<Utc>,
    ) -> Order {
        let id = OrderId::new();
        let total = package.price;
        let (fee, earnings) = fee_terms.split(total);
        Order {
            id,
            order_number: order_number(now, id.random()),
            client_id: client.id,
            client_username: client.username.as_str().to_owned(),
            freelancer_id: service.freelancer_id,
            freelancer_username: service.freelancer_username.clone(),
            service_id: Some(service.id),
            origin: OrderOrigin::Service,
            extension: None,
            extras: Vec::new(),
            tip: None,
            service_title: service.content.title.clone(),
            service_title_zh: service.content.title_zh.clone(),
            package: PackageTerms::of(tier, package),
            requirements,
            total_amount: total,
            platform_fee: fee,
            freelancer_earnings: earnings,
            fee: fee_terms,
            status: OrderStatus::Pending,
            payment_status: PaymentStatus::Pending,
            payment_method: None,
            payment_reference: None,
            split: None,
            clearance_days,
            delivery_deadline: now + Duration::days(i64::from(package.delivery_days)),
            is_late: false,
            paid_at: None,
            delivered_at: None,
            first_delivered_at: None,
            revision_due: None,
            completed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            revisions_used: 0,
            deliveries_count: 0,
            cancellation: None,
            dispute: None,
            settlement: None,
            last_event: OrderEvent {
                kind: EventKind::Placed,
                by: Actor::Client,
                at: now,
            },
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// An order from a brief: the accepted proposal's price, days and revisions, the brief's
    /// title as what is bought, its category's commission.
    pub fn from_proposal(
        client: &User,
        brief: &crate::domain::brief::Brief,
        proposal: &crate::domain::brief::Proposal,
        fee: (FeeTerms, u32),
        now: DateTime<Utc>,
    ) -> Order {
        Order::custom(
            client,
            (proposal.seller_id, &proposal.seller_username),
            CustomTerms {
                title: brief.content.title.clone(),
                requirements: brief.content.description.clone(),
                description: proposal.terms.message.clone(),
                price: proposal.terms.price,
                delivery_days: proposal.terms.delivery_days,
                revisions: proposal.terms.revisions,
            },
            OrderOrigin::Proposal {
                brief_id: brief.id,
                proposal_id: proposal.id,
            },
            fee,
            now,
        )
    }

    /// An order from a custom offer the client accepted: the offer's terms.
    pub fn from_offer(
        client: &User,
        offer: &crate::domain::offer::Offer,
        fee: (FeeTerms, u32),
        now: DateTime<Utc>,
    ) -> Order {
        let title: String = offer.terms.description.chars().take(60).collect();
        Order::custom(
            client,
            (offer.seller_id, &offer.seller_username),
            CustomTerms {
                title,
                requirements: offer.terms.description.clone(),
                description: offer.terms.description.clone(),
                price: offer.terms.price,
                delivery_days: offer.terms.delivery_days,
                revisions: offer.terms.revisions,
            },
            OrderOrigin::Offer { offer_id: offer.id },
            fee,
            now,
        )
    }

    /// An unpaid order at terms the parties agreed outside a service's packages.
    fn custom(
        client: &User,
        (seller_id, seller_username): (UserId, &str),
        t: CustomTerms,
        origin: OrderOrigin,
        (fee_terms, clearance_days): (FeeTerms, u32),
        now: DateTime<Utc>,
    ) -> Order {
        let id = OrderId::new();
        let total = t.price;
        let (fee, earnings) = fee_terms.split(total);
        Order {
            id,
            order_number: order_number(now, id.random()),
            client_id: client.id,
            client_username: client.username.as_str().to_owned(),
            freelancer_id: seller_id,
            freelancer_username: seller_username.to_owned(),
            service_id: None,
            origin,
            extension: None,
            extras: Vec::new(),
            tip: None,
            service_title: None,
            service_title_zh: Some(t.title),
            package: PackageTerms {
                tier: Tier::Basic,
                price: total,
                description: t.description,
                delivery_days: t.delivery_days,
                revisions: t.revisions,
                features: Vec::new(),
            },
            requirements: t.requirements,
            total_amount: total,
            platform_fee: fee,
            freelancer_earnings: earnings,
            fee: fee_terms,
            status: OrderStatus::Pending,
            payment_status: PaymentStatus::Pending,
            payment_method: None,
            payment_reference: None,
            split: None,
            clearance_days,
            delivery_deadline: now + Duration::days(i64::from(t.delivery_days)),
            is_late: false,
            paid_at: None,
            delivered_at: None,
            first_delivered_at: None,
            revision_due: None,
            completed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            revisions_used: 0,
            deliveries_count: 0,
            cancellation: None,
            dispute: None,
            settlement: None,
            last_event: OrderEvent {
                kind: EventKind::Placed,
                by: Actor::Client,
                at: now,
            },
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Which side `user` is on, if any.
    pub fn party_of(&self, user: UserId) -> Option<Party> {
        if user == self.client_id {
            Some(Party::Client)
        } else if user == self.freelancer_id {
            Some(Party::Freelancer)
        } else {
            None
        }
    }

    /// The timer the order is waiting on, and when it fires.
    pub fn timer(&self) -> Option<(TimerKind, DateTime<Utc>)> {
        match self.status {
            OrderStatus::Pending => Some((TimerKind::AutoCancel, self.created_at + PAY_WITHIN)),
            OrderStatus::InProgress if !self.is_late => Some((TimerKind::MarkLate, self.due())),
            OrderStatus::Delivered => self
                .delivered_at
                .map(|d| (TimerKind::AutoComplete, d + AUTO_COMPLETE_AFTER)),
            _ => None,
        }
    }

    /// Whether the first delivery came by the deadline (orders from before the first
    /// delivery was recorded: whether they were never marked late).
    pub fn delivered_on_time(&self) -> bool {
        self.first_delivered_at
            .map_or(!self.is_late, |d| d <= self.delivery_deadline)
    }

    /// When the freelancer's next delivery is due: the order's deadline, or after a revision
    /// request the revision's own due time (never earlier than the deadline).
    pub fn due(&self) -> DateTime<Utc> {
        self.revision_due
            .map_or(self.delivery_deadline, |d| d.max(self.delivery_deadline))
    }

    /// Past the due time without a delivery waiting for the client.
    fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == OrderStatus::InProgress && (self.is_late || now > self.due())
    }

    fn next(&self, kind: EventKind, by: Actor, now: DateTime<Utc>) -> Order {
        let mut o = self.clone();
        o.last_event = OrderEvent { kind, by, at: now };
        o.updated_at = now;
        o.version += 1;
        o
    }

    fn only(&self, who: Party, wanted: Party) -> Result<(), OrderRuleError> {
        if who == wanted {
            Ok(())
        } else {
            Err(OrderRuleError::WrongParty(wanted))
        }
    }

    fn status_in(&self, allowed: &[OrderStatus]) -> Result<(), OrderRuleError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(OrderRuleError::WrongStatus(self.status))
        }
    }

    fn plain(order: Order) -> Transition {
        Transition {
            order,
            movement: None,
            closed: false,
            refund: None,
            clearance: None,
        }
    }

    /// The gateway and charge that paid the order, if one did.
    fn paid_through(&self) -> Option<(Gateway, &str)> {
        let gateway = self.payment_method.as_deref()?.parse::<Gateway>().ok()?;
        Some((gateway, self.payment_reference.as_deref()?))
    }

    /// Where `amount` going back to the client goes, and the gateway refund that carries it
    /// when the order was paid through a gateway.
    fn refund_of(
        &self,
        amount: Money,
        reason: &str,
        now: DateTime<Utc>,
    ) -> (RefundTo, Option<Refund>) {
        match self.paid_through() {
            Some((gateway, charge)) => (
                RefundTo::Source {
                    charge: charge.to_owned(),
                },
                Some(
                    Refund::of_order(
                        self.id,
                        &self.order_number,
                        self.client_id,
                        gateway,
                        charge,
                        self.total_amount,
                        amount,
                        reason,
                        now,
                    )
                    .from_sub_merchant(self.split.as_ref().map(|s| s.sub_mchid.clone())),
                ),
            ),
            None => (RefundTo::Wallet, None),
        }
    }

    /// The freelancer's share of `released` (if any is left after the fee), waiting out the
    /// order's clearance period.
    fn clearance_of(&self, released: Money, now: DateTime<Utc>) -> Option<Clearance> {
        let (fee, earnings) = self.fee.split(released);
        earnings.is_positive().then(|| {
            Clearance::after(
                self.id,
                self.freelancer_id,
                earnings,
                self.clearance_days,
                now,
            )
            .through(self.split.clone().map(|target| SplitInstruction {
                target,
                commission: fee,
            }))
        })
    }

    /// The client pays from the wallet: the total goes into escrow and work starts; the
    /// delivery deadline counts from now.
    pub fn pay(
        &self,
        who: Party,
        method: &str,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Client)?;
        self.status_in(&[OrderStatus::Pending])?;
        if now >= self.created_at + PAY_WITHIN {
            return Err(OrderRuleError::PaymentExpired);
        }
        let mut o = self.next(EventKind::Paid, Actor::Client, now);
        o.status = OrderStatus::InProgress;
        o.payment_status = PaymentStatus::Paid;
        o.payment_method = Some(method.to_owned());
        o.paid_at = Some(now);
        o.delivery_deadline = now + Duration::days(i64::from(self.package.delivery_days));
        let movement = Movement::escrow_freeze(self.id, self.client_id, self.total_amount)?;
        Ok(Transition {
            movement: Some(movement),
            ..Order::plain(o)
        })
    }

    /// The freelancer hands in work; the client has three days to accept, ask for a revision
    /// or open a dispute before it completes by itself.
    pub fn deliver(&self, who: Party, now: DateTime<Utc>) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Freelancer)?;
        self.status_in(&[OrderStatus::InProgress])?;
        let mut o = self.next(EventKind::Delivered, Actor::Freelancer, now);
        o.status = OrderStatus::Delivered;
        o.delivered_at = Some(now);
        o.first_delivered_at.get_or_insert(now);
        o.deliveries_count += 1;
        // Delivered: a request for more time has nothing left to ask for.
        o.extension = None;
        Ok(Order::plain(o))
    }

    /// The freelancer asks for `days` more (1–30) while working; one request at a time.
    pub fn request_extension(
        &self,
        who: Party,
        days: u32,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Freelancer)?;
        self.status_in(&[OrderStatus::InProgress])?;
        if self.extension.is_some() {
            return Err(OrderRuleError::ExtensionPending);
        }
        if !(1..=MAX_EXTENSION_DAYS).contains(&days) {
            return Err(OrderRuleError::ExtensionDays);
        }
        let mut o = self.next(EventKind::ExtensionRequested, Actor::Freelancer, now);
        o.extension = Some(ExtensionRequest {
            days,
            reason,
            requested_at: now,
        });
        Ok(Order::plain(o))
    }

    /// The client adds a paid extra while the order is open (wallet-paid orders only): its
    /// price joins the escrow and the total (the commission follows the new total); one more
    /// revision, delivery sooner, or a line item.
    pub fn add_extra(
        &self,
        who: Party,
        (kind, description, price): (ExtraKind, String, Money),
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Client)?;
        match kind {
            ExtraKind::Faster { .. } => self.status_in(&[OrderStatus::InProgress])?,
            _ => self.status_in(&[OrderStatus::InProgress, OrderStatus::Delivered])?,
        }
        if self.paid_through().is_some() || self.split.is_some() {
            return Err(OrderRuleError::ExtrasWalletOnly);
        }
        if self.extras.len() >= MAX_EXTRAS {
            return Err(OrderRuleError::TooManyExtras);
        }
        let total = self
            .total_amount
            .checked_add(price)
            .ok_or(OrderRuleError::Money(MovementError::Unbalanced))?;
        let mut o = self.next(EventKind::ExtraAdded, Actor::Client, now);
        match kind {
            ExtraKind::Revision => o.package.revisions += 1,
            ExtraKind::Faster { days } => {
                let sooner = self.delivery_deadline - Duration::days(i64::from(days));
                if days == 0 || sooner < now + Duration::days(1) {
                    return Err(OrderRuleError::TooFast);
                }
                o.delivery_deadline = sooner;
            }
            ExtraKind::Item => {}
        }
        o.total_amount = total;
        (o.platform_fee, o.freelancer_earnings) = o.fee.split(total);
        o.extras.push(Extra {
            kind,
            description,
            price,
            added_at: now,
        });
        let movement = Movement::escrow_extra(self.id, o.extras.len(), self.client_id, price)?;
        Ok(Transition {
            movement: Some(movement),
            ..Order::plain(o)
        })
    }

    /// The client tips the seller once a completed order is done: from the wallet, the
    /// order's commission kept, the rest to the seller at once.
    pub fn give_tip(
        &self,
        who: Party,
        amount: Money,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Client)?;
        self.status_in(&[OrderStatus::Completed])?;
        if self.tip.is_some() {
            return Err(OrderRuleError::AlreadyTipped);
        }
        let movement = Movement::tip(
            self.id,
            (self.client_id, self.freelancer_id),
            amount,
            &self.fee,
        )?;
        let mut o = self.next(EventKind::Tipped, Actor::Client, now);
        o.tip = Some(Tip {
            amount,
            fee: self.fee.split(amount).0,
            at: now,
        });
        Ok(Transition {
            movement: Some(movement),
            ..Order::plain(o)
        })
    }

    /// The client answers the request: accepted, the deadline (and a revision's due time)
    /// moves by its days, and an order marked late that is no longer overdue is on time again;
    /// declined, nothing changes but the request is gone.
    pub fn respond_extension(
        &self,
        who: Party,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Client)?;
        self.status_in(&[OrderStatus::InProgress])?;
        let request = self.extension.as_ref().ok_or(OrderRuleError::NoExtension)?;
        let kind = if accept {
            EventKind::ExtensionAccepted
        } else {
            EventKind::ExtensionDeclined
        };
        let mut o = self.next(kind, Actor::Client, now);
        o.extension = None;
        if accept {
            let more = Duration::days(i64::from(request.days));
            o.delivery_deadline = self.delivery_deadline + more;
            o.revision_due = self.revision_due.map(|d| d + more);
            if o.is_late && now <= o.due() {
                o.is_late = false;
            }
        }
        Ok(Order::plain(o))
    }

    /// The client sends the delivery back, within the package's revision quota.
    pub fn request_revision(
        &self,
        who: Party,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Client)?;
        self.status_in(&[OrderStatus::Delivered])?;
        if self.revisions_used >= self.package.revisions {
            return Err(OrderRuleError::RevisionsExhausted);
        }
        let mut o = self.next(EventKind::RevisionRequested, Actor::Client, now);
        o.status = OrderStatus::InProgress;
        o.revisions_used += 1;
        // The revision is new work the client asked for: it is due a grace period from now,
        // and the order is not late until that passes (whatever the first deadline was).
        let grace = self.package.delivery_days.clamp(1, REVISION_GRACE_MAX_DAYS);
        o.revision_due = Some((now + Duration::days(i64::from(grace))).max(self.delivery_deadline));
        o.is_late = false;
        Ok(Order::plain(o))
    }

    fn complete(&self, by: Actor, now: DateTime<Utc>) -> Result<Transition, OrderRuleError> {
        let mut o = self.next(EventKind::Completed, by, now);
        o.status = OrderStatus::Completed;
        o.completed_at = Some(now);
        o.cancellation = None;
        let movement = Movement::escrow_release(
            self.id,
            (self.client_id, self.freelancer_id),
            self.total_amount,
            &self.fee,
        )?;
        Ok(Transition {
            movement: Some(movement),
            closed: true,
            clearance: self.clearance_of(self.total_amount, now),
            ..Order::plain(o)
        })
    }

    /// The client accepts the delivery: escrow is released.
    pub fn accept(&self, who: Party, now: DateTime<Utc>) -> Result<Transition, OrderRuleError> {
        self.only(who, Party::Client)?;
        self.status_in(&[OrderStatus::Delivered])?;
        self.complete(Actor::Client, now)
    }

    fn cancelled(
        &self,
        by: Actor,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        let mut o = self.next(EventKind::Cancelled, by, now);
        o.status = OrderStatus::Cancelled;
        o.cancelled_at = Some(now);
        o.cancel_reason = Some(reason.to_owned());
        let (movement, refund) = if self.payment_status == PaymentStatus::Paid {
            o.payment_status = PaymentStatus::Refunded;
            let (to, refund) = self.refund_of(self.total_amount, reason, now);
            (
                Some(Movement::escrow_refund(
                    self.id,
                    self.client_id,
                    self.total_amount,
                    &to,
                )?),
                refund,
            )
        } else {
            (None, None)
        };
        Ok(Transition {
            movement,
            closed: true,
            refund,
            ..Order::plain(o)
        })
    }

    /// Cancellation. Unpaid: at once, by either side. Paid: one side asks and the other
    /// confirms (by cancelling too), or the client alone once the order is overdue. A paid
    /// cancellation refunds the escrow to the client.
    pub fn cancel(
        &self,
        who: Party,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        match self.status {
            OrderStatus::Pending => self.cancelled(who.into(), reason, now),
            OrderStatus::InProgress | OrderStatus::Delivered => {
                if who == Party::Client && self.is_overdue(now) {
                    return self.cancelled(who.into(), reason, now);
                }
                match &self.cancellation {
                    Some(c) if c.by != who => self.cancelled(who.into(), reason, now),
                    Some(_) => Err(OrderRuleError::CancellationPending),
                    None => {
                        let mut o = self.next(EventKind::CancellationRequested, who.into(), now);
                        o.cancellation = Some(CancellationRequest {
                            by: who,
                            reason: reason.to_owned(),
                            at: now,
                        });
                        Ok(Order::plain(o))
                    }
                }
            }
            s => Err(OrderRuleError::WrongStatus(s)),
        }
    }

    /// Either side stops the clock and asks an operator to decide.
    pub fn dispute(
        &self,
        who: Party,
        reason: &str,
        (evidence_keys, evidence): (Vec<String>, Vec<super::attachment::Attachment>),
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.status_in(&[OrderStatus::InProgress, OrderStatus::Delivered])?;
        let mut o = self.next(EventKind::Disputed, who.into(), now);
        o.status = OrderStatus::Disputed;
        o.dispute = Some(Dispute {
            by: who,
            reason: reason.to_owned(),
            evidence_keys,
            evidence,
            at: now,
            from: self.status,
        });
        Ok(Order::plain(o))
    }

    /// An operator settles a dispute.
    pub fn resolve(
        &self,
        admin: UserId,
        resolution: Resolution,
        refund: Option<Money>,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Transition, OrderRuleError> {
        self.status_in(&[OrderStatus::Disputed])?;
        let settle = |mut t: Transition, refunded: Money| {
            t.order.last_event = OrderEvent {
                kind: EventKind::Resolved,
                by: Actor::Admin,
                at: now,
            };
            t.order.settlement = Some(Settlement {
                resolution,
                refunded,
                note: note.to_owned(),
                by: admin,
                at: now,
            });
            t
        };
        match resolution {
            Resolution::Refund => {
                let t = self.cancelled(Actor::Admin, note, now)?;
                Ok(settle(t, self.total_amount))
            }
            Resolution::Release => {
                let t = self.complete(Actor::Admin, now)?;
                Ok(settle(t, Money::ZERO))
            }
            Resolution::Split => {
                let refund = refund.ok_or(OrderRuleError::BadRefund)?;
                if !refund.is_positive() || refund >= self.total_amount {
                    return Err(OrderRuleError::BadRefund);
                }
                let mut t = self.complete(Actor::Admin, now)?;
                t.order.payment_status = PaymentStatus::PartiallyRefunded;
                let (to, back) = self.refund_of(refund, note, now);
                t.movement = Some(Movement::escrow_split(
                    self.id,
                    (self.client_id, self.freelancer_id),
                    self.total_amount,
                    refund,
                    &to,
                    &self.fee,
                )?);
                t.refund = back;
                let released = Money::from_fen(self.total_amount.fen() - refund.fen());
                t.clearance = self.clearance_of(released, now);
                Ok(settle(t, refund))
            }
        }
    }

    /// What the timers do to this order at `now`, if it is due.
    pub fn on_timer(&self, now: DateTime<Utc>) -> Result<Transition, OrderRuleError> {
        match self.timer() {
            Some((_, due)) if now < due => Err(OrderRuleError::NotDue),
            Some((TimerKind::AutoCancel, _)) => self.cancelled(
                Actor::System,
                "未在30分钟内付款，订单已自动取消 / Not paid within 30 minutes",
                now,
            ),
            Some((TimerKind::MarkLate, _)) => {
                let mut o = self.next(EventKind::MarkedLate, Actor::System, now);
                o.is_late = true;
                Ok(Order::plain(o))
            }
            Some((TimerKind::AutoComplete, _)) => self.complete(Actor::System, now),
            None => Err(OrderRuleError::NotDue),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{Account, Applied, Book, Bucket};
    use chrono::TimeZone;

    fn order(price: &str, revisions: u32) -> Order {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
        crate::domain::fixtures::order(price, revisions, now)
    }

    fn at(o: &Order, minutes: i64) -> DateTime<Utc> {
        o.created_at + Duration::minutes(minutes)
    }

    #[test]
    fn order_numbers_have_the_seed_format_in_china_time() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 16, 30, 5).unwrap();
        let n = order_number(now, 0);
        assert_eq!(n, "ORD20261125003005AAAAAA");
        assert_eq!(order_number(now, u128::MAX).len(), 23);
        assert!(
            order_number(now, 123_456_789)[17..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
    }

    #[test]
    fn the_happy_path_moves_money_once_and_to_the_fen() {
        let o = order("199.00", 1);
        let mut book = Book::default();
        book.apply(&Movement::deposit(o.client_id, Money::from_fen(50_000), "seed").unwrap());
        let paid = o.pay(Party::Client, "wallet", at(&o, 5)).unwrap();
        assert_eq!(paid.order.status, OrderStatus::InProgress);
        assert_eq!(paid.order.delivery_deadline, at(&o, 5) + Duration::days(3));
        assert_eq!(book.apply(paid.movement.as_ref().unwrap()), Applied::Done);
        let o = paid.order;
        let d = o.deliver(Party::Freelancer, at(&o, 60)).unwrap().order;
        let r = d.request_revision(Party::Client, at(&o, 70)).unwrap().order;
        assert_eq!(r.status, OrderStatus::InProgress);
        let d2 = r.deliver(Party::Freelancer, at(&o, 80)).unwrap().order;
        assert_eq!(
            d2.request_revision(Party::Client, at(&o, 90)),
            Err(OrderRuleError::RevisionsExhausted)
        );
        let done = d2.accept(Party::Client, at(&o, 90)).unwrap();
        assert!(done.closed);
        assert_eq!(book.apply(done.movement.as_ref().unwrap()), Applied::Done);
        let c = book.wallets[&Account::User(o.client_id)];
        let f = book.wallets[&Account::User(o.freelancer_id)];
        assert_eq!(
            (c.available_fen, c.frozen_fen, c.total_spent_fen),
            (30_100, 0, 19_900)
        );
        // The earnings wait out the clearance period before they can be withdrawn.
        assert_eq!(
            (f.available_fen, f.pending_fen, f.total_earned_fen),
            (0, 15_920, 15_920)
        );
        let c = done.clearance.expect("earnings to clear");
        assert_eq!(c.amount, Money::from_fen(15_920));
        assert_eq!(c.clears_at, at(&o, 90) + Duration::days(14));
        assert_eq!(done.refund, None);
        assert_eq!(d2.version, 5);
    }

    #[test]
    fn a_gateway_paid_order_is_refunded_to_its_source_and_a_split_clears_the_rest() {
        use crate::domain::ledger::PlatformAccount;
        let o = order("399.00", 1);
        let mut paid = o.pay(Party::Client, "alipay", at(&o, 5)).unwrap().order;
        paid.payment_reference = Some("GB20261124160500ABCDEFGHIJ".into());
        // Both agree to cancel: the whole escrow goes back through Alipay, not the wallet.
        let asked = paid
            .cancel(Party::Client, "不需要了", at(&o, 10))
            .unwrap()
            .order;
        let t = asked.cancel(Party::Freelancer, "同意", at(&o, 11)).unwrap();
        let r = t.refund.expect("a refund to the source");
        assert_eq!(
            (r.gateway, r.amount),
            (Gateway::Alipay, Money::from_fen(39_900))
        );
        assert_eq!(r.out_trade_no, "GB20261124160500ABCDEFGHIJ");
        assert_eq!(r.refund_no, format!("RF{}", &o.order_number[3..]));
        let d = t.movement.unwrap().deltas();
        assert_eq!(d[&Account::User(o.client_id)].get(&Bucket::Available), None);
        let clearing = Account::platform(PlatformAccount::Clearing, "GB20261124160500ABCDEFGHIJ");
        assert_eq!(d[&clearing][&Bucket::Available], 39_900);
        // Disputed and split 60/40: 40 % back to the source, 60 % less the fee to clear.
        let disputed = paid
            .dispute(Party::Client, "质量", (vec![], vec![]), at(&o, 20))
            .unwrap()
            .order;
        let s = disputed
            .resolve(
                UserId::new(),
                Resolution::Split,
                Some(Money::from_fen(15_960)),
                "六四",
                at(&o, 30),
            )
            .unwrap();
        assert_eq!(s.refund.unwrap().amount, Money::from_fen(15_960));
        let c = s.clearance.unwrap();
        // 239.40 released: fee 47.88, earnings 191.52.
        assert_eq!(c.amount, Money::from_fen(19_152));
        assert_eq!(c.clears_at, at(&o, 30) + Duration::days(14));
        // Paid from the wallet: back to the wallet, no gateway refund.
        let w = o.pay(Party::Client, "wallet", at(&o, 5)).unwrap().order;
        let w = w.cancel(Party::Client, "x", at(&o, 6)).unwrap().order;
        let t = w.cancel(Party::Freelancer, "y", at(&o, 7)).unwrap();
        assert_eq!(t.refund, None);
        assert_eq!(
            t.movement.unwrap().deltas()[&Account::User(o.client_id)][&Bucket::Available],
            39_900
        );
    }

    #[test]
    fn each_transition_belongs_to_one_party_and_some_statuses() {
        let o = order("50.00", 0);
        let now = at(&o, 1);
        assert_eq!(
            o.pay(Party::Freelancer, "wallet", now),
            Err(OrderRuleError::WrongParty(Party::Client))
        );
        assert_eq!(
            o.deliver(Party::Freelancer, now),
            Err(OrderRuleError::WrongStatus(OrderStatus::Pending))
        );
        assert_eq!(
            o.accept(Party::Client, now),
            Err(OrderRuleError::WrongStatus(OrderStatus::Pending))
        );
        assert_eq!(
            o.pay(Party::Client, "wallet", at(&o, 30)),
            Err(OrderRuleError::PaymentExpired)
        );
        let p = o.pay(Party::Client, "wallet", now).unwrap().order;
        assert_eq!(
            p.deliver(Party::Client, now),
            Err(OrderRuleError::WrongParty(Party::Freelancer))
        );
        let d = p.deliver(Party::Freelancer, now).unwrap().order;
        assert_eq!(
            d.accept(Party::Freelancer, now),
            Err(OrderRuleError::WrongParty(Party::Client))
        );
        assert_eq!(
            d.request_revision(Party::Client, now),
            Err(OrderRuleError::RevisionsExhausted)
        );
        let done = d.accept(Party::Client, now).unwrap().order;
        for r in [
            done.cancel(Party::Client, "x", now),
            done.dispute(Party::Client, "x", (vec![], vec![]), now),
            done.accept(Party::Client, now),
        ] {
            assert_eq!(r, Err(OrderRuleError::WrongStatus(OrderStatus::Completed)));
        }
    }

    #[test]
    fn a_paid_cancellation_needs_both_sides_or_a_late_order() {
        let o = order("100.00", 1);
        let unpaid = o.cancel(Party::Freelancer, "busy", at(&o, 1)).unwrap();
        assert!(unpaid.closed && unpaid.movement.is_none());

        let p = o.pay(Party::Client, "wallet", at(&o, 1)).unwrap().order;
        let asked = p
            .cancel(Party::Client, "changed my mind", at(&o, 2))
            .unwrap();
        assert!(!asked.closed && asked.movement.is_none());
        assert_eq!(asked.order.status, OrderStatus::InProgress);
        assert_eq!(
            asked.order.cancel(Party::Client, "again", at(&o, 3)),
            Err(OrderRuleError::CancellationPending)
        );
        let agreed = asked
            .order
            .cancel(Party::Freelancer, "ok", at(&o, 4))
            .unwrap();
        assert_eq!(agreed.order.status, OrderStatus::Cancelled);
        assert_eq!(agreed.order.payment_status, PaymentStatus::Refunded);
        assert_eq!(agreed.movement.unwrap().id, format!("refund:{}", o.id));

        // Overdue: the client alone.
        let late = p
            .on_timer(p.delivery_deadline + Duration::minutes(1))
            .unwrap()
            .order;
        assert!(late.is_late);
        assert_eq!(late.timer(), None);
        let gone = late.cancel(Party::Client, "too late", at(&o, 10)).unwrap();
        assert_eq!(gone.order.status, OrderStatus::Cancelled);
        // …but not the freelancer alone.
        let ask = late.cancel(Party::Freelancer, "sorry", at(&o, 10)).unwrap();
        assert_eq!(ask.order.status, OrderStatus::InProgress);
    }

    /// Delivered on time, sent back for a revision after the deadline: the freelancer gets
    /// the grace period, the order is not late, and the client cannot cancel alone with a
    /// full refund until the revision itself is overdue.
    #[test]
    fn a_revision_asked_after_the_deadline_does_not_make_on_time_work_late() {
        // GIVEN a 3-day order delivered on day 2
        let o = order("100.00", 2);
        let paid = o.pay(Party::Client, "wallet", at(&o, 1)).unwrap().order;
        let deadline = paid.delivery_deadline;
        let delivered = paid
            .deliver(Party::Freelancer, deadline - Duration::days(1))
            .unwrap()
            .order;
        assert!(delivered.delivered_on_time());
        // WHEN the client asks for a revision two days after the deadline
        let asked_at = deadline + Duration::days(2);
        let revising = delivered
            .request_revision(Party::Client, asked_at)
            .unwrap()
            .order;
        // THEN the revision is due 3 days (the package's delivery days) later
        let due = asked_at + Duration::days(3);
        assert_eq!(revising.due(), due);
        assert_eq!(revising.timer(), Some((TimerKind::MarkLate, due)));
        assert!(!revising.is_overdue(asked_at + Duration::minutes(1)));
        assert_eq!(
            revising.on_timer(asked_at + Duration::minutes(1)),
            Err(OrderRuleError::NotDue)
        );
        // …a cancellation by the client is only a request the freelancer must agree to
        let ask = revising
            .cancel(Party::Client, "too slow", asked_at + Duration::hours(1))
            .unwrap();
        assert_eq!(ask.order.status, OrderStatus::InProgress);
        assert!(ask.movement.is_none());
        // …and only once the revision is overdue may the client cancel alone
        let late = revising.on_timer(due + Duration::minutes(1)).unwrap().order;
        assert!(late.is_late);
        let gone = late
            .cancel(Party::Client, "too late", due + Duration::hours(1))
            .unwrap();
        assert_eq!(gone.order.status, OrderStatus::Cancelled);
    }

    #[test]
    fn extras_join_the_escrow_and_a_tip_pays_the_seller_once_to_the_fen() {
        let bal =
            |book: &Book, a: Account, b: Bucket| book.wallets.get(&a).map_or(0, |w| w.bucket(b));
        let o = order("2600.00", 2);
        let mut book = Book::default();
        book.apply(&Movement::deposit(o.client_id, Money::from_fen(300_000), "seed").unwrap());
        let paid = o.pay(Party::Client, "wallet", at(&o, 1)).unwrap();
        book.apply(paid.movement.as_ref().unwrap());
        let o = paid.order;
        let deadline = o.delivery_deadline;
        // Only the client adds extras; a line item, one more revision, two days sooner.
        assert_eq!(
            o.add_extra(
                Party::Freelancer,
                (ExtraKind::Item, "x".into(), Money::from_fen(100)),
                at(&o, 2)
            ),
            Err(OrderRuleError::WrongParty(Party::Client))
        );
        let item = o
            .add_extra(
                Party::Client,
                (
                    ExtraKind::Item,
                    "门头效果图".into(),
                    Money::from_fen(20_000),
                ),
                at(&o, 2),
            )
            .unwrap();
        assert_eq!(
            item.movement.as_ref().unwrap().id,
            format!("extra:{}:1", o.id)
        );
        assert_eq!(book.apply(item.movement.as_ref().unwrap()), Applied::Done);
        let o = item.order;
        assert_eq!(o.total_amount.fen(), 280_000);
        assert_eq!(o.platform_fee.fen() + o.freelancer_earnings.fen(), 280_000);
        let o = o
            .add_extra(
                Party::Client,
                (
                    ExtraKind::Revision,
                    "再改一次".into(),
                    Money::from_fen(5_000),
                ),
                at(&o, 3),
            )
            .unwrap();
        book.apply(o.movement.as_ref().unwrap());
        let o = o.order;
        assert_eq!(o.package.revisions, 3);
        let o = o
            .add_extra(
                Party::Client,
                (
                    ExtraKind::Faster { days: 1 },
                    "加急".into(),
                    Money::from_fen(5_000),
                ),
                at(&o, 4),
            )
            .unwrap();
        book.apply(o.movement.as_ref().unwrap());
        let o = o.order;
        assert_eq!(o.delivery_deadline, deadline - Duration::days(1));
        assert_eq!(
            o.add_extra(
                Party::Client,
                (
                    ExtraKind::Faster { days: 30 },
                    "太快".into(),
                    Money::from_fen(100)
                ),
                at(&o, 5)
            ),
            Err(OrderRuleError::TooFast)
        );
        // Everything frozen is released at completion: 2,900.00 in all.
        let client = Account::User(o.client_id);
        assert_eq!(bal(&book, client, Bucket::Frozen), 290_000);
        let d = o.deliver(Party::Freelancer, at(&o, 60)).unwrap().order;
        let done = d.accept(Party::Client, at(&o, 70)).unwrap();
        book.apply(done.movement.as_ref().unwrap());
        assert_eq!(bal(&book, client, Bucket::Frozen), 0);
        assert_eq!(
            bal(
                &book,
                Account::User(o.freelancer_id),
                Bucket::PendingClearance
            ),
            done.order.freelancer_earnings.fen()
        );
        // A tip: once, from the wallet, the commission kept, the rest available at once.
        let done = done.order;
        let tip = done
            .give_tip(Party::Client, Money::from_fen(5_000), at(&o, 80))
            .unwrap();
        assert_eq!(book.apply(tip.movement.as_ref().unwrap()), Applied::Done);
        let t = tip.order.tip.clone().unwrap();
        assert_eq!(
            bal(&book, Account::User(o.freelancer_id), Bucket::Available),
            5_000 - t.fee.fen()
        );
        assert_eq!(
            bal(&book, client, Bucket::Available),
            300_000 - 290_000 - 5_000
        );
        assert_eq!(
            tip.order
                .give_tip(Party::Client, Money::from_fen(5_000), at(&o, 81)),
            Err(OrderRuleError::AlreadyTipped)
        );
        assert_eq!(book.lines.iter().map(|p| p.amount_fen).sum::<i64>(), 0);
    }

    #[test]
    fn an_extension_the_client_accepts_moves_the_deadline_and_the_late_timer() {
        let o = order("100.00", 1);
        let paid = o.pay(Party::Client, "wallet", at(&o, 1)).unwrap().order;
        let deadline = paid.delivery_deadline;
        // Only the freelancer asks, 1–30 days, one request at a time.
        assert_eq!(
            paid.request_extension(Party::Client, 3, "x".into(), at(&o, 2)),
            Err(OrderRuleError::WrongParty(Party::Freelancer))
        );
        assert_eq!(
            paid.request_extension(Party::Freelancer, 31, "x".into(), at(&o, 2)),
            Err(OrderRuleError::ExtensionDays)
        );
        let asked = paid
            .request_extension(Party::Freelancer, 3, "需要实地拍照".into(), at(&o, 2))
            .unwrap()
            .order;
        assert_eq!(asked.last_event.kind, EventKind::ExtensionRequested);
        assert_eq!(
            asked.request_extension(Party::Freelancer, 2, "x".into(), at(&o, 3)),
            Err(OrderRuleError::ExtensionPending)
        );
        assert_eq!(
            asked.respond_extension(Party::Freelancer, true, at(&o, 3)),
            Err(OrderRuleError::WrongParty(Party::Client))
        );
        // Declined: nothing moves, and the freelancer may ask again.
        let declined = asked
            .respond_extension(Party::Client, false, at(&o, 3))
            .unwrap()
            .order;
        assert_eq!(
            (declined.delivery_deadline, declined.extension.clone()),
            (deadline, None)
        );
        assert_eq!(
            declined.respond_extension(Party::Client, true, at(&o, 4)),
            Err(OrderRuleError::NoExtension)
        );
        // Marked late, then given 3 more days: on time again, the timer at the new deadline.
        let late = declined
            .on_timer(deadline + Duration::minutes(1))
            .unwrap()
            .order;
        assert!(late.is_late);
        let asked = late
            .request_extension(
                Party::Freelancer,
                3,
                "需要实地拍照".into(),
                deadline + Duration::hours(1),
            )
            .unwrap()
            .order;
        let given = asked
            .respond_extension(Party::Client, true, deadline + Duration::hours(2))
            .unwrap()
            .order;
        assert_eq!(given.delivery_deadline, deadline + Duration::days(3));
        assert!(!given.is_late);
        assert_eq!(
            given.timer(),
            Some((TimerKind::MarkLate, deadline + Duration::days(3)))
        );
        // Delivering drops a request still waiting.
        let waiting = given
            .request_extension(
                Party::Freelancer,
                2,
                "再多两天".into(),
                deadline + Duration::hours(3),
            )
            .unwrap()
            .order;
        let delivered = waiting
            .deliver(Party::Freelancer, deadline + Duration::hours(4))
            .unwrap()
            .order;
        assert_eq!(delivered.extension, None);
    }

    #[test]
    fn a_revision_asked_well_before_the_deadline_keeps_the_deadline() {
        let o = order("100.00", 2);
        let mut pkg = o.clone();
        pkg.package.delivery_days = 10;
        let paid = pkg.pay(Party::Client, "wallet", at(&o, 1)).unwrap().order;
        let delivered = paid.deliver(Party::Freelancer, at(&o, 60)).unwrap().order;
        let revising = delivered
            .request_revision(Party::Client, at(&o, 120))
            .unwrap()
            .order;
        // 10-day package: the grace is capped at 3 days, well inside the deadline
        assert_eq!(revising.due(), paid.delivery_deadline);
    }

    #[test]
    fn timers_fire_only_when_due() {
        let o = order("20.00", 0);
        assert_eq!(o.timer(), Some((TimerKind::AutoCancel, at(&o, 30))));
        assert_eq!(o.on_timer(at(&o, 29)), Err(OrderRuleError::NotDue));
        let c = o.on_timer(at(&o, 30)).unwrap();
        assert_eq!(c.order.status, OrderStatus::Cancelled);
        assert_eq!(c.order.last_event.by, Actor::System);
        assert_eq!(c.order.timer(), None);

        let d = o
            .pay(Party::Client, "wallet", at(&o, 1))
            .unwrap()
            .order
            .deliver(Party::Freelancer, at(&o, 2))
            .unwrap()
            .order;
        let due = at(&o, 2) + AUTO_COMPLETE_AFTER;
        assert_eq!(d.timer(), Some((TimerKind::AutoComplete, due)));
        assert_eq!(
            d.on_timer(due - Duration::seconds(1)),
            Err(OrderRuleError::NotDue)
        );
        let done = d.on_timer(due).unwrap();
        assert_eq!(done.order.status, OrderStatus::Completed);
        assert!(done.movement.is_some());
        // A dispute stops every clock.
        let disputed = d
            .dispute(
                Party::Client,
                "not what I asked",
                (vec![], vec![]),
                at(&o, 3),
            )
            .unwrap();
        assert_eq!(disputed.order.timer(), None);
        assert_eq!(
            disputed.order.dispute.as_ref().unwrap().from,
            OrderStatus::Delivered
        );
    }

    #[test]
    fn an_operator_settles_a_dispute_three_ways() {
        let o = order("199.00", 0);
        let d = o
            .pay(Party::Client, "wallet", at(&o, 1))
            .unwrap()
            .order
            .dispute(Party::Freelancer, "no reply", (vec![], vec![]), at(&o, 2))
            .unwrap()
            .order;
        let admin = UserId::new();
        let now = at(&o, 3);
        let r = d
            .resolve(admin, Resolution::Refund, None, "n", now)
            .unwrap();
        assert_eq!(
            (r.order.status, r.order.payment_status),
            (OrderStatus::Cancelled, PaymentStatus::Refunded)
        );
        let r = d
            .resolve(admin, Resolution::Release, None, "n", now)
            .unwrap();
        assert_eq!(r.order.status, OrderStatus::Completed);
        let r = d
            .resolve(
                admin,
                Resolution::Split,
                Some(Money::from_fen(9_900)),
                "n",
                now,
            )
            .unwrap();
        assert_eq!(r.order.payment_status, PaymentStatus::PartiallyRefunded);
        assert_eq!(
            r.order.settlement.as_ref().unwrap().refunded,
            Money::from_fen(9_900)
        );
        let m = r.movement.unwrap();
        assert_eq!(
            m.deltas()[&Account::User(o.client_id)][&Bucket::Available],
            9_900
        );
        for bad in [None, Some(Money::ZERO), Some(Money::from_fen(19_900))] {
            assert_eq!(
                d.resolve(admin, Resolution::Split, bad, "n", now),
                Err(OrderRuleError::BadRefund)
            );
        }
        assert_eq!(
            o.resolve(admin, Resolution::Refund, None, "n", now),
            Err(OrderRuleError::WrongStatus(OrderStatus::Pending))
        );
    }
}
