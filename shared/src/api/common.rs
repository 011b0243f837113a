//! What several handler files use — the 404s of the main objects, moderation's answer,
//! idempotency keys, the client's address and device, a payment method in a body — so that no
//! handler file imports another.

use lambda_http::Request;
use serde_json::Value;

use crate::app::ClientInfo;
use crate::app::orders::IdempotencyKey;
use crate::app::payments::PayWith;
use crate::deps::Deps;
use crate::domain::moderation::Finding;
use crate::domain::payment::{Channel, Gateway};
use crate::domain::service::Violation;
use crate::field::Field;
use crate::http::{ApiError, FieldErrors, Reply, client_ip, header};
use crate::i18n::Text;

pub(crate) fn order_not_found() -> ApiError {
    ApiError::not_found("order.not_found", Text::new("订单不存在", "No such order"))
}

pub(crate) fn service_not_found() -> ApiError {
    ApiError::not_found(
        "service.not_found",
        Text::new("服务不存在或已下架", "No such service"),
    )
}

/// 422 with every broken rule by field; `code` is the first rule's own code.
pub(crate) fn violations(v: Vec<Violation>) -> ApiError {
    let first = v.first().map(|v| v.code);
    let mut errors = FieldErrors::new();
    for x in v {
        errors.add(&x.field, x.text);
    }
    let mut err = ApiError::validation(errors);
    if let Some(code) = first {
        err.code = code;
    }
    err
}

/// 422 with each finding by field; `code` is the first finding's own code.
pub(crate) fn moderation_failed(findings: &[Finding], message: Text) -> ApiError {
    let mut errors = FieldErrors::new();
    for f in findings {
        errors.add(f.field(), f.text());
    }
    let mut err = ApiError::validation(errors);
    err.code = findings
        .first()
        .map(|f| f.code())
        .unwrap_or("moderation.rejected");
    err.message = message;
    err
}

pub(super) fn bad_query(name: &str, allowed: &str) -> ApiError {
    ApiError::bad_request(
        "request.invalid_query",
        Text::owned(
            format!("查询参数 {name} 须为 {allowed} 之一"),
            format!("Query parameter {name} must be one of {allowed}"),
        ),
    )
}

/// The `Idempotency-Key` header with a hash of what was asked: the route, the object and the
/// body (canonical JSON, so key order and spacing do not matter).
pub(crate) fn idempotency_key(
    req: &Request,
    scope: &str,
    object: &str,
    body: &str,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(key) = header(req, "idempotency-key") else {
        return Ok(None);
    };
    let key = key.trim();
    if key.is_empty()
        || key.len() > 128
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        return Err(ApiError::bad_request(
            "idempotency.invalid_key",
            Text::new(
                "Idempotency-Key 须为 1 到 128 个字母、数字或 - _ . : 字符",
                "Idempotency-Key must be 1 to 128 letters, digits or - _ . :",
            ),
        ));
    }
    let canonical = format!("{scope}\n{object}\n{body}");
    let request_hash = crate::crypto::sha256_hex(&canonical);
    Ok(Some(IdempotencyKey {
        key: key.to_owned(),
        request_hash,
    }))
}

pub(crate) fn replayed(status: u16, response: &str, message: Text) -> Reply {
    let data: Value = serde_json::from_str(response).unwrap_or(Value::Null);
    if status == 201 {
        Reply::created(message, data)
    } else {
        Reply::ok(message, data)
    }
}

pub(crate) fn client_info(deps: &Deps, req: &Request) -> ClientInfo {
    ClientInfo {
        ip: client_ip(req, deps.config.trust_forwarded_for),
        user_agent: header(req, "user-agent").unwrap_or("").to_owned(),
    }
}

/// How a body asks to pay through a gateway (`order-pay`, `topup-create`).
#[derive(Debug, Default)]
pub(crate) struct GatewayFields {
    pub(crate) method: Field<String>,
    pub(crate) channel: Field<String>,
    pub(crate) openid: Field<String>,
}

/// Checks `method` (a gateway), `channel` and `openid`.
pub(crate) fn pay_with(body: GatewayFields, errors: &mut FieldErrors) -> Option<PayWith> {
    let gateway = body.method.given().and_then(|m| m.parse::<Gateway>().ok());
    let Some(gateway) = gateway else {
        errors.add(
            "method",
            Text::new(
                "支付方式须为 alipay 或 wechat",
                "method must be alipay or wechat",
            ),
        );
        return None;
    };
    let asked = match body.channel {
        Field::Absent | Field::Null => None,
        Field::Given(c) => Some(c),
        Field::Wrong(_) => Some(String::new()),
    };
    let Some(channel) = Channel::of(gateway, asked.as_deref()) else {
        errors.add(
            "channel",
            match gateway {
                Gateway::Alipay => Text::new(
                    "支付宝渠道须为 page 或 wap",
                    "Alipay channel must be page or wap",
                ),
                Gateway::Wechat => Text::new(
                    "微信支付渠道须为 native 或 jsapi",
                    "WeChat Pay channel must be native or jsapi",
                ),
            },
        );
        return None;
    };
    let openid = match body.openid {
        Field::Absent | Field::Null => None,
        Field::Given(o) => Some(o.trim().to_owned()).filter(|o| !o.is_empty()),
        Field::Wrong(_) => {
            errors.add(
                "openid",
                Text::new("openid 须为字符串", "openid must be a string"),
            );
            return None;
        }
    };
    if channel == Channel::Jsapi
        && !openid.as_deref().is_some_and(|o| {
            o.len() <= 128
                && o.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
    {
        errors.add(
            "openid",
            Text::new(
                "JSAPI 支付需要付款人的 openid",
                "A JSAPI payment needs the payer's openid",
            ),
        );
        return None;
    }
    Some(PayWith {
        gateway,
        channel,
        openid: if channel == Channel::Jsapi {
            openid
        } else {
            None
        },
    })
}

/// Wrong, missing, expired or burned codes. `status` is 401 for sign-in, 400 elsewhere.
pub(crate) fn code_refused(
    e: crate::app::sms::CodeRefused,
    status: lambda_http::http::StatusCode,
) -> ApiError {
    let (code, text) = match e {
        crate::app::sms::CodeRefused::Wrong { remaining } => (
            "auth.invalid_code",
            Text::owned(
                format!("验证码错误，还可尝试 {remaining} 次"),
                format!("Wrong code; {remaining} tries left"),
            ),
        ),
        crate::app::sms::CodeRefused::Missing => (
            "auth.invalid_code",
            Text::new("验证码无效，请重新获取", "Invalid code; request a new one"),
        ),
        crate::app::sms::CodeRefused::Expired => (
            "auth.code_expired",
            Text::new(
                "验证码已过期，请重新获取",
                "The code has expired; request a new one",
            ),
        ),
        crate::app::sms::CodeRefused::Burned => (
            "auth.code_attempts_exceeded",
            Text::new(
                "错误次数过多，该验证码已失效，请重新获取",
                "Too many wrong tries; this code no longer works. Request a new one",
            ),
        ),
    };
    ApiError::new(status, code, text)
}
