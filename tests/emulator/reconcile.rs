//! The ledger reconciliations against MiniStack: the hourly incremental run reads what moved
//! since its checkpoint and a rolling wallet sample; the full one runs on the live table or
//! on a table export; each finds a wallet or a movement that disagrees.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use shared::app::ledger::{self, Finding, reconcile_since};
use shared::domain::ledger::Account;
use shared::domain::{Money, UserId};
use shared::store::Store;
use shared::telemetry::recording_dynamodb;

/// A deposit to each user, written as at `at`.
async fn deposits(store: &Store, users: &[UserId], tag: &str, at: chrono::DateTime<Utc>) {
    for (i, user) in users.iter().enumerate() {
        ledger::deposit(
            store,
            *user,
            Money::from_fen(10_000 + i as i64),
            &format!("{tag}-{i}"),
            at,
        )
        .await
        .unwrap();
    }
}

/// Every item of the table as the data file of a table export (DynamoDB JSON lines).
async fn export_of(store: &Store) -> String {
    let mut out = String::new();
    for item in gigbao_tests::all_items(store).await {
        let item: serde_dynamo::Item = item.into();
        out.push_str(&serde_json::to_string(&serde_json::json!({ "Item": item })).unwrap());
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn the_hourly_run_reads_what_moved_since_its_checkpoint_not_the_whole_ledger() {
    let store = gigbao_tests::counting_store().await;
    let users: Vec<UserId> = (0..12).map(|_| UserId::new()).collect();
    let t0 = Utc::now();
    deposits(&store, &users, "first", t0).await;

    let first = reconcile_since(&store, t0 + Duration::minutes(5), 1000)
        .await
        .unwrap();
    assert!(first.findings.is_empty(), "{:?}", first.findings);
    assert_eq!(first.movements, 12);
    assert_eq!(first.lines, 24);
    assert_eq!(first.wallets_sampled, 12, "user wallets only");
    assert!(first.sample_wrapped);

    // Nothing moved: the next run checks no movement. One more deposit: just that one.
    let again = reconcile_since(&store, t0 + Duration::minutes(6), 1000)
        .await
        .unwrap();
    assert_eq!(again.movements, 0);
    deposits(&store, &users[..1], "second", t0 + Duration::minutes(7)).await;
    let (one, sent) =
        recording_dynamodb(reconcile_since(&store, t0 + Duration::minutes(10), 4)).await;
    let one = one.unwrap();
    assert_eq!(one.movements, 1);
    assert!(one.findings.is_empty(), "{:?}", one.findings);
    // Its requests: the checkpoint, the day index (today, and tomorrow's when the window
    // crosses midnight UTC), one batch of lines, one Scan page of the sample, three per
    // sampled wallet, the checkpoint written. Not one per movement ever made.
    let wallets_read = one.wallets_sampled * 3;
    assert!(
        sent.len() <= 1 + 2 + 1 + 1 + wallets_read + 1,
        "{} requests: {sent:?}",
        sent.len()
    );
    assert_eq!(
        sent.iter().filter(|op| *op == "Scan").count(),
        1,
        "{sent:?}"
    );
}

#[tokio::test]
async fn a_wallet_that_drifts_from_its_lines_and_a_movement_missing_a_line_are_found() {
    let store = gigbao_tests::fresh_store().await;
    let users: Vec<UserId> = (0..3).map(|_| UserId::new()).collect();
    let t0 = Utc::now();
    deposits(&store, &users, "drift", t0).await;
    assert!(
        reconcile_since(&store, t0 + Duration::minutes(5), 1000)
            .await
            .unwrap()
            .findings
            .is_empty()
    );

    // A wallet changed outside a movement (a bug, or a hand edit).
    let wallet = shared::store::keys::wallet(Account::User(users[0]));
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("PK", AttributeValue::S(wallet.pk))
        .key("SK", AttributeValue::S(wallet.sk))
        .update_expression("ADD available :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    // A new movement whose line went missing.
    deposits(&store, &users[1..2], "lost-line", t0 + Duration::minutes(6)).await;
    let lines = store
        .movement_lines(
            &store
                .movements_between(t0 + Duration::minutes(5), t0 + Duration::minutes(8))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(lines.len(), 2);
    let user_line = lines
        .iter()
        .find(|l| l.account == Account::User(users[1]))
        .unwrap();
    let key: HashMap<String, AttributeValue> = serde_dynamo::to_item(user_line).unwrap();
    store
        .client()
        .delete_item()
        .table_name(store.table())
        .key("PK", key["PK"].clone())
        .key("SK", key["SK"].clone())
        .send()
        .await
        .unwrap();

    let r = reconcile_since(&store, t0 + Duration::minutes(10), 1000)
        .await
        .unwrap();
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::LinesDisagree { .. })),
        "{:?}",
        r.findings
    );
    assert!(
        r.findings.iter().any(|f| matches!(f, Finding::WalletMismatch { account, .. } if *account == Account::User(users[0]))),
        "{:?}",
        r.findings
    );

    // The full check over a table export finds both as well.
    let export = export_of(&store).await;
    let full = ledger::reconcile_export([export.as_str()], t0 + Duration::minutes(10)).unwrap();
    assert!(
        full.findings
            .iter()
            .any(|f| matches!(f, Finding::LinesDisagree { .. }))
    );
    assert!(
        full.findings
            .iter()
            .any(|f| matches!(f, Finding::WalletMismatch { .. }))
    );
}

#[tokio::test]
async fn the_full_check_over_an_export_agrees_with_the_live_one() {
    let store = gigbao_tests::fresh_store().await;
    let users: Vec<UserId> = (0..5).map(|_| UserId::new()).collect();
    deposits(&store, &users, "export", Utc::now()).await;
    let at = Utc::now() + Duration::minutes(5);
    let live = ledger::reconcile(&store, at).await.unwrap();
    let export = export_of(&store).await;
    let from_export = ledger::reconcile_export([export.as_str()], at).unwrap();
    assert!(live.findings.is_empty(), "{:?}", live.findings);
    assert_eq!(from_export, live);
}
