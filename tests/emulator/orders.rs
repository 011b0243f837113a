//! Orders and money against MiniStack: concurrency, idempotency, timers through the index,
//! and reconciliation after random traffic. Each test has its own table.

use chrono::{Duration, Utc};
use futures_util::StreamExt;
use serde_json::json;
use shared::app::ledger;
use shared::app::orders::{self, IdempotencyKey, OrderError, Outcome};
use shared::app::services;
use shared::domain::ledger::{Account, Movement, PlatformAccount};
use shared::domain::order::{Order, OrderRuleError, OrderStatus, Resolution};
use shared::domain::service::{Service, Tier};
use shared::domain::{Money, User, UserType};
use shared::store::Store;
use shared::telemetry::recording_dynamodb;

fn yuan(s: &str) -> Money {
    s.parse().unwrap()
}

pub(crate) fn render(o: &Order) -> String {
    json!({"id": o.id.to_string()}).to_string()
}

pub(crate) struct Market {
    pub(crate) store: Store,
    pub(crate) seller: User,
    pub(crate) buyer: User,
    pub(crate) service: Service,
}

/// A fresh table with an active service at 199.00 / 399.00 and a client.
async fn market() -> Market {
    market_on(gigbao_tests::fresh_store().await).await
}

/// The same market on `store`.
pub(crate) async fn market_on(store: Store) -> Market {
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let seller = gigbao_tests::new_user(&store, UserType::Freelancer).await;
    let buyer = gigbao_tests::new_user(&store, UserType::Client).await;
    let body = json!({
        "title_zh": "专业品牌Logo设计，三天交付",
        "description_zh": "简洁易记的品牌标志设计，提供源文件和品牌规范。",
        "category": "logo-design",
        "packages": {
            "basic": {"price": "199.00", "description": "1 个方案", "delivery_days": 3, "revisions": 1},
            "standard": {"price": "399.00", "description": "3 个方案", "delivery_days": 5, "revisions": 2}
        }
    });
    let now = Utc::now();
    let draft = services::create(
        &store,
        &seller,
        serde_json::from_value(body.clone()).unwrap(),
        now,
    )
    .await
    .unwrap();
    let service = services::publish(&store, seller.id, draft.id, now)
        .await
        .unwrap();
    Market {
        store,
        seller,
        buyer,
        service,
    }
}

impl Market {
    pub(crate) async fn place(&self, tier: Tier) -> Order {
        match orders::place(
            &self.store,
            gigbao_tests::default_clearance(),
            &self.buyer,
            self.service.id,
            tier,
            "品牌名：云栖".into(),
            None,
            &render,
            Utc::now(),
        )
        .await
        .unwrap()
        {
            Outcome::Done(o) => o,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) async fn paid(&self) -> Order {
        let o = self.place(Tier::Basic).await;
        match orders::pay_from_wallet(&self.store, &self.buyer, o.id, None, &render, Utc::now())
            .await
            .unwrap()
        {
            Outcome::Done(o) => o,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) async fn delivered(&self) -> Order {
        let o = self.paid().await;
        orders::deliver(
            &self.store,
            &self.seller,
            o.id,
            "初稿".into(),
            vec![],
            Utc::now(),
        )
        .await
        .unwrap()
        .0
    }

    pub(crate) async fn fund(&self, amount: &str) {
        ledger::deposit(
            &self.store,
            self.buyer.id,
            yuan(amount),
            &ulid::Ulid::new().to_string(),
            Utc::now(),
        )
        .await
        .unwrap();
    }

    pub(crate) async fn balances(&self, user: &User) -> (i64, i64, i64, i64) {
        let b = ledger::wallet(&self.store, user.id).await.unwrap();
        (
            b.available_fen,
            b.frozen_fen,
            b.total_earned_fen,
            b.total_spent_fen,
        )
    }

    pub(crate) async fn assert_reconciles(&self) {
        let r = ledger::reconcile(&self.store, Utc::now() + Duration::minutes(5))
            .await
            .unwrap();
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.settled_sum_fen, 0);
        assert!(r.lines > 0);
    }
}

#[tokio::test]
async fn twenty_parallel_pays_from_a_wallet_that_covers_ten_freeze_exactly_ten() {
    // GIVEN 20 unpaid orders of 199.00 and a wallet holding exactly ten of them
    let m = market().await;
    m.fund("1990.00").await;
    let mut placed = Vec::new();
    for _ in 0..20 {
        placed.push(m.place(Tier::Basic).await);
    }

    // WHEN all 20 are paid at once
    let results = futures_util::stream::iter(placed.iter())
        .map(|o| orders::pay_from_wallet(&m.store, &m.buyer, o.id, None, &render, Utc::now()))
        .buffer_unordered(20)
        .collect::<Vec<_>>()
        .await;

    // THEN exactly ten succeed, the rest are refused for want of money, and the balance never
    // went below zero: all of it is in escrow
    let ok = results
        .iter()
        .filter(|r| matches!(r, Ok(Outcome::Done(_))))
        .count();
    let short = results
        .iter()
        .filter(|r| matches!(r, Err(OrderError::InsufficientFunds)))
        .count();
    assert_eq!((ok, short), (10, 10), "{results:?}");
    assert_eq!(m.balances(&m.buyer).await, (0, 199_000, 0, 0));
    let lines = ledger::lines(&m.store, m.buyer.id, 100, None)
        .await
        .unwrap();
    // One deposit line and two lines per payment.
    assert_eq!(lines.items.len(), 1 + 2 * 10);
    m.assert_reconciles().await;
}

#[tokio::test]
async fn ten_parallel_accepts_of_one_order_release_the_escrow_once() {
    let m = market().await;
    m.fund("199.00").await;
    let o = m.delivered().await;

    let results = futures_util::stream::iter(0..10)
        .map(|_| orders::accept(&m.store, &m.buyer, o.id, Utc::now()))
        .buffer_unordered(10)
        .collect::<Vec<_>>()
        .await;

    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(
        r,
        Err(OrderError::Rule(OrderRuleError::WrongStatus(
            OrderStatus::Completed
        )))
    )));
    // 199.00 → fee 39.80, earnings 159.20; the client's escrow is gone and counted as spent.
    assert_eq!(m.balances(&m.buyer).await, (0, 0, 0, 19_900));
    // The earnings wait out their clearance period: earned, not yet withdrawable.
    assert_eq!(m.balances(&m.seller).await, (0, 0, 15_920, 0));
    let seller = ledger::wallet(&m.store, m.seller.id).await.unwrap();
    assert_eq!(seller.pending_fen, 15_920);
    let release = m
        .store
        .movement(&format!("release:{}", o.id))
        .await
        .unwrap()
        .unwrap();
    let fee: i64 = release
        .postings
        .iter()
        .filter(|p| matches!(p.account, Account::Platform(PlatformAccount::Revenue, _)))
        .map(|p| p.amount_fen)
        .sum();
    assert_eq!(fee, 3_980);
    let service = m
        .store
        .get_service(m.service.id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((service.open_orders, service.orders_count), (0, 1));
    m.assert_reconciles().await;
}

#[tokio::test]
async fn retries_with_the_same_idempotency_key_make_one_order_and_one_movement() {
    let m = market().await;
    m.fund("1000.00").await;
    let key = IdempotencyKey {
        key: "client-retry-1".into(),
        request_hash: "h1".into(),
    };

    // Five copies of the same request at once: one order, the same answer for all.
    let placed = futures_util::stream::iter(0..5)
        .map(|_| {
            orders::place(
                &m.store,
                gigbao_tests::default_clearance(),
                &m.buyer,
                m.service.id,
                Tier::Standard,
                String::new(),
                Some(&key),
                &render,
                Utc::now(),
            )
        })
        .buffer_unordered(5)
        .collect::<Vec<_>>()
        .await;
    let ids: std::collections::BTreeSet<String> = placed
        .into_iter()
        .map(|r| match r.unwrap() {
            Outcome::Done(o) => o.id.to_string(),
            Outcome::Replayed { status, response } => {
                assert_eq!(status, 201);
                serde_json::from_str::<serde_json::Value>(&response).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            }
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let page = orders::list(
        &m.store,
        shared::store::OrderListing::Client(m.buyer.id, None),
        100,
        None,
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 1);
    let order = &page.items[0];
    assert_eq!(order.total_amount, yuan("399.00"));
    let service = m
        .store
        .get_service(m.service.id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(service.open_orders, 1);

    // The same key with another request is refused.
    let other = IdempotencyKey {
        key: "client-retry-1".into(),
        request_hash: "h2".into(),
    };
    let r = orders::place(
        &m.store,
        gigbao_tests::default_clearance(),
        &m.buyer,
        m.service.id,
        Tier::Basic,
        String::new(),
        Some(&other),
        &render,
        Utc::now(),
    )
    .await;
    assert!(matches!(r, Err(OrderError::KeyReused)), "{r:?}");

    // Paying twice with one key: one freeze, the second answer replays the first.
    let pay_key = IdempotencyKey {
        key: "pay-1".into(),
        request_hash: "p1".into(),
    };
    let first = orders::pay_from_wallet(
        &m.store,
        &m.buyer,
        order.id,
        Some(&pay_key),
        &render,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(matches!(first, Outcome::Done(_)));
    let second = orders::pay_from_wallet(
        &m.store,
        &m.buyer,
        order.id,
        Some(&pay_key),
        &render,
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(
        matches!(second, Outcome::Replayed { status: 200, .. }),
        "{second:?}"
    );
    // Without the key, a second pay is a state conflict, and no money moves.
    let third =
        orders::pay_from_wallet(&m.store, &m.buyer, order.id, None, &render, Utc::now()).await;
    assert!(matches!(
        third,
        Err(OrderError::Rule(OrderRuleError::WrongStatus(
            OrderStatus::InProgress
        )))
    ));
    assert_eq!(m.balances(&m.buyer).await, (60_100, 39_900, 0, 0));
    // A deposit replayed under the same reference is also applied once.
    let again = ledger::deposit(&m.store, m.buyer.id, yuan("5.00"), "same-ref", Utc::now())
        .await
        .unwrap();
    let repeat = ledger::deposit(&m.store, m.buyer.id, yuan("5.00"), "same-ref", Utc::now())
        .await
        .unwrap();
    assert!(again && !repeat);
    m.assert_reconciles().await;
}

#[tokio::test]
async fn two_timer_runs_started_at_once_do_one_runs_work() {
    use shared::workers::order_timers::{LEASE_SECONDS, run_once};
    let m = market().await;
    let unpaid = m.place(Tier::Basic).await;
    let due = Utc::now() + Duration::minutes(31);

    // A run holding the lease keeps every other run out until it gives it back.
    assert!(
        m.store
            .take_lease("order-timers", "a", due, LEASE_SECONDS)
            .await
            .unwrap()
    );
    let blocked = run_once(&m.store, gigbao_tests::no_gateways(), "b", due)
        .await
        .unwrap();
    assert_eq!((blocked.cancelled, blocked.skipped), (0, 0));
    let o = m.store.get_order(unpaid.id, true).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Pending);
    // Only its holder gives a lease back.
    m.store.release_lease("order-timers", "b").await.unwrap();
    assert!(
        !m.store
            .take_lease("order-timers", "c", due, LEASE_SECONDS)
            .await
            .unwrap()
    );
    m.store.release_lease("order-timers", "a").await.unwrap();

    // Two runs at once: the order is cancelled once, by one of them.
    let (x, y) = tokio::join!(
        run_once(&m.store, gigbao_tests::no_gateways(), "x", due),
        run_once(&m.store, gigbao_tests::no_gateways(), "y", due)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.cancelled + y.cancelled, 1, "{x:?} {y:?}");
    let o = m.store.get_order(unpaid.id, true).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);

    // A run that died holding the lease blocks the next only until the lease runs out.
    let later = due + Duration::minutes(5);
    assert!(
        m.store
            .take_lease("order-timers", "dead", later, LEASE_SECONDS)
            .await
            .unwrap()
    );
    let after = later + Duration::seconds(LEASE_SECONDS + 1);
    assert!(
        m.store
            .take_lease("order-timers", "next", after, LEASE_SECONDS)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn timers_find_due_orders_through_the_index_and_act_once() {
    let m = market().await;
    m.fund("1000.00").await;
    let unpaid = m.place(Tier::Basic).await;
    let working = m.paid().await;
    let delivered = m.delivered().await;
    let now = Utc::now();

    // Nothing is due yet.
    let r = orders::run_timers(&m.store, now).await.unwrap();
    assert_eq!((r.cancelled, r.marked_late, r.completed), (0, 0, 0));

    // 31 minutes on: the unpaid order cancels itself.
    let r = orders::run_timers(&m.store, now + Duration::minutes(31))
        .await
        .unwrap();
    assert_eq!(
        (r.cancelled, r.marked_late, r.completed, r.failed),
        (1, 0, 0, 0)
    );
    let o = m.store.get_order(unpaid.id, true).await.unwrap().unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);

    // Three days and a minute on: the delivered order completes and pays the freelancer, the
    // one in progress is past its 3-day deadline and is marked late.
    let later = now + Duration::days(3) + Duration::minutes(1);
    let r = orders::run_timers(&m.store, later).await.unwrap();
    assert_eq!(
        (r.cancelled, r.marked_late, r.completed, r.failed),
        (0, 1, 1, 0)
    );
    let w = m.store.get_order(working.id, true).await.unwrap().unwrap();
    assert!(w.is_late && w.status == OrderStatus::InProgress);
    let d = m
        .store
        .get_order(delivered.id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status, OrderStatus::Completed);
    // The earnings wait out their clearance period before they can be withdrawn.
    let seller = ledger::wallet(&m.store, m.seller.id).await.unwrap();
    assert_eq!((seller.available_fen, seller.pending_fen), (0, 15_920));

    // A second run finds nothing left to do.
    let r = orders::run_timers(&m.store, later).await.unwrap();
    assert_eq!(
        (r.cancelled, r.marked_late, r.completed, r.failed),
        (0, 0, 0, 0)
    );

    // The late order may now be cancelled by the client alone; the escrow comes back.
    let c = orders::cancel(
        &m.store,
        gigbao_tests::no_gateways(),
        &m.buyer,
        working.id,
        "太慢了".into(),
        later,
    )
    .await
    .unwrap();
    assert_eq!(c.status, OrderStatus::Cancelled);
    assert_eq!(m.balances(&m.buyer).await.1, 0);
    m.assert_reconciles().await;
}

/// Delivered on time, sent back for a revision two days after the deadline: the timers do
/// not mark it late and the client cannot cancel alone (and be refunded for delivered work)
/// until the revision's own due time has passed.
#[tokio::test]
async fn a_revision_asked_after_the_deadline_is_not_late_until_its_own_due_time() {
    // GIVEN a paid 3-day order delivered a day before its deadline
    let m = market().await;
    m.fund("1000.00").await;
    let paid = m.paid().await;
    let deadline = paid.delivery_deadline;
    orders::deliver(
        &m.store,
        &m.seller,
        paid.id,
        "初稿".into(),
        vec![],
        deadline - Duration::days(1),
    )
    .await
    .unwrap();
    // WHEN the client asks for a revision two days after the deadline
    let asked = deadline + Duration::days(2);
    let (revising, _) =
        orders::request_revision(&m.store, &m.buyer, paid.id, "颜色再亮一些".into(), asked)
            .await
            .unwrap();
    let due = asked + Duration::days(3);
    assert_eq!(revising.due(), due);
    // THEN the timers an hour later leave it alone…
    let r = orders::run_timers(&m.store, asked + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((r.marked_late, r.failed), (0, 0));
    // …the client's cancellation is only a request, and the escrow stays frozen…
    let c = orders::cancel(
        &m.store,
        gigbao_tests::no_gateways(),
        &m.buyer,
        paid.id,
        "太慢了".into(),
        asked + Duration::hours(2),
    )
    .await
    .unwrap();
    assert_eq!(c.status, OrderStatus::InProgress);
    assert!(c.cancellation.is_some());
    assert_eq!(m.balances(&m.buyer).await.1, 19_900);
    // …and only once the revision is overdue is it marked late
    let r = orders::run_timers(&m.store, due + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!((r.marked_late, r.failed), (1, 0));
    let late = m.store.get_order(paid.id, true).await.unwrap().unwrap();
    assert!(late.is_late);
    m.assert_reconciles().await;
}

/// A small deterministic generator (the test must not depend on luck).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn random_traffic_leaves_a_ledger_that_reconciles_to_the_fen() {
    let m = market().await;
    let admin = gigbao_tests::new_user(&m.store, UserType::Admin).await;
    let mut rng = Lcg(20_261_124);
    let mut open: Vec<Order> = Vec::new();
    for step in 0..60 {
        let now = Utc::now();
        match rng.next(8) {
            0 => {
                let fen = 1 + rng.next(80_000) as i64;
                ledger::deposit(
                    &m.store,
                    m.buyer.id,
                    Money::from_fen(fen),
                    &format!("r{step}"),
                    now,
                )
                .await
                .unwrap();
            }
            1 | 2 => {
                let tier = if rng.next(2) == 0 {
                    Tier::Basic
                } else {
                    Tier::Standard
                };
                let o = m.place(tier).await;
                // Paying may fail for want of money: then nothing moves.
                if let Ok(Outcome::Done(o)) =
                    orders::pay_from_wallet(&m.store, &m.buyer, o.id, None, &render, now).await
                {
                    open.push(o);
                }
            }
            _ if open.is_empty() => {}
            k => {
                let o = open.remove(rng.next(open.len() as u64) as usize);
                let r = match k {
                    3 => {
                        orders::deliver(&m.store, &m.seller, o.id, "交付".into(), vec![], now)
                            .await
                            .unwrap();
                        orders::accept(&m.store, &m.buyer, o.id, now)
                            .await
                            .map(|_| ())
                    }
                    4 => {
                        orders::cancel(
                            &m.store,
                            gigbao_tests::no_gateways(),
                            &m.buyer,
                            o.id,
                            "不要了".into(),
                            now,
                        )
                        .await
                        .unwrap();
                        orders::cancel(
                            &m.store,
                            gigbao_tests::no_gateways(),
                            &m.seller,
                            o.id,
                            "同意".into(),
                            now,
                        )
                        .await
                        .map(|_| ())
                    }
                    5 | 6 => {
                        orders::dispute(&m.store, &m.buyer, o.id, "有问题".into(), vec![], now)
                            .await
                            .unwrap();
                        let (res, refund) = match rng.next(3) {
                            0 => (Resolution::Refund, None),
                            1 => (Resolution::Release, None),
                            _ => (
                                Resolution::Split,
                                Some(Money::from_fen(
                                    1 + rng.next(o.total_amount.fen() as u64 - 1) as i64,
                                )),
                            ),
                        };
                        orders::resolve(
                            &m.store,
                            gigbao_tests::no_gateways(),
                            &admin,
                            o.id,
                            res,
                            refund,
                            "裁决".into(),
                            now,
                        )
                        .await
                        .map(|_| ())
                    }
                    _ => {
                        open.push(o);
                        Ok(())
                    }
                };
                r.unwrap();
            }
        }
        // No user's wallet is ever below zero.
        for u in [&m.buyer, &m.seller] {
            let (a, f, _, _) = m.balances(u).await;
            assert!(a >= 0 && f >= 0, "step {step}: {a} {f}");
        }
    }
    // Escrow equals what the open orders hold.
    let held: i64 = open.iter().map(|o| o.total_amount.fen()).sum();
    assert_eq!(m.balances(&m.buyer).await.1, held);
    m.assert_reconciles().await;
}

#[tokio::test]
async fn the_reconciler_reports_a_wallet_that_disagrees_with_its_lines() {
    let m = market().await;
    m.fund("100.00").await;
    m.assert_reconciles().await;
    // Someone edits a balance by hand, outside any movement.
    let key = shared::store::keys::wallet(Account::User(m.buyer.id));
    m.store
        .client()
        .update_item()
        .table_name(m.store.table())
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(key.pk))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(key.sk))
        .update_expression("ADD available :x")
        .expression_attribute_values(":x", aws_sdk_dynamodb::types::AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let r = ledger::reconcile(&m.store, Utc::now() + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(
        r.findings,
        vec![ledger::Finding::WalletMismatch {
            account: Account::User(m.buyer.id),
            bucket: "available",
            wallet_fen: 10_001,
            lines_fen: 10_000,
        }]
    );
    // And a movement the domain would never build is refused before it is written.
    assert!(Movement::deposit(m.buyer.id, Money::ZERO, "zero").is_err());
}

#[tokio::test]
async fn each_transition_costs_one_read_and_one_transaction() {
    // GIVEN a market on a table whose client counts requests
    let store = gigbao_tests::counting_store().await;
    let Market {
        store,
        seller,
        buyer,
        service,
    } = market_on(store).await;
    let now = Utc::now();
    ledger::deposit(&store, buyer.id, yuan("199.00"), "seed", now)
        .await
        .unwrap();

    // WHEN an order is placed, paid, delivered and accepted
    let (placed, place) = recording_dynamodb(orders::place(
        &store,
        gigbao_tests::default_clearance(),
        &buyer,
        service.id,
        Tier::Basic,
        String::new(),
        None,
        &render,
        now,
    ))
    .await;
    let Outcome::Done(o) = placed.unwrap() else {
        panic!("placed")
    };
    let (paid, pay) = recording_dynamodb(orders::pay_from_wallet(
        &store, &buyer, o.id, None, &render, now,
    ))
    .await;
    paid.unwrap();
    let (delivered, deliver) = recording_dynamodb(orders::deliver(
        &store,
        &seller,
        o.id,
        "交付".into(),
        vec![],
        now,
    ))
    .await;
    delivered.unwrap();
    let (accepted, accept) = recording_dynamodb(orders::accept(&store, &buyer, o.id, now)).await;
    accepted.unwrap();

    // THEN each is one read and one transaction (money included); placing also reads the
    // commission rules it freezes on the order. The transactions' sizes are what they are
    // billed by: placing writes the order, its number's guard and the service's open-order
    // count; the others write the order and what the step adds (the delivery; the money
    // movement's balances and ledger lines; the service's counters and the earnings waiting
    // to clear when the order closes)
    assert_eq!(place, ["GetItem", "GetItem", "TransactWriteItems(3)"]);
    assert_eq!(pay, ["GetItem", "TransactWriteItems(5)"]);
    assert_eq!(deliver, ["GetItem", "TransactWriteItems(2)"]);
    assert_eq!(accept, ["GetItem", "TransactWriteItems(10)"]);
}
