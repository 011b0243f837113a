//! The ranking's dirty set: what changed since its last run (marked by `stats-updater` from
//! the stream, drained by `ranking-updater`), and when it last ranked everything.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{Store, StoreError, keys};
use crate::domain::ranking::RankTarget;

/// One entry of the dirty set and when it was last marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dirty {
    pub target: RankTarget,
    pub marked_at_ms: i64,
}

fn target_of(sk: &str) -> Option<RankTarget> {
    if let Some(id) = sk.strip_prefix("SERVICE#") {
        return id.parse().ok().map(RankTarget::Service);
    }
    sk.strip_prefix("USER#")
        .and_then(|id| id.parse().ok())
        .map(RankTarget::Freelancer)
}

impl Store {
    /// Marks `target` for the next ranking run (a repeat only moves its time).
    pub async fn mark_ranking_dirty(
        &self,
        target: RankTarget,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = keys::ranking_dirty(target);
        self.put(HashMap::from([
            (keys::PK.to_owned(), s(key.pk)),
            (keys::SK.to_owned(), s(key.sk)),
            (
                "entity_type".to_owned(),
                s(EntityType::RankingDirty.as_str()),
            ),
            ("marked_at_ms".to_owned(), n(now.timestamp_millis())),
        ]))
        .await
    }

    /// The whole dirty set (one Query per shard, and its pages).
    pub async fn ranking_dirty(&self) -> Result<Vec<Dirty>, StoreError> {
        let mut out = Vec::new();
        for shard in 0..keys::RANKING_DIRTY_SHARDS {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(keys::ranking_dirty_shard(shard)))
                .consistent_read(true);
            for item in self.query_all(query).await? {
                let sk = item.get(keys::SK).and_then(|v| v.as_s().ok());
                let at = item
                    .get("marked_at_ms")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok());
                if let (Some(target), Some(marked_at_ms)) = (sk.and_then(|s| target_of(s)), at) {
                    out.push(Dirty {
                        target,
                        marked_at_ms,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Removes an entry the run has handled, unless it was marked again meanwhile (then the
    /// next run handles it again). `Ok(false)`: it was.
    pub async fn clear_ranking_dirty(&self, dirty: Dirty) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
        let key = keys::ranking_dirty(dirty.target);
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .condition_expression("marked_at_ms = :at")
            .expression_attribute_values(":at", n(dirty.marked_at_ms))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
                if matches!(e.err(), DeleteItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::dynamo("DeleteItem", e)),
        }
    }

    /// When the ranking last ranked every active service.
    pub async fn ranking_full_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        #[derive(serde::Deserialize)]
        struct State {
            full_at_ms: i64,
        }
        let state: Option<State> = self.get_record(keys::ranking_state(), true).await?;
        Ok(state.and_then(|s| DateTime::from_timestamp_millis(s.full_at_ms)))
    }

    pub async fn set_ranking_full_at(&self, at: DateTime<Utc>) -> Result<(), StoreError> {
        let key = keys::ranking_state();
        self.put(HashMap::from([
            (keys::PK.to_owned(), s(key.pk)),
            (keys::SK.to_owned(), s(key.sk)),
            (
                "entity_type".to_owned(),
                s(EntityType::RankingState.as_str()),
            ),
            ("full_at_ms".to_owned(), n(at.timestamp_millis())),
        ]))
        .await
    }
}
