//! `Idempotency-Key`: the first answer to a keyed request, written in the same transaction as
//! the change it answers, so a retry either finds it or makes the change itself.

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::{Store, StoreError, keys, to_item};
use crate::domain::UserId;

/// Keys are kept for a day: long enough for any client retry.
const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    pub user_id: UserId,
    pub scope: String,
    /// SHA-256 of what was asked (route, ids, body), hex.
    pub request_hash: String,
    pub status: u16,
    /// The `data` of the first answer, as JSON text.
    pub response: String,
    pub created_at: DateTime<Utc>,
    expires_at: i64,
}

/// What a repeated key means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// Same request: answer what was answered the first time.
    Same { status: u16, response: String },
    /// Same key, different request.
    Mismatch,
}

impl IdempotencyRecord {
    pub fn new(
        user: UserId,
        scope: &str,
        client_key: &str,
        request_hash: String,
        status: u16,
        response: String,
        now: DateTime<Utc>,
    ) -> IdempotencyRecord {
        let key = keys::idempotency(user, scope, client_key);
        IdempotencyRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::Idempotency,
            user_id: user,
            scope: scope.to_owned(),
            request_hash,
            status,
            response,
            created_at: now,
            expires_at: now.timestamp() + IDEMPOTENCY_TTL_SECS,
        }
    }

    /// How this stored answer meets a request hashing to `hash`.
    pub fn replay(&self, hash: &str) -> Replay {
        if self.request_hash == hash {
            Replay::Same {
                status: self.status,
                response: self.response.clone(),
            }
        } else {
            Replay::Mismatch
        }
    }
}

impl Store {
    /// The put that records the answer, refused if the key was used already.
    pub(crate) fn idempotency_op(
        &self,
        record: &IdempotencyRecord,
    ) -> Result<TransactWriteItem, StoreError> {
        super::ops::put(
            &self.table,
            to_item(record)?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )
    }

    /// The stored answer for a key, if it is still kept.
    pub async fn idempotency(
        &self,
        user: UserId,
        scope: &str,
        client_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self
            .get_record::<IdempotencyRecord>(keys::idempotency(user, scope, client_key), true)
            .await?
            .filter(|r| r.expires_at > now.timestamp()))
    }
}
