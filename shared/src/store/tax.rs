//! Quarterly tax reports: one item per quarter (`TAXREPORT#{yyyyQn} / TAXREPORT`, listed on
//! `GSI1PK = TAXREPORTS`), pointing at its CSV in the private bucket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ops::s;
use super::{Store, StoreError, from_item, keys, to_item};
use crate::domain::OrderId;
use crate::domain::order::Order;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxReportRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity_type: EntityType,
    /// `2026Q3`.
    pub quarter: String,
    /// The CSV's key in the private bucket.
    pub key: String,
    pub sellers: usize,
    /// Sellers with income but no approved 实名认证.
    pub unverified: usize,
    pub gross_fen: i64,
    pub net_fen: i64,
    pub created_at: DateTime<Utc>,
}

impl TaxReportRecord {
    pub fn new(
        quarter: &str,
        key: &str,
        sellers: usize,
        unverified: usize,
        gross_fen: i64,
        net_fen: i64,
        now: DateTime<Utc>,
    ) -> TaxReportRecord {
        let k = keys::tax_report(quarter);
        TaxReportRecord {
            pk: k.pk,
            sk: k.sk,
            gsi1pk: keys::TAX_REPORTS.to_owned(),
            gsi1sk: quarter.to_owned(),
            entity_type: EntityType::TaxReport,
            quarter: quarter.to_owned(),
            key: key.to_owned(),
            sellers,
            unverified,
            gross_fen,
            net_fen,
            created_at: now,
        }
    }
}

impl Store {
    /// Records a quarter's report (a run again replaces it).
    pub async fn put_tax_report(&self, r: &TaxReportRecord) -> Result<(), StoreError> {
        self.put(to_item(r)?).await
    }

    /// Every quarter's report, newest first (four a year: one Query).
    pub async fn tax_reports(&self) -> Result<Vec<TaxReportRecord>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(keys::TAX_REPORTS))
            .scan_index_forward(false);
        self.query_all(query)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Orders by id, in one `BatchGetItem` per 100 (missing ones left out).
    pub async fn get_orders(&self, ids: &[OrderId]) -> Result<Vec<Order>, StoreError> {
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        self.batch_get(unique.into_iter().map(keys::order).collect(), false)
            .await?
            .into_iter()
            .map(super::orders::order_of_item)
            .collect()
    }
}
