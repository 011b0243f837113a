//! What PIPL asks of the table: everything held about a user, and erasing it while keeping
//! what accounting needs.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{Store, StoreError, from_item, keys, to_item};
use crate::domain::export::{DataExport, ExportStatus};
use crate::domain::messaging::Message;
use crate::domain::{ConversationId, ExportId, User, UserId};

/// Item attributes that are keys, not data.
const KEY_ATTRIBUTES: [&str; 10] = [
    "PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK",
];

/// How long an export's record is kept (its archive goes after `ARCHIVE_DAYS`).
const EXPORT_KEEP_DAYS: i64 = 30;

impl Store {
    /// Stores a new export request (the stream hands it to the exporter).
    pub async fn create_export(&self, export: &DataExport) -> Result<(), StoreError> {
        let key = keys::data_export(export.user_id, export.id);
        let mut item = to_item(export)?;
        item.insert(keys::PK.to_owned(), s(key.pk));
        item.insert(keys::SK.to_owned(), s(key.sk));
        item.insert("entity_type".to_owned(), s(EntityType::DataExport.as_str()));
        // The record goes with the table's TTL some weeks after the archive itself.
        item.insert(
            "expires_at".to_owned(),
            n(export.requested_at.timestamp() + EXPORT_KEEP_DAYS * 86_400),
        );
        if self
            .put_if(item, "attribute_not_exists(PK)", vec![])
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Decode(format!("export {} exists", export.id)))
        }
    }

    /// The user's exports, newest first (one Query of their `EXPORT#` items; `limit`: the
    /// newest that many).
    async fn exports(
        &self,
        user: UserId,
        limit: Option<i32>,
    ) -> Result<Vec<DataExport>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :export)")
            .expression_attribute_values(":pk", s(keys::user(user).pk))
            .expression_attribute_values(":export", s("EXPORT#"))
            .scan_index_forward(false)
            .set_limit(limit)
            .consistent_read(true);
        let items = match limit {
            Some(_) => query
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", e))?
                .items
                .unwrap_or_default(),
            None => self.query_all(query).await?,
        };
        items.into_iter().map(from_item).collect()
    }

    /// The user's newest export, if any (one Query).
    pub async fn latest_export(&self, user: UserId) -> Result<Option<DataExport>, StoreError> {
        Ok(self.exports(user, Some(1)).await?.into_iter().next())
    }

    /// Every export of the user (their archives are deleted with the account).
    pub async fn exports_of(&self, user: UserId) -> Result<Vec<DataExport>, StoreError> {
        self.exports(user, None).await
    }

    pub async fn get_export(
        &self,
        user: UserId,
        id: ExportId,
    ) -> Result<Option<DataExport>, StoreError> {
        self.get_record(keys::data_export(user, id), true).await
    }

    /// Records a written archive. `Ok(false)`: it was recorded before (a redelivered job).
    pub async fn finish_export(&self, export: &DataExport) -> Result<bool, StoreError> {
        let (Some(done), Some(size), Some(sha)) =
            (export.completed_at, export.size_bytes, &export.sha256)
        else {
            return Err(StoreError::Decode("an unfinished export".into()));
        };
        self.update_if(
            keys::data_export(export.user_id, export.id),
            "SET #s = :ready, completed_at = :done, size_bytes = :size, sha256 = :sha",
            "#s = :pending",
            &[("#s", "status")],
            vec![
                (":ready", s(status_name(ExportStatus::Ready))),
                (":pending", s(status_name(ExportStatus::Pending))),
                (":done", s(text_of(&done))),
                (":size", n(size)),
                (":sha", s(sha.clone())),
            ],
        )
        .await
    }

    /// The stored items of `keys` that exist, as JSON without their keys.
    pub async fn items_as_json(&self, keys: Vec<keys::Key>) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::new();
        for mut item in self.batch_get(keys, false).await? {
            for k in KEY_ATTRIBUTES {
                item.remove(k);
            }
            out.push(StoredItem(from_item(item)?));
        }
        Ok(out)
    }

    /// Every item of the user's partition (account, conversation sides, notifications,
    /// saved services, offences, monthly reports) as JSON without its keys, all pages.
    pub async fn user_partition(&self, user: UserId) -> Result<Vec<StoredItem>, StoreError> {
        let mut out = Vec::new();
        for item in self.partition_items(keys::user(user).pk).await? {
            let mut item = item;
            for k in KEY_ATTRIBUTES {
                item.remove(k);
            }
            // Secrets are not personal data to hand out.
            item.remove("password_hash");
            out.push(StoredItem(from_item(item)?));
        }
        Ok(out)
    }

    async fn partition_items(
        &self,
        pk: String,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        self.query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true),
        )
        .await
    }

    /// Every message of a conversation, oldest first.
    pub async fn all_messages(
        &self,
        conversation: ConversationId,
    ) -> Result<Vec<Message>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Row {
            #[serde(rename = "SK")]
            sk: String,
            #[serde(flatten)]
            message: Message,
        }
        let mut out = Vec::new();
        for item in self
            .partition_items(keys::conversation_messages(conversation))
            .await?
        {
            let row: Row = from_item(item)?;
            if row.sk.starts_with("MSG#") {
                out.push(row.message);
            }
        }
        Ok(out)
    }

    /// Detaches `user` from a conversation: their messages and the other side's view of them
    /// point at `ghost` (an id that belongs to nobody) under `name`, and their own side is
    /// deleted. Idempotent.
    pub async fn detach_conversation(
        &self,
        user: UserId,
        ghost: UserId,
        name: &str,
        conversation: ConversationId,
        other: Option<UserId>,
    ) -> Result<(), StoreError> {
        for mut message in self.all_messages(conversation).await? {
            let mine = message.sender_id == Some(user);
            let addressed = message.recipients.contains(&user);
            if !mine && !addressed {
                continue;
            }
            if mine {
                message.sender_id = Some(ghost);
                message.sender_name = Some(name.to_owned());
            }
            for r in &mut message.recipients {
                if *r == user {
                    *r = ghost;
                }
            }
            let key = keys::message(conversation, message.id);
            let mut item = to_item(&message)?;
            item.insert(keys::PK.to_owned(), s(key.pk));
            item.insert(keys::SK.to_owned(), s(key.sk));
            item.insert("entity_type".to_owned(), s(EntityType::Message.as_str()));
            self.put(item).await?;
        }
        if let Some(other) = other {
            let key = keys::conversation_member(other, conversation);
            self.update_if(
                key,
                "SET other_user_id = :ghost, other_username = :name",
                "attribute_exists(PK)",
                &[],
                vec![(":ghost", s(ghost.to_string())), (":name", s(name))],
            )
            .await?;
            // The preview of the last message names its sender by id.
            self.update_if(
                keys::conversation_member(other, conversation),
                "SET last_message.sender_id = :ghost",
                "last_message.sender_id = :user",
                &[],
                vec![
                    (":ghost", s(ghost.to_string())),
                    (":user", s(user.to_string())),
                ],
            )
            .await?;
        }
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(
                keys::PK,
                s(keys::conversation_member(user, conversation).pk),
            )
            .key(
                keys::SK,
                s(keys::conversation_member(user, conversation).sk),
            )
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", e))?;
        Ok(())
    }

    /// Replaces a name copied onto another item (an order's or a review's party name).
    pub async fn rename_copy(
        &self,
        key: keys::Key,
        field: &'static str,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.update_if(
            key,
            "SET #f = :name",
            "attribute_exists(PK)",
            &[("#f", field)],
            vec![(":name", s(name))],
        )
        .await
    }

    /// The last step of an erasure, in one transaction: the anonymised account (read at
    /// `read_version`), its freed uniqueness guards, and the 实名认证 record with the identity
    /// number's blind-index guard. `Ok(false)`: the account changed meanwhile.
    pub async fn erase_account(
        &self,
        user: &User,
        read_version: u64,
        guards: Vec<keys::Key>,
        verification: Option<(keys::Key, keys::Key)>,
    ) -> Result<bool, StoreError> {
        let mut ops = vec![self.replace_user_op(user, read_version)?];
        let owned = "attribute_not_exists(PK) OR user_id = :uid";
        let uid = || vec![(":uid", s(user.id.to_string()))];
        for key in guards {
            ops.push(super::ops::delete(&self.table, key, Some(owned), uid())?);
        }
        if let Some((record, guard)) = verification {
            ops.push(super::ops::delete(&self.table, record, Some(owned), uid())?);
            ops.push(super::ops::delete(&self.table, guard, Some(owned), uid())?);
        }
        Ok(self.transact(ops).await?.is_ok())
    }

    /// Deletes everything in the user's partition but the account itself (notifications,
    /// saved services, offences, monthly reports, leftover conversation sides).
    pub async fn delete_user_items(&self, user: UserId) -> Result<usize, StoreError> {
        let pk = keys::user(user).pk;
        let mut deleted = 0;
        for item in self.partition_items(pk.clone()).await? {
            let Some(AttributeValue::S(sk)) = item.get(keys::SK) else {
                continue;
            };
            if sk == "USER" {
                continue;
            }
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(keys::PK, s(pk.clone()))
                .key(keys::SK, s(sk.clone()))
                .send()
                .await
                .map_err(|e| StoreError::dynamo("DeleteItem", e))?;
            deleted += 1;
        }
        Ok(deleted)
    }
}

fn status_name(status: ExportStatus) -> String {
    text_of(&status)
}

/// A value as serde writes it into an item (a string).
fn text_of(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// One item as the table holds it, without its keys: what a data export hands over as is.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct StoredItem(serde_json::Value);

impl StoredItem {
    /// What kind of item it is.
    pub fn entity_type(&self) -> super::change::EntityType {
        self.text("entity_type")
            .and_then(|t| serde_json::from_value(serde_json::Value::String(t.to_owned())).ok())
            .unwrap_or(super::entity_type::EntityType::Other)
    }

    /// A string attribute.
    pub fn text(&self, attribute: &str) -> Option<&str> {
        self.0.get(attribute).and_then(serde_json::Value::as_str)
    }

    /// The item without `attribute`.
    pub fn without(mut self, attribute: &str) -> StoredItem {
        if let Some(map) = self.0.as_object_mut() {
            map.remove(attribute);
        }
        self
    }
}
