//! What clients see of reviews (the reviews' routes, and an order with its review).

use serde::Serialize;

use super::views::rfc3339;
use crate::domain::review::Review;

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
            created_at: rfc3339(&r.created_at),
            updated_at: rfc3339(&r.updated_at),
        }
    }
}
