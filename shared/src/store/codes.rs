//! One-time SMS codes and single-use emailed tokens. Neither is stored in the clear: codes as
//! a keyed MAC, tokens as their SHA-256.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{Store, StoreError, from_item, keys, ops, to_item};
use crate::domain::UserId;

/// A code lives 5 minutes.
const SMS_CODE_TTL_SECS: i64 = 300;
/// The fifth wrong try burns the code.
const SMS_CODE_MAX_TRIES: u32 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct SmsCodeRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    code_tag: String,
    tries: u32,
    created_at: DateTime<Utc>,
    expires_at: i64,
    version: u64,
}

/// The result of presenting a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code: it has been used up.
    Matched,
    /// Wrong code; this many tries are left.
    Wrong { remaining: u32 },
    /// Too many wrong tries: the code is dead, ask for a new one.
    Burned,
    /// The code outlived its 5 minutes.
    Expired,
    /// No code was sent (or it was already used).
    Missing,
}

/// A single-use token sent by email (verification, password reset).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity_type: EntityType,
    pub purpose: String,
    pub user_id: String,
    /// The address the token was sent to: verifying it proves this address.
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: i64,
    pub version: u64,
}

impl TokenRecord {
    pub fn user(&self) -> Result<UserId, StoreError> {
        self.user_id
            .parse()
            .map_err(|_| StoreError::Decode(format!("token for bad user id {}", self.user_id)))
    }
}

impl Store {
    /// Stores the live code for a phone and purpose, replacing any earlier one.
    pub async fn put_sms_code(
        &self,
        phone: &str,
        slot: &str,
        code_tag: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = keys::sms_code(phone, slot);
        let record = SmsCodeRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::SmsCode,
            code_tag: code_tag.to_owned(),
            tries: 0,
            created_at: now,
            expires_at: now.timestamp() + SMS_CODE_TTL_SECS,
            version: 1,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&record)?))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", e))?;
        Ok(())
    }

    /// Counts a try and, if `matches` accepts the stored tag, uses the code up. Counting comes
    /// first and is conditional, so parallel guesses cannot exceed the five tries, and the
    /// final delete is conditional on the tag, so a code is used at most once.
    pub async fn check_sms_code(
        &self,
        phone: &str,
        slot: &str,
        matches: impl Fn(&str) -> bool,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck, StoreError> {
        let key = keys::sms_code(phone, slot);
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk.clone()))
            .key(keys::SK, s(key.sk.clone()))
            .update_expression("ADD tries :one, version :one")
            .condition_expression("attribute_exists(PK) AND tries < :max AND expires_at > :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(SMS_CODE_MAX_TRIES))
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let record: SmsCodeRecord = match counted {
            Ok(out) => from_item(out.attributes.unwrap_or_default())?,
            Err(SdkError::ServiceError(e)) => {
                return match e.err() {
                    UpdateItemError::ConditionalCheckFailedException(ccf) => {
                        let Some(old) = ccf.item().cloned() else {
                            return Ok(CodeCheck::Missing);
                        };
                        let old: SmsCodeRecord = from_item(old)?;
                        Ok(if old.tries >= SMS_CODE_MAX_TRIES {
                            CodeCheck::Burned
                        } else {
                            CodeCheck::Expired
                        })
                    }
                    _ => Err(StoreError::dynamo("UpdateItem", e.into_err())),
                };
            }
            Err(e) => return Err(StoreError::dynamo("UpdateItem", e)),
        };
        if !matches(&record.code_tag) {
            let remaining = SMS_CODE_MAX_TRIES.saturating_sub(record.tries);
            return Ok(if remaining == 0 {
                CodeCheck::Burned
            } else {
                CodeCheck::Wrong { remaining }
            });
        }
        let used = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .condition_expression("code_tag = :tag")
            .expression_attribute_values(":tag", s(record.code_tag))
            .send()
            .await;
        match used {
            Ok(_) => Ok(CodeCheck::Matched),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), DeleteItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(CodeCheck::Missing)
            }
            Err(e) => Err(StoreError::dynamo("DeleteItem", e)),
        }
    }

    pub async fn put_token(
        &self,
        purpose: &str,
        hash: &str,
        user: UserId,
        email: Option<&str>,
        ttl_secs: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = keys::token(purpose, hash);
        let record = TokenRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::Token,
            purpose: purpose.to_owned(),
            user_id: user.to_string(),
            email: email.map(str::to_owned),
            created_at: now,
            expires_at: now.timestamp() + ttl_secs,
            version: 1,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&record)?))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", e))?;
        Ok(())
    }

    /// The token if it exists and has not expired (TTL deletes late, so expiry is checked here).
    pub async fn get_token(
        &self,
        purpose: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .get_record::<TokenRecord>(keys::token(purpose, hash), true)
            .await?
            .filter(|t| t.expires_at > now.timestamp()))
    }

    /// The transaction item that uses a token up: it must still exist and be unexpired.
    pub(super) fn consume_token_op(
        &self,
        purpose: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        ops::delete(
            &self.table,
            keys::token(purpose, hash),
            Some("attribute_exists(PK) AND expires_at > :now"),
            vec![(":now", n(now.timestamp()))],
        )
    }
}
