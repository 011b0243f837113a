//! A user's write never fails because our own background work touched the same item: while a
//! worker keeps bumping the version of the account or the service (levels, response metrics,
//! gallery images), the user's 实名认证 submission, profile edit and service edit still go
//! through, and keep what the worker wrote.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use chrono::Utc;
use gigbao_tests::{fresh_store, new_user};
use serde_json::json;
use shared::app::verification::{self, Submission};
use shared::domain::{User, UserType};
use shared::store::{MediaSlot, Store};

/// A busy worker writing to the same item every 100 ms until stopped (far more often than any
/// of ours does: a level or a metric is written hourly, a counter once per event); counts its
/// writes. Not much faster: an edit reads, then writes if nothing changed since, and under the
/// full suite's load one round trip to the emulator can take tens of milliseconds, so a writer
/// every 30 ms could outrun every retry (it did, once in CI-like load).
struct Hammer {
    stop: Arc<AtomicBool>,
    writes: Arc<AtomicU32>,
    task: tokio::task::JoinHandle<()>,
}

impl Hammer {
    fn start<F, Fut>(write: F) -> Hammer
    where
        F: Fn(u32) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = bool> + Send,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicU32::new(0));
        let (s, w) = (stop.clone(), writes.clone());
        let task = tokio::spawn(async move {
            let mut n = 0;
            while !s.load(Ordering::Relaxed) {
                n += 1;
                if write(n).await {
                    w.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Hammer { stop, writes, task }
    }

    /// Waits until the worker has written at least once (so what the user read is stale).
    async fn wait_for_first(&self) {
        while self.writes.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn finish(self) -> u32 {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap();
        self.writes.load(Ordering::Relaxed)
    }
}

/// The ranking worker's write: response metrics, which bump the account's version.
fn metrics_worker(store: Store, user: &User) -> Hammer {
    let id = user.id;
    Hammer::start(move |n| {
        let store = store.clone();
        async move {
            store
                .set_response_metrics(id, Default::default(), n % 24)
                .await
                .unwrap()
        }
    })
}

#[tokio::test]
async fn a_verification_submitted_while_a_worker_updates_the_account_goes_through() {
    // GIVEN a new freelancer, read before the ranking worker starts writing to the account
    let store = fresh_store().await;
    let user = new_user(&store, UserType::Freelancer).await;
    let hammer = metrics_worker(store.clone(), &user);
    hammer.wait_for_first().await;
    // WHEN they submit 实名认证 with that (now stale) read
    let vault = shared::crypto::PiiVault::new(&secrecy::SecretString::from(
        gigbao_tests::TEST_PII_KEY.to_owned(),
    ))
    .unwrap();
    let submitted = verification::submit(
        &store,
        &vault,
        user.clone(),
        Submission {
            real_name: shared::domain::RealName::parse("张三").unwrap(),
            id_number: shared::domain::IdNumber::parse(&gigbao_tests::fresh_id_number()).unwrap(),
            document_keys: vec![],
        },
        Utc::now(),
    )
    .await;
    let writes = hammer.finish().await;
    // THEN it is submitted (no conflict), and the worker's writes are all still there
    let summary = submitted.expect("submitted despite the worker");
    let after = store.get_user(user.id).await.unwrap().unwrap();
    assert_eq!(after.verification.unwrap().id, summary.id);
    // …every write is there: the worker's (its last value too) and the submission's.
    assert_eq!(after.version, user.version + u64::from(writes) + 1);
    assert_eq!(after.freelancer_profile.unwrap().response_time, writes % 24);
}

#[tokio::test]
async fn a_profile_edit_while_a_worker_updates_the_account_keeps_both() {
    let store = fresh_store().await;
    let user = new_user(&store, UserType::Freelancer).await;
    let hammer = metrics_worker(store.clone(), &user);
    hammer.wait_for_first().await;
    let mut last = user.clone();
    for n in 0..5 {
        let patch =
            json!({"freelancer_profile": {"bio": format!("第{n}版简介：十年品牌设计经验")}});
        last = shared::app::users::update_profile(
            &store,
            last,
            serde_json::from_value(patch.clone()).unwrap(),
            Utc::now(),
        )
        .await
        .expect("saved despite the worker");
    }
    let writes = hammer.finish().await;
    let after = store.get_user(user.id).await.unwrap().unwrap();
    let profile = after.freelancer_profile.unwrap();
    assert_eq!(profile.bio, "第4版简介：十年品牌设计经验");
    // The worker's last write survived the edits (they never wrote stale metrics back).
    assert_eq!(profile.response_time, writes % 24, "after {writes} writes");
}

#[tokio::test]
async fn a_service_edit_while_gallery_images_are_attached_goes_through() {
    let store = fresh_store().await;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let owner = new_user(&store, UserType::Freelancer).await;
    let body = json!({
        "title_zh": "专业品牌Logo设计，三天交付",
        "description_zh": "简洁易记的品牌标志设计，提供源文件和品牌规范。",
        "category": "logo-design",
        "packages": {"basic": {"price": "199.00", "description": "1 个方案", "delivery_days": 3}}
    });
    let service = shared::app::services::create(
        &store,
        &owner,
        serde_json::from_value(body.clone()).unwrap(),
        Utc::now(),
    )
    .await
    .unwrap();
    // The file worker attaching the seller's uploads (each bumps the service's version).
    let id = service.id;
    let worker_store = store.clone();
    let hammer = Hammer::start(move |n| {
        let store = worker_store.clone();
        async move {
            store
                .attach_service_media(id, MediaSlot::Video, &format!("media/{id}/v{n}.mp4"), 5)
                .await
                .unwrap()
        }
    });
    hammer.wait_for_first().await;
    let files = gigbao_tests::stack_files().await;
    for n in 0..5 {
        let patch =
            json!({"description_zh": format!("第{n}版：简洁易记的品牌标志设计，提供源文件。")});
        shared::app::services::update(
            (&store, &files),
            owner.id,
            id,
            serde_json::from_value(patch.clone()).unwrap(),
            Utc::now(),
        )
        .await
        .expect("saved despite the worker");
    }
    let writes = hammer.finish().await;
    let after = store.get_service(id, true).await.unwrap().unwrap();
    assert_eq!(
        after.content.description_zh.as_deref(),
        Some("第4版：简洁易记的品牌标志设计，提供源文件。")
    );
    // The last video the worker attached is the one the service has.
    assert_eq!(
        after.content.video.as_deref(),
        Some(format!("media/{id}/v{writes}.mp4").as_str())
    );
}
