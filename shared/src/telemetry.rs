//! JSON logs on stdout (CloudWatch reads them as structured logs). The level comes from
//! `RUST_LOG` (default `info`). Never log phone numbers, ID numbers, tokens or passwords.

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber. Safe to call more than once (tests): later calls do nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ignored_if_already_set = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .try_init();
}

tokio::task_local! {
    /// The DynamoDB operations of the request being handled, in the order they were sent.
    static DYNAMODB_OPERATIONS: std::cell::RefCell<Vec<String>>;
}

/// Runs `work` and returns what it returned with the DynamoDB operations it sent (every attempt,
/// retries included), e.g. `["GetItem", "UpdateItem"]`. The request log line of each HTTP
/// function carries them (`dynamodb_calls`, `dynamodb_operations`): `make bench` compares them
/// per endpoint with what the access pattern needs.
pub async fn recording_dynamodb<F: std::future::Future>(work: F) -> (F::Output, Vec<String>) {
    DYNAMODB_OPERATIONS
        .scope(std::cell::RefCell::new(Vec::new()), async move {
            let out = work.await;
            (out, DYNAMODB_OPERATIONS.with(|ops| ops.take()))
        })
        .await
}

/// Records each request the DynamoDB client sends inside [`recording_dynamodb`] (elsewhere:
/// workers, tools, nothing is recorded).
#[derive(Debug)]
pub struct CountDynamoDbCalls;

impl aws_sdk_dynamodb::config::Intercept for CountDynamoDbCalls {
    fn name(&self) -> &'static str {
        "CountDynamoDbCalls"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request();
        let operation = operation_of(
            request.headers().get("x-amz-target").unwrap_or(""),
            request.body().bytes().unwrap_or_default(),
        );
        let _outside_a_request =
            DYNAMODB_OPERATIONS.try_with(|ops| ops.borrow_mut().push(operation));
        Ok(())
    }
}

/// `GetItem` from `X-Amz-Target: DynamoDB_20120810.GetItem`; transactions and batches with the
/// number of items they touch, which is what they are billed by: `TransactWriteItems(4)`.
fn operation_of(target: &str, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Items {
        #[serde(rename = "TransactItems", default)]
        transact: Vec<serde::de::IgnoredAny>,
        /// BatchGetItem: `{table: {"Keys": [...]}}`; BatchWriteItem: `{table: [...]}`.
        #[serde(rename = "RequestItems", default)]
        batch: std::collections::HashMap<String, serde_json::Value>,
    }
    let name = target.rsplit('.').next().unwrap_or(target);
    if !(name.starts_with("Transact") || name.starts_with("Batch")) {
        return name.to_owned();
    }
    let Ok(items) = serde_json::from_slice::<Items>(body) else {
        return name.to_owned();
    };
    let batch: usize = items
        .batch
        .values()
        .map(|v| match v {
            serde_json::Value::Array(requests) => requests.len(),
            keys => keys["Keys"].as_array().map_or(0, Vec::len),
        })
        .sum();
    format!("{name}({})", items.transact.len() + batch)
}

#[cfg(test)]
mod tests {
    use super::operation_of;

    #[test]
    fn operations_are_named_and_multi_item_ones_counted() {
        assert_eq!(operation_of("DynamoDB_20120810.GetItem", b"{}"), "GetItem");
        assert_eq!(
            operation_of(
                "DynamoDB_20120810.TransactWriteItems",
                br#"{"TransactItems":[{"Put":{}},{"Update":{}},{"ConditionCheck":{}}]}"#
            ),
            "TransactWriteItems(3)"
        );
        assert_eq!(
            operation_of(
                "DynamoDB_20120810.BatchGetItem",
                br#"{"RequestItems":{"t":{"Keys":[{},{}]}}}"#
            ),
            "BatchGetItem(2)"
        );
        assert_eq!(
            operation_of(
                "DynamoDB_20120810.BatchWriteItem",
                br#"{"RequestItems":{"t":[{},{},{},{}]}}"#
            ),
            "BatchWriteItem(4)"
        );
    }
}

/// The namespace of Gigbao's own metrics in CloudWatch.
pub const METRICS_NAMESPACE: &str = "Gigbao";

/// One CloudWatch embedded metric format (EMF) line with `metrics` (name, value, unit), or
/// `None` when all are zero. CloudWatch turns such a line in a function's log into metric data
/// points (no API call, no permission); the dashboard and alarms read them.
pub fn emf_line(metrics: &[(&str, i64, &str)], timestamp_ms: i64) -> Option<String> {
    let nonzero: Vec<_> = metrics.iter().filter(|(_, v, _)| *v != 0).collect();
    if nonzero.is_empty() {
        return None;
    }
    let mut line = serde_json::Map::new();
    line.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [[]],
                "Metrics": nonzero.iter().map(|(name, _, unit)| serde_json::json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value, _) in nonzero {
        line.insert((*name).into(), (*value).into());
    }
    Some(serde_json::Value::Object(line).to_string())
}

/// Writes an EMF line to stdout, where the Lambda runtime sends it to CloudWatch Logs.
pub fn emit_metrics(metrics: &[(&str, i64, &str)]) {
    if let Some(line) = emf_line(metrics, chrono::Utc::now().timestamp_millis()) {
        println!("{line}");
    }
}

#[cfg(test)]
mod emf_tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_each_metric_and_carries_its_value() {
        let line = emf_line(
            &[("OrdersPaid", 2, "Count"), ("GmvFen", 0, "None")],
            1_764_720_000_000,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_764_720_000_000i64);
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "Gigbao");
        assert_eq!(m["Dimensions"], serde_json::json!([[]]));
        assert_eq!(
            m["Metrics"],
            serde_json::json!([{"Name": "OrdersPaid", "Unit": "Count"}])
        );
        assert_eq!(v["OrdersPaid"], 2);
        assert!(v.get("GmvFen").is_none(), "zero values are left out");
        assert_eq!(emf_line(&[("OrdersPaid", 0, "Count")], 0), None);
    }
}
