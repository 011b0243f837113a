//! The operators' commission rules: one item, replaced whole under its version, with the
//! audit entry of the change in the same transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::AuditRecord;
use super::entity_type::EntityType;
use super::{Store, StoreError, keys, to_item};
use crate::domain::UserId;
use crate::domain::fee::FeeRules;

#[derive(Debug, Serialize, Deserialize)]
struct FeeRulesRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    #[serde(flatten)]
    rules: FeeRules,
    version: u64,
    updated_at: Option<DateTime<Utc>>,
    updated_by: Option<UserId>,
}

/// The rules with who changed them last (`version` 0: never set; the default applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFeeRules {
    pub rules: FeeRules,
    pub version: u64,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<UserId>,
}

impl Store {
    pub async fn fee_rules(&self) -> Result<StoredFeeRules, StoreError> {
        Ok(self
            .get_record::<FeeRulesRecord>(keys::fee_rules(), false)
            .await?
            .map_or(
                StoredFeeRules {
                    rules: FeeRules::default(),
                    version: 0,
                    updated_at: None,
                    updated_by: None,
                },
                |r| StoredFeeRules {
                    rules: r.rules,
                    version: r.version,
                    updated_at: r.updated_at,
                    updated_by: r.updated_by,
                },
            ))
    }

    /// Replaces the rules read at `read_version` (0: never set), with `audit`. `Ok(false)`:
    /// they changed meanwhile.
    pub async fn replace_fee_rules(
        &self,
        rules: &FeeRules,
        read_version: u64,
        by: UserId,
        audit: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = keys::fee_rules();
        let record = FeeRulesRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::FeeRules,
            rules: rules.clone(),
            version: read_version + 1,
            updated_at: Some(now),
            updated_by: Some(by),
        };
        let put = super::ops::put_versioned(
            &self.table,
            to_item(&record)?,
            (read_version > 0).then_some(read_version),
        )?;
        Ok(self
            .transact(vec![put, audit.put(&self.table)?])
            .await?
            .is_ok())
    }
}
