//! 微信登录 and 支付宝登录: a user signs in with WeChat (mini-program or website QR code) or
//! Alipay (mini-program or website). The provider's identity — the one that spans the most of
//! our apps (WeChat's `unionid`, Alipay's `user_id` or `union_id`) — is bound to one account.
//! The first time, the person proves a phone number (the mini-program's phone-number button,
//! or an SMS code): the account with that number is bound, or a client account is created for
//! it. Both providers follow the same rules; only the code exchange differs.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::ClientInfo;
use super::auth::{SignedIn, start_session};
use super::sms::{SmsLoginError, SmsPurpose, sign_in_by_phone, use_code};
use crate::auth::ProviderError;
use crate::auth::TokenKeys;
use crate::auth::alipay::AlipayLogin;
use crate::auth::wechat::WechatLogin;
use crate::domain::Phone;
use crate::domain::user::Social;
use crate::store::{LoginKey, RateLimit, SocialBind, Store, StoreError};

/// Where the provider's code comes from.
#[derive(Debug, Clone)]
pub enum SocialCode {
    /// `wx.login()` / `my.getAuthCode()` in the mini-program.
    MiniProgram(String),
    /// The website's OAuth (WeChat's QR code, Alipay's authorisation page).
    Web(String),
}

/// How a first-time user proves their phone number.
#[derive(Debug, Clone)]
pub enum PhoneProof {
    /// None given: answered with `{provider}.phone_required` for a new user.
    None,
    /// The mini-program's phone-number button: WeChat's `getPhoneNumber` code, or Alipay's
    /// signed and encrypted `my.getPhoneNumber` answer.
    MiniProgram(String),
    /// A `login` SMS code sent to the number.
    Sms { phone: Phone, code: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SocialSignInError {
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("{0:?}: {1}")]
    Provider(Social, ProviderError),
    #[error("a first sign-in needs a phone number")]
    PhoneRequired(Social),
    #[error("the phone proof works in the mini-program only")]
    PhoneCodeNotHere(Social),
    #[error("the number's account is bound to another identity of this provider")]
    PhoneBoundElsewhere(Social),
    #[error("this identity is bound to another account")]
    BoundElsewhere(Social),
    #[error("account disabled")]
    Disabled,
    #[error(transparent)]
    Code(#[from] super::sms::CodeRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<SmsLoginError> for SocialSignInError {
    fn from(e: SmsLoginError) -> SocialSignInError {
        match e {
            SmsLoginError::RateLimited(s) => SocialSignInError::RateLimited(s),
            SmsLoginError::Code(c) => SocialSignInError::Code(c),
            SmsLoginError::Disabled => SocialSignInError::Disabled,
            SmsLoginError::Store(e) => SocialSignInError::Store(e),
            other => SocialSignInError::Internal(other.to_string()),
        }
    }
}

/// One sign-in attempt per IP against the login limit.
async fn limited(
    store: &Store,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), SocialSignInError> {
    match store
        .hit_rate_limit(RateLimit::LOGIN_PER_IP, &client.ip, now)
        .await?
    {
        Ok(()) => Ok(()),
        Err(limited) => Err(SocialSignInError::RateLimited(limited.retry_after_secs)),
    }
}

/// `auth-login-wechat`.
#[instrument(skip_all, err)]
pub async fn login_wechat(
    store: &Store,
    keys: &TokenKeys,
    wechat: &WechatLogin,
    (code, proof): (&SocialCode, &PhoneProof),
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, SocialSignInError> {
    let refused = |e| SocialSignInError::Provider(Social::Wechat, e);
    limited(store, client, now).await?;
    let identity = match code {
        SocialCode::MiniProgram(c) => wechat.mini_program(c).await,
        SocialCode::Web(c) => wechat.web(c).await,
    }
    .map_err(refused)?;
    let phone = |c: String| async move { wechat.phone_number(&c).await.map_err(refused) };
    sign_in(
        store,
        keys,
        (Social::Wechat, &identity.binding_key()),
        (code, proof, phone),
        client,
        now,
    )
    .await
}

/// `auth-login-alipay`.
#[instrument(skip_all, err)]
pub async fn login_alipay(
    store: &Store,
    keys: &TokenKeys,
    alipay: &AlipayLogin,
    (code, proof): (&SocialCode, &PhoneProof),
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, SocialSignInError> {
    let refused = |e| SocialSignInError::Provider(Social::Alipay, e);
    limited(store, client, now).await?;
    let identity = match code {
        SocialCode::MiniProgram(c) => alipay.identity(true, c, now).await,
        SocialCode::Web(c) => alipay.identity(false, c, now).await,
    }
    .map_err(refused)?;
    let binding = identity
        .binding_key()
        .ok_or_else(|| SocialSignInError::Internal("Alipay named no one".to_owned()))?;
    let phone = |answer: String| async move { alipay.phone_number(&answer).map_err(refused) };
    sign_in(
        store,
        keys,
        (Social::Alipay, &binding),
        (code, proof, phone),
        client,
        now,
    )
    .await
}

/// The account bound to `binding` signs in; a new identity proves a phone number and is bound
/// to that number's account, or to a new client account.
async fn sign_in<F, Fut>(
    store: &Store,
    keys: &TokenKeys,
    (social, binding): (Social, &str),
    (code, proof, phone_of): (&SocialCode, &PhoneProof, F),
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, SocialSignInError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<String, SocialSignInError>>,
{
    if let Some(id) = store.social_binding(social, binding).await?
        && let Some(user) = store.get_user(id).await?
    {
        if !user.is_active() {
            return Err(SocialSignInError::Disabled);
        }
        tracing::info!(user_id = %user.id, provider = social.as_str(), "signed in");
        return start_session(store, keys, user, client, now)
            .await
            .map_err(|e| SocialSignInError::Internal(e.to_string()));
    }
    // A new identity: the phone number decides the account.
    let phone = match proof {
        PhoneProof::None => return Err(SocialSignInError::PhoneRequired(social)),
        PhoneProof::MiniProgram(c) => {
            if !matches!(code, SocialCode::MiniProgram(_)) {
                return Err(SocialSignInError::PhoneCodeNotHere(social));
            }
            let number = phone_of(c.clone()).await?;
            Phone::parse(&number).map_err(|_| {
                SocialSignInError::Provider(
                    social,
                    ProviderError::InvalidCode("not a mainland mobile number".into()),
                )
            })?
        }
        PhoneProof::Sms { phone, code } => {
            use_code(store, keys, phone, SmsPurpose::Login, code, now).await??;
            phone.clone()
        }
    };
    let bind = |user| async move {
        match store.bind_social(social, user, binding, now).await? {
            SocialBind::Bound => Ok(()),
            SocialBind::AccountTaken => Err(SocialSignInError::PhoneBoundElsewhere(social)),
            SocialBind::IdentityTaken => match store.social_binding(social, binding).await? {
                Some(bound) if bound == user => Ok(()),
                _ => Err(SocialSignInError::BoundElsewhere(social)),
            },
        }
    };
    // An account with this number: bound first, then signed in.
    if let Some(id) = store.find_user_id(&LoginKey::Phone(phone.clone())).await? {
        bind(id).await?;
        tracing::info!(user_id = %id, provider = social.as_str(), "bound to the account of its phone number");
        return Ok(sign_in_by_phone(store, keys, &phone, client, now).await?);
    }
    let signed = sign_in_by_phone(store, keys, &phone, client, now).await?;
    bind(signed.user.id).await?;
    tracing::info!(user_id = %signed.user.id, provider = social.as_str(), "registered");
    Ok(signed)
}
