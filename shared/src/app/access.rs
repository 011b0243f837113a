//! Who may do what: every authenticated request re-reads the account, so a ban, a
//! deactivation or a password reset takes effect at once, even against access tokens that are
//! still within their 15 minutes.

use crate::auth::Caller;
use crate::domain::{User, UserType};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The token is valid but the account no longer exists.
    #[error("account not available")]
    Gone,
    /// Banned or deactivated.
    #[error("account disabled")]
    Disabled,
    /// The token predates a password reset or ban.
    #[error("token revoked")]
    Revoked,
    #[error("admin required")]
    NotAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The caller's account if it may act (one GetItem).
pub async fn signed_in(store: &Store, caller: &Caller) -> Result<User, AccessError> {
    let user = store
        .get_user(caller.user_id)
        .await?
        .ok_or(AccessError::Gone)?;
    if !user.is_active() {
        return Err(AccessError::Disabled);
    }
    if let Some(after) = user.tokens_valid_after
        && caller.issued_at_ms < after.timestamp_millis()
    {
        return Err(AccessError::Revoked);
    }
    Ok(user)
}

/// As [`signed_in`], and the account must be an operator's.
pub async fn admin(store: &Store, caller: &Caller) -> Result<User, AccessError> {
    // The token's claim lets non-admins be refused without a read.
    if caller.user_type != UserType::Admin {
        return Err(AccessError::NotAdmin);
    }
    let user = signed_in(store, caller).await?;
    if user.user_type != UserType::Admin {
        return Err(AccessError::NotAdmin);
    }
    Ok(user)
}
