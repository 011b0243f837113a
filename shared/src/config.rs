//! Settings, read from the environment once per cold start. A missing or bad variable fails
//! the cold start with a message naming it, never a request.

use secrecy::SecretString;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        reason: &'static str,
    },
}

/// Where public media (avatars, service galleries) are served from (`MEDIA_BASE_URL`: the
/// CDN in AWS, the emulator's bucket locally), without a trailing slash; `None` where a
/// function is not given it. Read once.
pub fn media_base_url() -> Option<&'static str> {
    static BASE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        local_function_env()
            .and_then(|mut own| own.remove("MEDIA_BASE_URL"))
            .or_else(|| std::env::var("MEDIA_BASE_URL").ok())
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty())
    })
    .as_deref()
}

/// The public URL of a media key (`avatars/…`, `services/…`).
pub fn public_media_url(key: &str) -> Option<String> {
    media_base_url().map(|base| format!("{base}/{key}"))
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// The Ed25519 public key access tokens are verified with (`ACCESS_TOKEN_PUBLIC_KEY`,
    /// base64url of the 32-byte key); every function has it.
    pub access_token_public_key: String,
    /// The Secrets Manager secret with the token signing and MAC keys (`TOKEN_SECRET_ID`);
    /// only the functions that issue tokens or check SMS codes have it.
    pub token_secret_id: Option<String>,
    /// That secret's text, read at cold start ([`crate::Deps::from_env`]).
    pub token_secret: Option<SecretString>,
    /// The Secrets Manager secret holding `{"pii_key": …}` (`PII_SECRET_ID`); only the
    /// 实名认证 functions have it.
    pub pii_secret_id: Option<String>,
    /// The Secrets Manager secret holding the Aliyun AccessKey pair (`ALIYUN_SECRET_ID`,
    /// `{"access_key_id": …, "access_key_secret": …}`); only the functions that send SMS
    /// (or mail through DirectMail) have it.
    pub aliyun_secret_id: Option<String>,
    /// Take the client IP from `X-Forwarded-For` (`TRUST_FORWARDED_FOR=true`). Only for the
    /// local stack, where API Gateway's `sourceIp` is always 127.0.0.1.
    pub trust_forwarded_for: bool,
    /// Queue the stream router sends notification work to (`NOTIFICATIONS_QUEUE_URL`); only
    /// the functions that send there need it.
    pub notifications_queue_url: Option<String>,
    /// Where view-counter changes go to be folded (`stream-router` only).
    pub stats_queue_url: Option<String>,
    /// Where the monthly reports' pages go (`REPORTS_QUEUE_URL`, `monthly-reports` only).
    pub reports_queue_url: Option<String>,
    /// Base64 of the 32-byte master key for sensitive personal information, read from the
    /// `PII_SECRET_ID` secret at cold start.
    pub pii_key: Option<SecretString>,
    /// The bucket for uploads and processed media (`MEDIA_BUCKET`).
    pub media_bucket: Option<String>,
    /// Path-style S3 addressing (`S3_FORCE_PATH_STYLE=true`), for the local emulator.
    pub s3_force_path_style: bool,
    /// The Secrets Manager secret with the payment gateways' settings and keys
    /// (`PAYMENT_SECRET_ID`); only the functions that talk to gateways have it.
    pub payment_secret_id: Option<String>,
    /// The WeChat sign-in apps' credentials (`WECHAT_LOGIN_SECRET_ID`); only `auth-login-wechat`.
    pub wechat_login_secret_id: Option<String>,
    /// The Alipay sign-in apps' keys (`ALIPAY_LOGIN_SECRET_ID`); only `auth-login-alipay`.
    pub alipay_login_secret_id: Option<String>,
    /// Where links in emails point (`APP_BASE_URL`, default `https://gigbao.cn`).
    pub app_base_url: String,
    pub sms: SmsConfig,
    pub mail: MailConfig,
    /// How public images are screened (`IMAGE_MODERATION`): not set, every image passes (the
    /// local stack); `aliyun`: Aliyun Content Moderation with `ALIYUN_SECRET_ID`'s key pair,
    /// optional `ALIYUN_GREEN_ENDPOINT`.
    pub moderation: Option<crate::screening::AliyunModerationConfig>,
    /// Where new accounts and messages go to be checked (`ABUSE_QUEUE_URL`, `stream-router`
    /// only).
    pub abuse_queue_url: Option<String>,
    /// Data exports to write (`EXPORTS_QUEUE_URL`, the stream router sends them).
    pub exports_queue_url: Option<String>,
    /// Automatic spam sanctions before an account is banned (`ABUSE_BAN_AFTER_STRIKES`,
    /// default 3; 0: never banned automatically). The operators' setting.
    pub abuse_ban_after_strikes: u64,
    /// Days a seller's earnings wait before they can be withdrawn, per seller level
    /// (`CLEARANCE_DAYS`, `new,level_one,level_two,top_rated`, default `14,14,7,7`).
    pub clearance: crate::domain::clearance::ClearancePolicy,
    /// Where service changes go to be indexed (`SEARCH_QUEUE_URL`, `stream-router` only).
    pub search_queue_url: Option<String>,
    pub search: SearchConfig,
    /// API Gateway's management endpoint of the WebSocket API (`WS_ENDPOINT`,
    /// `https://{api}.execute-api.{region}.amazonaws.com/{stage}`); only the functions that
    /// push have it.
    pub ws_endpoint: Option<String>,
}

/// Which search adapter the search functions use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchConfig {
    /// Neither variable set: this function does not search.
    Disabled,
    /// `SEARCH_INDEX_DIR`: a tantivy index on local disk (the local stack and tests).
    Local { dir: String },
    /// `SEARCH_URL` (the OpenSearch domain endpoint) and `SEARCH_INDEX` (the alias, default
    /// `services`); requests are SigV4-signed with the function's credentials.
    OpenSearch { url: String, index: String },
}

/// Which SMS adapter sends codes (`SMS_PROVIDER`).
#[derive(Debug, Clone)]
pub enum SmsConfig {
    /// Not set: sending fails with a logged configuration error.
    Disabled,
    /// `outbox`: JSON lines under `OUTBOX_DIR` (local stack and tests only).
    Outbox { dir: String },
    /// `aliyun`: `ALIYUN_SECRET_ID` (the AccessKey pair, read at cold start),
    /// `ALIYUN_SMS_SIGN_NAME`, `ALIYUN_SMS_TEMPLATE_SIGNIN`, `ALIYUN_SMS_TEMPLATE_RESET`,
    /// optional `ALIYUN_SMS_ENDPOINT`.
    Aliyun(crate::notify::AliyunSmsConfig),
}

/// Which mail adapter sends email (`MAIL_PROVIDER`).
#[derive(Debug, Clone)]
pub enum MailConfig {
    Disabled,
    /// `outbox`: JSON lines under `OUTBOX_DIR`.
    Outbox {
        dir: String,
    },
    /// `ses`: Amazon SES v2 from `MAIL_FROM` (the global regions).
    Ses {
        from: String,
    },
    /// `directmail`: Aliyun DirectMail from `MAIL_FROM` (the China regions, where SES is not
    /// offered); `ALIYUN_SECRET_ID`, optional `MAIL_FROM_ALIAS`, `ALIYUN_DM_ENDPOINT`.
    DirectMail(crate::notify::DirectMailConfig),
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        match local_function_env() {
            Some(own) => {
                Config::from_lookup(|k| own.get(k).cloned().or_else(|| std::env::var(k).ok()))
            }
            None => Config::from_lookup(|k| std::env::var(k).ok()),
        }
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let table_name = required("TABLE_NAME")?;
        let access_token_public_key = required("ACCESS_TOKEN_PUBLIC_KEY")?;
        let trust_forwarded_for = match get("TRUST_FORWARDED_FOR").as_deref() {
            None | Some("") | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "TRUST_FORWARDED_FOR",
                    reason: "must be true or false",
                });
            }
        };
        let optional = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let outbox_dir = || {
            optional("OUTBOX_DIR").ok_or(ConfigError::Invalid {
                name: "OUTBOX_DIR",
                reason: "must be set when a provider is `outbox`",
            })
        };
        let sms = match optional("SMS_PROVIDER").as_deref() {
            None => SmsConfig::Disabled,
            Some("outbox") => SmsConfig::Outbox { dir: outbox_dir()? },
            Some("aliyun") => SmsConfig::Aliyun(crate::notify::AliyunSmsConfig {
                // Filled from the ALIYUN_SECRET_ID secret at cold start.
                access_key_id: {
                    required("ALIYUN_SECRET_ID")?;
                    String::new()
                },
                access_key_secret: SecretString::from(String::new()),
                sign_name: required("ALIYUN_SMS_SIGN_NAME")?,
                template_signin: required("ALIYUN_SMS_TEMPLATE_SIGNIN")?,
                template_reset: required("ALIYUN_SMS_TEMPLATE_RESET")?,
                template_notice: optional("ALIYUN_SMS_TEMPLATE_NOTICE"),
                endpoint: optional("ALIYUN_SMS_ENDPOINT")
                    .unwrap_or_else(|| "https://dysmsapi.aliyuncs.com".to_owned()),
            }),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "SMS_PROVIDER",
                    reason: "must be outbox or aliyun",
                });
            }
        };
        let moderation = match optional("IMAGE_MODERATION").as_deref() {
            None | Some("none") => None,
            Some("aliyun") => Some(crate::screening::AliyunModerationConfig {
                // Filled from the ALIYUN_SECRET_ID secret at cold start.
                access_key_id: {
                    required("ALIYUN_SECRET_ID")?;
                    String::new()
                },
                access_key_secret: SecretString::from(String::new()),
                endpoint: optional("ALIYUN_GREEN_ENDPOINT")
                    .unwrap_or_else(|| "https://green-cip.cn-shanghai.aliyuncs.com".to_owned()),
            }),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "IMAGE_MODERATION",
                    reason: "must be aliyun or none",
                });
            }
        };
        let mail = match optional("MAIL_PROVIDER").as_deref() {
            None => MailConfig::Disabled,
            Some("outbox") => MailConfig::Outbox { dir: outbox_dir()? },
            Some("ses") => MailConfig::Ses {
                from: required("MAIL_FROM")?,
            },
            Some("directmail") => MailConfig::DirectMail(crate::notify::DirectMailConfig {
                // Filled from the ALIYUN_SECRET_ID secret at cold start.
                access_key_id: {
                    required("ALIYUN_SECRET_ID")?;
                    String::new()
                },
                access_key_secret: SecretString::from(String::new()),
                from: required("MAIL_FROM")?,
                from_alias: optional("MAIL_FROM_ALIAS"),
                endpoint: optional("ALIYUN_DM_ENDPOINT")
                    .unwrap_or_else(|| "https://dm.aliyuncs.com".to_owned()),
            }),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "MAIL_PROVIDER",
                    reason: "must be outbox, ses or directmail",
                });
            }
        };
        let search = match (optional("SEARCH_URL"), optional("SEARCH_INDEX_DIR")) {
            (Some(url), None) => {
                if !url.starts_with("https://") && !url.starts_with("http://") {
                    return Err(ConfigError::Invalid {
                        name: "SEARCH_URL",
                        reason: "must be an http(s) URL",
                    });
                }
                SearchConfig::OpenSearch {
                    url,
                    index: optional("SEARCH_INDEX")
                        .unwrap_or_else(|| crate::search::DEFAULT_INDEX.to_owned()),
                }
            }
            (None, Some(dir)) => SearchConfig::Local { dir },
            (None, None) => SearchConfig::Disabled,
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    name: "SEARCH_URL",
                    reason: "set SEARCH_URL or SEARCH_INDEX_DIR, not both",
                });
            }
        };
        Ok(Config {
            table_name,
            access_token_public_key,
            token_secret_id: optional("TOKEN_SECRET_ID"),
            token_secret: None,
            pii_secret_id: optional("PII_SECRET_ID"),
            aliyun_secret_id: optional("ALIYUN_SECRET_ID"),
            trust_forwarded_for,
            notifications_queue_url: optional("NOTIFICATIONS_QUEUE_URL"),
            stats_queue_url: optional("STATS_QUEUE_URL"),
            reports_queue_url: optional("REPORTS_QUEUE_URL"),
            abuse_queue_url: optional("ABUSE_QUEUE_URL"),
            exports_queue_url: optional("EXPORTS_QUEUE_URL"),
            abuse_ban_after_strikes: match optional("ABUSE_BAN_AFTER_STRIKES") {
                None => 3,
                Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
                    name: "ABUSE_BAN_AFTER_STRIKES",
                    reason: "must be a whole number (0 turns automatic bans off)",
                })?,
            },
            clearance: match optional("CLEARANCE_DAYS") {
                None => crate::domain::clearance::ClearancePolicy::default(),
                Some(v) => crate::domain::clearance::ClearancePolicy::parse(&v).ok_or(
                    ConfigError::Invalid {
                        name: "CLEARANCE_DAYS",
                        reason: "four whole numbers of days from 0 to 90, comma-separated",
                    },
                )?,
            },
            pii_key: None,
            media_bucket: optional("MEDIA_BUCKET"),
            payment_secret_id: optional("PAYMENT_SECRET_ID"),
            wechat_login_secret_id: optional("WECHAT_LOGIN_SECRET_ID"),
            alipay_login_secret_id: optional("ALIPAY_LOGIN_SECRET_ID"),
            s3_force_path_style: matches!(
                optional("S3_FORCE_PATH_STYLE").as_deref(),
                Some("true" | "1")
            ),
            app_base_url: optional("APP_BASE_URL")
                .unwrap_or_else(|| "https://gigbao.cn".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            sms,
            mail,
            moderation,
            search_queue_url: optional("SEARCH_QUEUE_URL"),
            search,
            ws_endpoint: optional("WS_ENDPOINT").map(|u| u.trim_end_matches('/').to_owned()),
        })
    }

    /// Whether a provider of this function signs its requests with the Aliyun AccessKey.
    pub fn uses_aliyun(&self) -> bool {
        matches!(self.sms, SmsConfig::Aliyun(_))
            || matches!(self.mail, MailConfig::DirectMail(_))
            || self.moderation.is_some()
    }

    /// The Aliyun AccessKey pair, read from `ALIYUN_SECRET_ID` at cold start.
    pub fn set_aliyun_credentials(&mut self, access_key_id: String, secret: SecretString) {
        if let SmsConfig::Aliyun(c) = &mut self.sms {
            c.access_key_id = access_key_id.clone();
            c.access_key_secret = secret.clone();
        }
        if let Some(c) = &mut self.moderation {
            c.access_key_id = access_key_id.clone();
            c.access_key_secret = secret.clone();
        }
        if let MailConfig::DirectMail(c) = &mut self.mail {
            c.access_key_id = access_key_id;
            c.access_key_secret = secret;
        }
    }

    /// The variables only some functions need, named in their `main.rs`
    /// (`entry::http_needing`, `entry::event_needing`): a function without one of them fails its
    /// cold start with the variable's name, before it serves anything.
    pub fn check_needs(&self, needs: &[&'static str]) -> Result<(), ConfigError> {
        for &name in needs {
            let value = match name {
                "MEDIA_BUCKET" => &self.media_bucket,
                "NOTIFICATIONS_QUEUE_URL" => &self.notifications_queue_url,
                "STATS_QUEUE_URL" => &self.stats_queue_url,
                "SEARCH_QUEUE_URL" => &self.search_queue_url,
                "ABUSE_QUEUE_URL" => &self.abuse_queue_url,
                "EXPORTS_QUEUE_URL" => &self.exports_queue_url,
                "REPORTS_QUEUE_URL" => &self.reports_queue_url,
                _ => {
                    return Err(ConfigError::Invalid {
                        name,
                        reason: "not a variable a function can declare it needs",
                    });
                }
            };
            if value.as_deref().is_none_or(str::is_empty) {
                return Err(ConfigError::Missing(name));
            }
        }
        Ok(())
    }

    /// A value only some functions need (checked at their cold start by [`Config::check_needs`]).
    pub fn require<'a>(
        value: &'a Option<String>,
        name: &'static str,
    ) -> Result<&'a str, ConfigError> {
        value.as_deref().ok_or(ConfigError::Missing(name))
    }
}

/// Locally `cargo lambda watch` gives every function process the same environment; the local
/// stack writes each function's own variables (as the template gives them) to the file
/// `GIGBAO_FUNCTION_ENV` names, and a function reads its own from there — so it sees what it
/// would see in AWS and nothing of the others'. Never set in AWS.
fn local_function_env() -> Option<std::collections::HashMap<String, String>> {
    let path = std::env::var_os("GIGBAO_FUNCTION_ENV")?;
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    let mut all: std::collections::HashMap<String, std::collections::HashMap<String, String>> =
        serde_json::from_str(&text).ok()?;
    all.remove(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = Config::from_lookup(lookup(&[("ACCESS_TOKEN_PUBLIC_KEY", "k")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("TABLE_NAME"));
        assert_eq!(
            err.to_string(),
            "environment variable TABLE_NAME is not set"
        );
    }

    #[test]
    fn the_public_key_is_required_and_secrets_are_never_read_from_the_environment() {
        let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("ACCESS_TOKEN_PUBLIC_KEY"));
        // The old plain variables are ignored: the keys come from Secrets Manager only.
        let cfg = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("ACCESS_TOKEN_PUBLIC_KEY", "k"),
            ("JWT_SECRET", "an-old-shared-secret-of-32-bytes!!"),
            ("PII_KEY", "dGVzdC1vbmx5LXBpaS1rZXktMDEyMzQ1Njc4OWFiY2Q="),
            ("TOKEN_SECRET_ID", "arn:secret:token"),
        ]))
        .unwrap();
        assert!(cfg.token_secret.is_none() && cfg.pii_key.is_none());
        assert_eq!(cfg.token_secret_id.as_deref(), Some("arn:secret:token"));
    }

    #[test]
    fn defaults_are_safe() {
        let secret = "k";
        let cfg = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("ACCESS_TOKEN_PUBLIC_KEY", secret),
        ]))
        .unwrap();
        assert!(!cfg.trust_forwarded_for);
        assert!(cfg.notifications_queue_url.is_none());
        assert!(Config::require(&cfg.notifications_queue_url, "NOTIFICATIONS_QUEUE_URL").is_err());
        assert_eq!(
            cfg.check_needs(&["NOTIFICATIONS_QUEUE_URL"]),
            Err(ConfigError::Missing("NOTIFICATIONS_QUEUE_URL"))
        );
        assert!(cfg.check_needs(&[]).is_ok());
        assert!(matches!(
            cfg.check_needs(&["TABLE_NAME"]),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(cfg.sms, SmsConfig::Disabled));
        assert!(matches!(cfg.mail, MailConfig::Disabled));
        assert_eq!(cfg.app_base_url, "https://gigbao.cn");
    }

    #[test]
    fn a_provider_names_what_it_is_missing() {
        let secret = "k";
        let err = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("ACCESS_TOKEN_PUBLIC_KEY", secret),
            ("SMS_PROVIDER", "aliyun"),
        ]))
        .unwrap_err();
        assert_eq!(err, ConfigError::Missing("ALIYUN_SECRET_ID"));
        let err = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("ACCESS_TOKEN_PUBLIC_KEY", secret),
            ("MAIL_PROVIDER", "carrier-pigeon"),
        ]))
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "MAIL_PROVIDER",
                ..
            }
        ));
    }
}
