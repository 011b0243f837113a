//! Everything a function needs, built once per cold start and shared by every invocation.

use aws_config::BehaviorVersion;

use crate::auth::TokenKeys;
use crate::config::SearchConfig;
use crate::config::{Config, ConfigError, MailConfig, SmsConfig};
use crate::crypto::PiiVault;
use crate::notify::{AliyunSms, Mailer, Outbox, SesMailer, SmsSender};
use crate::payments::{Gateways, PaymentSettings};
use crate::realtime::Pusher;
use crate::search::SearchEngine;
use crate::store::Store;

#[derive(Debug)]
pub struct Deps {
    pub config: Config,
    pub store: Store,
    pub keys: TokenKeys,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub sms: SmsSender,
    pub mail: Mailer,
    /// Present where `PII_KEY` is configured (the 实名认证 functions).
    pub pii: Option<PiiVault>,
    /// The gateways this function has settings for (`PAYMENT_SECRET_ID`).
    pub gateways: Gateways,
    /// The search index (`SEARCH_URL` or `SEARCH_INDEX_DIR`); opened on first use.
    pub search: SearchEngine,
    /// WebSocket pushes (`WS_ENDPOINT`).
    pub pusher: Pusher,
}

impl Deps {
    /// Reads the configuration and builds the AWS clients. No network call happens here:
    /// credentials and endpoints (`AWS_ENDPOINT_URL` for the local stack) resolve lazily.
    pub async fn from_env() -> Result<Deps, ConfigError> {
        let config = Config::from_env()?;
        let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let secret_id = config.payment_secret_id.clone();
        let mut deps = Deps::build(config, &aws)?;
        if let Some(id) = secret_id {
            deps.gateways = load_gateways(&aws, &id).await?;
        }
        Ok(deps)
    }

    pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<Deps, ConfigError> {
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(aws)
                    .interceptor(crate::telemetry::CountDynamoDbCalls)
                    .build(),
            ),
            config.table_name.clone(),
        );
        let keys = TokenKeys::new(&config.jwt_secret);
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(aws)
                .force_path_style(config.s3_force_path_style)
                .build(),
        );
        let sms = match &config.sms {
            SmsConfig::Disabled => SmsSender::Disabled,
            SmsConfig::Outbox { dir } => SmsSender::Outbox(Outbox::new(dir)),
            SmsConfig::Aliyun(c) => SmsSender::Aliyun(AliyunSms::new(c.clone())),
        };
        let mail = match &config.mail {
            MailConfig::Disabled => Mailer::Disabled,
            MailConfig::Outbox { dir } => Mailer::Outbox(Outbox::new(dir)),
            MailConfig::Ses { from } => {
                Mailer::Ses(SesMailer::new(aws_sdk_sesv2::Client::new(aws), from))
            }
        };
        let pii = config
            .pii_key
            .as_ref()
            .map(PiiVault::new)
            .transpose()
            .map_err(|_| ConfigError::Invalid {
                name: "PII_KEY",
                reason: "must be the base64 of 32 random bytes",
            })?;
        let search = match &config.search {
            SearchConfig::Disabled => SearchEngine::Disabled,
            SearchConfig::Local { dir } => {
                SearchEngine::Local(crate::search::local::LocalIndex::new(dir))
            }
            SearchConfig::OpenSearch { url, index } => {
                let credentials = opensearch::auth::Credentials::try_from(aws).ok();
                SearchEngine::OpenSearch(
                    crate::search::opensearch::OpenSearchIndex::new(url, index, credentials)
                        .map_err(|_| ConfigError::Invalid {
                            name: "SEARCH_URL",
                            reason: "the search client could not be built",
                        })?,
                )
            }
        };
        let pusher = Pusher::new(aws, config.ws_endpoint.as_deref());
        Ok(Deps {
            pusher,
            search,
            store,
            keys,
            sqs: aws_sdk_sqs::Client::new(aws),
            s3,
            sms,
            mail,
            pii,
            gateways: Gateways::default(),
            config,
        })
    }
}

/// Reads the payment settings secret once, at cold start.
async fn load_gateways(aws: &aws_config::SdkConfig, id: &str) -> Result<Gateways, ConfigError> {
    let unreadable = ConfigError::Invalid {
        name: "PAYMENT_SECRET_ID",
        reason: "the secret could not be read",
    };
    let out = aws_sdk_secretsmanager::Client::new(aws)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            tracing::error!(error = %aws_sdk_secretsmanager::error::DisplayErrorContext(&e), "payment settings");
            unreadable
        })?;
    let text = out.secret_string().unwrap_or_default();
    let settings: PaymentSettings =
        serde_json::from_str(text).map_err(|_| ConfigError::Invalid {
            name: "PAYMENT_SECRET_ID",
            reason: "the secret is not valid payment settings JSON",
        })?;
    Gateways::from_settings(settings).map_err(|_| ConfigError::Invalid {
        name: "PAYMENT_SECRET_ID",
        reason: "a key in the payment settings is not a valid RSA key",
    })
}
