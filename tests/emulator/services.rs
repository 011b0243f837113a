//! Services against MiniStack: what view counting costs, and that folding is exact.

use aws_lambda_events::event::sqs::SqsEvent;
use futures_util::StreamExt;
use serde_json::json;
use shared::app::services::{self, Viewer};
use shared::domain::{User, UserType};
use shared::store::{FoldOutcome, keys};
use shared::telemetry::recording_dynamodb;

async fn freelancer(store: &shared::store::Store) -> User {
    let keys = gigbao_tests::test_keys();
    let signed = shared::app::auth::register(
        store,
        &keys,
        shared::app::auth::NewAccount {
            username: shared::domain::Username::parse(&gigbao_tests::unique_name("seller"))
                .unwrap(),
            password: shared::domain::Password::parse("Sheji-2026-safe", None).unwrap(),
            user_type: UserType::Freelancer,
            email: None,
            phone: None,
        },
        &shared::app::ClientInfo::default(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    signed.user
}

fn input() -> shared::domain::service::ServiceInput {
    serde_json::from_value(json!({
        "title_zh": "专业品牌Logo设计，三天交付",
        "description_zh": "简洁易记的品牌标志设计，提供源文件和品牌规范。",
        "category": "logo-design",
        "packages": {"basic": {"price": "199.00", "description": "1 个方案", "delivery_days": 3}}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_burst_of_500_views_is_one_write_each_on_16_shards_and_folds_exactly_once() {
    // GIVEN an active service in a table whose client counts its requests
    let store = gigbao_tests::counting_store().await;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let owner = freelancer(&store).await;
    let now = chrono::Utc::now();
    let service = services::create(&store, &owner, input(), now)
        .await
        .unwrap();
    let service = services::publish(&store, owner.id, service.id, now)
        .await
        .unwrap();

    // WHEN 500 visitors view it at once
    let (counted, sent) = recording_dynamodb(
        futures_util::stream::iter(0..500)
            .map(|_| services::count_view(&store, &service, None))
            .buffer_unordered(50)
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(counted.iter().all(|c| matches!(c, Ok(true))));

    // THEN each view cost exactly one UpdateItem, on one of 16 shard items (each its own
    // partition key), none of them on the service item itself
    assert_eq!(sent.len(), 500);
    assert!(sent.iter().all(|op| op == "UpdateItem"));
    let mut per_shard = Vec::new();
    for n in 0..keys::VIEW_SHARDS {
        let k = keys::view_shard(service.id, n);
        let item = store
            .client()
            .get_item()
            .table_name(store.table())
            .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(k.pk))
            .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(k.sk))
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_default();
        per_shard.push(
            item.get("views")
                .and_then(|v| v.as_n().ok())
                .map(|v| v.parse::<u64>().unwrap())
                .unwrap_or(0),
        );
    }
    assert_eq!(per_shard.iter().sum::<u64>(), 500);
    let hottest = *per_shard.iter().max().unwrap();
    println!("views per shard: {per_shard:?} (hottest item took {hottest} of 500 writes)");
    assert!(hottest < 80, "{per_shard:?}");
    assert!(per_shard.iter().filter(|n| **n > 0).count() >= 12);
    assert_eq!(
        store
            .get_service(service.id, true)
            .await
            .unwrap()
            .unwrap()
            .views_count,
        0,
        "views are not written to the service item per view"
    );

    // WHEN the stats worker gets a batch that names the service three times (the stream
    // router sends one per batch; redelivery can repeat it)
    let deps = gigbao_tests::deps_for(store.clone()).await;
    let body = json!({"type": "service.views_changed", "service_id": service.id.to_string()});
    let event: SqsEvent = serde_json::from_value(json!({"Records": (0..3).map(|i| json!({
        "messageId": format!("m{i}"), "body": body.to_string(), "eventSource": "aws:sqs"
    })).collect::<Vec<_>>()}))
    .unwrap();
    let (answer, sent) =
        recording_dynamodb(shared::workers::stats_updater::handle(deps, event)).await;
    assert!(answer.unwrap().batch_item_failures.is_empty());

    // THEN the service shows 500, for one BatchGetItem (the 16 shards) and one UpdateItem
    assert_eq!(sent, vec!["BatchGetItem(16)", "UpdateItem"]);
    let stored = store.get_service(service.id, true).await.unwrap().unwrap();
    assert_eq!(stored.views_count, 500);

    // AND folding again (a redelivery) changes nothing
    assert_eq!(
        store.fold_views(service.id).await.unwrap(),
        FoldOutcome::Current
    );
    assert_eq!(
        store
            .get_service(service.id, true)
            .await
            .unwrap()
            .unwrap()
            .views_count,
        500
    );
}

#[tokio::test]
async fn the_owner_viewing_their_own_service_is_not_counted() {
    let store = gigbao_tests::fresh_store().await;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let owner = freelancer(&store).await;
    let now = chrono::Utc::now();
    let s = services::create(&store, &owner, input(), now)
        .await
        .unwrap();
    let s = services::publish(&store, owner.id, s.id, now)
        .await
        .unwrap();
    assert!(
        !services::count_view(&store, &s, Some(Viewer::of(&owner)))
            .await
            .unwrap()
    );
    assert_eq!(store.view_total(s.id).await.unwrap(), 0);
}

#[tokio::test]
async fn of_two_concurrent_edits_one_wins_and_the_other_is_a_conflict() {
    let store = gigbao_tests::fresh_store().await;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let owner = freelancer(&store).await;
    let now = chrono::Utc::now();
    let s = services::create(&store, &owner, input(), now)
        .await
        .unwrap();
    let files = gigbao_tests::stack_files().await;
    let edit = |t: &str| {
        let patch = serde_json::from_value(json!({"title_zh": t})).unwrap();
        services::update((&store, &files), owner.id, s.id, patch, now)
    };
    let results = futures_util::future::join_all((0..6).map(|i| {
        edit(if i % 2 == 0 {
            "专业品牌Logo设计，加急两天交付"
        } else {
            "专业品牌Logo设计，一周精修交付"
        })
    }))
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert!(ok >= 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(services::ServiceError::Conflict)))
    );
    let stored = store.get_service(s.id, true).await.unwrap().unwrap();
    assert_eq!(stored.version, 1 + ok as u64);
}

#[tokio::test]
async fn a_one_item_transaction_is_one_plain_conditional_write() {
    // GIVEN a table whose client records its requests, and a user and a service id
    let store = gigbao_tests::counting_store().await;
    let user = shared::domain::UserId::new();
    let service = shared::domain::ServiceId::new();
    let now = chrono::Utc::now();

    // WHEN a service is saved twice and unsaved twice (each a one-item conditional write)
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (saved, sent) = recording_dynamodb(store.save_service(user, service, now)).await;
        seen.push((saved.unwrap(), sent.join(",")));
    }
    for _ in 0..2 {
        let (removed, sent) = recording_dynamodb(store.unsave_service(user, service)).await;
        seen.push((removed.unwrap(), sent.join(",")));
    }

    // THEN each is a single PutItem or DeleteItem (one write unit, not a transaction's two),
    // and a failed condition still reads as "nothing changed"
    let expected = [
        (true, "PutItem"),
        (false, "PutItem"),
        (true, "DeleteItem"),
        (false, "DeleteItem"),
    ];
    assert_eq!(seen, expected.map(|(changed, op)| (changed, op.to_owned())));
}

#[tokio::test]
async fn media_an_edit_drops_are_deleted_from_the_bucket() {
    use shared::store::MediaSlot;
    let store = gigbao_tests::fresh_store().await;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let owner = freelancer(&store).await;
    let now = chrono::Utc::now();
    let s = services::create(&store, &owner, input(), now)
        .await
        .unwrap();
    let files = gigbao_tests::stack_files().await;
    // GIVEN two gallery images the worker attached
    let keys: Vec<String> = (0..2)
        .map(|n| format!("services/{}/img{n}.jpg", s.id))
        .collect();
    for k in &keys {
        files.put(k, b"jpeg".to_vec(), "image/jpeg").await.unwrap();
        assert!(
            store
                .attach_service_media(s.id, MediaSlot::Image, k, 5)
                .await
                .unwrap()
        );
    }
    // WHEN the owner keeps only the second
    let patch = serde_json::from_value(json!({"images": [keys[1]]})).unwrap();
    let after = services::update((&store, &files), owner.id, s.id, patch, now)
        .await
        .unwrap();
    assert_eq!(after.content.images, vec![keys[1].clone()]);
    // THEN the first is gone from the bucket and the second is not
    assert!(files.head_bytes(&keys[0], 1).await.unwrap().is_none());
    assert!(files.head_bytes(&keys[1], 1).await.unwrap().is_some());
}
