//! Avatars: the client uploads straight to S3 with a presigned PUT; S3 tells the media queue;
//! the `file-processor` worker checks the bytes, makes the thumbnail and sets `avatar`.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::files::screen_public;
use super::notifications::{Channels, Notice, deliver};
use crate::domain::{UploadId, User, UserId};
use crate::files::{Fetched, Files, FilesError, UploadTicket};
use crate::media::{AVATAR_CONTENT_TYPES, MAX_AVATAR_BYTES, MediaError, avatar_thumbnail};
use crate::screening::{ImageScreener, Verdict};
use crate::store::{RateLimit, Store, StoreError};

const UPLOAD_PREFIX: &str = "uploads/avatars/";

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error("unsupported content type")]
    ContentType,
    #[error("too large: {0} bytes")]
    TooLarge(u64),
    #[error("empty upload")]
    Empty,
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `uploads/avatars/{user}/{upload}`: the worker reads the owner from the key, and only the
/// owner was ever given a URL for it.
fn upload_key(user: UserId, upload: UploadId) -> String {
    format!("{UPLOAD_PREFIX}{user}/{upload}")
}

/// `avatars/{user}/{upload}.jpg`: sorts by upload, so a late, older upload never wins.
pub fn avatar_key(user: UserId, upload: UploadId) -> String {
    format!("avatars/{user}/{upload}.jpg")
}

/// A presigned PUT for one avatar image of `content_length` bytes.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn start_upload(
    store: &Store,
    files: &Files,
    user: &User,
    content_type: &str,
    content_length: u64,
    now: DateTime<Utc>,
) -> Result<UploadTicket, AvatarError> {
    if !AVATAR_CONTENT_TYPES.contains(&content_type) {
        return Err(AvatarError::ContentType);
    }
    if content_length == 0 {
        return Err(AvatarError::Empty);
    }
    if content_length > MAX_AVATAR_BYTES {
        return Err(AvatarError::TooLarge(content_length));
    }
    if let Err(r) = store
        .hit_rate_limit(RateLimit::AVATAR_PER_USER, &user.id.to_string(), now)
        .await?
    {
        return Err(AvatarError::RateLimited(r.retry_after_secs));
    }
    Ok(files
        .upload_ticket(
            upload_key(user.id, UploadId::new()),
            content_type,
            content_length,
            now,
        )
        .await?)
}

/// What the worker did with one uploaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// The avatar is now `key`.
    Avatar { key: String },
    /// A newer avatar was already set; this one was stored but not used.
    Superseded,
    /// Not an image (or too large): the upload was deleted and the owner told.
    Rejected { reason: String },
    /// Not an avatar upload, or already handled (redelivery).
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error(transparent)]
    Screening(#[from] super::files::ScreenFailure),
}

fn parse_upload_key(key: &str) -> Option<(UserId, UploadId)> {
    let rest = key.strip_prefix(UPLOAD_PREFIX)?;
    let (user, upload) = rest.split_once('/')?;
    Some((user.parse().ok()?, upload.parse().ok()?))
}

/// Handles one object created under `uploads/avatars/`. Idempotent: a redelivered event finds
/// the upload gone and does nothing.
#[instrument(skip_all, fields(key = %key), err)]
pub async fn process_upload(
    ch: Channels<'_>,
    (files, screener): (&Files, &ImageScreener),
    key: &str,
    now: DateTime<Utc>,
) -> Result<Processed, ProcessError> {
    let Some((user, upload)) = parse_upload_key(key) else {
        tracing::warn!("not an avatar upload key");
        return Ok(Processed::Ignored);
    };
    let outcome = match files.get(key, MAX_AVATAR_BYTES).await? {
        Fetched::Missing => return Ok(Processed::Ignored),
        Fetched::TooLarge(n) => Err(format!("too large: {n} bytes")),
        Fetched::Bytes(bytes) => match avatar_thumbnail(&bytes) {
            Ok(jpeg) => Ok(jpeg),
            Err(MediaError::Encode(e)) => return Err(ProcessError::Encode(e)),
            Err(e) => Err(e.to_string()),
        },
    };
    // A picture becomes public only once screening passes it.
    let outcome = match outcome {
        Ok(jpeg) => match screen_public(screener, files, &jpeg, &upload.to_string()).await? {
            Verdict::Pass => Ok(jpeg),
            Verdict::Reject { labels } => Err(format!("screening: {}", labels.join(", "))),
        },
        Err(reason) => Err(reason),
    };
    let result = match outcome {
        Ok(jpeg) => {
            let avatar = avatar_key(user, upload);
            files.put(&avatar, jpeg, "image/jpeg").await?;
            if let Some(replaced) = ch.store.set_avatar(user, &avatar, now).await? {
                tracing::info!(user_id = %user, "avatar set");
                // The old picture is never shown again: it goes.
                if let Some(old) = replaced.filter(|old| *old != avatar) {
                    files.delete(&old).await?;
                }
                Processed::Avatar { key: avatar }
            } else {
                files.delete(&avatar).await?;
                Processed::Superseded
            }
        }
        Err(reason) => {
            tracing::info!(user_id = %user, %reason, "upload rejected");
            // Told like every other notice: written once (the id comes from the upload) and
            // pushed to the open settings page.
            let id = crate::domain::NotificationId::for_event(key, upload.timestamp_ms());
            deliver(ch, id, user, &Notice::AvatarRejected, now, None).await?;
            Processed::Rejected { reason }
        }
    };
    // The original may hold metadata (EXIF location) and is never served: always remove it.
    files.delete(key).await?;
    Ok(result)
}
