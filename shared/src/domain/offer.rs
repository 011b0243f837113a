//! Custom offers (定制报价): in a conversation, a seller offers a buyer terms of their own —
//! what they will do, the price, days and revisions — valid for a few days. The buyer accepts
//! (an order at those terms, `origin: offer`) or declines; an offer past its time can no
//! longer be accepted, and `order-timers` marks it expired and tells both sides.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::brief::{Errors, work_terms};
use super::ids::{ConversationId, OfferId, OrderId, UserId};
use super::money::{Money, fen};
use crate::i18n::Text;

/// How long an offer may stay open: 1–14 days, 3 unless the seller says.
pub const MAX_OFFER_DAYS: u32 = 14;
pub const DEFAULT_OFFER_DAYS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Open,
    Accepted,
    Declined,
    /// An open offer's time has passed: shown so at once, stored so by `order-timers`.
    Expired,
}

impl OfferStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OfferStatus::Open => "open",
            OfferStatus::Accepted => "accepted",
            OfferStatus::Declined => "declined",
            OfferStatus::Expired => "expired",
        }
    }
}

/// A seller's terms, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferTerms {
    pub description: String,
    #[serde(with = "fen")]
    pub price: Money,
    pub delivery_days: u32,
    pub revisions: u32,
}

impl OfferTerms {
    /// Every broken field at once; `valid_days` defaults to three.
    pub fn parse(
        description: Option<String>,
        price: Option<Money>,
        (delivery_days, revisions, valid_days): (Option<u32>, Option<u32>, Option<u32>),
    ) -> Result<(OfferTerms, u32), Errors> {
        let mut errors: Errors = Vec::new();
        let description = description.unwrap_or_default().trim().to_owned();
        if !(10..=3000).contains(&description.chars().count()) {
            errors.push((
                "description",
                Text::new(
                    "报价说明须为 10–3000 个字",
                    "The description is 10–3000 characters",
                ),
            ));
        }
        let (price, days, revisions) = work_terms(price, delivery_days, revisions, &mut errors);
        let valid = valid_days.unwrap_or(DEFAULT_OFFER_DAYS);
        if !(1..=MAX_OFFER_DAYS).contains(&valid) {
            errors.push((
                "expires_in_days",
                Text::new("有效期须为 1–14 天", "An offer is valid 1–14 days"),
            ));
        }
        match (errors.is_empty(), price, days) {
            (true, Some(price), Some(delivery_days)) => Ok((
                OfferTerms {
                    description,
                    price,
                    delivery_days,
                    revisions,
                },
                valid,
            )),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub id: OfferId,
    pub conversation_id: ConversationId,
    pub seller_id: UserId,
    pub seller_username: String,
    pub buyer_id: UserId,
    pub buyer_username: String,
    #[serde(flatten)]
    pub terms: OfferTerms,
    /// As stored; see [`Offer::status_at`].
    pub status: OfferStatus,
    pub expires_at: DateTime<Utc>,
    pub order_id: Option<OrderId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Offer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        conversation: ConversationId,
        (seller, seller_username): (UserId, &str),
        (buyer, buyer_username): (UserId, &str),
        terms: OfferTerms,
        valid_days: u32,
        now: DateTime<Utc>,
    ) -> Offer {
        Offer {
            id: OfferId::new(),
            conversation_id: conversation,
            seller_id: seller,
            seller_username: seller_username.to_owned(),
            buyer_id: buyer,
            buyer_username: buyer_username.to_owned(),
            terms,
            status: OfferStatus::Open,
            expires_at: now + Duration::days(i64::from(valid_days)),
            order_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// What the offer is at `now`: an open one past its time has expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> OfferStatus {
        match self.status {
            OfferStatus::Open if now >= self.expires_at => OfferStatus::Expired,
            s => s,
        }
    }

    /// The message that carries it in the conversation.
    pub fn summary(&self) -> String {
        format!(
            "定制报价 Custom offer: ¥{} · {} 天交付 · {} 次修改 — {}",
            self.terms.price,
            self.terms.delivery_days,
            self.terms.revisions,
            self.terms.description
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_offer_expires_at_its_time_and_terms_are_bounded() {
        let now = Utc::now();
        let (terms, days) = OfferTerms::parse(
            Some("为您的茶饮店设计 logo 与门头，含源文件。".into()),
            Some("1200.00".parse().unwrap()),
            (Some(7), Some(2), None),
        )
        .unwrap();
        assert_eq!(days, DEFAULT_OFFER_DAYS);
        let o = Offer::new(
            ConversationId::new(),
            (UserId::new(), "seller"),
            (UserId::new(), "buyer"),
            terms,
            days,
            now,
        );
        assert_eq!(o.status_at(now), OfferStatus::Open);
        assert_eq!(o.status_at(now + Duration::days(3)), OfferStatus::Expired);
        let errors =
            OfferTerms::parse(Some("短".into()), None, (Some(0), Some(99), Some(30))).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "description",
                "price",
                "delivery_days",
                "revisions",
                "expires_in_days"
            ]
        );
    }
}
