//! Profiles: the caller's own, and everybody else's public one.

use chrono::{DateTime, Utc};
use tracing::instrument;

use crate::domain::profile::{self, OpenSellerError, PatchError, ProfilePatch, apply_patch};
use crate::domain::{User, UserId};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProfileUpdateError {
    #[error(transparent)]
    Patch(#[from] PatchError),
    /// Changed by another request since it was read; the client may retry.
    #[error("conflict")]
    Conflict,
    #[error("the account sells already")]
    AlreadySeller,
    #[error("operators do not sell")]
    AdminCannotSell,
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
    replace_with(
        store,
        user,
        |next| Ok(apply_patch(next, patch.clone())?),
        now,
    )
    .await
}

/// `user-seller-enable`: a buyer opens a seller profile on the same account (the seller role
/// and the seed's freelancer fields), one conditional Put like a profile update.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn open_seller(
    store: &Store,
    user: User,
    patch: ProfilePatch,
    now: DateTime<Utc>,
) -> Result<User, ProfileUpdateError> {
    let user = replace_with(
        store,
        user,
        |next| {
            profile::open_seller(next, patch.clone()).map_err(|e| match e {
                OpenSellerError::Patch(p) => ProfileUpdateError::Patch(p),
                OpenSellerError::Admin => ProfileUpdateError::AdminCannotSell,
                OpenSellerError::AlreadySeller => ProfileUpdateError::AlreadySeller,
            })
        },
        now,
    )
    .await?;
    tracing::info!(user_id = %user.id, "seller profile opened");
    Ok(user)
}

/// Writes `change` of the account under optimistic concurrency, read again and redone when
/// another request changed it meanwhile.
async fn replace_with(
    store: &Store,
    user: User,
    change: impl Fn(&mut User) -> Result<(), ProfileUpdateError>,
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
        change(&mut next)?;
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

/// What [`migrate_roles`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RolesMigration {
    /// Accounts found without roles.
    pub found: usize,
    /// Of those, the ones this run wrote (the others were written meanwhile).
    pub migrated: usize,
}

/// `devtool migrate-roles`: gives every account written before roles existed the roles its
/// type starts with (a freelancer buys and sells, a client buys, an operator administers), in
/// place. Idempotent: a second run finds nothing.
#[instrument(skip_all, err)]
pub async fn migrate_roles(store: &Store) -> Result<RolesMigration, StoreError> {
    let legacy = store.users_without_roles().await?;
    let mut done = RolesMigration {
        found: legacy.len(),
        migrated: 0,
    };
    for (id, user_type) in legacy {
        if store
            .set_initial_roles(id, &crate::domain::Role::initial(user_type))
            .await?
        {
            done.migrated += 1;
        }
    }
    tracing::info!(
        found = done.found,
        migrated = done.migrated,
        "roles migrated"
    );
    Ok(done)
}
