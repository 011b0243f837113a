//! Alipay sign-in as the adapter calls it, pinned by wiremock with the requests and answers
//! Alipay documents: `alipay.system.oauth.token` as a signed gateway call (our RSA2 signature
//! checked here with the application's public key), its signed answer in both id models, its
//! `error_response` for a used code, and the mini-program's signed, encrypted
//! `my.getPhoneNumber` answer.

use gigbao_tests::payment_keys as k;
use secrecy::SecretString;
use serde_json::{Value, json};
use shared::auth::alipay::{AlipayLogin, AlipayLoginApp, AlipayLoginConfig, AlipayLoginError};
use shared::payments::alipay::sign_content;
use shared::payments::keys::{RsaSigner, RsaVerifier};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const MINI: &str = "2021000000000101";
const WEB: &str = "2021000000000102";
/// The content key of OpenSSL's vector below (bytes 0..16).
const AES_KEY: &str = "AAECAwQFBgcICQoLDA0ODw==";
/// `{"code":"10000","msg":"Success","mobile":"13800138000"}` under AES_KEY, AES-128-CBC, zero
/// IV (`openssl enc -aes-128-cbc -K 000102…0f -iv 0…0`).
const PHONE_CIPHERTEXT: &str =
    "igATcyTqqgv1AFpBiHJyVf94zn4d80DWhHrnUhty+8RANJYRclz7h18/tips8L5UTuMmNV7rHGCs+h7uZSZZQQ==";

fn login(server: &MockServer) -> AlipayLogin {
    let app = |app_id: &str, aes: Option<&str>| AlipayLoginApp {
        app_id: app_id.into(),
        private_key: SecretString::from(k::ALIPAY_APP.to_owned()),
        alipay_public_key: k::ALIPAY_PLATFORM_PUB.to_owned(),
        aes_key: aes.map(|a| SecretString::from(a.to_owned())),
    };
    AlipayLogin::new(AlipayLoginConfig {
        gateway_url: format!("{}/gateway.do", server.uri()),
        mini_program: Some(app(MINI, Some(AES_KEY))),
        web: Some(app(WEB, None)),
    })
    .unwrap()
}

/// An answer member signed with `key` (Alipay's, unless a test forges one).
fn answer(member: &str, node: Value, key: &str) -> ResponseTemplate {
    let text = node.to_string();
    let sign = RsaSigner::from_pem(key)
        .unwrap()
        .sign(text.as_bytes())
        .unwrap();
    ResponseTemplate::new(200).set_body_raw(
        format!("{{\"{member}\":{text},\"sign\":\"{sign}\"}}"),
        "application/json;charset=utf-8",
    )
}

const TOKEN: &str = "alipay_system_oauth_token_response";

#[tokio::test]
async fn a_code_is_traded_by_a_signed_call_and_gives_the_alipay_user_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(body_string_contains("method=alipay.system.oauth.token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=good-code"))
        .respond_with(answer(
            TOKEN,
            json!({"user_id": "2088102150477652", "access_token": "authusrB7d2c…",
                   "expires_in": 1296000, "refresh_token": "authusrB9f1e…",
                   "re_expires_in": 2592000, "auth_start": "2026-12-04 10:00:00"}),
            k::ALIPAY_PLATFORM,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let who = login(&server)
        .identity(false, "good-code", chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(who.app_id, WEB);
    assert_eq!(who.binding_key().as_deref(), Some("uid:2088102150477652"));

    // What we sent is a form with every common parameter, signed by our application key.
    let sent = &server.received_requests().await.unwrap()[0];
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&sent.body)
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        (
            field("app_id").as_str(),
            field("sign_type").as_str(),
            field("charset").as_str()
        ),
        (WEB, "RSA2", "utf-8")
    );
    let content = sign_content(form.iter().map(|(k, v)| (k.as_str(), v.as_str())), false);
    assert!(
        RsaVerifier::from_pem(k::ALIPAY_APP_PUB)
            .unwrap()
            .verify(content.as_bytes(), &field("sign")),
        "our request signature does not verify"
    );
}

#[tokio::test]
async fn a_used_code_is_refused_and_an_answer_alipay_did_not_sign_names_no_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("code=used-code"))
        .respond_with(answer(
            "error_response",
            json!({"code": "40002", "msg": "Invalid Arguments",
                   "sub_code": "isv.code-invalid", "sub_msg": "授权码code无效"}),
            k::ALIPAY_PLATFORM,
        ))
        .mount(&server)
        .await;
    // Signed with a key that is not Alipay's: a forged answer.
    Mock::given(method("POST"))
        .and(body_string_contains("code=forged-answer"))
        .respond_with(answer(
            TOKEN,
            json!({"user_id": "2088000000000666"}),
            k::ALIPAY_APP,
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("code=our-keys-refused"))
        .respond_with(answer(
            "error_response",
            json!({"code": "40002", "msg": "Invalid Arguments",
                   "sub_code": "isv.invalid-signature", "sub_msg": "验签出错"}),
            k::ALIPAY_PLATFORM,
        ))
        .mount(&server)
        .await;
    let a = login(&server);
    let now = chrono::Utc::now();
    assert!(matches!(
        a.identity(true, "used-code", now).await,
        Err(AlipayLoginError::InvalidCode(_))
    ));
    assert!(matches!(
        a.identity(true, "forged-answer", now).await,
        Err(AlipayLoginError::Provider(_))
    ));
    // Our own keys refused is our trouble, not the user's code.
    assert!(matches!(
        a.identity(true, "our-keys-refused", now).await,
        Err(AlipayLoginError::Provider(_))
    ));
}

#[tokio::test]
async fn on_the_openid_model_the_union_id_binds_and_without_it_the_apps_open_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("code=with-union"))
        .respond_with(answer(
            TOKEN,
            json!({"open_id": "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
                   "union_id": "0a1bUnion", "access_token": "authusrB…"}),
            k::ALIPAY_PLATFORM,
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("code=open-only"))
        .respond_with(answer(
            TOKEN,
            json!({"open_id": "074aOnlyOpen", "access_token": "authusrB…"}),
            k::ALIPAY_PLATFORM,
        ))
        .mount(&server)
        .await;
    let a = login(&server);
    let now = chrono::Utc::now();
    let who = a.identity(true, "with-union", now).await.unwrap();
    assert_eq!(who.binding_key().as_deref(), Some("union:0a1bUnion"));
    let who = a.identity(true, "open-only", now).await.unwrap();
    assert_eq!(who.binding_key(), Some(format!("open:{MINI}:074aOnlyOpen")));
}

/// The answer `my.getPhoneNumber` gives the client: the response signed as a JSON string.
fn phone_answer(response: &str, key: &str) -> String {
    let sign = RsaSigner::from_pem(key)
        .unwrap()
        .sign(format!("\"{response}\"").as_bytes())
        .unwrap();
    json!({"response": response, "sign": sign, "sign_type": "RSA2",
           "encrypt_type": "AES", "charset": "UTF-8"})
    .to_string()
}

#[tokio::test]
async fn the_phone_answer_opens_only_when_alipay_signed_it() {
    let server = MockServer::start().await;
    let a = login(&server);
    assert_eq!(
        a.phone_number(&phone_answer(PHONE_CIPHERTEXT, k::ALIPAY_PLATFORM))
            .unwrap(),
        "13800138000"
    );
    for forged in [
        phone_answer(PHONE_CIPHERTEXT, k::ALIPAY_APP),
        phone_answer("jL0Z5g8jAOCPff9p219m2A==", k::ALIPAY_APP),
        "{\"response\": \"x\"}".to_owned(),
        "13800138000".to_owned(),
    ] {
        assert!(
            matches!(
                a.phone_number(&forged),
                Err(AlipayLoginError::InvalidCode(_))
            ),
            "{forged}"
        );
    }
    // Signed, but not a phone answer under our key ("x" encrypted).
    assert!(matches!(
        a.phone_number(&phone_answer(
            "jL0Z5g8jAOCPff9p219m2A==",
            k::ALIPAY_PLATFORM
        )),
        Err(AlipayLoginError::InvalidCode(_))
    ));
    // No server was called for any of it.
    assert!(server.received_requests().await.unwrap().is_empty());
}
