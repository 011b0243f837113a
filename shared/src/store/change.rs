//! The table's change stream in the store's own types. A stream record is decoded with the
//! same record types the store writes, so whoever reads the stream (`workers::stream_router`)
//! works on typed entities and never on the item layout.

use aws_lambda_events::event::dynamodb::EventRecord;
use chrono::{DateTime, Utc};
use serde::Deserialize;

pub use super::entity_type::EntityType;
use super::ledger::LineRecord;
use super::verifications::VerificationRecord;
use super::{StoreError, messaging, orders, payments, plain, records, reports, reviews, services};
use crate::domain::export::DataExport;
use crate::domain::messaging::Message;
use crate::domain::order::Order;
use crate::domain::payment::Withdrawal;
use crate::domain::report::Report;
use crate::domain::review::Review;
use crate::domain::service::Service;
use crate::domain::stats::MonthlyReport;
use crate::domain::{ServiceId, User, UserId};

/// Whether an item appeared, changed or went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

/// One change of one item: what it was (`None` for an insert) and what it is (`None` for a
/// removal).
#[derive(Debug, Clone, PartialEq)]
pub struct Change<T> {
    pub old: Option<T>,
    pub new: Option<T>,
}

impl<T> Change<T> {
    /// The item as it is now, or as it was when it went.
    pub fn current(&self) -> Option<&T> {
        self.new.as_ref().or(self.old.as_ref())
    }

    /// The new item of an insert.
    pub fn inserted(&self) -> Option<&T> {
        self.new.as_ref().filter(|_| self.old.is_none())
    }

    /// Whether `f` of the item differs between before and after (an insert or a removal
    /// changes everything).
    pub fn changed<V: PartialEq>(&self, f: impl Fn(&T) -> V) -> bool {
        match (&self.old, &self.new) {
            (Some(old), Some(new)) => f(old) != f(new),
            _ => true,
        }
    }

    /// Whether `f` of the item is now `value` and was not before.
    pub fn became<V: PartialEq>(&self, f: impl Fn(&T) -> V, value: V) -> bool {
        self.new.as_ref().is_some_and(|n| f(n) == value)
            && self.old.as_ref().is_none_or(|o| f(o) != value)
    }
}

/// A stored monthly report with its owner.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MonthlyReportItem {
    pub user_id: UserId,
    #[serde(flatten)]
    pub report: MonthlyReport,
}

/// One shard of a service's view counter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ViewShard {
    pub service_id: ServiceId,
    #[serde(default)]
    pub views: u64,
}

/// A change of one of the entities the stream's readers follow.
#[derive(Debug, Clone, PartialEq)]
// One change at a time passes through the router; boxing the larger images would only add
// an allocation per record.
#[allow(clippy::large_enum_variant)]
pub enum Entity {
    User(Change<User>),
    Service(Change<Service>),
    Order(Change<Order>),
    Review(Change<Review>),
    Message(Change<Message>),
    Verification(Change<VerificationRecord>),
    Withdrawal(Change<Withdrawal>),
    Report(Change<Report>),
    DataExport(Change<DataExport>),
    MonthlyReport(Change<MonthlyReportItem>),
    ViewShard(Change<ViewShard>),
    LedgerLine(Change<LineRecord>),
    Refund(Change<crate::domain::refund::Refund>),
    Clearance(Change<crate::domain::clearance::Clearance>),
    Brief(Change<crate::domain::brief::Brief>),
    Proposal(Change<crate::domain::brief::Proposal>),
    Offer(Change<crate::domain::offer::Offer>),
    /// An item nobody follows.
    Other(EntityType),
}

/// A decoded stream record: its id (what work derived from it is keyed by), when it was
/// written, and the entity's change.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamChange {
    pub id: String,
    pub at: DateTime<Utc>,
    pub kind: ChangeKind,
    pub entity: Entity,
}

impl StreamChange {
    /// When it was written, in milliseconds (what queue messages carry).
    pub fn at_ms(&self) -> u64 {
        u64::try_from(self.at.timestamp_millis()).unwrap_or(0)
    }
}

/// Decodes a stream record. An item of a followed kind that does not decode is an error (the
/// record is retried, then kept where the stream's failures go), never silently skipped.
pub fn decode(record: &EventRecord) -> Result<StreamChange, StoreError> {
    let kind = match record.event_name.as_str() {
        "INSERT" => ChangeKind::Insert,
        "MODIFY" => ChangeKind::Modify,
        "REMOVE" => ChangeKind::Remove,
        other => return Err(StoreError::Decode(format!("stream event {other}"))),
    };
    let (old, new) = (&record.change.old_image, &record.change.new_image);
    let image = if new.is_empty() { old } else { new };
    let entity_type = match image.get("entity_type") {
        Some(serde_dynamo::AttributeValue::S(s)) => {
            serde_json::from_value(serde_json::Value::String(s.clone()))
                .unwrap_or(EntityType::Other)
        }
        _ => EntityType::Other,
    };
    fn both<T>(
        old: &serde_dynamo::Item,
        new: &serde_dynamo::Item,
        read: fn(serde_dynamo::Item) -> Result<T, StoreError>,
    ) -> Result<Change<T>, StoreError> {
        let side = |image: &serde_dynamo::Item| {
            (!image.is_empty()).then(|| read(image.clone())).transpose()
        };
        Ok(Change {
            old: side(old)?,
            new: side(new)?,
        })
    }
    let entity = match entity_type {
        EntityType::User => Entity::User(both(old, new, records::decode_user)?),
        EntityType::Service => Entity::Service(both(old, new, services::service_of_image)?),
        EntityType::Order => Entity::Order(both(old, new, orders::decode_order)?),
        EntityType::Review => Entity::Review(both(old, new, reviews::decode_review)?),
        EntityType::Message => Entity::Message(both(old, new, messaging::decode_message)?),
        EntityType::Verification => Entity::Verification(both(old, new, plain)?),
        EntityType::Withdrawal => Entity::Withdrawal(both(old, new, payments::decode_withdrawal)?),
        EntityType::Report => Entity::Report(both(old, new, reports::decode_report)?),
        EntityType::DataExport => Entity::DataExport(both(old, new, plain)?),
        EntityType::MonthlyReport => Entity::MonthlyReport(both(old, new, plain)?),
        EntityType::ViewShard => Entity::ViewShard(both(old, new, plain)?),
        EntityType::LedgerLine => Entity::LedgerLine(both(old, new, plain)?),
        EntityType::Refund => Entity::Refund(both(old, new, plain)?),
        EntityType::Clearance => Entity::Clearance(both(old, new, plain)?),
        EntityType::Brief => Entity::Brief(both(old, new, plain)?),
        EntityType::Proposal => Entity::Proposal(both(old, new, plain)?),
        EntityType::Offer => Entity::Offer(both(old, new, plain)?),
        other => Entity::Other(other),
    };
    Ok(StreamChange {
        id: record.event_id.clone(),
        at: record.change.approximate_creation_date_time,
        kind,
        entity,
    })
}

/// Items as the store writes them, for building stream records in tests and tools.
pub mod image {
    use super::super::{StoreError, orders, payments, records, reports, reviews, services};
    use crate::domain::User;
    use crate::domain::order::Order;
    use crate::domain::payment::Withdrawal;
    use crate::domain::report::Report;
    use crate::domain::review::Review;
    use crate::domain::service::Service;

    pub fn user(u: &User) -> Result<serde_dynamo::Item, StoreError> {
        records::user_image(u)
    }

    pub fn service(s: &Service) -> Result<serde_dynamo::Item, StoreError> {
        services::service_image(s)
    }

    pub fn order(o: &Order) -> Result<serde_dynamo::Item, StoreError> {
        orders::order_image(o)
    }

    pub fn review(r: &Review) -> Result<serde_dynamo::Item, StoreError> {
        reviews::review_image(r)
    }

    pub fn withdrawal(w: &Withdrawal) -> Result<serde_dynamo::Item, StoreError> {
        payments::withdrawal_image(w)
    }

    pub fn report(r: &Report) -> Result<serde_dynamo::Item, StoreError> {
        reports::report_image(r)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::{UserType, Username};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 11, 24, 16, 0, 0).unwrap()
    }

    fn record(name: &str, old: serde_dynamo::Item, new: serde_dynamo::Item) -> EventRecord {
        let mut r: EventRecord = serde_json::from_value(json!({
            "awsRegion": "us-east-1", "eventID": "ev-1", "eventName": name,
            "dynamodb": {
                "ApproximateCreationDateTime": 1764000000.0,
                "SequenceNumber": "100", "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        }))
        .unwrap();
        r.change.old_image = old;
        r.change.new_image = new;
        r
    }

    fn order() -> Order {
        crate::domain::fixtures::order("199.00", 1, now())
    }

    #[test]
    fn a_change_is_decoded_with_the_record_types_the_store_writes() {
        let o = order();
        let mut paid = o.clone();
        paid.payment_status = crate::domain::order::PaymentStatus::Paid;
        paid.version = 2;
        let c = decode(&record(
            "MODIFY",
            image::order(&o).unwrap(),
            image::order(&paid).unwrap(),
        ))
        .unwrap();
        assert_eq!(c.kind, ChangeKind::Modify);
        assert_eq!(c.id, "ev-1");
        assert_eq!(c.at_ms(), 1_764_000_000_000);
        assert_eq!(
            c.entity,
            Entity::Order(Change {
                old: Some(o.clone()),
                new: Some(paid),
            })
        );
        let u = User::new(
            Username::parse("li_lei").unwrap(),
            None,
            None,
            UserType::Freelancer,
            None,
            now(),
        );
        let c = decode(&record(
            "INSERT",
            serde_dynamo::Item::default(),
            image::user(&u).unwrap(),
        ))
        .unwrap();
        match c.entity {
            Entity::User(change) => {
                assert_eq!(change.old, None);
                assert_eq!(change.inserted(), Some(&u));
            }
            other => panic!("{other:?}"),
        }
        // A removal has only what was.
        let c = decode(&record(
            "REMOVE",
            image::order(&o).unwrap(),
            serde_dynamo::Item::default(),
        ))
        .unwrap();
        assert!(matches!(
            c.entity,
            Entity::Order(Change {
                new: None,
                old: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn a_followed_item_that_does_not_decode_is_an_error_and_others_are_named() {
        let mut broken = image::order(&order()).unwrap();
        broken.remove("total_amount");
        let empty = || serde_dynamo::Item::default();
        assert!(decode(&record("INSERT", empty(), broken)).is_err());
        let mut session = std::collections::HashMap::new();
        session.insert(
            "entity_type".to_owned(),
            serde_dynamo::AttributeValue::S("session".into()),
        );
        let c = decode(&record("INSERT", empty(), session.into())).unwrap();
        assert_eq!(c.entity, Entity::Other(EntityType::Session));
    }

    #[test]
    fn every_entity_type_reads_back_its_own_name() {
        for (name, t) in [
            ("user", EntityType::User),
            ("view_shard", EntityType::ViewShard),
            ("monthly_report", EntityType::MonthlyReport),
            ("ws_connection", EntityType::WsConnection),
            ("contact_offences", EntityType::Other),
        ] {
            let read: EntityType = serde_json::from_value(serde_json::json!(name)).unwrap();
            assert_eq!(read, t, "{name}");
        }
        assert_eq!(
            serde_json::to_value(EntityType::LedgerLine).unwrap(),
            "ledger_line"
        );
    }
}
