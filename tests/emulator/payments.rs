//! Gateways against MiniStack with real signatures (the committed test keys play Alipay and
//! WeChat Pay), and the gateways' HTTP APIs played by wiremock with exact request contracts.

use chrono::Utc;
use futures_util::future::join_all;
use gigbao_tests::payment_keys::{self as k, setting};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::Deps;
use shared::api;
use shared::app::ledger;
use shared::app::orders::OrderError;
use shared::app::payments::{self as pay, PayWith, PaymentError, Review, Started};
use shared::crypto::PiiVault;
use shared::domain::ledger::{Account, Bucket};
use shared::domain::order::{OrderStatus, PaymentStatus};
use shared::domain::payment::{Channel, Gateway, PayoutMethod, WithdrawalStatus};
use shared::domain::service::Tier;
use shared::domain::{Money, User, UserType};
use shared::entry::respond;
use shared::payments::PayParams;
use shared::payments::keys::{RsaSigner, RsaVerifier, aes_256_gcm_seal};
use shared::store::Store;
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::orders::{Market, market_on};

/// Form fields or headers, in order.
type Form = Vec<(String, String)>;

fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

pub(crate) fn alipay_way() -> PayWith {
    PayWith {
        gateway: Gateway::Alipay,
        channel: Channel::Page,
        openid: None,
    }
}

pub(crate) fn wechat_way() -> PayWith {
    PayWith {
        gateway: Gateway::Wechat,
        channel: Channel::Native,
        openid: None,
    }
}

/// WeChat Pay's signature headers over `body`, by `key` (the platform key unless forging).
pub(crate) fn wechat_signed(body: &str, key: &str, ts: i64) -> Vec<(String, String)> {
    let nonce = ulid::Ulid::new().to_string();
    let sig = RsaSigner::from_pem(key)
        .unwrap()
        .sign(format!("{ts}\n{nonce}\n{body}\n").as_bytes())
        .unwrap();
    vec![
        ("Wechatpay-Timestamp".into(), ts.to_string()),
        ("Wechatpay-Nonce".into(), nonce),
        ("Wechatpay-Signature".into(), sig),
        ("Wechatpay-Serial".into(), setting("wechat_platform_serial")),
    ]
}

/// A WeChat Pay answer as the gateway signs it.
pub(crate) fn wechat_answer(body: Value) -> ResponseTemplate {
    let text = body.to_string();
    let mut t = ResponseTemplate::new(200).set_body_raw(text.clone(), "application/json");
    for (k, v) in wechat_signed(&text, k::WECHAT_PLATFORM, Utc::now().timestamp()) {
        t = t.insert_header(k.as_str(), v.as_str());
    }
    t
}

/// A test environment: a fresh table and a wiremock server playing both gateways' APIs.
pub(crate) struct Env {
    pub(crate) deps: &'static Deps,
    pub(crate) gateway: MockServer,
}

pub(crate) async fn env_on(store: Store) -> Env {
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/native"))
        .respond_with(wechat_answer(
            json!({"code_url": "weixin://wxpay/bizpayurl?pr=Test123"}),
        ))
        .mount(&gateway)
        .await;
    let deps = gigbao_tests::deps_with_gateways(store, &gateway.uri()).await;
    Env { deps, gateway }
}

pub(crate) async fn env() -> Env {
    env_on(gigbao_tests::fresh_store().await).await
}

impl Env {
    pub(crate) fn store(&self) -> &Store {
        &self.deps.store
    }

    async fn top_up(&self, user: &User, amount: &str, way: PayWith) -> Started {
        pay::top_up(
            self.store(),
            &self.deps.gateways,
            user,
            yuan(amount),
            &way,
            None,
            Utc::now(),
        )
        .await
        .unwrap()
    }

    pub(crate) async fn alipay_callback(&self, form: &[(String, String)]) -> Response<Body> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req: Request = lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://api.gigbao.test/api/v1/payments/callbacks/alipay")
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(Body::Text(body))
            .unwrap();
        respond(self.deps, req, api::payments::callback_alipay).await
    }

    pub(crate) async fn wechat_callback(
        &self,
        headers: &[(String, String)],
        body: &str,
    ) -> Response<Body> {
        let mut b = lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://api.gigbao.test/api/v1/payments/callbacks/wechat")
            .header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(k.as_str(), v.as_str());
        }
        respond(
            self.deps,
            b.body(Body::Text(body.to_owned())).unwrap(),
            api::payments::callback_wechat,
        )
        .await
    }

    async fn balances(&self, user: &User) -> (i64, i64) {
        let b = ledger::wallet(self.store(), user.id).await.unwrap();
        (b.available_fen, b.frozen_fen)
    }

    async fn lines(&self, user: &User) -> usize {
        self.store()
            .ledger_lines(Account::User(user.id), 100, None)
            .await
            .unwrap()
            .items
            .len()
    }
}

/// Alipay's notification for `out_trade_no`, signed with `key`.
pub(crate) fn alipay_form(
    out_trade_no: &str,
    trade_no: &str,
    amount: &str,
    app_id: &str,
    key: &str,
) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("notify_time", "2026-11-24 16:00:03"),
        ("notify_type", "trade_status_sync"),
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786"),
        ("app_id", app_id),
        ("charset", "utf-8"),
        ("version", "1.0"),
        ("sign_type", "RSA2"),
        ("trade_no", trade_no),
        ("out_trade_no", out_trade_no),
        ("total_amount", amount),
        ("receipt_amount", amount),
        ("trade_status", "TRADE_SUCCESS"),
        ("subject", "Gigbao 钱包充值"),
        ("gmt_payment", "2026-11-24 16:00:02"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    let content = shared::payments::alipay::sign_content(
        form.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        true,
    );
    let sign = RsaSigner::from_pem(key)
        .unwrap()
        .sign(content.as_bytes())
        .unwrap();
    form.push(("sign".into(), sign));
    form
}

/// WeChat Pay's notification for `out_trade_no`: headers and body.
pub(crate) fn wechat_notice(
    out_trade_no: &str,
    total_fen: i64,
    mchid: &str,
    ts: i64,
) -> (Vec<(String, String)>, String) {
    let transaction = json!({
        "mchid": mchid, "appid": setting("wechat_appid"), "out_trade_no": out_trade_no,
        "transaction_id": format!("4200{}", ulid::Ulid::new().random() % 1_000_000_000_000),
        "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "success_time": "2026-11-24T16:00:02+08:00", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": total_fen, "payer_total": total_fen, "currency": "CNY", "payer_currency": "CNY"},
    });
    let nonce = "n0nce4Gigbao";
    let body = json!({
        "id": "EV-2026112400000001", "create_time": "2026-11-24T16:00:03+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {
            "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": aes_256_gcm_seal(setting("wechat_apiv3_key").as_bytes(), nonce, "transaction", transaction.to_string().as_bytes()).unwrap(),
            "associated_data": "transaction", "nonce": nonce,
        },
    })
    .to_string();
    (wechat_signed(&body, k::WECHAT_PLATFORM, ts), body)
}

pub(crate) fn plain(resp: &Response<Body>) -> String {
    match resp.body() {
        Body::Text(t) => t.clone(),
        _ => String::new(),
    }
}

pub(crate) fn code(resp: &Response<Body>) -> String {
    serde_json::from_str::<Value>(&plain(resp))
        .map(|v| v["code"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_alipay_notification_credits_once_when_delivered_three_times_and_three_at_once() {
    let e = env().await;
    let user = gigbao_tests::new_user(e.store(), UserType::Client).await;
    let started = e.top_up(&user, "100.00", alipay_way()).await;
    assert!(matches!(started.params, PayParams::Redirect { .. }));
    let form = alipay_form(
        &started.charge.out_trade_no,
        "2026112422001400000000000001",
        "100.00",
        &setting("alipay_app_id"),
        k::ALIPAY_PLATFORM,
    );
    for _ in 0..3 {
        let resp = e.alipay_callback(&form).await;
        assert_eq!(
            (resp.status().as_u16(), plain(&resp)),
            (200, "success".to_owned())
        );
    }
    let answers = join_all((0..3).map(|_| e.alipay_callback(&form))).await;
    assert!(answers.iter().all(|r| plain(r) == "success"));
    assert_eq!(e.balances(&user).await, (10_000, 0));
    assert_eq!(e.lines(&user).await, 1);
}

#[tokio::test]
async fn a_wechat_notification_credits_once_when_delivered_three_times_and_three_at_once() {
    let e = env().await;
    let user = gigbao_tests::new_user(e.store(), UserType::Client).await;
    let started = e.top_up(&user, "88.88", wechat_way()).await;
    assert_eq!(
        started.params,
        PayParams::QrCode {
            code_url: "weixin://wxpay/bizpayurl?pr=Test123".into()
        }
    );
    let (headers, body) = wechat_notice(
        &started.charge.out_trade_no,
        8_888,
        &setting("wechat_mchid"),
        Utc::now().timestamp(),
    );
    for _ in 0..3 {
        assert_eq!(e.wechat_callback(&headers, &body).await.status(), 204);
    }
    let answers = join_all((0..3).map(|_| e.wechat_callback(&headers, &body))).await;
    assert!(answers.iter().all(|r| r.status() == 204));
    assert_eq!(e.balances(&user).await, (8_888, 0));
    assert_eq!(e.lines(&user).await, 1);
}

#[tokio::test]
async fn forged_wrong_amount_other_merchant_unknown_trade_and_stale_notifications_move_nothing() {
    let e = env().await;
    let user = gigbao_tests::new_user(e.store(), UserType::Client).await;
    let ali = e
        .top_up(&user, "100.00", alipay_way())
        .await
        .charge
        .out_trade_no;
    let wx = e
        .top_up(&user, "100.00", wechat_way())
        .await
        .charge
        .out_trade_no;
    let app = setting("alipay_app_id");
    let cases: Vec<(&str, Form, u16, &str)> = vec![
        (
            "forged (signed with our own key)",
            alipay_form(&ali, "T1", "100.00", &app, k::ALIPAY_APP),
            400,
            "payment.invalid_signature",
        ),
        (
            "one fen short",
            alipay_form(&ali, "T2", "99.99", &app, k::ALIPAY_PLATFORM),
            422,
            "payment.amount_mismatch",
        ),
        (
            "one fen over",
            alipay_form(&ali, "T3", "100.01", &app, k::ALIPAY_PLATFORM),
            422,
            "payment.amount_mismatch",
        ),
        (
            "another merchant's app_id",
            alipay_form(&ali, "T4", "100.00", "2021009999999999", k::ALIPAY_PLATFORM),
            400,
            "payment.wrong_merchant",
        ),
        (
            "unknown out_trade_no",
            alipay_form(
                "GB20261124000000NOTOURS000",
                "T5",
                "100.00",
                &app,
                k::ALIPAY_PLATFORM,
            ),
            404,
            "payment.unknown_trade",
        ),
        (
            "the WeChat trade through Alipay",
            alipay_form(&wx, "T6", "100.00", &app, k::ALIPAY_PLATFORM),
            404,
            "payment.unknown_trade",
        ),
    ];
    for (what, form, status, c) in cases {
        let resp = e.alipay_callback(&form).await;
        assert_eq!(
            (resp.status().as_u16(), code(&resp)),
            (status, c.to_owned()),
            "{what}"
        );
        assert_ne!(plain(&resp), "success", "{what}");
    }
    let now = Utc::now().timestamp();
    let mchid = setting("wechat_mchid");
    let (good_headers, good_body) = wechat_notice(&wx, 10_000, &mchid, now);
    let forged = wechat_signed(&good_body, k::WECHAT_MERCHANT, now);
    let stale = wechat_notice(&wx, 10_000, &mchid, now - 301);
    let ahead = wechat_notice(&wx, 10_000, &mchid, now + 301);
    let short = wechat_notice(&wx, 9_999, &mchid, now);
    let other = wechat_notice(&wx, 10_000, "1900009999", now);
    let unknown = wechat_notice("GB20261124000000NOTOURS000", 10_000, &mchid, now);
    let tampered = good_body.replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCESS ");
    let cases: Vec<(&str, Form, String, u16, &str)> = vec![
        (
            "forged signature",
            forged,
            good_body.clone(),
            400,
            "payment.invalid_signature",
        ),
        (
            "body changed after signing",
            good_headers.clone(),
            tampered,
            400,
            "payment.invalid_signature",
        ),
        (
            "stale timestamp",
            stale.0,
            stale.1,
            400,
            "payment.stale_notification",
        ),
        (
            "timestamp from the future",
            ahead.0,
            ahead.1,
            400,
            "payment.stale_notification",
        ),
        (
            "one fen short",
            short.0,
            short.1,
            422,
            "payment.amount_mismatch",
        ),
        (
            "another merchant's mchid",
            other.0,
            other.1,
            400,
            "payment.wrong_merchant",
        ),
        (
            "unknown out_trade_no",
            unknown.0,
            unknown.1,
            404,
            "payment.unknown_trade",
        ),
    ];
    for (what, headers, body, status, c) in cases {
        let resp = e.wechat_callback(&headers, &body).await;
        assert_eq!(
            (resp.status().as_u16(), code(&resp)),
            (status, c.to_owned()),
            "{what}"
        );
    }
    assert_eq!(e.balances(&user).await, (0, 0));
    assert_eq!(e.lines(&user).await, 0);
    for out in [&ali, &wx] {
        let c = e
            .store()
            .get_charge(out, true)
            .await
            .unwrap()
            .unwrap()
            .charge;
        assert_eq!(c.status.as_str(), "pending");
    }
    // And the genuine one still works afterwards.
    assert_eq!(
        e.wechat_callback(&good_headers, &good_body).await.status(),
        204
    );
    assert_eq!(e.balances(&user).await, (10_000, 0));
}

#[tokio::test]
async fn an_order_paid_by_gateway_is_escrowed_once_and_a_second_payment_goes_back_to_its_source() {
    let e = env().await;
    let m: Market = market_on(e.store().clone()).await;
    let order = m.place(Tier::Basic).await;
    let first = pay::pay_order(
        e.store(),
        &e.deps.gateways,
        &m.buyer,
        order.id,
        &alipay_way(),
        None,
        Utc::now(),
    )
    .await
    .unwrap();
    let second = pay::pay_order(
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
    assert_eq!(first.charge.amount, yuan("199.00"));
    // Someone else cannot start paying it.
    let stranger = gigbao_tests::new_user(e.store(), UserType::Client).await;
    let err = pay::pay_order(
        e.store(),
        &e.deps.gateways,
        &stranger,
        order.id,
        &alipay_way(),
        None,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, PaymentError::Order(OrderError::NotFound)),
        "{err:?}"
    );

    let form = alipay_form(
        &first.charge.out_trade_no,
        "2026112422001400000000000009",
        "199.00",
        &setting("alipay_app_id"),
        k::ALIPAY_PLATFORM,
    );
    assert_eq!(plain(&e.alipay_callback(&form).await), "success");
    let paid = e.store().get_order(order.id, true).await.unwrap().unwrap();
    assert_eq!(
        (paid.status, paid.payment_status),
        (OrderStatus::InProgress, PaymentStatus::Paid)
    );
    assert_eq!(paid.payment_method.as_deref(), Some("alipay"));
    assert_eq!(m.balances(&m.buyer).await, (0, 19_900, 0, 0));

    // The payer also paid the WeChat charge: the order cannot take it twice, so it goes back
    // to WeChat Pay (never into the wallet), once however often it is notified.
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .respond_with(wechat_answer(json!({
            "refund_id": "50300000000000000000000000009", "out_refund_no": format!("RL{}", &second.charge.out_trade_no[2..]),
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
    assert_eq!(e.wechat_callback(&h, &b).await.status(), 204);
    assert_eq!(e.wechat_callback(&h, &b).await.status(), 204);
    assert_eq!(m.balances(&m.buyer).await, (0, 19_900, 0, 0));
    let c = e
        .store()
        .get_charge(&second.charge.out_trade_no, true)
        .await
        .unwrap()
        .unwrap()
        .charge;
    assert_eq!(c.status.as_str(), "refunded");
    m.assert_reconciles().await;
}

// ------------------------------------------------------------------------------- withdrawals

fn vault() -> PiiVault {
    PiiVault::new(&secrecy::SecretString::from(
        gigbao_tests::TEST_PII_KEY.to_owned(),
    ))
    .unwrap()
}

fn render(w: &shared::domain::payment::Withdrawal) -> String {
    json!({"id": w.id.to_string()}).to_string()
}

/// A verified freelancer with `amount` available.
async fn earner(e: &Env, amount: &str) -> User {
    let u = gigbao_tests::new_user(e.store(), UserType::Freelancer).await;
    let u = gigbao_tests::verify_user(e.store(), u, "林晓").await;
    ledger::deposit(
        e.store(),
        u.id,
        yuan(amount),
        &ulid::Ulid::new().to_string(),
        Utc::now(),
    )
    .await
    .unwrap();
    u
}

async fn withdraw(
    e: &Env,
    u: &User,
    amount: &str,
    method: PayoutMethod,
    account: &str,
) -> Result<shared::domain::payment::Withdrawal, PaymentError> {
    match pay::request_withdrawal(
        e.store(),
        &vault(),
        u,
        yuan(amount),
        method,
        account,
        None,
        &render,
        Utc::now(),
    )
    .await?
    {
        shared::app::orders::Outcome::Done(w) => Ok(w),
        other => panic!("{other:?}"),
    }
}

async fn admin(e: &Env) -> User {
    gigbao_tests::new_user(e.store(), UserType::Admin).await
}

async fn review(e: &Env, id: shared::domain::WithdrawalId, r: Review) -> pay::Reviewed {
    pay::review_withdrawal(
        e.store(),
        &e.deps.gateways,
        &vault(),
        &admin(e).await,
        id,
        r,
        Utc::now(),
    )
    .await
    .unwrap()
}

async fn platform_totals(store: &Store) -> (i64, i64) {
    let r = ledger::reconcile(store, Utc::now() + chrono::Duration::minutes(5))
        .await
        .unwrap();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.settled_sum_fen, 0);
    let mut revenue = 0;
    let mut clearing = 0;
    for shard in 0..shared::domain::ledger::PLATFORM_SHARDS {
        for (kind, total) in [
            (
                shared::domain::ledger::PlatformAccount::Revenue,
                &mut revenue,
            ),
            (
                shared::domain::ledger::PlatformAccount::Clearing,
                &mut clearing,
            ),
        ] {
            let (b, _) = store
                .balances(Account::Platform(kind, shard), true)
                .await
                .unwrap();
            *total += b.bucket(Bucket::Available);
        }
    }
    (clearing, revenue)
}

#[tokio::test]
async fn withdrawal_rules_each_refuse_without_moving_money() {
    let e = env().await;
    let unverified = gigbao_tests::new_user(e.store(), UserType::Freelancer).await;
    ledger::deposit(
        e.store(),
        unverified.id,
        yuan("500.00"),
        "seed-unverified",
        Utc::now(),
    )
    .await
    .unwrap();
    let err = withdraw(
        &e,
        &unverified,
        "100.00",
        PayoutMethod::Alipay,
        "13800138000",
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PaymentError::VerificationRequired), "{err:?}");

    let u = earner(&e, "500.00").await;
    for (amount, expect) in [("9.99", "TooSmall"), ("10000.01", "TooLarge")] {
        let err = withdraw(&e, &u, amount, PayoutMethod::Alipay, "13800138000")
            .await
            .unwrap_err();
        assert!(format!("{err:?}").contains(expect), "{amount}: {err:?}");
    }
    let err = withdraw(&e, &u, "500.01", PayoutMethod::Bank, "6222020200112233445")
        .await
        .unwrap_err();
    assert!(matches!(err, PaymentError::InsufficientFunds), "{err:?}");
    assert_eq!(e.balances(&u).await, (50_000, 0));
    assert_eq!(e.balances(&unverified).await, (50_000, 0));
    // The whole available balance can be withdrawn; then nothing more.
    let w = withdraw(&e, &u, "500.00", PayoutMethod::Bank, "6222020200112233445")
        .await
        .unwrap();
    assert_eq!((w.fee, w.net), (yuan("10.00"), yuan("490.00")));
    assert_eq!(e.balances(&u).await, (0, 50_000));
    assert!(matches!(
        withdraw(&e, &u, "10.00", PayoutMethod::Bank, "6222020200112233445").await,
        Err(PaymentError::InsufficientFunds)
    ));
}

#[tokio::test]
async fn rejection_returns_every_fen_and_a_bank_approval_posts_net_and_fee() {
    let e = env().await;
    let u = earner(&e, "1000.00").await;
    let a = withdraw(&e, &u, "300.00", PayoutMethod::Bank, "6222020200112233445")
        .await
        .unwrap();
    let b = withdraw(&e, &u, "123.45", PayoutMethod::Bank, "6222020200112233445")
        .await
        .unwrap();
    assert_eq!(e.balances(&u).await, (57_655, 42_345));
    let r = review(
        &e,
        a.id,
        Review::Reject {
            reason: "账户信息有误".into(),
        },
    )
    .await;
    assert_eq!(r.withdrawal.status, WithdrawalStatus::Rejected);
    assert_eq!(e.balances(&u).await, (87_655, 12_345));
    let p = review(&e, b.id, Review::Approve).await;
    assert_eq!(p.withdrawal.status, WithdrawalStatus::Paid);
    // 123.45: fee 2.47, net 120.98.
    assert_eq!(e.balances(&u).await, (87_655, 0));
    let (clearing, revenue) = platform_totals(e.store()).await;
    assert_eq!(revenue, 247);
    assert_eq!(clearing, -100_000 + 12_098);
    // Reviewed ones cannot be reviewed again.
    let err = pay::review_withdrawal(
        e.store(),
        &e.deps.gateways,
        &vault(),
        &admin(&e).await,
        a.id,
        Review::Approve,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PaymentError::Withdrawal(_)), "{err:?}");
}

/// Alipay's transfer answer, signed by "Alipay" (or not).
fn alipay_transfer_answer(node: Value, signed: bool) -> ResponseTemplate {
    let text = node.to_string();
    let sign = RsaSigner::from_pem(k::ALIPAY_PLATFORM)
        .unwrap()
        .sign(text.as_bytes())
        .unwrap();
    let body = if signed {
        format!("{{\"alipay_fund_trans_uni_transfer_response\":{text},\"sign\":\"{sign}\"}}")
    } else {
        format!("{{\"alipay_fund_trans_uni_transfer_response\":{text}}}")
    };
    ResponseTemplate::new(200).set_body_raw(body, "application/json;charset=utf-8")
}

#[tokio::test]
async fn an_alipay_payout_request_is_signed_form_with_the_payee_checked_and_posts_on_success() {
    let e = env().await;
    let u = earner(&e, "500.00").await;
    let w = withdraw(&e, &u, "200.00", PayoutMethod::Alipay, "138 0013 8000")
        .await
        .unwrap();
    assert_eq!(w.account_masked, "138****8000");
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .respond_with(alipay_transfer_answer(json!({"code": "10000", "msg": "Success", "out_biz_no": w.id.to_string(), "order_id": "20261124110070000006040050105202", "status": "SUCCESS", "trans_date": "2026-11-24 16:10:00"}), true))
        .expect(1)
        .mount(&e.gateway)
        .await;
    let r = review(&e, w.id, Review::Approve).await;
    assert_eq!(r.withdrawal.status, WithdrawalStatus::Paid);
    assert_eq!(
        r.withdrawal.payout_ref.as_deref(),
        Some("20261124110070000006040050105202")
    );
    assert_eq!(e.balances(&u).await, (30_000, 0));
    let (clearing, revenue) = platform_totals(e.store()).await;
    assert_eq!((clearing, revenue), (-50_000 + 19_600, 400));

    // The request, exactly: a form with the common parameters, biz_content and our RSA2 sign.
    let reqs = e.gateway.received_requests().await.unwrap();
    let req = reqs.iter().find(|r| r.url.path() == "/gateway.do").unwrap();
    assert_eq!(
        req.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::BTreeMap<String, String> = url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect();
    let keys: Vec<&str> = form.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "app_id",
            "biz_content",
            "charset",
            "format",
            "method",
            "sign",
            "sign_type",
            "timestamp",
            "version"
        ]
    );
    assert_eq!(form["method"], "alipay.fund.trans.uni.transfer");
    assert_eq!(form["app_id"], setting("alipay_app_id"));
    let biz: Value = serde_json::from_str(&form["biz_content"]).unwrap();
    assert_eq!(
        biz,
        json!({
            "out_biz_no": w.id.to_string(), "trans_amount": "196.00", "product_code": "TRANS_ACCOUNT_NO_PWD",
            "biz_scene": "DIRECT_TRANSFER", "order_title": "Gigbao 提现", "remark": "Gigbao 提现",
            "payee_info": {"identity": "13800138000", "identity_type": "ALIPAY_LOGON_ID", "name": "林晓"},
        })
    );
    let content = shared::payments::alipay::sign_content(
        form.iter().map(|(a, b)| (a.as_str(), b.as_str())),
        false,
    );
    assert!(
        RsaVerifier::from_pem(k::ALIPAY_APP_PUB)
            .unwrap()
            .verify(content.as_bytes(), &form["sign"]),
        "{content}"
    );
}

#[tokio::test]
async fn a_refused_payout_returns_the_money_and_an_unsigned_answer_changes_nothing() {
    let e = env().await;
    let u = earner(&e, "500.00").await;
    let w = withdraw(&e, &u, "100.00", PayoutMethod::Alipay, "13800138000")
        .await
        .unwrap();
    // An answer without Alipay's signature proves nothing: the withdrawal stays processing.
    let unsigned = Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .respond_with(alipay_transfer_answer(json!({"code": "40004", "msg": "Business Failed", "sub_code": "PAYEE_NOT_EXIST", "sub_msg": "收款账号不存在"}), false))
        .mount_as_scoped(&e.gateway)
        .await;
    let r = review(&e, w.id, Review::Approve).await;
    assert_eq!(r.withdrawal.status, WithdrawalStatus::Processing);
    assert!(r.gateway_note.is_some());
    assert_eq!(e.balances(&u).await, (40_000, 10_000));
    drop(unsigned);
    // Approved again, Alipay's signed refusal returns the money.
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .respond_with(alipay_transfer_answer(json!({"code": "40004", "msg": "Business Failed", "sub_code": "PAYEE_NOT_EXIST", "sub_msg": "收款账号不存在"}), true))
        .mount(&e.gateway)
        .await;
    let r = review(&e, w.id, Review::Approve).await;
    assert_eq!(r.withdrawal.status, WithdrawalStatus::Failed);
    assert!(
        r.withdrawal
            .reason
            .as_deref()
            .unwrap()
            .contains("PAYEE_NOT_EXIST")
    );
    assert_eq!(e.balances(&u).await, (50_000, 0));
    platform_totals(e.store()).await;
}

#[tokio::test]
async fn a_wechat_payout_sends_the_exact_transfer_bill_and_encrypts_the_name_from_2000() {
    let e = env().await;
    let u = earner(&e, "5000.00").await;
    let small = withdraw(
        &e,
        &u,
        "100.00",
        PayoutMethod::Wechat,
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    )
    .await
    .unwrap();
    let large = withdraw(
        &e,
        &u,
        "3000.00",
        PayoutMethod::Wechat,
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    )
    .await
    .unwrap();
    for w in [&small, &large] {
        Mock::given(method("POST"))
            .and(path("/v3/fund-app/mch-transfer/transfer-bills"))
            .and(header_exists("authorization"))
            .and(wiremock::matchers::body_partial_json(json!({"out_bill_no": w.id.to_string()})))
            .respond_with(wechat_answer(json!({"out_bill_no": w.id.to_string(), "transfer_bill_no": format!("1330000{}", w.id), "create_time": "2026-11-24T16:10:00+08:00", "state": "SUCCESS"})))
            .expect(1)
            .mount(&e.gateway)
            .await;
        assert_eq!(
            review(&e, w.id, Review::Approve).await.withdrawal.status,
            WithdrawalStatus::Paid
        );
    }
    assert_eq!(e.balances(&u).await, (190_000, 0));
    let reqs = e.gateway.received_requests().await.unwrap();
    let bills: Vec<_> = reqs
        .iter()
        .filter(|r| r.url.path() == "/v3/fund-app/mch-transfer/transfer-bills")
        .collect();
    assert_eq!(bills.len(), 2);
    let merchant = RsaVerifier::from_pem(k::WECHAT_MERCHANT_PUB).unwrap();
    for req in &bills {
        let body = std::str::from_utf8(&req.body).unwrap();
        let auth = req.headers["authorization"].to_str().unwrap();
        let fields: std::collections::HashMap<&str, &str> = auth
            .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
            .unwrap()
            .split(',')
            .map(|kv| {
                let (a, b) = kv.split_once('=').unwrap();
                (a, b.trim_matches('"'))
            })
            .collect();
        assert_eq!(fields["mchid"], setting("wechat_mchid"));
        assert_eq!(fields["serial_no"], setting("wechat_merchant_serial"));
        let message = format!(
            "POST\n/v3/fund-app/mch-transfer/transfer-bills\n{}\n{}\n{body}\n",
            fields["timestamp"], fields["nonce_str"]
        );
        assert!(merchant.verify(message.as_bytes(), fields["signature"]));
    }
    let small_body: Value = serde_json::from_slice(&bills[0].body).unwrap();
    assert_eq!(
        small_body,
        json!({
            "appid": setting("wechat_appid"), "out_bill_no": small.id.to_string(),
            "transfer_scene_id": setting("wechat_transfer_scene_id"), "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            "transfer_amount": 9_800, "transfer_remark": "Gigbao 提现",
            "transfer_scene_report_infos": [
                {"info_type": "岗位类型", "info_content": "自由职业者"},
                {"info_type": "报酬说明", "info_content": "平台收入提现"},
            ],
        })
    );
    assert!(bills[0].headers.get("wechatpay-serial").is_none());
    // 3000.00 − 50.00 = 2950.00 ≥ 2000: the name travels encrypted to WeChat Pay's key.
    let large_body: Value = serde_json::from_slice(&bills[1].body).unwrap();
    assert_eq!(large_body["transfer_amount"], 295_000);
    assert_eq!(
        bills[1].headers["wechatpay-serial"],
        setting("wechat_platform_serial").as_str()
    );
    let sealed = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        large_body["user_name"].as_str().unwrap(),
    )
    .unwrap();
    let der = shared::payments::keys::der_of(k::WECHAT_PLATFORM).unwrap();
    let key = aws_lc_rs::rsa::OaepPrivateDecryptingKey::new(
        aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(&der).unwrap(),
    )
    .unwrap();
    let mut out = vec![0u8; key.min_output_size()];
    let name = key
        .decrypt(&aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1, &sealed, &mut out, None)
        .unwrap();
    assert_eq!(std::str::from_utf8(name).unwrap(), "林晓");
    platform_totals(e.store()).await;
}

#[tokio::test]
async fn a_wechat_native_prepay_request_is_exact_and_its_answer_must_be_signed() {
    let e = env().await;
    let user = gigbao_tests::new_user(e.store(), UserType::Client).await;
    let started = e.top_up(&user, "66.60", wechat_way()).await;
    let reqs = e.gateway.received_requests().await.unwrap();
    let req = reqs
        .iter()
        .find(|r| r.url.path() == "/v3/pay/transactions/native")
        .unwrap();
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    let expires = shared::payments::china(started.charge.expires_at)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    assert_eq!(
        body,
        json!({
            "appid": setting("wechat_appid"), "mchid": setting("wechat_mchid"), "description": "Gigbao 钱包充值",
            "out_trade_no": started.charge.out_trade_no, "time_expire": expires,
            "notify_url": "https://api.gigbao.test/api/v1/payments/callbacks/wechat",
            "amount": {"total": 6_660, "currency": "CNY"},
        })
    );
    assert!(expires.ends_with("+08:00"));
    assert_eq!(req.headers["accept"], "application/json");

    // An answer signed by someone else is not believed.
    let e2 = env().await;
    e2.gateway.reset().await;
    let text = json!({"code_url": "weixin://wxpay/bizpayurl?pr=Evil"}).to_string();
    let mut t = ResponseTemplate::new(200).set_body_raw(text.clone(), "application/json");
    for (a, b) in wechat_signed(&text, k::WECHAT_MERCHANT, Utc::now().timestamp()) {
        t = t.insert_header(a.as_str(), b.as_str());
    }
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/native"))
        .respond_with(t)
        .mount(&e2.gateway)
        .await;
    let err = pay::top_up(
        e2.store(),
        &e2.deps.gateways,
        &user,
        yuan("1.00"),
        &wechat_way(),
        None,
        Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            PaymentError::Gateway(shared::payments::GatewayError::Unverified(_))
        ),
        "{err:?}"
    );
}
