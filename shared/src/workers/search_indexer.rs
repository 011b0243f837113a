//! `search-indexer`: the search queue → the search indexes. Each message names a service (or a
//! freelancer, for all their services) or a brief; the indexer reads the table as it is now and
//! upserts the active services and open public briefs and removes the rest, in one bulk request
//! per index per batch. Reading current state
//! makes repeats and reordering harmless; the revision keeps concurrent batches from putting
//! an older state back.

use aws_lambda_events::event::sqs::SqsEvent;

use super::{Batch, BatchResponse, WorkMessage};
use crate::app::search as app;
use crate::deps::Deps;
use crate::domain::brief::BriefId;
use crate::domain::{ServiceId, UserId};
use crate::entry::BoxError;

/// What a search message asks for.
enum Wanted {
    Service(ServiceId),
    Freelancer(UserId),
    Brief(BriefId),
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
        WorkMessage::SearchBrief { brief_id } => brief_id
            .parse()
            .map(Wanted::Brief)
            .map_err(|_| format!("bad brief id {brief_id}")),
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
    let mut briefs: Vec<(BriefId, String)> = Vec::new();
    for (id, item) in std::mem::take(&mut batch.items) {
        match item {
            Wanted::Service(s) => wanted.push((s, id)),
            Wanted::Brief(b) => briefs.push((b, id)),
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
    failures.extend(index_briefs(deps, &briefs).await);
    Ok(batch.answer(failures))
}

/// The briefs' share of a batch: the ids of the messages that failed.
async fn index_briefs(deps: &'static Deps, wanted: &[(BriefId, String)]) -> Vec<String> {
    let mut ids: Vec<BriefId> = wanted.iter().map(|(b, _)| *b).collect();
    ids.sort();
    ids.dedup();
    let failed_for = |brief: &BriefId| -> Vec<String> {
        wanted
            .iter()
            .filter(|(b, _)| b == brief)
            .map(|(_, m)| m.clone())
            .collect()
    };
    match app::sync_briefs(&deps.store, &deps.brief_search, &ids).await {
        Ok(outcomes) => ids
            .iter()
            .zip(outcomes)
            .filter_map(|(brief, outcome)| match outcome {
                Ok(()) => {
                    tracing::info!(brief_id = %brief, "indexed");
                    None
                }
                Err(reason) => {
                    tracing::error!(brief_id = %brief, %reason, "not indexed");
                    Some(failed_for(brief))
                }
            })
            .flatten()
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, briefs = ids.len(), "briefs not indexed");
            wanted.iter().map(|(_, m)| m.clone()).collect()
        }
    }
}
