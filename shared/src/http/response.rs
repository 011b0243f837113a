use chrono::{SecondsFormat, Utc};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::{ApiError, RequestMeta};
use crate::i18n::{Lang, Text};

/// A successful answer: status, bilingual message and data, rendered into the envelope.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    message: Text,
    data: Value,
    /// A plain-text body instead of the envelope (what a gateway expects from a callback).
    plain: Option<&'static str>,
}

impl Reply {
    pub fn ok(message: Text, data: impl Serialize) -> Reply {
        Reply::with_status(StatusCode::OK, message, data)
    }

    pub fn created(message: Text, data: impl Serialize) -> Reply {
        Reply::with_status(StatusCode::CREATED, message, data)
    }

    /// Any success status with data (`202` with what was started).
    pub fn with(status: StatusCode, message: Text, data: impl Serialize) -> Reply {
        Reply::with_status(status, message, data)
    }

    pub fn accepted(message: Text) -> Reply {
        Reply::with_status(StatusCode::ACCEPTED, message, Value::Null)
    }

    /// `200 text/plain` with `body`: Alipay's notifications want exactly `success`.
    pub fn plain(body: &'static str) -> Reply {
        Reply {
            status: StatusCode::OK,
            message: Text::new("", ""),
            data: Value::Null,
            plain: Some(body),
        }
    }

    pub fn no_content() -> Reply {
        Reply::with_status(StatusCode::NO_CONTENT, Text::new("", ""), Value::Null)
    }

    fn with_status(status: StatusCode, message: Text, data: impl Serialize) -> Reply {
        // Serialising our own view types cannot fail; if it ever did, say so rather than panic.
        let data = serde_json::to_value(data)
            .unwrap_or_else(|e| json!({ "serialization_error": e.to_string() }));
        Reply {
            status,
            message,
            data,
            plain: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn into_response(self, lang: Lang) -> Response<Body> {
        if self.status == StatusCode::NO_CONTENT {
            return response(self.status, Body::Empty);
        }
        if let Some(text) = self.plain {
            let mut resp = Response::new(Body::Text(text.to_owned()));
            *resp.status_mut() = self.status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            return resp;
        }
        let body = json!({
            "success": true,
            "message": self.message.get(lang),
            "data": self.data,
            "timestamp": timestamp(),
        });
        response(self.status, Body::Text(body.to_string()))
    }
}

/// The current time as the API writes it: RFC 3339 UTC to the second.
pub fn timestamp() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Renders an error in the envelope from `api.md`.
pub fn envelope_error(err: &ApiError, meta: &RequestMeta) -> Response<Body> {
    let errors = err.errors.as_ref().map(|fields| {
        fields
            .0
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    json!(v.iter().map(|t| t.get(meta.lang)).collect::<Vec<_>>()),
                )
            })
            .collect::<serde_json::Map<_, _>>()
    });
    let body = json!({
        "success": false,
        "message": err.message.get(meta.lang),
        "code": err.code,
        "errors": errors,
        "request_id": meta.request_id,
        "timestamp": timestamp(),
    });
    let mut resp = response(err.status, Body::Text(body.to_string()));
    if let Some(secs) = err.retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

fn response(status: StatusCode, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    if status != StatusCode::NO_CONTENT {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    resp
}
