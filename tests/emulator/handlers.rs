//! Handlers called in-process with the sample events of `events/`, the same files
//! `cargo lambda invoke --data-file` uses.

use std::path::Path;

use gigbao_tests::{deps_for, fresh_store};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::Deps;
use shared::api;
use shared::entry::respond;

fn event(name: &str, replace: &[(&str, &str)]) -> Request {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    lambda_http::request::from_str(&text).unwrap()
}

fn json(resp: &Response<Body>) -> Value {
    match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        Body::Empty => Value::Null,
        Body::Binary(b) => serde_json::from_slice(b).unwrap(),
        _ => Value::Null,
    }
}

async fn deps() -> &'static Deps {
    deps_for(fresh_store().await).await
}

#[tokio::test]
async fn health_answers_ok() {
    let resp = respond(
        deps().await,
        event("health/get.json", &[]),
        api::health::health,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body = json(&resp);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "服务正常");
    assert_eq!(body["data"]["status"], "ok");
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
}

#[tokio::test]
async fn the_sample_events_drive_register_login_profile_refresh_logout() {
    let deps = deps().await;
    // register
    let resp = respond(
        deps,
        event("auth-register/freelancer.json", &[]),
        api::auth::register,
    )
    .await;
    assert_eq!(resp.status(), 201, "{:?}", json(&resp));
    let body = json(&resp);
    assert_eq!(body["message"], "注册成功");
    assert_eq!(body["data"]["user"]["username"], "wang_design");
    assert_eq!(body["data"]["user"]["user_type"], "freelancer");
    assert_eq!(body["data"]["user"]["freelancer_profile"]["rating"], "0.00");
    assert!(body["data"]["user"].get("password_hash").is_none());
    // login
    let resp = respond(
        deps,
        event("auth-login/by-username.json", &[]),
        api::auth::login,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let tokens = json(&resp)["data"].clone();
    let access = tokens["access"].as_str().unwrap();
    let refresh = tokens["refresh"].as_str().unwrap();
    // profile
    let resp = respond(
        deps,
        event(
            "user-profile-get/own.json",
            &[("REPLACE_WITH_ACCESS_TOKEN", access)],
        ),
        api::users::profile_get,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json(&resp)["data"]["phone"], "13912345678");
    // refresh
    let resp = respond(
        deps,
        event(
            "auth-refresh/rotate.json",
            &[("REPLACE_WITH_REFRESH_TOKEN", refresh)],
        ),
        api::auth::refresh,
    )
    .await;
    assert_eq!(resp.status(), 200);
    let new_refresh = json(&resp)["data"]["refresh"].as_str().unwrap().to_owned();
    // logout
    let resp = respond(
        deps,
        event(
            "auth-logout/logout.json",
            &[("REPLACE_WITH_REFRESH_TOKEN", &new_refresh)],
        ),
        api::auth::logout,
    )
    .await;
    assert_eq!(resp.status(), 204);
    assert!(matches!(resp.body(), Body::Empty));
}

#[tokio::test]
async fn a_weak_password_is_a_422_in_english_when_asked() {
    let resp = respond(
        deps().await,
        event("auth-register/weak-password.json", &[]),
        api::auth::register,
    )
    .await;
    assert_eq!(resp.status(), 422);
    let body = json(&resp);
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "validation.failed");
    assert_eq!(body["message"], "Some fields are invalid");
    assert_eq!(
        body["errors"]["password"][0],
        "Password must contain both letters and digits"
    );
    assert_eq!(body["request_id"], "local-request-1");
}

#[tokio::test]
async fn a_panicking_handler_answers_an_opaque_500() {
    async fn boom(
        _: &'static Deps,
        _: Request,
    ) -> Result<shared::http::Reply, shared::http::ApiError> {
        let v: Vec<u8> = Vec::new();
        #[allow(clippy::indexing_slicing)]
        let _ = v[1];
        unreachable!()
    }
    let resp = respond(deps().await, event("health/get.json", &[]), boom).await;
    assert_eq!(resp.status(), 500);
    let body = json(&resp);
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["message"], "服务器内部错误，请稍后再试");
    assert!(!body.to_string().contains("index out of bounds"));
}
