#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event_needing(
        &[
            "NOTIFICATIONS_QUEUE_URL",
            "STATS_QUEUE_URL",
            "SEARCH_QUEUE_URL",
            "ABUSE_QUEUE_URL",
            "EXPORTS_QUEUE_URL",
        ],
        shared::workers::stream_router::handle,
    )
    .await
}
