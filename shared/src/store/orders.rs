//! Orders, their deliveries and revision requests. An order item is always written whole and
//! only if it is still at the version it was read at; its index keys follow from its state
//! (party lists, the operators' status list, the timer it waits on).

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ledger::MoveRefusal;
use super::ops::{n, s};
use super::{ListError, Page, PageQuery, Store, StoreError, from_item, keys, to_item};
use crate::domain::file::Attachment;
use crate::domain::ledger::Account;
use crate::domain::order::{Order, OrderStatus, TimerKind, Transition};
use crate::domain::service::ServiceStatus;
use crate::domain::{OrderId, OrderStepId, UserId};

#[derive(Debug, Serialize, Deserialize)]
struct OrderRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    #[serde(rename = "GSI3PK")]
    gsi3pk: String,
    #[serde(rename = "GSI3SK")]
    gsi3sk: String,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    entity_type: EntityType,
    #[serde(flatten)]
    order: Order,
}

impl From<&Order> for OrderRecord {
    fn from(o: &Order) -> OrderRecord {
        let key = keys::order(o.id);
        let sort = keys::order_sort(o.created_at, o.id);
        let timer = o.timer();
        let completed = o
            .completed_at
            .filter(|_| o.status == OrderStatus::Completed)
            .map(|at| {
                (
                    keys::freelancer_completed(o.freelancer_id),
                    keys::order_sort(at, o.id),
                )
            });
        OrderRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::client_orders(o.client_id),
            gsi1sk: sort.clone(),
            gsi2pk: keys::freelancer_orders(o.freelancer_id),
            gsi2sk: sort,
            gsi3pk: keys::orders_by_status(o.status),
            gsi3sk: keys::order_sort(o.updated_at, o.id),
            gsi4pk: timer
                .map(|(kind, _)| keys::order_timer(kind))
                .or_else(|| completed.as_ref().map(|(pk, _)| pk.clone())),
            gsi4sk: timer
                .map(|(_, due)| keys::order_sort(due, o.id))
                .or_else(|| completed.map(|(_, sk)| sk)),
            entity_type: EntityType::Order,
            order: o.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Delivery,
    Revision,
}

impl StepKind {
    fn prefix(&self) -> &'static str {
        match self {
            StepKind::Delivery => "DELIVERY",
            StepKind::Revision => "REVISION",
        }
    }
}

/// A delivery (message and files from the freelancer) or a revision request (from the
/// client), kept in the order's partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderStep {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    pub id: OrderStepId,
    pub order_id: OrderId,
    pub kind: StepKind,
    pub by: UserId,
    /// 1 for the first delivery (or revision request), 2 for the next…
    pub number: u32,
    pub message: String,
    pub file_keys: Vec<String>,
    /// The checked files behind `file_keys`.
    #[serde(default)]
    pub files: Vec<Attachment>,
    pub created_at: DateTime<Utc>,
}

impl OrderStep {
    pub fn new(
        order: OrderId,
        kind: StepKind,
        by: UserId,
        number: u32,
        message: String,
        (file_keys, files): (Vec<String>, Vec<Attachment>),
        now: DateTime<Utc>,
    ) -> OrderStep {
        let id = OrderStepId::new();
        let key = keys::order_step(order, kind.prefix(), now, id);
        OrderStep {
            pk: key.pk,
            sk: key.sk,
            entity_type: match kind {
                StepKind::Delivery => EntityType::OrderDelivery,
                StepKind::Revision => EntityType::OrderRevision,
            },
            id,
            order_id: order,
            kind,
            by,
            number,
            message,
            file_keys,
            files,
            created_at: now,
        }
    }
}

/// Which orders to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderListing {
    /// A user's orders as client or as freelancer, optionally of one status.
    Client(UserId, Option<OrderStatus>),
    Freelancer(UserId, Option<OrderStatus>),
    /// The operators' list of one status, most recently changed first.
    Status(OrderStatus),
}

/// Why an order change was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionRefusal {
    /// The order changed since it was read.
    Stale,
    /// The service is no longer on sale (placing an order).
    ServiceUnavailable,
    /// The `Idempotency-Key` was used meanwhile.
    KeyUsed,
    /// The money this change moves was moved before.
    AlreadyApplied,
    /// A wallet could not cover it.
    Insufficient(Account),
}

impl Store {
    fn order_put(
        &self,
        order: &Order,
        read_version: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        super::ops::put_versioned(
            &self.table,
            to_item(&OrderRecord::from(order))?,
            read_version,
        )
    }

    /// Places an order: the order, its number's guard, the service's open-order count (only
    /// while the service is on sale; none for an order from a brief), the idempotency record
    /// and `companions` (a brief awarded, a proposal accepted), together.
    pub async fn create_order(
        &self,
        order: &Order,
        idempotency: Option<TransactWriteItem>,
        companions: Vec<TransactWriteItem>,
    ) -> Result<Result<(), TransitionRefusal>, StoreError> {
        let number = keys::order_number(&order.order_number);
        let mut guard = std::collections::HashMap::from([
            (keys::PK.to_owned(), s(number.pk)),
            (keys::SK.to_owned(), s(number.sk)),
            (
                "entity_type".to_owned(),
                s(EntityType::OrderNumber.as_str()),
            ),
            ("order_id".to_owned(), s(order.id.to_string())),
        ]);
        guard.insert("created_at".into(), s(order.created_at.to_rfc3339()));
        let mut ops = vec![
            self.order_put(order, None)?,
            super::ops::put(&self.table, guard, Some("attribute_not_exists(PK)"), vec![])?,
        ];
        let service = order.service_id.is_some();
        if let Some(id) = order.service_id {
            ops.push(super::ops::update(
                &self.table,
                keys::service(id),
                "ADD open_orders :one",
                Some("attribute_exists(PK) AND #status = :active"),
                &[("#status", "status")],
                vec![
                    (":one", n(1)),
                    (":active", s(ServiceStatus::Active.as_str())),
                ],
            )?);
        }
        let key_at = ops.len();
        let with_key = idempotency.is_some();
        ops.extend(idempotency);
        ops.extend(companions);
        match self.transact(ops).await? {
            Ok(()) => Ok(Ok(())),
            Err(c) if service && c.failed(2) => Ok(Err(TransitionRefusal::ServiceUnavailable)),
            Err(c) if with_key && c.failed(key_at) => Ok(Err(TransitionRefusal::KeyUsed)),
            // A companion's condition (the brief still open, the proposal still submitted).
            Err(c) if (key_at + usize::from(with_key)..c.0.len()).any(|i| c.failed(i)) => {
                Ok(Err(TransitionRefusal::Stale))
            }
            Err(c) => Err(StoreError::Decode(format!(
                "order id or number collision: {:?}",
                c.0
            ))),
        }
    }

    pub async fn get_order(
        &self,
        id: OrderId,
        consistent: bool,
    ) -> Result<Option<Order>, StoreError> {
        Ok(self
            .get_record::<OrderRecord>(keys::order(id), consistent)
            .await?
            .map(|r| r.order))
    }

    pub(crate) fn order_step_op(&self, step: &OrderStep) -> Result<TransactWriteItem, StoreError> {
        super::ops::put(
            &self.table,
            to_item(step)?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )
    }

    /// Writes a transition read at `read_version`: the order, `extras` (a delivery, an audit
    /// entry, an idempotency record), the service's counters when the order closes, and the
    /// money — in one transaction.
    pub async fn write_transition(
        &self,
        t: &Transition,
        read_version: u64,
        extras: Vec<TransactWriteItem>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), TransitionRefusal>, StoreError> {
        let extra_count = extras.len();
        let mut ops = vec![self.order_put(&t.order, Some(read_version))?];
        ops.extend(extras);
        if t.closed
            && let Some(service) = t.order.service_id
        {
            let completed = t.order.status == OrderStatus::Completed;
            ops.push(super::ops::update(
                &self.table,
                keys::service(service),
                "ADD open_orders :minus, orders_count :done, rev :one",
                None,
                &[],
                vec![
                    (":minus", n(-1)),
                    (":done", n(i32::from(completed))),
                    (":one", n(1)),
                ],
            )?);
        }
        if let Some(r) = &t.refund {
            ops.push(self.new_refund_op(r)?);
        }
        if let Some(c) = &t.clearance {
            ops.push(self.clearance_op(c)?);
        }
        match self
            .transact_with_movement(ops, t.movement.as_ref(), now)
            .await?
        {
            Ok(()) => Ok(Ok(())),
            Err(MoveRefusal::Companion(0)) => Ok(Err(TransitionRefusal::Stale)),
            Err(MoveRefusal::Companion(i)) if i <= extra_count => {
                Ok(Err(TransitionRefusal::KeyUsed))
            }
            Err(MoveRefusal::Companion(i)) => {
                Err(StoreError::Decode(format!("order companion {i} refused")))
            }
            Err(MoveRefusal::AlreadyApplied) => Ok(Err(TransitionRefusal::AlreadyApplied)),
            Err(MoveRefusal::Insufficient(a)) => Ok(Err(TransitionRefusal::Insufficient(a))),
        }
    }

    /// Orders, newest first (or most recently changed first, by status).
    pub async fn list_orders(
        &self,
        listing: OrderListing,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Order>, ListError> {
        let (index, partition, status) = match listing {
            OrderListing::Client(u, st) => (keys::GSI1, keys::client_orders(u), st),
            OrderListing::Freelancer(u, st) => (keys::GSI2, keys::freelancer_orders(u), st),
            OrderListing::Status(st) => (keys::GSI3, keys::orders_by_status(st), None),
        };
        let page = self
            .query_page::<OrderRecord>(PageQuery {
                filter: status.map(|_| "#status = :status".to_owned()),
                values: status
                    .map(|st| vec![(":status", s(st.as_str()))])
                    .unwrap_or_default(),
                names: if status.is_some() {
                    vec![("#status", "status")]
                } else {
                    vec![]
                },
                ..PageQuery::newest(Some(index), partition, limit, cursor)
            })
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.order).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Orders whose `kind` timer is due at `now`, earliest first (at most `limit`).
    pub async fn due_orders(
        &self,
        kind: TimerKind,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<OrderId>, StoreError> {
        self.due_ids(&keys::order_timer(kind), now, limit).await
    }

    /// A freelancer's orders completed at or after `since`.
    pub async fn completed_since(
        &self,
        freelancer: UserId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Order>, StoreError> {
        let records: Vec<OrderRecord> = self
            .query_from(
                keys::GSI4,
                ("GSI4PK", "GSI4SK"),
                keys::freelancer_completed(freelancer),
                since,
            )
            .await?;
        Ok(records.into_iter().map(|r| r.order).collect())
    }

    /// An order's deliveries or revision requests, newest first.
    pub async fn order_steps(
        &self,
        order: OrderId,
        kind: StepKind,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<OrderStep>, ListError> {
        self.query_page(PageQuery {
            sort_prefix: Some(("SK", format!("{}#", kind.prefix()))),
            ..PageQuery::newest(None, keys::order(order).pk, limit, cursor)
        })
        .await
    }
}

/// An order item as read from the table.
pub(super) fn order_of_item(
    item: std::collections::HashMap<String, AttributeValue>,
) -> Result<Order, StoreError> {
    Ok(from_item::<OrderRecord>(item)?.order)
}

/// An order item from the table's stream.
pub(super) fn decode_order(item: serde_dynamo::Item) -> Result<Order, StoreError> {
    Ok(super::plain::<OrderRecord>(item)?.order)
}

/// An order as the store writes it.
pub(super) fn order_image(o: &Order) -> Result<serde_dynamo::Item, StoreError> {
    super::to_image(&OrderRecord::from(o))
}
