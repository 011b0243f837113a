//! The wallet and its statement.

use chrono::Utc;
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::{GatewayFields, idempotency_key, pay_with, replayed};
use super::session::{admin, signed_in};
use super::views::ChargeView;
use super::views::{PageView, rfc3339};
use crate::app::ledger;
use crate::app::orders::{OrderError, Outcome};
use crate::app::payments::{self as pay_app, PaymentError, Review, SettleError};
use crate::app::refunds::{self, RefundError};
use crate::crypto::PiiVault;
use crate::deps::Deps;
use crate::domain::ledger::{Bucket, MovementKind};
use crate::domain::payment::{
    Gateway, GatewayNotice, PayoutMethod, TOPUP_MAX_FEN, TOPUP_MIN_FEN, WITHDRAW_MAX_FEN,
    WITHDRAW_MIN_FEN, Withdrawal, WithdrawalRuleError, WithdrawalStatus,
};
use crate::domain::{Money, WithdrawalId};
use crate::field::Field;
use crate::http::route as r;
use crate::http::{
    ApiError, FieldErrors, ListParams, Reply, header, json_body, json_request, path_id, query_param,
};
use crate::i18n::Text;
use crate::payments::{CallbackError, SignatureHeaders};
use crate::store::LineRecord;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WalletView {
    /// Spendable, and what withdrawals can take.
    balance: Money,
    /// Held in escrow for orders in progress (and withdrawals under way).
    frozen_balance: Money,
    /// Earnings from completed orders waiting out their clearance period.
    pending_clearance: Money,
    /// What is waiting to clear, soonest first.
    clearances: Vec<ClearanceView>,
    total_earned: Money,
    total_spent: Money,
    currency: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ClearanceView {
    order_id: String,
    amount: Money,
    /// When the amount becomes withdrawable.
    clears_at: String,
}

/// `GET /payments/wallet` [wallet-get].
pub async fn wallet(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, user) = signed_in(deps, &req).await?;
    let (b, pending) = ledger::wallet_with_clearances(&deps.store, user.id).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        WalletView {
            balance: Money::from_fen(b.available_fen),
            frozen_balance: Money::from_fen(b.frozen_fen),
            pending_clearance: Money::from_fen(b.pending_fen),
            clearances: pending
                .iter()
                .map(|c| ClearanceView {
                    order_id: c.order_id.to_string(),
                    amount: c.amount,
                    clears_at: rfc3339(&c.clears_at),
                })
                .collect(),
            total_earned: Money::from_fen(b.total_earned_fen),
            total_spent: Money::from_fen(b.total_spent_fen),
            currency: "CNY",
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LineView {
    id: String,
    movement_id: String,
    #[serde(rename = "type")]
    kind: MovementKind,
    /// `available` (spendable), `frozen` (escrow) or `pending_clearance` (earnings waiting to
    /// clear).
    bucket: Bucket,
    /// Signed: money in is positive, money out negative.
    amount: Money,
    order_id: Option<String>,
    description: &'static str,
    description_zh: &'static str,
    created_at: String,
}

impl LineView {
    fn of(l: &LineRecord) -> LineView {
        let (en, zh) = l.kind.describe();
        LineView {
            id: format!("{}#{}", l.movement_id, l.index),
            movement_id: l.movement_id.clone(),
            kind: l.kind,
            bucket: l.bucket,
            amount: Money::from_fen(l.amount),
            order_id: l.order_id.map(|o| o.to_string()),
            description: en,
            description_zh: zh,
            created_at: rfc3339(&l.created_at),
        }
    }
}

/// `GET /payments/transactions` [transaction-list]: the caller's ledger lines, newest first.
pub async fn transactions(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let page = ledger::lines(&deps.store, user.id, params.limit, params.cursor.as_deref()).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page.items.iter().map(LineView::of).collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Gateways: methods, top-ups, callbacks

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> ApiError {
        match e {
            PaymentError::MethodUnavailable(g) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "payment.method_unavailable",
                Text::owned(
                    format!("{}暂未开通，请选择其他支付方式", gateway_zh(g)),
                    format!("{} is not available; choose another method", gateway_en(g)),
                ),
            )
            .with_field("method", Text::new("暂不可用", "Not available")),
            PaymentError::AmountOutOfRange => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "topup.amount_out_of_range",
                Text::new(
                    "单次充值金额须在 1.00 至 50,000.00 元之间",
                    "A top-up must be between 1.00 and 50,000.00",
                ),
            )
            .with_field("amount", Text::new("超出范围", "Out of range")),
            PaymentError::AdminHasNoWallet => ApiError::forbidden(
                "payment.admin_has_no_wallet",
                Text::new("管理员账号没有钱包", "Operator accounts have no wallet"),
            ),
            PaymentError::Gateway(g) => {
                let mut err = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payment.gateway_unavailable",
                    Text::new(
                        "支付渠道暂时无法处理，请稍后重试",
                        "The payment gateway could not take this now; try again shortly",
                    ),
                );
                err.cause = Some(g.to_string().into());
                err
            }
            PaymentError::KeyReused => OrderError::KeyReused.into(),
            PaymentError::Order(o) => o.into(),
            PaymentError::WithdrawalNotFound => withdrawal_not_found(),
            PaymentError::VerificationRequired => ApiError::forbidden(
                "withdrawal.verification_required",
                Text::new(
                    "提现前请先完成实名认证",
                    "Complete real-name verification (实名认证) before withdrawing",
                ),
            ),
            PaymentError::Withdrawal(WithdrawalRuleError::TooSmall) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "withdrawal.amount_too_small",
                Text::new(
                    "单笔提现至少 10.00 元",
                    "A withdrawal must be at least 10.00",
                ),
            )
            .with_field("amount", Text::new("低于最低金额", "Below the minimum")),
            PaymentError::Withdrawal(WithdrawalRuleError::TooLarge) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "withdrawal.amount_too_large",
                Text::new(
                    "单笔提现最多 10,000.00 元",
                    "A withdrawal can be at most 10,000.00",
                ),
            )
            .with_field("amount", Text::new("超过最高金额", "Above the maximum")),
            PaymentError::Withdrawal(WithdrawalRuleError::Status(s)) => ApiError::conflict(
                "withdrawal.invalid_transition",
                Text::owned(
                    format!(
                        "该提现申请当前状态为「{}」，不能执行此操作",
                        withdrawal_status_zh(s)
                    ),
                    format!("Not possible while the withdrawal is {}", s.as_str()),
                ),
            ),
            // Only withdrawals take money out of the wallet here.
            PaymentError::InsufficientFunds => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "withdrawal.insufficient_funds",
                Text::new(
                    "可提现余额不足：订单收入须在结算期满后才可提现",
                    "Not enough withdrawable balance: order earnings can be withdrawn once they clear",
                ),
            ),
            PaymentError::InvalidAccount => ApiError::validation({
                let mut e = FieldErrors::new();
                e.add(
                    "account",
                    Text::new("收款账号格式不正确", "Not an account this method can pay"),
                );
                e
            }),
            PaymentError::Busy => ApiError::conflict(
                "payment.busy",
                Text::new(
                    "该记录正在被其他操作修改，请稍后重试",
                    "This is being changed by another request; try again shortly",
                ),
            ),
            PaymentError::Sealed(e) => ApiError::internal(e),
            PaymentError::Store(e) => ApiError::internal(e),
            PaymentError::List(e) => e.into(),
        }
    }
}

fn gateway_zh(g: Gateway) -> &'static str {
    match g {
        Gateway::Alipay => "支付宝",
        Gateway::Wechat => "微信支付",
    }
}

fn gateway_en(g: Gateway) -> &'static str {
    match g {
        Gateway::Alipay => "Alipay",
        Gateway::Wechat => "WeChat Pay",
    }
}

fn withdrawal_status_zh(s: WithdrawalStatus) -> &'static str {
    match s {
        WithdrawalStatus::Pending => "待审核",
        WithdrawalStatus::Processing => "打款中",
        WithdrawalStatus::Paid => "已到账",
        WithdrawalStatus::Failed => "打款失败",
        WithdrawalStatus::Rejected => "已驳回",
    }
}

fn withdrawal_not_found() -> ApiError {
    ApiError::not_found(
        "withdrawal.not_found",
        Text::new("提现申请不存在", "No such withdrawal"),
    )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MethodView {
    method: &'static str,
    name: &'static str,
    name_zh: &'static str,
    channels: Vec<&'static str>,
}

/// `GET /payments/methods` [payment-methods]: what can be used now, with the limits.
pub async fn methods(deps: &'static Deps, _req: Request) -> Result<Reply, ApiError> {
    let mut pay = vec![MethodView {
        method: "wallet",
        name: "Wallet balance",
        name_zh: "余额支付",
        channels: vec![],
    }];
    let mut topup = vec![];
    let mut withdraw = vec![];
    if deps.gateways.alipay.is_some() {
        let m = || MethodView {
            method: "alipay",
            name: "Alipay",
            name_zh: "支付宝",
            channels: vec!["page", "wap"],
        };
        pay.push(m());
        topup.push(m());
        withdraw.push(MethodView {
            channels: vec![],
            ..m()
        });
    }
    if deps.gateways.wechat.is_some() {
        let m = || MethodView {
            method: "wechat",
            name: "WeChat Pay",
            name_zh: "微信支付",
            channels: vec!["native", "jsapi"],
        };
        pay.push(m());
        topup.push(m());
        withdraw.push(MethodView {
            channels: vec![],
            ..m()
        });
    }
    withdraw.push(MethodView {
        method: "bank",
        name: "Bank card",
        name_zh: "银行卡",
        channels: vec![],
    });
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        MethodsView {
            order_payment: pay,
            topup: TopupMethods {
                methods: topup,
                min_amount: Money::from_fen(TOPUP_MIN_FEN),
                max_amount: Money::from_fen(TOPUP_MAX_FEN),
            },
            withdrawal: WithdrawalMethods {
                methods: withdraw,
                min_amount: Money::from_fen(WITHDRAW_MIN_FEN),
                max_amount: Money::from_fen(WITHDRAW_MAX_FEN),
                fee_rate: "0.02",
                fee_min: "1.00",
                fee_max: "50.00",
                requires_verification: true,
            },
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MethodsView {
    order_payment: Vec<MethodView>,
    topup: TopupMethods,
    withdrawal: WithdrawalMethods,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TopupMethods {
    methods: Vec<MethodView>,
    min_amount: Money,
    max_amount: Money,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WithdrawalMethods {
    methods: Vec<MethodView>,
    min_amount: Money,
    max_amount: Money,
    /// The fee's share of the amount.
    fee_rate: &'static str,
    fee_min: &'static str,
    fee_max: &'static str,
    /// Only accounts with an approved 实名认证 can withdraw.
    requires_verification: bool,
}

/// A required money field written as a string with at most two places.
fn amount_field(value: Field<String>, errors: &mut FieldErrors, name: &str) -> Option<Money> {
    match value.given().map(|a| a.parse::<Money>()) {
        Some(Ok(m)) if m.is_positive() => Some(m),
        _ => {
            errors.add(
                name,
                Text::new(
                    "金额须为正数，写作两位小数的字符串，例如 \"100.00\"",
                    "Must be a positive amount written with two places, like \"100.00\"",
                ),
            );
            None
        }
    }
}

/// `topup-create`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = TopupBody, example = json!({"amount": "500.00", "method": "alipay", "channel": "page"}))]
pub(crate) struct TopupRequest {
    #[serde(default)]
    #[schema(required = true, value_type = Money)]
    amount: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String, pattern = "^(alipay|wechat)$")]
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

/// `withdrawal-create`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = WithdrawalBody, example = json!({"amount": "300.00", "method": "alipay", "account": "zhang.san@example.cn"}))]
pub(crate) struct WithdrawalRequest {
    #[serde(default)]
    #[schema(required = true, value_type = Money)]
    amount: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String, pattern = "^(alipay|wechat|bank)$")]
    method: Field<String>,
    /// The Alipay login (phone or e-mail), the WeChat openid, or the bank card number.
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    account: Field<String>,
}

/// `admin-withdrawal-review`'s body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = WithdrawalReviewBody, example = json!({"action": "reject", "reason": "收款账户与实名信息不一致"}))]
pub(crate) struct WithdrawalReviewRequest {
    #[serde(default)]
    #[schema(required = true, value_type = String, pattern = "^(approve|reject)$")]
    action: Field<String>,
    /// The older name of `action`.
    #[serde(default)]
    #[schema(ignore)]
    decision: Field<String>,
    /// Required to reject; at most 500 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    reason: Field<String>,
}

/// `POST /payments/topups` [topup-create]: `{amount, method: alipay|wechat, channel?, openid?}`.
pub async fn topup(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (body, canonical): (TopupRequest, String) = json_request(&req)?;
    let mut errors = FieldErrors::new();
    let amount = amount_field(body.amount, &mut errors, "amount");
    let pay = pay_with(
        GatewayFields {
            method: body.method,
            channel: body.channel,
            openid: body.openid,
        },
        &mut errors,
    );
    errors.finish()?;
    let (Some(amount), Some(pay)) = (amount, pay) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let key = idempotency_key(&req, "topup-create", "", &canonical)?;
    let (_, user) = signed_in(deps, &req).await?;
    let started = pay_app::top_up(
        &deps.store,
        &deps.gateways,
        &user,
        amount,
        &pay,
        key.as_ref(),
        Utc::now(),
    )
    .await?;
    Ok(Reply::created(
        Text::new(
            "请在 30 分钟内完成支付，到账后余额自动更新",
            "Pay within 30 minutes; the balance updates when the payment arrives",
        ),
        ChargeView::of(&started),
    ))
}

fn callback_error(e: CallbackError) -> ApiError {
    let (code, text) = match e {
        CallbackError::BadSignature | CallbackError::UnknownKey => (
            "payment.invalid_signature",
            Text::new(
                "通知签名校验失败",
                "The notification's signature does not verify",
            ),
        ),
        CallbackError::StaleTimestamp => (
            "payment.stale_notification",
            Text::new(
                "通知时间戳超出 5 分钟窗口",
                "The notification's timestamp is more than 5 minutes off",
            ),
        ),
        CallbackError::WrongMerchant => (
            "payment.wrong_merchant",
            Text::new(
                "通知不属于本商户",
                "The notification is for another merchant",
            ),
        ),
        CallbackError::Malformed => (
            "payment.malformed_notification",
            Text::new(
                "通知内容不完整或格式错误",
                "The notification is incomplete or malformed",
            ),
        ),
    };
    tracing::warn!(alarm = "payment_callback_refused", reason = %e, "refused");
    ApiError::bad_request(code, text)
}

fn settle_error(e: SettleError) -> ApiError {
    match e {
        SettleError::UnknownTrade => ApiError::not_found(
            "payment.unknown_trade",
            Text::new("没有这笔交易", "No such trade of ours"),
        ),
        SettleError::AmountMismatch => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "payment.amount_mismatch",
            Text::new(
                "支付金额与订单金额不符",
                "The amount paid differs from the amount charged",
            ),
        ),
        SettleError::Busy => {
            ApiError::conflict("payment.busy", Text::new("请稍后重试", "Try again shortly"))
        }
        SettleError::Store(e) => ApiError::internal(e),
    }
}

async fn apply(deps: &'static Deps, notice: Option<GatewayNotice>) -> Result<(), ApiError> {
    let Some(notice) = notice else {
        return Ok(());
    };
    let outcome = pay_app::settle(&deps.store, &notice, Utc::now())
        .await
        .map_err(settle_error)?;
    tracing::info!(gateway = %notice.gateway, out_trade_no = %notice.out_trade_no, ?outcome, "notification applied");
    if let pay_app::Settled::Refunding(refund_no) = &outcome {
        refunds::push_quietly(&deps.store, &deps.gateways, refund_no).await;
    }
    Ok(())
}

/// `POST /payments/callbacks/alipay` [payment-callback-alipay]: Alipay's asynchronous
/// notification, form-encoded. Answers plain `success` once applied (or when it reports
/// something that is not a payment); anything else makes Alipay send it again.
pub async fn callback_alipay(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let alipay = deps
        .gateways
        .alipay
        .as_ref()
        .ok_or(PaymentError::MethodUnavailable(Gateway::Alipay))?;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(req.body().as_ref())
        .into_owned()
        .collect();
    let notice = alipay.notification(&form).map_err(callback_error)?;
    apply(deps, notice).await?;
    Ok(Reply::plain("success"))
}

/// WeChat Pay (if enabled), a notification's signature headers and its body.
fn wechat_notification<'a>(
    deps: &'static Deps,
    req: &'a Request,
) -> Result<
    (
        &'static crate::payments::Gateways,
        SignatureHeaders,
        &'a str,
    ),
    ApiError,
> {
    if !deps.gateways.has_wechat() {
        return Err(PaymentError::MethodUnavailable(Gateway::Wechat).into());
    }
    let headers = SignatureHeaders::from_lookup(|name| header(req, name).map(str::to_owned));
    let body = std::str::from_utf8(req.body().as_ref())
        .map_err(|_| callback_error(CallbackError::Malformed))?;
    Ok((&deps.gateways, headers, body))
}

/// `POST /payments/callbacks/wechat` [payment-callback-wechat]: WeChat Pay's notification.
/// Answers 204 once applied; an error status makes WeChat Pay send it again.
pub async fn callback_wechat(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (wechat, headers, body) = wechat_notification(deps, &req)?;
    let notice = wechat
        .wechat_notification(&headers, body, Utc::now())
        .map_err(callback_error)?;
    apply(deps, notice).await?;
    Ok(Reply::no_content())
}

/// `POST /payments/callbacks/wechat/refund` [payment-callback-wechat-refund]: WeChat Pay's
/// refund notification (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`), signed and
/// encrypted like a payment notification. Answers 204 once recorded; an error status makes
/// WeChat Pay send it again.
pub async fn callback_wechat_refund(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (wechat, headers, body) = wechat_notification(deps, &req)?;
    let notice = wechat
        .wechat_refund_notification(&headers, body, Utc::now())
        .map_err(callback_error)?;
    let outcome = refunds::apply_notice(&deps.store, &notice, Utc::now())
        .await
        .map_err(|e| match e {
            RefundError::Unknown => ApiError::not_found(
                "payment.unknown_refund",
                Text::new("没有这笔退款", "No such refund of ours"),
            ),
            RefundError::AmountMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "payment.amount_mismatch",
                Text::new(
                    "退款金额与申请金额不符",
                    "The refunded amount differs from the amount asked",
                ),
            ),
            RefundError::Busy => {
                ApiError::conflict("payment.busy", Text::new("请稍后重试", "Try again shortly"))
            }
            RefundError::Store(e) => ApiError::internal(e),
        })?;
    tracing::info!(refund_no = %notice.refund_no, ?outcome, "refund notification applied");
    Ok(Reply::no_content())
}

// ---------------------------------------------------------------------------------------------
// Withdrawals

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WithdrawalView {
    id: String,
    amount: Money,
    fee: Money,
    /// What reaches the account: `amount − fee`.
    net_amount: Money,
    method: PayoutMethod,
    account: String,
    status: WithdrawalStatus,
    reason: Option<String>,
    payout_reference: Option<String>,
    created_at: String,
    reviewed_at: Option<String>,
    completed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
}

impl WithdrawalView {
    fn of(w: &Withdrawal, for_admin: bool) -> WithdrawalView {
        WithdrawalView {
            id: w.id.to_string(),
            amount: w.amount,
            fee: w.fee,
            net_amount: w.net,
            method: w.method,
            account: w.account_masked.clone(),
            status: w.status,
            reason: w.reason.clone(),
            payout_reference: w.payout_ref.clone(),
            created_at: rfc3339(&w.created_at),
            reviewed_at: w.reviewed_at.as_ref().map(rfc3339),
            completed_at: w.completed_at.as_ref().map(rfc3339),
            user_id: for_admin.then(|| w.user_id.to_string()),
            username: for_admin.then(|| w.username.clone()),
        }
    }
}

fn withdrawals_page(page: crate::store::Page<Withdrawal>, for_admin: bool) -> Reply {
    Reply::ok(
        Text::new("成功", "OK"),
        PageView {
            items: page
                .items
                .iter()
                .map(|w| WithdrawalView::of(w, for_admin))
                .collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        },
    )
}

fn withdrawal_json(w: &Withdrawal) -> String {
    serde_json::to_string(&WithdrawalView::of(w, false)).unwrap_or_default()
}

fn vault(deps: &Deps) -> Result<&PiiVault, ApiError> {
    deps.pii
        .as_ref()
        .ok_or_else(|| ApiError::internal("PII_SECRET_ID is not configured for this function"))
}

/// `POST /payments/withdrawals` [withdrawal-create]: `{amount, method: alipay|wechat|bank,
/// account}`.
pub async fn withdrawal_create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (body, canonical): (WithdrawalRequest, String) = json_request(&req)?;
    let mut errors = FieldErrors::new();
    let amount = amount_field(body.amount, &mut errors, "amount");
    let method = body.method.given().and_then(|m| PayoutMethod::parse(&m));
    if method.is_none() {
        errors.add(
            "method",
            Text::new(
                "提现方式须为 alipay、wechat 或 bank",
                "method must be alipay, wechat or bank",
            ),
        );
    }
    let account = method.and_then(|m| body.account.given().and_then(|a| m.normalize_account(&a)));
    if method.is_some() && account.is_none() {
        errors.add(
            "account",
            match method {
                Some(PayoutMethod::Alipay) => Text::new(
                    "请填写支付宝登录手机号或邮箱",
                    "Give the phone number or email your Alipay account logs in with",
                ),
                Some(PayoutMethod::Wechat) => Text::new(
                    "请填写微信 openid（在小程序或公众号内自动获取）",
                    "Give your WeChat openid (the mini-program fills it in)",
                ),
                _ => Text::new(
                    "银行卡号须为 12 至 19 位数字",
                    "A bank card number has 12 to 19 digits",
                ),
            },
        );
    }
    errors.finish()?;
    let (Some(amount), Some(method), Some(account)) = (amount, method, account) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let key = idempotency_key(&req, "withdrawal-create", "", &canonical)?;
    let (_, user) = signed_in(deps, &req).await?;
    let outcome = pay_app::request_withdrawal(
        &deps.store,
        vault(deps)?,
        &user,
        amount,
        method,
        &account,
        key.as_ref(),
        &withdrawal_json,
        Utc::now(),
    )
    .await?;
    let message = Text::new(
        "提现申请已提交，金额已冻结，审核通过后打款",
        "Withdrawal requested; the amount is frozen until it is reviewed and paid",
    );
    Ok(match outcome {
        Outcome::Done(w) => Reply::created(message, WithdrawalView::of(&w, false)),
        Outcome::Replayed { status, response } => replayed(status, &response, message),
    })
}

/// `GET /payments/withdrawals` [withdrawal-list]: the caller's, newest first.
pub async fn withdrawal_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let params = ListParams::of(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let page =
        pay_app::withdrawals_of(&deps.store, user.id, params.limit, params.cursor.as_deref())
            .await?;
    Ok(withdrawals_page(page, false))
}

/// `GET /admin/withdrawals` [admin-withdrawal-list]: `?status=` (default `pending`), oldest
/// first.
pub async fn admin_withdrawal_list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    admin(deps, &req).await?;
    let params = ListParams::of(&req)?;
    let status = match query_param(&req, "status") {
        None => WithdrawalStatus::Pending,
        Some(s) => WithdrawalStatus::parse(&s).ok_or_else(|| {
            ApiError::bad_request(
                "withdrawal.invalid_status",
                Text::new(
                    "status 须为 pending、processing、paid、failed 或 rejected",
                    "status must be pending, processing, paid, failed or rejected",
                ),
            )
        })?,
    };
    let page =
        pay_app::withdrawal_queue(&deps.store, status, params.limit, params.cursor.as_deref())
            .await?;
    Ok(withdrawals_page(page, true))
}

/// `POST /admin/withdrawals/{withdrawal_id}/review` [admin-withdrawal-review]:
/// `{action: approve|reject, reason (reject)}`.
pub async fn admin_withdrawal_review(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    // Operators only, before anything about the request is looked at.
    let (_, admin_user) = admin(deps, &req).await?;
    let id: WithdrawalId = path_id(&req, "withdrawal_id", withdrawal_not_found)?;
    let body: WithdrawalReviewRequest = json_body(&req)?;
    let mut errors = FieldErrors::new();
    let reason = body
        .reason
        .given()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let review = match body.action.or(body.decision).given().as_deref() {
        Some("approve") => Some(Review::Approve),
        Some("reject") => match reason {
            Some(r) if r.chars().count() <= 500 => Some(Review::Reject { reason: r }),
            _ => {
                errors.add(
                    "reason",
                    Text::new(
                        "驳回须填写原因（最多 500 字）",
                        "A rejection needs a reason (at most 500 characters)",
                    ),
                );
                None
            }
        },
        _ => {
            errors.add(
                "action",
                Text::new("须为 approve 或 reject", "Must be approve or reject"),
            );
            None
        }
    };
    errors.finish()?;
    let Some(review) = review else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let done = pay_app::review_withdrawal(
        &deps.store,
        &deps.gateways,
        vault(deps)?,
        &admin_user,
        id,
        review,
        Utc::now(),
    )
    .await?;
    let message = match (done.withdrawal.status, &done.gateway_note) {
        (WithdrawalStatus::Paid, _) => Text::new("已打款", "Paid out"),
        (WithdrawalStatus::Rejected, _) => Text::new(
            "已驳回，金额已退回用户钱包",
            "Rejected; the money is back in the user's wallet",
        ),
        (WithdrawalStatus::Failed, _) => Text::new(
            "支付渠道拒绝打款，金额已退回用户钱包",
            "The gateway refused the transfer; the money is back in the user's wallet",
        ),
        _ => Text::new(
            "打款处理中，稍后可再次审批以查询结果",
            "The transfer is under way; approve again later to check its result",
        ),
    };
    let mut view =
        serde_json::to_value(WithdrawalView::of(&done.withdrawal, true)).unwrap_or(Value::Null);
    if let (Some(note), Some(map)) = (done.gateway_note, view.as_object_mut()) {
        map.insert("gateway_note".into(), Value::String(note));
    }
    Ok(Reply::ok(message, view))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/payments/methods",
            "payment-methods",
            Public,
            "payments",
            "支付方式与限额 / Payment methods and limits",
        )
        .ok(r::one::<MethodsView>),
        r::route(
            "GET",
            "/payments/wallet",
            "wallet-get",
            User,
            "payments",
            "我的钱包 / My wallet",
        )
        .ok(r::one::<WalletView>),
        r::route(
            "GET",
            "/payments/transactions",
            "transaction-list",
            User,
            "payments",
            "资金流水 / My ledger lines",
        )
        .paged()
        .ok(r::page::<LineView>),
        r::route(
            "POST",
            "/payments/topups",
            "topup-create",
            User,
            "payments",
            "充值 / Top up",
        )
        .body(r::one::<TopupRequest>)
        .created(r::one::<ChargeView>)
        .errors(&[409, 503]),
        r::route(
            "POST",
            "/payments/callbacks/alipay",
            "payment-callback-alipay",
            Gateway,
            "payments",
            "支付宝异步通知（RSA2 验签）/ Alipay notification (RSA2-verified)",
        )
        .form()
        .out(r::Out::Text("success"))
        .errors(&[404, 409, 413, 415, 422]),
        r::route(
            "POST",
            "/payments/callbacks/wechat",
            "payment-callback-wechat",
            Gateway,
            "payments",
            "微信支付 v3 通知 / WeChat Pay v3 notification",
        )
        .body(|_| {
            utoipa::openapi::ObjectBuilder::new()
                .description(Some(
                    "微信支付 v3 通知（AES-256-GCM 加密的 resource）/ WeChat Pay v3 notification",
                ))
                .into()
        })
        .out(r::Out::NoContent)
        .errors(&[404, 409]),
        r::route(
            "POST",
            "/payments/callbacks/wechat/refund",
            "payment-callback-wechat-refund",
            Gateway,
            "payments",
            "微信支付 v3 退款通知 / WeChat Pay v3 refund notification",
        )
        .body(|_| {
            utoipa::openapi::ObjectBuilder::new()
                .description(Some(
                    "微信支付 v3 退款通知（AES-256-GCM 加密的 resource）/ WeChat Pay v3 refund notification",
                ))
                .into()
        })
        .out(r::Out::NoContent)
        .errors(&[404, 409, 422]),
        r::route(
            "GET",
            "/payments/withdrawals",
            "withdrawal-list",
            User,
            "payments",
            "我的提现 / My withdrawals",
        )
        .paged()
        .ok(r::page::<WithdrawalView>),
        r::route(
            "POST",
            "/payments/withdrawals",
            "withdrawal-create",
            User,
            "payments",
            "申请提现 / Ask for a withdrawal",
        )
        .body(r::one::<WithdrawalRequest>)
        .created(r::one::<WithdrawalView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/admin/withdrawals",
            "admin-withdrawal-list",
            Admin,
            "admin",
            "提现审核列表 / Withdrawals",
        )
        .query(&[(
            "status",
            r::Type::String,
            "pending | approved | paid | failed | rejected",
        )])
        .paged()
        .ok(r::page::<WithdrawalView>),
        r::route(
            "POST",
            "/admin/withdrawals/{withdrawal_id}/review",
            "admin-withdrawal-review",
            Admin,
            "admin",
            "审核提现 / Review a withdrawal",
        )
        .body(r::one::<WithdrawalReviewRequest>)
        .ok(r::one::<WithdrawalView>)
        .errors(&[409, 503]),
    ]
}
