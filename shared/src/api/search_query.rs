//! The search query string, read and checked, and the cursor that continues a search: what
//! the service search and the brief search both take.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::domain::Money;
use crate::domain::service::{MAX_SKILLS, ServiceType};
use crate::http::ApiError;
use crate::http::route::{Q, Type};
use crate::i18n::Text;
use crate::search::{MAX_WINDOW, SearchQuery, Sort, text};

/// The words and the catalogue a search takes (services and briefs alike).
pub(crate) const WORD_PARAMS: [Q; 3] = [
    (
        "q",
        Type::String,
        "关键词，例如「logo 设计」/ words, e.g. 「logo 设计」",
    ),
    ("category", Type::String, "分类 slug / a category slug"),
    ("skills", Type::String, "逗号分隔 / comma-separated"),
];

/// How a search is paged (services and briefs alike).
pub(crate) const PAGING_PARAMS: [Q; 3] = [
    (
        "page",
        Type::Integer,
        "从 1 开始，page × size ≤ 10000 / from 1, page × size ≤ 10,000",
    ),
    ("size", Type::Integer, "1–50"),
    (
        "cursor",
        Type::String,
        "上一页的 next_cursor（不限深度，不与 page 同用）/ the previous page's next_cursor (any depth; not with page)",
    ),
];

/// The engine could not answer: a 503 the client may retry, never an empty result.
pub(crate) fn search_unavailable(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "search failed");
    ApiError::new(
        lambda_http::http::StatusCode::SERVICE_UNAVAILABLE,
        "search.unavailable",
        Text::new(
            "搜索暂时不可用，请稍后再试",
            "Search is unavailable for a moment; please try again",
        ),
    )
}

/// The longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 100;
const MAX_SIZE: u32 = 50;
const DEFAULT_SIZE: u32 = 20;
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
pub(crate) fn parse(raw: impl Fn(&str) -> Option<String>) -> Result<SearchQuery, ApiError> {
    let get = |name: &str| raw(name).filter(|s| !s.is_empty());
    let q = get("q").map(|s| s.trim().to_owned()).unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(
            "search.query_too_long",
            "搜索词最多 100 个字",
            "The search text may have at most 100 characters",
        ));
    }
    let explicit_page = raw("page").is_some();
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
    let cursor = get("cursor");
    if cursor.is_none() && u64::from(page) * u64::from(size) > u64::from(MAX_WINDOW) {
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
    let mut query = SearchQuery {
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
        after: None,
    };
    if let Some(cursor) = cursor {
        if explicit_page {
            return Err(bad(
                "search.cursor_with_page",
                "cursor 与 page 只能二选一",
                "Send either cursor or page, not both",
            ));
        }
        let c = Cursor::decode(&cursor)
            .filter(|c| c.h == fingerprint(&query) && query.sort.fits(&c.a) && c.p >= 2)
            .ok_or_else(|| {
                bad(
                    "search.invalid_cursor",
                    "cursor 无效：请使用上一页返回的 next_cursor，且搜索条件与 size 不变",
                    "cursor is not valid: send the next_cursor of the page before, with the same search and size",
                )
            })?;
        query.page = c.p;
        query.after = Some(c.a);
    }
    Ok(query)
}

/// The longest cursor accepted, in bytes.
const MAX_CURSOR: usize = 1024;

/// Where the next page starts: the last hit's sort values (`a`), the number of the page it
/// leads to (`p`) and the search it belongs to (`h`). Sent as base64url JSON: opaque to
/// clients, checked on the way back in.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Cursor {
    a: Vec<serde_json::Value>,
    p: u32,
    h: String,
}

impl Cursor {
    fn encode(&self) -> Option<String> {
        use base64::Engine as _;
        let json = serde_json::to_vec(self).ok()?;
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
    }

    fn decode(s: &str) -> Option<Cursor> {
        use base64::Engine as _;
        if s.len() > MAX_CURSOR {
            return None;
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// What a cursor must continue: every filter, the sort and the page size (not the page).
fn fingerprint(q: &SearchQuery) -> String {
    let canonical = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        q.tokens,
        q.category,
        q.skills,
        q.service_type.map(|t| t.as_str()),
        q.min_price,
        q.max_price,
        q.min_rating,
        q.max_delivery_days,
        q.sort,
        q.size
    );
    let mut digest = crate::crypto::sha256_hex(&canonical);
    digest.truncate(16);
    digest
}

/// The cursor of the page after this one, when there is one: a full page that has not yet
/// reached the total.
pub(crate) fn next_cursor(
    query: &SearchQuery,
    items: usize,
    total: u64,
    last: Option<Vec<serde_json::Value>>,
) -> Option<String> {
    let seen = u64::from(query.page) * u64::from(query.size);
    if items < query.size as usize || seen >= total {
        return None;
    }
    Cursor {
        a: last?,
        p: query.page.checked_add(1)?,
        h: fingerprint(query),
    }
    .encode()
}
