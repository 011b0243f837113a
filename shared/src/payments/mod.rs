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

use crate::domain::split::{ApplymentState, SplitInstruction, SplitOutcome};
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
    /// The licensed split channel, when this deployment has one: orders of sellers with an
    /// active sub-merchant account are paid into it. Without it: wallet mode only.
    pub split_channel: Option<PaymentProvider>,
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
            split_channel: s
                .wechat_ecommerce
                .map(|c| Ecommerce::new(c).map(PaymentProvider::WechatEcommerce))
                .transpose()?,
        })
    }

    /// Is any WeChat Pay merchant of ours (ordinary or the split channel's platform)
    /// configured?
    pub fn has_wechat(&self) -> bool {
        self.wechat.is_some() || self.wechat_split_channel().is_some()
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
        match (ordinary, self.wechat_split_channel()) {
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
        match (ordinary, self.wechat_split_channel()) {
            (Some(Err(CallbackError::WrongMerchant)) | None, Some(e)) => {
                e.refund_notification(h, body, now)
            }
            (Some(answer), _) => answer,
            (None, None) => Err(CallbackError::WrongMerchant),
        }
    }

    /// The split channel, when its payers pay by WeChat Pay.
    fn wechat_split_channel(&self) -> Option<&PaymentProvider> {
        self.split_channel
            .as_ref()
            .filter(|p| p.gateway() == Gateway::Wechat)
    }

    pub fn enabled(&self, g: Gateway) -> bool {
        match g {
            Gateway::Alipay => self.alipay.is_some(),
            Gateway::Wechat => self.wechat.is_some(),
        }
    }
}

/// A licensed split-payment channel (分账): what the marketplace needs from one, whichever
/// institution runs it — sellers onboarded as sub-merchants, payments into the seller's own
/// (frozen) account, a split instruction when the earnings clear (the commission to us, the rest
/// unfrozen for the seller) and refunds out of the frozen money. WeChat Pay 电商收付通 is built;
/// Alipay 直付通 would be a second variant. See docs/payments.md for what each mode means.
#[derive(Debug)]
pub enum PaymentProvider {
    WechatEcommerce(Ecommerce),
}

impl PaymentProvider {
    /// The gateway its payers pay with.
    pub fn gateway(&self) -> Gateway {
        match self {
            PaymentProvider::WechatEcommerce(_) => Gateway::Wechat,
        }
    }

    /// Uploads an identity document image for an application; the channel's media id.
    pub async fn upload_image(
        &self,
        bytes: &[u8],
        filename: &str,
        content_type: &str,
    ) -> Result<String, GatewayError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => {
                e.upload_image(bytes, filename, content_type).await
            }
        }
    }

    /// Submits (or corrects) a seller's application; the channel's application id.
    pub async fn apply(&self, a: &Applyment) -> Result<String, GatewayError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => e.apply(a).await,
        }
    }

    /// Where the application `out_request_no` stands; `None`: the channel has none.
    pub async fn applyment_state(
        &self,
        out_request_no: &str,
    ) -> Result<Option<ApplymentState>, GatewayError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => e.applyment_state(out_request_no).await,
        }
    }

    /// A payment into `sub_mchid`'s account, frozen for the split: in the payer's app when
    /// `openid` is given (JSAPI), else as a QR code.
    pub async fn charge(
        &self,
        charge: &ChargeRequest,
        sub_mchid: &str,
        openid: Option<&str>,
    ) -> Result<PayParams, GatewayError> {
        match (self, openid) {
            (PaymentProvider::WechatEcommerce(e), Some(openid)) => {
                e.jsapi(charge, sub_mchid, openid).await
            }
            (PaymentProvider::WechatEcommerce(e), None) => e.native(charge, sub_mchid).await,
        }
    }

    /// Checks and opens a payment notification of the channel.
    pub fn notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::domain::payment::GatewayNotice>, CallbackError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => e.notification(h, body, now),
        }
    }

    /// Sends (or reads back) the split instruction `out_order_no`.
    pub async fn split(
        &self,
        out_order_no: &str,
        s: &SplitInstruction,
    ) -> Result<SplitOutcome, GatewayError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => e.split(out_order_no, s).await,
        }
    }

    /// A refund out of the frozen money in `sub_mchid`'s account.
    pub async fn refund(
        &self,
        r: &RefundRequest,
        sub_mchid: &str,
    ) -> Result<crate::domain::refund::RefundOutcome, GatewayError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => e.refund(r, sub_mchid).await,
        }
    }

    /// Where a refund of the channel stands.
    pub async fn refund_state(
        &self,
        refund_no: &str,
        sub_mchid: &str,
    ) -> Result<crate::domain::refund::RefundOutcome, GatewayError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => e.refund_state(refund_no, sub_mchid).await,
        }
    }

    /// Checks and opens a refund notification of the channel.
    pub fn refund_notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<crate::domain::refund::RefundNotice, CallbackError> {
        match self {
            PaymentProvider::WechatEcommerce(e) => e.refund_notification(h, body, now),
        }
    }
}

#[cfg(test)]
mod known_answers;
