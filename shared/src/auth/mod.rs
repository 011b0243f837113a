//! Passwords, access tokens (JWT), refresh tokens and the [`Caller`] of a request.

pub mod alipay;
mod caller;
mod password;
mod tokens;
pub mod wechat;
pub use wechat::WechatLoginError as ProviderError;

pub use caller::{Caller, caller, caller_of_token};
pub use password::{hash_password, verify_against_nothing, verify_password};
pub use tokens::{
    ACCESS_TTL_SECS, AccessClaims, KeyError, REFRESH_TTL_SECS, RefreshToken, TokenError, TokenKeys,
    TokenSecret, Tokens,
};
