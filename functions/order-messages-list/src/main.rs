#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::http(shared::api::messaging::order_messages).await
}
