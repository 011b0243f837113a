//! The catalogue and services: browse, read, sell, edit, publish, save; operators moderate.

use chrono::Utc;
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::common::{moderation_failed, service_not_found, violations};
use super::service_views::{ServiceView, SkillView, category_tree};
use super::session::{admin, signed_in};
use super::uploads::{media_files, upload_request};
use super::views::{PageView, rfc3339, user_not_found};
use crate::app::catalog::catalog;
use crate::app::service_media::{self, MediaUploadError, max_bytes, slot_for};
use crate::app::services::{self as app, ModerationAction, ServiceError, Viewer};
use crate::app::{access, users};
use crate::auth::caller;
use crate::deps::Deps;
use crate::domain::service::{ServiceInput, ServiceStatus};
use crate::domain::{ServiceId, UserId, UserType};
use crate::http::route as r;
use crate::http::{
    ApiError, FieldErrors, ListParams, Reply, header, json_body, path_id, query_param,
};
use crate::i18n::Text;
use crate::store::ServiceListing;

fn category_not_found() -> ApiError {
    ApiError::not_found(
        "category.not_found",
        Text::new("分类不存在", "No such category"),
    )
}

fn field_list_error(
    code: &'static str,
    message: Text,
    fields: Vec<String>,
    each: Text,
) -> ApiError {
    let mut err = ApiError::bad_request(code, message);
    for f in fields {
        err = err.with_field(&f, each.clone());
    }
    err
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        match e {
            ServiceError::NotFound => service_not_found(),
            ServiceError::FreelancerOnly => ApiError::forbidden(
                "service.freelancer_only",
                Text::new(
                    "开通卖家资料后才能发布服务",
                    "Open a seller profile before selling services",
                ),
            ),
            ServiceError::Invalid(v) => violations(v),
            ServiceError::ReadOnly(fields) => field_list_error(
                "service.read_only_field",
                Text::new(
                    "包含不可修改的字段（状态、统计数据等由平台维护）",
                    "Some fields cannot be written (status, counters and the like are kept by the platform)",
                ),
                fields,
                Text::new("此字段不可修改", "This field is read-only"),
            ),
            ServiceError::Unknown(fields) => field_list_error(
                "service.unknown_field",
                Text::new("包含未知字段", "Some fields do not exist on a service"),
                fields,
                Text::new("未知字段", "Unknown field"),
            ),
            ServiceError::EmptyPatch => ApiError::bad_request(
                "service.empty_patch",
                Text::new(
                    "请至少提供一个要修改的字段",
                    "Send at least one field to change",
                ),
            ),
            ServiceError::RateLimited(s) => ApiError::rate_limited(s),
            ServiceError::Conflict => ApiError::conflict(
                "service.conflict",
                Text::new(
                    "服务已被其他请求修改，请刷新后重试",
                    "The service changed meanwhile; reload and try again",
                ),
            ),
            ServiceError::InvalidTransition(from) => ApiError::conflict(
                "service.invalid_transition",
                Text::owned(
                    format!("服务当前状态（{}）不允许此操作", from.as_str()),
                    format!("Not possible while the service is {}", from.as_str()),
                ),
            ),
            ServiceError::HasOpenOrders => ApiError::conflict(
                "service.has_open_orders",
                Text::new(
                    "该服务还有进行中的订单，不能删除",
                    "The service has open orders and cannot be deleted",
                ),
            ),
            ServiceError::ModerationFailed(findings) => moderation_failed(
                &findings,
                Text::new(
                    "修改后的内容未通过审核，服务保持原样",
                    "The edit does not pass moderation; the service is unchanged",
                ),
            ),
            ServiceError::NoChange => ApiError::conflict(
                "admin.no_change",
                Text::new("服务已处于该状态", "The service is already in that state"),
            ),
            ServiceError::Rules(e) => ApiError::internal(e),
            ServiceError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `GET /services/categories` [category-list]: the active tree, bilingual, with skills.
pub async fn category_list(deps: &'static Deps, _req: Request) -> Result<Reply, ApiError> {
    let catalog = catalog(&deps.store).await?;
    Ok(Reply::ok(Text::new("成功", "OK"), category_tree(&catalog)))
}

/// `GET /services/skills` [skill-list]: `?category=` (a top-level or subcategory slug) or
/// every active skill.
pub async fn skill_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let catalog = catalog(&deps.store).await?;
    let skills: Vec<SkillView> = match query_param(&req, "category") {
        Some(slug) => catalog
            .skills_of(slug.trim())
            .ok_or_else(category_not_found)?
            .into_iter()
            .map(SkillView::from)
            .collect(),
        None => catalog
            .roots()
            .into_iter()
            .flat_map(|r| catalog.skills_of(&r.slug).unwrap_or_default())
            .map(SkillView::from)
            .collect(),
    };
    Ok(Reply::ok(Text::new("成功", "OK"), skills))
}

/// `GET /services/featured` [service-featured]: `?limit=` (default 12, at most 50).
pub async fn featured(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let limit = match crate::http::query_raw(&req, "limit") {
        None => 12,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=50).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "request.invalid_limit",
                    Text::new(
                        "limit 须为 1–50 的整数",
                        "limit must be a whole number from 1 to 50",
                    ),
                )
            })?,
    };
    let services = app::featured(&deps.store, limit).await?;
    let items: Vec<ServiceView> = services.iter().map(|s| ServiceView::of(s, false)).collect();
    Ok(Reply::ok(Text::new("成功", "OK"), items))
}

fn page(page: crate::store::Page<crate::domain::service::Service>) -> PageView<ServiceView> {
    PageView {
        items: page
            .items
            .iter()
            .map(|s| ServiceView::of(s, false))
            .collect(),
        next_cursor: page.next_cursor,
    }
}

/// `GET /services` [service-list]: active services of `?category=` (sub or top level) or
/// of `?freelancer=`, newest first, with a cursor.
pub async fn list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let listing = match (
        query_param(&req, "category"),
        query_param(&req, "freelancer"),
    ) {
        (Some(slug), None) => app::category_listing(&deps.store, slug.trim())
            .await?
            .ok_or_else(category_not_found)?,
        (None, Some(f)) => ServiceListing::Freelancer {
            user: f.trim().parse::<UserId>().map_err(|_| {
                ApiError::bad_request(
                    "request.invalid_query",
                    Text::new("freelancer 须为用户 ID", "freelancer must be a user id"),
                )
            })?,
            status: ServiceStatus::Active,
        },
        _ => {
            return Err(ApiError::bad_request(
                "request.invalid_query",
                Text::new(
                    "请提供 category 或 freelancer 其中之一（全文搜索请用 /services/search）",
                    "Give either category or freelancer (use /services/search for text search)",
                ),
            ));
        }
    };
    let p = app::list(
        &deps.store,
        &listing,
        params.limit,
        params.cursor.as_deref(),
    )
    .await?;
    Ok(Reply::ok(Text::new("成功", "OK"), page(p)))
}

/// `GET /users/{user_id}/services` [user-services]: that freelancer's active services.
pub async fn of_user(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: UserId = path_id(&req, "user_id", user_not_found)?;
    let params = ListParams::of(&req)?;
    users::public_profile(&deps.store, id)
        .await?
        .ok_or_else(user_not_found)?;
    let listing = ServiceListing::Freelancer {
        user: id,
        status: ServiceStatus::Active,
    };
    let p = app::list(
        &deps.store,
        &listing,
        params.limit,
        params.cursor.as_deref(),
    )
    .await?;
    Ok(Reply::ok(Text::new("成功", "OK"), page(p)))
}

/// `POST /services` [service-create]: freelancers only; 201 with the draft.
pub async fn create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: ServiceInput = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let service = app::create(&deps.store, &user, body, Utc::now()).await?;
    Ok(Reply::created(
        Text::new(
            "服务草稿已创建，发布后即可接单",
            "Draft created; publish it to start selling",
        ),
        ServiceView::of(&service, true),
    ))
}

/// `GET /services/{service_id}` [service-get]: public when active; the owner and admins see
/// drafts, paused and rejected services too. Counts a view.
pub async fn get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    // Signed-in callers are known from the token alone here; the account is read only if a
    // non-public service is about to be shown to them.
    let claimed = match header(&req, "authorization") {
        None => None,
        Some(_) => {
            let c = caller(&req, &deps.keys)?;
            Some((
                c,
                Viewer {
                    user_id: c.user_id,
                    is_admin: c.user_type == UserType::Admin,
                },
            ))
        }
    };
    let service = app::get(&deps.store, id, claimed.as_ref().map(|(_, v)| *v)).await?;
    let mut viewer = claimed.as_ref().map(|(_, v)| *v);
    if service.status != ServiceStatus::Active
        && let Some((c, _)) = &claimed
    {
        let user = access::signed_in(&deps.store, c).await?;
        viewer = Some(Viewer::of(&user));
        if !app::visible_to(&service, viewer) {
            return Err(service_not_found());
        }
    }
    app::count_view(&deps.store, &service, viewer).await?;
    let privileged = viewer.is_some_and(|v| v.is_admin || v.user_id == service.freelancer_id);
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        ServiceView::of(&service, privileged),
    ))
}

/// `PATCH /services/{service_id}` [service-update]: the owner only.
pub async fn update(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let patch: ServiceInput = json_body(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let files = media_files(deps)?;
    let service = app::update((&deps.store, &files), user.id, id, patch, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("服务已更新", "Service updated"),
        ServiceView::of(&service, true),
    ))
}

/// `DELETE /services/{service_id}` [service-delete]: the owner only; 409 with open orders.
pub async fn delete(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let (_, user) = signed_in(deps, &req).await?;
    app::delete(&deps.store, user.id, id, Utc::now()).await?;
    Ok(Reply::no_content())
}

/// `POST /services/{service_id}/publish` [service-publish]: automated moderation; the
/// answer says whether it went live (`status: active`) or was rejected, with the reasons.
pub async fn publish(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let (_, user) = signed_in(deps, &req).await?;
    let service = app::publish(&deps.store, user.id, id, Utc::now()).await?;
    let message = if service.status == ServiceStatus::Active {
        Text::new("服务已上架", "The service is live")
    } else {
        Text::new(
            "服务未通过自动审核，请根据原因修改后重新发布",
            "The service did not pass automated moderation; fix the reasons given and publish again",
        )
    };
    Ok(Reply::ok(message, ServiceView::of(&service, true)))
}

/// `POST /services/{service_id}/pause` [service-pause]: the owner takes it off the market.
pub async fn pause(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let (_, user) = signed_in(deps, &req).await?;
    let service = app::pause(&deps.store, user.id, id, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("服务已暂停", "The service is paused"),
        ServiceView::of(&service, true),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SavedView {
    service_id: String,
    saved_at: String,
    /// `null` once the service is no longer available.
    service: Option<ServiceView>,
}

/// `POST /services/{service_id}/save` [service-save]: idempotent; 200 either way.
pub async fn save(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let (_, user) = signed_in(deps, &req).await?;
    let new = app::save(&deps.store, Viewer::of(&user), id, Utc::now()).await?;
    Ok(Reply::ok(
        if new {
            Text::new("已收藏", "Saved")
        } else {
            Text::new("已在收藏中", "Already saved")
        },
        Saved {
            service_id: id.to_string(),
            saved: true,
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Saved {
    service_id: String,
    saved: bool,
}

/// `DELETE /services/{service_id}/save` [service-unsave]: 204 whether or not it was saved.
pub async fn unsave(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let (_, user) = signed_in(deps, &req).await?;
    app::unsave(&deps.store, Viewer::of(&user), id).await?;
    Ok(Reply::no_content())
}

/// `GET /users/profile/saved` [user-saved-list]: most recently saved first.
pub async fn saved_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let viewer = Viewer::of(&user);
    let p = app::saved(&deps.store, viewer, params.limit, params.cursor.as_deref()).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: p
                .items
                .into_iter()
                .map(|(e, s)| SavedView {
                    service_id: e.service_id.to_string(),
                    saved_at: rfc3339(&e.saved_at),
                    service: s.map(|s| ServiceView::of(&s, s.freelancer_id == user.id)),
                })
                .collect(),
            next_cursor: p.next_cursor,
        },
    ))
}

impl From<MediaUploadError> for ApiError {
    fn from(e: MediaUploadError) -> ApiError {
        let field = |name: &str, t: Text| {
            let mut f = FieldErrors::new();
            f.add(name, t);
            ApiError::validation(f)
        };
        match e {
            MediaUploadError::NotFound => service_not_found(),
            MediaUploadError::ContentType => field(
                "content_type",
                Text::new(
                    "图片须为 JPEG、PNG、WebP 或 GIF，视频须为 MP4 或 MOV",
                    "Images must be JPEG, PNG, WebP or GIF; videos MP4 or MOV",
                ),
            ),
            MediaUploadError::TooLarge(_, max) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload.too_large",
                Text::owned(
                    format!("文件不能超过 {} MB", max / 1024 / 1024),
                    format!("The file must be at most {} MB", max / 1024 / 1024),
                ),
            ),
            MediaUploadError::Empty => field(
                "content_length",
                Text::new("文件不能为空", "The file is empty"),
            ),
            MediaUploadError::GalleryFull => ApiError::conflict(
                "service.gallery_full",
                Text::new(
                    "每个服务最多 5 张图片，请先删除一张",
                    "A service has at most 5 images; remove one first",
                ),
            ),
            MediaUploadError::RateLimited(s) => ApiError::rate_limited(s),
            MediaUploadError::Files(e) => ApiError::internal(e),
            MediaUploadError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `POST /services/{service_id}/media` [service-media-upload]: `{content_type,
/// content_length}` → a presigned PUT for one gallery image (≤ 10 MB) or the video
/// (≤ 100 MB). The media processor attaches it once the bytes check out.
pub async fn media_upload(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let (content_type, content_length) = upload_request(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let ticket = service_media::start_upload(
        &deps.store,
        &media_files(deps)?,
        user.id,
        id,
        &content_type,
        content_length,
        Utc::now(),
    )
    .await?;
    let max = slot_for(&content_type).map(max_bytes).unwrap_or(0);
    Ok(super::uploads::upload_created(ticket, max))
}

fn bad_status() -> ApiError {
    ApiError::bad_request(
        "request.invalid_query",
        Text::new(
            "status 须为 draft、active、paused 或 rejected",
            "status must be draft, active, paused or rejected",
        ),
    )
}

/// `GET /admin/services` [admin-service-list]: `?status=` (default `active`), most
/// recently changed first.
pub async fn admin_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let params = ListParams::of(&req)?;
    let status = match query_param(&req, "status") {
        None => ServiceStatus::Active,
        Some(s) => ServiceStatus::parse(s.trim())
            .filter(|s| *s != ServiceStatus::Deleted)
            .ok_or_else(bad_status)?,
    };
    let p = app::list(
        &deps.store,
        &ServiceListing::Status(status),
        params.limit,
        params.cursor.as_deref(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: p.items.iter().map(|s| ServiceView::of(s, true)).collect(),
            next_cursor: p.next_cursor,
        },
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ModerateRequest {
    #[schema(required = true, nullable = false)]
    action: Option<String>,
    reason: Option<String>,
}

/// `POST /admin/services/{service_id}/moderate` [admin-service-moderate]:
/// `{action: approve|reject|feature|unfeature, reason}`; a reason is required to reject.
pub async fn admin_moderate(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (caller, _) = admin(deps, &req).await?;
    let id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let body: ModerateRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let action = errors
        .required("action", body.action.as_deref())
        .and_then(|a| {
            let parsed = ModerationAction::parse(a.trim());
            if parsed.is_none() {
                errors.add(
                    "action",
                    Text::new(
                        "操作须为 approve、reject、feature 或 unfeature",
                        "action must be approve, reject, feature or unfeature",
                    ),
                );
            }
            parsed
        });
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        errors.add(
            "reason",
            Text::new(
                "原因不能超过 500 个字符",
                "The reason must be at most 500 characters",
            ),
        );
    }
    if action == Some(ModerationAction::Reject) && reason.is_none() {
        errors.add(
            "reason",
            Text::new("驳回须填写原因", "A reason is required to reject"),
        );
    }
    errors.finish()?;
    let Some(action) = action else {
        return Err(ApiError::internal("required field vanished"));
    };
    let service =
        app::moderate(&deps.store, caller.user_id, id, action, reason, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("已处理", "Done"),
        ServiceView::of(&service, true),
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/users/profile/saved",
            "user-saved-list",
            User,
            "users",
            "我的收藏 / My saved services",
        )
        .paged()
        .ok(r::page::<SavedView>),
        r::route(
            "GET",
            "/users/{user_id}/services",
            "user-services",
            Public,
            "users",
            "该卖家的服务 / That freelancer's services",
        )
        .paged()
        .ok(r::page::<crate::api::service_views::ServiceView>),
        r::route(
            "GET",
            "/services/categories",
            "category-list",
            Public,
            "services",
            "服务分类 / Categories",
        )
        .ok(r::list::<crate::api::service_views::CategoryView>),
        r::route(
            "GET",
            "/services/skills",
            "skill-list",
            Public,
            "services",
            "技能标签 / Skills",
        )
        .query(&[("category", r::Type::String, "分类 slug / a category slug")])
        .ok(r::list::<crate::api::service_views::SkillView>)
        .errors(&[404]),
        r::route(
            "GET",
            "/services/featured",
            "service-featured",
            Public,
            "services",
            "精选服务 / Featured services",
        )
        .query(&[(
            "limit",
            r::Type::Integer,
            "1–50，默认 12 / 1–50, default 12",
        )])
        .ok(r::list::<crate::api::service_views::ServiceView>),
        r::route(
            "GET",
            "/services",
            "service-list",
            Public,
            "services",
            "服务列表 / Services of a category or freelancer",
        )
        .query(&[
            (
                "category",
                r::Type::String,
                "分类 slug（与 freelancer 二选一）/ a category slug (or freelancer)",
            ),
            ("freelancer", r::Type::String, "卖家 id / a freelancer's id"),
        ])
        .paged()
        .ok(r::page::<crate::api::service_views::ServiceView>),
        r::route(
            "POST",
            "/services",
            "service-create",
            User,
            "services",
            "创建服务（草稿）/ Create a service (draft)",
        )
        .body(r::one::<ServiceInput>)
        .created(r::one::<crate::api::service_views::ServiceView>),
        r::route(
            "GET",
            "/services/{service_id}",
            "service-get",
            OptionalUser,
            "services",
            "服务详情 / A service",
        )
        .ok(r::one::<crate::api::service_views::ServiceView>),
        r::route(
            "PATCH",
            "/services/{service_id}",
            "service-update",
            User,
            "services",
            "修改服务 / Update a service",
        )
        .body(r::one::<ServiceInput>)
        .ok(r::one::<crate::api::service_views::ServiceView>)
        .errors(&[409]),
        r::route(
            "DELETE",
            "/services/{service_id}",
            "service-delete",
            User,
            "services",
            "删除服务 / Delete a service",
        )
        .out(r::Out::NoContent)
        .errors(&[409]),
        r::route(
            "POST",
            "/services/{service_id}/publish",
            "service-publish",
            User,
            "services",
            "发布服务（自动审核）/ Publish (automated moderation)",
        )
        .ok(r::one::<crate::api::service_views::ServiceView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/services/{service_id}/pause",
            "service-pause",
            User,
            "services",
            "暂停服务 / Pause a service",
        )
        .ok(r::one::<crate::api::service_views::ServiceView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/services/{service_id}/save",
            "service-save",
            User,
            "services",
            "收藏 / Save",
        )
        .ok(r::one::<Saved>),
        r::route(
            "DELETE",
            "/services/{service_id}/save",
            "service-unsave",
            User,
            "services",
            "取消收藏 / Unsave",
        )
        .notes(
            "幂等：无论服务是否存在、是否已收藏，都返回 204。/ Idempotent: 204 whether or not \
             the service exists or was saved, so a client may retry it freely.",
        )
        .out(r::Out::NoContent),
        r::route(
            "POST",
            "/services/{service_id}/media",
            "service-media-upload",
            User,
            "services",
            "上传服务图片或视频 / Upload service media",
        )
        .body(r::one::<crate::api::uploads::UploadRequest>)
        .created(r::one::<crate::api::uploads::UploadView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/admin/services",
            "admin-service-list",
            Admin,
            "admin",
            "服务审核列表 / Services by status",
        )
        .query(&[(
            "status",
            r::Type::String,
            "draft | pending | active | paused | rejected",
        )])
        .paged()
        .ok(r::page::<crate::api::service_views::ServiceView>),
        r::route(
            "POST",
            "/admin/services/{service_id}/moderate",
            "admin-service-moderate",
            Admin,
            "admin",
            "审核服务 / Moderate a service",
        )
        .body(r::one::<ModerateRequest>)
        .ok(r::one::<crate::api::service_views::ServiceView>)
        .errors(&[409]),
    ]
}
