use lambda_http::Request;
use serde::Serialize;

use crate::deps::Deps;
use crate::http::{ApiError, Reply};
use crate::i18n::Text;

/// `GET /health` [health]: the function is up and configured. Touches nothing else, so a
/// dependency outage does not take the health check down with it.
pub async fn health(_deps: &'static Deps, _req: Request) -> Result<Reply, ApiError> {
    Ok(Reply::ok(
        Text::new("服务正常", "OK"),
        HealthView {
            status: "ok",
            service: "gigbao",
            version: env!("CARGO_PKG_VERSION"),
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct HealthView {
    #[schema(example = "ok")]
    status: &'static str,
    #[schema(example = "gigbao")]
    service: &'static str,
    #[schema(example = "0.1.0")]
    version: &'static str,
}
