//! Reviews: the client reviews a completed order, the freelancer responds, anybody reads
//! the public ones. The sums behind the averages are `stats-updater`'s (see
//! `Store::count_review`), fed by the stream, so this module never writes a counter.

use chrono::{DateTime, Utc};

use crate::domain::review::{ResponseInput, Review, ReviewInput, ReviewRuleError};
use crate::domain::service::ServiceStatus;
use crate::domain::{OrderId, ReviewId, ServiceId, User, UserId};
use crate::store::{ListError, Page, ReviewListing, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such order")]
    OrderNotFound,
    #[error("no such review")]
    NotFound,
    #[error("no such service")]
    ServiceNotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("the order already has a review")]
    AlreadyReviewed,
    #[error(transparent)]
    Rule(#[from] ReviewRuleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    List(#[from] ListError),
}

/// `review-create`: the client of a completed order reviews it, once, within 30 days.
/// Anyone but the order's parties is told the order does not exist.
pub async fn create(
    store: &Store,
    author: &User,
    order_id: OrderId,
    input: ReviewInput,
    now: DateTime<Utc>,
) -> Result<Review, ReviewError> {
    let order = store
        .get_order(order_id, true)
        .await?
        .filter(|o| o.party_of(author.id).is_some())
        .ok_or(ReviewError::OrderNotFound)?;
    let review = Review::write(&order, author.id, input, now)?;
    if !store.create_review(&review).await? {
        return Err(ReviewError::AlreadyReviewed);
    }
    Ok(review)
}

/// `review-client`: the freelancer of a completed order reviews its client, once, within 30
/// days. Anyone else is told the order does not exist.
pub async fn review_client(
    store: &Store,
    author: &User,
    order_id: OrderId,
    (rating, comment): (u8, String),
    now: DateTime<Utc>,
) -> Result<crate::domain::review::ClientReview, ReviewError> {
    let order = store
        .get_order(order_id, true)
        .await?
        .filter(|o| o.party_of(author.id).is_some())
        .ok_or(ReviewError::OrderNotFound)?;
    let review =
        crate::domain::review::ClientReview::write(&order, author.id, (rating, comment), now)?;
    if !store.create_client_review(&review).await? {
        return Err(ReviewError::AlreadyReviewed);
    }
    Ok(review)
}

/// The review of an order its parties are looking at (any visibility: a private review is
/// theirs to read), once the order is completed.
pub async fn of_order(
    store: &Store,
    order: &crate::domain::order::Order,
) -> Result<Option<Review>, StoreError> {
    if order.status != crate::domain::order::OrderStatus::Completed {
        return Ok(None);
    }
    match store.order_review_id(order.id).await? {
        Some(id) => store.get_review(id, false).await,
        None => Ok(None),
    }
}

/// `review-respond`: the reviewed freelancer answers, once. A review nobody else may see
/// (private or hidden) does not exist for anyone but its two parties.
pub async fn respond(
    store: &Store,
    author: &User,
    id: ReviewId,
    input: ResponseInput,
    now: DateTime<Utc>,
) -> Result<Review, ReviewError> {
    let mut review = store
        .get_review(id, true)
        .await?
        .filter(|r| r.counts() || author.id == r.client_id || author.id == r.freelancer_id)
        .ok_or(ReviewError::NotFound)?;
    let response = review.respond(author.id, input, now)?;
    if !store.add_review_response(id, &response).await? {
        return Err(ReviewRuleError::AlreadyResponded.into());
    }
    review.response = Some(response);
    review.updated_at = now;
    review.version += 1;
    Ok(review)
}

/// `service-reviews`: the public reviews of a service on the market (active or paused).
pub async fn of_service(
    store: &Store,
    id: ServiceId,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Review>, ReviewError> {
    store
        .get_service(id, false)
        .await?
        .filter(|s| matches!(s.status, ServiceStatus::Active | ServiceStatus::Paused))
        .ok_or(ReviewError::ServiceNotFound)?;
    Ok(store
        .list_reviews(ReviewListing::Service(id), limit, cursor)
        .await?)
}

/// `user-reviews`: the public reviews an active user received.
pub async fn of_user(
    store: &Store,
    id: UserId,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Review>, ReviewError> {
    super::users::public_profile(store, id)
        .await?
        .ok_or(ReviewError::UserNotFound)?;
    Ok(store
        .list_reviews(ReviewListing::Freelancer(id), limit, cursor)
        .await?)
}
