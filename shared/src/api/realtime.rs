//! The WebSocket API's three routes. `$connect` checks the access token in the query string
//! (`wss://…/ws?token=<access>`) and remembers the connection for 2 hours; `$disconnect`
//! forgets it; `$default` answers `{"action": "ping"}` with `{"type": "pong"}`.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use chrono::{Duration, Utc};

use crate::app::access;
use crate::auth::caller_of_token;
use crate::deps::Deps;
use crate::entry::BoxError;

/// How long a connection item lives (API Gateway closes a WebSocket after 2 hours).
const CONNECTION_TTL_HOURS: i64 = 2;

fn answer(status: i64, body: serde_json::Value) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.body = Some(Body::Text(body.to_string()));
    r
}

/// `ws-connect`: 200 accepts the WebSocket; anything else refuses it.
pub async fn connect(
    deps: &'static Deps,
    ev: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, BoxError> {
    let Some(connection) = ev.request_context.connection_id.as_deref() else {
        return Ok(answer(400, serde_json::json!({"code": "ws.no_connection"})));
    };
    let refused = |code: &str| answer(401, serde_json::json!({ "code": code }));
    let Some(token) = ev.query_string_parameters.first("token") else {
        return Ok(refused("auth.missing_token"));
    };
    let caller = match caller_of_token(token, &deps.keys) {
        Ok(c) => c,
        Err(e) => return Ok(refused(e.code)),
    };
    let user = match access::signed_in(&deps.store, &caller).await {
        Ok(u) => u,
        Err(access::AccessError::Store(e)) => return Err(e.into()),
        Err(_) => return Ok(refused("auth.account_unavailable")),
    };
    let now = Utc::now();
    deps.store
        .put_connection(
            connection,
            user.id,
            now,
            now + Duration::hours(CONNECTION_TTL_HOURS),
        )
        .await?;
    tracing::info!(user = %user.id, "connected");
    Ok(answer(200, serde_json::json!({"type": "connected"})))
}

/// `ws-disconnect`.
pub async fn disconnect(
    deps: &'static Deps,
    ev: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, BoxError> {
    if let Some(connection) = ev.request_context.connection_id.as_deref() {
        deps.store.delete_connection(connection).await?;
    }
    Ok(answer(200, serde_json::json!({"type": "disconnected"})))
}

/// `ws-default`: every message the client sends. The answer body is sent back on the socket
/// (the route has a route response).
pub async fn default(
    _deps: &'static Deps,
    ev: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, BoxError> {
    let action = ev
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_owned));
    Ok(match action.as_deref() {
        Some("ping") => answer(200, serde_json::json!({"type": "pong"})),
        _ => answer(
            200,
            serde_json::json!({
                "type": "error",
                "code": "ws.unknown_action",
                "message": "Send {\"action\": \"ping\"}; everything else comes from the HTTP API",
                "message_zh": "仅支持 {\"action\": \"ping\"}，其余操作请使用 HTTP 接口",
            }),
        ),
    })
}
