//! The production adapters for SMS (Aliyun) and email (SES), against wiremock with the exact
//! requests the real services expect.

use aws_lc_rs::{digest, hmac};
use chrono::TimeZone;
use secrecy::SecretString;
use shared::domain::Phone;
use shared::notify::{
    AliyunSms, AliyunSmsConfig, Mail, NotifyError, SesMailer, SmsMessage, SmsTemplate,
};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn aliyun(endpoint: &str) -> AliyunSms {
    AliyunSms::new(AliyunSmsConfig {
        access_key_id: "LTAI5tTESTKEYID".into(),
        access_key_secret: SecretString::from("testsecret".to_owned()),
        sign_name: "Gigbao".into(),
        template_signin: "SMS_154950909".into(),
        template_reset: "SMS_154950910".into(),
        template_notice: Some("SMS_154950911".into()),
        endpoint: endpoint.into(),
    })
}

#[tokio::test]
async fn aliyun_send_sms_is_signed_with_acs3_hmac_sha256() {
    let server = MockServer::start().await;
    let host = server.address().to_string();
    let sms = aliyun(&server.uri());
    let phone = Phone::parse("13800138000").unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
    let req = sms.sign(
        &SmsMessage {
            phone: &phone,
            template: SmsTemplate::SignInCode,
            code: "123456",
            event: None,
        },
        now,
        "3156853299f313e23d1673dc12e1703d",
    );
    // The canonical request, written out by hand from the V3 rules: sorted, RFC 3986-encoded
    // query; lower-case signed headers with values; their names; the empty body's SHA-256.
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let expected_canonical = format!(
        "POST\n/\n\
         PhoneNumbers=13800138000&SignName=Gigbao&TemplateCode=SMS_154950909&TemplateParam=%7B%22code%22%3A%22123456%22%7D\n\
         host:{host}\nx-acs-action:SendSms\nx-acs-content-sha256:{empty}\nx-acs-date:2026-11-24T08:00:00Z\n\
         x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2017-05-25\n\n\
         host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n{empty}"
    );
    assert_eq!(req.canonical_request, expected_canonical);
    let string_to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex(digest::digest(&digest::SHA256, expected_canonical.as_bytes()).as_ref())
    );
    let signature = hex(hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, b"testsecret"),
        string_to_sign.as_bytes(),
    )
    .as_ref());
    let authorization = format!(
        "ACS3-HMAC-SHA256 Credential=LTAI5tTESTKEYID,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature={signature}"
    );
    Mock::given(method("POST"))
        .and(path("/"))
        .and(query_param("PhoneNumbers", "13800138000"))
        .and(query_param("SignName", "Gigbao"))
        .and(query_param("TemplateCode", "SMS_154950909"))
        .and(query_param("TemplateParam", r#"{"code":"123456"}"#))
        .and(header("x-acs-action", "SendSms"))
        .and(header("x-acs-version", "2017-05-25"))
        .and(header("x-acs-date", "2026-11-24T08:00:00Z"))
        .and(header("x-acs-content-sha256", empty))
        // Compared whole: wiremock's `header` matcher splits values at commas.
        .and(move |req: &wiremock::Request| {
            req.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                == Some(authorization.as_str())
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"
        })))
        .expect(1)
        .mount(&server)
        .await;
    sms.send_signed(req).await.unwrap();
}

#[tokio::test]
async fn aliyun_refusals_and_outages_are_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1", "RequestId": "x"
        })))
        .mount(&server)
        .await;
    let phone = Phone::parse("13800138000").unwrap();
    let msg = SmsMessage {
        phone: &phone,
        template: SmsTemplate::ResetCode,
        code: "654321",
        event: None,
    };
    let err = aliyun(&server.uri()).send(&msg).await.unwrap_err();
    assert!(
        matches!(&err, NotifyError::Refused { code, .. } if code == "isv.BUSINESS_LIMIT_CONTROL")
    );
    // Nothing listening: a transport error that names neither the number nor the code.
    let err = aliyun("http://127.0.0.1:9").send(&msg).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, NotifyError::Transport { .. }));
    assert!(
        !text.contains("13800138000") && !text.contains("654321"),
        "{text}"
    );
}

#[tokio::test]
async fn ses_send_email_posts_the_v2_simple_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/email/outbound-emails"))
        .and(body_partial_json(serde_json::json!({
            "FromEmailAddress": "no-reply@gigbao.cn",
            "Destination": {"ToAddresses": ["li@example.com"]},
            "Content": {"Simple": {
                "Subject": {"Data": "验证您的邮箱", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": "text body", "Charset": "UTF-8"}, "Html": {"Data": "<p>html</p>", "Charset": "UTF-8"}}
            }}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"MessageId": "0100018c-test"})))
        .expect(1)
        .mount(&server)
        .await;
    let conf = aws_sdk_sesv2::config::Builder::from(&gigbao_tests::aws_config().await)
        .endpoint_url(server.uri())
        .build();
    let mailer = SesMailer::new(aws_sdk_sesv2::Client::from_conf(conf), "no-reply@gigbao.cn");
    mailer
        .send(&Mail {
            to: "li@example.com".into(),
            subject: "验证您的邮箱".into(),
            text: "text body".into(),
            html: "<p>html</p>".into(),
            kind: "verify_email",
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_upload_url_signs_the_content_type_and_length() {
    let conf = aws_sdk_s3::config::Builder::from(&gigbao_tests::aws_config().await)
        .force_path_style(true)
        .build();
    let files = shared::files::Files::new(aws_sdk_s3::Client::from_conf(conf), "bucket");
    let put = files
        .presign_put(
            "uploads/avatars/u/1",
            "image/png",
            1000,
            std::time::Duration::from_secs(600),
        )
        .await
        .unwrap();
    let signed = put
        .url
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
        .unwrap()
        .to_owned();
    assert_eq!(
        signed, "content-length%3Bcontent-type%3Bhost",
        "{}",
        put.url
    );
    assert!(
        put.headers
            .contains(&("content-length".to_owned(), "1000".to_owned())),
        "{:?}",
        put.headers
    );
}
