//! `notification-dispatcher`: notification work from SQS → in-app notifications. Each item's
//! id is derived from the causing event, so a redelivered message writes nothing new.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{TimeZone, Utc};
use ulid::Ulid;

use super::{BatchResponse, ItemFailure, WorkMessage};
use crate::deps::Deps;
use crate::domain::{NotificationId, UserId};
use crate::entry::BoxError;
use crate::store::{NotificationRecord, Store, StoreError};

/// A notification id that sorts by the time of the event and is the same every time the same
/// event is handled.
pub fn notification_id(event_id: &str, occurred_at_ms: u64) -> NotificationId {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, event_id.as_bytes());
    let mut random = [0u8; 16];
    random[6..].copy_from_slice(&digest.as_ref()[..10]);
    NotificationId::from_ulid(Ulid::from_parts(
        occurred_at_ms,
        u128::from_be_bytes(random),
    ))
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("bad message: {0}")]
    BadMessage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Acts on one message. Returns whether anything new was written.
pub async fn dispatch(store: &Store, message: &WorkMessage) -> Result<bool, DispatchError> {
    match message {
        WorkMessage::UserRegistered {
            id,
            user_id,
            occurred_at_ms,
        } => {
            let user: UserId = user_id
                .parse()
                .map_err(|_| DispatchError::BadMessage(format!("user id {user_id}")))?;
            let at = Utc
                .timestamp_millis_opt(i64::try_from(*occurred_at_ms).unwrap_or(0))
                .single()
                .unwrap_or_else(Utc::now);
            let record = NotificationRecord::new(
                notification_id(id, *occurred_at_ms),
                user,
                "welcome",
                "Welcome to Gigbao",
                "欢迎加入Gigbao",
                "Your account is ready. Complete your profile to get started.",
                "账号已创建成功，完善个人资料即可开始使用。",
                None,
                at,
            );
            Ok(store.put_notification_once(&record).await?)
        }
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
            let at = Utc
                .timestamp_millis_opt(i64::try_from(*occurred_at_ms).unwrap_or(0))
                .single()
                .unwrap_or_else(Utc::now);
            let mut created = false;
            for (recipient, to_client) in [(client_id, true), (freelancer_id, false)] {
                let Some(text) = order_text(event, by, to_client, order_number) else {
                    continue;
                };
                let user: UserId = recipient
                    .parse()
                    .map_err(|_| DispatchError::BadMessage(format!("user id {recipient}")))?;
                let record = NotificationRecord::new(
                    notification_id(&format!("{id}#{recipient}"), *occurred_at_ms),
                    user,
                    event,
                    &text.title,
                    &text.title_zh,
                    &text.message,
                    &text.message_zh,
                    Some(order_id.clone()),
                    at,
                );
                created |= store.put_notification_once(&record).await?;
            }
            Ok(created)
        }
        WorkMessage::ViewsChanged { .. }
        | WorkMessage::ReviewChanged { .. }
        | WorkMessage::SearchService { .. }
        | WorkMessage::SearchFreelancer { .. } => Err(DispatchError::BadMessage(
            "a stats or search message on the notifications queue".into(),
        )),
    }
}

/// A bilingual notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationText {
    pub title: String,
    pub title_zh: String,
    pub message: String,
    pub message_zh: String,
}

/// What an order event tells one party (`None`: nothing — they did it themselves).
pub fn order_text(
    event: &str,
    by: &str,
    to_client: bool,
    number: &str,
) -> Option<NotificationText> {
    let acted_self = (by == "client" && to_client) || (by == "freelancer" && !to_client);
    if acted_self {
        return None;
    }
    let t = |title: &str, title_zh: &str, message: String, message_zh: String| {
        Some(NotificationText {
            title: title.to_owned(),
            title_zh: title_zh.to_owned(),
            message,
            message_zh,
        })
    };
    match (event, to_client) {
        ("order.placed", false) => t(
            "New order",
            "新订单",
            format!("You have a new order {number}; it starts once it is paid."),
            format!("您收到新订单 {number}，买家付款后即可开始工作。"),
        ),
        ("order.paid", false) => t(
            "Order paid",
            "订单已付款",
            format!("Order {number} is paid and held in escrow; you can start working."),
            format!("订单 {number} 已付款，款项由平台托管，请开始工作。"),
        ),
        ("order.delivered", true) => t(
            "Work delivered",
            "卖家已交付",
            format!("Order {number} was delivered. Accept it or ask for a revision within 3 days."),
            format!("订单 {number} 已交付，请在3天内验收或提出修改。"),
        ),
        ("order.revision_requested", false) => t(
            "Revision requested",
            "买家要求修改",
            format!("The client asked for a revision on order {number}."),
            format!("买家对订单 {number} 提出了修改要求。"),
        ),
        ("order.completed", _) => t(
            "Order completed",
            "订单已完成",
            format!("Order {number} is complete."),
            format!("订单 {number} 已完成。"),
        ),
        ("order.cancellation_requested", _) => t(
            "Cancellation requested",
            "对方申请取消订单",
            format!("The other party asked to cancel order {number}. Cancel too to confirm."),
            format!("对方申请取消订单 {number}，如同意请同样执行取消。"),
        ),
        ("order.cancelled", _) => t(
            "Order cancelled",
            "订单已取消",
            format!("Order {number} was cancelled."),
            format!("订单 {number} 已取消。"),
        ),
        ("order.disputed", _) => t(
            "Dispute opened",
            "订单纠纷",
            format!("A dispute was opened on order {number}; an operator will decide."),
            format!("订单 {number} 发起了纠纷，平台客服将介入处理。"),
        ),
        ("order.resolved", _) => t(
            "Dispute resolved",
            "纠纷已处理",
            format!("The dispute on order {number} was resolved."),
            format!("订单 {number} 的纠纷已处理完毕。"),
        ),
        ("order.marked_late", _) => t(
            "Order overdue",
            "订单已逾期",
            format!("Order {number} is past its delivery deadline."),
            format!("订单 {number} 已超过交付期限。"),
        ),
        _ => None,
    }
}

/// Handles an SQS batch; failed messages are reported for retry (and reach the DLQ after the
/// queue's `maxReceiveCount`).
pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let mut failures = Vec::new();
    for msg in &event.records {
        let id = msg.message_id.clone().unwrap_or_default();
        let result = match serde_json::from_str::<WorkMessage>(msg.body.as_deref().unwrap_or("")) {
            Ok(work) => dispatch(&deps.store, &work).await,
            Err(e) => Err(DispatchError::BadMessage(e.to_string())),
        };
        match result {
            Ok(created) => tracing::info!(message_id = %id, created, "dispatched"),
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "dispatch failed");
                failures.push(ItemFailure {
                    item_identifier: id,
                });
            }
        }
    }
    Ok(BatchResponse {
        batch_item_failures: failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_events_tell_the_other_party() {
        let n = "ORD20261124160000ABCDEF";
        assert!(order_text("order.delivered", "freelancer", false, n).is_none());
        let t = order_text("order.delivered", "freelancer", true, n).unwrap();
        assert!(t.message_zh.contains(n) && t.title_zh == "卖家已交付");
        // The timers and operators tell both sides.
        assert!(order_text("order.completed", "system", true, n).is_some());
        assert!(order_text("order.completed", "system", false, n).is_some());
        assert!(order_text("order.placed", "client", true, n).is_none());
    }

    #[test]
    fn notification_ids_are_deterministic_and_time_ordered() {
        let a = notification_id("ev-1", 1_000);
        assert_eq!(a, notification_id("ev-1", 1_000));
        assert_ne!(a, notification_id("ev-2", 1_000));
        assert!(notification_id("ev-9", 999) < notification_id("ev-1", 1_000));
        assert_eq!(a.timestamp_ms(), 1_000);
    }
}
