//! What clients see of reviews (the reviews' routes, and an order with its review).

use serde::Serialize;

use super::views::rfc3339;
use crate::domain::review::{ClientReview, Review};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PartyCard {
    id: String,
    username: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReviewServiceCard)]
pub(crate) struct ServiceCard {
    id: String,
    title: Option<String>,
    title_zh: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ResponseView {
    response: String,
    response_zh: Option<String>,
    created_at: String,
}

/// A review as anybody sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    id: String,
    /// The service reviewed; `null` for an order from a brief.
    service: Option<ServiceCard>,
    client: PartyCard,
    freelancer: PartyCard,
    rating: u8,
    comment: String,
    comment_zh: Option<String>,
    is_public: bool,
    response: Option<ResponseView>,
    /// Only its author sees it until the other side has reviewed too or this time comes (the
    /// end of the 30 days to review); `null` once both sides can read it.
    sealed_until: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&Review> for ReviewView {
    fn from(r: &Review) -> Self {
        ReviewView {
            id: r.id.to_string(),
            service: r.service_id.map(|id| ServiceCard {
                id: id.to_string(),
                title: r.service_title.clone(),
                title_zh: r.service_title_zh.clone(),
            }),
            client: PartyCard {
                id: r.client_id.to_string(),
                username: r.client_username.clone(),
            },
            freelancer: PartyCard {
                id: r.freelancer_id.to_string(),
                username: r.freelancer_username.clone(),
            },
            rating: r.rating,
            comment: r.comment.clone(),
            comment_zh: r.comment_zh.clone(),
            is_public: r.is_public,
            response: r.response.as_ref().map(|x| ResponseView {
                response: x.response.clone(),
                response_zh: x.response_zh.clone(),
                created_at: rfc3339(&x.created_at),
            }),
            sealed_until: r.sealed_until.as_ref().map(rfc3339),
            created_at: rfc3339(&r.created_at),
            updated_at: rfc3339(&r.updated_at),
        }
    }
}

/// A seller's review of a buyer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ClientReviewView {
    order_id: String,
    seller_id: String,
    seller_username: String,
    client_id: String,
    rating: u8,
    comment: String,
    /// As a review's: `null` once both sides can read it.
    sealed_until: Option<String>,
    created_at: String,
}

impl From<&ClientReview> for ClientReviewView {
    fn from(r: &ClientReview) -> Self {
        ClientReviewView {
            order_id: r.order_id.to_string(),
            seller_id: r.seller_id.to_string(),
            seller_username: r.seller_username.clone(),
            client_id: r.client_id.to_string(),
            rating: r.rating,
            comment: r.comment.clone(),
            sealed_until: r.sealed_until.as_ref().map(rfc3339),
            created_at: rfc3339(&r.created_at),
        }
    }
}
