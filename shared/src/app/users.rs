//! Profiles: the caller's own, and everybody else's public one.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::domain::profile::{PatchError, ProfilePatch, apply_patch};
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
/// conditional Put on the version that was read). Workers bump the version when they change
/// the computed fields (ratings, level, avatar), so a lost race is retried on a fresh read
/// ([`super::Tries`]).
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn update_profile(
    store: &Store,
    user: User,
    patch: ProfilePatch,
    now: DateTime<Utc>,
) -> Result<User, ProfileUpdateError> {
    let id = user.id;
    let mut read = Some(user);
    let mut tries = super::Tries::new();
    while tries.next().await {
        let Some(user) = read.take() else {
            break;
        };
        let mut next = user.clone();
        apply_patch(&mut next, patch.clone())?;
        next.version += 1;
        next.updated_at = now;
        if store.replace_user(&next, user.version).await? {
            return Ok(next);
        }
        read = store.get_user_latest(id).await?;
    }
    Err(ProfileUpdateError::Conflict)
}

/// Another user's public profile: active accounts only (one GetItem).
pub async fn public_profile(store: &Store, id: UserId) -> Result<Option<User>, StoreError> {
    Ok(store.get_user(id).await?.filter(User::is_active))
}
