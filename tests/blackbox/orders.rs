//! Orders and money through the running stack: every path of the lifecycle, with wallets and
//! ledger lines checked to the fen.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Answer, Api, admin_session, is_chinese, register_freelancer};

pub(crate) struct Party {
    pub(crate) access: String,
    pub(crate) id: String,
}

pub(crate) async fn seller(api: &Api) -> Party {
    let (_, _, data) = register_freelancer(api, "maijia").await;
    Party {
        access: data["access"].as_str().unwrap().to_owned(),
        id: data["user"]["id"].as_str().unwrap().to_owned(),
    }
}

/// A client whose wallet holds `fund` (credited the way a top-up would be).
pub(crate) async fn buyer(api: &Api, fund: &str) -> Party {
    let (_, _, data) = api.register("maijia").await;
    let id = data["user"]["id"].as_str().unwrap().to_owned();
    if fund != "0" {
        let store = gigbao_tests::stack_store().await;
        shared::app::ledger::deposit(
            &store,
            id.parse().unwrap(),
            fund.parse().unwrap(),
            &ulid::Ulid::new().to_string(),
            Utc::now(),
        )
        .await
        .unwrap();
    }
    Party {
        access: data["access"].as_str().unwrap().to_owned(),
        id,
    }
}

/// An active service by `seller`: basic 199.00 (2 revisions), standard 399.00.
pub(crate) async fn service(api: &Api, seller: &Party) -> String {
    let a = api
        .post_auth(
            "/services",
            &seller.access,
            json!({
                "title_zh": "专业品牌Logo设计，三天交付",
                "description_zh": "简洁易记的品牌标志设计，提供源文件和品牌规范。",
                "category": "logo-design",
                "packages": {
                    "basic": {"price": "199.00", "description": "1 个方案", "delivery_days": 3, "revisions": 2},
                    "standard": {"price": "399.00", "description": "3 个方案", "delivery_days": 5, "revisions": 3}
                }
            }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["data"]["id"].as_str().unwrap().to_owned();
    let p = api
        .post_auth(
            &format!("/services/{id}/publish"),
            &seller.access,
            json!({}),
        )
        .await;
    assert_eq!(p.body["data"]["status"], "active", "{}", p.body);
    id
}

pub(crate) async fn order(api: &Api, buyer: &Party, service: &str, package: &str) -> Value {
    let a = api
        .post_auth(
            &format!("/services/{service}/order"),
            &buyer.access,
            json!({"package": package, "requirements": "品牌名：云栖茶舍"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"].clone()
}

pub(crate) async fn act(
    api: &Api,
    party: &Party,
    order: &str,
    action: &str,
    body: Value,
) -> Answer {
    api.post_auth(&format!("/orders/{order}/{action}"), &party.access, body)
        .await
}

pub(crate) async fn pay(api: &Api, buyer: &Party, order: &str) -> Value {
    let a = act(api, buyer, order, "pay", json!({"method": "wallet"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["data"].clone()
}

pub(crate) async fn deliver(api: &Api, seller: &Party, order: &str) -> Value {
    let a = act(
        api,
        seller,
        order,
        "deliveries",
        json!({"message": "初稿已完成，请查收", "file_keys": []}),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"].clone()
}

/// (balance, frozen, earned, spent) as strings.
async fn wallet(api: &Api, p: &Party) -> (String, String, String, String) {
    let a = api.get_auth("/payments/wallet", &p.access).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let d = &a.body["data"];
    let s = |k: &str| d[k].as_str().unwrap().to_owned();
    (
        s("balance"),
        s("frozen_balance"),
        s("total_earned"),
        s("total_spent"),
    )
}

/// The caller's ledger lines, newest first, as (type, bucket, amount).
async fn lines(api: &Api, p: &Party) -> Vec<(String, String, String)> {
    let a = api
        .get_auth("/payments/transactions?limit=100", &p.access)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["type"].as_str().unwrap().to_owned(),
                l["bucket"].as_str().unwrap().to_owned(),
                l["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn w(a: &str, f: &str, e: &str, s: &str) -> (String, String, String, String) {
    (a.into(), f.into(), e.into(), s.into())
}

fn l(t: &str, b: &str, a: &str) -> (String, String, String) {
    (t.into(), b.into(), a.into())
}

#[tokio::test]
async fn an_order_goes_from_payment_through_a_revision_to_release_to_the_fen() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "500.00").await;
    let svc = service(&api, &s).await;

    // Placed: the package's terms are copied, the fee split to the fen.
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    assert_eq!(o["status"], "pending");
    assert_eq!(o["payment_status"], "pending");
    assert_eq!(o["total_amount"], "199.00");
    assert_eq!(o["platform_fee"], "39.80");
    assert_eq!(o["freelancer_earnings"], "159.20");
    assert_eq!(o["package"]["revisions"], 2);
    assert_eq!(o["package"]["name_zh"], "基础版");
    assert_eq!(o["client"]["id"], c.id.as_str());
    assert_eq!(o["freelancer"]["id"], s.id.as_str());
    let number = o["order_number"].as_str().unwrap();
    assert!(number.starts_with("ORD") && number.len() == 23, "{number}");
    assert!(o["pay_by"].is_string());

    // Paid from the wallet: the money is frozen, work starts.
    let paid = pay(&api, &c, &id).await;
    assert_eq!(paid["status"], "in_progress");
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(
        wallet(&api, &c).await,
        w("301.00", "199.00", "0.00", "0.00")
    );

    // Delivered, sent back once, delivered again.
    let d = deliver(&api, &s, &id).await;
    assert_eq!(d["order"]["status"], "delivered");
    assert!(d["order"]["auto_complete_at"].is_string());
    let r = act(
        &api,
        &c,
        &id,
        "revisions",
        json!({"message": "颜色再亮一些"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["data"]["order"]["status"], "in_progress");
    assert_eq!(r.body["data"]["order"]["revisions_left"], 1);
    deliver(&api, &s, &id).await;
    let list = api
        .get_auth(&format!("/orders/{id}/deliveries"), &c.access)
        .await;
    assert_eq!(list.body["data"]["items"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["data"]["items"][0]["number"], 2);
    let revs = api
        .get_auth(&format!("/orders/{id}/revisions"), &s.access)
        .await;
    assert_eq!(revs.body["data"]["items"][0]["message"], "颜色再亮一些");

    // Accepted: escrow released once, to the fen.
    let a = act(&api, &c, &id, "accept", json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["data"]["status"], "completed");
    assert!(a.body["data"]["completed_at"].is_string());
    assert_eq!(
        wallet(&api, &c).await,
        w("301.00", "0.00", "0.00", "199.00")
    );
    // The seller's earnings wait out the clearance period (14 days for a new seller).
    assert_eq!(wallet(&api, &s).await, w("0.00", "0.00", "159.20", "0.00"));
    let sw = api.get_auth("/payments/wallet", &s.access).await;
    assert_eq!(sw.body["data"]["pending_clearance"], "159.20");
    assert_eq!(sw.body["data"]["clearances"][0]["order_id"], id.as_str());
    assert_eq!(sw.body["data"]["clearances"][0]["amount"], "159.20");
    assert!(sw.body["data"]["clearances"][0]["clears_at"].is_string());
    assert_eq!(
        lines(&api, &c).await,
        vec![
            l("escrow_release", "frozen", "-199.00"),
            l("escrow_freeze", "frozen", "199.00"),
            l("escrow_freeze", "available", "-199.00"),
            l("deposit", "available", "500.00"),
        ]
    );
    assert_eq!(
        lines(&api, &s).await,
        vec![l("escrow_release", "pending_clearance", "159.20")]
    );
    let store = gigbao_tests::stack_store().await;
    let release = store
        .movement(&format!("release:{id}"))
        .await
        .unwrap()
        .unwrap();
    let postings: Vec<i64> = release.postings.iter().map(|p| p.amount_fen).collect();
    assert_eq!(postings, vec![-19_900, 15_920, 3_980]);

    // Both sides find it in their lists, by status too.
    let mine = api
        .get_auth("/orders?role=client&status=completed", &c.access)
        .await;
    assert_eq!(mine.body["data"]["items"][0]["id"], id.as_str());
    let theirs = api.get_auth("/orders", &s.access).await;
    assert_eq!(theirs.body["data"]["items"][0]["id"], id.as_str());
    let none = api
        .get_auth("/orders?role=client&status=pending", &c.access)
        .await;
    assert_eq!(none.body["data"]["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn cancellations_unpaid_mutual_and_late_refund_exactly() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "1000.00").await;
    let svc = service(&api, &s).await;

    // Unpaid: either side cancels at once, no money moves.
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap();
    let a = act(&api, &s, id, "cancel", json!({"reason": "档期已满"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["data"]["status"], "cancelled");
    assert_eq!(a.body["data"]["payment_status"], "pending");

    // Paid: one side asks, the other confirms, the escrow goes back.
    let o = order(&api, &c, &svc, "standard").await;
    let id = o["id"].as_str().unwrap();
    pay(&api, &c, id).await;
    assert_eq!(
        wallet(&api, &c).await,
        w("601.00", "399.00", "0.00", "0.00")
    );
    let ask = act(&api, &c, id, "cancel", json!({"reason": "需求有变"})).await;
    assert_eq!(ask.status, 200, "{}", ask.body);
    assert_eq!(ask.body["data"]["status"], "in_progress");
    assert_eq!(
        ask.body["data"]["cancellation_request"]["requested_by"],
        "client"
    );
    let again = act(&api, &c, id, "cancel", json!({"reason": "再次"})).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["code"], "order.cancellation_pending");
    let ok = act(&api, &s, id, "cancel", json!({"reason": "同意取消"})).await;
    assert_eq!(ok.body["data"]["status"], "cancelled", "{}", ok.body);
    assert_eq!(ok.body["data"]["payment_status"], "refunded");
    assert_eq!(wallet(&api, &c).await, w("1000.00", "0.00", "0.00", "0.00"));

    // Late: once the deadline has passed (the timers mark it), the client cancels alone.
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    let paid = pay(&api, &c, &id).await;
    let deadline: chrono::DateTime<Utc> =
        paid["delivery_deadline"].as_str().unwrap().parse().unwrap();
    let store = gigbao_tests::stack_store().await;
    let late = shared::app::orders::fire_timer(
        &store,
        id.parse().unwrap(),
        deadline + Duration::minutes(1),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(late.is_late);
    let seen = api.get_auth(&format!("/orders/{id}"), &c.access).await;
    assert_eq!(seen.body["data"]["is_late"], true);
    let gone = act(&api, &c, &id, "cancel", json!({"reason": "超时未交付"})).await;
    assert_eq!(gone.body["data"]["status"], "cancelled", "{}", gone.body);
    assert_eq!(wallet(&api, &c).await, w("1000.00", "0.00", "0.00", "0.00"));
    let refunds = lines(&api, &c)
        .await
        .into_iter()
        .filter(|x| x.0 == "escrow_refund")
        .count();
    assert_eq!(refunds, 4);
}

#[tokio::test]
async fn disputes_settle_by_refund_release_or_split() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "597.00").await;
    let svc = service(&api, &s).await;
    let (admin, _) = admin_session(&api).await;

    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = order(&api, &c, &svc, "basic").await;
        let id = o["id"].as_str().unwrap().to_owned();
        pay(&api, &c, &id).await;
        deliver(&api, &s, &id).await;
        let d = act(
            &api,
            &c,
            &id,
            "dispute",
            json!({"reason": "交付内容与描述不符", "evidence_keys": []}),
        )
        .await;
        assert_eq!(d.status, 200, "{}", d.body);
        assert_eq!(d.body["data"]["status"], "disputed");
        assert_eq!(d.body["data"]["dispute"]["previous_status"], "delivered");
        assert!(d.body["data"]["auto_complete_at"].is_null());
        ids.push(id);
    }
    // A disputed order is frozen for the parties.
    let a = act(&api, &c, &ids[0], "accept", json!({})).await;
    assert_eq!(a.status, 409);
    // Operators see it in their queue.
    let q = api
        .get_auth("/admin/orders?status=disputed&limit=100", &admin)
        .await;
    assert_eq!(q.status, 200, "{}", q.body);
    let queued: Vec<&str> = q.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|id| queued.contains(&id.as_str())));
    // Operators deciding a dispute read what the parties said, read-only and audited.
    let said = act(
        &api,
        &c,
        &ids[0],
        "messages",
        json!({"content": "说好的三个方案只交了一个"}),
    )
    .await;
    assert_eq!(said.status, 201, "{}", said.body);
    let seen = api
        .get_auth(&format!("/orders/{}/messages", ids[0]), &admin)
        .await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(
        seen.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["content"] == "说好的三个方案只交了一个"),
        "{}",
        seen.body
    );
    assert!(seen.body["data"]["conversation"].is_null());
    let write = api
        .post_auth(
            &format!("/orders/{}/messages", ids[0]),
            &admin,
            json!({"content": "运营插话"}),
        )
        .await;
    assert_eq!(write.status, 404, "{}", write.body);
    let audit = api
        .get_auth(
            &format!("/admin/audit-log?target_type=order&target_id={}", ids[0]),
            &admin,
        )
        .await;
    assert!(
        audit.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "order.conversation_read"),
        "{}",
        audit.body
    );
    // Deliveries too; a stranger still sees nothing.
    let deliveries = api
        .get_auth(&format!("/orders/{}/deliveries", ids[0]), &admin)
        .await;
    assert_eq!(deliveries.status, 200, "{}", deliveries.body);
    let (_, _, stranger) = api.register("pangguan").await;
    let none = api
        .get_auth(
            &format!("/orders/{}/messages", ids[0]),
            stranger["access"].as_str().unwrap(),
        )
        .await;
    assert_eq!(none.status, 404);
    // Only operators may settle.
    let no = api
        .post_auth(
            &format!("/admin/orders/{}/resolve", ids[0]),
            &c.access,
            json!({"resolution": "refund", "note": "x"}),
        )
        .await;
    assert_eq!(no.status, 403);

    let resolve = |id: &str, body: Value| {
        let path = format!("/admin/orders/{id}/resolve");
        let admin = admin.clone();
        let api = &api;
        async move { api.post_auth(&path, &admin, body).await }
    };
    // A split must refund more than zero and less than the total.
    let bad = resolve(
        &ids[2],
        json!({"resolution": "split", "refund_amount": "199.00", "note": "x"}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.body["code"], "order.invalid_refund_amount");

    let r = resolve(
        &ids[0],
        json!({"resolution": "refund", "note": "卖家未按要求交付"}),
    )
    .await;
    assert_eq!(r.body["data"]["status"], "cancelled", "{}", r.body);
    assert_eq!(r.body["data"]["payment_status"], "refunded");
    let r = resolve(
        &ids[1],
        json!({"resolution": "release", "note": "交付符合描述"}),
    )
    .await;
    assert_eq!(r.body["data"]["status"], "completed", "{}", r.body);
    let r = resolve(
        &ids[2],
        json!({"resolution": "split", "refund_amount": "99.00", "note": "双方各承担一部分"}),
    )
    .await;
    assert_eq!(r.body["data"]["status"], "completed", "{}", r.body);
    assert_eq!(r.body["data"]["payment_status"], "partially_refunded");
    assert_eq!(r.body["data"]["resolution"]["refund_amount"], "99.00");
    // Settled once: a second decision is a conflict.
    let twice = resolve(&ids[0], json!({"resolution": "release", "note": "改判"})).await;
    assert_eq!(twice.status, 409);

    // Client: 597 − 3×199 + 199 (refund) + 99 (split) = 298.00; spent 199 + 100.
    assert_eq!(
        wallet(&api, &c).await,
        w("298.00", "0.00", "0.00", "299.00")
    );
    // Freelancer: 159.20 (release) + 80.00 (100.00 released, fee 20.00), waiting to clear.
    assert_eq!(wallet(&api, &s).await, w("0.00", "0.00", "239.20", "0.00"));
    let sw = api.get_auth("/payments/wallet", &s.access).await;
    assert_eq!(sw.body["data"]["pending_clearance"], "239.20");
    assert_eq!(sw.body["data"]["clearances"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn timers_cancel_unpaid_and_complete_delivered_orders() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "199.00").await;
    let svc = service(&api, &s).await;
    let store = gigbao_tests::stack_store().await;
    let fire = |id: &str, at: chrono::DateTime<Utc>| {
        let store = store.clone();
        let id = id.parse().unwrap();
        async move {
            shared::app::orders::fire_timer(&store, id, at)
                .await
                .unwrap()
        }
    };

    // Unpaid for 30 minutes: cancelled, and too late to pay.
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    let created: chrono::DateTime<Utc> = o["created_at"].as_str().unwrap().parse().unwrap();
    assert!(fire(&id, created + Duration::minutes(29)).await.is_none());
    let cancelled = fire(&id, created + Duration::minutes(31)).await.unwrap();
    assert_eq!(
        cancelled.status,
        shared::domain::order::OrderStatus::Cancelled
    );
    let p = act(&api, &c, &id, "pay", json!({"method": "wallet"})).await;
    assert_eq!(p.status, 409);
    assert_eq!(wallet(&api, &c).await.0, "199.00");

    // Delivered and left alone for 3 days: completed and paid out.
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    pay(&api, &c, &id).await;
    let d = deliver(&api, &s, &id).await;
    let due: chrono::DateTime<Utc> = d["order"]["auto_complete_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(fire(&id, due - Duration::minutes(1)).await.is_none());
    let done = fire(&id, due + Duration::seconds(1)).await.unwrap();
    assert_eq!(done.status, shared::domain::order::OrderStatus::Completed);
    let seen = api.get_auth(&format!("/orders/{id}"), &s.access).await;
    assert_eq!(seen.body["data"]["last_event"], "order.completed");
    assert_eq!(seen.body["data"]["last_event_by"], "system");
    // The seller's earnings wait out the clearance period (14 days for a new seller).
    assert_eq!(wallet(&api, &s).await, w("0.00", "0.00", "159.20", "0.00"));
    let sw = api.get_auth("/payments/wallet", &s.access).await;
    assert_eq!(sw.body["data"]["pending_clearance"], "159.20");
    assert_eq!(sw.body["data"]["clearances"][0]["order_id"], id.as_str());
    assert_eq!(sw.body["data"]["clearances"][0]["amount"], "159.20");
    assert!(sw.body["data"]["clearances"][0]["clears_at"].is_string());
    assert_eq!(wallet(&api, &c).await, w("0.00", "0.00", "0.00", "199.00"));
    // Firing again does nothing: the order is no longer waiting on a timer.
    assert!(fire(&id, due + Duration::days(1)).await.is_none());
}

#[tokio::test]
async fn wrong_party_and_wrong_status_are_refused_without_moving_money() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "1000.00").await;
    let svc = service(&api, &s).await;
    let before_c = lines(&api, &c).await;

    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    // Pending: only paying and cancelling make sense.
    for (who, action, body) in [
        (&c, "deliveries", json!({"message": "x"})),
        (&c, "revisions", json!({"message": "x"})),
        (&c, "accept", json!({})),
        (&c, "dispute", json!({"reason": "x"})),
    ] {
        let a = act(&api, who, &id, action, body).await;
        let expected = if action == "deliveries" { 404 } else { 409 };
        assert_eq!(
            a.status, expected,
            "{action} on a pending order: {}",
            a.body
        );
    }
    // The freelancer cannot pay for the client.
    let a = act(&api, &s, &id, "pay", json!({"method": "wallet"})).await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(a.body["code"], "order.wrong_party");
    assert!(is_chinese(a.body["message"].as_str().unwrap()));

    pay(&api, &c, &id).await;
    let after_pay = lines(&api, &c).await;
    // In progress: no paying twice, no accepting or revising undelivered work, and the
    // client cannot deliver.
    for (who, action, body, status) in [
        (&c, "pay", json!({"method": "wallet"}), 409),
        (&c, "accept", json!({}), 409),
        (&c, "revisions", json!({"message": "x"}), 409),
        (&c, "deliveries", json!({"message": "x"}), 404),
    ] {
        let a = act(&api, who, &id, action, body).await;
        assert_eq!(a.status, status, "{action} in progress: {}", a.body);
    }
    deliver(&api, &s, &id).await;
    // Delivered: the freelancer can neither accept nor ask for revisions.
    for (action, body) in [
        ("accept", json!({})),
        ("revisions", json!({"message": "x"})),
    ] {
        let a = act(&api, &s, &id, action, body).await;
        assert_eq!(a.status, 404, "{action} by the freelancer: {}", a.body);
        assert_eq!(a.body["code"], "order.wrong_party");
    }
    let a = act(&api, &s, &id, "deliveries", json!({"message": "again"})).await;
    assert_eq!(a.status, 409);
    // A stranger gets 404 for everything.
    let stranger = buyer(&api, "0").await;
    for action in [
        "pay",
        "accept",
        "cancel",
        "dispute",
        "deliveries",
        "revisions",
    ] {
        let a = act(
            &api,
            &stranger,
            &id,
            action,
            json!({"method": "wallet", "reason": "x", "message": "x"}),
        )
        .await;
        assert_eq!(a.status, 404, "{action} by a stranger: {}", a.body);
        assert_eq!(a.body["code"], "order.not_found");
    }
    // None of it wrote a ledger line: only the payment's two.
    assert_eq!(lines(&api, &c).await.len(), before_c.len() + 2);
    assert_eq!(lines(&api, &c).await, after_pay);
    assert!(lines(&api, &s).await.is_empty());
    assert!(lines(&api, &stranger).await.is_empty());

    // Completed: nothing more.
    act(&api, &c, &id, "accept", json!({})).await;
    let after_accept = lines(&api, &c).await;
    for (who, action, body) in [
        (&c, "accept", json!({})),
        (&c, "cancel", json!({"reason": "x"})),
        (&s, "cancel", json!({"reason": "x"})),
        (&c, "dispute", json!({"reason": "x"})),
        (&c, "revisions", json!({"message": "x"})),
    ] {
        let a = act(&api, who, &id, action, body).await;
        assert_eq!(a.status, 409, "{action} on a completed order: {}", a.body);
        assert_eq!(a.body["code"], "order.invalid_transition");
    }
    assert_eq!(lines(&api, &c).await, after_accept);
    assert_eq!(lines(&api, &s).await.len(), 1);
}

#[tokio::test]
async fn orders_are_private_to_their_parties_and_operators() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "0").await;
    let svc = service(&api, &s).await;
    let o = order(&api, &c, &svc, "basic").await;
    let id = o["id"].as_str().unwrap();
    let stranger = buyer(&api, "0").await;
    let (admin, _) = admin_session(&api).await;

    for path in [
        format!("/orders/{id}"),
        format!("/orders/{id}/deliveries"),
        format!("/orders/{id}/revisions"),
    ] {
        assert_eq!(api.get_auth(&path, &c.access).await.status, 200, "{path}");
        assert_eq!(api.get_auth(&path, &s.access).await.status, 200, "{path}");
        assert_eq!(api.get_auth(&path, &admin).await.status, 200, "{path}");
        let a = api.get_auth(&path, &stranger.access).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.body["code"], "order.not_found");
        assert_eq!(api.get(&path).await.status, 401, "{path}");
    }
    let theirs = api.get_auth("/orders?role=client", &stranger.access).await;
    assert_eq!(theirs.body["data"]["items"].as_array().unwrap().len(), 0);
    // Wallets are one's own: no id in the path, and no way to ask for someone else's.
    assert_eq!(api.get("/payments/wallet").await.status, 401);
    assert_eq!(api.get_auth("/admin/orders", &c.access).await.status, 403);
    // A freelancer cannot buy their own service; an operator cannot buy at all.
    let own = api
        .post_auth(
            &format!("/services/{svc}/order"),
            &s.access,
            json!({"package": "basic"}),
        )
        .await;
    assert_eq!(own.status, 403);
    assert_eq!(own.body["code"], "order.own_service");
    let op = api
        .post_auth(
            &format!("/services/{svc}/order"),
            &admin,
            json!({"package": "basic"}),
        )
        .await;
    assert_eq!(op.status, 403);
    // The service cannot be deleted while the order is open.
    let del = api
        .send(
            api.request(Method::DELETE, &format!("/services/{svc}"))
                .bearer_auth(&s.access),
        )
        .await;
    assert_eq!(del.status, 409, "{}", del.body);
    assert_eq!(del.body["code"], "service.has_open_orders");
}

#[tokio::test]
async fn idempotency_keys_replay_and_bad_input_is_explained_in_both_languages() {
    let api = Api::connect();
    let s = seller(&api).await;
    let c = buyer(&api, "250.00").await;
    let svc = service(&api, &s).await;
    let path = format!("/services/{svc}/order");
    let keyed = |key: &str, body: Value| {
        api.request(Method::POST, &path)
            .bearer_auth(&c.access)
            .header("idempotency-key", key.to_owned())
            .json(&body)
    };
    let key = format!("retry-{}", ulid::Ulid::new());
    let first = api
        .send(keyed(
            &key,
            json!({"package": "basic", "requirements": "A"}),
        ))
        .await;
    let second = api
        .send(keyed(
            &key,
            json!({"requirements": "A", "package": "basic"}),
        ))
        .await;
    assert_eq!((first.status.as_u16(), second.status.as_u16()), (201, 201));
    assert_eq!(first.body["data"]["id"], second.body["data"]["id"]);
    let other = api.send(keyed(&key, json!({"package": "standard"}))).await;
    assert_eq!(other.status, 422);
    assert_eq!(other.body["code"], "idempotency.key_reused");
    let bad_key = api
        .send(keyed("has space", json!({"package": "basic"})))
        .await;
    assert_eq!(bad_key.status, 400);
    let mine = api.get_auth("/orders?role=client", &c.access).await;
    assert_eq!(mine.body["data"]["items"].as_array().unwrap().len(), 1);

    // Bad input: a clear 4xx with a stable code, in Chinese by default and English on request.
    let a = api
        .post_auth(&path, &c.access, json!({"package": "gold"}))
        .await;
    assert_eq!(a.status, 422);
    assert!(
        is_chinese(a.body["errors"]["package"][0].as_str().unwrap()),
        "{}",
        a.body
    );
    let en = api
        .send(
            api.request(Method::POST, &path)
                .bearer_auth(&c.access)
                .header("accept-language", "en")
                .json(&json!({"package": "gold"})),
        )
        .await;
    assert!(
        en.body["errors"]["package"][0]
            .as_str()
            .unwrap()
            .contains("basic")
    );

    let id = first.body["data"]["id"].as_str().unwrap().to_owned();
    // A gateway payment hands out what to pay with; the order waits for the notification.
    let a = act(&api, &c, &id, "pay", json!({"method": "alipay"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["data"]["payment"]["kind"], "redirect");
    assert_eq!(a.body["data"]["amount"], "199.00");
    let still = api.get_auth(&format!("/orders/{id}"), &c.access).await;
    assert_eq!(still.body["data"]["status"], "pending");
    let a = act(
        &api,
        &c,
        &id,
        "pay",
        json!({"method": "alipay", "channel": "native"}),
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["channel"].is_array(), "{}", a.body);
    let a = act(&api, &c, &id, "pay", json!({"method": "cash"})).await;
    assert_eq!(a.status, 422);

    // Not enough money: refused, nothing frozen.
    let big = order(&api, &c, &svc, "standard").await;
    let a = act(
        &api,
        &c,
        big["id"].as_str().unwrap(),
        "pay",
        json!({"method": "wallet"}),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["code"], "wallet.insufficient_funds");
    assert!(is_chinese(a.body["message"].as_str().unwrap()));
    assert_eq!(wallet(&api, &c).await, w("250.00", "0.00", "0.00", "0.00"));

    // Deliveries need a message, and files from the order's own upload area.
    pay(&api, &c, &id).await;
    let a = act(&api, &s, &id, "deliveries", json!({"message": ""})).await;
    assert_eq!(a.status, 422);
    let a = act(
        &api,
        &s,
        &id,
        "deliveries",
        json!({"message": "见附件", "file_keys": ["uploads/avatars/someone-else.png"]}),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body["errors"]["file_keys"].is_array());
    let a = api.get_auth("/orders?status=nonsense", &c.access).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["code"], "order.invalid_status");
}
