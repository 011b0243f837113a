//! The running local stack over HTTP, the way a client app uses it.

mod auth;
mod errors;
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

/// True when the text has CJK characters: the Chinese message really is Chinese.
pub fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}
