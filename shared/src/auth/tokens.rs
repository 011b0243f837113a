//! Access tokens are short-lived HS256 JWTs. Refresh tokens are opaque:
//! `<session id>.<generation>.<HMAC(session id, generation)>`. The session item in DynamoDB
//! holds the current generation; a token with a valid MAC but an older generation is a
//! replay of a rotated token and revokes the whole session (token family).

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::{SessionId, UserId, UserType};

/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Refresh tokens live 14 days from their issue; each rotation starts a new 14 days.
pub const REFRESH_TTL_SECS: i64 = 14 * 24 * 60 * 60;

const ISSUER: &str = "gigbao";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    /// User type, so that handlers can authorise without reading the user.
    pub ut: UserType,
    /// The session (refresh token family) the token was issued under.
    pub sid: String,
    pub iat: i64,
    /// `iat` in milliseconds: a revocation (`tokens_valid_after`) must tell apart tokens
    /// issued in the same second just before and just after it.
    #[serde(default)]
    pub iat_ms: i64,
    pub exp: i64,
    pub iss: String,
    pub typ: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

/// A parsed refresh token whose MAC has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshToken {
    pub session_id: SessionId,
    pub generation: u64,
}

/// The pair handed to a client after login or refresh.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// Keys derived once per cold start from `JWT_SECRET`.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    refresh_mac: hmac::Key,
    code_mac: hmac::Key,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(***)")
    }
}

impl TokenKeys {
    pub fn new(secret: &SecretString) -> TokenKeys {
        let bytes = secret.expose_secret().as_bytes();
        // Separate keys for the two token kinds, both derived from the one secret.
        let derive = |label: &[u8]| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, bytes), label);
        let jwt_key = derive(b"gigbao/jwt/v1");
        let refresh_key = derive(b"gigbao/refresh/v1");
        let code_key = derive(b"gigbao/sms-code/v1");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        TokenKeys {
            encoding: EncodingKey::from_secret(jwt_key.as_ref()),
            decoding: DecodingKey::from_secret(jwt_key.as_ref()),
            validation,
            refresh_mac: hmac::Key::new(hmac::HMAC_SHA256, refresh_key.as_ref()),
            code_mac: hmac::Key::new(hmac::HMAC_SHA256, code_key.as_ref()),
        }
    }

    pub fn issue_access(
        &self,
        user_id: UserId,
        user_type: UserType,
        session_id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let iat = now.timestamp();
        let claims = AccessClaims {
            sub: user_id.to_string(),
            ut: user_type,
            sid: session_id.to_string(),
            iat,
            iat_ms: now.timestamp_millis(),
            exp: iat + ACCESS_TTL_SECS,
            iss: ISSUER.to_owned(),
            typ: "access".to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| TokenError::Invalid)
    }

    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        if data.claims.typ != "access" {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }

    fn refresh_mac(&self, session_id: SessionId, generation: u64) -> String {
        let tag = hmac::sign(
            &self.refresh_mac,
            format!("{session_id}.{generation}").as_bytes(),
        );
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// The stored form of a one-time SMS code: a keyed MAC over where it was sent and the
    /// code, so a leaked table reveals no code (six digits are too few for a plain hash).
    pub fn code_tag(&self, subject: &str, code: &str) -> String {
        let tag = hmac::sign(&self.code_mac, format!("{subject}\n{code}").as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Whether `code` matches `stored`, in constant time.
    pub fn code_matches(&self, subject: &str, code: &str, stored: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(stored) else {
            return false;
        };
        hmac::verify(
            &self.code_mac,
            format!("{subject}\n{code}").as_bytes(),
            &tag,
        )
        .is_ok()
    }

    pub fn issue_refresh(&self, session_id: SessionId, generation: u64) -> String {
        format!(
            "{session_id}.{generation}.{}",
            self.refresh_mac(session_id, generation)
        )
    }

    /// Checks the shape and MAC of a refresh token. Does not say whether it is still current:
    /// that is the session item's job.
    pub fn parse_refresh(&self, token: &str) -> Result<RefreshToken, TokenError> {
        let mut parts = token.trim().split('.');
        let (Some(sid), Some(gen_str), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let session_id: SessionId = sid.parse().map_err(|_| TokenError::Invalid)?;
        let generation: u64 = gen_str.parse().map_err(|_| TokenError::Invalid)?;
        let given = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| TokenError::Invalid)?;
        hmac::verify(
            &self.refresh_mac,
            format!("{session_id}.{generation}").as_bytes(),
            &given,
        )
        .map_err(|_| TokenError::Invalid)?;
        Ok(RefreshToken {
            session_id,
            generation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&SecretString::from(secret.to_owned()))
    }

    #[test]
    fn access_tokens_round_trip() {
        let k = keys("an-example-secret-of-at-least-32-bytes");
        let uid = UserId::new();
        let sid = SessionId::new();
        let t = k
            .issue_access(uid, UserType::Client, sid, Utc::now())
            .unwrap();
        let c = k.verify_access(&t).unwrap();
        assert_eq!(c.sub, uid.to_string());
        assert_eq!(c.ut, UserType::Client);
        assert_eq!(c.exp - c.iat, 900);
    }

    #[test]
    fn tokens_carry_their_issue_time_to_the_millisecond() {
        // A revocation at 12:00:00.500 must refuse a token of 12:00:00.200 and accept one of
        // 12:00:00.800: whole seconds cannot tell them apart.
        let k = keys("an-example-secret-of-at-least-32-bytes");
        let second = Utc::now().timestamp() * 1000;
        let at = |ms: i64| chrono::DateTime::from_timestamp_millis(second + ms).unwrap();
        let claims = |ms| {
            k.verify_access(
                &k.issue_access(UserId::new(), UserType::Client, SessionId::new(), at(ms))
                    .unwrap(),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let (before, after) = (claims(200), claims(800));
        assert_eq!(before.iat, after.iat);
        assert_eq!(before.iat_ms, second + 200);
        assert!(before.iat_ms < at(500).timestamp_millis());
        assert!(after.iat_ms > at(500).timestamp_millis());
    }

    #[test]
    fn expired_and_foreign_access_tokens_are_refused() {
        let k = keys("an-example-secret-of-at-least-32-bytes");
        let old = Utc::now() - chrono::Duration::minutes(16);
        let t = k
            .issue_access(UserId::new(), UserType::Client, SessionId::new(), old)
            .unwrap();
        assert_eq!(k.verify_access(&t), Err(TokenError::Expired));

        let other = keys("another-secret-of-at-least-32-bytes!!");
        let t = other
            .issue_access(
                UserId::new(),
                UserType::Client,
                SessionId::new(),
                Utc::now(),
            )
            .unwrap();
        assert_eq!(k.verify_access(&t), Err(TokenError::Invalid));
        assert_eq!(k.verify_access("garbage"), Err(TokenError::Invalid));
    }

    #[test]
    fn refresh_tokens_carry_a_mac() {
        let k = keys("an-example-secret-of-at-least-32-bytes");
        let sid = SessionId::new();
        let t = k.issue_refresh(sid, 3);
        assert_eq!(
            k.parse_refresh(&t),
            Ok(RefreshToken {
                session_id: sid,
                generation: 3
            })
        );
        // Bumping the generation without the key breaks the MAC.
        let forged = t.replacen(".3.", ".4.", 1);
        assert_eq!(k.parse_refresh(&forged), Err(TokenError::Invalid));
        assert_eq!(k.parse_refresh("a.b"), Err(TokenError::Invalid));
        assert_eq!(k.parse_refresh(""), Err(TokenError::Invalid));
        // An access token is not a refresh token.
        let access = k
            .issue_access(UserId::new(), UserType::Client, sid, Utc::now())
            .unwrap();
        assert_eq!(k.parse_refresh(&access), Err(TokenError::Invalid));
    }
}
