//! Briefs and proposals. A brief is `BRIEF#{brief} / BRIEF`, written whole under its version;
//! its proposals live in its partition (`PROPOSAL#{id}`), one per seller (`BIDDER#{seller}`
//! guard). While a brief is open and public it is in the lists: `GSI1` newest, `GSI3` by
//! subcategory, `GSI4` by top-level category; `GSI2` is its buyer's own list. A proposal
//! arriving bumps the brief's version, so an edit read before it is redone on a fresh read.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{Page, PageQuery, Store, StoreError, keys, to_item};
use crate::domain::brief::{
    Brief, BriefId, BriefStatus, MAX_OPEN_BRIEFS, Proposal, ProposalId, ProposalStatus,
};
use crate::domain::{Money, UserId};

#[derive(Debug, Serialize, Deserialize)]
struct BriefRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    gsi4sk: Option<String>,
    entity_type: EntityType,
    #[serde(flatten)]
    brief: Brief,
}

impl From<&Brief> for BriefRecord {
    fn from(b: &Brief) -> BriefRecord {
        let key = keys::brief(b.id);
        let sort = keys::time_sort(b.created_at, b.id);
        let listed = b.listed();
        let when = |pk: String| listed.then_some(pk);
        BriefRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: when(keys::GSI1_OPEN_BRIEFS.to_owned()),
            gsi1sk: when(sort.clone()),
            gsi2pk: keys::client_briefs(b.client_id),
            gsi2sk: sort.clone(),
            gsi3pk: when(keys::briefs_of_category(&b.content.category.slug)),
            gsi3sk: when(sort.clone()),
            gsi4pk: when(keys::briefs_of_category(&b.content.parent_category.slug)),
            gsi4sk: when(sort),
            entity_type: EntityType::Brief,
            brief: b.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ProposalRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    entity_type: EntityType,
    #[serde(flatten)]
    proposal: Proposal,
}

impl From<&Proposal> for ProposalRecord {
    fn from(p: &Proposal) -> ProposalRecord {
        let key = keys::proposal(p.brief_id, p.id);
        ProposalRecord {
            pk: key.pk,
            sk: key.sk,
            gsi2pk: Some(keys::seller_proposals(p.seller_id)),
            gsi2sk: Some(keys::time_sort(p.created_at, p.id)),
            entity_type: EntityType::Proposal,
            proposal: p.clone(),
        }
    }
}

/// Which briefs a list shows.
#[derive(Debug, Clone)]
pub enum BriefListing {
    /// Open public briefs, newest first.
    Open,
    /// Open public briefs of a subcategory (`top_level = false`) or a top-level category.
    Category { slug: String, top_level: bool },
    /// A buyer's own briefs, every status.
    Client(UserId),
}

/// What [`Store::create_brief`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BriefCreate {
    Created,
    /// The buyer has [`MAX_OPEN_BRIEFS`] open already.
    TooMany,
}

/// What [`Store::create_proposal`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalCreate {
    Created,
    /// The seller bid on this brief already.
    Duplicate,
    /// The brief is no longer open.
    NotOpen,
}

impl Store {
    /// The brief and one more on its buyer's open count (refused at [`MAX_OPEN_BRIEFS`]).
    pub async fn create_brief(&self, brief: &Brief) -> Result<BriefCreate, StoreError> {
        let ops = vec![
            super::ops::put(
                &self.table,
                to_item(&BriefRecord::from(brief))?,
                Some("attribute_not_exists(PK)"),
                vec![],
            )?,
            self.open_briefs_op(brief.client_id, 1)?,
        ];
        match self.transact(ops).await? {
            Ok(()) => Ok(BriefCreate::Created),
            Err(c) if c.failed(1) => Ok(BriefCreate::TooMany),
            Err(c) => Err(StoreError::Decode(format!("brief id collision: {:?}", c.0))),
        }
    }

    /// `delta` on the buyer's open-brief count; going up only below the limit.
    fn open_briefs_op(&self, client: UserId, delta: i32) -> Result<TransactWriteItem, StoreError> {
        let mut values = vec![
            (":d", n(delta)),
            (":et", s(EntityType::BriefCount.as_str())),
        ];
        let condition = (delta > 0).then(|| {
            values.push((":max", n(MAX_OPEN_BRIEFS)));
            "attribute_not_exists(#open) OR #open < :max"
        });
        super::ops::update(
            &self.table,
            keys::open_briefs(client),
            "SET entity_type = :et ADD #open :d",
            condition,
            &[("#open", "open")],
            values,
        )
    }

    pub async fn get_brief(
        &self,
        id: BriefId,
        consistent: bool,
    ) -> Result<Option<Brief>, StoreError> {
        Ok(self
            .get_record::<BriefRecord>(keys::brief(id), consistent)
            .await?
            .map(|r| r.brief))
    }

    fn brief_put(&self, brief: &Brief, read_version: u64) -> Result<TransactWriteItem, StoreError> {
        super::ops::put_versioned(
            &self.table,
            to_item(&BriefRecord::from(brief))?,
            Some(read_version),
        )
    }

    /// Writes an edited or closed brief if it is still at `read_version` (a closed one also
    /// leaves its buyer's open count). `Ok(false)`: it changed meanwhile.
    pub async fn replace_brief(
        &self,
        brief: &Brief,
        read_version: u64,
    ) -> Result<bool, StoreError> {
        let mut ops = vec![self.brief_put(brief, read_version)?];
        if brief.status != BriefStatus::Open {
            ops.push(self.open_briefs_op(brief.client_id, -1)?);
        }
        Ok(self.transact(ops).await?.is_ok())
    }

    /// What awarding `brief` (read at `read_version`) to `proposal` writes beside the order:
    /// the brief, the proposal (only if still submitted) and the buyer's open count.
    pub fn award_ops(
        &self,
        brief: &Brief,
        read_version: u64,
        proposal: &Proposal,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        Ok(vec![
            self.brief_put(brief, read_version)?,
            super::ops::update(
                &self.table,
                keys::proposal(proposal.brief_id, proposal.id),
                "SET #status = :accepted, updated_at = :now ADD version :one",
                Some("#status = :submitted"),
                &[("#status", "status")],
                vec![
                    (":accepted", s(ProposalStatus::Accepted.as_str())),
                    (":submitted", s(ProposalStatus::Submitted.as_str())),
                    (":now", s(brief.updated_at.to_rfc3339())),
                    (":one", n(1)),
                ],
            )?,
            self.open_briefs_op(brief.client_id, -1)?,
        ])
    }

    /// An erased buyer's brief: their name replaced and its files gone from it (the version
    /// bumped, so search and edits read it again).
    pub async fn erase_brief_copy(&self, id: BriefId, name: &str) -> Result<bool, StoreError> {
        self.update_if(
            keys::brief(id),
            "SET client_username = :name, attachments = :none ADD version :one",
            "attribute_exists(PK)",
            &[],
            vec![
                (":name", s(name)),
                (":none", AttributeValue::L(vec![])),
                (":one", n(1)),
            ],
        )
        .await
    }

    /// The briefs of `ids` that exist (any order), in one `BatchGetItem` per 100.
    pub async fn get_briefs(&self, ids: &[BriefId]) -> Result<Vec<Brief>, StoreError> {
        let mut wanted = ids.to_vec();
        wanted.sort();
        wanted.dedup();
        self.batch_get(wanted.into_iter().map(keys::brief).collect(), false)
            .await?
            .into_iter()
            .map(|item| super::plain::<BriefRecord>(item.into()).map(|r| r.brief))
            .collect()
    }

    /// One page of a seller's proposals across briefs, newest first, each with its brief.
    pub async fn seller_proposals(
        &self,
        seller: UserId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<(Proposal, Option<Brief>)>, super::ListError> {
        let page = self
            .query_page::<ProposalRecord>(PageQuery::newest(
                Some(keys::GSI2),
                keys::seller_proposals(seller),
                limit,
                cursor,
            ))
            .await?;
        let wanted: Vec<BriefId> = page.items.iter().map(|r| r.proposal.brief_id).collect();
        let briefs = self.get_briefs(&wanted).await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|r| {
                    let brief = briefs.iter().find(|b| b.id == r.proposal.brief_id).cloned();
                    (r.proposal, brief)
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// One page of briefs, newest first; `budget` keeps those whose budget meets the range.
    pub async fn list_briefs(
        &self,
        listing: &BriefListing,
        budget: (Option<Money>, Option<Money>),
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Brief>, super::ListError> {
        let (index, partition) = match listing {
            BriefListing::Open => (keys::GSI1, keys::GSI1_OPEN_BRIEFS.to_owned()),
            BriefListing::Category { slug, top_level } => (
                if *top_level { keys::GSI4 } else { keys::GSI3 },
                keys::briefs_of_category(slug),
            ),
            BriefListing::Client(id) => (keys::GSI2, keys::client_briefs(*id)),
        };
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        if let Some(lo) = budget.0 {
            conditions.push("budget_max >= :lo");
            values.push((":lo", AttributeValue::N(lo.fen().to_string())));
        }
        if let Some(hi) = budget.1 {
            conditions.push("budget_min <= :hi");
            values.push((":hi", AttributeValue::N(hi.fen().to_string())));
        }
        let page = self
            .query_page::<BriefRecord>(PageQuery {
                filter: (!conditions.is_empty()).then(|| conditions.join(" AND ")),
                values,
                ..PageQuery::newest(Some(index), partition, limit, cursor)
            })
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.brief).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// The proposal, the seller's one-per-brief guard and one more on the brief's count (and
    /// version), only while the brief is open.
    pub async fn create_proposal(&self, p: &Proposal) -> Result<ProposalCreate, StoreError> {
        let guard = keys::bidder(p.brief_id, p.seller_id);
        let ops = vec![
            super::ops::put(
                &self.table,
                to_item(&ProposalRecord::from(p))?,
                Some("attribute_not_exists(PK)"),
                vec![],
            )?,
            super::ops::put(
                &self.table,
                std::collections::HashMap::from([
                    (keys::PK.to_owned(), s(guard.pk)),
                    (keys::SK.to_owned(), s(guard.sk)),
                    ("entity_type".to_owned(), s(EntityType::Bidder.as_str())),
                    ("proposal_id".to_owned(), s(p.id.to_string())),
                    ("created_at".to_owned(), s(p.created_at.to_rfc3339())),
                ]),
                Some("attribute_not_exists(PK)"),
                vec![],
            )?,
            super::ops::update(
                &self.table,
                keys::brief(p.brief_id),
                "ADD proposals_count :one, version :one",
                Some("#status = :open"),
                &[("#status", "status")],
                vec![(":one", n(1)), (":open", s(BriefStatus::Open.as_str()))],
            )?,
        ];
        match self.transact(ops).await? {
            Ok(()) => Ok(ProposalCreate::Created),
            Err(c) if c.failed(1) => Ok(ProposalCreate::Duplicate),
            Err(c) if c.failed(2) => Ok(ProposalCreate::NotOpen),
            Err(c) => Err(StoreError::Decode(format!(
                "proposal id collision: {:?}",
                c.0
            ))),
        }
    }

    pub async fn get_proposal(
        &self,
        brief: BriefId,
        id: ProposalId,
    ) -> Result<Option<Proposal>, StoreError> {
        Ok(self
            .get_record::<ProposalRecord>(keys::proposal(brief, id), true)
            .await?
            .map(|r| r.proposal))
    }

    /// The seller's proposal on a brief, if they made one.
    pub async fn proposal_of(
        &self,
        brief: BriefId,
        seller: UserId,
    ) -> Result<Option<Proposal>, StoreError> {
        #[derive(Deserialize)]
        struct Guard {
            proposal_id: String,
        }
        let Some(g) = self
            .get_record::<Guard>(keys::bidder(brief, seller), true)
            .await?
        else {
            return Ok(None);
        };
        let id = g
            .proposal_id
            .parse()
            .map_err(|_| StoreError::Decode(format!("bidder guard of {brief}: proposal id")))?;
        self.get_proposal(brief, id).await
    }

    /// Every proposal on a brief, oldest first (one partition).
    pub async fn proposals_of(&self, brief: BriefId) -> Result<Vec<Proposal>, StoreError> {
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
                    .expression_attribute_values(":pk", s(keys::brief(brief).pk))
                    .expression_attribute_values(":p", s("PROPOSAL#")),
            )
            .await?;
        items
            .into_iter()
            .map(|i| super::from_item::<ProposalRecord>(i).map(|r| r.proposal))
            .collect()
    }

    /// A withdrawn proposal, if still submitted on an open brief; one less on the brief's
    /// count. `Ok(false)`: it was accepted, withdrawn or the brief closed meanwhile.
    pub async fn withdraw_proposal(&self, p: &Proposal) -> Result<bool, StoreError> {
        let ops = vec![
            super::ops::update(
                &self.table,
                keys::proposal(p.brief_id, p.id),
                "SET #status = :withdrawn, updated_at = :now ADD version :one",
                Some("#status = :submitted"),
                &[("#status", "status")],
                vec![
                    (":withdrawn", s(ProposalStatus::Withdrawn.as_str())),
                    (":submitted", s(ProposalStatus::Submitted.as_str())),
                    (":now", s(p.updated_at.to_rfc3339())),
                    (":one", n(1)),
                ],
            )?,
            super::ops::update(
                &self.table,
                keys::brief(p.brief_id),
                "ADD proposals_count :minus, version :one",
                Some("#status = :open"),
                &[("#status", "status")],
                vec![
                    (":minus", n(-1)),
                    (":one", n(1)),
                    (":open", s(BriefStatus::Open.as_str())),
                ],
            )?,
        ];
        Ok(self.transact(ops).await?.is_ok())
    }
}
