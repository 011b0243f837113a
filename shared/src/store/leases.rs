//! Leases for scheduled jobs: `LEASE#{job} / LEASE`, held by one run until it releases it or
//! until `held_until` passes (a run that died does not block the next for longer than the
//! lease). A schedule can start a job twice (EventBridge delivers at least once) or start the
//! next run while the last still works; only the run holding the lease does the work.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::sessions::n;
use super::{Store, StoreError, keys};

impl Store {
    /// Takes `job`'s lease for `holder` until `now + seconds`, unless another holder has it
    /// and it has not run out. `Ok(false)`: someone else holds it.
    pub async fn take_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        seconds: i64,
    ) -> Result<bool, StoreError> {
        let key = keys::lease(job);
        let until_ms = now.timestamp_millis() + seconds * 1000;
        let item = std::collections::HashMap::from([
            (keys::PK.to_owned(), AttributeValue::S(key.pk)),
            (keys::SK.to_owned(), AttributeValue::S(key.sk)),
            (
                "entity_type".to_owned(),
                AttributeValue::S(super::entity_type::EntityType::Lease.as_str()),
            ),
            ("holder".to_owned(), AttributeValue::S(holder.to_owned())),
            ("held_until_ms".to_owned(), n(until_ms)),
            // Removed by the table's TTL a day after it runs out.
            ("expires_at".to_owned(), n(until_ms / 1000 + 86_400)),
        ]);
        self.put_if(
            item,
            "attribute_not_exists(PK) OR held_until_ms < :now",
            vec![(":now", n(now.timestamp_millis()))],
        )
        .await
    }

    /// Gives `job`'s lease back if `holder` still has it (a lease that ran out and was taken
    /// by another run stays theirs).
    pub async fn release_lease(&self, job: &str, holder: &str) -> Result<(), StoreError> {
        let key = keys::lease(job);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .condition_expression("holder = :holder")
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(StoreError::dynamo("DeleteItem", e)),
        }
    }
}
