//! Briefs against the emulator: however often and however concurrently a brief's proposals
//! are accepted, it becomes one order.

use chrono::Utc;
use futures_util::StreamExt;
use shared::app::briefs::{self, BriefError};
use shared::domain::UserType;
use shared::domain::brief::{BriefInput, ProposalTerms};
use shared::domain::order::OrderOrigin;

#[tokio::test]
async fn accepting_one_proposal_ten_times_or_two_at_once_makes_one_order() {
    let store = gigbao_tests::fresh_store().await;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let buyer = gigbao_tests::new_user(&store, UserType::Client).await;
    let sellers = [
        gigbao_tests::new_user(&store, UserType::Freelancer).await,
        gigbao_tests::new_user(&store, UserType::Freelancer).await,
    ];
    let post = || {
        let input = BriefInput {
            title: Some("为新茶饮品牌设计 logo".into()),
            description: Some(
                "新开的茶饮店需要一个简洁、易记的 logo，附带名片与门头效果图。".into(),
            ),
            category: Some("logo-design".into()),
            budget_min: Some("2000.00".parse().unwrap()),
            budget_max: Some("3000.00".parse().unwrap()),
            ..BriefInput::default()
        };
        briefs::create(&store, None, &buyer, input, Utc::now())
    };
    let terms = |price: &str| {
        ProposalTerms::parse(
            Some(price.parse().unwrap()),
            Some(10),
            None,
            Some("十天交付三个方案，含名片和门头效果图。".into()),
        )
        .unwrap()
    };
    let clearance = gigbao_tests::default_clearance();

    // One proposal accepted ten times at once: one order, every answer the same order.
    let brief = post().await.unwrap();
    let (_, p) = briefs::propose(&store, &sellers[0], brief.id, terms("2600.00"), Utc::now())
        .await
        .unwrap();
    let results = futures_util::stream::iter(0..10)
        .map(|_| briefs::accept(&store, clearance, &buyer, (brief.id, p.id), Utc::now()))
        .buffer_unordered(10)
        .collect::<Vec<_>>()
        .await;
    let ids: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| r.as_ref().unwrap().id.to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    let order = results[0].as_ref().unwrap();
    assert_eq!(order.total_amount.fen(), 260_000);
    assert_eq!(order.service_id, None);
    assert!(
        matches!(order.origin, OrderOrigin::Proposal { brief_id, proposal_id } if brief_id == brief.id && proposal_id == p.id)
    );
    let s = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
             k: &str| {
        i.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    let items = gigbao_tests::all_items(&store).await;
    assert_eq!(
        items
            .iter()
            .filter(|i| s(i, "entity_type") == "order")
            .count(),
        1
    );

    // Two proposals of one brief accepted at once: one wins, the other is refused.
    let brief = post().await.unwrap();
    let (_, p1) = briefs::propose(&store, &sellers[0], brief.id, terms("2800.00"), Utc::now())
        .await
        .unwrap();
    let (_, p2) = briefs::propose(&store, &sellers[1], brief.id, terms("2500.00"), Utc::now())
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        briefs::accept(&store, clearance, &buyer, (brief.id, p1.id), Utc::now()),
        briefs::accept(&store, clearance, &buyer, (brief.id, p2.id), Utc::now()),
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
    assert!(matches!(a.err().or(b.err()), Some(BriefError::NotOpen(_))));
    let awarded = store.get_brief(brief.id, true).await.unwrap().unwrap();
    assert!(awarded.award.is_some());
    // Both briefs left the buyer's open count.
    let items = gigbao_tests::all_items(&store).await;
    assert_eq!(
        items
            .iter()
            .filter(|i| s(i, "entity_type") == "order")
            .count(),
        2
    );
    let count = items
        .iter()
        .find(|i| s(i, "PK") == format!("USER#{}", buyer.id) && s(i, "SK") == "BRIEFS")
        .and_then(|i| i.get("open").and_then(|v| v.as_n().ok()).cloned());
    assert_eq!(count.as_deref(), Some("0"));
}
