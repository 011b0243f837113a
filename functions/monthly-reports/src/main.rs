#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event_needing(
        &["REPORTS_QUEUE_URL"],
        shared::workers::monthly_reports::handle,
    )
    .await
}
