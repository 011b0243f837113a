#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event(shared::workers::stats_updater::handle).await
}
