//! The request and answer shared by every presigned-upload route (avatar, service media,
//! order files, identity documents), and the view of a private file.

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::views::rfc3339;
use crate::app::files::{Download, FileError};
use crate::deps::Deps;
use crate::domain::file::{Attachment, FileStatus, Purpose, StoredFile};
use crate::files::{Files, UploadTicket};
use crate::http::{ApiError, FieldErrors, json_body};
use crate::i18n::Text;
use lambda_http::http::StatusCode;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct UploadRequest {
    #[schema(required = true, nullable = false)]
    content_type: Option<String>,
    content_length: Option<u64>,
}

/// `{content_type, content_length}`, both required; the type lower-cased.
pub(crate) fn upload_request(req: &Request) -> Result<(String, u64), ApiError> {
    let body: UploadRequest = json_body(req)?;
    let mut errors = FieldErrors::new();
    let content_type = errors
        .required("content_type", body.content_type.as_deref())
        .map(|s| s.trim().to_ascii_lowercase());
    match body.content_length {
        None => errors.add(
            "content_length",
            Text::new("此字段为必填项", "This field is required"),
        ),
        Some(n) => {
            if let Some(e) = length_out_of_range(n) {
                errors.add("content_length", e)
            }
        }
    }
    errors.finish()?;
    match (content_type, body.content_length) {
        (Some(t), Some(n)) => Ok((t, n)),
        _ => Err(ApiError::internal("required field vanished")),
    }
}

/// Why `n` is not a length: the document's integers are 64-bit signed, so anything larger
/// is refused as the schema says.
pub(crate) fn length_out_of_range(n: u64) -> Option<Text> {
    i64::try_from(n)
        .is_err()
        .then(|| Text::new("数值超出范围", "Out of range"))
}

/// The media bucket of this function.
pub(crate) fn media_files(deps: &Deps) -> Result<Files, ApiError> {
    deps.media_files().map_err(ApiError::internal)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UploadView {
    upload_url: String,
    method: &'static str,
    headers: serde_json::Map<String, serde_json::Value>,
    fields: Option<serde_json::Value>,
    key: String,
    expires_at: String,
    max_bytes: u64,
    /// The private file this upload becomes (order files and documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<FileView>,
}

/// The 201 of a presigned upload: where and how to put the bytes, within 10 minutes.
pub(crate) fn upload_created(ticket: UploadTicket, max_bytes: u64) -> crate::http::Reply {
    crate::http::Reply::created(
        Text::new(
            "请在 10 分钟内上传文件",
            "Upload the file within 10 minutes",
        ),
        UploadView::of(ticket, max_bytes),
    )
}

impl UploadView {
    /// The upload of a private file.
    pub(crate) fn of_file(ticket: UploadTicket, file: &StoredFile) -> UploadView {
        UploadView {
            file: Some(FileView::of(file, None)),
            ..UploadView::of(ticket, file.purpose.limits().max_bytes)
        }
    }

    pub(crate) fn of(ticket: UploadTicket, max_bytes: u64) -> UploadView {
        UploadView {
            upload_url: ticket.url,
            method: "PUT",
            headers: ticket
                .headers
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
            fields: None,
            key: ticket.key,
            expires_at: rfc3339(&ticket.expires_at),
            max_bytes,
            file: None,
        }
    }
}

/// A private file: what it is, whether it was checked, and (for those who may read it) a
/// short-lived download link.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct FileView {
    id: String,
    purpose: Option<Purpose>,
    /// The name it downloads as.
    name: String,
    content_type: String,
    /// Bytes, once checked.
    size: Option<u64>,
    /// SHA-256 of the bytes (lower-case hex), once checked.
    checksum_sha256: Option<String>,
    status: FileStatus,
    /// Why it was rejected.
    reason: Option<String>,
    /// A link that downloads it (15 minutes; ask again for a new one).
    download_url: Option<String>,
    download_expires_at: Option<String>,
    /// A picture's small JPEG preview (longest side 320 px), same lifetime.
    preview_url: Option<String>,
}

impl FileView {
    pub(crate) fn of(f: &StoredFile, link: Option<Download>) -> FileView {
        FileView {
            id: f.id.to_string(),
            purpose: Some(f.purpose),
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            checksum_sha256: f.sha256.clone(),
            status: f.status,
            reason: f.reason.clone(),
            download_url: link.as_ref().map(|l| l.url.clone()),
            preview_url: link.as_ref().and_then(|l| l.preview_url.clone()),
            download_expires_at: link.map(|l| rfc3339(&l.expires_at)),
        }
    }

    /// A checked file as attached to a delivery or a dispute.
    pub(crate) fn attached(a: &Attachment, link: Option<Download>) -> FileView {
        FileView {
            id: a.file_id.to_string(),
            purpose: None,
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: Some(a.size),
            checksum_sha256: Some(a.sha256.clone()),
            status: FileStatus::Ready,
            reason: None,
            download_url: link.as_ref().map(|l| l.url.clone()),
            preview_url: link.as_ref().and_then(|l| l.preview_url.clone()),
            download_expires_at: link.map(|l| rfc3339(&l.expires_at)),
        }
    }
}

/// Download links for `attachments` kept under `key_of(file)`, in order; without a bucket
/// (a function that does not hand out links) none.
pub(crate) async fn attached_views(
    files: Option<&Files>,
    attachments: &[Attachment],
    key_of: impl Fn(&Attachment) -> String,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<FileView>, ApiError> {
    let mut out = Vec::with_capacity(attachments.len());
    for a in attachments {
        let link = match files {
            Some(f) => Some(
                crate::app::files::download_with_preview(f, &key_of(a), &a.name, a.preview, now)
                    .await
                    .map_err(ApiError::internal)?,
            ),
            None => None,
        };
        out.push(FileView::attached(a, link));
    }
    Ok(out)
}

fn field_error(field: &str, text: Text) -> ApiError {
    let mut f = FieldErrors::new();
    f.add(field, text);
    ApiError::validation(f)
}

impl From<FileError> for ApiError {
    fn from(e: FileError) -> ApiError {
        match e {
            FileError::NotFound => ApiError::not_found(
                "file.not_found",
                Text::new("文件或订单不存在", "No such file or order"),
            ),
            FileError::WrongParty => ApiError::not_found(
                "file.wrong_party",
                Text::new(
                    "您不能为该订单上传此用途的文件",
                    "You cannot upload files of this purpose to this order",
                ),
            ),
            FileError::State => ApiError::conflict(
                "file.invalid_state",
                Text::new(
                    "订单当前阶段不能上传此用途的文件",
                    "Files of this purpose cannot be uploaded at this stage of the order",
                ),
            ),
            FileError::ContentType => field_error(
                "content_type",
                Text::new(
                    "不支持该文件类型（支持的类型见文档）",
                    "This file type is not accepted for this purpose (see the documented types)",
                ),
            ),
            FileError::TooLarge(_, max) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload.too_large",
                Text::owned(
                    format!("文件不能超过 {} MB", max / (1024 * 1024)),
                    format!("The file must be at most {} MB", max / (1024 * 1024)),
                ),
            ),
            FileError::Empty => field_error(
                "content_length",
                Text::new("文件不能为空", "The file is empty"),
            ),
            FileError::Name => field_error(
                "file_name",
                Text::new("文件名无效", "The file name has nothing usable in it"),
            ),
            FileError::RateLimited(s) => ApiError::rate_limited(s),
            FileError::NotYours(key) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file.unknown",
                Text::owned(
                    format!("{key} 不是您为此上传的文件"),
                    format!("{key} is not a file you uploaded for this"),
                ),
            ),
            FileError::NotReady(key) => ApiError::conflict(
                "file.not_ready",
                Text::owned(
                    format!("{key} 尚未上传完成或仍在检查中，请稍后再试"),
                    format!(
                        "{key} has not been uploaded or is still being checked; try again shortly"
                    ),
                ),
            ),
            FileError::Rejected(key) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file.rejected",
                Text::owned(
                    format!("{key} 未通过检查，请重新上传"),
                    format!("{key} did not pass the checks; upload it again"),
                ),
            ),
            FileError::Files(e) => ApiError::internal(e),
            FileError::Store(e) => ApiError::internal(e),
        }
    }
}
