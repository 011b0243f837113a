//! The operators' audit log: every admin action is written in the same transaction as the
//! change it made, so there is no action without its record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::{StoreError, keys, ops, to_item};
use crate::domain::AuditId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    pub entity_type: EntityType,
    pub id: String,
    /// The admin who acted, or `system` for an automatic action.
    pub actor_id: String,
    /// e.g. `user.ban`, `verification.approve`.
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl AuditRecord {
    /// `actor`: the operator's id, or [`crate::domain::report::SYSTEM`] for an automatic
    /// action (the abuse detector's), whose evidence goes in `details`.
    pub fn new(
        actor: impl std::fmt::Display,
        action: &str,
        target_type: &str,
        target_id: &str,
        reason: Option<&str>,
        details: serde_json::Value,
        now: DateTime<Utc>,
    ) -> AuditRecord {
        let id = AuditId::new();
        let key = keys::audit(now, id);
        AuditRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::gsi1_audit_target(&format!("{target_type}#{target_id}")),
            gsi1sk: id.to_string(),
            entity_type: EntityType::Audit,
            id: id.to_string(),
            actor_id: actor.to_string(),
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target_id.to_owned(),
            reason: reason.map(str::to_owned),
            details,
            created_at: now,
            version: 1,
        }
    }

    pub(crate) fn put(
        &self,
        table: &str,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        ops::put(
            table,
            to_item(self)?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )
    }
}

impl super::Store {
    /// An audit entry on its own (what an operator looked at).
    pub async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.transact(vec![record.put(&self.table)?])
            .await?
            .map_err(|c| StoreError::Decode(format!("audit entry collided: {:?}", c.0)))
    }

    /// What was done to one target, newest first (one Query).
    pub async fn audit_for_target(
        &self,
        target_type: &str,
        target_id: &str,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let page = self
            .query_page::<AuditRecord>(super::PageQuery::newest(
                Some(keys::GSI1),
                keys::gsi1_audit_target(&format!("{target_type}#{target_id}")),
                100,
                None,
            ))
            .await?;
        Ok(page.items)
    }
}
