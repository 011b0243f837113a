//! Profiles: the caller's own, and everybody else's public one.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::domain::profile::{PatchError, apply_patch};
use crate::domain::{User, UserId};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProfileUpdateError {
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// Changed by another request since it was read; the client may retry.
    #[error("conflict")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies a profile patch to the caller's account with optimistic concurrency (one
/// conditional Put on the version that was read).
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn update_profile(
    store: &Store,
    mut user: User,
    patch: serde_json::Map<String, serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<User, ProfileUpdateError> {
    let read_version = user.version;
    apply_patch(&mut user, patch)?;
    user.version += 1;
    user.updated_at = now;
    if !store.replace_user(&user, read_version).await? {
        return Err(ProfileUpdateError::Conflict);
    }
    Ok(user)
}

/// Another user's public profile: active accounts only (one GetItem).
pub async fn public_profile(store: &Store, id: UserId) -> Result<Option<User>, StoreError> {
    Ok(store.get_user(id).await?.filter(User::is_active))
}
