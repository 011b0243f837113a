#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::http_needing(&["MEDIA_BUCKET"], shared::api::briefs::attachment).await
}
