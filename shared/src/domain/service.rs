//! Services (gigs): what a freelancer sells, in up to three packages, and the rules a
//! listing must meet before anyone can see it.
//!
//! A service is parsed from its wire form ([`ServiceInput`]) into [`ServiceContent`] in one
//! place; an edit is the stored content turned back into its wire form, overlaid with the
//! patch, and parsed again, so every rule (standard > basic, …) holds on the merged result.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::catalog::{Catalog, Label};
use super::moderation::{self, Finding, RulesError};
use super::{Money, ServiceId, UserId};
use crate::i18n::Text;

/// Price bounds of every package, in fen (5.00 – 50,000.00 CNY, from the seed).
pub const MIN_PRICE_FEN: i64 = 500;
pub const MAX_PRICE_FEN: i64 = 5_000_000;
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

/// The wire form of a service's writable fields (create body, or a patch overlaid on the
/// stored service).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ServiceInput {
    pub title: Option<String>,
    pub title_zh: Option<String>,
    pub description: Option<String>,
    pub description_zh: Option<String>,
    pub category: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    pub service_type: Option<String>,
    pub packages: Option<Map<String, Value>>,
    pub requirements: Option<String>,
    #[serde(default)]
    pub images: Vec<String>,
    pub video_url: Option<String>,
}

/// Fields a client may send; anything else the service has is computed.
pub const WRITABLE: [&str; 11] = [
    "title",
    "title_zh",
    "description",
    "description_zh",
    "category",
    "skills",
    "service_type",
    "packages",
    "requirements",
    "images",
    "video_url",
];

/// Fields of a service that exist but only the platform writes.
pub const READ_ONLY: [&str; 17] = [
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
}

/// A price as the API writes amounts: a string with two places (`"199.00"`).
fn money_value(v: &Value) -> Option<Money> {
    match v {
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn count_value(v: Option<&Value>) -> Option<Option<u32>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some),
        _ => None,
    }
}

fn parse_package(c: &mut Check, field: &str, raw: &Value) -> Option<Package> {
    let Some(obj) = raw.as_object() else {
        c.fail(
            field,
            "service.invalid_package",
            Text::new("套餐须为对象", "A package must be an object"),
        );
        return None;
    };
    let price = match obj.get("price") {
        None | Some(Value::Null) => {
            c.fail(
                &format!("{field}.price"),
                "service.invalid_price",
                Text::new("请填写价格", "The price is required"),
            );
            None
        }
        Some(v) => match money_value(v) {
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
    let description = match obj.get("description").and_then(Value::as_str) {
        Some(d) => c.text(
            &format!("{field}.description"),
            d,
            (1, 500),
            "service.package_description_length",
        ),
        None => {
            c.fail(
                &format!("{field}.description"),
                "service.package_description_length",
                Text::new("请填写套餐说明", "Describe what the package includes"),
            );
            None
        }
    };
    let delivery_days = match count_value(obj.get("delivery_days")) {
        Some(Some(d)) if (1..=MAX_DELIVERY_DAYS).contains(&d) => Some(d),
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
    let revisions = match count_value(obj.get("revisions")) {
        Some(None) => Some(1),
        Some(Some(r)) if r <= MAX_REVISIONS => Some(r),
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
    let features = match obj.get("features") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) if items.len() <= MAX_FEATURES => {
            let parsed: Option<Vec<String>> = items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::trim)
                        .filter(|s| (1..=60).contains(&s.chars().count()))
                        .map(str::to_owned)
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
        Some(_) => {
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

fn parse_packages(c: &mut Check, raw: Option<&Map<String, Value>>) -> Option<Packages> {
    let Some(raw) = raw else {
        c.fail(
            "packages.basic",
            "service.basic_package_required",
            Text::new("至少需要基础版套餐", "A basic package is required"),
        );
        return None;
    };
    for key in raw.keys() {
        if Tier::parse(key).is_none() {
            c.fail(
                &format!("packages.{key}"),
                "service.unknown_package",
                Text::new(
                    "套餐只能是 basic、standard 或 premium",
                    "Packages are basic, standard and premium only",
                ),
            );
        }
    }
    let present = |k: &str| raw.get(k).filter(|v| !v.is_null());
    let basic = match present("basic") {
        Some(v) => parse_package(c, "packages.basic", v),
        None => {
            c.fail(
                "packages.basic",
                "service.basic_package_required",
                Text::new("至少需要基础版套餐", "A basic package is required"),
            );
            None
        }
    };
    let standard = present("standard").map(|v| parse_package(c, "packages.standard", v));
    let premium = present("premium").map(|v| parse_package(c, "packages.premium", v));
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
        // A blank text is given but too short (as the schema says), not absent.
        let given = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
        let (title, title_zh) = (self.title, self.title_zh);
        if !given(&title) && !given(&title_zh) {
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
        let (description, description_zh) = (self.description, self.description_zh);
        if !given(&description) && !given(&description_zh) {
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
        let placement = match self.category.as_deref().map(str::trim) {
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
        if self.skills.len() > MAX_SKILLS {
            c.fail(
                "skills",
                "service.invalid_skill",
                Text::new("技能最多 10 个", "At most 10 skills"),
            );
        } else if let Some(p) = &placement {
            for slug in &self.skills {
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
        let service_type = match self.service_type.as_deref() {
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
        let packages = parse_packages(&mut c, self.packages.as_ref());
        let requirements = match self.requirements {
            None => Some(String::new()),
            Some(r) => c.text("requirements", &r, (0, 2000), "service.requirements_length"),
        };
        let mut images: Vec<String> = Vec::new();
        for key in self.images {
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
        let video = match self.video_url {
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
    pub fn to_input_map(&self) -> Map<String, Value> {
        let package = |p: &Package| {
            serde_json::json!({
                "price": p.price.to_string(),
                "description": p.description,
                "delivery_days": p.delivery_days,
                "revisions": p.revisions,
                "features": p.features,
            })
        };
        let mut packages = Map::new();
        packages.insert("basic".into(), package(&self.packages.basic));
        if let Some(s) = &self.packages.standard {
            packages.insert("standard".into(), package(s));
        }
        if let Some(p) = &self.packages.premium {
            packages.insert("premium".into(), package(p));
        }
        let mut m = Map::new();
        m.insert("title".into(), serde_json::json!(self.title));
        m.insert("title_zh".into(), serde_json::json!(self.title_zh));
        m.insert("description".into(), serde_json::json!(self.description));
        m.insert(
            "description_zh".into(),
            serde_json::json!(self.description_zh),
        );
        m.insert("category".into(), Value::String(self.category.slug.clone()));
        m.insert(
            "skills".into(),
            Value::Array(
                self.skills
                    .iter()
                    .map(|s| Value::String(s.slug.clone()))
                    .collect(),
            ),
        );
        m.insert(
            "service_type".into(),
            serde_json::to_value(self.service_type).unwrap_or(Value::Null),
        );
        m.insert("packages".into(), Value::Object(packages));
        m.insert(
            "requirements".into(),
            Value::String(self.requirements.clone()),
        );
        m.insert("images".into(), serde_json::json!(self.images));
        m.insert("video_url".into(), serde_json::json!(self.video));
        m
    }
}

/// The keys of a patch body, sorted into writable, read-only and unknown.
pub fn sort_patch_keys(patch: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let mut read_only = Vec::new();
    let mut unknown = Vec::new();
    for k in patch.keys() {
        if READ_ONLY.contains(&k.as_str()) {
            read_only.push(k.clone());
        } else if !WRITABLE.contains(&k.as_str()) {
            unknown.push(k.clone());
        }
    }
    (read_only, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let again = parse(c.to_input_map()).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn moderation_reads_every_text_of_the_service() {
        let c = parse(with(&["packages", "basic", "features"], json!(["加V详聊"]))).unwrap();
        let s = Service {
            id: ServiceId::new(),
            freelancer_id: UserId::new(),
            freelancer_username: "u".into(),
            content: c,
            status: ServiceStatus::Draft,
            rejection: None,
            views_count: 0,
            orders_count: 0,
            open_orders: 0,
            rating: Decimal::ZERO,
            rating_sum: 0,
            reviews_count: 0,
            ranking_score: 0.0,
            seller_level: crate::domain::user::SellerLevel::New,
            featured_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            published_at: None,
            version: 1,
        };
        let f = s.moderate().unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].field(), "packages.basic");
    }
}
