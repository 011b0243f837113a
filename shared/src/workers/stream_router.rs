//! `stream-router`: the table's change stream → SQS queues by concern. The only place that
//! turns a write into follow-up work, so no handler ever writes twice.

use aws_lambda_events::event::dynamodb::Event;

use super::{BatchResponse, ItemFailure, WorkMessage};
use crate::config::Config;
use crate::deps::Deps;
use crate::domain::export::ExportStatus;
use crate::domain::ledger::{Account, PlatformAccount};
use crate::domain::order::{OrderStatus, PaymentStatus};
use crate::domain::payment::{Withdrawal, WithdrawalStatus};
use crate::domain::report::{Report, ReportStatus};
use crate::domain::service::{Service, ServiceStatus};
use crate::domain::stats::CounterChange;
use crate::domain::{User, UserStatus, VerificationStatus};
use crate::entry::BoxError;
use crate::store::VerificationRecord;
use crate::store::change::{ChangeKind, Entity, StreamChange, decode};

/// The follow-up work a change calls for (none, one or several), each with its queue.
pub fn route(c: &StreamChange) -> Vec<(Queue, WorkMessage)> {
    let mut out: Vec<(Queue, WorkMessage)> = Vec::new();
    out.extend(route_search(c));
    out.extend(route_one(c));
    out.extend(route_notice(c));
    out.extend(route_abuse(c));
    out.extend(counter_change(c).map(|x| (Queue::Stats, WorkMessage::Counters(x))));
    out.extend(route_ranking(c));
    out
}

/// Whether a service changed in anything search shows: everything but its view and open-order
/// counters and its bookkeeping.
fn searched_differs(old: &Service, new: &Service) -> bool {
    let mut seen = old.clone();
    seen.views_count = new.views_count;
    seen.open_orders = new.open_orders;
    seen.version = new.version;
    seen.updated_at = new.updated_at;
    seen != *new
}

/// What a card shows of its freelancer: the name and the freelancer profile's location.
fn card(u: &User) -> (String, Option<String>) {
    (
        u.username.as_str().to_owned(),
        u.freelancer_profile.as_ref().map(|p| p.location.clone()),
    )
}

/// Search work: a service that appeared, changed what search shows, or went; a freelancer
/// whose name or location changed; a brief that appeared, changed its text, status or
/// visibility, or went.
fn route_search(c: &StreamChange) -> Option<(Queue, WorkMessage)> {
    let message = match &c.entity {
        Entity::Service(s) => {
            let searched = match (&s.old, &s.new) {
                (Some(old), Some(new)) => searched_differs(old, new),
                _ => true,
            };
            searched.then(|| WorkMessage::SearchService {
                service_id: s.current().map(|s| s.id.to_string()).unwrap_or_default(),
            })?
        }
        Entity::User(u) if c.kind == ChangeKind::Modify && u.changed(card) => {
            WorkMessage::SearchFreelancer {
                user_id: u.current()?.id.to_string(),
            }
        }
        Entity::Brief(b)
            if c.kind != ChangeKind::Modify || b.changed(|b| (b.content.clone(), b.status)) =>
        {
            WorkMessage::SearchBrief {
                brief_id: b.current()?.id.to_string(),
            }
        }
        _ => return None,
    };
    Some((Queue::Search, message))
}

/// Stats, order and export work.
fn route_one(c: &StreamChange) -> Option<(Queue, WorkMessage)> {
    Some(match &c.entity {
        Entity::User(u) => (
            Queue::Notifications,
            WorkMessage::UserRegistered {
                id: c.id.clone(),
                user_id: u.inserted()?.id.to_string(),
                occurred_at_ms: c.at_ms(),
            },
        ),
        Entity::Order(o) if c.kind != ChangeKind::Remove && o.changed(|o| o.last_event) => {
            let order = o.new.as_ref()?;
            (
                Queue::Notifications,
                WorkMessage::OrderEvent {
                    id: c.id.clone(),
                    order_id: order.id.to_string(),
                    order_number: order.order_number.clone(),
                    event: order.last_event.kind,
                    by: order.last_event.by,
                    client_id: order.client_id.to_string(),
                    freelancer_id: order.freelancer_id.to_string(),
                    occurred_at_ms: c.at_ms(),
                },
            )
        }
        Entity::DataExport(e) => {
            let export = e.inserted()?;
            (
                Queue::Exports,
                WorkMessage::ExportRequested {
                    user_id: export.user_id.to_string(),
                    export_id: export.id.to_string(),
                },
            )
        }
        // Only a change of who may see it moves a review into or out of the sums (its own
        // `counted` flag changing is the worker's echo, and a response changes nothing).
        Entity::Review(r)
            if c.kind == ChangeKind::Insert
                || (c.kind == ChangeKind::Modify
                    && r.changed(|r| (r.is_public, r.hidden, r.sealed_until.is_some()))) =>
        {
            (
                Queue::Stats,
                WorkMessage::ReviewChanged {
                    review_id: r.new.as_ref()?.id.to_string(),
                },
            )
        }
        Entity::ViewShard(v) if c.kind != ChangeKind::Remove => (
            Queue::Stats,
            WorkMessage::ViewsChanged {
                service_id: v.new.as_ref()?.service_id.to_string(),
            },
        ),
        _ => return None,
    })
}

/// What the parties are told besides: a message written, a review received, a verification,
/// withdrawal or report decided, an export written, a monthly report stored.
fn route_notice(c: &StreamChange) -> Option<(Queue, WorkMessage)> {
    let id = c.id.clone();
    let occurred_at_ms = c.at_ms();
    let modified = c.kind == ChangeKind::Modify;
    let message = match &c.entity {
        Entity::Message(m) => {
            let m = m.inserted()?;
            // The platform's own messages come with their order event's notification.
            let sender_name = m.sender_name.clone().filter(|_| m.sender_id.is_some())?;
            WorkMessage::MessagePosted {
                id,
                message_id: m.id.to_string(),
                conversation_id: m.conversation_id.to_string(),
                sender_name,
                recipients: m.recipients.iter().map(ToString::to_string).collect(),
                preview: m.preview(),
                occurred_at_ms,
            }
        }
        Entity::Proposal(p) => {
            let p = p.inserted()?;
            WorkMessage::ProposalReceived {
                id,
                brief_id: p.brief_id.to_string(),
                client_id: p.client_id.to_string(),
                seller_username: p.seller_username.clone(),
                occurred_at_ms,
            }
        }
        Entity::Brief(b) if modified && b.changed(|b| b.status) => {
            let b = b.new.as_ref()?;
            if b.status == crate::domain::brief::BriefStatus::Open {
                return None;
            }
            WorkMessage::BriefDecided {
                id,
                brief_id: b.id.to_string(),
                title: b.content.title.clone(),
                awarded_to: b.award.map(|a| a.seller_id.to_string()),
                occurred_at_ms,
            }
        }
        Entity::Offer(o) if modified && o.changed(|o| o.status) => {
            let o = o.new.as_ref()?;
            WorkMessage::OfferDecided {
                id,
                offer_id: o.id.to_string(),
                seller_id: o.seller_id.to_string(),
                seller_username: o.seller_username.clone(),
                buyer_id: o.buyer_id.to_string(),
                buyer_username: o.buyer_username.clone(),
                accepted: o.status == crate::domain::offer::OfferStatus::Accepted,
                expired: o.status == crate::domain::offer::OfferStatus::Expired,
                occurred_at_ms,
            }
        }
        // Written (sealed or not), or shown: what the freelancer may know of it then.
        Entity::Review(r)
            if c.kind == ChangeKind::Insert
                || (modified
                    && r.old.as_ref().is_some_and(|o| o.sealed_until.is_some())
                    && r.new.as_ref().is_some_and(|n| n.sealed_until.is_none())) =>
        {
            let r = r.new.as_ref()?;
            WorkMessage::ReviewReceived {
                id,
                review_id: r.id.to_string(),
                order_id: r.order_id.to_string(),
                freelancer_id: r.freelancer_id.to_string(),
                client_username: r.client_username.clone(),
                rating: r.rating,
                sealed: r.sealed_until.is_some(),
                occurred_at_ms,
            }
        }
        Entity::Verification(v) if modified && v.changed(|v| v.status) => {
            let v = v.new.as_ref()?;
            WorkMessage::VerificationReviewed {
                id,
                verification_id: v.id.clone(),
                user_id: v.user_id.clone(),
                status: Some(v.status).filter(|s| *s != VerificationStatus::Pending)?,
                reason: v.reason.clone(),
                occurred_at_ms,
            }
        }
        Entity::Withdrawal(w) if modified && w.changed(|w| w.status) => {
            let w = w.new.as_ref()?;
            WorkMessage::WithdrawalReviewed {
                id,
                withdrawal_id: w.id.to_string(),
                user_id: w.user_id.to_string(),
                status: Some(w.status).filter(|s| *s != WithdrawalStatus::Pending)?,
                amount_fen: w.amount.fen(),
                reason: w.reason.clone(),
                occurred_at_ms,
            }
        }
        Entity::Report(r) if modified && r.changed(|r| r.status) => {
            let r = r.new.as_ref()?;
            WorkMessage::ReportDecided {
                id,
                report_id: r.id.to_string(),
                reporter_id: Some(r.reporter_id.clone())
                    .filter(|p| p != crate::domain::report::SYSTEM)?,
                status: Some(r.status).filter(|s| *s != ReportStatus::Pending)?,
                target_type: r.target_type,
                occurred_at_ms,
            }
        }
        Entity::DataExport(e) if modified && e.became(|e| e.status, ExportStatus::Ready) => {
            let e = e.new.as_ref()?;
            WorkMessage::ExportReady {
                id,
                user_id: e.user_id.to_string(),
                export_id: e.id.to_string(),
                occurred_at_ms,
            }
        }
        Entity::Refund(r) if modified && r.changed(|r| r.status) => {
            let r = r.new.as_ref().filter(|r| r.status.is_final())?;
            WorkMessage::RefundFinished {
                id,
                refund_no: r.refund_no.clone(),
                order_id: r.order_id.map(|o| o.to_string()),
                user_id: r.user_id.to_string(),
                status: r.status,
                gateway: r.gateway,
                amount_fen: r.amount.fen(),
                occurred_at_ms,
            }
        }
        // A new password hash: changed while signed in or reset (not set the first time, not
        // removed by an erasure).
        Entity::User(u)
            if modified
                && u.changed(|u| u.password_hash.clone())
                && u.old.as_ref().is_some_and(|o| o.password_hash.is_some())
                && u.new.as_ref().is_some_and(|n| n.password_hash.is_some()) =>
        {
            let user = u.new.as_ref()?;
            WorkMessage::AccountChanged {
                id,
                user_id: user.id.to_string(),
                change: crate::domain::user::AccountChange::Password,
                occurred_at_ms,
            }
        }
        // The account moved to another number (not given its first one, not erased).
        Entity::User(u)
            if modified
                && u.changed(|u| u.phone.clone())
                && u.old.as_ref().is_some_and(|o| o.phone.is_some())
                && u.new.as_ref().is_some_and(|n| n.phone.is_some()) =>
        {
            let user = u.new.as_ref()?;
            WorkMessage::AccountChanged {
                id,
                user_id: user.id.to_string(),
                change: crate::domain::user::AccountChange::Phone,
                occurred_at_ms,
            }
        }
        // The account moved to another address (not given its first one, not erased).
        Entity::User(u)
            if modified
                && u.changed(|u| u.email.clone())
                && u.old.as_ref().is_some_and(|o| o.email.is_some())
                && u.new.as_ref().is_some_and(|n| n.email.is_some()) =>
        {
            let user = u.new.as_ref()?;
            WorkMessage::AccountChanged {
                id,
                user_id: user.id.to_string(),
                change: crate::domain::user::AccountChange::Email,
                occurred_at_ms,
            }
        }
        // A clearance item goes only when its earnings clear (in the same transaction).
        Entity::Clearance(cl) if c.kind == ChangeKind::Remove => {
            let cl = cl.old.as_ref()?;
            WorkMessage::EarningsCleared {
                id,
                order_id: cl.order_id.to_string(),
                user_id: cl.seller_id.to_string(),
                amount_fen: cl.amount.fen(),
                occurred_at_ms,
            }
        }
        Entity::MonthlyReport(m) => {
            let m = m.inserted()?;
            WorkMessage::MonthlyReport {
                id,
                user_id: m.user_id.to_string(),
                month: m.report.month.clone(),
                report: m.report.clone(),
                occurred_at_ms,
            }
        }
        _ => return None,
    };
    Some((Queue::Notifications, message))
}

/// What the abuse detector looks at: new accounts (with the address they came from) and
/// users' messages.
fn route_abuse(c: &StreamChange) -> Option<(Queue, WorkMessage)> {
    let message = match &c.entity {
        Entity::User(u) => {
            let u = u.inserted()?;
            WorkMessage::AccountRegistered {
                user_id: u.id.to_string(),
                ip: u.registered_ip.clone()?,
                occurred_at_ms: c.at_ms(),
            }
        }
        Entity::Message(m) => {
            let m = m.inserted()?;
            WorkMessage::MessageSent {
                message_id: m.id.to_string(),
                conversation_id: m.conversation_id.to_string(),
                sender_id: m.sender_id?.to_string(),
                recipients: m.recipients.iter().map(ToString::to_string).collect(),
                content: m.content.clone(),
                sent_at_ms: u64::try_from(m.created_at.timestamp_millis()).unwrap_or(0),
            }
        }
        _ => return None,
    };
    Some((Queue::Abuse, message))
}

/// What the ranking must look at again: an active service whose scored fields changed (or
/// that was just published), a freelancer whose review sums changed or whose order completed.
/// The ranking's own writes (`ranking_score`, `seller_level`, response metrics) change none of
/// these, so they mark nothing.
fn route_ranking(c: &StreamChange) -> Option<(Queue, WorkMessage)> {
    let message = match &c.entity {
        Entity::Service(s)
            if c.kind != ChangeKind::Remove
                && s.new.as_ref()?.status == ServiceStatus::Active
                && s.changed(|s| {
                    (
                        s.rating_sum,
                        s.reviews_count,
                        s.orders_count,
                        s.views_count,
                        s.status,
                    )
                }) =>
        {
            WorkMessage::RankService {
                service_id: s.new.as_ref()?.id.to_string(),
            }
        }
        Entity::User(u)
            if c.kind == ChangeKind::Modify
                && u.changed(|u| {
                    u.freelancer_profile
                        .as_ref()
                        .map(|p| (p.rating_sum, p.total_reviews))
                }) =>
        {
            WorkMessage::RankFreelancer {
                user_id: u.new.as_ref()?.id.to_string(),
            }
        }
        Entity::Order(o)
            if c.kind == ChangeKind::Modify && o.became(|o| o.status, OrderStatus::Completed) =>
        {
            WorkMessage::RankFreelancer {
                user_id: o.new.as_ref()?.freelancer_id.to_string(),
            }
        }
        _ => return None,
    };
    Some((Queue::Stats, message))
}

/// What a change adds to the operators' counters (`None` when nothing).
fn counter_change(c: &StreamChange) -> Option<CounterChange> {
    let mut x = CounterChange {
        id: c.id.clone(),
        day: crate::domain::stats::china_day(c.at),
        ..CounterChange::default()
    };
    let (inserted, modified) = match c.kind {
        ChangeKind::Insert => (true, false),
        ChangeKind::Modify => (false, true),
        ChangeKind::Remove => return None,
    };
    match &c.entity {
        Entity::User(u) => {
            let new = u.new.as_ref()?;
            let user_type = new.user_type.as_str();
            // Clients who opened a seller profile (registered freelancers sell from the start).
            let client_seller = |u: &crate::domain::User| {
                u.user_type == crate::domain::UserType::Client && u.is_seller()
            };
            if inserted {
                x.add_current(format!("users_{user_type}"), 1);
                x.add_daily("new_users", 1);
                x.add_daily(format!("new_users_{user_type}"), 1);
            } else if u.became(|u| u.status, UserStatus::Deactivated) {
                x.add_current(format!("users_{user_type}"), -1);
                if client_seller(new) {
                    x.add_current("users_client_sellers", -1);
                }
            } else if u.became(client_seller, true) && new.is_active() {
                x.add_current("users_client_sellers", 1);
                x.add_daily("sellers_opened", 1);
            }
        }
        Entity::Order(o) => {
            let new = o.new.as_ref()?;
            if modified && let Some(before) = &o.old {
                x.add_current(format!("orders_{}", before.status.as_str()), -1);
            }
            x.add_current(format!("orders_{}", new.status.as_str()), 1);
            if o.became(|o| o.payment_status, PaymentStatus::Paid) {
                x.add_daily("orders_paid", 1);
                x.add_daily("gmv_fen", new.total_amount.fen());
            } else if let Some(before) = &o.old
                && before.payment_status == PaymentStatus::Paid
                && new.total_amount.fen() > before.total_amount.fen()
            {
                // A paid extra: more money through the marketplace.
                x.add_daily(
                    "gmv_fen",
                    new.total_amount.fen() - before.total_amount.fen(),
                );
            }
            if o.became(|o| o.status, OrderStatus::Completed) {
                x.add_daily("orders_completed", 1);
            }
        }
        Entity::LedgerLine(l) if inserted => {
            let line = l.new.as_ref()?;
            if matches!(line.account, Account::Platform(PlatformAccount::Revenue, _)) {
                x.add_daily("revenue_fen", line.amount);
            }
        }
        Entity::Report(r) => {
            let pending = |r: &Option<Report>| {
                i64::from(
                    r.as_ref()
                        .is_some_and(|r| r.status == ReportStatus::Pending),
                )
            };
            x.add_current("reports_pending", pending(&r.new) - pending(&r.old));
        }
        Entity::Verification(v) => {
            let pending = |v: &Option<VerificationRecord>| {
                i64::from(
                    v.as_ref()
                        .is_some_and(|v| v.status == VerificationStatus::Pending),
                )
            };
            x.add_current("verifications_pending", pending(&v.new) - pending(&v.old));
        }
        Entity::Withdrawal(w) => {
            let pending = |w: &Option<Withdrawal>| {
                i64::from(
                    w.as_ref()
                        .is_some_and(|w| w.status == WithdrawalStatus::Pending),
                )
            };
            x.add_current("withdrawals_pending", pending(&w.new) - pending(&w.old));
        }
        _ => return None,
    }
    let x = x.tidy();
    (!x.is_empty()).then_some(x)
}

/// The business metrics a committed change counts (CloudWatch EMF, namespace `Gigbao`): orders
/// placed and paid, GMV in fen, withdrawals paid out and refused by the gateway, messages
/// sent, new users. The stream delivers a change at least once, so a retried batch can count
/// a change twice: these are for dashboards and alarms, the ledger is for money.
fn business_metrics(c: &StreamChange) -> [(&'static str, i64, &'static str); 7] {
    let inserted = c.kind == ChangeKind::Insert;
    let (mut placed, mut paid, mut gmv, mut w_paid, mut w_failed, mut messages, mut users) =
        (0, 0, 0, 0, 0, 0, 0);
    match &c.entity {
        Entity::Order(o) if o.new.is_some() => {
            placed = i64::from(inserted);
            if o.became(|o| o.payment_status, PaymentStatus::Paid) {
                paid = 1;
                gmv = o.new.as_ref().map_or(0, |o| o.total_amount.fen());
            }
        }
        Entity::Withdrawal(w) => {
            w_paid = i64::from(w.became(|w| w.status, WithdrawalStatus::Paid));
            w_failed = i64::from(w.became(|w| w.status, WithdrawalStatus::Failed));
        }
        Entity::Message(_) => messages = i64::from(inserted),
        Entity::User(_) => users = i64::from(inserted),
        _ => {}
    }
    [
        ("OrdersPlaced", placed, "Count"),
        ("OrdersPaid", paid, "Count"),
        ("GmvFen", gmv, "None"),
        ("WithdrawalsPaid", w_paid, "Count"),
        ("WithdrawalsFailed", w_failed, "Count"),
        ("MessagesSent", messages, "Count"),
        ("NewUsers", users, "Count"),
    ]
}

/// The business metrics of `changes`, summed, as one EMF line on stdout.
fn emit_business_metrics(changes: &[StreamChange]) {
    let mut sums = [("", 0i64, ""); 7];
    for c in changes {
        for (i, (name, value, unit)) in business_metrics(c).into_iter().enumerate() {
            sums[i] = (name, sums[i].1 + value, unit);
        }
    }
    crate::telemetry::emit_metrics(&sums);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Notifications,
    Stats,
    Search,
    Abuse,
    Exports,
}

/// Routes a batch in order. On the first failure (a change that does not decode, a message
/// that is not sent) it stops and reports that record, so the stream retries from there and
/// nothing after it is skipped.
pub async fn handle(deps: &'static Deps, event: Event) -> Result<BatchResponse, BoxError> {
    let mut sent: Vec<WorkMessage> = Vec::new();
    let mut done: Vec<StreamChange> = Vec::new();
    for record in &event.records {
        let failed = || {
            let id = record
                .change
                .sequence_number
                .clone()
                .unwrap_or_else(|| record.event_id.clone());
            BatchResponse {
                batch_item_failures: vec![ItemFailure {
                    item_identifier: id,
                }],
            }
        };
        let change = match decode(record) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(event_id = %record.event_id, error = %e, "change not decoded");
                emit_business_metrics(&done);
                return Ok(failed());
            }
        };
        for (queue, message) in route(&change) {
            // Folding and indexing read the current state: one message per item per batch is
            // enough.
            if message.is_state_based() && sent.contains(&message) {
                continue;
            }
            let queue_url = match queue {
                Queue::Notifications => Config::require(
                    &deps.config.notifications_queue_url,
                    "NOTIFICATIONS_QUEUE_URL",
                )?,
                Queue::Stats => Config::require(&deps.config.stats_queue_url, "STATS_QUEUE_URL")?,
                Queue::Search => {
                    Config::require(&deps.config.search_queue_url, "SEARCH_QUEUE_URL")?
                }
                Queue::Abuse => Config::require(&deps.config.abuse_queue_url, "ABUSE_QUEUE_URL")?,
                Queue::Exports => {
                    Config::require(&deps.config.exports_queue_url, "EXPORTS_QUEUE_URL")?
                }
            };
            let body = serde_json::to_string(&message)?;
            if let Err(e) = deps
                .sqs()
                .send_message()
                .queue_url(queue_url)
                .message_body(body)
                .send()
                .await
            {
                tracing::error!(event_id = %record.event_id, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "send failed");
                // The records before this one are done (the stream retries from this one).
                emit_business_metrics(&done);
                return Ok(failed());
            }
            sent.push(message);
        }
        tracing::info!(event_id = %record.event_id, "routed");
        done.push(change);
    }
    emit_business_metrics(&done);
    Ok(BatchResponse::default())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::messaging::Message;
    use crate::domain::order::{Actor, EventKind, Order};
    use crate::domain::report::{Reason, TargetType};
    use crate::domain::review::Review;
    use crate::domain::{ServiceId, UserId, UserType, Username};
    use crate::store::change::{Change, MonthlyReportItem};

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc
            .with_ymd_and_hms(2025, 11, 24, 16, 0, 0)
            .unwrap()
    }

    /// A change of `entity` at a fixed time, with the stream record id `ev-1`.
    fn at(kind: ChangeKind, entity: Entity) -> StreamChange {
        StreamChange {
            id: "ev-1".into(),
            at: now(),
            kind,
            entity,
        }
    }

    fn change<T>(old: Option<T>, new: Option<T>) -> Change<T> {
        Change { old, new }
    }

    fn modified<T: Clone>(before: &T, after: impl FnOnce(&mut T)) -> Change<T> {
        let mut new = before.clone();
        after(&mut new);
        change(Some(before.clone()), Some(new))
    }

    fn user(t: UserType) -> User {
        let mut u = User::new(
            Username::parse("li_lei").unwrap(),
            None,
            None,
            t,
            None,
            now(),
        );
        u.registered_ip = Some("203.0.113.7".into());
        u
    }

    fn service(status: ServiceStatus) -> Service {
        crate::domain::fixtures::service(status, now())
    }

    fn order() -> Order {
        crate::domain::fixtures::order("199.00", 1, now())
    }

    fn review() -> Review {
        serde_json::from_value(json!({
            "id": crate::domain::ReviewId::new(), "order_id": crate::domain::OrderId::new(),
            "service_id": ServiceId::new(), "service_title": null, "service_title_zh": "Logo设计",
            "client_id": UserId::new(), "client_username": "lin",
            "freelancer_id": UserId::new(), "freelancer_username": "sheji",
            "rating": 5, "comment": "很好", "comment_zh": null, "is_public": true,
            "hidden": false, "counted": false, "response": null,
            "created_at": now(), "updated_at": now(), "version": 1
        }))
        .unwrap()
    }

    fn withdrawal() -> Withdrawal {
        serde_json::from_value(json!({
            "id": crate::domain::WithdrawalId::new(), "user_id": UserId::new(), "username": "sheji",
            "amount": 10000, "fee": 0, "net": 10000, "method": "alipay",
            "account_masked": "138****0000", "account_sealed": "x", "status": "pending",
            "payout_ref": null, "reason": null, "reviewer_id": null,
            "created_at": now(), "reviewed_at": null, "completed_at": null, "version": 1
        }))
        .unwrap()
    }

    fn message(sender: Option<&User>) -> Message {
        serde_json::from_value(json!({
            "id": crate::domain::MessageId::new(), "conversation_id": crate::domain::ConversationId::new(),
            "sender_id": sender.map(|u| u.id), "sender_name": sender.map(|u| u.username.as_str()),
            "recipients": [UserId::new()], "message_type": "text", "content": "您好，请问可以加急吗？",
            "file_key": null, "file_name": null, "is_masked": false, "order_id": null,
            "created_at": now()
        }))
        .unwrap()
    }

    /// The one message a change calls for besides counting, ranking and abuse checks.
    fn one(c: &StreamChange) -> Option<(Queue, WorkMessage)> {
        let v: Vec<_> = route(c)
            .into_iter()
            .filter(|(q, _)| !matches!(q, Queue::Abuse))
            .filter(|(_, m)| {
                !matches!(
                    m,
                    WorkMessage::Counters(_)
                        | WorkMessage::RankService { .. }
                        | WorkMessage::RankFreelancer { .. }
                )
            })
            .collect();
        assert!(v.len() <= 1, "{v:?}");
        v.into_iter().next()
    }

    fn ranked(c: &StreamChange) -> Vec<WorkMessage> {
        route(c)
            .into_iter()
            .filter(|(_, m)| {
                matches!(
                    m,
                    WorkMessage::RankService { .. } | WorkMessage::RankFreelancer { .. }
                )
            })
            .map(|(q, m)| {
                assert_eq!(q, Queue::Stats);
                m
            })
            .collect()
    }

    fn metric(c: &StreamChange, name: &str) -> i64 {
        business_metrics(c)
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, v, _)| *v)
            .unwrap()
    }

    #[test]
    fn committed_changes_count_as_business_metrics_once_per_transition() {
        let o = order();
        let placed = at(
            ChangeKind::Insert,
            Entity::Order(change(None, Some(o.clone()))),
        );
        assert_eq!(metric(&placed, "OrdersPlaced"), 1);
        assert_eq!(metric(&placed, "OrdersPaid"), 0);
        let paid = at(
            ChangeKind::Modify,
            Entity::Order(modified(&o, |o| o.payment_status = PaymentStatus::Paid)),
        );
        assert_eq!(metric(&paid, "OrdersPaid"), 1);
        assert_eq!(metric(&paid, "GmvFen"), 19_900);
        assert_eq!(metric(&paid, "OrdersPlaced"), 0);
        // Another change of a paid order is not another payment.
        let mut p = o.clone();
        p.payment_status = PaymentStatus::Paid;
        let later = at(
            ChangeKind::Modify,
            Entity::Order(modified(&p, |o| o.status = OrderStatus::Delivered)),
        );
        assert_eq!(metric(&later, "OrdersPaid"), 0);
        let mut w = withdrawal();
        w.status = WithdrawalStatus::Processing;
        let refused = at(
            ChangeKind::Modify,
            Entity::Withdrawal(modified(&w, |w| w.status = WithdrawalStatus::Failed)),
        );
        assert_eq!(metric(&refused, "WithdrawalsFailed"), 1);
        assert_eq!(metric(&refused, "WithdrawalsPaid"), 0);
        let sent = at(
            ChangeKind::Insert,
            Entity::Message(change(None, Some(message(None)))),
        );
        assert_eq!(metric(&sent, "MessagesSent"), 1);
        let joined = at(
            ChangeKind::Insert,
            Entity::User(change(None, Some(user(UserType::Client)))),
        );
        assert_eq!(metric(&joined, "NewUsers"), 1);
    }

    #[test]
    fn a_new_password_tells_its_owner_but_a_first_one_or_an_erasure_does_not() {
        let mut u = user(UserType::Client);
        u.password_hash = Some("$argon2id$old".into());
        let changed = at(
            ChangeKind::Modify,
            Entity::User(modified(&u, |u| {
                u.password_hash = Some("$argon2id$new".into())
            })),
        );
        let told: Vec<_> = route(&changed)
            .into_iter()
            .filter(|(_, m)| matches!(m, WorkMessage::AccountChanged { .. }))
            .collect();
        assert_eq!(
            told,
            vec![(
                Queue::Notifications,
                WorkMessage::AccountChanged {
                    id: "ev-1".into(),
                    user_id: u.id.to_string(),
                    change: crate::domain::user::AccountChange::Password,
                    occurred_at_ms: 1_764_000_000_000
                }
            )]
        );
        let mut sms_only = u.clone();
        sms_only.password_hash = None;
        for c in [
            modified(&sms_only, |u| {
                u.password_hash = Some("$argon2id$first".into())
            }),
            modified(&u, |u| u.password_hash = None),
            modified(&u, |u| u.avatar = Some("avatars/x.jpg".into())),
        ] {
            let c = at(ChangeKind::Modify, Entity::User(c));
            assert!(
                !route(&c)
                    .iter()
                    .any(|(_, m)| matches!(m, WorkMessage::AccountChanged { .. }))
            );
        }
    }

    #[test]
    fn new_accounts_are_welcomed_counted_and_checked_for_abuse() {
        let u = user(UserType::Freelancer);
        let c = at(
            ChangeKind::Insert,
            Entity::User(change(None, Some(u.clone()))),
        );
        assert_eq!(
            one(&c),
            Some((
                Queue::Notifications,
                WorkMessage::UserRegistered {
                    id: "ev-1".into(),
                    user_id: u.id.to_string(),
                    occurred_at_ms: 1_764_000_000_000
                }
            ))
        );
        let routed = route(&c);
        assert!(routed.iter().any(|(q, m)| *q == Queue::Abuse
            && matches!(m, WorkMessage::AccountRegistered { ip, .. } if ip == "203.0.113.7")));
        let counted = counter_change(&c).unwrap();
        assert_eq!(counted.current["users_freelancer"], 1);
        assert_eq!(counted.daily["new_users"], 1);
        // A deactivation takes the account out of the gauge.
        let gone = at(
            ChangeKind::Modify,
            Entity::User(modified(&u, |u| u.status = UserStatus::Deactivated)),
        );
        assert_eq!(
            counter_change(&gone).unwrap().current["users_freelancer"],
            -1
        );
        // Anything else about a user says nothing.
        let edited = at(
            ChangeKind::Modify,
            Entity::User(modified(&u, |u| u.email_verified = true)),
        );
        assert_eq!(one(&edited), None);
        assert!(route(&edited).is_empty());
    }

    #[test]
    fn a_view_shard_change_becomes_a_fold_job() {
        let s = ServiceId::new();
        let shard = |views| crate::store::change::ViewShard {
            service_id: s,
            views,
        };
        let c = at(
            ChangeKind::Modify,
            Entity::ViewShard(change(Some(shard(1)), Some(shard(2)))),
        );
        assert_eq!(
            one(&c),
            Some((
                Queue::Stats,
                WorkMessage::ViewsChanged {
                    service_id: s.to_string()
                }
            ))
        );
    }

    #[test]
    fn an_order_change_becomes_a_notification_job() {
        let o = order();
        let delivered = modified(&o, |o| {
            o.status = OrderStatus::Delivered;
            o.last_event.kind = EventKind::Delivered;
            o.last_event.by = Actor::Freelancer;
        });
        let (queue, msg) = one(&at(ChangeKind::Modify, Entity::Order(delivered.clone()))).unwrap();
        assert_eq!(queue, Queue::Notifications);
        assert_eq!(
            msg,
            WorkMessage::OrderEvent {
                id: "ev-1".into(),
                order_id: o.id.to_string(),
                order_number: "ORD20261124160000ABCDEF".into(),
                event: EventKind::Delivered,
                by: Actor::Freelancer,
                client_id: o.client_id.to_string(),
                freelancer_id: o.freelancer_id.to_string(),
                occurred_at_ms: 1_764_000_000_000,
            }
        );
        // The same event written again (a retried write, a counter): nothing new.
        let again = modified(delivered.new.as_ref().unwrap(), |o| o.version += 1);
        assert_eq!(one(&at(ChangeKind::Modify, Entity::Order(again))), None);
        // A removed order (TTL or cleanup) says nothing.
        let removed = change(Some(o), None);
        assert_eq!(one(&at(ChangeKind::Remove, Entity::Order(removed))), None);
    }

    #[test]
    fn service_changes_search_shows_are_indexed() {
        let base = service(ServiceStatus::Active);
        let search = Some((
            Queue::Search,
            WorkMessage::SearchService {
                service_id: base.id.to_string(),
            },
        ));
        let svc = |kind, c| at(kind, Entity::Service(c));
        assert_eq!(
            one(&svc(ChangeKind::Insert, change(None, Some(base.clone())))),
            search
        );
        assert_eq!(
            one(&svc(ChangeKind::Remove, change(Some(base.clone()), None))),
            search
        );
        // Paused, retitled, rated: re-indexed.
        let edits: [fn(&mut Service); 3] = [
            |s| s.status = ServiceStatus::Paused,
            |s| s.content.title_zh = Some("专业品牌Logo设计，两天加急交付".into()),
            |s| s.rating_sum = 5,
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            assert_eq!(
                one(&svc(ChangeKind::Modify, modified(&base, edit))),
                search,
                "{i}"
            );
        }
        // Only views, open orders or bookkeeping changed: nothing to do.
        let counted = modified(&base, |s| {
            s.views_count = 9;
            s.open_orders = 1;
            s.version = 3;
            s.updated_at = now() + chrono::Duration::hours(1);
        });
        assert_eq!(one(&svc(ChangeKind::Modify, counted)), None);
    }

    #[test]
    fn what_a_score_or_a_level_reads_marks_it_for_the_ranking_and_nothing_else_does() {
        let base = service(ServiceStatus::Active);
        let rank = [WorkMessage::RankService {
            service_id: base.id.to_string(),
        }];
        let svc = |c| at(ChangeKind::Modify, Entity::Service(c));
        // Published; its views, ratings or orders moved: marked.
        let mut draft = base.clone();
        draft.status = ServiceStatus::Draft;
        assert_eq!(
            ranked(&svc(modified(&draft, |s| s.status = ServiceStatus::Active))),
            rank
        );
        let moved: [fn(&mut Service); 4] = [
            |s| s.views_count = 7,
            |s| s.rating_sum = 7,
            |s| s.reviews_count = 7,
            |s| s.orders_count = 7,
        ];
        for (i, m) in moved.into_iter().enumerate() {
            assert_eq!(ranked(&svc(modified(&base, m))), rank, "{i}");
        }
        // Its own score written, a title edited, a paused service's views: not marked.
        let unscored: [fn(&mut Service); 3] = [
            |s| s.ranking_score = 0.8,
            |s| s.seller_level = crate::domain::user::SellerLevel::LevelOne,
            |s| s.content.title_zh = Some("专业品牌Logo设计，两天加急交付".into()),
        ];
        for (i, m) in unscored.into_iter().enumerate() {
            assert!(ranked(&svc(modified(&base, m))).is_empty(), "{i}");
        }
        let mut paused = base.clone();
        paused.status = ServiceStatus::Paused;
        assert!(ranked(&svc(modified(&paused, |s| s.views_count = 3))).is_empty());

        // A review counted into the freelancer's sums, an order completed: the freelancer.
        let u = user(UserType::Freelancer);
        let counted = modified(&u, |u| {
            if let Some(p) = u.freelancer_profile.as_mut() {
                p.rating_sum = 9;
                p.total_reviews = 2;
            }
        });
        assert_eq!(
            ranked(&at(ChangeKind::Modify, Entity::User(counted))),
            [WorkMessage::RankFreelancer {
                user_id: u.id.to_string()
            }]
        );
        // The ranking writing a level back marks nothing (no loop).
        let levelled = modified(&u, |u| {
            if let Some(p) = u.freelancer_profile.as_mut() {
                p.seller_level = crate::domain::user::SellerLevel::LevelOne;
            }
        });
        assert!(ranked(&at(ChangeKind::Modify, Entity::User(levelled))).is_empty());
        let mut o = order();
        o.status = OrderStatus::Delivered;
        let done = modified(&o, |o| o.status = OrderStatus::Completed);
        assert_eq!(
            ranked(&at(ChangeKind::Modify, Entity::Order(done))),
            [WorkMessage::RankFreelancer {
                user_id: o.freelancer_id.to_string()
            }]
        );
    }

    #[test]
    fn a_freelancer_renamed_or_moved_reindexes_their_cards() {
        let u = user(UserType::Freelancer);
        let reindex = Some((
            Queue::Search,
            WorkMessage::SearchFreelancer {
                user_id: u.id.to_string(),
            },
        ));
        let renamed = modified(&u, |u| u.username = Username::parse("lin_design").unwrap());
        assert_eq!(one(&at(ChangeKind::Modify, Entity::User(renamed))), reindex);
        let moved = modified(&u, |u| {
            if let Some(p) = u.freelancer_profile.as_mut() {
                p.location = "杭州".into();
            }
        });
        assert_eq!(one(&at(ChangeKind::Modify, Entity::User(moved))), reindex);
    }

    #[test]
    fn a_review_is_counted_when_written_and_when_its_visibility_changes() {
        let r = review();
        let counted = Some(WorkMessage::ReviewChanged {
            review_id: r.id.to_string(),
        });
        let stats = |c: &StreamChange| {
            route(c)
                .into_iter()
                .find(|(_, m)| matches!(m, WorkMessage::ReviewChanged { .. }))
                .map(|(q, m)| {
                    assert_eq!(q, Queue::Stats);
                    m
                })
        };
        let written = at(
            ChangeKind::Insert,
            Entity::Review(change(None, Some(r.clone()))),
        );
        assert_eq!(stats(&written), counted);
        // The worker's own `counted` flag, or a response: nothing to do.
        let echo = modified(&r, |r| r.counted = true);
        assert_eq!(one(&at(ChangeKind::Modify, Entity::Review(echo))), None);
        // Hidden by an operator: out of the sums.
        let hidden = modified(&r, |r| r.hidden = true);
        assert_eq!(
            stats(&at(ChangeKind::Modify, Entity::Review(hidden))),
            counted
        );
    }

    #[test]
    fn a_review_is_counted_and_its_freelancer_told() {
        let r = review();
        let routed = route(&at(
            ChangeKind::Insert,
            Entity::Review(change(None, Some(r.clone()))),
        ));
        assert_eq!(routed.len(), 2);
        assert_eq!(routed[0].0, Queue::Stats);
        assert_eq!(
            routed[1],
            (
                Queue::Notifications,
                WorkMessage::ReviewReceived {
                    id: "ev-1".into(),
                    review_id: r.id.to_string(),
                    order_id: r.order_id.to_string(),
                    freelancer_id: r.freelancer_id.to_string(),
                    client_username: "lin".into(),
                    rating: 5,
                    sealed: false,
                    occurred_at_ms: 1_764_000_000_000,
                }
            )
        );
    }

    #[test]
    fn a_sealed_review_is_announced_without_its_rating_and_told_again_when_shown() {
        let mut sealed = review();
        sealed.sealed_until = Some(now() + chrono::Duration::days(30));
        let told = |c: &StreamChange| {
            route(c).into_iter().find_map(|(_, m)| match m {
                WorkMessage::ReviewReceived { sealed, .. } => Some(sealed),
                _ => None,
            })
        };
        let counted = |c: &StreamChange| {
            route(c)
                .iter()
                .any(|(_, m)| matches!(m, WorkMessage::ReviewChanged { .. }))
        };
        let written = at(
            ChangeKind::Insert,
            Entity::Review(change(None, Some(sealed.clone()))),
        );
        assert_eq!(told(&written), Some(true));
        let shown = modified(&sealed, |r| r.sealed_until = None);
        let shown = at(ChangeKind::Modify, Entity::Review(shown));
        assert_eq!(told(&shown), Some(false));
        assert!(counted(&shown), "shown: into the sums");
        // A later change of a shown review tells nobody again.
        let mut open = sealed.clone();
        open.sealed_until = None;
        let answered = modified(&open, |r| r.counted = true);
        assert_eq!(
            told(&at(ChangeKind::Modify, Entity::Review(answered))),
            None
        );
    }

    #[test]
    fn an_export_request_goes_to_the_exporter_and_its_completion_to_its_owner() {
        let e = crate::domain::export::DataExport::new(UserId::new(), now());
        let requested = at(
            ChangeKind::Insert,
            Entity::DataExport(change(None, Some(e.clone()))),
        );
        assert_eq!(
            route(&requested),
            vec![(
                Queue::Exports,
                WorkMessage::ExportRequested {
                    user_id: e.user_id.to_string(),
                    export_id: e.id.to_string()
                }
            )]
        );
        let ready = at(
            ChangeKind::Modify,
            Entity::DataExport(modified(&e, |e| {
                *e = e.clone().ready(10, "00".into(), now())
            })),
        );
        let routed = route(&ready);
        assert!(
            matches!(routed.as_slice(), [(Queue::Notifications, WorkMessage::ExportReady { export_id, .. })] if *export_id == e.id.to_string()),
            "{routed:?}"
        );
    }

    #[test]
    fn a_refund_tells_its_client_once_it_is_final_and_cleared_earnings_tell_the_seller() {
        use crate::domain::Money;
        use crate::domain::clearance::Clearance;
        use crate::domain::payment::Gateway;
        use crate::domain::refund::{Refund, RefundOutcome, RefundStatus};
        let r = Refund::of_order(
            crate::domain::OrderId::new(),
            "ORD20251125000000ABCDEF",
            UserId::new(),
            Gateway::Wechat,
            "GB20251125000000ABCDEFGHIJ",
            Money::from_fen(19_900),
            Money::from_fen(7_960),
            "六四分",
            now(),
        );
        let notified = |c: Change<Refund>| {
            route(&at(ChangeKind::Modify, Entity::Refund(c)))
                .into_iter()
                .filter(|(q, _)| *q == Queue::Notifications)
                .collect::<Vec<_>>()
        };
        // Still on its way: nothing to say yet.
        let processing = RefundOutcome::Processing {
            gateway_refund_id: None,
        };
        assert!(notified(modified(&r, |r| *r = r.answered(Some(processing), now()))).is_empty());
        let done = RefundOutcome::Succeeded {
            gateway_refund_id: Some("503".into()),
        };
        let routed = notified(modified(&r, |r| *r = r.answered(Some(done), now())));
        assert!(
            matches!(
                routed.as_slice(),
                [(
                    _,
                    WorkMessage::RefundFinished {
                        status: RefundStatus::Succeeded,
                        amount_fen: 7_960,
                        ..
                    }
                )]
            ),
            "{routed:?}"
        );
        // Earnings: told when their item goes (they cleared), not when it is written.
        let c = Clearance::after(
            crate::domain::OrderId::new(),
            UserId::new(),
            Money::from_fen(9_552),
            14,
            now(),
        );
        let written = route(&at(
            ChangeKind::Insert,
            Entity::Clearance(change(None, Some(c.clone()))),
        ));
        assert!(written.is_empty(), "{written:?}");
        let cleared = route(&at(
            ChangeKind::Remove,
            Entity::Clearance(change(Some(c.clone()), None)),
        ));
        assert!(
            matches!(cleared.as_slice(), [(Queue::Notifications, WorkMessage::EarningsCleared { amount_fen: 9_552, user_id, .. })] if *user_id == c.seller_id.to_string()),
            "{cleared:?}"
        );
    }

    #[test]
    fn a_message_tells_its_recipients_and_the_abuse_detector_but_a_system_line_does_not() {
        let sender = user(UserType::Client);
        let m = message(Some(&sender));
        let routed = route(&at(
            ChangeKind::Insert,
            Entity::Message(change(None, Some(m.clone()))),
        ));
        assert!(routed.iter().any(|(q, w)| *q == Queue::Notifications
            && matches!(w, WorkMessage::MessagePosted { sender_name, .. } if sender_name == "li_lei")));
        assert!(routed.iter().any(|(q, _)| *q == Queue::Abuse));
        let system = message(None);
        let routed = route(&at(
            ChangeKind::Insert,
            Entity::Message(change(None, Some(system))),
        ));
        assert!(
            routed
                .iter()
                .all(|(q, _)| *q != Queue::Notifications && *q != Queue::Abuse)
        );
    }

    #[test]
    fn other_changes_are_ignored() {
        let c = at(
            ChangeKind::Insert,
            Entity::Other(crate::store::change::EntityType::Session),
        );
        assert!(route(&c).is_empty());
    }

    #[test]
    fn a_decided_withdrawal_is_told_but_a_new_one_is_not() {
        let w = withdrawal();
        let rejected = modified(&w, |w| w.status = WithdrawalStatus::Rejected);
        let c = at(ChangeKind::Modify, Entity::Withdrawal(rejected.clone()));
        assert!(matches!(
            one(&c),
            Some((
                Queue::Notifications,
                WorkMessage::WithdrawalReviewed {
                    status: WithdrawalStatus::Rejected,
                    amount_fen: 10000,
                    ..
                }
            ))
        ));
        assert_eq!(
            counter_change(&c).unwrap().current["withdrawals_pending"],
            -1
        );
        let again = modified(rejected.new.as_ref().unwrap(), |w| w.version += 1);
        assert_eq!(
            one(&at(ChangeKind::Modify, Entity::Withdrawal(again))),
            None
        );
        let new = at(
            ChangeKind::Insert,
            Entity::Withdrawal(change(None, Some(w))),
        );
        assert_eq!(one(&new), None);
        assert_eq!(
            counter_change(&new).unwrap().current["withdrawals_pending"],
            1
        );
    }

    #[test]
    fn a_paid_order_moves_the_gauges_and_adds_to_gmv_once() {
        let o = order();
        let paid = modified(&o, |o| {
            o.status = OrderStatus::InProgress;
            o.payment_status = PaymentStatus::Paid;
        });
        let c = counter_change(&at(ChangeKind::Modify, Entity::Order(paid.clone()))).unwrap();
        assert_eq!(c.id, "ev-1");
        assert_eq!(c.day, "2025-11-25");
        assert_eq!(c.current["orders_pending"], -1);
        assert_eq!(c.current["orders_in_progress"], 1);
        assert_eq!(c.daily["gmv_fen"], 19_900);
        assert_eq!(c.daily["orders_paid"], 1);
        // A later change that does not touch status or payment counts nothing.
        let later = modified(paid.new.as_ref().unwrap(), |o| o.version += 1);
        assert_eq!(
            counter_change(&at(ChangeKind::Modify, Entity::Order(later))),
            None
        );
    }

    #[test]
    fn a_decided_report_leaves_the_queue_and_tells_its_reporter_not_the_system() {
        let mut r = Report::automatic(
            TargetType::Service,
            "01JSVC",
            None,
            Reason::Spam,
            "x".into(),
            crate::domain::report::Evidence::ContactDetails {
                offences: 3,
                conversation_id: "c".into(),
                message_id: "m".into(),
            },
            now(),
        );
        r.reporter_id = "01JREPORTER".into();
        let decided = at(
            ChangeKind::Modify,
            Entity::Report(modified(&r, |r| r.status = ReportStatus::Resolved)),
        );
        assert_eq!(
            counter_change(&decided).unwrap().current["reports_pending"],
            -1
        );
        assert!(route(&decided).iter().any(|(q, m)| *q == Queue::Notifications
            && matches!(m, WorkMessage::ReportDecided { reporter_id, status: ReportStatus::Resolved, .. }
                if reporter_id == "01JREPORTER")));
        r.reporter_id = crate::domain::report::SYSTEM.into();
        let automatic = at(
            ChangeKind::Modify,
            Entity::Report(modified(&r, |r| r.status = ReportStatus::Resolved)),
        );
        assert!(
            !route(&automatic)
                .iter()
                .any(|(_, m)| matches!(m, WorkMessage::ReportDecided { .. }))
        );
    }

    #[test]
    fn a_stored_monthly_report_is_sent_to_its_owner() {
        let item = MonthlyReportItem {
            user_id: UserId::new(),
            report: crate::domain::stats::MonthlyReport {
                month: "2025-10".into(),
                user_type: UserType::Client,
                total_orders: 2,
                figures: crate::domain::stats::MonthlyFigures::Client {
                    total_spent: crate::domain::Money::from_fen(39_800),
                },
            },
        };
        let c = at(
            ChangeKind::Insert,
            Entity::MonthlyReport(change(None, Some(item.clone()))),
        );
        assert_eq!(
            one(&c),
            Some((
                Queue::Notifications,
                WorkMessage::MonthlyReport {
                    id: "ev-1".into(),
                    user_id: item.user_id.to_string(),
                    month: "2025-10".into(),
                    report: item.report,
                    occurred_at_ms: 1_764_000_000_000,
                }
            ))
        );
    }
}
