//! Sign-in and password reset by SMS code.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::ClientInfo;
use super::auth::{SignedIn, StartSessionError, issue, start_session};
use crate::auth::TokenKeys;
use crate::crypto::random_digits;
use crate::domain::{Phone, Session, User, UserType, Username};
use crate::notify::{SmsMessage, SmsSender, SmsTemplate};
use crate::store::{
    CodeCheck, CreateUserError, LoginKey, RateLimit, Store, StoreError, UniqueField,
};

/// What a code is for. `login` and `register` share one code slot: signing in with a code
/// creates the account when there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsPurpose {
    Login,
    Register,
    Reset,
    /// Moving an account to another number: sent to the new number (and to the old one, as the
    /// proof of holding it).
    ChangePhone,
}

impl SmsPurpose {
    pub fn parse(s: &str) -> Option<SmsPurpose> {
        match s {
            "login" => Some(SmsPurpose::Login),
            "register" => Some(SmsPurpose::Register),
            "reset" => Some(SmsPurpose::Reset),
            "change_phone" => Some(SmsPurpose::ChangePhone),
            _ => None,
        }
    }

    pub fn slot(&self) -> &'static str {
        match self {
            SmsPurpose::Login | SmsPurpose::Register => "signin",
            SmsPurpose::Reset => "reset",
            SmsPurpose::ChangePhone => "change",
        }
    }

    fn template(&self) -> SmsTemplate {
        match self {
            // The sign-in template is a plain verification code ("验证码 ${code}").
            SmsPurpose::Login | SmsPurpose::Register | SmsPurpose::ChangePhone => {
                SmsTemplate::SignInCode
            }
            SmsPurpose::Reset => SmsTemplate::ResetCode,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmsCodeError {
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("sending failed: {0}")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// Why a presented code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefused {
    #[error("wrong code, {remaining} tries left")]
    Wrong { remaining: u32 },
    #[error("no such code")]
    Missing,
    #[error("code expired")]
    Expired,
    #[error("too many wrong tries")]
    Burned,
}

fn subject(phone: &Phone, purpose: SmsPurpose) -> String {
    format!("{}#{}", phone.as_str(), purpose.slot())
}

/// Sends a 6-digit code to `phone`, valid 5 minutes: at most 1 a minute and 10 a day per
/// phone, 30 an hour per IP. A reset code for a number without an account is not sent, but
/// the answer is the same, so the endpoint does not reveal who is registered.
#[instrument(skip_all, fields(phone = %phone.masked(), slot = purpose.slot()), err)]
pub async fn issue_code(
    store: &Store,
    keys: &TokenKeys,
    sms: &SmsSender,
    phone: &Phone,
    purpose: SmsPurpose,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), SmsCodeError> {
    for (limit, subject) in [
        (RateLimit::SMS_PER_IP_HOUR, client.ip.as_str()),
        (RateLimit::SMS_PER_PHONE_MINUTE, phone.as_str()),
        (RateLimit::SMS_PER_PHONE_DAY, phone.as_str()),
    ] {
        if let Err(limited) = store.hit_rate_limit(limit, subject, now).await? {
            return Err(SmsCodeError::RateLimited(limited.retry_after_secs));
        }
    }
    if purpose == SmsPurpose::Reset
        && store
            .find_user_id(&LoginKey::Phone(phone.clone()))
            .await?
            .is_none()
    {
        tracing::info!("reset code for an unknown number: not sent");
        return Ok(());
    }
    let code = random_digits(6).map_err(|e| SmsCodeError::Internal(e.to_string()))?;
    let tag = keys
        .code_tag(&subject(phone, purpose), &code)
        .map_err(|e| SmsCodeError::Internal(e.to_string()))?;
    store
        .put_sms_code(phone.as_str(), purpose.slot(), &tag, now)
        .await?;
    sms.send(&SmsMessage {
        phone,
        template: purpose.template(),
        code: &code,
        event: None,
    })
    .await
    .map_err(|e| SmsCodeError::Send(e.to_string()))?;
    tracing::info!("code sent");
    Ok(())
}

/// Checks and uses up a code.
pub async fn use_code(
    store: &Store,
    keys: &TokenKeys,
    phone: &Phone,
    purpose: SmsPurpose,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), CodeRefused>, StoreError> {
    let subject = subject(phone, purpose);
    let check = store
        .check_sms_code(
            phone.as_str(),
            purpose.slot(),
            |stored| keys.code_matches(&subject, code, stored),
            now,
        )
        .await?;
    Ok(match check {
        CodeCheck::Matched => Ok(()),
        CodeCheck::Wrong { remaining } => Err(CodeRefused::Wrong { remaining }),
        CodeCheck::Burned => Err(CodeRefused::Burned),
        CodeCheck::Expired => Err(CodeRefused::Expired),
        CodeCheck::Missing => Err(CodeRefused::Missing),
    })
}

impl From<StartSessionError> for SmsLoginError {
    fn from(e: StartSessionError) -> Self {
        match e {
            StartSessionError::Store(e) => SmsLoginError::Store(e),
            StartSessionError::Token(e) => SmsLoginError::Internal(e),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmsLoginError {
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error(transparent)]
    Code(#[from] CodeRefused),
    #[error("account disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// Signs in with a code. The first sign-in of a number creates a client account with a
/// generated username and no password; the phone counts as verified.
#[instrument(skip_all, fields(phone = %phone.masked()), err)]
pub async fn login(
    store: &Store,
    keys: &TokenKeys,
    phone: &Phone,
    code: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, SmsLoginError> {
    if let Err(limited) = store
        .hit_rate_limit(RateLimit::LOGIN_SMS_PER_IP, &client.ip, now)
        .await?
    {
        return Err(SmsLoginError::RateLimited(limited.retry_after_secs));
    }
    use_code(store, keys, phone, SmsPurpose::Login, code, now).await??;
    sign_in_by_phone(store, keys, phone, client, now).await
}

/// Signs in the account of a number just proven (by an SMS code or WeChat's phone API), or
/// creates a client account for it with a generated username and no password.
pub(crate) async fn sign_in_by_phone(
    store: &Store,
    keys: &TokenKeys,
    phone: &Phone,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, SmsLoginError> {
    for _ in 0..3 {
        if let Some(id) = store.find_user_id(&LoginKey::Phone(phone.clone())).await?
            && let Some(user) = store.get_user(id).await?
        {
            let mut user = user;
            if !user.is_active() {
                return Err(SmsLoginError::Disabled);
            }
            if !user.phone_verified {
                // The code just proved the number: record it, and answer with it.
                store.set_phone_verified(user.id).await?;
                user.phone_verified = true;
            }
            tracing::info!(user_id = %user.id, "signed in by code");
            return Ok(start_session(store, keys, user, client, now).await?);
        }
        let suffix = random_digits(8).map_err(|e| SmsLoginError::Internal(e.to_string()))?;
        let username = Username::parse(&format!("用户{suffix}"))
            .map_err(|_| SmsLoginError::Internal("generated username refused".into()))?;
        let mut user = User::new(
            username,
            None,
            Some(phone.clone()),
            UserType::Client,
            None,
            now,
        );
        user.phone_verified = true;
        user.registered_ip = Some(client.ip.chars().take(64).collect());
        let session = Session::start(user.id, user.user_type, &client.ip, &client.user_agent, now);
        match store.create_user_with_session(&user, &session).await {
            Ok(()) => {
                tracing::info!(user_id = %user.id, "registered by code");
                let tokens =
                    issue(keys, &session, &user.roles, now).map_err(SmsLoginError::Internal)?;
                return Ok(SignedIn { user, tokens });
            }
            // Another request registered this number meanwhile, or the generated name was
            // taken: go round again (and find the account, or pick another name).
            Err(CreateUserError::Taken(fields))
                if fields
                    .iter()
                    .all(|f| matches!(f, UniqueField::Phone | UniqueField::Username)) => {}
            Err(CreateUserError::Taken(_)) => {
                return Err(SmsLoginError::Internal(
                    "unexpected uniqueness clash".into(),
                ));
            }
            Err(CreateUserError::Store(e)) => return Err(e.into()),
        }
    }
    Err(SmsLoginError::Internal(
        "could not sign in after 3 attempts".into(),
    ))
}
