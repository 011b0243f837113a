//! The HTTP edge: typed request parsing, the response envelope from `api.md`, and [`ApiError`]
//! → status + stable `code` + message in the caller's language.

mod error;
mod event;
mod params;
mod request;
mod response;
pub(crate) mod route;

pub use error::{ApiError, FieldErrors};
pub use event::{lenient_request, malformed_request};
pub use params::{ListParams, path_id, path_param, query_bool, query_param, query_raw};
pub use request::{MAX_JSON_BODY, RequestMeta, client_ip, header, json_body, json_request};
pub use response::{Reply, envelope_error, timestamp};
