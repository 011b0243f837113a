//! Alipay sign-in (支付宝登录), written from Alipay's open-platform documentation:
//!
//! - The user authorises us — the mini-program's `my.getAuthCode`, or the website's
//!   `publicappauthorize.htm` page — and we get an `auth_code`.
//! - `alipay.system.oauth.token` (`grant_type=authorization_code`, `code`; a signed gateway
//!   call like the payment adapter's, RSA2 with the application's key) → `user_id` (`2088…`,
//!   the same person across every application) or, for applications on Alipay's OpenID model,
//!   `open_id` (per application) and `union_id` (across the applications of one company).
//!   A used, expired or forged code answers `error_response` `40002 isv.code-invalid`.
//! - The phone number: the mini-program's `my.getPhoneNumber` gives the client an answer
//!   `{"response": "<base64>", "sign": "…", "sign_type": "RSA2", "encrypt_type": "AES"}`.
//!   Alipay signed `"` + response + `"` with its key; the response is AES-128-CBC (zero IV,
//!   PKCS#7) under the application's content key, and opens to
//!   `{"code": "10000", "msg": "Success", "mobile": "138…"}`.

use aws_lc_rs::cipher::{AES_128, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::value::RawValue;

pub use super::wechat::WechatLoginError as AlipayLoginError;
use crate::payments::GatewayError;
use crate::payments::alipay::OpenApp;
use crate::payments::keys::KeyError;

const METHOD: &str = "alipay.system.oauth.token";

/// One Alipay application that users sign in to.
#[derive(Debug, Clone, Deserialize)]
pub struct AlipayLoginApp {
    pub app_id: String,
    /// Our application private key (PEM or bare base64).
    pub private_key: SecretString,
    /// Alipay's public key for this application.
    pub alipay_public_key: String,
    /// The content key (内容加密 AES key, base64) that opens `my.getPhoneNumber` answers;
    /// mini-program only.
    #[serde(default)]
    pub aes_key: Option<SecretString>,
}

/// The Alipay sign-in settings (`ALIPAY_LOGIN_SECRET_ID`, a JSON document in Secrets Manager):
/// either application may be left out to disable that way of signing in.
#[derive(Debug, Clone, Deserialize)]
pub struct AlipayLoginConfig {
    /// `https://openapi.alipay.com/gateway.do` in production.
    #[serde(default = "default_gateway")]
    pub gateway_url: String,
    #[serde(default)]
    pub mini_program: Option<AlipayLoginApp>,
    /// The website application of the web sign-in.
    #[serde(default)]
    pub web: Option<AlipayLoginApp>,
}

fn default_gateway() -> String {
    "https://openapi.alipay.com/gateway.do".to_owned()
}

/// Who Alipay says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlipayIdentity {
    pub app_id: String,
    /// `2088…`: the same person in every application (Alipay's user-id model).
    pub user_id: Option<String>,
    /// The person in this application (Alipay's OpenID model).
    pub open_id: Option<String>,
    /// The same person across one company's applications (OpenID model).
    pub union_id: Option<String>,
}

impl AlipayIdentity {
    /// The key an account is bound under: the id that spans the most applications.
    pub fn binding_key(&self) -> Option<String> {
        match (&self.user_id, &self.union_id, &self.open_id) {
            (Some(u), _, _) => Some(format!("uid:{u}")),
            (None, Some(u), _) => Some(format!("union:{u}")),
            (None, None, Some(o)) => Some(format!("open:{}:{o}", self.app_id)),
            _ => None,
        }
    }
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    open_id: Option<String>,
    #[serde(default)]
    union_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorAnswer {
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    sub_code: Option<String>,
    #[serde(default)]
    sub_msg: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PhoneEnvelope {
    response: String,
    sign: String,
    #[serde(default)]
    sign_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PhoneAnswer {
    code: String,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    sub_msg: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
}

#[derive(Debug)]
struct App {
    open: OpenApp,
    aes_key: Option<Vec<u8>>,
}

#[derive(Debug)]
pub struct AlipayLogin {
    mini_program: Option<App>,
    web: Option<App>,
}

fn provider(e: GatewayError) -> AlipayLoginError {
    AlipayLoginError::Provider(e.to_string())
}

impl AlipayLogin {
    pub fn new(config: AlipayLoginConfig) -> Result<AlipayLogin, KeyError> {
        let app = |a: Option<AlipayLoginApp>| -> Result<Option<App>, KeyError> {
            a.map(|a| {
                let aes_key = a
                    .aes_key
                    .map(|k| STANDARD.decode(k.expose_secret().trim()))
                    .transpose()
                    .map_err(|_| KeyError::Encoding)?;
                if aes_key.as_ref().is_some_and(|k| k.len() != 16) {
                    return Err(KeyError::Length);
                }
                Ok(App {
                    open: OpenApp::new(
                        &a.app_id,
                        &a.private_key,
                        &a.alipay_public_key,
                        &config.gateway_url,
                    )?,
                    aes_key,
                })
            })
            .transpose()
        };
        Ok(AlipayLogin {
            mini_program: app(config.mini_program.clone())?,
            web: app(config.web.clone())?,
        })
    }

    fn app(&self, mini_program: bool) -> Result<&App, AlipayLoginError> {
        if mini_program {
            self.mini_program.as_ref()
        } else {
            self.web.as_ref()
        }
        .ok_or(AlipayLoginError::NotConfigured)
    }

    /// Trades an `auth_code` from the mini-program (`mini_program`) or the website.
    pub async fn identity(
        &self,
        mini_program: bool,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<AlipayIdentity, AlipayLoginError> {
        let app = self.app(mini_program)?;
        let body = app
            .open
            .call(
                METHOD,
                &[("grant_type", "authorization_code"), ("code", code)],
                now,
            )
            .await
            .map_err(provider)?;
        // A refusal comes as `error_response`. It may be unsigned; it only ever refuses, so it
        // is believed as it is.
        let members: std::collections::HashMap<String, Box<RawValue>> =
            serde_json::from_str(&body).map_err(|e| AlipayLoginError::Provider(e.to_string()))?;
        if let Some(raw) = members.get("error_response") {
            let e: ErrorAnswer = serde_json::from_str(raw.get())
                .map_err(|e| AlipayLoginError::Provider(e.to_string()))?;
            let sub = e.sub_code.unwrap_or_default();
            let what = format!("{} {sub} {}", e.code, e.sub_msg.unwrap_or(e.msg));
            return Err(if e.code == "40002" && sub.contains("code") {
                AlipayLoginError::InvalidCode(what)
            } else {
                AlipayLoginError::Provider(what)
            });
        }
        let a: TokenAnswer = app.open.signed_answer(&body, METHOD).map_err(provider)?;
        let id = AlipayIdentity {
            app_id: app.open.app_id().to_owned(),
            user_id: a.user_id.filter(|u| !u.is_empty()),
            open_id: a.open_id.filter(|o| !o.is_empty()),
            union_id: a.union_id.filter(|u| !u.is_empty()),
        };
        match id.binding_key() {
            Some(_) => Ok(id),
            None => Err(AlipayLoginError::Provider("no user_id or open_id".into())),
        }
    }

    /// The phone number in a mini-program `my.getPhoneNumber` answer (as the client got it),
    /// only if Alipay signed it and it opens under our content key.
    pub fn phone_number(&self, answer: &str) -> Result<String, AlipayLoginError> {
        let app = self.app(true)?;
        let key = app
            .aes_key
            .as_ref()
            .ok_or(AlipayLoginError::NotConfigured)?;
        let refused = |why: &str| AlipayLoginError::InvalidCode(why.to_owned());
        let envelope: PhoneEnvelope =
            serde_json::from_str(answer).map_err(|_| refused("not a getPhoneNumber answer"))?;
        if envelope.sign_type.as_deref().is_some_and(|t| t != "RSA2")
            || !app.open.verify(
                format!("\"{}\"", envelope.response).as_bytes(),
                &envelope.sign,
            )
        {
            return Err(refused("the phone answer is not signed by Alipay"));
        }
        let plain = aes_128_cbc_open(key, &envelope.response)
            .ok_or_else(|| refused("the phone answer does not open"))?;
        let a: PhoneAnswer = serde_json::from_slice(&plain)
            .map_err(|_| refused("the phone answer is unreadable"))?;
        if a.code != "10000" {
            return Err(refused(&format!(
                "{} {}",
                a.code,
                a.sub_msg.unwrap_or(a.msg)
            )));
        }
        a.mobile
            .filter(|m| !m.is_empty())
            .ok_or_else(|| refused("no mobile in the phone answer"))
    }
}

/// AES-128-CBC with a zero IV and PKCS#7 padding, as Alipay encrypts content.
fn aes_128_cbc_open(key: &[u8], ciphertext_b64: &str) -> Option<Vec<u8>> {
    let key =
        PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, key).ok()?).ok()?;
    let mut data = STANDARD.decode(ciphertext_b64.trim()).ok()?;
    let plain = key
        .decrypt(
            &mut data,
            DecryptionContext::Iv128(FixedLength::from([0u8; 16])),
        )
        .ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(user: Option<&str>, union: Option<&str>, open: Option<&str>) -> AlipayIdentity {
        AlipayIdentity {
            app_id: "2021000000000009".into(),
            user_id: user.map(Into::into),
            open_id: open.map(Into::into),
            union_id: union.map(Into::into),
        }
    }

    #[test]
    fn the_binding_is_the_id_that_spans_the_most_applications() {
        assert_eq!(
            id(Some("2088102150477652"), Some("u1"), Some("o1")).binding_key(),
            Some("uid:2088102150477652".into())
        );
        assert_eq!(
            id(None, Some("u1"), Some("o1")).binding_key(),
            Some("union:u1".into())
        );
        assert_eq!(
            id(None, None, Some("o1")).binding_key(),
            Some("open:2021000000000009:o1".into())
        );
        assert_eq!(id(None, None, None).binding_key(), None);
    }

    /// Alipay's content encryption, checked against a ciphertext made by OpenSSL
    /// (`openssl enc -aes-128-cbc -K 000102…0f -iv 0…0`).
    #[test]
    fn content_opens_like_alipay_encrypts_it() {
        let key: Vec<u8> = (0u8..16).collect();
        let plain = aes_128_cbc_open(
            &key,
            "igATcyTqqgv1AFpBiHJyVf94zn4d80DWhHrnUhty+8RANJYRclz7h18/tips8L5UTuMmNV7rHGCs+h7uZSZZQQ==",
        );
        assert_eq!(
            plain.as_deref(),
            Some(&br#"{"code":"10000","msg":"Success","mobile":"13800138000"}"#[..])
        );
        assert_eq!(
            aes_128_cbc_open(&key, "jL0Z5g8jAOCPff9p219m2A==").as_deref(),
            Some(&b"x"[..])
        );
        assert_eq!(aes_128_cbc_open(&key, "not base64!"), None);
        assert_eq!(aes_128_cbc_open(&key, "AAAAAAAAAAAAAAAAAAAAAA=="), None);
    }
}
