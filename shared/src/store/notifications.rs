use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::{ListError, Page, PageQuery, Store, StoreError, from_item, keys, to_item};
use crate::domain::{NotificationId, UserId};

/// An in-app notification as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    /// Only while unread: the user's unread index (`keys::unread_notifications`).
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    pub entity_type: EntityType,
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub title_zh: String,
    pub message: String,
    pub message_zh: String,
    pub notification_type: String,
    pub related_id: Option<String>,
    pub is_read: bool,
    #[serde(default)]
    pub read_at: Option<DateTime<Utc>>,
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
            gsi1pk: Some(keys::unread_notifications(user)),
            gsi1sk: Some(id.to_string()),
            entity_type: EntityType::Notification,
            id: id.to_string(),
            user_id: user.to_string(),
            title: title.to_owned(),
            title_zh: title_zh.to_owned(),
            message: message.to_owned(),
            message_zh: message_zh.to_owned(),
            notification_type: notification_type.to_owned(),
            related_id,
            is_read: false,
            read_at: None,
            created_at: now,
            version: 1,
        }
    }
}

impl Store {
    /// Writes a notification once: the id is derived from the event that caused it, so a
    /// redelivered event finds the item already there. Returns false for such a duplicate.
    pub async fn put_notification_once(&self, n: &NotificationRecord) -> Result<bool, StoreError> {
        self.put_if(to_item(n)?, "attribute_not_exists(PK)", vec![])
            .await
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

    /// A page of the user's notifications, newest first; only the unread ones through their
    /// sparse index when `unread_only`.
    pub async fn notification_page(
        &self,
        user: UserId,
        unread_only: bool,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<NotificationRecord>, ListError> {
        let q = if unread_only {
            PageQuery::newest(
                Some(keys::GSI1),
                keys::unread_notifications(user),
                limit,
                cursor,
            )
        } else {
            PageQuery {
                sort_prefix: Some(("SK", "NOTIF#".to_owned())),
                ..PageQuery::newest(None, keys::user(user).pk, limit, cursor)
            }
        };
        self.query_page(q).await
    }

    /// How many notifications the user has not read (a count query of the unread index).
    pub async fn unread_notification_count(&self, user: UserId) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(keys::unread_notifications(user)),
                )
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", e))?;
            total += u64::try_from(out.count).unwrap_or(0);
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                return Ok(total);
            }
        }
    }

    /// Marks one notification read (and takes it out of the unread index). `Ok(false)` when
    /// the user has no such notification.
    pub async fn mark_notification_read(
        &self,
        user: UserId,
        id: NotificationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.update_if(
            keys::notification(user, id),
            "SET is_read = :t, read_at = if_not_exists(read_at, :now) REMOVE GSI1PK, GSI1SK",
            "attribute_exists(PK)",
            &[],
            vec![
                (":t", AttributeValue::Bool(true)),
                (":now", AttributeValue::S(keys::ms(now))),
            ],
        )
        .await
    }

    /// Marks every unread notification of the user read; returns how many there were.
    pub async fn mark_all_notifications_read(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut marked = 0u64;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(keys::unread_notifications(user)),
                )
                .limit(100)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", e))?;
            let ids: Vec<NotificationId> = out
                .items
                .unwrap_or_default()
                .iter()
                .filter_map(|i| match i.get("GSI1SK") {
                    Some(AttributeValue::S(id)) => id.parse().ok(),
                    _ => None,
                })
                .collect();
            if ids.is_empty() {
                return Ok(marked);
            }
            for chunk in ids.chunks(10) {
                let results = futures_util::future::join_all(
                    chunk
                        .iter()
                        .map(|id| self.mark_notification_read(user, *id, now)),
                )
                .await;
                for r in results {
                    if r? {
                        marked += 1;
                    }
                }
            }
            // The page was the last one: no query to find the (sparse, eventually consistent)
            // unread index empty, which could also still list what was just marked.
            if out.last_evaluated_key.is_none() {
                return Ok(marked);
            }
        }
    }
}
