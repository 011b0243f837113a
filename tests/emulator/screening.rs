//! Screening public images: the Aliyun Content Moderation adapter against wiremock with the
//! request the real service expects, and the avatar worker keeping a rejected picture private
//! (MiniStack for the bucket and the table).

use aws_lc_rs::{digest, hmac};
use chrono::TimeZone;
use gigbao_tests::png;
use secrecy::SecretString;
use shared::app::avatar::{Processed, process_upload};
use shared::domain::{UploadId, UserType};
use shared::files::Files;
use shared::screening::{
    AliyunModeration, AliyunModerationConfig, ImageScreener, ScreeningError, Verdict,
};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn green(endpoint: &str) -> AliyunModeration {
    AliyunModeration::new(AliyunModerationConfig {
        access_key_id: "LTAI5tTESTKEYID".into(),
        access_key_secret: SecretString::from("testsecret".to_owned()),
        endpoint: endpoint.into(),
    })
}

fn answer(risk: &str, label: &str) -> serde_json::Value {
    serde_json::json!({
        "Code": 200,
        "Msg": "OK",
        "RequestId": "ABCD1234-1234-1234-1234-1234ABCD5678",
        "Data": {
            "DataId": "01JDEMOUPLOAD",
            "Result": [{"Label": label, "Confidence": 91.3}],
            "RiskLevel": risk
        }
    })
}

#[tokio::test]
async fn image_moderation_is_a_signed_form_post_of_service_and_parameters() {
    let server = MockServer::start().await;
    let host = server.address().to_string();
    let green = green(&server.uri());
    let now = chrono::Utc.with_ymd_and_hms(2026, 12, 4, 8, 0, 0).unwrap();
    let url = "https://media.example/screening/01J.jpg?X-Amz-Signature=abc";
    let req = green.sign(url, "01J", now, "5c2f1e0a9b8d7c6e5f4a3b2c1d0e9f8a");
    // The form body, by hand: RFC 3986-encoded, sorted by name.
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let params = format!(r#"{{"dataId":"01J","imageUrl":"{url}"}}"#);
    let body = format!("Service=baselineCheck&ServiceParameters={}", enc(&params));
    assert_eq!(String::from_utf8(req.body.clone()).unwrap(), body);
    let body_hash = hex(digest::digest(&digest::SHA256, body.as_bytes()).as_ref());
    let canonical = format!(
        "POST\n/\n\n\
         host:{host}\nx-acs-action:ImageModeration\nx-acs-content-sha256:{body_hash}\nx-acs-date:2026-12-04T08:00:00Z\n\
         x-acs-signature-nonce:5c2f1e0a9b8d7c6e5f4a3b2c1d0e9f8a\nx-acs-version:2022-03-02\n\n\
         host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n{body_hash}"
    );
    assert_eq!(req.canonical_request, canonical);
    let to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, b"testsecret");
    let signature = hex(hmac::sign(&key, to_sign.as_bytes()).as_ref());
    let authorization = format!(
        "ACS3-HMAC-SHA256 Credential=LTAI5tTESTKEYID,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature={signature}"
    );
    Mock::given(method("POST"))
        .and(path("/"))
        // Compared whole: wiremock's `header` matcher splits values at commas.
        .and(move |req: &wiremock::Request| {
            req.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                == Some(authorization.as_str())
        })
        .and(header("x-acs-action", "ImageModeration"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string_contains("Service=baselineCheck"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer("none", "nonLabel")))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(green.send_signed(req).await.unwrap(), Verdict::Pass);
}

#[tokio::test]
async fn high_risk_is_rejected_and_refusals_and_outages_are_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("bad.jpg"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(answer("high", "pornographic_adultContent")),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("low.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer("low", "sexy_suspected")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("quota.jpg"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "Code": 588, "Msg": "Exceed quota", "RequestId": "x"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("key.jpg"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."
        })))
        .mount(&server)
        .await;
    let green = ImageScreener::Aliyun(green(&server.uri()));
    assert_eq!(
        green.screen("https://m/bad.jpg", "1").await.unwrap(),
        Verdict::Reject {
            labels: vec!["pornographic_adultContent".into()]
        }
    );
    // Low risk is shown (operators can still take it down on a report).
    assert_eq!(
        green.screen("https://m/low.jpg", "2").await.unwrap(),
        Verdict::Pass
    );
    assert!(matches!(
        green.screen("https://m/quota.jpg", "3").await,
        Err(ScreeningError::Refused { code, .. }) if code == "588"
    ));
    assert!(matches!(
        green.screen("https://m/key.jpg", "4").await,
        Err(ScreeningError::Refused { code, .. }) if code == "InvalidAccessKeyId.NotFound"
    ));
    let down = ImageScreener::Aliyun(self::green("http://127.0.0.1:9"));
    assert!(matches!(
        down.screen("https://m/x.jpg", "5").await,
        Err(ScreeningError::Transport(_))
    ));
}

#[tokio::test]
async fn a_rejected_avatar_never_becomes_public_and_a_passed_one_does() {
    let deps = gigbao_tests::deps_for(gigbao_tests::fresh_store().await).await;
    // Not the media bucket: the stack's own file processor would handle the same uploads.
    let bucket = gigbao_tests::fresh_bucket(deps.s3()).await;
    let files = Files::new(deps.s3().clone(), bucket.clone());
    let user = gigbao_tests::new_user(&deps.store, UserType::Client).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("screening%2F"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer("high", "violent_explosion")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer("none", "nonLabel")))
        .mount(&server)
        .await;
    let screener = ImageScreener::Aliyun(green(&server.uri()));
    let exists = |key: String| {
        let s3 = deps.s3().clone();
        let bucket = bucket.clone();
        async move {
            s3.head_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .is_ok()
        }
    };
    // WHEN the provider rejects the first picture
    let upload = UploadId::new();
    let key = format!("uploads/avatars/{}/{upload}", user.id);
    files.put(&key, png(600, 600), "image/png").await.unwrap();
    let out = process_upload(
        deps.channels(),
        (&files, &screener),
        &key,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // THEN nothing public was written, the screening copy and the upload are gone, the
    // user is told, and the avatar is unchanged
    assert!(
        matches!(out, Processed::Rejected { ref reason } if reason.contains("violent_explosion")),
        "{out:?}"
    );
    assert!(!exists(format!("avatars/{}/{upload}.jpg", user.id)).await);
    assert!(!exists(format!("screening/{upload}.jpg")).await);
    assert!(!exists(key.clone()).await);
    let notes = deps.store.list_notifications(user.id, 10).await.unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.notification_type == "avatar_rejected")
    );
    let stored = deps.store.get_user(user.id).await.unwrap().unwrap();
    assert!(stored.avatar.is_none());
    // The provider was sent a link to the private copy, never a public URL.
    let sent = server.received_requests().await.unwrap();
    let body = String::from_utf8(sent[0].body.clone()).unwrap();
    assert!(
        body.contains("screening%2F") && body.contains("X-Amz-Signature"),
        "{body}"
    );
    // WHEN the next picture passes, it is the avatar
    let upload = UploadId::new();
    let key = format!("uploads/avatars/{}/{upload}", user.id);
    files.put(&key, png(500, 400), "image/png").await.unwrap();
    let out = process_upload(
        deps.channels(),
        (&files, &screener),
        &key,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let avatar = format!("avatars/{}/{upload}.jpg", user.id);
    assert_eq!(
        out,
        Processed::Avatar {
            key: avatar.clone()
        }
    );
    assert!(exists(avatar).await);
    assert!(!exists(format!("screening/{upload}.jpg")).await);
}
