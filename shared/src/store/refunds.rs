//! Refunds to the original payment and earnings waiting to clear. Both are written in the
//! transaction of the change that decides them (an order's cancellation, a dispute's split,
//! a release); both wait on a sparse timer index (`GSI4`) until they are final.

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ledger::MoveRefusal;
use super::ops::s;
use super::{Store, StoreError, from_item, keys, to_item};
use crate::domain::OrderId;
use crate::domain::UserId;
use crate::domain::clearance::Clearance;
use crate::domain::ledger::Movement;
use crate::domain::refund::Refund;

#[derive(Debug, Serialize, Deserialize)]
struct RefundRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    entity_type: EntityType,
    #[serde(flatten)]
    refund: Refund,
}

impl From<&Refund> for RefundRecord {
    fn from(r: &Refund) -> RefundRecord {
        let key = keys::refund(&r.refund_no);
        let sort = |at: DateTime<Utc>| format!("{}#{}", keys::ms(at), r.refund_no);
        let due = r.next_attempt_at.filter(|_| !r.status.is_final());
        RefundRecord {
            pk: key.pk,
            sk: key.sk,
            gsi2pk: r.order_id.map(keys::order_refunds),
            gsi2sk: r.order_id.map(|_| sort(r.created_at)),
            gsi4pk: due.map(|_| keys::REFUND_TIMER.to_owned()),
            gsi4sk: due.map(sort),
            entity_type: EntityType::Refund,
            refund: r.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ClearanceRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI4PK")]
    gsi4pk: String,
    #[serde(rename = "GSI4SK")]
    gsi4sk: String,
    entity_type: EntityType,
    #[serde(flatten)]
    clearance: Clearance,
}

impl From<&Clearance> for ClearanceRecord {
    fn from(c: &Clearance) -> ClearanceRecord {
        let key = keys::clearance(c.seller_id, c.order_id);
        ClearanceRecord {
            pk: key.pk,
            sk: key.sk,
            gsi4pk: keys::CLEARANCE_TIMER.to_owned(),
            gsi4sk: format!("{}#{}", keys::ms(c.clears_at), c.order_id),
            entity_type: EntityType::Clearance,
            clearance: c.clone(),
        }
    }
}

impl Store {
    /// A new refund, as part of the transaction that decides it (the order's version and the
    /// movement's id already make that transaction happen once).
    pub(crate) fn new_refund_op(&self, r: &Refund) -> Result<TransactWriteItem, StoreError> {
        super::ops::put(&self.table, to_item(&RefundRecord::from(r))?, None, vec![])
    }

    /// Earnings waiting to clear, as part of the release that earned them.
    pub(crate) fn clearance_op(&self, c: &Clearance) -> Result<TransactWriteItem, StoreError> {
        super::ops::put(
            &self.table,
            to_item(&ClearanceRecord::from(c))?,
            None,
            vec![],
        )
    }

    pub async fn get_refund(&self, refund_no: &str) -> Result<Option<Refund>, StoreError> {
        Ok(self
            .get_record::<RefundRecord>(keys::refund(refund_no), true)
            .await?
            .map(|r| r.refund))
    }

    /// A refund that was read at `read_version` changes (with `movement`, when the gateway's
    /// refusal puts the money into the wallet). `Ok(Err(_))`: it changed meanwhile, or the
    /// movement happened before.
    pub async fn write_refund(
        &self,
        r: &Refund,
        read_version: u64,
        movement: Option<&Movement>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), MoveRefusal>, StoreError> {
        let op = super::ops::put_versioned(
            &self.table,
            to_item(&RefundRecord::from(r))?,
            Some(read_version),
        )?;
        self.transact_with_movement(vec![op], movement, now).await
    }

    /// A refund of a whole charge (a payment for an order that could no longer take it),
    /// written with the charge's settlement, once.
    pub(crate) fn charge_refund_op(&self, r: &Refund) -> Result<TransactWriteItem, StoreError> {
        super::ops::put(
            &self.table,
            to_item(&RefundRecord::from(r))?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )
    }

    /// An order's refunds, oldest first.
    pub async fn order_refunds(&self, order: OrderId) -> Result<Vec<Refund>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("GSI2PK = :pk")
            .expression_attribute_values(":pk", s(keys::order_refunds(order)));
        self.query_all(query)
            .await?
            .into_iter()
            .map(|item| from_item::<RefundRecord>(item).map(|r| r.refund))
            .collect()
    }

    /// Refunds whose next attempt is due at `now`, earliest first (at most `limit`).
    pub async fn due_refunds(
        &self,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<Refund>, StoreError> {
        Ok(self
            .due::<RefundRecord>(keys::REFUND_TIMER, now, limit)
            .await?
            .into_iter()
            .map(|r| r.refund)
            .collect())
    }

    /// Earnings whose clearance is due at `now`, earliest first (at most `limit`).
    pub async fn due_clearances(
        &self,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<Clearance>, StoreError> {
        Ok(self
            .due::<ClearanceRecord>(keys::CLEARANCE_TIMER, now, limit)
            .await?
            .into_iter()
            .map(|r| r.clearance)
            .collect())
    }

    /// The whole items due on `timer` at `now`, decoded.
    pub(super) async fn due<T: serde::de::DeserializeOwned>(
        &self,
        timer: &str,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<T>, StoreError> {
        self.due_items(timer, now, limit, None)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// The ids (their `id` attribute) of what is due on `timer` by `now`, earliest first, at
    /// most `limit`: the order and offer timers.
    pub(super) async fn due_ids<T: std::str::FromStr>(
        &self,
        timer: &str,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<T>, StoreError> {
        Ok(self
            .due_items(timer, now, limit, Some("id"))
            .await?
            .into_iter()
            .filter_map(|item| match item.get("id") {
                Some(aws_sdk_dynamodb::types::AttributeValue::S(id)) => id.parse().ok(),
                _ => None,
            })
            .collect())
    }

    /// The items waiting on the sparse timer index under `timer` (`GSI4PK`) that are due at
    /// `now`, earliest first (at most `limit`; only `projection`'s attributes if given): the
    /// order timers, refunds and clearances.
    pub(super) async fn due_items(
        &self,
        timer: &str,
        now: DateTime<Utc>,
        limit: i32,
        projection: Option<&str>,
    ) -> Result<
        Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
        StoreError,
    > {
        // Every sort key due at or before `now` sorts before "{now}#~".
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI4)
            .key_condition_expression("GSI4PK = :pk AND GSI4SK <= :upto")
            .expression_attribute_values(":pk", s(timer))
            .expression_attribute_values(":upto", s(format!("{}#~", keys::ms(now))))
            .set_projection_expression(projection.map(str::to_owned))
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Query", e))?;
        Ok(out.items.unwrap_or_default())
    }

    /// A seller's earnings waiting to clear, soonest first.
    pub async fn pending_clearances(&self, seller: UserId) -> Result<Vec<Clearance>, StoreError> {
        let mut out: Vec<Clearance> = self
            .wallet_items::<ClearanceRecord>(
                crate::domain::ledger::Account::User(seller),
                keys::CLEARANCE_PREFIX,
            )
            .await?
            .into_iter()
            .map(|r| r.clearance)
            .collect();
        out.sort_by_key(|c| c.clears_at);
        Ok(out)
    }

    /// One order's earnings waiting to clear, if they still are.
    pub async fn get_clearance(
        &self,
        seller: UserId,
        order: OrderId,
    ) -> Result<Option<Clearance>, StoreError> {
        Ok(self
            .get_record::<ClearanceRecord>(keys::clearance(seller, order), true)
            .await?
            .map(|r| r.clearance))
    }

    /// Earnings clear: the clearance item goes (only if still there) with the movement.
    pub async fn clear(
        &self,
        c: &Clearance,
        movement: &Movement,
        now: DateTime<Utc>,
    ) -> Result<Result<(), MoveRefusal>, StoreError> {
        let op = super::ops::delete(
            &self.table,
            keys::clearance(c.seller_id, c.order_id),
            Some("attribute_exists(PK)"),
            vec![],
        )?;
        self.transact_with_movement(vec![op], Some(movement), now)
            .await
    }
}
