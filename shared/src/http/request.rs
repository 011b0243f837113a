use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::i18n::{Lang, Text};

/// JSON bodies larger than this are refused with 413 before parsing.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// What every handler needs to know about a request besides its body.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub lang: Lang,
    pub request_id: String,
}

impl RequestMeta {
    pub fn of(req: &Request) -> RequestMeta {
        let lang = Lang::from_accept_language(header(req, "accept-language"));
        let request_id = req
            .lambda_context_ref()
            .map(|c| c.request_id.clone())
            .filter(|id| !id.is_empty())
            .or_else(|| {
                req.request_context_ref().and_then(|c| match c {
                    lambda_http::request::RequestContext::ApiGatewayV2(c) => c.request_id.clone(),
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
            })
            .unwrap_or_else(|| ulid::Ulid::new().to_string());
        RequestMeta { lang, request_id }
    }
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The caller's IP: API Gateway's `sourceIp`. Where the stack runs locally every request comes
/// from 127.0.0.1, so `trust_forwarded_for` (never set in production) lets tests and tools name
/// a client with `X-Forwarded-For`.
pub fn client_ip(req: &Request, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(fwd) = header(req, "x-forwarded-for")
        && let Some(first) = fwd
            .split(',')
            .next()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    {
        return first.to_owned();
    }
    req.request_context_ref()
        .and_then(|c| match c {
            lambda_http::request::RequestContext::ApiGatewayV2(c) => c.http.source_ip.clone(),
            #[allow(unreachable_patterns)]
            _ => None,
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Parses the request body as JSON into `T`: 415 unless the content type is JSON, 413 above
/// [`MAX_JSON_BODY`], 400 for an empty or malformed body.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let content_type = header(req, "content-type").unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            Text::new(
                "请求体须为 JSON（Content-Type: application/json）",
                "The request body must be JSON (Content-Type: application/json)",
            ),
        ));
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(s) => s.as_bytes(),
        Body::Binary(b) => b,
        #[allow(unreachable_patterns)]
        _ => &[],
    };
    if bytes.len() > MAX_JSON_BODY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request.too_large",
            Text::owned(
                format!("请求体过大（上限 {} KB）", MAX_JSON_BODY / 1024),
                format!(
                    "The request body is too large (limit {} KB)",
                    MAX_JSON_BODY / 1024
                ),
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "request.empty_body",
            Text::new("请求体不能为空", "The request body is empty"),
        ));
    }
    serde_json::from_slice(bytes).map_err(malformed)
}

/// [`json_body`], with the body also as canonical JSON text (keys sorted, no spaces): what an
/// idempotency key's request hash covers, whatever the client's key order and spacing.
pub fn json_request<T: DeserializeOwned>(req: &Request) -> Result<(T, String), ApiError> {
    let value: serde_json::Value = json_body(req)?;
    let canonical = value.to_string();
    let body = T::deserialize(value).map_err(malformed)?;
    Ok((body, canonical))
}

fn malformed(e: serde_json::Error) -> ApiError {
    let (zh, en) = if e.is_data() {
        (
            format!("请求体字段类型不正确：{e}"),
            format!("A field in the request body has the wrong type: {e}"),
        )
    } else {
        (
            format!(
                "请求体不是有效的 JSON（第 {} 行第 {} 列）",
                e.line(),
                e.column()
            ),
            format!(
                "The request body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    };
    ApiError::bad_request("request.malformed_json", Text::owned(zh, en))
}
