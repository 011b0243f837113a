//! Refunds to the original payment, clearance and commission rules, against MiniStack with
//! wiremock playing the gateways' refund APIs (request and answer formats as published).

use chrono::{Duration, Utc};
use futures_util::future::join_all;
use gigbao_tests::payment_keys::{self as k, setting};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::api;
use shared::app::{admin as admin_app, ledger, orders, payments as pay, refunds};
use shared::domain::fee::{FeeRule, FeeRules, Promotion};
use shared::domain::ledger::{Account, Bucket, MovementKind};
use shared::domain::order::Order;
use shared::domain::order::{OrderStatus, Resolution};
use shared::domain::payment::Gateway;
use shared::domain::refund::RefundStatus;
use shared::domain::service::Tier;
use shared::domain::{Money, UserType};
use shared::entry::respond;
use shared::payments::keys::{RsaSigner, aes_256_gcm_seal};
use shared::workers::order_timers::run_once;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::orders::{Market, market_on};
use crate::payments::{
    Env, alipay_form, alipay_way, env, plain, wechat_answer, wechat_notice, wechat_signed,
    wechat_way,
};

fn fen(n: i64) -> Money {
    Money::from_fen(n)
}

/// An Alipay API answer: `node` under `<method>_response`, signed by "Alipay".
fn alipay_answer(method: &str, node: Value) -> ResponseTemplate {
    let text = node.to_string();
    let sign = RsaSigner::from_pem(k::ALIPAY_PLATFORM)
        .unwrap()
        .sign(text.as_bytes())
        .unwrap();
    let name = format!("{}_response", method.replace('.', "_"));
    ResponseTemplate::new(200).set_body_raw(
        format!("{{\"{name}\":{text},\"sign\":\"{sign}\"}}"),
        "application/json;charset=utf-8",
    )
}

/// An order of the market paid through `gateway` (notified and applied).
async fn paid_by(e: &Env, m: &Market, gateway: Gateway) -> (Order, String) {
    let order = m.place(Tier::Basic).await;
    let way = match gateway {
        Gateway::Alipay => alipay_way(),
        Gateway::Wechat => wechat_way(),
    };
    let started = pay::pay_order(
        e.store(),
        &e.deps.gateways,
        &m.buyer,
        order.id,
        &way,
        None,
        Utc::now(),
    )
    .await
    .unwrap();
    let out = started.charge.out_trade_no.clone();
    match gateway {
        Gateway::Alipay => {
            let form = alipay_form(
                &out,
                "2026120422001400000000000001",
                "199.00",
                &setting("alipay_app_id"),
                k::ALIPAY_PLATFORM,
            );
            assert_eq!(plain(&e.alipay_callback(&form).await), "success");
        }
        Gateway::Wechat => {
            let (h, b) = wechat_notice(
                &out,
                19_900,
                &setting("wechat_mchid"),
                Utc::now().timestamp(),
            );
            assert_eq!(e.wechat_callback(&h, &b).await.status(), 204);
        }
    }
    let o = e.store().get_order(order.id, true).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::InProgress);
    assert_eq!(o.payment_reference.as_deref(), Some(out.as_str()));
    (o, out)
}

/// A fresh market with one order paid through `gateway`: the environment, the market, the
/// order, our trade number and the refund number the order's refund will have.
struct Paid {
    e: Env,
    m: Market,
    o: Order,
    out: String,
    no: String,
}

async fn paid(gateway: Gateway) -> Paid {
    let e = env().await;
    let m = market_on(e.store().clone()).await;
    let (o, out) = paid_by(&e, &m, gateway).await;
    let no = format!("RF{}", &o.order_number[3..]);
    Paid { e, m, o, out, no }
}

/// WeChat Pay's refund notification for our refund `no`, with `status`, signed by `key`.
fn refund_notice(
    out_trade_no: &str,
    no: &str,
    refund_fen: i64,
    status: &str,
    mchid: &str,
    key: &str,
) -> (Vec<(String, String)>, String) {
    let resource = json!({
        "mchid": mchid, "out_trade_no": out_trade_no, "transaction_id": "4200000000000000000000000001",
        "out_refund_no": no, "refund_id": "50300000000000000000000000001", "refund_status": status,
        "success_time": "2026-12-04T18:00:00+08:00", "user_received_account": "支付用户零钱",
        "amount": {"total": 19_900, "refund": refund_fen, "payer_total": 19_900, "payer_refund": refund_fen},
    });
    let nonce = "r3fundN0nce1";
    let body = json!({
        "id": "EV-2026120400000009", "create_time": "2026-12-04T18:00:01+08:00",
        "resource_type": "encrypt-resource", "event_type": format!("REFUND.{status}"), "summary": "退款",
        "resource": {
            "original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": aes_256_gcm_seal(setting("wechat_apiv3_key").as_bytes(), nonce, "refund", resource.to_string().as_bytes()).unwrap(),
            "associated_data": "refund", "nonce": nonce,
        },
    })
    .to_string();
    (wechat_signed(&body, key, Utc::now().timestamp()), body)
}

async fn refund_callback(e: &Env, headers: &[(String, String)], body: &str) -> Response<Body> {
    let mut b = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://api.gigbao.test/api/v1/payments/callbacks/wechat/refund")
        .header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let req: Request = b.body(Body::Text(body.to_owned())).unwrap();
    respond(e.deps, req, api::payments::callback_wechat_refund).await
}

async fn cancel_both(e: &Env, m: &Market, o: &Order) -> Order {
    orders::cancel(
        e.store(),
        &e.deps.gateways,
        &m.buyer,
        o.id,
        "不需要了".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    orders::cancel(
        e.store(),
        &e.deps.gateways,
        &m.seller,
        o.id,
        "同意取消".into(),
        Utc::now(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_alipay_paid_order_cancelled_goes_back_to_alipay_once_and_not_to_the_wallet() {
    let Paid { e, m, o, out, no } = paid(Gateway::Alipay).await;
    // Alipay's refund API, as published: a signed form POST; the answer signed over its text.
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(body_string_contains("method=alipay.trade.refund"))
        .and(body_string_contains(
            format!("%22out_request_no%22%3A%22{no}%22").as_str(),
        ))
        .and(body_string_contains("%22refund_amount%22%3A%22199.00%22"))
        .and(body_string_contains(
            format!("%22out_trade_no%22%3A%22{out}%22").as_str(),
        ))
        .respond_with(alipay_answer(
            "alipay.trade.refund",
            json!({
            "code": "10000", "msg": "Success", "trade_no": "2026120422001400000000000001",
            "out_trade_no": out, "buyer_logon_id": "159****5620", "fund_change": "Y",
            "refund_fee": "199.00", "gmt_refund_pay": "2026-12-04 18:00:00"}),
        ))
        .expect(1)
        .mount(&e.gateway)
        .await;
    let cancelled = cancel_both(&e, &m, &o).await;
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    let refunds = e.store().order_refunds(o.id).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        (
            refunds[0].status,
            refunds[0].amount,
            refunds[0].refund_no.as_str()
        ),
        (RefundStatus::Succeeded, fen(19_900), no.as_str())
    );
    // The client's wallet never held it: nothing available, nothing frozen.
    assert_eq!(m.balances(&m.buyer).await, (0, 0, 0, 0));
    // Pushing again (a retry, the timers) asks nobody and moves nothing.
    let again = refunds::push(e.store(), &e.deps.gateways, &no, Utc::now())
        .await
        .unwrap();
    assert_eq!(again.status, RefundStatus::Succeeded);
    m.assert_reconciles().await;
}

#[tokio::test]
async fn an_unanswered_wechat_refund_is_asked_again_first_by_query_then_settled_by_one_notification()
 {
    let Paid { e, m, o, out, no } = paid(Gateway::Wechat).await;
    // The first request meets WeChat Pay's own trouble: nothing is known, nothing moves.
    let first = Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"code": "SYSTEM_ERROR", "message": "系统错误"})),
        )
        .expect(1)
        .mount_as_scoped(&e.gateway)
        .await;
    let cancelled = cancel_both(&e, &m, &o).await;
    drop(first);
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!((r.status, r.attempts), (RefundStatus::Pending, 1));
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    // The timers ask where it stands first (it may have arrived), then send it: the same
    // out_refund_no, so WeChat Pay would refund it once however often it is sent.
    Mock::given(method("GET"))
        .and(path(format!("/v3/refund/domestic/refunds/{no}")))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})),
        )
        .expect(1)
        .mount(&e.gateway)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .and(body_string_contains(format!("\"out_refund_no\":\"{no}\"").as_str()))
        .and(body_string_contains("\"amount\":{\"refund\":19900,\"total\":19900,\"currency\":\"CNY\"}"))
        .and(body_string_contains("callbacks/wechat/refund"))
        .respond_with(wechat_answer(json!({
            "refund_id": "50300000000000000000000000001", "out_refund_no": no, "transaction_id": "4200000000000000000000000001",
            "out_trade_no": out, "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
            "create_time": "2026-12-04T18:00:00+08:00", "status": "PROCESSING",
            "amount": {"total": 19900, "refund": 19900, "payer_total": 19900, "payer_refund": 19900, "settlement_refund": 19900, "settlement_total": 19900, "discount_refund": 0, "currency": "CNY"}})))
        .expect(1)
        .mount(&e.gateway)
        .await;
    // Not due yet (one minute's backoff), then due.
    run_once(e.store(), &e.deps.gateways, "early", Utc::now())
        .await
        .unwrap();
    let report = run_once(
        e.store(),
        &e.deps.gateways,
        "later",
        Utc::now() + Duration::minutes(3),
    )
    .await
    .unwrap();
    assert_eq!((report.refunds_asked, report.refunds_settled), (1, 0));
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!(r.status, RefundStatus::Processing);

    // A forged notification (signed by another key) is refused and changes nothing.
    let (h, b) = refund_notice(
        &out,
        &no,
        19_900,
        "SUCCESS",
        &setting("wechat_mchid"),
        k::WECHAT_MERCHANT,
    );
    assert_eq!(refund_callback(&e, &h, &b).await.status(), 400);
    // Another merchant's, or for a different amount: refused.
    let (h, b) = refund_notice(
        &out,
        &no,
        19_900,
        "SUCCESS",
        "1900000000",
        k::WECHAT_PLATFORM,
    );
    assert_eq!(refund_callback(&e, &h, &b).await.status(), 400);
    let (h, b) = refund_notice(
        &out,
        &no,
        100,
        "SUCCESS",
        &setting("wechat_mchid"),
        k::WECHAT_PLATFORM,
    );
    assert_eq!(refund_callback(&e, &h, &b).await.status(), 422);
    assert_eq!(
        e.store().get_refund(&no).await.unwrap().unwrap().status,
        RefundStatus::Processing
    );
    // The genuine one, three times and then three at once: one change.
    let (h, b) = refund_notice(
        &out,
        &no,
        19_900,
        "SUCCESS",
        &setting("wechat_mchid"),
        k::WECHAT_PLATFORM,
    );
    for _ in 0..3 {
        assert_eq!(refund_callback(&e, &h, &b).await.status(), 204);
    }
    let at_once = join_all((0..3).map(|_| refund_callback(&e, &h, &b))).await;
    assert!(at_once.iter().all(|r| r.status() == 204));
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!(r.status, RefundStatus::Succeeded);
    assert_eq!(r.version, 4, "created, attempted, processing, succeeded");
    assert_eq!(m.balances(&m.buyer).await, (0, 0, 0, 0));
    // An unknown refund number is a 404 (WeChat Pay retries, an operator looks).
    let (h, b) = refund_notice(
        &out,
        "RF-not-ours",
        19_900,
        "SUCCESS",
        &setting("wechat_mchid"),
        k::WECHAT_PLATFORM,
    );
    assert_eq!(refund_callback(&e, &h, &b).await.status(), 404);
    m.assert_reconciles().await;
}

#[tokio::test]
async fn a_refund_closed_by_the_gateway_is_credited_to_the_wallet_once_even_at_once() {
    let Paid { e, m, o, out, no } = paid(Gateway::Wechat).await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .respond_with(wechat_answer(json!({
            "refund_id": "50300000000000000000000000002", "out_refund_no": no, "out_trade_no": out,
            "status": "PROCESSING", "amount": {"total": 19900, "refund": 19900}})))
        .mount(&e.gateway)
        .await;
    cancel_both(&e, &m, &o).await;
    // The payer's account was closed: WeChat Pay closes the refund, three times at once.
    let (h, b) = refund_notice(
        &out,
        &no,
        19_900,
        "CLOSED",
        &setting("wechat_mchid"),
        k::WECHAT_PLATFORM,
    );
    let at_once = join_all((0..3).map(|_| refund_callback(&e, &h, &b))).await;
    assert!(
        at_once.iter().all(|r| r.status() == 204),
        "{:?}",
        at_once.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!(r.status, RefundStatus::Credited);
    assert_eq!(m.balances(&m.buyer).await, (19_900, 0, 0, 0));
    let lines = ledger::lines(e.store(), m.buyer.id, 100, None)
        .await
        .unwrap()
        .items;
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.kind == MovementKind::RefundCredited)
            .count(),
        1
    );
    m.assert_reconciles().await;
}

#[tokio::test]
async fn a_payment_arriving_for_an_order_that_cannot_take_it_goes_back_to_its_source() {
    let e = env().await;
    let m = market_on(e.store().clone()).await;
    paid_by(&e, &m, Gateway::Alipay).await;
    // A second order: the client starts paying by WeChat Pay...
    let placed = m.place(Tier::Basic).await;
    let second = pay::pay_order(
        e.store(),
        &e.deps.gateways,
        &m.buyer,
        placed.id,
        &wechat_way(),
        None,
        Utc::now(),
    )
    .await
    .unwrap();
    // ...cancels it unpaid; then the WeChat payment arrives.
    orders::cancel(
        e.store(),
        &e.deps.gateways,
        &m.buyer,
        placed.id,
        "换了".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    let no = format!("RL{}", &second.charge.out_trade_no[2..]);
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .and(body_string_contains(
            format!("\"out_refund_no\":\"{no}\"").as_str(),
        ))
        .respond_with(wechat_answer(json!({
            "refund_id": "50300000000000000000000000003", "out_refund_no": no,
            "out_trade_no": second.charge.out_trade_no, "status": "SUCCESS",
            "amount": {"total": 19900, "refund": 19900}})))
        .expect(1)
        .mount(&e.gateway)
        .await;
    let (h, b) = wechat_notice(
        &second.charge.out_trade_no,
        19_900,
        &setting("wechat_mchid"),
        Utc::now().timestamp(),
    );
    for _ in 0..3 {
        assert_eq!(e.wechat_callback(&h, &b).await.status(), 204);
    }
    let c = e
        .store()
        .get_charge(&second.charge.out_trade_no, true)
        .await
        .unwrap()
        .unwrap()
        .charge;
    assert_eq!(c.status.as_str(), "refunded");
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.order_id),
        (RefundStatus::Succeeded, Some(placed.id))
    );
    // Nothing entered the wallet: the first order's escrow is all the client has.
    assert_eq!(m.balances(&m.buyer).await, (0, 19_900, 0, 0));
    m.assert_reconciles().await;
}

#[tokio::test]
async fn earnings_wait_out_their_clearance_then_clear_once_through_the_timers() {
    let m = market_on(gigbao_tests::fresh_store().await).await;
    m.fund("199.00").await;
    let o = m.delivered().await;
    let done = orders::accept(&m.store, &m.buyer, o.id, Utc::now())
        .await
        .unwrap();
    assert_eq!(done.clearance_days, 14);
    let w = ledger::wallet(&m.store, m.seller.id).await.unwrap();
    assert_eq!(
        (w.available_fen, w.pending_fen, w.total_earned_fen),
        (0, 15_920, 15_920)
    );
    let (_, pending) = ledger::wallet_with_clearances(&m.store, m.seller.id)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let clears_at = pending[0].clears_at;
    assert!(clears_at > Utc::now() + Duration::days(13));
    // The books agree while it waits: the pending bucket is what waits to clear.
    m.assert_reconciles().await;
    // A day early: nothing clears. On time: it clears, once, however many runs.
    let early = run_once(
        &m.store,
        gigbao_tests::no_gateways(),
        "a",
        clears_at - Duration::days(1),
    )
    .await
    .unwrap();
    assert_eq!(early.cleared, 0);
    let on_time = run_once(
        &m.store,
        gigbao_tests::no_gateways(),
        "b",
        clears_at + Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(on_time.cleared, 1);
    let (x, y) = tokio::join!(
        run_once(
            &m.store,
            gigbao_tests::no_gateways(),
            "c",
            clears_at + Duration::minutes(2)
        ),
        run_once(
            &m.store,
            gigbao_tests::no_gateways(),
            "d",
            clears_at + Duration::minutes(2)
        ),
    );
    assert_eq!(x.unwrap().cleared + y.unwrap().cleared, 0);
    let w = ledger::wallet(&m.store, m.seller.id).await.unwrap();
    assert_eq!((w.available_fen, w.pending_fen), (15_920, 0));
    let (_, pending) = ledger::wallet_with_clearances(&m.store, m.seller.id)
        .await
        .unwrap();
    assert!(pending.is_empty());
    m.assert_reconciles().await;
}

#[tokio::test]
async fn a_dispute_split_60_40_on_a_wechat_order_refunds_40_to_wechat_and_clears_60_less_the_fee() {
    let Paid { e, m, o, out, no } = paid(Gateway::Wechat).await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .and(body_string_contains(
            "\"amount\":{\"refund\":7960,\"total\":19900,\"currency\":\"CNY\"}",
        ))
        .respond_with(wechat_answer(json!({
            "refund_id": "50300000000000000000000000004", "out_refund_no": no, "out_trade_no": out,
            "status": "SUCCESS", "amount": {"total": 19900, "refund": 7960}})))
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
        Some(fen(7_960)),
        "六四分".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!((r.status, r.amount), (RefundStatus::Succeeded, fen(7_960)));
    // 119.40 released: fee 23.88, earnings 95.52 pending clearance; the client's wallet is untouched.
    let s = ledger::wallet(e.store(), m.seller.id).await.unwrap();
    assert_eq!((s.available_fen, s.pending_fen), (0, 9_552));
    assert_eq!(m.balances(&m.buyer).await, (0, 0, 0, 11_940));
    let clear = run_once(
        e.store(),
        &e.deps.gateways,
        "t",
        Utc::now() + Duration::days(15),
    )
    .await
    .unwrap();
    assert_eq!(clear.cleared, 1);
    let s = ledger::wallet(e.store(), m.seller.id).await.unwrap();
    assert_eq!((s.available_fen, s.pending_fen), (9_552, 0));
    m.assert_reconciles().await;
}

#[tokio::test]
async fn an_order_freezes_the_commission_in_force_when_placed() {
    let m = market_on(gigbao_tests::fresh_store().await).await;
    let admin = gigbao_tests::new_user(&m.store, UserType::Admin).await;
    let now = Utc::now();
    let rules = FeeRules {
        default_rate_bp: 2000,
        minimum_fee: fen(500),
        rules: vec![FeeRule {
            category: Some("logo-design".into()),
            seller_level: None,
            rate_bp: 1500,
        }],
        promotions: vec![Promotion {
            name: "开业".into(),
            category: None,
            seller_level: None,
            rate_bp: 1000,
            starts_at: now + Duration::days(1),
            ends_at: now + Duration::days(2),
        }],
    };
    let saved = admin_app::set_fee_rules(&m.store, admin.id, rules.clone(), now)
        .await
        .unwrap();
    assert_eq!(saved.version, 1);
    m.fund("199.00").await;
    let o = m.delivered().await;
    // 15 % of 199.00 = 29.85.
    assert_eq!(
        (o.fee.rate_bp, o.platform_fee, o.freelancer_earnings),
        (1500, fen(2_985), fen(16_915))
    );
    // The rules change after the order was placed: it keeps its terms.
    let dearer = FeeRules {
        default_rate_bp: 3000,
        rules: vec![],
        ..rules
    };
    admin_app::set_fee_rules(&m.store, admin.id, dearer, now)
        .await
        .unwrap();
    orders::accept(&m.store, &m.buyer, o.id, Utc::now())
        .await
        .unwrap();
    let s = ledger::wallet(&m.store, m.seller.id).await.unwrap();
    assert_eq!(s.pending_fen, 16_915);
    // A stale writer is refused; invalid rules name their fields.
    let stale = admin_app::fee_rules(&m.store).await.unwrap();
    assert_eq!(stale.version, 2);
    let bad = FeeRules {
        default_rate_bp: 9000,
        ..FeeRules::default()
    };
    assert!(
        matches!(admin_app::set_fee_rules(&m.store, admin.id, bad, now).await, Err(admin_app::FeeRulesError::Invalid(p)) if p[0].field == "default_rate_bp")
    );
    let revenue: i64 = m
        .store
        .movement(&format!("release:{}", o.id))
        .await
        .unwrap()
        .unwrap()
        .postings
        .iter()
        .filter(|p| p.bucket == Bucket::Available && matches!(p.account, Account::Platform(..)))
        .map(|p| p.amount_fen)
        .sum();
    assert_eq!(revenue, 2_985);
    m.assert_reconciles().await;
}

#[tokio::test]
async fn alipay_answers_decide_nothing_unless_signed_and_a_signed_refusal_credits_the_wallet() {
    let Paid { e, m, o, out, no } = paid(Gateway::Alipay).await;
    // An answer without Alipay's signature proves nothing: the refund stays pending.
    let unsigned = Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(body_string_contains("method=alipay.trade.refund"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"alipay_trade_refund_response":{"code":"10000","msg":"Success","fund_change":"Y","refund_fee":"199.00"}}"#,
            "application/json;charset=utf-8",
        ))
        .expect(1)
        .mount_as_scoped(&e.gateway)
        .await;
    cancel_both(&e, &m, &o).await;
    drop(unsigned);
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!((r.status, r.attempts), (RefundStatus::Pending, 1));
    assert_eq!(m.balances(&m.buyer).await, (0, 0, 0, 0));
    // Asked again: the query finds nothing under our number, the request is refused for good
    // (the trade was closed), signed: the money goes to the wallet, once.
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(body_string_contains(
            "method=alipay.trade.fastpay.refund.query",
        ))
        .respond_with(alipay_answer(
            "alipay.trade.fastpay.refund.query",
            json!({
            "code": "10000", "msg": "Success", "out_trade_no": out, "out_request_no": no}),
        ))
        .expect(1)
        .mount(&e.gateway)
        .await;
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(body_string_contains("method=alipay.trade.refund"))
        .respond_with(alipay_answer(
            "alipay.trade.refund",
            json!({
            "code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_HAS_CLOSE",
            "sub_msg": "交易已经关闭", "refund_fee": "0.00"}),
        ))
        .expect(1)
        .mount(&e.gateway)
        .await;
    let r = refunds::push(e.store(), &e.deps.gateways, &no, Utc::now())
        .await
        .unwrap();
    assert_eq!(r.status, RefundStatus::Credited);
    assert!(
        r.failure
            .as_deref()
            .unwrap()
            .starts_with("ACQ.TRADE_HAS_CLOSE")
    );
    assert_eq!(m.balances(&m.buyer).await, (19_900, 0, 0, 0));
    // Final: asking again asks nobody and credits nothing more.
    refunds::push(e.store(), &e.deps.gateways, &no, Utc::now())
        .await
        .unwrap();
    assert_eq!(m.balances(&m.buyer).await, (19_900, 0, 0, 0));
    m.assert_reconciles().await;
}

#[tokio::test]
async fn an_alipay_refund_asked_twice_is_confirmed_by_query_not_made_again() {
    let Paid { e, m, o, out, no } = paid(Gateway::Alipay).await;
    // fund_change N: "no money moved in this call" — made before, or not at all: ask.
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(body_string_contains("method=alipay.trade.refund"))
        .respond_with(alipay_answer(
            "alipay.trade.refund",
            json!({
            "code": "10000", "msg": "Success", "trade_no": "2026120422001400000000000001",
            "out_trade_no": out, "fund_change": "N", "refund_fee": "199.00"}),
        ))
        .expect(1)
        .mount(&e.gateway)
        .await;
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(body_string_contains("method=alipay.trade.fastpay.refund.query"))
        .and(body_string_contains(format!("%22out_request_no%22%3A%22{no}%22").as_str()))
        .respond_with(alipay_answer("alipay.trade.fastpay.refund.query", json!({
            "code": "10000", "msg": "Success", "out_trade_no": out, "out_request_no": no,
            "refund_amount": "199.00", "total_amount": "199.00", "refund_status": "REFUND_SUCCESS"})))
        .expect(1)
        .mount(&e.gateway)
        .await;
    cancel_both(&e, &m, &o).await;
    let r = e.store().get_refund(&no).await.unwrap().unwrap();
    assert_eq!(r.status, RefundStatus::Succeeded);
    assert_eq!(m.balances(&m.buyer).await, (0, 0, 0, 0));
    m.assert_reconciles().await;
}
