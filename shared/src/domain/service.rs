//! Services (gigs): what a freelancer sells, in up to three packages, and the rules a
//! listing must meet before anyone can see it.
//!
//! A service is parsed from its wire form ([`ServiceInput`]) into [`ServiceContent`] in one
//! place; an edit is the stored content turned back into its wire form, overlaid with the
//! patch, and parsed again, so every rule (standard > basic, …) holds on the merged result.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, Label};
use super::moderation::{self, Finding, RulesError};
use super::{Money, ServiceId, UserId};
use crate::field::{Field, Others};
use crate::i18n::Text;

/// Price bounds of every package, in fen (5.00 – 50,000.00 CNY, from the seed).
const MIN_PRICE_FEN: i64 = 500;
const MAX_PRICE_FEN: i64 = 5_000_000;
pub const MAX_IMAGES: usize = 5;
/// A package is delivered within 1 to this many days (the OpenAPI schema says the same).
pub const MAX_DELIVERY_DAYS: u32 = 90;
/// A package includes 0 to this many revisions.
pub const MAX_REVISIONS: u32 = 10;
pub const MAX_SKILLS: usize = 10;
const MAX_FEATURES: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    Draft,
    Active,
    Paused,
    Rejected,
    /// Deleted by its owner. Kept (orders and reviews point at it) but seen by nobody.
    Deleted,
}

impl ServiceStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceStatus::Draft => "draft",
            ServiceStatus::Active => "active",
            ServiceStatus::Paused => "paused",
            ServiceStatus::Rejected => "rejected",
            ServiceStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceStatus> {
        Some(match s {
            "draft" => ServiceStatus::Draft,
            "active" => ServiceStatus::Active,
            "paused" => ServiceStatus::Paused,
            "rejected" => ServiceStatus::Rejected,
            "deleted" => ServiceStatus::Deleted,
            _ => return None,
        })
    }

    /// The owner may publish from these (after automated moderation).
    pub fn can_publish(&self) -> bool {
        matches!(
            self,
            ServiceStatus::Draft | ServiceStatus::Paused | ServiceStatus::Rejected
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    #[default]
    Fixed,
    Hourly,
    Package,
}

impl ServiceType {
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceType::Fixed => "fixed",
            ServiceType::Hourly => "hourly",
            ServiceType::Package => "package",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceType> {
        Some(match s {
            "fixed" => ServiceType::Fixed,
            "hourly" => ServiceType::Hourly,
            "package" => ServiceType::Package,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Basic,
    Standard,
    Premium,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Basic, Tier::Standard, Tier::Premium];

    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::Basic => "basic",
            Tier::Standard => "standard",
            Tier::Premium => "premium",
        }
    }

    pub fn names(&self) -> (&'static str, &'static str) {
        match self {
            Tier::Basic => ("Basic", "基础版"),
            Tier::Standard => ("Standard", "标准版"),
            Tier::Premium => ("Premium", "高级版"),
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One package: what the client gets for a price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub price: Money,
    pub description: String,
    pub delivery_days: u32,
    pub revisions: u32,
    pub features: Vec<String>,
}

/// Basic always; standard and premium optional, each dearer than the one below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Packages {
    pub basic: Package,
    pub standard: Option<Package>,
    pub premium: Option<Package>,
}

impl Packages {
    pub fn get(&self, tier: Tier) -> Option<&Package> {
        match tier {
            Tier::Basic => Some(&self.basic),
            Tier::Standard => self.standard.as_ref(),
            Tier::Premium => self.premium.as_ref(),
        }
    }

    /// The lowest price a client can pay ("from ¥…" on cards).
    pub fn from_price(&self) -> Money {
        self.basic.price
    }
}

/// Everything the owner writes, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceContent {
    pub title: Option<String>,
    pub title_zh: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub category: Label,
    pub parent_category: Label,
    pub skills: Vec<Label>,
    pub service_type: ServiceType,
    pub packages: Packages,
    pub requirements: String,
    pub images: Vec<String>,
    pub video: Option<String>,
}

/// A reason an automated or human moderator gave for rejecting a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub findings: Vec<Finding>,
    /// An operator's reason, when a person rejected it.
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// A service as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: ServiceId,
    pub freelancer_id: UserId,
    pub freelancer_username: String,
    pub content: ServiceContent,
    pub status: ServiceStatus,
    pub rejection: Option<Rejection>,
    pub views_count: u64,
    pub orders_count: u64,
    /// Orders not yet completed or cancelled: the service cannot be deleted while > 0.
    pub open_orders: u64,
    /// The average of its public reviews (two places), from `rating_sum / reviews_count`.
    pub rating: Decimal,
    /// The sum of the ratings of its public reviews: the exact source of `rating`.
    pub rating_sum: u64,
    pub reviews_count: u64,
    /// Set hourly by `ranking-updater` (see `docs/ranking.md`).
    pub ranking_score: f64,
    /// The freelancer's level, copied in by `ranking-updater`.
    pub seller_level: super::user::SellerLevel,
    /// When an operator featured it (`None`: not featured).
    pub featured_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl Service {
    /// A new draft of `content` by a freelancer: no ratings, orders or views yet.
    pub fn draft(
        freelancer_id: UserId,
        freelancer_username: &str,
        content: ServiceContent,
        now: DateTime<Utc>,
    ) -> Service {
        Service {
            id: ServiceId::new(),
            freelancer_id,
            freelancer_username: freelancer_username.to_owned(),
            content,
            status: ServiceStatus::Draft,
            rejection: None,
            views_count: 0,
            orders_count: 0,
            open_orders: 0,
            // What `review::average(0, 0)` gives (no ratings yet), without naming reviews here.
            rating: Decimal::new(0, 2),
            rating_sum: 0,
            reviews_count: 0,
            ranking_score: 0.0,
            seller_level: super::user::SellerLevel::New,
            featured_at: None,
            created_at: now,
            updated_at: now,
            published_at: None,
            version: 1,
        }
    }

    pub fn is_featured(&self) -> bool {
        self.featured_at.is_some()
    }

    /// The texts moderation reads, by field name.
    pub fn texts(&self) -> Vec<(&'static str, &str)> {
        let c = &self.content;
        let mut out = Vec::new();
        for (name, text) in [
            ("title", &c.title),
            ("title_zh", &c.title_zh),
            ("description", &c.description),
            ("description_zh", &c.description_zh),
        ] {
            if let Some(t) = text {
                out.push((name, t.as_str()));
            }
        }
        out.push(("requirements", c.requirements.as_str()));
        for tier in Tier::ALL {
            if let Some(p) = c.packages.get(tier) {
                let field = match tier {
                    Tier::Basic => "packages.basic",
                    Tier::Standard => "packages.standard",
                    Tier::Premium => "packages.premium",
                };
                out.push((field, p.description.as_str()));
                for f in &p.features {
                    out.push((field, f.as_str()));
                }
            }
        }
        out
    }

    /// Automated moderation of every text of the service.
    pub fn moderate(&self) -> Result<Vec<Finding>, RulesError> {
        let mut findings = moderation::check(&self.texts())?;
        findings.dedup();
        Ok(findings)
    }
}

/// A broken rule: the request field, a stable code and the text to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub code: &'static str,
    pub text: Text,
}

/// A service as its owner writes it (`POST /services`; `PATCH` takes any subset). A title
/// (`title` or `title_zh`, 10–100 characters each, without prohibited words) and a
/// description (`description` or `description_zh`, 20–5,000 characters) are required;
/// prices 5.00–50,000.00, standard > basic, premium > standard. `status`, `freelancer`,
/// `rating` and counters are the platform's.
//
// This is the request body as it is parsed: every field keeps what was sent, so `parse`
// reports each broken field at once; an edit lays the patch over the stored content (`over`)
// and the result is parsed again.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = ServiceBody, example = json!({
    "title": "Professional logo design for your brand",
    "title_zh": "专业品牌 Logo 设计，三天交付",
    "description": "Three concepts, unlimited colour variants, source files included.",
    "description_zh": "提供三套方案，不限配色调整，交付 AI/PSD 源文件。",
    "category": "logo-design",
    "skills": ["logo-design", "brand-identity"],
    "service_type": "fixed",
    "packages": {
        "basic": {"price": "199.00", "description": "一套方案", "delivery_days": 3, "revisions": 2, "features": ["源文件"]},
        "standard": {"price": "399.00", "description": "三套方案", "delivery_days": 5, "revisions": 5, "features": ["源文件", "名片设计"]}
    },
    "requirements": "请提供品牌名称和喜欢的颜色"
}))]
pub struct ServiceInput {
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 10, max_length = 100)]
    pub title: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 10, max_length = 100)]
    pub title_zh: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 20, max_length = 5000)]
    pub description: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, min_length = 20, max_length = 5000)]
    pub description_zh: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String)]
    pub category: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 10)]
    pub skills: Field<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<ServiceType>)]
    pub service_type: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = PackagesInput)]
    pub packages: Field<PackagesInput>,
    /// Keys of the service's processed gallery images.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 5)]
    pub images: Field<Vec<String>>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub video_url: Field<String>,
    /// What the buyer must provide when ordering.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub requirements: Field<String>,
    /// Names the body has that a service's writable fields do not.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Others,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = PackagesBody)]
pub struct PackagesInput {
    #[serde(default)]
    #[schema(required = true, value_type = PackageInput)]
    pub basic: Field<PackageInput>,
    #[serde(default)]
    #[schema(value_type = Option<PackageInput>)]
    pub standard: Field<PackageInput>,
    #[serde(default)]
    #[schema(value_type = Option<PackageInput>)]
    pub premium: Field<PackageInput>,
    /// Tiers that do not exist.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Others,
}

/// One package. `revisions` defaults to 1; `features` to none.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = PackageBody)]
pub struct PackageInput {
    #[serde(default)]
    #[schema(required = true, value_type = Money)]
    pub price: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = String, min_length = 1, max_length = 500)]
    pub description: Field<String>,
    #[serde(default)]
    #[schema(required = true, value_type = u32, minimum = 1, maximum = 90)]
    pub delivery_days: Field<u32>,
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 10)]
    pub revisions: Field<u32>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Feature>>, max_items = 10)]
    pub features: Field<Vec<Field<Feature>>>,
}

/// One line of what a package includes.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[schema(min_length = 1, max_length = 60, example = "源文件")]
pub struct Feature(pub String);

/// Fields of a service that exist but only the platform writes.
const READ_ONLY: [&str; 17] = [
    "id",
    "freelancer",
    "freelancer_id",
    "status",
    "views_count",
    "orders_count",
    "rating",
    "reviews_count",
    "seller_level",
    "is_featured",
    "created_at",
    "updated_at",
    "published_at",
    "moderation",
    "parent_category",
    "from_price",
    "version",
];

/// Collects every broken rule of one request (shared by the services' and reviews' parsers).
#[derive(Debug, Default)]
pub(crate) struct Check {
    pub(crate) violations: Vec<Violation>,
}

impl Check {
    pub(crate) fn fail(&mut self, field: &str, code: &'static str, text: Text) {
        self.violations.push(Violation {
            field: field.to_owned(),
            code,
            text,
        });
    }

    /// A trimmed text of `min..=max` characters (not bytes), or `None` (and a violation).
    pub(crate) fn text(
        &mut self,
        field: &str,
        value: &str,
        (min, max): (usize, usize),
        code: &'static str,
    ) -> Option<String> {
        let v = value.trim();
        let n = v.chars().count();
        if n < min || n > max {
            self.fail(
                field,
                code,
                Text::owned(
                    format!("长度须为 {min}–{max} 个字符（当前 {n} 个）"),
                    format!("Must be {min}–{max} characters long (it is {n})"),
                ),
            );
            None
        } else {
            Some(v.to_owned())
        }
    }

    /// The value of an optional field (absent and `null` are `None`); a value of the wrong
    /// JSON type is a `validation.failed` violation saying which type the field takes.
    pub(crate) fn typed<T>(&mut self, field: &str, value: Field<T>, kind: Kind) -> Option<T> {
        match value.optional() {
            Ok(v) => v,
            Err(_) => {
                self.fail(field, "validation.failed", kind.text());
                None
            }
        }
    }
}

/// The JSON type a field takes, for the message when another was sent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    String,
    Strings,
}

impl Kind {
    fn text(self) -> Text {
        match self {
            Kind::String => Text::new("须为字符串", "Must be a string"),
            Kind::Strings => Text::new("须为字符串列表", "Must be a list of strings"),
        }
    }
}

fn parse_package(c: &mut Check, field: &str, raw: PackageInput) -> Option<Package> {
    let price = match raw.price {
        Field::Absent | Field::Null => {
            c.fail(
                &format!("{field}.price"),
                "service.invalid_price",
                Text::new("请填写价格", "The price is required"),
            );
            None
        }
        v => match v.given().and_then(|s| s.parse::<Money>().ok()) {
            None => {
                c.fail(
                    &format!("{field}.price"),
                    "service.invalid_price",
                    Text::new(
                        "价格须为两位小数的金额字符串，如 \"199.00\"",
                        "The price must be an amount string with two places, like \"199.00\"",
                    ),
                );
                None
            }
            Some(m) if m.fen() < MIN_PRICE_FEN || m.fen() > MAX_PRICE_FEN => {
                c.fail(
                    &format!("{field}.price"),
                    "service.price_out_of_range",
                    Text::new(
                        "价格须在 5.00 至 50,000.00 元之间",
                        "The price must be between 5.00 and 50,000.00 CNY",
                    ),
                );
                None
            }
            Some(m) => Some(m),
        },
    };
    let description = match raw.description {
        Field::Given(d) => c.text(
            &format!("{field}.description"),
            &d,
            (1, 500),
            "service.package_description_length",
        ),
        _ => {
            c.fail(
                &format!("{field}.description"),
                "service.package_description_length",
                Text::new("请填写套餐说明", "Describe what the package includes"),
            );
            None
        }
    };
    let delivery_days = match raw.delivery_days {
        Field::Given(d) if (1..=MAX_DELIVERY_DAYS).contains(&d) => Some(d),
        _ => {
            c.fail(
                &format!("{field}.delivery_days"),
                "service.invalid_delivery_days",
                Text::owned(
                    format!("交付天数须为 1–{MAX_DELIVERY_DAYS} 的整数"),
                    format!("Delivery days must be a whole number from 1 to {MAX_DELIVERY_DAYS}"),
                ),
            );
            None
        }
    };
    let revisions = match raw.revisions {
        Field::Absent | Field::Null => Some(1),
        Field::Given(r) if r <= MAX_REVISIONS => Some(r),
        _ => {
            c.fail(
                &format!("{field}.revisions"),
                "service.invalid_revisions",
                Text::owned(
                    format!("修改次数须为 0–{MAX_REVISIONS} 的整数"),
                    format!("Revisions must be a whole number from 0 to {MAX_REVISIONS}"),
                ),
            );
            None
        }
    };
    let features = match raw.features {
        Field::Absent | Field::Null => Some(Vec::new()),
        Field::Given(items) if items.len() <= MAX_FEATURES => {
            let parsed: Option<Vec<String>> = items
                .into_iter()
                .map(|i| {
                    i.given()
                        .map(|Feature(s)| s.trim().to_owned())
                        .filter(|s| (1..=60).contains(&s.chars().count()))
                })
                .collect();
            if parsed.is_none() {
                c.fail(
                    &format!("{field}.features"),
                    "service.invalid_features",
                    Text::new(
                        "每项服务内容须为 1–60 个字符",
                        "Each feature must be 1–60 characters",
                    ),
                );
            }
            parsed
        }
        _ => {
            c.fail(
                &format!("{field}.features"),
                "service.invalid_features",
                Text::new(
                    "服务内容须为最多 10 项的文字列表",
                    "Features must be a list of at most 10 texts",
                ),
            );
            None
        }
    };
    Some(Package {
        price: price?,
        description: description?,
        delivery_days: delivery_days?,
        revisions: revisions?,
        features: features?,
    })
}

fn parse_packages(c: &mut Check, raw: Field<PackagesInput>) -> Option<Packages> {
    let basic_required = |c: &mut Check| {
        c.fail(
            "packages.basic",
            "service.basic_package_required",
            Text::new("至少需要基础版套餐", "A basic package is required"),
        )
    };
    let raw = match raw {
        Field::Given(p) => p,
        _ => {
            basic_required(c);
            return None;
        }
    };
    for key in raw.other.names() {
        c.fail(
            &format!("packages.{key}"),
            "service.unknown_package",
            Text::new(
                "套餐只能是 basic、standard 或 premium",
                "Packages are basic, standard and premium only",
            ),
        );
    }
    let one = |c: &mut Check, tier: &str, p: Field<PackageInput>| match p {
        Field::Absent | Field::Null => None,
        Field::Given(p) => Some(parse_package(c, &format!("packages.{tier}"), p)),
        Field::Wrong(_) => {
            c.fail(
                &format!("packages.{tier}"),
                "service.invalid_package",
                Text::new("套餐须为对象", "A package must be an object"),
            );
            Some(None)
        }
    };
    let basic = match one(c, "basic", raw.basic) {
        Some(p) => p,
        None => {
            basic_required(c);
            None
        }
    };
    let standard = one(c, "standard", raw.standard);
    let premium = one(c, "premium", raw.premium);
    let basic = basic?;
    let standard = standard.map_or(Some(None), |p| p.map(Some))?;
    let premium = premium.map_or(Some(None), |p| p.map(Some))?;
    if let Some(s) = &standard
        && s.price <= basic.price
    {
        c.fail(
            "packages.standard.price",
            "service.package_price_order",
            Text::new(
                "标准版价格须高于基础版",
                "The standard package must cost more than the basic one",
            ),
        );
    }
    if let Some(p) = &premium {
        let below = standard.as_ref().unwrap_or(&basic);
        if p.price <= below.price {
            c.fail(
                "packages.premium.price",
                "service.package_price_order",
                Text::new(
                    "高级版价格须高于标准版（无标准版时高于基础版）",
                    "The premium package must cost more than the standard one (or the basic one when there is no standard)",
                ),
            );
        }
    }
    Some(Packages {
        basic,
        standard,
        premium,
    })
}

impl ServiceInput {
    /// Checks every rule against the catalogue. `media` is the set of processed image and
    /// video keys the service owns: images and the video may only be chosen from it.
    pub fn parse(
        self,
        catalog: &Catalog,
        media: &MediaKeys,
    ) -> Result<ServiceContent, Vec<Violation>> {
        let mut c = Check::default();
        // Values of the wrong JSON type first: their code (`validation.failed`) leads.
        // A field of the wrong type is named once for that, not again as missing.
        let wrong = |f: &Field<String>| matches!(f, Field::Wrong(_));
        let (title_wrong, description_wrong) = (
            wrong(&self.title) || wrong(&self.title_zh),
            wrong(&self.description) || wrong(&self.description_zh),
        );
        let title = c.typed("title", self.title, Kind::String);
        let title_zh = c.typed("title_zh", self.title_zh, Kind::String);
        let description = c.typed("description", self.description, Kind::String);
        let description_zh = c.typed("description_zh", self.description_zh, Kind::String);
        let category = c.typed("category", self.category, Kind::String);
        let skill_slugs = c
            .typed("skills", self.skills, Kind::Strings)
            .unwrap_or_default();
        let service_type = c.typed("service_type", self.service_type, Kind::String);
        let requirements = c.typed("requirements", self.requirements, Kind::String);
        let image_keys = c
            .typed("images", self.images, Kind::Strings)
            .unwrap_or_default();
        let video_url = c.typed("video_url", self.video_url, Kind::String);
        // A blank text is given but too short (as the schema says), not absent.
        let given = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !given(&title) && !given(&title_zh) && !title_wrong {
            c.fail(
                "title",
                "service.title_required",
                Text::new(
                    "请填写标题（title 或 title_zh 至少一个）",
                    "A title is required (title or title_zh)",
                ),
            );
        }
        let mut titles = [(); 2].map(|_| None);
        for (i, (field, value)) in [("title", &title), ("title_zh", &title_zh)]
            .into_iter()
            .enumerate()
        {
            let Some(v) = value else { continue };
            let Some(t) = c.text(field, v, (10, 100), "service.title_length") else {
                continue;
            };
            match moderation::title_prohibited(&t) {
                Ok(words) if !words.is_empty() => c.fail(
                    field,
                    "service.prohibited_word",
                    Text::owned(
                        format!("标题不能包含违禁词：{}", words.join("、")),
                        format!("The title may not contain: {}", words.join(", ")),
                    ),
                ),
                Ok(_) => titles[i] = Some(t),
                Err(e) => c.fail(
                    field,
                    "service.moderation_unavailable",
                    Text::owned("暂时无法检查标题".into(), e.to_string()),
                ),
            }
        }
        let [title, title_zh] = titles;
        if !given(&description) && !given(&description_zh) && !description_wrong {
            c.fail(
                "description",
                "service.description_required",
                Text::new(
                    "请填写服务描述（description 或 description_zh 至少一个）",
                    "A description is required (description or description_zh)",
                ),
            );
        }
        let description = description
            .and_then(|d| c.text("description", &d, (20, 5000), "service.description_length"));
        let description_zh = description_zh.and_then(|d| {
            c.text(
                "description_zh",
                &d,
                (20, 5000),
                "service.description_length",
            )
        });
        let placement = match category.as_deref().map(str::trim) {
            Some(slug) if !slug.is_empty() => {
                let p = catalog.placement(slug);
                if p.is_none() {
                    c.fail(
                        "category",
                        "service.invalid_category",
                        Text::new("请选择一个有效的二级分类", "Choose an existing subcategory"),
                    );
                }
                p
            }
            _ => {
                c.fail(
                    "category",
                    "service.invalid_category",
                    Text::new("请选择分类", "A category is required"),
                );
                None
            }
        };
        let mut skills = Vec::new();
        if skill_slugs.len() > MAX_SKILLS {
            c.fail(
                "skills",
                "service.invalid_skill",
                Text::new("技能最多 10 个", "At most 10 skills"),
            );
        } else if let Some(p) = &placement {
            for slug in &skill_slugs {
                match catalog.skill(&p.parent.slug, slug.trim()) {
                    Some(s) if !skills.iter().any(|l: &Label| l.slug == s.slug) => {
                        skills.push(s.label())
                    }
                    Some(_) => {}
                    None => c.fail(
                        "skills",
                        "service.invalid_skill",
                        Text::owned(
                            format!("技能 “{slug}” 不属于该分类"),
                            format!("\"{slug}\" is not a skill of this category"),
                        ),
                    ),
                }
            }
        }
        let service_type = match service_type.as_deref() {
            None => Some(ServiceType::Fixed),
            Some(t) => {
                let parsed = ServiceType::parse(t.trim());
                if parsed.is_none() {
                    c.fail(
                        "service_type",
                        "service.invalid_service_type",
                        Text::new(
                            "服务类型须为 fixed、hourly 或 package",
                            "service_type must be fixed, hourly or package",
                        ),
                    );
                }
                parsed
            }
        };
        let packages = parse_packages(&mut c, self.packages);
        let requirements = match requirements {
            None => Some(String::new()),
            Some(r) => c.text("requirements", &r, (0, 2000), "service.requirements_length"),
        };
        let mut images: Vec<String> = Vec::new();
        for key in image_keys {
            if !media.images.contains(&key) || images.contains(&key) {
                c.fail(
                    "images",
                    "service.invalid_media",
                    Text::new(
                        "图片须为本服务已上传并处理完成的图片",
                        "Images must be ones uploaded to this service and processed",
                    ),
                );
                break;
            }
            images.push(key);
        }
        if images.len() > MAX_IMAGES {
            c.fail(
                "images",
                "service.invalid_media",
                Text::new("图片最多 5 张", "At most 5 images"),
            );
        }
        let video = match video_url {
            Some(v) if media.video.as_deref() != Some(v.as_str()) => {
                c.fail(
                    "video_url",
                    "service.invalid_media",
                    Text::new(
                        "视频须为本服务已上传的视频",
                        "The video must be one uploaded to this service",
                    ),
                );
                None
            }
            v => v,
        };
        if !c.violations.is_empty() {
            return Err(c.violations);
        }
        match (placement, service_type, packages, requirements) {
            (Some(p), Some(service_type), Some(packages), Some(requirements)) => {
                Ok(ServiceContent {
                    title,
                    title_zh,
                    description,
                    description_zh,
                    category: p.category,
                    parent_category: p.parent,
                    skills,
                    service_type,
                    packages,
                    requirements,
                    images,
                    video,
                })
            }
            _ => Err(vec![Violation {
                field: "service".into(),
                code: "validation.failed",
                text: Text::new("提交的数据有误", "Some fields are invalid"),
            }]),
        }
    }
}

/// The processed media a service owns (what its images and video may be chosen from).
#[derive(Debug, Clone, Default)]
pub struct MediaKeys {
    pub images: Vec<String>,
    pub video: Option<String>,
}

impl ServiceContent {
    /// The wire form of this content: a patch is laid over it and the result parsed again.
    pub fn to_input(&self) -> ServiceInput {
        let package = |p: &Package| {
            Field::Given(PackageInput {
                price: Field::Given(p.price.to_string()),
                description: Field::Given(p.description.clone()),
                delivery_days: Field::Given(p.delivery_days),
                revisions: Field::Given(p.revisions),
                features: Field::Given(
                    p.features
                        .iter()
                        .map(|f| Field::Given(Feature(f.clone())))
                        .collect(),
                ),
            })
        };
        let packages = PackagesInput {
            basic: package(&self.packages.basic),
            standard: self.packages.standard.as_ref().map_or(Field::Null, package),
            premium: self.packages.premium.as_ref().map_or(Field::Null, package),
            other: Others::default(),
        };
        ServiceInput {
            title: Field::of(self.title.clone()),
            title_zh: Field::of(self.title_zh.clone()),
            description: Field::of(self.description.clone()),
            description_zh: Field::of(self.description_zh.clone()),
            category: Field::Given(self.category.slug.clone()),
            skills: Field::Given(self.skills.iter().map(|s| s.slug.clone()).collect()),
            service_type: Field::Given(self.service_type.as_str().to_owned()),
            packages: Field::Given(packages),
            requirements: Field::Given(self.requirements.clone()),
            images: Field::Given(self.images.clone()),
            video_url: Field::of(self.video.clone()),
            other: Others::default(),
        }
    }
}

impl ServiceInput {
    /// This patch laid over `base`: each field sent replaces the stored one.
    pub fn over(self, base: ServiceInput) -> ServiceInput {
        ServiceInput {
            title: self.title.or(base.title),
            title_zh: self.title_zh.or(base.title_zh),
            description: self.description.or(base.description),
            description_zh: self.description_zh.or(base.description_zh),
            category: self.category.or(base.category),
            skills: self.skills.or(base.skills),
            service_type: self.service_type.or(base.service_type),
            packages: self.packages.or(base.packages),
            requirements: self.requirements.or(base.requirements),
            images: self.images.or(base.images),
            video_url: self.video_url.or(base.video_url),
            other: self.other,
        }
    }

    /// Whether the body named no field at all.
    pub fn is_empty(&self) -> bool {
        self.other.is_empty()
            && ![
                self.title.is_sent(),
                self.title_zh.is_sent(),
                self.description.is_sent(),
                self.description_zh.is_sent(),
                self.category.is_sent(),
                self.skills.is_sent(),
                self.service_type.is_sent(),
                self.packages.is_sent(),
                self.requirements.is_sent(),
                self.images.is_sent(),
                self.video_url.is_sent(),
            ]
            .contains(&true)
    }

    /// The names the body has that are not writable, sorted into read-only and unknown.
    pub fn not_writable(&self) -> (Vec<String>, Vec<String>) {
        let (read_only, unknown): (Vec<&str>, Vec<&str>) =
            self.other.names().partition(|n| READ_ONLY.contains(n));
        let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
        (owned(read_only), owned(unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    fn catalog() -> Catalog {
        Catalog::from_seed_json(include_str!("../../../infra/seed/catalog.json")).unwrap()
    }

    fn valid() -> Map<String, Value> {
        json!({
            "title": "Professional logo design for your brand",
            "title_zh": "专业品牌Logo设计，三天交付",
            "description": "I will design a clean, memorable logo with source files.",
            "category": "logo-design",
            "skills": ["illustrator", "vi-system"],
            "packages": {
                "basic": {"price": "199.00", "description": "1 concept", "delivery_days": 3, "revisions": 2, "features": ["源文件"]},
                "standard": {"price": "399.00", "description": "3 concepts", "delivery_days": 5},
                "premium": {"price": "799.50", "description": "Full VI", "delivery_days": 10, "revisions": 5}
            }
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn parse(m: Map<String, Value>) -> Result<ServiceContent, Vec<Violation>> {
        let input: ServiceInput = serde_json::from_value(Value::Object(m)).unwrap();
        input.parse(&catalog(), &MediaKeys::default())
    }

    fn codes(m: Map<String, Value>) -> Vec<(String, &'static str)> {
        parse(m)
            .unwrap_err()
            .into_iter()
            .map(|v| (v.field, v.code))
            .collect()
    }

    fn with(path: &[&str], v: Value) -> Map<String, Value> {
        let mut m = Value::Object(valid());
        let mut cur = &mut m;
        for p in &path[..path.len() - 1] {
            cur = cur.get_mut(*p).unwrap();
        }
        cur.as_object_mut()
            .unwrap()
            .insert(path[path.len() - 1].to_owned(), v);
        m.as_object().cloned().unwrap()
    }

    #[test]
    fn a_complete_service_parses_with_names_from_the_catalogue() {
        let c = parse(valid()).unwrap();
        assert_eq!(c.category.name_zh, "Logo设计");
        assert_eq!(c.parent_category.slug, "design");
        assert_eq!(c.skills.len(), 2);
        assert_eq!(
            c.packages.premium.as_ref().unwrap().price.to_string(),
            "799.50"
        );
        assert_eq!(c.packages.standard.as_ref().unwrap().revisions, 1);
        assert_eq!(c.service_type, ServiceType::Fixed);
    }

    #[test]
    fn titles_are_counted_in_characters_not_bytes() {
        // 10 Chinese characters are 30 bytes: allowed. 9 are not.
        assert!(parse(with(&["title_zh"], json!("一二三四五六七八九十"))).is_ok());
        assert_eq!(
            codes(with(&["title_zh"], json!("一二三四五六七八九"))),
            vec![("title_zh".to_owned(), "service.title_length")]
        );
        let long: String = "设".repeat(101);
        assert_eq!(
            codes(with(&["title"], json!(long))),
            vec![("title".to_owned(), "service.title_length")]
        );
    }

    #[test]
    fn every_rule_has_its_own_code() {
        let cases: Vec<(Map<String, Value>, &str, &str)> = vec![
            (
                with(&["title"], json!("illegal logo design service")),
                "title",
                "service.prohibited_word",
            ),
            (
                with(&["packages", "basic", "price"], json!("4.99")),
                "packages.basic.price",
                "service.price_out_of_range",
            ),
            (
                with(&["packages", "basic", "price"], json!("50000.01")),
                "packages.basic.price",
                "service.price_out_of_range",
            ),
            (
                with(&["packages", "basic", "price"], json!("1.999")),
                "packages.basic.price",
                "service.invalid_price",
            ),
            (
                with(&["packages", "standard", "price"], json!("199.00")),
                "packages.standard.price",
                "service.package_price_order",
            ),
            (
                with(&["packages", "premium", "price"], json!("399.00")),
                "packages.premium.price",
                "service.package_price_order",
            ),
            (
                with(&["packages", "basic"], Value::Null),
                "packages.basic",
                "service.basic_package_required",
            ),
            (
                with(&["packages", "deluxe"], json!({})),
                "packages.deluxe",
                "service.unknown_package",
            ),
            (
                with(&["packages", "basic", "delivery_days"], json!(0)),
                "packages.basic.delivery_days",
                "service.invalid_delivery_days",
            ),
            (
                with(&["packages", "basic", "delivery_days"], json!(91)),
                "packages.basic.delivery_days",
                "service.invalid_delivery_days",
            ),
            (
                with(&["packages", "basic", "revisions"], json!(-1)),
                "packages.basic.revisions",
                "service.invalid_revisions",
            ),
            (
                with(&["packages", "basic", "revisions"], json!(11)),
                "packages.basic.revisions",
                "service.invalid_revisions",
            ),
            (
                with(&["packages", "basic", "price"], json!(199)),
                "packages.basic.price",
                "service.invalid_price",
            ),
            (
                with(&["packages", "basic", "price"], json!("199")),
                "packages.basic.price",
                "service.invalid_price",
            ),
            (
                with(&["category"], json!("design")),
                "category",
                "service.invalid_category",
            ),
            (
                with(&["skills"], json!(["python"])),
                "skills",
                "service.invalid_skill",
            ),
            (
                with(&["service_type"], json!("barter")),
                "service_type",
                "service.invalid_service_type",
            ),
            (
                with(&["description"], json!("too short")),
                "description",
                "service.description_length",
            ),
            (
                with(&["images"], json!(["services/x/y.jpg"])),
                "images",
                "service.invalid_media",
            ),
        ];
        for (m, field, code) in cases {
            assert_eq!(codes(m), vec![(field.to_owned(), code)], "{field} {code}");
        }
    }

    #[test]
    fn boundary_prices_are_allowed() {
        let m = with(
            &["packages"],
            json!({"basic": {"price": "5.00", "description": "x", "delivery_days": 1}}),
        );
        assert!(parse(m).is_ok());
        let m = with(
            &["packages"],
            json!({"basic": {"price": "50000.00", "description": "x", "delivery_days": 1}}),
        );
        assert!(parse(m).is_ok());
    }

    #[test]
    fn premium_without_standard_must_beat_basic() {
        let m = with(
            &["packages"],
            json!({
                "basic": {"price": "100.00", "description": "x", "delivery_days": 1},
                "premium": {"price": "100.00", "description": "y", "delivery_days": 1}
            }),
        );
        assert_eq!(
            codes(m),
            vec![(
                "packages.premium.price".to_owned(),
                "service.package_price_order"
            )]
        );
    }

    #[test]
    fn content_round_trips_through_its_wire_form() {
        let c = parse(valid()).unwrap();
        let again = c
            .to_input()
            .parse(&catalog(), &MediaKeys::default())
            .unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn every_field_of_the_wrong_type_is_named_at_once_ahead_of_the_rules() {
        let mut m = valid();
        m.insert("title".into(), json!(42));
        m.insert("skills".into(), json!("logo"));
        m.insert(
            "packages".into(),
            json!({"basic": {"price": 199, "description": "x", "delivery_days": "3"}}),
        );
        m.insert("description".into(), json!("short"));
        m.remove("title_zh");
        let found = codes(m);
        assert_eq!(
            found,
            [
                ("title".to_owned(), "validation.failed"),
                ("skills".to_owned(), "validation.failed"),
                ("description".to_owned(), "service.description_length"),
                ("packages.basic.price".to_owned(), "service.invalid_price"),
                (
                    "packages.basic.delivery_days".to_owned(),
                    "service.invalid_delivery_days"
                ),
            ]
        );
    }

    #[test]
    fn a_patch_replaces_only_what_it_sends() {
        let c = parse(valid()).unwrap();
        let patch: ServiceInput =
            serde_json::from_value(json!({"title_zh": null, "requirements": "品牌名称"})).unwrap();
        assert!(!patch.is_empty());
        let merged = patch
            .over(c.to_input())
            .parse(&catalog(), &MediaKeys::default())
            .unwrap();
        assert_eq!(merged.title_zh, None);
        assert_eq!(merged.requirements, "品牌名称");
        assert_eq!(merged.title, c.title);
        assert_eq!(merged.packages, c.packages);
        let named: ServiceInput =
            serde_json::from_value(json!({"rating": 5, "colour": "red"})).unwrap();
        assert!(!named.is_empty());
        assert_eq!(
            named.not_writable(),
            (vec!["rating".into()], vec!["colour".into()])
        );
        assert!(
            serde_json::from_value::<ServiceInput>(json!({}))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn moderation_reads_every_text_of_the_service() {
        let c = parse(with(&["packages", "basic", "features"], json!(["加V详聊"]))).unwrap();
        let s = Service::draft(UserId::new(), "u", c, Utc::now());
        let f = s.moderate().unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].field(), "packages.basic");
    }
}
