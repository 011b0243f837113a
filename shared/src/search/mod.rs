//! Full-text search over active services. One port, [`SearchIndex`], with two adapters:
//! OpenSearch in production ([`opensearch`]) and tantivy locally and in tests ([`local`]).
//! Text is analysed by our code ([`text`]) before it reaches either engine, so both index
//! and query the same tokens.

pub mod local;
pub mod opensearch;
pub mod segment;
pub mod text;

use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::domain::catalog::Label;
use crate::domain::ranking::SellerLevel;
use crate::domain::rfc3339;
use crate::domain::service::{Service, ServiceStatus, ServiceType, Tier};

/// The index (OpenSearch: the alias) services live in.
pub const DEFAULT_INDEX: &str = "services";
/// The index (OpenSearch: the alias) open public briefs live in: the same mapping and analysis
/// as services', beside them.
pub const BRIEFS_INDEX: &str = "briefs";
/// The deepest result a page may reach (OpenSearch's `max_result_window`).
pub const MAX_WINDOW: u32 = 10_000;

/// What a search result shows: enough for a card, without a second read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ServiceCard {
    pub id: String,
    pub title: Option<String>,
    pub title_zh: Option<String>,
    pub category: Label,
    pub parent_category: Label,
    pub skills: Vec<Label>,
    pub service_type: ServiceType,
    /// The basic package's price ("from ¥…").
    pub from_price: String,
    /// The fastest package's delivery time.
    pub delivery_days: u32,
    pub image: Option<String>,
    /// `image`'s public URL, added when a card is answered (never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    pub rating: String,
    pub reviews_count: u64,
    pub orders_count: u64,
    pub freelancer: CardFreelancer,
    pub published_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CardFreelancer {
    pub id: String,
    pub username: String,
    pub location: String,
    #[serde(default)]
    pub seller_level: SellerLevel,
}

/// The analysed names (English and Chinese) of catalogue labels: categories, skills.
fn labels(ls: &[&Label]) -> String {
    let joined: Vec<&str> = ls
        .iter()
        .flat_map(|l| [l.name.as_str(), l.name_zh.as_str()])
        .collect();
    text::index_text(&joined.join(" "))
}

/// One service as both engines index it. Text fields hold analysed tokens (space-separated);
/// `card` is stored, never searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDoc {
    pub id: String,
    /// The service item's revision: a stale write never replaces a newer one.
    #[serde(skip)]
    pub rev: u64,
    pub title: String,
    pub title_zh: String,
    pub title_pinyin: String,
    pub description: String,
    pub description_zh: String,
    pub category_text: String,
    pub skills_text: String,
    pub freelancer_name: String,
    pub category: String,
    pub parent_category: String,
    pub skills: Vec<String>,
    pub service_type: String,
    /// Fen.
    pub price: i64,
    pub rating: f64,
    pub reviews_count: u64,
    pub orders_count: u64,
    pub delivery_days: u32,
    /// Milliseconds since the epoch (published, or created).
    pub created_at: i64,
    pub ranking_score: f64,
    pub card: ServiceCard,
}

impl SearchDoc {
    /// The document of an active service; `None` for any other (it must not be findable).
    pub fn of(service: &Service, rev: u64, location: &str) -> Option<SearchDoc> {
        if service.status != ServiceStatus::Active {
            return None;
        }
        let c = &service.content;
        let text = |s: &Option<String>| s.as_deref().map(text::index_text).unwrap_or_default();
        let delivery_days = Tier::ALL
            .iter()
            .filter_map(|t| c.packages.get(*t))
            .map(|p| p.delivery_days)
            .min()
            .unwrap_or(c.packages.basic.delivery_days);
        let rating = service.rating.to_f64().unwrap_or(0.0);
        let mut shown_rating = service.rating;
        shown_rating.rescale(2);
        let published = service.published_at.unwrap_or(service.created_at);
        let pinyin_source = format!(
            "{} {}",
            c.title_zh.as_deref().unwrap_or(""),
            c.title.as_deref().unwrap_or("")
        );
        Some(SearchDoc {
            id: service.id.to_string(),
            rev,
            title: text(&c.title),
            title_zh: text(&c.title_zh),
            title_pinyin: text::pinyin_text(&pinyin_source),
            description: text(&c.description),
            description_zh: text(&c.description_zh),
            category_text: labels(&[&c.category, &c.parent_category]),
            skills_text: labels(&c.skills.iter().collect::<Vec<_>>()),
            freelancer_name: text::index_text(&service.freelancer_username),
            category: c.category.slug.clone(),
            parent_category: c.parent_category.slug.clone(),
            skills: c.skills.iter().map(|s| s.slug.clone()).collect(),
            service_type: c.service_type.as_str().to_owned(),
            price: c.packages.from_price().fen(),
            rating,
            reviews_count: service.reviews_count,
            orders_count: service.orders_count,
            delivery_days,
            created_at: published.timestamp_millis(),
            // `ranking-updater`'s hourly score (`docs/ranking.md`): relevance's tie-break.
            ranking_score: service.ranking_score,
            card: ServiceCard {
                id: service.id.to_string(),
                title: c.title.clone(),
                title_zh: c.title_zh.clone(),
                category: c.category.clone(),
                parent_category: c.parent_category.clone(),
                skills: c.skills.clone(),
                service_type: c.service_type,
                from_price: c.packages.from_price().to_string(),
                delivery_days,
                image: c.images.first().cloned(),
                thumbnail_url: None,
                rating: shown_rating.to_string(),
                reviews_count: service.reviews_count,
                orders_count: service.orders_count,
                freelancer: CardFreelancer {
                    id: service.freelancer_id.to_string(),
                    username: service.freelancer_username.clone(),
                    location: location.to_owned(),
                    seller_level: service.seller_level,
                },
                published_at: rfc3339(&published),
            },
        })
    }
}

impl SearchDoc {
    /// The document of an open public brief (in the briefs index); `None` for any other. The
    /// fields mean what they mean for a service where a brief has them: the buyer's name in
    /// `freelancer_name`, the top of the budget in `price`, proposals in `orders_count`. Its
    /// card only carries the id: briefs found are read from the table.
    pub fn of_brief(brief: &crate::domain::brief::Brief) -> Option<SearchDoc> {
        if !brief.listed() {
            return None;
        }
        let c = &brief.content;
        Some(SearchDoc {
            id: brief.id.to_string(),
            rev: brief.version,
            title: text::index_text(&c.title),
            title_zh: String::new(),
            title_pinyin: text::pinyin_text(&c.title),
            description: text::index_text(&c.description),
            description_zh: String::new(),
            category_text: labels(&[&c.category, &c.parent_category]),
            skills_text: labels(&c.skills.iter().collect::<Vec<_>>()),
            freelancer_name: text::index_text(&brief.client_username),
            category: c.category.slug.clone(),
            parent_category: c.parent_category.slug.clone(),
            skills: c.skills.iter().map(|s| s.slug.clone()).collect(),
            service_type: "brief".to_owned(),
            price: c.budget.max.fen(),
            rating: 0.0,
            reviews_count: 0,
            orders_count: brief.proposals_count,
            delivery_days: 0,
            created_at: brief.created_at.timestamp_millis(),
            ranking_score: 0.0,
            card: ServiceCard {
                id: brief.id.to_string(),
                title: Some(c.title.clone()),
                title_zh: None,
                category: c.category.clone(),
                parent_category: c.parent_category.clone(),
                skills: c.skills.clone(),
                service_type: ServiceType::Fixed,
                from_price: c.budget.max.to_string(),
                delivery_days: 0,
                image: None,
                thumbnail_url: None,
                rating: "0.00".to_owned(),
                reviews_count: 0,
                orders_count: brief.proposals_count,
                freelancer: CardFreelancer {
                    id: brief.client_id.to_string(),
                    username: brief.client_username.clone(),
                    location: String::new(),
                    seller_level: SellerLevel::default(),
                },
                published_at: rfc3339(&brief.created_at),
            },
        })
    }
}

/// A change to apply to the index.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Upsert(Box<SearchDoc>),
    /// Remove the service; `rev` is the revision that made it unfindable, when known.
    Remove {
        id: String,
        rev: Option<u64>,
    },
}

impl Change {
    pub fn id(&self) -> &str {
        match self {
            Change::Upsert(d) => &d.id,
            Change::Remove { id, .. } => id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    PriceLow,
    PriceHigh,
    Rating,
    Newest,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "relevance" => Sort::Relevance,
            "price_low" => Sort::PriceLow,
            "price_high" => Sort::PriceHigh,
            "rating" => Sort::Rating,
            "newest" => Sort::Newest,
            _ => return None,
        })
    }
}

/// What a sort key holds: the relevance score, a decimal field, a whole-number field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Score,
    Float,
    /// A signed whole number (`price` in fen, `created_at` in epoch milliseconds).
    Int,
    /// An unsigned count (`reviews_count`).
    Count,
}

/// One key of a sort: the indexed field (`_score` for relevance) and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: &'static str,
    pub desc: bool,
    pub kind: KeyKind,
}

const fn key(field: &'static str, desc: bool, kind: KeyKind) -> SortKey {
    SortKey { field, desc, kind }
}

const NEWEST: SortKey = key("created_at", true, KeyKind::Int);

/// The field every sort ends with, ascending: it makes every hit's sort values unique.
pub const TIE_BREAK: &str = "id";

impl Sort {
    /// This sort's keys, in order, before the final tie-break ([`TIE_BREAK`] ascending). Both
    /// engines sort by exactly these, and a cursor holds one value per key, then the id.
    pub fn keys(self) -> &'static [SortKey] {
        use KeyKind::{Count, Float, Int, Score};
        const RELEVANCE: [SortKey; 3] = [
            key("_score", true, Score),
            key("ranking_score", true, Float),
            NEWEST,
        ];
        const PRICE_LOW: [SortKey; 2] = [key("price", false, Int), NEWEST];
        const PRICE_HIGH: [SortKey; 2] = [key("price", true, Int), NEWEST];
        const RATING: [SortKey; 3] = [
            key("rating", true, Float),
            key("reviews_count", true, Count),
            NEWEST,
        ];
        const BY_NEWEST: [SortKey; 1] = [NEWEST];
        match self {
            Sort::Relevance => &RELEVANCE,
            Sort::PriceLow => &PRICE_LOW,
            Sort::PriceHigh => &PRICE_HIGH,
            Sort::Rating => &RATING,
            Sort::Newest => &BY_NEWEST,
        }
    }

    /// Whether `values` can be a hit's sort values in this sort: a finite number per key (a
    /// whole one where the field is whole), then the id.
    pub fn fits(self, values: &[serde_json::Value]) -> bool {
        let keys = self.keys();
        values.len() == keys.len() + 1
            && keys.iter().zip(values).all(|(k, v)| match k.kind {
                KeyKind::Score | KeyKind::Float => v.as_f64().is_some_and(f64::is_finite),
                KeyKind::Int => v.as_i64().is_some(),
                KeyKind::Count => v.as_u64().is_some(),
            })
            && values[keys.len()]
                .as_str()
                .is_some_and(|id| !id.is_empty() && id.len() <= 64)
    }
}

/// A checked search: tokens already analysed, money in fen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    /// Every token must match some field.
    pub tokens: Vec<String>,
    /// A subcategory or a top-level category slug.
    pub category: Option<String>,
    /// Any of these skills.
    pub skills: Vec<String>,
    pub service_type: Option<ServiceType>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub min_rating: Option<f64>,
    pub max_delivery_days: Option<u32>,
    pub sort: Sort,
    /// From 1.
    pub page: u32,
    pub size: u32,
    /// Continue after the hit with these sort values (`SearchPage::last` of the page before)
    /// instead of skipping `offset()` hits: pages beyond the engines' 10,000-hit window.
    pub after: Option<Vec<serde_json::Value>>,
}

impl SearchQuery {
    pub fn offset(&self) -> usize {
        (self.page.saturating_sub(1) as usize) * self.size as usize
    }
}

/// Weights of the text fields (the seed's `title^3`, `title_zh^3`), shared by both engines.
pub const FIELDS: [(&str, f32); 8] = [
    ("title", 3.0),
    ("title_zh", 3.0),
    ("title_pinyin", 2.0),
    ("skills_text", 2.0),
    ("category_text", 2.0),
    ("description", 1.0),
    ("description_zh", 1.0),
    ("freelancer_name", 1.0),
];

#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub items: Vec<ServiceCard>,
    pub total: u64,
    /// The sort values of the last item (the sort's keys and its tie-breaks, as the engine
    /// compares them): what `SearchQuery::after` continues from. `None` for an empty page.
    pub last: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search engine: {0}")]
    Engine(String),
}

/// What applying a batch did to each change, in order: `Err` with a reason for those that
/// failed (the indexer retries their messages).
pub type Outcomes = Vec<Result<(), String>>;

/// The port.
#[allow(async_fn_in_trait)]
pub trait SearchIndex {
    /// Applies upserts and removals; a stale upsert (older revision) counts as done.
    async fn apply(&self, changes: &[Change]) -> Result<Outcomes, SearchError>;
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError>;
    /// Replaces the whole index with `docs` (the reindex command). Searches see the old index
    /// until the new one is complete.
    async fn rebuild(&self, docs: Vec<SearchDoc>) -> Result<usize, SearchError>;
}

/// The adapter this deployment uses (`SEARCH_URL` → OpenSearch, `SEARCH_INDEX_DIR` → tantivy).
#[derive(Debug)]
pub enum SearchEngine {
    Disabled,
    Local(local::LocalIndex),
    OpenSearch(opensearch::OpenSearchIndex),
}

impl SearchEngine {
    fn disabled() -> SearchError {
        SearchError::Engine("no search engine configured (SEARCH_URL or SEARCH_INDEX_DIR)".into())
    }

    /// Makes every write so far visible to searches (OpenSearch refreshes on its own every
    /// `refresh_interval`; tantivy's writes are visible once applied).
    pub async fn refresh(&self) -> Result<(), SearchError> {
        match self {
            SearchEngine::Disabled => Err(Self::disabled()),
            SearchEngine::Local(_) => Ok(()),
            SearchEngine::OpenSearch(i) => i.refresh().await,
        }
    }

    /// Which engine this is, for reports: `tantivy`, `opensearch` or `none`.
    pub fn name(&self) -> &'static str {
        match self {
            SearchEngine::Disabled => "none",
            SearchEngine::Local(_) => "tantivy",
            SearchEngine::OpenSearch(_) => "opensearch",
        }
    }
}

impl SearchIndex for SearchEngine {
    async fn apply(&self, changes: &[Change]) -> Result<Outcomes, SearchError> {
        match self {
            SearchEngine::Disabled => Err(Self::disabled()),
            SearchEngine::Local(i) => i.apply(changes).await,
            SearchEngine::OpenSearch(i) => i.apply(changes).await,
        }
    }

    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError> {
        match self {
            SearchEngine::Disabled => Err(Self::disabled()),
            SearchEngine::Local(i) => i.search(query).await,
            SearchEngine::OpenSearch(i) => i.search(query).await,
        }
    }

    async fn rebuild(&self, docs: Vec<SearchDoc>) -> Result<usize, SearchError> {
        match self {
            SearchEngine::Disabled => Err(Self::disabled()),
            SearchEngine::Local(i) => i.rebuild(docs).await,
            SearchEngine::OpenSearch(i) => i.rebuild(docs).await,
        }
    }
}
