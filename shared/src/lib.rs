//! Gigbao's shared crate: everything but each function's `main`.
//!
//! Dependency arrows point one way: `domain` (pure) ← `app` (use cases) ← `api` / `workers`
//! (edges), with `store` (DynamoDB), `auth` and `http` as adapters.

pub mod api;
pub mod app;
pub mod auth;
pub mod aws_calls;
pub mod config;
pub mod crypto;
pub mod deps;
pub mod domain;
pub mod entry;
pub mod field;
pub mod files;
pub mod http;
pub mod i18n;
pub mod media;
pub mod notify;
pub mod payments;
pub mod realtime;
pub mod screening;
pub mod search;
pub mod store;
pub mod telemetry;
pub mod workers;

pub use deps::Deps;

#[cfg(test)]
mod wire_names;
