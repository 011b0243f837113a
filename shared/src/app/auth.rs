//! Register, log in, refresh, log out.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::ClientInfo;
use crate::auth::{
    ACCESS_TTL_SECS, RefreshToken, TokenError, TokenKeys, Tokens, hash_password,
    verify_against_nothing, verify_password,
};
use crate::domain::{Email, Password, Phone, Role, Session, User, UserType, Username};
use crate::store::{
    CreateUserError, LoginKey, RateLimit, RotateOutcome, Store, StoreError, UniqueField,
};

/// A validated registration.
#[derive(Debug)]
pub struct NewAccount {
    pub username: Username,
    pub password: Password,
    pub user_type: UserType,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

/// A signed-in user with a fresh token pair.
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub tokens: Tokens,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("already taken: {0:?}")]
    Taken(Vec<UniqueField>),
    #[error("{0}")]
    Internal(String),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("invalid refresh token")]
    Invalid,
    #[error("session revoked")]
    Revoked,
    #[error("refresh token expired")]
    Expired,
    #[error("refresh token reused; session revoked")]
    Reused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

pub(crate) fn issue(
    keys: &TokenKeys,
    session: &Session,
    roles: &[Role],
    now: DateTime<Utc>,
) -> Result<Tokens, String> {
    let access = keys
        .issue_access(session.user_id, session.user_type, roles, session.id, now)
        .map_err(|e| format!("issuing access token: {e}"))?;
    Ok(Tokens {
        access,
        refresh: keys
            .issue_refresh(session.id, session.generation)
            .map_err(|e| format!("issuing refresh token: {e}"))?,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
    })
}

/// Creates an account (freelancer, client, or — for operators' tooling only — admin) and
/// signs it in. The user, its uniqueness guards and its session are one transaction.
#[instrument(skip_all, fields(user_type = account.user_type.as_str()), err)]
pub async fn register(
    store: &Store,
    keys: &TokenKeys,
    account: NewAccount,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, RegisterError> {
    let hash =
        hash_password(&account.password).map_err(|e| RegisterError::Internal(e.to_string()))?;
    let mut user = User::new(
        account.username,
        account.email,
        account.phone,
        account.user_type,
        Some(hash),
        now,
    );
    user.registered_ip = Some(client.ip.chars().take(64).collect());
    let session = Session::start(user.id, user.user_type, &client.ip, &client.user_agent, now);
    store
        .create_user_with_session(&user, &session)
        .await
        .map_err(|e| match e {
            CreateUserError::Taken(fields) => RegisterError::Taken(fields),
            CreateUserError::Store(e) => RegisterError::Internal(e.to_string()),
        })?;
    tracing::info!(user_id = %user.id, "registered");
    let tokens = issue(keys, &session, &user.roles, now).map_err(RegisterError::Internal)?;
    Ok(SignedIn { user, tokens })
}

/// Tells a login string apart: an email has `@`, a phone matches the CN mobile rule, anything
/// else is a username (usernames cannot be all digits or contain `@`).
fn login_key(login: &str) -> Option<LoginKey> {
    if login.contains('@') {
        Email::parse(login).ok().map(LoginKey::Email)
    } else if let Ok(phone) = Phone::parse(login) {
        Some(LoginKey::Phone(phone))
    } else {
        Username::parse(login).ok().map(LoginKey::Username)
    }
}

/// Password login by username, email or phone, limited to 5 attempts per 5 minutes per IP.
/// Unknown accounts and wrong passwords answer the same, in the same time.
#[instrument(skip_all, err)]
pub async fn login(
    store: &Store,
    keys: &TokenKeys,
    login: &str,
    password: &str,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, LoginError> {
    if let Err(limited) = store
        .hit_rate_limit(RateLimit::LOGIN_PER_IP, &client.ip, now)
        .await?
    {
        return Err(LoginError::RateLimited(limited.retry_after_secs));
    }
    let user = match login_key(login) {
        Some(key) => match store.find_user_id(&key).await? {
            Some(id) => store.get_user(id).await?,
            None => None,
        },
        None => None,
    };
    let Some(user) = user else {
        verify_against_nothing(password);
        return Err(LoginError::InvalidCredentials);
    };
    let Some(hash) = user.password_hash.as_deref() else {
        verify_against_nothing(password);
        return Err(LoginError::InvalidCredentials);
    };
    if !verify_password(hash, password) {
        return Err(LoginError::InvalidCredentials);
    }
    if !user.is_active() {
        return Err(LoginError::Disabled);
    }
    Ok(start_session(store, keys, user, client, now).await?)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StartSessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Token(String),
}

impl From<StartSessionError> for LoginError {
    fn from(e: StartSessionError) -> Self {
        match e {
            StartSessionError::Store(e) => LoginError::Store(e),
            StartSessionError::Token(e) => LoginError::Internal(e),
        }
    }
}

/// Signs an existing, already-checked account in: a new session (one PutItem) and its first
/// token pair. Every way of signing in ends here.
pub(crate) async fn start_session(
    store: &Store,
    keys: &TokenKeys,
    user: User,
    client: &ClientInfo,
    now: DateTime<Utc>,
) -> Result<SignedIn, StartSessionError> {
    let session = Session::start(user.id, user.user_type, &client.ip, &client.user_agent, now);
    store.put_session(&session).await?;
    tracing::info!(user_id = %user.id, session_id = %session.id, "signed in");
    let tokens = issue(keys, &session, &user.roles, now).map_err(StartSessionError::Token)?;
    Ok(SignedIn { user, tokens })
}

fn parse_refresh(keys: &TokenKeys, token: &str) -> Result<RefreshToken, RefreshError> {
    keys.parse_refresh(token).map_err(|e| match e {
        TokenError::Expired | TokenError::Invalid => RefreshError::Invalid,
        TokenError::NoSecret => RefreshError::Internal(e.to_string()),
    })
}

/// Trades the current refresh token for a new pair. Presenting a token that was already
/// rotated away revokes the whole session: whoever holds the newer token must sign in again.
#[instrument(skip_all, err)]
pub async fn refresh(
    store: &Store,
    keys: &TokenKeys,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, RefreshError> {
    let token = parse_refresh(keys, token)?;
    match store.rotate_session(token, now).await? {
        RotateOutcome::Rotated(session) => {
            // The roles as they are now: a seller profile opened since shows in this token.
            let roles = match store.get_user(session.user_id).await? {
                Some(user) => user.roles,
                None => Role::initial(session.user_type),
            };
            issue(keys, &session, &roles, now).map_err(RefreshError::Internal)
        }
        RotateOutcome::Unknown => Err(RefreshError::Invalid),
        RotateOutcome::Revoked => Err(RefreshError::Revoked),
        RotateOutcome::Expired => Err(RefreshError::Expired),
        RotateOutcome::Reused => {
            tracing::warn!(session_id = %token.session_id, "refresh token reuse: session revoked");
            Err(RefreshError::Reused)
        }
    }
}

/// Ends the session the refresh token belongs to. Logging out twice is not an error.
#[instrument(skip_all, err)]
pub async fn logout(store: &Store, keys: &TokenKeys, token: &str) -> Result<(), RefreshError> {
    let token = parse_refresh(keys, token)?;
    if store.revoke_session(token.session_id, "logout").await? {
        Ok(())
    } else {
        Err(RefreshError::Invalid)
    }
}
