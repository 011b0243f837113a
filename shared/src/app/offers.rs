//! Custom offers (定制报价): a seller sends terms in a conversation as a typed message; the
//! other participant accepts (an unpaid order at those terms, `origin: offer`, in one
//! transaction with the offer's decision) or declines. Past its time it cannot be accepted.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::domain::clearance::ClearancePolicy;
use crate::domain::messaging::{Message, MessageKind};
use crate::domain::moderation::{self, Finding, RulesError};
use crate::domain::offer::{Offer, OfferStatus, OfferTerms};
use crate::domain::order::Order;
use crate::domain::{ConversationId, MessageId, OfferId, User};
use crate::store::{Party, Store, StoreError, Thread, TransitionRefusal};

#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error("no such conversation")]
    ConversationNotFound,
    #[error("no such offer")]
    NotFound,
    #[error("only sellers send offers")]
    NotSeller,
    #[error("moderation refused the text")]
    Moderation(Vec<Finding>),
    #[error("the offer is {0:?}")]
    NotOpen(OfferStatus),
    #[error("the seller can no longer take orders")]
    SellerGone,
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `offer-create`: a seller sends terms to the other participant of their conversation.
#[instrument(skip_all, fields(user_id = %seller.id), err)]
pub async fn send(
    store: &Store,
    seller: &User,
    conversation: ConversationId,
    (terms, valid_days): (OfferTerms, u32),
    now: DateTime<Utc>,
) -> Result<(Offer, Message), OfferError> {
    let mine = store
        .get_membership(seller.id, conversation)
        .await?
        .ok_or(OfferError::ConversationNotFound)?;
    if !seller.is_seller() {
        return Err(OfferError::NotSeller);
    }
    let findings = moderation::check(&[("description", &terms.description)])?;
    if !findings.is_empty() {
        return Err(OfferError::Moderation(findings));
    }
    let offer = Offer::new(
        conversation,
        (seller.id, seller.username.as_str()),
        (mine.other_user_id, &mine.other_username),
        terms,
        valid_days,
        now,
    );
    let thread = Thread {
        conversation_id: conversation,
        service_id: mine.service_id,
        order_id: mine.order_id,
        parties: [
            Party {
                user_id: seller.id,
                username: seller.username.as_str().to_owned(),
            },
            Party {
                user_id: mine.other_user_id,
                username: mine.other_username.clone(),
            },
        ],
    };
    let message = Message {
        id: MessageId::new(),
        conversation_id: conversation,
        sender_id: Some(seller.id),
        sender_name: Some(seller.username.as_str().to_owned()),
        recipients: vec![mine.other_user_id],
        message_type: MessageKind::Offer,
        content: offer.summary(),
        file_key: None,
        file_name: None,
        file_size: None,
        file_sha256: None,
        is_masked: false,
        order_id: mine.order_id,
        offer_id: Some(offer.id),
        created_at: now,
    };
    store.post_offer(&thread, &message, &offer).await?;
    Ok((offer, message))
}

/// An offer as one of its two parties sees it (anyone else: not found).
pub async fn get(store: &Store, viewer: &User, id: OfferId) -> Result<Offer, OfferError> {
    store
        .get_offer(id)
        .await?
        .filter(|o| o.buyer_id == viewer.id || o.seller_id == viewer.id)
        .ok_or(OfferError::NotFound)
}

/// The offer its buyer may decide: open and unexpired at `now`.
async fn to_decide(
    store: &Store,
    buyer: &User,
    id: OfferId,
    now: DateTime<Utc>,
) -> Result<Offer, OfferError> {
    let offer = store
        .get_offer(id)
        .await?
        .filter(|o| o.buyer_id == buyer.id)
        .ok_or(OfferError::NotFound)?;
    match offer.status_at(now) {
        OfferStatus::Open => Ok(offer),
        other => Err(OfferError::NotOpen(other)),
    }
}

/// `offer-accept`: the buyer takes the offer → an unpaid order at its terms, with the commission
/// of the seller's level; the offer is accepted in the order's transaction, so it becomes one
/// order however often it is accepted; accepting the accepted offer again answers its order.
#[instrument(skip_all, fields(user_id = %buyer.id), err)]
pub async fn accept(
    store: &Store,
    clearance: &ClearancePolicy,
    buyer: &User,
    id: OfferId,
    now: DateTime<Utc>,
) -> Result<Order, OfferError> {
    for _ in 0..3 {
        let offer = match to_decide(store, buyer, id, now).await {
            Err(OfferError::NotOpen(OfferStatus::Accepted)) => {
                let accepted = store.get_offer(id).await?.and_then(|o| o.order_id);
                if let Some(order) = accepted
                    && let Some(o) = store.get_order(order, true).await?
                {
                    return Ok(o);
                }
                return Err(OfferError::NotOpen(OfferStatus::Accepted));
            }
            other => other?,
        };
        let terms =
            super::orders::custom_order_terms(store, clearance, offer.seller_id, ("", ""), now)
                .await?
                .ok_or(OfferError::SellerGone)?;
        let order = Order::from_offer(buyer, &offer, terms, now);
        let mut decided = offer.clone();
        decided.order_id = Some(order.id);
        let op = store.decide_offer_op(&decided, OfferStatus::Accepted, now)?;
        match store.create_order(&order, None, vec![op]).await? {
            Ok(()) => {
                tracing::info!(offer_id = %id, order_id = %order.id, "offer accepted");
                return Ok(order);
            }
            // Decided (or expired) meanwhile: read it again.
            Err(TransitionRefusal::Stale) => continue,
            Err(other) => {
                return Err(StoreError::Decode(format!("accepting offer {id}: {other:?}")).into());
            }
        }
    }
    Err(OfferError::NotOpen(OfferStatus::Expired))
}

/// `offer-decline`: the buyer turns the offer down.
#[instrument(skip_all, fields(user_id = %buyer.id), err)]
pub async fn decline(
    store: &Store,
    buyer: &User,
    id: OfferId,
    now: DateTime<Utc>,
) -> Result<Offer, OfferError> {
    let mut offer = to_decide(store, buyer, id, now).await?;
    if !store.decline_offer(&offer, now).await? {
        let current = store.get_offer(id).await?.ok_or(OfferError::NotFound)?;
        return Err(OfferError::NotOpen(current.status_at(now)));
    }
    offer.status = OfferStatus::Declined;
    offer.updated_at = now;
    offer.version += 1;
    Ok(offer)
}

/// `order-timers`: marks every open offer whose time has passed by `now` expired (the stream
/// then tells both sides). Returns how many it marked.
pub async fn expire_due(store: &Store, now: DateTime<Utc>) -> Result<u32, StoreError> {
    const BATCH: i32 = 100;
    let mut expired = 0;
    for id in store.due_offers(now, BATCH).await? {
        if store.expire_offer(id, now).await? {
            expired += 1;
        }
    }
    Ok(expired)
}
