//! The request and answer shared by every presigned-upload route (avatar, service media).

use lambda_http::Request;
use serde::{Deserialize, Serialize};

use super::views::rfc3339;
use crate::deps::Deps;
use crate::files::{Files, UploadTicket};
use crate::http::{ApiError, FieldErrors, json_body};
use crate::i18n::Text;

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
    if body.content_length.is_none() {
        errors.add(
            "content_length",
            Text::new("此字段为必填项", "This field is required"),
        );
    }
    errors.finish()?;
    match (content_type, body.content_length) {
        (Some(t), Some(n)) => Ok((t, n)),
        _ => Err(ApiError::internal("required field vanished")),
    }
}

/// The media bucket of this function.
pub(crate) fn media_files(deps: &Deps) -> Result<Files, ApiError> {
    let bucket = crate::config::Config::require(&deps.config.media_bucket, "MEDIA_BUCKET")
        .map_err(ApiError::internal)?;
    Ok(Files::new(deps.s3().clone(), bucket))
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
}

impl UploadView {
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
        }
    }
}
