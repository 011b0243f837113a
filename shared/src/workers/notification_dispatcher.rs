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
        WorkMessage::ViewsChanged { .. } => Err(DispatchError::BadMessage(
            "a stats message on the notifications queue".into(),
        )),
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
    fn notification_ids_are_deterministic_and_time_ordered() {
        let a = notification_id("ev-1", 1_000);
        assert_eq!(a, notification_id("ev-1", 1_000));
        assert_ne!(a, notification_id("ev-2", 1_000));
        assert!(notification_id("ev-9", 999) < notification_id("ev-1", 1_000));
        assert_eq!(a.timestamp_ms(), 1_000);
    }
}
