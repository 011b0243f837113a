//! Our gateway cryptography against vectors computed by a second implementation (Python's
//! `cryptography`, `infra/local/payment-keys/vectors.py`) with the committed test keys.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde_json::Value;

use super::keys::{RsaSigner, aes_256_gcm_open, aes_256_gcm_seal};
use super::*;

const VECTORS: &str = include_str!("../../../infra/local/payment-keys/vectors.json");
const SETTINGS: &str = include_str!("../../../infra/local/payment-keys/settings.json");
const ALIPAY_APP: &str = include_str!("../../../infra/local/payment-keys/alipay-app.pem");
const ALIPAY_PUB: &str = include_str!("../../../infra/local/payment-keys/alipay-platform.pub.pem");
const WECHAT_MERCHANT: &str = include_str!("../../../infra/local/payment-keys/wechat-merchant.pem");
const WECHAT_PUB: &str = include_str!("../../../infra/local/payment-keys/wechat-platform.pub.pem");

fn v() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

fn s(name: &str) -> String {
    let settings: Value = serde_json::from_str(SETTINGS).unwrap();
    settings[name].as_str().unwrap().to_owned()
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn alipay() -> Alipay {
    Alipay::new(AlipayConfig {
        app_id: s("alipay_app_id"),
        private_key: SecretString::from(ALIPAY_APP.to_owned()),
        alipay_public_key: ALIPAY_PUB.to_owned(),
        gateway_url: "https://openapi.alipay.com/gateway.do".into(),
        notify_url: "https://api.gigbao.cn/api/v1/payments/callbacks/alipay".into(),
        return_url: None,
    })
    .unwrap()
}

fn wechat() -> Wechat {
    Wechat::new(WechatConfig {
        mchid: s("wechat_mchid"),
        appid: s("wechat_appid"),
        merchant_serial: s("wechat_merchant_serial"),
        private_key: SecretString::from(WECHAT_MERCHANT.to_owned()),
        apiv3_key: SecretString::from(s("wechat_apiv3_key")),
        platform_keys: BTreeMap::from([(s("wechat_platform_serial"), WECHAT_PUB.to_owned())]),
        api_base: "https://api.mch.weixin.qq.com".into(),
        notify_url: "https://api.gigbao.cn/api/v1/payments/callbacks/wechat".into(),
        refund_notify_url: None,
        transfer_scene_id: s("wechat_transfer_scene_id"),
    })
    .unwrap()
}

#[test]
fn alipay_page_pay_is_signed_byte_for_byte_as_the_second_implementation_signs_it() {
    let vec = &v()["alipay_request"];
    let charge = ChargeRequest {
        out_trade_no: "GB20261124160000ABCDEFGHIJ".into(),
        amount: "199.00".parse().unwrap(),
        subject: "Gigbao 钱包充值".into(),
        expires_at: at("2026-11-24T08:30:00Z"),
    };
    let PayParams::Redirect { pay_url } = alipay()
        .pay(
            &charge,
            crate::domain::payment::Channel::Page,
            at("2026-11-24T08:00:00Z"),
        )
        .unwrap()
    else {
        panic!("not a redirect")
    };
    let query = pay_url.split_once('?').unwrap().1;
    let ours: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut expected: BTreeMap<String, String> = vec["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    expected.insert("sign".into(), vec["sign"].as_str().unwrap().to_owned());
    assert_eq!(ours, expected);
    let pairs = expected.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    assert_eq!(
        alipay::sign_content(pairs, false),
        vec["content"].as_str().unwrap()
    );
}

fn notification_form() -> Vec<(String, String)> {
    v()["alipay_notification"]["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn an_alipay_notification_signed_by_the_second_implementation_verifies() {
    let notice = alipay()
        .notification(&notification_form())
        .unwrap()
        .unwrap();
    assert_eq!(notice.out_trade_no, "GB20261124160000ABCDEFGHIJ");
    assert_eq!(notice.trade_no, "2026112422001446870501234567");
    assert_eq!(notice.amount, "199.00".parse().unwrap());
}

#[test]
fn a_changed_alipay_notification_does_not_verify() {
    for (field, value) in [
        ("total_amount", "199.01"),
        ("out_trade_no", "GB1"),
        ("sign_type", "RSA"),
    ] {
        let mut form = notification_form();
        for (k, v) in form.iter_mut() {
            if k == field {
                *v = value.to_owned();
            }
        }
        assert_eq!(
            alipay().notification(&form),
            Err(CallbackError::BadSignature),
            "{field}"
        );
    }
    let unsigned: Vec<_> = notification_form()
        .into_iter()
        .filter(|(k, _)| k != "sign")
        .collect();
    assert_eq!(
        alipay().notification(&unsigned),
        Err(CallbackError::BadSignature)
    );
}

#[test]
fn an_alipay_transfer_answer_is_read_only_when_alipay_signed_it() {
    let body = v()["alipay_transfer_response"].as_str().unwrap().to_owned();
    assert_eq!(
        alipay().transfer_outcome(&body).unwrap(),
        TransferOutcome::Paid {
            reference: "20261124110070000006040050105202".into()
        }
    );
    let forged = body.replace("\"status\":\"SUCCESS\"", "\"status\":\"FAIL\"");
    assert!(matches!(
        alipay().transfer_outcome(&forged),
        Err(GatewayError::Unverified(_))
    ));
}

#[test]
fn wechat_authorization_matches_the_second_implementation() {
    let vec = &v()["wechat_request"];
    let header = wechat()
        .authorization(
            "POST",
            "/v3/pay/transactions/native",
            vec["body"].as_str().unwrap(),
            1_795_507_200,
            "593BEC0C930BF1AFEB40B4A08C8FB242",
        )
        .unwrap();
    assert_eq!(
        header,
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\"{}\",timestamp=\"1795507200\",serial_no=\"{}\"",
            s("wechat_mchid"),
            vec["signature"].as_str().unwrap(),
            s("wechat_merchant_serial")
        )
    );
}

#[test]
fn wechat_jsapi_pay_sign_matches_the_second_implementation() {
    let p = wechat()
        .jsapi_params(
            "wx201410272009395522657a690389285100",
            1_795_507_200,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        )
        .unwrap();
    assert_eq!(
        p.pay_sign,
        v()["wechat_jsapi"]["pay_sign"].as_str().unwrap()
    );
    assert_eq!(p.package, "prepay_id=wx201410272009395522657a690389285100");
}

fn wechat_headers() -> (SignatureHeaders, String) {
    let n = &v()["wechat_notification"];
    (
        SignatureHeaders {
            timestamp: n["timestamp"].as_str().unwrap().into(),
            nonce: n["nonce"].as_str().unwrap().into(),
            signature: n["signature"].as_str().unwrap().into(),
            serial: n["serial"].as_str().unwrap().into(),
        },
        n["body"].as_str().unwrap().into(),
    )
}

#[test]
fn a_wechat_notification_from_the_second_implementation_verifies_and_decrypts() {
    let (h, body) = wechat_headers();
    let now = DateTime::from_timestamp(1_795_507_203 + 60, 0).unwrap();
    let notice = wechat().notification(&h, &body, now).unwrap().unwrap();
    assert_eq!(notice.out_trade_no, "GB20261124160000ABCDEFGHIJ");
    assert_eq!(notice.trade_no, "4200000985202611240000000001");
    assert_eq!(notice.amount.fen(), 19_900);
}

#[test]
fn a_wechat_notification_is_refused_when_stale_forged_or_from_an_unknown_key() {
    let (h, body) = wechat_headers();
    let w = wechat();
    let sent = 1_795_507_203;
    let late = DateTime::from_timestamp(sent + 301, 0).unwrap();
    let early = DateTime::from_timestamp(sent - 301, 0).unwrap();
    let now = DateTime::from_timestamp(sent, 0).unwrap();
    assert_eq!(
        w.notification(&h, &body, late),
        Err(CallbackError::StaleTimestamp)
    );
    assert_eq!(
        w.notification(&h, &body, early),
        Err(CallbackError::StaleTimestamp)
    );
    let changed = body.replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESS ");
    assert_eq!(
        w.notification(&h, &changed, now),
        Err(CallbackError::BadSignature)
    );
    let other = SignatureHeaders {
        serial: "PUB_KEY_ID_SOMEONE_ELSE".into(),
        ..h.clone()
    };
    assert_eq!(
        w.notification(&other, &body, now),
        Err(CallbackError::UnknownKey)
    );
    let forged_by_us = SignatureHeaders {
        signature: RsaSigner::from_pem(WECHAT_MERCHANT)
            .unwrap()
            .sign(format!("{}\n{}\n{body}\n", h.timestamp, h.nonce).as_bytes())
            .unwrap(),
        ..h
    };
    assert_eq!(
        w.notification(&forged_by_us, &body, now),
        Err(CallbackError::BadSignature)
    );
}

#[test]
fn aes_256_gcm_matches_the_second_implementation_both_ways() {
    let n = &v()["wechat_notification"];
    let key = s("wechat_apiv3_key");
    let plain = aes_256_gcm_open(
        key.as_bytes(),
        "fdasflkja484",
        "transaction",
        n["ciphertext"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        n["plaintext"].as_str().unwrap()
    );
    assert_eq!(
        aes_256_gcm_seal(
            key.as_bytes(),
            "fdasflkja484",
            "transaction",
            n["plaintext"].as_str().unwrap().as_bytes()
        )
        .unwrap(),
        n["ciphertext"].as_str().unwrap()
    );
    assert!(
        aes_256_gcm_open(
            key.as_bytes(),
            "fdasflkja484",
            "other",
            n["ciphertext"].as_str().unwrap()
        )
        .is_none()
    );
}

#[test]
fn keys_load_from_pem_bare_base64_and_escaped_newlines() {
    let bare: String = ALIPAY_APP
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let escaped = ALIPAY_APP.replace('\n', "\\n");
    let msg = b"gigbao";
    let a = RsaSigner::from_pem(ALIPAY_APP).unwrap().sign(msg).unwrap();
    assert_eq!(RsaSigner::from_pem(&bare).unwrap().sign(msg).unwrap(), a);
    assert_eq!(RsaSigner::from_pem(&escaped).unwrap().sign(msg).unwrap(), a);
    assert!(RsaSigner::from_pem("not a key").is_err());
}
