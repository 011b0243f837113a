//! 实名认证: a user submits their legal name and identity number; an operator approves or
//! rejects it with a reason. Approval sets `is_verified`.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::crypto::PiiVault;
use crate::domain::file::Purpose;
use crate::domain::identity::SealedIdentity;
use crate::domain::{
    IdNumber, RealName, User, UserId, VerificationId, VerificationStatus, VerificationSummary,
};
use crate::store::change::EntityType;
use crate::store::{
    AuditRecord, ListError, Page, RateLimit, ReviewOutcome, Store, StoreError, SubmitOutcome,
    VerificationRecord, VerificationReview, keys,
};

#[derive(Debug)]
pub struct Submission {
    pub real_name: RealName,
    pub id_number: IdNumber,
    pub document_keys: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    #[error("already verified")]
    AlreadyVerified,
    #[error("a submission is already pending")]
    Pending,
    #[error("identity number used by another account")]
    IdInUse,
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("not found")]
    NotFound,
    #[error("already reviewed")]
    AlreadyReviewed,
    #[error("changed concurrently")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Files(#[from] super::files::FileError),
    #[error("{0}")]
    Internal(String),
}

#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn submit(
    store: &Store,
    vault: &PiiVault,
    mut user: User,
    submission: Submission,
    now: DateTime<Utc>,
) -> Result<VerificationSummary, VerificationError> {
    if user.is_verified {
        return Err(VerificationError::AlreadyVerified);
    }
    if user
        .verification
        .as_ref()
        .is_some_and(|v| v.status == VerificationStatus::Pending)
    {
        return Err(VerificationError::Pending);
    }
    if let Err(r) = store
        .hit_rate_limit(RateLimit::VERIFICATION_PER_USER, &user.id.to_string(), now)
        .await?
    {
        return Err(VerificationError::RateLimited(r.retry_after_secs));
    }
    // The documents are the caller's own checked uploads; attached now, so the operator who
    // reviews the submission can open them.
    let documents = super::files::ready_files(
        store,
        user.id,
        None,
        Purpose::Document,
        &submission.document_keys,
    )
    .await?;
    let ids: Vec<_> = documents.iter().map(|d| d.id).collect();
    if !store.attach_files(&ids, now).await? {
        return Err(VerificationError::Conflict);
    }
    let id = VerificationId::new();
    let key = keys::verification(id);
    let sealed = vault
        .seal(
            &SealedIdentity {
                real_name: submission.real_name.expose().to_owned(),
                id_number: submission.id_number.expose().to_owned(),
            }
            .to_json(),
            &key.pk,
        )
        .map_err(|e| VerificationError::Internal(e.to_string()))?;
    let record = VerificationRecord {
        pk: key.pk,
        sk: key.sk,
        gsi1pk: keys::gsi1_verifications(VerificationStatus::Pending),
        gsi1sk: VerificationRecord::sort_key(now, id),
        entity_type: EntityType::Verification,
        id: id.to_string(),
        user_id: user.id.to_string(),
        username: user.username.as_str().to_owned(),
        status: VerificationStatus::Pending,
        sealed_identity: sealed,
        id_index: vault.blind_index("cn-resident-id", submission.id_number.expose()),
        real_name_masked: submission.real_name.masked(),
        id_number_masked: submission.id_number.masked(),
        document_keys: submission.document_keys,
        submitted_at: now,
        reviewed_at: None,
        reviewer_id: None,
        reason: None,
        version: 1,
    };
    let summary = VerificationSummary {
        id: record.id.clone(),
        status: VerificationStatus::Pending,
        real_name_masked: record.real_name_masked.clone(),
        id_number_masked: record.id_number_masked.clone(),
        submitted_at: now,
        reviewed_at: None,
        reason: None,
    };
    // Background work (ratings, levels, the avatar) may change the account between the read
    // and the write: read it again and re-check rather than asking the user to retry.
    let mut tries = super::Tries::new();
    while tries.next().await {
        let read_version = user.version;
        let mut next = user.clone();
        next.verification = Some(summary.clone());
        next.version += 1;
        next.updated_at = now;
        match store
            .submit_verification(&record, &next, read_version)
            .await?
        {
            SubmitOutcome::Submitted => {
                tracing::info!(verification_id = %id, "submitted");
                return Ok(summary);
            }
            SubmitOutcome::IdInUse => return Err(VerificationError::IdInUse),
            SubmitOutcome::Conflict => {}
        }
        user = store
            .get_user_latest(user.id)
            .await?
            .ok_or(VerificationError::NotFound)?;
        if user.is_verified {
            return Err(VerificationError::AlreadyVerified);
        }
        if user
            .verification
            .as_ref()
            .is_some_and(|v| v.status == VerificationStatus::Pending)
        {
            return Err(VerificationError::Pending);
        }
    }
    Err(VerificationError::Conflict)
}

/// A submission as the reviewer sees it: the legal name in full (they compare it with the
/// documents), the identity number masked.
#[derive(Debug, Clone)]
pub struct ForReview {
    pub record: VerificationRecord,
    pub real_name: String,
}

pub async fn list(
    store: &Store,
    vault: &PiiVault,
    status: VerificationStatus,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<ForReview>, ListError> {
    let page = store.list_verifications(status, limit, cursor).await?;
    let items = page
        .items
        .into_iter()
        .map(|record| {
            let real_name = vault
                .open(&record.sealed_identity, &record.pk)
                .ok()
                .and_then(|json| SealedIdentity::from_json(&json))
                .map(|i| i.real_name)
                .unwrap_or_else(|| record.real_name_masked.clone());
            ForReview { record, real_name }
        })
        .collect();
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject { reason: String },
}

/// Approves or rejects a pending submission; writes the audit entry in the same transaction.
#[instrument(skip_all, fields(verification_id = %id, admin_id = %admin), err)]
pub async fn review(
    store: &Store,
    admin: UserId,
    id: VerificationId,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<VerificationRecord, VerificationError> {
    // The account may change under the decision (background work bumps its version): read
    // both again and decide afresh.
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut record = store
            .get_verification(id)
            .await?
            .ok_or(VerificationError::NotFound)?;
        if record.status != VerificationStatus::Pending {
            return Err(VerificationError::AlreadyReviewed);
        }
        let user_id: UserId = record
            .user_id
            .parse()
            .map_err(|_| VerificationError::Internal("bad user id on verification".into()))?;
        let mut user = store
            .get_user_latest(user_id)
            .await?
            .ok_or(VerificationError::NotFound)?;
        let (status, reason) = match &decision {
            Decision::Approve => (VerificationStatus::Approved, None),
            Decision::Reject { reason } => (VerificationStatus::Rejected, Some(reason.clone())),
        };
        let record_version = record.version;
        record.set_status(status);
        record.reviewed_at = Some(now);
        record.reviewer_id = Some(admin.to_string());
        record.reason = reason.clone();
        record.version += 1;
        let user_version = user.version;
        if status == VerificationStatus::Approved {
            user.is_verified = true;
        }
        if let Some(summary) = user.verification.as_mut().filter(|s| s.id == record.id) {
            summary.status = status;
            summary.reviewed_at = Some(now);
            summary.reason = reason.clone();
        }
        user.version += 1;
        user.updated_at = now;
        let audit = AuditRecord::new(
            admin,
            &format!("verification.{}", status.as_str()),
            "verification",
            &record.id,
            reason.as_deref(),
            serde_json::json!({ "user_id": record.user_id }),
            now,
        );
        let outcome = store
            .review_verification(&VerificationReview {
                verification: record.clone(),
                verification_read_version: record_version,
                user,
                user_read_version: user_version,
                release_id_index: status == VerificationStatus::Rejected,
                audit,
            })
            .await?;
        if let ReviewOutcome::Reviewed = outcome {
            return Ok(record);
        }
    }
    Err(VerificationError::Conflict)
}
