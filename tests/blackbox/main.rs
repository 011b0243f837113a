//! The running local stack over HTTP, the way a client app uses it.

mod accounts;
mod admin;
mod auth;
mod authz;
mod avatar;
mod briefs;
mod errors;
mod files;
mod logs;
mod messaging;
mod offers;
mod orders;
mod payments;
mod profiles;
mod reviews;
mod safety;
mod search;
mod services;
mod wiring;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

pub struct Api {
    base: String,
    http: reqwest::Client,
    /// Each test speaks from its own address so that per-IP limits do not collide.
    ip: String,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Api {
    pub fn connect() -> Api {
        let n = ulid::Ulid::new().random();
        Api {
            base: gigbao_tests::env("GIGBAO_API_URL"),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap(),
            ip: format!(
                "198.{}.{}.{}",
                (n % 200) as u8 + 18,
                (n >> 8) as u8,
                (n >> 16) as u8
            ),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{}", self.base, path))
            .header("x-forwarded-for", &self.ip)
    }

    pub async fn send(&self, req: RequestBuilder) -> Answer {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(self.request(Method::POST, path).json(&body))
            .await
    }

    pub async fn post_en(&self, path: &str, body: Value) -> Answer {
        self.send(
            self.request(Method::POST, path)
                .header("accept-language", "en")
                .json(&body),
        )
        .await
    }

    pub async fn post_auth(&self, path: &str, access: &str, body: Value) -> Answer {
        self.send(
            self.request(Method::POST, path)
                .bearer_auth(access)
                .json(&body),
        )
        .await
    }

    pub async fn patch_auth(&self, path: &str, access: &str, body: Value) -> Answer {
        self.send(
            self.request(Method::PATCH, path)
                .bearer_auth(access)
                .header("accept-language", "en")
                .json(&body),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn get_auth(&self, path: &str, access: &str) -> Answer {
        self.send(self.request(Method::GET, path).bearer_auth(access))
            .await
    }

    /// Registers a new client with unique details; returns (username, password, answer data).
    pub async fn register(&self, prefix: &str) -> (String, String, Value) {
        let username = gigbao_tests::unique_name(prefix);
        let password = "Kehu-2026-safe".to_owned();
        let a = self
            .post(
                "/auth/register",
                json!({
                    "username": username,
                    "password": password,
                    "user_type": "client",
                    "email": format!("{username}@example.com"),
                    "phone": gigbao_tests::unique_phone(),
                }),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
        (username, password, a.body["data"].clone())
    }
}

/// The newest SMS code sent to `phone` through the stack's outbox.
pub fn last_code(phone: &str) -> String {
    let dir = std::path::PathBuf::from(gigbao_tests::env("GIGBAO_OUTBOX_DIR"));
    gigbao_tests::outbox_last(&dir, "sms", |v| v["to"] == phone)
        .unwrap_or_else(|| panic!("no SMS to {phone} in the outbox"))["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The token in the newest email to `to` of `kind`.
pub fn last_mail_token(to: &str, kind: &str) -> String {
    let dir = std::path::PathBuf::from(gigbao_tests::env("GIGBAO_OUTBOX_DIR"));
    let mail = gigbao_tests::outbox_last(&dir, "mail", |v| v["to"] == to && v["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} mail to {to} in the outbox"));
    let text = mail["text"].as_str().unwrap();
    let start = text.find("token=").unwrap() + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Registers a freelancer; returns (username, password, answer data).
pub async fn register_freelancer(api: &Api, prefix: &str) -> (String, String, Value) {
    let username = gigbao_tests::unique_name(prefix);
    let password = "Sheji-2026-safe".to_owned();
    let a = api
        .post(
            "/auth/register",
            json!({
                "username": username, "password": password, "user_type": "freelancer",
                "email": format!("{username}@example.com"), "phone": gigbao_tests::unique_phone(),
            }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    (username, password, a.body["data"].clone())
}

/// An operator account (made the way operators' tooling makes them, straight in the table),
/// signed in over HTTP; returns its access token and id.
pub async fn admin_session(api: &Api) -> (String, String) {
    use shared::app::auth::{self, NewAccount};
    use shared::domain::{Password, UserType, Username};
    let store = gigbao_tests::stack_store().await;
    let keys = gigbao_tests::stack_keys();
    let name = gigbao_tests::unique_name("admin");
    let password = "Guanli-2026-safe";
    auth::register(
        &store,
        &keys,
        NewAccount {
            username: Username::parse(&name).unwrap(),
            password: Password::parse(password, None).unwrap(),
            user_type: UserType::Admin,
            email: None,
            phone: None,
        },
        &shared::app::ClientInfo::default(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let a = api
        .post("/auth/login", json!({"login": name, "password": password}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    (
        a.body["data"]["access"].as_str().unwrap().to_owned(),
        a.body["data"]["user"]["id"].as_str().unwrap().to_owned(),
    )
}

pub use gigbao_tests::fresh_id_number;

/// True when the text has CJK characters: the Chinese message really is Chinese.
pub fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}
