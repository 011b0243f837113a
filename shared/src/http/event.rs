//! Reading API Gateway's event leniently: a request whose headers the HTTP library refuses is
//! read without those headers, and one that still cannot be read is refused with a 400 in the
//! envelope — never an invocation error, which API Gateway answers 500 or 502.

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::request::LambdaRequest;
use serde_json::Value;

use super::{ApiError, RequestMeta, envelope_error};
use crate::i18n::{Lang, Text};

/// The event as a request. API Gateway passes on header values with control characters (a
/// NUL, say) that `http` refuses; such headers (and such cookies) are left out, as if they
/// had not been sent. `Err` says why the event still cannot be read.
pub fn lenient_request(raw: &str) -> Result<LambdaRequest, String> {
    let first = match serde_json::from_str::<LambdaRequest>(raw) {
        Ok(request) => return Ok(request),
        Err(e) => e.to_string(),
    };
    let mut event: Value = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    if drop_unreadable(&mut event) == 0 {
        return Err(first);
    }
    serde_json::from_value::<LambdaRequest>(event).map_err(|e| e.to_string())
}

/// Removes the headers and cookies `http` cannot hold; returns how many.
fn drop_unreadable(event: &mut Value) -> usize {
    let mut dropped = 0;
    for field in ["headers", "multiValueHeaders"] {
        if let Some(headers) = event.get_mut(field).and_then(Value::as_object_mut) {
            let before = headers.len();
            headers.retain(|name, value| {
                let values: Vec<&str> = match value {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                lambda_http::http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                    && values
                        .iter()
                        .all(|v| lambda_http::http::HeaderValue::from_str(v).is_ok())
            });
            dropped += before - headers.len();
        }
    }
    if let Some(cookies) = event.get_mut("cookies").and_then(Value::as_array_mut) {
        let before = cookies.len();
        cookies.retain(|c| {
            c.as_str()
                .is_some_and(|c| lambda_http::http::HeaderValue::from_str(c).is_ok())
        });
        dropped += before - cookies.len();
    }
    dropped
}

/// The answer to an event that is not a request we can read.
pub fn malformed_request() -> ApiGatewayV2httpResponse {
    let meta = RequestMeta {
        lang: Lang::Zh,
        request_id: ulid::Ulid::new().to_string(),
    };
    let refusal = envelope_error(
        &ApiError::bad_request(
            "request.malformed",
            Text::new(
                "请求格式有误，无法读取",
                "The request is malformed and cannot be read",
            ),
        ),
        &meta,
    );
    let (parts, body) = refusal.into_parts();
    let mut answer = ApiGatewayV2httpResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.headers = parts.headers;
    answer.body = Some(body);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(headers: Value) -> String {
        serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/api/v1/health",
            "rawQueryString": "", "headers": headers, "isBase64Encoded": false,
            "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
                "http": {"method": "GET", "path": "/api/v1/health", "protocol": "HTTP/1.1",
                         "sourceIp": "203.0.113.7", "userAgent": "x"},
                "requestId": "r", "routeKey": "$default", "stage": "$default",
                "time": "24/Nov/2026:08:00:00 +0000", "timeEpoch": 1}
        })
        .to_string()
    }

    #[test]
    fn a_header_with_a_nul_is_left_out_and_the_rest_is_read() {
        let raw = event(serde_json::json!({"x-probe": "\u{0}", "accept-language": "en"}));
        assert!(serde_json::from_str::<LambdaRequest>(&raw).is_err());
        let request: lambda_http::Request = lenient_request(&raw).unwrap().into();
        assert!(request.headers().get("x-probe").is_none());
        assert_eq!(request.headers()["accept-language"], "en");
    }

    #[test]
    fn an_event_that_is_no_request_is_refused_in_the_envelope() {
        assert!(lenient_request(r#"{"hello": "world"}"#).is_err());
        let answer = malformed_request();
        assert_eq!(answer.status_code, 400);
        let Some(lambda_http::Body::Text(body)) = answer.body else {
            panic!("a text body");
        };
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], "request.malformed");
        assert_eq!(body["success"], false);
    }
}
