#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::event(shared::workers::ledger_reconciler::handle).await
}
