//! The OpenAPI 3.1 document of the HTTP API (`GET /openapi.json` [openapi]), built from the
//! Rust types the handlers answer with (`utoipa::ToSchema`) and one table of routes below.
//! Every HTTP API route of the templates (`stacks/*.yaml`) is in the table (a test checks); a snapshot test pins the
//! document, so a change to a response type shows up in review as a change of the contract.

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, ServerBuilder,
};

use super::account::{
    ResetConfirmRequest, ResetDone, ResetRequest, SmsCodeRequest, SmsLoginRequest, TokenRequest,
};
use super::admin::{ReviewRequest, UserUpdateRequest, VerificationDecision, VerificationView};
use super::auth::{LoginRequest, RefreshRequest, RegisterRequest, SignedInView};
use super::health::HealthView;
use super::messaging::{
    AllRead, ConversationRead, ConversationView, MessagePage, NotificationPage, NotificationRead,
    SentView,
};
use super::orders::{Delivered, OrderView, OrderWithReview, RevisionRequested, StepView};
use super::payments::{ChargeView, LineView, MethodsView, WalletView, WithdrawalView};
use super::privacy::{DeleteRequest, Deleted, ExportView};
use super::reports::{AuditView, CreateRequest, ReportView, ResolveRequest};
use super::reviews::ReviewView;
use super::search::Results;
use super::service_views::{CategoryView, ServiceView, SkillView};
use super::services::{ModerateRequest, Saved, SavedView};
use super::uploads::{UploadRequest, UploadView};
use super::users::VerificationRequest;
use super::views::{AdminUserView, OwnUserView, PublicUserView, VerificationSummaryView};
use crate::auth::Tokens;
use crate::domain::stats::Overview;

/// Where the API is mounted; the paths below are relative to it.
pub const BASE: &str = "/api/v1";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; a token, when sent, is not needed.
    Public,
    /// Anyone; a valid token shows more (owners see their own drafts).
    OptionalUser,
    /// A signed-in account.
    User,
    /// A signed-in operator.
    Admin,
    /// A payment gateway, authenticated by its signature.
    Gateway,
}

type SchemaFn = fn(&mut Components) -> RefOr<Schema>;

/// What a route takes in its body.
#[derive(Clone, Copy)]
enum In {
    Nothing,
    Json(SchemaFn),
    /// `application/x-www-form-urlencoded` (Alipay's notifications).
    Form,
}

/// What a route answers with when it succeeds.
#[derive(Clone, Copy)]
enum Out {
    /// The envelope with this `data`.
    Data(u16, SchemaFn),
    /// The envelope with `data: null`.
    Accepted,
    NoContent,
    /// A plain-text body (what Alipay expects from a notification's receiver).
    Text(&'static str),
    Html,
    /// A document that is not in the envelope (this one).
    Raw,
}

/// A query parameter: name, type, description.
type Q = (&'static str, Type, &'static str);

/// One route of the HTTP API.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    pub access: Access,
    tag: &'static str,
    summary: &'static str,
    query: Vec<Q>,
    input: In,
    output: Out,
    /// Errors beyond those every route of its kind can answer.
    errors: &'static [u16],
    /// What a client should know beyond the summary.
    notes: Option<&'static str>,
}

/// Named schemas collected while the routes are described.
#[derive(Default)]
pub struct Components {
    schemas: BTreeMap<String, RefOr<Schema>>,
    /// Names given to two different types (`#[schema(as = …)]` tells them apart).
    clashes: Vec<String>,
}

impl Components {
    fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut nested = Vec::new();
        T::schemas(&mut nested);
        let name = T::name().into_owned();
        nested.push((name.clone(), T::schema()));
        for (n, schema) in nested {
            if let Some(old) = self.schemas.get(&n)
                && old != &schema
            {
                self.clashes.push(n.clone());
            }
            self.schemas.insert(n, schema);
        }
        Ref::from_schema_name(name).into()
    }
}

fn one<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    c.of::<T>()
}

fn list<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    ArrayBuilder::new().items(c.of::<T>()).into()
}

/// A cursor page: `{items, next_cursor}`.
fn page<T: ToSchema>(c: &mut Components) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("items", ArrayBuilder::new().items(c.of::<T>()))
        .required("items")
        .property(
            "next_cursor",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .description(Some(
                    "下一页的游标；没有更多时为 null / null on the last page",
                )),
        )
        .required("next_cursor")
        .into()
}

/// `order-pay` answers with the order (wallet) or the gateway's payment parameters.
fn paid(c: &mut Components) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(c.of::<OrderView>())
        .item(c.of::<ChargeView>())
        .into()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn date_time() -> ObjectBuilder {
    string().format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
        utoipa::openapi::KnownFormat::DateTime,
    )))
}

// ---- Request bodies read field by field by their handlers (so that every field error is
// reported at once); these types are their contract.

pub(crate) use bodies::*;

/// Their fields are read by the schema derive only.
mod bodies {
    #![allow(dead_code)]

    use crate::domain::Money;

    /// `PATCH /users/profile`: any of these; `user_type`, `is_verified`, `rating`, counters and
    /// contact details are read-only here (400 `profile.read_only_field`).
    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({
        "freelancer_profile": {"bio": "十年品牌设计经验，擅长 logo 与 VI 设计", "skills": ["logo-design"], "location": "杭州"},
        "notification_preferences": {"email": true, "sms": false}
    }))]
    pub(crate) struct ProfilePatch {
        freelancer_profile: Option<crate::domain::FreelancerProfile>,
        client_profile: Option<crate::domain::ClientProfile>,
        notification_preferences: Option<crate::domain::NotificationPreferences>,
    }

    /// One package. `revisions` defaults to 1; `features` to none.
    #[derive(utoipa::ToSchema)]
    pub(crate) struct PackageBody {
        price: Money,
        #[schema(min_length = 1, max_length = 500)]
        description: String,
        #[schema(minimum = 1, maximum = 90)]
        delivery_days: u32,
        #[schema(minimum = 0, maximum = 10)]
        revisions: Option<u32>,
        #[schema(max_items = 10)]
        features: Option<Vec<Feature>>,
    }

    /// One line of what a package includes.
    #[derive(utoipa::ToSchema)]
    #[schema(min_length = 1, max_length = 60, example = "源文件")]
    pub(crate) struct Feature(String);

    #[derive(utoipa::ToSchema)]
    pub(crate) struct PackagesBody {
        basic: PackageBody,
        standard: Option<PackageBody>,
        premium: Option<PackageBody>,
    }

    /// A service as its owner writes it (`POST /services`; `PATCH` takes any subset). A title
    /// (`title` or `title_zh`, 10–100 characters each, without prohibited words) and a
    /// description (`description` or `description_zh`, 20–5,000 characters) are required;
    /// prices 5.00–50,000.00, standard > basic, premium > standard. `status`, `freelancer`,
    /// `rating` and counters are the platform's.
    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({
        "title": "Professional logo design for your brand",
        "title_zh": "专业品牌 Logo 设计，三天交付",
        "description": "Three concepts, unlimited colour variants, source files included.",
        "description_zh": "提供三套方案，不限配色调整，交付 AI/PSD 源文件。",
        "category": "logo-design",
        "skills": ["logo-design", "brand-identity"],
        "service_type": "fixed",
        "packages": {
            "basic": {"price": "199.00", "description": "一套方案", "delivery_days": 3, "revisions": 2, "features": ["源文件"]},
            "standard": {"price": "399.00", "description": "三套方案", "delivery_days": 5, "revisions": 5, "features": ["源文件", "名片设计"]}
        },
        "requirements": "请提供品牌名称和喜欢的颜色"
    }))]
    pub(crate) struct ServiceBody {
        #[schema(min_length = 10, max_length = 100)]
        title: Option<String>,
        #[schema(min_length = 10, max_length = 100)]
        title_zh: Option<String>,
        #[schema(min_length = 20, max_length = 5000)]
        description: Option<String>,
        #[schema(min_length = 20, max_length = 5000)]
        description_zh: Option<String>,
        category: String,
        #[schema(max_items = 10)]
        skills: Option<Vec<String>>,
        service_type: Option<crate::domain::service::ServiceType>,
        packages: PackagesBody,
        /// Keys of the service's processed gallery images.
        #[schema(max_items = 5)]
        images: Option<Vec<String>>,
        video_url: Option<String>,
        /// What the buyer must provide when ordering.
        #[schema(max_length = 2000)]
        requirements: Option<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"package": "standard", "requirements": "公司名称：杭州青禾茶业，主色调绿色"}))]
    pub(crate) struct OrderBody {
        package: crate::domain::service::Tier,
        #[schema(max_length = 5000)]
        requirements: Option<String>,
    }

    /// `wallet` pays now; `alipay` and `wechat` answer with the parameters to pay with.
    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"method": "wallet"}))]
    pub(crate) struct PayBody {
        #[schema(pattern = "^(wallet|alipay|wechat)$")]
        method: String,
        /// `page`/`wap` (Alipay), `native`/`jsapi` (WeChat Pay).
        channel: Option<String>,
        /// The payer's WeChat openid (`jsapi`).
        openid: Option<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"message": "初稿已完成，请查收附件中的三套方案", "file_keys": []}))]
    pub(crate) struct DeliverBody {
        message: String,
        file_keys: Vec<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"message": "请把字体换成更圆润的风格"}))]
    pub(crate) struct MessageOnlyBody {
        message: String,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"reason": "需求有变，双方协商取消"}))]
    pub(crate) struct ReasonBody {
        reason: String,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"reason": "卖家逾期未交付且不回复消息", "evidence_keys": []}))]
    pub(crate) struct DisputeBody {
        reason: String,
        evidence_keys: Vec<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"resolution": "split", "refund_amount": "100.00", "note": "部分完成，退还一半"}))]
    pub(crate) struct SettleBody {
        resolution: crate::domain::order::Resolution,
        /// Only for `split`: more than 0 and less than the total.
        refund_amount: Option<Money>,
        note: String,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"rating": 5, "comment": "Great work", "comment_zh": "设计很专业，沟通顺畅，推荐！"}))]
    pub(crate) struct ReviewBody {
        #[schema(minimum = 1, maximum = 5)]
        rating: u8,
        comment: String,
        comment_zh: Option<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"response": "感谢您的认可，期待再次合作！"}))]
    pub(crate) struct ResponseBody {
        response: String,
        response_zh: Option<String>,
    }

    /// One of `participant_id`, `service_id` (its freelancer) or `order_id` (its other party).
    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"service_id": "01JD0000000000000000000000", "message": "您好，请问可以加急吗？"}))]
    pub(crate) struct ConversationBody {
        participant_id: Option<String>,
        service_id: Option<String>,
        order_id: Option<String>,
        message: Option<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"message_type": "text", "content": "您好，初稿什么时候可以看到？"}))]
    pub(crate) struct MessageBody {
        #[schema(pattern = "^(text|image|file)$")]
        message_type: Option<String>,
        #[schema(max_length = 5000)]
        content: Option<String>,
        /// The `key` of an upload (image and file messages).
        file_key: Option<String>,
        file_name: Option<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"amount": "500.00", "method": "alipay", "channel": "page"}))]
    pub(crate) struct TopupBody {
        amount: Money,
        #[schema(pattern = "^(alipay|wechat)$")]
        method: String,
        channel: Option<String>,
        openid: Option<String>,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"amount": "300.00", "method": "alipay", "account": "zhang.san@example.cn"}))]
    pub(crate) struct WithdrawalBody {
        amount: Money,
        #[schema(pattern = "^(alipay|wechat|bank)$")]
        method: String,
        account: String,
    }

    #[derive(utoipa::ToSchema)]
    #[schema(example = json!({"action": "reject", "reason": "收款账户与实名信息不一致"}))]
    pub(crate) struct WithdrawalReviewBody {
        #[schema(pattern = "^(approve|reject)$")]
        action: String,
        /// Required to reject.
        reason: Option<String>,
    }
}

// ---- The routes.

fn route(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    access: Access,
    tag: &'static str,
    summary: &'static str,
) -> Route {
    Route {
        method,
        path,
        function,
        access,
        tag,
        summary,
        query: Vec::new(),
        input: In::Nothing,
        output: Out::Data(200, |_| ObjectBuilder::new().into()),
        errors: &[],
        notes: None,
    }
}

impl Route {
    fn notes(mut self, text: &'static str) -> Route {
        self.notes = Some(text);
        self
    }

    fn body(mut self, f: SchemaFn) -> Route {
        debug_assert!(
            matches!(self.input, In::Nothing),
            "{} {}: a second request body would replace the first",
            self.method,
            self.path
        );
        self.input = In::Json(f);
        self
    }
    fn form(mut self) -> Route {
        self.input = In::Form;
        self
    }
    fn ok(mut self, f: SchemaFn) -> Route {
        self.output = Out::Data(200, f);
        self
    }
    fn created(mut self, f: SchemaFn) -> Route {
        self.output = Out::Data(201, f);
        self
    }
    fn out(mut self, o: Out) -> Route {
        self.output = o;
        self
    }
    fn query(mut self, q: &[Q]) -> Route {
        self.query.extend_from_slice(q);
        self
    }
    fn paged(self) -> Route {
        self.query(&[
            (
                "limit",
                Type::Integer,
                "每页条数，1–100，默认 20 / page size, 1–100, default 20",
            ),
            (
                "cursor",
                Type::String,
                "上一页的 next_cursor / the previous page's next_cursor",
            ),
        ])
    }
    fn errors(mut self, e: &'static [u16]) -> Route {
        self.errors = e;
        self
    }
}

const STATUS_ORDER: Q = (
    "status",
    Type::String,
    "pending | in_progress | delivered | completed | cancelled | disputed",
);

/// Every route of the HTTP API, in the order of `api.md`.
pub fn routes() -> Vec<Route> {
    use Access::*;
    vec![
        // auth
        route(
            "POST",
            "/auth/register",
            "auth-register",
            Public,
            "auth",
            "注册 / Register",
        )
        .body(one::<RegisterRequest>)
        .created(one::<SignedInView>)
        .errors(&[409]),
        route(
            "POST",
            "/auth/login",
            "auth-login",
            Public,
            "auth",
            "登录 / Sign in",
        )
        .body(one::<LoginRequest>)
        .ok(one::<SignedInView>)
        .errors(&[401, 403]),
        route(
            "POST",
            "/auth/sms-code",
            "auth-sms-code",
            Public,
            "auth",
            "发送短信验证码 / Send an SMS code",
        )
        .body(one::<SmsCodeRequest>)
        .out(Out::Accepted)
        .errors(&[409, 503]),
        route(
            "POST",
            "/auth/login/sms",
            "auth-login-sms",
            Public,
            "auth",
            "短信验证码登录 / Sign in with an SMS code",
        )
        .body(one::<SmsLoginRequest>)
        .ok(one::<SignedInView>)
        .errors(&[401, 403, 409]),
        route(
            "POST",
            "/auth/refresh-token",
            "auth-refresh",
            Public,
            "auth",
            "刷新令牌 / Refresh tokens",
        )
        .body(one::<RefreshRequest>)
        .ok(one::<Tokens>)
        .errors(&[401, 403]),
        route(
            "POST",
            "/auth/logout",
            "auth-logout",
            Public,
            "auth",
            "退出登录 / Sign out",
        )
        .body(one::<RefreshRequest>)
        .out(Out::NoContent)
        .errors(&[401]),
        route(
            "POST",
            "/auth/verify-email/send",
            "auth-verify-email-send",
            User,
            "auth",
            "发送邮箱验证邮件 / Send the email verification link",
        )
        .out(Out::Accepted)
        .errors(&[409, 503]),
        route(
            "POST",
            "/auth/verify-email",
            "auth-verify-email",
            Public,
            "auth",
            "验证邮箱 / Verify an email address",
        )
        .body(one::<TokenRequest>)
        .ok(one::<OwnUserView>)
        .errors(&[401, 404, 409]),
        route(
            "POST",
            "/auth/password-reset",
            "auth-password-reset",
            Public,
            "auth",
            "申请重置密码 / Ask for a password reset",
        )
        .body(one::<ResetRequest>)
        .out(Out::Accepted)
        .errors(&[503]),
        route(
            "POST",
            "/auth/password-reset/confirm",
            "auth-password-reset-confirm",
            Public,
            "auth",
            "重置密码 / Reset the password",
        )
        .body(one::<ResetConfirmRequest>)
        .ok(one::<ResetDone>)
        .errors(&[401, 404]),
        // users
        route(
            "GET",
            "/users/profile",
            "user-profile-get",
            User,
            "users",
            "我的账号 / My account",
        )
        .ok(one::<OwnUserView>),
        route(
            "PATCH",
            "/users/profile",
            "user-profile-update",
            User,
            "users",
            "修改资料 / Update my profile",
        )
        .body(one::<ProfilePatch>)
        .ok(one::<OwnUserView>)
        .errors(&[409]),
        route(
            "DELETE",
            "/users/profile",
            "user-delete",
            User,
            "users",
            "注销账号（个人信息保护法）/ Delete my account (PIPL)",
        )
        .body(one::<DeleteRequest>)
        .ok(one::<Deleted>)
        .errors(&[409]),
        route(
            "POST",
            "/users/profile/export",
            "user-data-export-request",
            User,
            "users",
            "申请导出我的数据（个人信息保护法）/ Ask for an export of my data (PIPL)",
        )
        .out(Out::Data(202, one::<ExportView>))
        .notes(
            "导出在后台进行，完成后通知您；导出进行中再次申请返回同一次导出；每天最多 10 次。\n\
             The export is written in the background and you are notified when it is ready; \
             asking again while it is being written answers with the same export; at most 10 \
             exports a day. The archive is one \
             JSON document: account, services, orders, reviews, conversations with their \
             messages, notifications, saved services, monthly reports, wallet, ledger lines \
             and withdrawals, each as stored (identity numbers masked).",
        ),
        route(
            "GET",
            "/users/profile/export",
            "user-data-export",
            User,
            "users",
            "我的数据导出 / My data export (PIPL)",
        )
        .ok(one::<ExportView>)
        .errors(&[404])
        .notes(
            "最近一次导出；完成后 download_url 在 15 分钟内有效，存档保留 7 天。\n\
             The newest export; once ready, download_url works for 15 minutes (ask again for \
             a fresh one) and the archive is kept for 7 days.",
        ),
        route(
            "POST",
            "/users/profile/avatar",
            "user-avatar-upload",
            User,
            "users",
            "上传头像 / Upload an avatar",
        )
        .body(one::<UploadRequest>)
        .created(one::<UploadView>),
        route(
            "POST",
            "/users/profile/verification",
            "user-verification-submit",
            User,
            "users",
            "提交实名认证 / Submit 实名认证",
        )
        .body(one::<VerificationRequest>)
        .created(one::<VerificationSummaryView>)
        .errors(&[409]),
        route(
            "GET",
            "/users/profile/saved",
            "user-saved-list",
            User,
            "users",
            "我的收藏 / My saved services",
        )
        .paged()
        .ok(page::<SavedView>),
        route(
            "GET",
            "/users/{user_id}",
            "user-get",
            Public,
            "users",
            "用户公开资料 / A public profile",
        )
        .ok(one::<PublicUserView>),
        route(
            "GET",
            "/users/{user_id}/services",
            "user-services",
            Public,
            "users",
            "该卖家的服务 / That freelancer's services",
        )
        .paged()
        .ok(page::<ServiceView>),
        route(
            "GET",
            "/users/{user_id}/reviews",
            "user-reviews",
            Public,
            "users",
            "收到的评价 / Reviews received",
        )
        .paged()
        .ok(page::<ReviewView>),
        // services
        route(
            "GET",
            "/services/categories",
            "category-list",
            Public,
            "services",
            "服务分类 / Categories",
        )
        .ok(list::<CategoryView>),
        route(
            "GET",
            "/services/skills",
            "skill-list",
            Public,
            "services",
            "技能标签 / Skills",
        )
        .query(&[("category", Type::String, "分类 slug / a category slug")])
        .ok(list::<SkillView>)
        .errors(&[404]),
        route(
            "GET",
            "/services/featured",
            "service-featured",
            Public,
            "services",
            "精选服务 / Featured services",
        )
        .query(&[("limit", Type::Integer, "1–50，默认 12 / 1–50, default 12")])
        .ok(list::<ServiceView>),
        route(
            "GET",
            "/services/search",
            "service-search",
            Public,
            "services",
            "搜索服务 / Search services",
        )
        .query(&[
            (
                "q",
                Type::String,
                "关键词，例如「logo 设计」/ words, e.g. 「logo 设计」",
            ),
            ("category", Type::String, "分类 slug / a category slug"),
            ("skills", Type::String, "逗号分隔 / comma-separated"),
            ("service_type", Type::String, "fixed | hourly | package"),
            ("min_price", Type::String, "例如 100.00 / e.g. 100.00"),
            ("max_price", Type::String, "例如 500.00 / e.g. 500.00"),
            ("min_rating", Type::Number, "0–5"),
            ("max_delivery_days", Type::Integer, "1–90"),
            (
                "sort",
                Type::String,
                "relevance | price_low | price_high | rating | newest",
            ),
            (
                "page",
                Type::Integer,
                "从 1 开始，page × size ≤ 10000 / from 1, page × size ≤ 10,000",
            ),
            ("size", Type::Integer, "1–50"),
            (
                "cursor",
                Type::String,
                "上一页的 next_cursor（不限深度，不与 page 同用）/ the previous page's next_cursor (any depth; not with page)",
            ),
        ])
        .ok(one::<Results>)
        .errors(&[503]),
        route(
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
                Type::String,
                "分类 slug（与 freelancer 二选一）/ a category slug (or freelancer)",
            ),
            ("freelancer", Type::String, "卖家 id / a freelancer's id"),
        ])
        .paged()
        .ok(page::<ServiceView>),
        route(
            "POST",
            "/services",
            "service-create",
            User,
            "services",
            "创建服务（草稿）/ Create a service (draft)",
        )
        .body(one::<ServiceBody>)
        .created(one::<ServiceView>),
        route(
            "GET",
            "/services/{service_id}",
            "service-get",
            OptionalUser,
            "services",
            "服务详情 / A service",
        )
        .ok(one::<ServiceView>),
        route(
            "PATCH",
            "/services/{service_id}",
            "service-update",
            User,
            "services",
            "修改服务 / Update a service",
        )
        .body(one::<ServiceBody>)
        .ok(one::<ServiceView>)
        .errors(&[409]),
        route(
            "DELETE",
            "/services/{service_id}",
            "service-delete",
            User,
            "services",
            "删除服务 / Delete a service",
        )
        .out(Out::NoContent)
        .errors(&[409]),
        route(
            "POST",
            "/services/{service_id}/publish",
            "service-publish",
            User,
            "services",
            "发布服务（自动审核）/ Publish (automated moderation)",
        )
        .ok(one::<ServiceView>)
        .errors(&[409]),
        route(
            "POST",
            "/services/{service_id}/pause",
            "service-pause",
            User,
            "services",
            "暂停服务 / Pause a service",
        )
        .ok(one::<ServiceView>)
        .errors(&[409]),
        route(
            "GET",
            "/services/{service_id}/reviews",
            "service-reviews",
            Public,
            "services",
            "服务评价 / A service's reviews",
        )
        .paged()
        .ok(page::<ReviewView>),
        route(
            "POST",
            "/services/{service_id}/save",
            "service-save",
            User,
            "services",
            "收藏 / Save",
        )
        .ok(one::<Saved>),
        route(
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
        .out(Out::NoContent),
        route(
            "POST",
            "/services/{service_id}/media",
            "service-media-upload",
            User,
            "services",
            "上传服务图片或视频 / Upload service media",
        )
        .body(one::<UploadRequest>)
        .created(one::<UploadView>)
        .errors(&[409]),
        route(
            "POST",
            "/services/{service_id}/order",
            "order-create",
            User,
            "orders",
            "下单 / Place an order",
        )
        .body(one::<OrderBody>)
        .created(one::<OrderView>)
        .errors(&[409]),
        // orders
        route(
            "GET",
            "/orders",
            "order-list",
            User,
            "orders",
            "我的订单 / My orders",
        )
        .query(&[("role", Type::String, "client | freelancer"), STATUS_ORDER])
        .paged()
        .ok(page::<OrderView>),
        route(
            "GET",
            "/orders/{order_id}",
            "order-get",
            User,
            "orders",
            "订单详情 / An order",
        )
        .ok(one::<OrderWithReview>),
        route(
            "POST",
            "/orders/{order_id}/pay",
            "order-pay",
            User,
            "orders",
            "付款 / Pay",
        )
        .body(one::<PayBody>)
        .ok(paid)
        .errors(&[409, 503]),
        route(
            "GET",
            "/orders/{order_id}/deliveries",
            "order-deliveries-list",
            User,
            "orders",
            "交付记录 / Deliveries",
        )
        .paged()
        .ok(page::<StepView>),
        route(
            "POST",
            "/orders/{order_id}/deliveries",
            "order-deliver",
            User,
            "orders",
            "交付 / Deliver",
        )
        .body(one::<DeliverBody>)
        .created(one::<Delivered>)
        .errors(&[409]),
        route(
            "GET",
            "/orders/{order_id}/revisions",
            "order-revisions-list",
            User,
            "orders",
            "修改记录 / Revisions",
        )
        .paged()
        .ok(page::<StepView>),
        route(
            "POST",
            "/orders/{order_id}/revisions",
            "order-revision-request",
            User,
            "orders",
            "要求修改 / Ask for a revision",
        )
        .body(one::<MessageOnlyBody>)
        .created(one::<RevisionRequested>)
        .errors(&[409]),
        route(
            "POST",
            "/orders/{order_id}/accept",
            "order-accept",
            User,
            "orders",
            "确认验收 / Accept the delivery",
        )
        .ok(one::<OrderView>)
        .errors(&[409]),
        route(
            "POST",
            "/orders/{order_id}/cancel",
            "order-cancel",
            User,
            "orders",
            "取消订单 / Cancel",
        )
        .body(one::<ReasonBody>)
        .ok(one::<OrderView>)
        .errors(&[409]),
        route(
            "POST",
            "/orders/{order_id}/dispute",
            "order-dispute",
            User,
            "orders",
            "发起纠纷 / Open a dispute",
        )
        .body(one::<DisputeBody>)
        .ok(one::<OrderView>)
        .errors(&[409]),
        route(
            "GET",
            "/orders/{order_id}/messages",
            "order-messages-list",
            User,
            "messaging",
            "订单会话消息 / The order's messages",
        )
        .paged()
        .ok(one::<MessagePage>),
        route(
            "POST",
            "/orders/{order_id}/messages",
            "order-message-send",
            User,
            "messaging",
            "在订单会话中发消息 / Message about the order",
        )
        .body(one::<MessageBody>)
        .created(one::<SentView>)
        .errors(&[409]),
        route(
            "POST",
            "/orders/{order_id}/review",
            "review-create",
            User,
            "reviews",
            "评价订单 / Review the order",
        )
        .body(one::<ReviewBody>)
        .created(one::<ReviewView>)
        .errors(&[409]),
        route(
            "POST",
            "/reviews/{review_id}/response",
            "review-respond",
            User,
            "reviews",
            "回复评价 / Respond to a review",
        )
        .body(one::<ResponseBody>)
        .created(one::<ReviewView>)
        .errors(&[409]),
        // messaging
        route(
            "GET",
            "/messaging/conversations",
            "conversation-list",
            User,
            "messaging",
            "我的会话 / My conversations",
        )
        .paged()
        .ok(page::<ConversationView>),
        route(
            "POST",
            "/messaging/conversations",
            "conversation-create",
            User,
            "messaging",
            "发起会话 / Start a conversation",
        )
        .body(one::<ConversationBody>)
        .created(one::<ConversationView>)
        .errors(&[404, 409]),
        route(
            "GET",
            "/messaging/conversations/{conversation_id}/messages",
            "message-list",
            User,
            "messaging",
            "会话消息 / Messages",
        )
        .paged()
        .ok(one::<MessagePage>),
        route(
            "POST",
            "/messaging/conversations/{conversation_id}/messages",
            "message-send",
            User,
            "messaging",
            "发送消息 / Send a message",
        )
        .body(one::<MessageBody>)
        .created(one::<SentView>)
        .errors(&[409]),
        route(
            "POST",
            "/messaging/conversations/{conversation_id}/read",
            "conversation-read",
            User,
            "messaging",
            "标记已读 / Mark as read",
        )
        .ok(one::<ConversationRead>),
        route(
            "POST",
            "/messaging/conversations/{conversation_id}/attachments",
            "message-attachment-upload",
            User,
            "messaging",
            "上传附件 / Upload an attachment",
        )
        .body(one::<UploadRequest>)
        .created(one::<UploadView>),
        route(
            "GET",
            "/messaging/notifications",
            "notification-list",
            User,
            "messaging",
            "通知 / Notifications",
        )
        .query(&[("unread", Type::Boolean, "仅未读 / unread only")])
        .paged()
        .ok(one::<NotificationPage>),
        route(
            "POST",
            "/messaging/notifications/{notification_id}/read",
            "notification-read",
            User,
            "messaging",
            "通知已读 / Mark a notification read",
        )
        .ok(one::<NotificationRead>),
        route(
            "POST",
            "/messaging/notifications/read-all",
            "notification-read-all",
            User,
            "messaging",
            "全部已读 / Mark all read",
        )
        .ok(one::<AllRead>),
        // payments
        route(
            "GET",
            "/payments/methods",
            "payment-methods",
            Public,
            "payments",
            "支付方式与限额 / Payment methods and limits",
        )
        .ok(one::<MethodsView>),
        route(
            "GET",
            "/payments/wallet",
            "wallet-get",
            User,
            "payments",
            "我的钱包 / My wallet",
        )
        .ok(one::<WalletView>),
        route(
            "GET",
            "/payments/transactions",
            "transaction-list",
            User,
            "payments",
            "资金流水 / My ledger lines",
        )
        .paged()
        .ok(page::<LineView>),
        route(
            "POST",
            "/payments/topups",
            "topup-create",
            User,
            "payments",
            "充值 / Top up",
        )
        .body(one::<TopupBody>)
        .created(one::<ChargeView>)
        .errors(&[409, 503]),
        route(
            "POST",
            "/payments/callbacks/alipay",
            "payment-callback-alipay",
            Gateway,
            "payments",
            "支付宝异步通知（RSA2 验签）/ Alipay notification (RSA2-verified)",
        )
        .form()
        .out(Out::Text("success"))
        .errors(&[404, 409, 413, 415, 422]),
        route(
            "POST",
            "/payments/callbacks/wechat",
            "payment-callback-wechat",
            Gateway,
            "payments",
            "微信支付 v3 通知 / WeChat Pay v3 notification",
        )
        .body(|_| {
            ObjectBuilder::new()
                .description(Some(
                    "微信支付 v3 通知（AES-256-GCM 加密的 resource）/ WeChat Pay v3 notification",
                ))
                .into()
        })
        .out(Out::NoContent)
        .errors(&[404, 409]),
        route(
            "GET",
            "/payments/withdrawals",
            "withdrawal-list",
            User,
            "payments",
            "我的提现 / My withdrawals",
        )
        .paged()
        .ok(page::<WithdrawalView>),
        route(
            "POST",
            "/payments/withdrawals",
            "withdrawal-create",
            User,
            "payments",
            "申请提现 / Ask for a withdrawal",
        )
        .body(one::<WithdrawalBody>)
        .created(one::<WithdrawalView>)
        .errors(&[409]),
        // reports
        route(
            "POST",
            "/reports",
            "report-create",
            User,
            "reports",
            "举报 / Report",
        )
        .body(one::<CreateRequest>)
        .created(one::<ReportView>)
        .errors(&[404, 409]),
        // admin
        route(
            "GET",
            "/admin/users",
            "admin-user-list",
            Admin,
            "admin",
            "用户管理 / Users",
        )
        .query(&[
            ("type", Type::String, "freelancer | client | admin"),
            ("verified", Type::Boolean, "已实名 / verified"),
            ("banned", Type::Boolean, "已封禁 / banned"),
        ])
        .paged()
        .ok(page::<AdminUserView>),
        route(
            "PATCH",
            "/admin/users/{user_id}",
            "admin-user-update",
            Admin,
            "admin",
            "封禁、解封、认证、限制 / Ban, unban, verify, restrict",
        )
        .body(one::<UserUpdateRequest>)
        .ok(one::<AdminUserView>)
        .errors(&[409]),
        route(
            "GET",
            "/admin/services",
            "admin-service-list",
            Admin,
            "admin",
            "服务审核列表 / Services by status",
        )
        .query(&[(
            "status",
            Type::String,
            "draft | pending | active | paused | rejected",
        )])
        .paged()
        .ok(page::<ServiceView>),
        route(
            "POST",
            "/admin/services/{service_id}/moderate",
            "admin-service-moderate",
            Admin,
            "admin",
            "审核服务 / Moderate a service",
        )
        .body(one::<ModerateRequest>)
        .ok(one::<ServiceView>)
        .errors(&[409]),
        route(
            "GET",
            "/admin/orders",
            "admin-order-list",
            Admin,
            "admin",
            "订单（默认纠纷中）/ Orders (disputed by default)",
        )
        .query(&[STATUS_ORDER])
        .paged()
        .ok(page::<OrderView>),
        route(
            "POST",
            "/admin/orders/{order_id}/resolve",
            "admin-order-resolve",
            Admin,
            "admin",
            "裁决纠纷 / Settle a dispute",
        )
        .body(one::<SettleBody>)
        .ok(one::<OrderView>)
        .errors(&[409]),
        route(
            "GET",
            "/admin/reports",
            "admin-report-list",
            Admin,
            "admin",
            "举报列表 / Reports",
        )
        .query(&[
            ("status", Type::String, "pending | resolved | dismissed"),
            ("type", Type::String, "service | user | review | message"),
        ])
        .paged()
        .ok(page::<ReportView>),
        route(
            "POST",
            "/admin/reports/{report_id}/resolve",
            "admin-report-resolve",
            Admin,
            "admin",
            "处理举报 / Decide a report",
        )
        .body(one::<ResolveRequest>)
        .ok(one::<ReportView>)
        .errors(&[409]),
        route(
            "GET",
            "/admin/withdrawals",
            "admin-withdrawal-list",
            Admin,
            "admin",
            "提现审核列表 / Withdrawals",
        )
        .query(&[(
            "status",
            Type::String,
            "pending | approved | paid | failed | rejected",
        )])
        .paged()
        .ok(page::<WithdrawalView>),
        route(
            "POST",
            "/admin/withdrawals/{withdrawal_id}/review",
            "admin-withdrawal-review",
            Admin,
            "admin",
            "审核提现 / Review a withdrawal",
        )
        .body(one::<WithdrawalReviewBody>)
        .ok(one::<WithdrawalView>)
        .errors(&[409, 503]),
        route(
            "GET",
            "/admin/verifications",
            "admin-verification-list",
            Admin,
            "admin",
            "实名认证审核列表 / 实名认证 submissions",
        )
        .query(&[("status", Type::String, "pending | approved | rejected")])
        .paged()
        .ok(page::<VerificationView>),
        route(
            "POST",
            "/admin/verifications/{verification_id}/review",
            "admin-verification-review",
            Admin,
            "admin",
            "审核实名认证 / Review a 实名认证",
        )
        .body(one::<ReviewRequest>)
        .ok(one::<VerificationDecision>)
        .errors(&[409]),
        route(
            "GET",
            "/admin/audit-log",
            "admin-audit-list",
            Admin,
            "admin",
            "操作日志 / Audit log",
        )
        .query(&[
            (
                "month",
                Type::String,
                "yyyy-mm，默认本月 / yyyy-mm, default this month",
            ),
            (
                "target_type",
                Type::String,
                "user | service | order | review | report | withdrawal | verification",
            ),
            ("target_id", Type::String, "对象 id / the object's id"),
        ])
        .paged()
        .ok(page::<AuditView>),
        route(
            "GET",
            "/admin/stats",
            "admin-stats",
            Admin,
            "admin",
            "运营概览 / Operators' overview",
        )
        .query(&[
            ("from", Type::String, "yyyy-mm-dd（北京时间）/ China date"),
            ("to", Type::String, "yyyy-mm-dd（北京时间）/ China date"),
        ])
        .ok(one::<Overview>),
        // platform
        route(
            "GET",
            "/health",
            "health",
            Public,
            "platform",
            "健康检查 / Health",
        )
        .ok(one::<HealthView>),
        route(
            "GET",
            "/openapi.json",
            "openapi",
            Public,
            "platform",
            "本文档 / This document",
        )
        .out(Out::Raw),
        route(
            "GET",
            "/docs",
            "api-docs",
            Public,
            "platform",
            "可阅读的接口文档（离线可用）/ Readable API docs (work offline)",
        )
        .out(Out::Html),
    ]
}

// ---- Assembling the document.

fn envelope(data: RefOr<Schema>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([true])),
        )
        .required("success")
        .property("message", string().examples([json!("成功")]))
        .required("message")
        .property("data", data)
        .required("data")
        .property("timestamp", date_time())
        .required("timestamp")
        .into()
}

fn error_envelope() -> RefOr<Schema> {
    ObjectBuilder::new()
        .description(Some("错误响应 / An error"))
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([false])),
        )
        .required("success")
        .property(
            "message",
            string().description(Some(
                "按 Accept-Language 选择中文或英文 / in the language of Accept-Language",
            )),
        )
        .required("message")
        .property(
            "code",
            string().description(Some(
                "稳定的错误码 / a stable code, e.g. order.invalid_transition",
            )),
        )
        .required("code")
        .property(
            "errors",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::Object,
                    Type::Null,
                ]))
                .additional_properties(Some(AdditionalProperties::RefOr(
                    ArrayBuilder::new().items(string()).into(),
                )))
                .description(Some("字段 → 错误说明 / field → messages")),
        )
        .required("errors")
        .property("request_id", string())
        .required("request_id")
        .property("timestamp", date_time())
        .required("timestamp")
        .into()
}

/// A Chinese example of each error status (the `message` follows `Accept-Language`).
fn error_example(status: u16) -> (&'static str, &'static str, &'static str) {
    match status {
        400 => (
            "request.invalid_json",
            "请求体不是有效的 JSON",
            "Malformed request",
        ),
        401 => (
            "auth.missing_token",
            "请先登录",
            "No, invalid or expired token",
        ),
        403 => (
            "auth.forbidden",
            "没有权限执行此操作",
            "Signed in but not allowed",
        ),
        404 => ("order.not_found", "订单不存在", "Not found, or not yours"),
        409 => (
            "order.invalid_transition",
            "订单当前状态为「已交付」，不能执行此操作",
            "Conflicts with the current state",
        ),
        413 => ("request.too_large", "请求体过大", "Body too large"),
        415 => (
            "request.unsupported_media_type",
            "请求体须为 JSON（Content-Type: application/json）",
            "Not JSON",
        ),
        422 => (
            "validation.failed",
            "提交的信息有误",
            "Valid JSON that breaks a rule",
        ),
        429 => (
            "rate_limited",
            "操作过于频繁，请稍后再试",
            "Rate limited; see Retry-After",
        ),
        503 => (
            "service.unavailable",
            "服务暂时不可用，请稍后再试",
            "A dependency is unavailable; try again",
        ),
        _ => ("internal", "服务器内部错误", "Server error"),
    }
}

fn error_response(status: u16) -> utoipa::openapi::Response {
    let (code, zh, en) = error_example(status);
    let mut errors = serde_json::Value::Null;
    if status == 422 {
        errors = json!({"title": ["标题须为 10 到 100 个字符"]});
    }
    let mut b = ResponseBuilder::new().description(en).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Error")))
            .example(Some(json!({
                "success": false,
                "message": zh,
                "code": code,
                "errors": errors,
                "request_id": "3f6c2a1e-0000-4000-8000-000000000000",
                "timestamp": "2026-11-24T08:00:00Z"
            })))
            .build(),
    );
    if status == 429 {
        b = b.header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("秒 / seconds"))
                .build(),
        );
    }
    b.build()
}

fn path_params(path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(
                    string().examples([json!("01JD6Q3M8Y6V0Z4W2K9R5T7B1C")]),
                ))
                .build()
        })
        .collect()
}

fn method_of(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PATCH" => HttpMethod::Patch,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The statuses a route can answer with besides success: its own plus those of its kind.
pub fn error_statuses(r: &Route) -> Vec<u16> {
    let mut s = vec![400, 429];
    if matches!(
        r.access,
        Access::User | Access::Admin | Access::OptionalUser
    ) {
        s.extend([401, 403]);
    }
    if r.path.contains('{') {
        s.push(404);
    }
    if matches!(r.input, In::Json(_)) {
        s.extend([413, 415, 422]);
    }
    if !r.query.is_empty() {
        s.push(422);
    }
    s.extend_from_slice(r.errors);
    s.sort_unstable();
    s.dedup();
    s
}

fn operation(r: &Route, c: &mut Components) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .operation_id(Some(r.function))
        .tag(r.tag)
        .summary(Some(r.summary))
        .description(Some(match r.notes {
            Some(notes) => format!("{notes}\n\nLambda: `{}`", r.function),
            None => format!("Lambda: `{}`", r.function),
        }));
    let mut params = path_params(r.path);
    params.extend(r.query.iter().map(|(name, ty, desc)| {
        ParameterBuilder::new()
            .name(*name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(*desc))
            .schema(Some(ObjectBuilder::new().schema_type(ty.clone())))
            .build()
    }));
    if matches!(
        r.function,
        "order-create" | "order-pay" | "topup-create" | "withdrawal-create"
    ) {
        params.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "同一个键和请求体重放第一次的响应 / the same key and body replay the first answer",
                ))
                .schema(Some(string().max_length(Some(128)).pattern(Some("^[A-Za-z0-9_.:-]+$"))))
                .build(),
        );
    }
    op = op.parameters(Some(params));
    match r.input {
        In::Nothing => {}
        In::Json(f) => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(f(c))).build(),
                    )
                    .build(),
            ));
        }
        In::Form => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/x-www-form-urlencoded",
                        ContentBuilder::new()
                            .schema(Some(ObjectBuilder::new().additional_properties(Some(
                                AdditionalProperties::RefOr(string().into()),
                            ))))
                            .build(),
                    )
                    .build(),
            ));
        }
    }
    let success = match r.output {
        Out::Data(status, f) => (
            status,
            ResponseBuilder::new()
                .description(if status == 201 {
                    "已创建 / Created"
                } else {
                    "成功 / OK"
                })
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(envelope(f(c)))).build(),
                )
                .build(),
        ),
        Out::Accepted => (
            202,
            ResponseBuilder::new()
                .description("已受理 / Accepted")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(envelope(
                            ObjectBuilder::new().schema_type(Type::Null).into(),
                        )))
                        .build(),
                )
                .build(),
        ),
        Out::NoContent => (
            204,
            ResponseBuilder::new()
                .description("无内容 / No content")
                .build(),
        ),
        Out::Text(body) => (
            200,
            ResponseBuilder::new()
                .description("纯文本 / Plain text")
                .content(
                    "text/plain",
                    ContentBuilder::new()
                        .schema(Some(string()))
                        .example(Some(json!(body)))
                        .build(),
                )
                .build(),
        ),
        Out::Html => (
            200,
            ResponseBuilder::new()
                .description("HTML")
                .content(
                    "text/html",
                    ContentBuilder::new().schema(Some(string())).build(),
                )
                .build(),
        ),
        Out::Raw => (
            200,
            ResponseBuilder::new()
                .description("OpenAPI 3.1")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new()))
                        .build(),
                )
                .build(),
        ),
    };
    op = op.response(success.0.to_string(), success.1);
    for status in error_statuses(r) {
        op = op.response(
            status.to_string(),
            Ref::new(format!("#/components/responses/E{status}")),
        );
    }
    match r.access {
        Access::Public | Access::Gateway => {}
        Access::OptionalUser => {
            op = op.securities(Some([
                SecurityRequirement::default(),
                SecurityRequirement::new("bearer", Vec::<String>::new()),
            ]));
        }
        Access::User | Access::Admin => {
            op = op.securities(Some([SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]));
        }
    }
    op.build()
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut c = Components::default();
    let mut paths = PathsBuilder::new();
    let mut by_path: Vec<(&str, Vec<&Route>)> = Vec::new();
    let all = routes();
    for r in &all {
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, rs)) => rs.push(r),
            None => by_path.push((r.path, vec![r])),
        }
    }
    for (path, rs) in by_path {
        let mut item: Option<PathItem> = None;
        for r in rs {
            let op = operation(r, &mut c);
            let one = PathItem::new(method_of(r.method), op);
            item = Some(match item {
                None => one,
                Some(mut i) => {
                    i.merge_operations(one);
                    i
                }
            });
        }
        if let Some(i) = item {
            paths = paths.path(format!("{BASE}{path}"), i);
        }
    }
    let mut components = ComponentsBuilder::new()
        .schema("Error", error_envelope())
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("15 分钟有效的访问令牌 / a 15-minute access token"))
                    .build(),
            ),
        );
    for status in [400, 401, 403, 404, 409, 413, 415, 422, 429, 503] {
        components = components.response(format!("E{status}"), error_response(status));
    }
    for (name, schema) in c.schemas {
        components = components.schema(name, schema);
    }
    let tags = [
        (
            "auth",
            "注册、登录与账号安全 / Sign-up, sign-in and account security",
        ),
        (
            "users",
            "资料、实名认证与个人信息 / Profiles, 实名认证 and personal data",
        ),
        ("services", "服务（三档套餐）/ Services in three packages"),
        ("orders", "担保交易订单 / Escrow orders"),
        ("reviews", "评价 / Reviews"),
        ("messaging", "消息与通知 / Messages and notifications"),
        (
            "payments",
            "钱包、充值、提现与支付回调 / Wallet, top-ups, withdrawals, gateway callbacks",
        ),
        ("reports", "举报 / Reports"),
        ("admin", "运营后台 / Operators"),
        ("platform", "平台 / Platform"),
    ];
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Gigbao API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Gigbao（技包）自由职业服务平台接口。成功：`{success, message, data, timestamp}`；\
                     失败：`{success: false, message, code, errors, request_id, timestamp}`。\
                     `Accept-Language: zh-CN`（默认）或 `en` 选择提示语言；金额为两位小数的字符串（元）。\n\n\
                     The Gigbao marketplace API. Money is a decimal string in CNY; times are RFC 3339 UTC; \
                     lists take `limit` and `cursor` and answer `{items, next_cursor}`.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .tags(Some(tags.map(|(name, desc)| TagBuilder::new().name(name).description(Some(desc)).build())))
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// The document as served: compact JSON, Chinese as-is.
pub fn document_json() -> String {
    serde_json::to_string(&document()).unwrap_or_else(|_| "{}".to_owned())
}

/// `GET /openapi.json` [openapi]: the document, built once per process.
pub fn serve(_req: &lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(document_json).clone();
    static_response("application/json; charset=utf-8", body)
}

/// `GET /docs` [api-docs]: a page that renders `openapi.json` with the Redoc bundle inlined
/// (`script`), so it needs nothing from the internet.
pub fn docs_page(script: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Gigbao API 接口文档</title>\n<style>body {{ margin: 0; }}</style>\n</head>\n<body>\n\
         <div id=\"redoc\"></div>\n<script>{script}</script>\n\
         <script>Redoc.init(\"openapi.json\", {{ expandResponses: \"200,201\", hideHostname: true }}, \
         document.getElementById(\"redoc\"));</script>\n</body>\n</html>\n"
    )
}

/// A `200` with a body that only changes with a deployment.
pub fn static_response(
    content_type: &'static str,
    body: String,
) -> lambda_http::Response<lambda_http::Body> {
    use lambda_http::http::HeaderValue;
    use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
    let mut resp = lambda_http::Response::new(lambda_http::Body::Text(body));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document as committed in `docs/openapi.json`. A change to a response type or a
    /// route changes it: run `UPDATE_OPENAPI=1 cargo test -p shared openapi` and review the diff.
    #[test]
    fn the_document_matches_its_snapshot() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        let doc: serde_json::Value =
            serde_json::from_str(&document_json()).expect("the document is JSON");
        let pretty = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &pretty).expect("write the snapshot");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == pretty,
            "docs/openapi.json is not the generated document; run UPDATE_OPENAPI=1 cargo test -p shared openapi"
        );
    }

    #[test]
    fn every_operation_documents_its_errors_in_the_envelope() {
        let doc: serde_json::Value =
            serde_json::from_str(&document_json()).expect("the document is JSON");
        let mut ops = 0;
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                ops += 1;
                let responses = op["responses"].as_object().expect("responses");
                for status in ["400", "429"] {
                    assert!(
                        responses.contains_key(status),
                        "{} lacks {status}",
                        op["operationId"]
                    );
                }
                if op.get("security").is_some() {
                    assert!(responses.contains_key("401"), "{}", op["operationId"]);
                }
            }
        }
        assert_eq!(ops, routes().len());
        // Examples in Chinese, as clients will see them.
        let text = document_json();
        assert!(text.contains("订单不存在"));
        assert!(text.contains("专业品牌 Logo 设计"));
    }

    #[test]
    fn no_two_types_share_a_schema_name() {
        let mut c = Components::default();
        for r in routes() {
            operation(&r, &mut c);
        }
        assert!(c.clashes.is_empty(), "{:?}", c.clashes);
    }

    /// The limits the document states are the ones the domain enforces (a schema attribute
    /// takes only literals, so the two are tied here).
    #[test]
    fn documented_limits_are_the_domain_limits() {
        use crate::domain::{Money, order, service};
        let doc: serde_json::Value =
            serde_json::from_str(&document_json()).expect("the document is JSON");
        let schema = |name: &str| doc["components"]["schemas"][name]["properties"].clone();
        assert_eq!(
            schema("OrderBody")["requirements"]["maxLength"],
            order::MAX_REQUIREMENTS_CHARS
        );
        let package = schema("PackageBody");
        assert_eq!(package["delivery_days"]["minimum"], 1);
        assert_eq!(
            package["delivery_days"]["maximum"],
            service::MAX_DELIVERY_DAYS
        );
        assert_eq!(package["revisions"]["maximum"], service::MAX_REVISIONS);
        let money = &doc["components"]["schemas"]["Money"];
        assert_eq!(money["pattern"], Money::PATTERN);
        assert_eq!(
            schema("CreateRequest")["description"]["maxLength"],
            crate::api::reports::MAX_DESCRIPTION_CHARS
        );
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = docs_page("/* bundle */");
        assert!(page.contains("Redoc.init(\"openapi.json\""));
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
