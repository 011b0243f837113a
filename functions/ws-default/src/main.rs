#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event(shared::api::realtime::default).await
}
