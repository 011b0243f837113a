//! WeChat Pay 电商收付通: the platform-merchant APIs of the licensed split channel (v3, signed and
//! verified exactly as [`super::wechat`]). We call them as the platform (`sp_mchid`) for a
//! seller's sub-merchant account (`sub_mchid`):
//!
//! - **Onboarding** (二级商户进件): identity card images through `POST /v3/merchant/media/upload`,
//!   the application `POST /v3/ecommerce/applyments/` (personal fields RSA-OAEP encrypted under
//!   WeChat Pay's key), and its state `GET /v3/ecommerce/applyments/out-request-no/{no}`.
//! - **Payment** (普通支付, partner mode): `POST /v3/pay/partner/transactions/{native,jsapi}` with
//!   `settle_info.profit_sharing = true`, so the money waits, frozen, in the seller's account;
//!   its notification carries `sp_mchid` and `sub_mchid`.
//! - **Split** (分账): `POST /v3/ecommerce/profitsharing/orders` with `finish = true` pays the
//!   commission to the platform and unfreezes the rest for the seller; with no commission,
//!   `POST /v3/ecommerce/profitsharing/finish-order` only unfreezes. Both are idempotent under
//!   our `out_order_no` and read back with `GET /v3/ecommerce/profitsharing/orders`. Money not
//!   split within 180 days of payment unfreezes to the seller by itself.
//! - **Refund** from the frozen money: `POST /v3/ecommerce/refunds/apply`,
//!   `GET /v3/ecommerce/refunds/out-refund-no/{no}?sub_mchid=…`, and the signed, encrypted
//!   refund notification.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::keys::KeyError;
use super::wechat::{RefundState, nonce};
use super::{
    CallbackError, ChargeRequest, GatewayError, PayParams, RefundRequest, SignatureHeaders, Wechat,
    WechatConfig,
};
use crate::domain::Money;
use crate::domain::payment::{Gateway, GatewayNotice};
use crate::domain::refund::{RefundNotice, RefundOutcome};
use crate::domain::split::{ApplymentState, SplitInstruction, SplitOutcome, SubMerchantStatus};

/// The platform merchant of the split channel.
#[derive(Debug)]
pub struct Ecommerce {
    w: Wechat,
}

/// A seller's application to become a sub-merchant, as a person without a business licence
/// (小微商户, `organization_type` 2401): their 实名 identity, identity card images, the bank card
/// their money is settled to, and how payers see them.
#[derive(Debug, Clone)]
pub struct Applyment {
    pub out_request_no: String,
    pub id_card_front_media: String,
    pub id_card_back_media: String,
    pub real_name: String,
    pub id_number: String,
    /// `YYYY-MM-DD`.
    pub id_card_valid_from: String,
    /// `YYYY-MM-DD` or `长期`.
    pub id_card_valid_until: String,
    /// The bank's name as WeChat Pay lists it (`工商银行` …).
    pub account_bank: String,
    /// The 6-digit code of the province and city of the account's branch.
    pub bank_address_code: String,
    pub account_number: String,
    pub mobile_phone: String,
    pub email: Option<String>,
    pub store_name: String,
    pub store_url: String,
    pub merchant_shortname: String,
}

#[derive(Debug, Deserialize)]
struct ApplymentAnswer {
    #[serde(default)]
    applyment_state: String,
    #[serde(default)]
    applyment_state_desc: Option<String>,
    #[serde(default)]
    sign_url: Option<String>,
    #[serde(default)]
    sub_mchid: Option<String>,
    #[serde(default)]
    audit_detail: Vec<AuditDetail>,
}

#[derive(Debug, Deserialize)]
struct AuditDetail {
    #[serde(default)]
    param_name: String,
    #[serde(default)]
    reject_reason: String,
}

#[derive(Debug, Serialize)]
struct PartnerPrepay<'a> {
    sp_appid: &'a str,
    sp_mchid: &'a str,
    sub_mchid: &'a str,
    description: &'a str,
    out_trade_no: &'a str,
    time_expire: String,
    notify_url: &'a str,
    settle_info: SettleInfo,
    amount: super::wechat::PrepayAmountOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    payer: Option<PartnerPayer<'a>>,
}

#[derive(Debug, Serialize)]
struct SettleInfo {
    profit_sharing: bool,
}

#[derive(Debug, Serialize)]
struct PartnerPayer<'a> {
    sp_openid: &'a str,
}

#[derive(Debug, Deserialize)]
struct SplitAnswer {
    #[serde(default)]
    status: String,
    #[serde(default)]
    receivers: Vec<SplitReceiver>,
    #[serde(default)]
    close_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SplitReceiver {
    #[serde(default)]
    result: String,
    #[serde(default)]
    fail_reason: Option<String>,
}

impl SplitAnswer {
    fn outcome(self) -> SplitOutcome {
        if let Some(r) = self.receivers.iter().find(|r| r.result == "CLOSED") {
            return SplitOutcome::Closed {
                reason: r.fail_reason.clone().unwrap_or_else(|| "CLOSED".into()),
            };
        }
        match self.status.as_str() {
            "FINISHED" if self.receivers.iter().all(|r| r.result == "SUCCESS") => {
                SplitOutcome::Finished
            }
            "CLOSED" => SplitOutcome::Closed {
                reason: self.close_reason.unwrap_or_else(|| "CLOSED".into()),
            },
            _ => SplitOutcome::Processing,
        }
    }
}

/// A `multipart/form-data` body of WeChat Pay's media upload: `meta` (the JSON that is signed)
/// and `file`.
fn media_body(
    boundary: &str,
    meta: &str,
    (filename, content_type): (&str, &str),
    bytes: &[u8],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\";\r\nContent-Type: application/json\r\n\r\n{meta}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, GatewayError> {
    serde_json::from_str(text).map_err(|e| GatewayError::Decode(e.to_string()))
}

impl Ecommerce {
    pub fn new(config: WechatConfig) -> Result<Ecommerce, KeyError> {
        Ok(Ecommerce {
            w: Wechat::new(config)?,
        })
    }

    /// The platform's merchant number: the commission's receiver.
    pub fn sp_mchid(&self) -> &str {
        &self.w.config.mchid
    }

    /// Uploads an identity card image; WeChat Pay's `media_id` for the application.
    pub async fn upload_image(
        &self,
        bytes: &[u8],
        filename: &str,
        content_type: &str,
    ) -> Result<String, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            media_id: String,
        }
        let path = "/v3/merchant/media/upload";
        let meta = json!({"filename": filename, "sha256": crate::crypto::sha256_hex_of(bytes)})
            .to_string();
        let boundary = format!("gigbao{}", nonce()?);
        let req = self
            .w
            .signed_request(reqwest::Method::POST, path, &meta)?
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(media_body(
                &boundary,
                &meta,
                (filename, content_type),
                bytes,
            ));
        let (_, text) = self.w.answer(req).await?;
        Ok(decode::<Answer>(&text)?.media_id)
    }

    /// Submits (or, under the same number, corrects) an application; WeChat Pay's
    /// `applyment_id`.
    pub async fn apply(&self, a: &Applyment) -> Result<String, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            applyment_id: serde_json::Value,
        }
        let enc = |s: &str| self.w.encrypt(s);
        let mut contact = json!({
            "contact_type": "65",
            "contact_name": enc(&a.real_name)?,
            "contact_id_card_number": enc(&a.id_number)?,
            "mobile_phone": enc(&a.mobile_phone)?,
        });
        if let Some(email) = &a.email {
            contact["contact_email"] = json!(enc(email)?);
        }
        let body = json!({
            "out_request_no": a.out_request_no,
            "organization_type": "2401",
            "id_doc_type": "IDENTIFICATION_TYPE_MAINLAND_IDCARD",
            "id_card_info": {
                "id_card_copy": a.id_card_front_media,
                "id_card_national": a.id_card_back_media,
                "id_card_name": enc(&a.real_name)?,
                "id_card_number": enc(&a.id_number)?,
                "id_card_valid_time_begin": a.id_card_valid_from,
                "id_card_valid_time": a.id_card_valid_until,
            },
            "need_account_info": true,
            "account_info": {
                "bank_account_type": "75",
                "account_bank": a.account_bank,
                "account_name": enc(&a.real_name)?,
                "bank_address_code": a.bank_address_code,
                "account_number": enc(&a.account_number)?,
            },
            "contact_info": contact,
            "sales_scene_info": {"store_name": a.store_name, "store_url": a.store_url},
            "merchant_shortname": a.merchant_shortname,
        })
        .to_string();
        let (_, text) = self
            .w
            .call(
                reqwest::Method::POST,
                "/v3/ecommerce/applyments/",
                Some(body),
                true,
            )
            .await?;
        let id = decode::<Answer>(&text)?.applyment_id;
        Ok(match id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// Where the application `out_request_no` stands; `Ok(None)`: WeChat Pay has none.
    pub async fn applyment_state(
        &self,
        out_request_no: &str,
    ) -> Result<Option<ApplymentState>, GatewayError> {
        let path = format!("/v3/ecommerce/applyments/out-request-no/{out_request_no}");
        let text = match self.w.call(reqwest::Method::GET, &path, None, false).await {
            Ok((_, text)) => text,
            Err(GatewayError::Rejected { code, .. })
                if code == "RESOURCE_NOT_EXISTS" || code == "NOT_FOUND" =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let a: ApplymentAnswer = decode(&text)?;
        let status = SubMerchantStatus::from_applyment_state(&a.applyment_state);
        let reasons: Vec<String> = a
            .audit_detail
            .iter()
            .map(|d| format!("{}: {}", d.param_name, d.reject_reason))
            .collect();
        Ok(Some(ApplymentState {
            status,
            sub_mchid: a.sub_mchid.filter(|s| !s.is_empty()),
            sign_url: a.sign_url.filter(|s| !s.is_empty()),
            reason: if reasons.is_empty() {
                a.applyment_state_desc
                    .filter(|_| status == SubMerchantStatus::Rejected)
            } else {
                Some(reasons.join("; "))
            },
        }))
    }

    fn prepay(
        &self,
        charge: &ChargeRequest,
        sub_mchid: &str,
        openid: Option<&str>,
    ) -> Result<String, GatewayError> {
        let c = &self.w.config;
        serde_json::to_string(&PartnerPrepay {
            sp_appid: &c.appid,
            sp_mchid: &c.mchid,
            sub_mchid,
            description: &charge.subject,
            out_trade_no: &charge.out_trade_no,
            time_expire: super::china(charge.expires_at)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            notify_url: &c.notify_url,
            settle_info: SettleInfo {
                profit_sharing: true,
            },
            amount: super::wechat::PrepayAmountOut::cny(charge.amount),
            payer: openid.map(|sp_openid| PartnerPayer { sp_openid }),
        })
        .map_err(|e| GatewayError::Decode(e.to_string()))
    }

    /// Native payment into `sub_mchid`'s account, frozen for the split.
    pub async fn native(
        &self,
        charge: &ChargeRequest,
        sub_mchid: &str,
    ) -> Result<PayParams, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            code_url: String,
        }
        let body = self.prepay(charge, sub_mchid, None)?;
        let (_, text) = self
            .w
            .call(
                reqwest::Method::POST,
                "/v3/pay/partner/transactions/native",
                Some(body),
                false,
            )
            .await?;
        Ok(PayParams::QrCode {
            code_url: decode::<Answer>(&text)?.code_url,
        })
    }

    /// JSAPI payment into `sub_mchid`'s account: the client parameters, signed by the platform.
    pub async fn jsapi(
        &self,
        charge: &ChargeRequest,
        sub_mchid: &str,
        openid: &str,
    ) -> Result<PayParams, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            prepay_id: String,
        }
        let body = self.prepay(charge, sub_mchid, Some(openid))?;
        let (_, text) = self
            .w
            .call(
                reqwest::Method::POST,
                "/v3/pay/partner/transactions/jsapi",
                Some(body),
                false,
            )
            .await?;
        let a: Answer = decode(&text)?;
        self.w
            .jsapi_params(&a.prepay_id, Utc::now().timestamp(), &nonce()?)
            .map(PayParams::Jsapi)
            .map_err(|e| GatewayError::Decode(e.to_string()))
    }

    /// Checks and opens a split-channel payment notification: it must be the platform's, for
    /// a sub-merchant. `Ok(None)`: genuine, but not a success.
    pub fn notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<GatewayNotice>, CallbackError> {
        let (event_type, t) = self.w.transaction(h, body, now)?;
        let c = &self.w.config;
        if t.sp_mchid != c.mchid
            || t.sp_appid != c.appid
            || t.sub_mchid.as_deref().is_none_or(str::is_empty)
        {
            return Err(CallbackError::WrongMerchant);
        }
        Wechat::paid(&event_type, t)
    }

    /// Sends the split instruction of a cleared order (or asks where it stands first: the
    /// same `out_order_no` is one instruction however often it is sent).
    pub async fn split(
        &self,
        out_order_no: &str,
        s: &SplitInstruction,
    ) -> Result<SplitOutcome, GatewayError> {
        match self.split_state(out_order_no, s).await? {
            SplitOutcome::NotFound => {}
            known => return Ok(known),
        }
        let t = &s.target;
        let (path, body) = if s.commission.is_positive() {
            (
                "/v3/ecommerce/profitsharing/orders",
                json!({
                    "appid": self.w.config.appid,
                    "sub_mchid": t.sub_mchid,
                    "transaction_id": t.transaction_id,
                    "out_order_no": out_order_no,
                    "receivers": [{
                        "type": "MERCHANT_ID",
                        "receiver_account": self.w.config.mchid,
                        "amount": s.commission.fen(),
                        "description": "平台佣金",
                    }],
                    "finish": true,
                }),
            )
        } else {
            (
                "/v3/ecommerce/profitsharing/finish-order",
                json!({
                    "sub_mchid": t.sub_mchid,
                    "transaction_id": t.transaction_id,
                    "out_order_no": out_order_no,
                    "description": "订单结算，无平台佣金",
                }),
            )
        };
        let (_, text) = self
            .w
            .call(reqwest::Method::POST, path, Some(body.to_string()), true)
            .await?;
        Ok(decode::<SplitAnswer>(&text)?.outcome())
    }

    /// Where the split instruction `out_order_no` stands.
    async fn split_state(
        &self,
        out_order_no: &str,
        s: &SplitInstruction,
    ) -> Result<SplitOutcome, GatewayError> {
        let path = format!(
            "/v3/ecommerce/profitsharing/orders?sub_mchid={}&transaction_id={}&out_order_no={out_order_no}",
            s.target.sub_mchid, s.target.transaction_id
        );
        match self.w.call(reqwest::Method::GET, &path, None, false).await {
            Ok((_, text)) => Ok(decode::<SplitAnswer>(&text)?.outcome()),
            Err(GatewayError::Rejected { code, .. })
                if code == "RESOURCE_NOT_EXISTS" || code == "ORDER_NOT_EXIST" =>
            {
                Ok(SplitOutcome::NotFound)
            }
            Err(e) => Err(e),
        }
    }

    /// A refund out of the frozen money in `sub_mchid`'s account.
    pub async fn refund(
        &self,
        r: &RefundRequest,
        sub_mchid: &str,
    ) -> Result<RefundOutcome, GatewayError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            refund_id: Option<String>,
        }
        let c = &self.w.config;
        let body = json!({
            "sub_mchid": sub_mchid,
            "sp_appid": c.appid,
            "out_trade_no": r.out_trade_no,
            "out_refund_no": r.refund_no,
            "reason": r.reason,
            "amount": {"refund": r.amount.fen(), "total": r.total.fen(), "currency": "CNY"},
            "notify_url": c.refund_notify_url.clone().unwrap_or_else(|| format!("{}/refund", c.notify_url)),
        })
        .to_string();
        match self
            .w
            .call(
                reqwest::Method::POST,
                "/v3/ecommerce/refunds/apply",
                Some(body),
                false,
            )
            .await
        {
            // Accepted: the answer has no status, the notification or a query tells the end.
            Ok((_, text)) => Ok(RefundOutcome::Processing {
                gateway_refund_id: decode::<Answer>(&text)?.refund_id,
            }),
            Err(GatewayError::Rejected { code, message })
                if code == "RESOURCE_NOT_EXISTS" || code == "ORDER_NOT_EXIST" =>
            {
                Ok(RefundOutcome::Refused {
                    reason: format!("{code}: {message}"),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Where a split-channel refund stands.
    pub async fn refund_state(
        &self,
        refund_no: &str,
        sub_mchid: &str,
    ) -> Result<RefundOutcome, GatewayError> {
        let path = format!("/v3/ecommerce/refunds/out-refund-no/{refund_no}?sub_mchid={sub_mchid}");
        match self.w.call(reqwest::Method::GET, &path, None, false).await {
            Ok((_, text)) => Ok(decode::<RefundState>(&text)?.outcome()),
            Err(GatewayError::Rejected { code, .. }) if code == "RESOURCE_NOT_EXISTS" => {
                Ok(RefundOutcome::NotFound)
            }
            Err(e) => Err(e),
        }
    }

    /// Checks and opens a split-channel refund notification (the platform's).
    pub fn refund_notification(
        &self,
        h: &SignatureHeaders,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<RefundNotice, CallbackError> {
        let (event_type, plain) = self.w.open_notification(h, body, now)?;
        if !event_type.starts_with("REFUND.") {
            return Err(CallbackError::Malformed);
        }
        let r: RefundState =
            serde_json::from_slice(&plain).map_err(|_| CallbackError::Malformed)?;
        if r.sp_mchid.as_deref() != Some(self.w.config.mchid.as_str()) {
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
}
