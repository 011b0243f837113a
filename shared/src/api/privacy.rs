//! PIPL: `POST`/`GET /users/profile/export` and `DELETE /users/profile`.

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::session::signed_in;
use crate::app::privacy::{self, Link, PrivacyError};
use crate::deps::Deps;
use crate::domain::export::{DataExport, ExportStatus};
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
