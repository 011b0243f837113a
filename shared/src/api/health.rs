use lambda_http::Request;
use serde::Serialize;

use crate::deps::Deps;
use crate::http::route as r;
use crate::http::{ApiError, Reply};
use crate::i18n::Text;

/// When this function instance first answered: a new instance (after a deployment, a cold
/// start, or locally a rebuild by `cargo lambda watch`) answers with a new time.
static INSTANCE_STARTED: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::domain::rfc3339(&chrono::Utc::now()));

/// `GET /health` [health]: the function is up and configured. Touches nothing else, so a
/// dependency outage does not take the health check down with it.
pub async fn health(_deps: &'static Deps, _req: Request) -> Result<Reply, ApiError> {
    Ok(Reply::ok(
        Text::new("服务正常", "OK"),
        HealthView {
            status: "ok",
            service: "gigbao",
            version: env!("CARGO_PKG_VERSION"),
            instance_started_at: INSTANCE_STARTED.clone(),
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
    /// When this instance of the function first answered.
    #[schema(example = "2026-12-03T08:00:00Z")]
    instance_started_at: String,
}

/// The HTTP API's `$default` route [not-found]: every request no route takes — an unknown
/// path, or a known path with a method it does not have — is answered 404 in the envelope,
/// `route.not_found`, in the caller's language. Needs nothing but the request.
pub fn not_found(req: &Request) -> lambda_http::Response<lambda_http::Body> {
    let meta = crate::http::RequestMeta::of(req);
    tracing::info!(
        method = %req.method(),
        path = %req.uri().path(),
        status = 404,
        code = "route.not_found",
        "refused"
    );
    crate::http::envelope_error(&ApiError::route_not_found(), &meta)
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "GET",
            "/health",
            "health",
            Public,
            "platform",
            "健康检查 / Health",
        )
        .ok(r::one::<HealthView>),
    ]
}
