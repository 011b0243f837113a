//! Alipay (开放平台, the `gateway.do` API with RSA2 keys).
//!
//! - **Signing** (ours, with the application private key): every request parameter except
//!   `sign`, with empty values left out, sorted by name, joined as `k=v` with `&`, unencoded;
//!   SHA256withRSA; base64.
//! - **Notifications** (Alipay's, checked with Alipay's public key): the same content, but
//!   without `sign` *and* `sign_type`. Alipay retries until the answer is the plain text
//!   `success`.
//! - **API responses** are signed over the exact JSON text of the `<method>_response` member.
//!
//! Page and WAP payments need no call from us: the payer's browser goes to the gateway URL with
//! the signed parameters. Transfers (`alipay.fund.trans.uni.transfer`) are a signed form POST.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::keys::{KeyError, RsaSigner, RsaVerifier};
use super::{
    CallbackError, ChargeRequest, GatewayError, PayParams, RefundRequest, TransferOutcome,
    TransferRequest,
};
use crate::domain::Money;
use crate::domain::payment::{Channel, Gateway, GatewayNotice};
use crate::domain::refund::RefundOutcome;

/// `alipay.trade.refund` refusals that asking again may cure (Alipay's own trouble, or our
/// merchant balance): the refund stays pending and is asked again. Any other business
/// refusal is final.
const REFUND_RETRYABLE: [&str; 3] = [
    "ACQ.SYSTEM_ERROR",
    "ACQ.SELLER_BALANCE_NOT_ENOUGH",
    "ACQ.REASON_TRADE_BEEN_FREEZEN",
];

#[derive(Debug, Clone, Deserialize)]
pub struct AlipayConfig {
    pub app_id: String,
    /// Our application private key (PKCS#8 or PKCS#1; PEM or bare base64).
    pub private_key: SecretString,
    /// Alipay's public key for this application.
    pub alipay_public_key: String,
    /// `https://openapi.alipay.com/gateway.do` in production.
    pub gateway_url: String,
    /// Where Alipay posts payment notifications (our `payment-callback-alipay`).
    pub notify_url: String,
    /// Where the payer's browser returns after paying, if anywhere.
    #[serde(default)]
    pub return_url: Option<String>,
}

#[derive(Debug)]
pub struct Alipay {
    config: AlipayConfig,
    app: OpenApp,
}

/// One application on Alipay's open platform (开放平台): it signs what it sends with its
/// private key and believes only what Alipay signed. Payments and sign-in each hold one.
#[derive(Debug)]
pub struct OpenApp {
    app_id: String,
    gateway_url: String,
    signer: RsaSigner,
    verifier: RsaVerifier,
    http: reqwest::Client,
}

impl OpenApp {
    pub fn new(
        app_id: &str,
        private_key: &SecretString,
        alipay_public_key: &str,
        gateway_url: &str,
    ) -> Result<OpenApp, KeyError> {
        Ok(OpenApp {
            app_id: app_id.to_owned(),
            gateway_url: gateway_url.to_owned(),
            signer: RsaSigner::from_pem(private_key.expose_secret())?,
            verifier: RsaVerifier::from_pem(alipay_public_key)?,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        })
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Whether Alipay signed `content` (RSA2, its public key for this application).
    pub fn verify(&self, content: &[u8], sign: &str) -> bool {
        self.verifier.verify(content, sign)
    }

    /// The common parameters of a call to `method`, then `own` (`biz_content`, `notify_url`,
    /// or a method's own parameters such as `grant_type` and `code`), signed.
    pub fn signed_params(
        &self,
        method: &str,
        own: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, KeyError> {
        let mut params: Vec<(String, String)> = vec![
            ("app_id".into(), self.app_id.clone()),
            ("method".into(), method.into()),
            ("format".into(), "JSON".into()),
            ("charset".into(), "utf-8".into()),
            ("sign_type".into(), "RSA2".into()),
            ("timestamp".into(), china_time(now)),
            ("version".into(), "1.0".into()),
        ];
        params.extend(own.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), false);
        let sign = self.signer.sign(content.as_bytes())?;
        params.push(("sign".into(), sign));
        Ok(params)
    }

    /// The gateway URL that carries `params` (for the payer's browser).
    pub fn url_with(&self, params: &[(String, String)]) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        format!("{}?{query}", self.gateway_url)
    }

    /// Sends `method` with `own` as a signed form POST; the answer's text.
    pub async fn call(
        &self,
        method: &str,
        own: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Result<String, GatewayError> {
        let params = self
            .signed_params(method, own, now)
            .map_err(|e| GatewayError::Decode(e.to_string()))?;
        let resp = self
            .http
            .post(&self.gateway_url)
            .form(&params)
            .send()
            .await
            .map_err(|e| GatewayError::Network(e.without_url().to_string()))?;
        resp.text()
            .await
            .map_err(|e| GatewayError::Network(e.without_url().to_string()))
    }

    /// The `<method>_response` member of an API answer, only if Alipay signed its exact text.
    pub fn signed_answer<T: serde::de::DeserializeOwned>(
        &self,
        body: &str,
        method: &str,
    ) -> Result<T, GatewayError> {
        let members: std::collections::HashMap<String, Box<RawValue>> =
            serde_json::from_str(body).map_err(|e| GatewayError::Decode(e.to_string()))?;
        let name = format!("{}_response", method.replace('.', "_"));
        let raw = members
            .get(&name)
            .ok_or_else(|| GatewayError::Decode(format!("no {name} in the answer")))?
            .get();
        let sign: Option<String> = members
            .get("sign")
            .and_then(|s| serde_json::from_str(s.get()).ok());
        if !sign.is_some_and(|s| self.verifier.verify(raw.as_bytes(), &s)) {
            return Err(GatewayError::Unverified(
                raw.chars().take(200).collect::<String>(),
            ));
        }
        serde_json::from_str(raw).map_err(|e| GatewayError::Decode(e.to_string()))
    }
}

/// `yyyy-MM-dd HH:mm:ss` in China time, Alipay's format for `timestamp` and `time_expire`.
fn china_time(t: DateTime<Utc>) -> String {
    super::china(t).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The signed content of `params`: sorted, without `sign` (and without `sign_type` for
/// notifications), without empty values.
pub fn sign_content<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    notification: bool,
) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !(notification && *k == "sign_type") && !v.is_empty())
        .collect();
    sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The `<method>_response` of the calls we make (transfers, refunds and refund queries): the
/// common `code`/`msg`/`sub_code`/`sub_msg` and what each method adds.
#[derive(Debug, Deserialize)]
struct Answer {
    code: String,
    /// A transfer's Alipay order id.
    #[serde(default)]
    order_id: Option<String>,
    /// A transfer's state (`SUCCESS`, …).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    sub_code: Option<String>,
    #[serde(default)]
    sub_msg: Option<String>,
    #[serde(default)]
    trade_no: Option<String>,
    #[serde(default)]
    fund_change: Option<String>,
    /// The query's answer: `REFUND_SUCCESS`, or absent when Alipay has no such refund (yet).
    #[serde(default)]
    refund_status: Option<String>,
}

impl Alipay {
    pub fn new(config: AlipayConfig) -> Result<Alipay, KeyError> {
        let app = OpenApp::new(
            &config.app_id,
            &config.private_key,
            &config.alipay_public_key,
            &config.gateway_url,
        )?;
        Ok(Alipay { config, app })
    }

    pub fn app_id(&self) -> &str {
        &self.config.app_id
    }

    /// The URL that takes the payer to Alipay's cashier for `charge`.
    pub fn pay(
        &self,
        charge: &ChargeRequest,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Result<PayParams, KeyError> {
        let (method, product_code) = match channel {
            Channel::Wap => ("alipay.trade.wap.pay", "QUICK_WAP_WAY"),
            _ => ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY"),
        };
        let biz = serde_json::json!({
            "out_trade_no": charge.out_trade_no,
            "total_amount": charge.amount.to_string(),
            "subject": charge.subject,
            "product_code": product_code,
            "time_expire": china_time(charge.expires_at),
        })
        .to_string();
        let mut own = vec![
            ("biz_content", biz.as_str()),
            ("notify_url", self.config.notify_url.as_str()),
        ];
        if let Some(r) = &self.config.return_url {
            own.push(("return_url", r.as_str()));
        }
        let params = self.app.signed_params(method, &own, now)?;
        Ok(PayParams::Redirect {
            pay_url: self.app.url_with(&params),
        })
    }

    /// Checks a notification (the form fields as posted) and says what it reports.
    /// `Ok(None)`: genuine, but not a payment (e.g. `WAIT_BUYER_PAY`, `TRADE_CLOSED`).
    pub fn notification(
        &self,
        form: &[(String, String)],
    ) -> Result<Option<GatewayNotice>, CallbackError> {
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let sign = field("sign").ok_or(CallbackError::BadSignature)?;
        if field("sign_type").is_some_and(|t| t != "RSA2") {
            return Err(CallbackError::BadSignature);
        }
        let content = sign_content(form.iter().map(|(k, v)| (k.as_str(), v.as_str())), true);
        if !self.app.verify(content.as_bytes(), sign) {
            return Err(CallbackError::BadSignature);
        }
        if field("app_id") != Some(self.config.app_id.as_str()) {
            return Err(CallbackError::WrongMerchant);
        }
        match field("trade_status") {
            Some("TRADE_SUCCESS" | "TRADE_FINISHED") => {}
            _ => return Ok(None),
        }
        let required = |name: &str| {
            field(name)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or(CallbackError::Malformed)
        };
        let amount: Money = required("total_amount")?
            .parse()
            .map_err(|_| CallbackError::Malformed)?;
        Ok(Some(GatewayNotice {
            gateway: Gateway::Alipay,
            out_trade_no: required("out_trade_no")?,
            trade_no: required("trade_no")?,
            amount,
            sub_mchid: None,
        }))
    }

    /// Pays `t.amount` to the Alipay account `t.account` (its login, phone or email), checked
    /// against `t.payee_name`. Our withdrawal id is `out_biz_no`: Alipay pays it once however
    /// often it is sent.
    pub async fn transfer(
        &self,
        t: &TransferRequest,
        now: DateTime<Utc>,
    ) -> Result<TransferOutcome, GatewayError> {
        let biz = serde_json::json!({
            "out_biz_no": t.reference,
            "trans_amount": t.amount.to_string(),
            "product_code": "TRANS_ACCOUNT_NO_PWD",
            "biz_scene": "DIRECT_TRANSFER",
            "order_title": t.title,
            "payee_info": {
                "identity": t.account,
                "identity_type": "ALIPAY_LOGON_ID",
                "name": t.payee_name,
            },
            "remark": t.title,
        });
        let body = self
            .call("alipay.fund.trans.uni.transfer", &biz, now)
            .await?;
        self.transfer_outcome(&body)
    }

    /// Sends `method` with `biz` as its `biz_content`; the answer's text.
    async fn call(
        &self,
        method: &str,
        biz: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<String, GatewayError> {
        self.app
            .call(method, &[("biz_content", &biz.to_string())], now)
            .await
    }

    /// `alipay.trade.refund` of `r.amount` of the trade `r.out_trade_no`, under our
    /// `out_request_no` (Alipay refunds each number once, so asking again is safe).
    /// `fund_change = Y` is a refund made now; `N` means it may have been made before, so
    /// Alipay is asked where it stands.
    pub async fn refund(
        &self,
        r: &RefundRequest,
        now: DateTime<Utc>,
    ) -> Result<RefundOutcome, GatewayError> {
        const METHOD: &str = "alipay.trade.refund";
        let biz = serde_json::json!({
            "out_trade_no": r.out_trade_no,
            "refund_amount": r.amount.to_string(),
            "out_request_no": r.refund_no,
            "refund_reason": r.reason,
        });
        let body = self.call(METHOD, &biz, now).await?;
        let a: Answer = self.app.signed_answer(&body, METHOD)?;
        match (a.code.as_str(), a.fund_change.as_deref()) {
            ("10000", Some("Y")) => Ok(RefundOutcome::Succeeded {
                gateway_refund_id: a.trade_no,
            }),
            ("10000", _) => match self.refund_state(r, now).await? {
                RefundOutcome::NotFound => Ok(RefundOutcome::Processing {
                    gateway_refund_id: a.trade_no,
                }),
                known => Ok(known),
            },
            ("40004", _)
                if !a
                    .sub_code
                    .as_deref()
                    .is_some_and(|c| REFUND_RETRYABLE.contains(&c)) =>
            {
                Ok(RefundOutcome::Refused {
                    reason: format!(
                        "{}: {}",
                        a.sub_code.unwrap_or_default(),
                        a.sub_msg.unwrap_or(a.msg)
                    ),
                })
            }
            (code, _) => Err(GatewayError::Rejected {
                code: a.sub_code.unwrap_or_else(|| code.to_owned()),
                message: a.sub_msg.unwrap_or(a.msg),
            }),
        }
    }

    /// `alipay.trade.fastpay.refund.query`: whether the refund under our number was made.
    pub async fn refund_state(
        &self,
        r: &RefundRequest,
        now: DateTime<Utc>,
    ) -> Result<RefundOutcome, GatewayError> {
        const METHOD: &str = "alipay.trade.fastpay.refund.query";
        let biz = serde_json::json!({
            "out_trade_no": r.out_trade_no,
            "out_request_no": r.refund_no,
        });
        let body = self.call(METHOD, &biz, now).await?;
        let a: Answer = self.app.signed_answer(&body, METHOD)?;
        match (a.code.as_str(), a.refund_status.as_deref()) {
            ("10000", Some("REFUND_SUCCESS")) => Ok(RefundOutcome::Succeeded {
                gateway_refund_id: a.trade_no,
            }),
            // No status: Alipay has not received (or not made) a refund under this number.
            ("10000", _) => Ok(RefundOutcome::NotFound),
            ("40004", _) if a.sub_code.as_deref() == Some("ACQ.TRADE_NOT_EXIST") => {
                Ok(RefundOutcome::NotFound)
            }
            (code, _) => Err(GatewayError::Rejected {
                code: a.sub_code.unwrap_or_else(|| code.to_owned()),
                message: a.sub_msg.unwrap_or(a.msg),
            }),
        }
    }

    /// Reads a transfer response: only a response signed by Alipay can pay or refuse.
    pub fn transfer_outcome(&self, body: &str) -> Result<TransferOutcome, GatewayError> {
        let r: Answer = self
            .app
            .signed_answer(body, "alipay.fund.trans.uni.transfer")?;
        Ok(match (r.code.as_str(), r.status.as_deref()) {
            ("10000", Some("SUCCESS")) => TransferOutcome::Paid {
                reference: r.order_id.unwrap_or_default(),
            },
            ("10000", _) => TransferOutcome::InProgress {
                reference: r.order_id,
            },
            ("40004", _) => TransferOutcome::Refused {
                reason: format!(
                    "{}: {}",
                    r.sub_code.unwrap_or_default(),
                    r.sub_msg.unwrap_or(r.msg)
                ),
            },
            (code, _) => {
                return Err(GatewayError::Rejected {
                    code: code.to_owned(),
                    message: r.sub_msg.unwrap_or(r.msg),
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_content_sorts_and_drops_sign_and_empty_values() {
        let p = [
            ("b", "2"),
            ("sign", "x"),
            ("a", "1"),
            ("sign_type", "RSA2"),
            ("c", ""),
        ];
        assert_eq!(sign_content(p, false), "a=1&b=2&sign_type=RSA2");
        assert_eq!(sign_content(p, true), "a=1&b=2");
    }

    #[test]
    fn alipay_times_are_china_time() {
        let t = DateTime::parse_from_rfc3339("2026-11-24T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(china_time(t), "2026-11-25 00:30:00");
    }
}
