//! WeChat sign-in (微信登录), written from WeChat's published server APIs:
//!
//! - **Mini-program**: the client's `wx.login()` code → `GET /sns/jscode2session?appid&secret&
//!   js_code&grant_type=authorization_code` → `openid`, `session_key`, `unionid` (when the app
//!   is bound to an Open Platform account). The phone number the user agrees to share comes from
//!   `getPhoneNumber`'s code → `POST /wxa/business/getuserphonenumber?access_token=…`
//!   `{"code"}` → `phone_info.purePhoneNumber`.
//! - **Web (QR code, 网站应用)**: the OAuth code → `GET /sns/oauth2/access_token?appid&secret&
//!   code&grant_type=authorization_code` → `openid`, `unionid`, a user access token →
//!   `GET /sns/userinfo?access_token&openid` → nickname, avatar, `unionid`.
//! - The mini-program's own **access token** comes from `POST /cgi-bin/stable_token`
//!   (`grant_type=client_credential`): valid 2 hours, the same token for every caller until it
//!   expires, so each Lambda container keeps it in memory, asks again five minutes before it
//!   ends, and once more (forced) when WeChat says it is invalid (40001, 42001).
//!
//! Errors come as `{"errcode": n, "errmsg": "…"}`, often with HTTP 200. A code works once
//! (40163 when reused), for five minutes (40029 when invalid or forged).

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// One WeChat app's credentials.
#[derive(Debug, Clone, Deserialize)]
pub struct AppCredentials {
    pub appid: String,
    pub secret: SecretString,
}

/// The WeChat sign-in settings (`WECHAT_LOGIN_SECRET_ID`, a JSON document in Secrets Manager):
/// either app may be left out to disable that way of signing in.
#[derive(Debug, Clone, Deserialize)]
pub struct WechatLoginConfig {
    /// `https://api.weixin.qq.com` in production.
    #[serde(default = "default_api_base")]
    pub api_base: String,
    #[serde(default)]
    pub mini_program: Option<AppCredentials>,
    /// The Open Platform website app (网站应用) of the QR-code sign-in.
    #[serde(default)]
    pub web: Option<AppCredentials>,
}

fn default_api_base() -> String {
    "https://api.weixin.qq.com".to_owned()
}

/// Who WeChat says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatIdentity {
    /// The app the `openid` belongs to.
    pub appid: String,
    pub openid: String,
    /// The same person across our apps (mini-program, website, mobile app), when WeChat gives it.
    pub unionid: Option<String>,
    pub nickname: Option<String>,
}

impl WechatIdentity {
    /// The key an account is bound under: the `unionid` when there is one (one person, one
    /// account everywhere), else the app's `openid`.
    pub fn binding_key(&self) -> String {
        match &self.unionid {
            Some(u) => format!("union:{u}"),
            None => format!("open:{}:{}", self.appid, self.openid),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatLoginError {
    /// The code is invalid, forged, expired or used (40029, 40163, 40226 …).
    #[error("WeChat refused the code: {0}")]
    InvalidCode(String),
    #[error("this way of signing in with WeChat is not configured")]
    NotConfigured,
    /// WeChat failed or refused for another reason (busy, limits, our credentials).
    #[error("WeChat could not answer: {0}")]
    Provider(String),
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    unionid: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    phone_info: Option<PhoneInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneInfo {
    pure_phone_number: String,
    #[serde(default)]
    country_code: String,
}

/// Error codes that mean the user's code, not WeChat or us.
const CODE_ERRORS: [i64; 4] = [40029, 40163, 40226, 41008];
/// The access token is invalid or expired: ask for a new one.
const TOKEN_ERRORS: [i64; 2] = [40001, 42001];

#[derive(Debug)]
pub struct WechatLogin {
    config: WechatLoginConfig,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

impl WechatLogin {
    pub fn new(config: WechatLoginConfig) -> WechatLogin {
        WechatLogin {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            token: tokio::sync::Mutex::new(None),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base.trim_end_matches('/'))
    }

    async fn read(
        resp: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Answer, WechatLoginError> {
        let resp = resp.map_err(|e| WechatLoginError::Provider(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(WechatLoginError::Provider(format!(
                "HTTP {}",
                resp.status()
            )));
        }
        resp.json::<Answer>()
            .await
            .map_err(|e| WechatLoginError::Provider(e.without_url().to_string()))
    }

    fn checked(a: Answer) -> Result<Answer, WechatLoginError> {
        match a.errcode {
            0 => Ok(a),
            c if CODE_ERRORS.contains(&c) => {
                Err(WechatLoginError::InvalidCode(format!("{c} {}", a.errmsg)))
            }
            c => Err(WechatLoginError::Provider(format!("{c} {}", a.errmsg))),
        }
    }

    /// Trades a user's code with `app`'s credentials (`grant_type=authorization_code`).
    async fn exchange(
        &self,
        app: &AppCredentials,
        path: &str,
        code: (&str, &str),
    ) -> Result<Answer, WechatLoginError> {
        Self::checked(
            Self::read(
                self.http
                    .get(self.url(path))
                    .query(&[
                        ("appid", app.appid.as_str()),
                        ("secret", app.secret.expose_secret()),
                        code,
                        ("grant_type", "authorization_code"),
                    ])
                    .send()
                    .await,
            )
            .await?,
        )
    }

    /// A mini-program's `wx.login()` code.
    pub async fn mini_program(&self, js_code: &str) -> Result<WechatIdentity, WechatLoginError> {
        let app = self
            .config
            .mini_program
            .as_ref()
            .ok_or(WechatLoginError::NotConfigured)?;
        let a = self
            .exchange(app, "/sns/jscode2session", ("js_code", js_code))
            .await?;
        Ok(WechatIdentity {
            appid: app.appid.clone(),
            openid: a
                .openid
                .filter(|o| !o.is_empty())
                .ok_or_else(|| WechatLoginError::Provider("no openid".into()))?,
            unionid: a.unionid.filter(|u| !u.is_empty()),
            nickname: None,
        })
    }

    /// A website QR sign-in's OAuth code.
    pub async fn web(&self, code: &str) -> Result<WechatIdentity, WechatLoginError> {
        let app = self
            .config
            .web
            .as_ref()
            .ok_or(WechatLoginError::NotConfigured)?;
        let a = self
            .exchange(app, "/sns/oauth2/access_token", ("code", code))
            .await?;
        let openid = a
            .openid
            .filter(|o| !o.is_empty())
            .ok_or_else(|| WechatLoginError::Provider("no openid".into()))?;
        let token = a
            .access_token
            .ok_or_else(|| WechatLoginError::Provider("no access_token".into()))?;
        let info = Self::checked(
            Self::read(
                self.http
                    .get(self.url("/sns/userinfo"))
                    .query(&[
                        ("access_token", token.as_str()),
                        ("openid", openid.as_str()),
                        ("lang", "zh_CN"),
                    ])
                    .send()
                    .await,
            )
            .await?,
        )?;
        Ok(WechatIdentity {
            appid: app.appid.clone(),
            openid,
            unionid: info.unionid.or(a.unionid).filter(|u| !u.is_empty()),
            nickname: info.nickname.filter(|n| !n.is_empty()),
        })
    }

    /// The mini-program's access token: kept until five minutes before it ends.
    async fn access_token(&self, force: bool) -> Result<String, WechatLoginError> {
        let app = self
            .config
            .mini_program
            .as_ref()
            .ok_or(WechatLoginError::NotConfigured)?;
        let mut held = self.token.lock().await;
        if !force
            && let Some((t, until)) = held.as_ref()
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let a = Self::checked(
            Self::read(
                self.http
                    .post(self.url("/cgi-bin/stable_token"))
                    .json(&serde_json::json!({
                        "grant_type": "client_credential",
                        "appid": app.appid,
                        "secret": app.secret.expose_secret(),
                        "force_refresh": force,
                    }))
                    .send()
                    .await,
            )
            .await?,
        )?;
        let token = a
            .access_token
            .ok_or_else(|| WechatLoginError::Provider("no access_token".into()))?;
        let life = a.expires_in.unwrap_or(7200).saturating_sub(300);
        *held = Some((token.clone(), Instant::now() + Duration::from_secs(life)));
        Ok(token)
    }

    /// The phone number behind a mini-program `getPhoneNumber` code (mainland numbers only).
    pub async fn phone_number(&self, code: &str) -> Result<String, WechatLoginError> {
        for force in [false, true] {
            let token = self.access_token(force).await?;
            let a = Self::read(
                self.http
                    .post(self.url("/wxa/business/getuserphonenumber"))
                    .query(&[("access_token", token.as_str())])
                    .json(&serde_json::json!({"code": code}))
                    .send()
                    .await,
            )
            .await?;
            if TOKEN_ERRORS.contains(&a.errcode) && !force {
                continue;
            }
            let info = Self::checked(a)?
                .phone_info
                .ok_or_else(|| WechatLoginError::Provider("no phone_info".into()))?;
            if !info.country_code.is_empty() && info.country_code != "86" {
                return Err(WechatLoginError::InvalidCode(
                    "not a mainland number".into(),
                ));
            }
            return Ok(info.pure_phone_number);
        }
        Err(WechatLoginError::Provider(
            "the access token kept being refused".into(),
        ))
    }
}
