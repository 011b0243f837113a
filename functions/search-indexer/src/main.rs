#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::search::text::warm_up();
    shared::entry::event(shared::workers::search_indexer::handle).await
}
