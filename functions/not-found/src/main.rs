#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::static_http(shared::api::health::not_found).await
}
