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
