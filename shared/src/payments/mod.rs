//! The payment gateways: Alipay and WeChat Pay, written from their published protocols.
//! Each adapter signs what we send, checks what they send, and turns their answers into the
//! few outcomes the use cases decide on. The local stack points them at a gateway sandbox
//! (`infra/local/gateway_sandbox.py`) that plays both gateways with test keys.

pub mod alipay;
pub mod ecommerce;
pub mod keys;
pub mod wechat;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use alipay::{Alipay, AlipayConfig};
pub use ecommerce::{Applyment, Ecommerce};
pub use wechat::{SignatureHeaders, Wechat, WechatConfig};

use crate::domain::Money;
use crate::domain::payment::Gateway;

/// A time in China (UTC+8), the zone both gateways' formats use.
pub use crate::domain::china_time as china;

/// What a gateway needs to take a payment.
#[derive(Debug, Clone)]
pub struct ChargeRequest {
    pub out_trade_no: String,
    pub amount: Money,
    pub subject: String,
    pub expires_at: DateTime<Utc>,
}

/// The client parameters of a WeChat JSAPI payment (`wx.requestPayment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsapiParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    #[serde(skip_deserializing, default = "rsa")]
    pub sign_type: &'static str,
    pub pay_sign: String,
}

fn rsa() -> &'static str {
    "RSA"
}

/// How the client takes the payer to the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PayParams {
    /// Open this URL (Alipay page / WAP).
    Redirect { pay_url: String },
    /// Show this as a QR code (WeChat Native).
    QrCode { code_url: String },
    /// Pass these to `wx.requestPayment` (WeChat JSAPI).
    Jsapi(JsapiParams),
}

/// Money going back to a payer through the gateway that took it.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    /// Ours (`out_request_no` / `out_refund_no`): the gateway refunds each number once.
    pub refund_no: String,
    /// The charge it refunds.
    pub out_trade_no: String,
    /// What the charge took.
    pub total: Money,
    pub amount: Money,
    pub reason: String,
}

/// A payout to a user's account.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    /// Our withdrawal id: the gateway pays each reference once.
    pub reference: String,
    pub amount: Money,
    /// Alipay login (phone or email), or WeChat `openid`.
    pub account: String,
    /// The payee's legal name (from 实名认证); gateways check it against the account.
    pub payee_name: String,
    /// Shown to the payee.
    pub title: String,
}

/// What a gateway said about a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferOutcome {
    Paid {
        reference: String,
    },
    /// Accepted, not final yet (WeChat transfers may wait for the payee to confirm).
    InProgress {
        reference: Option<String>,
    },
    /// Refused for good, in a signed answer: the money did not move.
    Refused {
        reason: String,
    },
}

/// A call to a gateway that did not give a usable answer. None of these prove that money did
/// or did not move, so none of them changes a balance.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("the gateway could not be reached: {0}")]
    Network(String),
    #[error("the gateway's answer was not signed by it: {0}")]
    Unverified(String),
    #[error("the gateway refused the request: {code} {message}")]
    Rejected { code: String, message: String },
    #[error("the gateway's answer could not be read: {0}")]
    Decode(String),
}

/// Why a notification was refused. Nothing moves for any of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("the signature does not verify")]
    BadSignature,
    #[error("signed with a key we do not know")]
    UnknownKey,
    #[error("the timestamp is more than five minutes off")]
    StaleTimestamp,
    #[error("for another merchant or app")]
    WrongMerchant,
    #[error("a required field is missing or malformed")]
    Malformed,
}

/// The gateways this deployment has keys for.
#[derive(Debug, Default)]
pub struct Gateways {
    pub alipay: Option<Alipay>,
    pub wechat: Option<Wechat>,
    /// The licensed split channel (WeChat Pay 电商收付通), when this deployment has one: orders
    /// of sellers with an active sub-merchant account are paid into it.
    pub ecommerce: Option<Ecommerce>,
}

/// The payment settings secret (`PAYMENT_SECRET_ID`, a JSON document in Secrets Manager):
/// `{"alipay": AlipayConfig, "wechat": WechatConfig}`, either left out to disable it. Keys are
/// too long for Lambda's 4 KB of environment, and are secrets: they are read once per cold
/// start.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PaymentSettings {
    #[serde(default)]
    pub alipay: Option<AlipayConfig>,
    #[serde(default)]
    pub wechat: Option<WechatConfig>,
    /// The platform merchant of WeChat Pay 电商收付通 (same fields: our platform `mchid`,
    /// `appid`, keys, notification URLs). Left out: wallet mode only.
    #[serde(default)]
    pub wechat_ecommerce: Option<WechatConfig>,
}

impl Gateways {
    pub fn from_settings(s: PaymentSettings) -> Result<Gateways, keys::KeyError> {
        Ok(Gateways {
            alipay: s.alipay.map(Alipay::new).transpose()?,
            wechat: s.wechat.map(Wechat::new).transpose()?,
            ecommerce: s.wechat_ecommerce.map(Ecommerce::new).transpose()?,
        })
    }

    /// Is any WeChat Pay merchant of ours (ordinary or the split channel's platform)
    /// configured?
    pub fn has_wechat(&self) -> bool {
        self.wechat.is_some() || self.ecommerce.is_some()
    }

    /// Checks and opens a WeChat Pay payment notification, ours as an ordinary merchant or as
    /// the split channel's platform (whichever it names). `Ok(None)`: genuine, not a success.
    pub fn wechat_notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::domain::payment::GatewayNotice>, CallbackError> {
        let ordinary = self.wechat.as_ref().map(|w| w.notification(h, body, now));
        match (ordinary, &self.ecommerce) {
            (Some(Err(CallbackError::WrongMerchant)) | None, Some(e)) => {
                e.notification(h, body, now)
            }
            (Some(answer), _) => answer,
            (None, None) => Err(CallbackError::WrongMerchant),
        }
    }

    /// The same for a refund notification.
    pub fn wechat_refund_notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::domain::refund::RefundNotice, CallbackError> {
        let ordinary = self
            .wechat
            .as_ref()
            .map(|w| w.refund_notification(h, body, now));
        match (ordinary, &self.ecommerce) {
            (Some(Err(CallbackError::WrongMerchant)) | None, Some(e)) => {
                e.refund_notification(h, body, now)
            }
            (Some(answer), _) => answer,
            (None, None) => Err(CallbackError::WrongMerchant),
        }
    }

    pub fn enabled(&self, g: Gateway) -> bool {
        match g {
            Gateway::Alipay => self.alipay.is_some(),
            Gateway::Wechat => self.wechat.is_some(),
        }
    }
}

#[cfg(test)]
mod known_answers;
