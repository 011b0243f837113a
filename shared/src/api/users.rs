use lambda_http::Request;

use super::OwnUserView;
use crate::app::users::{self, ProfileError};
use crate::auth::caller;
use crate::deps::Deps;
use crate::http::{ApiError, Reply};
use crate::i18n::Text;

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> ApiError {
        match e {
            ProfileError::Gone => ApiError::unauthorized(
                "auth.account_unavailable",
                Text::new(
                    "账号不存在或已停用，请重新登录",
                    "This account is no longer available; please sign in again",
                ),
            ),
            ProfileError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `GET /users/profile` [user-profile-get]: the caller's own user and profile.
pub async fn profile_get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let caller = caller(&req, &deps.keys)?;
    let user = users::own_profile(&deps.store, &caller).await?;
    Ok(Reply::ok(Text::new("成功", "OK"), OwnUserView::from(&user)))
}
