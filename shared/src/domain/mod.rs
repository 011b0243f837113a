//! Pure types and rules: no AWS, no Lambda, no I/O.

pub mod attachment;
pub mod brief;
pub mod catalog;
pub mod clearance;
pub mod export;
pub mod fee;
pub mod file;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod identity;
pub mod ids;
pub mod ledger;
pub mod messaging;
pub mod moderation;
pub mod money;
pub mod offer;
pub mod order;
pub mod payment;
pub mod profile;
pub mod ranking;
pub mod refund;
pub mod report;
pub mod review;
pub mod service;
pub mod session;
pub mod split;
pub mod stats;
pub mod tax;
pub mod user;
pub mod values;

pub use identity::{IdNumber, RealName};
pub use ids::{
    AuditId, BriefId, ConversationId, ExportId, FileId, MessageId, NotificationId, OfferId,
    OrderId, OrderStepId, ProposalId, ReportId, ReviewId, ServiceId, SessionId, UploadId, UserId,
    VerificationId, WithdrawalId, event_ulid,
};
pub use money::Money;
pub use session::Session;
pub use user::{
    ClientProfile, FreelancerProfile, NotificationPreferences, Role, User, UserStatus, UserType,
    VerificationStatus, VerificationSummary,
};
pub use values::{Email, Password, Phone, Username, WechatId};

/// A time in China (UTC+8): the marketplace's days, order numbers and both gateways'
/// formats use it.
pub fn china_time(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::FixedOffset> {
    match chrono::FixedOffset::east_opt(8 * 3600) {
        Some(offset) => t.with_timezone(&offset),
        None => t.fixed_offset(),
    }
}

/// `prefix` + local time in China (yyyymmddHHMMSS) + `n` characters (A–Z, 0–9) from `random`:
/// numbers people can read out on the phone and sort by time.
pub fn stamped_number(
    prefix: &str,
    now: chrono::DateTime<chrono::Utc>,
    random: u128,
    n: usize,
) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut r = random;
    let tail: String = (0..n)
        .map(|_| {
            let c = ALPHABET[(r % 36) as usize] as char;
            r /= 36;
            c
        })
        .collect();
    let local = china_time(now).format("%Y%m%d%H%M%S");
    format!("{prefix}{local}{tail}")
}

/// A time as the API shows it: RFC 3339, whole seconds, `Z`.
pub fn rfc3339(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The time of an event given in milliseconds since the epoch (queue messages carry them);
/// now if it is out of range.
pub fn time_of_ms(ms: u64) -> chrono::DateTime<chrono::Utc> {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .unwrap_or_else(chrono::Utc::now)
}
