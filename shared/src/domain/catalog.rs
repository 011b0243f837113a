//! The catalogue: a two-level tree of bilingual categories (top level → subcategories) and the
//! skills of each top-level category. Services are filed under a subcategory; their skills
//! come from its top-level category.

use serde::{Deserialize, Serialize};

/// A category, top level (`parent: None`) or sub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub slug: String,
    pub name: String,
    pub name_zh: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub description_zh: String,
    #[serde(default)]
    pub icon: Option<String>,
    pub parent: Option<String>,
    pub sort_order: u32,
    pub is_active: bool,
}

/// A skill of a top-level category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    pub slug: String,
    pub name: String,
    pub name_zh: String,
    pub category: String,
    pub is_active: bool,
}

/// The slug and both names of a category or skill, as copied onto a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Label {
    pub slug: String,
    pub name: String,
    pub name_zh: String,
}

/// The whole catalogue (a few hundred items; it is read in one query and kept warm).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub categories: Vec<Category>,
    pub skills: Vec<Skill>,
}

/// Where a service may be filed: an active subcategory and its active parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub category: Label,
    pub parent: Label,
}

impl Category {
    pub fn label(&self) -> Label {
        Label {
            slug: self.slug.clone(),
            name: self.name.clone(),
            name_zh: self.name_zh.clone(),
        }
    }
}

impl Skill {
    pub fn label(&self) -> Label {
        Label {
            slug: self.slug.clone(),
            name: self.name.clone(),
            name_zh: self.name_zh.clone(),
        }
    }
}

impl Catalog {
    pub fn category(&self, slug: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.slug == slug)
    }

    /// Active top-level categories in display order.
    pub fn roots(&self) -> Vec<&Category> {
        let mut roots: Vec<&Category> = self
            .categories
            .iter()
            .filter(|c| c.parent.is_none() && c.is_active)
            .collect();
        roots.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
        roots
    }

    /// Active subcategories of `parent`, in display order.
    pub fn children(&self, parent: &str) -> Vec<&Category> {
        let mut children: Vec<&Category> = self
            .categories
            .iter()
            .filter(|c| c.parent.as_deref() == Some(parent) && c.is_active)
            .collect();
        children.sort_by(|a, b| (a.sort_order, &a.name).cmp(&(b.sort_order, &b.name)));
        children
    }

    /// Active skills of the top-level category of `slug` (a top-level or a subcategory).
    pub fn skills_of(&self, slug: &str) -> Option<Vec<&Skill>> {
        let c = self.category(slug).filter(|c| c.is_active)?;
        let root = c.parent.as_deref().unwrap_or(&c.slug);
        let mut skills: Vec<&Skill> = self
            .skills
            .iter()
            .filter(|s| s.category == root && s.is_active)
            .collect();
        skills.sort_by(|a, b| a.name.cmp(&b.name));
        Some(skills)
    }

    /// An active subcategory whose parent is active too: the only place services can go.
    pub fn placement(&self, slug: &str) -> Option<Placement> {
        let c = self.category(slug).filter(|c| c.is_active)?;
        let parent = self
            .category(c.parent.as_deref()?)
            .filter(|p| p.is_active)?;
        Some(Placement {
            category: c.label(),
            parent: parent.label(),
        })
    }

    /// The active skill `slug` of the top-level category `root`.
    pub fn skill(&self, root: &str, slug: &str) -> Option<&Skill> {
        self.skills
            .iter()
            .find(|s| s.category == root && s.slug == slug && s.is_active)
    }

    /// Reads the seed file format (`infra/seed/catalog.json`): top-level categories with
    /// nested `children` and `skills`; sort order is the order of the file.
    pub fn from_seed_json(json: &str) -> Result<Catalog, String> {
        #[derive(Deserialize)]
        struct SeedSkill {
            slug: String,
            name: String,
            name_zh: String,
        }
        #[derive(Deserialize)]
        struct SeedCategory {
            slug: String,
            name: String,
            name_zh: String,
            #[serde(default)]
            description: String,
            #[serde(default)]
            description_zh: String,
            #[serde(default)]
            icon: Option<String>,
            #[serde(default)]
            children: Vec<SeedCategory>,
            #[serde(default)]
            skills: Vec<SeedSkill>,
        }
        #[derive(Deserialize)]
        struct Seed {
            categories: Vec<SeedCategory>,
        }
        let seed: Seed = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut catalog = Catalog::default();
        let entry = |c: &SeedCategory, parent: Option<&str>, i: usize| Category {
            slug: c.slug.clone(),
            name: c.name.clone(),
            name_zh: c.name_zh.clone(),
            description: c.description.clone(),
            description_zh: c.description_zh.clone(),
            icon: c.icon.clone(),
            parent: parent.map(str::to_owned),
            sort_order: u32::try_from(i).unwrap_or(u32::MAX),
            is_active: true,
        };
        for (i, root) in seed.categories.iter().enumerate() {
            catalog.categories.push(entry(root, None, i));
            for (j, child) in root.children.iter().enumerate() {
                if !child.children.is_empty() {
                    return Err(format!("{}: only two levels of categories", child.slug));
                }
                catalog.categories.push(entry(child, Some(&root.slug), j));
            }
            for s in &root.skills {
                catalog.skills.push(Skill {
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                    name_zh: s.name_zh.clone(),
                    category: root.slug.clone(),
                    is_active: true,
                });
            }
        }
        catalog.validate()?;
        Ok(catalog)
    }

    /// Slugs are unique and URL-safe; names are unique in each language (as in the seed).
    fn validate(&self) -> Result<(), String> {
        use std::collections::HashSet;
        let slug_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 60
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let mut seen = HashSet::new();
        let mut names = HashSet::new();
        for c in &self.categories {
            if !slug_ok(&c.slug) || !seen.insert(c.slug.as_str()) {
                return Err(format!("category slug {:?} is bad or repeated", c.slug));
            }
            if !names.insert(("c", c.name.as_str())) || !names.insert(("cz", c.name_zh.as_str())) {
                return Err(format!("category name of {} is repeated", c.slug));
            }
        }
        let mut skills = HashSet::new();
        for s in &self.skills {
            if !slug_ok(&s.slug) || !skills.insert((s.category.as_str(), s.slug.as_str())) {
                return Err(format!("skill slug {:?} is bad or repeated", s.slug));
            }
            if !names.insert(("s", s.name.as_str())) || !names.insert(("sz", s.name_zh.as_str())) {
                return Err(format!("skill name of {} is repeated", s.slug));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../../infra/seed/catalog.json");

    #[test]
    fn the_shipped_seed_catalogue_is_valid_and_covers_the_main_trades() {
        let c = Catalog::from_seed_json(SEED).unwrap();
        let roots: Vec<&str> = c.roots().iter().map(|r| r.name_zh.as_str()).collect();
        for want in ["设计", "开发", "营销", "文案写作", "视频", "音频", "咨询"] {
            assert!(roots.contains(&want), "missing {want} in {roots:?}");
        }
        let dev = c.roots().into_iter().find(|r| r.name_zh == "开发").unwrap();
        let kids: Vec<&str> = c
            .children(&dev.slug)
            .iter()
            .map(|k| k.name_zh.as_str())
            .collect();
        assert!(kids.contains(&"小程序开发") && kids.contains(&"网站开发"));
        assert!(c.categories.len() >= 50 && c.skills.len() >= 50);
        assert!(
            c.roots()
                .iter()
                .all(|r| !c.skills_of(&r.slug).unwrap().is_empty())
        );
    }

    #[test]
    fn services_go_under_active_subcategories_only() {
        let c = Catalog::from_seed_json(SEED).unwrap();
        let p = c.placement("logo-design").unwrap();
        assert_eq!(p.parent.slug, "design");
        assert!(c.placement("design").is_none());
        assert!(c.placement("no-such-thing").is_none());
    }

    #[test]
    fn repeated_slugs_are_refused() {
        let json = r#"{"categories":[{"slug":"a","name":"A","name_zh":"甲","children":[{"slug":"a","name":"B","name_zh":"乙"}]}]}"#;
        assert!(Catalog::from_seed_json(json).is_err());
    }
}
