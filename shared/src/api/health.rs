use lambda_http::Request;
use serde_json::json;

use crate::deps::Deps;
use crate::http::{ApiError, Reply};
use crate::i18n::Text;

/// `GET /health` [health]: the function is up and configured. Touches nothing else, so a
/// dependency outage does not take the health check down with it.
pub async fn health(_deps: &'static Deps, _req: Request) -> Result<Reply, ApiError> {
    Ok(Reply::ok(
        Text::new("服务正常", "OK"),
        json!({ "status": "ok", "service": "gigbao", "version": env!("CARGO_PKG_VERSION") }),
    ))
}
