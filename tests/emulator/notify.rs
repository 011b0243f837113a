//! The production adapters for SMS (Aliyun) and email (SES; Aliyun DirectMail in China),
//! against wiremock with the exact requests the real services expect.

use aws_lc_rs::{digest, hmac};
use chrono::TimeZone;
use secrecy::SecretString;
use shared::domain::Phone;
use shared::notify::{
    AliyunSms, AliyunSmsConfig, DirectMailConfig, DirectMailer, Mail, NotifyError, SesMailer,
    SmsMessage, SmsTemplate,
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

fn directmail(endpoint: &str) -> DirectMailer {
    DirectMailer::new(DirectMailConfig {
        access_key_id: "LTAI5tTESTKEYID".into(),
        access_key_secret: SecretString::from("testsecret".to_owned()),
        from: "no-reply@mail.gigbao.cn".into(),
        from_alias: Some("猪八戒".into()),
        endpoint: endpoint.into(),
    })
}

fn reset_mail() -> Mail {
    Mail {
        to: "kehu@example.cn".into(),
        subject: "重置密码 / Reset your password".into(),
        text: "打开链接 https://gigbao.cn/reset?token=abc & 完成".into(),
        html: "<p>打开链接 <a href=\"https://gigbao.cn/reset?token=abc\">重置</a></p>".into(),
        kind: "password_reset",
    }
}

#[tokio::test]
async fn directmail_single_send_mail_is_a_signed_form_post() {
    let server = MockServer::start().await;
    let host = server.address().to_string();
    let mailer = directmail(&server.uri());
    let now = chrono::Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
    let req = mailer.sign(&reset_mail(), now, "5c2f1e0a9b8d7c6e5f4a3b2c1d0e9f8a");
    // The form body, written out by hand: every parameter RFC 3986-encoded, sorted by name.
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
    let mail = reset_mail();
    let body = format!(
        "AccountName={}&AddressType=1&FromAlias={}&HtmlBody={}&ReplyToAddress=false&Subject={}&TagName=password_reset&TextBody={}&ToAddress={}",
        enc("no-reply@mail.gigbao.cn"),
        enc("猪八戒"),
        enc(&mail.html),
        enc(&mail.subject),
        enc(&mail.text),
        enc(&mail.to),
    );
    assert_eq!(String::from_utf8(req.body.clone()).unwrap(), body);
    let body_hash = hex(digest::digest(&digest::SHA256, body.as_bytes()).as_ref());
    let expected_canonical = format!(
        "POST\n/\n\n\
         host:{host}\nx-acs-action:SingleSendMail\nx-acs-content-sha256:{body_hash}\nx-acs-date:2026-12-03T08:00:00Z\n\
         x-acs-signature-nonce:5c2f1e0a9b8d7c6e5f4a3b2c1d0e9f8a\nx-acs-version:2015-11-23\n\n\
         host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n{body_hash}"
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
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(header("x-acs-action", "SingleSendMail"))
        .and(header("x-acs-version", "2015-11-23"))
        .and(header("x-acs-content-sha256", body_hash.as_str()))
        .and(wiremock::matchers::body_string(body.clone()))
        .and(move |req: &wiremock::Request| {
            req.url.query().is_none()
                && req
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    == Some(authorization.as_str())
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "EnvId": "600000000000000000", "RequestId": "2D086F6-3C00-4DA1-9BC3-2B4A3D0C8D8E"
        })))
        .expect(1)
        .mount(&server)
        .await;
    mailer.send_signed(req).await.unwrap();
}

#[tokio::test]
async fn directmail_refusals_and_outages_are_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "RequestId": "x", "HostId": "dm.aliyuncs.com",
            "Code": "InvalidToAddress", "Message": "The specified toAddress is invalid."
        })))
        .mount(&server)
        .await;
    let err = directmail(&server.uri())
        .send(&reset_mail())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, NotifyError::Refused { channel: "email", code, .. } if code == "InvalidToAddress"),
        "{err}"
    );
    // Nothing listening: a transport error that does not carry the reset link.
    let err = directmail("http://127.0.0.1:9")
        .send(&reset_mail())
        .await
        .unwrap_err();
    assert!(matches!(err, NotifyError::Transport { .. }));
    assert!(!err.to_string().contains("token=abc"), "{err}");
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
