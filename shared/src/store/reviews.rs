//! Reviews, the one-per-order guard, the public lists, and the sums they feed.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::cursor::Page;
use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{ListError, PageQuery, Store, StoreError, keys, to_item};
use crate::domain::review::{Review, ReviewResponse};
use crate::domain::{OrderId, ReviewId, ServiceId, UserId};

#[derive(Debug, Serialize, Deserialize)]
struct ReviewRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
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
    review: Review,
}

impl From<&Review> for ReviewRecord {
    fn from(r: &Review) -> Self {
        let key = keys::review(r.id);
        let listed = r.counts();
        let sort = keys::review_sort(r.created_at, r.id);
        ReviewRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: r.service_id.filter(|_| listed).map(keys::service_reviews),
            gsi1sk: (listed && r.service_id.is_some()).then(|| sort.clone()),
            gsi2pk: listed.then(|| keys::freelancer_reviews(r.freelancer_id)),
            gsi2sk: listed.then_some(sort),
            gsi4pk: r.sealed_until.map(|_| keys::REVEAL_TIMER.to_owned()),
            gsi4sk: r
                .sealed_until
                .map(|at| format!("{}#{}", keys::ms(at), r.id)),
            entity_type: EntityType::Review,
            review: r.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ReviewGuard {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    review_id: String,
    created_at: DateTime<Utc>,
    version: u64,
}

/// Which public list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewListing {
    Service(ServiceId),
    Freelancer(UserId),
}

/// A sealed review on the reveal timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    /// The client's review of the seller.
    Review(ReviewId),
    /// The seller's review of the client of this order.
    ClientReview(OrderId),
}

/// What putting a review in or out of the sums did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountOutcome {
    /// The sums now include (`true`) or exclude (`false`) the review.
    Applied(bool),
    /// The sums already agreed with the review (a redelivery): nothing written.
    Current,
    /// No such review.
    Missing,
}

impl Store {
    /// Writes a new review with its guard. `Ok(false)`: the order already has one.
    pub async fn create_review(&self, review: &Review) -> Result<bool, StoreError> {
        let guard = keys::order_review(review.order_id);
        let ops = vec![
            super::ops::put_versioned(&self.table, to_item(&ReviewRecord::from(review))?, None)?,
            super::ops::put_versioned(
                &self.table,
                to_item(&ReviewGuard {
                    pk: guard.pk,
                    sk: guard.sk,
                    entity_type: EntityType::ReviewGuard,
                    review_id: review.id.to_string(),
                    created_at: review.created_at,
                    version: 1,
                })?,
                None,
            )?,
        ];
        Ok(self.transact(ops).await?.is_ok())
    }

    /// The seller's review of the buyer, once per order; shown at once (the client has
    /// reviewed), it adds to the buyer's sums (and version, so a profile edit read before it is
    /// redone) in the same transaction. `Ok(false)`: the order has one already.
    pub async fn create_client_review(
        &self,
        r: &crate::domain::review::ClientReview,
    ) -> Result<bool, StoreError> {
        let key = keys::client_review(r.order_id);
        let mut item = to_item(r)?;
        item.insert(keys::PK.to_owned(), AttributeValue::S(key.pk));
        item.insert(keys::SK.to_owned(), AttributeValue::S(key.sk));
        item.insert(
            "entity_type".to_owned(),
            AttributeValue::S(EntityType::ClientReview.as_str()),
        );
        let mut ops = Vec::with_capacity(2);
        if let Some(at) = r.sealed_until {
            item.insert("GSI4PK".to_owned(), s(keys::REVEAL_TIMER));
            item.insert(
                "GSI4SK".to_owned(),
                s(format!("{}#{}", keys::ms(at), r.order_id)),
            );
        }
        ops.push(super::ops::put(
            &self.table,
            item,
            Some("attribute_not_exists(PK)"),
            vec![],
        )?);
        if r.sealed_until.is_none() {
            ops.push(self.add_buyer_rating_op(r)?);
        }
        match self.transact(ops).await? {
            Ok(()) => Ok(true),
            Err(c) if c.failed(0) => Ok(false),
            Err(c) => Err(StoreError::Decode(format!("client review: {:?}", c.0))),
        }
    }

    fn add_buyer_rating_op(
        &self,
        r: &crate::domain::review::ClientReview,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        super::ops::update(
            &self.table,
            keys::user(r.client_id),
            "ADD buyer_rating_sum :stars, buyer_reviews :one, version :one",
            Some("attribute_exists(PK)"),
            &[],
            vec![(":stars", n(r.rating)), (":one", n(1))],
        )
    }

    /// The seller's review of the buyer of `order`, if there is one (a consistent read).
    pub async fn get_client_review(
        &self,
        order: OrderId,
    ) -> Result<Option<crate::domain::review::ClientReview>, StoreError> {
        self.get_record(keys::client_review(order), true).await
    }

    /// The client's review of `order`, if there is one (consistent reads of its guard, then of
    /// the review).
    pub async fn get_order_review(&self, order: OrderId) -> Result<Option<Review>, StoreError> {
        let Some(guard) = self
            .get_record::<ReviewGuard>(keys::order_review(order), true)
            .await?
        else {
            return Ok(None);
        };
        match guard.review_id.parse() {
            Ok(id) => self.get_review(id, true).await,
            Err(_) => Err(StoreError::Decode(format!(
                "order {order}: its review guard names no review"
            ))),
        }
    }

    /// Shows a sealed client's review: out of the reveal timer, into the public lists (if
    /// public) and, through the stream, into the sums. `Ok(false)`: it was already shown.
    pub async fn reveal_review(
        &self,
        id: ReviewId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        for _ in 0..5 {
            let Some(mut review) = self.get_review(id, true).await? else {
                return Ok(false);
            };
            if review.sealed_until.is_none() {
                return Ok(false);
            }
            let read = review.version;
            review.sealed_until = None;
            review.updated_at = now;
            review.version += 1;
            match self
                .transact(vec![self.replace_review_op(&review, read)?])
                .await?
            {
                Ok(()) => return Ok(true),
                // A response or an operator's change meanwhile: read again.
                Err(_) => continue,
            }
        }
        Err(StoreError::Decode(format!("review {id}: kept changing")))
    }

    /// Shows a sealed review of a buyer: out of the reveal timer and into the buyer's sums, in
    /// one transaction. `Ok(false)`: it was already shown (or is gone).
    pub async fn reveal_client_review(&self, order: OrderId) -> Result<bool, StoreError> {
        let Some(r) = self.get_client_review(order).await? else {
            return Ok(false);
        };
        if r.sealed_until.is_none() {
            return Ok(false);
        }
        let ops = vec![
            super::ops::update(
                &self.table,
                keys::client_review(order),
                "REMOVE sealed_until, GSI4PK, GSI4SK",
                Some("attribute_exists(sealed_until)"),
                &[],
                vec![],
            )?,
            self.add_buyer_rating_op(&r)?,
        ];
        match self.transact(ops).await? {
            Ok(()) => Ok(true),
            Err(c) if c.failed(0) => Ok(false),
            Err(c) => Err(StoreError::Decode(format!(
                "client review of {order}: the buyer is gone ({:?})",
                c.0
            ))),
        }
    }

    /// Sealed reviews whose window has ended by `now`: the client's (by id) and the seller's
    /// (by order).
    pub async fn due_reveals(
        &self,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<Sealed>, StoreError> {
        Ok(self
            .due_items(keys::REVEAL_TIMER, now, limit, Some("PK, SK"))
            .await?
            .into_iter()
            .filter_map(|item| {
                let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(sk))) =
                    (item.get("PK"), item.get("SK"))
                else {
                    return None;
                };
                match sk.as_str() {
                    "REVIEW" => pk.strip_prefix("REVIEW#")?.parse().ok().map(Sealed::Review),
                    "CLIENTREVIEW" => pk
                        .strip_prefix("ORDER#")?
                        .parse()
                        .ok()
                        .map(Sealed::ClientReview),
                    _ => None,
                }
            })
            .collect())
    }

    pub async fn get_review(
        &self,
        id: ReviewId,
        consistent: bool,
    ) -> Result<Option<Review>, StoreError> {
        Ok(self
            .get_record::<ReviewRecord>(keys::review(id), consistent)
            .await?
            .map(|r| r.review))
    }

    /// The full write of a changed review (version already bumped) read at `read_version`;
    /// its index keys follow its visibility.
    pub(crate) fn replace_review_op(
        &self,
        review: &Review,
        read_version: u64,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        super::ops::put_versioned(
            &self.table,
            to_item(&ReviewRecord::from(review))?,
            Some(read_version),
        )
    }

    /// The review of an order, if it has one (through its guard).
    pub async fn order_review_id(&self, order: OrderId) -> Result<Option<ReviewId>, StoreError> {
        Ok(self
            .get_record::<ReviewGuard>(keys::order_review(order), false)
            .await?
            .and_then(|g| g.review_id.parse().ok()))
    }

    /// Adds the freelancer's response unless the review has one. `Ok(false)`: it had.
    pub async fn add_review_response(
        &self,
        id: ReviewId,
        response: &ReviewResponse,
    ) -> Result<bool, StoreError> {
        let value = serde_dynamo::to_attribute_value(response)
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        self.update_if(
            keys::review(id),
            "SET #resp = :r, updated_at = :now ADD version :one",
            "attribute_exists(PK) AND (attribute_not_exists(#resp) OR attribute_type(#resp, :null))",
            &[("#resp", "response")],
            vec![
                (":r", value),
                (":now", s(response.created_at.to_rfc3339())),
                (":one", n(1)),
                (":null", s("NULL")),
            ],
        )
        .await
    }

    /// One page of a public list, newest first.
    pub async fn list_reviews(
        &self,
        listing: ReviewListing,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Review>, ListError> {
        let (index, partition) = match listing {
            ReviewListing::Service(id) => (keys::GSI1, keys::service_reviews(id)),
            ReviewListing::Freelancer(id) => (keys::GSI2, keys::freelancer_reviews(id)),
        };
        let page: Page<ReviewRecord> = self
            .query_page(PageQuery::newest(Some(index), partition, limit, cursor))
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.review).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// The ratings of the public reviews a freelancer received since `since`.
    pub async fn ratings_since(
        &self,
        freelancer: UserId,
        since: DateTime<Utc>,
    ) -> Result<Vec<u8>, StoreError> {
        let records: Vec<ReviewRecord> = self
            .query_from(
                keys::GSI2,
                ("GSI2PK", "GSI2SK"),
                keys::freelancer_reviews(freelancer),
                since,
            )
            .await?;
        Ok(records.into_iter().map(|r| r.review.rating).collect())
    }

    /// Moves the review's share of the sums to where [`Review::counts`] says it belongs, in one
    /// transaction: the review's `counted` flag (conditional on its old value), the service's
    /// `rating_sum` / `reviews_count` and the freelancer's `rating_sum` / `total_reviews`.
    /// Redelivered or repeated, it finds `counted` already right and writes nothing.
    pub async fn count_review(&self, id: ReviewId) -> Result<CountOutcome, StoreError> {
        for _ in 0..5 {
            let Some(review) = self.get_review(id, true).await? else {
                return Ok(CountOutcome::Missing);
            };
            let want = review.counts();
            if review.counted == want {
                return Ok(CountOutcome::Current);
            }
            let (sign, stars) = if want {
                (1i64, i64::from(review.rating))
            } else {
                (-1, -i64::from(review.rating))
            };
            let mut ops = vec![
                super::ops::update(
                    &self.table,
                    keys::review(id),
                    "SET counted = :want",
                    Some("counted = :had"),
                    &[],
                    vec![
                        (":want", AttributeValue::Bool(want)),
                        (":had", AttributeValue::Bool(review.counted)),
                    ],
                )?,
                super::ops::update(
                    &self.table,
                    keys::user(review.freelancer_id),
                    "ADD freelancer_profile.rating_sum :stars, freelancer_profile.total_reviews :n, version :one",
                    Some("attribute_exists(freelancer_profile)"),
                    &[],
                    vec![(":stars", n(stars)), (":n", n(sign)), (":one", n(1))],
                )?,
            ];
            // An order from a brief has no service: only the seller's sums move.
            if let Some(service) = review.service_id {
                ops.push(super::ops::update(
                    &self.table,
                    keys::service(service),
                    "ADD rating_sum :stars, reviews_count :n, rev :one",
                    Some("attribute_exists(PK)"),
                    &[],
                    vec![(":stars", n(stars)), (":n", n(sign)), (":one", n(1))],
                )?);
            }
            match self.transact(ops).await? {
                Ok(()) => return Ok(CountOutcome::Applied(want)),
                // Another worker moved it meanwhile: read again and decide again.
                Err(c) if c.failed(0) => continue,
                Err(c) => {
                    return Err(StoreError::Decode(format!(
                        "review {id}: its service or freelancer is gone ({:?})",
                        c.0
                    )));
                }
            }
        }
        Err(StoreError::Decode(format!("review {id}: kept changing")))
    }
}

/// A review item from the table's stream.
pub(super) fn decode_review(item: serde_dynamo::Item) -> Result<Review, StoreError> {
    Ok(super::plain::<ReviewRecord>(item)?.review)
}

/// A review as the store writes it.
pub(super) fn review_image(r: &Review) -> Result<serde_dynamo::Item, StoreError> {
    super::to_image(&ReviewRecord::from(r))
}
