//! `abuse-detector`: new accounts and users' messages from the stream (abuse queue) → the
//! rules of `app::abuse`. Every action is guarded by its evidence, so a redelivery does
//! nothing twice.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, Utc};

use super::{Batch, BatchResponse, WorkMessage, work_message};
use crate::app::abuse::{self, AbuseSettings, SentMessage, Verdict};
use crate::deps::Deps;
use crate::domain::time_of_ms;
use crate::entry::BoxError;
use crate::store::StoreError;

/// Checks one message. `Err(None)`: ids that do not parse (a poison message, kept in the
/// dead-letter queue after its retries); `Err(Some(_))`: the store failed, retry.
pub async fn check(
    deps: &Deps,
    message: WorkMessage,
    now: DateTime<Utc>,
) -> Result<Verdict, Option<StoreError>> {
    let settings = AbuseSettings {
        ban_after_strikes: deps.config.abuse_ban_after_strikes,
    };
    match message {
        WorkMessage::AccountRegistered {
            user_id,
            ip,
            occurred_at_ms,
        } => {
            let user = user_id.parse().map_err(|_| None)?;
            abuse::registration(&deps.store, user, &ip, time_of_ms(occurred_at_ms), now)
                .await
                .map_err(Some)
        }
        WorkMessage::MessageSent {
            message_id,
            conversation_id,
            sender_id,
            recipients,
            content,
            sent_at_ms,
        } => {
            let m = SentMessage {
                id: message_id.parse().map_err(|_| None)?,
                conversation_id: conversation_id.parse().map_err(|_| None)?,
                sender_id: sender_id.parse().map_err(|_| None)?,
                recipients: recipients.iter().filter_map(|r| r.parse().ok()).collect(),
                content,
                created_at: time_of_ms(sent_at_ms),
            };
            abuse::message(&deps.store, settings, &m, now)
                .await
                .map_err(Some)
        }
        _ => Err(None),
    }
}

pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let batch = Batch::decode(&event, |body| {
        work_message(body, |m| {
            matches!(
                m,
                WorkMessage::AccountRegistered { .. } | WorkMessage::MessageSent { .. }
            )
            .then_some(m)
        })
    });
    Ok(batch
        .each(|message| async move {
            check(deps, message, Utc::now())
                .await
                .map(|verdict| format!("checked: {verdict:?}"))
                .map_err(|e| match e {
                    None => "ids that do not parse".to_owned(),
                    Some(e) => e.to_string(),
                })
        })
        .await)
}
