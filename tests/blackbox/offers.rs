//! Custom offers (定制报价) through the running stack: a seller sends terms in a conversation
//! as a typed message; the buyer accepts one (an order at its terms, once), declines another,
//! and cannot accept one whose time has passed, which the timers mark expired, telling both.

use serde_json::{Value, json};

use crate::Api;
use crate::messaging::open;
use crate::orders::{Party, buyer, seller};

fn terms(price: &str) -> Value {
    json!({"description": "为您的茶饮店设计 logo 和门头效果图，三个方案，含源文件。",
           "price": price, "delivery_days": 7, "revisions": 2, "expires_in_days": 3})
}

async fn offer(api: &Api, from: &Party, conversation: &str, price: &str) -> Value {
    let a = api
        .post_auth(
            &format!("/messaging/conversations/{conversation}/offers"),
            &from.access,
            terms(price),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"].clone()
}

#[tokio::test]
async fn a_seller_offers_custom_terms_and_the_buyer_accepts_one_declines_one_and_an_expired_one_fails()
 {
    let api = Api::connect();
    let (b, s) = (buyer(&api, "0").await, seller(&api).await);
    let conversation = open(&api, &b, &s).await;
    // Only a seller offers; the buyer has no seller profile.
    let refused = api
        .post_auth(
            &format!("/messaging/conversations/{conversation}/offers"),
            &b.access,
            terms("1200.00"),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.body["code"], "offer.sellers_only");
    let o = offer(&api, &s, &conversation, "1200.00").await;
    assert_eq!(o["status"], "open");
    assert_eq!(o["buyer"]["id"], b.id.as_str());
    // It shows in the conversation as a typed message.
    let messages = api
        .get_auth(
            &format!("/messaging/conversations/{conversation}/messages"),
            &b.access,
        )
        .await;
    let m = &messages.body["data"]["items"][0];
    assert_eq!(m["message_type"], "offer", "{}", messages.body);
    assert_eq!(m["offer_id"], o["id"]);
    // Nobody else sees it.
    let stranger = buyer(&api, "0").await;
    let id = o["id"].as_str().unwrap();
    let hidden = api
        .get_auth(&format!("/messaging/offers/{id}"), &stranger.access)
        .await;
    assert_eq!(hidden.status, 404, "{}", hidden.body);
    // Accepted: an unpaid order at its terms; accepting again is the same order.
    let accepted = api
        .post_auth(
            &format!("/messaging/offers/{id}/accept"),
            &b.access,
            json!({}),
        )
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let order = accepted.body["data"].clone();
    assert_eq!(order["origin"], "offer");
    assert_eq!(order["offer_id"], id);
    assert_eq!(order["total_amount"], "1200.00");
    assert_eq!(order["package"]["delivery_days"], 7);
    assert_eq!(order["freelancer"]["id"], s.id.as_str());
    let again = api
        .post_auth(
            &format!("/messaging/offers/{id}/accept"),
            &b.access,
            json!({}),
        )
        .await;
    assert_eq!(again.body["data"]["id"], order["id"], "{}", again.body);
    let seen = api
        .get_auth(&format!("/messaging/offers/{id}"), &s.access)
        .await;
    assert_eq!(seen.body["data"]["status"], "accepted");
    assert_eq!(seen.body["data"]["order_id"], order["id"]);
    // A second offer declined: it cannot be accepted after.
    let second = offer(&api, &s, &conversation, "800.00").await;
    let second = second["id"].as_str().unwrap();
    let declined = api
        .post_auth(
            &format!("/messaging/offers/{second}/decline"),
            &b.access,
            json!({}),
        )
        .await;
    assert_eq!(declined.status, 200, "{}", declined.body);
    assert_eq!(declined.body["data"]["status"], "declined");
    let late = api
        .post_auth(
            &format!("/messaging/offers/{second}/accept"),
            &b.access,
            json!({}),
        )
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(late.body["code"], "offer.not_open");
    // A third whose time has passed (moved into the past in the table): expired, refused.
    let third = offer(&api, &s, &conversation, "900.00").await;
    let third = third["id"].as_str().unwrap();
    {
        use aws_sdk_dynamodb::types::AttributeValue;
        let store = gigbao_tests::stack_store().await;
        let past = chrono::Utc::now() - chrono::Duration::hours(1);
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("PK", AttributeValue::S(format!("OFFER#{third}")))
            .key("SK", AttributeValue::S("OFFER".into()))
            .update_expression("SET expires_at = :at, expires_ms = :ms, GSI4SK = :due")
            .expression_attribute_values(":at", AttributeValue::S(past.to_rfc3339()))
            .expression_attribute_values(
                ":due",
                AttributeValue::S(format!(
                    "{}#{third}",
                    past.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                )),
            )
            .expression_attribute_values(
                ":ms",
                AttributeValue::N(past.timestamp_millis().to_string()),
            )
            .send()
            .await
            .unwrap();
    }
    let expired = api
        .post_auth(
            &format!("/messaging/offers/{third}/accept"),
            &b.access,
            json!({}),
        )
        .await;
    assert_eq!(expired.status, 409, "{}", expired.body);
    assert_eq!(expired.body["code"], "offer.expired");
    assert_eq!(expired.body["message"], "报价已过期，请联系卖家重新报价");
    let shown = api
        .get_auth(&format!("/messaging/offers/{third}"), &b.access)
        .await;
    assert_eq!(shown.body["data"]["status"], "expired");
    // The timers mark it expired for good (each due offer once) and both sides are told.
    let store = gigbao_tests::stack_store().await;
    let now = chrono::Utc::now();
    assert!(shared::app::offers::expire_due(&store, now).await.unwrap() >= 1);
    let stored = store
        .get_offer(third.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, shared::domain::offer::OfferStatus::Expired);
    let again = store
        .expire_offer(third.parse().unwrap(), now)
        .await
        .unwrap();
    assert!(!again, "marked once");
    for who in [&s, &b] {
        let n = crate::safety::eventually("offer.expired", || async {
            let n = api.get_auth("/messaging/notifications", &who.access).await;
            n.body["data"]["items"]
                .as_array()?
                .iter()
                .find(|x| x["notification_type"] == "offer.expired")
                .cloned()
        })
        .await;
        assert_eq!(n["related_id"], third, "{n}");
        assert_eq!(n["title_zh"], "定制报价已过期");
    }
    // The seller was told of the decisions.
    crate::safety::eventually("the offer notices", || async {
        let n = api.get_auth("/messaging/notifications", &s.access).await;
        let kinds: Vec<String> = n.body["data"]["items"]
            .as_array()?
            .iter()
            .filter_map(|x| x["notification_type"].as_str().map(str::to_owned))
            .collect();
        (kinds.iter().any(|k| k == "offer.accepted") && kinds.iter().any(|k| k == "offer.declined"))
            .then_some(())
    })
    .await;
}
