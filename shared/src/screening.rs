//! Screening public images before they are shown: Aliyun Content Moderation 2.0 (图片审核增强版,
//! `green-cip` `ImageModeration`, version 2022-03-02, service `baselineCheck`) in production,
//! and an adapter that passes everything where no provider is configured (the local stack).
//!
//! The call is an Alibaba Cloud RPC signed with the V3 method (`notify::aliyun::sign_rpc`);
//! `Service` and `ServiceParameters` (`{"imageUrl", "dataId"}`) travel as a form body. The
//! service fetches the image from `imageUrl` (a short-lived presigned URL of a private copy: a
//! picture is never public before it passes). It answers HTTP 200 with
//! `{"Code": 200, "Data": {"DataId", "Result": [{"Label", "Confidence"}], "RiskLevel"}, "Msg",
//! "RequestId"}`; `RiskLevel` is `high`, `medium`, `low` or `none`, and a `Result` label of
//! `nonLabel` means nothing was found. Only public images are sent: private files (deliveries,
//! evidence, documents) never leave the platform.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Deserialize;

use crate::notify::aliyun::{AcsCredentials, Params, SignedRequest, sign_rpc};

const ACTION: &str = "ImageModeration";
const VERSION: &str = "2022-03-02";
const SERVICE: &str = "baselineCheck";
/// A label at or above this confidence rejects the image when the service gives no risk level.
const REJECT_CONFIDENCE: f64 = 80.0;

/// What screening decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Pass,
    /// Not to be shown: the labels found (e.g. `pornographic_adultContent`).
    Reject {
        labels: Vec<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ScreeningError {
    #[error("image moderation unreachable: {0}")]
    Transport(String),
    #[error("image moderation refused the call: {code} {message}")]
    Refused { code: String, message: String },
}

/// Aliyun's settings: the AccessKey pair comes from `ALIYUN_SECRET_ID` at cold start.
#[derive(Debug, Clone)]
pub struct AliyunModerationConfig {
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    /// `https://green-cip.cn-shanghai.aliyuncs.com` by default (`ALIYUN_GREEN_ENDPOINT`).
    pub endpoint: String,
}

#[derive(Debug, Clone)]
pub struct AliyunModeration {
    config: AliyunModerationConfig,
    http: reqwest::Client,
}

/// The image screener a function was given (`IMAGE_MODERATION`).
#[derive(Debug, Clone)]
pub enum ImageScreener {
    /// Not configured (the local stack): every image passes.
    PassAll,
    Aliyun(AliyunModeration),
}

impl ImageScreener {
    /// Whether screening needs the image at a URL the provider can fetch.
    pub fn needs_url(&self) -> bool {
        matches!(self, ImageScreener::Aliyun(_))
    }

    /// Screens the image at `image_url`; `data_id` names it in the provider's console.
    pub async fn screen(&self, image_url: &str, data_id: &str) -> Result<Verdict, ScreeningError> {
        match self {
            ImageScreener::PassAll => Ok(Verdict::Pass),
            ImageScreener::Aliyun(a) => a.screen(image_url, data_id).await,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(rename = "Code", default)]
    code: Option<serde_json::Value>,
    #[serde(rename = "Msg", default)]
    msg: String,
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Data", default)]
    data: Option<AnswerData>,
}

#[derive(Debug, Deserialize)]
struct AnswerData {
    #[serde(rename = "Result", default)]
    result: Vec<Finding>,
    #[serde(rename = "RiskLevel", default)]
    risk_level: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Finding {
    #[serde(rename = "Label", default)]
    label: String,
    #[serde(rename = "Confidence", default)]
    confidence: Option<f64>,
}

/// The verdict of a successful answer: `high` risk rejects; without a risk level, a label
/// other than `nonLabel` at [`REJECT_CONFIDENCE`] or more does.
fn verdict(data: AnswerData) -> Verdict {
    let labels: Vec<String> = data
        .result
        .iter()
        .filter(|f| f.label != "nonLabel" && !f.label.is_empty())
        .map(|f| f.label.clone())
        .collect();
    let reject = match data.risk_level.as_deref() {
        Some(level) => level == "high",
        None => data
            .result
            .iter()
            .any(|f| f.label != "nonLabel" && f.confidence.unwrap_or(0.0) >= REJECT_CONFIDENCE),
    };
    if reject {
        Verdict::Reject { labels }
    } else {
        Verdict::Pass
    }
}

impl AliyunModeration {
    pub fn new(config: AliyunModerationConfig) -> AliyunModeration {
        AliyunModeration {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Builds and signs the `ImageModeration` request at `now` with `nonce`.
    pub fn sign(
        &self,
        image_url: &str,
        data_id: &str,
        now: DateTime<Utc>,
        nonce: &str,
    ) -> SignedRequest {
        let parameters = serde_json::json!({"imageUrl": image_url, "dataId": data_id}).to_string();
        sign_rpc(
            &AcsCredentials {
                access_key_id: &self.config.access_key_id,
                access_key_secret: &self.config.access_key_secret,
            },
            &self.config.endpoint,
            (ACTION, VERSION),
            Params::Form(&[("Service", SERVICE), ("ServiceParameters", &parameters)]),
            now,
            nonce,
        )
    }

    pub async fn screen(&self, image_url: &str, data_id: &str) -> Result<Verdict, ScreeningError> {
        let nonce =
            crate::crypto::random_token().map_err(|e| ScreeningError::Transport(e.to_string()))?;
        self.send_signed(self.sign(image_url, data_id, Utc::now(), &nonce))
            .await
    }

    pub async fn send_signed(&self, req: SignedRequest) -> Result<Verdict, ScreeningError> {
        // The body holds a presigned URL: never let it reach a log.
        let transport = |e: reqwest::Error| ScreeningError::Transport(e.without_url().to_string());
        let mut builder = self.http.post(&req.url).body(req.body);
        for (k, v) in &req.headers {
            builder = builder.header(k, v);
        }
        let resp = builder.send().await.map_err(transport)?;
        let status = resp.status();
        let answer: Answer = resp.json().await.map_err(transport)?;
        let code = match &answer.code {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => status.as_u16().to_string(),
        };
        match (status.is_success(), code.as_str(), answer.data) {
            (true, "200", Some(data)) => Ok(verdict(data)),
            _ => Err(ScreeningError::Refused {
                code,
                message: if answer.msg.is_empty() {
                    answer.message
                } else {
                    answer.msg
                },
            }),
        }
    }
}
