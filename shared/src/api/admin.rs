//! Operators' endpoints. Every one requires an admin; every action is audited.

use chrono::Utc;
use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::common::bad_query;
use super::session::admin;
use super::views::{AdminUserView, PageView, rfc3339, user_not_found};
use crate::app::admin::{self as admin_app, AdminUserError, FeeRulesError, UserAction};
use crate::app::verification::{self, Decision};
use crate::deps::Deps;
use crate::domain::fee::{FeeRule, FeeRules, Promotion};
use crate::domain::{Money, UserId, UserType, VerificationId, VerificationStatus};
use crate::http::route as r;
use crate::http::{
    ApiError, FieldErrors, ListParams, Reply, json_body, path_id, query_bool, query_param,
};
use crate::i18n::Text;
use crate::store::{AdminUserFilter, StoredFeeRules};

fn verification_not_found() -> ApiError {
    ApiError::not_found(
        "verification.not_found",
        Text::new("认证申请不存在", "No such verification"),
    )
}

/// `GET /admin/users` [admin-user-list]: `?type=&verified=&banned=&limit=&cursor=`, newest first.
pub async fn user_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let list = ListParams::of(&req)?;
    let user_type = match query_param(&req, "type") {
        None => None,
        Some(t) => Some(
            UserType::parse(&t).ok_or_else(|| bad_query("type", "freelancer, client, admin"))?,
        ),
    };
    let filter = AdminUserFilter {
        user_type,
        verified: query_bool(&req, "verified")?,
        banned: query_bool(&req, "banned")?,
    };
    let page =
        admin_app::list_users(&deps.store, &filter, list.limit, list.cursor.as_deref()).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page.items.iter().map(AdminUserView::from).collect(),
            next_cursor: page.next_cursor,
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UserUpdateRequest {
    #[schema(required = true, nullable = false)]
    action: Option<String>,
    reason: Option<String>,
}

impl From<AdminUserError> for ApiError {
    fn from(e: AdminUserError) -> ApiError {
        match e {
            AdminUserError::NotFound => user_not_found(),
            AdminUserError::SelfAction => ApiError::conflict(
                "admin.self_action",
                Text::new(
                    "不能对自己的账号执行此操作",
                    "You cannot do this to your own account",
                ),
            ),
            AdminUserError::NoChange => ApiError::conflict(
                "admin.no_change",
                Text::new("用户已处于该状态", "The user is already in that state"),
            ),
            AdminUserError::Conflict => ApiError::conflict(
                "admin.conflict",
                Text::new(
                    "用户已被其他请求修改，请重试",
                    "The user changed meanwhile; try again",
                ),
            ),
            AdminUserError::Store(e) => ApiError::internal(e),
        }
    }
}

fn reason_field(errors: &mut FieldErrors, reason: Option<&str>) -> Option<String> {
    errors.required("reason", reason).and_then(|r| {
        let r = r.trim();
        if r.chars().count() > 500 {
            errors.add(
                "reason",
                Text::new(
                    "原因不能超过 500 个字符",
                    "The reason must be at most 500 characters",
                ),
            );
            None
        } else {
            Some(r.to_owned())
        }
    })
}

/// `PATCH /admin/users/{user_id}` [admin-user-update]:
/// `{action: ban|unban|verify|unverify|restrict|unrestrict, reason}`.
pub async fn user_update(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (caller, _) = admin(deps, &req).await?;
    let target: UserId = path_id(&req, "user_id", user_not_found)?;
    let body: UserUpdateRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let action = errors
        .required("action", body.action.as_deref())
        .and_then(|a| {
            let parsed = UserAction::parse(a.trim());
            if parsed.is_none() {
                errors.add(
                    "action",
                    Text::new(
                        "操作须为 ban、unban、verify、unverify、restrict 或 unrestrict",
                        "action must be ban, unban, verify, unverify, restrict or unrestrict",
                    ),
                );
            }
            parsed
        });
    let reason = reason_field(&mut errors, body.reason.as_deref());
    errors.finish()?;
    let (Some(action), Some(reason)) = (action, reason) else {
        return Err(ApiError::internal("required field vanished"));
    };
    let user = admin_app::update_user(
        &deps.store,
        caller.user_id,
        target,
        action,
        &reason,
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("已更新", "Updated"),
        AdminUserView::from(&user),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VerificationView {
    id: String,
    user_id: String,
    username: String,
    status: VerificationStatus,
    real_name: String,
    id_number: String,
    document_keys: Vec<String>,
    submitted_at: String,
    reviewed_at: Option<String>,
    reviewer_id: Option<String>,
    reason: Option<String>,
}

fn vault(deps: &Deps) -> Result<&crate::crypto::PiiVault, ApiError> {
    deps.pii
        .as_ref()
        .ok_or_else(|| ApiError::internal("PII_SECRET_ID is not configured"))
}

/// `GET /admin/verifications` [admin-verification-list]: `?status=pending|approved|rejected`
/// (default pending), oldest first.
pub async fn verification_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let list = ListParams::of(&req)?;
    let status = match query_param(&req, "status") {
        None => VerificationStatus::Pending,
        Some(s) => VerificationStatus::parse(&s)
            .ok_or_else(|| bad_query("status", "pending, approved, rejected"))?,
    };
    let page = verification::list(
        &deps.store,
        vault(deps)?,
        status,
        list.limit,
        list.cursor.as_deref(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page
                .items
                .into_iter()
                .map(|v| VerificationView {
                    id: v.record.id,
                    user_id: v.record.user_id,
                    username: v.record.username,
                    status: v.record.status,
                    real_name: v.real_name,
                    id_number: v.record.id_number_masked,
                    document_keys: v.record.document_keys,
                    submitted_at: rfc3339(&v.record.submitted_at),
                    reviewed_at: v.record.reviewed_at.as_ref().map(rfc3339),
                    reviewer_id: v.record.reviewer_id,
                    reason: v.record.reason,
                })
                .collect(),
            next_cursor: page.next_cursor,
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ReviewRequest {
    #[schema(required = true, nullable = false)]
    decision: Option<String>,
    reason: Option<String>,
}

/// `POST /admin/verifications/{verification_id}/review` [admin-verification-review]:
/// `{decision: approve|reject, reason}`; a reason is required to reject.
pub async fn verification_review(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (caller, _) = admin(deps, &req).await?;
    let id: VerificationId = path_id(&req, "verification_id", verification_not_found)?;
    let body: ReviewRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let decision = match errors
        .required("decision", body.decision.as_deref())
        .map(str::trim)
    {
        Some("approve") => Some(Decision::Approve),
        Some("reject") => reason_field(&mut errors, body.reason.as_deref())
            .map(|reason| Decision::Reject { reason }),
        Some(_) => {
            errors.add(
                "decision",
                Text::new(
                    "决定须为 approve 或 reject",
                    "decision must be approve or reject",
                ),
            );
            None
        }
        None => None,
    };
    errors.finish()?;
    let decision = decision.ok_or_else(|| ApiError::internal("required field vanished"))?;
    let record =
        verification::review(&deps.store, caller.user_id, id, decision, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("审核完成", "Reviewed"),
        VerificationDecision {
            id: record.id.to_string(),
            user_id: record.user_id.to_string(),
            status: record.status,
            reason: record.reason,
            reviewed_at: record.reviewed_at.as_ref().map(rfc3339),
        },
    ))
}

/// An operator's decision on a 实名认证 submission.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct VerificationDecision {
    id: String,
    user_id: String,
    status: VerificationStatus,
    reason: Option<String>,
    reviewed_at: Option<String>,
}

/// The commission rules as operators see and send them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FeeRulesView {
    /// Basis points: 2000 = 20 %.
    default_rate_bp: u32,
    /// The least any order pays.
    minimum_fee: Money,
    /// The most specific matching rule applies: category (or its parent) and level, then
    /// category, then level, then the default.
    rules: Vec<FeeRule>,
    /// A promotion running when an order is placed lowers its rate if it matches.
    promotions: Vec<Promotion>,
    /// 0 until the rules are first set.
    version: u64,
    updated_at: Option<String>,
    updated_by: Option<String>,
}

impl From<&StoredFeeRules> for FeeRulesView {
    fn from(s: &StoredFeeRules) -> FeeRulesView {
        FeeRulesView {
            default_rate_bp: s.rules.default_rate_bp,
            minimum_fee: s.rules.minimum_fee,
            rules: s.rules.rules.clone(),
            promotions: s.rules.promotions.clone(),
            version: s.version,
            updated_at: s.updated_at.as_ref().map(rfc3339),
            updated_by: s.updated_by.map(|u| u.to_string()),
        }
    }
}

/// `PUT /admin/fee-rules`: the whole set of rules.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeeRulesRequest {
    /// Basis points, 0–5000 (0 %–50 %).
    #[schema(maximum = 5000)]
    default_rate_bp: u32,
    /// 0.00–100.00.
    minimum_fee: Money,
    #[serde(default)]
    #[schema(max_items = 100)]
    rules: Vec<FeeRule>,
    #[serde(default)]
    #[schema(max_items = 100)]
    promotions: Vec<Promotion>,
}

/// `GET /admin/fee-rules` [admin-fee-rules-get].
pub async fn fee_rules_get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let rules = admin_app::fee_rules(&deps.store)
        .await
        .map_err(ApiError::internal)?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        FeeRulesView::from(&rules),
    ))
}

/// `PUT /admin/fee-rules` [admin-fee-rules-update]: replaces the commission rules (audited);
/// orders placed before keep theirs.
pub async fn fee_rules_update(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (caller, _) = admin(deps, &req).await?;
    let body: FeeRulesRequest = json_body(&req)?;
    let rules = FeeRules {
        default_rate_bp: body.default_rate_bp,
        minimum_fee: body.minimum_fee,
        rules: body.rules,
        promotions: body.promotions,
    };
    match admin_app::set_fee_rules(&deps.store, caller.user_id, rules, Utc::now()).await {
        Ok(saved) => Ok(Reply::ok(
            Text::new("佣金规则已更新", "Commission rules updated"),
            FeeRulesView::from(&saved),
        )),
        Err(FeeRulesError::Invalid(problems)) => {
            let mut errors = FieldErrors::new();
            for p in problems {
                errors.add(&p.field, Text::new(p.zh, p.en));
            }
            errors.finish()?;
            Err(ApiError::internal("invalid rules without a problem"))
        }
        Err(FeeRulesError::Changed) => Err(ApiError::conflict(
            "fee_rules.changed",
            Text::new(
                "佣金规则刚被他人修改，请刷新后重试",
                "The rules were changed meanwhile; reload and try again",
            ),
        )),
        Err(FeeRulesError::Store(e)) => Err(ApiError::internal(e)),
    }
}

/// One quarter's income report for the tax authority, with a short-lived download link.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TaxReportView {
    /// `2026Q3`.
    quarter: String,
    /// Sellers with income in the quarter.
    sellers: usize,
    /// Of them, without an approved 实名认证 (to follow up before filing).
    unverified: usize,
    gross: Money,
    net: Money,
    created_at: String,
    /// The CSV (UTF-8), valid for 15 minutes.
    download_url: String,
    download_expires_at: String,
}

/// `GET /admin/tax-reports` [admin-tax-reports]: every quarter's report, newest first, each with
/// a 15-minute link. The reports carry identity numbers: every listing is audited.
pub async fn tax_reports(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (caller, _) = admin(deps, &req).await?;
    let files = crate::api::uploads::media_files(deps)?;
    let now = Utc::now();
    let reports = admin_app::tax_reports(&deps.store, &files, caller.user_id, now)
        .await
        .map_err(ApiError::internal)?;
    let items: Vec<TaxReportView> = reports
        .into_iter()
        .map(|(r, (url, expires))| TaxReportView {
            quarter: r.quarter,
            sellers: r.sellers,
            unverified: r.unverified,
            gross: Money::from_fen(r.gross_fen),
            net: Money::from_fen(r.net_fen),
            created_at: rfc3339(&r.created_at),
            download_url: url,
            download_expires_at: rfc3339(&expires),
        })
        .collect();
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items,
            next_cursor: None,
        },
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/admin/users",
            "admin-user-list",
            Admin,
            "admin",
            "用户管理 / Users",
        )
        .query(&[
            ("type", r::Type::String, "freelancer | client | admin"),
            ("verified", r::Type::Boolean, "已实名 / verified"),
            ("banned", r::Type::Boolean, "已封禁 / banned"),
        ])
        .paged()
        .ok(r::page::<crate::api::views::AdminUserView>),
        r::route(
            "PATCH",
            "/admin/users/{user_id}",
            "admin-user-update",
            Admin,
            "admin",
            "封禁、解封、认证、限制 / Ban, unban, verify, restrict",
        )
        .body(r::one::<UserUpdateRequest>)
        .ok(r::one::<crate::api::views::AdminUserView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/admin/verifications",
            "admin-verification-list",
            Admin,
            "admin",
            "实名认证审核列表 / 实名认证 submissions",
        )
        .query(&[("status", r::Type::String, "pending | approved | rejected")])
        .paged()
        .ok(r::page::<VerificationView>),
        r::route(
            "POST",
            "/admin/verifications/{verification_id}/review",
            "admin-verification-review",
            Admin,
            "admin",
            "审核实名认证 / Review a 实名认证",
        )
        .body(r::one::<ReviewRequest>)
        .ok(r::one::<VerificationDecision>)
        .errors(&[409]),
        r::route(
            "GET",
            "/admin/fee-rules",
            "admin-fee-rules-get",
            Admin,
            "admin",
            "佣金规则 / Commission rules",
        )
        .ok(r::one::<FeeRulesView>),
        r::route(
            "PUT",
            "/admin/fee-rules",
            "admin-fee-rules-update",
            Admin,
            "admin",
            "设置佣金规则（按分类、等级、最低佣金、限时活动）/ Set the commission rules",
        )
        .body(r::one::<FeeRulesRequest>)
        .ok(r::one::<FeeRulesView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/admin/tax-reports",
            "admin-tax-reports",
            Admin,
            "admin",
            "季度涉税信息报表（卖家身份与收入，链接 15 分钟有效）/ Quarterly tax reports",
        )
        .ok(r::page::<TaxReportView>),
    ]
}
