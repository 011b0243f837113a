#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::static_http(shared::api::openapi::serve).await
}
