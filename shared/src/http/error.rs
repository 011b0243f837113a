use std::collections::BTreeMap;

use lambda_http::http::StatusCode;

use crate::i18n::Text;

/// Per-field validation messages, keyed by the request field name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<Text>>);

impl FieldErrors {
    pub fn new() -> FieldErrors {
        FieldErrors::default()
    }

    pub fn add(&mut self, field: &str, text: Text) {
        self.0.entry(field.to_owned()).or_default().push(text);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs a parse step, keeping the value or recording the error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Text>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(t) => {
                self.add(field, t);
                None
            }
        }
    }

    /// Records "required" for a missing field and passes present values through.
    pub fn required<'a>(&mut self, field: &str, value: Option<&'a str>) -> Option<&'a str> {
        match value {
            Some(v) if !v.trim().is_empty() => Some(v),
            _ => {
                self.add(field, Text::new("此字段为必填项", "This field is required"));
                None
            }
        }
    }

    /// `Ok(())` when nothing was recorded, else the 422 error carrying every message.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self))
        }
    }
}

/// An error answered to the client. 4xx carry a stable `code` and a bilingual message;
/// 5xx are opaque and keep their cause for the log only.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Text,
    pub errors: Option<Box<FieldErrors>>,
    pub retry_after: Option<u64>,
    /// Logged once, never sent.
    pub cause: Option<Box<str>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: Text) -> ApiError {
        ApiError {
            status,
            code,
            message,
            errors: None,
            retry_after: None,
            cause: None,
        }
    }

    pub fn with_field(mut self, field: &str, text: Text) -> ApiError {
        self.errors
            .get_or_insert_with(|| Box::new(FieldErrors::new()))
            .add(field, text);
        self
    }

    /// 422: the JSON was well-formed but broke a rule.
    pub fn validation(errors: FieldErrors) -> ApiError {
        ApiError {
            errors: Some(Box::new(errors)),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation.failed",
                Text::new("提交的数据有误，请检查后重试", "Some fields are invalid"),
            )
        }
    }

    pub fn bad_request(code: &'static str, message: Text) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: Text) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: Text) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404 for objects that do not exist *or are not the caller's*.
    pub fn not_found(code: &'static str, message: Text) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: Text) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after_secs.max(1)),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                Text::new(
                    "操作过于频繁，请稍后再试",
                    "Too many requests; please try again later",
                ),
            )
        }
    }

    /// 500 with an opaque message; `cause` goes to the log with the request id.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError {
            cause: Some(cause.to_string().into_boxed_str()),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                Text::new(
                    "服务器内部错误，请稍后再试",
                    "Internal server error; please try again later",
                ),
            )
        }
    }

    pub fn route_not_found() -> ApiError {
        ApiError::not_found(
            "route.not_found",
            Text::new("请求的接口不存在", "No such endpoint"),
        )
    }
}

impl From<crate::store::ListError> for ApiError {
    fn from(e: crate::store::ListError) -> ApiError {
        match e {
            crate::store::ListError::BadCursor(_) => ApiError::bad_request(
                "request.invalid_cursor",
                Text::new(
                    "分页游标无效，请从第一页重新开始",
                    "The cursor is not valid for this list; start again from the first page",
                ),
            ),
            crate::store::ListError::Store(e) => ApiError::internal(e),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        ApiError::internal(e)
    }
}
