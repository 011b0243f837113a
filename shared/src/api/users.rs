use chrono::Utc;
use lambda_http::Request;
use serde::Deserialize;

use super::OwnUserView;
use super::session::signed_in;
use super::uploads::{UploadView, media_files, upload_request};
use super::views::{PublicUserView, VerificationSummaryView, user_not_found};
use crate::app::avatar::{self, AvatarError};
use crate::app::users::{self, ProfileUpdateError};
use crate::app::verification::{self, Submission, VerificationError};
use crate::deps::Deps;
use crate::domain::file::MAX_DOCUMENTS;
use crate::domain::profile::{PatchError, ProfilePatch};
use crate::domain::{IdNumber, RealName, UserId};
use crate::http::route as r;
use crate::http::{ApiError, FieldErrors, Reply, json_body, path_id};
use crate::i18n::Text;
use crate::media::MAX_AVATAR_BYTES;

/// `GET /users/profile` [user-profile-get]: the caller's own user and profile.
pub async fn profile_get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    Ok(Reply::ok(Text::new("成功", "OK"), OwnUserView::from(&user)))
}

impl From<ProfileUpdateError> for ApiError {
    fn from(e: ProfileUpdateError) -> ApiError {
        match e {
            ProfileUpdateError::Patch(PatchError::ReadOnly(fields)) => {
                let mut err = ApiError::bad_request(
                    "profile.read_only_field",
                    Text::new(
                        "包含不可修改的字段（评分、评价数、认证状态等由平台计算）",
                        "Some fields cannot be written (rating, review counts, verification and the like are computed by the platform)",
                    ),
                );
                for f in fields {
                    err =
                        err.with_field(&f, Text::new("此字段不可修改", "This field is read-only"));
                }
                err
            }
            ProfileUpdateError::Patch(PatchError::Unknown(fields)) => {
                let mut err = ApiError::bad_request(
                    "profile.unknown_field",
                    Text::new(
                        "包含该类型账号资料中不存在的字段",
                        "Some fields do not exist on this kind of profile",
                    ),
                );
                for f in fields {
                    err = err.with_field(&f, Text::new("未知字段", "Unknown field"));
                }
                err
            }
            ProfileUpdateError::Patch(PatchError::Invalid(fields)) => {
                let mut errors = FieldErrors::new();
                for (f, t) in fields {
                    errors.add(&f, t);
                }
                ApiError::validation(errors)
            }
            ProfileUpdateError::Patch(PatchError::Empty) => ApiError::bad_request(
                "profile.empty_patch",
                Text::new(
                    "请至少提供一个要修改的字段",
                    "Send at least one field to change",
                ),
            ),
            ProfileUpdateError::Conflict => ApiError::conflict(
                "profile.conflict",
                Text::new(
                    "资料已被其他请求修改，请刷新后重试",
                    "The profile changed meanwhile; reload and try again",
                ),
            ),
            ProfileUpdateError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `PATCH /users/profile` [user-profile-update]: the seed's profile fields; computed and
/// identity fields are refused with 400 `profile.read_only_field`.
pub async fn profile_update(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let patch: ProfilePatch = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let user = users::update_profile(&deps.store, user, patch, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("资料已更新", "Profile updated"),
        OwnUserView::from(&user),
    ))
}

/// `GET /users/{user_id}` [user-get]: the public profile.
pub async fn get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: UserId = path_id(&req, "user_id", user_not_found)?;
    let user = users::public_profile(&deps.store, id)
        .await?
        .ok_or_else(user_not_found)?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PublicUserView::from(&user),
    ))
}

impl From<AvatarError> for ApiError {
    fn from(e: AvatarError) -> ApiError {
        match e {
            AvatarError::ContentType => ApiError::validation({
                let mut f = FieldErrors::new();
                f.add(
                    "content_type",
                    Text::new(
                        "头像须为 JPEG、PNG、WebP 或 GIF 图片",
                        "The avatar must be a JPEG, PNG, WebP or GIF image",
                    ),
                );
                f
            }),
            AvatarError::TooLarge(_) => ApiError::new(
                lambda_http::http::StatusCode::PAYLOAD_TOO_LARGE,
                "upload.too_large",
                Text::new(
                    "头像图片不能超过 5 MB",
                    "The avatar image must be at most 5 MB",
                ),
            ),
            AvatarError::Empty => ApiError::validation({
                let mut f = FieldErrors::new();
                f.add(
                    "content_length",
                    Text::new("文件不能为空", "The file is empty"),
                );
                f
            }),
            AvatarError::RateLimited(s) => ApiError::rate_limited(s),
            AvatarError::Files(e) => ApiError::internal(e),
            AvatarError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `POST /users/profile/avatar` [user-avatar-upload]: `{content_type, content_length}` → a
/// presigned PUT for exactly that many bytes (≤ 5 MB) of that image type.
pub async fn avatar_upload(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (content_type, content_length) = upload_request(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let ticket = avatar::start_upload(
        &deps.store,
        &media_files(deps)?,
        &user,
        &content_type,
        content_length,
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "请在 10 分钟内上传图片",
            "Upload the image within 10 minutes",
        ),
        UploadView::of(ticket, MAX_AVATAR_BYTES),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct VerificationRequest {
    #[schema(required = true, nullable = false)]
    real_name: Option<String>,
    #[schema(required = true, nullable = false)]
    id_number: Option<String>,
    #[serde(default)]
    document_keys: Vec<String>,
}

impl From<VerificationError> for ApiError {
    fn from(e: VerificationError) -> ApiError {
        match e {
            VerificationError::AlreadyVerified => ApiError::conflict(
                "verification.already_verified",
                Text::new("您已完成实名认证", "You are already verified"),
            ),
            VerificationError::Pending => ApiError::conflict(
                "verification.pending",
                Text::new(
                    "您的实名认证正在审核中",
                    "Your verification is already being reviewed",
                ),
            ),
            VerificationError::IdInUse => ApiError::conflict(
                "verification.id_number_in_use",
                Text::new(
                    "该身份证号已用于其他账号的实名认证",
                    "This ID number is already used to verify another account",
                ),
            ),
            VerificationError::RateLimited(s) => ApiError::rate_limited(s),
            VerificationError::NotFound => ApiError::not_found(
                "verification.not_found",
                Text::new("认证申请不存在", "No such verification"),
            ),
            VerificationError::AlreadyReviewed => ApiError::conflict(
                "verification.already_reviewed",
                Text::new(
                    "该申请已审核",
                    "This verification has already been reviewed",
                ),
            ),
            VerificationError::Conflict => ApiError::conflict(
                "verification.conflict",
                Text::new(
                    "数据已被其他请求修改，请重试",
                    "Changed by another request; try again",
                ),
            ),
            VerificationError::Store(e) => ApiError::internal(e),
            VerificationError::Files(e) => e.into(),
            VerificationError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// `POST /users/profile/verification` [user-verification-submit]: 实名认证 →
/// 201 with the masked summary.
pub async fn verification_submit(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: VerificationRequest = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let mut errors = FieldErrors::new();
    let real_name = errors
        .required("real_name", body.real_name.as_deref())
        .and_then(|n| errors.check("real_name", RealName::parse(n)));
    let id_number = errors
        .required("id_number", body.id_number.as_deref())
        .and_then(|n| errors.check("id_number", IdNumber::parse(n)));
    if body.document_keys.len() > MAX_DOCUMENTS {
        errors.add(
            "document_keys",
            Text::new(
                "证件文件最多 4 个，须先通过 /users/profile/verification/documents 上传",
                "At most 4 documents, each uploaded through /users/profile/verification/documents first",
            ),
        );
    }
    errors.finish()?;
    let (Some(real_name), Some(id_number)) = (real_name, id_number) else {
        return Err(ApiError::internal("required field vanished"));
    };
    let vault = deps
        .pii
        .as_ref()
        .ok_or_else(|| ApiError::internal("PII_SECRET_ID is not configured"))?;
    let summary = verification::submit(
        &deps.store,
        vault,
        user,
        Submission {
            real_name,
            id_number,
            document_keys: body.document_keys,
        },
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "已提交实名认证，请等待审核",
            "Submitted; we will review it shortly",
        ),
        VerificationSummaryView::from(&summary),
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/users/profile",
            "user-profile-get",
            User,
            "users",
            "我的账号 / My account",
        )
        .ok(r::one::<crate::api::views::OwnUserView>),
        r::route(
            "PATCH",
            "/users/profile",
            "user-profile-update",
            User,
            "users",
            "修改资料 / Update my profile",
        )
        .body(r::one::<ProfilePatch>)
        .ok(r::one::<crate::api::views::OwnUserView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/users/profile/avatar",
            "user-avatar-upload",
            User,
            "users",
            "上传头像 / Upload an avatar",
        )
        .body(r::one::<crate::api::uploads::UploadRequest>)
        .created(r::one::<crate::api::uploads::UploadView>),
        r::route(
            "POST",
            "/users/profile/verification",
            "user-verification-submit",
            User,
            "users",
            "提交实名认证 / Submit 实名认证",
        )
        .body(r::one::<VerificationRequest>)
        .created(r::one::<crate::api::views::VerificationSummaryView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/users/{user_id}",
            "user-get",
            Public,
            "users",
            "用户公开资料 / A public profile",
        )
        .ok(r::one::<crate::api::views::PublicUserView>),
    ]
}
