//! Use cases. Each takes the store and typed input and returns a typed result or its own error
//! enum; none sees an SDK or Lambda type.

pub mod abuse;
pub mod access;
pub mod account;
pub mod admin;
pub mod auth;
pub mod avatar;
pub mod catalog;
pub mod ledger;
pub mod messaging;
pub mod orders;
pub mod payments;
pub mod privacy;
pub mod ranking;
pub mod reports;
pub mod reviews;
pub mod search;
pub mod service_media;
pub mod services;
pub mod sms;
pub mod stats;
pub mod users;
pub mod verification;

/// Where a request came from, for rate limits and the session record.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}
