//! `notification-dispatcher`: domain events from SQS → the notices of `app::notifications`,
//! written once, pushed to the users' open sockets and, for the important ones, sent by e-mail
//! or SMS while they are offline. Each notification's id is derived from the causing event, so
//! a redelivered message writes (and sends) nothing new. This worker only decodes its messages
//! and delivers: what each notice says lives with the notices.

use aws_lambda_events::event::sqs::SqsEvent;

use super::{Batch, BatchResponse, WorkMessage, work_message};
use crate::app::notifications::{self, Notice, OrderChange};
use crate::deps::Deps;
use crate::domain::{Money, NotificationId, UserId, time_of_ms};
use crate::entry::BoxError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("bad message: {0}")]
    BadMessage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn user_id(s: &str) -> Result<UserId, DispatchError> {
    s.parse()
        .map_err(|_| DispatchError::BadMessage(format!("user id {s}")))
}

/// Delivers `notice` to `user` once per `event_id`.
async fn tell(
    deps: &Deps,
    event_id: &str,
    occurred_at_ms: u64,
    user: &str,
    notice: Notice,
) -> Result<bool, DispatchError> {
    let id = NotificationId::for_event(event_id, occurred_at_ms);
    let at = time_of_ms(occurred_at_ms);
    Ok(notifications::deliver(deps.channels(), id, user_id(user)?, &notice, at, None).await?)
}

/// Acts on one message. Returns whether anything new was written.
pub async fn dispatch(deps: &Deps, message: &WorkMessage) -> Result<bool, DispatchError> {
    match message {
        WorkMessage::UserRegistered {
            id,
            user_id: user,
            occurred_at_ms,
        } => tell(deps, id, *occurred_at_ms, user, Notice::Welcome).await,
        WorkMessage::OrderEvent {
            id,
            order_id,
            order_number,
            event,
            by,
            client_id,
            freelancer_id,
            occurred_at_ms,
        } => {
            let order = OrderChange {
                order_id,
                number: order_number,
                event: *event,
                by: *by,
                client_id: user_id(client_id)?,
                freelancer_id: user_id(freelancer_id)?,
            };
            Ok(notifications::order_event(deps.channels(), id, *occurred_at_ms, order).await?)
        }
        WorkMessage::MessagePosted {
            id,
            conversation_id,
            sender_name,
            recipients,
            preview,
            occurred_at_ms,
            ..
        } => {
            let mut created = false;
            for recipient in recipients {
                let notice = Notice::MessageReceived {
                    conversation_id: conversation_id.clone(),
                    sender_name: sender_name.clone(),
                    preview: preview.clone(),
                };
                let event = format!("{id}#{recipient}");
                created |= tell(deps, &event, *occurred_at_ms, recipient, notice).await?;
            }
            Ok(created)
        }
        WorkMessage::OfferDecided {
            id,
            offer_id,
            seller_id,
            seller_username,
            buyer_id,
            buyer_username,
            expired: true,
            occurred_at_ms,
            ..
        } => {
            let to_seller = Notice::OfferExpired {
                offer_id: offer_id.clone(),
                with_username: buyer_username.clone(),
            };
            let to_buyer = Notice::OfferExpired {
                offer_id: offer_id.clone(),
                with_username: seller_username.clone(),
            };
            let mut created = false;
            for (user, notice) in [(seller_id, to_seller), (buyer_id, to_buyer)] {
                if user.is_empty() {
                    continue;
                }
                let event = format!("{id}#{user}");
                created |= tell(deps, &event, *occurred_at_ms, user, notice).await?;
            }
            Ok(created)
        }
        WorkMessage::OfferDecided {
            id,
            offer_id,
            seller_id,
            buyer_username,
            accepted,
            occurred_at_ms,
            ..
        } => {
            let notice = Notice::OfferDecided {
                offer_id: offer_id.clone(),
                buyer_username: buyer_username.clone(),
                accepted: *accepted,
            };
            tell(deps, id, *occurred_at_ms, seller_id, notice).await
        }
        WorkMessage::ProposalReceived {
            id,
            brief_id,
            client_id,
            seller_username,
            occurred_at_ms,
        } => {
            let notice = Notice::ProposalReceived {
                brief_id: brief_id.clone(),
                seller_username: seller_username.clone(),
            };
            tell(deps, id, *occurred_at_ms, client_id, notice).await
        }
        WorkMessage::BriefDecided {
            id,
            brief_id,
            title,
            awarded_to,
            occurred_at_ms,
        } => {
            let brief: crate::domain::BriefId = brief_id
                .parse()
                .map_err(|_| DispatchError::BadMessage(format!("brief id {brief_id}")))?;
            let mut created = false;
            for p in deps.store.proposals_of(brief).await? {
                if p.status == crate::domain::brief::ProposalStatus::Withdrawn {
                    continue;
                }
                let seller = p.seller_id.to_string();
                let notice = Notice::ProposalDecided {
                    brief_id: brief_id.clone(),
                    title: title.clone(),
                    accepted: awarded_to.as_deref() == Some(seller.as_str()),
                };
                let event = format!("{id}#{seller}");
                created |= tell(deps, &event, *occurred_at_ms, &seller, notice).await?;
            }
            Ok(created)
        }
        WorkMessage::ReviewReceived {
            id,
            review_id,
            order_id,
            freelancer_id,
            client_username,
            rating,
            sealed,
            occurred_at_ms,
        } => {
            let notice = if *sealed {
                Notice::ReviewWaiting {
                    order_id: order_id.clone(),
                    client_username: client_username.clone(),
                }
            } else {
                Notice::ReviewReceived {
                    review_id: review_id.clone(),
                    client_username: client_username.clone(),
                    rating: *rating,
                }
            };
            tell(deps, id, *occurred_at_ms, freelancer_id, notice).await
        }
        WorkMessage::VerificationReviewed {
            id,
            verification_id,
            user_id: user,
            status,
            reason,
            occurred_at_ms,
        } => match Notice::verification(verification_id, *status, reason.clone()) {
            Some(notice) => tell(deps, id, *occurred_at_ms, user, notice).await,
            None => Ok(false),
        },
        WorkMessage::WithdrawalReviewed {
            id,
            withdrawal_id,
            user_id: user,
            status,
            amount_fen,
            reason,
            occurred_at_ms,
        } => {
            let notice = Notice::WithdrawalReviewed {
                withdrawal_id: withdrawal_id.clone(),
                status: *status,
                amount: Money::from_fen(*amount_fen),
                reason: reason.clone(),
            };
            tell(deps, id, *occurred_at_ms, user, notice).await
        }
        WorkMessage::RefundFinished {
            id,
            refund_no,
            order_id,
            user_id: user,
            status,
            gateway,
            amount_fen,
            occurred_at_ms,
        } => {
            let notice = Notice::RefundFinished {
                order_id: order_id.clone(),
                refund_no: refund_no.clone(),
                credited: *status == crate::domain::refund::RefundStatus::Credited,
                gateway: *gateway,
                amount: Money::from_fen(*amount_fen),
            };
            tell(deps, id, *occurred_at_ms, user, notice).await
        }
        WorkMessage::AccountChanged {
            id,
            user_id: user,
            change,
            occurred_at_ms,
        } => {
            let notice = Notice::AccountChanged { change: *change };
            tell(deps, id, *occurred_at_ms, user, notice).await
        }
        WorkMessage::EarningsCleared {
            id,
            order_id,
            user_id: user,
            amount_fen,
            occurred_at_ms,
        } => {
            let notice = Notice::EarningsCleared {
                order_id: order_id.clone(),
                amount: Money::from_fen(*amount_fen),
            };
            tell(deps, id, *occurred_at_ms, user, notice).await
        }
        WorkMessage::ReportDecided {
            id,
            report_id,
            reporter_id,
            status,
            target_type,
            occurred_at_ms,
        } => match Notice::report(report_id, *status, *target_type) {
            Some(notice) => tell(deps, id, *occurred_at_ms, reporter_id, notice).await,
            None => Ok(false),
        },
        WorkMessage::ExportReady {
            id,
            user_id: user,
            export_id,
            occurred_at_ms,
        } => {
            let notice = Notice::ExportReady {
                export_id: export_id.clone(),
            };
            tell(deps, id, *occurred_at_ms, user, notice).await
        }
        WorkMessage::MonthlyReport {
            id,
            user_id: user,
            report,
            occurred_at_ms,
            ..
        } => {
            let notice = Notice::MonthlyReport(report.clone());
            tell(deps, id, *occurred_at_ms, user, notice).await
        }
        WorkMessage::ViewsChanged { .. }
        | WorkMessage::ReviewChanged { .. }
        | WorkMessage::SearchService { .. }
        | WorkMessage::SearchFreelancer { .. }
        | WorkMessage::SearchBrief { .. }
        | WorkMessage::Counters(_)
        | WorkMessage::AccountRegistered { .. }
        | WorkMessage::MessageSent { .. }
        | WorkMessage::ReportsPage { .. }
        | WorkMessage::ExportRequested { .. }
        | WorkMessage::RankService { .. }
        | WorkMessage::RankFreelancer { .. } => Err(DispatchError::BadMessage(
            "a stats, search, abuse or reports message on the notifications queue".into(),
        )),
    }
}

/// Handles an SQS batch; failed messages are reported for retry (and reach the DLQ after the
/// queue's `maxReceiveCount`), unreadable ones too (see [`Batch`]).
pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let batch = Batch::decode(&event, |body| work_message(body, Some));
    Ok(batch
        .each(|work| async move {
            dispatch(deps, &work)
                .await
                .map(|created| format!("dispatched: {created} created"))
                .map_err(|e| e.to_string())
        })
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_ids_are_deterministic_and_time_ordered() {
        let id = NotificationId::for_event;
        let a = id("ev-1", 1_000);
        assert_eq!(a, id("ev-1", 1_000));
        assert_ne!(a, id("ev-2", 1_000));
        assert!(id("ev-9", 999) < id("ev-1", 1_000));
        assert_eq!(a.timestamp_ms(), 1_000);
    }
}
