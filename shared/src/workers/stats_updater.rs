//! `stats-updater`: folds counters that are written spread out (view shards) into the item
//! that shows them. Each fold sets the total from the shards' current sum and never lowers
//! it, so redelivered or reordered messages cannot miscount.

use aws_lambda_events::event::sqs::SqsEvent;

use super::{BatchResponse, ItemFailure, WorkMessage};
use crate::deps::Deps;
use crate::domain::ServiceId;
use crate::entry::BoxError;

pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let mut done: Vec<ServiceId> = Vec::new();
    let mut failures = Vec::new();
    for msg in &event.records {
        let id = msg.message_id.clone().unwrap_or_default();
        let service = match serde_json::from_str::<WorkMessage>(msg.body.as_deref().unwrap_or("")) {
            Ok(WorkMessage::ViewsChanged { service_id }) => match service_id.parse() {
                Ok(s) => s,
                Err(_) => {
                    tracing::error!(message_id = %id, "bad service id; dropped");
                    continue;
                }
            },
            Ok(other) => {
                tracing::warn!(message_id = %id, ?other, "not a stats message; dropped");
                continue;
            }
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "unreadable; dropped");
                continue;
            }
        };
        if done.contains(&service) {
            continue;
        }
        match deps.store.fold_views(service).await {
            Ok(outcome) => {
                tracing::info!(message_id = %id, service_id = %service, ?outcome, "views folded");
                done.push(service);
            }
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "fold failed");
                failures.push(ItemFailure {
                    item_identifier: id,
                });
            }
        }
    }
    Ok(BatchResponse {
        batch_item_failures: failures,
    })
}
