//! The authenticated caller, re-checked against the account on every request.

use lambda_http::Request;

use crate::app::access::{self, AccessError};
use crate::auth::{Caller, caller};
use crate::deps::Deps;
use crate::domain::User;
use crate::http::ApiError;
use crate::i18n::Text;

pub fn account_disabled() -> ApiError {
    ApiError::forbidden(
        "account.disabled",
        Text::new(
            "账号已被停用，如有疑问请联系客服",
            "This account has been disabled; contact support if you think this is a mistake",
        ),
    )
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> ApiError {
        match e {
            AccessError::Gone => ApiError::unauthorized(
                "auth.account_unavailable",
                Text::new(
                    "账号不存在或已停用，请重新登录",
                    "This account is no longer available; please sign in again",
                ),
            ),
            AccessError::Disabled => account_disabled(),
            AccessError::Revoked => ApiError::unauthorized(
                "auth.session_revoked",
                Text::new(
                    "登录已失效，请重新登录",
                    "This session has ended; please sign in again",
                ),
            ),
            AccessError::NotAdmin => ApiError::forbidden(
                "auth.admin_required",
                Text::new(
                    "仅限平台管理员操作",
                    "Only platform administrators may do this",
                ),
            ),
            AccessError::Store(e) => ApiError::internal(e),
        }
    }
}

/// The caller and their account, if the token is valid and the account may act.
pub async fn signed_in(deps: &Deps, req: &Request) -> Result<(Caller, User), ApiError> {
    let caller = caller(req, &deps.keys)?;
    let user = access::signed_in(&deps.store, &caller).await?;
    Ok((caller, user))
}

/// As [`signed_in`], for operators only (403 otherwise).
pub async fn admin(deps: &Deps, req: &Request) -> Result<(Caller, User), ApiError> {
    let caller = caller(req, &deps.keys)?;
    let user = access::admin(&deps.store, &caller).await?;
    Ok((caller, user))
}
