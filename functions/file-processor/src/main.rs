#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event_needing(&["MEDIA_BUCKET"], shared::workers::file_processor::handle).await
}
