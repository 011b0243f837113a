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
