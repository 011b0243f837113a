#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::search::text::warm_up();
    shared::entry::http(shared::api::briefs::search).await
}
