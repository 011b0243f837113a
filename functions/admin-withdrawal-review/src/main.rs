#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::http(shared::api::payments::admin_withdrawal_review).await
}
