use lambda_http::Request;

use super::{TokenError, TokenKeys};
use crate::domain::{SessionId, UserId, UserType};
use crate::http::{ApiError, header};
use crate::i18n::Text;

/// Who is calling, proven by a valid access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub user_type: UserType,
    pub session_id: SessionId,
    /// When the access token was issued (epoch milliseconds).
    pub issued_at_ms: i64,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.user_type == UserType::Admin
    }
}

/// Extracts the caller from `Authorization: Bearer <access>`: 401 when the header is missing,
/// the token is malformed, tampered with or expired.
pub fn caller(req: &Request, keys: &TokenKeys) -> Result<Caller, ApiError> {
    let Some(value) = header(req, "authorization") else {
        return Err(ApiError::unauthorized(
            "auth.missing_token",
            Text::new("请先登录", "Authentication required"),
        ));
    };
    let invalid = || {
        ApiError::unauthorized(
            "auth.invalid_token",
            Text::new(
                "登录凭证无效，请重新登录",
                "Invalid access token; please sign in again",
            ),
        )
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(invalid)?;
    caller_of_token(token, keys)
}

/// The caller an access token proves (the WebSocket API passes it in the query string).
pub fn caller_of_token(token: &str, keys: &TokenKeys) -> Result<Caller, ApiError> {
    let invalid = || {
        ApiError::unauthorized(
            "auth.invalid_token",
            Text::new(
                "登录凭证无效，请重新登录",
                "Invalid access token; please sign in again",
            ),
        )
    };
    let claims = keys.verify_access(token).map_err(|e| match e {
        TokenError::Expired => ApiError::unauthorized(
            "auth.token_expired",
            Text::new(
                "登录已过期，请刷新或重新登录",
                "Access token expired; refresh it or sign in again",
            ),
        ),
        TokenError::Invalid | TokenError::NoSecret => invalid(),
    })?;
    Ok(Caller {
        user_id: claims.sub.parse().map_err(|_| invalid())?,
        user_type: claims.ut,
        session_id: claims.sid.parse().map_err(|_| invalid())?,
        // Tokens from before `iat_ms` existed carry only whole seconds.
        issued_at_ms: if claims.iat_ms > 0 {
            claims.iat_ms
        } else {
            claims.iat.saturating_mul(1000)
        },
    })
}
