//! Reviews: the client reviews a completed order, the seller reviews the client, the
//! freelancer responds, anybody reads the public ones. Both reviews stay sealed until both are
//! in or the window ends (`order-timers` shows those, see [`reveal_due`]). The sums behind the
//! services' and sellers' averages are `stats-updater`'s (see `Store::count_review`), fed by the
//! stream; the buyers' sums move when a seller's review is shown.

use chrono::{DateTime, Utc};

use crate::domain::review::{ResponseInput, Review, ReviewInput, ReviewRuleError};
use crate::domain::service::ServiceStatus;
use crate::domain::{OrderId, ReviewId, ServiceId, User, UserId};
use crate::store::{ListError, Page, ReviewListing, Sealed, Store, StoreError};

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
    let mut review = Review::write(&order, author.id, input, now)?;
    // The seller reviewed first: both are shown now.
    if store.get_client_review(order_id).await?.is_some() {
        review.sealed_until = None;
    }
    if !store.create_review(&review).await? {
        return Err(ReviewError::AlreadyReviewed);
    }
    reveal_both(store, order_id, now).await?;
    Ok(review)
}

/// Shows both reviews of an order once both are in. Each side calls it after writing its own,
/// so of two reviews written at the same moment the later write's call sees the other.
async fn reveal_both(store: &Store, order: OrderId, now: DateTime<Utc>) -> Result<(), StoreError> {
    let Some(review) = store.get_order_review(order).await? else {
        return Ok(());
    };
    if store.get_client_review(order).await?.is_none() {
        return Ok(());
    }
    if review.sealed_until.is_some() {
        store.reveal_review(review.id, now).await?;
    }
    store.reveal_client_review(order).await?;
    Ok(())
}

/// What showing the sealed reviews whose window ended did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RevealReport {
    pub revealed: u32,
    pub failed: u32,
}

/// `order-timers`: shows every sealed review whose window to review has ended by `now`.
pub async fn reveal_due(store: &Store, now: DateTime<Utc>) -> Result<RevealReport, StoreError> {
    const BATCH: i32 = 100;
    let mut report = RevealReport::default();
    for sealed in store.due_reveals(now, BATCH).await? {
        let shown = match sealed {
            Sealed::Review(id) => store.reveal_review(id, now).await,
            Sealed::ClientReview(order) => store.reveal_client_review(order).await,
        };
        match shown {
            Ok(true) => report.revealed += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::error!(?sealed, error = %e, "showing a sealed review failed");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Shows the sealed reviews of one order if their window has ended by `at` (what
/// [`reveal_due`] does for it). Returns how many it showed.
pub async fn reveal_order(
    store: &Store,
    order: OrderId,
    at: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let mut shown = 0;
    if let Some(r) = store.get_order_review(order).await?
        && r.sealed_until.is_some_and(|until| until <= at)
        && store.reveal_review(r.id, at).await?
    {
        shown += 1;
    }
    if let Some(c) = store.get_client_review(order).await?
        && c.sealed_until.is_some_and(|until| until <= at)
        && store.reveal_client_review(order).await?
    {
        shown += 1;
    }
    Ok(shown)
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
    let mut review =
        crate::domain::review::ClientReview::write(&order, author.id, (rating, comment), now)?;
    // The client reviewed first: both are shown now.
    if store.get_order_review(order_id).await?.is_some() {
        review.sealed_until = None;
    }
    if !store.create_client_review(&review).await? {
        return Err(ReviewError::AlreadyReviewed);
    }
    reveal_both(store, order_id, now).await?;
    Ok(review)
}

/// Both reviews of a completed order as one of its parties (or an operator) sees them.
#[derive(Debug, Default, Clone)]
pub struct OrderReviews {
    /// The client's review of the seller, unless it is sealed and the viewer is the seller.
    pub review: Option<Review>,
    /// The seller's review of the client, unless it is sealed and the viewer is the client.
    pub client_review: Option<crate::domain::review::ClientReview>,
    /// The other side has reviewed and it is sealed until the viewer reviews too.
    pub awaiting_your_review: bool,
}

/// The reviews of an order its parties are looking at (any visibility: a private review is
/// theirs to read), once the order is completed. A sealed review is its author's to read (and
/// an operator's) until it is shown.
pub async fn of_order(
    store: &Store,
    viewer: &User,
    order: &crate::domain::order::Order,
) -> Result<OrderReviews, StoreError> {
    if order.status != crate::domain::order::OrderStatus::Completed {
        return Ok(OrderReviews::default());
    }
    let (review, client_review) = tokio::try_join!(
        store.get_order_review(order.id),
        store.get_client_review(order.id)
    )?;
    let (is_client, is_seller) = (
        viewer.id == order.client_id,
        viewer.id == order.freelancer_id,
    );
    let sealed_review = review.as_ref().is_some_and(|r| r.sealed_until.is_some());
    let sealed_client = client_review
        .as_ref()
        .is_some_and(|r| r.sealed_until.is_some());
    Ok(OrderReviews {
        awaiting_your_review: (is_seller && sealed_review && client_review.is_none())
            || (is_client && sealed_client && review.is_none()),
        review: review.filter(|_| !(is_seller && sealed_review)),
        client_review: client_review.filter(|_| !(is_client && sealed_client)),
    })
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
        .filter(|r| r.counts() || r.readable_by_party(author.id))
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
