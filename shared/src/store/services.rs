//! Services, featured pointers, saved services and view counter shards.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::cursor::Page;
use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{ListError, PageQuery, Store, StoreError, from_item, keys, to_item};
use crate::domain::catalog::Label;
use crate::domain::ranking::SellerLevel;
use crate::domain::review::average;
use crate::domain::service::{
    Package, Packages, Rejection, Service, ServiceContent, ServiceStatus, ServiceType,
};
use crate::domain::{Money, ServiceId, UserId};

#[derive(Debug, Serialize, Deserialize)]
struct PackageRecord {
    price_fen: i64,
    description: String,
    delivery_days: u32,
    revisions: u32,
    features: Vec<String>,
}

impl From<&Package> for PackageRecord {
    fn from(p: &Package) -> Self {
        PackageRecord {
            price_fen: p.price.fen(),
            description: p.description.clone(),
            delivery_days: p.delivery_days,
            revisions: p.revisions,
            features: p.features.clone(),
        }
    }
}

impl From<PackageRecord> for Package {
    fn from(r: PackageRecord) -> Self {
        Package {
            price: Money::from_fen(r.price_fen),
            description: r.description,
            delivery_days: r.delivery_days,
            revisions: r.revisions,
            features: r.features,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PackagesRecord {
    basic: PackageRecord,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    standard: Option<PackageRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    premium: Option<PackageRecord>,
}

/// Counters written only by workers and orders, never by an edit of the service.
const COUNTERS: [&str; 8] = [
    "rev",
    "views_count",
    "orders_count",
    "open_orders",
    "rating_sum",
    "reviews_count",
    "ranking_score",
    "seller_level",
];

/// Attributes an edit may remove (an index key when the service leaves that list, …).
const OPTIONAL: [&str; 16] = [
    "GSI1PK",
    "GSI1SK",
    "GSI2PK",
    "GSI2SK",
    "GSI3PK",
    "GSI3SK",
    "GSI4PK",
    "GSI4SK",
    "title",
    "title_zh",
    "description",
    "description_zh",
    "video",
    "rejection",
    "published_at",
    "featured_at",
];

#[derive(Debug, Serialize, Deserialize)]
struct ServiceRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    entity_type: EntityType,
    id: String,
    freelancer_id: String,
    freelancer_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description_zh: Option<String>,
    category: Label,
    parent_category: Label,
    skills: Vec<Label>,
    service_type: ServiceType,
    packages: PackagesRecord,
    requirements: String,
    images: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video: Option<String>,
    status: ServiceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection: Option<Rejection>,
    #[serde(default)]
    views_count: u64,
    #[serde(default)]
    orders_count: u64,
    #[serde(default)]
    open_orders: u64,
    /// Sum of the ratings of the public reviews (`stats-updater`); the average is derived.
    #[serde(default)]
    rating_sum: u64,
    #[serde(default)]
    reviews_count: u64,
    /// `ranking-updater`'s score and the freelancer's level.
    #[serde(default)]
    ranking_score: f64,
    #[serde(default)]
    seller_level: SellerLevel,
    is_featured: bool,
    /// Bumped by every write that changes what search shows (content, status, counters
    /// other than views): the search index keeps the highest revision it was given.
    #[serde(default)]
    rev: u64,
    /// When it was featured: the featured pointer's sort key is derived from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    featured_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    published_at: Option<DateTime<Utc>>,
    version: u64,
}

impl From<&Service> for ServiceRecord {
    fn from(sv: &Service) -> Self {
        let key = keys::service(sv.id);
        let c = &sv.content;
        let listed = sv.status == ServiceStatus::Active;
        let published = sv.published_at.unwrap_or(sv.created_at);
        let live = sv.status != ServiceStatus::Deleted;
        ServiceRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: listed.then(|| keys::category_services(&c.category.slug)),
            gsi1sk: listed.then(|| keys::published_sort(published, sv.id)),
            gsi2pk: live.then(|| keys::freelancer_services(sv.freelancer_id)),
            gsi2sk: live.then(|| keys::freelancer_service_sort(sv.status, sv.created_at, sv.id)),
            gsi3pk: live.then(|| keys::services_by_status(sv.status)),
            gsi3sk: live.then(|| keys::updated_sort(sv.updated_at, sv.id)),
            gsi4pk: listed.then(|| keys::category_services(&c.parent_category.slug)),
            gsi4sk: listed.then(|| keys::published_sort(published, sv.id)),
            entity_type: EntityType::Service,
            id: sv.id.to_string(),
            freelancer_id: sv.freelancer_id.to_string(),
            freelancer_username: sv.freelancer_username.clone(),
            title: c.title.clone(),
            title_zh: c.title_zh.clone(),
            description: c.description.clone(),
            description_zh: c.description_zh.clone(),
            category: c.category.clone(),
            parent_category: c.parent_category.clone(),
            skills: c.skills.clone(),
            service_type: c.service_type,
            packages: PackagesRecord {
                basic: (&c.packages.basic).into(),
                standard: c.packages.standard.as_ref().map(Into::into),
                premium: c.packages.premium.as_ref().map(Into::into),
            },
            requirements: c.requirements.clone(),
            images: c.images.clone(),
            video: c.video.clone(),
            status: sv.status,
            rejection: sv.rejection.clone(),
            views_count: sv.views_count,
            orders_count: sv.orders_count,
            open_orders: sv.open_orders,
            rating_sum: sv.rating_sum,
            reviews_count: sv.reviews_count,
            ranking_score: sv.ranking_score,
            seller_level: sv.seller_level,
            is_featured: sv.featured_at.is_some(),
            featured_at: sv.featured_at,
            created_at: sv.created_at,
            updated_at: sv.updated_at,
            published_at: sv.published_at,
            version: sv.version,
            rev: 1,
        }
    }
}

impl TryFrom<ServiceRecord> for Service {
    type Error = StoreError;

    fn try_from(r: ServiceRecord) -> Result<Service, StoreError> {
        let bad = |what: &str| StoreError::Decode(format!("service {}: bad {what}", r.id));
        Ok(Service {
            id: r.id.parse().map_err(|_| bad("id"))?,
            freelancer_id: r.freelancer_id.parse().map_err(|_| bad("freelancer_id"))?,
            freelancer_username: r.freelancer_username,
            content: ServiceContent {
                title: r.title,
                title_zh: r.title_zh,
                description: r.description,
                description_zh: r.description_zh,
                category: r.category,
                parent_category: r.parent_category,
                skills: r.skills,
                service_type: r.service_type,
                packages: Packages {
                    basic: r.packages.basic.into(),
                    standard: r.packages.standard.map(Into::into),
                    premium: r.packages.premium.map(Into::into),
                },
                requirements: r.requirements,
                images: r.images,
                video: r.video,
            },
            status: r.status,
            rejection: r.rejection,
            views_count: r.views_count,
            orders_count: r.orders_count,
            open_orders: r.open_orders,
            rating: average(r.rating_sum, r.reviews_count),
            rating_sum: r.rating_sum,
            reviews_count: r.reviews_count,
            ranking_score: r.ranking_score,
            seller_level: r.seller_level,
            featured_at: r.featured_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
            version: r.version,
        })
    }
}

fn decode_service(item: HashMap<String, AttributeValue>) -> Result<Service, StoreError> {
    from_item::<ServiceRecord>(item)?.try_into()
}

#[derive(Debug, Serialize, Deserialize)]
struct FeaturedRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    service_id: String,
    featured_at: DateTime<Utc>,
    version: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct SavedRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity_type: EntityType,
    service_id: String,
    saved_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    version: u64,
}

/// One saved service of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedEntry {
    pub service_id: ServiceId,
    pub saved_at: DateTime<Utc>,
}

/// What folding the view shards into a service did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldOutcome {
    /// `views_count` is now this total.
    Updated(u64),
    /// The service already showed this total or a newer one (a redelivery, or a fold that
    /// raced ahead): nothing written.
    Current,
    /// The service no longer exists.
    Missing,
}

/// Which processed media the worker attaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSlot {
    Image,
    Video,
}

/// Index, partition attribute, partition, key names and sort prefix of one listing.
/// The index, the partition and a sort-key prefix of a service list.
type ListingQuery = (&'static str, String, Option<(&'static str, String)>);

/// Where a service list comes from.
#[derive(Debug, Clone)]
pub enum ServiceListing {
    /// Active services of a subcategory (`GSI1`) or a top-level category (`GSI4`).
    Category { slug: String, top_level: bool },
    /// A freelancer's services with this status (`GSI2`).
    Freelancer { user: UserId, status: ServiceStatus },
    /// Every service with this status, most recently changed first (`GSI3`).
    Status(ServiceStatus),
}

impl Store {
    /// Writes a new service.
    pub async fn create_service(&self, service: &Service) -> Result<(), StoreError> {
        let item = to_item(&ServiceRecord::from(service))?;
        let op = super::ops::put(&self.table, item, Some("attribute_not_exists(PK)"), vec![])?;
        match self.transact(vec![op]).await? {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::Decode("service id collision".into())),
        }
    }

    /// One service by id (`consistent` for read-modify-write).
    pub async fn get_service(
        &self,
        id: ServiceId,
        consistent: bool,
    ) -> Result<Option<Service>, StoreError> {
        self.get_record::<ServiceRecord>(keys::service(id), consistent)
            .await?
            .map(Service::try_from)
            .transpose()
    }

    /// The update that writes everything an edit, a publication or a moderation decision
    /// may change — never the counters — if the service is still at `read_version`.
    /// `no_open_orders` adds the condition that no order is open (for deletion).
    pub(crate) fn update_service_op(
        &self,
        service: &Service,
        read_version: u64,
        no_open_orders: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let item = to_item(&ServiceRecord::from(service))?;
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut sets = Vec::new();
        for (i, (name, value)) in item.into_iter().enumerate() {
            if name == keys::PK || name == keys::SK || COUNTERS.contains(&name.as_str()) {
                continue;
            }
            names.insert(format!("#a{i}"), name);
            values.insert(format!(":a{i}"), value);
            sets.push(format!("#a{i} = :a{i}"));
        }
        let present: Vec<String> = names.values().cloned().collect();
        let mut removes = Vec::new();
        for (j, name) in OPTIONAL.iter().enumerate() {
            if !present.iter().any(|p| p.as_str() == *name) {
                names.insert(format!("#r{j}"), (*name).to_owned());
                removes.push(format!("#r{j}"));
            }
        }
        let mut expr = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expr.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        names.insert("#rev".into(), "rev".into());
        values.insert(":one".into(), n(1));
        expr.push_str(" ADD #rev :one");
        names.insert("#ver".into(), "version".into());
        values.insert(":read".into(), n(read_version));
        let mut condition = "attribute_exists(PK) AND #ver = :read".to_owned();
        if no_open_orders {
            names.insert("#open".into(), "open_orders".into());
            values.insert(":zero".into(), n(0));
            condition.push_str(" AND (attribute_not_exists(#open) OR #open = :zero)");
        }
        let key = keys::service(service.id);
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .update_expression(expr)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Writes an edited service (version already bumped) with any companion items (audit
    /// entry, featured pointer) in one transaction. `Ok(false)`: it changed meanwhile (or
    /// gained an open order, when `no_open_orders`).
    pub async fn update_service(
        &self,
        service: &Service,
        read_version: u64,
        no_open_orders: bool,
        companions: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let mut ops = vec![self.update_service_op(service, read_version, no_open_orders)?];
        ops.extend(companions);
        Ok(self.transact(ops).await?.is_ok())
    }

    /// The featured pointer of a service featured at `at` (put on feature).
    pub(crate) fn featured_put_op(
        &self,
        service: ServiceId,
        at: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let key = keys::featured(at, service);
        let record = FeaturedRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::Featured,
            service_id: service.to_string(),
            featured_at: at,
            version: 1,
        };
        super::ops::put(&self.table, to_item(&record)?, None, vec![])
    }

    /// Deletes the pointer of a service featured at `at` (on unfeature or delete).
    pub(crate) fn featured_delete_op(
        &self,
        service: ServiceId,
        at: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        super::ops::delete(&self.table, keys::featured(at, service), None, vec![])
    }

    /// Up to `limit` featured service ids, most recently featured first.
    pub async fn featured_ids(&self, limit: i32) -> Result<Vec<ServiceId>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::FEATURED))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Query", e))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| {
                let r: FeaturedRecord = from_item(item)?;
                r.service_id
                    .parse()
                    .map_err(|_| StoreError::Decode("featured: bad service id".into()))
            })
            .collect()
    }

    /// Services with their search revision (see `rev`), strongly consistent, in no
    /// particular order; missing ones left out. What the search indexer reads.
    pub async fn services_with_rev(
        &self,
        ids: &[ServiceId],
    ) -> Result<Vec<(Service, u64)>, StoreError> {
        let items = self
            .batch_get(ids.iter().map(|id| keys::service(*id)).collect(), true)
            .await?;
        items
            .into_iter()
            .map(|item| {
                let r: ServiceRecord = from_item(item)?;
                let rev = r.rev;
                Ok((Service::try_from(r)?, rev))
            })
            .collect()
    }

    /// Services by id in the order asked (missing ones left out).
    pub async fn get_services(&self, ids: &[ServiceId]) -> Result<Vec<Service>, StoreError> {
        let items = self
            .batch_get(ids.iter().map(|id| keys::service(*id)).collect(), false)
            .await?;
        let mut found: HashMap<String, Service> = HashMap::new();
        for item in items {
            let sv = decode_service(item)?;
            found.insert(sv.id.to_string(), sv);
        }
        Ok(ids
            .iter()
            .filter_map(|id| found.remove(&id.to_string()))
            .collect())
    }

    /// One page of a service list, newest first.
    pub async fn list_services(
        &self,
        listing: &ServiceListing,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Service>, ListError> {
        let (index, partition, sort_prefix): ListingQuery = match listing {
            ServiceListing::Category {
                slug,
                top_level: false,
            } => (keys::GSI1, keys::category_services(slug), None),
            ServiceListing::Category {
                slug,
                top_level: true,
            } => (keys::GSI4, keys::category_services(slug), None),
            ServiceListing::Freelancer { user, status } => (
                keys::GSI2,
                keys::freelancer_services(*user),
                Some(("GSI2SK", format!("{}#", status.as_str()))),
            ),
            ServiceListing::Status(status) => (keys::GSI3, keys::services_by_status(*status), None),
        };
        let page: Page<ServiceRecord> = self
            .query_page(PageQuery {
                sort_prefix,
                ..PageQuery::newest(Some(index), partition, limit, cursor)
            })
            .await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(Service::try_from)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }

    /// Writes what `ranking-updater` computed; a new revision, so search follows.
    /// `Ok(false)`: the service is gone.
    pub async fn set_service_ranking(
        &self,
        service: ServiceId,
        score: f64,
        level: SellerLevel,
    ) -> Result<bool, StoreError> {
        self.update_if(
            keys::service(service),
            "SET ranking_score = :score, seller_level = :level ADD rev :one",
            "attribute_exists(PK)",
            &[],
            vec![
                (":score", n(score)),
                (":level", s(level.as_str())),
                (":one", n(1)),
            ],
        )
        .await
    }

    /// Saves a service for a user. `Ok(false)` when it was saved already (nothing written).
    pub async fn save_service(
        &self,
        user: UserId,
        service: ServiceId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = keys::saved(user, service);
        let record = SavedRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::saved_list(user),
            gsi1sk: keys::saved_sort(now, service),
            entity_type: EntityType::Saved,
            service_id: service.to_string(),
            saved_at: now,
            created_at: now,
            version: 1,
        };
        let op = super::ops::put(
            &self.table,
            to_item(&record)?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )?;
        Ok(self.transact(vec![op]).await?.is_ok())
    }

    /// Removes a saved service. `Ok(false)` when it was not saved.
    pub async fn unsave_service(
        &self,
        user: UserId,
        service: ServiceId,
    ) -> Result<bool, StoreError> {
        let op = super::ops::delete(
            &self.table,
            keys::saved(user, service),
            Some("attribute_exists(PK)"),
            vec![],
        )?;
        Ok(self.transact(vec![op]).await?.is_ok())
    }

    /// One page of a user's saved services, most recently saved first.
    pub async fn saved_services(
        &self,
        user: UserId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<SavedEntry>, ListError> {
        let page: Page<SavedRecord> = self
            .query_page(PageQuery::newest(
                Some(keys::GSI1),
                keys::saved_list(user),
                limit,
                cursor,
            ))
            .await?;
        let items = page
            .items
            .into_iter()
            .map(|r| {
                Ok(SavedEntry {
                    service_id: r
                        .service_id
                        .parse()
                        .map_err(|_| StoreError::Decode("saved: bad service id".into()))?,
                    saved_at: r.saved_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// Counts one view on shard `shard` of the service: one `UpdateItem` on an item that
    /// only 1/[`keys::VIEW_SHARDS`] of the views touch.
    pub async fn record_view(&self, service: ServiceId, shard: u32) -> Result<(), StoreError> {
        let key = keys::view_shard(service, shard % keys::VIEW_SHARDS);
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .update_expression("SET entity_type = :t, service_id = :s ADD #views :one")
            .expression_attribute_names("#views", "views")
            .expression_attribute_values(":t", s(EntityType::ViewShard.as_str()))
            .expression_attribute_values(":s", s(service.to_string()))
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem", e))?;
        Ok(())
    }

    /// The sum of a service's view shards (one `BatchGetItem`, strongly consistent).
    pub async fn view_total(&self, service: ServiceId) -> Result<u64, StoreError> {
        let shards = (0..keys::VIEW_SHARDS)
            .map(|n| keys::view_shard(service, n))
            .collect();
        Ok(self
            .batch_get(shards, true)
            .await?
            .iter()
            .filter_map(|item| match item.get("views") {
                Some(AttributeValue::N(v)) => v.parse::<u64>().ok(),
                _ => None,
            })
            .sum())
    }

    /// Sets the service's `views_count` to the sum of its shards, only ever upwards: a late or
    /// repeated fold can never lower it. One read and at most one write.
    pub async fn fold_views(&self, service: ServiceId) -> Result<FoldOutcome, StoreError> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        let total = self.view_total(service).await?;
        let key = keys::service(service);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .update_expression("SET views_count = :total")
            .condition_expression(
                "attribute_exists(PK) AND (attribute_not_exists(views_count) OR views_count < :total)",
            )
            .expression_attribute_values(":total", n(total))
            .send()
            .await;
        match result {
            Ok(_) => Ok(FoldOutcome::Updated(total)),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                    match self.get_service(service, true).await? {
                        Some(_) => Ok(FoldOutcome::Current),
                        None => Ok(FoldOutcome::Missing),
                    }
                }
                _ => Err(StoreError::dynamo("UpdateItem", e)),
            },
        }
    }

    /// Attaches a processed image (appended, up to `max`) or the video to a service that
    /// still exists. `Ok(false)` when it cannot take it (full, deleted, or already there).
    pub async fn attach_service_media(
        &self,
        service: ServiceId,
        slot: MediaSlot,
        key: &str,
        max_images: usize,
    ) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        let skey = keys::service(service);
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(skey.pk))
            .key(keys::SK, s(skey.sk))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":deleted", s(ServiceStatus::Deleted.as_str()))
            .expression_attribute_values(":key", s(key))
            .expression_attribute_values(":one", n(1));
        req = match slot {
            MediaSlot::Image => req
                .update_expression("SET images = list_append(images, :new) ADD version :one, rev :one")
                .condition_expression(
                    "attribute_exists(PK) AND #status <> :deleted AND size(images) < :max AND NOT contains(images, :key)",
                )
                .expression_attribute_values(":new", AttributeValue::L(vec![s(key)]))
                .expression_attribute_values(":max", n(max_images)),
            MediaSlot::Video => req
                .update_expression("SET video = :key ADD version :one, rev :one")
                .condition_expression("attribute_exists(PK) AND #status <> :deleted"),
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(false),
                _ => Err(StoreError::dynamo("UpdateItem", e)),
            },
        }
    }
}

/// A service item from the table's stream.
pub(super) fn service_of_image(item: serde_dynamo::Item) -> Result<Service, StoreError> {
    Service::try_from(super::plain::<ServiceRecord>(item)?)
}

/// A service as the store writes it.
pub(super) fn service_image(s: &Service) -> Result<serde_dynamo::Item, StoreError> {
    super::to_image(&ServiceRecord::from(s))
}
