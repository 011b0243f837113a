//! The platform's commission: rules operators set per category and seller level, with a
//! minimum fee and time-bounded promotions. The terms that apply are worked out when an
//! order is placed and frozen on it ([`FeeTerms`]); a later change of the rules never changes
//! what an order already placed pays.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::money::{Money, fen};
use super::user::SellerLevel;

/// The highest commission operators may set: 50 %.
pub const MAX_RATE_BP: u32 = 5_000;
/// The highest minimum fee: 100.00.
pub const MAX_MINIMUM_FEN: i64 = 10_000;
/// At most this many rules and this many promotions.
pub const MAX_RULES: usize = 100;

/// The commission frozen on an order: a rate in basis points (2000 = 20 %) and a minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeTerms {
    pub rate_bp: u32,
    #[serde(with = "fen")]
    pub minimum: Money,
}

impl Default for FeeTerms {
    /// 20 % without a minimum: what every order paid before the rules existed.
    fn default() -> FeeTerms {
        FeeTerms {
            rate_bp: 2_000,
            minimum: Money::ZERO,
        }
    }
}

impl FeeTerms {
    /// `(fee, earnings)` on `amount`: the rate rounded half-up to the fen, at least the
    /// minimum, never more than the amount. The two always add up to the amount.
    pub fn split(&self, amount: Money) -> (Money, Money) {
        let total = amount.fen().max(0);
        let raw = (i128::from(total) * i128::from(self.rate_bp) + 5_000) / 10_000;
        let fee = i64::try_from(raw)
            .unwrap_or(total)
            .max(self.minimum.fen())
            .min(total);
        (Money::from_fen(fee), Money::from_fen(total - fee))
    }
}

/// A rate for a category (or its parent), a seller level, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeeRule {
    /// A category or parent category slug; absent: every category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Absent: every level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_level: Option<SellerLevel>,
    /// Basis points: 2000 = 20 %.
    #[schema(maximum = 5000)]
    pub rate_bp: u32,
}

/// A lower rate for a while (e.g. 双十一), for a category, a level, or everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Promotion {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_level: Option<SellerLevel>,
    #[schema(maximum = 5000)]
    pub rate_bp: u32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The operators' commission settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeRules {
    pub default_rate_bp: u32,
    #[serde(with = "fen")]
    pub minimum_fee: Money,
    #[serde(default)]
    pub rules: Vec<FeeRule>,
    #[serde(default)]
    pub promotions: Vec<Promotion>,
}

impl Default for FeeRules {
    fn default() -> FeeRules {
        FeeRules {
            default_rate_bp: FeeTerms::default().rate_bp,
            minimum_fee: Money::ZERO,
            rules: Vec::new(),
            promotions: Vec::new(),
        }
    }
}

/// What is wrong with a set of rules: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRuleError {
    pub field: String,
    pub zh: &'static str,
    pub en: &'static str,
}

/// How closely a rule's category and level match: exact category beats parent category beats
/// none; then a level beats none. `None`: it does not match.
fn specificity(
    category: Option<&str>,
    level: Option<SellerLevel>,
    (cat, parent, seller): (&str, &str, SellerLevel),
) -> Option<(u8, u8)> {
    let c = match category {
        None => 0,
        Some(x) if x == cat => 2,
        Some(x) if x == parent => 1,
        Some(_) => return None,
    };
    let l = match level {
        None => 0,
        Some(x) if x == seller => 1,
        Some(_) => return None,
    };
    Some((c, l))
}

impl FeeRules {
    /// The terms for an order in `category` (under `parent`) from a seller of `level`,
    /// placed at `now`: the most specific rule (or the default), lowered by any promotion
    /// running then that matches.
    pub fn terms_for(
        &self,
        category: &str,
        parent: &str,
        level: SellerLevel,
        now: DateTime<Utc>,
    ) -> FeeTerms {
        let of = (category, parent, level);
        let base = self
            .rules
            .iter()
            .filter_map(|r| {
                specificity(r.category.as_deref(), r.seller_level, of).map(|s| (s, r.rate_bp))
            })
            .max_by_key(|(s, _)| *s)
            .map_or(self.default_rate_bp, |(_, rate)| rate);
        let promoted = self
            .promotions
            .iter()
            .filter(|p| p.starts_at <= now && now < p.ends_at)
            .filter(|p| specificity(p.category.as_deref(), p.seller_level, of).is_some())
            .map(|p| p.rate_bp)
            .min();
        FeeTerms {
            rate_bp: promoted.map_or(base, |p| p.min(base)),
            minimum: self.minimum_fee,
        }
    }

    /// Every problem with the rules, by field (`rules[2].rate_bp`, `promotions[0].ends_at`).
    pub fn problems(&self) -> Vec<FeeRuleError> {
        let mut out = Vec::new();
        let mut bad = |field: String, zh, en| out.push(FeeRuleError { field, zh, en });
        let rate_zh = "费率须在 0 到 5000 个基点（0%–50%）之间";
        let rate_en = "A rate must be 0 to 5000 basis points (0%–50%)";
        if self.default_rate_bp > MAX_RATE_BP {
            bad("default_rate_bp".into(), rate_zh, rate_en);
        }
        if !(0..=MAX_MINIMUM_FEN).contains(&self.minimum_fee.fen()) {
            bad(
                "minimum_fee".into(),
                "最低佣金须在 0.00 到 100.00 之间",
                "The minimum fee must be 0.00 to 100.00",
            );
        }
        if self.rules.len() > MAX_RULES {
            bad("rules".into(), "规则最多 100 条", "At most 100 rules");
        }
        if self.promotions.len() > MAX_RULES {
            bad(
                "promotions".into(),
                "活动最多 100 个",
                "At most 100 promotions",
            );
        }
        let slug_ok = |c: &Option<String>| {
            c.as_deref().is_none_or(|c| {
                (1..=60).contains(&c.len())
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
        };
        // What rules and promotions share: a rate in range and a category slug.
        let mut rate_and_category = |at: String, rate_bp: u32, category: &Option<String>| {
            if rate_bp > MAX_RATE_BP {
                bad(format!("{at}.rate_bp"), rate_zh, rate_en);
            }
            if !slug_ok(category) {
                bad(
                    format!("{at}.category"),
                    "分类须为分类标识（小写字母、数字、连字符）",
                    "A category is a category slug (lowercase letters, digits, hyphens)",
                );
            }
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut duplicates = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            rate_and_category(format!("rules[{i}]"), r.rate_bp, &r.category);
            if !seen.insert((r.category.clone(), r.seller_level)) {
                duplicates.push(i);
            }
        }
        let mut timing = Vec::new();
        for (i, p) in self.promotions.iter().enumerate() {
            rate_and_category(format!("promotions[{i}]"), p.rate_bp, &p.category);
            timing.push((
                i,
                p.ends_at <= p.starts_at,
                p.name.trim().is_empty() || p.name.chars().count() > 50,
            ));
        }
        for i in duplicates {
            bad(
                format!("rules[{i}]"),
                "同一分类与等级只能有一条规则",
                "One rule per category and level",
            );
        }
        for (i, ends_early, bad_name) in timing {
            if ends_early {
                bad(
                    format!("promotions[{i}].ends_at"),
                    "活动结束时间须晚于开始时间",
                    "A promotion must end after it starts",
                );
            }
            if bad_name {
                bad(
                    format!("promotions[{i}].name"),
                    "活动名称须为 1–50 个字符",
                    "A promotion's name is 1–50 characters",
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    #[test]
    fn the_default_terms_are_the_old_twenty_percent_to_the_fen() {
        for fen in [0, 1, 2, 3, 63, 6250, 19_900, 123_457] {
            let m = Money::from_fen(fen);
            assert_eq!(FeeTerms::default().split(m), m.split_fee(), "{fen}");
        }
    }

    #[test]
    fn the_most_specific_rule_wins_and_a_running_promotion_lowers_it() {
        let now = Utc::now();
        let rules = FeeRules {
            default_rate_bp: 2000,
            minimum_fee: Money::from_fen(100),
            rules: vec![
                FeeRule {
                    category: Some("design".into()),
                    seller_level: None,
                    rate_bp: 1800,
                },
                FeeRule {
                    category: Some("logo-design".into()),
                    seller_level: None,
                    rate_bp: 1500,
                },
                FeeRule {
                    category: None,
                    seller_level: Some(SellerLevel::TopRated),
                    rate_bp: 1200,
                },
                FeeRule {
                    category: Some("logo-design".into()),
                    seller_level: Some(SellerLevel::TopRated),
                    rate_bp: 1000,
                },
            ],
            promotions: vec![Promotion {
                name: "双十一".into(),
                category: Some("design".into()),
                seller_level: None,
                rate_bp: 800,
                starts_at: now - Duration::days(1),
                ends_at: now + Duration::days(1),
            }],
        };
        let t = |c, p, l, at| rules.terms_for(c, p, l, at).rate_bp;
        let later = now + Duration::days(2);
        assert_eq!(t("web", "programming", SellerLevel::New, later), 2000);
        assert_eq!(t("poster", "design", SellerLevel::New, later), 1800);
        assert_eq!(t("logo-design", "design", SellerLevel::New, later), 1500);
        assert_eq!(t("web", "programming", SellerLevel::TopRated, later), 1200);
        assert_eq!(
            t("logo-design", "design", SellerLevel::TopRated, later),
            1000
        );
        assert_eq!(t("logo-design", "design", SellerLevel::New, now), 800);
        assert_eq!(t("web", "programming", SellerLevel::New, now), 2000);
        // The minimum applies; the fee never exceeds the amount.
        let terms = rules.terms_for("web", "programming", SellerLevel::New, later);
        assert_eq!(terms.split(Money::from_fen(300)).0, Money::from_fen(100));
        assert_eq!(terms.split(Money::from_fen(50)).0, Money::from_fen(50));
    }

    #[test]
    fn problems_name_each_field() {
        let now = Utc::now();
        let rules = FeeRules {
            default_rate_bp: 6000,
            minimum_fee: Money::from_fen(-1),
            rules: vec![
                FeeRule {
                    category: Some("Logo Design".into()),
                    seller_level: None,
                    rate_bp: 100,
                },
                FeeRule {
                    category: Some("Logo Design".into()),
                    seller_level: None,
                    rate_bp: 5001,
                },
            ],
            promotions: vec![Promotion {
                name: " ".into(),
                category: None,
                seller_level: None,
                rate_bp: 0,
                starts_at: now,
                ends_at: now,
            }],
        };
        let fields: Vec<String> = rules.problems().into_iter().map(|p| p.field).collect();
        for f in [
            "default_rate_bp",
            "minimum_fee",
            "rules[0].category",
            "rules[1].rate_bp",
            "rules[1]",
            "promotions[0].ends_at",
            "promotions[0].name",
        ] {
            assert!(fields.contains(&f.to_owned()), "{f}: {fields:?}");
        }
        assert!(FeeRules::default().problems().is_empty());
    }

    proptest! {
        #[test]
        fn fee_and_earnings_add_up_under_any_terms(
            fen in 0i64..10_000_000_000,
            rate_bp in 0u32..=MAX_RATE_BP,
            minimum in 0i64..=MAX_MINIMUM_FEN,
        ) {
            let terms = FeeTerms { rate_bp, minimum: Money::from_fen(minimum) };
            let (fee, earnings) = terms.split(Money::from_fen(fen));
            prop_assert_eq!(fee.fen() + earnings.fen(), fen);
            prop_assert!(fee.fen() >= 0 && earnings.fen() >= 0);
            prop_assert!(fee.fen() >= minimum.min(fen));
        }
    }
}
