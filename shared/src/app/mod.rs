//! Use cases. Each takes the store and typed input and returns a typed result or its own error
//! enum; none sees an SDK or Lambda type.

pub mod auth;
pub mod users;

/// Where a request came from, for rate limits and the session record.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}
