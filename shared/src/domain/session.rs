//! A login session: one family of rotating refresh tokens.

use chrono::{DateTime, Utc};

use super::{SessionId, UserId, UserType};

/// Refresh tokens live 14 days from their issue; each rotation starts a new 14 days.
pub const REFRESH_TTL_SECS: i64 = 14 * 24 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub user_type: UserType,
    /// The generation of the only refresh token that is still valid.
    pub generation: u64,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    /// Epoch seconds after which the current refresh token is dead (also the item's TTL).
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

impl Session {
    pub fn start(
        user_id: UserId,
        user_type: UserType,
        ip: &str,
        user_agent: &str,
        now: DateTime<Utc>,
    ) -> Session {
        Session {
            id: SessionId::new(),
            user_id,
            user_type,
            generation: 1,
            revoked: false,
            created_at: now,
            last_used_at: now,
            expires_at: now.timestamp() + REFRESH_TTL_SECS,
            ip: ip.chars().take(64).collect(),
            user_agent: user_agent.chars().take(256).collect(),
        }
    }
}
