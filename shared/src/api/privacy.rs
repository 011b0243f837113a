//! PIPL: `GET /users/profile/export` and `DELETE /users/profile`.

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::service_views::ServiceView;
use super::session::signed_in;
use crate::app::privacy::{self, PrivacyError};
use crate::deps::Deps;
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
            PrivacyError::List(e) => e.into(),
        }
    }
}

/// `GET /users/profile/export` [user-data-export]: everything held about the caller.
pub async fn export(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let export = privacy::export(&deps.store, &me).await?;
    let mut data = export.data;
    data["services"] = serde_json::to_value(
        export
            .services
            .iter()
            .map(|s| ServiceView::of(s, true))
            .collect::<Vec<_>>(),
    )
    .map_err(ApiError::internal)?;
    data["exported_at"] = serde_json::Value::String(crate::domain::rfc3339(&Utc::now()));
    Ok(Reply::ok(Text::new("成功", "OK"), data))
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
    privacy::delete(&deps.store, &me, body.password.as_deref(), Utc::now()).await?;
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
