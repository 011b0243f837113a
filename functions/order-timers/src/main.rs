#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event(shared::workers::order_timers::handle).await
}
