//! Reports (users), the moderators' queue, the audit log and the operators' overview.

use chrono::{NaiveDate, Utc};
use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::common::bad_query;
use super::common::violations;
use super::session::{admin, signed_in};
use super::views::{PageView, rfc3339};
use crate::app::reports::{self, Decision, NewReport, ReportError};
use crate::app::stats::{self, StatsError};
use crate::deps::Deps;
use crate::domain::ReportId;
use crate::domain::report::{Evidence, Reason, Report, ReportStatus, Sanction, TargetType};
use crate::domain::service::Violation;
use crate::http::route as r;
use crate::http::{ApiError, ListParams, Reply, json_body, path_id, query_param};
use crate::i18n::Text;
use crate::store::AuditRecord;

/// The longest report description.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// The longest operator's note.
const MAX_NOTE_CHARS: usize = 1_000;

fn report_not_found() -> ApiError {
    ApiError::not_found(
        "report.not_found",
        Text::new("举报不存在", "No such report"),
    )
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> ApiError {
        match e {
            ReportError::TargetNotFound => ApiError::not_found(
                "report.target_not_found",
                Text::new("举报的对象不存在", "The reported item does not exist"),
            ),
            ReportError::NotFound => report_not_found(),
            ReportError::SelfReport => violations(vec![Violation {
                field: "target_id".into(),
                code: "report.self",
                text: Text::new("不能举报自己", "You cannot report yourself"),
            }]),
            ReportError::Duplicate => ApiError::conflict(
                "report.duplicate",
                Text::new(
                    "您已举报过该内容，我们正在处理",
                    "You have already reported this; it is being reviewed",
                ),
            ),
            ReportError::AlreadyDecided => ApiError::conflict(
                "report.already_decided",
                Text::new("该举报已处理", "This report has already been decided"),
            ),
            ReportError::SanctionMismatch => violations(vec![Violation {
                field: "action".into(),
                code: "report.action_mismatch",
                text: Text::new(
                    "处理措施与举报对象不符（隐藏评价仅适用于评价，暂停服务仅适用于服务）",
                    "The action does not fit the report (hide_review is for reviews, pause_service for services)",
                ),
            }]),
            ReportError::AdminTarget => ApiError::conflict(
                "report.admin_target",
                Text::new(
                    "不能通过举报封禁管理员",
                    "Operators cannot be banned through a report",
                ),
            ),
            ReportError::Conflict => ApiError::conflict(
                "report.conflict",
                Text::new(
                    "举报或其对象已被其他请求修改，请重试",
                    "The report or its target changed meanwhile; try again",
                ),
            ),
            ReportError::RateLimited(r) => ApiError::rate_limited(r.retry_after_secs),
            ReportError::Store(e) => ApiError::internal(e),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CreateRequest {
    #[schema(required = true, nullable = false)]
    target_type: Option<String>,
    #[schema(required = true, nullable = false)]
    target_id: Option<String>,
    conversation_id: Option<String>,
    #[schema(required = true, nullable = false)]
    reason: Option<String>,
    /// What happened, in the reporter's words (optional: the reason alone is enough).
    #[schema(max_length = 2000)]
    description: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ReportView {
    id: String,
    reporter_id: String,
    target_type: TargetType,
    target_id: String,
    conversation_id: Option<String>,
    reported_user_id: Option<String>,
    reason: Reason,
    reason_label: String,
    reason_label_zh: String,
    description: String,
    evidence: Option<Evidence>,
    status: ReportStatus,
    action: Option<Sanction>,
    note: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<String>,
    created_at: String,
}

impl From<&Report> for ReportView {
    fn from(r: &Report) -> Self {
        let label = r.reason.label();
        ReportView {
            id: r.id.to_string(),
            reporter_id: r.reporter_id.clone(),
            target_type: r.target_type,
            target_id: r.target_id.clone(),
            conversation_id: r.conversation_id.clone(),
            reported_user_id: r.reported_user_id.clone(),
            reason: r.reason,
            reason_label: label.en.into_owned(),
            reason_label_zh: label.zh.into_owned(),
            description: r.description.clone(),
            evidence: r.evidence.clone(),
            status: r.status,
            action: r.action,
            note: r.note.clone(),
            resolved_by: r.resolved_by.clone(),
            resolved_at: r.resolved_at.as_ref().map(rfc3339),
            created_at: rfc3339(&r.created_at),
        }
    }
}

/// `{field}` must be a non-empty text of at most `max` characters.
fn bounded(v: &mut Vec<Violation>, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value.map(str::trim).filter(|s| !s.is_empty());
    match value {
        None => {
            v.push(Violation {
                field: field.into(),
                code: "request.invalid_field",
                text: Text::new("此字段为必填项", "This field is required"),
            });
            None
        }
        Some(s) if s.chars().count() > max => {
            v.push(Violation {
                field: field.into(),
                code: "request.invalid_field",
                text: Text::owned(
                    format!("不能超过 {max} 个字符"),
                    format!("Must be at most {max} characters"),
                ),
            });
            None
        }
        Some(s) => Some(s.to_owned()),
    }
}

/// `POST /reports` [report-create]: `{target_type: service|user|review|message, target_id,
/// conversation_id (messages), reason, description}`.
pub async fn create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let body: CreateRequest = json_body(&req)?;
    let mut v = Vec::new();
    let target_type = match body.target_type.as_deref().map(str::trim) {
        Some(t) if TargetType::parse(t).is_some() => TargetType::parse(t),
        _ => {
            v.push(Violation {
                field: "target_type".into(),
                code: "report.invalid_target_type",
                text: Text::new(
                    "举报对象类型须为 service、user、review 或 message",
                    "target_type must be service, user, review or message",
                ),
            });
            None
        }
    };
    let target_id = bounded(&mut v, "target_id", body.target_id.as_deref(), 64);
    let reason = match body.reason.as_deref().map(str::trim) {
        Some(r) if Reason::parse_choosable(r).is_some() => Reason::parse_choosable(r),
        _ => {
            let list = Reason::CHOOSABLE
                .iter()
                .map(Reason::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            v.push(Violation {
                field: "reason".into(),
                code: "report.invalid_reason",
                text: Text::owned(
                    format!("举报原因须为以下之一：{list}"),
                    format!("reason must be one of: {list}"),
                ),
            });
            None
        }
    };
    let description = match body.description.as_deref().map(str::trim) {
        None | Some("") => Some(String::new()),
        given => bounded(&mut v, "description", given, MAX_DESCRIPTION_CHARS),
    };
    if target_type == Some(TargetType::Message)
        && body
            .conversation_id
            .as_deref()
            .is_none_or(|c| c.trim().is_empty())
    {
        v.push(Violation {
            field: "conversation_id".into(),
            code: "request.invalid_field",
            text: Text::new(
                "举报消息时须提供所在会话的 conversation_id",
                "conversation_id is required to report a message",
            ),
        });
    }
    let (Some(target_type), Some(target_id), Some(reason), Some(description), true) =
        (target_type, target_id, reason, description, v.is_empty())
    else {
        return Err(violations(v));
    };
    let report = reports::create(
        &deps.store,
        &me,
        NewReport {
            target_type,
            target_id,
            conversation_id: body
                .conversation_id
                .map(|c| c.trim().to_owned())
                .filter(|_| target_type == TargetType::Message),
            reason,
            description,
        },
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "举报已提交，我们会尽快处理",
            "Report received; we will review it soon",
        ),
        ReportView::from(&report),
    ))
}

/// A query parameter that is not in `format` (`yyyy-mm`, `yyyy-mm-dd`).
fn bad_format(name: &str, format: &str) -> ApiError {
    ApiError::bad_request(
        "request.invalid_query",
        Text::owned(
            format!("查询参数 {name} 的格式须为 {format}"),
            format!("Query parameter {name} must be written {format}"),
        ),
    )
}

/// `GET /admin/reports` [admin-report-list]: `?status=pending|resolved|dismissed` (default
/// pending, oldest first; decided ones newest first) `&type=service|user|review|message`.
pub async fn admin_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let list = ListParams::of(&req)?;
    let status = match query_param(&req, "status") {
        None => ReportStatus::Pending,
        Some(s) => ReportStatus::parse(&s)
            .ok_or_else(|| bad_query("status", "pending, resolved, dismissed"))?,
    };
    let target_type = match query_param(&req, "type") {
        None => None,
        Some(t) => Some(
            TargetType::parse(&t)
                .ok_or_else(|| bad_query("type", "service, user, review, message"))?,
        ),
    };
    let page = reports::list(
        &deps.store,
        status,
        target_type,
        list.limit,
        list.cursor.as_deref(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page.items.iter().map(ReportView::from).collect(),
            next_cursor: page.next_cursor,
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ResolveRequest {
    #[schema(required = true, nullable = false)]
    decision: Option<String>,
    action: Option<String>,
    note: Option<String>,
}

/// `POST /admin/reports/{report_id}/resolve` [admin-report-resolve]: `{decision:
/// resolve|dismiss, action: none|hide_review|pause_service|ban_user (resolve only; default
/// none), note}`.
pub async fn admin_resolve(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (caller, _) = admin(deps, &req).await?;
    let id: ReportId = path_id(&req, "report_id", report_not_found)?;
    let body: ResolveRequest = json_body(&req)?;
    let mut v = Vec::new();
    let note = bounded(&mut v, "note", body.note.as_deref(), MAX_NOTE_CHARS);
    let action = match body.action.as_deref().map(str::trim) {
        None | Some("") => Some(Sanction::None),
        Some(a) => {
            let parsed = Sanction::parse(a);
            if parsed.is_none() {
                v.push(Violation {
                    field: "action".into(),
                    code: "report.invalid_action",
                    text: Text::new(
                        "处理措施须为 none、hide_review、pause_service 或 ban_user",
                        "action must be none, hide_review, pause_service or ban_user",
                    ),
                });
            }
            parsed
        }
    };
    let decision = match body.decision.as_deref().map(str::trim) {
        Some("resolve") => action.map(Decision::Resolve),
        Some("dismiss") if action.is_some_and(|a| a != Sanction::None) => {
            v.push(Violation {
                field: "action".into(),
                code: "report.action_mismatch",
                text: Text::new(
                    "驳回举报时不能附带处理措施",
                    "A dismissed report takes no action",
                ),
            });
            None
        }
        Some("dismiss") => Some(Decision::Dismiss),
        _ => {
            v.push(Violation {
                field: "decision".into(),
                code: "report.invalid_decision",
                text: Text::new(
                    "决定须为 resolve 或 dismiss",
                    "decision must be resolve or dismiss",
                ),
            });
            None
        }
    };
    let (Some(decision), Some(note), true) = (decision, note, v.is_empty()) else {
        return Err(violations(v));
    };
    let report =
        reports::decide(&deps.store, caller.user_id, id, decision, &note, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("举报已处理", "Report decided"),
        ReportView::from(&report),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AuditView {
    id: String,
    actor_id: String,
    automatic: bool,
    action: String,
    target_type: String,
    target_id: String,
    reason: Option<String>,
    details: serde_json::Value,
    created_at: String,
}

impl From<&AuditRecord> for AuditView {
    fn from(a: &AuditRecord) -> Self {
        AuditView {
            id: a.id.clone(),
            actor_id: a.actor_id.clone(),
            automatic: a.actor_id == crate::domain::report::SYSTEM,
            action: a.action.clone(),
            target_type: a.target_type.clone(),
            target_id: a.target_id.clone(),
            reason: a.reason.clone(),
            details: a.details.clone(),
            created_at: rfc3339(&a.created_at),
        }
    }
}

/// `GET /admin/audit-log` [admin-audit-list]: a month (`?month=yyyy-mm`, default this one),
/// or everything done to one target (`?target_type=&target_id=`); newest first.
pub async fn audit_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let list = ListParams::of(&req)?;
    let page = match (
        query_param(&req, "target_type"),
        query_param(&req, "target_id"),
    ) {
        (Some(t), Some(id)) => {
            deps.store
                .audit_target_page(&t, &id, list.limit, list.cursor.as_deref())
                .await?
        }
        (None, None) => {
            let month = match query_param(&req, "month") {
                None => Utc::now().format("%Y-%m").to_string(),
                Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                    .map(|d| d.format("%Y-%m").to_string())
                    .map_err(|_| bad_format("month", "yyyy-mm"))?,
            };
            deps.store
                .audit_month(&month, list.limit, list.cursor.as_deref())
                .await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "request.invalid_query",
                Text::new(
                    "target_type 与 target_id 须同时提供",
                    "target_type and target_id go together",
                ),
            ));
        }
    };
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page.items.iter().map(AuditView::from).collect(),
            next_cursor: page.next_cursor,
        },
    ))
}

fn day(req: &Request, name: &'static str) -> Result<Option<NaiveDate>, ApiError> {
    query_param(req, name)
        .map(|d| {
            NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| bad_format(name, "yyyy-mm-dd"))
        })
        .transpose()
}

/// `GET /admin/stats` [admin-stats]: `?from=yyyy-mm-dd&to=yyyy-mm-dd` (China days, default
/// today), from the maintained counters.
pub async fn admin_stats(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let overview = stats::overview(
        &deps.store,
        day(&req, "from")?,
        day(&req, "to")?,
        Utc::now(),
    )
    .await
    .map_err(|e| match e {
        StatsError::Reversed => ApiError::bad_request(
            "stats.invalid_period",
            Text::new("结束日期不能早于开始日期", "to must not be before from"),
        ),
        StatsError::TooLong => ApiError::bad_request(
            "stats.invalid_period",
            Text::new(
                "统计区间不能超过 366 天",
                "The period may be at most 366 days",
            ),
        ),
        StatsError::Store(e) => ApiError::internal(e),
    })?;
    Ok(Reply::ok(Text::new("成功", "OK"), overview))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "POST",
            "/reports",
            "report-create",
            User,
            "reports",
            "举报 / Report",
        )
        .body(r::one::<CreateRequest>)
        .created(r::one::<ReportView>)
        .errors(&[404, 409]),
        r::route(
            "GET",
            "/admin/reports",
            "admin-report-list",
            Admin,
            "admin",
            "举报列表 / Reports",
        )
        .query(&[
            ("status", r::Type::String, "pending | resolved | dismissed"),
            ("type", r::Type::String, "service | user | review | message"),
        ])
        .paged()
        .ok(r::page::<ReportView>),
        r::route(
            "POST",
            "/admin/reports/{report_id}/resolve",
            "admin-report-resolve",
            Admin,
            "admin",
            "处理举报 / Decide a report",
        )
        .body(r::one::<ResolveRequest>)
        .ok(r::one::<ReportView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/admin/audit-log",
            "admin-audit-list",
            Admin,
            "admin",
            "操作日志 / Audit log",
        )
        .query(&[
            (
                "month",
                r::Type::String,
                "yyyy-mm，默认本月 / yyyy-mm, default this month",
            ),
            (
                "target_type",
                r::Type::String,
                "user | service | order | review | report | withdrawal | verification",
            ),
            ("target_id", r::Type::String, "对象 id / the object's id"),
        ])
        .paged()
        .ok(r::page::<AuditView>),
        r::route(
            "GET",
            "/admin/stats",
            "admin-stats",
            Admin,
            "admin",
            "运营概览 / Operators' overview",
        )
        .query(&[
            (
                "from",
                r::Type::String,
                "yyyy-mm-dd（北京时间）/ China date",
            ),
            ("to", r::Type::String, "yyyy-mm-dd（北京时间）/ China date"),
        ])
        .ok(r::one::<crate::domain::stats::Overview>),
    ]
}
