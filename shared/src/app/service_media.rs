//! Gallery images and the video of a service: the owner uploads straight to S3 with a
//! presigned PUT under `uploads/services/{service}/{upload}`; the bucket notification brings
//! the key to `file-processor`, which checks the bytes, re-encodes images (dropping
//! metadata), copies videos, and attaches the result to the service.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::files::screen_public;
use crate::domain::service::{MAX_IMAGES, ServiceStatus};
use crate::domain::{ServiceId, UploadId, UserId};
use crate::files::{Fetched, Files, FilesError, UploadTicket};
use crate::media::{
    AVATAR_CONTENT_TYPES, MAX_SERVICE_IMAGE_BYTES, MAX_SERVICE_VIDEO_BYTES, MediaError,
    VIDEO_CONTENT_TYPES, looks_like_mp4, service_image,
};
use crate::screening::{ImageScreener, Verdict};
use crate::store::{MediaSlot, RateLimit, Store, StoreError};

pub const UPLOAD_PREFIX: &str = "uploads/services/";

#[derive(Debug, thiserror::Error)]
pub enum MediaUploadError {
    #[error("no such service")]
    NotFound,
    #[error("unsupported content type")]
    ContentType,
    #[error("too large: {0} bytes (max {1})")]
    TooLarge(u64, u64),
    #[error("empty upload")]
    Empty,
    #[error("the gallery is full")]
    GalleryFull,
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The kind of media a content type stands for.
pub fn slot_for(content_type: &str) -> Option<MediaSlot> {
    if AVATAR_CONTENT_TYPES.contains(&content_type) {
        Some(MediaSlot::Image)
    } else if VIDEO_CONTENT_TYPES.contains(&content_type) {
        Some(MediaSlot::Video)
    } else {
        None
    }
}

pub fn max_bytes(slot: MediaSlot) -> u64 {
    match slot {
        MediaSlot::Image => MAX_SERVICE_IMAGE_BYTES,
        MediaSlot::Video => MAX_SERVICE_VIDEO_BYTES,
    }
}

/// A presigned PUT for one image or video of a service the caller owns.
#[instrument(skip_all, fields(service_id = %service_id), err)]
pub async fn start_upload(
    store: &Store,
    files: &Files,
    owner: UserId,
    service_id: ServiceId,
    content_type: &str,
    content_length: u64,
    now: DateTime<Utc>,
) -> Result<UploadTicket, MediaUploadError> {
    let service = store
        .get_service(service_id, true)
        .await?
        .filter(|s| s.freelancer_id == owner && s.status != ServiceStatus::Deleted)
        .ok_or(MediaUploadError::NotFound)?;
    let slot = slot_for(content_type).ok_or(MediaUploadError::ContentType)?;
    if content_length == 0 {
        return Err(MediaUploadError::Empty);
    }
    if content_length > max_bytes(slot) {
        return Err(MediaUploadError::TooLarge(content_length, max_bytes(slot)));
    }
    if slot == MediaSlot::Image && service.content.images.len() >= MAX_IMAGES {
        return Err(MediaUploadError::GalleryFull);
    }
    if let Err(r) = store
        .hit_rate_limit(RateLimit::SERVICE_MEDIA_PER_USER, &owner.to_string(), now)
        .await?
    {
        return Err(MediaUploadError::RateLimited(r.retry_after_secs));
    }
    Ok(files
        .upload_ticket(
            format!("{UPLOAD_PREFIX}{service_id}/{}", UploadId::new()),
            content_type,
            content_length,
            now,
        )
        .await?)
}

/// What the worker did with one uploaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaProcessed {
    Attached {
        key: String,
    },
    /// Not an image or video we accept, or the service cannot take it: deleted.
    Dropped {
        reason: String,
    },
    /// Already handled (redelivery).
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaProcessError {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("encoding failed: {0}")]
    Encode(String),
    #[error(transparent)]
    Screening(#[from] super::files::ScreenFailure),
}

fn parse_key(key: &str) -> Option<(ServiceId, UploadId)> {
    let (service, upload) = key.strip_prefix(UPLOAD_PREFIX)?.split_once('/')?;
    Some((service.parse().ok()?, upload.parse().ok()?))
}

/// Handles one object created under `uploads/services/`. Idempotent: a redelivered event
/// finds the upload gone, and attaching the same key twice is refused by a condition.
#[instrument(skip_all, fields(key = %key), err)]
pub async fn process_upload(
    store: &Store,
    (files, screener): (&Files, &ImageScreener),
    key: &str,
) -> Result<MediaProcessed, MediaProcessError> {
    let Some((service, upload)) = parse_key(key) else {
        return Ok(MediaProcessed::Ignored);
    };
    let Some(head) = files.head_bytes(key, 16).await? else {
        return Ok(MediaProcessed::Ignored);
    };
    let (stored, slot) = if looks_like_mp4(&head) {
        let to = format!("services/{service}/{upload}.mp4");
        files.copy(key, &to, "video/mp4").await?;
        (Ok(to), MediaSlot::Video)
    } else {
        let result = match files.get(key, MAX_SERVICE_IMAGE_BYTES).await? {
            Fetched::Missing => return Ok(MediaProcessed::Ignored),
            Fetched::TooLarge(n) => Err(format!("too large: {n} bytes")),
            Fetched::Bytes(bytes) => match service_image(&bytes) {
                // A gallery image becomes public only once screening passes it.
                Ok(jpeg) => match screen_public(screener, files, &jpeg, &upload.to_string()).await?
                {
                    Verdict::Pass => {
                        let to = format!("services/{service}/{upload}.jpg");
                        files.put(&to, jpeg, "image/jpeg").await?;
                        Ok(to)
                    }
                    Verdict::Reject { labels } => Err(format!("screening: {}", labels.join(", "))),
                },
                Err(MediaError::Encode(e)) => return Err(MediaProcessError::Encode(e)),
                Err(e) => Err(e.to_string()),
            },
        };
        (result, MediaSlot::Image)
    };
    let outcome = match stored {
        Ok(to) => {
            if store
                .attach_service_media(service, slot, &to, MAX_IMAGES)
                .await?
            {
                MediaProcessed::Attached { key: to }
            } else if store.get_service(service, true).await?.is_some_and(|s| {
                s.content.images.contains(&to) || s.content.video.as_deref() == Some(&to)
            }) {
                // A redelivery after the attach: already done.
                MediaProcessed::Attached { key: to }
            } else {
                files.delete(&to).await?;
                MediaProcessed::Dropped {
                    reason: "the service cannot take it".into(),
                }
            }
        }
        Err(reason) => MediaProcessed::Dropped { reason },
    };
    files.delete(key).await?;
    Ok(outcome)
}
