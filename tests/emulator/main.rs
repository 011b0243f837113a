//! Use cases, store and handlers against MiniStack: a fresh table per test.

mod alipay_login;
mod auth;
mod briefs;
mod codes;
mod handlers;
mod messaging;
mod notify;
mod orders;
mod payments;
mod races;
mod reconcile;
mod refunds;
mod retries;
mod reviews;
mod safety;
mod screening;
mod search;
mod services;
mod split;
mod tax;
mod wechat_login;
mod workers;
