//! Sellers' sub-merchant accounts at the split channel: `USER#{id} / SUBMERCHANT`, one per
//! seller, replaced whole under its version; while WeChat Pay is still deciding, it waits on
//! the timer index (`GSI4PK=TIMER#applyment`, `GSI4SK={next check}#{user}`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::{Store, StoreError, keys, to_item};
use crate::domain::UserId;
use crate::domain::split::SubMerchant;

#[derive(Debug, Serialize, Deserialize)]
struct SubMerchantRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    entity_type: EntityType,
    #[serde(flatten)]
    sub_merchant: SubMerchant,
}

impl From<&SubMerchant> for SubMerchantRecord {
    fn from(m: &SubMerchant) -> SubMerchantRecord {
        let key = keys::sub_merchant(m.user_id);
        let due = m.next_check_at.filter(|_| !m.status.is_settled());
        SubMerchantRecord {
            pk: key.pk,
            sk: key.sk,
            gsi4pk: due.map(|_| keys::APPLYMENT_TIMER.to_owned()),
            gsi4sk: due.map(|at| format!("{}#{}", keys::ms(at), m.user_id)),
            entity_type: EntityType::SubMerchant,
            sub_merchant: m.clone(),
        }
    }
}

impl Store {
    pub async fn get_sub_merchant(&self, user: UserId) -> Result<Option<SubMerchant>, StoreError> {
        Ok(self
            .get_record::<SubMerchantRecord>(keys::sub_merchant(user), true)
            .await?
            .map(|r| r.sub_merchant))
    }

    /// Writes `m` if the stored one is still at `read_version` (`None`: there is none yet).
    /// `Ok(false)`: it changed meanwhile.
    pub async fn put_sub_merchant(
        &self,
        m: &SubMerchant,
        read_version: Option<u64>,
    ) -> Result<bool, StoreError> {
        let put = super::ops::put_versioned(
            &self.table,
            to_item(&SubMerchantRecord::from(m))?,
            read_version,
        )?;
        Ok(self.transact(vec![put]).await?.is_ok())
    }

    /// Applications to ask WeChat Pay about at `now`, earliest first.
    pub async fn due_sub_merchants(
        &self,
        now: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<SubMerchant>, StoreError> {
        Ok(self
            .due::<SubMerchantRecord>(keys::APPLYMENT_TIMER, now, limit)
            .await?
            .into_iter()
            .map(|r| r.sub_merchant)
            .collect())
    }
}
