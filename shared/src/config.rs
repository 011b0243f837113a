//! Settings, read from the environment once per cold start. A missing or bad variable fails
//! the cold start with a message naming it, never a request.

use secrecy::{ExposeSecret, SecretString};

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

#[derive(Debug, Clone)]
pub struct Config {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// HMAC key for access tokens and refresh tokens (`JWT_SECRET`, at least 32 bytes).
    pub jwt_secret: SecretString,
    /// Take the client IP from `X-Forwarded-For` (`TRUST_FORWARDED_FOR=true`). Only for the
    /// local stack, where API Gateway's `sourceIp` is always 127.0.0.1.
    pub trust_forwarded_for: bool,
    /// Queue the stream router sends notification work to (`NOTIFICATIONS_QUEUE_URL`); only
    /// the functions that send there need it.
    pub notifications_queue_url: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let table_name = required("TABLE_NAME")?;
        let jwt_secret = SecretString::from(required("JWT_SECRET")?);
        if jwt_secret.expose_secret().len() < 32 {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: "must be at least 32 bytes",
            });
        }
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
        Ok(Config {
            table_name,
            jwt_secret,
            trust_forwarded_for,
            notifications_queue_url: get("NOTIFICATIONS_QUEUE_URL").filter(|v| !v.is_empty()),
        })
    }

    /// A value only some functions need, checked at their cold start.
    pub fn require<'a>(
        value: &'a Option<String>,
        name: &'static str,
    ) -> Result<&'a str, ConfigError> {
        value.as_deref().ok_or(ConfigError::Missing(name))
    }
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
        let err = Config::from_lookup(lookup(&[("JWT_SECRET", &"x".repeat(32))])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("TABLE_NAME"));
        assert_eq!(
            err.to_string(),
            "environment variable TABLE_NAME is not set"
        );
    }

    #[test]
    fn a_short_secret_is_refused() {
        let err = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_SECRET", "short")]))
            .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "JWT_SECRET",
                ..
            }
        ));
    }

    #[test]
    fn defaults_are_safe() {
        let secret = "x".repeat(32);
        let cfg =
            Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("JWT_SECRET", &secret)])).unwrap();
        assert!(!cfg.trust_forwarded_for);
        assert!(cfg.notifications_queue_url.is_none());
        assert!(Config::require(&cfg.notifications_queue_url, "NOTIFICATIONS_QUEUE_URL").is_err());
    }
}
