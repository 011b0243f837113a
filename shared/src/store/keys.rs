//! Every key of the single table, in one place. See `docs/data-model.md`.

use crate::domain::{NotificationId, SessionId, UserId, UserType};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";

/// A base-table key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

fn key(pk: String, sk: &str) -> Key {
    Key {
        pk,
        sk: sk.to_owned(),
    }
}

/// `USER#{id} / USER`: the account with its profile.
pub fn user(id: UserId) -> Key {
    key(format!("USER#{id}"), "USER")
}

/// Users by type, newest first, for the operators' list: `GSI1PK=USERS#{type}`,
/// `GSI1SK={created_at}#{id}`.
pub fn gsi1_users_by_type(user_type: UserType) -> String {
    format!("USERS#{}", user_type.as_str())
}

/// Uniqueness guards, written in the same transaction as the user.
pub fn unique_username(canonical: &str) -> Key {
    key(format!("UNIQUE#USERNAME#{canonical}"), "UNIQUE")
}

pub fn unique_email(email: &str) -> Key {
    key(format!("UNIQUE#EMAIL#{email}"), "UNIQUE")
}

pub fn unique_phone(phone: &str) -> Key {
    key(format!("UNIQUE#PHONE#{phone}"), "UNIQUE")
}

/// `SESSION#{id} / SESSION`: one refresh-token family.
pub fn session(id: SessionId) -> Key {
    key(format!("SESSION#{id}"), "SESSION")
}

/// A user's sessions: `GSI1PK=USER#{id}`, `GSI1SK=SESSION#{created_at}`.
pub fn gsi1_user_sessions(user: UserId) -> String {
    format!("USER#{user}")
}

/// `RATE#{name}#{subject} / W#{window_start}`: a fixed-window counter with TTL.
pub fn rate(name: &str, subject: &str, window_start: i64) -> Key {
    key(
        format!("RATE#{name}#{subject}"),
        &format!("W#{window_start}"),
    )
}

/// `USER#{id} / NOTIF#{notification id}`: a user's notifications, newest last.
pub fn notification(user: UserId, id: NotificationId) -> Key {
    key(format!("USER#{user}"), &format!("NOTIF#{id}"))
}
