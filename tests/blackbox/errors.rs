use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::json;
use shared::domain::{SessionId, UserId, UserType};

use crate::{Api, is_chinese};

/// Sends `body` to /auth/register in both languages; checks status, code and that the two
/// messages really are Chinese and English.
async fn refused_in_both_languages(
    api: &Api,
    build: impl Fn(&Api) -> reqwest::RequestBuilder,
    status: u16,
    code: &str,
) -> (serde_json::Value, serde_json::Value) {
    let zh = api.send(build(api)).await;
    let en = api.send(build(api).header("accept-language", "en")).await;
    for a in [&zh, &en] {
        assert_eq!(a.status.as_u16(), status, "{}", a.body);
        assert_eq!(a.body["success"], false);
        assert_eq!(a.body["code"], code);
        assert!(a.body["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    }
    assert!(
        is_chinese(zh.body["message"].as_str().unwrap()),
        "{}",
        zh.body
    );
    assert!(
        !is_chinese(en.body["message"].as_str().unwrap()),
        "{}",
        en.body
    );
    (zh.body, en.body)
}

fn register(body: serde_json::Value) -> impl Fn(&Api) -> reqwest::RequestBuilder {
    move |api: &Api| api.request(Method::POST, "/auth/register").json(&body)
}

#[tokio::test]
async fn a_weak_password_is_refused() {
    let api = Api::connect();
    let (zh, en) = refused_in_both_languages(
        &api,
        register(json!({"username": gigbao_tests::unique_name("weak"), "password": "abcdefgh", "user_type": "client"})),
        422,
        "validation.failed",
    )
    .await;
    assert_eq!(zh["errors"]["password"][0], "密码需同时包含字母和数字");
    assert_eq!(
        en["errors"]["password"][0],
        "Password must contain both letters and digits"
    );
}

#[tokio::test]
async fn a_bad_phone_is_refused() {
    let api = Api::connect();
    let (zh, en) = refused_in_both_languages(
        &api,
        register(json!({"username": gigbao_tests::unique_name("ph"), "password": "Good-2026-pw", "user_type": "client", "phone": "12345678901"})),
        422,
        "validation.failed",
    )
    .await;
    assert_eq!(zh["errors"]["phone"][0], "请输入有效的中国大陆手机号");
    assert_eq!(
        en["errors"]["phone"][0],
        "Enter a valid mainland China mobile number"
    );
}

#[tokio::test]
async fn missing_fields_are_each_named() {
    let api = Api::connect();
    let (zh, en) =
        refused_in_both_languages(&api, register(json!({})), 422, "validation.failed").await;
    for field in ["username", "password", "user_type"] {
        assert_eq!(zh["errors"][field][0], "此字段为必填项");
        assert_eq!(en["errors"][field][0], "This field is required");
    }
}

#[tokio::test]
async fn admin_cannot_be_chosen_at_registration() {
    let api = Api::connect();
    let (_, en) = refused_in_both_languages(
        &api,
        register(json!({"username": gigbao_tests::unique_name("adm"), "password": "Good-2026-pw", "user_type": "admin"})),
        422,
        "validation.failed",
    )
    .await;
    assert_eq!(
        en["errors"]["user_type"][0],
        "user_type must be freelancer or client"
    );
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let api = Api::connect();
    refused_in_both_languages(
        &api,
        |api: &Api| {
            api.request(Method::POST, "/auth/register")
                .header("content-type", "application/json")
                .body("{\"username\": ")
        },
        400,
        "request.malformed_json",
    )
    .await;
}

#[tokio::test]
async fn a_wrongly_typed_field_is_a_400() {
    let api = Api::connect();
    refused_in_both_languages(
        &api,
        register(json!({"username": 42, "password": "Good-2026-pw", "user_type": "client"})),
        400,
        "request.malformed_json",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415() {
    let api = Api::connect();
    refused_in_both_languages(
        &api,
        |api: &Api| {
            api.request(Method::POST, "/auth/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("login=a&password=b")
        },
        415,
        "request.unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn a_one_megabyte_body_is_a_413() {
    let api = Api::connect();
    let big = json!({"username": "x".repeat(1024 * 1024), "password": "p", "user_type": "client"});
    refused_in_both_languages(&api, register(big), 413, "request.too_large").await;
}

fn profile(token: Option<String>) -> impl Fn(&Api) -> reqwest::RequestBuilder {
    move |api: &Api| {
        let r = api.request(Method::GET, "/users/profile");
        match &token {
            Some(t) => r.header("authorization", t),
            None => r,
        }
    }
}

#[tokio::test]
async fn a_missing_token_is_a_401() {
    let api = Api::connect();
    refused_in_both_languages(&api, profile(None), 401, "auth.missing_token").await;
}

#[tokio::test]
async fn a_tampered_token_is_a_401() {
    let api = Api::connect();
    let (_, _, data) = api.register("tamper").await;
    let access = data["access"].as_str().unwrap();
    // Flip one character of the signature.
    let mut chars: Vec<char> = access.chars().collect();
    let last = chars.len() - 2;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    refused_in_both_languages(
        &api,
        profile(Some(format!("Bearer {tampered}"))),
        401,
        "auth.invalid_token",
    )
    .await;
    refused_in_both_languages(
        &api,
        profile(Some("Basic dXNlcjpwYXNz".into())),
        401,
        "auth.invalid_token",
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_a_401() {
    let api = Api::connect();
    // The stack's own key (the harness passes the token secret) signs a token that expired a
    // minute ago.
    let keys = gigbao_tests::stack_keys();
    let issued = Utc::now() - Duration::minutes(16);
    let token = keys
        .issue_access(
            UserId::new(),
            UserType::Client,
            &[shared::domain::Role::Buyer],
            SessionId::new(),
            issued,
        )
        .unwrap();
    refused_in_both_languages(
        &api,
        profile(Some(format!("Bearer {token}"))),
        401,
        "auth.token_expired",
    )
    .await;
}

#[tokio::test]
async fn a_garbage_refresh_token_is_a_401() {
    let api = Api::connect();
    let a = api
        .post("/auth/refresh-token", json!({"refresh": "not.a.token"}))
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body["code"], "auth.invalid_refresh_token");
}
