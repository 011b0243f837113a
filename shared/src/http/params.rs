//! Path and query parameters.

use lambda_http::{Request, RequestExt};

use super::ApiError;
use crate::i18n::Text;

/// A path parameter, as API Gateway (or `cargo lambda watch`) matched it.
pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
}

/// An id from the path; an id that cannot exist is the same 404 as one that does not.
pub fn path_id<T: std::str::FromStr>(
    req: &Request,
    name: &str,
    not_found: fn() -> ApiError,
) -> Result<T, ApiError> {
    path_param(req, name)
        .and_then(|s| s.parse().ok())
        .ok_or_else(not_found)
}

/// A text query parameter; given empty, it counts as not given.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    query_raw(req, name).filter(|s| !s.is_empty())
}

/// A query parameter as sent, empty included: for numbers and flags, where `?limit=` is not
/// a number (the OpenAPI document says so) and is refused rather than taken as absent.
pub fn query_raw(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// `?limit=` (default 20, 1–100) and `?cursor=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub limit: i32,
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn of(req: &Request) -> Result<ListParams, ApiError> {
        let limit = match query_raw(req, "limit") {
            None => 20,
            Some(s) => match s.parse::<i32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_request(
                        "request.invalid_limit",
                        Text::new(
                            "limit 须为 1 到 100 的整数",
                            "limit must be a whole number from 1 to 100",
                        ),
                    ));
                }
            },
        };
        Ok(ListParams {
            limit,
            cursor: query_param(req, "cursor"),
        })
    }
}

/// A boolean query parameter: `true`/`false` (also `1`/`0`).
pub fn query_bool(req: &Request, name: &'static str) -> Result<Option<bool>, ApiError> {
    match query_raw(req, name).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_request(
            "request.invalid_query",
            Text::owned(
                format!("查询参数 {name} 须为 true 或 false"),
                format!("Query parameter {name} must be true or false"),
            ),
        )),
    }
}
