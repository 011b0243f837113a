//! Conversations between two users and their messages: who may talk to whom, what a message
//! may carry, how contact details are masked, and the freelancer's response metrics.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::moderation::{self, Finding, RulesError};
use super::{ConversationId, MessageId, OrderId, ServiceId, UserId};
use crate::field::Field;
use crate::i18n::Text;

/// The longest message text, in characters.
const MAX_CONTENT_CHARS: usize = 5_000;
/// The longest file name shown with an attachment.
const MAX_FILE_NAME_CHARS: usize = 200;
/// How much of the last message a conversation list shows.
const PREVIEW_CHARS: usize = 100;
/// Masked messages before the sender is reported to the moderators.
pub const REPORT_AFTER_OFFENCES: u64 = 3;
/// The window of the response metrics.
pub const RESPONSE_WINDOW_DAYS: i64 = 30;
/// An enquiry answered within this long counts as answered.
const ANSWERED_WITHIN_HOURS: i64 = 24;

/// What a conversation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Two users talking before any order (the "contact me" button of a profile).
    Direct,
    /// An enquiry about one service.
    Service(ServiceId),
    /// The order's own conversation, between its client and its freelancer.
    Order(OrderId),
}

/// The conversation of a pair and a context: the same every time, whoever opens it, so
/// opening is idempotent without a lookup. An order has exactly one conversation.
pub fn conversation_id(a: UserId, b: UserId, context: Context) -> ConversationId {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    let seed = match context {
        Context::Order(o) => format!("order#{o}"),
        Context::Service(s) => format!("pair#{x}#{y}#service#{s}"),
        Context::Direct => format!("pair#{x}#{y}"),
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    ConversationId::from_ulid(Ulid(u128::from_be_bytes(bytes)))
}

/// What a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    File,
    Image,
    /// Written by the platform (order events), never by a user.
    System,
    /// A seller's custom offer (its id in `offer_id`).
    Offer,
}

impl MessageKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::File => "file",
            MessageKind::Image => "image",
            MessageKind::System => "system",
            MessageKind::Offer => "offer",
        }
    }
}

/// One message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// `None` for the platform's system messages.
    pub sender_id: Option<UserId>,
    pub sender_name: Option<String>,
    /// Everyone else in the conversation (who gets it as unread).
    pub recipients: Vec<UserId>,
    pub message_type: MessageKind,
    /// As delivered: contact details and prohibited words masked.
    pub content: String,
    pub file_key: Option<String>,
    pub file_name: Option<String>,
    /// The attachment's length and SHA-256, as checked when it was sent.
    #[serde(default)]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub file_sha256: Option<String>,
    /// Whether anything was masked.
    pub is_masked: bool,
    pub order_id: Option<OrderId>,
    /// The custom offer a `offer` message carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<crate::domain::OfferId>,
    pub created_at: DateTime<Utc>,
}

impl Message {
    /// The start of the text, for lists and notifications.
    pub fn preview(&self) -> String {
        let text = match self.message_type {
            MessageKind::Image if self.content.is_empty() => "[图片 image]".to_owned(),
            MessageKind::File if self.content.is_empty() => {
                format!(
                    "[文件 file] {}",
                    self.file_name.as_deref().unwrap_or_default()
                )
            }
            _ => self.content.clone(),
        };
        let mut out: String = text.chars().take(PREVIEW_CHARS).collect();
        if text.chars().count() > PREVIEW_CHARS {
            out.push('…');
        }
        out
    }
}

/// A user's message as sent, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInput {
    pub message_type: MessageKind,
    pub content: String,
    pub file_key: Option<String>,
    pub file_name: Option<String>,
}

/// `{message_type?: text|file|image, content, file_key?, file_name?}`: a text needs
/// `content`; a file or an image needs the `file_key` of an upload and may have a caption.
impl MessageInput {
    pub fn parse(
        message_type: Field<String>,
        content: Field<String>,
        file_key: Field<String>,
        file_name: Field<String>,
    ) -> Result<MessageInput, Vec<(String, Text)>> {
        let mut errors = Vec::new();
        let string = |value: Field<String>| match value.optional() {
            Ok(s) => Ok(s.map(|s| s.trim().to_owned())),
            Err(_) => Err(Text::new("须为字符串", "Must be a string")),
        };
        let message_type = match string(message_type) {
            Ok(None) => Some(MessageKind::Text),
            Ok(Some(t)) => match t.as_str() {
                "text" => Some(MessageKind::Text),
                "file" => Some(MessageKind::File),
                "image" => Some(MessageKind::Image),
                _ => {
                    errors.push((
                        "message_type".to_owned(),
                        Text::new(
                            "message_type 须为 text、file 或 image",
                            "message_type must be text, file or image",
                        ),
                    ));
                    None
                }
            },
            Err(t) => {
                errors.push(("message_type".to_owned(), t));
                None
            }
        };
        let mut field = |name: &str, value: Field<String>, max: usize| match string(value) {
            Ok(Some(s)) if s.chars().count() > max => {
                errors.push((
                    name.to_owned(),
                    Text::owned(
                        format!("不能超过 {max} 个字符"),
                        format!("At most {max} characters"),
                    ),
                ));
                None
            }
            Ok(s) => s.filter(|s| !s.is_empty()),
            Err(t) => {
                errors.push((name.to_owned(), t));
                None
            }
        };
        let content = field("content", content, MAX_CONTENT_CHARS);
        let file_key = field("file_key", file_key, 500);
        let file_name = field("file_name", file_name, MAX_FILE_NAME_CHARS);
        match message_type {
            Some(MessageKind::Text)
                if content.is_none() && !errors.iter().any(|e| e.0 == "content") =>
            {
                errors.push((
                    "content".to_owned(),
                    Text::new("消息内容不能为空", "The message is empty"),
                ));
            }
            Some(MessageKind::File | MessageKind::Image)
                if file_key.is_none() && !errors.iter().any(|e| e.0 == "file_key") =>
            {
                errors.push((
                    "file_key".to_owned(),
                    Text::new(
                        "请先上传文件，再发送其 file_key",
                        "Upload the file first and send its file_key",
                    ),
                ));
            }
            _ => {}
        }
        match (message_type, errors.is_empty()) {
            (Some(message_type), true) => Ok(MessageInput {
                message_type,
                content: content.unwrap_or_default(),
                file_key: file_key.filter(|_| message_type != MessageKind::Text),
                file_name,
            }),
            _ => Err(errors),
        }
    }

    /// The text as it will be delivered, and what was masked in it.
    pub fn screened(&self) -> Result<(String, Vec<Finding>), RulesError> {
        let mut s = moderation::screen("content", &self.content)?;
        if let Some(name) = &self.file_name {
            s.findings
                .extend(moderation::screen("file_name", name)?.findings);
        }
        Ok((s.text, s.findings))
    }
}

/// One enquiry a freelancer received: when it came, and when they first answered (if ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enquiry {
    pub at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// `response_rate` (percent, two places) and `response_time` (hours, rounded up) over the
/// enquiries of the window (see `docs/ranking.md`). No enquiries: `0.00` and `0`.
pub fn response_metrics(enquiries: &[Enquiry], now: DateTime<Utc>) -> (Decimal, u32) {
    let from = now - Duration::days(RESPONSE_WINDOW_DAYS);
    let window: Vec<&Enquiry> = enquiries.iter().filter(|e| e.at >= from).collect();
    if window.is_empty() {
        return (Decimal::new(0, 2), 0);
    }
    let within = Duration::hours(ANSWERED_WITHIN_HOURS);
    let answered: Vec<i64> = window
        .iter()
        .filter_map(|e| e.answered_at.map(|a| (a - e.at).num_milliseconds().max(0)))
        .collect();
    let in_time = answered
        .iter()
        .filter(|ms| **ms <= within.num_milliseconds())
        .count();
    let mut rate = (Decimal::from(in_time as u64) * Decimal::from(100u32)
        / Decimal::from(window.len() as u64))
    .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    rate.rescale(2);
    let hours = if answered.is_empty() {
        0
    } else {
        let total: i64 = answered.iter().sum();
        let n = answered.len() as i64;
        // Mean milliseconds, then whole hours rounded up (a reply within minutes is 1 h).
        let mean = (total + n - 1) / n;
        u32::try_from((mean + 3_599_999) / 3_600_000).unwrap_or(u32::MAX)
    };
    (rate, hours)
}

/// Whether the result of a screen should be counted against the sender: before an order is
/// paid, contact details are an attempt to take the deal off the platform.
pub fn counts_as_offence(findings: &[Finding], before_payment: bool) -> bool {
    before_payment
        && findings
            .iter()
            .any(|f| matches!(f, Finding::ContactInfo { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    #[test]
    fn a_pair_has_one_conversation_per_context_whoever_opens_it() {
        let (a, b) = (UserId::new(), UserId::new());
        let s = ServiceId::new();
        assert_eq!(
            conversation_id(a, b, Context::Direct),
            conversation_id(b, a, Context::Direct)
        );
        assert_eq!(
            conversation_id(a, b, Context::Service(s)),
            conversation_id(b, a, Context::Service(s))
        );
        assert_ne!(
            conversation_id(a, b, Context::Direct),
            conversation_id(a, b, Context::Service(s))
        );
        let o = OrderId::new();
        assert_eq!(
            conversation_id(a, b, Context::Order(o)),
            conversation_id(UserId::new(), UserId::new(), Context::Order(o))
        );
    }

    #[test]
    fn messages_are_parsed_by_type() {
        let parse = |v: serde_json::Value| {
            let f = |k: &str| serde_json::from_value::<Field<String>>(v[k].clone()).unwrap();
            let sent = |k: &str| {
                if v.get(k).is_some() {
                    f(k)
                } else {
                    Field::Absent
                }
            };
            MessageInput::parse(
                sent("message_type"),
                sent("content"),
                sent("file_key"),
                sent("file_name"),
            )
        };
        let m = parse(serde_json::json!({"content": "  你好  "})).unwrap();
        assert_eq!(
            (m.message_type, m.content.as_str()),
            (MessageKind::Text, "你好")
        );
        let e = parse(serde_json::json!({"content": ""})).unwrap_err();
        assert_eq!(e[0].0, "content");
        let e = parse(serde_json::json!({"message_type": "image"})).unwrap_err();
        assert_eq!(e[0].0, "file_key");
        let e = parse(serde_json::json!({"message_type": "system", "content": "x"})).unwrap_err();
        assert_eq!(e[0].0, "message_type");
        let long = "字".repeat(MAX_CONTENT_CHARS + 1);
        let e = parse(serde_json::json!({ "content": long })).unwrap_err();
        assert_eq!(e[0].0, "content");
        let m = parse(
            serde_json::json!({"message_type": "file", "file_key": "k", "file_name": "brief.pdf"}),
        )
        .unwrap();
        assert_eq!(m.file_key.as_deref(), Some("k"));
    }

    #[test]
    fn response_metrics_follow_the_definition() {
        let now = at(24 * 40);
        assert_eq!(response_metrics(&[], now), (Decimal::new(0, 2), 0));
        let e = |h: i64, answered: Option<i64>| Enquiry {
            at: at(h),
            answered_at: answered.map(|a| at(h) + Duration::minutes(a)),
        };
        let list = [
            e(24 * 20, Some(30)),      // 30 min
            e(24 * 21, Some(60 * 5)),  // 5 h
            e(24 * 22, Some(60 * 30)), // 30 h: answered, but late
            e(24 * 23, None),          // never
            e(24 * 5, Some(1)),        // 35 days ago: outside the window
        ];
        let (rate, hours) = response_metrics(&list, now);
        assert_eq!(rate.to_string(), "50.00");
        // Mean of 0.5 h, 5 h and 30 h = 11.83 h → 12.
        assert_eq!(hours, 12);
        let (rate, _) = response_metrics(&list[..3], now);
        assert_eq!(rate.to_string(), "66.67");
    }
}
