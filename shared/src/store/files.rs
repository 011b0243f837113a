//! Private files: one item per file (`FILE#{id}`), listed by owner (GSI1, for erasure) and by
//! order (GSI2). Its status moves once, from `pending` to `ready` or `rejected`, under a
//! condition, so a redelivered upload event changes nothing.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{Store, StoreError, TxWrite, from_item, keys, to_item};
use crate::domain::file::StoredFile;
use crate::domain::{FileId, OrderId, UserId};

#[derive(Debug, Serialize, Deserialize)]
struct FileRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    entity_type: EntityType,
    #[serde(flatten)]
    file: StoredFile,
}

impl From<&StoredFile> for FileRecord {
    fn from(f: &StoredFile) -> FileRecord {
        let key = keys::file(f.id);
        let sort = keys::file_sort(f.created_at, f.id);
        FileRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::user_files(f.owner_id),
            gsi1sk: sort.clone(),
            gsi2pk: f.order_id.map(keys::order_files),
            gsi2sk: f.order_id.map(|_| sort),
            entity_type: EntityType::File,
            file: f.clone(),
        }
    }
}

/// What checking an upload found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Ready {
        size: u64,
        sha256: String,
        preview: bool,
    },
    Rejected {
        reason: String,
    },
}

impl Store {
    /// Records a file whose upload URL is being issued.
    pub async fn create_file(&self, file: &StoredFile) -> Result<(), StoreError> {
        self.put_if(
            to_item(&FileRecord::from(file))?,
            "attribute_not_exists(PK)",
            vec![],
        )
        .await?;
        Ok(())
    }

    pub async fn get_file(&self, id: FileId) -> Result<Option<StoredFile>, StoreError> {
        Ok(self
            .get_record::<FileRecord>(keys::file(id), true)
            .await?
            .map(|r| r.file))
    }

    /// The files of `ids` that exist (any order), in one `BatchGetItem`.
    pub async fn get_files(&self, ids: &[FileId]) -> Result<Vec<StoredFile>, StoreError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.batch_get(ids.iter().map(|id| keys::file(*id)).collect(), true)
            .await?
            .into_iter()
            .map(|item| from_item::<FileRecord>(item).map(|r| r.file))
            .collect()
    }

    /// Moves a pending file to what its check found. `false` when it was not pending any more
    /// (a redelivered event).
    pub async fn mark_file_checked(
        &self,
        id: FileId,
        checked: &Checked,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let at = s(crate::domain::rfc3339(&now));
        let (expression, values) = match checked {
            Checked::Ready {
                size,
                sha256,
                preview,
            } => (
                "SET #st = :to, size = :size, sha256 = :sha, has_preview = :pv, checked_at = :at",
                vec![
                    (":to", s("ready")),
                    (":size", n(size)),
                    (":sha", s(sha256.clone())),
                    (":pv", AttributeValue::Bool(*preview)),
                    (":at", at),
                    (":pending", s("pending")),
                ],
            ),
            Checked::Rejected { reason } => (
                "SET #st = :to, reason = :reason, checked_at = :at",
                vec![
                    (":to", s("rejected")),
                    (":reason", s(reason.clone())),
                    (":at", at),
                    (":pending", s("pending")),
                ],
            ),
        };
        self.update_if(
            keys::file(id),
            expression,
            "#st = :pending",
            &[("#st", "status")],
            values,
        )
        .await
    }

    /// Marks a checked file attached, in the transaction that attaches it; the transaction
    /// fails if the file is not ready.
    pub(crate) fn file_attached_op(
        &self,
        id: FileId,
        now: DateTime<Utc>,
    ) -> Result<TxWrite, StoreError> {
        super::ops::update(
            &self.table,
            keys::file(id),
            "SET attached_at = :at",
            Some("#st = :ready"),
            &[("#st", "status")],
            vec![
                (":at", s(crate::domain::rfc3339(&now))),
                (":ready", s("ready")),
            ],
        )
    }

    /// Marks checked files attached (outside an order's transaction: a verification).
    pub async fn attach_files(
        &self,
        ids: &[FileId],
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if ids.is_empty() {
            return Ok(true);
        }
        let ops = ids
            .iter()
            .map(|id| self.file_attached_op(*id, now))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.transact(ops).await?.is_ok())
    }

    /// Forgets a file (erasure, once its objects are gone).
    pub async fn delete_file(&self, id: FileId) -> Result<(), StoreError> {
        let key = keys::file(id);
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", e))?;
        Ok(())
    }

    /// Every file `owner` uploaded (erasure).
    pub async fn user_files(&self, owner: UserId) -> Result<Vec<StoredFile>, StoreError> {
        self.index_files(keys::GSI1, "GSI1PK", keys::user_files(owner))
            .await
    }

    /// Every file uploaded to `order`, oldest first.
    pub async fn order_files(&self, order: OrderId) -> Result<Vec<StoredFile>, StoreError> {
        self.index_files(keys::GSI2, "GSI2PK", keys::order_files(order))
            .await
    }

    async fn index_files(
        &self,
        index: &'static str,
        attribute: &str,
        partition: String,
    ) -> Result<Vec<StoredFile>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!("{attribute} = :pk"))
            .expression_attribute_values(":pk", AttributeValue::S(partition));
        self.query_all(query)
            .await?
            .into_iter()
            .map(|item| from_item::<FileRecord>(item).map(|r| r.file))
            .collect()
    }
}
