//! The catalogue partition (`CATALOG`): categories and skills.

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::{Store, StoreError, from_item, keys, to_item};
use crate::domain::catalog::{Catalog, Category, Skill};

#[derive(Debug, Serialize, Deserialize)]
struct CatalogRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skill: Option<Skill>,
    version: u64,
}

impl Store {
    /// Writes every category and skill (idempotent: the same catalogue twice is the same
    /// table). Items that are no longer listed are left alone (deactivate, never delete: old
    /// services still name them).
    pub async fn put_catalog(&self, catalog: &Catalog) -> Result<(), StoreError> {
        let mut records = Vec::new();
        for c in &catalog.categories {
            let key = keys::catalog_category(&c.slug);
            records.push(CatalogRecord {
                pk: key.pk,
                sk: key.sk,
                entity_type: EntityType::Category,
                category: Some(c.clone()),
                skill: None,
                version: 1,
            });
        }
        for s in &catalog.skills {
            let key = keys::catalog_skill(&s.category, &s.slug);
            records.push(CatalogRecord {
                pk: key.pk,
                sk: key.sk,
                entity_type: EntityType::Skill,
                category: None,
                skill: Some(s.clone()),
                version: 1,
            });
        }
        let mut requests = Vec::new();
        for r in &records {
            let put = PutRequest::builder()
                .set_item(Some(to_item(r)?))
                .build()
                .map_err(|e| StoreError::Decode(e.to_string()))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for _ in 0..8 {
                if pending.is_empty() {
                    break;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamo("BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Decode(
                    "catalogue items stayed unprocessed".into(),
                ));
            }
        }
        Ok(())
    }

    /// The whole catalogue, in one query (paged only if it ever outgrows 1 MB).
    pub async fn catalog(&self) -> Result<Catalog, StoreError> {
        let mut catalog = Catalog::default();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(keys::CATALOG.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", e))?;
            for item in out.items.unwrap_or_default() {
                let r: CatalogRecord = from_item(item)?;
                if let Some(c) = r.category {
                    catalog.categories.push(c);
                }
                if let Some(s) = r.skill {
                    catalog.skills.push(s);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(catalog)
    }
}
