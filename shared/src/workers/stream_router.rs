//! `stream-router`: the table's change stream → SQS queues by concern. The only place that
//! turns a write into follow-up work, so no handler ever writes twice.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};

use super::{BatchResponse, ItemFailure, WorkMessage};
use crate::config::Config;
use crate::deps::Deps;
use crate::domain::VerificationStatus;
use crate::domain::order::OrderEvent;
use crate::domain::payment::WithdrawalStatus;
use crate::domain::report::{ReportStatus, TargetType};
use crate::domain::stats::CounterChange;
use crate::entry::BoxError;

/// Service attributes whose change search does not show: such a change is not re-indexed.
const UNSEARCHED: [&str; 13] = [
    "views_count",
    "open_orders",
    "rev",
    "version",
    "updated_at",
    "GSI1PK",
    "GSI1SK",
    "GSI2PK",
    "GSI2SK",
    "GSI3PK",
    "GSI3SK",
    "GSI4PK",
    "GSI4SK",
];

/// Whether the old and new images differ in anything but `ignored`.
fn differs(record: &EventRecord, ignored: &[&str]) -> bool {
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let relevant = |k: &String| !ignored.contains(&k.as_str());
    old.keys()
        .chain(new.keys())
        .filter(|k| relevant(k))
        .any(|k| old.get(k) != new.get(k))
}

/// What a card shows of its freelancer: the name and the freelancer profile's location.
fn card_fields(
    image: &serde_dynamo::Item,
) -> (
    Option<&serde_dynamo::AttributeValue>,
    Option<&serde_dynamo::AttributeValue>,
) {
    let location = match image.get("freelancer_profile") {
        Some(serde_dynamo::AttributeValue::M(m)) => m.get("location"),
        _ => None,
    };
    (image.get("username"), location)
}

/// The follow-up work a change calls for (none, one or several), each with its queue.
pub fn route(record: &EventRecord) -> Vec<(Queue, WorkMessage)> {
    let mut out: Vec<(Queue, WorkMessage)> = match route_search(record) {
        Some(routed) => vec![routed],
        None => route_one(record)
            .into_iter()
            .chain(route_notice(record))
            .collect(),
    };
    out.extend(route_abuse(record));
    out.extend(route_counts(record));
    out.extend(route_ranking(record));
    out
}

/// A service's score reads these of it (and its freelancer's level and response rate).
const SCORED: [&str; 5] = [
    "rating_sum",
    "reviews_count",
    "orders_count",
    "views_count",
    "status",
];

/// A field of the freelancer profile (a map attribute of the user item).
fn profile_field(image: &serde_dynamo::Item, name: &str) -> Option<serde_dynamo::AttributeValue> {
    match image.get("freelancer_profile") {
        Some(serde_dynamo::AttributeValue::M(m)) => m.get(name).cloned(),
        _ => None,
    }
}

/// What the ranking must look at again: an active service whose scored fields changed (or
/// that was just published), a freelancer whose review sums changed or whose order completed.
/// The ranking's own writes (`ranking_score`, `seller_level`, response metrics) change none of
/// these, so they mark nothing.
fn route_ranking(record: &EventRecord) -> Option<(Queue, WorkMessage)> {
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let text = |name: &str| attr_text(new, name);
    match (record.event_name.as_str(), text("entity_type").as_deref()) {
        ("INSERT" | "MODIFY", Some("service"))
            if text("status").as_deref() == Some("active")
                && SCORED.iter().any(|k| old.get(*k) != new.get(*k)) =>
        {
            Some((
                Queue::Stats,
                WorkMessage::RankService {
                    service_id: text("id")?,
                },
            ))
        }
        ("MODIFY", Some("user"))
            if ["rating_sum", "total_reviews"]
                .iter()
                .any(|k| profile_field(old, k) != profile_field(new, k)) =>
        {
            Some((
                Queue::Stats,
                WorkMessage::RankFreelancer {
                    user_id: text("id")?,
                },
            ))
        }
        ("MODIFY", Some("order"))
            if text("status").as_deref() == Some("completed")
                && attr_text(old, "status").as_deref() != Some("completed") =>
        {
            Some((
                Queue::Stats,
                WorkMessage::RankFreelancer {
                    user_id: text("freelancer_id")?,
                },
            ))
        }
        _ => None,
    }
}

fn attr_text(image: &serde_dynamo::Item, name: &str) -> Option<String> {
    match image.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

fn attr_number(image: &serde_dynamo::Item, name: &str) -> Option<i64> {
    match image.get(name) {
        Some(serde_dynamo::AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// What the abuse detector looks at: new accounts (with the address they came from) and
/// users' messages.
fn route_abuse(record: &EventRecord) -> Option<(Queue, WorkMessage)> {
    if record.event_name != "INSERT" {
        return None;
    }
    let new = &record.change.new_image;
    let message = match attr_text(new, "entity_type").as_deref() {
        Some("user") => WorkMessage::AccountRegistered {
            user_id: attr_text(new, "id")?,
            ip: attr_text(new, "registered_ip")?,
            occurred_at_ms: occurred_ms(record),
        },
        Some("message") => {
            let m: crate::domain::messaging::Message = serde_dynamo::from_item(new.clone()).ok()?;
            WorkMessage::MessageSent {
                message_id: m.id.to_string(),
                conversation_id: m.conversation_id.to_string(),
                sender_id: m.sender_id?.to_string(),
                recipients: m.recipients.iter().map(ToString::to_string).collect(),
                content: m.content,
                sent_at_ms: u64::try_from(m.created_at.timestamp_millis()).unwrap_or(0),
            }
        }
        _ => return None,
    };
    Some((Queue::Abuse, message))
}

/// What a change adds to the operators' counters (`None` when nothing).
pub fn counter_change(record: &EventRecord) -> Option<CounterChange> {
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let image = if new.is_empty() { old } else { new };
    let kind = attr_text(image, "entity_type")?;
    let mut c = CounterChange {
        id: record.event_id.clone(),
        day: crate::domain::stats::china_day(record.change.approximate_creation_date_time),
        ..CounterChange::default()
    };
    let (inserted, modified) = match record.event_name.as_str() {
        "INSERT" => (true, false),
        "MODIFY" => (false, true),
        _ => return None,
    };
    let was = |name: &str| attr_text(old, name);
    let is = |name: &str| attr_text(new, name);
    match kind.as_str() {
        "user" => {
            let user_type = is("user_type")?;
            if inserted {
                c.add_current(format!("users_{user_type}"), 1);
                c.add_daily("new_users", 1);
                c.add_daily(format!("new_users_{user_type}"), 1);
            } else if is("status").as_deref() == Some("deactivated")
                && was("status").as_deref() != Some("deactivated")
            {
                c.add_current(format!("users_{user_type}"), -1);
            }
        }
        "order" => {
            let status = is("status")?;
            if modified && let Some(before) = was("status") {
                c.add_current(format!("orders_{before}"), -1);
            }
            c.add_current(format!("orders_{status}"), 1);
            if is("payment_status").as_deref() == Some("paid")
                && was("payment_status").as_deref() != Some("paid")
            {
                c.add_daily("orders_paid", 1);
                c.add_daily("gmv_fen", attr_number(new, "total_amount").unwrap_or(0));
            }
            if status == "completed" && was("status").as_deref() != Some("completed") {
                c.add_daily("orders_completed", 1);
            }
        }
        "ledger_line" if inserted => {
            if is("account")?.starts_with("platform:revenue:") {
                c.add_daily("revenue_fen", attr_number(new, "amount")?);
            }
        }
        "report" | "verification" | "withdrawal" => {
            let gauge = format!("{kind}s_pending");
            let pending = |v: Option<String>| i64::from(v.as_deref() == Some("pending"));
            c.add_current(gauge, pending(is("status")) - pending(was("status")));
        }
        _ => return None,
    }
    let c = c.tidy();
    (!c.is_empty()).then_some(c)
}

/// The business metrics a committed change counts (CloudWatch EMF, namespace `Gigbao`): orders
/// placed and paid, GMV in fen, withdrawals paid out and refused by the gateway, messages
/// sent, new users. The stream delivers a change at least once, so a retried batch can count
/// a change twice: these are for dashboards and alarms, the ledger is for money.
pub fn business_metrics(record: &EventRecord) -> [(&'static str, i64, &'static str); 7] {
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let kind = attr_text(new, "entity_type");
    let inserted = record.event_name == "INSERT";
    let became = |name: &str, value: &str| {
        attr_text(new, name).as_deref() == Some(value)
            && attr_text(old, name).as_deref() != Some(value)
    };
    let (mut placed, mut paid, mut gmv, mut w_paid, mut w_failed, mut messages, mut users) =
        (0, 0, 0, 0, 0, 0, 0);
    match kind.as_deref() {
        Some("order") => {
            placed = i64::from(inserted);
            if became("payment_status", "paid") {
                paid = 1;
                gmv = attr_number(new, "total_amount").unwrap_or(0);
            }
        }
        Some("withdrawal") => {
            w_paid = i64::from(became("status", "paid"));
            w_failed = i64::from(became("status", "failed"));
        }
        Some("message") => messages = i64::from(inserted),
        Some("user") => users = i64::from(inserted),
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

/// The business metrics of `records`, summed, as one EMF line on stdout.
fn emit_business_metrics(records: &[EventRecord]) {
    let mut sums = [("", 0i64, ""); 7];
    for record in records {
        for (i, (name, value, unit)) in business_metrics(record).into_iter().enumerate() {
            sums[i] = (name, sums[i].1 + value, unit);
        }
    }
    crate::telemetry::emit_metrics(&sums);
}

fn route_counts(record: &EventRecord) -> Option<(Queue, WorkMessage)> {
    counter_change(record).map(|c| (Queue::Stats, WorkMessage::Counters(c)))
}

fn occurred_ms(record: &EventRecord) -> u64 {
    u64::try_from(
        record
            .change
            .approximate_creation_date_time
            .timestamp_millis(),
    )
    .unwrap_or(0)
}

/// What the parties are told besides: a message written, a review received, a verification
/// or withdrawal decided.
fn route_notice(record: &EventRecord) -> Option<(Queue, WorkMessage)> {
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let text = attr_text;
    let id = record.event_id.clone();
    let occurred_at_ms = occurred_ms(record);
    let changed = |name: &str| text(old, name) != text(new, name);
    let message = match (
        record.event_name.as_str(),
        text(new, "entity_type").as_deref(),
    ) {
        ("INSERT", Some("message")) => {
            let m: crate::domain::messaging::Message = serde_dynamo::from_item(new.clone()).ok()?;
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
        ("INSERT", Some("review")) => WorkMessage::ReviewReceived {
            id,
            review_id: text(new, "id")?,
            freelancer_id: text(new, "freelancer_id")?,
            client_username: text(new, "client_username").unwrap_or_default(),
            rating: u8::try_from(attr_number(new, "rating")?).ok()?,
            occurred_at_ms,
        },
        ("MODIFY", Some("verification")) if changed("status") => {
            WorkMessage::VerificationReviewed {
                id,
                verification_id: text(new, "id")?,
                user_id: text(new, "user_id")?,
                status: text(new, "status")
                    .and_then(|s| VerificationStatus::parse(&s))
                    .filter(|s| *s != VerificationStatus::Pending)?,
                reason: text(new, "reason"),
                occurred_at_ms,
            }
        }
        ("MODIFY", Some("withdrawal")) if changed("status") => WorkMessage::WithdrawalReviewed {
            id,
            withdrawal_id: text(new, "id")?,
            user_id: text(new, "user_id")?,
            status: text(new, "status")
                .and_then(|s| WithdrawalStatus::parse(&s))
                .filter(|s| *s != WithdrawalStatus::Pending)?,
            amount_fen: attr_number(new, "amount")?,
            reason: text(new, "reason"),
            occurred_at_ms,
        },
        ("MODIFY", Some("report")) if changed("status") => WorkMessage::ReportDecided {
            id,
            report_id: text(new, "id")?,
            reporter_id: text(new, "reporter_id").filter(|r| r != crate::domain::report::SYSTEM)?,
            status: text(new, "status")
                .and_then(|s| ReportStatus::parse(&s))
                .filter(|s| *s != ReportStatus::Pending)?,
            target_type: text(new, "target_type").and_then(|t| TargetType::parse(&t))?,
            occurred_at_ms,
        },
        ("MODIFY", Some("data_export")) if changed("status") => WorkMessage::ExportReady {
            id,
            user_id: text(new, "user_id")?,
            export_id: text(new, "id")?,
            occurred_at_ms: text(new, "status")
                .filter(|s| s == "ready")
                .map(|_| occurred_at_ms)?,
        },
        ("INSERT", Some("monthly_report")) => WorkMessage::MonthlyReport {
            id,
            user_id: text(new, "user_id")?,
            month: text(new, "month")?,
            report: serde_dynamo::from_item(new.clone()).ok()?,
            occurred_at_ms,
        },
        _ => return None,
    };
    Some((Queue::Notifications, message))
}

/// Stats and order work.
fn route_one(record: &EventRecord) -> Option<(Queue, WorkMessage)> {
    let image = &record.change.new_image;
    let text = |name: &str| attr_text(image, name);
    match (record.event_name.as_str(), text("entity_type").as_deref()) {
        ("INSERT", Some("user")) => Some((
            Queue::Notifications,
            WorkMessage::UserRegistered {
                id: record.event_id.clone(),
                user_id: text("id")?,
                occurred_at_ms: occurred_ms(record),
            },
        )),
        ("INSERT" | "MODIFY", Some("order"))
            if record.change.old_image.get("last_event") != image.get("last_event") =>
        {
            let event: OrderEvent =
                serde_dynamo::from_attribute_value(image.get("last_event")?.clone()).ok()?;
            Some((
                Queue::Notifications,
                WorkMessage::OrderEvent {
                    id: record.event_id.clone(),
                    order_id: text("id")?,
                    order_number: text("order_number")?,
                    event: event.kind,
                    by: event.by,
                    client_id: text("client_id")?,
                    freelancer_id: text("freelancer_id")?,
                    occurred_at_ms: occurred_ms(record),
                },
            ))
        }
        ("INSERT", Some("data_export")) => Some((
            Queue::Exports,
            WorkMessage::ExportRequested {
                user_id: text("user_id")?,
                export_id: text("id")?,
            },
        )),
        ("INSERT", Some("review")) => Some((
            Queue::Stats,
            WorkMessage::ReviewChanged {
                review_id: text("id")?,
            },
        )),
        // Only a change of who may see it moves a review into or out of the sums (its own
        // `counted` flag changing is the worker's echo, and a response changes nothing).
        ("MODIFY", Some("review"))
            if ["is_public", "hidden"]
                .iter()
                .any(|k| record.change.old_image.get(*k) != image.get(*k)) =>
        {
            Some((
                Queue::Stats,
                WorkMessage::ReviewChanged {
                    review_id: text("id")?,
                },
            ))
        }
        ("INSERT" | "MODIFY", Some("view_shard")) => Some((
            Queue::Stats,
            WorkMessage::ViewsChanged {
                service_id: text("service_id")?,
            },
        )),
        _ => None,
    }
}

/// Search work: a service that appeared, changed what search shows, or went; a freelancer
/// whose name or location changed.
fn route_search(record: &EventRecord) -> Option<(Queue, WorkMessage)> {
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let image = if new.is_empty() { old } else { new };
    let text = |name: &str| attr_text(image, name);
    match (record.event_name.as_str(), text("entity_type").as_deref()) {
        ("INSERT" | "REMOVE", Some("service")) => {}
        ("MODIFY", Some("service")) if differs(record, &UNSEARCHED) => {}
        ("MODIFY", Some("user")) if card_fields(old) != card_fields(new) => {
            return Some((
                Queue::Search,
                WorkMessage::SearchFreelancer {
                    user_id: text("id")?,
                },
            ));
        }
        _ => return None,
    }
    Some((
        Queue::Search,
        WorkMessage::SearchService {
            service_id: text("id")?,
        },
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Notifications,
    Stats,
    Search,
    Abuse,
    Exports,
}

/// Routes a batch in order. On the first failure it stops and reports that record, so the
/// stream retries from there and nothing after it is skipped.
pub async fn handle(deps: &'static Deps, event: Event) -> Result<BatchResponse, BoxError> {
    let mut sent: Vec<WorkMessage> = Vec::new();
    for (record, (queue, message)) in event
        .records
        .iter()
        .flat_map(|r| route(r).into_iter().map(move |m| (r, m)))
    {
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
            Queue::Search => Config::require(&deps.config.search_queue_url, "SEARCH_QUEUE_URL")?,
            Queue::Abuse => Config::require(&deps.config.abuse_queue_url, "ABUSE_QUEUE_URL")?,
            Queue::Exports => Config::require(&deps.config.exports_queue_url, "EXPORTS_QUEUE_URL")?,
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
            let done = event
                .records
                .iter()
                .position(|r| r.event_id == record.event_id)
                .unwrap_or(0);
            emit_business_metrics(&event.records[..done]);
            let id = record
                .change
                .sequence_number
                .clone()
                .unwrap_or_else(|| record.event_id.clone());
            return Ok(BatchResponse {
                batch_item_failures: vec![ItemFailure {
                    item_identifier: id,
                }],
            });
        }
        tracing::info!(event_id = %record.event_id, "routed");
        sent.push(message);
    }
    emit_business_metrics(&event.records);
    Ok(BatchResponse::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one message a change calls for (these changes call for at most one).
    fn one(r: &EventRecord) -> Option<(Queue, WorkMessage)> {
        let v: Vec<_> = route(r)
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

    fn record(event_name: &str, entity_type: &str) -> EventRecord {
        serde_json::from_value(serde_json::json!({
            "awsRegion": "us-east-1",
            "eventID": "ev-1",
            "eventName": event_name,
            "dynamodb": {
                "ApproximateCreationDateTime": 1764000000.0,
                "NewImage": {
                    "PK": {"S": "USER#01J"}, "SK": {"S": "USER"},
                    "entity_type": {"S": entity_type}, "id": {"S": "01JUSER"}
                },
                "SequenceNumber": "100",
                "SizeBytes": 10,
                "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        }))
        .unwrap()
    }

    /// A change of one item from `old` to `new` attributes (strings, or numbers as `N`).
    fn change(name: &str, old: serde_json::Value, new: serde_json::Value) -> EventRecord {
        let image = |v: serde_json::Value| -> serde_json::Value {
            v.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let attr = match v {
                        serde_json::Value::Number(n) => serde_json::json!({"N": n.to_string()}),
                        other => serde_json::json!({"S": other.as_str().unwrap()}),
                    };
                    (k.clone(), attr)
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        serde_json::from_value(serde_json::json!({
            "awsRegion": "us-east-1", "eventID": "ev-2", "eventName": name,
            "dynamodb": {
                "ApproximateCreationDateTime": 1764000000.0,
                "OldImage": image(old), "NewImage": image(new),
                "SequenceNumber": "101", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        }))
        .unwrap()
    }

    fn metric(record: &EventRecord, name: &str) -> i64 {
        business_metrics(record)
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, v, _)| *v)
            .unwrap()
    }

    #[test]
    fn committed_changes_count_as_business_metrics_once_per_transition() {
        let placed = change(
            "INSERT",
            serde_json::json!({}),
            serde_json::json!({"entity_type": "order", "status": "pending", "payment_status": "unpaid", "total_amount": 12345}),
        );
        assert_eq!(metric(&placed, "OrdersPlaced"), 1);
        assert_eq!(metric(&placed, "OrdersPaid"), 0);
        let paid = change(
            "MODIFY",
            serde_json::json!({"entity_type": "order", "payment_status": "unpaid", "total_amount": 12345}),
            serde_json::json!({"entity_type": "order", "payment_status": "paid", "total_amount": 12345}),
        );
        assert_eq!(metric(&paid, "OrdersPaid"), 1);
        assert_eq!(metric(&paid, "GmvFen"), 12345);
        assert_eq!(metric(&paid, "OrdersPlaced"), 0);
        // Another change of a paid order is not another payment.
        let later = change(
            "MODIFY",
            serde_json::json!({"entity_type": "order", "payment_status": "paid", "status": "in_progress"}),
            serde_json::json!({"entity_type": "order", "payment_status": "paid", "status": "delivered"}),
        );
        assert_eq!(metric(&later, "OrdersPaid"), 0);
        let refused = change(
            "MODIFY",
            serde_json::json!({"entity_type": "withdrawal", "status": "processing"}),
            serde_json::json!({"entity_type": "withdrawal", "status": "failed"}),
        );
        assert_eq!(metric(&refused, "WithdrawalsFailed"), 1);
        assert_eq!(metric(&refused, "WithdrawalsPaid"), 0);
        assert_eq!(metric(&record("INSERT", "message"), "MessagesSent"), 1);
        assert_eq!(metric(&record("INSERT", "user"), "NewUsers"), 1);
    }

    #[test]
    fn a_new_user_becomes_a_notification_job() {
        let (queue, msg) = one(&record("INSERT", "user")).unwrap();
        assert_eq!(queue, Queue::Notifications);
        assert_eq!(
            msg,
            WorkMessage::UserRegistered {
                id: "ev-1".into(),
                user_id: "01JUSER".into(),
                occurred_at_ms: 1_764_000_000_000
            }
        );
    }

    #[test]
    fn a_view_shard_change_becomes_a_fold_job() {
        let mut r = record("MODIFY", "view_shard");
        r.change.new_image.insert(
            "service_id".into(),
            serde_dynamo::AttributeValue::S("01JSVC".into()),
        );
        let (queue, msg) = one(&r).unwrap();
        assert_eq!(queue, Queue::Stats);
        assert_eq!(
            msg,
            WorkMessage::ViewsChanged {
                service_id: "01JSVC".into()
            }
        );
    }

    #[test]
    fn an_order_change_becomes_a_notification_job() {
        let mut r = record("MODIFY", "order");
        for (k, v) in [
            ("order_number", "ORD20261124160000ABCDEF"),
            ("client_id", "01JCLIENT"),
            ("freelancer_id", "01JFREELANCER"),
        ] {
            r.change
                .new_image
                .insert(k.into(), serde_dynamo::AttributeValue::S(v.into()));
        }
        r.change.new_image.insert(
            "last_event".into(),
            serde_dynamo::AttributeValue::M(
                [
                    ("kind", "delivered"),
                    ("by", "freelancer"),
                    ("at", "2026-11-24T08:00:00Z"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), serde_dynamo::AttributeValue::S(v.into())))
                .collect(),
            ),
        );
        let (queue, msg) = one(&r).unwrap();
        assert_eq!(queue, Queue::Notifications);
        assert_eq!(
            msg,
            WorkMessage::OrderEvent {
                id: "ev-1".into(),
                order_id: "01JUSER".into(),
                order_number: "ORD20261124160000ABCDEF".into(),
                event: crate::domain::order::EventKind::Delivered,
                by: crate::domain::order::Actor::Freelancer,
                client_id: "01JCLIENT".into(),
                freelancer_id: "01JFREELANCER".into(),
                occurred_at_ms: 1_764_000_000_000,
            }
        );
        // A removed order (TTL or cleanup) says nothing.
        r.event_name = "REMOVE".into();
        assert_eq!(one(&r), None);
    }

    fn service_change(event_name: &str, old: &[(&str, &str)], new: &[(&str, &str)]) -> EventRecord {
        let image = |pairs: &[(&str, &str)]| -> serde_dynamo::Item {
            let mut m: std::collections::HashMap<String, serde_dynamo::AttributeValue> = pairs
                .iter()
                .map(|(k, v)| {
                    (
                        (*k).to_owned(),
                        serde_dynamo::AttributeValue::S((*v).into()),
                    )
                })
                .collect();
            if !pairs.is_empty() {
                m.insert(
                    "entity_type".into(),
                    serde_dynamo::AttributeValue::S("service".into()),
                );
                m.insert(
                    "id".into(),
                    serde_dynamo::AttributeValue::S("01JSVC".into()),
                );
            }
            m.into()
        };
        let mut r = record(event_name, "service");
        r.change.old_image = image(old);
        r.change.new_image = image(new);
        r
    }

    #[test]
    fn service_changes_search_shows_are_indexed() {
        let search = Some((
            Queue::Search,
            WorkMessage::SearchService {
                service_id: "01JSVC".into(),
            },
        ));
        let base = [("status", "active"), ("title", "Logo design")];
        assert_eq!(one(&service_change("INSERT", &[], &base)), search);
        assert_eq!(one(&service_change("REMOVE", &base, &[])), search);
        // Paused, retitled, rated: re-indexed.
        for (k, v) in [
            ("status", "paused"),
            ("title", "Logo design pro"),
            ("rating", "4.9"),
        ] {
            let mut new = base.to_vec();
            new.retain(|(n, _)| *n != k);
            new.push((k, v));
            assert_eq!(one(&service_change("MODIFY", &base, &new)), search, "{k}");
        }
        // Only views, open orders or bookkeeping changed: nothing to do.
        let mut new = base.to_vec();
        new.extend([
            ("views_count", "9"),
            ("open_orders", "1"),
            ("updated_at", "x"),
            ("version", "3"),
        ]);
        assert_eq!(one(&service_change("MODIFY", &base, &new)), None);
    }

    fn ranked(r: &EventRecord) -> Vec<WorkMessage> {
        route(r)
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

    #[test]
    fn what_a_score_or_a_level_reads_marks_it_for_the_ranking_and_nothing_else_does() {
        let service = WorkMessage::RankService {
            service_id: "01JSVC".into(),
        };
        let base = [("status", "active"), ("title", "Logo design")];
        // Published; its views, ratings or orders moved: marked.
        let draft = [("status", "draft"), ("title", "Logo design")];
        assert_eq!(
            ranked(&service_change("MODIFY", &draft, &base)),
            std::slice::from_ref(&service)
        );
        for k in ["views_count", "rating_sum", "reviews_count", "orders_count"] {
            let mut new = base.to_vec();
            new.push((k, "7"));
            assert_eq!(
                ranked(&service_change("MODIFY", &base, &new)),
                std::slice::from_ref(&service),
                "{k}"
            );
        }
        // Its own score written, a title edited, a paused service's views: not marked.
        for (k, v) in [
            ("ranking_score", "0.8"),
            ("seller_level", "level_one"),
            ("title", "x"),
        ] {
            let mut new = base.to_vec();
            new.retain(|(n, _)| *n != k);
            new.push((k, v));
            assert!(
                ranked(&service_change("MODIFY", &base, &new)).is_empty(),
                "{k}"
            );
        }
        let paused = [("status", "paused"), ("title", "Logo design")];
        let mut viewed = paused.to_vec();
        viewed.push(("views_count", "3"));
        assert!(ranked(&service_change("MODIFY", &paused, &viewed)).is_empty());

        // A review counted into the freelancer's sums, an order completed: the freelancer.
        let profile = |sum: &str, level: &str| {
            serde_json::json!({"M": {
                "rating_sum": {"N": sum}, "total_reviews": {"N": "1"},
                "seller_level": {"S": level}
            }})
        };
        let user = |old: serde_json::Value, new: serde_json::Value| -> EventRecord {
            let mut r = record("MODIFY", "user");
            r.change.old_image = r.change.new_image.clone();
            r.change.old_image.insert(
                "freelancer_profile".into(),
                serde_json::from_value(old).unwrap(),
            );
            r.change.new_image.insert(
                "freelancer_profile".into(),
                serde_json::from_value(new).unwrap(),
            );
            r
        };
        assert_eq!(
            ranked(&user(profile("4", "new"), profile("9", "new"))),
            [WorkMessage::RankFreelancer {
                user_id: "01JUSER".into()
            }]
        );
        // The ranking writing a level back marks nothing (no loop).
        assert!(ranked(&user(profile("4", "new"), profile("4", "level_one"))).is_empty());
        let done = change(
            "MODIFY",
            serde_json::json!({"entity_type": "order", "id": "01JORDER", "status": "delivered", "freelancer_id": "01JFREE"}),
            serde_json::json!({"entity_type": "order", "id": "01JORDER", "status": "completed", "freelancer_id": "01JFREE"}),
        );
        assert_eq!(
            ranked(&done),
            [WorkMessage::RankFreelancer {
                user_id: "01JFREE".into()
            }]
        );
    }

    #[test]
    fn a_freelancer_renamed_or_moved_reindexes_their_cards() {
        let mut r = record("MODIFY", "user");
        r.change.old_image = r.change.new_image.clone();
        r.change.new_image.insert(
            "username".into(),
            serde_dynamo::AttributeValue::S("lin_design".into()),
        );
        assert_eq!(
            one(&r),
            Some((
                Queue::Search,
                WorkMessage::SearchFreelancer {
                    user_id: "01JUSER".into()
                }
            ))
        );
    }

    #[test]
    fn a_review_is_counted_when_written_and_when_its_visibility_changes() {
        let counted = Some((
            Queue::Stats,
            WorkMessage::ReviewChanged {
                review_id: "01JUSER".into(),
            },
        ));
        let mut r = record("INSERT", "review");
        assert_eq!(one(&r), counted);
        r.event_name = "MODIFY".into();
        r.change.old_image = r.change.new_image.clone();
        // The worker's own `counted` flag, or a response: nothing to do.
        for k in ["counted", "response"] {
            r.change
                .new_image
                .insert(k.into(), serde_dynamo::AttributeValue::Bool(true));
        }
        assert_eq!(one(&r), None);
        // Hidden by an operator: out of the sums.
        r.change
            .new_image
            .insert("hidden".into(), serde_dynamo::AttributeValue::Bool(true));
        assert_eq!(one(&r), counted);
    }

    #[test]
    fn an_export_request_goes_to_the_exporter_and_its_completion_to_its_owner() {
        let requested = change(
            "INSERT",
            serde_json::json!({}),
            serde_json::json!({"entity_type": "data_export", "id": "01JEXPORT", "user_id": "01JUSER", "status": "pending"}),
        );
        assert_eq!(
            route(&requested),
            vec![(
                Queue::Exports,
                WorkMessage::ExportRequested {
                    user_id: "01JUSER".into(),
                    export_id: "01JEXPORT".into()
                }
            )]
        );
        let ready = change(
            "MODIFY",
            serde_json::json!({"entity_type": "data_export", "id": "01JEXPORT", "user_id": "01JUSER", "status": "pending"}),
            serde_json::json!({"entity_type": "data_export", "id": "01JEXPORT", "user_id": "01JUSER", "status": "ready"}),
        );
        let routed = route(&ready);
        assert!(
            matches!(routed.as_slice(), [(Queue::Notifications, WorkMessage::ExportReady { export_id, user_id, .. })] if export_id == "01JEXPORT" && user_id == "01JUSER"),
            "{routed:?}"
        );
    }

    #[test]
    fn other_changes_are_ignored() {
        assert!(one(&record("MODIFY", "user")).is_none());
        assert!(one(&record("INSERT", "session")).is_none());
    }

    #[test]
    fn a_review_is_counted_and_its_freelancer_told() {
        let mut r = record("INSERT", "review");
        for (k, v) in [("freelancer_id", "01JFREE"), ("client_username", "lin")] {
            r.change
                .new_image
                .insert(k.into(), serde_dynamo::AttributeValue::S(v.into()));
        }
        r.change
            .new_image
            .insert("rating".into(), serde_dynamo::AttributeValue::N("5".into()));
        let routed = route(&r);
        assert_eq!(routed.len(), 2);
        assert_eq!(routed[0].0, Queue::Stats);
        assert_eq!(
            routed[1],
            (
                Queue::Notifications,
                WorkMessage::ReviewReceived {
                    id: "ev-1".into(),
                    review_id: "01JUSER".into(),
                    freelancer_id: "01JFREE".into(),
                    client_username: "lin".into(),
                    rating: 5,
                    occurred_at_ms: 1_764_000_000_000,
                }
            )
        );
    }

    #[test]
    fn a_decided_withdrawal_is_told_but_a_new_one_is_not() {
        let mut r = record("MODIFY", "withdrawal");
        r.change.new_image.insert(
            "user_id".into(),
            serde_dynamo::AttributeValue::S("01JU".into()),
        );
        r.change.new_image.insert(
            "amount".into(),
            serde_dynamo::AttributeValue::N("10000".into()),
        );
        r.change.old_image = r.change.new_image.clone();
        r.change.old_image.insert(
            "status".into(),
            serde_dynamo::AttributeValue::S("pending".into()),
        );
        r.change.new_image.insert(
            "status".into(),
            serde_dynamo::AttributeValue::S("rejected".into()),
        );
        assert!(matches!(
            one(&r),
            Some((
                Queue::Notifications,
                WorkMessage::WithdrawalReviewed {
                    status: WithdrawalStatus::Rejected,
                    amount_fen: 10000,
                    ..
                }
            ))
        ));
        r.change.old_image = r.change.new_image.clone();
        assert_eq!(one(&r), None);
    }

    fn s(v: &str) -> serde_dynamo::AttributeValue {
        serde_dynamo::AttributeValue::S(v.into())
    }

    #[test]
    fn a_paid_order_moves_the_gauges_and_adds_to_gmv_once() {
        let mut r = record("MODIFY", "order");
        for (k, v) in [("status", "pending"), ("payment_status", "pending")] {
            r.change.old_image.insert(k.into(), s(v));
        }
        r.change.old_image.insert("entity_type".into(), s("order"));
        for (k, v) in [("status", "in_progress"), ("payment_status", "paid")] {
            r.change.new_image.insert(k.into(), s(v));
        }
        r.change.new_image.insert(
            "total_amount".into(),
            serde_dynamo::AttributeValue::N("19900".into()),
        );
        let c = counter_change(&r).unwrap();
        assert_eq!(c.id, "ev-1");
        assert_eq!(c.day, "2025-11-25");
        assert_eq!(c.current["orders_pending"], -1);
        assert_eq!(c.current["orders_in_progress"], 1);
        assert_eq!(c.daily["gmv_fen"], 19_900);
        assert_eq!(c.daily["orders_paid"], 1);
        // A later change that does not touch status or payment counts nothing.
        let mut later = r.clone();
        later.change.old_image = later.change.new_image.clone();
        assert_eq!(counter_change(&later), None);
    }

    #[test]
    fn a_decided_report_leaves_the_queue_and_tells_its_reporter_not_the_system() {
        let mut r = record("MODIFY", "report");
        r.change.old_image.insert("entity_type".into(), s("report"));
        r.change.old_image.insert("status".into(), s("pending"));
        for (k, v) in [
            ("status", "resolved"),
            ("reporter_id", "01JREPORTER"),
            ("target_type", "service"),
        ] {
            r.change.new_image.insert(k.into(), s(v));
        }
        let c = counter_change(&r).unwrap();
        assert_eq!(c.current["reports_pending"], -1);
        let routed = route(&r);
        assert!(routed.iter().any(|(q, m)| *q == Queue::Notifications
            && matches!(m, WorkMessage::ReportDecided { reporter_id, status: ReportStatus::Resolved, .. }
                if reporter_id == "01JREPORTER")));
        r.change
            .new_image
            .insert("reporter_id".into(), s(crate::domain::report::SYSTEM));
        assert!(
            !route(&r)
                .iter()
                .any(|(_, m)| matches!(m, WorkMessage::ReportDecided { .. }))
        );
    }

    #[test]
    fn new_accounts_are_counted_and_checked_for_abuse() {
        let mut r = record("INSERT", "user");
        r.change
            .new_image
            .insert("user_type".into(), s("freelancer"));
        r.change
            .new_image
            .insert("registered_ip".into(), s("198.51.100.7"));
        let routed = route(&r);
        assert!(routed.iter().any(|(q, m)| *q == Queue::Abuse
            && matches!(m, WorkMessage::AccountRegistered { ip, .. } if ip == "198.51.100.7")));
        let c = counter_change(&r).unwrap();
        assert_eq!(c.current["users_freelancer"], 1);
        assert_eq!(c.daily["new_users"], 1);
        assert_eq!(c.daily["new_users_freelancer"], 1);
    }
}
