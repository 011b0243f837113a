//! Briefs (需求) and proposals (投标): the handlers, what they take, their routes.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::common::moderation_failed;
use super::order_views::OrderView;
use super::session::signed_in;
use super::views::{PageView, rfc3339};
use crate::app::briefs::{self, BriefError, shown_status};
use crate::deps::Deps;
use crate::domain::brief::{
    Brief, BriefId, BriefInput, BriefStatus, Errors, Proposal, ProposalId, ProposalStatus,
    ProposalTerms, Visibility,
};
use crate::domain::catalog::Label;
use crate::domain::{Money, UserId};
use crate::http::route as r;
use crate::http::{ApiError, FieldErrors, ListParams, Reply, json_body, path_id, query_param};
use crate::i18n::Text;
use crate::store::BriefListing;

fn brief_not_found() -> ApiError {
    ApiError::not_found("brief.not_found", Text::new("需求不存在", "No such brief"))
}

fn proposal_not_found() -> ApiError {
    ApiError::not_found(
        "proposal.not_found",
        Text::new("投标不存在", "No such proposal"),
    )
}

fn invalid(errors: Errors) -> ApiError {
    let mut f = FieldErrors::new();
    for (field, text) in errors {
        f.add(field, text);
    }
    ApiError::validation(f)
}

impl From<BriefError> for ApiError {
    fn from(e: BriefError) -> ApiError {
        let unprocessable =
            |code, text| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, text);
        match e {
            BriefError::Admin => ApiError::forbidden(
                "brief.admin",
                Text::new(
                    "运营账号不能发布需求或投标",
                    "Operator accounts do not post briefs or proposals",
                ),
            ),
            BriefError::NotSeller => ApiError::forbidden(
                "proposal.sellers_only",
                Text::new(
                    "开通卖家资料后才能投标",
                    "Open a seller profile before sending proposals",
                ),
            ),
            BriefError::Invalid(errors) => invalid(errors),
            BriefError::Moderation(findings) => moderation_failed(
                &findings,
                Text::new(
                    "内容未通过审核，请修改后再提交",
                    "The text does not pass moderation; change it and send again",
                ),
            ),
            BriefError::TooManyOpen => ApiError::conflict(
                "brief.too_many_open",
                Text::owned(
                    format!(
                        "同时开放的需求最多 {} 个，请先关闭已有需求",
                        crate::domain::brief::MAX_OPEN_BRIEFS
                    ),
                    format!(
                        "At most {} briefs may be open at once; close one first",
                        crate::domain::brief::MAX_OPEN_BRIEFS
                    ),
                ),
            ),
            BriefError::RateLimited(s) => ApiError::rate_limited(s),
            BriefError::NotFound => brief_not_found(),
            BriefError::ProposalNotFound => proposal_not_found(),
            BriefError::NotOpen(status) => ApiError::conflict(
                "brief.not_open",
                match status {
                    BriefStatus::Awarded => {
                        Text::new("该需求已选定卖家", "The brief has been awarded")
                    }
                    _ => Text::new("该需求已关闭", "The brief is closed"),
                },
            ),
            BriefError::OwnBrief => unprocessable(
                "proposal.own_brief",
                Text::new("不能对自己的需求投标", "You cannot bid on your own brief"),
            ),
            BriefError::Duplicate => ApiError::conflict(
                "proposal.duplicate",
                Text::new("你已对该需求投过标", "You have already bid on this brief"),
            ),
            BriefError::ProposalNotSubmitted(status) => ApiError::conflict(
                "proposal.not_submitted",
                Text::owned(
                    format!(
                        "该投标已{}",
                        match status {
                            ProposalStatus::Accepted => "被接受",
                            ProposalStatus::Withdrawn => "撤回",
                            _ => "失效",
                        }
                    ),
                    format!("The proposal is {}", status.as_str()),
                ),
            ),
            BriefError::SellerGone => ApiError::conflict(
                "proposal.seller_unavailable",
                Text::new("该卖家暂时无法接单", "This seller cannot take orders now"),
            ),
            BriefError::Conflict => ApiError::conflict(
                "brief.conflict",
                Text::new(
                    "需求已被其他请求修改，请刷新后重试",
                    "The brief changed meanwhile; reload and try again",
                ),
            ),
            BriefError::Attachment(key, problem) => {
                use crate::app::briefs::AttachmentProblem as P;
                let (code, zh, en) = match problem {
                    P::Missing => (
                        "brief.attachment_missing",
                        "不是您为需求上传的文件，或尚未上传完成",
                        "is not a file you uploaded for a brief, or its upload has not finished",
                    ),
                    P::TooLarge => (
                        "brief.attachment_too_large",
                        "超过 20 MB",
                        "is larger than 20 MB",
                    ),
                    P::Mismatch => (
                        "brief.attachment_mismatch",
                        "的内容与其声明的类型不符",
                        "is not what it was uploaded as",
                    ),
                    P::Name => (
                        "brief.attachment_name",
                        "的文件名无效",
                        "has a file name with nothing usable in it",
                    ),
                };
                super::common::violations(vec![crate::domain::service::Violation {
                    field: "attachments".to_owned(),
                    code,
                    text: Text::owned(format!("{key} {zh}"), format!("{key} {en}")),
                }])
            }
            BriefError::AttachmentType => {
                let mut f = FieldErrors::new();
                f.add(
                    "content_type",
                    Text::new(
                        "不支持该文件类型（支持图片、PDF、Office 文档、ZIP、文本和 MP4）",
                        "This file type is not accepted (images, PDF, Office documents, ZIP, text and MP4 are)",
                    ),
                );
                ApiError::validation(f)
            }
            BriefError::AttachmentTooLarge => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload.too_large",
                Text::new("文件不能超过 20 MB", "The file must be at most 20 MB"),
            ),
            BriefError::Files(e) => ApiError::internal(e),
            BriefError::Rules(e) => ApiError::internal(e),
            BriefError::List(e) => e.into(),
            BriefError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `POST /briefs` and `PATCH /briefs/{brief_id}`: what a brief says. A budget is one amount
/// (`budget`) or a range (`budget_min` and `budget_max`), in yuan with two places.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "为新茶饮品牌设计 logo 和门头",
    "description": "我们在杭州新开一家茶饮店，需要一个简洁、易记的 logo，附名片和门头效果图，两周内完成。",
    "category": "logo-design",
    "budget_min": "2000.00",
    "budget_max": "3000.00",
    "visibility": "public"
}))]
pub(crate) struct BriefRequest {
    /// 5–100 characters.
    #[schema(min_length = 5, max_length = 100)]
    title: Option<String>,
    /// 20–5,000 characters.
    #[schema(min_length = 20, max_length = 5000)]
    description: Option<String>,
    /// A subcategory's slug.
    category: Option<String>,
    /// Skill slugs of the category's top level, at most 10.
    #[schema(max_items = 10)]
    skills: Option<Vec<String>>,
    #[schema(value_type = Option<Money>)]
    budget: Option<String>,
    #[schema(value_type = Option<Money>)]
    budget_min: Option<String>,
    #[schema(value_type = Option<Money>)]
    budget_max: Option<String>,
    /// RFC 3339, within the next year.
    #[schema(format = DateTime)]
    deadline: Option<String>,
    #[schema(value_type = Option<Visibility>)]
    visibility: Option<String>,
    /// Files uploaded through `POST /briefs/attachments`, at most 5; on an edit, the whole
    /// list (files the brief has stay, the others go).
    #[schema(max_items = 5)]
    attachments: Option<Vec<BriefAttachmentRef>>,
}

/// A file to attach: the `key` of its upload and the name it downloads as.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BriefAttachmentRef {
    #[schema(min_length = 1, max_length = 200)]
    key: String,
    /// 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

/// A money field of the request: `Some(Some)` when sent and valid, errors named otherwise.
fn money(errors: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<Money> {
    let v = value?;
    errors.check(
        field,
        v.trim().parse::<Money>().map_err(|_| {
            Text::new(
                "金额须为元，最多两位小数，如 2000.00",
                "An amount in yuan with at most two places, such as 2000.00",
            )
        }),
    )
}

impl BriefRequest {
    /// Lays what was sent over `base` (an empty brief for a new one); every field error.
    fn over(self, mut base: BriefInput) -> Result<BriefInput, ApiError> {
        let mut errors = FieldErrors::new();
        if let Some(t) = self.title {
            base.title = Some(t);
        }
        if let Some(d) = self.description {
            base.description = Some(d);
        }
        if let Some(c) = self.category {
            base.category = Some(c);
        }
        if let Some(s) = self.skills {
            base.skills = s;
        }
        let (b, lo, hi) = (
            money(&mut errors, "budget", self.budget.as_deref()),
            money(&mut errors, "budget_min", self.budget_min.as_deref()),
            money(&mut errors, "budget_max", self.budget_max.as_deref()),
        );
        if b.is_some() || lo.is_some() || hi.is_some() {
            (base.budget, base.budget_min, base.budget_max) = (b, lo, hi);
        }
        if let Some(d) = self.deadline {
            base.deadline = errors.check(
                "deadline",
                DateTime::parse_from_rfc3339(d.trim())
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| Text::new("时间须为 RFC 3339 格式", "An RFC 3339 time")),
            );
        }
        if let Some(a) = self.attachments {
            base.attachments = Some(a.into_iter().map(|r| (r.key, r.name)).collect());
        }
        if let Some(v) = self.visibility {
            base.visibility = errors.check(
                "visibility",
                Visibility::parse(v.trim()).ok_or_else(|| {
                    Text::new("须为 public 或 unlisted", "Must be public or unlisted")
                }),
            );
        }
        errors.finish()?;
        Ok(base)
    }
}

/// Sellers' reviews of a buyer: the average (two places) and how many.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BuyerRating {
    average: String,
    reviews: u32,
}

impl BuyerRating {
    fn of(user: &crate::domain::User) -> BuyerRating {
        let (sum, count) = user.buyer_rating;
        BuyerRating {
            average: crate::domain::review::average(sum, u64::from(count)).to_string(),
            reviews: count,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PartyRef {
    id: String,
    username: String,
}

/// A brief as everyone sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BriefView {
    id: String,
    client: PartyRef,
    title: String,
    description: String,
    category: Label,
    parent_category: Label,
    skills: Vec<Label>,
    /// `fixed` (`budget_min` = `budget_max`) or `range`.
    budget_type: &'static str,
    budget_min: Money,
    budget_max: Money,
    deadline: Option<String>,
    visibility: Visibility,
    status: BriefStatus,
    /// Proposals not withdrawn.
    proposals_count: u64,
    /// The order the brief became (its buyer and chosen seller only).
    order_id: Option<String>,
    /// How sellers rated the buyer on earlier orders (on a single brief, not in lists).
    client_rating: Option<BuyerRating>,
    /// The buyer's files; a single brief carries download links (15 minutes), lists do not.
    attachments: Vec<BriefAttachmentView>,
    created_at: String,
    updated_at: String,
}

/// A file on a brief.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BriefAttachmentView {
    /// What `attachments` sends back to keep it on an edit.
    key: String,
    name: String,
    content_type: String,
    size: u64,
    checksum_sha256: String,
    download_url: Option<String>,
    download_expires_at: Option<String>,
}

impl BriefView {
    fn of(b: &Brief, viewer: Option<UserId>) -> BriefView {
        let c = &b.content;
        let party = b
            .award
            .filter(|a| viewer.is_some_and(|v| v == b.client_id || v == a.seller_id));
        BriefView {
            id: b.id.to_string(),
            client: PartyRef {
                id: b.client_id.to_string(),
                username: b.client_username.clone(),
            },
            title: c.title.clone(),
            description: c.description.clone(),
            category: c.category.clone(),
            parent_category: c.parent_category.clone(),
            skills: c.skills.clone(),
            budget_type: if c.budget.is_fixed() {
                "fixed"
            } else {
                "range"
            },
            budget_min: c.budget.min,
            budget_max: c.budget.max,
            deadline: c.deadline.as_ref().map(rfc3339),
            visibility: c.visibility,
            status: b.status,
            proposals_count: b.proposals_count,
            order_id: party.map(|a| a.order_id.to_string()),
            client_rating: None,
            attachments: c
                .attachments
                .iter()
                .map(|f| BriefAttachmentView {
                    key: f.key.clone(),
                    name: f.name.clone(),
                    content_type: f.content_type.clone(),
                    size: f.size,
                    checksum_sha256: f.sha256.clone(),
                    download_url: None,
                    download_expires_at: None,
                })
                .collect(),
            created_at: rfc3339(&b.created_at),
            updated_at: rfc3339(&b.updated_at),
        }
    }
}

/// `POST /briefs/{brief_id}/proposals`: a seller's terms.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "price": "2600.00", "delivery_days": 10, "revisions": 3,
    "message": "我为三十多个茶饮品牌做过 logo，十天交付三个方案，含名片和门头效果图。"
}))]
pub(crate) struct ProposalRequest {
    #[schema(value_type = Money, required = true)]
    price: Option<String>,
    /// 1–180.
    #[schema(required = true, minimum = 1, maximum = 180)]
    delivery_days: Option<u32>,
    /// 0–20, default 1.
    #[schema(minimum = 0, maximum = 20)]
    revisions: Option<u32>,
    /// 10–3,000 characters.
    #[schema(required = true, min_length = 10, max_length = 3000)]
    message: Option<String>,
}

/// A proposal as its brief's buyer and its seller see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProposalView {
    id: String,
    brief_id: String,
    seller: PartyRef,
    price: Money,
    delivery_days: u32,
    revisions: u32,
    message: String,
    /// `declined`: the brief went to another proposal or was closed.
    status: ProposalStatus,
    created_at: String,
    updated_at: String,
}

impl ProposalView {
    fn of(brief: &Brief, p: &Proposal) -> ProposalView {
        ProposalView {
            id: p.id.to_string(),
            brief_id: p.brief_id.to_string(),
            seller: PartyRef {
                id: p.seller_id.to_string(),
                username: p.seller_username.clone(),
            },
            price: p.terms.price,
            delivery_days: p.terms.delivery_days,
            revisions: p.terms.revisions,
            message: p.terms.message.clone(),
            status: shown_status(brief, p),
            created_at: rfc3339(&p.created_at),
            updated_at: rfc3339(&p.updated_at),
        }
    }
}

fn brief_id(req: &Request) -> Result<BriefId, ApiError> {
    path_id(req, "brief_id", brief_not_found)
}

fn proposal_id(req: &Request) -> Result<ProposalId, ApiError> {
    path_id(req, "proposal_id", proposal_not_found)
}

/// `POST /briefs` [brief-create]: a buyer posts a need → 201 with the brief.
pub async fn create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let body: BriefRequest = json_body(&req)?;
    let input = body.over(BriefInput::default())?;
    let (_, user) = signed_in(deps, &req).await?;
    let files = deps.media_files().ok();
    let brief = briefs::create(&deps.store, files.as_ref(), &user, input, Utc::now()).await?;
    Ok(Reply::created(
        Text::new(
            "需求已发布，卖家可以投标了",
            "Brief posted; sellers can now send proposals",
        ),
        BriefView::of(&brief, Some(user.id)),
    ))
}

/// `GET /briefs` [brief-list]: open public briefs, newest first; `?category=` (a subcategory
/// or a top-level category), `?budget_min=&budget_max=` (briefs whose budget meets the
/// range); `?mine=true`: the caller's own briefs, every status.
pub async fn list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let mut errors = FieldErrors::new();
    let lo = money(
        &mut errors,
        "budget_min",
        query_param(&req, "budget_min").as_deref(),
    );
    let hi = money(
        &mut errors,
        "budget_max",
        query_param(&req, "budget_max").as_deref(),
    );
    let mine = match query_param(&req, "mine").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.add(
                "mine",
                Text::new("须为 true 或 false", "Must be true or false"),
            );
            false
        }
    };
    errors.finish()?;
    let listing = if mine {
        BriefListing::Client(signed_in(deps, &req).await?.1.id)
    } else {
        match query_param(&req, "category") {
            None => BriefListing::Open,
            Some(slug) => {
                let catalog = crate::app::catalog::catalog(&deps.store)
                    .await
                    .map_err(ApiError::internal)?;
                let c = catalog
                    .category(slug.trim())
                    .filter(|c| c.is_active)
                    .ok_or_else(|| {
                        ApiError::not_found(
                            "category.not_found",
                            Text::new("分类不存在", "No such category"),
                        )
                    })?;
                BriefListing::Category {
                    slug: c.slug.clone(),
                    top_level: c.parent.is_none(),
                }
            }
        }
    };
    let viewer = match &listing {
        BriefListing::Client(me) => Some(*me),
        _ => None,
    };
    let page = briefs::list(
        &deps.store,
        listing,
        (lo, hi),
        params.limit,
        params.cursor.as_deref(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page
                .items
                .iter()
                .map(|b| BriefView::of(b, viewer))
                .collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        },
    ))
}

/// Open public briefs found by text, with the total and where the next page starts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BriefResults {
    items: Vec<BriefView>,
    total: u64,
    page: u32,
    size: u32,
    /// Send it back as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// `GET /briefs/search` [brief-search]: open public briefs by text (Chinese, English, pinyin,
/// traditional characters), in the search engine beside services: `q`, `category`, `skills`,
/// `budget_min` / `budget_max` (against the top of each budget), `sort` (`relevance`,
/// `newest`, `price_low` / `price_high` by budget), `page` / `size` / `cursor` as
/// `service-search`.
pub async fn search(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let raw = |name: &str| crate::http::query_raw(&req, name);
    if raw("sort").as_deref().map(str::trim) == Some("rating") {
        return Err(ApiError::bad_request(
            "search.invalid_sort",
            Text::new(
                "sort 须为 relevance、newest、price_low 或 price_high",
                "sort must be relevance, newest, price_low or price_high",
            ),
        ));
    }
    let query = super::search_query::parse(|name| match name {
        "min_price" => raw("budget_min"),
        "max_price" => raw("budget_max"),
        "service_type" | "min_rating" | "max_delivery_days" => None,
        other => raw(other),
    })?;
    let (found, page) = crate::app::search::search_briefs(&deps.store, &deps.brief_search, &query)
        .await
        .map_err(super::search_query::search_unavailable)?;
    let next_cursor =
        super::search_query::next_cursor(&query, page.items.len(), page.total, page.last);
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        BriefResults {
            items: found.iter().map(|b| BriefView::of(b, None)).collect(),
            total: page.total,
            page: query.page,
            size: query.size,
            next_cursor,
        },
    ))
}

/// `GET /briefs/{brief_id}` [brief-get]: any brief by its id (unlisted ones by their link).
pub async fn get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = brief_id(&req)?;
    // Who asks is known from the token alone: it decides only whether the order id shows.
    let viewer = match crate::http::header(&req, "authorization") {
        None => None,
        Some(_) => Some(crate::auth::caller(&req, &deps.keys)?.user_id),
    };
    let brief = briefs::get(&deps.store, id).await?;
    let mut view = BriefView::of(&brief, viewer);
    if let Ok(files) = deps.media_files() {
        let now = Utc::now();
        for (v, f) in view.attachments.iter_mut().zip(&brief.content.attachments) {
            let link = crate::app::files::download(&files, &f.key, &f.name, now)
                .await
                .map_err(ApiError::internal)?;
            v.download_url = Some(link.url);
            v.download_expires_at = Some(rfc3339(&link.expires_at));
        }
    }
    view.client_rating = deps
        .store
        .get_user(brief.client_id)
        .await
        .map_err(ApiError::internal)?
        .as_ref()
        .map(BuyerRating::of);
    Ok(Reply::ok(Text::new("成功", "OK"), view))
}

/// `PATCH /briefs/{brief_id}` [brief-update]: the buyer edits an open brief (the fields sent);
/// checked and moderated whole.
pub async fn update(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = brief_id(&req)?;
    let body: BriefRequest = json_body(&req)?;
    if body.title.is_none()
        && body.description.is_none()
        && body.category.is_none()
        && body.skills.is_none()
        && body.budget.is_none()
        && body.budget_min.is_none()
        && body.budget_max.is_none()
        && body.deadline.is_none()
        && body.visibility.is_none()
        && body.attachments.is_none()
    {
        return Err(ApiError::bad_request(
            "brief.nothing_to_change",
            Text::new("没有要修改的内容", "Nothing to change"),
        ));
    }
    // The request's own errors (an amount or a time that does not read) first.
    body.clone().over(BriefInput::default())?;
    let (_, user) = signed_in(deps, &req).await?;
    let edit = |base: BriefInput| body.clone().over(base.clone()).unwrap_or(base);
    let files = deps.media_files().ok();
    let brief = briefs::update(&deps.store, files.as_ref(), &user, id, edit, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("需求已更新", "Brief updated"),
        BriefView::of(&brief, Some(user.id)),
    ))
}

/// `POST /briefs/attachments` [brief-attachment-upload]: `{content_type, content_length}` → a
/// presigned upload whose `key` a brief then lists in `attachments`.
pub async fn attachment(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (content_type, content_length) = super::uploads::upload_request(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let ticket = briefs::start_attachment(
        &deps.store,
        &super::uploads::media_files(deps)?,
        &user,
        (&content_type, content_length),
        Utc::now(),
    )
    .await?;
    Ok(super::uploads::upload_created(
        ticket,
        briefs::MAX_ATTACHMENT_BYTES,
    ))
}

/// `POST /briefs/{brief_id}/close` [brief-close]: the buyer closes an open brief without an
/// order; its proposals are declined.
pub async fn close(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = brief_id(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let brief = briefs::close(&deps.store, &user, id, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("需求已关闭", "Brief closed"),
        BriefView::of(&brief, Some(user.id)),
    ))
}

/// `POST /briefs/{brief_id}/proposals` [proposal-create]: a seller bids once on an open brief
/// → 201 with the proposal.
pub async fn propose(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = brief_id(&req)?;
    let body: ProposalRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let price = money(&mut errors, "price", body.price.as_deref());
    errors.finish()?;
    let terms = ProposalTerms::parse(price, body.delivery_days, body.revisions, body.message)
        .map_err(invalid)?;
    let (_, user) = signed_in(deps, &req).await?;
    let (brief, proposal) = briefs::propose(&deps.store, &user, id, terms, Utc::now()).await?;
    Ok(Reply::created(
        Text::new("投标已提交", "Proposal sent"),
        ProposalView::of(&brief, &proposal),
    ))
}

/// `GET /briefs/{brief_id}/proposals` [proposal-list]: the brief's buyer sees every proposal;
/// a seller only their own.
pub async fn proposals(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = brief_id(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let (brief, list) = briefs::proposals(&deps.store, &user, id).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        list.iter()
            .map(|p| ProposalView::of(&brief, p))
            .collect::<Vec<_>>(),
    ))
}

/// A seller's proposal with what they need of its brief.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MyProposalView {
    #[serde(flatten)]
    proposal: ProposalView,
    brief: BriefCard,
}

/// The brief a proposal was sent to, in short.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct BriefCard {
    id: String,
    title: String,
    status: BriefStatus,
    budget_min: Money,
    budget_max: Money,
    /// The order it became, when it went to this proposal.
    order_id: Option<String>,
}

/// `GET /proposals` [proposal-mine]: the caller's proposals across briefs, newest first, each
/// with its brief (status derived as on the brief: `declined` once it went elsewhere).
pub async fn mine(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let page =
        briefs::my_proposals(&deps.store, &user, params.limit, params.cursor.as_deref()).await?;
    let items: Vec<MyProposalView> = page
        .items
        .iter()
        .filter_map(|(p, b)| {
            let b = b.as_ref()?;
            Some(MyProposalView {
                proposal: ProposalView::of(b, p),
                brief: BriefCard {
                    id: b.id.to_string(),
                    title: b.content.title.clone(),
                    status: b.status,
                    budget_min: b.content.budget.min,
                    budget_max: b.content.budget.max,
                    order_id: b
                        .award
                        .filter(|a| a.proposal_id == p.id)
                        .map(|a| a.order_id.to_string()),
                },
            })
        })
        .collect();
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items,
            next_cursor: page.next_cursor,
        },
    ))
}

/// `POST /briefs/{brief_id}/proposals/{proposal_id}/withdraw` [proposal-withdraw]: a seller
/// takes back their proposal while the brief is open.
pub async fn withdraw(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (brief_id, id) = (brief_id(&req)?, proposal_id(&req)?);
    let (_, user) = signed_in(deps, &req).await?;
    let (brief, p) = briefs::withdraw(&deps.store, &user, brief_id, id, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("投标已撤回", "Proposal withdrawn"),
        ProposalView::of(&brief, &p),
    ))
}

/// `POST /briefs/{brief_id}/proposals/{proposal_id}/accept` [proposal-accept]: the buyer
/// chooses a proposal → 201 with the unpaid order at its price and terms (`origin:
/// proposal`); the brief is awarded and the other proposals declined. Accepting it again
/// answers the same order.
pub async fn accept(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (brief_id, id) = (brief_id(&req)?, proposal_id(&req)?);
    let (_, user) = signed_in(deps, &req).await?;
    let order = briefs::accept(
        &deps.store,
        &deps.config.clearance,
        &user,
        (brief_id, id),
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "已选定卖家，订单已生成，请在30分钟内付款",
            "Proposal accepted; the order is placed, pay within 30 minutes",
        ),
        OrderView::of(&order),
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "POST",
            "/briefs",
            "brief-create",
            User,
            "briefs",
            "发布需求 / Post a brief",
        )
        .body(r::one::<BriefRequest>)
        .created(r::one::<BriefView>)
        .errors(&[403, 409]),
        r::route(
            "POST",
            "/briefs/attachments",
            "brief-attachment-upload",
            User,
            "briefs",
            "上传需求附件 / Upload a file for a brief",
        )
        .body(r::one::<super::uploads::UploadRequest>)
        .created(r::one::<super::uploads::UploadView>)
        .errors(&[403]),
        r::route(
            "GET",
            "/briefs",
            "brief-list",
            OptionalUser,
            "briefs",
            "需求大厅 / Open briefs",
        )
        .query(&[
            (
                "category",
                r::Type::String,
                "分类 slug（一级或二级）/ a category slug",
            ),
            (
                "budget_min",
                r::Type::String,
                "预算不低于 / budget at least (yuan)",
            ),
            (
                "budget_max",
                r::Type::String,
                "预算不高于 / budget at most (yuan)",
            ),
            (
                "mine",
                r::Type::Boolean,
                "true：我发布的需求 / true: my own briefs",
            ),
        ])
        .paged()
        .ok(r::page::<BriefView>)
        .errors(&[401, 404]),
        r::route(
            "GET",
            "/briefs/search",
            "brief-search",
            Public,
            "briefs",
            "搜索需求 / Search briefs",
        )
        .query(&super::search_query::WORD_PARAMS)
        .query(&[
            (
                "budget_min",
                r::Type::String,
                "预算上限不低于，例如 1000.00 / the budget's top at least, e.g. 1000.00",
            ),
            (
                "budget_max",
                r::Type::String,
                "预算上限不高于 / the budget's top at most",
            ),
            (
                "sort",
                r::Type::String,
                "relevance | newest | price_low | price_high",
            ),
        ])
        .query(&super::search_query::PAGING_PARAMS)
        .ok(r::one::<BriefResults>)
        .errors(&[503]),
        r::route(
            "GET",
            "/briefs/{brief_id}",
            "brief-get",
            OptionalUser,
            "briefs",
            "需求详情 / A brief",
        )
        .ok(r::one::<BriefView>)
        .errors(&[404]),
        r::route(
            "PATCH",
            "/briefs/{brief_id}",
            "brief-update",
            User,
            "briefs",
            "修改需求 / Edit a brief",
        )
        .body(r::one::<BriefRequest>)
        .ok(r::one::<BriefView>)
        .errors(&[404, 409]),
        r::route(
            "POST",
            "/briefs/{brief_id}/close",
            "brief-close",
            User,
            "briefs",
            "关闭需求 / Close a brief",
        )
        .ok(r::one::<BriefView>)
        .errors(&[404, 409]),
        r::route(
            "POST",
            "/briefs/{brief_id}/proposals",
            "proposal-create",
            User,
            "briefs",
            "投标 / Send a proposal",
        )
        .body(r::one::<ProposalRequest>)
        .created(r::one::<ProposalView>)
        .errors(&[403, 404, 409]),
        r::route(
            "GET",
            "/briefs/{brief_id}/proposals",
            "proposal-list",
            User,
            "briefs",
            "投标列表 / Proposals of a brief",
        )
        .ok(r::list::<ProposalView>)
        .errors(&[404]),
        r::route(
            "GET",
            "/proposals",
            "proposal-mine",
            User,
            "briefs",
            "我的投标 / My proposals",
        )
        .paged()
        .ok(r::page::<MyProposalView>),
        r::route(
            "POST",
            "/briefs/{brief_id}/proposals/{proposal_id}/withdraw",
            "proposal-withdraw",
            User,
            "briefs",
            "撤回投标 / Withdraw a proposal",
        )
        .ok(r::one::<ProposalView>)
        .errors(&[404, 409]),
        r::route(
            "POST",
            "/briefs/{brief_id}/proposals/{proposal_id}/accept",
            "proposal-accept",
            User,
            "briefs",
            "选定投标 / Accept a proposal",
        )
        .created(r::one::<OrderView>)
        .errors(&[404, 409]),
    ]
}
