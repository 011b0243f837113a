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
