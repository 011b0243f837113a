//! HTTP handlers: one public async fn per Lambda. Each parses the request into typed input,
//! calls a use case and renders the answer; none holds a business rule.

pub mod account;
pub mod admin;
pub mod auth;
pub mod briefs;
mod common;
pub mod files;
pub mod health;
pub mod messaging;
pub mod openapi;
mod order_views;
pub mod orders;
pub mod payments;
pub mod privacy;
pub mod realtime;
pub mod reports;
mod review_views;
pub mod reviews;
pub mod search;
mod search_query;
mod service_views;
pub mod services;
pub mod session;
mod uploads;
pub mod users;
mod views;

pub use views::{NotificationView, OwnUserView};
