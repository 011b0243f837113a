#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event_needing(
        &["MEDIA_BUCKET"],
        shared::workers::user_data_exporter::handle,
    )
    .await
}
