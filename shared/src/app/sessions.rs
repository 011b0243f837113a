//! A signed-in user's own security: changing the password (which signs every other device out
//! at once) and seeing and ending their sessions (devices).
//!
//! An access token lives 15 minutes and is checked against the account on every request, not
//! against its session: a password change therefore moves the account's `tokens_valid_after`
//! (every earlier access token is refused at once) and revokes every session's refresh token,
//! then signs the device that asked back in. Ending one session revokes its refresh token; the
//! access token that device still holds lapses within its 15 minutes.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::ClientInfo;
use super::auth::{SignedIn, start_session};
use crate::auth::{TokenKeys, hash_password, verify_password};
use crate::domain::{Password, Session, SessionId, User};
use crate::store::{AuditRecord, RateLimit, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("the account has no password yet")]
    NoPassword,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the new password is the current one")]
    Unchanged,
    #[error("weak password")]
    Weak(crate::i18n::Text),
    #[error("no such session")]
    NotFound,
    #[error("the new number is the current one")]
    SamePhone,
    #[error("another account has this number")]
    PhoneTaken,
    #[error("the code to the {0} number was not accepted: {1}")]
    Code(&'static str, super::sms::CodeRefused),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// Counts one sensitive change of `user`'s (a stolen access token cannot guess on and on).
async fn count_attempt(
    store: &Store,
    user: &User,
    now: DateTime<Utc>,
) -> Result<(), SessionsError> {
    store
        .hit_rate_limit(
            RateLimit::PASSWORD_CHANGE_PER_USER,
            &user.id.to_string(),
            now,
        )
        .await?
        .map_err(|r| SessionsError::RateLimited(r.retry_after_secs))
}

/// `candidate` is `user`'s password.
fn check_password(user: &User, candidate: &str) -> Result<(), SessionsError> {
    let hash = user
        .password_hash
        .as_deref()
        .ok_or(SessionsError::NoPassword)?;
    if verify_password(hash, candidate) {
        Ok(())
    } else {
        Err(SessionsError::WrongPassword)
    }
}

/// `user-password-change`: checks the current password, sets the new one, signs every
/// session out and this device back in (a new session).
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn change_password(
    store: &Store,
    keys: &TokenKeys,
    user: User,
    (current, new): (&str, &str),
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, SessionsError> {
    count_attempt(store, &user, now).await?;
    check_password(&user, current)?;
    if current == new {
        return Err(SessionsError::Unchanged);
    }
    let password =
        Password::parse(new, Some(user.username.as_str())).map_err(SessionsError::Weak)?;
    let hash = hash_password(&password).map_err(|e| SessionsError::Internal(e.to_string()))?;
    if !store
        .reset_password(user.id, &hash, None, false, now)
        .await?
    {
        return Err(SessionsError::NotFound);
    }
    let revoked = store
        .revoke_user_sessions(user.id, "password-change")
        .await?;
    store
        .record_audit(&AuditRecord::new(
            user.id,
            "account.password_change",
            "user",
            &user.id.to_string(),
            None,
            serde_json::json!({"sessions_revoked": revoked, "ip": client.ip}),
            now,
        ))
        .await?;
    tracing::info!(revoked, "password changed; every other session signed out");
    let user = store.get_user_latest(user.id).await?.unwrap_or(user);
    start_session(store, keys, user, client, now)
        .await
        .map_err(|e| SessionsError::Internal(e.to_string()))
}

/// `user-sessions`: the account's live sessions, most recently used first.
pub async fn sessions(
    store: &Store,
    user: &User,
    now: DateTime<Utc>,
) -> Result<Vec<Session>, SessionsError> {
    let mut live: Vec<Session> = store
        .user_sessions(user.id)
        .await?
        .into_iter()
        .filter(|s| !s.revoked && s.expires_at > now.timestamp())
        .collect();
    live.sort_by_key(|s| std::cmp::Reverse(s.last_used_at));
    Ok(live)
}

/// `user-session-revoke`: ends one of the caller's own live sessions (anybody else's, or one
/// already ended, is not found).
#[instrument(skip_all, fields(user_id = %user.id, %session), err)]
pub async fn revoke(
    store: &Store,
    user: &User,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<(), SessionsError> {
    let live = sessions(store, user, now).await?;
    if !live.iter().any(|s| s.id == session) {
        return Err(SessionsError::NotFound);
    }
    if !store.revoke_session(session, "revoked-by-user").await? {
        return Err(SessionsError::NotFound);
    }
    store
        .record_audit(&AuditRecord::new(
            user.id,
            "account.session_revoke",
            "user",
            &user.id.to_string(),
            None,
            serde_json::json!({"session_id": session.to_string()}),
            now,
        ))
        .await?;
    Ok(())
}

/// How the owner of the old number proves it when moving to a new one.
#[derive(Debug, Clone)]
pub enum PhoneProof {
    /// A `change_phone` code sent to the current number.
    OldCode(String),
    /// The account's password (the old number is lost).
    Password(String),
}

/// `user-phone-change`: moves the account to `new_phone` on a `change_phone` code sent to it,
/// with a code to the old number or the password; the old number is free for another account
/// at once.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn change_phone(
    store: &Store,
    keys: &TokenKeys,
    mut user: User,
    (new_phone, new_code): (&crate::domain::Phone, &str),
    proof: &PhoneProof,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<User, SessionsError> {
    use super::sms::{SmsPurpose, use_code};
    count_attempt(store, &user, now).await?;
    if user.phone.as_ref() == Some(new_phone) {
        return Err(SessionsError::SamePhone);
    }
    match (proof, &user.phone) {
        (PhoneProof::Password(p), _) => check_password(&user, p)?,
        (PhoneProof::OldCode(code), Some(old)) => {
            use_code(store, keys, old, SmsPurpose::ChangePhone, code, now)
                .await?
                .map_err(|e| SessionsError::Code("old", e))?;
        }
        // No number yet: the code to the new one is the only proof there is to give.
        (PhoneProof::OldCode(_), None) => {}
    }
    use_code(
        store,
        keys,
        new_phone,
        SmsPurpose::ChangePhone,
        new_code,
        now,
    )
    .await?
    .map_err(|e| SessionsError::Code("new", e))?;
    let old = user.phone.clone();
    let mut tries = super::Tries::new();
    while tries.next().await {
        match store
            .move_phone(
                user.id,
                user.phone.as_ref().map(crate::domain::Phone::as_str),
                new_phone.as_str(),
                user.version,
                now,
            )
            .await?
        {
            crate::store::PhoneMove::Moved => {
                store
                    .record_audit(&AuditRecord::new(
                        user.id,
                        "account.phone_change",
                        "user",
                        &user.id.to_string(),
                        None,
                        serde_json::json!({
                            "from": old.as_ref().map(crate::domain::Phone::masked),
                            "to": new_phone.masked(),
                            "ip": client.ip,
                        }),
                        now,
                    ))
                    .await?;
                return store
                    .get_user_latest(user.id)
                    .await?
                    .ok_or(SessionsError::NotFound);
            }
            crate::store::PhoneMove::Taken => return Err(SessionsError::PhoneTaken),
            crate::store::PhoneMove::Stale => {
                user = store
                    .get_user_latest(user.id)
                    .await?
                    .ok_or(SessionsError::NotFound)?;
                if user.phone != old {
                    return Err(SessionsError::Internal(
                        "the phone changed meanwhile".into(),
                    ));
                }
            }
        }
    }
    Err(SessionsError::Internal("the account kept changing".into()))
}
