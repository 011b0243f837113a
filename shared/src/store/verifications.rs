//! 实名认证 submissions. The identity number is sealed (AES-256-GCM) with the real name; the
//! item also carries a keyed blind index of the number, and a guard item on that index makes
//! one identity verify at most one account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::AuditRecord;
use super::entity_type::EntityType;
use super::records::UniqueRecord;
use super::{ListError, Page, PageQuery, Store, StoreError, keys, ops, to_item};
use crate::domain::{User, VerificationId, VerificationStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationRecord {
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
    pub user_id: String,
    pub username: String,
    pub status: VerificationStatus,
    /// `{"real_name", "id_number"}` sealed with the record id as context.
    pub sealed_identity: String,
    pub id_index: String,
    pub real_name_masked: String,
    pub id_number_masked: String,
    pub document_keys: Vec<String>,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewer_id: Option<String>,
    pub reason: Option<String>,
    pub version: u64,
}

impl VerificationRecord {
    /// Moves the record to `status` (and to that status's queue).
    pub fn set_status(&mut self, status: VerificationStatus) {
        self.status = status;
        self.gsi1pk = keys::gsi1_verifications(status);
    }

    pub fn sort_key(submitted_at: DateTime<Utc>, id: VerificationId) -> String {
        format!(
            "{}#{id}",
            submitted_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    }
}

/// How a submission ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitOutcome {
    Submitted,
    /// Another account already holds this identity number.
    IdInUse,
    /// The user changed while we worked; try again.
    Conflict,
}

/// A decided review, ready to write.
#[derive(Debug)]
pub struct VerificationReview {
    pub verification: VerificationRecord,
    pub verification_read_version: u64,
    pub user: User,
    pub user_read_version: u64,
    /// Rejected: free the identity number so it can be submitted again.
    pub release_id_index: bool,
    pub audit: AuditRecord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewOutcome {
    Reviewed,
    /// Somebody reviewed it first, or the user changed; nothing was written.
    Conflict,
}

impl Store {
    /// Writes the submission, the identity guard and the user's pending status together.
    pub async fn submit_verification(
        &self,
        record: &VerificationRecord,
        user: &User,
        user_read_version: u64,
    ) -> Result<SubmitOutcome, StoreError> {
        let guard_key = keys::unique_id_number(&record.id_index);
        let guard = UniqueRecord {
            pk: guard_key.pk,
            sk: guard_key.sk,
            entity_type: EntityType::Unique,
            user_id: record.user_id.clone(),
            created_at: record.submitted_at,
            version: 1,
        };
        let ops = vec![
            ops::put(
                &self.table,
                to_item(record)?,
                Some("attribute_not_exists(PK)"),
                vec![],
            )?,
            ops::put(
                &self.table,
                to_item(&guard)?,
                Some("attribute_not_exists(PK) OR user_id = :me"),
                vec![(":me", ops::s(record.user_id.clone()))],
            )?,
            self.replace_user_op(user, user_read_version)?,
        ];
        Ok(match self.transact(ops).await? {
            Ok(()) => SubmitOutcome::Submitted,
            Err(c) if c.failed(1) => SubmitOutcome::IdInUse,
            Err(_) => SubmitOutcome::Conflict,
        })
    }

    pub async fn get_verification(
        &self,
        id: VerificationId,
    ) -> Result<Option<VerificationRecord>, StoreError> {
        self.get_record(keys::verification(id), true).await
    }

    /// A review queue, oldest first (first come, first reviewed).
    pub async fn list_verifications(
        &self,
        status: VerificationStatus,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<VerificationRecord>, ListError> {
        self.query_page(PageQuery {
            newest_first: false,
            ..PageQuery::newest(
                Some(keys::GSI1),
                keys::gsi1_verifications(status),
                limit,
                cursor,
            )
        })
        .await
    }

    /// Writes a review: the submission, the user, the guard (released on rejection) and the
    /// audit entry in one transaction.
    pub async fn review_verification(
        &self,
        review: &VerificationReview,
    ) -> Result<ReviewOutcome, StoreError> {
        let mut ops = vec![
            ops::put(
                &self.table,
                to_item(&review.verification)?,
                Some("attribute_exists(PK) AND version = :v"),
                vec![(":v", ops::n(review.verification_read_version))],
            )?,
            self.replace_user_op(&review.user, review.user_read_version)?,
            review.audit.put(&self.table)?,
        ];
        if review.release_id_index {
            ops.push(ops::delete(
                &self.table,
                keys::unique_id_number(&review.verification.id_index),
                Some("user_id = :u"),
                vec![(":u", ops::s(review.verification.user_id.clone()))],
            )?);
        }
        Ok(match self.transact(ops).await? {
            Ok(()) => ReviewOutcome::Reviewed,
            Err(_) => ReviewOutcome::Conflict,
        })
    }
}
