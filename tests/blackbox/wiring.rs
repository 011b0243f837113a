use std::time::{Duration, Instant};

use serde_json::json;
use shared::domain::UserId;

use crate::Api;

#[tokio::test]
async fn health_is_served() {
    let api = Api::connect();
    let a = api.send(api.request(reqwest::Method::GET, "/health")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"]["status"], "ok");
    let _ = json!({});
}

/// register → table stream → stream-router → SQS → notification-dispatcher → a welcome
/// notification item: the whole asynchronous path of the local stack.
#[tokio::test]
async fn a_new_account_gets_a_welcome_notification_through_stream_and_queue() {
    let api = Api::connect();
    let (_, _, data) = api.register("welcome").await;
    let user: UserId = data["user"]["id"].as_str().unwrap().parse().unwrap();
    let store = gigbao_tests::stack_store().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let items = store.list_notifications(user, 10).await.unwrap();
        if let Some(n) = items.first() {
            assert_eq!(n.notification_type, "welcome");
            assert_eq!(n.title_zh, "欢迎加入Gigbao");
            assert_eq!(items.len(), 1);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no welcome notification after 90 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
