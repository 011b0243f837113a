//! Email verification and password reset.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::ClientInfo;
use super::sms::{self, CodeRefused, SmsCodeError, SmsPurpose};
use crate::auth::{TokenKeys, hash_password};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::{Email, Password, Phone, User};
use crate::notify::{Mail, Mailer, SmsSender};
use crate::store::{LoginKey, RateLimit, Store, StoreError};

const VERIFY_PURPOSE: &str = "verify-email";
/// A link to a new address: using it moves the account there.
const CHANGE_EMAIL_PURPOSE: &str = "change-email";
const RESET_PURPOSE: &str = "reset";
const VERIFY_TTL_SECS: i64 = 24 * 3600;
const RESET_TTL_SECS: i64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("the account has no email address")]
    NoEmail,
    #[error("the email address is already verified")]
    AlreadyVerified,
    #[error("invalid or used token")]
    InvalidToken,
    #[error("another account has this address")]
    EmailTaken,
    #[error("the new address is the current one")]
    SameEmail,
    #[error("the password is wrong")]
    WrongPassword,
    #[error(transparent)]
    Code(#[from] CodeRefused),
    #[error("sending failed: {0}")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<SmsCodeError> for AccountError {
    fn from(e: SmsCodeError) -> Self {
        match e {
            SmsCodeError::RateLimited(s) => AccountError::RateLimited(s),
            SmsCodeError::Send(s) => AccountError::Send(s),
            SmsCodeError::Store(e) => AccountError::Store(e),
            SmsCodeError::Internal(s) => AccountError::Internal(s),
        }
    }
}

async fn limit(
    store: &Store,
    l: RateLimit,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    store
        .hit_rate_limit(l, subject, now)
        .await?
        .map_err(|r| AccountError::RateLimited(r.retry_after_secs))
}

fn link(base: &str, path: &str, token: &str) -> String {
    format!("{base}/{path}?token={token}")
}

/// Mails `user` a single-use link to the app's `verify-email` page (valid 24 hours), its token
/// kept under `purpose` for `address`; `compose` writes the mail around the URL.
async fn send_link(
    store: &Store,
    mailer: &Mailer,
    app_base_url: &str,
    user: &User,
    (purpose, address): (&str, &str),
    compose: impl FnOnce(&str) -> Mail,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let token = random_token().map_err(|e| AccountError::Internal(e.to_string()))?;
    store
        .put_token(
            purpose,
            &sha256_hex(&token),
            user.id,
            Some(address),
            VERIFY_TTL_SECS,
            now,
        )
        .await?;
    let url = link(app_base_url, "verify-email", &token);
    mailer
        .send(&compose(&url))
        .await
        .map_err(|e| AccountError::Send(e.to_string()))
}

/// Emails the caller a link that verifies their address (valid 24 hours, single use).
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn send_verification(
    store: &Store,
    mailer: &Mailer,
    app_base_url: &str,
    user: &User,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let email = user.email.as_ref().ok_or(AccountError::NoEmail)?;
    if user.email_verified {
        return Err(AccountError::AlreadyVerified);
    }
    limit(
        store,
        RateLimit::VERIFY_EMAIL_PER_USER,
        &user.id.to_string(),
        now,
    )
    .await?;
    let name = user.username.as_str();
    send_link(store, mailer, app_base_url, user, (VERIFY_PURPOSE, email.as_str()), |url| Mail {
        to: email.as_str().to_owned(),
        subject: "验证您的邮箱 / Verify your email — Gigbao".to_owned(),
        text: format!(
            "您好 {name}，\n\n请在 24 小时内打开以下链接完成邮箱验证：\n{url}\n\nHi {name},\nopen this link within 24 hours to verify your email:\n{url}\n"
        ),
        html: format!(
            "<p>您好 {name}，请在 24 小时内<a href=\"{url}\">点击这里</a>完成邮箱验证。</p><p>Hi {name}, <a href=\"{url}\">verify your email</a> within 24 hours.</p>"
        ),
        kind: "verify_email",
    }, now)
    .await?;
    tracing::info!("verification email sent");
    Ok(())
}

/// `user-email-change`: emails a link to `new_email` (valid 24 hours, single use); using it
/// (`auth-verify-email`) moves the account there. The password is asked when the account has
/// one.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn request_email_change(
    store: &Store,
    (mailer, app_base_url): (&Mailer, &str),
    user: &User,
    new_email: &Email,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    limit(
        store,
        RateLimit::VERIFY_EMAIL_PER_USER,
        &user.id.to_string(),
        now,
    )
    .await?;
    if let Some(hash) = user.password_hash.as_deref()
        && !password.is_some_and(|p| crate::auth::verify_password(hash, p))
    {
        return Err(AccountError::WrongPassword);
    }
    if user.email.as_ref() == Some(new_email) {
        return Err(AccountError::SameEmail);
    }
    if store
        .find_user_id(&LoginKey::Email(new_email.clone()))
        .await?
        .is_some()
    {
        return Err(AccountError::EmailTaken);
    }
    let name = user.username.as_str();
    send_link(store, mailer, app_base_url, user, (CHANGE_EMAIL_PURPOSE, new_email.as_str()), |url| Mail {
        to: new_email.as_str().to_owned(),
        subject: "确认新邮箱 / Confirm your new email — Gigbao".to_owned(),
        text: format!(
            "您好 {name}，\n\n请在 24 小时内打开以下链接，将账号邮箱更换为本地址：\n{url}\n如果不是您本人操作，请忽略本邮件。\n\nHi {name},\nopen this link within 24 hours to move your account to this address:\n{url}\nIf you did not ask for this, ignore this email.\n"
        ),
        html: format!(
            "<p>您好 {name}，请在 24 小时内<a href=\"{url}\">确认更换邮箱</a>。如非本人操作请忽略。</p><p>Hi {name}, <a href=\"{url}\">confirm your new email</a> within 24 hours.</p>"
        ),
        kind: "change_email",
    }, now)
    .await?;
    tracing::info!("email change link sent");
    Ok(())
}

/// `wang***@example.com`: enough for an audit trail, not the address itself.
fn masked_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            format!("{}***@{domain}", local.chars().take(4).collect::<String>())
        }
        None => "***".to_owned(),
    }
}

/// Uses a verification token: the account's current email becomes verified (or, for a change
/// link, the account moves to the new address, verified, and the old address is free).
#[instrument(skip_all, err)]
pub async fn verify_email(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<User, AccountError> {
    let hash = sha256_hex(token);
    if let Some(change) = store.get_token(CHANGE_EMAIL_PURPOSE, &hash, now).await? {
        let user_id = change.user()?;
        let email = change.email.as_deref().ok_or(AccountError::InvalidToken)?;
        let user = store
            .get_user(user_id)
            .await?
            .ok_or(AccountError::InvalidToken)?;
        return match store
            .move_email(
                user_id,
                user.email.as_ref().map(Email::as_str),
                email,
                (CHANGE_EMAIL_PURPOSE, &hash),
                now,
            )
            .await?
        {
            Some(true) => {
                store
                    .record_audit(&crate::store::AuditRecord::new(
                        user_id,
                        "account.email_change",
                        "user",
                        &user_id.to_string(),
                        None,
                        serde_json::json!({
                            "from": user.email.as_ref().map(|e| masked_email(e.as_str())),
                            "to": masked_email(email),
                        }),
                        now,
                    ))
                    .await?;
                tracing::info!(user_id = %user_id, "email changed");
                store
                    .get_user_latest(user_id)
                    .await?
                    .ok_or(AccountError::InvalidToken)
            }
            Some(false) => Err(AccountError::InvalidToken),
            None => Err(AccountError::EmailTaken),
        };
    }
    let record = store
        .get_token(VERIFY_PURPOSE, &hash, now)
        .await?
        .ok_or(AccountError::InvalidToken)?;
    let user_id = record.user()?;
    let email = record.email.as_deref().ok_or(AccountError::InvalidToken)?;
    if !store.verify_email(user_id, email, &hash, now).await? {
        return Err(AccountError::InvalidToken);
    }
    tracing::info!(user_id = %user_id, "email verified");
    store
        .get_user(user_id)
        .await?
        .ok_or(AccountError::InvalidToken)
}

/// Where a reset link or code goes.
#[derive(Debug, Clone)]
pub enum ResetTarget {
    Email(Email),
    Phone(Phone),
}

/// Starts a password reset: a link by email (valid 1 hour) or a code by SMS. Answers the same
/// whether or not an account exists; only the rate limits can refuse it.
#[instrument(skip_all, err)]
#[allow(clippy::too_many_arguments)]
pub async fn request_reset(
    store: &Store,
    keys: &TokenKeys,
    mailer: &Mailer,
    sms_sender: &SmsSender,
    app_base_url: &str,
    target: &ResetTarget,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    limit(store, RateLimit::RESET_PER_IP, &client.ip, now).await?;
    match target {
        ResetTarget::Phone(phone) => {
            sms::issue_code(
                store,
                keys,
                sms_sender,
                phone,
                SmsPurpose::Reset,
                client,
                now,
            )
            .await?;
            Ok(())
        }
        ResetTarget::Email(email) => {
            limit(store, RateLimit::RESET_PER_EMAIL, email.as_str(), now).await?;
            let Some(id) = store.find_user_id(&LoginKey::Email(email.clone())).await? else {
                tracing::info!("reset for an unknown email: not sent");
                return Ok(());
            };
            let Some(user) = store.get_user(id).await?.filter(User::is_active) else {
                return Ok(());
            };
            let token = random_token().map_err(|e| AccountError::Internal(e.to_string()))?;
            store
                .put_token(
                    RESET_PURPOSE,
                    &sha256_hex(&token),
                    user.id,
                    Some(email.as_str()),
                    RESET_TTL_SECS,
                    now,
                )
                .await?;
            let url = link(app_base_url, "reset-password", &token);
            mailer
                .send(&Mail {
                    to: email.as_str().to_owned(),
                    subject: "重置密码 / Reset your password — Gigbao".to_owned(),
                    text: format!(
                        "请在 1 小时内打开以下链接重置密码：\n{url}\n如果不是您本人操作，请忽略本邮件。\n\nOpen this link within 1 hour to reset your password:\n{url}\nIf you did not ask for this, ignore this email.\n"
                    ),
                    html: format!(
                        "<p>请在 1 小时内<a href=\"{url}\">重置密码</a>。如非本人操作请忽略。</p><p><a href=\"{url}\">Reset your password</a> within 1 hour. If you did not ask for this, ignore this email.</p>"
                    ),
                    kind: "password_reset",
                })
                .await
                .map_err(|e| AccountError::Send(e.to_string()))?;
            tracing::info!(user_id = %user.id, "reset email sent");
            Ok(())
        }
    }
}

/// What proves the right to reset.
#[derive(Debug, Clone)]
pub enum ResetProof {
    Token(String),
    Code { phone: Phone, code: String },
}

/// Sets a new password with an emailed token or an SMS code, then signs the account out
/// everywhere: every session is revoked and every access token issued before now is refused.
#[instrument(skip_all, err)]
pub async fn confirm_reset(
    store: &Store,
    keys: &TokenKeys,
    proof: &ResetProof,
    new_password: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<(), ResetConfirmError> {
    store
        .hit_rate_limit(RateLimit::RESET_PER_IP, &client.ip, now)
        .await?
        .map_err(|r| ResetConfirmError::Account(AccountError::RateLimited(r.retry_after_secs)))?;
    let (user, token_hash) = match proof {
        ResetProof::Token(token) => {
            let hash = sha256_hex(token);
            let record = store
                .get_token(RESET_PURPOSE, &hash, now)
                .await?
                .ok_or(AccountError::InvalidToken)?;
            let user = store
                .get_user(record.user()?)
                .await?
                .ok_or(AccountError::InvalidToken)?;
            (user, Some(hash))
        }
        ResetProof::Code { phone, .. } => {
            // Look the account up before using the code, so a bad password does not burn it.
            let id = store
                .find_user_id(&LoginKey::Phone(phone.clone()))
                .await?
                .ok_or(AccountError::Code(CodeRefused::Missing))?;
            let user = store
                .get_user(id)
                .await?
                .ok_or(AccountError::Code(CodeRefused::Missing))?;
            (user, None)
        }
    };
    let password = Password::parse(new_password, Some(user.username.as_str()))
        .map_err(ResetConfirmError::WeakPassword)?;
    if let ResetProof::Code { phone, code } = proof {
        sms::use_code(store, keys, phone, SmsPurpose::Reset, code, now)
            .await?
            .map_err(AccountError::Code)?;
    }
    let hash = hash_password(&password).map_err(|e| AccountError::Internal(e.to_string()))?;
    let by_email = token_hash.is_some();
    let ok = store
        .reset_password(
            user.id,
            &hash,
            token_hash.as_deref().map(|h| (RESET_PURPOSE, h)),
            by_email,
            now,
        )
        .await?;
    if !ok {
        return Err(AccountError::InvalidToken.into());
    }
    let revoked = store
        .revoke_user_sessions(user.id, "password-reset")
        .await?;
    tracing::info!(user_id = %user.id, revoked, "password reset");
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum ResetConfirmError {
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("weak password")]
    WeakPassword(crate::i18n::Text),
}

impl From<StoreError> for ResetConfirmError {
    fn from(e: StoreError) -> Self {
        ResetConfirmError::Account(AccountError::Store(e))
    }
}
