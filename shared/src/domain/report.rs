//! Trust and safety: what users report, what operators decide, and the rules the abuse
//! detector applies to registrations and messages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ReportId;
use crate::i18n::Text;

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Service,
    User,
    Review,
    Message,
}

impl TargetType {
    pub const ALL: [TargetType; 4] = [
        TargetType::Service,
        TargetType::User,
        TargetType::Review,
        TargetType::Message,
    ];

    pub fn parse(s: &str) -> Option<TargetType> {
        TargetType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TargetType::Service => "service",
            TargetType::User => "user",
            TargetType::Review => "review",
            TargetType::Message => "message",
        }
    }
}

/// Why: a fixed list, so the queue can be sorted and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Spam,
    Fraud,
    OffPlatformContact,
    Inappropriate,
    Harassment,
    Infringement,
    FakeReview,
    MultipleAccounts,
    Other,
}

impl Reason {
    /// The reasons a user may choose (`multiple_accounts` is the detector's own).
    pub const CHOOSABLE: [Reason; 8] = [
        Reason::Spam,
        Reason::Fraud,
        Reason::OffPlatformContact,
        Reason::Inappropriate,
        Reason::Harassment,
        Reason::Infringement,
        Reason::FakeReview,
        Reason::Other,
    ];

    /// A reason a user chose: `multiple_accounts` is not one of them.
    pub fn parse_choosable(s: &str) -> Option<Reason> {
        Reason::CHOOSABLE.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::Spam => "spam",
            Reason::Fraud => "fraud",
            Reason::OffPlatformContact => "off_platform_contact",
            Reason::Inappropriate => "inappropriate",
            Reason::Harassment => "harassment",
            Reason::Infringement => "infringement",
            Reason::FakeReview => "fake_review",
            Reason::MultipleAccounts => "multiple_accounts",
            Reason::Other => "other",
        }
    }

    pub fn label(&self) -> Text {
        match self {
            Reason::Spam => Text::new("垃圾信息", "Spam"),
            Reason::Fraud => Text::new("欺诈", "Fraud"),
            Reason::OffPlatformContact => Text::new("站外交易引导", "Off-platform contact"),
            Reason::Inappropriate => Text::new("违规内容", "Inappropriate content"),
            Reason::Harassment => Text::new("骚扰", "Harassment"),
            Reason::Infringement => Text::new("侵权", "Infringement"),
            Reason::FakeReview => Text::new("虚假评价", "Fake review"),
            Reason::MultipleAccounts => Text::new("同一 IP 多账号", "Multiple accounts"),
            Reason::Other => Text::new("其他", "Other"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Pending,
    Resolved,
    Dismissed,
}

impl ReportStatus {
    pub fn parse(s: &str) -> Option<ReportStatus> {
        [
            ReportStatus::Pending,
            ReportStatus::Resolved,
            ReportStatus::Dismissed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ReportStatus::Pending => "pending",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Dismissed => "dismissed",
        }
    }
}

/// What an operator does about an upheld report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sanction {
    /// Upheld, nothing to take down (a warning given elsewhere, already fixed, …).
    None,
    HideReview,
    PauseService,
    BanUser,
}

impl Sanction {
    pub fn parse(s: &str) -> Option<Sanction> {
        [
            Sanction::None,
            Sanction::HideReview,
            Sanction::PauseService,
            Sanction::BanUser,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Sanction::None => "none",
            Sanction::HideReview => "hide_review",
            Sanction::PauseService => "pause_service",
            Sanction::BanUser => "ban_user",
        }
    }

    /// Whether the sanction fits a report about `target` (a review is hidden only on a
    /// review report, a service paused only on a service report; anyone reported can be
    /// banned).
    pub fn fits(&self, target: TargetType) -> bool {
        match self {
            Sanction::None | Sanction::BanUser => true,
            Sanction::HideReview => target == TargetType::Review,
            Sanction::PauseService => target == TargetType::Service,
        }
    }
}

/// One report, by a user or by the platform (`reporter_id = "system"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: ReportId,
    pub reporter_id: String,
    pub target_type: TargetType,
    pub target_id: String,
    /// For a message: its conversation (a message is found through it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Whom the report is about (the service's freelancer, the review's author, the
    /// message's sender, the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_user_id: Option<String>,
    pub reason: Reason,
    pub description: String,
    /// What the detector saw (automatic reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    pub status: ReportStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Sanction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

pub const SYSTEM: &str = "system";

/// What the abuse detector saw when it filed an automatic report: the rule and its numbers,
/// shown to operators as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Evidence {
    /// More accounts registered from one address within the window than allowed.
    AccountsPerIp {
        ip: String,
        accounts: Vec<String>,
        count: usize,
        limit: usize,
        window_hours: i64,
    },
    /// A message with more spam keywords than allowed.
    SpamKeywords {
        message_id: String,
        conversation_id: String,
        keywords: Vec<String>,
        limit: usize,
        excerpt: String,
    },
    /// Messages with contact details before payment, the last of them named.
    ContactDetails {
        offences: u64,
        conversation_id: String,
        message_id: String,
    },
    /// The same unsolicited message to more recipients within an hour than allowed.
    DuplicateMessages {
        fingerprint: String,
        recipients: usize,
        limit: usize,
        window_start: i64,
        last_message_id: String,
        excerpt: String,
    },
}

impl Report {
    /// A report the platform files itself.
    pub fn automatic(
        target_type: TargetType,
        target_id: &str,
        reported_user_id: Option<String>,
        reason: Reason,
        description: String,
        evidence: Evidence,
        now: DateTime<Utc>,
    ) -> Report {
        Report {
            id: ReportId::new(),
            reporter_id: SYSTEM.to_owned(),
            target_type,
            target_id: target_id.to_owned(),
            conversation_id: None,
            reported_user_id,
            reason,
            description,
            evidence: Some(evidence),
            status: ReportStatus::Pending,
            action: None,
            note: None,
            resolved_by: None,
            resolved_at: None,
            created_at: now,
            version: 1,
        }
    }
}

/// The seed's spam words: a message with more than [`SPAM_KEYWORDS_ALLOWED`] of them is spam.
const SPAM_KEYWORDS: [&str; 6] = ["免费", "free", "urgent", "立即", "click here", "点击"];
pub const SPAM_KEYWORDS_ALLOWED: usize = 3;

/// The spam words a message contains (each counted once, case-insensitively).
pub fn spam_keywords(content: &str) -> Vec<&'static str> {
    let lower = content.to_lowercase();
    SPAM_KEYWORDS
        .into_iter()
        .filter(|k| lower.contains(k))
        .collect()
}

/// More than this many accounts from one address in [`IP_WINDOW_HOURS`] → flagged.
pub const ACCOUNTS_PER_IP: usize = 5;
pub const IP_WINDOW_HOURS: i64 = 24;

/// The same unsolicited text to more than this many people within an hour → spam.
pub const DUPLICATE_RECIPIENTS: usize = 5;
/// Shorter texts ("你好", "在吗") are too common to count as identical spam.
const DUPLICATE_MIN_CHARS: usize = 12;

/// A message's text as the duplicate rule compares it: case and spacing ignored. `None` when
/// it is too short to count.
pub fn duplicate_fingerprint(content: &str) -> Option<String> {
    let folded: String = content
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if folded.chars().count() < DUPLICATE_MIN_CHARS {
        return None;
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, folded.as_bytes());
    Some(
        digest
            .as_ref()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// A restriction lasts this long unless an operator lifts it sooner.
pub const RESTRICTION_HOURS: i64 = 24;

/// Messages a restricted user may still send per hour.
pub const RESTRICTED_MESSAGES_PER_HOUR: u32 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_spam_words_are_allowed_and_four_are_spam() {
        let three = "免费试用，立即点击领取";
        assert_eq!(spam_keywords(three), vec!["免费", "立即", "点击"]);
        assert!(spam_keywords(three).len() <= SPAM_KEYWORDS_ALLOWED);
        let four = "FREE 免费试用，立即点击领取";
        assert_eq!(spam_keywords(four).len(), 4);
        assert!(spam_keywords(four).len() > SPAM_KEYWORDS_ALLOWED);
        // Repeating one word does not make it denser.
        assert!(spam_keywords("免费免费免费免费免费").len() <= SPAM_KEYWORDS_ALLOWED);
        assert!(
            spam_keywords("Click here, it's FREE and URGENT — 立即").len() > SPAM_KEYWORDS_ALLOWED
        );
    }

    #[test]
    fn fingerprints_ignore_case_and_spacing_and_skip_short_texts() {
        let a = duplicate_fingerprint("Cheap logo design, only today!").unwrap();
        let b = duplicate_fingerprint("  cheap LOGO   design, only today! ").unwrap();
        assert_eq!(a, b);
        assert_ne!(
            a,
            duplicate_fingerprint("Cheap logo design, only tomorrow!").unwrap()
        );
        assert_eq!(duplicate_fingerprint("你好，在吗？"), None);
        assert_eq!(duplicate_fingerprint("ok thanks"), None);
        assert!(duplicate_fingerprint("您好，我们提供专业的标志设计服务").is_some());
    }

    #[test]
    fn sanctions_fit_their_targets() {
        assert!(Sanction::HideReview.fits(TargetType::Review));
        assert!(!Sanction::HideReview.fits(TargetType::Service));
        assert!(Sanction::PauseService.fits(TargetType::Service));
        assert!(!Sanction::PauseService.fits(TargetType::User));
        for t in TargetType::ALL {
            assert!(Sanction::BanUser.fits(t));
            assert!(Sanction::None.fits(t));
        }
        assert_eq!(Reason::parse_choosable("multiple_accounts"), None);
        assert_eq!(
            Reason::parse_choosable("fake_review"),
            Some(Reason::FakeReview)
        );
    }
}
