//! WeChat Pay API v3.
//!
//! - **Requests** carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
//!   signature="…",timestamp="…",serial_no="…"`, the signature being SHA256withRSA with our
//!   merchant key over `METHOD\nPATH?QUERY\ntimestamp\nnonce\nbody\n`.
//! - **Responses and notifications** are signed by WeChat Pay over `timestamp\nnonce\nbody\n`
//!   (headers `Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial`); the serial names the
//!   platform key (a certificate serial or a `PUB_KEY_ID_…`). Notifications more than five
//!   minutes old or ahead are refused, so a captured one cannot be replayed later.
//! - **Notification resources** are `AEAD_AES_256_GCM` under the merchant's APIv3 key.
//! - JSAPI payments hand the client `appId, timeStamp, nonceStr, package, signType, paySign`,
//!   `paySign` being our signature over `appId\ntimeStamp\nnonceStr\npackage\n`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::keys::{KeyError, RsaSigner, RsaVerifier, aes_256_gcm_open};
use super::{
    CallbackError, ChargeRequest, GatewayError, JsapiParams, PayParams, RefundRequest,
    TransferOutcome, TransferRequest,
};
use crate::domain::Money;
use crate::domain::payment::{Gateway, GatewayNotice};
use crate::domain::refund::{RefundNotice, RefundOutcome};

/// Refund refusals (error codes of `POST /v3/refund/domestic/refunds`) that are final: the
/// trade cannot be refunded. Any other error (`SYSTEM_ERROR`, `NOT_ENOUGH` — our merchant
/// balance, `FREQUENCY_LIMITED` …) leaves the refund pending, to be asked again.
const REFUND_REFUSALS: [&str; 2] = ["RESOURCE_NOT_EXISTS", "ORDER_NOT_EXIST"];

/// How far a notification's timestamp may be from our clock.
const NOTIFY_WINDOW_SECS: i64 = 300;
/// WeChat Pay wants the payee's real name (encrypted) from this amount on.
const NAME_REQUIRED_FROM_FEN: i64 = 200_000;

#[derive(Debug, Clone, Deserialize)]
pub struct WechatConfig {
    pub mchid: String,
    /// The app (Official Account, mini-program) payments and transfers are made under.
    pub appid: String,
    /// Serial number of our merchant API certificate.
    pub merchant_serial: String,
    pub private_key: SecretString,
    /// The 32-character APIv3 key notifications are encrypted with.
    pub apiv3_key: SecretString,
    /// WeChat Pay's keys by serial (platform certificate serial or `PUB_KEY_ID_…`), PEM.
    pub platform_keys: std::collections::BTreeMap<String, String>,
    /// `https://api.mch.weixin.qq.com` in production.
    pub api_base: String,
    /// Our `payment-callback-wechat`.
    pub notify_url: String,
    /// Our `payment-callback-wechat-refund` (default: `notify_url` + `/refund`).
    #[serde(default)]
    pub refund_notify_url: Option<String>,
    /// The transfer scene approved for withdrawals (商家转账 `transfer_scene_id`).
    pub transfer_scene_id: String,
}

#[derive(Debug)]
pub struct Wechat {
    pub(super) config: WechatConfig,
    signer: RsaSigner,
    pub(super) platform: Vec<(String, RsaVerifier)>,
    apiv3_key: [u8; 32],
    pub(super) http: reqwest::Client,
}

/// The headers WeChat Pay signs a response or notification with.
#[derive(Debug, Clone, Default)]
pub struct SignatureHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

impl SignatureHeaders {
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> SignatureHeaders {
        SignatureHeaders {
            timestamp: get("wechatpay-timestamp").unwrap_or_default(),
            nonce: get("wechatpay-nonce").unwrap_or_default(),
            signature: get("wechatpay-signature").unwrap_or_default(),
            serial: get("wechatpay-serial").unwrap_or_default(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Notification {
    #[serde(default)]
    event_type: String,
    resource: Resource,
}

#[derive(Debug, Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

/// A payment as notified: an ordinary merchant's (`mchid`, `appid`) or, through the split
/// channel, a platform's (`sp_mchid`, `sp_appid`) for a seller's `sub_mchid`.
#[derive(Debug, Deserialize)]
pub(super) struct Transaction {
    #[serde(default)]
    pub(super) mchid: String,
    #[serde(default)]
    pub(super) appid: String,
    #[serde(default)]
    pub(super) sp_mchid: String,
    #[serde(default)]
    pub(super) sp_appid: String,
    #[serde(default)]
    pub(super) sub_mchid: Option<String>,
    out_trade_no: String,
    transaction_id: String,
    trade_state: String,
    amount: TransactionAmount,
}

#[derive(Debug, Deserialize)]
struct TransactionAmount {
    total: i64,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Debug, Serialize)]
struct PrepayBody<'a> {
    appid: &'a str,
    mchid: &'a str,
    description: &'a str,
    out_trade_no: &'a str,
    time_expire: String,
    notify_url: &'a str,
    amount: PrepayAmount,
    #[serde(skip_serializing_if = "Option::is_none")]
    payer: Option<Payer<'a>>,
}

#[derive(Debug, Serialize)]
struct PrepayAmount {
    total: i64,
    currency: &'static str,
}

/// An amount in a request: fen, in yuan renminbi.
#[derive(Debug, Serialize)]
pub(super) struct PrepayAmountOut {
    total: i64,
    currency: &'static str,
}

impl PrepayAmountOut {
    pub(super) fn cny(amount: Money) -> PrepayAmountOut {
        PrepayAmountOut {
            total: amount.fen(),
            currency: "CNY",
        }
    }
}

#[derive(Debug, Serialize)]
struct Payer<'a> {
    openid: &'a str,
}

#[derive(Debug, Serialize)]
struct TransferBody<'a> {
    appid: &'a str,
    out_bill_no: &'a str,
    transfer_scene_id: &'a str,
    openid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    transfer_amount: i64,
    transfer_remark: &'a str,
    transfer_scene_report_infos: [ReportInfo; 2],
}

#[derive(Debug, Serialize)]
struct ReportInfo {
    info_type: &'static str,
    info_content: &'static str,
}

#[derive(Debug, Deserialize)]
struct TransferBill {
    #[serde(default)]
    transfer_bill_no: Option<String>,
    state: String,
    #[serde(default)]
    fail_reason: Option<String>,
}

#[derive(Debug, Serialize)]
struct RefundBody<'a> {
    out_trade_no: &'a str,
    out_refund_no: &'a str,
    reason: &'a str,
    notify_url: String,
    amount: RefundAmount,
}

#[derive(Debug, Serialize)]
struct RefundAmount {
    refund: i64,
    total: i64,
    currency: &'static str,
}

/// A refund as WeChat Pay answers it (and, inside a notification, reports it).
#[derive(Debug, Deserialize)]
pub(super) struct RefundState {
    #[serde(default)]
    pub(super) mchid: Option<String>,
    /// The platform, in a split-channel refund's notification.
    #[serde(default)]
    pub(super) sp_mchid: Option<String>,
    pub(super) out_refund_no: String,
    #[serde(default)]
    pub(super) out_trade_no: String,
    #[serde(default)]
    refund_id: Option<String>,
    /// `status` in answers, `refund_status` in notifications.
    #[serde(alias = "refund_status")]
    status: String,
    pub(super) amount: RefundStateAmount,
}

#[derive(Debug, Deserialize)]
pub(super) struct RefundStateAmount {
    pub(super) refund: i64,
}

impl RefundState {
    pub(super) fn outcome(self) -> RefundOutcome {
        match self.status.as_str() {
            "SUCCESS" => RefundOutcome::Succeeded {
                gateway_refund_id: self.refund_id,
            },
            // Closed, or abnormal (the payer's card was closed): it will not arrive.
            "CLOSED" | "ABNORMAL" => RefundOutcome::Refused {
                reason: self.status,
            },
            _ => RefundOutcome::Processing {
                gateway_refund_id: self.refund_id,
            },
        }
    }
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// A random 32-character nonce.
pub(super) fn nonce() -> Result<String, GatewayError> {
    crate::crypto::random_token()
        .map(|t| {
            t.chars()
                .filter(char::is_ascii_alphanumeric)
                .take(32)
                .collect()
        })
        .map_err(|e| GatewayError::Decode(e.to_string()))
}

impl Wechat {
    pub fn new(config: WechatConfig) -> Result<Wechat, KeyError> {
        let signer = RsaSigner::from_pem(config.private_key.expose_secret())?;
        let platform = config
            .platform_keys
            .iter()
            .map(|(serial, pem)| Ok((serial.clone(), RsaVerifier::from_pem(pem)?)))
            .collect::<Result<Vec<_>, KeyError>>()?;
        let apiv3_key: [u8; 32] = config
            .apiv3_key
            .expose_secret()
            .as_bytes()
            .try_into()
            .map_err(|_| KeyError::Length)?;
        Ok(Wechat {
            config,
            signer,
            platform,
            apiv3_key,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        })
    }

    pub fn mchid(&self) -> &str {
        &self.config.mchid
    }

    /// The `Authorization` header for a request.
    pub fn authorization(
        &self,
        method: &str,
        path_and_query: &str,
        body: &str,
        timestamp: i64,
        nonce: &str,
    ) -> Result<String, KeyError> {
        let message = format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n");
        let signature = self.signer.sign(message.as_bytes())?;
        Ok(format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.config.mchid, self.config.merchant_serial
        ))
    }

    /// Encrypts a personal field for a request (RSA-OAEP under WeChat Pay's key; the request
    /// names that key in `Wechatpay-Serial`).
    pub(super) fn encrypt(&self, plain: &str) -> Result<String, GatewayError> {
        let (_, key) = self
            .platform
            .first()
            .ok_or_else(|| GatewayError::Decode("no WeChat Pay public key".into()))?;
        key.encrypt_oaep(plain.as_bytes())
            .map_err(|e| GatewayError::Decode(e.to_string()))
    }

    /// Checks WeChat Pay's signature on a response or notification body.
    pub fn verify(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CallbackError> {
        let key = self
            .platform
            .iter()
            .find(|(serial, _)| *serial == h.serial)
            .map(|(_, k)| k)
            .ok_or(CallbackError::UnknownKey)?;
        let ts: i64 = h
            .timestamp
            .parse()
            .map_err(|_| CallbackError::StaleTimestamp)?;
        if (now.timestamp() - ts).abs() > NOTIFY_WINDOW_SECS {
            return Err(CallbackError::StaleTimestamp);
        }
        let message = format!("{}\n{}\n{body}\n", h.timestamp, h.nonce);
        if key.verify(message.as_bytes(), &h.signature) {
            Ok(())
        } else {
            Err(CallbackError::BadSignature)
        }
    }

    /// Checks and opens a payment notification. `Ok(None)`: genuine, but not a success.
    pub fn notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<GatewayNotice>, CallbackError> {
        let (event_type, t) = self.transaction(h, body, now)?;
        if t.mchid != self.config.mchid || t.appid != self.config.appid {
            return Err(CallbackError::WrongMerchant);
        }
        Wechat::paid(&event_type, t)
    }

    /// A checked, opened payment notification.
    pub(super) fn transaction(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Transaction), CallbackError> {
        let (event_type, plain) = self.open_notification(h, body, now)?;
        let t: Transaction =
            serde_json::from_slice(&plain).map_err(|_| CallbackError::Malformed)?;
        Ok((event_type, t))
    }

    /// What a payment notification of ours says; `Ok(None)`: not a success.
    pub(super) fn paid(
        event_type: &str,
        t: Transaction,
    ) -> Result<Option<GatewayNotice>, CallbackError> {
        if event_type != "TRANSACTION.SUCCESS" || t.trade_state != "SUCCESS" {
            return Ok(None);
        }
        if t.amount.currency.as_deref().is_some_and(|c| c != "CNY") {
            return Err(CallbackError::Malformed);
        }
        Ok(Some(GatewayNotice {
            gateway: Gateway::Wechat,
            out_trade_no: t.out_trade_no,
            trade_no: t.transaction_id,
            amount: Money::from_fen(t.amount.total),
            sub_mchid: t.sub_mchid,
        }))
    }

    /// Opens a notification's encrypted resource, once its signature is checked.
    pub(super) fn open_notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Vec<u8>), CallbackError> {
        self.verify(h, body, now)?;
        let n: Notification = serde_json::from_str(body).map_err(|_| CallbackError::Malformed)?;
        if n.resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(CallbackError::Malformed);
        }
        let plain = aes_256_gcm_open(
            &self.apiv3_key,
            &n.resource.nonce,
            &n.resource.associated_data,
            &n.resource.ciphertext,
        )
        .ok_or(CallbackError::BadSignature)?;
        Ok((n.event_type, plain))
    }

    /// Checks and opens a refund notification (`REFUND.SUCCESS`, `REFUND.ABNORMAL`,
    /// `REFUND.CLOSED`).
    pub fn refund_notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundNotice, CallbackError> {
        let (event_type, plain) = self.open_notification(h, body, now)?;
        if !event_type.starts_with("REFUND.") {
            return Err(CallbackError::Malformed);
        }
        let r: RefundState =
            serde_json::from_slice(&plain).map_err(|_| CallbackError::Malformed)?;
        if r.mchid.as_deref() != Some(self.config.mchid.as_str()) {
            return Err(CallbackError::WrongMerchant);
        }
        Ok(RefundNotice {
            gateway: Gateway::Wechat,
            refund_no: r.out_refund_no.clone(),
            out_trade_no: r.out_trade_no.clone(),
            amount: Money::from_fen(r.amount.refund),
            outcome: r.outcome(),
        })
    }

    /// `POST /v3/refund/domestic/refunds` under our `out_refund_no` (WeChat Pay refunds each
    /// number once, so asking again is safe).
    pub async fn refund(&self, r: &RefundRequest) -> Result<RefundOutcome, GatewayError> {
        let body = serde_json::to_string(&RefundBody {
            out_trade_no: &r.out_trade_no,
            out_refund_no: &r.refund_no,
            reason: &r.reason,
            notify_url: self
                .config
                .refund_notify_url
                .clone()
                .unwrap_or_else(|| format!("{}/refund", self.config.notify_url)),
            amount: RefundAmount {
                refund: r.amount.fen(),
                total: r.total.fen(),
                currency: "CNY",
            },
        })
        .map_err(|e| GatewayError::Decode(e.to_string()))?;
        match self
            .call(
                reqwest::Method::POST,
                "/v3/refund/domestic/refunds",
                Some(body),
                false,
            )
            .await
        {
            Ok((_, text)) => {
                let state: RefundState =
                    serde_json::from_str(&text).map_err(|e| GatewayError::Decode(e.to_string()))?;
                Ok(state.outcome())
            }
            Err(GatewayError::Rejected { code, message })
                if REFUND_REFUSALS.contains(&code.as_str()) =>
            {
                Ok(RefundOutcome::Refused {
                    reason: format!("{code}: {message}"),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// `GET /v3/refund/domestic/refunds/{out_refund_no}`: where our refund stands.
    pub async fn refund_state(&self, refund_no: &str) -> Result<RefundOutcome, GatewayError> {
        let path = format!("/v3/refund/domestic/refunds/{refund_no}");
        match self.call(reqwest::Method::GET, &path, None, false).await {
            Ok((_, text)) => {
                let state: RefundState =
                    serde_json::from_str(&text).map_err(|e| GatewayError::Decode(e.to_string()))?;
                Ok(state.outcome())
            }
            Err(GatewayError::Rejected { code, .. }) if code == "RESOURCE_NOT_EXISTS" => {
                Ok(RefundOutcome::NotFound)
            }
            Err(e) => Err(e),
        }
    }

    /// A request to `path` signed over `signed_body` (the JSON body, or a media upload's
    /// `meta`), with the headers every call carries.
    pub(super) fn signed_request(
        &self,
        method: reqwest::Method,
        path: &str,
        signed_body: &str,
    ) -> Result<reqwest::RequestBuilder, GatewayError> {
        let auth = self
            .authorization(
                method.as_str(),
                path,
                signed_body,
                Utc::now().timestamp(),
                &nonce()?,
            )
            .map_err(|e| GatewayError::Decode(e.to_string()))?;
        Ok(self
            .http
            .request(
                method,
                format!("{}{path}", self.config.api_base.trim_end_matches('/')),
            )
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .header("User-Agent", "gigbao/1"))
    }

    /// Sends a signed request and checks the signature on a successful answer.
    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
        encrypted_fields: bool,
    ) -> Result<(reqwest::StatusCode, String), GatewayError> {
        let body = body.unwrap_or_default();
        let mut req = self.signed_request(method, path, &body)?;
        if !body.is_empty() {
            req = req
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        if encrypted_fields && let Some((serial, _)) = self.platform.first() {
            req = req.header("Wechatpay-Serial", serial);
        }
        self.answer(req).await
    }

    /// Sends `req`; a successful answer only if WeChat Pay signed it, else its error code.
    pub(super) async fn answer(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, String), GatewayError> {
        let resp = req
            .send()
            .await
            .map_err(|e| GatewayError::Network(e.without_url().to_string()))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp
            .text()
            .await
            .map_err(|e| GatewayError::Network(e.without_url().to_string()))?;
        if status.is_success() {
            let h = SignatureHeaders::from_lookup(|name| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
            self.verify(&h, &text, Utc::now())
                .map_err(|e| GatewayError::Unverified(e.to_string()))?;
            return Ok((status, text));
        }
        let err: ErrorBody = serde_json::from_str(&text).unwrap_or(ErrorBody {
            code: status.as_u16().to_string(),
            message: String::new(),
        });
        Err(GatewayError::Rejected {
            code: err.code,
            message: err.message,
        })
    }

    fn prepay_body(
        &self,
        charge: &ChargeRequest,
        openid: Option<&str>,
    ) -> Result<String, GatewayError> {
        serde_json::to_string(&PrepayBody {
            appid: &self.config.appid,
            mchid: &self.config.mchid,
            description: &charge.subject,
            out_trade_no: &charge.out_trade_no,
            time_expire: super::china(charge.expires_at)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            notify_url: &self.config.notify_url,
            amount: PrepayAmount {
                total: charge.amount.fen(),
                currency: "CNY",
            },
            payer: openid.map(|openid| Payer { openid }),
        })
        .map_err(|e| GatewayError::Decode(e.to_string()))
    }

    /// Native payment: a `code_url` to show as a QR code.
    pub async fn native(&self, charge: &ChargeRequest) -> Result<PayParams, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            code_url: String,
        }
        let body = self.prepay_body(charge, None)?;
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/pay/transactions/native",
                Some(body),
                false,
            )
            .await?;
        let a: Answer =
            serde_json::from_str(&text).map_err(|e| GatewayError::Decode(e.to_string()))?;
        Ok(PayParams::QrCode {
            code_url: a.code_url,
        })
    }

    /// JSAPI payment: a prepay id, and the parameters the client passes to
    /// `wx.requestPayment` / `WeixinJSBridge`, signed.
    pub async fn jsapi(
        &self,
        charge: &ChargeRequest,
        openid: &str,
    ) -> Result<PayParams, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            prepay_id: String,
        }
        let body = self.prepay_body(charge, Some(openid))?;
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/pay/transactions/jsapi",
                Some(body),
                false,
            )
            .await?;
        let a: Answer =
            serde_json::from_str(&text).map_err(|e| GatewayError::Decode(e.to_string()))?;
        self.jsapi_params(&a.prepay_id, Utc::now().timestamp(), &nonce()?)
            .map(PayParams::Jsapi)
            .map_err(|e| GatewayError::Decode(e.to_string()))
    }

    /// The signed client parameters for a prepay id.
    pub fn jsapi_params(
        &self,
        prepay_id: &str,
        timestamp: i64,
        nonce: &str,
    ) -> Result<JsapiParams, KeyError> {
        let package = format!("prepay_id={prepay_id}");
        let message = format!("{}\n{timestamp}\n{nonce}\n{package}\n", self.config.appid);
        Ok(JsapiParams {
            app_id: self.config.appid.clone(),
            time_stamp: timestamp.to_string(),
            nonce_str: nonce.to_owned(),
            package,
            sign_type: "RSA",
            pay_sign: self.signer.sign(message.as_bytes())?,
        })
    }

    fn bill_outcome(bill: TransferBill) -> TransferOutcome {
        match bill.state.as_str() {
            "SUCCESS" => TransferOutcome::Paid {
                reference: bill.transfer_bill_no.unwrap_or_default(),
            },
            "FAIL" | "CANCELLED" => TransferOutcome::Refused {
                reason: bill.fail_reason.unwrap_or(bill.state),
            },
            _ => TransferOutcome::InProgress {
                reference: bill.transfer_bill_no,
            },
        }
    }

    /// 商家转账 to the user's `openid`; our withdrawal id is `out_bill_no`.
    pub async fn transfer(&self, t: &TransferRequest) -> Result<TransferOutcome, GatewayError> {
        let encrypt_name = t.amount.fen() >= NAME_REQUIRED_FROM_FEN;
        let user_name = if encrypt_name {
            let (_, key) = self
                .platform
                .first()
                .ok_or_else(|| GatewayError::Decode("no WeChat Pay public key".into()))?;
            Some(
                key.encrypt_oaep(t.payee_name.as_bytes())
                    .map_err(|e| GatewayError::Decode(e.to_string()))?,
            )
        } else {
            None
        };
        let body = serde_json::to_string(&TransferBody {
            appid: &self.config.appid,
            out_bill_no: &t.reference,
            transfer_scene_id: &self.config.transfer_scene_id,
            openid: &t.account,
            user_name,
            transfer_amount: t.amount.fen(),
            transfer_remark: &t.title,
            transfer_scene_report_infos: [
                ReportInfo {
                    info_type: "岗位类型",
                    info_content: "自由职业者",
                },
                ReportInfo {
                    info_type: "报酬说明",
                    info_content: "平台收入提现",
                },
            ],
        })
        .map_err(|e| GatewayError::Decode(e.to_string()))?;
        let (_, text) = self
            .call(
                reqwest::Method::POST,
                "/v3/fund-app/mch-transfer/transfer-bills",
                Some(body),
                encrypt_name,
            )
            .await?;
        let bill: TransferBill =
            serde_json::from_str(&text).map_err(|e| GatewayError::Decode(e.to_string()))?;
        Ok(Wechat::bill_outcome(bill))
    }

    /// Where a transfer stands, by our withdrawal id. `Ok(None)`: WeChat Pay has no such bill.
    pub async fn transfer_state(
        &self,
        reference: &str,
    ) -> Result<Option<TransferOutcome>, GatewayError> {
        let path = format!("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{reference}");
        match self.call(reqwest::Method::GET, &path, None, false).await {
            Ok((_, text)) => {
                let bill: TransferBill =
                    serde_json::from_str(&text).map_err(|e| GatewayError::Decode(e.to_string()))?;
                Ok(Some(Wechat::bill_outcome(bill)))
            }
            Err(GatewayError::Rejected { code, .. }) if code == "NOT_FOUND" => Ok(None),
            Err(e) => Err(e),
        }
    }
}
