//! Briefs (需求): a buyer describes a need with a budget and sellers bid on it with proposals
//! (投标); the buyer accepts one, which becomes an order at the proposal's price and terms.
//! Called *briefs* (as Fiverr does) so they are never confused with HTTP requests.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Label};
pub use super::ids::{BriefId, ProposalId};
use super::ids::{OrderId, UserId};
use super::money::{Money, fen};
use crate::i18n::Text;

/// How many briefs a buyer may have open at once.
pub const MAX_OPEN_BRIEFS: u32 = 10;
/// Budgets: ¥10.00 – ¥1,000,000.00.
pub const MIN_BUDGET_FEN: i64 = 1_000;
pub const MAX_BUDGET_FEN: i64 = 100_000_000;
/// A deadline is at most a year away.
pub const MAX_DEADLINE_DAYS: i64 = 365;
/// A proposal's delivery: 1–180 days; revisions 0–20.
pub const MAX_DELIVERY_DAYS: u32 = 180;
pub const MAX_REVISIONS: u32 = 20;
const MAX_SKILLS: usize = 10;
/// At most this many files on a brief.
pub const MAX_BRIEF_FILES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BriefStatus {
    /// Taking proposals.
    Open,
    /// A proposal was accepted: the brief became an order.
    Awarded,
    /// Closed by its buyer without an order.
    Closed,
}

impl BriefStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            BriefStatus::Open => "open",
            BriefStatus::Awarded => "awarded",
            BriefStatus::Closed => "closed",
        }
    }
}

/// Who finds a brief: everyone in the lists (`public`), or only who has its link
/// (`unlisted`, for a buyer inviting sellers they know).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Public,
    Unlisted,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            _ => None,
        }
    }
}

/// What the buyer means to pay: one amount, or a range. Both ends are stored, so lists can
/// filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    #[serde(rename = "budget_min", with = "fen")]
    pub min: Money,
    #[serde(rename = "budget_max", with = "fen")]
    pub max: Money,
}

impl Budget {
    pub fn is_fixed(&self) -> bool {
        self.min == self.max
    }
}

/// The buyer-written part of a brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefContent {
    pub title: String,
    pub description: String,
    pub category: Label,
    pub parent_category: Label,
    pub skills: Vec<Label>,
    #[serde(flatten)]
    pub budget: Budget,
    pub deadline: Option<DateTime<Utc>>,
    pub visibility: Visibility,
    /// What the buyer attached (a sketch, references, a specification), checked when attached
    /// and kept where it was uploaded.
    #[serde(default)]
    pub attachments: Vec<BriefFile>,
}

/// A file attached to a brief: anyone who can read the brief can download it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefFile {
    /// Where it was uploaded (`uploads/briefs/{buyer}/{id}`).
    pub key: String,
    /// The name it downloads as.
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
}

/// The accepted proposal and the order it became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Award {
    pub proposal_id: ProposalId,
    pub seller_id: UserId,
    pub order_id: OrderId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brief {
    pub id: BriefId,
    pub client_id: UserId,
    pub client_username: String,
    #[serde(flatten)]
    pub content: BriefContent,
    pub status: BriefStatus,
    pub proposals_count: u64,
    pub award: Option<Award>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Brief {
    pub fn new(
        client: UserId,
        client_username: &str,
        content: BriefContent,
        now: DateTime<Utc>,
    ) -> Brief {
        Brief {
            id: BriefId::new(),
            client_id: client,
            client_username: client_username.to_owned(),
            content,
            status: BriefStatus::Open,
            proposals_count: 0,
            award: None,
            closed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// In the public lists: open and public.
    pub fn listed(&self) -> bool {
        self.status == BriefStatus::Open && self.content.visibility == Visibility::Public
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Submitted,
    /// Chosen by the buyer: it became an order.
    Accepted,
    /// Taken back by its seller while the brief was open.
    Withdrawn,
    /// Another proposal was accepted, or the brief was closed.
    Declined,
}

impl ProposalStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProposalStatus::Submitted => "submitted",
            ProposalStatus::Accepted => "accepted",
            ProposalStatus::Withdrawn => "withdrawn",
            ProposalStatus::Declined => "declined",
        }
    }
}

/// A seller's terms for a brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalTerms {
    #[serde(with = "fen")]
    pub price: Money,
    pub delivery_days: u32,
    pub revisions: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub id: ProposalId,
    pub brief_id: BriefId,
    /// The brief's buyer (who is told of it).
    pub client_id: UserId,
    pub seller_id: UserId,
    pub seller_username: String,
    #[serde(flatten)]
    pub terms: ProposalTerms,
    pub status: ProposalStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl Proposal {
    pub fn new(
        brief: &Brief,
        seller: UserId,
        seller_username: &str,
        terms: ProposalTerms,
        now: DateTime<Utc>,
    ) -> Proposal {
        Proposal {
            id: ProposalId::new(),
            brief_id: brief.id,
            client_id: brief.client_id,
            seller_id: seller,
            seller_username: seller_username.to_owned(),
            terms,
            status: ProposalStatus::Submitted,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }
}

/// A brief as sent, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct BriefInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub skills: Vec<String>,
    /// A fixed budget (`budget`), or a range (`budget_min`, `budget_max`).
    pub budget: Option<Money>,
    pub budget_min: Option<Money>,
    pub budget_max: Option<Money>,
    pub deadline: Option<DateTime<Utc>>,
    pub visibility: Option<Visibility>,
    /// The files, as `(upload key, name)`; `None` keeps those the brief has.
    pub attachments: Option<Vec<(String, String)>>,
}

/// Field errors, by field, in the order found.
pub type Errors = Vec<(&'static str, Text)>;

fn chars_between(s: &str, min: usize, max: usize) -> bool {
    let n = s.trim().chars().count();
    (min..=max).contains(&n)
}

impl BriefInput {
    /// Checks every field against the catalogue and the rules; every error, not the first.
    pub fn parse(self, catalog: &Catalog, now: DateTime<Utc>) -> Result<BriefContent, Errors> {
        let mut errors: Errors = Vec::new();
        let title = self.title.unwrap_or_default().trim().to_owned();
        if !chars_between(&title, 5, 100) {
            errors.push((
                "title",
                Text::new("标题须为 5–100 个字", "The title is 5–100 characters"),
            ));
        }
        let description = self.description.unwrap_or_default().trim().to_owned();
        if !chars_between(&description, 20, 5000) {
            errors.push((
                "description",
                Text::new(
                    "需求描述须为 20–5000 个字",
                    "The description is 20–5000 characters",
                ),
            ));
        }
        let placement = self
            .category
            .as_deref()
            .map(str::trim)
            .and_then(|slug| catalog.placement(slug));
        if placement.is_none() {
            errors.push((
                "category",
                Text::new("请选择一个有效的二级分类", "Choose an existing subcategory"),
            ));
        }
        let mut skills: Vec<Label> = Vec::new();
        if self.skills.len() > MAX_SKILLS {
            errors.push(("skills", Text::new("技能最多 10 个", "At most 10 skills")));
        } else if let Some(p) = &placement {
            for slug in &self.skills {
                match catalog.skill(&p.parent.slug, slug.trim()) {
                    Some(s) if !skills.iter().any(|l| l.slug == s.slug) => skills.push(s.label()),
                    Some(_) => {}
                    None => errors.push((
                        "skills",
                        Text::owned(
                            format!("技能 “{slug}” 不属于该分类"),
                            format!("\"{slug}\" is not a skill of this category"),
                        ),
                    )),
                }
            }
        }
        let budget = match (self.budget, self.budget_min, self.budget_max) {
            (Some(b), None, None) => Some(Budget { min: b, max: b }),
            (None, Some(min), Some(max)) if min <= max => Some(Budget { min, max }),
            (None, Some(_), Some(_)) => {
                errors.push((
                    "budget_max",
                    Text::new(
                        "预算上限不能低于下限",
                        "budget_max must not be below budget_min",
                    ),
                ));
                None
            }
            _ => {
                errors.push((
                    "budget",
                    Text::new(
                        "请填写固定预算 budget，或预算范围 budget_min 与 budget_max",
                        "Give a fixed budget, or budget_min and budget_max",
                    ),
                ));
                None
            }
        };
        if let Some(b) = budget
            && (b.min.fen() < MIN_BUDGET_FEN || b.max.fen() > MAX_BUDGET_FEN)
        {
            errors.push((
                if b.is_fixed() { "budget" } else { "budget_min" },
                Text::new(
                    "预算须在 ¥10.00 至 ¥1,000,000.00 之间",
                    "Budgets are ¥10.00 to ¥1,000,000.00",
                ),
            ));
        }
        if let Some(d) = self.deadline
            && (d <= now || d > now + Duration::days(MAX_DEADLINE_DAYS))
        {
            errors.push((
                "deadline",
                Text::new(
                    "截止时间须在未来一年以内",
                    "The deadline is within the next year",
                ),
            ));
        }
        if self
            .attachments
            .as_ref()
            .is_some_and(|a| a.len() > MAX_BRIEF_FILES)
        {
            errors.push((
                "attachments",
                Text::new("附件最多 5 个", "At most 5 attachments"),
            ));
        }
        match (errors.is_empty(), placement, budget) {
            (true, Some(p), Some(budget)) => Ok(BriefContent {
                title,
                description,
                category: p.category,
                parent_category: p.parent,
                skills,
                budget,
                deadline: self.deadline,
                visibility: self.visibility.unwrap_or_default(),
                // Checked against the uploads by `app::briefs`.
                attachments: Vec::new(),
            }),
            _ => Err(errors),
        }
    }
}

impl BriefContent {
    /// The input that gives this content back: an edit is laid over it.
    pub fn to_input(&self) -> BriefInput {
        let fixed = self.budget.is_fixed();
        BriefInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            category: Some(self.category.slug.clone()),
            skills: self.skills.iter().map(|s| s.slug.clone()).collect(),
            budget: fixed.then_some(self.budget.min),
            budget_min: (!fixed).then_some(self.budget.min),
            budget_max: (!fixed).then_some(self.budget.max),
            deadline: self.deadline,
            visibility: Some(self.visibility),
            attachments: None,
        }
    }
}

/// The terms every custom piece of work has — a price (¥10.00–¥1,000,000.00), 1–180 days,
/// 0–20 revisions (1 unless said) — checked for a proposal and an offer alike.
pub fn work_terms(
    price: Option<Money>,
    delivery_days: Option<u32>,
    revisions: Option<u32>,
    errors: &mut Errors,
) -> (Option<Money>, Option<u32>, u32) {
    let price = price.filter(|p| (MIN_BUDGET_FEN..=MAX_BUDGET_FEN).contains(&p.fen()));
    if price.is_none() {
        errors.push((
            "price",
            Text::new(
                "报价须在 ¥10.00 至 ¥1,000,000.00 之间",
                "The price is ¥10.00 to ¥1,000,000.00",
            ),
        ));
    }
    let days = delivery_days.filter(|d| (1..=MAX_DELIVERY_DAYS).contains(d));
    if days.is_none() {
        errors.push((
            "delivery_days",
            Text::new("交付天数须为 1–180 天", "Delivery is 1–180 days"),
        ));
    }
    let revisions = revisions.unwrap_or(1);
    if revisions > MAX_REVISIONS {
        errors.push((
            "revisions",
            Text::new("修改次数最多 20 次", "At most 20 revisions"),
        ));
    }
    (price, days, revisions)
}

impl ProposalTerms {
    /// Checks a proposal's terms; every error, not the first.
    pub fn parse(
        price: Option<Money>,
        delivery_days: Option<u32>,
        revisions: Option<u32>,
        message: Option<String>,
    ) -> Result<ProposalTerms, Errors> {
        let mut errors: Errors = Vec::new();
        let (price, days, revisions) = work_terms(price, delivery_days, revisions, &mut errors);
        let message = message.unwrap_or_default().trim().to_owned();
        if !chars_between(&message, 10, 3000) {
            errors.push((
                "message",
                Text::new(
                    "投标说明须为 10–3000 个字",
                    "The message is 10–3000 characters",
                ),
            ));
        }
        match (errors.is_empty(), price, days) {
            (true, Some(price), Some(delivery_days)) => Ok(ProposalTerms {
                price,
                delivery_days,
                revisions,
                message,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::from_seed_json(include_str!("../../../infra/seed/catalog.json")).unwrap()
    }

    fn yuan(s: &str) -> Option<Money> {
        Some(s.parse().unwrap())
    }

    fn input() -> BriefInput {
        BriefInput {
            title: Some("为茶饮品牌设计 logo".into()),
            description: Some(
                "新开的茶饮店需要一个简洁、易记的 logo，附带名片与门头效果图。".into(),
            ),
            category: Some("logo-design".into()),
            budget_min: yuan("2000.00"),
            budget_max: yuan("3000.00"),
            ..BriefInput::default()
        }
    }

    #[test]
    fn a_brief_with_a_budget_range_parses_and_gives_its_input_back() {
        let now = Utc::now();
        let c = input().parse(&catalog(), now).unwrap();
        assert_eq!((c.budget.min.fen(), c.budget.max.fen()), (200_000, 300_000));
        assert!(!c.budget.is_fixed());
        assert_eq!(c.visibility, Visibility::Public);
        assert_eq!(c.to_input().parse(&catalog(), now).unwrap(), c);
    }

    #[test]
    fn every_broken_field_is_named_at_once() {
        let bad = BriefInput {
            title: Some("logo".into()),
            description: Some("太短".into()),
            category: Some("no-such-category".into()),
            budget_min: yuan("3000.00"),
            budget_max: yuan("2000.00"),
            deadline: Some(Utc::now() - Duration::days(1)),
            ..BriefInput::default()
        };
        let errors = bad.parse(&catalog(), Utc::now()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            ["title", "description", "category", "budget_max", "deadline"]
        );
        let none = BriefInput {
            budget_min: None,
            budget_max: None,
            ..input()
        };
        assert_eq!(
            none.parse(&catalog(), Utc::now()).unwrap_err()[0].0,
            "budget"
        );
        let huge = BriefInput {
            budget: yuan("2000000.00"),
            budget_min: None,
            budget_max: None,
            ..input()
        };
        assert_eq!(
            huge.parse(&catalog(), Utc::now()).unwrap_err()[0].0,
            "budget"
        );
    }

    #[test]
    fn proposal_terms_are_bounded() {
        assert!(
            ProposalTerms::parse(
                yuan("2600.00"),
                Some(10),
                None,
                Some("我做过三十多个茶饮品牌的 logo，十天交付。".into())
            )
            .is_ok()
        );
        let errors =
            ProposalTerms::parse(yuan("1.00"), Some(0), Some(50), Some("太短".into())).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["price", "delivery_days", "revisions", "message"]);
    }
}
