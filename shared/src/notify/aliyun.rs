//! Aliyun SMS (`dysmsapi` `SendSms`, version 2017-05-25) — and the signer every Alibaba Cloud
//! RPC call of ours uses (DirectMail too) — signed with Alibaba Cloud's signature method V3
//! (`ACS3-HMAC-SHA256`):
//!
//! ```text
//! CanonicalRequest = METHOD \n "/" \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(sha256(body))
//! StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
//! Authorization    = ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=hex(hmac_sha256(secret, StringToSign))
//! ```
//!
//! SMS parameters travel in the query string (RFC 3986 percent-encoding, sorted by name) and
//! the body is empty; a call with long parameters sends them as a form body instead, whose
//! SHA-256 is then the payload hash. The gateway answers HTTP 200 with `{"Code": "OK", ...}` on success and another
//! `Code` (e.g. `isv.BUSINESS_LIMIT_CONTROL`) when it refuses.

use std::time::Duration;

use aws_lc_rs::hmac;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::NotifyError;
use super::sms::{SmsMessage, SmsTemplate};
use crate::crypto::{hex, sha256_hex_of as sha256_hex};

/// RFC 3986 unreserved characters stay; everything else is `%XX`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

const ACTION: &str = "SendSms";
const VERSION: &str = "2017-05-25";

#[derive(Debug, Clone)]
pub struct AliyunSmsConfig {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    /// The approved signature shown in the text, e.g. `Gigbao`.
    pub sign_name: String,
    pub template_signin: String,
    pub template_reset: String,
    /// The order-update notice (`ALIYUN_SMS_TEMPLATE_NOTICE`, variables `order` and
    /// `event`); without it, notices are not sent by SMS.
    pub template_notice: Option<String>,
    /// `https://dysmsapi.aliyuncs.com` in production.
    pub endpoint: String,
}

#[derive(Debug, Clone)]
pub struct AliyunSms {
    config: AliyunSmsConfig,
    http: reqwest::Client,
}

/// A fully signed request, before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The form body (empty when the parameters are in the query string).
    pub body: Vec<u8>,
    pub canonical_request: String,
}

#[derive(Debug, Deserialize)]
struct SendSmsResponse {
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message", default)]
    message: String,
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// An Alibaba Cloud AccessKey pair (the `ALIYUN_SECRET_ID` secret).
pub(crate) struct AcsCredentials<'a> {
    pub access_key_id: &'a str,
    pub access_key_secret: &'a SecretString,
}

/// Where an RPC call's parameters travel: the query string (short ones) or a form body
/// (`application/x-www-form-urlencoded`, for mail bodies up to the API's limit).
pub(crate) enum Params<'a> {
    Query(&'a [(&'a str, &'a str)]),
    Form(&'a [(&'a str, &'a str)]),
}

fn encoded(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs an RPC-style call (`action`, `version`) to `endpoint` with the V3 method.
pub(crate) fn sign_rpc(
    credentials: &AcsCredentials<'_>,
    endpoint: &str,
    (action, version): (&str, &str),
    params: Params<'_>,
    now: DateTime<Utc>,
    nonce: &str,
) -> SignedRequest {
    let (canonical_query, body) = match params {
        Params::Query(p) => (encoded(p), Vec::new()),
        Params::Form(p) => (String::new(), encoded(p).into_bytes()),
    };
    let host = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .unwrap_or(endpoint)
        .trim_end_matches('/');
    let date = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let payload_hash = sha256_hex(&body);
    // Sorted by name; all are signed.
    let headers = [
        ("host", host.to_owned()),
        ("x-acs-action", action.to_owned()),
        ("x-acs-content-sha256", payload_hash.clone()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce.to_owned()),
        ("x-acs-version", version.to_owned()),
    ];
    let canonical_headers: String = headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "POST\n/\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    );
    let string_to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let key = hmac::Key::new(
        hmac::HMAC_SHA256,
        credentials.access_key_secret.expose_secret().as_bytes(),
    );
    let signature = hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    let mut out_headers: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(k, _)| *k != "host")
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    if !body.is_empty() {
        out_headers.push((
            "content-type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ));
    }
    out_headers.push((
        "authorization".to_owned(),
        format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={signed_headers},Signature={signature}",
            credentials.access_key_id
        ),
    ));
    let base = endpoint.trim_end_matches('/');
    SignedRequest {
        url: if canonical_query.is_empty() {
            format!("{base}/")
        } else {
            format!("{base}/?{canonical_query}")
        },
        headers: out_headers,
        body,
        canonical_request,
    }
}

impl AliyunSms {
    pub fn new(config: AliyunSmsConfig) -> AliyunSms {
        AliyunSms {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Builds and signs the `SendSms` request for `msg` at `now` with `nonce`.
    pub fn sign(&self, msg: &SmsMessage<'_>, now: DateTime<Utc>, nonce: &str) -> SignedRequest {
        let template = match msg.template {
            SmsTemplate::SignInCode => &self.config.template_signin,
            SmsTemplate::ResetCode => &self.config.template_reset,
            SmsTemplate::OrderNotice => self
                .config
                .template_notice
                .as_ref()
                .unwrap_or(&self.config.template_signin),
        };
        let template_param = msg.template_param().to_string();
        let credentials = AcsCredentials {
            access_key_id: &self.config.access_key_id,
            access_key_secret: &self.config.access_key_secret,
        };
        sign_rpc(
            &credentials,
            &self.config.endpoint,
            (ACTION, VERSION),
            Params::Query(&[
                ("PhoneNumbers", msg.phone.as_str()),
                ("SignName", self.config.sign_name.as_str()),
                ("TemplateCode", template.as_str()),
                ("TemplateParam", template_param.as_str()),
            ]),
            now,
            nonce,
        )
    }

    pub async fn send(&self, msg: &SmsMessage<'_>) -> Result<(), NotifyError> {
        if msg.template == SmsTemplate::OrderNotice && self.config.template_notice.is_none() {
            return Err(NotifyError::NotConfigured { channel: "sms" });
        }
        let nonce = crate::crypto::random_token().map_err(|e| NotifyError::Transport {
            channel: "sms",
            source: Box::new(e),
        })?;
        self.send_signed(self.sign(msg, Utc::now(), &nonce)).await
    }

    pub async fn send_signed(&self, req: SignedRequest) -> Result<(), NotifyError> {
        let transport = |e: reqwest::Error| NotifyError::Transport {
            channel: "sms",
            // The URL holds the phone number and code: never let it reach a log.
            source: Box::new(e.without_url()),
        };
        let mut builder = self.http.post(&req.url);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let resp = builder.send().await.map_err(transport)?;
        let status = resp.status();
        let body: SendSmsResponse = resp.json().await.map_err(transport)?;
        if status.is_success() && body.code == "OK" {
            Ok(())
        } else {
            Err(NotifyError::Refused {
                channel: "sms",
                code: body.code,
                message: body.message,
            })
        }
    }
}
