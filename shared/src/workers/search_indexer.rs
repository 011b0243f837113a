//! `search-indexer`: the search queue → the search index. Each message names a service (or a
//! freelancer, for all their services); the indexer reads the table as it is now and upserts
//! the active ones and removes the rest, in one bulk request per batch. Reading current state
//! makes repeats and reordering harmless; the revision keeps concurrent batches from putting
//! an older state back.

use aws_lambda_events::event::sqs::SqsEvent;

use super::{Batch, BatchResponse, WorkMessage};
use crate::app::search as app;
use crate::deps::Deps;
use crate::domain::{ServiceId, UserId};
use crate::entry::BoxError;

/// What a search message asks for.
enum Wanted {
    Service(ServiceId),
    Freelancer(UserId),
}

fn wanted(message: WorkMessage) -> Result<Wanted, String> {
    match message {
        WorkMessage::SearchService { service_id } => service_id
            .parse()
            .map(Wanted::Service)
            .map_err(|_| format!("bad service id {service_id}")),
        WorkMessage::SearchFreelancer { user_id } => user_id
            .parse()
            .map(Wanted::Freelancer)
            .map_err(|_| format!("bad user id {user_id}")),
        _ => Err("not a search message".to_owned()),
    }
}

pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let mut batch = Batch::decode(&event, |body| {
        let message: WorkMessage =
            serde_json::from_str(body).map_err(|e| format!("unreadable: {e}"))?;
        wanted(message)
    });
    // Which message asked for which service: a failed service fails those messages.
    let mut wanted: Vec<(ServiceId, String)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for (id, item) in std::mem::take(&mut batch.items) {
        match item {
            Wanted::Service(s) => wanted.push((s, id)),
            Wanted::Freelancer(user) => match app::freelancer_services(&deps.store, user).await {
                Ok(ids) => wanted.extend(ids.into_iter().map(|s| (s, id.clone()))),
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "freelancer's services unread");
                    failures.push(id);
                }
            },
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
    Ok(batch.answer(failures))
}
