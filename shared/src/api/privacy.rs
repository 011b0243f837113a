//! PIPL: `POST`/`GET /users/profile/export` and `DELETE /users/profile`.

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::session::signed_in;
use crate::app::privacy::{self, Link, PrivacyError};
use crate::deps::Deps;
use crate::domain::export::{DataExport, ExportStatus};
use crate::http::route as r;
use crate::http::{ApiError, Reply, json_body};
use crate::i18n::Text;

impl From<PrivacyError> for ApiError {
    fn from(e: PrivacyError) -> ApiError {
        match e {
            PrivacyError::OpenOrders(n) => ApiError::conflict(
                "account.open_orders",
                Text::owned(
                    format!("您还有 {n} 个未完成的订单，完成或取消后才能注销账号"),
                    format!(
                        "You have {n} open orders; finish or cancel them before deleting your account"
                    ),
                ),
            ),
            PrivacyError::BalanceNotZero => ApiError::conflict(
                "account.balance_not_zero",
                Text::new(
                    "钱包中仍有余额或冻结资金，请先提现后再注销账号",
                    "Your wallet still holds money; withdraw it before deleting your account",
                ),
            ),
            PrivacyError::PasswordRequired => ApiError::validation({
                let mut f = crate::http::FieldErrors::new();
                f.add(
                    "password",
                    Text::new("请输入密码以确认注销", "Enter your password to confirm"),
                );
                f
            }),
            PrivacyError::WrongPassword => ApiError::forbidden(
                "account.wrong_password",
                Text::new("密码错误", "Wrong password"),
            ),
            PrivacyError::Conflict => ApiError::conflict(
                "account.conflict",
                Text::new(
                    "账号已被其他请求修改，请重试",
                    "Your account changed meanwhile; try again",
                ),
            ),
            PrivacyError::Store(e) => ApiError::internal(e),
            PrivacyError::Files(e) => ApiError::internal(e),
            PrivacyError::RateLimited(secs) => ApiError::rate_limited(secs),
            PrivacyError::List(e) => e.into(),
        }
    }
}

/// A data export as its owner sees it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ExportView {
    id: String,
    /// `pending`: being written; `ready`: `download_url` works until `download_expires_at`
    /// (ask again for a fresh one), the archive is kept until `archive_expires_at`.
    status: ExportStatus,
    requested_at: String,
    completed_at: Option<String>,
    /// The archive's size (JSON, UTF-8).
    size_bytes: Option<u64>,
    /// SHA-256 of the archive, hex.
    sha256: Option<String>,
    archive_expires_at: Option<String>,
    download_url: Option<String>,
    download_expires_at: Option<String>,
}

impl ExportView {
    fn of(export: &DataExport, link: Option<&Link>) -> ExportView {
        let time = |t: &chrono::DateTime<Utc>| crate::domain::rfc3339(t);
        ExportView {
            id: export.id.to_string(),
            status: export.status,
            requested_at: time(&export.requested_at),
            completed_at: export.completed_at.as_ref().map(time),
            size_bytes: export.size_bytes,
            sha256: export.sha256.clone(),
            archive_expires_at: export.archive_expires_at().as_ref().map(time),
            download_url: link.map(|l| l.url.clone()),
            download_expires_at: link.map(|l| time(&l.expires_at)),
        }
    }
}

/// `POST /users/profile/export` [user-data-export-request]: starts writing everything held
/// about the caller into an archive (202); while the last export is recent it is answered
/// instead. The caller is notified when it is ready.
pub async fn request_export(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let (export, started) = privacy::request_export(&deps.store, &me, Utc::now()).await?;
    let message = if started {
        Text::new(
            "正在导出您的数据，完成后会通知您",
            "Your data is being exported; you will be notified when it is ready",
        )
    } else {
        Text::new(
            "您最近已申请过导出，以下是该次导出",
            "You asked for an export recently; this is that export",
        )
    };
    Ok(Reply::with(
        lambda_http::http::StatusCode::ACCEPTED,
        message,
        ExportView::of(&export, None),
    ))
}

/// `GET /users/profile/export` [user-data-export]: the caller's newest export; once ready,
/// with a download link that works for 15 minutes. 404 before the first request.
pub async fn export(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let files = super::uploads::media_files(deps)?;
    let Some((export, link)) = privacy::latest_export(&deps.store, &files, &me, Utc::now()).await?
    else {
        return Err(ApiError::not_found(
            "export.not_found",
            Text::new(
                "您还没有申请过数据导出",
                "You have not asked for a data export yet",
            ),
        ));
    };
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        ExportView::of(&export, link.as_ref()),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct DeleteRequest {
    password: Option<String>,
}

/// `DELETE /users/profile` [user-delete]: `{password}` (accounts that have one). 409 while
/// orders are open or the wallet holds money; otherwise the account is anonymised.
pub async fn delete(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let body: DeleteRequest = if req.body().is_empty() {
        DeleteRequest::default()
    } else {
        json_body(&req)?
    };
    let files = super::uploads::media_files(deps)?;
    privacy::delete(
        &deps.store,
        &files,
        &me,
        body.password.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new(
            "账号已注销，个人信息已删除",
            "Your account is deleted and your personal data erased",
        ),
        Deleted {
            id: me.id.to_string(),
            status: crate::domain::UserStatus::Deactivated,
        },
    ))
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Deleted {
    id: String,
    status: crate::domain::UserStatus,
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "DELETE",
            "/users/profile",
            "user-delete",
            User,
            "users",
            "注销账号（个人信息保护法）/ Delete my account (PIPL)",
        )
        .body(r::one::<DeleteRequest>)
        .ok(r::one::<Deleted>)
        .errors(&[409]),
        r::route(
            "POST",
            "/users/profile/export",
            "user-data-export-request",
            User,
            "users",
            "申请导出我的数据（个人信息保护法）/ Ask for an export of my data (PIPL)",
        )
        .out(r::Out::Data(202, r::one::<ExportView>))
        .notes(
            "导出在后台进行，完成后通知您；导出进行中再次申请返回同一次导出；每天最多 10 次。\n\
             The export is written in the background and you are notified when it is ready; \
             asking again while it is being written answers with the same export; at most 10 \
             exports a day. The archive is one \
             JSON document: account, services, orders, reviews, conversations with their \
             messages, notifications, saved services, monthly reports, wallet, ledger lines \
             and withdrawals, each as stored (identity numbers masked).",
        ),
        r::route(
            "GET",
            "/users/profile/export",
            "user-data-export",
            User,
            "users",
            "我的数据导出 / My data export (PIPL)",
        )
        .ok(r::one::<ExportView>)
        .errors(&[404])
        .notes(
            "最近一次导出；完成后 download_url 在 15 分钟内有效，存档保留 7 天。\n\
             The newest export; once ready, download_url works for 15 minutes (ask again for \
             a fresh one) and the archive is kept for 7 days.",
        ),
    ]
}
