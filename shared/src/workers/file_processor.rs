//! `file-processor`: S3 "object created" events (through the media queue) for every upload:
//! avatars become thumbnails, service gallery images and videos join their service, and
//! private files (order files, identity documents) are checked against what was declared.
//! S3 delivers at least once; each kind of processing is idempotent (see
//! [`crate::app::avatar::process_upload`], [`crate::app::files::process_upload`]).

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use serde::Deserialize;

use super::{Batch, BatchResponse};
use crate::app::avatar::process_upload;
use crate::app::{files, service_media};
use crate::config::Config;
use crate::deps::Deps;
use crate::entry::BoxError;
use crate::files::Files;

#[derive(Debug, Deserialize)]
struct S3Notification {
    #[serde(rename = "Records", default)]
    records: Vec<S3Record>,
}

#[derive(Debug, Deserialize)]
struct S3Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
}

/// Object keys arrive URL-encoded the way HTML forms are (`+` for a space).
fn decode_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// The created keys in one queue message (none for `s3:TestEvent` and other events).
fn created_keys(body: &str) -> Result<Vec<String>, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(body)?;
    if value.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    let n: S3Notification = serde_json::from_value(value)?;
    Ok(n.records
        .into_iter()
        .filter(|r| r.event_name.starts_with("ObjectCreated"))
        .map(|r| decode_key(&r.s3.object.key))
        .collect())
}

pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let bucket = Config::require(&deps.config.media_bucket, "MEDIA_BUCKET")?;
    let bucket_files = Files::new(deps.s3().clone(), bucket);
    let mut batch = Batch::decode(&event, |body| {
        created_keys(body).map_err(|e| format!("not an S3 event: {e}"))
    });
    let mut failed = Vec::new();
    for (id, keys) in std::mem::take(&mut batch.items) {
        for key in keys {
            // Boxed: the S3 and image futures nest deeply enough to overflow layout computation.
            let result = if key.starts_with(files::ORDER_UPLOADS)
                || key.starts_with(files::DOCUMENT_UPLOADS)
            {
                Box::pin(files::process_upload(
                    deps.channels(),
                    &bucket_files,
                    &key,
                    Utc::now(),
                ))
                .await
                .map(|o| format!("{o:?}"))
                .map_err(|e| e.to_string())
            } else if key.starts_with(service_media::UPLOAD_PREFIX) {
                Box::pin(service_media::process_upload(
                    &deps.store,
                    (&bucket_files, &deps.screener),
                    &key,
                ))
                .await
                .map(|o| format!("{o:?}"))
                .map_err(|e| e.to_string())
            } else {
                Box::pin(process_upload(
                    deps.channels(),
                    (&bucket_files, &deps.screener),
                    &key,
                    Utc::now(),
                ))
                .await
                .map(|o| format!("{o:?}"))
                .map_err(|e| e.to_string())
            };
            match result {
                Ok(outcome) => tracing::info!(message_id = %id, %outcome, "processed"),
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "processing failed");
                    failed.push(id.clone());
                    break;
                }
            }
        }
    }
    Ok(batch.answer(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_s3_events_and_test_events_are_skipped() {
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
            "s3":{"bucket":{"name":"media"},"object":{"key":"uploads/avatars/01J/a+b%2Bc","size":10}}}]}"#;
        assert_eq!(
            created_keys(body).unwrap(),
            vec!["uploads/avatars/01J/a b+c"]
        );
        assert!(
            created_keys(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"media"}"#)
                .unwrap()
                .is_empty()
        );
        assert!(created_keys("not json").is_err());
    }
}
