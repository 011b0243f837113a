#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event_needing(&["MEDIA_BUCKET"], shared::workers::media_processor::handle).await
}
