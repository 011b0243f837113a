//! Reviews: the client of a completed order rates it once, within 30 days, and the seller rates
//! the client once in the same window; the freelancer answers the client's review once.
//! Averages are kept as exact integer sums and shown to two decimal places.
//!
//! Both reviews are **sealed** (double-blind, as Fiverr and Airbnb do): each is seen only by its
//! author until the other side has reviewed too or the 30 days end, so neither can answer a
//! bad review with another. A sealed review is in no list and no average.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::moderation::{self, Finding, RulesError};
use super::order::{Order, OrderStatus};
use super::service::Check;
use super::{OrderId, ReviewId, ServiceId, UserId};
use crate::field::{Field, Others};
use crate::i18n::Text;

/// How long after completion an order can be reviewed.
pub const REVIEW_WITHIN: Duration = Duration::days(30);

/// When the window to review `order` ends, which is when its sealed reviews are shown at the
/// latest.
pub fn window_end(order: &Order) -> DateTime<Utc> {
    order.completed_at.unwrap_or(order.updated_at) + REVIEW_WITHIN
}
/// The longest comment or response, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The average of `count` ratings summing to `sum`, half-up to two decimal places
/// (5, 4, 4 → 4.33). Zero when there are none.
pub fn average(sum: u64, count: u64) -> Decimal {
    if count == 0 {
        return Decimal::new(0, 2);
    }
    let mut avg = (Decimal::from(sum) / Decimal::from(count))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    avg.rescale(2);
    avg
}

/// The freelancer's answer to a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewResponse {
    pub response: String,
    #[serde(default)]
    pub response_zh: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A review as stored. `counted` says whether the service's and the freelancer's sums
/// include it; `stats-updater` moves it towards [`Review::counts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: ReviewId,
    pub order_id: OrderId,
    /// The service reviewed; none for an order from a brief (the review is the seller's only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ServiceId>,
    #[serde(default)]
    pub service_title: Option<String>,
    #[serde(default)]
    pub service_title_zh: Option<String>,
    pub client_id: UserId,
    pub client_username: String,
    pub freelancer_id: UserId,
    pub freelancer_username: String,
    pub rating: u8,
    pub comment: String,
    #[serde(default)]
    pub comment_zh: Option<String>,
    pub is_public: bool,
    /// Hidden by an operator (a report upheld): not listed, not counted.
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub counted: bool,
    #[serde(default)]
    pub response: Option<ReviewResponse>,
    /// Until the seller has reviewed the client too, or this time (the end of the window to
    /// review) comes, only the client sees the review. `None`: shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Review {
    /// Whether the review belongs in the public lists and the averages.
    pub fn counts(&self) -> bool {
        self.is_public && !self.hidden && self.sealed_until.is_none()
    }

    /// Whether `user` may read it whatever its visibility: its client always, its freelancer
    /// once it is no longer sealed.
    pub fn readable_by_party(&self, user: UserId) -> bool {
        user == self.client_id || (user == self.freelancer_id && self.sealed_until.is_none())
    }

    /// The texts moderation reads, by field name.
    fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![("comment", self.comment.as_str())];
        if let Some(zh) = &self.comment_zh {
            out.push(("comment_zh", zh.as_str()));
        }
        out
    }

    /// The client writes a review of `order`.
    pub fn write(
        order: &Order,
        author: UserId,
        input: ReviewInput,
        now: DateTime<Utc>,
    ) -> Result<Review, ReviewRuleError> {
        if author != order.client_id {
            return Err(ReviewRuleError::NotTheClient);
        }
        if order.status != OrderStatus::Completed {
            return Err(ReviewRuleError::NotCompleted);
        }
        if now > window_end(order) {
            return Err(ReviewRuleError::WindowClosed);
        }
        let review = Review {
            id: ReviewId::new(),
            order_id: order.id,
            service_id: order.service_id,
            service_title: order.service_title.clone(),
            service_title_zh: order.service_title_zh.clone(),
            client_id: order.client_id,
            client_username: order.client_username.clone(),
            freelancer_id: order.freelancer_id,
            freelancer_username: order.freelancer_username.clone(),
            rating: input.rating,
            comment: input.comment,
            comment_zh: input.comment_zh,
            is_public: input.is_public,
            hidden: false,
            counted: false,
            response: None,
            sealed_until: Some(window_end(order)),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let findings = moderation::check(&review.texts())?;
        if !findings.is_empty() {
            return Err(ReviewRuleError::Moderation(findings));
        }
        Ok(review)
    }

    /// The reviewed freelancer answers, once.
    pub fn respond(
        &self,
        author: UserId,
        input: ResponseInput,
        now: DateTime<Utc>,
    ) -> Result<ReviewResponse, ReviewRuleError> {
        if author != self.freelancer_id {
            return Err(ReviewRuleError::NotTheFreelancer);
        }
        if self.response.is_some() {
            return Err(ReviewRuleError::AlreadyResponded);
        }
        let mut texts = vec![("response", input.response.as_str())];
        if let Some(zh) = &input.response_zh {
            texts.push(("response_zh", zh.as_str()));
        }
        let findings = moderation::check(&texts)?;
        if !findings.is_empty() {
            return Err(ReviewRuleError::Moderation(findings));
        }
        Ok(ReviewResponse {
            response: input.response,
            response_zh: input.response_zh,
            created_at: now,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewRuleError {
    #[error("only the client of the order reviews it")]
    NotTheClient,
    #[error("only the reviewed freelancer responds")]
    NotTheFreelancer,
    #[error("only the seller of the order reviews its buyer")]
    NotTheSeller,
    #[error("the order is not completed")]
    NotCompleted,
    #[error("the 30 days to review have passed")]
    WindowClosed,
    #[error("the review already has a response")]
    AlreadyResponded,
    #[error("the text does not pass moderation")]
    Moderation(Vec<Finding>),
    #[error(transparent)]
    Rules(#[from] RulesError),
}

/// A review as sent, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewInput {
    pub rating: u8,
    pub comment: String,
    pub comment_zh: Option<String>,
    pub is_public: bool,
}

/// A response as sent, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseInput {
    pub response: String,
    pub response_zh: Option<String>,
}

/// A required text field: present, a string, 1..=[`MAX_TEXT_CHARS`] characters trimmed.
pub(crate) fn required_text(
    c: &mut Check,
    field: &str,
    value: Field<String>,
    code: &'static str,
) -> Option<String> {
    match value {
        Field::Given(s) if !s.trim().is_empty() => c.text(field, &s, (1, MAX_TEXT_CHARS), code),
        _ => {
            c.fail(
                field,
                code,
                Text::new("此字段为必填项", "This field is required"),
            );
            None
        }
    }
}

/// An optional text field: absent, null or blank is `None`.
pub(crate) fn optional_text(
    c: &mut Check,
    field: &str,
    value: Field<String>,
    code: &'static str,
) -> Option<String> {
    match value {
        Field::Absent | Field::Null => None,
        Field::Given(s) if s.trim().is_empty() => None,
        Field::Given(s) => c.text(field, &s, (1, MAX_TEXT_CHARS), code),
        Field::Wrong(_) => {
            c.fail(field, code, Text::new("须为文本", "Must be a string"));
            None
        }
    }
}

/// Each name a review body has that it should not.
pub(crate) fn unknown_fields(c: &mut Check, other: &Others) {
    for k in other.names() {
        c.fail(
            k,
            "review.unknown_field",
            Text::new("未知字段", "Unknown field"),
        );
    }
}

/// A rating: a whole number from 1 to 5.
pub(crate) fn rating(c: &mut Check, value: Field<u64>) -> Option<u8> {
    let rating = match value {
        Field::Given(r @ 1..=5) => u8::try_from(r).ok(),
        _ => None,
    };
    if rating.is_none() {
        c.fail(
            "rating",
            "review.invalid_rating",
            Text::new(
                "评分须为 1 到 5 的整数",
                "rating must be a whole number from 1 to 5",
            ),
        );
    }
    rating
}

/// Whether the review is shown publicly (default yes).
pub(crate) fn visibility(c: &mut Check, value: Field<bool>) -> Option<bool> {
    match value {
        Field::Absent | Field::Null => Some(true),
        Field::Given(b) => Some(b),
        Field::Wrong(_) => {
            c.fail(
                "is_public",
                "review.invalid_visibility",
                Text::new(
                    "is_public 须为 true 或 false",
                    "is_public must be true or false",
                ),
            );
            None
        }
    }
}

/// The seller's review of the buyer of a completed order (once per order, within the same 30
/// days): what sellers see of a buyer on briefs and proposals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientReview {
    pub order_id: OrderId,
    pub seller_id: UserId,
    pub seller_username: String,
    pub client_id: UserId,
    pub rating: u8,
    pub comment: String,
    /// As [`Review::sealed_until`]: only the seller sees it until the client has reviewed too
    /// or this time comes, and only then does it count in the client's rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl ClientReview {
    /// The freelancer of `order` reviews its client.
    pub fn write(
        order: &Order,
        author: UserId,
        (rating, comment): (u8, String),
        now: DateTime<Utc>,
    ) -> Result<ClientReview, ReviewRuleError> {
        if author != order.freelancer_id {
            return Err(ReviewRuleError::NotTheSeller);
        }
        if order.status != OrderStatus::Completed {
            return Err(ReviewRuleError::NotCompleted);
        }
        if now > window_end(order) {
            return Err(ReviewRuleError::WindowClosed);
        }
        let findings = crate::domain::moderation::check(&[("comment", comment.as_str())])?;
        if !findings.is_empty() {
            return Err(ReviewRuleError::Moderation(findings));
        }
        Ok(ClientReview {
            order_id: order.id,
            seller_id: order.freelancer_id,
            seller_username: order.freelancer_username.clone(),
            client_id: order.client_id,
            rating,
            comment,
            sealed_until: Some(window_end(order)),
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_are_exact_and_half_up_to_two_places() {
        assert_eq!(average(13, 3).to_string(), "4.33");
        assert_eq!(average(14, 3).to_string(), "4.67");
        assert_eq!(average(33, 8).to_string(), "4.13"); // 4.125 rounds up
        assert_eq!(average(5, 1).to_string(), "5.00");
        assert_eq!(average(0, 0).to_string(), "0.00");
        assert_eq!(average(4_999_999, 1_000_000).to_string(), "5.00");
    }
}
