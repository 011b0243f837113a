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

/// An account holding more than a Lambda response can carry (6 MB) is exported whole: the
/// request starts the export, the worker writes one archive, and the owner downloads it
/// through a short-lived link. A second request within the hour, and a redelivered job, add
/// nothing.
#[tokio::test]
async fn an_account_larger_than_a_lambda_response_is_exported_whole_and_once() {
    use shared::app::privacy::{latest_export, request_export};
    use shared::domain::export::ExportStatus;
    use shared::store::NotificationRecord;
    let deps = deps_for(fresh_store().await).await;
    let store = &deps.store;
    let me = gigbao_tests::new_user(store, shared::domain::UserType::Client).await;
    // 30 notifications of ~240 KB each (3-byte characters): ~7.2 MB, over several 1 MB
    // Query pages of the user's partition.
    let text = "交付物说明".repeat(16_000);
    let now = chrono::Utc::now();
    for i in 0..30u64 {
        let id =
            shared::domain::NotificationId::for_event(&format!("bulk-{i}"), 1_795_507_200_000 + i);
        store
            .put_notification_once(&NotificationRecord::new(
                id, me.id, "bulk", "t", "标题", "m", &text, None, now,
            ))
            .await
            .unwrap();
    }

    let (export, started) = request_export(store, &me, now).await.unwrap();
    assert!(started);
    assert_eq!(export.status, ExportStatus::Pending);
    let (again, started) = request_export(store, &me, now).await.unwrap();
    assert!(
        !started,
        "a second request within the hour answers with the first"
    );
    assert_eq!(again.id, export.id);

    let body = serde_json::to_string(&WorkMessage::ExportRequested {
        user_id: me.id.to_string(),
        export_id: export.id.to_string(),
    })
    .unwrap();
    let event: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_value(serde_json::json!({
            "Records": [{"messageId": "m1", "body": body, "eventSource": "aws:sqs"}]
        }))
        .unwrap();
    let answer = shared::workers::user_data_exporter::handle(deps, event.clone())
        .await
        .unwrap();
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");

    let files =
        shared::files::Files::new(deps.s3().clone(), gigbao_tests::env("GIGBAO_MEDIA_BUCKET"));
    let (ready, link) = latest_export(store, &files, &me, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ready.status, ExportStatus::Ready);
    let link = link.expect("a ready export has a download link");
    let response = reqwest::get(&link.url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("gigbao-export-")),
        "{:?}",
        response.headers()
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.len() > 6 * 1024 * 1024, "{} bytes", bytes.len());
    assert_eq!(ready.size_bytes, Some(bytes.len() as u64));
    assert_eq!(
        ready.sha256.as_deref(),
        Some(shared::crypto::sha256_hex_of(&bytes).as_str())
    );
    let archive: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(archive["account"]["id"], me.id.to_string());
    let bulk = archive["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["notification_type"] == "bulk")
        .count();
    assert_eq!(bulk, 30);
    assert!(archive["account"].get("password_hash").is_none());

    // Redelivered: the export is ready, nothing is written again.
    let answer = shared::workers::user_data_exporter::handle(deps, event)
        .await
        .unwrap();
    assert!(answer.batch_item_failures.is_empty());
    let (same, _) = latest_export(store, &files, &me, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.completed_at, ready.completed_at);
}
