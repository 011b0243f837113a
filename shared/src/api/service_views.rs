//! JSON shapes of services and the catalogue.

use serde::Serialize;

use super::views::rfc3339;
use crate::domain::catalog::{Catalog, Category, Label, Skill};
use crate::domain::moderation::Finding;
use crate::domain::service::{Package, Service, ServiceStatus, ServiceType, Tier};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackageView {
    name: &'static str,
    name_zh: &'static str,
    price: String,
    description: String,
    delivery_days: u32,
    revisions: u32,
    features: Vec<String>,
}

fn package(tier: Tier, p: &Package) -> PackageView {
    let (name, name_zh) = tier.names();
    PackageView {
        name,
        name_zh,
        price: p.price.to_string(),
        description: p.description.clone(),
        delivery_days: p.delivery_days,
        revisions: p.revisions,
        features: p.features.clone(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PackagesView {
    basic: PackageView,
    standard: Option<PackageView>,
    premium: Option<PackageView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FindingView {
    code: &'static str,
    #[serde(flatten)]
    finding: Finding,
    message: String,
    message_zh: String,
}

impl From<&Finding> for FindingView {
    fn from(f: &Finding) -> Self {
        let t = f.text();
        FindingView {
            code: f.code(),
            finding: f.clone(),
            message: t.en.into_owned(),
            message_zh: t.zh.into_owned(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModerationView {
    findings: Vec<FindingView>,
    note: Option<String>,
    at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FreelancerCard {
    id: String,
    username: String,
    seller_level: crate::domain::ranking::SellerLevel,
}

/// A service as clients see it. `moderation` only for the owner and admins.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    id: String,
    title: Option<String>,
    title_zh: Option<String>,
    description: Option<String>,
    description_zh: Option<String>,
    category: Label,
    parent_category: Label,
    skills: Vec<Label>,
    service_type: ServiceType,
    packages: PackagesView,
    from_price: String,
    images: Vec<String>,
    /// The gallery's public URLs, in the order of `images`.
    image_urls: Vec<String>,
    /// The first image's public URL (cards and search results).
    thumbnail_url: Option<String>,
    video_url: Option<String>,
    requirements: String,
    status: ServiceStatus,
    freelancer: FreelancerCard,
    views_count: u64,
    orders_count: u64,
    rating: String,
    reviews_count: u64,
    is_featured: bool,
    created_at: String,
    updated_at: String,
    published_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    moderation: Option<ModerationView>,
}

impl ServiceView {
    /// `privileged`: the owner or an admin (sees moderation findings).
    pub fn of(s: &Service, privileged: bool) -> ServiceView {
        let c = &s.content;
        let mut rating = s.rating;
        rating.rescale(2);
        ServiceView {
            id: s.id.to_string(),
            title: c.title.clone(),
            title_zh: c.title_zh.clone(),
            description: c.description.clone(),
            description_zh: c.description_zh.clone(),
            category: c.category.clone(),
            parent_category: c.parent_category.clone(),
            skills: c.skills.clone(),
            service_type: c.service_type,
            packages: PackagesView {
                basic: package(Tier::Basic, &c.packages.basic),
                standard: c
                    .packages
                    .standard
                    .as_ref()
                    .map(|p| package(Tier::Standard, p)),
                premium: c
                    .packages
                    .premium
                    .as_ref()
                    .map(|p| package(Tier::Premium, p)),
            },
            from_price: c.packages.from_price().to_string(),
            images: c.images.clone(),
            image_urls: c
                .images
                .iter()
                .filter_map(|k| crate::config::public_media_url(k))
                .collect(),
            thumbnail_url: c
                .images
                .first()
                .and_then(|k| crate::config::public_media_url(k)),
            video_url: c.video.clone(),
            requirements: c.requirements.clone(),
            status: s.status,
            freelancer: FreelancerCard {
                id: s.freelancer_id.to_string(),
                username: s.freelancer_username.clone(),
                seller_level: s.seller_level,
            },
            views_count: s.views_count,
            orders_count: s.orders_count,
            rating: rating.to_string(),
            reviews_count: s.reviews_count,
            is_featured: s.is_featured(),
            created_at: rfc3339(&s.created_at),
            updated_at: rfc3339(&s.updated_at),
            published_at: s.published_at.as_ref().map(rfc3339),
            moderation: if privileged {
                s.rejection.as_ref().map(|r| ModerationView {
                    findings: r.findings.iter().map(FindingView::from).collect(),
                    note: r.note.clone(),
                    at: rfc3339(&r.at),
                })
            } else {
                None
            },
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SkillView {
    slug: String,
    name: String,
    name_zh: String,
    category: String,
}

impl From<&Skill> for SkillView {
    fn from(s: &Skill) -> Self {
        SkillView {
            slug: s.slug.clone(),
            name: s.name.clone(),
            name_zh: s.name_zh.clone(),
            category: s.category.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    slug: String,
    name: String,
    name_zh: String,
    description: String,
    description_zh: String,
    icon: Option<String>,
    parent: Option<String>,
    sort_order: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    children: Option<Vec<CategoryView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skills: Option<Vec<SkillView>>,
}

fn category(c: &Category) -> CategoryView {
    CategoryView {
        slug: c.slug.clone(),
        name: c.name.clone(),
        name_zh: c.name_zh.clone(),
        description: c.description.clone(),
        description_zh: c.description_zh.clone(),
        icon: c.icon.clone(),
        parent: c.parent.clone(),
        sort_order: c.sort_order,
        children: None,
        skills: None,
    }
}

/// The active tree: top-level categories with their subcategories and skills.
pub fn category_tree(catalog: &Catalog) -> Vec<CategoryView> {
    catalog
        .roots()
        .into_iter()
        .map(|root| CategoryView {
            children: Some(
                catalog
                    .children(&root.slug)
                    .into_iter()
                    .map(category)
                    .collect(),
            ),
            skills: Some(
                catalog
                    .skills_of(&root.slug)
                    .unwrap_or_default()
                    .into_iter()
                    .map(SkillView::from)
                    .collect(),
            ),
            ..category(root)
        })
        .collect()
}
