//! Aliyun DirectMail (邮件推送, `dm` `SingleSendMail`, version 2015-11-23): the mail adapter
//! for the China regions, where Amazon SES is not offered. Signed like every Alibaba Cloud
//! RPC call of ours (V3, see `aliyun.rs`); the parameters go in a form body, since a mail's
//! HTML is longer than a query string should be. `AccountName` is a sender address verified
//! in the DirectMail console (`MAIL_FROM`); `AddressType=1` sends from it, and
//! `ReplyToAddress=false` uses no console-configured reply-to. The service answers HTTP 200
//! with `{"EnvId": …, "RequestId": …}`, and a 4xx/5xx with `{"Code": …, "Message": …}` when
//! it refuses (e.g. `InvalidToAddress`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Deserialize;

use super::NotifyError;
use super::aliyun::{AcsCredentials, Params, SignedRequest, sign_rpc};
use super::mail::Mail;

const ACTION: &str = "SingleSendMail";
const VERSION: &str = "2015-11-23";

/// DirectMail's settings: the AccessKey pair comes from `ALIYUN_SECRET_ID` at cold start.
#[derive(Debug, Clone)]
pub struct DirectMailConfig {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    /// The verified sender address (`MAIL_FROM`).
    pub from: String,
    /// The name recipients see beside it (`MAIL_FROM_ALIAS`, under 15 characters).
    pub from_alias: Option<String>,
    /// `https://dm.aliyuncs.com` (cn-hangzhou) by default (`ALIYUN_DM_ENDPOINT`).
    pub endpoint: String,
}

#[derive(Debug, Clone)]
pub struct DirectMailer {
    config: DirectMailConfig,
    http: reqwest::Client,
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(rename = "EnvId", default)]
    env_id: Option<String>,
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "Message", default)]
    message: String,
}

impl DirectMailer {
    pub fn new(config: DirectMailConfig) -> DirectMailer {
        DirectMailer {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Builds and signs the `SingleSendMail` request for `mail` at `now` with `nonce`.
    pub fn sign(&self, mail: &Mail, now: DateTime<Utc>, nonce: &str) -> SignedRequest {
        let mut params = vec![
            ("AccountName", self.config.from.as_str()),
            ("AddressType", "1"),
            ("ReplyToAddress", "false"),
            ("ToAddress", mail.to.as_str()),
            ("Subject", mail.subject.as_str()),
            ("HtmlBody", mail.html.as_str()),
            ("TextBody", mail.text.as_str()),
            ("TagName", mail.kind),
        ];
        if let Some(alias) = &self.config.from_alias {
            params.push(("FromAlias", alias.as_str()));
        }
        sign_rpc(
            &AcsCredentials {
                access_key_id: &self.config.access_key_id,
                access_key_secret: &self.config.access_key_secret,
            },
            &self.config.endpoint,
            (ACTION, VERSION),
            Params::Form(&params),
            now,
            nonce,
        )
    }

    pub async fn send(&self, mail: &Mail) -> Result<(), NotifyError> {
        let nonce = crate::crypto::random_token().map_err(|e| NotifyError::Transport {
            channel: "email",
            source: Box::new(e),
        })?;
        self.send_signed(self.sign(mail, Utc::now(), &nonce)).await
    }

    pub async fn send_signed(&self, req: SignedRequest) -> Result<(), NotifyError> {
        let transport = |e: reqwest::Error| NotifyError::Transport {
            channel: "email",
            source: Box::new(e.without_url()),
        };
        let mut builder = self.http.post(&req.url).body(req.body);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let resp = builder.send().await.map_err(transport)?;
        let status = resp.status();
        let answer: Answer = resp.json().await.map_err(transport)?;
        match (status.is_success(), answer.env_id, answer.code) {
            (true, Some(_), None) => Ok(()),
            (_, _, code) => Err(NotifyError::Refused {
                channel: "email",
                code: code.unwrap_or_else(|| status.as_u16().to_string()),
                message: answer.message,
            }),
        }
    }
}
