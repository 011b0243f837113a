//! Operators' user management. Every action writes its audit entry in the same transaction.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::domain::{User, UserId, UserStatus};
use crate::store::{AdminUserFilter, AuditRecord, ListError, Page, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Ban,
    Unban,
    Verify,
    Unverify,
    /// Limits the user's messages for a day (as the abuse detector does).
    Restrict,
    /// Lifts a restriction and clears the spam strikes.
    Unrestrict,
}

impl UserAction {
    pub fn parse(s: &str) -> Option<UserAction> {
        match s {
            "ban" => Some(UserAction::Ban),
            "unban" => Some(UserAction::Unban),
            "verify" => Some(UserAction::Verify),
            "unverify" => Some(UserAction::Unverify),
            "restrict" => Some(UserAction::Restrict),
            "unrestrict" => Some(UserAction::Unrestrict),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            UserAction::Ban => "ban",
            UserAction::Unban => "unban",
            UserAction::Verify => "verify",
            UserAction::Unverify => "unverify",
            UserAction::Restrict => "restrict",
            UserAction::Unrestrict => "unrestrict",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminUserError {
    #[error("no such user")]
    NotFound,
    #[error("operators cannot act on themselves")]
    SelfAction,
    #[error("the user is already in that state")]
    NoChange,
    #[error("changed concurrently")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn list_users(
    store: &Store,
    filter: &AdminUserFilter,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<User>, ListError> {
    store.list_users(filter, limit, cursor).await
}

/// Bans, unbans, verifies or unverifies a user. A ban also revokes every session, and access
/// tokens issued before it stay refused after an unban.
#[instrument(skip_all, fields(admin_id = %admin, user_id = %target, action = action.as_str()), err)]
pub async fn update_user(
    store: &Store,
    admin: UserId,
    target: UserId,
    action: UserAction,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<User, AdminUserError> {
    if admin == target {
        return Err(AdminUserError::SelfAction);
    }
    // Background work may bump the account's version between the read and the write.
    let mut written = None;
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut user = store
            .get_user_latest(target)
            .await?
            .ok_or(AdminUserError::NotFound)?;
        let before = (user.status, user.is_verified);
        let restricted_before = user.is_restricted(now);
        match action {
            UserAction::Ban => {
                user.status = UserStatus::Banned;
                user.tokens_valid_after = Some(now);
            }
            UserAction::Unban if user.status == UserStatus::Banned => {
                user.status = UserStatus::Active
            }
            UserAction::Unban => {}
            UserAction::Verify => user.is_verified = true,
            UserAction::Unverify => user.is_verified = false,
            UserAction::Restrict if !restricted_before => {
                user.restricted_until =
                    Some(now + chrono::Duration::hours(crate::domain::report::RESTRICTION_HOURS));
            }
            UserAction::Unrestrict if restricted_before => user.restricted_until = None,
            UserAction::Restrict | UserAction::Unrestrict => {}
        }
        if (user.status, user.is_verified) == before && user.is_restricted(now) == restricted_before
        {
            return Err(AdminUserError::NoChange);
        }
        let read_version = user.version;
        user.version += 1;
        user.updated_at = now;
        let audit = AuditRecord::new(
            admin,
            &format!("user.{}", action.as_str()),
            "user",
            &target.to_string(),
            Some(reason),
            serde_json::json!({
                "status": { "from": before.0.as_str(), "to": user.status.as_str() },
                "is_verified": { "from": before.1, "to": user.is_verified },
                "restricted_until": user.restricted_until.map(|t| t.to_rfc3339()),
            }),
            now,
        );
        let mut companions = vec![audit.put(store.table())?];
        // Lifting a sanction also forgives the strikes that led to it.
        if matches!(action, UserAction::Unban | UserAction::Unrestrict) {
            companions.push(store.clear_strikes_op(target)?);
        }
        if store
            .replace_user_with(&user, read_version, companions)
            .await?
        {
            written = Some(user);
            break;
        }
    }
    let Some(user) = written else {
        return Err(AdminUserError::Conflict);
    };
    if action == UserAction::Ban {
        let revoked = store.revoke_user_sessions(target, "banned").await?;
        tracing::info!(revoked, "sessions revoked");
    }
    Ok(user)
}

/// Why new commission rules were not saved.
#[derive(Debug, thiserror::Error)]
pub enum FeeRulesError {
    #[error("the rules are not valid")]
    Invalid(Vec<crate::domain::fee::FeeRuleError>),
    #[error("the rules changed meanwhile")]
    Changed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `admin-fee-rules-get`: the commission rules in force (the default 20 % until set).
pub async fn fee_rules(store: &Store) -> Result<crate::store::StoredFeeRules, StoreError> {
    store.fee_rules().await
}

/// `admin-fee-rules-update`: replaces the rules, audited. Orders already placed keep the terms
/// frozen on them.
pub async fn set_fee_rules(
    store: &Store,
    admin: UserId,
    rules: crate::domain::fee::FeeRules,
    now: DateTime<Utc>,
) -> Result<crate::store::StoredFeeRules, FeeRulesError> {
    let problems = rules.problems();
    if !problems.is_empty() {
        return Err(FeeRulesError::Invalid(problems));
    }
    let before = store.fee_rules().await?;
    let audit = AuditRecord::new(
        admin,
        "fee_rules.update",
        "fee_rules",
        "fee_rules",
        None,
        serde_json::json!({
            "from_version": before.version,
            "default_rate_bp": rules.default_rate_bp,
            "minimum_fee": rules.minimum_fee.to_string(),
            "rules": rules.rules.len(),
            "promotions": rules.promotions.len(),
        }),
        now,
    );
    if !store
        .replace_fee_rules(&rules, before.version, admin, &audit, now)
        .await?
    {
        return Err(FeeRulesError::Changed);
    }
    Ok(crate::store::StoredFeeRules {
        rules,
        version: before.version + 1,
        updated_at: Some(now),
        updated_by: Some(admin),
    })
}

/// `admin-tax-reports`: every quarter's report with a download link, the listing audited
/// (the reports carry identity numbers).
pub async fn tax_reports(
    store: &Store,
    files: &crate::files::Files,
    admin: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<(crate::store::TaxReportRecord, (String, DateTime<Utc>))>, StoreError> {
    let reports = store.tax_reports().await?;
    let audit = AuditRecord::new(
        admin,
        "tax_report.links",
        "tax_report",
        "all",
        None,
        serde_json::json!({"quarters": reports.iter().map(|r| r.quarter.clone()).collect::<Vec<_>>()}),
        now,
    );
    store.record_audit(&audit).await?;
    let mut out = Vec::with_capacity(reports.len());
    for r in reports {
        let link = files
            .download_url(&r.key, &format!("gigbao-tax-{}.csv", r.quarter), now)
            .await
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        out.push((r, link));
    }
    Ok(out)
}
