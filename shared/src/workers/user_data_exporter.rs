//! `user-data-exporter` (exports queue): writes the archive of each requested data export
//! to the file store (`exports/{user}/{export}.json`, private, removed after seven days by
//! the bucket's lifecycle rule) and marks the export ready; the stream then tells the user.
//! An export grows with the account (tens of megabytes for a busy seller), which is why it
//! is not written inside the API request (a Lambda response is at most 6 MB, an HTTP API
//! integration 30 s). One export per invocation; a failing one is retried and then kept in
//! the exports dead-letter queue.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;

use super::{Batch, BatchResponse, WorkMessage, work_message};
use crate::app::privacy::{Exported, write_export};
use crate::deps::Deps;
use crate::domain::{ExportId, UserId};
use crate::entry::BoxError;

/// The export a message asks for.
pub fn job(body: &str) -> Result<(UserId, ExportId), String> {
    let (user, export) = work_message(body, |m| match m {
        WorkMessage::ExportRequested { user_id, export_id } => Some((user_id, export_id)),
        _ => None,
    })?;
    Ok((
        user.parse().map_err(|_| format!("bad user id {user}"))?,
        export
            .parse()
            .map_err(|_| format!("bad export id {export}"))?,
    ))
}

pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let files = &deps.media_files()?;
    Ok(Batch::decode(&event, job)
        .each(|(user, export)| async move {
            match write_export(&deps.store, files, user, export, Utc::now()).await {
                Ok(Exported::Written(size)) => Ok(format!("export {export}: {size} bytes")),
                Ok(Exported::AlreadyDone) => Ok(format!("export {export}: written before")),
                Err(e) => Err(e.to_string()),
            }
        })
        .await)
}
