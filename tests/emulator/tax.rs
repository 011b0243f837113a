//! The quarterly tax report (`tax-report`, `admin-tax-reports`) against MiniStack and the
//! stack's bucket: each seller's identity, opened only in the job, and their income to the fen.

use chrono::Utc;
use secrecy::SecretString;
use shared::app::{admin as admin_app, orders, tax};
use shared::crypto::PiiVault;
use shared::domain::order::Resolution;
use shared::domain::tax::{COLUMNS, Quarter};
use shared::domain::{Money, UserType};
use shared::files::Fetched;

use crate::orders::market_on;

fn parse(text: &str) -> Vec<Vec<String>> {
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a UTF-8 byte-order mark");
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_quarterly_report_carries_each_sellers_identity_and_income_to_the_fen() {
    let store = gigbao_tests::fresh_store().await;
    // A verified seller with two settled orders: one accepted, one split 60/40 by an operator.
    let m = market_on(store.clone()).await;
    let seller = gigbao_tests::verify_user(&store, m.seller.clone(), "王小明").await;
    m.fund("398.00").await;
    let first = m.delivered().await;
    orders::accept(&store, &m.buyer, first.id, Utc::now())
        .await
        .unwrap();
    let second = m.delivered().await;
    orders::dispute(
        &store,
        &m.buyer,
        second.id,
        "只完成了一部分".into(),
        vec![],
        Utc::now(),
    )
    .await
    .unwrap();
    let admin = gigbao_tests::new_user(&store, UserType::Admin).await;
    orders::resolve(
        &store,
        gigbao_tests::no_gateways(),
        &admin,
        second.id,
        Resolution::Split,
        Some(Money::from_fen(7_960)),
        "六四分".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    // A seller who never did 实名认证, with one accepted order.
    let other = market_on(store.clone()).await;
    other.fund("199.00").await;
    let o = other.delivered().await;
    orders::accept(&store, &other.buyer, o.id, Utc::now())
        .await
        .unwrap();
    // An order cancelled and refunded whole is no income.
    let m3 = market_on(store.clone()).await;
    m3.fund("199.00").await;
    let paid = m3.paid().await;
    orders::cancel(
        &store,
        gigbao_tests::no_gateways(),
        &m3.buyer,
        paid.id,
        "不要了".into(),
        Utc::now(),
    )
    .await
    .unwrap();
    orders::cancel(
        &store,
        gigbao_tests::no_gateways(),
        &m3.seller,
        paid.id,
        "同意".into(),
        Utc::now(),
    )
    .await
    .unwrap();

    let files = gigbao_tests::stack_files().await;
    let vault = PiiVault::new(&SecretString::from(gigbao_tests::TEST_PII_KEY.to_owned())).unwrap();
    let quarter = Quarter::containing(Utc::now());
    let r = tax::write_report(&store, &files, &vault, quarter, Utc::now())
        .await
        .unwrap();
    assert_eq!((r.sellers, r.unverified), (2, 1));
    // The CSV is private: the bucket holds it under tax-reports/, for operators' links only.
    assert_eq!(r.key, format!("tax-reports/{}.csv", quarter.label()));
    let Fetched::Bytes(bytes) = files.get(&r.key, 1 << 20).await.unwrap() else {
        panic!("the report is not in the bucket")
    };
    let text = String::from_utf8(bytes).unwrap();
    let header: Vec<String> =
        csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes())
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
    assert_eq!(header, COLUMNS);
    let rows = parse(&text);
    assert_eq!(rows.len(), 2);
    let row = |username: &str| rows.iter().find(|r| r[1] == username).cloned().unwrap();
    let verified = row(seller.username.as_str());
    assert_eq!(verified[2], seller.id.to_string());
    assert_eq!(
        (verified[3].as_str(), verified[4].as_str()),
        ("王小明", "居民身份证")
    );
    assert_eq!(
        verified[5].len(),
        18,
        "the identity number, opened inside the job"
    );
    let (from, to) = quarter.period();
    assert_eq!((&verified[7], &verified[8]), (&from, &to));
    // 398.00 paid; 79.60 refunded; commission 39.80 + 23.88; net 159.20 + 95.52.
    assert_eq!(
        verified[10..15].to_vec(),
        ["398.00", "79.60", "63.68", "254.72", "2"]
    );
    let unverified = row(other.seller.username.as_str());
    assert_eq!(
        (unverified[3].as_str(), unverified[5].as_str()),
        ("（未实名认证）", "")
    );
    assert_eq!(
        unverified[10..15].to_vec(),
        ["199.00", "0.00", "39.80", "159.20", "1"]
    );
    // Written again, it replaces the quarter's report.
    tax::write_report(&store, &files, &vault, quarter, Utc::now())
        .await
        .unwrap();
    // Operators get a short-lived link; the listing is audited.
    let listed = admin_app::tax_reports(&store, &files, admin.id, Utc::now())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let (record, (url, _)) = &listed[0];
    assert_eq!(record.quarter, quarter.label());
    let downloaded = reqwest::get(url).await.unwrap();
    assert_eq!(downloaded.status(), 200);
    assert_eq!(downloaded.text().await.unwrap(), text);
    let audit = store.audit_for_target("tax_report", "all").await.unwrap();
    assert_eq!(audit[0].action, "tax_report.links");
}
