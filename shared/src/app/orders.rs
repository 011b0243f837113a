//! Orders: place, pay, deliver, revise, accept, cancel, dispute, settle, and the timers.
//!
//! Every change reads the order, asks the domain for the next state and the money that goes
//! with it, and writes both in one transaction conditional on the version read. A racing
//! change makes the write fail; the use case reads again and decides again, so the second of
//! two accepts sees a completed order and is refused.

use chrono::{DateTime, Utc};

use super::services::Viewer;
use crate::domain::file::{Purpose, StoredFile};
use crate::domain::ledger::Account;
use crate::domain::order::{
    Order, OrderRuleError, OrderStatus, Party, Resolution, TimerKind, Transition,
};
use crate::domain::service::{ServiceStatus, Tier};
use crate::domain::{Money, OrderId, ServiceId, User, UserId, UserType};
use crate::payments::Gateways;
use crate::store::{
    AuditRecord, IdempotencyRecord, ListError, OrderListing, OrderStep, Page, Replay, StepKind,
    Store, StoreError, TransitionRefusal,
};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("no such order")]
    NotFound,
    #[error("no such service")]
    ServiceNotFound,
    #[error("the service has no {0:?} package")]
    NoSuchPackage(Tier),
    #[error("a freelancer cannot order their own service")]
    OwnService,
    #[error("operators do not buy")]
    AdminCannotOrder,
    #[error(transparent)]
    Rule(#[from] OrderRuleError),
    #[error("not enough money in the wallet")]
    InsufficientFunds,
    #[error("the order kept changing")]
    Busy,
    #[error("the idempotency key was used for another request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    File(#[from] super::files::FileError),
}

/// An `Idempotency-Key` with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// The outcome of a keyed request: done now, or done before (answer as then).
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Replayed { status: u16, response: String },
}

/// Renders the answer an idempotency record keeps (the API's view of the order).
pub type Render<'a> = &'a (dyn Fn(&Order) -> String + Send + Sync);

async fn replay(
    store: &Store,
    user: &User,
    scope: &str,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<Option<(u16, String)>, OrderError> {
    let Some(k) = key else { return Ok(None) };
    match store.idempotency(user.id, scope, &k.key, now).await? {
        None => Ok(None),
        Some(r) => match r.replay(&k.request_hash) {
            Replay::Same { status, response } => Ok(Some((status, response))),
            Replay::Mismatch => Err(OrderError::KeyReused),
        },
    }
}

/// `order-create`: an unpaid order for one package, with the package's terms copied.
#[allow(clippy::too_many_arguments)]
pub async fn place(
    store: &Store,
    clearance: &crate::domain::clearance::ClearancePolicy,
    user: &User,
    service_id: ServiceId,
    tier: Tier,
    requirements: String,
    key: Option<&IdempotencyKey>,
    render: Render<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<Order>, OrderError> {
    const SCOPE: &str = "order-create";
    if let Some((status, response)) = replay(store, user, SCOPE, key, now).await? {
        return Ok(Outcome::Replayed { status, response });
    }
    if user.user_type == UserType::Admin {
        return Err(OrderError::AdminCannotOrder);
    }
    let service = store
        .get_service(service_id, false)
        .await?
        .filter(|s| s.status == ServiceStatus::Active)
        .ok_or(OrderError::ServiceNotFound)?;
    if service.freelancer_id == user.id {
        return Err(OrderError::OwnService);
    }
    let package = service
        .content
        .packages
        .get(tier)
        .ok_or(OrderError::NoSuchPackage(tier))?;
    let days = clearance.days_for(service.seller_level);
    let fee = store.fee_rules().await?.rules.terms_for(
        &service.content.category.slug,
        &service.content.parent_category.slug,
        service.seller_level,
        now,
    );
    let order = Order::place(
        user,
        &service,
        tier,
        package,
        requirements,
        (fee, days),
        now,
    );
    let record = key.map(|k| {
        IdempotencyRecord::new(
            user.id,
            SCOPE,
            &k.key,
            k.request_hash.clone(),
            201,
            render(&order),
            now,
        )
    });
    let op = record
        .as_ref()
        .map(|r| store.idempotency_op(r))
        .transpose()?;
    match store.create_order(&order, op, vec![]).await? {
        Ok(()) => Ok(Outcome::Done(order)),
        Err(TransitionRefusal::ServiceUnavailable) => Err(OrderError::ServiceNotFound),
        // A twin request with the same key won the race: answer what it answered.
        Err(_) => match replay(store, user, SCOPE, key, now).await? {
            Some((status, response)) => Ok(Outcome::Replayed { status, response }),
            None => Err(OrderError::Busy),
        },
    }
}

/// The order if `viewer` is one of its parties or an operator.
pub async fn get(store: &Store, viewer: Viewer, id: OrderId) -> Result<Order, OrderError> {
    let order = store
        .get_order(id, false)
        .await?
        .ok_or(OrderError::NotFound)?;
    if viewer.is_admin || order.party_of(viewer.user_id).is_some() {
        Ok(order)
    } else {
        Err(OrderError::NotFound)
    }
}

/// The refunds of an order to its client's original payment (none while it is unpaid: a
/// payment arriving for an order is refunded only once the order cannot take it).
pub async fn refunds_of(
    store: &Store,
    order: &Order,
) -> Result<Vec<crate::domain::refund::Refund>, OrderError> {
    if order.status == crate::domain::order::OrderStatus::Pending {
        return Ok(Vec::new());
    }
    Ok(store.order_refunds(order.id).await?)
}

/// Extra items written with a transition (a delivery, an audit entry, an idempotency record).
type Extras<'a> =
    Box<dyn Fn(&Transition) -> Result<Vec<crate::store::TxWrite>, StoreError> + Send + Sync + 'a>;

fn no_extras<'a>() -> Extras<'a> {
    Box::new(|_| Ok(vec![]))
}

/// Runs `rule` for `viewer` on the order until it is written or refused.
async fn change<F>(
    store: &Store,
    viewer: Viewer,
    id: OrderId,
    now: DateTime<Utc>,
    extras: Extras<'_>,
    rule: F,
) -> Result<Transition, OrderError>
where
    F: Fn(&Order, Option<Party>) -> Result<Transition, OrderError>,
{
    let mut tries = super::Tries::new();
    while tries.next().await {
        let order = store
            .get_order(id, true)
            .await?
            .ok_or(OrderError::NotFound)?;
        let party = order.party_of(viewer.user_id);
        if party.is_none() && !viewer.is_admin {
            return Err(OrderError::NotFound);
        }
        let t = rule(&order, party)?;
        match store
            .write_transition(&t, order.version, extras(&t)?, now)
            .await?
        {
            Ok(()) => return Ok(t),
            Err(TransitionRefusal::Stale) => continue,
            Err(TransitionRefusal::Insufficient(Account::User(_))) => {
                return Err(OrderError::InsufficientFunds);
            }
            Err(TransitionRefusal::KeyUsed) => return Err(OrderError::KeyReused),
            Err(other) => {
                return Err(OrderError::Store(StoreError::Decode(format!(
                    "order {id}: transition refused: {other:?}"
                ))));
            }
        }
    }
    Err(OrderError::Busy)
}

/// The party `viewer` plays, or "not found" for operators acting as a party.
fn as_party(p: Option<Party>) -> Result<Party, OrderError> {
    p.ok_or(OrderError::NotFound)
}

/// `order-pay` with the wallet: the total moves from available to frozen and work starts.
pub async fn pay_from_wallet(
    store: &Store,
    user: &User,
    id: OrderId,
    key: Option<&IdempotencyKey>,
    render: Render<'_>,
    now: DateTime<Utc>,
) -> Result<Outcome<Order>, OrderError> {
    const SCOPE: &str = "order-pay";
    if let Some((status, response)) = replay(store, user, SCOPE, key, now).await? {
        return Ok(Outcome::Replayed { status, response });
    }
    let uid = user.id;
    let extras: Extras<'_> = Box::new(move |t: &Transition| {
        key.map(|k| {
            store.idempotency_op(&IdempotencyRecord::new(
                uid,
                SCOPE,
                &k.key,
                k.request_hash.clone(),
                200,
                render(&t.order),
                now,
            ))
        })
        .into_iter()
        .collect()
    });
    let result = change(store, Viewer::of(user), id, now, extras, |o, p| {
        Ok(o.pay(as_party(p)?, "wallet", now)?)
    })
    .await;
    match result {
        Ok(t) => Ok(Outcome::Done(t.order)),
        Err(OrderError::KeyReused) => match replay(store, user, SCOPE, key, now).await? {
            Some((status, response)) => Ok(Outcome::Replayed { status, response }),
            None => Err(OrderError::Busy),
        },
        Err(e) => Err(e),
    }
}

/// A transition that records a step (a delivery or a revision request) in its transaction,
/// with its checked files marked attached.
async fn change_with_step<F>(
    store: &Store,
    user: &User,
    id: OrderId,
    (kind, message, file_keys, files): (StepKind, String, Vec<String>, Vec<StoredFile>),
    now: DateTime<Utc>,
    rule: F,
) -> Result<(Order, OrderStep), OrderError>
where
    F: Fn(&Order, Option<Party>) -> Result<Transition, OrderError>,
{
    let uid = user.id;
    let step = std::sync::Mutex::new(None);
    let attachments: Vec<_> = files.iter().filter_map(StoredFile::attachment).collect();
    let extras: Extras<'_> = Box::new(|t: &Transition| {
        let number = match kind {
            StepKind::Delivery => t.order.deliveries_count,
            StepKind::Revision => t.order.revisions_used,
        };
        let s = OrderStep::new(
            t.order.id,
            kind,
            uid,
            number,
            message.clone(),
            (file_keys.clone(), attachments.clone()),
            now,
        );
        let mut ops = vec![store.order_step_op(&s)?];
        for f in &files {
            ops.push(store.file_attached_op(f.id, now)?);
        }
        if let Ok(mut slot) = step.lock() {
            *slot = Some(s);
        }
        Ok(ops)
    });
    let t = change(store, Viewer::of(user), id, now, extras, rule).await?;
    let step = step
        .into_inner()
        .ok()
        .flatten()
        .ok_or_else(|| StoreError::Decode("order step not recorded".into()))?;
    Ok((t.order, step))
}

/// The caller's checked files of `purpose` on order `id` behind `keys` (the order is looked
/// up first, so a stranger is told it does not exist rather than that the files are not
/// theirs).
async fn order_files(
    store: &Store,
    user: &User,
    id: OrderId,
    purpose: Purpose,
    keys: &[String],
) -> Result<Vec<StoredFile>, OrderError> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    get(store, Viewer::of(user), id).await?;
    Ok(super::files::ready_files(store, user.id, Some(id), purpose, keys).await?)
}

/// `order-deliver`: the freelancer hands in a message and files.
pub async fn deliver(
    store: &Store,
    user: &User,
    id: OrderId,
    message: String,
    file_keys: Vec<String>,
    now: DateTime<Utc>,
) -> Result<(Order, OrderStep), OrderError> {
    let files = order_files(store, user, id, Purpose::Delivery, &file_keys).await?;
    change_with_step(
        store,
        user,
        id,
        (StepKind::Delivery, message, file_keys, files),
        now,
        |o, p| Ok(o.deliver(as_party(p)?, now)?),
    )
    .await
}

/// `order-revision-request`: the client sends the delivery back with what to change.
pub async fn request_revision(
    store: &Store,
    user: &User,
    id: OrderId,
    message: String,
    now: DateTime<Utc>,
) -> Result<(Order, OrderStep), OrderError> {
    change_with_step(
        store,
        user,
        id,
        (StepKind::Revision, message, vec![], vec![]),
        now,
        |o, p| Ok(o.request_revision(as_party(p)?, now)?),
    )
    .await
}

/// `order-accept`: the client accepts; escrow is released.
pub async fn accept(
    store: &Store,
    user: &User,
    id: OrderId,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let t = change(store, Viewer::of(user), id, now, no_extras(), |o, p| {
        Ok(o.accept(as_party(p)?, now)?)
    })
    .await?;
    Ok(t.order)
}

/// `order-extension-request`: the freelancer asks the client for `days` more.
pub async fn request_extension(
    store: &Store,
    user: &User,
    id: OrderId,
    (days, reason): (u32, String),
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let t = change(store, Viewer::of(user), id, now, no_extras(), |o, p| {
        Ok(o.request_extension(as_party(p)?, days, reason.clone(), now)?)
    })
    .await?;
    Ok(t.order)
}

/// `order-extension-respond`: the client accepts (the deadline moves) or declines.
pub async fn respond_extension(
    store: &Store,
    user: &User,
    id: OrderId,
    accept: bool,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let t = change(store, Viewer::of(user), id, now, no_extras(), |o, p| {
        Ok(o.respond_extension(as_party(p)?, accept, now)?)
    })
    .await?;
    Ok(t.order)
}

/// The commission and clearance days an order at custom terms (from a proposal or an offer)
/// freezes for `seller`, in `category` (a subcategory and its parent; empty: none), read
/// now. `None` when the seller can no longer take orders.
pub(crate) async fn custom_order_terms(
    store: &Store,
    clearance: &crate::domain::clearance::ClearancePolicy,
    seller: UserId,
    (category, parent): (&str, &str),
    now: DateTime<Utc>,
) -> Result<Option<(crate::domain::fee::FeeTerms, u32)>, StoreError> {
    let Some(seller) = store
        .get_user(seller)
        .await?
        .filter(|u| u.is_active() && u.is_seller())
    else {
        return Ok(None);
    };
    let level = seller
        .freelancer_profile
        .as_ref()
        .map(|p| p.seller_level)
        .unwrap_or_default();
    let fee = store
        .fee_rules()
        .await?
        .rules
        .terms_for(category, parent, level, now);
    Ok(Some((fee, clearance.days_for(level))))
}

/// `order-extra-add`: the client pays an extra into the order's escrow from the wallet.
pub async fn add_extra(
    store: &Store,
    user: &User,
    id: OrderId,
    extra: (crate::domain::order::ExtraKind, String, Money),
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let t = change(store, Viewer::of(user), id, now, no_extras(), |o, p| {
        Ok(o.add_extra(as_party(p)?, extra.clone(), now)?)
    })
    .await?;
    Ok(t.order)
}

/// `order-tip`: the client tips the seller of a completed order, once, from the wallet.
pub async fn tip(
    store: &Store,
    user: &User,
    id: OrderId,
    amount: Money,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let t = change(store, Viewer::of(user), id, now, no_extras(), |o, p| {
        Ok(o.give_tip(as_party(p)?, amount, now)?)
    })
    .await?;
    Ok(t.order)
}

/// `order-cancel`: at once when unpaid; when paid, a request the other side confirms (or
/// the client alone once the order is overdue).
/// A paid order paid through a gateway is refunded to it: the gateway is asked at once.
pub async fn cancel(
    store: &Store,
    gateways: &Gateways,
    user: &User,
    id: OrderId,
    reason: String,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let t = change(store, Viewer::of(user), id, now, no_extras(), |o, p| {
        Ok(o.cancel(as_party(p)?, &reason, now)?)
    })
    .await?;
    refund_now(store, gateways, &t).await;
    Ok(t.order)
}

/// Asks the gateway for the refund a transition decided, if any.
async fn refund_now(store: &Store, gateways: &Gateways, t: &Transition) {
    if let Some(r) = &t.refund {
        super::refunds::push_quietly(store, gateways, &r.refund_no).await;
    }
}

/// `order-dispute`: either side stops the order for an operator.
pub async fn dispute(
    store: &Store,
    user: &User,
    id: OrderId,
    reason: String,
    evidence_keys: Vec<String>,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let files = order_files(store, user, id, Purpose::Evidence, &evidence_keys).await?;
    let evidence: Vec<_> = files.iter().filter_map(StoredFile::attachment).collect();
    let attach: Extras<'_> = Box::new(|_: &Transition| {
        files
            .iter()
            .map(|f| store.file_attached_op(f.id, now))
            .collect()
    });
    let t = change(store, Viewer::of(user), id, now, attach, |o, p| {
        Ok(o.dispute(
            as_party(p)?,
            &reason,
            (evidence_keys.clone(), evidence.clone()),
            now,
        )?)
    })
    .await?;
    Ok(t.order)
}

/// `admin-order-resolve`: an operator settles a dispute, with an audit entry.
#[allow(clippy::too_many_arguments)]
pub async fn resolve(
    store: &Store,
    gateways: &Gateways,
    admin: &User,
    id: OrderId,
    resolution: Resolution,
    refund: Option<Money>,
    note: String,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let admin_id = admin.id;
    let table = store.table().to_owned();
    let audit_note = note.clone();
    let extras: Extras<'_> = Box::new(move |t: &Transition| {
        let record = AuditRecord::new(
            admin_id,
            "order.resolve",
            "order",
            &t.order.id.to_string(),
            Some(&audit_note),
            serde_json::json!({
                "resolution": resolution,
                "refund": refund.map(|m| m.to_string()),
                "total": t.order.total_amount.to_string(),
            }),
            now,
        );
        Ok(vec![record.put(&table)?])
    });
    let viewer = Viewer {
        user_id: admin.id,
        is_admin: true,
    };
    let t = change(store, viewer, id, now, extras, |o, _| {
        Ok(o.resolve(admin_id, resolution, refund, &note, now)?)
    })
    .await?;
    refund_now(store, gateways, &t).await;
    Ok(t.order)
}

/// `order-list`: the caller's orders as client or as freelancer.
pub async fn list(
    store: &Store,
    listing: OrderListing,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Order>, OrderError> {
    Ok(store.list_orders(listing, limit, cursor).await?)
}

/// An order's deliveries or revision requests, for its parties and operators.
pub async fn steps(
    store: &Store,
    viewer: Viewer,
    id: OrderId,
    kind: StepKind,
    limit: i32,
    cursor: Option<&str>,
) -> Result<(Order, Page<OrderStep>), OrderError> {
    let order = get(store, viewer, id).await?;
    Ok((order, store.order_steps(id, kind, limit, cursor).await?))
}

/// What one run of the timers did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TimerReport {
    pub cancelled: u32,
    pub marked_late: u32,
    pub completed: u32,
    /// Due in the index but changed meanwhile (nothing to do).
    pub skipped: u32,
    pub failed: u32,
}

/// Applies `id`'s due timer at `now`, if it has one (the order timers, one order at a time).
/// `Ok(None)`: nothing was due (or a revision, dispute or payment got there first).
pub async fn fire_timer(
    store: &Store,
    id: OrderId,
    now: DateTime<Utc>,
) -> Result<Option<Order>, OrderError> {
    let system = Viewer {
        user_id: crate::domain::UserId::from_ulid(ulid::Ulid::nil()),
        is_admin: true,
    };
    match change(store, system, id, now, no_extras(), |o, _| {
        Ok(o.on_timer(now)?)
    })
    .await
    {
        Ok(t) => Ok(Some(t.order)),
        Err(OrderError::Rule(_)) | Err(OrderError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `order-timers`: every order whose timer is due at `now` gets what its timer says. Found
/// through the sparse timer index; each order is re-read and written conditionally, so a
/// revision or dispute that lands first wins and a repeated run does nothing.
pub async fn run_timers(store: &Store, now: DateTime<Utc>) -> Result<TimerReport, StoreError> {
    const BATCH: i32 = 100;
    let mut report = TimerReport::default();
    for kind in TimerKind::ALL {
        for id in store.due_orders(kind, now, BATCH).await? {
            match fire_timer(store, id, now).await {
                Ok(Some(o)) => match o.status {
                    OrderStatus::Cancelled => report.cancelled += 1,
                    OrderStatus::Completed => report.completed += 1,
                    _ => report.marked_late += 1,
                },
                Ok(None) => report.skipped += 1,
                Err(e) => {
                    tracing::error!(order_id = %id, error = %e, "timer failed");
                    report.failed += 1;
                }
            }
        }
    }
    Ok(report)
}
