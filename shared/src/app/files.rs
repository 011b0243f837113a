//! Private files: deliveries, requirements, dispute evidence and identity documents.
//!
//! The uploader asks for an upload URL (the file is recorded `pending`), PUTs the bytes to
//! `uploads/…`, and the bucket tells `file-processor`, which reads the file through once: the
//! declared type against the bytes' signature, the size against the purpose's limit, the
//! SHA-256. A checked file is copied to `files/…` (never public) and marked `ready`; anything
//! else is deleted, marked `rejected` and its uploader told. Only a ready file can be attached,
//! and the attachment records its name, type, size and checksum. Downloads are short-lived
//! presigned URLs, issued only to those [`crate::domain::file::may_read`] allows.

use chrono::{DateTime, Utc};
use tracing::instrument;

use super::notifications::{Channels, Notice, deliver};
use crate::domain::file::{
    self, FileStatus, HEAD_BYTES, Purpose, Reader, StoredFile, UploadRefusal,
};
use crate::domain::user::VerificationStatus;
use crate::domain::{FileId, NotificationId, OrderId, User, UserId};
use crate::files::{Files, FilesError, Scanned, UploadTicket};
use crate::screening::{ImageScreener, Verdict};
use crate::store::{Checked, RateLimit, Store, StoreError};

/// Where order files are uploaded: `uploads/orders/{order}/{file}`.
pub const ORDER_UPLOADS: &str = "uploads/orders/";
/// Where identity documents are uploaded: `uploads/documents/{user}/{file}`.
pub const DOCUMENT_UPLOADS: &str = "uploads/documents/";

/// Private file uploads per user per hour.
const FILES_PER_HOUR: RateLimit = RateLimit {
    name: "files",
    limit: 100,
    window_secs: 3_600,
};

/// The key a file is uploaded to.
pub fn upload_key(f: &StoredFile) -> String {
    match f.order_id {
        Some(order) => format!("{ORDER_UPLOADS}{order}/{}", f.id),
        None => format!("{DOCUMENT_UPLOADS}{}/{}", f.owner_id, f.id),
    }
}

/// The key a checked order file is kept under.
pub fn order_file_key(order: OrderId, id: FileId) -> String {
    format!("files/orders/{order}/{id}")
}

/// The key a checked document is kept under.
pub fn document_key(owner: UserId, id: FileId) -> String {
    format!("files/documents/{owner}/{id}")
}

/// The key of a checked picture's preview, beside the file.
pub fn preview_key(stored: &str) -> String {
    format!("{stored}.preview.jpg")
}

/// The key a checked file is kept under.
pub fn stored_key(f: &StoredFile) -> String {
    match f.order_id {
        Some(order) => order_file_key(order, f.id),
        None => document_key(f.owner_id, f.id),
    }
}

/// What the uploader says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadCommand {
    pub purpose: Purpose,
    /// As the uploader's device named it (sanitised here).
    pub file_name: String,
    pub content_type: String,
    pub content_length: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("no such order or file")]
    NotFound,
    #[error("this party does not upload files of this purpose")]
    WrongParty,
    #[error("not at this stage of the order")]
    State,
    #[error("unsupported content type")]
    ContentType,
    #[error("too large: {0} bytes (max {1})")]
    TooLarge(u64, u64),
    #[error("empty upload")]
    Empty,
    #[error("the file name has nothing usable in it")]
    Name,
    #[error("rate limited for {0}s")]
    RateLimited(u64),
    /// A key that is not one of the caller's uploads of this purpose here.
    #[error("not one of your uploads: {0}")]
    NotYours(String),
    /// Uploaded but not checked yet (or never uploaded).
    #[error("not checked yet: {0}")]
    NotReady(String),
    #[error("rejected: {0}")]
    Rejected(String),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn check_upload(cmd: &UploadCommand) -> Result<String, FileError> {
    let limits = cmd.purpose.limits();
    if !limits.types.contains(&cmd.content_type.as_str()) {
        return Err(FileError::ContentType);
    }
    if cmd.content_length == 0 {
        return Err(FileError::Empty);
    }
    if cmd.content_length > limits.max_bytes {
        return Err(FileError::TooLarge(cmd.content_length, limits.max_bytes));
    }
    file::sanitise_name(&cmd.file_name).ok_or(FileError::Name)
}

async fn issue(
    store: &Store,
    files: &Files,
    owner: UserId,
    order_id: Option<OrderId>,
    cmd: UploadCommand,
    name: String,
    now: DateTime<Utc>,
) -> Result<(StoredFile, UploadTicket), FileError> {
    if let Err(r) = store
        .hit_rate_limit(FILES_PER_HOUR, &owner.to_string(), now)
        .await?
    {
        return Err(FileError::RateLimited(r.retry_after_secs));
    }
    let stored = StoredFile {
        id: FileId::new(),
        owner_id: owner,
        purpose: cmd.purpose,
        order_id,
        name,
        content_type: cmd.content_type,
        declared_bytes: cmd.content_length,
        status: FileStatus::Pending,
        size: None,
        sha256: None,
        reason: None,
        attached_at: None,
        has_preview: false,
        created_at: now,
        checked_at: None,
    };
    let ticket = files
        .upload_ticket(
            upload_key(&stored),
            &stored.content_type,
            stored.declared_bytes,
            now,
        )
        .await?;
    store.create_file(&stored).await?;
    Ok((stored, ticket))
}

/// `order-file-upload`: an upload URL for one file of an order the caller is a party of.
#[instrument(skip_all, fields(order_id = %order_id), err)]
pub async fn start_order_upload(
    store: &Store,
    files: &Files,
    user: &User,
    order_id: OrderId,
    cmd: UploadCommand,
    now: DateTime<Utc>,
) -> Result<(StoredFile, UploadTicket), FileError> {
    let order = store
        .get_order(order_id, true)
        .await?
        .ok_or(FileError::NotFound)?;
    file::may_upload(&order, user.id, cmd.purpose).map_err(|r| match r {
        UploadRefusal::NotFound => FileError::NotFound,
        UploadRefusal::WrongParty => FileError::WrongParty,
        UploadRefusal::State => FileError::State,
    })?;
    let name = check_upload(&cmd)?;
    issue(store, files, user.id, Some(order_id), cmd, name, now).await
}

/// `verification-document-upload`: an upload URL for one identity document of the caller.
#[instrument(skip_all, fields(user_id = %user.id), err)]
pub async fn start_document_upload(
    store: &Store,
    files: &Files,
    user: &User,
    cmd: UploadCommand,
    now: DateTime<Utc>,
) -> Result<(StoredFile, UploadTicket), FileError> {
    if cmd.purpose != Purpose::Document {
        return Err(FileError::WrongParty);
    }
    let name = check_upload(&cmd)?;
    issue(store, files, user.id, None, cmd, name, now).await
}

/// The checked files behind `keys`, each one of `owner`'s uploads of `purpose` (to `order`).
/// A key is the one the upload URL was issued for.
pub async fn ready_files(
    store: &Store,
    owner: UserId,
    order: Option<OrderId>,
    purpose: Purpose,
    keys: &[String],
) -> Result<Vec<StoredFile>, FileError> {
    let ids: Vec<Option<FileId>> = keys
        .iter()
        .map(|key| key.rsplit('/').next().and_then(|s| s.parse().ok()))
        .collect();
    let mut wanted: Vec<FileId> = ids.iter().flatten().copied().collect();
    wanted.sort();
    wanted.dedup();
    // One read for all of them (a delivery carries up to ten).
    let found = store.get_files(&wanted).await?;
    let mut out: Vec<StoredFile> = Vec::with_capacity(keys.len());
    for (key, id) in keys.iter().zip(ids) {
        let Some(f) = found.iter().find(|f| {
            Some(f.id) == id
                && f.owner_id == owner
                && f.purpose == purpose
                && f.order_id == order
                && upload_key(f) == *key
        }) else {
            return Err(FileError::NotYours(key.clone()));
        };
        match f.status {
            FileStatus::Pending => return Err(FileError::NotReady(key.clone())),
            FileStatus::Rejected => return Err(FileError::Rejected(key.clone())),
            FileStatus::Ready => {}
        }
        if !out.iter().any(|o| o.id == f.id) {
            out.push(f.clone());
        }
    }
    Ok(out)
}

/// A download link, with one to the picture's preview where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub url: String,
    pub expires_at: DateTime<Utc>,
    pub preview_url: Option<String>,
}

/// A download link for a checked file kept under `key`.
pub async fn download(
    files: &Files,
    key: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Download, FilesError> {
    let (url, expires_at) = files.download_url(key, name, now).await?;
    Ok(Download {
        url,
        expires_at,
        preview_url: None,
    })
}

/// A download link and, for a picture with a preview, a link to the preview.
pub async fn download_with_preview(
    files: &Files,
    key: &str,
    name: &str,
    preview: bool,
    now: DateTime<Utc>,
) -> Result<Download, FilesError> {
    let mut link = download(files, key, name, now).await?;
    if preview {
        let (url, _) = files
            .download_url(&preview_key(key), "preview.jpg", now)
            .await?;
        link.preview_url = Some(url);
    }
    Ok(link)
}

/// `file-get`: one file with a download link, for whoever may read it; anyone else is told
/// it does not exist.
#[instrument(skip_all, fields(file_id = %id), err)]
pub async fn read(
    store: &Store,
    files: &Files,
    reader: Reader,
    id: FileId,
    now: DateTime<Utc>,
) -> Result<(StoredFile, Option<Download>), FileError> {
    let f = store.get_file(id).await?.ok_or(FileError::NotFound)?;
    let order = match f.order_id {
        Some(o) if f.owner_id != reader.user_id => store.get_order(o, false).await?,
        _ => None,
    };
    let pending_review = f.purpose == Purpose::Document
        && reader.is_admin
        && f.owner_id != reader.user_id
        && store.get_user(f.owner_id).await?.is_some_and(|u| {
            u.verification
                .is_some_and(|v| v.status == VerificationStatus::Pending)
        });
    if !file::may_read(&f, reader, order.as_ref(), pending_review) {
        return Err(FileError::NotFound);
    }
    let link = if f.status == FileStatus::Ready {
        Some(download_with_preview(files, &stored_key(&f), &f.name, f.has_preview, now).await?)
    } else {
        None
    };
    Ok((f, link))
}

/// What the worker did with one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProcessed {
    Ready,
    Rejected {
        reason: String,
    },
    /// Nobody was given a URL for this key: deleted.
    Stray,
    /// Already handled (a redelivered event).
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum FileProcessError {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn parse_upload_key(key: &str) -> Option<FileId> {
    let rest = key
        .strip_prefix(ORDER_UPLOADS)
        .or_else(|| key.strip_prefix(DOCUMENT_UPLOADS))?;
    let (_, id) = rest.split_once('/')?;
    id.parse().ok()
}

/// Checks one object created under `uploads/orders/` or `uploads/documents/`. Idempotent: the
/// status moves from `pending` once, and the upload is deleted last.
#[instrument(skip_all, fields(key = %key), err)]
pub async fn process_upload(
    ch: Channels<'_>,
    files: &Files,
    key: &str,
    now: DateTime<Utc>,
) -> Result<FileProcessed, FileProcessError> {
    let found = match parse_upload_key(key) {
        Some(id) => ch.store.get_file(id).await?,
        None => None,
    };
    let Some(f) = found.filter(|f| upload_key(f) == key) else {
        files.delete(key).await?;
        return Ok(FileProcessed::Stray);
    };
    if f.status != FileStatus::Pending {
        files.delete(key).await?;
        return Ok(FileProcessed::Ignored);
    }
    // A picture small enough for a preview is kept whole from this one read.
    let keep = if is_picture(&f.content_type) {
        crate::media::MAX_PREVIEW_SOURCE_BYTES
    } else {
        0
    };
    let verdict = match files
        .scan(key, (HEAD_BYTES, keep), f.purpose.limits().max_bytes)
        .await?
    {
        Scanned::Missing => return Ok(FileProcessed::Ignored),
        Scanned::TooLarge(n) => Err(format!("too large: {n} bytes")),
        Scanned::Read {
            head,
            size,
            sha256,
            whole,
            ..
        } => match file::judge(&f.content_type, &head) {
            Err(m) => Err(format!(
                "declared {} but the bytes are {}",
                f.content_type, m.found
            )),
            Ok(()) => match crate::media::too_many_pixels(&f.content_type, &head) {
                Some(reason) => Err(reason),
                None => Ok((size, sha256, whole)),
            },
        },
    };
    let outcome = match verdict {
        Ok((size, sha256, whole)) => {
            let stored = stored_key(&f);
            files
                .copy_private(key, &stored, &f.content_type, &f.name)
                .await?;
            let preview = match whole {
                Some(bytes) => make_preview(files, &f, &bytes, &stored).await?,
                None => false,
            };
            let checked = Checked::Ready {
                size,
                sha256,
                preview,
            };
            ch.store.mark_file_checked(f.id, &checked, now).await?;
            FileProcessed::Ready
        }
        Err(reason) => {
            tracing::info!(file_id = %f.id, %reason, "file rejected");
            let checked = Checked::Rejected {
                reason: reason.clone(),
            };
            if ch.store.mark_file_checked(f.id, &checked, now).await? {
                let id = NotificationId::for_event(key, f.id.timestamp_ms());
                let notice = Notice::FileRejected {
                    file_id: f.id.to_string(),
                    name: f.name.clone(),
                };
                deliver(ch, id, f.owner_id, &notice, now, None).await?;
            }
            FileProcessed::Rejected { reason }
        }
    };
    files.delete(key).await?;
    Ok(outcome)
}

/// How long the screening provider may take to fetch an image.
const SCREENING_URL_TTL_SECS: u64 = 300;

/// Screens a public image (already re-encoded, so without metadata) before it is stored where
/// it is public: with a provider that fetches by URL, a private copy under `screening/` and a
/// five-minute link to it are what leave the platform, and the copy is deleted after.
pub async fn screen_public(
    screener: &ImageScreener,
    files: &Files,
    jpeg: &[u8],
    id: &str,
) -> Result<Verdict, ScreenFailure> {
    if !screener.needs_url() {
        return Ok(screener.screen("", id).await?);
    }
    let key = format!("screening/{id}.jpg");
    files
        .put_private(&key, jpeg.to_vec(), "image/jpeg", "image.jpg")
        .await?;
    let url = files
        .presign_get(&key, std::time::Duration::from_secs(SCREENING_URL_TTL_SECS))
        .await?;
    let verdict = screener.screen(&url, id).await;
    files.delete(&key).await?;
    Ok(verdict?)
}

/// Screening could not decide (the provider or the bucket failed): try again later.
#[derive(Debug, thiserror::Error)]
pub enum ScreenFailure {
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Provider(#[from] crate::screening::ScreeningError),
}

/// Whether browsers show a file of this type as a picture (it gets a preview).
fn is_picture(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/webp" | "image/gif"
    )
}

/// Stores a small JPEG preview of a picture beside it; `false` when it does not decode (it is
/// still delivered as it is).
async fn make_preview(
    files: &Files,
    f: &StoredFile,
    bytes: &[u8],
    stored: &str,
) -> Result<bool, FilesError> {
    match crate::media::preview(bytes) {
        Ok(jpeg) => {
            files
                .put_private(&preview_key(stored), jpeg, "image/jpeg", "preview.jpg")
                .await?;
            Ok(true)
        }
        Err(e) => {
            tracing::info!(file_id = %f.id, error = %e, "no preview");
            Ok(false)
        }
    }
}

/// Deletes every file `owner` uploaded, kept or still in `uploads/` (erasure).
pub async fn erase(store: &Store, files: &Files, owner: UserId) -> Result<usize, FileProcessError> {
    let mine = store.user_files(owner).await?;
    for f in &mine {
        files.delete(&upload_key(f)).await?;
        files.delete(&stored_key(f)).await?;
        files.delete(&preview_key(&stored_key(f))).await?;
        store.delete_file(f.id).await?;
    }
    Ok(mine.len())
}
