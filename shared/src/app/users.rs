//! The caller's own account.

use crate::auth::Caller;
use crate::domain::User;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The token is valid but the account is gone (deleted) or banned.
    #[error("account not available")]
    Gone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The caller's own user with its profile (one GetItem).
pub async fn own_profile(store: &Store, caller: &Caller) -> Result<User, ProfileError> {
    match store.get_user(caller.user_id).await? {
        Some(user) if user.is_active() => Ok(user),
        _ => Err(ProfileError::Gone),
    }
}
