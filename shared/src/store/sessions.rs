use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use super::records::SessionRecord;
use super::{Store, StoreError, from_item, keys, to_item};
use crate::auth::{REFRESH_TTL_SECS, RefreshToken};
use crate::domain::{Session, SessionId};

/// What happened when a refresh token was presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The token was current; the session moved on to the next generation.
    Rotated(Session),
    /// No such session.
    Unknown,
    /// The session was logged out or revoked earlier.
    Revoked,
    /// The current token outlived its 14 days.
    Expired,
    /// The token was valid once but has been rotated away: somebody replayed it. The whole
    /// session has now been revoked.
    Reused,
}

impl Store {
    pub async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&SessionRecord::from(session))?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", e))?;
        Ok(())
    }

    /// Moves the session to the next generation if `token` is its current one, in a single
    /// conditional write; two requests racing with the same token cannot both win.
    pub async fn rotate_session(
        &self,
        token: RefreshToken,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError> {
        let key = keys::session(token.session_id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk.clone()))
            .key(keys::SK, AttributeValue::S(key.sk.clone()))
            .update_expression(
                "SET generation = :next, expires_at = :exp, last_used_at = :now, version = version + :one",
            )
            .condition_expression(
                "attribute_exists(PK) AND generation = :gen AND revoked = :false AND expires_at > :now_secs",
            )
            .expression_attribute_values(":next", n(token.generation + 1))
            .expression_attribute_values(":gen", n(token.generation))
            .expression_attribute_values(":exp", n(now.timestamp() + REFRESH_TTL_SECS))
            .expression_attribute_values(":now", AttributeValue::S(now.to_rfc3339()))
            .expression_attribute_values(":now_secs", n(now.timestamp()))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.ok_or_else(|| {
                    StoreError::Decode("UpdateItem returned no attributes".into())
                })?;
                Ok(RotateOutcome::Rotated(
                    from_item::<SessionRecord>(item)?.try_into()?,
                ))
            }
            Err(SdkError::ServiceError(e)) => match e.err() {
                UpdateItemError::ConditionalCheckFailedException(ccf) => {
                    let Some(old) = ccf.item().cloned() else {
                        return Ok(RotateOutcome::Unknown);
                    };
                    let old: Session = from_item::<SessionRecord>(old)?.try_into()?;
                    if old.revoked {
                        Ok(RotateOutcome::Revoked)
                    } else if token.generation < old.generation {
                        self.revoke_session(token.session_id, "reuse").await?;
                        Ok(RotateOutcome::Reused)
                    } else if old.expires_at <= now.timestamp() {
                        Ok(RotateOutcome::Expired)
                    } else {
                        // A generation from the future cannot carry a valid MAC; treat as unknown.
                        Ok(RotateOutcome::Unknown)
                    }
                }
                _ => Err(StoreError::dynamo("UpdateItem", e.into_err())),
            },
            Err(e) => Err(StoreError::dynamo("UpdateItem", e)),
        }
    }

    /// Every session of `user`, live or not (A6b: Query `GSI1PK = USER#{id}`
    /// `begins_with(GSI1SK, SESSION#)`; expired ones go by TTL).
    pub async fn user_sessions(
        &self,
        user: crate::domain::UserId,
    ) -> Result<Vec<Session>, StoreError> {
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :p)")
                    .expression_attribute_values(
                        ":pk",
                        AttributeValue::S(keys::gsi1_user_sessions(user)),
                    )
                    .expression_attribute_values(":p", AttributeValue::S("SESSION#".to_owned())),
            )
            .await?;
        items
            .into_iter()
            .map(|item| from_item::<SessionRecord>(item).and_then(Session::try_from))
            .collect()
    }

    /// Revokes a session. Returns false when there is no such session.
    pub async fn revoke_session(&self, id: SessionId, reason: &str) -> Result<bool, StoreError> {
        let key = keys::session(id);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .update_expression(
                "SET revoked = :true, revoked_reason = :reason, version = version + :one",
            )
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":reason", AttributeValue::S(reason.to_owned()))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::dynamo("UpdateItem", e)),
        }
    }
}

pub(super) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
