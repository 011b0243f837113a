//! Everything a function needs, built once per cold start and shared by every invocation.
//!
//! A cold start builds only what every invocation needs: the configuration, the token keys and
//! the DynamoDB client. The queue and file clients are built on first use, and the AWS SDK's
//! HTTP client trusts the few roots AWS endpoints chain to instead of reading and parsing the
//! operating system's whole certificate store (`make bench` measures the difference).

use std::sync::OnceLock;

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{KeyError, TokenKeys, TokenSecret};
use crate::aws_calls::{self, RecordAwsCalls};
use crate::config::SearchConfig;
use crate::config::{Config, ConfigError, MailConfig, SmsConfig};
use crate::crypto::PiiVault;
use crate::notify::{AliyunSms, DirectMailer, Mailer, Outbox, SesMailer, SmsSender};
use crate::payments::{Gateways, PaymentSettings};
use crate::realtime::Pusher;
use crate::search::SearchEngine;
use crate::store::Store;

#[derive(Debug)]
pub struct Deps {
    pub config: Config,
    pub store: Store,
    pub keys: TokenKeys,
    aws: aws_config::SdkConfig,
    sqs: OnceLock<aws_sdk_sqs::Client>,
    s3: OnceLock<aws_sdk_s3::Client>,
    pub sms: SmsSender,
    pub mail: Mailer,
    /// Screens public images (`IMAGE_MODERATION`).
    pub screener: crate::screening::ImageScreener,
    /// Present where `PII_SECRET_ID` is configured (the 实名认证 functions).
    pub pii: Option<PiiVault>,
    /// The gateways this function has settings for (`PAYMENT_SECRET_ID`).
    pub gateways: Gateways,
    /// The search index (`SEARCH_URL` or `SEARCH_INDEX_DIR`); opened on first use.
    pub search: SearchEngine,
    /// The briefs' index beside it (the alias `briefs`, or `{SEARCH_INDEX_DIR}-briefs`).
    pub brief_search: SearchEngine,
    /// WebSocket pushes (`WS_ENDPOINT`).
    pub pusher: Pusher,
    /// WeChat sign-in (`WECHAT_LOGIN_SECRET_ID`).
    pub wechat_login: Option<crate::auth::wechat::WechatLogin>,
    /// Alipay sign-in (`ALIPAY_LOGIN_SECRET_ID`).
    pub alipay_login: Option<crate::auth::alipay::AlipayLogin>,
}

impl Deps {
    /// Reads the configuration, the secrets this function is given (each one Secrets Manager
    /// read, together, once per process) and builds the AWS clients. Most functions are given
    /// no secret and make no network call here: credentials and endpoints
    /// (`AWS_ENDPOINT_URL` for the local stack) resolve lazily.
    pub async fn from_env() -> Result<Deps, ConfigError> {
        let mut config = Config::from_env()?;
        let aws = sdk_config().await;
        let aliyun_id = config
            .uses_aliyun()
            .then(|| config.aliyun_secret_id.clone())
            .flatten();
        let ids = [
            ("TOKEN_SECRET_ID", config.token_secret_id.clone()),
            ("PII_SECRET_ID", config.pii_secret_id.clone()),
            ("ALIYUN_SECRET_ID", aliyun_id),
            ("PAYMENT_SECRET_ID", config.payment_secret_id.clone()),
            (
                "WECHAT_LOGIN_SECRET_ID",
                config.wechat_login_secret_id.clone(),
            ),
            (
                "ALIPAY_LOGIN_SECRET_ID",
                config.alipay_login_secret_id.clone(),
            ),
        ];
        let [token, pii, aliyun, payments, wechat_login, alipay_login] =
            if ids.iter().all(|(_, id)| id.is_none()) {
                [None, None, None, None, None, None]
            } else {
                let client = secrets_client(&aws);
                let read = |(name, id): (&'static str, Option<String>)| {
                    let client = &client;
                    async move {
                        match id {
                            Some(id) => read_secret(client, name, &id).await.map(Some),
                            None => Ok(None),
                        }
                    }
                };
                let [a, b, c, d, e, f] = ids;
                let (a, b, c, d, e, f) =
                    tokio::join!(read(a), read(b), read(c), read(d), read(e), read(f));
                [a?, b?, c?, d?, e?, f?]
            };
        config.token_secret = token;
        if let Some(text) = pii {
            config.pii_key = Some(secret_field(&text, "pii_key", "PII_SECRET_ID")?);
        }
        if let Some(text) = aliyun {
            config.set_aliyun_credentials(
                secret_field(&text, "access_key_id", "ALIYUN_SECRET_ID")?
                    .expose_secret()
                    .to_owned(),
                secret_field(&text, "access_key_secret", "ALIYUN_SECRET_ID")?,
            );
        }
        let mut deps = Deps::build(config, &aws)?;
        if let Some(text) = payments {
            deps.gateways = gateways(&text)?;
        }
        if let Some(text) = wechat_login {
            let settings =
                serde_json::from_str(text.expose_secret()).map_err(|_| ConfigError::Invalid {
                    name: "WECHAT_LOGIN_SECRET_ID",
                    reason: "the secret is not valid WeChat sign-in settings JSON",
                })?;
            deps.wechat_login = Some(crate::auth::wechat::WechatLogin::new(settings));
        }
        if let Some(text) = alipay_login {
            let invalid = |reason| ConfigError::Invalid {
                name: "ALIPAY_LOGIN_SECRET_ID",
                reason,
            };
            let settings = serde_json::from_str(text.expose_secret())
                .map_err(|_| invalid("the secret is not valid Alipay sign-in settings JSON"))?;
            deps.alipay_login = Some(
                crate::auth::alipay::AlipayLogin::new(settings)
                    .map_err(|_| invalid("an Alipay sign-in key is not a usable key"))?,
            );
        }
        Ok(deps)
    }

    pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Result<Deps, ConfigError> {
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(aws)
            .interceptor(crate::telemetry::CountDynamoDbCalls);
        if aws_calls::enabled() {
            dynamodb = dynamodb.interceptor(RecordAwsCalls);
        }
        let store = Store::new(
            aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            config.table_name.clone(),
        );
        let keys = token_keys(&config)?;
        let sms = match &config.sms {
            SmsConfig::Disabled => SmsSender::Disabled,
            SmsConfig::Outbox { dir } => SmsSender::Outbox(Outbox::new(dir)),
            SmsConfig::Aliyun(c) => SmsSender::Aliyun(AliyunSms::new(c.clone())),
        };
        let screener = match &config.moderation {
            None => crate::screening::ImageScreener::PassAll,
            Some(c) => crate::screening::ImageScreener::Aliyun(
                crate::screening::AliyunModeration::new(c.clone()),
            ),
        };
        let mail = match &config.mail {
            MailConfig::Disabled => Mailer::Disabled,
            MailConfig::Outbox { dir } => Mailer::Outbox(Outbox::new(dir)),
            MailConfig::Ses { from } => {
                let mut ses = aws_sdk_sesv2::config::Builder::from(aws);
                if aws_calls::enabled() {
                    ses = ses.interceptor(RecordAwsCalls);
                }
                Mailer::Ses(SesMailer::new(
                    aws_sdk_sesv2::Client::from_conf(ses.build()),
                    from,
                ))
            }
            MailConfig::DirectMail(c) => Mailer::DirectMail(DirectMailer::new(c.clone())),
        };
        let pii = config
            .pii_key
            .as_ref()
            .map(PiiVault::new)
            .transpose()
            .map_err(|_| ConfigError::Invalid {
                name: "PII_SECRET_ID",
                reason: "must be the base64 of 32 random bytes",
            })?;
        let engine = |briefs: bool| -> Result<SearchEngine, ConfigError> {
            Ok(match &config.search {
                SearchConfig::Disabled => SearchEngine::Disabled,
                SearchConfig::Local { dir } => {
                    let dir = if briefs {
                        format!("{}-briefs", dir.trim_end_matches('/'))
                    } else {
                        dir.clone()
                    };
                    SearchEngine::Local(crate::search::local::LocalIndex::new(dir))
                }
                SearchConfig::OpenSearch { url, index } => {
                    let credentials = opensearch::auth::Credentials::try_from(aws).ok();
                    let alias = match (briefs, index.as_str()) {
                        (false, _) => index.clone(),
                        (true, crate::search::DEFAULT_INDEX) => {
                            crate::search::BRIEFS_INDEX.to_owned()
                        }
                        // Beside a services alias of another name (tests): its own.
                        (true, other) => format!("{other}-briefs"),
                    };
                    SearchEngine::OpenSearch(
                        crate::search::opensearch::OpenSearchIndex::new(url, &alias, credentials)
                            .map_err(|_| ConfigError::Invalid {
                            name: "SEARCH_URL",
                            reason: "the search client could not be built",
                        })?,
                    )
                }
            })
        };
        let search = engine(false)?;
        let brief_search = engine(true)?;
        let pusher = Pusher::new(aws, config.ws_endpoint.as_deref());
        Ok(Deps {
            pusher,
            search,
            brief_search,
            store,
            keys,
            aws: aws.clone(),
            sqs: OnceLock::new(),
            s3: OnceLock::new(),
            sms,
            mail,
            screener,
            pii,
            gateways: Gateways::default(),
            wechat_login: None,
            alipay_login: None,
            config,
        })
    }

    /// The queue client, built on first use (most functions never send to a queue).
    /// The ways a notice reaches a user (`app::notifications`).
    pub fn channels(&self) -> crate::app::notifications::Channels<'_> {
        crate::app::notifications::Channels {
            store: &self.store,
            pusher: &self.pusher,
            mail: &self.mail,
            sms: &self.sms,
            app_base_url: &self.config.app_base_url,
        }
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs.get_or_init(|| {
            let mut sqs = aws_sdk_sqs::config::Builder::from(&self.aws);
            if aws_calls::enabled() {
                sqs = sqs.interceptor(RecordAwsCalls);
            }
            aws_sdk_sqs::Client::from_conf(sqs.build())
        })
    }

    /// The file store client, built on first use.
    /// The media bucket (`MEDIA_BUCKET`) through this function's S3 client.
    pub fn media_files(&self) -> Result<crate::files::Files, ConfigError> {
        let bucket = crate::config::Config::require(&self.config.media_bucket, "MEDIA_BUCKET")?;
        Ok(crate::files::Files::new(self.s3().clone(), bucket))
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        self.s3.get_or_init(|| {
            let mut s3 = aws_sdk_s3::config::Builder::from(&self.aws)
                .force_path_style(self.config.s3_force_path_style);
            if aws_calls::enabled() {
                s3 = s3.interceptor(RecordAwsCalls);
            }
            aws_sdk_s3::Client::from_conf(s3.build())
        })
    }
}

/// The roots AWS service endpoints chain to (Amazon Trust Services and the Starfield root that
/// cross-signs them).
const AMAZON_ROOTS: &[u8] = include_bytes!("../data/amazon-trust-services.pem");

/// Which certificates the AWS SDK's HTTP client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Roots {
    /// [`AMAZON_ROOTS`]: five certificates compiled in, nothing read from disk.
    Amazon,
    /// The operating system's store (about 150 roots read and parsed at cold start).
    System,
}

impl Roots {
    /// Amazon's roots wherever the endpoints are AWS's own. The China partition (`cn-*`) is run
    /// by local operators, and an `https` endpoint of our choosing (a proxy, an emulator with
    /// TLS) may chain anywhere: those keep the system store.
    fn for_endpoints(region: Option<&str>, endpoint_url: Option<&str>) -> Roots {
        let china = region.is_some_and(|r| r.starts_with("cn-"));
        let own_tls_endpoint = endpoint_url.is_some_and(|u| u.starts_with("https://"));
        if china || own_tls_endpoint {
            Roots::System
        } else {
            Roots::Amazon
        }
    }
}

/// `loader` with the SDK's HTTPS client (rustls on aws-lc, as the SDK's default) trusting
/// `roots`.
fn trusting(loader: aws_config::ConfigLoader, roots: Roots) -> aws_config::ConfigLoader {
    let store = match roots {
        Roots::Amazon => tls::TrustStore::empty().with_pem_certificate(AMAZON_ROOTS),
        Roots::System => tls::TrustStore::default(),
    };
    let builder = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(
        tls::rustls_provider::CryptoMode::AwsLc,
    ));
    loader.http_client(
        match tls::TlsContext::builder().with_trust_store(store).build() {
            Ok(context) => builder.tls_context(context).build_https(),
            Err(_) => builder.build_https(),
        },
    )
}

/// The SDK configuration of a function. In Lambda the region and the execution role's
/// credentials are always in the environment, so only those providers are built (the default
/// chain would also set up profile, SSO, web identity, container and instance-metadata
/// providers); elsewhere (devtool, a developer's shell) the default chain applies.
async fn sdk_config() -> aws_config::SdkConfig {
    let var = |name: &str| std::env::var(name).ok();
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION"));
    let roots = Roots::for_endpoints(region.as_deref(), var("AWS_ENDPOINT_URL").as_deref());
    let mut loader = trusting(aws_config::defaults(BehaviorVersion::latest()), roots);
    if var("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        loader = loader
            .region(aws_config::environment::EnvironmentVariableRegionProvider::new())
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
    }
    loader.load().await
}

fn secrets_client(aws: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    let mut secrets = aws_sdk_secretsmanager::config::Builder::from(aws);
    if aws_calls::enabled() {
        secrets = secrets.interceptor(RecordAwsCalls);
    }
    aws_sdk_secretsmanager::Client::from_conf(secrets.build())
}

/// One secret's text, read once, at cold start. A secret that cannot be read fails the cold
/// start with the variable that names it.
async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    name: &'static str,
    id: &str,
) -> Result<SecretString, ConfigError> {
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            tracing::error!(secret = name, error = %aws_sdk_secretsmanager::error::DisplayErrorContext(&e), "secret unreadable");
            ConfigError::Invalid {
                name,
                reason: "the secret could not be read",
            }
        })?;
    out.secret_string()
        .map(|s| SecretString::from(s.to_owned()))
        .ok_or(ConfigError::Invalid {
            name,
            reason: "the secret has no string value",
        })
}

/// A string field of a JSON secret.
fn secret_field(
    text: &SecretString,
    field: &'static str,
    name: &'static str,
) -> Result<SecretString, ConfigError> {
    let json: serde_json::Value =
        serde_json::from_str(text.expose_secret()).map_err(|_| ConfigError::Invalid {
            name,
            reason: "the secret is not JSON",
        })?;
    json.get(field)
        .and_then(|v| v.as_str())
        .filter(|v| !v.trim().is_empty())
        .map(|v| SecretString::from(v.to_owned()))
        .ok_or(ConfigError::Invalid {
            name,
            reason: "the secret lacks a field this function needs",
        })
}

/// The token keys: verification for every function, signing where the secret is given.
fn token_keys(config: &Config) -> Result<TokenKeys, ConfigError> {
    let secret = config
        .token_secret
        .as_ref()
        .map(|text| TokenSecret::from_json(text.expose_secret()))
        .transpose()
        .map_err(|e| ConfigError::Invalid {
            name: "TOKEN_SECRET_ID",
            reason: key_reason(e),
        })?;
    TokenKeys::new(&config.access_token_public_key, secret.as_ref()).map_err(|e| {
        ConfigError::Invalid {
            name: match e {
                KeyError::PublicKey => "ACCESS_TOKEN_PUBLIC_KEY",
                _ => "TOKEN_SECRET_ID",
            },
            reason: key_reason(e),
        }
    })
}

fn key_reason(e: KeyError) -> &'static str {
    match e {
        KeyError::PublicKey => "must be the base64url of a 32-byte Ed25519 public key",
        KeyError::SecretShape => "the secret is not JSON with signing_key and mac_key",
        KeyError::SigningKey => "signing_key is not a base64 PKCS#8 Ed25519 private key",
        KeyError::MacKey => "mac_key is not the base64 of at least 32 bytes",
        KeyError::Mismatch => "its signing key is not the private half of ACCESS_TOKEN_PUBLIC_KEY",
    }
}

/// The payment gateways from their settings secret.
fn gateways(text: &SecretString) -> Result<Gateways, ConfigError> {
    let settings: PaymentSettings =
        serde_json::from_str(text.expose_secret()).map_err(|_| ConfigError::Invalid {
            name: "PAYMENT_SECRET_ID",
            reason: "the secret is not valid payment settings JSON",
        })?;
    Gateways::from_settings(settings).map_err(|_| ConfigError::Invalid {
        name: "PAYMENT_SECRET_ID",
        reason: "a key in the payment settings is not a valid RSA key",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_endpoints_are_trusted_through_amazons_roots_only_outside_china() {
        assert_eq!(Roots::for_endpoints(Some("ap-east-1"), None), Roots::Amazon);
        assert_eq!(Roots::for_endpoints(None, None), Roots::Amazon);
        // The local emulator speaks plain HTTP: no certificate is ever checked.
        assert_eq!(
            Roots::for_endpoints(Some("us-east-1"), Some("http://127.0.0.1:4566")),
            Roots::Amazon
        );
        assert_eq!(
            Roots::for_endpoints(Some("cn-north-1"), None),
            Roots::System
        );
        assert_eq!(
            Roots::for_endpoints(Some("cn-northwest-1"), None),
            Roots::System
        );
        assert_eq!(
            Roots::for_endpoints(Some("us-east-1"), Some("https://proxy.internal")),
            Roots::System
        );
    }

    #[test]
    fn the_compiled_in_roots_are_five_valid_trust_anchors() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs = CertificateDer::pem_slice_iter(AMAZON_ROOTS)
            .collect::<Result<Vec<_>, _>>()
            .expect("PEM");
        assert_eq!(certs.len(), 5);
        let mut store = rustls::RootCertStore::empty();
        let (valid, invalid) = store.add_parsable_certificates(certs);
        assert_eq!((valid, invalid), (5, 0));
    }
}
