//! Event-driven functions: the stream router and the queue workers. Delivery is at least once,
//! so every worker is idempotent.

pub mod abuse_detector;
pub mod file_processor;
pub mod ledger_reconciler;
pub mod monthly_reports;
pub mod notification_dispatcher;
pub mod order_timers;
pub mod ranking_updater;
pub mod search_indexer;
pub mod stats_updater;
pub mod stream_router;
pub mod tax_report;
pub mod user_data_exporter;

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
    /// One page of a month's reports: the users after `cursor` (`None`: from the first).
    #[serde(rename = "reports.page")]
    ReportsPage {
        month: String,
        cursor: Option<String>,
        /// When the schedule started the month's run (reports are dated by it).
        started_at_ms: i64,
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
    /// A brief appeared, changed what search shows or went: the indexer reads it and upserts
    /// (open and public) or removes it in the briefs index. State-based.
    #[serde(rename = "search.brief")]
    SearchBrief { brief_id: String },
    /// An input of a service's score changed (ratings, orders, views, publication): the next
    /// ranking run scores it. State-based.
    #[serde(rename = "ranking.service")]
    RankService { service_id: String },
    /// A freelancer's record changed (a review counted, an order completed): the next ranking
    /// run levels them and scores their services. State-based.
    #[serde(rename = "ranking.freelancer")]
    RankFreelancer { user_id: String },
    /// Something happened to an order (placed, paid, delivered, …): the parties are told.
    #[serde(rename = "order.event")]
    OrderEvent {
        id: String,
        order_id: String,
        order_number: String,
        event: crate::domain::order::EventKind,
        by: crate::domain::order::Actor,
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
    /// A seller bid on a brief: its buyer is told.
    #[serde(rename = "proposal.received")]
    ProposalReceived {
        id: String,
        brief_id: String,
        client_id: String,
        seller_username: String,
        occurred_at_ms: u64,
    },
    /// A brief was awarded or closed: each seller whose proposal was still in is told.
    #[serde(rename = "brief.decided")]
    BriefDecided {
        id: String,
        brief_id: String,
        title: String,
        /// The seller whose proposal was accepted (`None`: closed without an order).
        awarded_to: Option<String>,
        occurred_at_ms: u64,
    },
    /// A buyer accepted or declined a seller's custom offer: the seller is told. Or its time
    /// passed (`expired`): both are told.
    #[serde(rename = "offer.decided")]
    OfferDecided {
        id: String,
        offer_id: String,
        seller_id: String,
        #[serde(default)]
        seller_username: String,
        #[serde(default)]
        buyer_id: String,
        buyer_username: String,
        accepted: bool,
        #[serde(default)]
        expired: bool,
        occurred_at_ms: u64,
    },
    /// A client reviewed an order, or the review was shown: the freelancer is told (of a
    /// sealed review, only that it is there).
    #[serde(rename = "review.received")]
    ReviewReceived {
        id: String,
        review_id: String,
        #[serde(default)]
        order_id: String,
        freelancer_id: String,
        client_username: String,
        rating: u8,
        #[serde(default)]
        sealed: bool,
        occurred_at_ms: u64,
    },
    /// An operator decided a 实名认证 submission (`approved` / `rejected`).
    #[serde(rename = "verification.reviewed")]
    VerificationReviewed {
        id: String,
        verification_id: String,
        user_id: String,
        status: crate::domain::VerificationStatus,
        reason: Option<String>,
        occurred_at_ms: u64,
    },
    /// A refund to the original payment ended (`succeeded`, or `credited` to the wallet).
    #[serde(rename = "refund.finished")]
    RefundFinished {
        id: String,
        refund_no: String,
        order_id: Option<String>,
        user_id: String,
        status: crate::domain::refund::RefundStatus,
        gateway: crate::domain::payment::Gateway,
        amount_fen: i64,
        occurred_at_ms: u64,
    },
    /// A sensitive change to an account (a new password …): its owner is told.
    #[serde(rename = "account.changed")]
    AccountChanged {
        id: String,
        user_id: String,
        change: crate::domain::user::AccountChange,
        occurred_at_ms: u64,
    },
    /// A seller's earnings from an order cleared: they can be withdrawn.
    #[serde(rename = "earnings.cleared")]
    EarningsCleared {
        id: String,
        order_id: String,
        user_id: String,
        amount_fen: i64,
        occurred_at_ms: u64,
    },
    /// A withdrawal moved on (`processing`, `paid`, `failed`, `rejected`).
    #[serde(rename = "withdrawal.reviewed")]
    WithdrawalReviewed {
        id: String,
        withdrawal_id: String,
        user_id: String,
        status: crate::domain::payment::WithdrawalStatus,
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
        status: crate::domain::report::ReportStatus,
        target_type: crate::domain::report::TargetType,
        occurred_at_ms: u64,
    },
    /// A user asked for their data: the exporter writes the archive. State-based (a ready
    /// export is not written again).
    #[serde(rename = "export.requested")]
    ExportRequested { user_id: String, export_id: String },
    /// A user's data export was written: they are told where to take it.
    #[serde(rename = "export.ready")]
    ExportReady {
        id: String,
        user_id: String,
        export_id: String,
        occurred_at_ms: u64,
    },
    /// A user's monthly report was stored: they are sent it.
    #[serde(rename = "monthly.report")]
    MonthlyReport {
        id: String,
        user_id: String,
        month: String,
        report: crate::domain::stats::MonthlyReport,
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
                | WorkMessage::SearchBrief { .. }
                | WorkMessage::RankService { .. }
                | WorkMessage::RankFreelancer { .. }
        )
    }
}

/// An SQS batch as every queue worker takes it: the messages it can work on, decoded, and a
/// failure for every other message. The one poison-message policy: a message a worker cannot
/// read, or that is not for it, is never dropped — it is reported failed, retried up to the
/// queue's `maxReceiveCount` and then kept in the dead-letter queue, whose alarm fires on it.
#[derive(Debug)]
pub struct Batch<T> {
    /// (SQS message id, what the worker made of it), in the queue's order.
    pub items: Vec<(String, T)>,
    failed: Vec<String>,
}

impl<T> Batch<T> {
    /// Decodes each message's body with `read`; an `Err` names why it cannot be worked on.
    pub fn decode(
        event: &aws_lambda_events::event::sqs::SqsEvent,
        read: impl Fn(&str) -> Result<T, String>,
    ) -> Batch<T> {
        let mut batch = Batch {
            items: Vec::new(),
            failed: Vec::new(),
        };
        for record in &event.records {
            let id = record.message_id.clone().unwrap_or_default();
            match read(record.body.as_deref().unwrap_or("")) {
                Ok(item) => batch.items.push((id, item)),
                Err(reason) => {
                    tracing::error!(message_id = %id, %reason, "poison message: left for the dead-letter queue");
                    batch.failed.push(id);
                }
            }
        }
        batch
    }

    /// The answer to the queue: the poison messages and `failed` (those the work failed on)
    /// are retried, each once.
    pub fn answer(self, failed: impl IntoIterator<Item = String>) -> BatchResponse {
        let mut ids = self.failed;
        ids.extend(failed);
        ids.sort();
        ids.dedup();
        BatchResponse {
            batch_item_failures: ids
                .into_iter()
                .map(|item_identifier| ItemFailure { item_identifier })
                .collect(),
        }
    }

    /// Runs `work` on each item in order and answers with the items it failed on.
    pub async fn each<F, Fut>(mut self, mut work: F) -> BatchResponse
    where
        F: FnMut(T) -> Fut,
        Fut: std::future::Future<Output = Result<String, String>>,
    {
        let mut failed = Vec::new();
        for (id, item) in std::mem::take(&mut self.items) {
            match work(item).await {
                Ok(outcome) => tracing::info!(message_id = %id, %outcome, "done"),
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "failed; retried");
                    failed.push(id);
                }
            }
        }
        self.answer(failed)
    }
}

/// A queue body as a [`WorkMessage`] that `take` accepts (`None`: not for this worker).
pub fn work_message<T>(body: &str, take: impl Fn(WorkMessage) -> Option<T>) -> Result<T, String> {
    let message: WorkMessage =
        serde_json::from_str(body).map_err(|e| format!("unreadable: {e}"))?;
    let kind = serde_json::to_value(&message)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_default();
    take(message).ok_or_else(|| format!("not for this worker: {kind}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(bodies: &[&str]) -> aws_lambda_events::event::sqs::SqsEvent {
        serde_json::from_value(serde_json::json!({
            "Records": bodies.iter().enumerate().map(|(i, b)| serde_json::json!({
                "messageId": format!("m{i}"), "body": b, "eventSource": "aws:sqs"
            })).collect::<Vec<_>>()
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn poison_messages_are_reported_failed_never_dropped() {
        let views =
            |id: &str| format!(r#"{{"type": "service.views_changed", "service_id": "{id}"}}"#);
        let search = r#"{"type": "search.service", "service_id": "s2"}"#;
        let bodies = [
            views("s1"),
            "not json".to_owned(),
            search.to_owned(),
            views("s9"),
        ];
        let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let batch = Batch::decode(&event(&bodies), |body| {
            work_message(body, |m| match m {
                WorkMessage::ViewsChanged { service_id } => Some(service_id),
                _ => None,
            })
        });
        // The unreadable message and the one for another worker fail at once; the others are
        // worked on, and the one whose work fails is retried too.
        assert_eq!(batch.items.len(), 2);
        let answer = batch
            .each(|service| async move {
                if service == "s9" {
                    Err("store down".to_owned())
                } else {
                    Ok(format!("folded {service}"))
                }
            })
            .await;
        let failed: Vec<_> = answer
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m1", "m2", "m3"]);
    }

    #[test]
    fn a_message_for_another_worker_names_its_kind() {
        let err = work_message(r#"{"type": "search.service", "service_id": "s2"}"#, |_| {
            None::<()>
        })
        .unwrap_err();
        assert_eq!(err, "not for this worker: search.service");
        assert!(
            work_message("{", Some)
                .unwrap_err()
                .starts_with("unreadable")
        );
    }
}
