//! 微信登录: a WeChat user signs in from the mini-program or the website (QR code). The WeChat
//! identity — its `unionid` when WeChat gives one, so the same person is one account on the web,
//! in the app and in the mini-program — is bound to one account. The first time, the person
//! proves a phone number (the mini-program's phone-number button, or an SMS code): the account
//! with that number is bound, or a client account is created for it.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::ClientInfo;
use super::auth::{SignedIn, start_session};
use super::sms::{SmsLoginError, SmsPurpose, sign_in_by_phone, use_code};
use crate::auth::TokenKeys;
use crate::auth::wechat::{WechatLogin, WechatLoginError};
use crate::domain::Phone;
use crate::store::{LoginKey, RateLimit, Store, StoreError, WechatBind};

/// Where the WeChat code comes from.
#[derive(Debug, Clone)]
pub enum WechatCode {
    /// `wx.login()` in the mini-program.
    MiniProgram(String),
    /// The website's QR-code OAuth.
    Web(String),
}

/// How a first-time WeChat user proves their phone number.
#[derive(Debug, Clone)]
pub enum PhoneProof {
    /// None given: answered with `wechat.phone_required` for a new WeChat user.
    None,
    /// The mini-program's `getPhoneNumber` code.
    Wechat(String),
    /// A `login` SMS code sent to the number.
    Sms { phone: Phone, code: String },
}

#[derive(Debug, thiserror::Error)]
pub enum WechatSignInError {
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error(transparent)]
    Wechat(#[from] WechatLoginError),
    #[error("a first sign-in needs a phone number")]
    PhoneRequired,
    #[error("the phone code works in the mini-program only")]
    PhoneCodeNotHere,
    #[error("the number's account is bound to another WeChat user")]
    PhoneBoundElsewhere,
    #[error("this WeChat user is bound to another account")]
    BoundElsewhere,
    #[error("account disabled")]
    Disabled,
    #[error(transparent)]
    Code(#[from] super::sms::CodeRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<SmsLoginError> for WechatSignInError {
    fn from(e: SmsLoginError) -> WechatSignInError {
        match e {
            SmsLoginError::RateLimited(s) => WechatSignInError::RateLimited(s),
            SmsLoginError::Code(c) => WechatSignInError::Code(c),
            SmsLoginError::Disabled => WechatSignInError::Disabled,
            SmsLoginError::Store(e) => WechatSignInError::Store(e),
            other => WechatSignInError::Internal(other.to_string()),
        }
    }
}

/// `auth-login-wechat`.
#[instrument(skip_all, err)]
pub async fn login(
    store: &Store,
    keys: &TokenKeys,
    wechat: &WechatLogin,
    (code, proof): (&WechatCode, &PhoneProof),
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, WechatSignInError> {
    if let Err(limited) = store
        .hit_rate_limit(RateLimit::LOGIN_PER_IP, &client.ip, now)
        .await?
    {
        return Err(WechatSignInError::RateLimited(limited.retry_after_secs));
    }
    let identity = match code {
        WechatCode::MiniProgram(c) => wechat.mini_program(c).await?,
        WechatCode::Web(c) => wechat.web(c).await?,
    };
    let binding = identity.binding_key();
    if let Some(id) = store.wechat_binding(&binding).await?
        && let Some(user) = store.get_user(id).await?
    {
        if !user.is_active() {
            return Err(WechatSignInError::Disabled);
        }
        tracing::info!(user_id = %user.id, "signed in with WeChat");
        return start_session(store, keys, user, client, now)
            .await
            .map_err(|e| WechatSignInError::Internal(e.to_string()));
    }
    // A new WeChat user: the phone number decides the account.
    let phone = match proof {
        PhoneProof::None => return Err(WechatSignInError::PhoneRequired),
        PhoneProof::Wechat(c) => {
            if !matches!(code, WechatCode::MiniProgram(_)) {
                return Err(WechatSignInError::PhoneCodeNotHere);
            }
            let number = wechat.phone_number(c).await?;
            Phone::parse(&number).map_err(|_| {
                WechatSignInError::Wechat(WechatLoginError::InvalidCode(
                    "not a mainland mobile number".into(),
                ))
            })?
        }
        PhoneProof::Sms { phone, code } => {
            use_code(store, keys, phone, SmsPurpose::Login, code, now).await??;
            phone.clone()
        }
    };
    let bind = |user| async move {
        match store.bind_wechat(user, &binding, now).await? {
            WechatBind::Bound => Ok(()),
            WechatBind::AccountTaken => Err(WechatSignInError::PhoneBoundElsewhere),
            WechatBind::IdentityTaken => match store.wechat_binding(&binding).await? {
                Some(bound) if bound == user => Ok(()),
                _ => Err(WechatSignInError::BoundElsewhere),
            },
        }
    };
    // An account with this number: bound first, then signed in.
    if let Some(id) = store.find_user_id(&LoginKey::Phone(phone.clone())).await? {
        bind(id).await?;
        tracing::info!(user_id = %id, "WeChat bound to the account of its phone number");
        return Ok(sign_in_by_phone(store, keys, &phone, client, now).await?);
    }
    let signed = sign_in_by_phone(store, keys, &phone, client, now).await?;
    bind(signed.user.id).await?;
    tracing::info!(user_id = %signed.user.id, "registered with WeChat");
    Ok(signed)
}
