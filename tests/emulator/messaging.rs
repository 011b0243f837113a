//! Messaging against the emulator: counts stay exact under concurrent sends, the per-minute
//! limit is exact, and the response metrics read what the sends recorded.

use chrono::{Duration, TimeZone, Utc};
use gigbao_tests::{fresh_store, new_user};
use shared::app::messaging::{self, MessagingError, OpenRequest};
use shared::domain::UserType;
use shared::domain::messaging::{MessageInput, MessageKind};

fn text(s: &str) -> MessageInput {
    MessageInput {
        message_type: MessageKind::Text,
        content: s.to_owned(),
        file_key: None,
        file_name: None,
    }
}

#[tokio::test]
async fn concurrent_messages_are_each_counted_once() {
    let store = fresh_store().await;
    let a = new_user(&store, UserType::Client).await;
    let b = new_user(&store, UserType::Freelancer).await;
    let now = Utc::now();
    let open = OpenRequest {
        participant_id: Some(b.id),
        ..OpenRequest::default()
    };
    let (mine, created) = messaging::open(&store, &a, open.clone(), now)
        .await
        .unwrap();
    assert!(created);
    let (again, created) = messaging::open(&store, &a, open, now).await.unwrap();
    assert!(!created);
    assert_eq!(again.conversation_id, mine.conversation_id);
    let id = mine.conversation_id;
    let sends = (0..12)
        .map(|i| (&a, format!("A {i}")))
        .chain((0..4).map(|i| (&b, format!("B {i}"))))
        .map(|(who, t)| {
            let store = &store;
            async move { messaging::send(store, None, who, id, text(&t), Utc::now()).await }
        });
    for r in futures_util::future::join_all(sends).await {
        r.unwrap();
    }
    let a_side = store.get_membership(a.id, id).await.unwrap().unwrap();
    let b_side = store.get_membership(b.id, id).await.unwrap().unwrap();
    assert_eq!((a_side.unread, b_side.unread), (4, 12));
    let page = store.list_messages(id, 100, None).await.unwrap();
    assert_eq!(page.items.len(), 16);
    // Reading zeroes only the reader's count.
    messaging::read(&store, b.id, id, Utc::now()).await.unwrap();
    let b_side = store.get_membership(b.id, id).await.unwrap().unwrap();
    assert_eq!(b_side.unread, 0);
    assert_eq!(
        store
            .get_membership(a.id, id)
            .await
            .unwrap()
            .unwrap()
            .unread,
        4
    );
}

#[tokio::test]
async fn the_thirty_first_message_of_a_minute_is_refused() {
    let store = fresh_store().await;
    let a = new_user(&store, UserType::Client).await;
    let b = new_user(&store, UserType::Freelancer).await;
    let start = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
    let open = OpenRequest {
        participant_id: Some(b.id),
        ..OpenRequest::default()
    };
    let (mine, _) = messaging::open(&store, &a, open, start).await.unwrap();
    for i in 0..30 {
        let at = start + Duration::seconds(i);
        messaging::send(&store, None, &a, mine.conversation_id, text("hi"), at)
            .await
            .unwrap();
    }
    let late = start + Duration::seconds(45);
    match messaging::send(&store, None, &a, mine.conversation_id, text("hi"), late).await {
        Err(MessagingError::RateLimited(r)) => assert_eq!(r.retry_after_secs, 15),
        other => panic!("not limited: {other:?}"),
    }
    let next = start + Duration::seconds(60);
    messaging::send(&store, None, &a, mine.conversation_id, text("hi"), next)
        .await
        .unwrap();
    assert_eq!(
        store
            .list_messages(mine.conversation_id, 100, None)
            .await
            .unwrap()
            .items
            .len(),
        31
    );
}

#[tokio::test]
async fn enquiries_and_replies_give_the_response_metrics() {
    let store = fresh_store().await;
    let b = new_user(&store, UserType::Freelancer).await;
    let now = Utc::now();
    // Three enquiries: answered after 2 h, after 30 h, never. One conversation B started
    // does not count.
    for (answer_after, by_b_first) in [
        (Some(2), false),
        (Some(30), false),
        (None, false),
        (Some(1), true),
    ] {
        let a = new_user(&store, UserType::Freelancer).await;
        let start = now - Duration::days(3);
        let open = OpenRequest {
            participant_id: Some(b.id),
            ..OpenRequest::default()
        };
        let (m, _) = messaging::open(&store, &a, open, start).await.unwrap();
        let (first, second) = if by_b_first { (&b, &a) } else { (&a, &b) };
        messaging::send(&store, None, first, m.conversation_id, text("在吗"), start)
            .await
            .unwrap();
        if let Some(h) = answer_after {
            let at = start + Duration::hours(h);
            messaging::send(&store, None, second, m.conversation_id, text("在"), at)
                .await
                .unwrap();
        }
    }
    let (rate, hours) = shared::app::ranking::response_of(&store, b.id, now)
        .await
        .unwrap();
    assert_eq!(rate.to_string(), "33.33");
    // Mean of 2 h and 30 h.
    assert_eq!(hours, 16);
}

#[tokio::test]
async fn read_all_is_one_query_and_one_update_per_unread_notification() {
    use shared::store::NotificationRecord;
    use shared::telemetry::recording_dynamodb;
    // GIVEN a user with three unread notifications, on a table whose client records requests
    let store = gigbao_tests::counting_store().await;
    let user = shared::domain::UserId::new();
    let now = chrono::Utc::now();
    for _ in 0..3 {
        let n = NotificationRecord::new(
            shared::domain::NotificationId::new(),
            user,
            "order_update",
            "Order delivered",
            "订单已交付",
            "Your order was delivered.",
            "您的订单已交付。",
            None,
            now,
        );
        assert!(store.put_notification_once(&n).await.unwrap());
    }

    // WHEN they are all marked read
    let (marked, sent) = recording_dynamodb(store.mark_all_notifications_read(user, now)).await;

    // THEN three were marked, by one query of the unread index and one update each: the
    // last page is not queried again to find the index empty
    assert_eq!(marked.unwrap(), 3);
    assert_eq!(sent, ["Query", "UpdateItem", "UpdateItem", "UpdateItem"]);
}

#[tokio::test]
async fn opening_a_conversation_writes_it_without_reading_it_back() {
    use shared::telemetry::recording_dynamodb;
    // GIVEN two users on a table whose client records requests
    let store = gigbao_tests::counting_store().await;
    let a = new_user(&store, UserType::Client).await;
    let b = new_user(&store, UserType::Freelancer).await;
    let open = OpenRequest {
        participant_id: Some(b.id),
        ..OpenRequest::default()
    };
    let now = Utc::now();

    // WHEN a opens a conversation with b, twice
    let (first, sent_first) =
        recording_dynamodb(messaging::open(&store, &a, open.clone(), now)).await;
    let (second, sent_second) = recording_dynamodb(messaging::open(&store, &a, open, now)).await;

    // THEN the first reads b and writes both memberships, and answers with what it wrote; the
    // second finds it there and reads the caller's side
    let (mine, created) = first.unwrap();
    assert!(created);
    assert_eq!(sent_first, ["GetItem", "TransactWriteItems(2)"]);
    let (again, created) = second.unwrap();
    assert!(!created);
    assert_eq!(sent_second, ["GetItem", "TransactWriteItems(2)", "GetItem"]);
    assert_eq!(again, mine);
}
