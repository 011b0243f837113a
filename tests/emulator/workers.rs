use gigbao_tests::{deps_for, fresh_store};
use shared::domain::UserId;
use shared::workers::WorkMessage;
use shared::workers::notification_dispatcher::dispatch;

#[tokio::test]
async fn a_redelivered_message_notifies_once() {
    let deps = deps_for(fresh_store().await).await;
    let user = UserId::new();
    let msg = WorkMessage::UserRegistered {
        id: "event-1".into(),
        user_id: user.to_string(),
        occurred_at_ms: 1_795_507_200_000,
    };
    assert!(dispatch(deps, &msg).await.unwrap());
    assert!(!dispatch(deps, &msg).await.unwrap());
    let items = deps.store.list_notifications(user, 10).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].notification_type, "welcome");
    assert_eq!(items[0].title_zh, "欢迎加入Gigbao");
}

#[tokio::test]
async fn monthly_reports_go_page_by_page_and_a_redelivered_page_starts_no_second_chain() {
    use shared::workers::WorkMessage;
    use shared::workers::monthly_reports::{next_page, page};
    let store = gigbao_tests::fresh_store().await;
    for _ in 0..5 {
        gigbao_tests::new_user(&store, shared::domain::UserType::Client).await;
    }
    let now = chrono::Utc::now() + chrono::Duration::days(32);
    let (month, _, _) = shared::app::stats::previous_month(now);
    let started = now.timestamp_millis();
    let (mut cursor, mut pages, mut users) = (None::<String>, 0, 0);
    loop {
        let (r, next) = page(&store, &month, cursor.as_deref(), 2, now)
            .await
            .unwrap();
        pages += 1;
        users += r.users;
        let message = next_page(&store, &month, next.clone(), started, now)
            .await
            .unwrap();
        // The same page delivered again: its reports are stored already, and the next
        // page's message is not sent a second time.
        let (again, _) = page(&store, &month, cursor.as_deref(), 2, now)
            .await
            .unwrap();
        assert_eq!(again.stored, 0);
        assert!(
            next_page(&store, &month, next, started, now)
                .await
                .unwrap()
                .is_none()
        );
        match message {
            Some(WorkMessage::ReportsPage { cursor: c, .. }) => cursor = c,
            Some(other) => panic!("{other:?}"),
            None => break,
        }
    }
    assert_eq!((pages, users), (3, 5));
}
