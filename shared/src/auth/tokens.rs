//! Access tokens are short-lived EdDSA (Ed25519) JWTs: every function verifies them with the
//! public key (`ACCESS_TOKEN_PUBLIC_KEY`), and only the functions that issue tokens hold the
//! private key, read from Secrets Manager at cold start (`TOKEN_SECRET_ID`, see [`TokenSecret`]).
//! Refresh tokens are opaque: `<session id>.<generation>.<HMAC(session id, generation)>`, keyed
//! by the same secret. The session item in DynamoDB holds the current generation; a token with a
//! valid MAC but an older generation is a replay of a rotated token and revokes the whole
//! session (token family).

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::{Role, SessionId, UserId, UserType};

/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub use crate::domain::session::REFRESH_TTL_SECS;

const ISSUER: &str = "gigbao";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    /// User type, so that handlers can authorise without reading the user.
    pub ut: UserType,
    /// What the account may do (`buyer`, `seller`, `admin`) when the token was issued: for
    /// clients to show the right screens. Checks read the account, so a role gained shows at
    /// once there and in the next refreshed token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
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
    /// Issuing tokens or checking codes in a function the template gives no token secret
    /// (`TOKEN_SECRET_ID`): a deployment error, never the client's.
    #[error("this function holds no token secret (TOKEN_SECRET_ID)")]
    NoSecret,
}

/// Why token keys could not be built (at cold start; the function does not start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the public key is not the base64url of 32 bytes (an Ed25519 key)")]
    PublicKey,
    #[error("the secret is not JSON with signing_key and mac_key")]
    SecretShape,
    #[error("signing_key is not the base64 of an Ed25519 private key in PKCS#8")]
    SigningKey,
    #[error("mac_key is not the base64 of at least 32 bytes")]
    MacKey,
    #[error("the signing key is not the private half of ACCESS_TOKEN_PUBLIC_KEY")]
    Mismatch,
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

/// The token secret, as stored in Secrets Manager:
/// `{"signing_key": "<base64 PKCS#8 Ed25519 private key>", "mac_key": "<base64, ≥ 32 bytes>"}`.
/// The MAC key keys refresh tokens and stored SMS codes; rotating the signing key alone signs
/// everyone's access token out within 15 minutes while their refresh tokens stay valid.
pub struct TokenSecret {
    signing_key: SecretSlice<u8>,
    mac_key: SecretSlice<u8>,
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

#[derive(Deserialize)]
struct TokenSecretJson {
    signing_key: SecretString,
    mac_key: SecretString,
}

impl TokenSecret {
    pub fn from_json(text: &str) -> Result<TokenSecret, KeyError> {
        let json: TokenSecretJson =
            serde_json::from_str(text).map_err(|_| KeyError::SecretShape)?;
        let signing_key = STANDARD
            .decode(json.signing_key.expose_secret().trim())
            .map_err(|_| KeyError::SigningKey)?;
        Ed25519KeyPair::from_pkcs8(&signing_key).map_err(|_| KeyError::SigningKey)?;
        let mac_key = STANDARD
            .decode(json.mac_key.expose_secret().trim())
            .map_err(|_| KeyError::MacKey)?;
        if mac_key.len() < 32 {
            return Err(KeyError::MacKey);
        }
        Ok(TokenSecret {
            signing_key: signing_key.into(),
            mac_key: mac_key.into(),
        })
    }

    /// A new random secret (`devtool token-keys`).
    pub fn generate() -> Result<TokenSecret, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| KeyError::SigningKey)?;
        let mut mac_key = vec![0u8; 32];
        aws_lc_rs::rand::SecureRandom::fill(&rng, &mut mac_key).map_err(|_| KeyError::MacKey)?;
        Ok(TokenSecret {
            signing_key: pkcs8.as_ref().to_vec().into(),
            mac_key: mac_key.into(),
        })
    }

    /// The secret built from fixed bytes (tests: the same keys in every process).
    pub fn from_seed(seed: &[u8; 32], mac_key: &[u8; 32]) -> Result<TokenSecret, KeyError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| KeyError::SigningKey)?;
        let pkcs8 = pair.to_pkcs8().map_err(|_| KeyError::SigningKey)?;
        Ok(TokenSecret {
            signing_key: pkcs8.as_ref().to_vec().into(),
            mac_key: mac_key.to_vec().into(),
        })
    }

    /// The JSON stored in Secrets Manager.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "signing_key": STANDARD.encode(self.signing_key.expose_secret()),
            "mac_key": STANDARD.encode(self.mac_key.expose_secret()),
        })
        .to_string()
    }

    /// The public half, as `ACCESS_TOKEN_PUBLIC_KEY` holds it (base64url, the JWK's `x`).
    pub fn public_key(&self) -> Result<String, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(self.signing_key.expose_secret())
            .map_err(|_| KeyError::SigningKey)?;
        Ok(URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()))
    }
}

/// What only the token-issuing functions hold.
struct Signing {
    encoding: EncodingKey,
    refresh_mac: hmac::Key,
    code_mac: hmac::Key,
}

/// The keys of a function, built once per cold start: the public key for every function,
/// the signing keys for those given the token secret.
pub struct TokenKeys {
    decoding: DecodingKey,
    validation: Validation,
    signing: Option<Signing>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.signing.is_some() {
            "TokenKeys(verify, sign: ***)"
        } else {
            "TokenKeys(verify)"
        })
    }
}

impl TokenKeys {
    /// Keys that verify access tokens with `public_key` (base64url of the raw Ed25519 key)
    /// and, given the token secret, issue them and refresh tokens. The secret's key must be
    /// the private half of `public_key`: a mismatch fails the cold start, not every request.
    pub fn new(public_key: &str, secret: Option<&TokenSecret>) -> Result<TokenKeys, KeyError> {
        let raw = URL_SAFE_NO_PAD
            .decode(public_key.trim().trim_end_matches('='))
            .map_err(|_| KeyError::PublicKey)?;
        if raw.len() != 32 {
            return Err(KeyError::PublicKey);
        }
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        let signing = match secret {
            None => None,
            Some(secret) => {
                let pair = Ed25519KeyPair::from_pkcs8(secret.signing_key.expose_secret())
                    .map_err(|_| KeyError::SigningKey)?;
                if pair.public_key().as_ref() != raw.as_slice() {
                    return Err(KeyError::Mismatch);
                }
                let mac = secret.mac_key.expose_secret();
                // Separate keys for refresh tokens and SMS codes, both derived from the one key.
                let derive =
                    |label: &[u8]| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, mac), label);
                Some(Signing {
                    encoding: EncodingKey::from_ed_der(secret.signing_key.expose_secret()),
                    refresh_mac: hmac::Key::new(
                        hmac::HMAC_SHA256,
                        derive(b"gigbao/refresh/v1").as_ref(),
                    ),
                    code_mac: hmac::Key::new(
                        hmac::HMAC_SHA256,
                        derive(b"gigbao/sms-code/v1").as_ref(),
                    ),
                })
            }
        };
        Ok(TokenKeys {
            decoding: DecodingKey::from_ed_der(&raw),
            validation,
            signing,
        })
    }

    fn signing(&self) -> Result<&Signing, TokenError> {
        self.signing.as_ref().ok_or_else(|| {
            tracing::error!("token secret needed but not configured (TOKEN_SECRET_ID)");
            TokenError::NoSecret
        })
    }

    pub fn issue_access(
        &self,
        user_id: UserId,
        user_type: UserType,
        roles: &[Role],
        session_id: SessionId,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let iat = now.timestamp();
        let claims = AccessClaims {
            sub: user_id.to_string(),
            ut: user_type,
            roles: roles.to_vec(),
            sid: session_id.to_string(),
            iat,
            iat_ms: now.timestamp_millis(),
            exp: iat + ACCESS_TTL_SECS,
            iss: ISSUER.to_owned(),
            typ: "access".to_owned(),
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::EdDSA),
            &claims,
            &self.signing()?.encoding,
        )
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

    /// The stored form of a one-time SMS code: a keyed MAC over where it was sent and the
    /// code, so a leaked table reveals no code (six digits are too few for a plain hash).
    pub fn code_tag(&self, subject: &str, code: &str) -> Result<String, TokenError> {
        let tag = hmac::sign(
            &self.signing()?.code_mac,
            format!("{subject}\n{code}").as_bytes(),
        );
        Ok(URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Whether `code` matches `stored`, in constant time. Without the token secret no code
    /// matches (and the error is logged: see [`TokenKeys::code_tag`], which refuses to issue).
    pub fn code_matches(&self, subject: &str, code: &str, stored: &str) -> bool {
        let (Ok(signing), Ok(tag)) = (self.signing(), URL_SAFE_NO_PAD.decode(stored)) else {
            return false;
        };
        hmac::verify(
            &signing.code_mac,
            format!("{subject}\n{code}").as_bytes(),
            &tag,
        )
        .is_ok()
    }

    pub fn issue_refresh(
        &self,
        session_id: SessionId,
        generation: u64,
    ) -> Result<String, TokenError> {
        let tag = hmac::sign(
            &self.signing()?.refresh_mac,
            format!("{session_id}.{generation}").as_bytes(),
        );
        Ok(format!(
            "{session_id}.{generation}.{}",
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        ))
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
            &self.signing()?.refresh_mac,
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

    /// Signing keys from a seed: different seeds are different key pairs.
    fn keys(seed: &str) -> TokenKeys {
        let secret = secret(seed);
        TokenKeys::new(&secret.public_key().unwrap(), Some(&secret)).unwrap()
    }

    fn secret(seed: &str) -> TokenSecret {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        TokenSecret::from_seed(&bytes, &bytes).unwrap()
    }

    #[test]
    fn functions_without_the_secret_verify_but_cannot_issue() {
        let signer = keys("an-example-secret-of-at-least-32-bytes");
        let public = secret("an-example-secret-of-at-least-32-bytes")
            .public_key()
            .unwrap();
        let verifier = TokenKeys::new(&public, None).unwrap();
        let (uid, sid) = (UserId::new(), SessionId::new());
        let t = signer
            .issue_access(
                uid,
                UserType::Freelancer,
                &Role::initial(UserType::Freelancer),
                sid,
                Utc::now(),
            )
            .unwrap();
        assert_eq!(verifier.verify_access(&t).unwrap().sub, uid.to_string());
        // No private key, no MAC key: nothing can be minted, no refresh token or code checked.
        assert_eq!(
            verifier.issue_access(
                uid,
                UserType::Admin,
                &Role::initial(UserType::Admin),
                sid,
                Utc::now()
            ),
            Err(TokenError::NoSecret)
        );
        assert_eq!(verifier.issue_refresh(sid, 1), Err(TokenError::NoSecret));
        let refresh = signer.issue_refresh(sid, 1).unwrap();
        assert_eq!(verifier.parse_refresh(&refresh), Err(TokenError::NoSecret));
        assert_eq!(verifier.code_tag("s", "123456"), Err(TokenError::NoSecret));
        let tag = signer.code_tag("s", "123456").unwrap();
        assert!(signer.code_matches("s", "123456", &tag));
        assert!(!verifier.code_matches("s", "123456", &tag));
        assert!(format!("{verifier:?}").ends_with("(verify)"));
    }

    #[test]
    fn a_secret_that_is_not_the_public_keys_other_half_fails_the_cold_start() {
        let a = secret("one");
        let b = secret("two");
        assert_eq!(
            TokenKeys::new(&a.public_key().unwrap(), Some(&b)).unwrap_err(),
            KeyError::Mismatch
        );
        assert_eq!(
            TokenKeys::new("short", None).unwrap_err(),
            KeyError::PublicKey
        );
        // The stored JSON round-trips; malformed secrets are named.
        let again = TokenSecret::from_json(&a.to_json()).unwrap();
        assert_eq!(again.public_key(), a.public_key());
        assert_eq!(
            TokenSecret::from_json("{}").unwrap_err(),
            KeyError::SecretShape
        );
        assert_eq!(
            TokenSecret::from_json(r#"{"signing_key":"AAAA","mac_key":"AAAA"}"#).unwrap_err(),
            KeyError::SigningKey
        );
        let short_mac = serde_json::json!({
            "signing_key": STANDARD.encode(a.signing_key.expose_secret()),
            "mac_key": STANDARD.encode([1u8; 16]),
        });
        assert_eq!(
            TokenSecret::from_json(&short_mac.to_string()).unwrap_err(),
            KeyError::MacKey
        );
        let generated = TokenSecret::generate().unwrap();
        assert_ne!(generated.public_key(), a.public_key());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(generated.public_key().unwrap())
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn a_token_made_with_a_shared_secret_is_refused() {
        // The algorithm is pinned: an HS256 token (what tokens were before) is not accepted,
        // whatever key it was made with, the public key included.
        let k = keys("an-example-secret-of-at-least-32-bytes");
        let public = secret("an-example-secret-of-at-least-32-bytes")
            .public_key()
            .unwrap();
        let claims = AccessClaims {
            sub: UserId::new().to_string(),
            ut: UserType::Admin,
            roles: vec![Role::Admin],
            sid: SessionId::new().to_string(),
            iat: Utc::now().timestamp(),
            iat_ms: 0,
            exp: Utc::now().timestamp() + 60,
            iss: ISSUER.to_owned(),
            typ: "access".to_owned(),
        };
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap();
        assert_eq!(k.verify_access(&forged), Err(TokenError::Invalid));
    }

    #[test]
    fn access_tokens_round_trip() {
        let k = keys("an-example-secret-of-at-least-32-bytes");
        let uid = UserId::new();
        let sid = SessionId::new();
        let t = k
            .issue_access(
                uid,
                UserType::Client,
                &Role::initial(UserType::Client),
                sid,
                Utc::now(),
            )
            .unwrap();
        let c = k.verify_access(&t).unwrap();
        assert_eq!(c.sub, uid.to_string());
        assert_eq!(c.ut, UserType::Client);
        assert_eq!(c.exp - c.iat, 900);
        assert!(t.starts_with(&URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"EdDSA"}"#)));
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
                &k.issue_access(
                    UserId::new(),
                    UserType::Client,
                    &Role::initial(UserType::Client),
                    SessionId::new(),
                    at(ms),
                )
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
            .issue_access(
                UserId::new(),
                UserType::Client,
                &Role::initial(UserType::Client),
                SessionId::new(),
                old,
            )
            .unwrap();
        assert_eq!(k.verify_access(&t), Err(TokenError::Expired));

        let other = keys("another-secret-of-at-least-32-bytes!!");
        let t = other
            .issue_access(
                UserId::new(),
                UserType::Client,
                &Role::initial(UserType::Client),
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
        let t = k.issue_refresh(sid, 3).unwrap();
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
            .issue_access(
                UserId::new(),
                UserType::Client,
                &Role::initial(UserType::Client),
                sid,
                Utc::now(),
            )
            .unwrap();
        assert_eq!(k.parse_refresh(&access), Err(TokenError::Invalid));
    }
}
