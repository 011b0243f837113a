//! Payments through the running stack and its gateway sandbox, which plays Alipay and WeChat
//! Pay with the test keys in a second implementation (Python): what a client and an operator
//! see from top-up to withdrawal.

use serde_json::{Value, json};

use crate::{Api, admin_session, fresh_id_number, register_freelancer};

fn sandbox() -> String {
    gigbao_tests::env("GIGBAO_SANDBOX_URL")
}

async fn balance(api: &Api, access: &str) -> (String, String) {
    let w = api.get_auth("/payments/wallet", access).await;
    assert_eq!(w.status, 200, "{}", w.body);
    (
        w.body["data"]["balance"].as_str().unwrap().to_owned(),
        w.body["data"]["frozen_balance"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

#[tokio::test]
async fn a_client_tops_up_with_alipay_and_wechat_through_the_sandbox() {
    let api = Api::connect();
    let methods = api.get("/payments/methods").await;
    assert_eq!(methods.status, 200);
    let names: Vec<&str> = methods.body["data"]["order_payment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["wallet", "alipay", "wechat"]);

    let (_, _, me) = api.register("payer").await;
    let access = me["access"].as_str().unwrap();
    // Alipay: the client opens pay_url; the sandbox checks our signature, pays, notifies.
    let a = api
        .post_auth(
            "/payments/topups",
            access,
            json!({"amount": "100.00", "method": "alipay"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let pay_url = a.body["data"]["payment"]["pay_url"].as_str().unwrap();
    assert!(pay_url.starts_with(&sandbox()), "{pay_url}");
    let paid: Value = reqwest::get(pay_url).await.unwrap().json().await.unwrap();
    assert_eq!(paid["paid"], true, "{paid}");
    assert_eq!(paid["notify_answer"], "success");
    assert_eq!(
        balance(&api, access).await,
        ("100.00".into(), "0.00".into())
    );
    // WeChat Native: a code_url; the "payer scans" in the sandbox.
    let w = api
        .post_auth(
            "/payments/topups",
            access,
            json!({"amount": "50.50", "method": "wechat"}),
        )
        .await;
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!(w.body["data"]["payment"]["kind"], "qr_code");
    let out = w.body["data"]["out_trade_no"].as_str().unwrap();
    let paid: Value = reqwest::Client::new()
        .post(format!("{}/wechat/sandbox/pay/{out}", sandbox()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["notify_status"], 204, "{paid}");
    assert_eq!(
        balance(&api, access).await,
        ("150.50".into(), "0.00".into())
    );
    // Statement lines say what happened, in both languages.
    let lines = api.get_auth("/payments/transactions", access).await;
    assert_eq!(lines.body["data"]["items"][0]["description_zh"], "充值");
    // Bad input is a 4xx envelope.
    for (body, field) in [
        (json!({"amount": "0.50", "method": "alipay"}), "amount"),
        (json!({"amount": "1.001", "method": "alipay"}), "amount"),
        (json!({"amount": "10.00", "method": "paypal"}), "method"),
        (
            json!({"amount": "10.00", "method": "wechat", "channel": "jsapi"}),
            "openid",
        ),
    ] {
        let bad = api
            .post_auth("/payments/topups", access, body.clone())
            .await;
        assert!(bad.status.is_client_error(), "{body}: {}", bad.body);
        assert!(
            bad.body["errors"][field].is_array() || bad.body["code"] == "topup.amount_out_of_range",
            "{body}: {}",
            bad.body
        );
    }
}

#[tokio::test]
async fn a_verified_freelancer_withdraws_and_an_operator_pays_it_out_through_the_sandbox() {
    let api = Api::connect();
    let (username, _, me) = register_freelancer(&api, "earner").await;
    let access = me["access"].as_str().unwrap();
    let store = gigbao_tests::stack_store().await;
    let user_id: shared::domain::UserId = me["user"]["id"].as_str().unwrap().parse().unwrap();
    shared::app::ledger::deposit(
        &store,
        user_id,
        "500.00".parse().unwrap(),
        &format!("test:{username}"),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    // Not verified yet: refused, nothing frozen.
    let body = json!({"amount": "200.00", "method": "alipay", "account": "13800138000"});
    let no = api
        .post_auth("/payments/withdrawals", access, body.clone())
        .await;
    assert_eq!(
        (no.status.as_u16(), no.body["code"].as_str()),
        (403, Some("withdrawal.verification_required"))
    );
    assert_eq!(
        balance(&api, access).await,
        ("500.00".into(), "0.00".into())
    );
    // 实名认证, approved by an operator.
    let sub = api
        .post_auth(
            "/users/profile/verification",
            access,
            json!({"real_name": "林晓", "id_number": fresh_id_number()}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    let (admin, _) = admin_session(&api).await;
    let vid = sub.body["data"]["id"].as_str().unwrap();
    let ok = api
        .post_auth(
            &format!("/admin/verifications/{vid}/review"),
            &admin,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Limits.
    let small = api
        .post_auth(
            "/payments/withdrawals",
            access,
            json!({"amount": "9.99", "method": "alipay", "account": "13800138000"}),
        )
        .await;
    assert_eq!(small.body["code"], "withdrawal.amount_too_small");
    // A real request freezes the amount.
    let w = api.post_auth("/payments/withdrawals", access, body).await;
    assert_eq!(w.status, 201, "{}", w.body);
    assert_eq!(w.body["data"]["fee"], "4.00");
    assert_eq!(w.body["data"]["net_amount"], "196.00");
    assert_eq!(w.body["data"]["account"], "138****8000");
    assert_eq!(
        balance(&api, access).await,
        ("300.00".into(), "200.00".into())
    );
    let wid = w.body["data"]["id"].as_str().unwrap();
    // Only operators review; the owner sees it in their list.
    let mine = api.get_auth("/payments/withdrawals", access).await;
    assert_eq!(mine.body["data"]["items"][0]["id"], wid);
    let not_admin = api
        .post_auth(
            &format!("/admin/withdrawals/{wid}/review"),
            access,
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(not_admin.status, 403);
    let paid = api
        .post_auth(
            &format!("/admin/withdrawals/{wid}/review"),
            &admin,
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["data"]["status"], "paid", "{}", paid.body);
    assert_eq!(
        balance(&api, access).await,
        ("300.00".into(), "0.00".into())
    );
    let again = api
        .post_auth(
            &format!("/admin/withdrawals/{wid}/review"),
            &admin,
            json!({"action": "reject", "reason": "重复"}),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.body["code"].as_str()),
        (409, Some("withdrawal.invalid_transition"))
    );
    let other = api.get_auth("/payments/withdrawals", &admin).await;
    assert!(
        other.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != wid)
    );
}
