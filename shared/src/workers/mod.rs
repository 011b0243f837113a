//! Event-driven functions: the stream router and the queue workers. Delivery is at least once,
//! so every worker is idempotent.

pub mod abuse_detector;
pub mod ledger_reconciler;
pub mod media_processor;
pub mod monthly_reports;
pub mod notification_dispatcher;
pub mod order_timers;
pub mod ranking_updater;
pub mod search_indexer;
pub mod stats_updater;
pub mod stream_router;

use serde::{Deserialize, Serialize};

/// Work sent between functions through SQS. `id` is the id of the change that caused it (the
/// stream record's `eventID`), so a worker can act on it exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WorkMessage {
    #[serde(rename = "user.registered")]
    UserRegistered {
        id: String,
        user_id: String,
        occurred_at_ms: u64,
    },
    /// A view counter shard of the service changed: fold the shards into `views_count`.
    /// Folding reads the shards' current sum, so one message per service per batch is enough
    /// and a repeat is harmless.
    #[serde(rename = "service.views_changed")]
    ViewsChanged { service_id: String },
    /// A review appeared or its visibility changed: its share of the service's and the
    /// freelancer's rating sums is put where it belongs. State-based, so repeats are harmless.
    #[serde(rename = "review.changed")]
    ReviewChanged { review_id: String },
    /// A service changed in a way search shows (content, status, rating, orders): the
    /// indexer reads it and upserts or removes it. State-based, so repeats are harmless.
    #[serde(rename = "search.service")]
    SearchService { service_id: String },
    /// A freelancer's name or location changed: every card of theirs is re-indexed.
    #[serde(rename = "search.freelancer")]
    SearchFreelancer { user_id: String },
    /// Something happened to an order (placed, paid, delivered, …): the parties are told.
    #[serde(rename = "order.event")]
    OrderEvent {
        id: String,
        order_id: String,
        order_number: String,
        /// `order.paid`, `order.delivered`, …
        event: String,
        /// `client`, `freelancer`, `admin` or `system`.
        by: String,
        client_id: String,
        freelancer_id: String,
        occurred_at_ms: u64,
    },
    /// A user wrote a message: the recipients are notified.
    #[serde(rename = "message.posted")]
    MessagePosted {
        id: String,
        message_id: String,
        conversation_id: String,
        sender_name: String,
        recipients: Vec<String>,
        preview: String,
        occurred_at_ms: u64,
    },
    /// A client reviewed an order: the freelancer is told.
    #[serde(rename = "review.received")]
    ReviewReceived {
        id: String,
        review_id: String,
        freelancer_id: String,
        client_username: String,
        rating: u8,
        occurred_at_ms: u64,
    },
    /// An operator decided a 实名认证 submission (`approved` / `rejected`).
    #[serde(rename = "verification.reviewed")]
    VerificationReviewed {
        id: String,
        verification_id: String,
        user_id: String,
        status: String,
        reason: Option<String>,
        occurred_at_ms: u64,
    },
    /// A withdrawal moved on (`processing`, `paid`, `failed`, `rejected`).
    #[serde(rename = "withdrawal.reviewed")]
    WithdrawalReviewed {
        id: String,
        withdrawal_id: String,
        user_id: String,
        status: String,
        amount_fen: i64,
        reason: Option<String>,
        occurred_at_ms: u64,
    },
    /// What a change adds to the operators' counters; applied once per change id.
    #[serde(rename = "stats.counters")]
    Counters(crate::domain::stats::CounterChange),
    /// A new account and the address it came from (abuse detector).
    #[serde(rename = "abuse.account_registered")]
    AccountRegistered {
        user_id: String,
        ip: String,
        occurred_at_ms: u64,
    },
    /// A user's message (abuse detector).
    #[serde(rename = "abuse.message_sent")]
    MessageSent {
        message_id: String,
        conversation_id: String,
        sender_id: String,
        recipients: Vec<String>,
        content: String,
        sent_at_ms: u64,
    },
    /// An operator decided a user's report: the reporter is told.
    #[serde(rename = "report.decided")]
    ReportDecided {
        id: String,
        report_id: String,
        reporter_id: String,
        /// `resolved` or `dismissed`.
        status: String,
        target_type: String,
        occurred_at_ms: u64,
    },
    /// A user's monthly report was stored: they are sent it.
    #[serde(rename = "monthly.report")]
    MonthlyReport {
        id: String,
        user_id: String,
        month: String,
        report: serde_json::Value,
        occurred_at_ms: u64,
    },
}

impl WorkMessage {
    /// Work every copy of which does the same (state-based): one per batch is enough.
    pub fn is_state_based(&self) -> bool {
        matches!(
            self,
            WorkMessage::ViewsChanged { .. }
                | WorkMessage::ReviewChanged { .. }
                | WorkMessage::SearchService { .. }
                | WorkMessage::SearchFreelancer { .. }
        )
    }
}

/// The answer of a batch handler with `ReportBatchItemFailures`: the ids of the records to
/// retry (SQS message ids, or stream sequence numbers).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}
