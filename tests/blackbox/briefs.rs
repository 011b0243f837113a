//! Briefs (需求) and proposals (投标) through the running stack: a buyer posts a need, sellers
//! bid, the buyer accepts one and it becomes an order paid and completed like any other, to
//! the fen.

use serde_json::{Value, json};

use crate::Api;
use crate::orders::{Party, act, buyer, deliver, pay, seller};

fn brief_body() -> Value {
    json!({
        "title": "为新茶饮品牌设计 logo 和门头",
        "description": "我们在杭州新开一家茶饮店，需要一个简洁、易记的 logo，附名片和门头效果图，两周内完成。",
        "category": "logo-design",
        "budget_min": "2000.00",
        "budget_max": "3000.00"
    })
}

async fn post_brief(api: &Api, who: &Party, body: Value) -> Value {
    let a = api.post_auth("/briefs", &who.access, body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"].clone()
}

async fn bid(api: &Api, who: &Party, brief: &str, price: &str, days: u32) -> Value {
    let a = api
        .post_auth(
            &format!("/briefs/{brief}/proposals"),
            &who.access,
            json!({"price": price, "delivery_days": days, "revisions": 2,
                   "message": format!("我做过很多茶饮品牌的 logo，报价 {price} 元，{days} 天交付。")}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    a.body["data"].clone()
}

async fn wallet(api: &Api, p: &Party) -> Value {
    let a = api.get_auth("/payments/wallet", &p.access).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["data"].clone()
}

/// The acceptance path, in Chinese: a ¥2,000–3,000 brief, three bids, the ¥2,600 one
/// accepted (twice: one order), paid from the wallet, delivered and accepted; each seller
/// sees only their own bid, the others end declined; wallets exact to the fen.
#[tokio::test]
async fn a_buyer_posts_a_brief_three_sellers_bid_and_the_chosen_bid_becomes_a_paid_order() {
    let api = Api::connect();
    let client = buyer(&api, "3000.00").await;
    let brief = post_brief(&api, &client, brief_body()).await;
    let id = brief["id"].as_str().unwrap().to_owned();
    assert_eq!(brief["status"], "open");
    assert_eq!(brief["budget_type"], "range");
    assert_eq!(
        (brief["budget_min"].as_str(), brief["budget_max"].as_str()),
        (Some("2000.00"), Some("3000.00"))
    );
    // Found in the open list and the category, by budget; not below it.
    let open = api
        .get("/briefs?category=logo-design&budget_min=2500.00")
        .await;
    assert!(
        open.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["id"] == id.as_str()),
        "{}",
        open.body
    );
    let cheap = api.get("/briefs?budget_max=1000.00").await;
    assert!(
        !cheap.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["id"] == id.as_str())
    );
    let (a, b, c) = (seller(&api).await, seller(&api).await, seller(&api).await);
    bid(&api, &a, &id, "2800.00", 14).await;
    let chosen = bid(&api, &b, &id, "2600.00", 10).await;
    bid(&api, &c, &id, "2900.00", 7).await;
    // One bid per seller.
    let again = api
        .post_auth(
            &format!("/briefs/{id}/proposals"),
            &a.access,
            json!({"price": "2500.00", "delivery_days": 9, "message": "再报一次价，便宜一些可以吗？"}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["code"], "proposal.duplicate");
    // The buyer sees three; a seller only their own.
    let all = api
        .get_auth(&format!("/briefs/{id}/proposals"), &client.access)
        .await;
    assert_eq!(
        all.body["data"].as_array().unwrap().len(),
        3,
        "{}",
        all.body
    );
    let own = api
        .get_auth(&format!("/briefs/{id}/proposals"), &a.access)
        .await;
    let own = own.body["data"].as_array().unwrap().clone();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["seller"]["id"], a.id.as_str());
    assert_eq!(
        api.get(&format!("/briefs/{id}")).await.body["data"]["proposals_count"],
        3
    );
    // Accepted: an unpaid order at the proposal's price and terms.
    let path = format!(
        "/briefs/{id}/proposals/{}/accept",
        chosen["id"].as_str().unwrap()
    );
    let accepted = api.post_auth(&path, &client.access, json!({})).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(
        accepted.body["message"],
        "已选定卖家，订单已生成，请在30分钟内付款"
    );
    let order = accepted.body["data"].clone();
    assert_eq!(order["origin"], "proposal");
    assert_eq!(order["brief"]["id"], id.as_str());
    assert_eq!(order["service"], Value::Null);
    assert_eq!(order["total_amount"], "2600.00");
    assert_eq!(order["package"]["delivery_days"], 10);
    assert_eq!(order["package"]["revisions"], 2);
    assert_eq!(order["freelancer"]["id"], b.id.as_str());
    // Accepting it again is the same order; accepting another is refused.
    let twice = api.post_auth(&path, &client.access, json!({})).await;
    assert_eq!(twice.body["data"]["id"], order["id"], "{}", twice.body);
    let listed = api
        .get_auth(&format!("/briefs/{id}/proposals"), &client.access)
        .await;
    let other = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["seller"]["id"] == c.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(other["status"], "declined");
    let second = api
        .post_auth(
            &format!(
                "/briefs/{id}/proposals/{}/accept",
                other["id"].as_str().unwrap()
            ),
            &client.access,
            json!({}),
        )
        .await;
    assert_eq!(second.status, 409, "{}", second.body);
    assert_eq!(second.body["code"], "brief.not_open");
    let awarded = api.get_auth(&format!("/briefs/{id}"), &client.access).await;
    assert_eq!(awarded.body["data"]["status"], "awarded");
    assert_eq!(awarded.body["data"]["order_id"], order["id"]);
    // Paid, delivered, accepted: the same escrow as any order.
    let order_id = order["id"].as_str().unwrap().to_owned();
    let paid = pay(&api, &client, &order_id).await;
    assert_eq!(paid["status"], "in_progress");
    assert_eq!(wallet(&api, &client).await["balance"], "400.00");
    // The seller asks for 3 more days; the buyer agrees: the deadline moves by exactly 3 days.
    let deadline =
        chrono::DateTime::parse_from_rfc3339(paid["delivery_deadline"].as_str().unwrap()).unwrap();
    let asked = act(
        &api,
        &b,
        &order_id,
        "extension",
        json!({"days": 3, "reason": "门头效果图需要实地拍照，想再多三天"}),
    )
    .await;
    assert_eq!(asked.status, 201, "{}", asked.body);
    assert_eq!(asked.body["data"]["extension_request"]["days"], 3);
    let not_mine = act(
        &api,
        &client,
        &order_id,
        "extension",
        json!({"days": 3, "reason": "买家不能申请延期"}),
    )
    .await;
    assert_eq!(not_mine.status, 404, "{}", not_mine.body);
    assert_eq!(not_mine.body["code"], "order.wrong_party");
    let agreed = act(
        &api,
        &client,
        &order_id,
        "extension/respond",
        json!({"accept": true}),
    )
    .await;
    assert_eq!(agreed.status, 200, "{}", agreed.body);
    assert_eq!(agreed.body["message"], "已同意延期，交付期限已顺延");
    assert_eq!(agreed.body["data"]["extension_request"], Value::Null);
    let moved = chrono::DateTime::parse_from_rfc3339(
        agreed.body["data"]["delivery_deadline"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(moved - deadline, chrono::Duration::days(3));
    // A ¥200 extra, paid from the wallet into the same escrow.
    let extra = act(
        &api,
        &client,
        &order_id,
        "extras",
        json!({"kind": "item", "description": "加做一套门头效果图", "price": "200.00"}),
    )
    .await;
    assert_eq!(extra.status, 201, "{}", extra.body);
    assert_eq!(extra.body["data"]["total_amount"], "2800.00");
    assert_eq!(extra.body["data"]["extras"][0]["price"], "200.00");
    let cw = wallet(&api, &client).await;
    assert_eq!(
        (cw["balance"].as_str(), cw["frozen_balance"].as_str()),
        (Some("200.00"), Some("2800.00"))
    );
    deliver(&api, &b, &order_id).await;
    let done = act(&api, &client, &order_id, "accept", json!({})).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let (fee, earned) = (
        done.body["data"]["platform_fee"]
            .as_str()
            .unwrap()
            .to_owned(),
        done.body["data"]["freelancer_earnings"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let fen = |s: &str| -> i64 { (s.parse::<f64>().unwrap() * 100.0).round() as i64 };
    assert_eq!(fen(&fee) + fen(&earned), 280_000);
    // A ¥50 tip once the order is done: the commission kept, the rest in the seller's balance.
    let tipped = act(&api, &client, &order_id, "tip", json!({"amount": "50.00"})).await;
    assert_eq!(tipped.status, 200, "{}", tipped.body);
    let tip_fee = tipped.body["data"]["tip"]["fee"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = act(&api, &client, &order_id, "tip", json!({"amount": "50.00"})).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.body["code"], "order.already_tipped");
    // Everyone was told: the buyer of each bid, the chosen seller and the ones not chosen.
    let told = |who: &Party, kind: &'static str| {
        let access = who.access.clone();
        let api = &api;
        async move {
            crate::safety::eventually(kind, || {
                let access = access.clone();
                async move {
                    let n = api.get_auth("/messaging/notifications", &access).await;
                    n.body["data"]["items"]
                        .as_array()?
                        .iter()
                        .find(|x| x["notification_type"] == kind)
                        .cloned()
                }
            })
            .await
        }
    };
    let received = told(&client, "proposal.received").await;
    assert_eq!(received["title_zh"], "收到新投标", "{received}");
    assert_eq!(
        told(&b, "proposal.accepted").await["related_id"],
        id.as_str()
    );
    told(&a, "proposal.declined").await;
    told(&c, "proposal.declined").await;
    // Both sides review: the buyer the seller, the seller the buyer (once), which sellers
    // then see on the buyer's next brief.
    let review = act(
        &api,
        &client,
        &order_id,
        "review",
        json!({"rating": 5, "comment": "设计很用心，沟通顺畅"}),
    )
    .await;
    assert_eq!(review.status, 201, "{}", review.body);
    // Sealed: the seller cannot read the buyer's review until reviewing the buyer too.
    let seen_by_seller = api
        .get_auth(&format!("/orders/{order_id}"), &b.access)
        .await;
    assert_eq!(
        seen_by_seller.body["data"]["review"],
        Value::Null,
        "{}",
        seen_by_seller.body
    );
    assert_eq!(seen_by_seller.body["data"]["awaiting_your_review"], true);
    let of_buyer = act(
        &api,
        &b,
        &order_id,
        "client-review",
        json!({"rating": 4, "comment": "需求清楚，付款及时"}),
    )
    .await;
    assert_eq!(of_buyer.status, 201, "{}", of_buyer.body);
    // Both are in: both shown, to both.
    assert_eq!(of_buyer.body["data"]["sealed_until"], Value::Null);
    let seen_by_seller = api
        .get_auth(&format!("/orders/{order_id}"), &b.access)
        .await;
    assert_eq!(seen_by_seller.body["data"]["review"]["rating"], 5);
    assert_eq!(
        seen_by_seller.body["data"]["review"]["sealed_until"],
        Value::Null
    );
    let seen_by_buyer = api
        .get_auth(&format!("/orders/{order_id}"), &client.access)
        .await;
    assert_eq!(seen_by_buyer.body["data"]["client_review"]["rating"], 4);
    let twice = act(
        &api,
        &b,
        &order_id,
        "client-review",
        json!({"rating": 5, "comment": "再评一次"}),
    )
    .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    let not_theirs = act(
        &api,
        &client,
        &order_id,
        "client-review",
        json!({"rating": 1, "comment": "买家不能评价自己"}),
    )
    .await;
    assert_eq!(not_theirs.status, 404, "{}", not_theirs.body);
    let next = post_brief(&api, &client, brief_body()).await;
    let seen = api
        .get_auth(
            &format!("/briefs/{}", next["id"].as_str().unwrap()),
            &a.access,
        )
        .await;
    assert_eq!(
        seen.body["data"]["client_rating"]["reviews"], 1,
        "{}",
        seen.body
    );
    assert_eq!(seen.body["data"]["client_rating"]["average"], "4.00");
    let cw = wallet(&api, &client).await;
    assert_eq!(
        (
            cw["balance"].as_str(),
            cw["frozen_balance"].as_str(),
            cw["total_spent"].as_str()
        ),
        (Some("150.00"), Some("0.00"), Some("2850.00"))
    );
    let sw = wallet(&api, &b).await;
    assert_eq!(sw["pending_clearance"], earned.as_str());
    assert_eq!(fen(sw["balance"].as_str().unwrap()), 5_000 - fen(&tip_fee));
    assert_eq!(
        fen(sw["total_earned"].as_str().unwrap()),
        fen(&earned) + 5_000 - fen(&tip_fee)
    );
    assert_eq!(sw["clearances"][0]["order_id"], order_id.as_str());
}

/// Briefs are checked field by field and moderated; another buyer's brief cannot be edited or
/// closed (404); a buyer may not bid on their own; a closed brief takes no bids; only sellers
/// bid; a withdrawn bid is gone from the count.
#[tokio::test]
async fn briefs_are_checked_owned_and_closed_and_bids_follow_the_rules() {
    let api = Api::connect();
    let client = buyer(&api, "0").await;
    let bad = api
        .post_auth(
            "/briefs",
            &client.access,
            json!({"title": "logo", "description": "太短", "category": "nope",
                   "budget_min": "3000.00", "budget_max": "2000.00"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for field in ["title", "description", "category", "budget_max"] {
        assert!(
            bad.body["errors"][field].is_array(),
            "{field}: {}",
            bad.body
        );
    }
    let contact = api
        .post_auth(
            "/briefs",
            &client.access,
            json!({"title": "设计一个 logo，加我微信详谈",
                   "description": "需要一个茶饮店 logo，具体需求加微信 abc123456 详聊，价格好商量。",
                   "category": "logo-design", "budget": "500.00"}),
        )
        .await;
    assert_eq!(contact.status, 422, "{}", contact.body);
    assert!(
        contact.body["code"]
            .as_str()
            .unwrap()
            .starts_with("moderation."),
        "{}",
        contact.body
    );
    let brief = post_brief(&api, &client, json!({
        "title": "企业宣传册设计", "description": "为一家茶叶公司设计 16 页宣传册，提供可直接印刷的文件。",
        "category": "logo-design", "budget": "1500.00", "visibility": "unlisted"}))
    .await;
    let id = brief["id"].as_str().unwrap().to_owned();
    assert_eq!(brief["budget_type"], "fixed");
    // Unlisted: reachable by its link, not in the lists.
    assert_eq!(api.get(&format!("/briefs/{id}")).await.status, 200);
    let listed = api.get("/briefs?limit=100").await;
    assert!(
        !listed.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["id"] == id.as_str())
    );
    let mine = api.get_auth("/briefs?mine=true", &client.access).await;
    assert_eq!(
        mine.body["data"]["items"][0]["id"],
        id.as_str(),
        "{}",
        mine.body
    );
    // Another buyer: 404 on edit and close.
    let stranger = buyer(&api, "0").await;
    for a in [
        api.patch_auth(
            &format!("/briefs/{id}"),
            &stranger.access,
            json!({"budget": "1800.00"}),
        )
        .await,
        api.post_auth(&format!("/briefs/{id}/close"), &stranger.access, json!({}))
            .await,
    ] {
        assert_eq!(a.status, 404, "{}", a.body);
        assert_eq!(a.body["code"], "brief.not_found");
    }
    // A buyer who is not a seller cannot bid; a seller bids, withdraws, the count follows.
    let refused = api
        .post_auth(
            &format!("/briefs/{id}/proposals"),
            &stranger.access,
            json!({"price": "1500.00", "delivery_days": 5, "message": "我可以做，五天交付。"}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.body["code"], "proposal.sellers_only");
    let s = seller(&api).await;
    let p = bid(&api, &s, &id, "1500.00", 5).await;
    let edited = api
        .patch_auth(
            &format!("/briefs/{id}"),
            &client.access,
            json!({"budget": "1800.00"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["data"]["budget_max"], "1800.00");
    assert_eq!(edited.body["data"]["proposals_count"], 1);
    let w = api
        .post_auth(
            &format!(
                "/briefs/{id}/proposals/{}/withdraw",
                p["id"].as_str().unwrap()
            ),
            &s.access,
            json!({}),
        )
        .await;
    assert_eq!(w.status, 200, "{}", w.body);
    assert_eq!(w.body["data"]["status"], "withdrawn");
    assert_eq!(
        api.get(&format!("/briefs/{id}")).await.body["data"]["proposals_count"],
        0
    );
    // Closed: no more bids, no edits.
    let closed = api
        .post_auth(&format!("/briefs/{id}/close"), &client.access, json!({}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["data"]["status"], "closed");
    let late = api
        .post_auth(
            &format!("/briefs/{id}/proposals"),
            &seller(&api).await.access,
            json!({"price": "1500.00", "delivery_days": 5, "message": "还来得及吗？五天交付。"}),
        )
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(late.body["code"], "brief.not_open");
}

/// A buyer attaches files to a brief through the upload route: each is read through when it
/// is attached (an executable sent as a PDF is refused), sellers download it from the brief,
/// and another buyer's upload cannot be attached.
#[tokio::test]
async fn a_brief_carries_files_the_buyer_uploaded_and_sellers_download() {
    use gigbao_tests::put_upload as put;
    let api = Api::connect();
    let client = buyer(&api, "0").await;
    let other = buyer(&api, "0").await;
    let s = seller(&api).await;
    let upload = |who: &Party, bytes: Vec<u8>| {
        let access = who.access.clone();
        let api = &api;
        async move {
            let t = api
                .post_auth(
                    "/briefs/attachments",
                    &access,
                    json!({"content_type": "application/pdf", "content_length": bytes.len()}),
                )
                .await;
            assert_eq!(t.status, 201, "{}", t.body);
            assert_eq!(put(&t.body["data"], bytes).await, 200);
            t.body["data"]["key"].as_str().unwrap().to_owned()
        }
    };
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let key = upload(&client, pdf.clone()).await;
    assert!(
        key.starts_with(&format!("uploads/briefs/{}/", client.id)),
        "{key}"
    );
    // A type that is not accepted, and a file too large, are refused before any upload.
    let exe_type = api
        .post_auth(
            "/briefs/attachments",
            &client.access,
            json!({"content_type": "application/x-msdownload", "content_length": 10}),
        )
        .await;
    assert_eq!(exe_type.status, 422, "{}", exe_type.body);
    let large = api
        .post_auth(
            "/briefs/attachments",
            &client.access,
            json!({"content_type": "application/pdf", "content_length": 21 * 1024 * 1024}),
        )
        .await;
    assert_eq!(large.status, 413, "{}", large.body);

    let mut body = brief_body();
    body["attachments"] = json!([{"key": key, "name": "品牌需求说明.pdf"}]);
    let brief = post_brief(&api, &client, body).await;
    let id = brief["id"].as_str().unwrap();
    assert_eq!(brief["attachments"][0]["name"], "品牌需求说明.pdf");
    assert_eq!(brief["attachments"][0]["size"], pdf.len());
    // A seller reads the brief and downloads the file, byte for byte.
    let seen = api.get_auth(&format!("/briefs/{id}"), &s.access).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    let url = seen.body["data"]["attachments"][0]["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = reqwest::get(&url).await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), pdf);
    // Lists carry no links.
    let mine = api.get_auth("/briefs?mine=true", &client.access).await;
    let listed = mine.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id)
        .cloned()
        .unwrap();
    assert_eq!(listed["attachments"][0]["download_url"], Value::Null);

    // Another buyer's upload is not theirs to attach; an executable sent as a PDF is refused;
    // neither changes the brief.
    let theirs = upload(&other, pdf.clone()).await;
    let refused = api
        .patch_auth(
            &format!("/briefs/{id}"),
            &client.access,
            json!({"attachments": [{"key": key, "name": "说明.pdf"}, {"key": theirs, "name": "别人的.pdf"}]}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["code"], "brief.attachment_missing");
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00rest of it".to_vec();
    let fake = upload(&client, exe).await;
    let refused = api
        .patch_auth(
            &format!("/briefs/{id}"),
            &client.access,
            json!({"attachments": [{"key": fake, "name": "合同.pdf"}]}),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["code"], "brief.attachment_mismatch");
    assert!(refused.body["errors"]["attachments"][0].as_str().is_some());
    let still = api.get_auth(&format!("/briefs/{id}"), &s.access).await;
    assert_eq!(
        still.body["data"]["attachments"][0]["name"],
        "品牌需求说明.pdf"
    );
    // Sending the list without it removes it.
    let removed = api
        .patch_auth(
            &format!("/briefs/{id}"),
            &client.access,
            json!({"attachments": []}),
        )
        .await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["data"]["attachments"], json!([]));
}

/// A seller's own proposals across briefs, newest first, each with its brief; nobody else's.
#[tokio::test]
async fn a_seller_lists_their_proposals_across_briefs() {
    let api = Api::connect();
    let (c1, c2) = (buyer(&api, "0").await, buyer(&api, "0").await);
    let (s, rival) = (seller(&api).await, seller(&api).await);
    let first = post_brief(&api, &c1, brief_body()).await;
    let second = post_brief(&api, &c2, brief_body()).await;
    let (b1, b2) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    bid(&api, &s, b1, "2500.00", 10).await;
    bid(&api, &rival, b1, "2400.00", 12).await;
    bid(&api, &s, b2, "2800.00", 9).await;
    // The first buyer closes theirs: that proposal shows declined.
    let closed = api
        .post_auth(&format!("/briefs/{b1}/close"), &c1.access, json!({}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    let mine = api.get_auth("/proposals", &s.access).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let items = mine.body["data"]["items"].as_array().unwrap().clone();
    let briefs: Vec<&str> = items
        .iter()
        .map(|p| p["brief"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(briefs, [b2, b1], "newest first, only mine: {}", mine.body);
    assert_eq!(items[0]["status"], "submitted");
    assert_eq!(items[0]["price"], "2800.00");
    assert_eq!(items[0]["brief"]["title"], "为新茶饮品牌设计 logo 和门头");
    assert_eq!(items[1]["status"], "declined");
    assert_eq!(items[1]["brief"]["status"], "closed");
    // Paged with a cursor.
    let one = api.get_auth("/proposals?limit=1", &s.access).await;
    let cursor = one.body["data"]["next_cursor"].as_str().unwrap().to_owned();
    let next = api
        .get_auth(&format!("/proposals?limit=1&cursor={cursor}"), &s.access)
        .await;
    assert_eq!(next.body["data"]["items"][0]["brief"]["id"], b1);
    // A buyer with no proposals sees none.
    let none = api.get_auth("/proposals", &c1.access).await;
    assert_eq!(none.body["data"]["items"], json!([]));
}
