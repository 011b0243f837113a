//! Orders over HTTP: place and pay, deliver and revise, accept, cancel, dispute; operators
//! settle disputes.

use chrono::Utc;
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::common::{GatewayFields, pay_with, service_not_found};
use super::common::{idempotency_key, order_not_found, replayed};
use super::order_views::OrderView;
use super::review_views::{ClientReviewView, ReviewView};
use super::session::{admin, signed_in};
use super::uploads::{FileView, attached_views, media_files};
use super::views::ChargeView;
use super::views::{PageView, rfc3339};
use crate::app::files::order_file_key;
use crate::app::orders::{self as app, OrderError, Outcome};
use crate::app::services::Viewer;
use crate::deps::Deps;
use crate::domain::order::{
    MAX_EXTENSION_DAYS, MAX_FILES, MAX_MESSAGE_CHARS, MAX_REASON_CHARS, MAX_REQUIREMENTS_CHARS,
    Order, OrderRuleError, OrderStatus, Party, PaymentStatus, Resolution,
};
use crate::domain::service::Tier;
use crate::domain::{Money, OrderId, ServiceId, UserType};
use crate::field::Field;
use crate::files::Files;
use crate::http::route as r;
use crate::http::{
    ApiError, FieldErrors, ListParams, Reply, json_body, json_request, path_id, query_param,
};
use crate::i18n::Text;
use crate::store::{OrderListing, OrderStep, StepKind};

fn status_zh(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "待付款",
        OrderStatus::InProgress => "进行中",
        OrderStatus::Delivered => "已交付",
        OrderStatus::Completed => "已完成",
        OrderStatus::Cancelled => "已取消",
        OrderStatus::Disputed => "纠纷处理中",
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> ApiError {
        match e {
            OrderError::NotFound => order_not_found(),
            OrderError::ServiceNotFound => service_not_found(),
            OrderError::NoSuchPackage(t) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "order.package_unavailable",
                Text::owned(
                    format!("该服务没有{}套餐", t.names().1),
                    format!("This service has no {} package", t.as_str()),
                ),
            )
            .with_field(
                "package",
                Text::new("该套餐不存在", "This package does not exist"),
            ),
            OrderError::OwnService => ApiError::forbidden(
                "order.own_service",
                Text::new("不能购买自己的服务", "You cannot order your own service"),
            ),
            OrderError::AdminCannotOrder => ApiError::forbidden(
                "order.admin_cannot_order",
                Text::new(
                    "管理员账号不能下单",
                    "Operator accounts cannot place orders",
                ),
            ),
            OrderError::Rule(r) => rule_error(r),
            OrderError::InsufficientFunds => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "wallet.insufficient_funds",
                Text::new(
                    "钱包余额不足，请充值后再付款",
                    "Your wallet balance is not enough; top up and pay again",
                ),
            ),
            OrderError::Busy => ApiError::conflict(
                "order.busy",
                Text::new(
                    "订单正在被其他操作修改，请稍后重试",
                    "The order is being changed by another request; try again shortly",
                ),
            ),
            OrderError::KeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency.key_reused",
                Text::new(
                    "该 Idempotency-Key 已用于另一个不同的请求",
                    "This Idempotency-Key was already used for a different request",
                ),
            ),
            OrderError::Store(e) => ApiError::internal(e),
            OrderError::List(e) => e.into(),
            OrderError::File(e) => e.into(),
        }
    }
}

fn rule_error(r: OrderRuleError) -> ApiError {
    match r {
        // The other party's action: the order exists for them, the action does not.
        OrderRuleError::WrongParty(Party::Client) => ApiError::not_found(
            "order.wrong_party",
            Text::new(
                "只有买家可以对该订单执行此操作",
                "Only the client can do this on this order",
            ),
        ),
        OrderRuleError::WrongParty(Party::Freelancer) => ApiError::not_found(
            "order.wrong_party",
            Text::new(
                "只有卖家可以对该订单执行此操作",
                "Only the freelancer can do this on this order",
            ),
        ),
        OrderRuleError::WrongStatus(s) => ApiError::conflict(
            "order.invalid_transition",
            Text::owned(
                format!("订单当前状态为「{}」，不能执行此操作", status_zh(s)),
                format!("Not possible while the order is {}", s.as_str()),
            ),
        ),
        OrderRuleError::PaymentExpired => ApiError::conflict(
            "order.payment_expired",
            Text::new(
                "订单已超过30分钟付款时限，请重新下单",
                "The 30-minute payment window has passed; place the order again",
            ),
        ),
        OrderRuleError::RevisionsExhausted => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order.revision_quota_exhausted",
            Text::new(
                "该套餐的修改次数已用完",
                "This package's revisions have all been used",
            ),
        ),
        OrderRuleError::CancellationPending => ApiError::conflict(
            "order.cancellation_pending",
            Text::new(
                "您已申请取消，正在等待对方确认",
                "You already asked to cancel; waiting for the other party to confirm",
            ),
        ),
        OrderRuleError::BadRefund => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order.invalid_refund_amount",
            Text::new(
                "部分退款金额须大于 0 且小于订单总额",
                "A split refund must be more than 0 and less than the order total",
            ),
        )
        .with_field(
            "refund_amount",
            Text::new("金额超出范围", "Amount out of range"),
        ),
        OrderRuleError::ExtensionPending => ApiError::conflict(
            "order.extension_pending",
            Text::new(
                "已有延期申请在等待买家确认",
                "An extension request is already waiting for the buyer",
            ),
        ),
        OrderRuleError::NoExtension => ApiError::conflict(
            "order.no_extension",
            Text::new("没有待处理的延期申请", "No extension request is waiting"),
        ),
        OrderRuleError::ExtensionDays => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order.extension_days",
            Text::new("延期天数须为 1–30 天", "An extension is 1–30 days"),
        )
        .with_field("days", Text::new("1–30 天", "1–30 days")),
        OrderRuleError::ExtrasWalletOnly => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order.extras_wallet_only",
            Text::new(
                "仅钱包支付的订单可以追加付费项目",
                "Extras can be added to orders paid from the wallet only",
            ),
        ),
        OrderRuleError::TooManyExtras => ApiError::conflict(
            "order.too_many_extras",
            Text::new("每个订单最多追加 10 项", "At most 10 extras per order"),
        ),
        OrderRuleError::TooFast => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order.too_fast",
            Text::new(
                "加急后交付期限须至少还有一天",
                "Sooner delivery must leave at least a day",
            ),
        )
        .with_field("days", Text::new("提前天数过多", "Too many days sooner")),
        OrderRuleError::AlreadyTipped => ApiError::conflict(
            "order.already_tipped",
            Text::new("该订单已打赏过", "This order was tipped already"),
        ),
        OrderRuleError::NotDue => ApiError::conflict(
            "order.invalid_transition",
            Text::new("订单当前不能执行此操作", "Not possible on this order now"),
        ),
        OrderRuleError::Money(e) => ApiError::internal(e),
    }
}

fn order_json(o: &Order) -> String {
    serde_json::to_string(&OrderView::of(o)).unwrap_or_else(|_| "null".to_owned())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StepView {
    id: String,
    order_id: String,
    number: u32,
    by: String,
    message: String,
    file_keys: Vec<String>,
    /// The checked files of a delivery, each with a download link in the deliveries list.
    files: Vec<FileView>,
    /// The delivery the client accepted (the order's last, once completed).
    is_final: bool,
    created_at: String,
}

impl StepView {
    /// `files`: the bucket to sign download links with (none: no links).
    async fn of(
        s: &OrderStep,
        order: Option<&Order>,
        files: Option<&Files>,
    ) -> Result<StepView, ApiError> {
        let order_id = s.order_id;
        let views = attached_views(
            files,
            &s.files,
            |a| order_file_key(order_id, a.file_id),
            Utc::now(),
        )
        .await?;
        Ok(StepView {
            id: s.id.to_string(),
            order_id: s.order_id.to_string(),
            number: s.number,
            by: s.by.to_string(),
            message: s.message.clone(),
            file_keys: s.file_keys.clone(),
            files: views,
            is_final: s.kind == StepKind::Delivery
                && order.is_some_and(|o| {
                    o.status == OrderStatus::Completed && o.deliveries_count == s.number
                }),
            created_at: rfc3339(&s.created_at),
        })
    }
}

/// A string field with a length limit; `required` makes absence an error.
fn text_field(
    value: Field<String>,
    errors: &mut FieldErrors,
    name: &str,
    max: usize,
    required: bool,
) -> String {
    match value {
        Field::Absent | Field::Null => {
            if required {
                errors.add(name, Text::new("此字段为必填项", "This field is required"));
            }
            String::new()
        }
        Field::Given(s) => {
            let t = s.trim();
            if required && t.is_empty() {
                errors.add(
                    name,
                    Text::new("此字段不能为空", "This field cannot be empty"),
                );
            } else if t.chars().count() > max {
                errors.add(
                    name,
                    Text::owned(
                        format!("不能超过 {max} 个字符"),
                        format!("At most {max} characters"),
                    ),
                );
            }
            t.to_owned()
        }
        Field::Wrong(_) => {
            errors.add(name, Text::new("须为字符串", "Must be a string"));
            String::new()
        }
    }
}

/// File keys an order step refers to: uploaded under the order's own prefix.
fn file_keys(
    value: Field<Vec<Field<String>>>,
    errors: &mut FieldErrors,
    name: &str,
    order: OrderId,
) -> Vec<String> {
    let prefix = format!("uploads/orders/{order}/");
    match value {
        Field::Absent | Field::Null => vec![],
        Field::Given(items) => {
            if items.len() > MAX_FILES {
                errors.add(
                    name,
                    Text::owned(
                        format!("最多 {MAX_FILES} 个文件"),
                        format!("At most {MAX_FILES} files"),
                    ),
                );
                return vec![];
            }
            let mut out = Vec::new();
            for item in items {
                match item.given() {
                    Some(k)
                        if k.starts_with(&prefix)
                            && k.len() <= 512
                            && !k.contains("..")
                            && k.len() > prefix.len() =>
                    {
                        out.push(k)
                    }
                    _ => {
                        errors.add(
                            name,
                            Text::owned(
                                format!("文件须上传到 {prefix} 下"),
                                format!("Files must be uploaded under {prefix}"),
                            ),
                        );
                        return vec![];
                    }
                }
            }
            out
        }
        Field::Wrong(_) => {
            errors.add(name, Text::new("须为数组", "Must be an array"));
            vec![]
        }
    }
}

/// `order-create`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = OrderBody, example = json!({"package": "standard", "requirements": "公司名称：杭州青禾茶业，主色调绿色"}))]
pub(crate) struct OrderRequest {
    #[serde(default)]
    #[schema(required = true, value_type = Tier)]
    package: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 5000)]
    requirements: Field<String>,
}

/// `order-pay`'s body: `wallet` pays now; `alipay` and `wechat` answer with the parameters
/// to pay with.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = PayBody, example = json!({"method": "wallet"}))]
pub(crate) struct PayRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, pattern = "^(wallet|alipay|wechat)$")]
    method: Field<String>,
    /// `page`/`wap` (Alipay), `native`/`jsapi` (WeChat Pay).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    channel: Field<String>,
    /// The payer's WeChat openid (`jsapi`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    openid: Field<String>,
}

/// `order-deliver`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = DeliverBody, example = json!({"message": "初稿已完成，请查收附件中的三套方案", "file_keys": []}))]
pub(crate) struct DeliverRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 5000)]
    message: Field<String>,
    /// Keys of files uploaded for this order (`uploads/orders/{order_id}/…`), at most 10.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 10)]
    file_keys: Field<Vec<Field<String>>>,
}

/// `order-revision-request`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = MessageOnlyBody, example = json!({"message": "请把字体换成更圆润的风格"}))]
pub(crate) struct RevisionRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 5000)]
    message: Field<String>,
}

/// `order-extension-request`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"days": 3, "reason": "门头效果图需要实地拍照，想再多三天"}))]
pub(crate) struct ExtensionRequestBody {
    /// 1–30.
    #[schema(required = true, minimum = 1, maximum = 30)]
    days: Option<u32>,
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 1000)]
    reason: Field<String>,
}

/// `order-extra-add`'s body: `revision` (one more), `faster` (`days` sooner) or `item`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"kind": "item", "description": "加做一套门头效果图", "price": "200.00"}))]
pub(crate) struct ExtraRequest {
    /// `revision`, `faster` or `item`.
    #[schema(required = true)]
    kind: Option<String>,
    /// For `faster`: 1–30 days sooner.
    #[schema(minimum = 1, maximum = 30)]
    days: Option<u32>,
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 500)]
    description: Field<String>,
    #[schema(value_type = Money, required = true)]
    price: Option<String>,
}

/// `order-tip`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"amount": "50.00"}))]
pub(crate) struct TipRequest {
    /// 1.00–10,000.00.
    #[schema(value_type = Money, required = true)]
    amount: Option<String>,
}

/// A money field between `min` and `max` yuan.
fn amount_field(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    (min, max): (i64, i64),
) -> Option<Money> {
    let rule = Text::owned(
        format!("金额须在 {}.00 至 {}.00 元之间", min / 100, max / 100),
        format!("An amount from {}.00 to {}.00", min / 100, max / 100),
    );
    match value.map(|v| v.trim().parse::<Money>()) {
        Some(Ok(m)) if (min..=max).contains(&m.fen()) => Some(m),
        _ => {
            errors.add(field, rule);
            None
        }
    }
}

/// `order-extension-respond`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"accept": true}))]
pub(crate) struct ExtensionAnswer {
    #[schema(required = true)]
    accept: Option<bool>,
}

/// `order-cancel`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ReasonBody, example = json!({"reason": "需求有变，双方协商取消"}))]
pub(crate) struct CancelRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 1000)]
    reason: Field<String>,
}

/// `order-dispute`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = DisputeBody, example = json!({"reason": "卖家逾期未交付且不回复消息", "evidence_keys": []}))]
pub(crate) struct DisputeRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 1000)]
    reason: Field<String>,
    /// Keys of files uploaded for this order, at most 10.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 10)]
    evidence_keys: Field<Vec<Field<String>>>,
}

/// `admin-order-resolve`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SettleBody, example = json!({"resolution": "split", "refund_amount": "100.00", "note": "部分完成，退还一半"}))]
pub(crate) struct SettleRequest {
    #[serde(default)]
    #[schema(required = true, value_type = Resolution)]
    resolution: Field<String>,
    /// The older name of `resolution`.
    #[serde(default)]
    #[schema(ignore)]
    action: Field<String>,
    /// Only for `split`: more than 0 and less than the total.
    #[serde(default)]
    #[schema(value_type = Option<Money>)]
    refund_amount: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String, max_length = 1000)]
    note: Field<String>,
}

/// `POST /services/{service_id}/order` [order-create]: `{package, requirements}` → 201, an
/// unpaid order; `Idempotency-Key` honoured.
pub async fn create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let service_id: ServiceId = path_id(&req, "service_id", service_not_found)?;
    let (body, canonical): (OrderRequest, String) = json_request(&req)?;
    let mut errors = FieldErrors::new();
    let tier = body.package.given().and_then(|p| Tier::parse(&p));
    if tier.is_none() {
        errors.add(
            "package",
            Text::new(
                "请选择套餐：basic、standard 或 premium",
                "Choose a package: basic, standard or premium",
            ),
        );
    }
    let requirements = text_field(
        body.requirements,
        &mut errors,
        "requirements",
        MAX_REQUIREMENTS_CHARS,
        false,
    );
    errors.finish()?;
    let key = idempotency_key(&req, "order-create", &service_id.to_string(), &canonical)?;
    let (_, user) = signed_in(deps, &req).await?;
    let tier = tier.ok_or_else(|| ApiError::internal("package checked above"))?;
    let outcome = app::place(
        &deps.store,
        &deps.config.clearance,
        &user,
        service_id,
        tier,
        requirements,
        key.as_ref(),
        &order_json,
        Utc::now(),
    )
    .await?;
    let message = Text::new(
        "订单已创建，请在30分钟内付款",
        "Order placed; pay within 30 minutes",
    );
    Ok(match outcome {
        Outcome::Done(order) => Reply::created(message, OrderView::of(&order)),
        Outcome::Replayed { status, response } => replayed(status, &response, message),
    })
}

/// `GET /orders` [order-list]: `?role=client|freelancer&status=`; the role defaults to the
/// caller's account type.
pub async fn list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let status = status_param(&req)?;
    let role = query_param(&req, "role");
    if let Some(r) = &role
        && r != "client"
        && r != "freelancer"
    {
        return Err(ApiError::bad_request(
            "order.invalid_role",
            Text::new(
                "role 须为 client 或 freelancer",
                "role must be client or freelancer",
            ),
        ));
    }
    let (_, user) = signed_in(deps, &req).await?;
    let as_freelancer = match role.as_deref() {
        Some(r) => r == "freelancer",
        None => user.user_type == UserType::Freelancer,
    };
    let listing = if as_freelancer {
        OrderListing::Freelancer(user.id, status)
    } else {
        OrderListing::Client(user.id, status)
    };
    let page = app::list(&deps.store, listing, params.limit, params.cursor.as_deref()).await?;
    Ok(orders_page(page))
}

/// `?status=`, if given.
fn status_param(req: &Request) -> Result<Option<OrderStatus>, ApiError> {
    query_param(req, "status")
        .map(|s| {
            OrderStatus::parse(&s).ok_or_else(|| {
                ApiError::bad_request(
                    "order.invalid_status",
                    Text::new(
                        "status 须为 pending、in_progress、delivered、completed、cancelled 或 disputed",
                        "status must be pending, in_progress, delivered, completed, cancelled or disputed",
                    ),
                )
            })
        })
        .transpose()
}

fn orders_page(page: crate::store::Page<Order>) -> Reply {
    Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page.items.iter().map(OrderView::of).collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        },
    )
}

fn order_id(req: &Request) -> Result<OrderId, ApiError> {
    path_id(req, "order_id", order_not_found)
}

/// `GET /orders/{order_id}` [order-get]: its parties and operators; 404 for anyone else.
pub async fn get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::get(&deps.store, Viewer::of(&user), id).await?;
    let reviews = crate::app::reviews::of_order(&deps.store, &user, &order)
        .await
        .map_err(ApiError::internal)?;
    let refunds = app::refunds_of(&deps.store, &order).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        OrderWithReview {
            order: OrderView::of(&order),
            review: reviews.review.as_ref().map(ReviewView::from),
            client_review: reviews.client_review.as_ref().map(ClientReviewView::from),
            awaiting_your_review: reviews.awaiting_your_review,
            refunds: refunds.iter().map(RefundView::of).collect(),
        },
    ))
}

/// An order as `order-get` shows it: with both sides' reviews once they are in (`null` before,
/// so a client knows whether to offer "leave a review"), and the refunds to the original
/// payment. A review is sealed (double-blind) until both sides have reviewed or the 30 days to
/// review end: until then only its author reads it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OrderWithReview {
    #[serde(flatten)]
    order: OrderView,
    /// The client's review of the seller.
    review: Option<ReviewView>,
    /// The seller's review of the client.
    client_review: Option<ClientReviewView>,
    /// The other side has reviewed; their review shows once you review too (or the 30 days
    /// end).
    awaiting_your_review: bool,
    refunds: Vec<RefundView>,
}

/// Money going back to the client's Alipay or WeChat Pay.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RefundView {
    /// Our refund number (what the gateway's records show).
    refund_no: String,
    amount: Money,
    /// Where it goes back to: `alipay` or `wechat`.
    method: crate::domain::payment::Gateway,
    /// `pending` (asked), `processing` (on its way), `succeeded` (back on the payer's
    /// account) or `credited` (the gateway would not take it back: in the wallet instead).
    status: crate::domain::refund::RefundStatus,
    created_at: String,
    finished_at: Option<String>,
}

impl RefundView {
    fn of(r: &crate::domain::refund::Refund) -> RefundView {
        RefundView {
            refund_no: r.refund_no.clone(),
            amount: r.amount,
            method: r.gateway,
            status: r.status,
            created_at: rfc3339(&r.created_at),
            finished_at: r.finished_at.as_ref().map(rfc3339),
        }
    }
}

/// `POST /orders/{order_id}/pay` [order-pay]: `{method: wallet|alipay|wechat}`.
pub async fn pay(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let (body, canonical): (PayRequest, String) = json_request(&req)?;
    if !matches!(&body.method, Field::Given(m) if m == "wallet") {
        return pay_by_gateway(deps, req, id, body, canonical).await;
    }
    let key = idempotency_key(&req, "order-pay", &id.to_string(), &canonical)?;
    let (_, user) = signed_in(deps, &req).await?;
    let outcome = app::pay_from_wallet(
        &deps.store,
        &user,
        id,
        key.as_ref(),
        &order_json,
        Utc::now(),
    )
    .await?;
    let message = Text::new(
        "付款成功，款项由平台托管，卖家已开始工作",
        "Paid; the platform holds the money in escrow and the freelancer can start",
    );
    Ok(match outcome {
        Outcome::Done(order) => Reply::ok(message, OrderView::of(&order)),
        Outcome::Replayed { status, response } => replayed(status, &response, message),
    })
}

/// `order-pay` with `alipay` or `wechat`: the parameters to pay with; the gateway's
/// notification pays the order into escrow.
async fn pay_by_gateway(
    deps: &'static Deps,
    req: Request,
    id: OrderId,
    body: PayRequest,
    canonical: String,
) -> Result<Reply, ApiError> {
    let mut errors = FieldErrors::new();
    let gateway_named = body
        .method
        .as_ref()
        .given()
        .is_some_and(|m| m.parse::<crate::domain::payment::Gateway>().is_ok());
    let pay = pay_with(
        GatewayFields {
            method: body.method,
            channel: body.channel,
            openid: body.openid,
        },
        &mut errors,
    );
    if pay.is_none() && !gateway_named {
        return Err(ApiError::validation({
            let mut e = FieldErrors::new();
            e.add(
                "method",
                Text::new(
                    "支付方式须为 wallet、alipay 或 wechat",
                    "method must be wallet, alipay or wechat",
                ),
            );
            e
        }));
    }
    errors.finish()?;
    let Some(pay) = pay else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let key = idempotency_key(&req, "order-pay", &id.to_string(), &canonical)?;
    let (_, user) = signed_in(deps, &req).await?;
    let started = crate::app::payments::pay_order(
        &deps.store,
        &deps.gateways,
        &user,
        id,
        &pay,
        key.as_ref(),
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new(
            "请在订单付款期限内完成支付，支付成功后款项由平台托管",
            "Pay before the order's payment deadline; the platform then holds the money in escrow",
        ),
        ChargeView::of(&started),
    ))
}

async fn steps(deps: &'static Deps, req: Request, kind: StepKind) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let params = ListParams::of(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let (order, page) = app::steps(
        &deps.store,
        Viewer::of(&user),
        id,
        kind,
        params.limit,
        params.cursor.as_deref(),
    )
    .await?;
    // Deliveries carry download links; revision requests have no files.
    let files = match kind {
        StepKind::Delivery => Some(media_files(deps)?),
        StepKind::Revision => None,
    };
    let mut items = Vec::with_capacity(page.items.len());
    for s in &page.items {
        items.push(StepView::of(s, Some(&order), files.as_ref()).await?);
    }
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items,
            next_cursor: page.next_cursor,
        },
    ))
}

/// `GET /orders/{order_id}/deliveries` [order-deliveries-list].
pub async fn deliveries(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    steps(deps, req, StepKind::Delivery).await
}

/// `GET /orders/{order_id}/revisions` [order-revisions-list].
pub async fn revisions(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    steps(deps, req, StepKind::Revision).await
}

/// `POST /orders/{order_id}/deliveries` [order-deliver]: `{message, file_keys[]}`.
pub async fn deliver(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let body: DeliverRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let message = text_field(
        body.message,
        &mut errors,
        "message",
        MAX_MESSAGE_CHARS,
        true,
    );
    let files = file_keys(body.file_keys, &mut errors, "file_keys", id);
    errors.finish()?;
    let (_, user) = signed_in(deps, &req).await?;
    let (order, step) = app::deliver(&deps.store, &user, id, message, files, Utc::now()).await?;
    Ok(Reply::created(
        Text::new(
            "已交付，等待买家验收（3天后自动确认）",
            "Delivered; the client has 3 days to accept before it completes by itself",
        ),
        Delivered {
            delivery: StepView::of(&step, Some(&order), None).await?,
            order: OrderView::of(&order),
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Delivered {
    delivery: StepView,
    order: OrderView,
}

/// `POST /orders/{order_id}/revisions` [order-revision-request]: `{message}`.
pub async fn request_revision(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let body: RevisionRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let message = text_field(
        body.message,
        &mut errors,
        "message",
        MAX_MESSAGE_CHARS,
        true,
    );
    errors.finish()?;
    let (_, user) = signed_in(deps, &req).await?;
    let (order, step) = app::request_revision(&deps.store, &user, id, message, Utc::now()).await?;
    Ok(Reply::created(
        Text::new("已提交修改要求", "Revision requested"),
        RevisionRequested {
            revision: StepView::of(&step, Some(&order), None).await?,
            order: OrderView::of(&order),
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct RevisionRequested {
    revision: StepView,
    order: OrderView,
}

/// `POST /orders/{order_id}/extension` [order-extension-request]: the freelancer asks the
/// client for 1–30 more days while working (one request at a time).
pub async fn extension_request(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let body: ExtensionRequestBody = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let days = body.days.filter(|d| (1..=MAX_EXTENSION_DAYS).contains(d));
    if days.is_none() {
        errors.add(
            "days",
            Text::new("延期天数须为 1–30 天", "An extension is 1–30 days"),
        );
    }
    let reason = text_field(body.reason, &mut errors, "reason", 1000, true);
    errors.finish()?;
    let days = days.ok_or_else(|| ApiError::internal("days checked above"))?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::request_extension(&deps.store, &user, id, (days, reason), Utc::now()).await?;
    Ok(Reply::created(
        Text::new(
            "已申请延期，等待买家确认",
            "Extension requested; waiting for the buyer",
        ),
        OrderView::of(&order),
    ))
}

/// `POST /orders/{order_id}/extension/respond` [order-extension-respond]: the client accepts
/// (the deadline moves by the days asked) or declines.
pub async fn extension_respond(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let body: ExtensionAnswer = json_body(&req)?;
    let accept = body.accept.ok_or_else(|| {
        let mut f = FieldErrors::new();
        f.add(
            "accept",
            Text::new(
                "请填写 true（同意）或 false（拒绝）",
                "true to accept, false to decline",
            ),
        );
        ApiError::validation(f)
    })?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::respond_extension(&deps.store, &user, id, accept, Utc::now()).await?;
    Ok(Reply::ok(
        if accept {
            Text::new(
                "已同意延期，交付期限已顺延",
                "Extension accepted; the deadline moved",
            )
        } else {
            Text::new("已拒绝延期", "Extension declined")
        },
        OrderView::of(&order),
    ))
}

/// `POST /orders/{order_id}/extras` [order-extra-add]: the client pays an extra into the
/// order's escrow from the wallet (one more revision, delivery sooner, or a line item).
pub async fn extra_add(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    use crate::domain::order::ExtraKind;
    let id = order_id(&req)?;
    let body: ExtraRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let kind = match (body.kind.as_deref(), body.days) {
        (Some("revision"), None) => Some(ExtraKind::Revision),
        (Some("item"), None) => Some(ExtraKind::Item),
        (Some("faster"), Some(days)) if (1..=30).contains(&days) => {
            Some(ExtraKind::Faster { days })
        }
        (Some("faster"), _) => {
            errors.add(
                "days",
                Text::new("加急须填写提前 1–30 天", "faster needs days: 1–30"),
            );
            None
        }
        (Some("revision" | "item"), Some(_)) => {
            errors.add(
                "days",
                Text::new("仅 faster 需要 days", "days goes with faster only"),
            );
            None
        }
        _ => {
            errors.add(
                "kind",
                Text::new(
                    "须为 revision、faster 或 item",
                    "Must be revision, faster or item",
                ),
            );
            None
        }
    };
    let description = text_field(body.description, &mut errors, "description", 500, true);
    let price = amount_field(
        &mut errors,
        "price",
        body.price.as_deref(),
        (100, 100_000_000),
    );
    errors.finish()?;
    let (Some(kind), Some(price)) = (kind, price) else {
        return Err(ApiError::internal("extra checked above"));
    };
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::add_extra(
        &deps.store,
        &user,
        id,
        (kind, description, price),
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "已追加，款项已托管",
            "Extra added; the money is held in escrow",
        ),
        OrderView::of(&order),
    ))
}

/// `POST /orders/{order_id}/tip` [order-tip]: the client tips the seller of a completed
/// order, once, from the wallet; the order's commission is kept, the rest reaches the
/// seller's balance at once.
pub async fn tip(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let body: TipRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let amount = amount_field(
        &mut errors,
        "amount",
        body.amount.as_deref(),
        (100, 1_000_000),
    );
    errors.finish()?;
    let amount = amount.ok_or_else(|| ApiError::internal("amount checked above"))?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::tip(&deps.store, &user, id, amount, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new("打赏成功，感谢你的认可", "Tip sent; thank you"),
        OrderView::of(&order),
    ))
}

/// `POST /orders/{order_id}/accept` [order-accept]: the client accepts; escrow released.
pub async fn accept(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::accept(&deps.store, &user, id, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new(
            "已确认验收，款项已结算给卖家",
            "Accepted; the money has been released to the freelancer",
        ),
        OrderView::of(&order),
    ))
}

/// `POST /orders/{order_id}/cancel` [order-cancel]: `{reason}`.
pub async fn cancel(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let body: CancelRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let reason = text_field(body.reason, &mut errors, "reason", MAX_REASON_CHARS, true);
    errors.finish()?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::cancel(&deps.store, &deps.gateways, &user, id, reason, Utc::now()).await?;
    let message = if order.status == OrderStatus::Cancelled {
        if order.payment_status == PaymentStatus::Refunded {
            Text::new(
                "订单已取消，款项已退回买家钱包",
                "Cancelled; the money is back in the client's wallet",
            )
        } else {
            Text::new("订单已取消", "Order cancelled")
        }
    } else {
        Text::new(
            "已申请取消，等待对方确认",
            "Cancellation requested; waiting for the other party to confirm",
        )
    };
    Ok(Reply::ok(message, OrderView::of(&order)))
}

/// `POST /orders/{order_id}/dispute` [order-dispute]: `{reason, evidence_keys[]}`.
pub async fn dispute(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = order_id(&req)?;
    let body: DisputeRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let reason = text_field(body.reason, &mut errors, "reason", MAX_REASON_CHARS, true);
    let evidence = file_keys(body.evidence_keys, &mut errors, "evidence_keys", id);
    errors.finish()?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = app::dispute(&deps.store, &user, id, reason, evidence, Utc::now()).await?;
    Ok(Reply::ok(
        Text::new(
            "已提交纠纷，平台客服将介入处理",
            "Dispute opened; an operator will look into it",
        ),
        OrderView::of(&order),
    ))
}

/// `GET /admin/orders` [admin-order-list]: `?status=` (default `disputed`), most recently
/// changed first.
pub async fn admin_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let params = ListParams::of(&req)?;
    let status = status_param(&req)?.unwrap_or(OrderStatus::Disputed);
    let page = app::list(
        &deps.store,
        OrderListing::Status(status),
        params.limit,
        params.cursor.as_deref(),
    )
    .await?;
    Ok(orders_page(page))
}

/// `POST /admin/orders/{order_id}/resolve` [admin-order-resolve]:
/// `{resolution: refund|release|split, refund_amount (split), note}`.
pub async fn admin_resolve(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    // Operators only, before anything about the request is looked at.
    let (_, operator) = admin(deps, &req).await?;
    let id = order_id(&req)?;
    let body: SettleRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let resolution = body
        .resolution
        .or(body.action)
        .given()
        .and_then(|r| Resolution::parse(&r));
    if resolution.is_none() {
        errors.add(
            "resolution",
            Text::new(
                "须为 refund、release 或 split",
                "Must be refund, release or split",
            ),
        );
    }
    let refund = match body.refund_amount {
        Field::Absent | Field::Null => None,
        Field::Given(s) => match s.parse::<Money>() {
            Ok(m) => Some(m),
            Err(_) => {
                errors.add(
                    "refund_amount",
                    Text::new(
                        "金额格式不正确，例如 \"50.00\"",
                        "Not an amount; write it like \"50.00\"",
                    ),
                );
                None
            }
        },
        Field::Wrong(_) => {
            errors.add(
                "refund_amount",
                Text::new(
                    "金额须为字符串，例如 \"50.00\"",
                    "Amounts are strings, like \"50.00\"",
                ),
            );
            None
        }
    };
    if resolution == Some(Resolution::Split) && refund.is_none() && errors.is_empty() {
        errors.add(
            "refund_amount",
            Text::new("部分退款须填写退款金额", "A split needs refund_amount"),
        );
    }
    let note = text_field(body.note, &mut errors, "note", MAX_REASON_CHARS, true);
    errors.finish()?;
    let resolution = resolution.ok_or_else(|| ApiError::internal("resolution checked above"))?;
    let order = app::resolve(
        &deps.store,
        &deps.gateways,
        &operator,
        id,
        resolution,
        refund.filter(|_| resolution == Resolution::Split),
        note,
        Utc::now(),
    )
    .await?;
    Ok(Reply::ok(
        Text::new("纠纷已处理", "Dispute resolved"),
        OrderView::of(&order),
    ))
}

/// `order-pay` answers with the order (wallet) or the gateway's payment parameters.
fn paid(c: &mut r::Components) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::schema::OneOfBuilder::new()
        .item(c.of::<OrderView>())
        .item(c.of::<ChargeView>())
        .into()
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "POST",
            "/services/{service_id}/order",
            "order-create",
            User,
            "orders",
            "下单 / Place an order",
        )
        .body(r::one::<OrderRequest>)
        .created(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/orders",
            "order-list",
            User,
            "orders",
            "我的订单 / My orders",
        )
        .query(&[
            ("role", r::Type::String, "client | freelancer"),
            r::STATUS_ORDER,
        ])
        .paged()
        .ok(r::page::<OrderView>),
        r::route(
            "GET",
            "/orders/{order_id}",
            "order-get",
            User,
            "orders",
            "订单详情 / An order",
        )
        .ok(r::one::<OrderWithReview>),
        r::route(
            "POST",
            "/orders/{order_id}/pay",
            "order-pay",
            User,
            "orders",
            "付款 / Pay",
        )
        .body(r::one::<PayRequest>)
        .ok(paid)
        .errors(&[409, 503]),
        r::route(
            "GET",
            "/orders/{order_id}/deliveries",
            "order-deliveries-list",
            User,
            "orders",
            "交付记录 / Deliveries",
        )
        .paged()
        .ok(r::page::<StepView>),
        r::route(
            "POST",
            "/orders/{order_id}/deliveries",
            "order-deliver",
            User,
            "orders",
            "交付 / Deliver",
        )
        .body(r::one::<DeliverRequest>)
        .created(r::one::<Delivered>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/extension",
            "order-extension-request",
            User,
            "orders",
            "申请延期 / Ask for more time",
        )
        .body(r::one::<ExtensionRequestBody>)
        .created(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/extras",
            "order-extra-add",
            User,
            "orders",
            "追加付费项目 / Add a paid extra",
        )
        .body(r::one::<ExtraRequest>)
        .created(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/tip",
            "order-tip",
            User,
            "orders",
            "打赏 / Tip the seller",
        )
        .body(r::one::<TipRequest>)
        .ok(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/extension/respond",
            "order-extension-respond",
            User,
            "orders",
            "同意或拒绝延期 / Answer an extension request",
        )
        .body(r::one::<ExtensionAnswer>)
        .ok(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/orders/{order_id}/revisions",
            "order-revisions-list",
            User,
            "orders",
            "修改记录 / Revisions",
        )
        .paged()
        .ok(r::page::<StepView>),
        r::route(
            "POST",
            "/orders/{order_id}/revisions",
            "order-revision-request",
            User,
            "orders",
            "要求修改 / Ask for a revision",
        )
        .body(r::one::<RevisionRequest>)
        .created(r::one::<RevisionRequested>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/accept",
            "order-accept",
            User,
            "orders",
            "确认验收 / Accept the delivery",
        )
        .ok(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/cancel",
            "order-cancel",
            User,
            "orders",
            "取消订单 / Cancel",
        )
        .body(r::one::<CancelRequest>)
        .ok(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/orders/{order_id}/dispute",
            "order-dispute",
            User,
            "orders",
            "发起纠纷 / Open a dispute",
        )
        .body(r::one::<DisputeRequest>)
        .ok(r::one::<OrderView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/admin/orders",
            "admin-order-list",
            Admin,
            "admin",
            "订单（默认纠纷中）/ Orders (disputed by default)",
        )
        .query(&[r::STATUS_ORDER])
        .paged()
        .ok(r::page::<OrderView>),
        r::route(
            "POST",
            "/admin/orders/{order_id}/resolve",
            "admin-order-resolve",
            Admin,
            "admin",
            "裁决纠纷 / Settle a dispute",
        )
        .body(r::one::<SettleRequest>)
        .ok(r::one::<OrderView>)
        .errors(&[409]),
    ]
}
