//! What DynamoDB answers under contention, from wiremock speaking its JSON protocol: a
//! transaction that loses a race (`TransactionConflict`) is sent again and counts once; a
//! throttled write (`ProvisionedThroughputExceededException`) is retried by the SDK; keys a
//! `BatchGetItem` left unprocessed are asked for again. The emulator never produces these.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use shared::domain::stats::CounterChange;
use shared::store::Store;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TARGET: &str = "x-amz-target";

fn store(server: &MockServer) -> Store {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(server.uri())
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    Store::new(aws_sdk_dynamodb::Client::from_conf(config), "t".to_owned())
}

fn error(kind: &str, extra: serde_json::Value) -> ResponseTemplate {
    let mut body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"),
        "message": kind,
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    ResponseTemplate::new(400)
        .insert_header("content-type", "application/x-amz-json-1.0")
        .set_body_json(body)
}

fn ok(body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/x-amz-json-1.0")
        .set_body_json(body)
}

fn change() -> CounterChange {
    CounterChange {
        id: "ev-hot".into(),
        day: "2026-12-03".into(),
        current: BTreeMap::from([("orders_pending".to_owned(), 1)]),
        daily: BTreeMap::from([("gmv_fen".to_owned(), 19_900)]),
    }
}

#[tokio::test]
async fn a_hot_item_conflict_is_retried_and_counted_once() {
    let server = MockServer::start().await;
    let txn = "DynamoDB_20120810.TransactWriteItems";
    // Two lost races on STATS/CURRENT, then the write goes through.
    Mock::given(method("POST"))
        .and(header(TARGET, txn))
        .respond_with(error(
            "TransactionCanceledException",
            serde_json::json!({"CancellationReasons": [
                {"Code": "None"},
                {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
                {"Code": "None"}
            ]}),
        ))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header(TARGET, txn))
        .respond_with(ok(serde_json::json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let applied = store(&server)
        .apply_counts(&change(), chrono::Utc::now())
        .await
        .unwrap();
    assert!(applied);

    // A failed condition is not a conflict: the change was counted before, nothing is retried.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header(TARGET, txn))
        .respond_with(error(
            "TransactionCanceledException",
            serde_json::json!({"CancellationReasons": [
                {"Code": "ConditionalCheckFailed"}, {"Code": "None"}, {"Code": "None"}
            ]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let applied = store(&server)
        .apply_counts(&change(), chrono::Utc::now())
        .await
        .unwrap();
    assert!(!applied, "counted before: not again");
}

#[tokio::test]
async fn a_throttled_write_is_retried() {
    let server = MockServer::start().await;
    let put = "DynamoDB_20120810.PutItem";
    Mock::given(method("POST"))
        .and(header(TARGET, put))
        .respond_with(error(
            "ProvisionedThroughputExceededException",
            serde_json::json!({}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header(TARGET, put))
        .respond_with(ok(serde_json::json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let taken = store(&server)
        .take_lease("order-timers", "a", chrono::Utc::now(), 55)
        .await
        .unwrap();
    assert!(taken);
}

#[tokio::test]
async fn unprocessed_keys_are_asked_for_again() {
    let server = MockServer::start().await;
    let get = "DynamoDB_20120810.BatchGetItem";
    let item = |sk: &str, name: &str, v: i64| serde_json::json!({"PK": {"S": "STATS"}, "SK": {"S": sk}, name: {"N": v.to_string()}});
    // The first answer leaves the day's item unprocessed; the second brings it.
    Mock::given(method("POST"))
        .and(header(TARGET, get))
        .respond_with(ok(serde_json::json!({
            "Responses": {"t": [item("CURRENT", "orders_pending", 3)]},
            "UnprocessedKeys": {"t": {"Keys": [{"PK": {"S": "STATS"}, "SK": {"S": "DAY#2026-12-03"}}]}}
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(header(TARGET, get))
        .respond_with(ok(serde_json::json!({
            "Responses": {"t": [item("DAY#2026-12-03", "gmv_fen", 19_900)]},
            "UnprocessedKeys": {}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (current, days) = store(&server)
        .read_counters(&["2026-12-03".to_owned()])
        .await
        .unwrap();
    assert_eq!(current.get("orders_pending"), Some(&3));
    assert_eq!(days[0].1.get("gmv_fen"), Some(&19_900));
}
