//! `make bench`: the background jobs at 1×, 10× and 100× of a seeded data set on MiniStack,
//! with their time and DynamoDB requests per run, written to `.local/bench/jobs.md` (and by
//! the Makefile into docs/performance.md). It shows which jobs grow with the change rate and
//! which with the table. A benchmark, not a test: ignored by `make test`, asserts nothing
//! about time.
//!
//! Each unit of the data set is a freelancer with an active service, a wallet and a deposit
//! (user, service, wallet, movement and its two lines): cloned with fresh ids from one unit
//! made through the use cases, and written with `BatchWriteItem`, so that 100× seeds in
//! minutes rather than hours (registration hashes a password).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::Utc;
use serde_json::json;
use shared::app::{ledger, privacy, ranking, services};
use shared::domain::ranking::RankTarget;
use shared::domain::{Money, ServiceId, UserId, UserType};
use shared::store::{ReconcileCheckpoint, Store};
use shared::telemetry::recording_dynamodb;

type Item = HashMap<String, AttributeValue>;

/// One measured run of a job.
struct Run {
    job: &'static str,
    scale: usize,
    ms: f64,
    requests: usize,
    ops: BTreeMap<String, usize>,
    note: String,
}

async fn measure<T>(work: impl std::future::Future<Output = T>) -> (T, f64, Vec<String>) {
    let started = Instant::now();
    let (out, ops) = recording_dynamodb(work).await;
    (out, started.elapsed().as_secs_f64() * 1000.0, ops)
}

fn tally(ops: &[String]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for op in ops {
        *out.entry(op.clone()).or_insert(0) += 1;
    }
    out
}

/// The template unit's items: those whose key names one of `ids`.
async fn template_items(store: &Store, ids: &[String]) -> Vec<Item> {
    gigbao_tests::all_items(store)
        .await
        .into_iter()
        .filter(|item| {
            let key = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            let (pk, sk) = (key("PK"), key("SK"));
            ids.iter()
                .any(|id| pk.contains(id.as_str()) || sk.contains(id.as_str()))
        })
        .collect()
}

/// Writes units `from..to`: the template's items with every id replaced.
async fn seed(store: &Store, template: &[String], ids: &[String], from: usize, to: usize) {
    let mut requests: Vec<WriteRequest> = Vec::new();
    for unit in from..to {
        let fresh = [
            UserId::new().to_string(),
            ServiceId::new().to_string(),
            format!("bench-unit-{unit}"),
        ];
        for text in template {
            let mut text = text.clone();
            for (old, new) in ids.iter().zip(&fresh) {
                text = text.replace(old.as_str(), new);
            }
            let item: serde_dynamo::Item = serde_json::from_str(&text).expect("item JSON");
            let item: Item = item.into();
            requests.push(
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item))
                            .build()
                            .expect("put"),
                    )
                    .build(),
            );
        }
    }
    let batches: Vec<Vec<WriteRequest>> = requests.chunks(25).map(<[_]>::to_vec).collect();
    for group in batches.chunks(16) {
        let sends = group.iter().map(|batch| async move {
            let mut pending = batch.clone();
            while !pending.is_empty() {
                let out = store
                    .client()
                    .batch_write_item()
                    .request_items(store.table(), pending)
                    .send()
                    .await
                    .expect("batch write");
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(store.table()))
                    .unwrap_or_default();
            }
        });
        futures_util::future::join_all(sends).await;
    }
}

#[tokio::test]
#[ignore = "a benchmark: `make bench` runs it"]
async fn jobs_at_1x_10x_100x() {
    let base: usize = std::env::var("BENCH_JOBS_BASE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let out = std::env::var("BENCH_JOBS_OUT").unwrap_or_else(|_| ".local/bench/jobs.md".into());
    let deps = gigbao_tests::deps_for(gigbao_tests::counting_store().await).await;
    let store = &deps.store;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let files =
        shared::files::Files::new(deps.s3().clone(), gigbao_tests::env("GIGBAO_MEDIA_BUCKET"));

    // The template unit, through the use cases.
    let seller = gigbao_tests::new_user(store, UserType::Freelancer).await;
    let now = Utc::now();
    let body = json!({
        "title_zh": "专业品牌Logo设计，三天交付",
        "description_zh": "简洁易记的品牌标志设计，提供源文件和品牌规范。",
        "category": "logo-design",
        "packages": {"basic": {"price": "199.00", "description": "1 个方案", "delivery_days": 3, "revisions": 1}}
    });
    let draft = services::create(
        store,
        &seller,
        serde_json::from_value(body.clone()).unwrap(),
        now,
    )
    .await
    .unwrap();
    let service = services::publish(store, seller.id, draft.id, now)
        .await
        .unwrap();
    ledger::deposit(
        store,
        seller.id,
        Money::from_fen(10_000),
        "bench-unit-0",
        now,
    )
    .await
    .unwrap();
    let ids = [
        seller.id.to_string(),
        service.id.to_string(),
        "bench-unit-0".to_owned(),
    ];
    let template: Vec<String> = template_items(store, &ids)
        .await
        .into_iter()
        .map(|item| {
            let item: serde_dynamo::Item = item.into();
            serde_json::to_string(&item).expect("JSON")
        })
        .collect();

    let mut runs: Vec<Run> = Vec::new();
    let mut seeded = 1;
    let mut seed_notes = Vec::new();
    for factor in [1usize, 10, 100] {
        let units = base * factor;
        let started = Instant::now();
        seed(store, &template, &ids, seeded, units).await;
        seed_notes.push(format!(
            "{units} units ({} items) seeded in {:.0} s",
            units * template.len(),
            started.elapsed().as_secs_f64()
        ));
        seeded = units;
        let now = Utc::now();
        let mut push = |job: &'static str, (ms, ops): (f64, Vec<String>), note: String| {
            runs.push(Run {
                job,
                scale: units,
                ms,
                requests: ops.len(),
                ops: tally(&ops),
                note,
            });
        };

        // Data export: one account, whatever the table.
        let export = shared::domain::export::DataExport::new(seller.id, now);
        store.create_export(&export).await.unwrap();
        let (written, ms, ops) = measure(privacy::write_export(
            store, &files, seller.id, export.id, now,
        ))
        .await;
        let note = match written.unwrap() {
            privacy::Exported::Written(bytes) => format!("an archive of {bytes} bytes"),
            other => format!("{other:?}"),
        };
        push("data export (one account)", (ms, ops), note);

        // Monthly reports: one invocation is one page of 100 users; the month takes
        // users / 100 invocations.
        let (month, _, _) = shared::app::stats::previous_month(now);
        let (page, ms, ops) = measure(shared::workers::monthly_reports::page(
            store, &month, None, 100, now,
        ))
        .await;
        let (report, _) = page.unwrap();
        push(
            "monthly reports (one invocation)",
            (ms, ops),
            format!(
                "{} users; {} invocations a month",
                report.users,
                units.div_ceil(100)
            ),
        );

        // Reconciler: 100 movements since the checkpoint, on a table holding `units`.
        store
            .save_reconcile_checkpoint(&ReconcileCheckpoint {
                through: Some(now),
                sample_after: None,
            })
            .await
            .unwrap();
        let moved_at = now + chrono::Duration::seconds(1);
        for i in 0..100 {
            ledger::deposit(
                store,
                seller.id,
                Money::from_fen(100),
                &format!("bench-{units}-{i}"),
                moved_at,
            )
            .await
            .unwrap();
        }
        let (r, ms, ops) = measure(ledger::reconcile_since(
            store,
            now + chrono::Duration::minutes(2),
            ledger::SAMPLE_ITEMS,
        ))
        .await;
        let r = r.unwrap();
        push(
            "reconciler, hourly (100 new movements)",
            (ms, ops),
            format!(
                "{} movements, {} wallets in its {} sampled items, {} findings",
                r.movements,
                r.wallets_sampled,
                ledger::SAMPLE_ITEMS,
                r.findings.len()
            ),
        );

        // Ranking: 20 services marked since the last run.
        store.set_ranking_full_at(now).await.unwrap();
        let mut marked = 0;
        let listing =
            shared::store::ServiceListing::Status(shared::domain::service::ServiceStatus::Active);
        let page = store.list_services(&listing, 20, None).await.unwrap();
        for s in &page.items {
            store
                .mark_ranking_dirty(RankTarget::Service(s.id), now)
                .await
                .unwrap();
            marked += 1;
        }
        let (r, ms, ops) =
            measure(ranking::run_hourly(store, now + chrono::Duration::hours(1))).await;
        let r = r.unwrap();
        push(
            "ranking, hourly (20 marked services)",
            (ms, ops),
            format!("{marked} marked, {} scored", r.services),
        );

        // What grows with the table, where it still runs in minutes here.
        if factor <= 10 {
            let (r, ms, ops) = measure(ranking::run(store, now)).await;
            push(
                "ranking, daily full pass",
                (ms, ops),
                format!("{} services", r.unwrap().services),
            );
            let (r, ms, ops) =
                measure(ledger::reconcile(store, now + chrono::Duration::minutes(2))).await;
            let r = r.unwrap();
            push(
                "reconciliation, full (live table)",
                (ms, ops),
                format!("{} wallets, {} movements", r.accounts, r.movements),
            );
        }
    }

    let mut md = String::new();
    md.push_str("## Background jobs at scale (MiniStack)\n\n");
    md.push_str(&format!(
        "`tests/bench/main.rs`: one unit = a freelancer with an active service, a wallet and a \
         deposit ({} items); 1× = {base} units. Times are MiniStack's (an in-memory emulator in \
         Python, on this machine) and the debug build's: compare them across scales, not with \
         AWS. Requests are what the job sends to DynamoDB, counted by the client. The full \
         ranking pass and the full reconciliation grow with the table and run at 1× and 10× \
         only; in AWS the full reconciliation runs from a table export instead (no request). \
         The reconciler's wallet sample is one Scan page of 1,000 items resumed where the last \
         run stopped: MiniStack scans in key order (wallets last), DynamoDB in hash order, so \
         how many wallets a page holds differs; its cost does not. At 100× MiniStack's own \
         Scan and index queries slow down with the table (a Python emulator walks its items): \
         compare the requests, which stay the same. Seeding: {}.\n\n",
        template.len(),
        seed_notes.join("; ")
    ));
    md.push_str(
        "| job | units in the table | ms | DynamoDB requests | by operation | what it did |\n",
    );
    md.push_str("|---|---:|---:|---:|---|---|\n");
    for r in &runs {
        let ops: Vec<String> = r.ops.iter().map(|(k, v)| format!("{k} {v}")).collect();
        md.push_str(&format!(
            "| {} | {} | {:.0} | {} | {} | {} |\n",
            r.job,
            r.scale,
            r.ms,
            r.requests,
            ops.join(", "),
            r.note
        ));
    }
    md.push_str(
        "\nThe hourly reconciler and ranking and the export cost the same at every size: they \
         follow the change (movements and marks since the last run) or the one account. The \
         monthly reports cost the same per invocation; their number of invocations grows with \
         the users, each one page. The daily ranking pass and the full reconciliation grow with \
         the table by design, once a day and from an export respectively.\n",
    );
    if let Some(dir) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(&out, md).expect("write the bench table");
}
