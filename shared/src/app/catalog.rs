//! The catalogue, read once per warm Lambda and kept for a few minutes: it changes when
//! operators load a new seed, not per request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::catalog::Catalog;
use crate::store::{Store, StoreError};

/// How long a warm function trusts its copy.
const TTL: Duration = Duration::from_secs(300);

type Cached = (String, Instant, Arc<Catalog>);

static CACHE: Mutex<Option<Cached>> = Mutex::new(None);

/// The catalogue of `store`'s table: from memory when fresh, else one query.
pub async fn catalog(store: &Store) -> Result<Arc<Catalog>, StoreError> {
    if let Ok(guard) = CACHE.lock()
        && let Some((table, at, c)) = guard.as_ref()
        && table == store.table()
        && at.elapsed() < TTL
    {
        return Ok(c.clone());
    }
    let fresh = Arc::new(store.catalog().await?);
    if let Ok(mut guard) = CACHE.lock() {
        *guard = Some((store.table().to_owned(), Instant::now(), fresh.clone()));
    }
    Ok(fresh)
}
