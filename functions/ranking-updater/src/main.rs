#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event(shared::workers::ranking_updater::handle).await
}
