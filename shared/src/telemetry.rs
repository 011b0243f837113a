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

/// DynamoDB requests this process has sent (every attempt, retries included). The request log
/// line of each HTTP function carries the requests of that request (`dynamodb_calls`), which is
/// what `make bench` reports per endpoint.
static DYNAMODB_CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts requests into [`DYNAMODB_CALLS`] as they are sent.
#[derive(Debug)]
pub struct CountDynamoDbCalls;

impl aws_sdk_dynamodb::config::Intercept for CountDynamoDbCalls {
    fn name(&self) -> &'static str {
        "CountDynamoDbCalls"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        DYNAMODB_CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// The DynamoDB requests this process has sent so far.
pub fn dynamodb_calls() -> u64 {
    DYNAMODB_CALLS.load(std::sync::atomic::Ordering::Relaxed)
}
