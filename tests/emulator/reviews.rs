//! Reviews, their sums and the ranking run against MiniStack.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use serde_json::json;
use shared::app::orders::{self, Outcome};
use shared::app::{ranking, reviews};
use shared::domain::ReviewId;
use shared::domain::order::Order;
use shared::domain::ranking::SellerLevel;
use shared::domain::review::{Review, ReviewInput};
use shared::domain::service::Tier;
use shared::store::Store;
use shared::workers::WorkMessage;
use shared::workers::stats_updater;

use crate::orders::{Market, market_on, render};
use crate::search::sqs;

impl Market {
    /// An order of `tier` taken through pay, deliver and accept.
    async fn completed(&self, tier: Tier) -> Order {
        let o = self.place(tier).await;
        let now = Utc::now();
        match orders::pay_from_wallet(&self.store, &self.buyer, o.id, None, &render, now)
            .await
            .unwrap()
        {
            Outcome::Done(_) => {}
            other => panic!("{other:?}"),
        }
        orders::deliver(&self.store, &self.seller, o.id, "交付".into(), vec![], now)
            .await
            .unwrap();
        orders::accept(&self.store, &self.buyer, o.id, now)
            .await
            .unwrap()
    }

    /// The client's review of `order`, sealed (the seller has not reviewed the client).
    async fn sealed_review(&self, order: &Order, rating: u8) -> Review {
        let input = ReviewInput {
            rating,
            comment: "设计很用心，沟通顺畅".into(),
            comment_zh: None,
            is_public: true,
        };
        reviews::create(&self.store, &self.buyer, order.id, input, Utc::now())
            .await
            .unwrap()
    }

    /// The client's review of `order`, shown: the seller reviews the client too.
    async fn review(&self, order: &Order, rating: u8) -> Review {
        let sealed = self.sealed_review(order, rating).await;
        self.review_client(order).await;
        let shown = self
            .store
            .get_review(sealed.id, true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shown.sealed_until, None);
        shown
    }

    async fn review_client(&self, order: &Order) {
        reviews::review_client(
            &self.store,
            &self.seller,
            order.id,
            (4, "需求清楚".into()),
            Utc::now(),
        )
        .await
        .unwrap();
    }
}

fn changed(ids: &[ReviewId]) -> Vec<WorkMessage> {
    ids.iter()
        .map(|id| WorkMessage::ReviewChanged {
            review_id: id.to_string(),
        })
        .collect()
}

/// (service rating, reviews, rating sum; freelancer rating, total reviews).
async fn sums(m: &Market) -> (String, u64, u64, String, u32) {
    let s = m
        .store
        .get_service(m.service.id, true)
        .await
        .unwrap()
        .unwrap();
    let u = m.store.get_user(m.seller.id).await.unwrap().unwrap();
    let p = u.freelancer_profile.unwrap();
    (
        s.rating.to_string(),
        s.reviews_count,
        s.rating_sum,
        p.rating.to_string(),
        p.total_reviews,
    )
}

async fn set(store: &Store, pk: String, sk: &str, name: &str, value: AttributeValue) {
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk.into()))
        .update_expression("SET #n = :v")
        .expression_attribute_names("#n", name)
        .expression_attribute_values(":v", value)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn sums_are_exact_and_redelivered_or_racing_messages_change_nothing() {
    let m = market_on(gigbao_tests::fresh_store().await).await;
    let deps = gigbao_tests::deps_for(m.store.clone()).await;
    m.fund("1000.00").await;
    let mut ids = Vec::new();
    for rating in [5, 4, 4] {
        let o = m.completed(Tier::Basic).await;
        ids.push(m.review(&o, rating).await.id);
    }
    // Nothing is counted until the worker runs.
    assert_eq!(sums(&m).await, ("0.00".into(), 0, 0, "0.00".into(), 0));
    let event = sqs(&changed(&ids));
    let r = stats_updater::handle(deps, event.clone()).await.unwrap();
    assert!(r.batch_item_failures.is_empty());
    assert_eq!(sums(&m).await, ("4.33".into(), 3, 13, "4.33".into(), 3));
    // The same records delivered again, and ten copies racing: still exact.
    stats_updater::handle(deps, event.clone()).await.unwrap();
    let racing = (0..10).map(|_| stats_updater::handle(deps, event.clone()));
    for r in futures_util::future::join_all(racing).await {
        assert!(r.unwrap().batch_item_failures.is_empty());
    }
    assert_eq!(sums(&m).await, ("4.33".into(), 3, 13, "4.33".into(), 3));

    // An operator hides the 5★ review: it leaves the sums, once.
    set(
        &m.store,
        format!("REVIEW#{}", ids[0]),
        "REVIEW",
        "hidden",
        AttributeValue::Bool(true),
    )
    .await;
    let one = sqs(&changed(&ids[..1]));
    stats_updater::handle(deps, one.clone()).await.unwrap();
    stats_updater::handle(deps, one).await.unwrap();
    assert_eq!(sums(&m).await, ("4.00".into(), 2, 8, "4.00".into(), 2));
}

#[tokio::test]
async fn a_review_with_a_profile_edit_racing_it_loses_neither() {
    let m = market_on(gigbao_tests::fresh_store().await).await;
    let deps = gigbao_tests::deps_for(m.store.clone()).await;
    m.fund("500.00").await;
    let o = m.completed(Tier::Basic).await;
    let review = m.review(&o, 5).await;
    // The freelancer read their profile before the review was counted…
    let before = m.store.get_user(m.seller.id).await.unwrap().unwrap();
    stats_updater::handle(deps, sqs(&changed(&[review.id])))
        .await
        .unwrap();
    // …and saves an edit of it afterwards: the edit is retried on a fresh read.
    let patch = json!({"bio": "十年品牌设计经验"});
    let saved = shared::app::users::update_profile(
        &m.store,
        before,
        serde_json::from_value(patch.clone()).unwrap(),
        Utc::now(),
    )
    .await
    .unwrap();
    let p = saved.freelancer_profile.unwrap();
    assert_eq!(p.bio, "十年品牌设计经验");
    assert_eq!((p.rating.to_string(), p.total_reviews), ("5.00".into(), 1));
    assert_eq!(sums(&m).await.4, 1);
}

#[tokio::test]
async fn the_ranking_run_scores_and_levels_from_fixed_inputs() {
    let m = market_on(gigbao_tests::fresh_store().await).await;
    let deps = gigbao_tests::deps_for(m.store.clone()).await;
    m.fund("3000.00").await;
    // Seven standard orders (¥399, ¥319.20 each to the freelancer: ¥2,234.40), all
    // delivered on time, rated 5, 5, 4, 5, 4, 5, 5 (33/7 = 4.71).
    let mut ids = Vec::new();
    for rating in [5, 5, 4, 5, 4, 5, 5] {
        let o = m.completed(Tier::Standard).await;
        ids.push(m.review(&o, rating).await.id);
    }
    stats_updater::handle(deps, sqs(&changed(&ids)))
        .await
        .unwrap();
    // A member for 90 days.
    let since = (Utc::now() - Duration::days(90)).to_rfc3339();
    set(
        &m.store,
        format!("USER#{}", m.seller.id),
        "USER",
        "created_at",
        AttributeValue::S(since),
    )
    .await;
    // A second seller with a fresh service and nothing else.
    let other = crate::orders::market_on(m.store.clone()).await;

    let now = Utc::now();
    let report = ranking::run(&m.store, now).await.unwrap();
    assert_eq!(
        (
            report.services,
            report.rescored,
            report.freelancers,
            report.levels_changed
        ),
        (2, 2, 2, 1)
    );
    // 0.4 · ((33 + 3·5) / (7 + 5) − 1) / 4 + 0.3 · 7 / (7 + 10) = 0.3 + 0.1235.
    let s = m
        .store
        .get_service(m.service.id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.ranking_score, 0.4235);
    assert_eq!(s.seller_level, SellerLevel::LevelOne);
    let u = m.store.get_user(m.seller.id).await.unwrap().unwrap();
    assert_eq!(
        u.freelancer_profile.unwrap().seller_level,
        SellerLevel::LevelOne
    );
    // Nothing yet: the prior rating alone.
    let s2 = m
        .store
        .get_service(other.service.id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((s2.ranking_score, s2.seller_level), (0.2, SellerLevel::New));

    // Run again: nothing moved, nothing written.
    let again = ranking::run(&m.store, now).await.unwrap();
    assert_eq!((again.rescored, again.levels_changed), (0, 0));

    // Sixty days on, the orders have left the window: back to new.
    let later = ranking::run(&m.store, now + Duration::days(61))
        .await
        .unwrap();
    assert_eq!(later.levels_changed, 1);
    let u = m.store.get_user(m.seller.id).await.unwrap().unwrap();
    assert_eq!(u.freelancer_profile.unwrap().seller_level, SellerLevel::New);
}

/// The hourly ranking reads only what the stream marked (the dirty set, drained as it goes);
/// once a day it ranks everything again, since levels also move with time alone.
#[tokio::test]
async fn the_hourly_ranking_reads_the_dirty_set_and_everything_once_a_day() {
    use shared::telemetry::recording_dynamodb;
    let m = market_on(gigbao_tests::counting_store().await).await;
    let deps = gigbao_tests::deps_for(m.store.clone()).await;
    m.fund("1000.00").await;
    for _ in 0..4 {
        crate::orders::market_on(m.store.clone()).await;
    }
    let now = Utc::now();
    let first = ranking::run_hourly(&m.store, now).await.unwrap();
    assert!(first.full);
    assert_eq!(first.services, 5);

    // An hour on, nothing changed: the dirty set is empty and no service is read.
    let (quiet, sent) =
        recording_dynamodb(ranking::run_hourly(&m.store, now + Duration::hours(1))).await;
    let quiet = quiet.unwrap();
    assert!(!quiet.full);
    assert_eq!((quiet.dirty, quiet.services), (0, 0));
    // The state, one Query per shard of the dirty set.
    assert_eq!(
        sent.len(),
        1 + shared::store::keys::RANKING_DIRTY_SHARDS as usize,
        "{sent:?}"
    );

    // The seller completes an order and is reviewed; the stream marks what changed, as
    // stats-updater receives it.
    let o = m.completed(Tier::Standard).await;
    let r = m.review(&o, 5).await;
    stats_updater::handle(deps, sqs(&changed(&[r.id])))
        .await
        .unwrap();
    let marks = [
        WorkMessage::RankService {
            service_id: m.service.id.to_string(),
        },
        WorkMessage::RankFreelancer {
            user_id: m.seller.id.to_string(),
        },
    ];
    let answer = stats_updater::handle(deps, sqs(&marks)).await.unwrap();
    assert!(answer.batch_item_failures.is_empty());
    let dirty = ranking::run_hourly(&m.store, now + Duration::hours(2))
        .await
        .unwrap();
    assert!(!dirty.full);
    assert_eq!(
        (
            dirty.dirty,
            dirty.freelancers,
            dirty.services,
            dirty.rescored
        ),
        (2, 1, 1, 1),
        "the seller and their one service, scored once"
    );
    let s = m
        .store
        .get_service(m.service.id, true)
        .await
        .unwrap()
        .unwrap();
    assert!(s.ranking_score > 0.2, "{}", s.ranking_score);
    // Drained.
    let after = ranking::run_hourly(&m.store, now + Duration::hours(3))
        .await
        .unwrap();
    assert_eq!((after.dirty, after.services), (0, 0));

    // A day after the last full pass: everything again.
    let daily = ranking::run_hourly(&m.store, now + Duration::hours(25))
        .await
        .unwrap();
    assert!(daily.full);
    assert_eq!(daily.services, 5);
}

/// Double-blind reviews: written at the same moment, both are shown (each write looks for
/// the other after its own); one the other side never answers is shown by the timers through
/// the reveal index when the 30 days end, once.
#[tokio::test]
async fn sealed_reviews_are_shown_when_both_are_in_even_at_once_or_when_the_window_ends() {
    use shared::workers::order_timers::run_once;
    let m = market_on(gigbao_tests::fresh_store().await).await;
    let deps = gigbao_tests::deps_for(m.store.clone()).await;
    m.fund("1000.00").await;

    let mut ids = Vec::new();
    for _ in 0..3 {
        let o = m.completed(Tier::Basic).await;
        let (r, ()) = tokio::join!(m.sealed_review(&o, 5), m.review_client(&o));
        let r = m.store.get_review(r.id, true).await.unwrap().unwrap();
        assert_eq!(r.sealed_until, None, "both in: shown");
        ids.push(r.id);
        let c = m.store.get_client_review(o.id).await.unwrap().unwrap();
        assert_eq!(c.sealed_until, None);
    }
    let buyer = m.store.get_user(m.buyer.id).await.unwrap().unwrap();
    assert_eq!(
        buyer.buyer_rating,
        (12, 3),
        "each shown review counted once"
    );

    // Only the client reviews this one: sealed, in no list, on the reveal timer.
    let o = m.completed(Tier::Basic).await;
    let sealed = m.sealed_review(&o, 3).await;
    let until = sealed.sealed_until.unwrap();
    ids.push(sealed.id);
    stats_updater::handle(deps, sqs(&changed(&ids)))
        .await
        .unwrap();
    assert_eq!(sums(&m).await.1, 3, "a sealed review is not counted");
    let listed = m
        .store
        .list_reviews(
            shared::store::ReviewListing::Service(m.service.id),
            10,
            None,
        )
        .await
        .unwrap();
    assert!(listed.items.iter().all(|r| r.id != sealed.id));
    let early = run_once(&m.store, &deps.gateways, "a", until - Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(early.reviews_revealed, 0);
    m.store.release_lease("order-timers", "a").await.unwrap();
    let due = run_once(&m.store, &deps.gateways, "b", until + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(due.reviews_revealed, 1);
    m.store.release_lease("order-timers", "b").await.unwrap();
    let shown = m.store.get_review(sealed.id, true).await.unwrap().unwrap();
    assert_eq!(shown.sealed_until, None);
    stats_updater::handle(deps, sqs(&changed(&[sealed.id])))
        .await
        .unwrap();
    assert_eq!(sums(&m).await.1, 4, "shown: counted");
    // Off the timer: the next run finds nothing.
    let next = run_once(&m.store, &deps.gateways, "c", until + Duration::minutes(2))
        .await
        .unwrap();
    assert_eq!(next.reviews_revealed, 0);
}
