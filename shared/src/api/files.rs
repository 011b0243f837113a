//! Private files over HTTP: upload URLs for order files and identity documents, and one file
//! with its download link for whoever may read it.

use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::common::order_not_found;
use super::session::signed_in;
use super::uploads::{FileView, UploadView, length_out_of_range, media_files};
use crate::app::files::{self as app, FileError, UploadCommand};
use crate::deps::Deps;
use crate::domain::file::{Purpose, Reader};
use crate::domain::{FileId, OrderId, UserType};
use crate::field::{Field, Others};
use crate::http::route as r;
use crate::http::{ApiError, FieldErrors, Reply, json_body, path_id};
use crate::i18n::Text;

/// An upload of a private file.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = FileUploadBody, example = json!({"purpose": "delivery", "file_name": "logo-final.png", "content_type": "image/png", "content_length": 48213}))]
pub(crate) struct FileUploadRequest {
    /// `delivery` (the freelancer, while the order is in progress), `requirements` (the
    /// client, before the first delivery) or `evidence` (either party, in progress, delivered
    /// or disputed). Documents are uploaded at `/users/profile/verification/documents`.
    #[serde(default)]
    #[schema(required = true, value_type = String, example = "delivery")]
    purpose: Field<String>,
    /// The name the file downloads as (sanitised: no paths, no control characters).
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 255)]
    file_name: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    content_type: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = u64, minimum = 1)]
    content_length: Field<u64>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: Others,
}

/// An upload of an identity document (ID card side, business licence).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = DocumentUploadBody, example = json!({"file_name": "身份证正面.jpg", "content_type": "image/jpeg", "content_length": 812345}))]
pub(crate) struct DocumentUploadRequest {
    /// The name the file downloads as (sanitised: no paths, no control characters).
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 255)]
    file_name: Field<String>,
    /// `image/jpeg`, `image/png` or `application/pdf`.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    content_type: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = u64, minimum = 1)]
    content_length: Field<u64>,
    #[serde(flatten)]
    #[schema(ignore)]
    other: Others,
}

impl DocumentUploadRequest {
    fn command(self) -> Result<UploadCommand, ApiError> {
        FileUploadRequest {
            purpose: Field::Absent,
            file_name: self.file_name,
            content_type: self.content_type,
            content_length: self.content_length,
            other: self.other,
        }
        .command(Some(Purpose::Document))
    }
}

impl FileUploadRequest {
    /// The command, with every broken field reported at once; `fixed` is the purpose of a
    /// route that takes only one.
    fn command(self, fixed: Option<Purpose>) -> Result<UploadCommand, ApiError> {
        let mut errors = FieldErrors::new();
        for name in self.other.names() {
            errors.add(name, Text::new("未知字段", "Unknown field"));
        }
        let required = Text::new("此字段为必填项", "This field is required");
        let purpose = match (fixed, self.purpose) {
            (Some(p), _) => Some(p),
            (None, Field::Given(s)) => match Purpose::parse(&s) {
                Some(p) if p != Purpose::Document => Some(p),
                _ => {
                    errors.add(
                        "purpose",
                        Text::new(
                            "用途须为 delivery、requirements 或 evidence",
                            "purpose must be delivery, requirements or evidence",
                        ),
                    );
                    None
                }
            },
            (None, Field::Absent | Field::Null) => {
                errors.add("purpose", required.clone());
                None
            }
            (None, Field::Wrong(_)) => {
                errors.add("purpose", Text::new("须为字符串", "Must be a string"));
                None
            }
        };
        let file_name = match self.file_name {
            Field::Given(s) if s.chars().count() <= 255 && !s.trim().is_empty() => Some(s),
            Field::Given(_) => {
                errors.add(
                    "file_name",
                    Text::new("文件名须为 1–255 个字符", "1 to 255 characters"),
                );
                None
            }
            Field::Wrong(_) => {
                errors.add("file_name", Text::new("须为字符串", "Must be a string"));
                None
            }
            Field::Absent | Field::Null => {
                errors.add("file_name", required.clone());
                None
            }
        };
        let content_type = match self.content_type {
            Field::Given(s) if !s.trim().is_empty() => Some(s.trim().to_ascii_lowercase()),
            Field::Given(_) | Field::Absent | Field::Null => {
                errors.add("content_type", required.clone());
                None
            }
            Field::Wrong(_) => {
                errors.add("content_type", Text::new("须为字符串", "Must be a string"));
                None
            }
        };
        let content_length = match self.content_length {
            Field::Given(n) => match length_out_of_range(n) {
                None => Some(n),
                Some(e) => {
                    errors.add("content_length", e);
                    None
                }
            },
            Field::Absent | Field::Null => {
                errors.add("content_length", required);
                None
            }
            Field::Wrong(_) => {
                errors.add(
                    "content_length",
                    Text::new("须为非负整数", "Must be a whole number of bytes"),
                );
                None
            }
        };
        errors.finish()?;
        match (purpose, file_name, content_type, content_length) {
            (Some(purpose), Some(file_name), Some(content_type), Some(content_length)) => {
                Ok(UploadCommand {
                    purpose,
                    file_name,
                    content_type,
                    content_length,
                })
            }
            _ => Err(ApiError::internal("required field vanished")),
        }
    }
}

fn upload_message() -> Text {
    Text::new(
        "请在 10 分钟内上传文件；检查通过后即可使用",
        "Upload the file within 10 minutes; it can be used once it has been checked",
    )
}

/// `POST /orders/{order_id}/files` [order-file-upload]: an upload URL for a delivery,
/// requirements or evidence file of an order the caller is a party of.
pub async fn order_upload(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: OrderId = path_id(&req, "order_id", order_not_found)?;
    let body: FileUploadRequest = json_body(&req)?;
    let cmd = body.command(None)?;
    let (_, user) = signed_in(deps, &req).await?;
    let files = media_files(deps)?;
    let (file, ticket) = app::start_order_upload(&deps.store, &files, &user, id, cmd, Utc::now())
        .await
        .map_err(|e| match e {
            FileError::NotFound => order_not_found(),
            e => e.into(),
        })?;
    Ok(Reply::created(
        upload_message(),
        UploadView::of_file(ticket, &file),
    ))
}

/// `POST /users/profile/verification/documents` [verification-document-upload]: an upload
/// URL for one identity document (ID card side, business licence) of the caller.
pub async fn document_upload(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: DocumentUploadRequest = json_body(&req)?;
    let cmd = body.command()?;
    let (_, user) = signed_in(deps, &req).await?;
    let files = media_files(deps)?;
    let (file, ticket) =
        app::start_document_upload(&deps.store, &files, &user, cmd, Utc::now()).await?;
    Ok(Reply::created(
        upload_message(),
        UploadView::of_file(ticket, &file),
    ))
}

fn file_not_found() -> ApiError {
    FileError::NotFound.into()
}

/// `GET /files/{file_id}` [file-get]: one file and a fresh download link, for its uploader,
/// the order's parties once it is attached, and operators handling its dispute or
/// verification; anyone else, signed out included, is told it does not exist.
pub async fn get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: FileId = path_id(&req, "file_id", file_not_found)?;
    // Signed out is "anyone else" too: the same 404, so a file's existence never shows.
    if crate::http::header(&req, "authorization").is_none() {
        return Err(file_not_found());
    }
    let (_, user) = signed_in(deps, &req).await?;
    let reader = Reader {
        user_id: user.id,
        is_admin: user.user_type == UserType::Admin,
    };
    let (file, link) = app::read(&deps.store, &media_files(deps)?, reader, id, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        FileView::of(&file, link),
    ))
}

pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "POST",
            "/orders/{order_id}/files",
            "order-file-upload",
            User,
            "orders",
            "上传订单文件 / Upload an order file",
        )
        .body(r::one::<FileUploadRequest>)
        .created(r::one::<UploadView>)
        .errors(&[409, 413]),
        r::route(
            "POST",
            "/users/profile/verification/documents",
            "verification-document-upload",
            User,
            "users",
            "上传认证证件 / Upload an identity document",
        )
        .body(r::one::<DocumentUploadRequest>)
        .created(r::one::<UploadView>)
        .errors(&[413]),
        r::route(
            "GET",
            "/files/{file_id}",
            "file-get",
            OptionalUser,
            "orders",
            "文件与下载链接 / A file and its download link",
        )
        .ok(r::one::<FileView>),
    ]
}
