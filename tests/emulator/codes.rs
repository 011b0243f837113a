//! SMS codes and emailed tokens against the emulator: expiry, single use under concurrency.

use chrono::{Duration, Utc};
use futures_util::future::join_all;
use gigbao_tests::{deps_for, fresh_store};
use shared::store::CodeCheck;

#[tokio::test]
async fn an_expired_code_is_refused_even_before_ttl_deletes_it() {
    let deps = deps_for(fresh_store().await).await;
    let tag = deps.keys.code_tag("13800138000#signin", "123456").unwrap();
    deps.store
        .put_sms_code(
            "13800138000",
            "signin",
            &tag,
            Utc::now() - Duration::seconds(301),
        )
        .await
        .unwrap();
    let check = deps
        .store
        .check_sms_code(
            "13800138000",
            "signin",
            |t| deps.keys.code_matches("13800138000#signin", "123456", t),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(check, CodeCheck::Expired);
}

#[tokio::test]
async fn ten_parallel_uses_of_one_code_succeed_once() {
    let deps = deps_for(fresh_store().await).await;
    let now = Utc::now();
    let tag = deps.keys.code_tag("13900000000#signin", "246810").unwrap();
    deps.store
        .put_sms_code("13900000000", "signin", &tag, now)
        .await
        .unwrap();
    // Five tries are allowed, so at most five get to compare; exactly one may win.
    let results = join_all((0..10).map(|_| {
        deps.store.check_sms_code(
            "13900000000",
            "signin",
            |t| deps.keys.code_matches("13900000000#signin", "246810", t),
            now,
        )
    }))
    .await;
    let matched = results
        .iter()
        .filter(|r| matches!(r, Ok(CodeCheck::Matched)))
        .count();
    assert_eq!(matched, 1, "{results:?}");
}

#[tokio::test]
async fn a_code_for_one_phone_does_not_open_another() {
    let deps = deps_for(fresh_store().await).await;
    let now = Utc::now();
    // The MAC binds the code to its phone and purpose.
    let tag = deps.keys.code_tag("13800000001#signin", "111111").unwrap();
    assert!(!deps.keys.code_matches("13800000002#signin", "111111", &tag));
    assert!(!deps.keys.code_matches("13800000001#reset", "111111", &tag));
    deps.store
        .put_sms_code("13800000001", "signin", &tag, now)
        .await
        .unwrap();
    let other = deps
        .store
        .check_sms_code("13800000002", "signin", |_| true, now)
        .await
        .unwrap();
    assert_eq!(other, CodeCheck::Missing);
}
