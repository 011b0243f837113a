//! `search-indexer`: the search queue → the search index. Each message names a service (or a
//! freelancer, for all their services); the indexer reads the table as it is now and upserts
//! the active ones and removes the rest, in one bulk request per batch. Reading current state
//! makes repeats and reordering harmless; the revision keeps concurrent batches from putting
//! an older state back.

use aws_lambda_events::event::sqs::SqsEvent;

use super::{BatchResponse, ItemFailure, WorkMessage};
use crate::app::search as app;
use crate::deps::Deps;
use crate::domain::{ServiceId, UserId};
use crate::entry::BoxError;

pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    // Which message asked for which service: a failed service fails those messages.
    let mut wanted: Vec<(ServiceId, String)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for msg in &event.records {
        let id = msg.message_id.clone().unwrap_or_default();
        match serde_json::from_str::<WorkMessage>(msg.body.as_deref().unwrap_or("")) {
            Ok(WorkMessage::SearchService { service_id }) => match service_id.parse() {
                Ok(s) => wanted.push((s, id)),
                Err(_) => tracing::error!(message_id = %id, "bad service id; dropped"),
            },
            Ok(WorkMessage::SearchFreelancer { user_id }) => match user_id.parse::<UserId>() {
                Ok(user) => match app::freelancer_services(&deps.store, user).await {
                    Ok(ids) => wanted.extend(ids.into_iter().map(|s| (s, id.clone()))),
                    Err(e) => {
                        tracing::error!(message_id = %id, error = %e, "freelancer's services unread");
                        failures.push(id);
                    }
                },
                Err(_) => tracing::error!(message_id = %id, "bad user id; dropped"),
            },
            Ok(other) => tracing::warn!(message_id = %id, ?other, "not a search message; dropped"),
            Err(e) => tracing::error!(message_id = %id, error = %e, "unreadable; dropped"),
        }
    }
    let mut ids: Vec<ServiceId> = wanted.iter().map(|(s, _)| *s).collect();
    ids.sort();
    ids.dedup();
    match app::sync(&deps.store, &deps.search, &ids).await {
        Ok(outcomes) => {
            for (service, outcome) in ids.iter().zip(outcomes) {
                match outcome {
                    Ok(()) => tracing::info!(service_id = %service, "indexed"),
                    Err(reason) => {
                        tracing::error!(service_id = %service, %reason, "not indexed");
                        failures.extend(
                            wanted
                                .iter()
                                .filter(|(s, _)| s == service)
                                .map(|(_, m)| m.clone()),
                        );
                    }
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, services = ids.len(), "batch not indexed");
            failures.extend(wanted.iter().map(|(_, m)| m.clone()));
        }
    }
    failures.sort();
    failures.dedup();
    Ok(BatchResponse {
        batch_item_failures: failures
            .into_iter()
            .map(|item_identifier| ItemFailure { item_identifier })
            .collect(),
    })
}
