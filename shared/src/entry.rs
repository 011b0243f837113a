//! The runtime edge every `main.rs` calls: build [`Deps`] once, then serve events. A handler
//! panic becomes an opaque 500 (HTTP) or a failed batch item (workers), never a crashed
//! process or a 502.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use lambda_http::{Body, Request, Response, service_fn};
use tracing::Instrument;

use crate::deps::Deps;
use crate::http::{ApiError, Reply, RequestMeta, envelope_error};
use crate::telemetry;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn deps(needs: &[&'static str]) -> Result<&'static Deps, BoxError> {
    let deps = Deps::from_env()
        .await
        .and_then(|d| d.config.check_needs(needs).map(|()| d))
        .map_err(|e| {
            tracing::error!(error = %e, "cold start failed");
            e
        })?;
    // Lives as long as the process, like the Lambda execution environment it serves.
    Ok(Box::leak(Box::new(deps)))
}

/// Serves an HTTP API route with `handler`.
pub async fn http<H, F>(handler: H) -> Result<(), BoxError>
where
    H: Fn(&'static Deps, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<Reply, ApiError>> + Send + 'static,
{
    http_needing(&[], handler).await
}

/// [`http`] for a route that also needs the variables `needs` names (checked at cold start).
pub async fn http_needing<H, F>(needs: &[&'static str], handler: H) -> Result<(), BoxError>
where
    H: Fn(&'static Deps, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<Reply, ApiError>> + Send + 'static,
{
    telemetry::init();
    let deps = deps(needs).await?;
    serve_http(service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(respond(deps, req, handler).await)
    }))
    .await
}

/// Serves a route whose answer needs nothing but the request (no table, no secrets): no
/// [`Deps`] are built, so the cold start is the runtime's alone.
pub async fn static_http(handler: fn(&Request) -> Response<Body>) -> Result<(), BoxError> {
    telemetry::init();
    serve_http(service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(handler(&req))
    }))
    .await
}

/// What `lambda_http::run` does, except that an event it cannot read is answered 400 in the
/// envelope instead of failing the invocation (which API Gateway answers 500 or 502). API
/// Gateway passes on header values the HTTP library refuses — a NUL or another control
/// character —, and `lambda_http` fails on the whole event before any code of ours runs.
async fn serve_http<S>(handler: S) -> Result<(), BoxError>
where
    S: lambda_http::Service<Request, Response = Response<Body>, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    use lambda_http::tower::ServiceExt;
    let adapter = lambda_http::Adapter::from(handler);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: lambda_runtime::LambdaEvent<Box<serde_json::value::RawValue>>| {
            let adapter = adapter.clone();
            async move {
                let (raw, context) = (ev.payload, ev.context);
                match crate::http::lenient_request(raw.get()) {
                    Ok(request) => adapter
                        .oneshot(lambda_runtime::LambdaEvent::new(request, context))
                        .await
                        .map(Answer::Handled),
                    Err(why) => {
                        tracing::info!(status = 400, code = "request.malformed", why, "refused");
                        Ok(Answer::Refused(Box::new(crate::http::malformed_request())))
                    }
                }
            }
        },
    ))
    .await
}

/// The function's answer: what the handler made of the request, or the refusal of an event
/// that is not a request we can read.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Answer<L> {
    Handled(L),
    Refused(Box<aws_lambda_events::apigw::ApiGatewayV2httpResponse>),
}

/// Runs one request through `handler` and renders the envelope. Also used by tests to call a
/// handler in-process.
pub async fn respond<H, F>(deps: &'static Deps, req: Request, handler: H) -> Response<Body>
where
    H: Fn(&'static Deps, Request) -> F,
    F: Future<Output = Result<Reply, ApiError>>,
{
    let meta = RequestMeta::of(&req);
    let span = tracing::info_span!("request", request_id = %meta.request_id);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // Boxed: the handler's future is deep; the box keeps each function's async state machine
    // shallow for the compiler's layout queries.
    let (outcome, operations) = telemetry::recording_dynamodb(
        AssertUnwindSafe(Box::pin(handler(deps, req)).instrument(span.clone())).catch_unwind(),
    )
    .await;
    let _enter = span.enter();
    let dynamodb_calls = operations.len();
    let dynamodb_operations = operations.join(",");
    match outcome {
        Ok(Ok(reply)) => {
            tracing::info!(%method, %path, status = reply.status().as_u16(), dynamodb_calls, dynamodb_operations, "handled");
            reply.into_response(meta.lang)
        }
        Ok(Err(err)) => {
            if err.status.is_server_error() {
                tracing::error!(%method, %path, status = err.status.as_u16(), dynamodb_calls, dynamodb_operations, cause = err.cause.as_deref().unwrap_or(""), "request failed");
            } else {
                tracing::info!(%method, %path, status = err.status.as_u16(), dynamodb_calls, dynamodb_operations, code = err.code, "refused");
            }
            envelope_error(&err, &meta)
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(%method, %path, panic = %what, "handler panicked");
            envelope_error(&ApiError::internal("panic"), &meta)
        }
    }
}

/// Serves an event-driven function (SQS batch, DynamoDB stream batch) with `handler`.
pub async fn event<E, R, H, F>(handler: H) -> Result<(), BoxError>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    H: Fn(&'static Deps, E) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<R, BoxError>> + Send + 'static,
{
    event_needing(&[], handler).await
}

/// [`event`] for a worker that also needs the variables `needs` names (checked at cold start).
pub async fn event_needing<E, R, H, F>(needs: &[&'static str], handler: H) -> Result<(), BoxError>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    H: Fn(&'static Deps, E) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<R, BoxError>> + Send + 'static,
{
    telemetry::init();
    let deps = deps(needs).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |ev: lambda_runtime::LambdaEvent<E>| async move {
            let span = tracing::info_span!("event", request_id = %ev.context.request_id);
            AssertUnwindSafe(Box::pin(handler(deps, ev.payload)).instrument(span))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err("worker panicked".into()))
        },
    ))
    .await
}
