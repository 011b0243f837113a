use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, from_item, keys, to_item};
use crate::domain::{NotificationId, UserId};

/// An in-app notification as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity_type: String,
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub title_zh: String,
    pub message: String,
    pub message_zh: String,
    pub notification_type: String,
    pub related_id: Option<String>,
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl NotificationRecord {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: NotificationId,
        user: UserId,
        notification_type: &str,
        title: &str,
        title_zh: &str,
        message: &str,
        message_zh: &str,
        related_id: Option<String>,
        now: DateTime<Utc>,
    ) -> NotificationRecord {
        let key = keys::notification(user, id);
        NotificationRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: "notification".to_owned(),
            id: id.to_string(),
            user_id: user.to_string(),
            title: title.to_owned(),
            title_zh: title_zh.to_owned(),
            message: message.to_owned(),
            message_zh: message_zh.to_owned(),
            notification_type: notification_type.to_owned(),
            related_id,
            is_read: false,
            created_at: now,
            version: 1,
        }
    }
}

impl Store {
    /// Writes a notification once: the id is derived from the event that caused it, so a
    /// redelivered event finds the item already there. Returns false for such a duplicate.
    pub async fn put_notification_once(&self, n: &NotificationRecord) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(n)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::dynamo("PutItem", e)),
        }
    }

    /// A user's notifications, newest first (one Query).
    pub async fn list_notifications(
        &self,
        user: UserId,
        limit: i32,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::user(user).pk))
            .expression_attribute_values(":prefix", AttributeValue::S("NOTIF#".to_owned()))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Query", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
    }
}
