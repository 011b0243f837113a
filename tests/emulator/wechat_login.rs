//! WeChat sign-in's server APIs as the adapter calls them, pinned by wiremock with the
//! requests and answers WeChat publishes (jscode2session, website OAuth and userinfo,
//! stable_token, getuserphonenumber).

use secrecy::SecretString;
use serde_json::json;
use shared::auth::wechat::{AppCredentials, WechatLogin, WechatLoginConfig, WechatLoginError};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn login(server: &MockServer) -> WechatLogin {
    let app = |appid: &str, secret: &str| {
        Some(AppCredentials {
            appid: appid.into(),
            secret: SecretString::from(secret.to_owned()),
        })
    };
    WechatLogin::new(WechatLoginConfig {
        api_base: server.uri(),
        mini_program: app("wxmini0000000001", "mini-secret"),
        web: app("wxweb00000000001", "web-secret"),
    })
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

#[tokio::test]
async fn a_mini_program_code_gives_the_person_and_a_used_code_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .and(query_param("appid", "wxmini0000000001"))
        .and(query_param("secret", "mini-secret"))
        .and(query_param("js_code", "good-code"))
        .and(query_param("grant_type", "authorization_code"))
        .respond_with(ok(json!({
            "openid": "oMini123", "session_key": "tiihtNczf5v6AKRyjwEUhQ==", "unionid": "oUnion456"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .and(query_param("js_code", "used-code"))
        .respond_with(ok(
            json!({"errcode": 40163, "errmsg": "code been used, rid: 6735"}),
        ))
        .mount(&server)
        .await;
    let w = login(&server);
    let who = w.mini_program("good-code").await.unwrap();
    assert_eq!(
        (who.openid.as_str(), who.unionid.as_deref()),
        ("oMini123", Some("oUnion456"))
    );
    assert_eq!(who.binding_key(), "union:oUnion456");
    assert!(matches!(
        w.mini_program("used-code").await,
        Err(WechatLoginError::InvalidCode(_))
    ));
}

#[tokio::test]
async fn a_website_code_reads_the_user_and_without_a_unionid_binds_by_app_and_openid() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/oauth2/access_token"))
        .and(query_param("appid", "wxweb00000000001"))
        .and(query_param("secret", "web-secret"))
        .and(query_param("code", "qr-code"))
        .respond_with(ok(json!({
            "access_token": "ACCESS", "expires_in": 7200, "refresh_token": "REFRESH",
            "openid": "oWeb789", "scope": "snsapi_login"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/sns/userinfo"))
        .and(query_param("access_token", "ACCESS"))
        .and(query_param("openid", "oWeb789"))
        .respond_with(ok(json!({
            "openid": "oWeb789", "nickname": "小王", "sex": 0, "province": "", "city": "",
            "country": "CN", "headimgurl": "", "privilege": []})))
        .mount(&server)
        .await;
    let who = login(&server).web("qr-code").await.unwrap();
    assert_eq!(who.nickname.as_deref(), Some("小王"));
    assert_eq!(who.binding_key(), "open:wxweb00000000001:oWeb789");
}

#[tokio::test]
async fn the_phone_number_uses_one_cached_access_token_refreshed_when_wechat_refuses_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .and(body_partial_json(json!({
            "grant_type": "client_credential", "appid": "wxmini0000000001",
            "secret": "mini-secret", "force_refresh": false})))
        .respond_with(ok(json!({"access_token": "T1", "expires_in": 7200})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .and(body_partial_json(json!({"force_refresh": true})))
        .respond_with(ok(json!({"access_token": "T2", "expires_in": 7200})))
        .expect(1)
        .mount(&server)
        .await;
    let number = |token: &str, code: &str| {
        Mock::given(method("POST"))
            .and(path("/wxa/business/getuserphonenumber"))
            .and(query_param("access_token", token))
            .and(body_partial_json(json!({"code": code})))
    };
    number("T1", "p1")
        .respond_with(ok(json!({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86",
            "watermark": {"timestamp": 1764820000, "appid": "wxmini0000000001"}}})))
        .mount(&server)
        .await;
    // The held token is refused once (another system rotated it): refreshed, asked again.
    number("T1", "p2")
        .respond_with(ok(
            json!({"errcode": 40001, "errmsg": "invalid credential"}),
        ))
        .mount(&server)
        .await;
    number("T2", "p2")
        .respond_with(ok(json!({"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": "13900139000", "purePhoneNumber": "13900139000", "countryCode": "86"}})))
        .mount(&server)
        .await;
    number("T2", "p3")
        .respond_with(ok(json!({"errcode": 40029, "errmsg": "invalid code"})))
        .mount(&server)
        .await;
    let w = login(&server);
    assert_eq!(w.phone_number("p1").await.unwrap(), "13800138000");
    assert_eq!(w.phone_number("p2").await.unwrap(), "13900139000");
    assert!(matches!(
        w.phone_number("p3").await,
        Err(WechatLoginError::InvalidCode(_))
    ));
}
