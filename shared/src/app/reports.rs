//! Reports: users flag a service, a user, a review or a message; operators resolve them with a
//! sanction (hide the review, pause the service, ban the user) or dismiss them. The decision,
//! its sanction and its audit entry are one transaction.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::app::services::{Viewer, visible_to};
use crate::domain::report::{Reason, Report, ReportStatus, Sanction, TargetType};
use crate::domain::service::ServiceStatus;
use crate::domain::{
    ConversationId, MessageId, ReportId, ReviewId, ServiceId, User, UserId, UserStatus, UserType,
};
use crate::store::{AuditRecord, ListError, Page, RateLimit, RateLimited, Store, StoreError};

/// Reports a user may file per hour.
const REPORTS_PER_HOUR: RateLimit = RateLimit {
    name: "reports",
    limit: 10,
    window_secs: 3_600,
};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no such target")]
    TargetNotFound,
    #[error("no such report")]
    NotFound,
    #[error("one cannot report oneself")]
    SelfReport,
    #[error("already reported and still open")]
    Duplicate,
    #[error("already decided")]
    AlreadyDecided,
    #[error("the sanction does not fit the report")]
    SanctionMismatch,
    #[error("operators cannot be banned through a report")]
    AdminTarget,
    #[error("changed concurrently")]
    Conflict,
    #[error("rate limited")]
    RateLimited(RateLimited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a user reports.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub target_type: TargetType,
    pub target_id: String,
    pub conversation_id: Option<String>,
    pub reason: Reason,
    pub description: String,
}

/// Who is behind the target, if the reporter may see it at all.
async fn reported_user(store: &Store, me: &User, input: &NewReport) -> Result<UserId, ReportError> {
    let missing = || ReportError::TargetNotFound;
    match input.target_type {
        TargetType::Service => {
            let id: ServiceId = input.target_id.parse().map_err(|_| missing())?;
            let service = store
                .get_service(id, false)
                .await?
                .filter(|s| visible_to(s, Some(Viewer::of(me))))
                .ok_or_else(missing)?;
            Ok(service.freelancer_id)
        }
        TargetType::User => {
            let id: UserId = input.target_id.parse().map_err(|_| missing())?;
            let user = store
                .get_user(id)
                .await?
                .filter(|u| u.status != UserStatus::Deactivated)
                .ok_or_else(missing)?;
            Ok(user.id)
        }
        TargetType::Review => {
            let id: ReviewId = input.target_id.parse().map_err(|_| missing())?;
            let review = store
                .get_review(id, false)
                .await?
                .filter(|r| r.counts() || r.client_id == me.id || r.freelancer_id == me.id)
                .ok_or_else(missing)?;
            Ok(review.client_id)
        }
        TargetType::Message => {
            let id: MessageId = input.target_id.parse().map_err(|_| missing())?;
            let conversation: ConversationId = input
                .conversation_id
                .as_deref()
                .and_then(|c| c.parse().ok())
                .ok_or_else(missing)?;
            // Only a participant can see (and so report) a message.
            store
                .get_membership(me.id, conversation)
                .await?
                .ok_or_else(missing)?;
            let message = store
                .get_message(conversation, id)
                .await?
                .ok_or_else(missing)?;
            message.sender_id.ok_or_else(missing)
        }
    }
}

/// `report-create`: one open report per reporter and target.
#[instrument(skip_all, fields(reporter = %me.id, target_type = input.target_type.as_str()), err)]
pub async fn create(
    store: &Store,
    me: &User,
    input: NewReport,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    let reported = reported_user(store, me, &input).await?;
    if reported == me.id {
        return Err(ReportError::SelfReport);
    }
    store
        .hit_rate_limit(REPORTS_PER_HOUR, &me.id.to_string(), now)
        .await?
        .map_err(ReportError::RateLimited)?;
    let report = Report {
        id: ReportId::new(),
        reporter_id: me.id.to_string(),
        target_type: input.target_type,
        target_id: input.target_id,
        conversation_id: input.conversation_id,
        reported_user_id: Some(reported.to_string()),
        reason: input.reason,
        description: input.description,
        evidence: None,
        status: ReportStatus::Pending,
        action: None,
        note: None,
        resolved_by: None,
        resolved_at: None,
        created_at: now,
        version: 1,
    };
    if !store.create_report(&report).await? {
        return Err(ReportError::Duplicate);
    }
    Ok(report)
}

pub async fn list(
    store: &Store,
    status: ReportStatus,
    target_type: Option<TargetType>,
    limit: i32,
    cursor: Option<&str>,
) -> Result<Page<Report>, ListError> {
    store.list_reports(status, target_type, limit, cursor).await
}

/// An operator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Resolve(Sanction),
    Dismiss,
}

/// `admin-report-resolve`: decides a pending report; a sanction is applied in the same
/// transaction as the decision and its audit entry. A ban also ends the user's sessions.
#[instrument(skip_all, fields(admin_id = %admin, report_id = %id), err)]
pub async fn decide(
    store: &Store,
    admin: UserId,
    id: ReportId,
    decision: Decision,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    // The target (a service, an account) may change meanwhile — counters and levels bump
    // its version: read everything again and decide afresh.
    let mut written = None;
    let mut tries = super::Tries::new();
    while tries.next().await {
        let mut report = store.get_report(id).await?.ok_or(ReportError::NotFound)?;
        if report.status != ReportStatus::Pending {
            return Err(ReportError::AlreadyDecided);
        }
        let read_version = report.version;
        let (status, sanction) = match decision {
            Decision::Resolve(s) => (ReportStatus::Resolved, s),
            Decision::Dismiss => (ReportStatus::Dismissed, Sanction::None),
        };
        if !sanction.fits(report.target_type) {
            return Err(ReportError::SanctionMismatch);
        }
        let mut companions = Vec::new();
        let mut details = serde_json::json!({
            "report_id": id.to_string(),
            "reason": report.reason.as_str(),
            "target_type": report.target_type.as_str(),
            "target_id": report.target_id,
            "action": sanction.as_str(),
        });
        let mut banned = None;
        match sanction {
            Sanction::None => {}
            Sanction::HideReview => {
                let review_id: ReviewId = report
                    .target_id
                    .parse()
                    .map_err(|_| ReportError::TargetNotFound)?;
                let mut review = store
                    .get_review(review_id, true)
                    .await?
                    .ok_or(ReportError::TargetNotFound)?;
                if !review.hidden {
                    let read = review.version;
                    review.hidden = true;
                    review.version += 1;
                    review.updated_at = now;
                    companions.push(store.replace_review_op(&review, read)?);
                }
            }
            Sanction::PauseService => {
                let service_id: ServiceId = report
                    .target_id
                    .parse()
                    .map_err(|_| ReportError::TargetNotFound)?;
                let mut service = store
                    .get_service(service_id, true)
                    .await?
                    .ok_or(ReportError::TargetNotFound)?;
                if service.status == ServiceStatus::Active {
                    let read = service.version;
                    service.status = ServiceStatus::Paused;
                    service.version += 1;
                    service.updated_at = now;
                    companions.push(store.update_service_op(&service, read, false)?);
                    details["service_status"] =
                        serde_json::json!({"from": "active", "to": "paused"});
                }
            }
            Sanction::BanUser => {
                let user_id: UserId = report
                    .reported_user_id
                    .as_deref()
                    .and_then(|u| u.parse().ok())
                    .ok_or(ReportError::TargetNotFound)?;
                let mut user = store
                    .get_user_latest(user_id)
                    .await?
                    .ok_or(ReportError::TargetNotFound)?;
                if user.user_type == UserType::Admin || user.id == admin {
                    return Err(ReportError::AdminTarget);
                }
                if user.status == UserStatus::Active {
                    let read = user.version;
                    user.status = UserStatus::Banned;
                    user.tokens_valid_after = Some(now);
                    user.version += 1;
                    user.updated_at = now;
                    companions.push(store.replace_user_op(&user, read)?);
                    details["user_status"] = serde_json::json!({"from": "active", "to": "banned"});
                    banned = Some(user.id);
                }
            }
        }
        report.status = status;
        report.action = Some(sanction);
        report.note = Some(note.to_owned());
        report.resolved_by = Some(admin.to_string());
        report.resolved_at = Some(now);
        report.version += 1;
        let audit = AuditRecord::new(
            admin,
            &format!(
                "report.{}",
                if status == ReportStatus::Resolved {
                    "resolve"
                } else {
                    "dismiss"
                }
            ),
            "report",
            &id.to_string(),
            Some(note),
            details,
            now,
        );
        companions.push(audit.put(store.table())?);
        if store
            .decide_report(&report, read_version, companions)
            .await?
        {
            written = Some((report, banned));
            break;
        }
    }
    let Some((report, banned)) = written else {
        return Err(ReportError::Conflict);
    };
    if let Some(user) = banned {
        let revoked = store.revoke_user_sessions(user, "banned").await?;
        tracing::info!(revoked, "sessions revoked");
    }
    Ok(report)
}
