//! `GET /services/search` [service-search]: full-text search with filters and sorts.

use lambda_http::Request;
use serde::Serialize;

use super::search_query::{next_cursor, parse, search_unavailable};
use crate::deps::Deps;
use crate::http::route as r;
use crate::http::{ApiError, Reply};
use crate::i18n::Text;
use crate::search::ServiceCard;
#[cfg(test)]
use crate::{
    domain::service::ServiceType,
    search::{SearchQuery, Sort},
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Results {
    items: Vec<ServiceCard>,
    total: u64,
    page: u32,
    size: u32,
    /// Send it back as `cursor` for the next page (any depth, beyond the 10,000th result);
    /// `null` on the last page.
    next_cursor: Option<String>,
}

pub async fn search(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let query = parse(|name| crate::http::query_raw(&req, name))?;
    let page = crate::app::search::search(&deps.search, &query)
        .await
        .map_err(search_unavailable)?;
    let next_cursor = next_cursor(&query, page.items.len(), page.total, page.last);
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        Results {
            items: page
                .items
                .into_iter()
                .map(|mut card| {
                    card.thumbnail_url = card
                        .image
                        .as_deref()
                        .and_then(crate::config::public_media_url);
                    card
                })
                .collect(),
            total: page.total,
            page: query.page,
            size: query.size,
            next_cursor,
        },
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/services/search",
            "service-search",
            Public,
            "services",
            "搜索服务 / Search services",
        )
        .query(&super::search_query::WORD_PARAMS)
        .query(&[
            ("service_type", r::Type::String, "fixed | hourly | package"),
            ("min_price", r::Type::String, "例如 100.00 / e.g. 100.00"),
            ("max_price", r::Type::String, "例如 500.00 / e.g. 500.00"),
            ("min_rating", r::Type::Number, "0–5"),
            ("max_delivery_days", r::Type::Integer, "1–90"),
            (
                "sort",
                r::Type::String,
                "relevance | price_low | price_high | rating | newest",
            ),
        ])
        .query(&super::search_query::PAGING_PARAMS)
        .ok(r::one::<Results>)
        .errors(&[503]),
    ]
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

    /// The cursor of page `page` of `pairs`, as the answer to it would give it.
    fn cursor_after(pairs: &[(&str, &str)], last: serde_json::Value) -> String {
        let q = parse_of(pairs).unwrap();
        let last = last.as_array().cloned();
        next_cursor(&q, q.size as usize, 1_000_000, last).unwrap()
    }

    #[test]
    fn a_cursor_continues_its_own_search_at_any_depth() {
        let search = [
            ("q", "logo"),
            ("sort", "price_low"),
            ("size", "50"),
            ("page", "200"),
        ];
        let c = cursor_after(&search, serde_json::json!([19900, 1795507200000_i64, "s1"]));
        let next = parse_of(&[
            ("q", "logo"),
            ("sort", "price_low"),
            ("size", "50"),
            ("cursor", &c),
        ])
        .unwrap();
        // Page 201 (past the 10,000th hit) starts after the last hit of page 200.
        assert_eq!(next.page, 201);
        assert_eq!(
            next.after,
            Some(vec![
                serde_json::json!(19900),
                serde_json::json!(1795507200000_i64),
                serde_json::json!("s1")
            ])
        );
        // Another search, another size, or a page number besides: refused.
        for other in [
            vec![("q", "poster"), ("sort", "price_low"), ("size", "50")],
            vec![("q", "logo"), ("sort", "newest"), ("size", "50")],
            vec![("q", "logo"), ("sort", "price_low"), ("size", "20")],
            vec![
                ("q", "logo"),
                ("sort", "price_low"),
                ("size", "50"),
                ("min_price", "1"),
            ],
        ] {
            let mut pairs = other.clone();
            pairs.push(("cursor", &c));
            assert_eq!(code(&pairs), "search.invalid_cursor", "{other:?}");
        }
        assert_eq!(
            code(&[
                ("q", "logo"),
                ("sort", "price_low"),
                ("size", "50"),
                ("page", "3"),
                ("cursor", &c)
            ]),
            "search.cursor_with_page"
        );
        // Values that do not fit the sort (a forged cursor) are refused before any engine.
        let forged = cursor_after(&search, serde_json::json!(["cheap", 1, "s1"]));
        let pairs = [
            ("q", "logo"),
            ("sort", "price_low"),
            ("size", "50"),
            ("cursor", forged.as_str()),
        ];
        assert_eq!(code(&pairs), "search.invalid_cursor");
        // The last page has no cursor.
        let q = parse_of(&search).unwrap();
        assert_eq!(next_cursor(&q, 50, 10_000, Some(vec![])), None);
        assert_eq!(next_cursor(&q, 49, 1_000_000, Some(vec![])), None);
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
        assert_eq!(code(&[("cursor", "not a cursor")]), "search.invalid_cursor");
        assert!(parse_of(&[("page", "200"), ("size", "50")]).is_ok());
    }
}
