//! Pushes to open WebSockets through API Gateway's management API (`POST @connections/{id}`).
//! Every open connection of a user gets the event; a connection API Gateway no longer knows
//! (`GoneException`: the client went away without a `$disconnect`) is forgotten.

use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use chrono::Utc;
use serde::Serialize;

use crate::domain::UserId;
use crate::store::Store;

/// What a client receives: `{"type": "message" | "notification" | "order", "data": {…}}`.
#[derive(Debug, Serialize)]
pub struct Push<T: Serialize> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub data: T,
}

/// The push port: `None` where this function has no `WS_ENDPOINT` (nothing is pushed).
#[derive(Debug, Clone)]
pub struct Pusher {
    client: Option<aws_sdk_apigatewaymanagement::Client>,
}

impl Pusher {
    pub fn new(aws: &aws_config::SdkConfig, endpoint: Option<&str>) -> Pusher {
        Pusher {
            client: endpoint.map(|url| {
                let mut config =
                    aws_sdk_apigatewaymanagement::config::Builder::from(aws).endpoint_url(url);
                if crate::aws_calls::enabled() {
                    config = config.interceptor(crate::aws_calls::RecordAwsCalls);
                }
                aws_sdk_apigatewaymanagement::Client::from_conf(config.build())
            }),
        }
    }

    pub fn disabled() -> Pusher {
        Pusher { client: None }
    }

    /// Sends `event` to every open connection of `user`. Returns how many received it (0:
    /// the user is offline). Failures are logged, never returned: a push is best effort and
    /// must not fail the write that caused it.
    pub async fn push<T: Serialize>(&self, store: &Store, user: UserId, event: &Push<T>) -> usize {
        let connections = self.connections(store, user).await;
        self.send(store, &connections, event).await
    }

    /// The user's open connections (none where this function does not push).
    pub async fn connections(&self, store: &Store, user: UserId) -> Vec<String> {
        if self.client.is_none() {
            return vec![];
        }
        store
            .user_connections(user, Utc::now())
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "connections not read");
                vec![]
            })
    }

    /// Sends `event` to these connections (of one user, read once for several pushes);
    /// returns how many received it.
    pub async fn send<T: Serialize>(
        &self,
        store: &Store,
        connections: &[String],
        event: &Push<T>,
    ) -> usize {
        let Some(client) = &self.client else {
            return 0;
        };
        if connections.is_empty() {
            return 0;
        }
        let body = match serde_json::to_vec(event) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "push not encoded");
                return 0;
            }
        };
        let sends = connections.iter().map(|id| {
            let body = body.clone();
            async move {
                let result = client
                    .post_to_connection()
                    .connection_id(id)
                    .data(Blob::new(body))
                    .send()
                    .await;
                (id, result)
            }
        });
        let mut delivered = 0;
        for (id, result) in futures_util::future::join_all(sends).await {
            match result {
                Ok(_) => delivered += 1,
                Err(e)
                    if matches!(
                        e.as_service_error(),
                        Some(PostToConnectionError::GoneException(_))
                    ) =>
                {
                    tracing::info!(connection = %id, "connection gone; forgotten");
                    if let Err(e) = store.delete_connection(id).await {
                        tracing::error!(error = %e, "gone connection not deleted");
                    }
                }
                Err(e) => {
                    tracing::error!(connection = %id, error = %aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e), "push failed");
                }
            }
        }
        delivered
    }
}
