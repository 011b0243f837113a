//! Charges (money coming in through a gateway) and withdrawals (money going out). Each change
//! that moves money is one transaction with its movement, as for orders.

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ledger::MoveRefusal;
use super::ops::s;
use super::{ListError, Page, PageQuery, Store, StoreError, keys, to_item};
use crate::domain::ledger::{Account, Movement};
use crate::domain::payment::{Charge, ChargeStatus, Withdrawal, WithdrawalStatus};
use crate::domain::{UserId, WithdrawalId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChargeRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    #[serde(flatten)]
    pub charge: Charge,
    /// What the client was given to pay with (JSON), kept to answer a retried request.
    #[serde(default)]
    pub pay_params: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WithdrawalRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI3PK")]
    gsi3pk: String,
    #[serde(rename = "GSI3SK")]
    gsi3sk: String,
    entity_type: EntityType,
    #[serde(flatten)]
    withdrawal: Withdrawal,
}

impl From<&Withdrawal> for WithdrawalRecord {
    fn from(w: &Withdrawal) -> WithdrawalRecord {
        let key = keys::withdrawal(w.id);
        let sort = keys::withdrawal_sort(w.created_at, w.id);
        WithdrawalRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::user_withdrawals(w.user_id),
            gsi1sk: sort.clone(),
            gsi3pk: keys::withdrawals_by_status(w.status),
            gsi3sk: sort,
            entity_type: EntityType::Withdrawal,
            withdrawal: w.clone(),
        }
    }
}

/// Why a payment change was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentRefusal {
    /// The record changed since it was read (or the charge was settled meanwhile).
    Stale,
    /// The `Idempotency-Key` was used meanwhile.
    KeyUsed,
    /// The money was moved before.
    AlreadyApplied,
    /// A wallet could not cover it.
    Insufficient(Account),
}

impl From<MoveRefusal> for PaymentRefusal {
    fn from(r: MoveRefusal) -> PaymentRefusal {
        match r {
            MoveRefusal::Companion(0) => PaymentRefusal::Stale,
            MoveRefusal::Companion(_) => PaymentRefusal::KeyUsed,
            MoveRefusal::AlreadyApplied => PaymentRefusal::AlreadyApplied,
            MoveRefusal::Insufficient(a) => PaymentRefusal::Insufficient(a),
        }
    }
}

impl Store {
    /// A new pending charge, with the idempotency record of the request that made it.
    pub async fn create_charge(
        &self,
        charge: &Charge,
        idempotency: Option<TransactWriteItem>,
    ) -> Result<Result<(), PaymentRefusal>, StoreError> {
        let key = keys::charge(&charge.out_trade_no);
        let record = ChargeRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::Charge,
            charge: charge.clone(),
            pay_params: None,
        };
        let mut ops = vec![super::ops::put(
            &self.table,
            to_item(&record)?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )?];
        ops.extend(idempotency);
        match self.transact(ops).await? {
            Ok(()) => Ok(Ok(())),
            Err(c) if c.failed(1) => Ok(Err(PaymentRefusal::KeyUsed)),
            Err(c) => Err(StoreError::Decode(format!("charge collision: {:?}", c.0))),
        }
    }

    pub async fn get_charge(
        &self,
        out_trade_no: &str,
        consistent: bool,
    ) -> Result<Option<ChargeRecord>, StoreError> {
        self.get_record(keys::charge(out_trade_no), consistent)
            .await
    }

    /// Keeps what the client was given to pay with.
    pub async fn save_pay_params(
        &self,
        out_trade_no: &str,
        params: &str,
    ) -> Result<(), StoreError> {
        let op = super::ops::update(
            &self.table,
            keys::charge(out_trade_no),
            "SET pay_params = :p",
            Some("attribute_exists(PK)"),
            &[],
            vec![(":p", s(params))],
        )?;
        self.transact(vec![op])
            .await?
            .map_err(|c| StoreError::Decode(format!("charge vanished: {:?}", c.0)))
    }

    /// The items that mark a pending charge settled (`to` = paid or credited) by the gateway
    /// transaction `settled.trade_no`: the charge (only if still pending) and the guard that
    /// lets one gateway transaction be applied once.
    pub(crate) fn settle_charge_ops(
        &self,
        settled: &Charge,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let trade_no = settled.trade_no.clone().unwrap_or_default();
        let at = settled.settled_at.unwrap_or_else(Utc::now).to_rfc3339();
        let guard = keys::gateway_trade(settled.gateway, &trade_no);
        Ok(vec![
            super::ops::update(
                &self.table,
                keys::charge(&settled.out_trade_no),
                "SET #status = :to, trade_no = :t, settled_at = :at",
                Some("#status = :pending"),
                &[("#status", "status")],
                vec![
                    (":to", s(settled.status.as_str())),
                    (":t", s(trade_no.clone())),
                    (":at", s(at.clone())),
                    (":pending", s(ChargeStatus::Pending.as_str())),
                ],
            )?,
            super::ops::put(
                &self.table,
                std::collections::HashMap::from([
                    (keys::PK.to_owned(), s(guard.pk)),
                    (keys::SK.to_owned(), s(guard.sk)),
                    (
                        "entity_type".to_owned(),
                        s(EntityType::GatewayTrade.as_str()),
                    ),
                    ("out_trade_no".to_owned(), s(settled.out_trade_no.clone())),
                    ("created_at".to_owned(), s(at)),
                ]),
                Some("attribute_not_exists(PK)"),
                vec![],
            )?,
        ])
    }

    /// Settles a charge with its movement (a deposit to the wallet).
    pub async fn settle_charge(
        &self,
        settled: &Charge,
        movement: &Movement,
        now: DateTime<Utc>,
    ) -> Result<Result<(), PaymentRefusal>, StoreError> {
        let ops = self.settle_charge_ops(settled)?;
        Ok(self
            .transact_with_movement(ops, Some(movement), now)
            .await?
            .map_err(|r| match r {
                // Either the charge or the gateway transaction was settled meanwhile.
                MoveRefusal::Companion(_) => PaymentRefusal::Stale,
                other => other.into(),
            }))
    }

    /// Settles a charge that its order could no longer take, with the refund that sends the
    /// payment back (nothing enters a wallet).
    pub async fn settle_charge_refunded(
        &self,
        settled: &Charge,
        refund: &crate::domain::refund::Refund,
        now: DateTime<Utc>,
    ) -> Result<Result<(), PaymentRefusal>, StoreError> {
        let mut ops = self.settle_charge_ops(settled)?;
        ops.push(self.charge_refund_op(refund)?);
        Ok(self
            .transact_with_movement(ops, None, now)
            .await?
            .map_err(|_| PaymentRefusal::Stale))
    }

    fn withdrawal_put(
        &self,
        w: &Withdrawal,
        read_version: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        super::ops::put_versioned(
            &self.table,
            to_item(&WithdrawalRecord::from(w))?,
            read_version,
        )
    }

    /// Writes a withdrawal read at `read_version` (`None`: a new one), its `extras` (an audit
    /// entry, an idempotency record) and its movement together.
    pub async fn write_withdrawal(
        &self,
        w: &Withdrawal,
        read_version: Option<u64>,
        extras: Vec<TransactWriteItem>,
        movement: Option<&Movement>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), PaymentRefusal>, StoreError> {
        let mut ops = vec![self.withdrawal_put(w, read_version)?];
        ops.extend(extras);
        Ok(self
            .transact_with_movement(ops, movement, now)
            .await?
            .map_err(PaymentRefusal::from))
    }

    pub async fn get_withdrawal(
        &self,
        id: WithdrawalId,
        consistent: bool,
    ) -> Result<Option<Withdrawal>, StoreError> {
        Ok(self
            .get_record::<WithdrawalRecord>(keys::withdrawal(id), consistent)
            .await?
            .map(|r| r.withdrawal))
    }

    /// A user's withdrawals, newest first.
    pub async fn user_withdrawals(
        &self,
        user: UserId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Withdrawal>, ListError> {
        self.withdrawal_page(
            keys::GSI1,
            keys::user_withdrawals(user),
            true,
            limit,
            cursor,
        )
        .await
    }

    /// The operators' queue of one status, oldest first.
    pub async fn withdrawals_by_status(
        &self,
        status: WithdrawalStatus,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Withdrawal>, ListError> {
        self.withdrawal_page(
            keys::GSI3,
            keys::withdrawals_by_status(status),
            false,
            limit,
            cursor,
        )
        .await
    }

    async fn withdrawal_page(
        &self,
        index: &'static str,
        partition: String,
        newest_first: bool,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Withdrawal>, ListError> {
        let page = self
            .query_page::<WithdrawalRecord>(PageQuery {
                newest_first,
                ..PageQuery::newest(Some(index), partition, limit, cursor)
            })
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.withdrawal).collect(),
            next_cursor: page.next_cursor,
        })
    }
}

/// A withdrawal item from the table's stream.
pub(super) fn decode_withdrawal(item: serde_dynamo::Item) -> Result<Withdrawal, StoreError> {
    Ok(super::plain::<WithdrawalRecord>(item)?.withdrawal)
}

/// A withdrawal as the store writes it.
pub(super) fn withdrawal_image(w: &Withdrawal) -> Result<serde_dynamo::Item, StoreError> {
    super::to_image(&WithdrawalRecord::from(w))
}
