//! `GET /services/search` [service-search]: full-text search with filters and sorts.

use lambda_http::Request;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::deps::Deps;
use crate::domain::Money;
use crate::domain::service::{MAX_SKILLS, ServiceType};
use crate::http::{ApiError, Reply};
use crate::i18n::Text;
use crate::search::{MAX_WINDOW, SearchQuery, ServiceCard, Sort, text};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_SIZE: u32 = 50;
pub const DEFAULT_SIZE: u32 = 20;
const MAX_DELIVERY_DAYS: u32 = crate::domain::service::MAX_DELIVERY_DAYS;

fn bad(code: &'static str, zh: &'static str, en: &'static str) -> ApiError {
    ApiError::bad_request(code, Text::new(zh, en))
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn whole(
    raw: Option<String>,
    range: std::ops::RangeInclusive<u32>,
    err: fn() -> ApiError,
) -> Result<Option<u32>, ApiError> {
    raw.map(|s| match s.parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(err()),
    })
    .transpose()
}

fn price(raw: Option<String>) -> Result<Option<i64>, ApiError> {
    raw.map(|s| match Money::parse_query(&s) {
        Ok(m) if m.fen() >= 0 => Ok(m.fen()),
        _ => Err(bad(
            "search.invalid_price",
            "价格须为不小于 0 的金额（元，最多两位小数）",
            "Prices must be amounts of at least 0 (yuan, up to 2 decimals)",
        )),
    })
    .transpose()
}

/// Reads and checks the query string. `raw` returns a parameter's value as sent: an empty
/// text parameter counts as absent, an empty number is refused (it is not a number).
pub fn parse(raw: impl Fn(&str) -> Option<String>) -> Result<SearchQuery, ApiError> {
    let get = |name: &str| raw(name).filter(|s| !s.is_empty());
    let q = get("q").map(|s| s.trim().to_owned()).unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(
            "search.query_too_long",
            "搜索词最多 100 个字",
            "The search text may have at most 100 characters",
        ));
    }
    let page = whole(raw("page"), 1..=u32::MAX, || {
        bad(
            "search.invalid_page",
            "page 须为从 1 开始的整数",
            "page must be a whole number from 1",
        )
    })?
    .unwrap_or(1);
    let size = whole(raw("size"), 1..=MAX_SIZE, || {
        bad(
            "search.invalid_size",
            "size 须为 1 到 50 的整数",
            "size must be a whole number from 1 to 50",
        )
    })?
    .unwrap_or(DEFAULT_SIZE);
    if u64::from(page) * u64::from(size) > u64::from(MAX_WINDOW) {
        return Err(bad(
            "search.page_too_deep",
            "最多可翻到第 10000 条结果，请缩小搜索范围",
            "Results can be paged up to the 10,000th; narrow the search",
        ));
    }
    let sort = match get("sort") {
        None => Sort::Relevance,
        Some(s) => Sort::parse(s.trim()).ok_or_else(|| {
            bad(
                "search.invalid_sort",
                "sort 须为 relevance、price_low、price_high、rating 或 newest",
                "sort must be relevance, price_low, price_high, rating or newest",
            )
        })?,
    };
    let min_price = price(raw("min_price"))?;
    let max_price = price(raw("max_price"))?;
    if let (Some(lo), Some(hi)) = (min_price, max_price)
        && lo > hi
    {
        return Err(bad(
            "search.invalid_price_range",
            "最低价不能高于最高价",
            "min_price cannot be above max_price",
        ));
    }
    let min_rating = match raw("min_rating") {
        None => None,
        Some(s) => match s.parse::<Decimal>() {
            Ok(r) if r >= Decimal::ZERO && r <= Decimal::from(5) => r.to_f64(),
            _ => {
                return Err(bad(
                    "search.invalid_rating",
                    "min_rating 须为 0 到 5 之间的数",
                    "min_rating must be a number from 0 to 5",
                ));
            }
        },
    };
    let max_delivery_days = whole(raw("max_delivery_days"), 1..=MAX_DELIVERY_DAYS, || {
        bad(
            "search.invalid_delivery_days",
            "max_delivery_days 须为 1 到 90 的整数",
            "max_delivery_days must be a whole number from 1 to 90",
        )
    })?;
    let service_type = match get("service_type") {
        None => None,
        Some(s) => Some(ServiceType::parse(s.trim()).ok_or_else(|| {
            bad(
                "search.invalid_service_type",
                "service_type 须为 fixed、hourly 或 package",
                "service_type must be fixed, hourly or package",
            )
        })?),
    };
    let category = match get("category") {
        None => None,
        Some(s) if slug_ok(s.trim()) => Some(s.trim().to_owned()),
        Some(_) => {
            return Err(bad(
                "search.invalid_category",
                "category 须为分类标识（小写字母、数字和连字符）",
                "category must be a category slug (lower-case letters, digits and hyphens)",
            ));
        }
    };
    let skills: Vec<String> = get("skills")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if skills.len() > MAX_SKILLS || !skills.iter().all(|s| slug_ok(s)) {
        return Err(bad(
            "search.invalid_skills",
            "skills 须为逗号分隔的技能标识，最多 10 个",
            "skills must be up to 10 comma-separated skill slugs",
        ));
    }
    Ok(SearchQuery {
        tokens: text::query_tokens(&q),
        category,
        skills,
        service_type,
        min_price,
        max_price,
        min_rating,
        max_delivery_days,
        sort,
        page,
        size,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Results {
    items: Vec<ServiceCard>,
    total: u64,
    page: u32,
    size: u32,
}

pub async fn search(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let query = parse(|name| crate::http::query_raw(&req, name))?;
    let page = crate::app::search::search(&deps.search, &query)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "search failed");
            ApiError::new(
                lambda_http::http::StatusCode::SERVICE_UNAVAILABLE,
                "search.unavailable",
                Text::new(
                    "搜索暂时不可用，请稍后再试",
                    "Search is unavailable for a moment; please try again",
                ),
            )
        })?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        Results {
            items: page.items,
            total: page.total,
            page: query.page,
            size: query.size,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_of(pairs: &[(&str, &str)]) -> Result<SearchQuery, ApiError> {
        parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn code(pairs: &[(&str, &str)]) -> &'static str {
        parse_of(pairs).unwrap_err().code
    }

    #[test]
    fn defaults() {
        let q = parse_of(&[]).unwrap();
        assert_eq!((q.page, q.size, q.sort), (1, 20, Sort::Relevance));
        assert!(q.tokens.is_empty());
    }

    #[test]
    fn every_parameter_is_read() {
        let q = parse_of(&[
            ("q", "小程序开发"),
            ("category", "programming"),
            ("skills", "wechat-mini-program, react"),
            ("service_type", "package"),
            ("min_price", "100"),
            ("max_price", "999.50"),
            ("min_rating", "4.5"),
            ("max_delivery_days", "7"),
            ("sort", "price_low"),
            ("page", "3"),
            ("size", "50"),
        ])
        .unwrap();
        assert_eq!(q.tokens, ["小程序", "开发"]);
        assert_eq!(q.category.as_deref(), Some("programming"));
        assert_eq!(q.skills, ["wechat-mini-program", "react"]);
        assert_eq!(q.service_type, Some(ServiceType::Package));
        assert_eq!((q.min_price, q.max_price), (Some(10_000), Some(99_950)));
        assert_eq!(q.min_rating, Some(4.5));
        assert_eq!(q.max_delivery_days, Some(7));
        assert_eq!(
            (q.sort, q.page, q.size, q.offset()),
            (Sort::PriceLow, 3, 50, 100)
        );
    }

    #[test]
    fn bad_input_has_a_code() {
        assert_eq!(
            code(&[("min_price", "500"), ("max_price", "100")]),
            "search.invalid_price_range"
        );
        assert_eq!(code(&[("min_price", "-1")]), "search.invalid_price");
        assert_eq!(code(&[("max_price", "1.234")]), "search.invalid_price");
        assert_eq!(code(&[("page", "-1")]), "search.invalid_page");
        assert_eq!(code(&[("page", "0")]), "search.invalid_page");
        assert_eq!(code(&[("page", "two")]), "search.invalid_page");
        assert_eq!(code(&[("page", "")]), "search.invalid_page");
        assert_eq!(code(&[("size", " 5")]), "search.invalid_size");
        assert_eq!(code(&[("min_price", "")]), "search.invalid_price");
        assert_eq!(code(&[("min_price", "+1")]), "search.invalid_price");
        assert_eq!(code(&[("size", "51")]), "search.invalid_size");
        assert_eq!(code(&[("size", "0")]), "search.invalid_size");
        assert_eq!(
            code(&[("page", "201"), ("size", "50")]),
            "search.page_too_deep"
        );
        assert_eq!(code(&[("sort", "cheapest")]), "search.invalid_sort");
        assert_eq!(code(&[("q", &"设".repeat(101))]), "search.query_too_long");
        assert_eq!(code(&[("min_rating", "5.1")]), "search.invalid_rating");
        assert_eq!(
            code(&[("max_delivery_days", "0")]),
            "search.invalid_delivery_days"
        );
        assert_eq!(
            code(&[("service_type", "gig")]),
            "search.invalid_service_type"
        );
        assert_eq!(
            code(&[("category", "Logo Design")]),
            "search.invalid_category"
        );
        let many = (0..11)
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(code(&[("skills", &many)]), "search.invalid_skills");
        assert!(parse_of(&[("q", &"设".repeat(100))]).is_ok());
        assert!(parse_of(&[("page", "200"), ("size", "50")]).is_ok());
    }
}
