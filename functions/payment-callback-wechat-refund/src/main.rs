#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::http(shared::api::payments::callback_wechat_refund).await
}
