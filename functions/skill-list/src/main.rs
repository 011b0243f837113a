#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::http(shared::api::services::skill_list).await
}
