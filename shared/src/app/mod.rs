//! Use cases. Each takes the store and typed input and returns a typed result or its own error
//! enum; none sees an SDK or Lambda type.

pub mod abuse;
pub mod access;
pub mod account;
pub mod admin;
pub mod auth;
pub mod avatar;
pub mod briefs;
pub mod catalog;
pub mod files;
pub mod ledger;
pub mod merchants;
pub mod messaging;
pub mod notifications;
pub mod offers;
pub mod orders;
pub mod payments;
pub mod privacy;
pub mod ranking;
pub mod refunds;
pub mod reports;
pub mod reviews;
pub mod search;
pub mod service_media;
pub mod services;
pub mod sessions;
pub mod sms;
pub mod social_login;
pub mod stats;
pub mod tax;
pub mod users;
pub mod verification;

/// Where a request came from, for rate limits and the session record.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

/// How many times a read-modify-write is tried before the caller is told of a conflict.
const TRIES: u32 = 8;

/// The tries of a read-modify-write. A user's write conditioned on an item's version loses
/// when something else changed the item in between — often our own background work
/// (counters, levels, media) — and the user should never be asked to retry for that: each
/// lost try reads afresh and applies the request again, after a short, jittered, growing
/// pause (≈ 10, 20, 40 … 200 ms; about a second in all). Only when every try lost do callers
/// answer their conflict error.
///
/// ```ignore
/// let mut tries = Tries::new();
/// while tries.next().await {
///     let item = read().await?;
///     if write(next(item)?, item.version).await? { return Ok(..) }
/// }
/// Err(Conflict)
/// ```
pub(crate) struct Tries {
    n: u32,
}

impl Tries {
    pub(crate) fn new() -> Tries {
        Tries { n: 0 }
    }

    /// Whether to try (again), after the pause that try needs.
    pub(crate) async fn next(&mut self) -> bool {
        if self.n >= TRIES {
            return false;
        }
        if self.n > 0 {
            tracing::info!(attempt = self.n + 1, "lost a write race; reading again");
            tokio::time::sleep(backoff(self.n)).await;
        }
        self.n += 1;
        true
    }

    /// Whether the last try has been used.
    pub(crate) fn spent(&self) -> bool {
        self.n >= TRIES
    }
}

/// The pause before try `n` (from 1): 10 ms doubling up to 200 ms, plus up to as much again
/// at random so that racing writers spread out.
fn backoff(n: u32) -> std::time::Duration {
    let base = (10u64 << n.saturating_sub(1).min(5)).min(200);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    std::time::Duration::from_millis(base + nanos % (base + 1))
}
