//! Payments through the running stack and its gateway sandbox, which plays Alipay and WeChat
//! Pay with the test keys in a second implementation (Python): what a client and an operator
//! see from top-up to withdrawal.

use reqwest::Method;
use serde_json::{Value, json};

use crate::orders::{Party, act, buyer, deliver, order, seller, service};
use crate::safety::eventually;
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

/// Pays `order` through `method` in the sandbox: opens Alipay's page, or "scans" WeChat's QR
/// code. Returns our trade number.
async fn pay_through(api: &Api, buyer: &Party, order: &str, method: &str) -> String {
    let a = api
        .post_auth(
            &format!("/orders/{order}/pay"),
            &buyer.access,
            json!({"method": method}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let out = a.body["data"]["out_trade_no"].as_str().unwrap().to_owned();
    let paid: Value = match method {
        "alipay" => reqwest::get(a.body["data"]["payment"]["pay_url"].as_str().unwrap())
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
        _ => reqwest::Client::new()
            .post(format!("{}/wechat/sandbox/pay/{out}", sandbox()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    };
    assert!(
        paid["notify_status"] == 200 || paid["notify_status"] == 204,
        "{paid}"
    );
    let seen = api
        .get_auth(&format!("/orders/{order}"), &buyer.access)
        .await;
    assert_eq!(seen.body["data"]["status"], "in_progress", "{}", seen.body);
    assert_eq!(seen.body["data"]["payment_method"], method);
    out
}

/// The first notification of `kind` that `who` gets (the stream delivers it within seconds).
async fn notified(api: &Api, who: &Party, kind: &str) -> Value {
    eventually(kind, || async {
        let n = api.get_auth("/messaging/notifications", &who.access).await;
        n.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["notification_type"] == kind)
            .cloned()
    })
    .await
}

/// What the sandbox refunded of our trade `out`.
async fn sandbox_refunds(out: &str) -> Vec<Value> {
    reqwest::get(format!("{}/sandbox/refunds/{out}", sandbox()))
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
}

/// The order's refunds once the first one is `status` (the gateway's notification may take a
/// moment).
async fn refunds_when(api: &Api, who: &Party, order: &str, status: &str) -> Vec<Value> {
    eventually("the refund's status", || async {
        let o = api.get_auth(&format!("/orders/{order}"), &who.access).await;
        let refunds = o.body["data"]["refunds"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (refunds.first().map(|r| r["status"] == status) == Some(true)).then_some(refunds)
    })
    .await
}

#[tokio::test]
async fn an_alipay_paid_order_cancelled_before_delivery_goes_back_to_alipay_not_the_wallet() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "0").await;
    let svc = service(&api, &s).await;
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    let out = pay_through(&api, &c, &id, "alipay").await;
    // 买家申请取消，卖家同意：全额原路退回支付宝。
    let ask = act(
        &api,
        &c,
        &id,
        "cancel",
        json!({"reason": "需求有变，不需要了"}),
    )
    .await;
    assert_eq!(ask.status, 200, "{}", ask.body);
    let ok = act(&api, &s, &id, "cancel", json!({"reason": "同意取消"})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["data"]["payment_status"], "refunded");
    let refunds = refunds_when(&api, &c, &id, "succeeded").await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["amount"], "199.00");
    assert_eq!(refunds[0]["method"], "alipay");
    // The gateway shows it: one refund of the whole trade.
    let seen = sandbox_refunds(&out).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0]["gateway"].as_str(), seen[0]["amount"].as_str()),
        (Some("alipay"), Some("199.00"))
    );
    assert_eq!(seen[0]["refund_no"], refunds[0]["refund_no"]);
    // The client's wallet never held the money; the client is told where it went.
    assert_eq!(
        balance(&api, &c.access).await,
        ("0.00".into(), "0.00".into())
    );
    let told = notified(&api, &c, "refund.finished").await;
    assert!(told.to_string().contains("已原路退回您的支付宝"), "{told}");
    // The seller sees the refund on the order too; a stranger does not see the order.
    let theirs = api.get_auth(&format!("/orders/{id}"), &s.access).await;
    assert_eq!(theirs.body["data"]["refunds"][0]["status"], "succeeded");
    let (_, _, other) = api.register("pangguan").await;
    let none = api
        .get_auth(&format!("/orders/{id}"), other["access"].as_str().unwrap())
        .await;
    assert_eq!(none.status, 404);
}

#[tokio::test]
async fn a_wechat_order_split_60_40_refunds_40_to_wechat_and_the_rest_clears_then_withdraws() {
    let api = Api::connect();
    let (username, _, me) = register_freelancer(&api, "fenzhang").await;
    let s = Party {
        access: me["access"].as_str().unwrap().to_owned(),
        id: me["user"]["id"].as_str().unwrap().to_owned(),
    };
    let c = buyer(&api, "0").await;
    let svc = service(&api, &s).await;
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (o["fee_rate_bp"].as_u64(), o["clearance_days"].as_u64()),
        (Some(2000), Some(14))
    );
    let out = pay_through(&api, &c, &id, "wechat").await;
    deliver(&api, &s, &id).await;
    let d = act(
        &api,
        &c,
        &id,
        "dispute",
        json!({"reason": "只完成了一半", "evidence_keys": []}),
    )
    .await;
    assert_eq!(d.status, 200, "{}", d.body);
    // 运营裁决：退买家 40%（79.60），其余 60% 扣佣金后归卖家。
    let (admin, _) = admin_session(&api).await;
    let r = api
        .post_auth(
            &format!("/admin/orders/{id}/resolve"),
            &admin,
            json!({"resolution": "split", "refund_amount": "79.60", "note": "按完成度六四分"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // WeChat Pay answers "processing", then notifies: the order shows it back on WeChat.
    let refunds = refunds_when(&api, &c, &id, "succeeded").await;
    assert_eq!(
        (refunds[0]["amount"].as_str(), refunds[0]["method"].as_str()),
        (Some("79.60"), Some("wechat"))
    );
    let seen = sandbox_refunds(&out).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["amount"], "79.60");
    assert_eq!(seen[0]["notify_status"], 204, "{seen:?}");
    assert_eq!(
        balance(&api, &c.access).await,
        ("0.00".into(), "0.00".into())
    );
    // 119.40 released: commission 23.88, the seller's 95.52 waits out the clearance period.
    let w = api.get_auth("/payments/wallet", &s.access).await;
    assert_eq!(w.body["data"]["balance"], "0.00");
    assert_eq!(w.body["data"]["pending_clearance"], "95.52");
    let clears_at: chrono::DateTime<chrono::Utc> = w.body["data"]["clearances"][0]["clears_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Withdrawals see only what has cleared.
    verify(&api, &s.access, "周立").await;
    let early = api
        .post_auth(
            "/payments/withdrawals",
            &s.access,
            json!({"amount": "90.00", "method": "alipay", "account": "13900139000"}),
        )
        .await;
    assert_eq!(
        early.body["code"], "withdrawal.insufficient_funds",
        "{}",
        early.body
    );
    // The clearance timer, with a later clock: a day early nothing, on time the 95.52.
    let store = gigbao_tests::stack_store().await;
    let (seller_id, order_id) = (s.id.parse().unwrap(), id.parse().unwrap());
    // A wallet-mode order: its clearance asks no gateway.
    let gateways = shared::payments::Gateways::default();
    let fire =
        |at| shared::app::refunds::fire_clearance(&store, &gateways, seller_id, order_id, at);
    assert!(!fire(clears_at - chrono::Duration::days(1)).await.unwrap());
    assert!(
        fire(clears_at + chrono::Duration::seconds(1))
            .await
            .unwrap()
    );
    assert!(!fire(clears_at + chrono::Duration::days(1)).await.unwrap());
    assert_eq!(
        balance(&api, &s.access).await,
        ("95.52".into(), "0.00".into())
    );
    let told = notified(&api, &s, "earnings.cleared").await;
    assert!(told.to_string().contains("95.52"), "{told}");
    let w = api
        .post_auth(
            "/payments/withdrawals",
            &s.access,
            json!({"amount": "90.00", "method": "alipay", "account": "13900139000"}),
        )
        .await;
    assert_eq!(w.status, 201, "{username}: {}", w.body);
    assert_eq!(
        balance(&api, &s.access).await,
        ("5.52".into(), "90.00".into())
    );
}

/// 实名认证 for `access`, approved by an operator.
async fn verify(api: &Api, access: &str, name: &str) {
    let sub = api
        .post_auth(
            "/users/profile/verification",
            access,
            json!({"real_name": name, "id_number": fresh_id_number()}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    let (admin, _) = admin_session(api).await;
    let ok = api
        .post_auth(
            &format!(
                "/admin/verifications/{}/review",
                sub.body["data"]["id"].as_str().unwrap()
            ),
            &admin,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn operators_set_commission_rules_that_freeze_on_orders_placed_after() {
    let api = Api::connect();
    let (admin, _) = admin_session(&api).await;
    let s = seller(&api).await;
    let c = buyer(&api, "1000.00").await;
    let svc = service(&api, &s).await;
    // Only operators see or change them.
    assert_eq!(
        api.get_auth("/admin/fee-rules", &c.access).await.status,
        403
    );
    let put = |body: Value| {
        let admin = admin.clone();
        let api = &api;
        async move {
            api.send(
                api.request(Method::PUT, "/admin/fee-rules")
                    .bearer_auth(&admin)
                    .json(&body),
            )
            .await
        }
    };
    // Bad rules are refused field by field, in both languages.
    let bad = put(json!({"default_rate_bp": 9000, "minimum_fee": "1.00",
        "rules": [{"category": "Logo Design", "rate_bp": 100}]}))
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body["errors"]["default_rate_bp"].is_array(),
        "{}",
        bad.body
    );
    assert!(
        bad.body["errors"]["rules[0].category"].is_array(),
        "{}",
        bad.body
    );
    let before = api.get_auth("/admin/fee-rules", &admin).await;
    assert_eq!(before.status, 200, "{}", before.body);
    // 16 % on logo design (any order placed from now on); a test must leave the shared stack
    // as it found it, so the old rules go back at the end.
    let old = before.body["data"].clone();
    let set = put(
        json!({"default_rate_bp": old["default_rate_bp"], "minimum_fee": old["minimum_fee"],
        "rules": [{"category": "logo-design", "rate_bp": 1600}], "promotions": old["promotions"]}),
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let o = order(&api, &c, &svc, "basic").await;
    // 16 % of 199.00 = 31.84.
    assert_eq!(
        (o["fee_rate_bp"].as_u64(), o["platform_fee"].as_str()),
        (Some(1600), Some("31.84"))
    );
    let restored = put(
        json!({"default_rate_bp": old["default_rate_bp"], "minimum_fee": old["minimum_fee"],
        "rules": old["rules"], "promotions": old["promotions"]}),
    )
    .await;
    assert_eq!(restored.status, 200, "{}", restored.body);
    // The order keeps what it was placed with.
    let seen = api
        .get_auth(&format!("/orders/{}", o["id"].as_str().unwrap()), &c.access)
        .await;
    assert_eq!(seen.body["data"]["fee_rate_bp"], 1600);
    // The change is in the audit log.
    let audit = api
        .get_auth(
            "/admin/audit-log?target_type=fee_rules&target_id=fee_rules",
            &admin,
        )
        .await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    assert!(
        audit.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "fee_rules.update"),
        "{}",
        audit.body
    );
}

/// A split-channel merchant account (电商收付通) is for verified sellers; its request is checked
/// field by field, in both languages, before anything is sent to WeChat Pay.
#[tokio::test]
async fn a_merchant_account_is_for_verified_sellers_and_its_request_is_checked_field_by_field() {
    let api = Api::connect();
    let good = json!({
        "id_card_front": "uploads/documents/x/1", "id_card_back": "uploads/documents/x/2",
        "id_card_valid_from": "2019-06-01", "id_card_valid_until": "长期",
        "account_bank": "工商银行", "bank_address_code": "110000",
        "account_number": "6222020200112233445", "store_name": "小王设计工作室",
        "merchant_shortname": "小王设计"
    });
    let path = "/users/profile/sub-merchant";
    let (_, _, client) = api.register("kehu").await;
    let a = api
        .post_auth(path, client["access"].as_str().unwrap(), good.clone())
        .await;
    assert_eq!(
        (a.status.as_u16(), a.body["code"].as_str()),
        (403, Some("sub_merchant.sellers_only")),
        "{}",
        a.body
    );
    assert_eq!(a.body["message"], "只有卖家可以开通收款商户号");
    let (_, _, me) = register_freelancer(&api, "shanghu").await;
    let access = me["access"].as_str().unwrap();
    let a = api.post_auth(path, access, good).await;
    assert_eq!(
        (a.status.as_u16(), a.body["code"].as_str()),
        (422, Some("sub_merchant.not_verified")),
        "{}",
        a.body
    );
    let a = api
        .send(
            api.request(Method::POST, path)
                .header("authorization", format!("Bearer {access}"))
                .header("accept-language", "en")
                .json(&json!({
                    "id_card_front": "uploads/documents/x/1", "id_card_back": "",
                    "id_card_valid_from": "2019-6-1", "id_card_valid_until": "someday",
                    "account_bank": "工商银行", "bank_address_code": "11",
                    "account_number": "62220202001122334455667788990011", "store_name": "小王",
                    "merchant_shortname": "一个远远超过二十个字符的商户简称用来测试长度限制的"
                })),
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.body["code"].as_str()),
        (422, Some("validation.failed")),
        "{}",
        a.body
    );
    for field in [
        "id_card_back",
        "id_card_valid_from",
        "id_card_valid_until",
        "bank_address_code",
        "account_number",
        "merchant_shortname",
    ] {
        assert!(a.body["errors"][field].is_array(), "{field}: {}", a.body);
    }
    assert!(a.body["errors"]["store_name"].is_null(), "{}", a.body);
    // The profile shows no merchant account until the seller applies.
    let p = api.get_auth("/users/profile", access).await;
    assert!(p.body["data"].get("sub_merchant").is_none(), "{}", p.body);
}

/// The split channel end to end through the stack and the gateway sandbox (which plays WeChat
/// Pay 电商收付通 with the test keys): a verified seller applies with two identity documents,
/// WeChat Pay approves, a buyer's WeChat payment goes into the seller's own account, and when
/// the earnings clear the sandbox splits the commission off and the money leaves our books.
#[tokio::test]
async fn a_verified_seller_onboards_and_their_wechat_order_is_split_by_the_channel_at_clearance() {
    let api = Api::connect();
    let (_, _, me) = register_freelancer(&api, "ershang").await;
    let s = Party {
        access: me["access"].as_str().unwrap().to_owned(),
        id: me["user"]["id"].as_str().unwrap().to_owned(),
    };
    // 实名认证 with the identity card's two sides as documents.
    let mut keys = Vec::new();
    for (side, w) in [("正面", 320), ("反面", 321)] {
        let scan = gigbao_tests::png(w, 200);
        let t = api
            .post_auth(
                "/users/profile/verification/documents",
                &s.access,
                json!({"file_name": format!("身份证{side}.png"), "content_type": "image/png", "content_length": scan.len()}),
            )
            .await;
        assert_eq!(t.status, 201, "{}", t.body);
        assert_eq!(gigbao_tests::put_upload(&t.body["data"], scan).await, 200);
        let file = t.body["data"]["file"]["id"].as_str().unwrap().to_owned();
        eventually("the document is checked", || async {
            let f = api.get_auth(&format!("/files/{file}"), &s.access).await;
            (f.body["data"]["status"] == "ready").then_some(())
        })
        .await;
        keys.push(t.body["data"]["key"].as_str().unwrap().to_owned());
    }
    let sub = api
        .post_auth(
            "/users/profile/verification",
            &s.access,
            json!({"real_name": "王小明", "id_number": fresh_id_number(), "document_keys": keys}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    let (admin, _) = admin_session(&api).await;
    let ok = api
        .post_auth(
            &format!(
                "/admin/verifications/{}/review",
                sub.body["data"]["id"].as_str().unwrap()
            ),
            &admin,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // 申请电商收付通二级商户号。
    let apply = json!({
        "id_card_front": keys[0], "id_card_back": keys[1],
        "id_card_valid_from": "2019-06-01", "id_card_valid_until": "长期",
        "account_bank": "招商银行", "bank_address_code": "440300",
        "account_number": "6214830000112233", "store_name": "小王设计工作室",
        "merchant_shortname": "小王设计"
    });
    let a = api
        .post_auth("/users/profile/sub-merchant", &s.access, apply.clone())
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["data"]["status"], "reviewing");
    let again = api
        .post_auth("/users/profile/sub-merchant", &s.access, apply)
        .await;
    assert_eq!(
        (again.status.as_u16(), again.body["code"].as_str()),
        (409, Some("sub_merchant.exists"))
    );
    assert_eq!(again.body["message"], "你的申请正在处理中");
    // The timers ask WeChat Pay (here with the sandbox's keys and a later clock).
    let store = gigbao_tests::stack_store().await;
    let gateways = shared::payments::Gateways::from_settings(gigbao_tests::payment_keys::settings(
        &format!("{}/wechat", sandbox()),
    ))
    .unwrap();
    let seller_id: shared::domain::UserId = s.id.parse().unwrap();
    for want in ["needs_signing", "active"] {
        let m = store.get_sub_merchant(seller_id).await.unwrap().unwrap();
        shared::app::merchants::check(&store, &gateways, &m, chrono::Utc::now())
            .await
            .unwrap();
        let p = api.get_auth("/users/profile", &s.access).await;
        assert_eq!(p.body["data"]["sub_merchant"]["status"], want, "{}", p.body);
    }
    let p = api.get_auth("/users/profile", &s.access).await;
    assert!(
        p.body["data"]["sub_merchant"]["sub_mchid"].is_string(),
        "{}",
        p.body
    );
    // A buyer pays by WeChat Pay: into the seller's own account.
    let c = buyer(&api, "0").await;
    let svc = service(&api, &s).await;
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    pay_through(&api, &c, &id, "wechat").await;
    deliver(&api, &s, &id).await;
    let done = act(&api, &c, &id, "accept", json!({})).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let w = api.get_auth("/payments/wallet", &s.access).await;
    assert_eq!(w.body["data"]["pending_clearance"], "159.20", "{}", w.body);
    let clears_at: chrono::DateTime<chrono::Utc> = w.body["data"]["clearances"][0]["clears_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let order_id = id.parse().unwrap();
    assert!(
        shared::app::refunds::fire_clearance(
            &store,
            &gateways,
            seller_id,
            order_id,
            clears_at + chrono::Duration::seconds(1)
        )
        .await
        .unwrap()
    );
    // The sandbox split 39.80 to the platform and unfroze the rest; nothing is in our wallet.
    let split: Value = reqwest::get(format!("{}/sandbox/splits/SP{id}", sandbox()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(split["status"], "FINISHED", "{split}");
    assert_eq!(split["receivers"][0]["amount"], 3980, "{split}");
    assert_eq!(
        balance(&api, &s.access).await,
        ("0.00".into(), "0.00".into())
    );
    let lines = api.get_auth("/payments/transactions", &s.access).await;
    assert!(
        lines.body.to_string().contains("split_payout"),
        "{}",
        lines.body
    );
}
