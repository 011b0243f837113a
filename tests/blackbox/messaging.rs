//! Messaging, notifications and real time, over HTTP and two real WebSocket clients.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Frame;

use super::orders::{Party, buyer, order, pay, seller, service};
use super::{Api, register_freelancer};

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A client's WebSocket, remembering every push it received.
pub(crate) struct Socket {
    ws: Stream,
    seen: Vec<Value>,
}

impl Socket {
    async fn send(&mut self, text: &str) {
        self.ws.send(Frame::text(text)).await.unwrap();
    }

    async fn close(&mut self) {
        self.ws.close(None).await.unwrap();
    }
}

pub(crate) async fn socket(access: &str) -> Socket {
    let url = format!("{}?token={access}", gigbao_tests::env("GIGBAO_WS_URL"));
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    Socket { ws, seen: vec![] }
}

/// A push of `kind` that `matches`, received already or within `within`.
pub(crate) async fn next_push(
    s: &mut Socket,
    kind: &str,
    within: Duration,
    matches: impl Fn(&Value) -> bool,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut checked = 0;
    loop {
        for v in &s.seen[checked..] {
            if v["type"] == kind && matches(&v["data"]) {
                return Some(v["data"].clone());
            }
        }
        checked = s.seen.len();
        let frame = tokio::time::timeout_at(deadline, s.ws.next())
            .await
            .ok()??
            .ok()?;
        if let Frame::Text(text) = frame {
            s.seen.push(serde_json::from_str(text.as_str()).unwrap());
        }
    }
}

async fn client(api: &Api) -> Party {
    let (_, _, data) = api.register("liaotian").await;
    Party {
        access: data["access"].as_str().unwrap().to_owned(),
        id: data["user"]["id"].as_str().unwrap().to_owned(),
    }
}

pub(crate) async fn freelancer(api: &Api) -> Party {
    let (_, _, data) = register_freelancer(api, "huifu").await;
    Party {
        access: data["access"].as_str().unwrap().to_owned(),
        id: data["user"]["id"].as_str().unwrap().to_owned(),
    }
}

pub(crate) async fn open(api: &Api, from: &Party, to: &Party) -> String {
    let a = api
        .post_auth(
            "/messaging/conversations",
            &from.access,
            json!({"participant_id": to.id}),
        )
        .await;
    assert!(a.status == 201 || a.status == 200, "{}", a.body);
    a.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn say(api: &Api, from: &Party, conversation: &str, text: &str) -> super::Answer {
    api.post_auth(
        &format!("/messaging/conversations/{conversation}/messages"),
        &from.access,
        json!({ "content": text }),
    )
    .await
}

async fn conversation_of(api: &Api, who: &Party, id: &str) -> Value {
    let a = api.get_auth("/messaging/conversations", &who.access).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_message_reaches_the_other_socket_and_unread_counts_follow() {
    let api = Api::connect();
    let (a, b) = (client(&api).await, freelancer(&api).await);
    let mut a_ws = socket(&a.access).await;
    let mut b_ws = socket(&b.access).await;

    let id = open(&api, &a, &b).await;
    // Opening it again (from either side) finds the same conversation.
    let again = api
        .post_auth(
            "/messaging/conversations",
            &a.access,
            json!({"participant_id": b.id}),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["data"]["id"], id.as_str());

    let started = Instant::now();
    let sent = say(&api, &a, &id, "你好，Logo 三天能交付吗？").await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert!(sent.body["data"]["warning"].is_null());
    let message_id = sent.body["data"]["id"].as_str().unwrap().to_owned();
    // The push goes out before the send is answered: B has it within a second of sending.
    let pushed = next_push(&mut b_ws, "message", Duration::from_secs(1), |d| {
        d["id"] == message_id.as_str()
    })
    .await
    .expect("B's socket got the message within a second");
    eprintln!("message pushed to B in {:?}", started.elapsed());
    assert_eq!(pushed["content"], "你好，Logo 三天能交付吗？");
    assert_eq!(pushed["sender_id"], a.id.as_str());
    // A's other devices see it too.
    assert!(
        next_push(&mut a_ws, "message", Duration::from_secs(1), |d| d["id"]
            == message_id.as_str())
        .await
        .is_some()
    );

    let seen = conversation_of(&api, &b, &id).await;
    assert_eq!(seen["unread_count"], 1, "{seen}");
    assert_eq!(seen["other_user"]["id"], a.id.as_str());
    assert_eq!(seen["last_message"]["preview"], "你好，Logo 三天能交付吗？");
    let theirs = api
        .get_auth(
            &format!("/messaging/conversations/{id}/messages"),
            &a.access,
        )
        .await;
    assert_eq!(theirs.body["data"]["items"][0]["is_read"], false);

    let read = api
        .post_auth(
            &format!("/messaging/conversations/{id}/read"),
            &b.access,
            json!({}),
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(conversation_of(&api, &b, &id).await["unread_count"], 0);
    // A's read receipt.
    let theirs = api
        .get_auth(
            &format!("/messaging/conversations/{id}/messages"),
            &a.access,
        )
        .await;
    assert_eq!(theirs.body["data"]["items"][0]["is_read"], true);

    // B replies; the stream turns A's message into a notification pushed to B.
    let note = next_push(&mut b_ws, "notification", Duration::from_secs(20), |d| {
        d["notification_type"] == "message.received" && d["related_id"] == id.as_str()
    })
    .await
    .expect("a notification of the new message");
    assert_eq!(note["title_zh"], "新消息");
    assert!(note["message"].as_str().unwrap().contains("Logo"));
}

#[tokio::test]
async fn ping_is_answered_and_a_socket_without_a_valid_token_is_refused() {
    let api = Api::connect();
    let a = client(&api).await;
    let mut ws = socket(&a.access).await;
    ws.send(r#"{"action": "ping"}"#).await;
    assert!(
        next_push(&mut ws, "pong", Duration::from_secs(10), |_| true)
            .await
            .is_some()
            || ws.seen.iter().any(|v| v["type"] == "pong")
    );
    ws.send(r#"{"action": "subscribe"}"#).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ws.seen.iter().any(|v| v["type"] == "error") {
        assert!(Instant::now() < deadline, "{:?}", ws.seen);
        next_push(&mut ws, "error", Duration::from_secs(1), |_| true).await;
    }
    let error = ws.seen.iter().find(|v| v["type"] == "error").unwrap();
    assert_eq!(error["code"], "ws.unknown_action");

    let base = gigbao_tests::env("GIGBAO_WS_URL");
    for url in [base.clone(), format!("{base}?token=not-a-token")] {
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 401)
            }
            other => panic!("connected without a valid token: {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn an_order_event_reaches_the_freelancer_socket() {
    let api = Api::connect();
    let seller = seller(&api).await;
    let buyer = buyer(&api, "1000.00").await;
    let svc = service(&api, &seller).await;
    let mut ws = socket(&seller.access).await;
    let placed = order(&api, &buyer, &svc, "basic").await;
    let id = placed["id"].as_str().unwrap().to_owned();
    pay(&api, &buyer, &id).await;
    let change = next_push(&mut ws, "order", Duration::from_secs(20), |d| {
        d["order_id"] == id.as_str() && d["event"] == "order.paid"
    })
    .await
    .expect("the paid order reached the freelancer's socket");
    assert_eq!(change["by"], "client");
    let note = next_push(&mut ws, "notification", Duration::from_secs(20), |d| {
        d["related_id"] == id.as_str() && d["notification_type"] == "order.paid"
    })
    .await
    .expect("the freelancer's notification");
    assert_eq!(note["title_zh"], "订单已付款");

    // The order's conversation carries the events as system messages, and the parties talk
    // there; after payment contact details are still masked.
    let sent = api
        .post_auth(
            &format!("/orders/{id}/messages"),
            &buyer.access,
            json!({"content": "需求见附件说明，电话 138 0013 8000"}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(
        sent.body["data"]["warning"]["code"],
        "message.contact_info_blocked"
    );
    assert!(
        !sent.body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("138")
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = api
            .get_auth(&format!("/orders/{id}/messages"), &seller.access)
            .await;
        assert_eq!(list.status, 200, "{}", list.body);
        let items = list.body["data"]["items"].as_array().unwrap().clone();
        let system: Vec<&Value> = items
            .iter()
            .filter(|m| m["message_type"] == "system")
            .collect();
        if system.iter().any(|m| {
            m["content"] == "买家已付款，款项由平台托管 · Paid; the money is held in escrow"
        }) {
            assert!(items.iter().any(|m| m["sender_id"] == buyer.id.as_str()));
            break;
        }
        assert!(Instant::now() < deadline, "no system message: {items:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_closed_socket_is_forgotten_on_the_next_push() {
    let api = Api::connect();
    let (a, b) = (client(&api).await, freelancer(&api).await);
    let store = gigbao_tests::stack_store().await;
    let user: shared::domain::UserId = b.id.parse().unwrap();
    // B's welcome notification is pushed right after it is written; wait until it is there,
    // so that the message below is the first push to meet the dead connection.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let notes = api.get_auth("/messaging/notifications", &b.access).await;
        if notes.body["data"]["items"].to_string().contains("welcome") {
            break;
        }
        assert!(Instant::now() < deadline, "no welcome notification");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut live = socket(&b.access).await;
    // A connection API Gateway no longer knows (the client vanished without a $disconnect).
    let now = Utc::now();
    store
        .put_connection(
            "gone-connection=",
            user,
            now,
            now + chrono::Duration::hours(2),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .user_connections(user, Utc::now())
            .await
            .unwrap()
            .len(),
        2
    );
    let id = open(&api, &a, &b).await;
    let sent = say(&api, &a, &id, "在吗？").await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert!(
        next_push(&mut live, "message", Duration::from_secs(5), |_| true)
            .await
            .is_some()
    );
    let left = store.user_connections(user, Utc::now()).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], "gone-connection=");
    // A socket that closes says goodbye: it is forgotten at once.
    live.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !store
        .user_connections(user, Utc::now())
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the closed socket was not forgotten"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn contact_details_are_masked_the_sender_warned_and_repeaters_reported() {
    let api = Api::connect();
    let (a, b) = (client(&api).await, freelancer(&api).await);
    let id = open(&api, &a, &b).await;
    for (n, text) in [
        "加我微信 abc123456 详谈",
        "一三八零零一三八零零零",
        "Q群 12345678",
    ]
    .iter()
    .enumerate()
    {
        let sent = api
            .send(
                api.request(
                    reqwest::Method::POST,
                    &format!("/messaging/conversations/{id}/messages"),
                )
                .bearer_auth(&a.access)
                .header("accept-language", if n == 0 { "en" } else { "zh-CN" })
                .json(&json!({ "content": text })),
            )
            .await;
        assert_eq!(sent.status, 201, "{}", sent.body);
        let w = &sent.body["data"]["warning"];
        assert_eq!(w["code"], "message.contact_info_blocked", "{text}");
        assert!(w["message_zh"].as_str().unwrap().contains("联系方式"));
        if n == 0 {
            assert!(
                sent.body["message"]
                    .as_str()
                    .unwrap()
                    .contains("Contact details")
            );
        }
        let content = sent.body["data"]["content"].as_str().unwrap();
        assert!(sent.body["data"]["is_masked"].as_bool().unwrap());
        assert!(
            !content.contains("abc123456") && !content.contains("12345678"),
            "{content}"
        );
    }
    let list = api
        .get_auth(
            &format!("/messaging/conversations/{id}/messages"),
            &b.access,
        )
        .await;
    let text = list.body["data"]["items"].to_string();
    assert!(
        !text.contains("abc123456") && !text.contains("一三八"),
        "{text}"
    );
    // The third attempt filed a report for the moderators.
    let store = gigbao_tests::stack_store().await;
    let page = store
        .list_reports(
            shared::domain::report::ReportStatus::Pending,
            Some(shared::domain::report::TargetType::User),
            1000,
            None,
        )
        .await
        .unwrap();
    let mine: Vec<_> = page.items.iter().filter(|r| r.target_id == a.id).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].reason.as_str(), "off_platform_contact");
    assert_eq!(mine[0].reporter_id, "system");
}

#[tokio::test]
async fn thirty_messages_a_minute_then_429() {
    let api = Api::connect();
    let (a, b) = (client(&api).await, freelancer(&api).await);
    let id = open(&api, &a, &b).await;
    // A fixed one-minute window: a burst that straddles its end gets a second allowance,
    // never a third.
    let mut refused = None;
    for n in 1..=61 {
        let r = say(&api, &a, &id, &format!("第 {n} 条")).await;
        if r.status == 429 {
            refused = Some((n, r));
            break;
        }
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (n, r) = refused.expect("a burst of 61 messages was never limited");
    assert!((31..=61).contains(&n), "refused at {n}");
    assert_eq!(r.body["code"], "rate_limited", "{}", r.body);
    assert!(r.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn only_participants_reach_a_conversation_or_an_order_thread() {
    let api = Api::connect();
    let (a, b, c) = (
        client(&api).await,
        freelancer(&api).await,
        client(&api).await,
    );
    let id = open(&api, &a, &b).await;
    assert_eq!(say(&api, &a, &id, "你好").await.status, 201);
    let seller = seller(&api).await;
    let buyer = buyer(&api, "0").await;
    let svc = service(&api, &seller).await;
    let placed = order(&api, &buyer, &svc, "basic").await;
    let order_id = placed["id"].as_str().unwrap();
    let tries = [
        (
            "GET",
            format!("/messaging/conversations/{id}/messages"),
            Value::Null,
        ),
        (
            "POST",
            format!("/messaging/conversations/{id}/messages"),
            json!({"content": "x"}),
        ),
        (
            "POST",
            format!("/messaging/conversations/{id}/read"),
            json!({}),
        ),
        (
            "POST",
            format!("/messaging/conversations/{id}/attachments"),
            json!({"content_type": "image/png", "content_length": 100}),
        ),
        ("GET", format!("/orders/{order_id}/messages"), Value::Null),
        (
            "POST",
            format!("/orders/{order_id}/messages"),
            json!({"content": "x"}),
        ),
        (
            "POST",
            "/messaging/conversations".to_owned(),
            json!({"order_id": order_id}),
        ),
    ];
    for (method, path, body) in tries {
        let r = if method == "GET" {
            api.get_auth(&path, &c.access).await
        } else {
            api.post_auth(&path, &c.access, body).await
        };
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
    // C does not see A and B's conversation in their list either.
    assert!(conversation_of(&api, &c, &id).await.is_null());
    // Another user's notification is not there to read.
    // (Notifications are written by a worker from the stream: wait for A's first.)
    let note_id = crate::safety::eventually("a notification of A", || async {
        let notes = api.get_auth("/messaging/notifications", &a.access).await;
        notes.body["data"]["items"][0]["id"]
            .as_str()
            .map(str::to_owned)
    })
    .await;
    let r = api
        .post_auth(
            &format!("/messaging/notifications/{note_id}/read"),
            &c.access,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // A client cannot cold-message another client.
    let r = api
        .post_auth(
            "/messaging/conversations",
            &a.access,
            json!({"participant_id": c.id}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["code"], "conversation.recipient_not_freelancer");
}

#[tokio::test]
async fn notifications_are_listed_filtered_and_read() {
    let api = Api::connect();
    let (a, b) = (client(&api).await, freelancer(&api).await);
    let id = open(&api, &a, &b).await;
    for text in ["第一条", "第二条"] {
        assert_eq!(say(&api, &a, &id, text).await.status, 201);
    }
    // Welcome + two messages arrive through the stream.
    let deadline = Instant::now() + Duration::from_secs(20);
    let unread = loop {
        let r = api
            .get_auth("/messaging/notifications?unread=true&limit=2", &b.access)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["data"]["unread_count"] == 3 {
            break r;
        }
        assert!(Instant::now() < deadline, "{}", r.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let items = unread.body["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let everything = api.get_auth("/messaging/notifications", &b.access).await;
    let kinds: Vec<&str> = everything.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["notification_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "message.received").count(),
        2,
        "{kinds:?}"
    );
    assert!(items[0]["title"].is_string() && items[0]["title_zh"].is_string());
    assert!(unread.body["data"]["next_cursor"].is_string());
    let first = items[0]["id"].as_str().unwrap();
    let r = api
        .post_auth(
            &format!("/messaging/notifications/{first}/read"),
            &b.access,
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api
        .get_auth("/messaging/notifications?unread=true", &b.access)
        .await;
    assert_eq!(r.body["data"]["unread_count"], 2);
    assert!(!r.body["data"]["items"].to_string().contains(first));
    let r = api
        .post_auth("/messaging/notifications/read-all", &b.access, json!({}))
        .await;
    assert_eq!(r.body["data"]["updated"], 2, "{}", r.body);
    let r = api.get_auth("/messaging/notifications", &b.access).await;
    assert_eq!(r.body["data"]["unread_count"], 0);
    assert_eq!(r.body["data"]["items"].as_array().unwrap().len(), 3);
    assert!(r.body["data"]["items"][0]["is_read"].as_bool().unwrap());
}

#[tokio::test]
async fn answering_enquiries_sets_the_response_metrics() {
    let api = Api::connect();
    let b = freelancer(&api).await;
    service(&api, &b).await;
    for _ in 0..2 {
        let a = client(&api).await;
        let id = open(&api, &a, &b).await;
        assert_eq!(say(&api, &a, &id, "请问可以加急吗？").await.status, 201);
    }
    // B answers one of the two enquiries.
    let list = api.get_auth("/messaging/conversations", &b.access).await;
    let first = list.body["data"]["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(say(&api, &b, &first, "可以，加急一天").await.status, 201);
    let store = gigbao_tests::stack_store().await;
    let user: shared::domain::UserId = b.id.parse().unwrap();
    let (rate, hours) = shared::app::ranking::response_of(&store, user, Utc::now())
        .await
        .unwrap();
    assert_eq!((rate.to_string().as_str(), hours), ("50.00", 1));
    shared::app::ranking::run(&store, Utc::now()).await.unwrap();
    let profile = api.get(&format!("/users/{}", b.id)).await;
    let p = &profile.body["data"]["freelancer_profile"];
    assert_eq!(p["response_rate"], "50.00", "{}", profile.body);
    assert_eq!(p["response_time"], 1);
}
