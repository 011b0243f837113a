//! Custom offers: `OFFER#{offer} / OFFER`, put with the message that carries it (one
//! transaction with both conversation sides); accepted with its order, or declined, once
//! (conditional on `open` and, to accept, on not having expired). While open it is on the
//! offer timer (`GSI4`), which `order-timers` reads to mark it expired.

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{Store, StoreError, keys, to_item};
use crate::domain::OfferId;
use crate::domain::messaging::Message;
use crate::domain::offer::{Offer, OfferStatus};
use crate::store::Thread;

#[derive(Debug, Serialize, Deserialize)]
struct OfferRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    entity_type: EntityType,
    /// `expires_at` in epoch milliseconds: what the accept condition compares.
    expires_ms: i64,
    #[serde(flatten)]
    offer: Offer,
}

impl Store {
    /// The offer and the message that carries it, in one transaction.
    pub async fn post_offer(
        &self,
        thread: &Thread,
        message: &Message,
        offer: &Offer,
    ) -> Result<bool, StoreError> {
        let key = keys::offer(offer.id);
        let put = super::ops::put(
            &self.table,
            to_item(&OfferRecord {
                pk: key.pk,
                sk: key.sk,
                gsi4pk: Some(keys::OFFER_TIMER.to_owned()),
                gsi4sk: Some(format!("{}#{}", keys::ms(offer.expires_at), offer.id)),
                entity_type: EntityType::Offer,
                expires_ms: offer.expires_at.timestamp_millis(),
                offer: offer.clone(),
            })?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )?;
        self.post_message_with(thread, message, vec![put]).await
    }

    pub async fn get_offer(&self, id: OfferId) -> Result<Option<Offer>, StoreError> {
        Ok(self
            .get_record::<OfferRecord>(keys::offer(id), true)
            .await?
            .map(|r| r.offer))
    }

    /// The offer's decision, only while it is open (and, to accept, not expired at `now`):
    /// for the order's transaction, or alone for a decline.
    pub fn decide_offer_op(
        &self,
        offer: &Offer,
        status: OfferStatus,
        now: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut values = vec![
            (":status", s(status.as_str())),
            (":open", s(OfferStatus::Open.as_str())),
            (":now", s(now.to_rfc3339())),
            (":one", n(1)),
        ];
        if status == OfferStatus::Accepted {
            values.push((":now_ms", n(now.timestamp_millis())));
        }
        let mut set = "SET #status = :status, updated_at = :now".to_owned();
        if let Some(order) = offer.order_id {
            set.push_str(", order_id = :order");
            values.push((":order", s(order.to_string())));
        }
        let condition = if status == OfferStatus::Accepted {
            "#status = :open AND expires_ms > :now_ms"
        } else {
            "#status = :open"
        };
        super::ops::update(
            &self.table,
            keys::offer(offer.id),
            &format!("{set} REMOVE GSI4PK, GSI4SK ADD version :one"),
            Some(condition),
            &[("#status", "status")],
            values,
        )
    }

    /// Marks an open offer whose time has passed by `now` expired (off the timer).
    /// `Ok(false)`: it was decided meanwhile, or is not due.
    pub async fn expire_offer(&self, id: OfferId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.update_if(
            keys::offer(id),
            "SET #status = :expired, updated_at = :now REMOVE GSI4PK, GSI4SK ADD version :one",
            "#status = :open AND expires_ms <= :now_ms",
            &[("#status", "status")],
            vec![
                (":expired", s(OfferStatus::Expired.as_str())),
                (":open", s(OfferStatus::Open.as_str())),
                (":now", s(now.to_rfc3339())),
                (":now_ms", n(now.timestamp_millis())),
                (":one", n(1)),
            ],
        )
        .await
    }

    /// Open offers whose time has passed by `now`, soonest first.
    pub async fn due_offers(
        &self,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<OfferId>, StoreError> {
        self.due_ids(keys::OFFER_TIMER, now, limit).await
    }

    /// Declines an open offer. `Ok(false)`: it was decided meanwhile.
    pub async fn decline_offer(
        &self,
        offer: &Offer,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let op = self.decide_offer_op(offer, OfferStatus::Declined, now)?;
        Ok(self.transact(vec![op]).await?.is_ok())
    }
}
