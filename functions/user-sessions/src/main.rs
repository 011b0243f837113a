#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::http(shared::api::users::sessions_list).await
}
