//! `stats-updater`: keeps the counters other writes feed.
//! - View shards are folded into `views_count`: the total is set from the shards' current sum
//!   and never lowered.
//! - A change's counter deltas (`stats.counters`) go into the operators' gauges and the day's
//!   flows once (`Store::apply_counts` guards each change id).
//! - A review's rating goes into (or out of) its service's and freelancer's sums
//!   (`Store::count_review`): the review records whether it is counted, so a redelivered or
//!   reordered message changes nothing.
//! - A service or freelancer whose ranking inputs changed joins the ranking's dirty set
//!   (`ranking-updater` drains it hourly).

use aws_lambda_events::event::sqs::SqsEvent;

use super::{Batch, BatchResponse, WorkMessage};
use crate::deps::Deps;
use crate::domain::ranking::RankTarget;
use crate::domain::stats::CounterChange;
use crate::domain::{ReviewId, ServiceId};
use crate::entry::BoxError;

/// One unit of work: at most once per batch each.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Job {
    Views(ServiceId),
    Review(ReviewId),
    Counters(CounterChange),
    Rank(RankTarget),
}

fn job(message: WorkMessage) -> Result<Option<Job>, String> {
    match message {
        WorkMessage::ViewsChanged { service_id } => service_id
            .parse()
            .map(|s| Some(Job::Views(s)))
            .map_err(|_| format!("bad service id {service_id}")),
        WorkMessage::ReviewChanged { review_id } => review_id
            .parse()
            .map(|r| Some(Job::Review(r)))
            .map_err(|_| format!("bad review id {review_id}")),
        WorkMessage::Counters(change) => Ok(Some(Job::Counters(change))),
        WorkMessage::RankService { service_id } => service_id
            .parse()
            .map(|s| Some(Job::Rank(RankTarget::Service(s))))
            .map_err(|_| format!("bad service id {service_id}")),
        WorkMessage::RankFreelancer { user_id } => user_id
            .parse()
            .map(|u| Some(Job::Rank(RankTarget::Freelancer(u))))
            .map_err(|_| format!("bad user id {user_id}")),
        _ => Ok(None),
    }
}

async fn run(deps: &Deps, job: &Job) -> Result<String, crate::store::StoreError> {
    Ok(match job {
        Job::Counters(change) => format!(
            "counters {}: {}",
            change.id,
            if deps.store.apply_counts(change, chrono::Utc::now()).await? {
                "applied"
            } else {
                "counted before"
            }
        ),
        Job::Views(service) => format!(
            "views {service}: {:?}",
            deps.store.fold_views(*service).await?
        ),
        Job::Rank(target) => {
            deps.store
                .mark_ranking_dirty(*target, chrono::Utc::now())
                .await?;
            format!("ranking: {target:?} marked")
        }
        Job::Review(review) => {
            format!(
                "review {review}: {:?}",
                deps.store.count_review(*review).await?
            )
        }
    })
}

pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let mut batch = Batch::decode(&event, |body| {
        let message: WorkMessage =
            serde_json::from_str(body).map_err(|e| format!("unreadable: {e}"))?;
        job(message)?.ok_or_else(|| "not a stats message".to_owned())
    });
    let mut done: Vec<Job> = Vec::new();
    let mut failed = Vec::new();
    for (id, job) in std::mem::take(&mut batch.items) {
        if done.contains(&job) {
            continue;
        }
        match run(deps, &job).await {
            Ok(outcome) => {
                tracing::info!(message_id = %id, %outcome, "stats updated");
                done.push(job);
            }
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, "stats update failed");
                failed.push(id);
            }
        }
    }
    Ok(batch.answer(failed))
}
