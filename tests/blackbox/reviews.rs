//! Reviews through the running stack: the client of a completed order reviews it, the seller
//! reviews the client, neither sees the other's until both are in (or the 30 days end), the
//! freelancer responds, and the averages the stream keeps are exact.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::orders::{Party, act, buyer, deliver, order, pay, seller, service};
use crate::{Answer, Api, is_chinese};

/// An order of the basic package taken to completed.
async fn completed(api: &Api, client: &Party, freelancer: &Party, service: &str) -> String {
    let o = order(api, client, service, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    pay(api, client, &id).await;
    deliver(api, freelancer, &id).await;
    let a = act(api, client, &id, "accept", json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    id
}

async fn review(api: &Api, who: &Party, order: &str, body: Value) -> Answer {
    api.post_auth(&format!("/orders/{order}/review"), &who.access, body)
        .await
}

/// The seller's review of the client, which shows both.
async fn review_client(api: &Api, seller: &Party, order: &str) -> Answer {
    let a = api
        .post_auth(
            &format!("/orders/{order}/client-review"),
            &seller.access,
            json!({"rating": 5, "comment": "需求清楚，付款及时"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a
}

async fn review_en(api: &Api, who: &Party, order: &str, body: Value) -> Answer {
    api.send(
        api.request(Method::POST, &format!("/orders/{order}/review"))
            .bearer_auth(&who.access)
            .header("accept-language", "en")
            .json(&body),
    )
    .await
}

/// The service once the stream has counted `n` reviews (the stats worker is asynchronous).
async fn counted(api: &Api, service: &str, n: u64) -> Value {
    let started = std::time::Instant::now();
    for _ in 0..200 {
        let a = api.get(&format!("/services/{service}")).await;
        assert_eq!(a.status, 200, "{}", a.body);
        if a.body["data"]["reviews_count"] == n {
            eprintln!("{n} reviews counted {:?} after asking", started.elapsed());
            return a.body["data"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the service never showed {n} reviews");
}

fn ratings(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rating"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_client_reviews_the_freelancer_responds_and_the_averages_are_exact() {
    let api = Api::connect();
    let freelancer = seller(&api).await;
    let client = buyer(&api, "1000.00").await;
    let svc = service(&api, &freelancer).await;

    // A private review first: never listed, never counted, but its two parties read it with
    // the order (`review` is null until there is one) once both have reviewed.
    let o = completed(&api, &client, &freelancer, &svc).await;
    let before = api.get_auth(&format!("/orders/{o}"), &client.access).await;
    assert_eq!(
        before.body["data"]["review"],
        Value::Null,
        "{}",
        before.body
    );
    let private = review(
        &api,
        &client,
        &o,
        json!({"rating": 1, "comment": "只给卖家看的意见", "is_public": false}),
    )
    .await;
    assert_eq!(private.status, 201, "{}", private.body);
    assert_eq!(private.body["data"]["is_public"], false);
    review_client(&api, &freelancer, &o).await;
    let seen = api
        .get_auth(&format!("/orders/{o}"), &freelancer.access)
        .await;
    assert_eq!(seen.body["data"]["status"], "completed");
    assert_eq!(seen.body["data"]["review"]["rating"], 1, "{}", seen.body);
    assert_eq!(seen.body["data"]["review"]["is_public"], false);

    let mut ids = Vec::new();
    for (rating, comment) in [
        (5, "Great logo, delivered early."),
        (4, "Good work, one revision needed."),
        (4, "Solid, would order again."),
    ] {
        let o = completed(&api, &client, &freelancer, &svc).await;
        let a = review(
            &api,
            &client,
            &o,
            json!({"rating": rating, "comment": comment, "comment_zh": "设计用心，沟通顺畅"}),
        )
        .await;
        assert_eq!(a.status, 201, "{}", a.body);
        review_client(&api, &freelancer, &o).await;
        let r = &a.body["data"];
        assert_eq!(r["rating"], rating);
        assert_eq!(r["client"]["id"], client.id.as_str());
        assert_eq!(r["freelancer"]["id"], freelancer.id.as_str());
        assert_eq!(r["service"]["id"], svc.as_str());
        assert_eq!(r["response"], Value::Null);
        ids.push(r["id"].as_str().unwrap().to_owned());
    }

    // 5, 4, 4 → 4.33 on the service and on the freelancer.
    let s = counted(&api, &svc, 3).await;
    assert_eq!(s["rating"], "4.33");
    let u = api.get(&format!("/users/{}", freelancer.id)).await;
    let p = &u.body["data"]["freelancer_profile"];
    assert_eq!(p["rating"], "4.33", "{}", u.body);
    assert_eq!(p["total_reviews"], 3);
    // Response metrics need messaging: until then they keep their defaults.
    assert_eq!(p["response_rate"], "0.00");
    assert_eq!(p["response_time"], 0);
    assert_eq!(p["seller_level"], "new");
    assert_eq!(s["freelancer"]["seller_level"], "new");

    // Public lists, newest first, with a cursor; the private review is in neither.
    let first = api.get(&format!("/services/{svc}/reviews?limit=2")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(ratings(&first.body["data"]), [4, 4]);
    assert_eq!(first.body["data"]["items"][0]["id"], ids[2].as_str());
    let cursor = first.body["data"]["next_cursor"].as_str().unwrap();
    let rest = api
        .get(&format!("/services/{svc}/reviews?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ratings(&rest.body["data"]), [5]);
    assert_eq!(rest.body["data"]["next_cursor"], Value::Null);
    let of_user = api.get(&format!("/users/{}/reviews", freelancer.id)).await;
    assert_eq!(ratings(&of_user.body["data"]), [4, 4, 5]);

    // The freelancer responds once; nobody else can.
    let path = format!("/reviews/{}/response", ids[0]);
    let body = json!({"response": "Thank you!", "response_zh": "感谢好评，期待再次合作！"});
    let stranger = api.register("pangguan").await.2;
    let stranger = stranger["access"].as_str().unwrap();
    for access in [client.access.as_str(), stranger] {
        let a = api.post_auth(&path, access, body.clone()).await;
        assert_eq!(a.status, 404, "{}", a.body);
        assert_eq!(a.body["code"], "review.wrong_party");
    }
    let a = api.post_auth(&path, &freelancer.access, body.clone()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(
        a.body["data"]["response"]["response_zh"],
        "感谢好评，期待再次合作！"
    );
    let again = api.post_auth(&path, &freelancer.access, body).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["code"], "review.already_responded");
    let listed = api.get(&format!("/services/{svc}/reviews")).await;
    assert_eq!(
        listed.body["data"]["items"][2]["response"]["response"],
        "Thank you!"
    );
    // Contact details in a response are refused like anywhere else.
    let private_id = private.body["data"]["id"].as_str().unwrap();
    let a = api
        .post_auth(
            &format!("/reviews/{private_id}/response"),
            &freelancer.access,
            json!({"response": "有问题加我微信 vx: lin_design88"}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body["code"].as_str().unwrap().starts_with("moderation."));

    // Still three: the private one was never counted.
    assert_eq!(counted(&api, &svc, 3).await["rating"], "4.33");
}

/// A seller, a funded client and a service, for one refusal each.
async fn market(api: &Api) -> (Party, Party, String) {
    let freelancer = seller(api).await;
    let client = buyer(api, "1000.00").await;
    let svc = service(api, &freelancer).await;
    (freelancer, client, svc)
}

fn good() -> Value {
    json!({"rating": 5, "comment": "很满意"})
}

#[tokio::test]
async fn an_order_that_is_not_completed_cannot_be_reviewed() {
    let api = Api::connect();
    let (freelancer, client, svc) = market(&api).await;
    let o = order(&api, &client, &svc, "basic").await;
    let id = o["id"].as_str().unwrap().to_owned();
    pay(&api, &client, &id).await;
    deliver(&api, &freelancer, &id).await;
    let a = review(&api, &client, &id, good()).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.body["code"], "review.order_not_completed");
    assert!(is_chinese(a.body["message"].as_str().unwrap()));
}

#[tokio::test]
async fn only_the_client_of_the_order_reviews_it() {
    let api = Api::connect();
    let (freelancer, client, svc) = market(&api).await;
    let id = completed(&api, &client, &freelancer, &svc).await;
    // The other party: the action does not exist for them.
    let a = review(&api, &freelancer, &id, good()).await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(a.body["code"], "review.wrong_party");
    // Anyone else: the order does not exist for them.
    let stranger = api.register("pangguan").await.2;
    let stranger = Party {
        access: stranger["access"].as_str().unwrap().to_owned(),
        id: stranger["user"]["id"].as_str().unwrap().to_owned(),
    };
    let a = review(&api, &stranger, &id, good()).await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(a.body["code"], "order.not_found");
}

#[tokio::test]
async fn ratings_are_whole_stars_from_one_to_five_and_text_is_checked() {
    let api = Api::connect();
    let (freelancer, client, svc) = market(&api).await;
    let id = completed(&api, &client, &freelancer, &svc).await;
    for bad in [json!(0), json!(6), json!(4.5), json!("5")] {
        let body = json!({"rating": bad, "comment": "还行"});
        let zh = review(&api, &client, &id, body.clone()).await;
        assert_eq!(zh.status, 422, "{bad}: {}", zh.body);
        assert_eq!(zh.body["code"], "review.invalid_rating");
        assert_eq!(
            zh.body["errors"]["rating"][0], "评分须为 1 到 5 的整数",
            "{}",
            zh.body
        );
        let en = review_en(&api, &client, &id, body).await;
        assert_eq!(en.body["code"], "review.invalid_rating");
        assert_eq!(en.body["message"], "Some fields are invalid");
        assert_eq!(
            en.body["errors"]["rating"][0],
            "rating must be a whole number from 1 to 5"
        );
    }
    let a = review(&api, &client, &id, json!({"rating": 5})).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["code"], "review.invalid_comment");
    // Contact details are refused like anywhere else.
    let a = review(
        &api,
        &client,
        &id,
        json!({"rating": 5, "comment": "下次直接联系我 138 0013 8000"}),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["code"], "moderation.contact_info");
    // None of it was written: the order can still be reviewed.
    assert_eq!(review(&api, &client, &id, good()).await.status, 201);
}

#[tokio::test]
async fn an_order_is_reviewed_once() {
    let api = Api::connect();
    let (freelancer, client, svc) = market(&api).await;
    let id = completed(&api, &client, &freelancer, &svc).await;
    assert_eq!(review(&api, &client, &id, good()).await.status, 201);
    let a = review(
        &api,
        &client,
        &id,
        json!({"rating": 1, "comment": "改主意了"}),
    )
    .await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.body["code"], "review.already_reviewed");
}

#[tokio::test]
async fn thirty_days_after_completion_is_too_late() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let api = Api::connect();
    let (freelancer, client, svc) = market(&api).await;
    let old = completed(&api, &client, &freelancer, &svc).await;
    let store = gigbao_tests::stack_store().await;
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("PK", AttributeValue::S(format!("ORDER#{old}")))
        .key("SK", AttributeValue::S("ORDER".into()))
        .update_expression("SET completed_at = :t")
        .expression_attribute_values(
            ":t",
            AttributeValue::S((Utc::now() - Duration::days(31)).to_rfc3339()),
        )
        .send()
        .await
        .unwrap();
    let a = review_en(&api, &client, &old, good()).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.body["code"], "review.window_closed");
    assert!(a.body["message"].as_str().unwrap().contains("30 days"));
}

/// Double-blind: each side's review is its author's alone until the other side reviews too;
/// a review the other side never answers is shown when the 30 days end.
#[tokio::test]
async fn reviews_stay_sealed_until_both_are_in_or_the_window_ends() {
    let api = Api::connect();
    let (freelancer, client, svc) = market(&api).await;
    let o = completed(&api, &client, &freelancer, &svc).await;
    let path = format!("/orders/{o}");
    let order_of = |p: &Party| {
        let access = p.access.clone();
        let (api, path) = (&api, &path);
        async move { api.get_auth(path, &access).await }
    };

    let a = review(
        &api,
        &client,
        &o,
        json!({"rating": 2, "comment": "交付比约定晚了两天"}),
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let review_id = a.body["data"]["id"].as_str().unwrap().to_owned();
    assert!(a.body["data"]["sealed_until"].is_string(), "{}", a.body);
    // The client reads their own; the seller sees only that there is one to answer.
    let mine = order_of(&client).await;
    assert_eq!(mine.body["data"]["review"]["rating"], 2, "{}", mine.body);
    assert_eq!(mine.body["data"]["awaiting_your_review"], false);
    let theirs = order_of(&freelancer).await;
    assert_eq!(
        theirs.body["data"]["review"],
        Value::Null,
        "{}",
        theirs.body
    );
    assert_eq!(theirs.body["data"]["awaiting_your_review"], true);
    // Not listed, not counted, not answerable by the seller yet.
    let listed = api.get(&format!("/services/{svc}/reviews")).await;
    assert_eq!(listed.body["data"]["items"], json!([]), "{}", listed.body);
    let answer = api
        .post_auth(
            &format!("/reviews/{review_id}/response"),
            &freelancer.access,
            json!({"response": "抱歉"}),
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    // The seller is told there is a review to answer, not what it says.
    let waiting = crate::safety::eventually("review.waiting", || async {
        let n = api
            .get_auth("/messaging/notifications", &freelancer.access)
            .await;
        n.body["data"]["items"]
            .as_array()?
            .iter()
            .find(|x| x["notification_type"] == "review.waiting")
            .cloned()
    })
    .await;
    assert_eq!(waiting["related_id"], o.as_str(), "{waiting}");
    assert!(
        !waiting["message"].as_str().unwrap().contains('★'),
        "{waiting}"
    );

    // The seller reviews the client: both are shown, to both, and counted.
    let c = review_client(&api, &freelancer, &o).await;
    assert_eq!(c.body["data"]["sealed_until"], Value::Null, "{}", c.body);
    let theirs = order_of(&freelancer).await;
    assert_eq!(
        theirs.body["data"]["review"]["rating"], 2,
        "{}",
        theirs.body
    );
    assert_eq!(theirs.body["data"]["review"]["sealed_until"], Value::Null);
    assert_eq!(theirs.body["data"]["client_review"]["rating"], 5);
    let mine = order_of(&client).await;
    assert_eq!(
        mine.body["data"]["client_review"]["rating"], 5,
        "{}",
        mine.body
    );
    assert_eq!(counted(&api, &svc, 1).await["rating"], "2.00");

    // Another order: the seller reviews first; the client cannot see it, nor does it count on
    // the client's rating, until the window ends.
    let o2 = completed(&api, &client, &freelancer, &svc).await;
    let first = api
        .post_auth(
            &format!("/orders/{o2}/client-review"),
            &freelancer.access,
            json!({"rating": 1, "comment": "沟通困难"}),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let until: chrono::DateTime<Utc> = first.body["data"]["sealed_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let seen = api.get_auth(&format!("/orders/{o2}"), &client.access).await;
    assert_eq!(
        seen.body["data"]["client_review"],
        Value::Null,
        "{}",
        seen.body
    );
    assert_eq!(seen.body["data"]["awaiting_your_review"], true);
    let store = gigbao_tests::stack_store().await;
    let id = o2.parse().unwrap();
    let rating_of_client = || async {
        let u = store
            .get_user(client.id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        u.buyer_rating
    };
    let before = rating_of_client().await;
    // The timers a minute before the end leave it sealed; after the end they show it.
    let shown = shared::app::reviews::reveal_order(&store, id, until - Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(shown, 0);
    let shown = shared::app::reviews::reveal_order(&store, id, until + Duration::seconds(1))
        .await
        .unwrap();
    assert_eq!(shown, 1);
    let seen = api.get_auth(&format!("/orders/{o2}"), &client.access).await;
    assert_eq!(
        seen.body["data"]["client_review"]["rating"], 1,
        "{}",
        seen.body
    );
    assert_eq!(seen.body["data"]["awaiting_your_review"], false);
    let after = rating_of_client().await;
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
    // Shown once: again, nothing.
    let again = shared::app::reviews::reveal_order(&store, id, until + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(rating_of_client().await, after);
}
