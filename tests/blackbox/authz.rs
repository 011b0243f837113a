//! The authorization matrix: every route that takes an object id, called by the object's
//! owner, the other party (where there is one), an unrelated user, an operator and an
//! anonymous caller, each getting the documented status. Private objects of others are 404,
//! never 403 (their existence is not leaked); operator routes are 403 to everyone else.
//!
//! And mass assignment: protected fields in create and update bodies change nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::Api;
use crate::messaging::{freelancer, open};
use crate::orders::{Party, act, buyer, deliver, order, pay, seller, service};

/// Who calls, in the order every row is tried: the owner last, so that a row whose owner
/// call changes the object does not change what the others see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Unrelated,
    Other,
    Admin,
    Owner,
}

const ORDER: [Who; 5] = [
    Who::Anonymous,
    Who::Unrelated,
    Who::Other,
    Who::Admin,
    Who::Owner,
];

struct Row {
    method: Method,
    path: String,
    body: Option<Value>,
    /// The owner and the other party of this row's object.
    owner: &'static str,
    other: Option<&'static str>,
    /// Expected status for anonymous, unrelated, other, admin, owner.
    expect: [u16; 5],
}

fn row(method: Method, path: String, body: Option<Value>, owner: &'static str) -> Row {
    Row {
        method,
        path,
        body,
        owner,
        other: None,
        expect: [0; 5],
    }
}

impl Row {
    fn other(mut self, who: &'static str) -> Row {
        self.other = Some(who);
        self
    }
    /// anonymous, unrelated, other party, admin, owner.
    fn expect(mut self, e: [u16; 5]) -> Row {
        self.expect = e;
        self
    }
}

struct Cast {
    client: Party,
    freelancer: Party,
    unrelated: Party,
    admin: Party,
}

impl Cast {
    fn party(&self, name: &str) -> &Party {
        match name {
            "client" => &self.client,
            "freelancer" => &self.freelancer,
            "admin" => &self.admin,
            _ => &self.unrelated,
        }
    }
}

async fn call(api: &Api, r: &Row, token: Option<&str>) -> (u16, Value) {
    let mut req = api.request(r.method.clone(), &r.path);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = &r.body {
        req = req.json(b);
    }
    let a = api.send(req).await;
    (a.status.as_u16(), a.body)
}

async fn check(api: &Api, cast: &Cast, rows: &[Row]) -> usize {
    let mut failures = Vec::new();
    let mut calls = 0;
    for r in rows {
        for (i, who) in ORDER.iter().enumerate() {
            let token = match who {
                Who::Anonymous => None,
                Who::Unrelated => Some(cast.unrelated.access.as_str()),
                Who::Admin => Some(cast.admin.access.as_str()),
                Who::Owner => Some(cast.party(r.owner).access.as_str()),
                Who::Other => match r.other {
                    Some(o) => Some(cast.party(o).access.as_str()),
                    None => continue,
                },
            };
            let (status, body) = call(api, r, token).await;
            calls += 1;
            if status != r.expect[i] {
                failures.push(format!(
                    "{} {} as {who:?}: {status}, expected {} — {}",
                    r.method, r.path, r.expect[i], body["code"]
                ));
            }
            // Refusals say why in the envelope, never an empty or HTML body.
            if status >= 400 {
                assert!(body["code"].is_string(), "{} {}: {body}", r.method, r.path);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    calls
}

async fn brief(api: &Api, client: &Party) -> String {
    let a = api
        .post_auth(
            "/briefs",
            &client.access,
            json!({"title": "茶叶宣传册设计", "description": "为一家茶叶公司设计宣传册与包装，提供可直接印刷的文件。",
                   "category": "logo-design", "budget": "1000.00"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn bid_on(api: &Api, seller: &Party, brief: &str) -> String {
    let a = api
        .post_auth(
            &format!("/briefs/{brief}/proposals"),
            &seller.access,
            json!({"price": "1000.00", "delivery_days": 7, "message": "可以做，七天交付，含源文件。"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn admin_party(api: &Api) -> Party {
    let (access, id) = crate::admin_session(api).await;
    Party { access, id }
}

async fn draft(api: &Api, owner: &Party) -> String {
    let a = api
        .post_auth(
            "/services",
            &owner.access,
            json!({
                "title_zh": "企业宣传册设计，含印刷文件",
                "description_zh": "为企业设计宣传册，提供可直接印刷的文件。",
                "category": "logo-design",
                "packages": {"basic": {"price": "299.00", "description": "8 页", "delivery_days": 5, "revisions": 1}}
            }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"]["id"].as_str().unwrap().to_owned()
}

/// A paid order of `client` for `service` (in progress).
async fn paid_order(api: &Api, client: &Party, service: &str) -> String {
    let o = order(api, client, service, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    pay(api, client, &id).await;
    id
}

#[tokio::test]
async fn every_object_route_answers_each_caller_as_documented() {
    let api = Api::connect();
    let cast = Cast {
        client: buyer(&api, "5000.00").await,
        freelancer: seller(&api).await,
        unrelated: freelancer(&api).await,
        admin: admin_party(&api).await,
    };
    let (c, f) = (&cast.client, &cast.freelancer);
    let client_session = api
        .get_auth("/users/profile/sessions", &c.access)
        .await
        .body["data"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["current"] == true))
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .expect("the client's current session");
    let svc = service(&api, f).await;
    let draft_a = draft(&api, f).await;
    let draft_b = draft(&api, f).await;
    let o = paid_order(&api, c, &svc).await;
    let o_cancel = paid_order(&api, c, &svc).await;
    let o_dispute = paid_order(&api, c, &svc).await;
    let o_deliver = paid_order(&api, c, &svc).await;
    let o_revise = paid_order(&api, c, &svc).await;
    deliver(&api, f, &o_revise).await;
    // A completed order with a review, for the freelancer's response.
    let o_done = paid_order(&api, c, &svc).await;
    deliver(&api, f, &o_done).await;
    let accepted = act(&api, c, &o_done, "accept", json!({})).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let o_review = paid_order(&api, c, &svc).await;
    deliver(&api, f, &o_review).await;
    assert_eq!(
        act(&api, c, &o_review, "accept", json!({})).await.status,
        200
    );
    let reviewed = act(
        &api,
        c,
        &o_done,
        "review",
        json!({"rating": 5, "comment": "Great work", "comment_zh": "非常专业"}),
    )
    .await;
    assert_eq!(reviewed.status, 201, "{}", reviewed.body);
    let review = reviewed.body["data"]["id"].as_str().unwrap().to_owned();
    let conv = open(&api, c, f).await;
    let report = api
        .post_auth(
            "/reports",
            &c.access,
            json!({"target_type": "service", "target_id": svc, "reason": "other", "description": "测试举报"}),
        )
        .await;
    assert_eq!(report.status, 201, "{}", report.body);
    let report = report.body["data"]["id"].as_str().unwrap().to_owned();
    let notification = crate::safety::eventually("a notification", || async {
        let n = api.get_auth("/messaging/notifications", &c.access).await;
        n.body["data"]["items"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    let missing = ulid::Ulid::new().to_string();
    let text = json!({"content": "您好，想确认一下交付时间"});
    let upload = json!({"content_type": "image/png", "content_length": 2048});
    let file_upload = |purpose: &str| json!({"purpose": purpose, "file_name": "brief.png", "content_type": "image/png", "content_length": 2048});
    // A requirements file the client asked to upload (not checked yet: the client's only).
    let pending = api
        .post_auth(
            &format!("/orders/{o}/files"),
            &c.access,
            file_upload("requirements"),
        )
        .await;
    assert_eq!(pending.status, 201, "{}", pending.body);
    let pending = pending.body["data"]["file"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Briefs of the client's, a proposal of the freelancer's on two of them.
    let (brief_edit, brief_close) = (brief(&api, c).await, brief(&api, c).await);
    let (brief_bid, brief_award) = (brief(&api, c).await, brief(&api, c).await);
    let bid_withdraw = bid_on(&api, f, &brief_bid).await;
    let bid_accept = bid_on(&api, f, &brief_award).await;
    // Orders in progress: one for the freelancer's extension request, one with a request
    // waiting for the client's answer.
    let o_extend = paid_order(&api, c, &svc).await;
    let o_answer = paid_order(&api, c, &svc).await;
    let asked = act(
        &api,
        f,
        &o_answer,
        "extension",
        json!({"days": 2, "reason": "需要多两天完善细节"}),
    )
    .await;
    assert_eq!(asked.status, 201, "{}", asked.body);
    // Custom offers of the freelancer's to the client.
    let talk = open(&api, c, f).await;
    let offer_of = |price: &'static str| {
        let (api, f, talk) = (&api, f, talk.clone());
        async move {
            let a = api
                .post_auth(
                    &format!("/messaging/conversations/{talk}/offers"),
                    &f.access,
                    json!({"description": "为您定制宣传册设计，含印刷文件。", "price": price, "delivery_days": 5}),
                )
                .await;
            assert_eq!(a.status, 201, "{}", a.body);
            a.body["data"]["id"].as_str().unwrap().to_owned()
        }
    };
    let (offer_seen, offer_declined) = (offer_of("300.00").await, offer_of("400.00").await);
    let o_extra = paid_order(&api, c, &svc).await;
    let o_tip = paid_order(&api, c, &svc).await;
    deliver(&api, f, &o_tip).await;
    let accepted_tip = act(&api, c, &o_tip, "accept", json!({})).await;
    assert_eq!(accepted_tip.status, 200, "{}", accepted_tip.body);

    use Method as M;
    let rows = vec![
        // More time: the freelancer asks, the client answers (the other party's is 404).
        row(
            M::POST,
            format!("/orders/{o_extend}/extension"),
            Some(json!({"days": 2, "reason": "需要多两天完善细节"})),
            "freelancer",
        )
        .other("client")
        .expect([401, 404, 404, 404, 201]),
        row(
            M::POST,
            format!("/orders/{o_answer}/extension/respond"),
            Some(json!({"accept": false})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 200]),
        // A custom offer: its two parties read it; only its buyer decides it.
        row(
            M::GET,
            format!("/messaging/offers/{offer_seen}"),
            None,
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 200, 404, 200]),
        row(
            M::POST,
            format!("/messaging/offers/{offer_declined}/decline"),
            None,
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 200]),
        // The seller reviews the buyer of a completed order, once.
        row(
            M::POST,
            format!("/orders/{o_done}/client-review"),
            Some(json!({"rating": 5, "comment": "付款及时"})),
            "freelancer",
        )
        .other("client")
        .expect([401, 404, 404, 404, 201]),
        // Extras and tips are the client's (paid from the client's wallet).
        row(
            M::POST,
            format!("/orders/{o_extra}/extras"),
            Some(json!({"kind": "revision", "description": "再改一次", "price": "10.00"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 201]),
        row(
            M::POST,
            format!("/orders/{o_tip}/tip"),
            Some(json!({"amount": "5.00"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 200]),
        // Briefs: their buyer edits, closes and accepts; a proposal's seller withdraws it.
        row(
            M::PATCH,
            format!("/briefs/{brief_edit}"),
            Some(json!({"budget": "1200.00"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 200]),
        row(
            M::POST,
            format!("/briefs/{brief_close}/close"),
            None,
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 200]),
        row(
            M::POST,
            format!("/briefs/{brief_bid}/proposals/{bid_withdraw}/withdraw"),
            None,
            "freelancer",
        )
        .other("client")
        .expect([401, 404, 404, 404, 200]),
        row(
            M::POST,
            format!("/briefs/{brief_award}/proposals/{bid_accept}/accept"),
            None,
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 201]),
        // Orders: parties and operators read them; actions belong to one party.
        row(M::GET, format!("/orders/{o}"), None, "client")
            .other("freelancer")
            .expect([401, 404, 200, 200, 200]),
        row(M::GET, format!("/orders/{o}/deliveries"), None, "client")
            .other("freelancer")
            .expect([401, 404, 200, 200, 200]),
        row(M::GET, format!("/orders/{o}/revisions"), None, "client")
            .other("freelancer")
            .expect([401, 404, 200, 200, 200]),
        // Files: each party uploads its own purposes; a file is its uploader's until shared.
        row(
            M::POST,
            format!("/orders/{o}/files"),
            Some(file_upload("evidence")),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 201, 404, 201]),
        row(
            M::POST,
            format!("/orders/{o}/files"),
            Some(file_upload("delivery")),
            "freelancer",
        )
        .other("client")
        .expect([401, 404, 404, 404, 201]),
        row(M::GET, format!("/files/{pending}"), None, "client")
            .other("freelancer")
            .expect([404, 404, 404, 404, 200]),
        row(M::GET, format!("/files/{missing}"), None, "client")
            .other("freelancer")
            .expect([404, 404, 404, 404, 404]),
        row(M::GET, format!("/orders/{o}/messages"), None, "client")
            .other("freelancer")
            .expect([401, 404, 200, 404, 200]),
        row(
            M::POST,
            format!("/orders/{o}/pay"),
            Some(json!({"method": "wallet"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 409]),
        row(
            M::POST,
            format!("/orders/{o}/accept"),
            Some(json!({})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 409]),
        row(
            M::POST,
            format!("/orders/{o}/revisions"),
            Some(json!({"message": "请调整配色"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 409]),
        row(
            M::POST,
            format!("/orders/{o}/review"),
            Some(json!({"rating": 5, "comment": "好"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 409]),
        row(
            M::POST,
            format!("/orders/{o}/messages"),
            Some(text.clone()),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 201, 404, 201]),
        row(
            M::POST,
            format!("/orders/{o_cancel}/cancel"),
            Some(json!({"reason": "需求有变"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 200, 404, 200]),
        row(
            M::POST,
            format!("/orders/{o_dispute}/dispute"),
            Some(json!({"reason": "进度太慢", "evidence_keys": []})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 200, 404, 409]),
        row(
            M::POST,
            format!("/orders/{o_deliver}/deliveries"),
            Some(json!({"message": "已完成", "file_keys": []})),
            "freelancer",
        )
        .other("client")
        .expect([401, 404, 404, 404, 201]),
        row(
            M::POST,
            format!("/orders/{o_revise}/revisions"),
            Some(json!({"message": "请调整配色"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 201]),
        row(M::GET, format!("/orders/{missing}"), None, "client").expect([401, 404, 0, 404, 404]),
        // Reviews: only the reviewed freelancer responds, once.
        row(
            M::POST,
            format!("/reviews/{review}/response"),
            Some(json!({"response": "感谢认可"})),
            "freelancer",
        )
        .other("client")
        .expect([401, 404, 404, 404, 201]),
        // Services: drafts are the owner's (and the operators'); changes are the owner's.
        row(M::GET, format!("/services/{svc}"), None, "freelancer").expect([200, 200, 0, 200, 200]),
        row(M::GET, format!("/services/{draft_a}"), None, "freelancer")
            .expect([404, 404, 0, 200, 200]),
        row(
            M::PATCH,
            format!("/services/{draft_a}"),
            Some(json!({"description_zh": "为企业设计宣传册，提供印刷文件与电子版。"})),
            "freelancer",
        )
        .expect([401, 404, 0, 404, 200]),
        row(
            M::POST,
            format!("/services/{draft_a}/media"),
            Some(upload.clone()),
            "freelancer",
        )
        .expect([401, 404, 0, 404, 201]),
        row(
            M::POST,
            format!("/services/{draft_a}/order"),
            Some(json!({"package": "basic"})),
            "freelancer",
        )
        .other("client")
        // A draft cannot be ordered, by anyone; operators cannot order at all.
        .expect([401, 404, 404, 403, 404]),
        row(
            M::POST,
            format!("/services/{svc}/order"),
            Some(json!({"package": "basic"})),
            "freelancer",
        )
        .expect([401, 201, 0, 403, 403]),
        row(
            M::POST,
            format!("/services/{draft_a}/save"),
            None,
            "freelancer",
        )
        .expect([401, 404, 0, 200, 200]),
        row(
            M::GET,
            format!("/services/{draft_a}/reviews"),
            None,
            "freelancer",
        )
        // Reviews are listed for services on the market only.
        .expect([404, 404, 0, 404, 404]),
        row(
            M::GET,
            format!("/services/{svc}/reviews"),
            None,
            "freelancer",
        )
        .expect([200, 200, 0, 200, 200]),
        row(
            M::POST,
            format!("/services/{draft_a}/publish"),
            None,
            "freelancer",
        )
        .expect([401, 404, 0, 404, 200]),
        row(
            M::POST,
            format!("/services/{draft_a}/pause"),
            None,
            "freelancer",
        )
        .expect([401, 404, 0, 404, 200]),
        row(
            M::DELETE,
            format!("/services/{draft_b}"),
            None,
            "freelancer",
        )
        .expect([401, 404, 0, 404, 204]),
        // Conversations and notifications are their participants' only.
        row(
            M::GET,
            format!("/messaging/conversations/{conv}/messages"),
            None,
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 200, 404, 200]),
        row(
            M::POST,
            format!("/messaging/conversations/{conv}/messages"),
            Some(text.clone()),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 201, 404, 201]),
        row(
            M::POST,
            format!("/messaging/conversations/{conv}/read"),
            None,
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 200, 404, 200]),
        row(
            M::POST,
            format!("/messaging/conversations/{conv}/attachments"),
            Some(upload.clone()),
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 201, 404, 201]),
        row(
            M::POST,
            format!("/messaging/notifications/{notification}/read"),
            None,
            "client",
        )
        .other("freelancer")
        .expect([401, 404, 404, 404, 200]),
        // Public profiles.
        row(M::GET, format!("/users/{}", f.id), None, "freelancer").expect([200, 200, 0, 200, 200]),
        row(
            M::GET,
            format!("/users/{}/services", f.id),
            None,
            "freelancer",
        )
        .expect([200, 200, 0, 200, 200]),
        row(
            M::GET,
            format!("/users/{}/reviews", f.id),
            None,
            "freelancer",
        )
        .expect([200, 200, 0, 200, 200]),
        row(M::GET, format!("/users/{missing}"), None, "freelancer")
            .expect([404, 404, 0, 404, 404]),
        // A signed-in device of the client's (this very session: ending it stops its refresh
        // token, the access token the matrix goes on with lapses only in 15 minutes).
        row(
            M::DELETE,
            format!("/users/profile/sessions/{client_session}"),
            None,
            "client",
        )
        .expect([401, 404, 0, 404, 204]),
        // Operator routes: 403 to everyone but operators, whatever the object.
        row(
            M::PATCH,
            format!("/admin/users/{}", cast.unrelated.id),
            Some(json!({"action": "verify", "reason": "人工核验"})),
            "unrelated",
        )
        .other("client")
        .expect([401, 403, 403, 200, 403]),
        row(
            M::POST,
            format!("/admin/services/{svc}/moderate"),
            Some(json!({"action": "feature"})),
            "freelancer",
        )
        .other("client")
        .expect([401, 403, 403, 200, 403]),
        row(
            M::POST,
            format!("/admin/orders/{o}/resolve"),
            Some(json!({"resolution": "refund", "note": "测试"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 403, 403, 409, 403]),
        row(
            M::POST,
            format!("/admin/reports/{report}/resolve"),
            Some(json!({"decision": "dismiss", "action": "none", "note": "未发现违规"})),
            "client",
        )
        .other("freelancer")
        .expect([401, 403, 403, 200, 403]),
        row(
            M::POST,
            format!("/admin/withdrawals/{missing}/review"),
            Some(json!({"action": "approve"})),
            "freelancer",
        )
        .expect([401, 403, 0, 404, 403]),
        row(
            M::POST,
            format!("/admin/verifications/{missing}/review"),
            Some(json!({"decision": "approve"})),
            "freelancer",
        )
        .expect([401, 403, 0, 404, 403]),
        row(M::GET, "/admin/tax-reports".into(), None, "freelancer")
            .other("client")
            .expect([401, 403, 403, 200, 403]),
        row(M::GET, "/admin/fee-rules".into(), None, "freelancer")
            .other("client")
            .expect([401, 403, 403, 200, 403]),
        // An invalid body, so the operator's call changes nothing on the shared stack.
        row(
            M::PUT,
            "/admin/fee-rules".into(),
            Some(json!({"default_rate_bp": 9999, "minimum_fee": "0.00"})),
            "freelancer",
        )
        .other("client")
        .expect([401, 403, 403, 422, 403]),
    ];
    let calls = check(&api, &cast, &rows).await;
    println!("authorization matrix: {} routes, {calls} calls", rows.len());
}

/// Fields the platform owns, sent by a client in create and update bodies, change nothing.
#[tokio::test]
async fn protected_fields_in_bodies_change_nothing() {
    let api = Api::connect();
    let f = seller(&api).await;
    let other = freelancer(&api).await;
    let c = buyer(&api, "1000.00").await;
    let protected = json!({
        "status": "active",
        "user_type": "admin",
        "is_verified": true,
        "rating": "5.00",
        "balance": "99999.00",
        "freelancer": other.id,
        "total_amount": "0.01"
    });

    // Registration: protected fields are not part of it; an operator type is refused.
    let name = gigbao_tests::unique_name("zhuce");
    let mut body = json!({"username": name, "password": "Kehu-2026-safe", "user_type": "client"});
    for (k, v) in protected.as_object().unwrap() {
        if k != "user_type" {
            body[k] = v.clone();
        }
    }
    let reg = api.post("/auth/register", body.clone()).await;
    assert_eq!(reg.status, 201, "{}", reg.body);
    let user = &reg.body["data"]["user"];
    assert_eq!(user["user_type"], "client");
    assert_eq!(user["is_verified"], false);
    assert_eq!(user["status"], "active");
    let access = reg.body["data"]["access"].as_str().unwrap().to_owned();
    let wallet = api.get_auth("/payments/wallet", &access).await;
    assert_eq!(wallet.body["data"]["balance"], "0.00");
    body["username"] = json!(gigbao_tests::unique_name("zhuce"));
    body["user_type"] = json!("admin");
    assert_eq!(api.post("/auth/register", body).await.status, 422);

    // Profile update: each protected field is refused and nothing is written.
    let before = api.get_auth("/users/profile", &f.access).await.body["data"].clone();
    for (k, v) in protected.as_object().unwrap() {
        let a = api
            .patch_auth(
                "/users/profile",
                &f.access,
                json!({ k: v, "freelancer_profile": {"bio": "被篡改的简介"} }),
            )
            .await;
        assert!(
            a.status == 400 || a.status == 422,
            "PATCH /users/profile with {k}: {} {}",
            a.status,
            a.body
        );
    }
    let after = api.get_auth("/users/profile", &f.access).await.body["data"].clone();
    assert_eq!(before, after);

    // Service create: the owner is the caller, the status a draft, no rating.
    let mut svc = json!({
        "title_zh": "短视频剪辑与包装，当天交付",
        "description_zh": "抖音、快手短视频剪辑，含字幕与片头包装。",
        "category": "logo-design",
        "packages": {"basic": {"price": "99.00", "description": "1 条 60 秒", "delivery_days": 1, "revisions": 1}},
        "total_orders": 1000
    });
    for (k, v) in protected.as_object().unwrap() {
        svc[k] = v.clone();
    }
    let created = api.post_auth("/services", &f.access, svc).await;
    let id = if created.status == 201 {
        let s = &created.body["data"];
        assert_eq!(s["status"], "draft", "{s}");
        assert_eq!(s["freelancer"]["id"], f.id.as_str(), "{s}");
        assert_ne!(s["rating"], "5.00", "{s}");
        s["id"].as_str().unwrap().to_owned()
    } else {
        assert!(
            created.status == 400 || created.status == 422,
            "{}",
            created.body
        );
        draft(&api, &f).await
    };
    // Service update: refused or ignored, never applied.
    let before = api
        .get_auth(&format!("/services/{id}"), &f.access)
        .await
        .body["data"]
        .clone();
    for (k, v) in protected.as_object().unwrap() {
        let a = api
            .patch_auth(&format!("/services/{id}"), &f.access, json!({ k: v }))
            .await;
        assert!(
            a.status.is_client_error() || a.status == 200,
            "{k}: {}",
            a.body
        );
    }
    let after = api
        .get_auth(&format!("/services/{id}"), &f.access)
        .await
        .body["data"]
        .clone();
    for field in ["status", "freelancer", "rating", "total_orders", "packages"] {
        assert_eq!(before[field], after[field], "{field}");
    }

    // Order create: the price is the package's, the freelancer the service's, unpaid.
    let svc = service(&api, &f).await;
    let mut body = json!({"package": "basic", "requirements": "品牌名：云栖茶舍"});
    for (k, v) in protected.as_object().unwrap() {
        body[k] = v.clone();
    }
    body["payment_status"] = json!("paid");
    body["platform_fee"] = json!("0.00");
    let placed = api
        .post_auth(&format!("/services/{svc}/order"), &c.access, body)
        .await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    let o = &placed.body["data"];
    assert_eq!(o["total_amount"], "199.00");
    assert_eq!(o["status"], "pending");
    assert_eq!(o["payment_status"], "pending");
    assert_eq!(o["freelancer"]["id"], f.id.as_str());
    assert_eq!(o["client"]["id"], c.id.as_str());
    assert_ne!(o["platform_fee"], "0.00");
    // The client's money did not move by asking.
    let wallet = api.get_auth("/payments/wallet", &c.access).await;
    assert_eq!(wallet.body["data"]["balance"], "1000.00");
}
