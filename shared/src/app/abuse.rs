//! The abuse rules the detector applies to what the stream shows it:
//! - more than [`ACCOUNTS_PER_IP`] accounts from one address within a day → the account is
//!   flagged for review (a report);
//! - a message with more than three spam words (the seed's density rule), or the same
//!   unsolicited text to more than [`DUPLICATE_RECIPIENTS`] people within an hour → the sender
//!   is restricted for a day and reported;
//! - after `ban_after_strikes` such sanctions (an operator's setting; 0 turns it off) the
//!   account is banned.
//!
//! Every automatic action is written with its audit entry (actor `system`) and its evidence,
//! and an operator reverses it with `admin-user-update` (`unrestrict`, `unban`) or by
//! dismissing the report.

use chrono::{DateTime, Duration, Utc};

use crate::domain::report::{
    ACCOUNTS_PER_IP, DUPLICATE_RECIPIENTS, Evidence, IP_WINDOW_HOURS, RESTRICTION_HOURS, Reason,
    Report, SPAM_KEYWORDS_ALLOWED, SYSTEM, TargetType, duplicate_fingerprint, spam_keywords,
};
use crate::domain::{ConversationId, MessageId, UserId, UserStatus, UserType};
use crate::store::{AuditRecord, Store, StoreError};

/// What an operator tunes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbuseSettings {
    /// Automatic spam sanctions before the account is banned; 0: never banned automatically.
    pub ban_after_strikes: u64,
}

impl Default for AbuseSettings {
    fn default() -> Self {
        AbuseSettings {
            ban_after_strikes: 3,
        }
    }
}

/// What the detector did about one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// Flagged for review (a report filed, or already open).
    Flagged,
    /// Restricted (and reported); `banned` when the strikes reached the setting.
    Restricted {
        strikes: u64,
        banned: bool,
    },
    /// This evidence was acted on before (a redelivery).
    AlreadyActed,
}

/// A new account: counts the accounts from its address in the last day.
pub async fn registration(
    store: &Store,
    user: UserId,
    ip: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    if ip.is_empty() || ip == "unknown" {
        return Ok(Verdict::Clean);
    }
    let accounts = store
        .note_registration(ip, user, at, Duration::hours(IP_WINDOW_HOURS))
        .await?;
    if accounts.len() <= ACCOUNTS_PER_IP {
        return Ok(Verdict::Clean);
    }
    let count = accounts.len();
    let evidence = Evidence::AccountsPerIp {
        ip: ip.to_owned(),
        count,
        accounts,
        limit: ACCOUNTS_PER_IP,
        window_hours: IP_WINDOW_HOURS,
    };
    let report = Report::automatic(
        TargetType::User,
        &user.to_string(),
        Some(user.to_string()),
        Reason::MultipleAccounts,
        format!("{count} accounts registered from {ip} within {IP_WINDOW_HOURS} hours"),
        evidence.clone(),
        now,
    );
    let audit = AuditRecord::new(
        SYSTEM,
        "abuse.flag",
        "user",
        &user.to_string(),
        Some("accounts_per_ip"),
        serde_json::json!({"report_id": report.id.to_string(), "evidence": evidence}),
        now,
    );
    if store.create_report_with(&report, Some(&audit)).await? {
        tracing::warn!(user = %user, ip, count, "flagged: accounts per IP");
    }
    Ok(Verdict::Flagged)
}

/// A message a user sent, as the stream shows it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub recipients: Vec<UserId>,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

/// A message: the keyword density rule, then the identical-unsolicited rule.
pub async fn message(
    store: &Store,
    settings: AbuseSettings,
    m: &SentMessage,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    let words = spam_keywords(&m.content);
    if words.len() > SPAM_KEYWORDS_ALLOWED {
        let evidence = Evidence::SpamKeywords {
            message_id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            keywords: words.iter().map(|w| (*w).to_owned()).collect(),
            limit: SPAM_KEYWORDS_ALLOWED,
            excerpt: excerpt(&m.content),
        };
        return sanction(
            store,
            settings,
            m.sender_id,
            "spam_keywords",
            &m.id.to_string(),
            evidence,
            now,
        )
        .await;
    }
    let Some(fingerprint) = duplicate_fingerprint(&m.content) else {
        return Ok(Verdict::Clean);
    };
    // Only unsolicited messages count: a reply in a conversation the other party started
    // (an enquiry) is how freelancers answer many buyers the same way.
    let side = store.get_membership(m.sender_id, m.conversation_id).await?;
    if side.is_none_or(|s| s.enquiry_at.is_some() || s.order_id.is_some()) {
        return Ok(Verdict::Clean);
    }
    let secs = m.created_at.timestamp();
    let window = secs - secs.rem_euclid(3_600);
    let recipients: Vec<String> = m.recipients.iter().map(ToString::to_string).collect();
    let count = store
        .note_duplicate(m.sender_id, &fingerprint, window, &recipients)
        .await?;
    if count <= DUPLICATE_RECIPIENTS {
        return Ok(Verdict::Clean);
    }
    let evidence = Evidence::DuplicateMessages {
        fingerprint: fingerprint.clone(),
        recipients: count,
        limit: DUPLICATE_RECIPIENTS,
        window_start: window,
        last_message_id: m.id.to_string(),
        excerpt: excerpt(&m.content),
    };
    sanction(
        store,
        settings,
        m.sender_id,
        "duplicate_messages",
        &format!("{fingerprint}#{window}"),
        evidence,
        now,
    )
    .await
}

fn excerpt(content: &str) -> String {
    content.chars().take(200).collect()
}

/// Restricts and reports the sender once per piece of evidence; bans when the strikes
/// reach the setting.
async fn sanction(
    store: &Store,
    settings: AbuseSettings,
    user: UserId,
    rule: &str,
    evidence_key: &str,
    evidence: Evidence,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    let Some(target) = store.get_user(user).await? else {
        return Ok(Verdict::Clean);
    };
    if target.user_type == UserType::Admin || target.status != UserStatus::Active {
        return Ok(Verdict::Clean);
    }
    let until = now + Duration::hours(RESTRICTION_HOURS);
    let audit = AuditRecord::new(
        SYSTEM,
        "user.restrict",
        "user",
        &user.to_string(),
        Some(rule),
        serde_json::json!({"until": until.to_rfc3339(), "evidence": evidence}),
        now,
    );
    let Some(strikes) = store
        .restrict_user(user, rule, evidence_key, until, &audit, now)
        .await?
    else {
        return Ok(Verdict::AlreadyActed);
    };
    let report = Report::automatic(
        TargetType::User,
        &user.to_string(),
        Some(user.to_string()),
        Reason::Spam,
        format!(
            "Suspected spam ({rule}); restricted until {}",
            until.to_rfc3339()
        ),
        evidence.clone(),
        now,
    );
    // An open automatic report on this user already flags them; one is enough.
    store.create_report(&report).await?;
    tracing::warn!(user = %user, rule, strikes, "restricted for suspected spam");
    let banned = settings.ban_after_strikes > 0
        && strikes >= settings.ban_after_strikes
        && ban(store, user, rule, strikes, settings, now).await?;
    Ok(Verdict::Restricted { strikes, banned })
}

async fn ban(
    store: &Store,
    user: UserId,
    rule: &str,
    strikes: u64,
    settings: AbuseSettings,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tries = super::Tries::new();
    while tries.next().await {
        let Some(mut target) = store.get_user_latest(user).await? else {
            return Ok(false);
        };
        if target.status != UserStatus::Active {
            return Ok(false);
        }
        let read = target.version;
        target.status = UserStatus::Banned;
        target.tokens_valid_after = Some(now);
        target.version += 1;
        target.updated_at = now;
        let audit = AuditRecord::new(
            SYSTEM,
            "user.ban",
            "user",
            &user.to_string(),
            Some(rule),
            serde_json::json!({
                "strikes": strikes,
                "ban_after_strikes": settings.ban_after_strikes,
                "status": {"from": "active", "to": "banned"},
            }),
            now,
        );
        if store
            .replace_user_with(&target, read, vec![audit.put(store.table())?])
            .await?
        {
            let revoked = store.revoke_user_sessions(user, "banned").await?;
            tracing::warn!(user = %user, strikes, revoked, "banned automatically");
            return Ok(true);
        }
    }
    Ok(false)
}
