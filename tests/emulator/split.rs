//! The split channel (微信支付 电商收付通) against MiniStack, with wiremock playing WeChat Pay's
//! platform-merchant APIs under their published request and answer formats: a seller onboards
//! as a sub-merchant, an order is paid into their account, refunded from the frozen money or
//! split at clearance, and the ledger follows every step exactly.

use chrono::{Duration, Utc};
use gigbao_tests::payment_keys::{self as k, setting};
use serde_json::json;
use shared::app::files::{self, UploadCommand};
use shared::app::{ledger, merchants, orders, payments as pay};
use shared::domain::file::Purpose;
use shared::domain::ledger::{Account, Bucket, MovementKind};
use shared::domain::order::{OrderStatus, Resolution};
use shared::domain::refund::RefundStatus;
use shared::domain::service::Tier;
use shared::domain::split::SubMerchantStatus;
use shared::domain::{Money, Phone, User, UserType};
use shared::files::Files;
use shared::payments::PayParams;
use shared::payments::keys::aes_256_gcm_seal;
use shared::workers::order_timers::run_once;
use wiremock::matchers::{body_string_contains, header_exists, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::orders::{Market, market_on};
use crate::payments::{Env, env, wechat_answer, wechat_signed, wechat_way};

const SUB_MCHID: &str = "1900000109";
const TRANSACTION: &str = "4200000000202612040000000001";

/// A small PNG: what a phone photo of an identity card stands for here.
fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 40, image::Rgb([200, 180, 160]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The seller of `m` with a phone, 实名认证 approved with two identity card images as its
/// documents (uploaded and checked through the file pipeline on `files`): the upload keys.
async fn verified_seller(e: &Env, m: &Market, files: &Files) -> (User, [String; 2]) {
    let store = e.store();
    let mut keys = Vec::new();
    for side in ["front", "back"] {
        let bytes = png();
        let (f, _) = files::start_document_upload(
            store,
            files,
            &m.seller,
            UploadCommand {
                purpose: Purpose::Document,
                file_name: format!("id-{side}.png"),
                content_type: "image/png".into(),
                content_length: bytes.len() as u64,
            },
            Utc::now(),
        )
        .await
        .unwrap();
        let key = files::upload_key(&f);
        files.put(&key, bytes, "image/png").await.unwrap();
        files::process_upload(e.deps.channels(), files, &key, Utc::now())
            .await
            .unwrap();
        keys.push(key);
    }
    let seller = store.get_user(m.seller.id).await.unwrap().unwrap();
    let mut with_phone = seller.clone();
    with_phone.phone = Some(Phone::parse("13800138000").unwrap());
    with_phone.version += 1;
    assert!(
        store
            .replace_user(&with_phone, seller.version)
            .await
            .unwrap()
    );
    // The verification names the two documents.
    let vault = shared::crypto::PiiVault::new(&secrecy::SecretString::from(
        gigbao_tests::TEST_PII_KEY.to_owned(),
    ))
    .unwrap();
    let summary = shared::app::verification::submit(
        store,
        &vault,
        with_phone,
        shared::app::verification::Submission {
            real_name: shared::domain::RealName::parse("王小明").unwrap(),
            id_number: shared::domain::IdNumber::parse(&gigbao_tests::fresh_id_number()).unwrap(),
            document_keys: keys.clone(),
        },
        Utc::now(),
    )
    .await
    .unwrap();
    shared::app::verification::review(
        store,
        shared::domain::UserId::new(),
        summary.id.parse().unwrap(),
        shared::app::verification::Decision::Approve,
        Utc::now(),
    )
    .await
    .unwrap();
    let seller = store.get_user(m.seller.id).await.unwrap().unwrap();
    (seller, [keys[0].clone(), keys[1].clone()])
}

fn application(keys: &[String; 2]) -> merchants::Application {
    merchants::Application {
        id_card_front: keys[0].clone(),
        id_card_back: keys[1].clone(),
        id_card_valid_from: "2019-06-01".into(),
        id_card_valid_until: "2039-06-01".into(),
        account_bank: "工商银行".into(),
        bank_address_code: "110000".into(),
        account_number: "6222020200112233445".into(),
        store_name: "小王设计工作室".into(),
        merchant_shortname: "小王设计".into(),
        store_url: "https://gigbao.test/users/x".into(),
    }
}

/// WeChat Pay's partner payment notification for `out_trade_no` into `sub_mchid`.
fn partner_notice(
    out_trade_no: &str,
    total: i64,
    sub_mchid: &str,
) -> (Vec<(String, String)>, String) {
    let transaction = json!({
        "sp_appid": setting("wechat_appid"), "sp_mchid": setting("wechat_mchid"),
        "sub_mchid": sub_mchid, "out_trade_no": out_trade_no, "transaction_id": TRANSACTION,
        "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "bank_type": "OTHERS", "success_time": "2026-12-04T16:00:02+08:00",
        "payer": {"sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
    });
    let nonce = "sp1itN0nce01";
    let body = json!({
        "id": "EV-2026120400000021", "create_time": "2026-12-04T16:00:03+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {
            "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": aes_256_gcm_seal(setting("wechat_apiv3_key").as_bytes(), nonce, "transaction", transaction.to_string().as_bytes()).unwrap(),
            "associated_data": "transaction", "nonce": nonce,
        },
    })
    .to_string();
    (
        wechat_signed(&body, k::WECHAT_PLATFORM, Utc::now().timestamp()),
        body,
    )
}

/// Onboards the market's seller through wiremock (media, application, two state queries) and
/// returns them active.
async fn onboarded(e: &Env, m: &Market) -> User {
    let files = Files::new(
        e.deps.s3().clone(),
        gigbao_tests::fresh_bucket(e.deps.s3()).await,
    );
    let (seller, keys) = verified_seller(e, m, &files).await;
    Mock::given(method("POST"))
        .and(path("/v3/merchant/media/upload"))
        .and(header_exists("authorization"))
        // Multipart with image bytes: the signed JSON part, then the file.
        .and(|r: &wiremock::Request| {
            let has = |needle: &[u8]| r.body.windows(needle.len()).any(|w| w == needle);
            has(b"name=\"meta\"") && has(b"\"sha256\":") && has(b"\x89PNG")
        })
        .respond_with(wechat_answer(
            json!({"media_id": "H1ihR9JW9xVxW-0eC6Gi6aHxk"}),
        ))
        .expect(2)
        .mount(&e.gateway)
        .await;
    let no = format!("GBSM{}", seller.id);
    Mock::given(method("POST"))
        .and(path("/v3/ecommerce/applyments/"))
        .and(header_exists("wechatpay-serial"))
        .and(body_string_contains(format!("\"out_request_no\":\"{no}\"")))
        .and(body_string_contains("\"organization_type\":\"2401\""))
        .and(body_string_contains(
            "\"id_card_copy\":\"H1ihR9JW9xVxW-0eC6Gi6aHxk\"",
        ))
        .and(body_string_contains("\"bank_account_type\":\"75\""))
        .respond_with(wechat_answer(
            json!({"applyment_id": 2000002124775691u64, "out_request_no": no}),
        ))
        .expect(1)
        .mount(&e.gateway)
        .await;
    let vault = e.deps.pii.as_ref().unwrap();
    let applied = merchants::apply(
        e.store(),
        vault,
        (&files, &e.deps.gateways),
        &seller,
        application(&keys),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(applied.status, SubMerchantStatus::Reviewing);
    assert_eq!(applied.applyment_id.as_deref(), Some("2000002124775691"));
    // Applying again while WeChat Pay decides is refused.
    assert!(matches!(
        merchants::apply(
            e.store(),
            vault,
            (&files, &e.deps.gateways),
            &seller,
            application(&keys),
            Utc::now()
        )
        .await,
        Err(merchants::MerchantError::Exists(
            SubMerchantStatus::Reviewing
        ))
    ));
    // The timers ask: first "sign the agreement", then active with its merchant number.
    let state = format!("/v3/ecommerce/applyments/out-request-no/{no}");
    Mock::given(method("GET"))
        .and(path(state.clone()))
        .respond_with(wechat_answer(json!({
            "applyment_state": "NEED_SIGN", "applyment_state_desc": "待签约",
            "sign_url": "https://pay.weixin.qq.com/public/apply4ec_sign/s?applymentId=2000002124775691",
            "sign_state": "UNSIGNED", "applyment_id": 2000002124775691u64, "out_request_no": no,
            "audit_detail": []})))
        .up_to_n_times(1)
        .mount(&e.gateway)
        .await;
    Mock::given(method("GET"))
        .and(path(state))
        .respond_with(wechat_answer(json!({
            "applyment_state": "FINISH", "applyment_state_desc": "完成", "sub_mchid": SUB_MCHID,
            "sign_state": "SIGNED", "applyment_id": 2000002124775691u64, "out_request_no": no,
            "audit_detail": []})))
        .mount(&e.gateway)
        .await;
    let later = Utc::now() + Duration::minutes(11);
    run_once(e.store(), &e.deps.gateways, "t1", later)
        .await
        .unwrap();
    let signing = e
        .store()
        .get_sub_merchant(seller.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signing.status, SubMerchantStatus::NeedsSigning);
    assert!(signing.sign_url.is_some());
    run_once(
        e.store(),
        &e.deps.gateways,
        "t2",
        later + Duration::minutes(11),
    )
    .await
    .unwrap();
    let active = e
        .store()
        .get_sub_merchant(seller.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.active(), Some(SUB_MCHID));
    assert_eq!(active.next_check_at, None);
    seller
}

/// An order of the market paid by WeChat Pay into the seller's sub-merchant account.
async fn paid_into_sub_merchant(e: &Env, m: &Market) -> (shared::domain::order::Order, String) {
    Mock::given(method("POST"))
        .and(path("/v3/pay/partner/transactions/native"))
        .and(body_string_contains(format!(
            "\"sub_mchid\":\"{SUB_MCHID}\""
        )))
        .and(body_string_contains(
            "\"settle_info\":{\"profit_sharing\":true}",
        ))
        .and(body_string_contains(format!(
            "\"sp_mchid\":\"{}\"",
            setting("wechat_mchid")
        )))
        .respond_with(wechat_answer(
            json!({"code_url": "weixin://wxpay/bizpayurl?pr=Split01"}),
        ))
        .mount(&e.gateway)
        .await;
    let order = m.place(Tier::Basic).await;
    let started = pay::pay_order(
        e.store(),
        &e.deps.gateways,
        &m.buyer,
        order.id,
        &wechat_way(),
        None,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(started.charge.sub_mchid.as_deref(), Some(SUB_MCHID));
    assert!(
        matches!(started.params, PayParams::QrCode { ref code_url } if code_url.ends_with("Split01"))
    );
    let out = started.charge.out_trade_no.clone();
    // A notification naming another sub-merchant moves nothing.
    let (h, b) = partner_notice(&out, 19_900, "1900000999");
    assert_eq!(e.wechat_callback(&h, &b).await.status(), 404);
    let (h, b) = partner_notice(&out, 19_900, SUB_MCHID);
    assert_eq!(e.wechat_callback(&h, &b).await.status(), 204);
    let o = e.store().get_order(order.id, true).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::InProgress);
    let split = o.split.clone().expect("paid through the split channel");
    assert_eq!(
        (split.sub_mchid.as_str(), split.transaction_id.as_str()),
        (SUB_MCHID, TRANSACTION)
    );
    (o, out)
}

#[tokio::test]
async fn an_onboarded_sellers_order_is_paid_into_their_account_and_split_once_when_it_clears() {
    let e = env().await;
    let m = market_on(e.store().clone()).await;
    onboarded(&e, &m).await;
    let (o, _) = paid_into_sub_merchant(&e, &m).await;
    // Delivered and accepted: 199.00 released, 39.80 commission, 159.20 pending clearance.
    orders::deliver(
        e.store(),
        &m.seller,
        o.id,
        "初稿".into(),
        vec![],
        Utc::now(),
    )
    .await
    .unwrap();
    orders::accept(e.store(), &m.buyer, o.id, Utc::now())
        .await
        .unwrap();
    let s = ledger::wallet(e.store(), m.seller.id).await.unwrap();
    assert_eq!((s.available_fen, s.pending_fen), (0, 15_920));
    // At clearance the split instruction goes: the commission to the platform, finish = true.
    let no = format!("SP{}", o.id);
    Mock::given(method("GET"))
        .and(path("/v3/ecommerce/profitsharing/orders"))
        .and(query_param("out_order_no", no.as_str()))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "RESOURCE_NOT_EXISTS", "message": "记录不存在"})),
        )
        .up_to_n_times(1)
        .mount(&e.gateway)
        .await;
    let finished = json!({
        "sub_mchid": SUB_MCHID, "transaction_id": TRANSACTION, "out_order_no": no,
        "order_id": "3008450740201411110007820472", "status": "FINISHED",
        "receivers": [{"type": "MERCHANT_ID", "receiver_account": setting("wechat_mchid"), "amount": 3_980,
                       "description": "平台佣金", "result": "SUCCESS", "detail_id": "36011111111111111111111",
                       "finish_time": "2026-12-19T10:00:00+08:00"}]});
    Mock::given(method("POST"))
        .and(path("/v3/ecommerce/profitsharing/orders"))
        .and(body_string_contains(format!(
            "\"transaction_id\":\"{TRANSACTION}\""
        )))
        .and(body_string_contains("\"amount\":3980"))
        .and(body_string_contains("\"finish\":true"))
        .and(body_string_contains(format!(
            "\"receiver_account\":\"{}\"",
            setting("wechat_mchid")
        )))
        .respond_with(wechat_answer(finished.clone()))
        .expect(1)
        .mount(&e.gateway)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/ecommerce/profitsharing/orders"))
        .respond_with(wechat_answer(finished))
        .mount(&e.gateway)
        .await;
    let early = run_once(
        e.store(),
        &e.deps.gateways,
        "t3",
        Utc::now() + Duration::days(13),
    )
    .await
    .unwrap();
    assert_eq!(early.cleared, 0);
    let at = Utc::now() + Duration::days(15);
    let cleared = run_once(e.store(), &e.deps.gateways, "t4", at)
        .await
        .unwrap();
    assert_eq!(cleared.cleared, 1);
    // Once: a second run finds nothing to clear.
    let again = run_once(e.store(), &e.deps.gateways, "t5", at + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(again.cleared, 0);
    // The seller's earnings left through the channel (their own account), not into the wallet.
    let s = ledger::wallet(e.store(), m.seller.id).await.unwrap();
    assert_eq!((s.available_fen, s.pending_fen), (0, 0));
    let lines = e
        .store()
        .ledger_lines(Account::User(m.seller.id), 10, None)
        .await
        .unwrap()
        .items;
    assert!(lines.iter().any(|l| l.kind == MovementKind::SplitPayout
        && l.bucket == Bucket::PendingClearance
        && l.amount == -15_920));
    m.assert_reconciles().await;
}

#[tokio::test]
async fn a_split_channel_order_split_60_40_refunds_from_the_sellers_frozen_money() {
    let e = env().await;
    let m = market_on(e.store().clone()).await;
    onboarded(&e, &m).await;
    let (o, out) = paid_into_sub_merchant(&e, &m).await;
    let no = format!("RF{}", &o.order_number[3..]);
    Mock::given(method("POST"))
        .and(path("/v3/ecommerce/refunds/apply"))
        .and(body_string_contains(format!("\"sub_mchid\":\"{SUB_MCHID}\"")))
        .and(body_string_contains(format!("\"out_refund_no\":\"{no}\"")))
        .and(body_string_contains("\"amount\":{\"currency\":\"CNY\",\"refund\":7960,\"total\":19900}"))
        .respond_with(wechat_answer(json!({
            "refund_id": "50300000000000000000000000010", "out_refund_no": no,
            "create_time": "2026-12-04T18:00:00+08:00",
            "amount": {"refund": 7960, "payer_refund": 7960, "discount_refund": 0, "currency": "CNY"}})))
        .expect(1)
        .mount(&e.gateway)
        .await;
    orders::dispute(
        e.store(),
        &m.buyer,
        o.id,
        "只完成了一部分".into(),
        vec![],
        Utc::now(),
    )
    .await
    .unwrap();
    let admin = gigbao_tests::new_user(e.store(), UserType::Admin).await;
    orders::resolve(
        e.store(),
        &e.deps.gateways,
        &admin,
        o.id,
        Resolution::Split,
        Some(Money::from_fen(7_960)),
        "六四分".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.sub_mchid.as_deref()),
        (RefundStatus::Processing, Some(SUB_MCHID))
    );
    // The platform's notification (sp_mchid, sub_mchid) settles it, once however often sent.
    let resource = json!({
        "sp_mchid": setting("wechat_mchid"), "sub_mchid": SUB_MCHID, "out_trade_no": out,
        "transaction_id": TRANSACTION, "out_refund_no": no, "refund_id": "50300000000000000000000000010",
        "refund_status": "SUCCESS", "success_time": "2026-12-04T18:00:05+08:00",
        "user_received_account": "支付用户零钱",
        "amount": {"total": 19_900, "refund": 7_960, "payer_total": 19_900, "payer_refund": 7_960}});
    let nonce = "sp1itR3fund1";
    let body = json!({
        "id": "EV-2026120400000022", "create_time": "2026-12-04T18:00:06+08:00",
        "resource_type": "encrypt-resource", "event_type": "REFUND.SUCCESS", "summary": "退款成功",
        "resource": {"original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": aes_256_gcm_seal(setting("wechat_apiv3_key").as_bytes(), nonce, "refund", resource.to_string().as_bytes()).unwrap(),
            "associated_data": "refund", "nonce": nonce}})
    .to_string();
    for _ in 0..3 {
        let h = wechat_signed(&body, k::WECHAT_PLATFORM, Utc::now().timestamp());
        let mut b = lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://api.gigbao.test/api/v1/payments/callbacks/wechat/refund")
            .header("content-type", "application/json");
        for (k, v) in &h {
            b = b.header(k.as_str(), v.as_str());
        }
        let req: lambda_http::Request = b.body(lambda_http::Body::Text(body.clone())).unwrap();
        let resp =
            shared::entry::respond(e.deps, req, shared::api::payments::callback_wechat_refund)
                .await;
        assert_eq!(resp.status(), 204);
    }
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!(r.status, RefundStatus::Succeeded);
    // 119.40 released: 23.88 commission at clearance, 95.52 pending for the seller.
    let s = ledger::wallet(e.store(), m.seller.id).await.unwrap();
    assert_eq!((s.available_fen, s.pending_fen), (0, 9_552));
    assert_eq!(m.balances(&m.buyer).await.0, 0);
    let c = e
        .store()
        .get_clearance(m.seller.id, o.id)
        .await
        .unwrap()
        .unwrap();
    let split = c.split.expect("cleared through the channel");
    assert_eq!(split.commission, Money::from_fen(2_388));
    m.assert_reconciles().await;
}

#[tokio::test]
async fn a_seller_without_an_active_sub_merchant_is_paid_in_wallet_mode_and_a_partner_notice_for_it_is_refused()
 {
    let e = env().await;
    let m = market_on(e.store().clone()).await;
    let order = m.place(Tier::Basic).await;
    let started = pay::pay_order(
        e.store(),
        &e.deps.gateways,
        &m.buyer,
        order.id,
        &wechat_way(),
        None,
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(started.charge.sub_mchid, None);
    // A split-channel notification for an ordinary charge does not pay it.
    let (h, b) = partner_notice(&started.charge.out_trade_no, 19_900, SUB_MCHID);
    assert_eq!(e.wechat_callback(&h, &b).await.status(), 404);
    let o = e.store().get_order(order.id, true).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Pending);
}
