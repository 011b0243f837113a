//! Search: the indexer against MiniStack on both engines — a fresh tantivy index, and an alias
//! of its own on the real OpenSearch node `make test` starts, through the production adapter;
//! the OpenSearch adapter against wiremock with the exact requests it must send.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::Utc;
use gigbao_tests::Engine;
use serde_json::{Value, json};
use shared::app::{search as app, services};
use shared::domain::catalog::Label;
use shared::domain::service::{Service, ServiceType};
use shared::domain::{User, UserType};
use shared::search::opensearch::{INDEX_DEFINITION, OpenSearchIndex};
use shared::search::{
    CardFreelancer, Change, SearchDoc, SearchIndex, SearchQuery, ServiceCard, Sort, text,
};
use shared::store::Store;
use shared::workers::WorkMessage;
use wiremock::matchers::{body_json, body_string, header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn publish(store: &Store, seller: &User, body: Value) -> Service {
    let now = Utc::now();
    let draft = services::create(
        store,
        seller,
        serde_json::from_value(body.clone()).unwrap(),
        now,
    )
    .await
    .unwrap();
    services::publish(store, seller.id, draft.id, now)
        .await
        .unwrap()
}

fn body(title_zh: &str, title: &str, category: &str, price: &str) -> Value {
    json!({
        "title_zh": title_zh,
        "title": title,
        "description_zh": "提供源文件，支持修改，沟通及时，按时交付，售后无忧。",
        "category": category,
        "packages": {"basic": {"price": price, "description": "基础版", "delivery_days": 3, "revisions": 1}}
    })
}

fn q(text: &str) -> SearchQuery {
    SearchQuery {
        tokens: text::query_tokens(text),
        page: 1,
        size: 20,
        ..SearchQuery::default()
    }
}

async fn ids_for(index: &impl SearchIndex, query: &SearchQuery) -> Vec<String> {
    index
        .search(query)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|c| c.id)
        .collect()
}

pub(crate) fn sqs(messages: &[WorkMessage]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (i, m) in messages.iter().enumerate() {
        let mut msg = SqsMessage::default();
        msg.message_id = Some(format!("m{i}"));
        msg.body = Some(serde_json::to_string(m).unwrap());
        event.records.push(msg);
    }
    event
}

#[tokio::test]
async fn the_indexer_follows_the_table_and_every_way_of_asking_finds_it_on_tantivy() {
    indexer_follows_the_table(Engine::Tantivy).await;
}

#[tokio::test]
async fn the_indexer_follows_the_table_and_every_way_of_asking_finds_it_on_opensearch() {
    indexer_follows_the_table(Engine::OpenSearch).await;
}

/// Runs the indexer over `sqs(messages)`, then makes what it wrote searchable.
async fn index(deps: &'static shared::Deps, messages: &[WorkMessage]) {
    let answer = shared::workers::search_indexer::handle(deps, sqs(messages))
        .await
        .unwrap();
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    deps.search.refresh().await.unwrap();
}

async fn indexer_follows_the_table(engine: Engine) {
    let deps = gigbao_tests::deps_on(gigbao_tests::fresh_store().await, engine).await;
    let store = &deps.store;
    store
        .put_catalog(&gigbao_tests::seed_catalog())
        .await
        .unwrap();
    let seller = gigbao_tests::new_user(store, UserType::Freelancer).await;
    let logo = publish(
        store,
        &seller,
        body(
            "品牌logo设计，原创三稿",
            "Brand logo design",
            "logo-design",
            "299.00",
        ),
    )
    .await;
    let app_dev = publish(
        store,
        &seller,
        body(
            "微信小程序开发，前后端一站式",
            "WeChat mini program development",
            "mini-program-development",
            "2999.00",
        ),
    )
    .await;
    let video = publish(
        store,
        &seller,
        body(
            "抖音短视频剪辑，包装字幕特效",
            "Short video editing for Douyin",
            "video-editing",
            "199.00",
        ),
    )
    .await;
    let messages: Vec<WorkMessage> = [logo.id, app_dev.id, video.id]
        .iter()
        .map(|id| WorkMessage::SearchService {
            service_id: id.to_string(),
        })
        .collect();
    // The first write finds no alias (nothing was rebuilt yet): it must not auto-create an
    // index named like the alias, or the rebuild below could not move the alias.
    index(deps, &messages).await;

    let logo_id = logo.id.to_string();
    for query in [
        "logo设计",
        "logo design",
        "LOGO",
        "sheji",
        "sj",
        "設計",
        "品牌",
        "pinpai",
    ] {
        assert_eq!(
            ids_for(&deps.search, &q(query)).await,
            std::slice::from_ref(&logo_id),
            "{query}"
        );
    }
    assert_eq!(
        ids_for(&deps.search, &q("小程序开发")).await,
        [app_dev.id.to_string()]
    );
    assert_eq!(
        ids_for(&deps.search, &q("xcx")).await,
        [app_dev.id.to_string()]
    );
    assert_eq!(
        ids_for(&deps.search, &q("短视频剪辑")).await,
        [video.id.to_string()]
    );
    assert_eq!(
        ids_for(&deps.search, &q("短視頻")).await,
        [video.id.to_string()]
    );
    // Every token must match: logo and 剪辑 are never in one service.
    assert!(ids_for(&deps.search, &q("logo 剪辑")).await.is_empty());
    let card = &deps.search.search(&q("logo")).await.unwrap().items[0];
    assert_eq!(card.from_price, "299.00");
    assert_eq!(card.title_zh.as_deref(), Some("品牌logo设计，原创三稿"));
    assert_eq!(card.freelancer.username, seller.username.as_str());

    // Paused: gone from search; the indexer is driven by the same message again.
    services::pause(store, seller.id, logo.id, Utc::now())
        .await
        .unwrap();
    index(deps, &messages[..1]).await;
    assert!(ids_for(&deps.search, &q("logo设计")).await.is_empty());
    // A message for a service that never existed removes nothing and fails nothing.
    index(
        deps,
        &[WorkMessage::SearchService {
            service_id: shared::domain::ServiceId::new().to_string(),
        }],
    )
    .await;
    assert_eq!(deps.search.search(&q("")).await.unwrap().total, 2);

    // The reindex command rebuilds the same from the table.
    assert_eq!(app::reindex(store, &deps.search).await.unwrap(), 2);
    assert_eq!(
        ids_for(&deps.search, &q("剪辑")).await,
        [video.id.to_string()]
    );
}

fn doc(id: &str, rev: u64, title: &str) -> SearchDoc {
    let label = Label {
        slug: "logo-design".into(),
        name: "Logo design".into(),
        name_zh: "标志设计".into(),
    };
    SearchDoc {
        id: id.into(),
        rev,
        title: text::index_text(title),
        title_zh: String::new(),
        title_pinyin: String::new(),
        description: String::new(),
        description_zh: String::new(),
        category_text: String::new(),
        skills_text: String::new(),
        freelancer_name: "lin".into(),
        category: "logo-design".into(),
        parent_category: "design".into(),
        skills: vec!["logo".into(), "branding".into()],
        service_type: "fixed".into(),
        price: 29_900,
        rating: 4.8,
        reviews_count: 12,
        orders_count: 30,
        delivery_days: 3,
        created_at: 1_795_507_200_000,
        ranking_score: 2.5,
        card: ServiceCard {
            id: id.into(),
            title: Some(title.into()),
            title_zh: None,
            category: label.clone(),
            parent_category: label,
            skills: vec![],
            service_type: ServiceType::Fixed,
            from_price: "299.00".into(),
            delivery_days: 3,
            image: None,
            thumbnail_url: None,
            rating: "4.80".into(),
            reviews_count: 12,
            orders_count: 30,
            freelancer: CardFreelancer {
                id: "01JFREELANCER0000000000000".into(),
                username: "lin".into(),
                location: "杭州".into(),
                seller_level: shared::domain::ranking::SellerLevel::LevelOne,
            },
            published_at: "2026-11-24T08:00:00Z".into(),
        },
    }
}

#[tokio::test]
async fn a_stale_revision_never_replaces_a_newer_one_on_tantivy() {
    stale_revisions(Engine::Tantivy).await;
}

#[tokio::test]
async fn a_stale_revision_never_replaces_a_newer_one_on_opensearch() {
    stale_revisions(Engine::OpenSearch).await;
}

async fn stale_revisions(engine: Engine) {
    let name = format!("stale-{}", ulid::Ulid::new());
    let index = gigbao_tests::search_engine(engine, &name);
    let titles = |page: shared::search::SearchPage| {
        page.items
            .into_iter()
            .map(|c| c.title.unwrap_or_default())
            .collect::<Vec<_>>()
    };
    index
        .apply(&[Change::Upsert(Box::new(doc("s1", 5, "logo newer")))])
        .await
        .unwrap();
    index.refresh().await.unwrap();
    index
        .apply(&[Change::Upsert(Box::new(doc("s1", 4, "logo older")))])
        .await
        .unwrap();
    index.refresh().await.unwrap();
    assert_eq!(
        titles(index.search(&q("logo")).await.unwrap()),
        ["logo newer"]
    );
    index
        .apply(&[Change::Remove {
            id: "s1".into(),
            rev: Some(3),
        }])
        .await
        .unwrap();
    index.refresh().await.unwrap();
    assert_eq!(index.search(&q("logo")).await.unwrap().total, 1);
    index
        .apply(&[Change::Remove {
            id: "s1".into(),
            rev: Some(6),
        }])
        .await
        .unwrap();
    index.refresh().await.unwrap();
    assert_eq!(index.search(&q("logo")).await.unwrap().total, 0);
    if engine == Engine::Tantivy {
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("gigbao-search-{name}")));
    }
}

#[tokio::test]
async fn a_cursor_pages_past_the_10000th_hit_on_tantivy() {
    deep_pages(Engine::Tantivy).await;
}

#[tokio::test]
async fn a_cursor_pages_past_the_10000th_hit_on_opensearch() {
    deep_pages(Engine::OpenSearch).await;
}

/// 10,050 services, some sharing a price and a publication time (so the tie-breaks decide):
/// page numbers stop at the 10,000th hit, the cursor (`search_after`) goes on to the last one,
/// agrees with page numbers where both reach, never repeats or skips a hit, and keeps the order.
async fn deep_pages(engine: Engine) {
    const N: usize = 10_050;
    let name = format!("deep-{}", ulid::Ulid::new()).to_lowercase();
    let index = gigbao_tests::search_engine(engine, &name);
    let docs: Vec<SearchDoc> = (0..N)
        .map(|i| {
            let mut d = doc(&format!("s{i:05}"), 1, "logo");
            d.price = 10_000 + (i as i64 % 97) * 100;
            d.created_at = 1_795_507_200_000 + (i as i64 / 3) * 1_000;
            d
        })
        .collect();
    assert_eq!(index.rebuild(docs.clone()).await.unwrap(), N);
    let query = |after: Option<Vec<Value>>, page: u32| SearchQuery {
        tokens: text::query_tokens("logo"),
        sort: Sort::PriceLow,
        page,
        size: 50,
        after,
        ..SearchQuery::default()
    };
    assert!(
        index.search(&query(None, 201)).await.is_err(),
        "page numbers stop at the 10,000th hit"
    );
    let mut seen: Vec<String> = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = index.search(&query(after.clone(), 1)).await.unwrap();
        assert_eq!(page.total, N as u64);
        if pages == 3 {
            let numbered = index.search(&query(None, 4)).await.unwrap();
            assert_eq!(numbered.items, page.items, "page 4 by cursor and by number");
        }
        if page.items.is_empty() {
            assert_eq!(page.last, None);
            break;
        }
        assert!(
            Sort::PriceLow.fits(page.last.as_ref().unwrap()),
            "{:?}",
            page.last
        );
        seen.extend(page.items.iter().map(|c| c.id.clone()));
        after = page.last;
        pages += 1;
    }
    assert_eq!(pages, N.div_ceil(50));
    // Every hit once, in the sort's order: price up, newest first, then the id.
    let mut expected = docs;
    expected.sort_by(|a, b| {
        a.price
            .cmp(&b.price)
            .then(b.created_at.cmp(&a.created_at))
            .then(a.id.cmp(&b.id))
    });
    let expected: Vec<String> = expected.into_iter().map(|d| d.id).collect();
    assert_eq!(seen.len(), N);
    assert!(seen == expected, "the cursor walk is out of order");
    if engine == Engine::Tantivy {
        let _ = std::fs::remove_dir_all(std::env::temp_dir().join(format!("gigbao-search-{name}")));
    }
}

/// The auto-create trap, on the real node: a write through the alias before any rebuild must
/// not make a concrete index named like the alias (OpenSearch creates one by default), or every
/// later rebuild's alias swap fails. The adapter requires the alias on writes and, when it is
/// missing, creates the first index behind it.
#[tokio::test]
async fn a_write_before_the_first_rebuild_leaves_the_alias_movable_on_opensearch() {
    let name = format!("trap-{}", ulid::Ulid::new()).to_lowercase();
    let alias = format!("services-{name}");
    let index = gigbao_tests::search_engine(Engine::OpenSearch, &name);
    // Nothing indexed yet, no index behind the alias: found nothing (not an outage).
    assert_eq!(index.search(&q("logo")).await.unwrap().total, 0);
    // Buyers keep searching while the first write creates the index: every search answers
    // (nothing, then the service), none meets an alias whose index cannot answer yet.
    let searching = std::sync::atomic::AtomicBool::new(true);
    let searches = async {
        let mut answered = 0;
        while searching.load(std::sync::atomic::Ordering::Relaxed) {
            if let Err(e) = index.search(&q("logo")).await {
                panic!("a search while the first index was created failed: {e}");
            }
            answered += 1;
        }
        answered
    };
    let write = async {
        let outcomes = index
            .apply(&[Change::Upsert(Box::new(doc("s1", 1, "logo")))])
            .await
            .unwrap();
        searching.store(false, std::sync::atomic::Ordering::Relaxed);
        outcomes
    };
    let (answered, outcomes) = tokio::join!(searches, write);
    assert!(answered > 0);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    index.refresh().await.unwrap();
    assert_eq!(index.search(&q("logo")).await.unwrap().total, 1);
    let held: Value = reqwest::get(format!("{}/_alias/{alias}", gigbao_tests::opensearch_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let behind: Vec<&String> = held.as_object().unwrap().keys().collect();
    assert_eq!(behind, [&format!("{alias}-0")], "{held}");
    // The rebuild moves the alias and drops the first index.
    let loaded = index
        .rebuild(vec![doc("s1", 2, "logo"), doc("s2", 1, "poster")])
        .await
        .unwrap();
    assert_eq!(loaded, 2);
    assert_eq!(index.search(&q("")).await.unwrap().total, 2);
    let indices = reqwest::get(format!("{}/{alias}-0", gigbao_tests::opensearch_url()))
        .await
        .unwrap();
    assert_eq!(indices.status(), 404, "the first index is gone");
}

// ------------------------------------------------------------------ OpenSearch contract

fn signed(server: &MockServer) -> OpenSearchIndex {
    use aws_credential_types::provider::SharedCredentialsProvider;
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "test");
    let auth = opensearch::auth::Credentials::AwsSigV4(
        SharedCredentialsProvider::new(creds),
        aws_config::Region::new("ap-east-1"),
    );
    OpenSearchIndex::new(&server.uri(), "services", Some(auth)).unwrap()
}

/// SigV4 for the `es` service in the domain's region, over the body actually sent.
fn assert_sigv4(req: &Request) {
    let auth = req.headers.get("authorization").unwrap().to_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"),
        "{auth}"
    );
    assert!(auth.contains("/ap-east-1/es/aws4_request"), "{auth}");
    assert!(auth.contains("SignedHeaders="), "{auth}");
    assert!(req.headers.contains_key("x-amz-date"));
}

fn card_json(id: &str) -> Value {
    serde_json::to_value(doc(id, 1, "logo").card).unwrap()
}

#[tokio::test]
async fn opensearch_search_sends_the_seed_query_with_every_filter_and_reads_the_hits() {
    let server = MockServer::start().await;
    let expected = json!({
        "from": 10,
        "size": 10,
        "track_total_hits": true,
        "query": {"bool": {
            "must": [
                {"multi_match": {"query": "logo", "type": "best_fields", "fields": [
                    "title^3", "title_zh^3", "title_pinyin^2", "skills_text^2",
                    "category_text^2", "description^1", "description_zh^1", "freelancer_name^1"]}},
                {"multi_match": {"query": "设计", "type": "best_fields", "fields": [
                    "title^3", "title_zh^3", "title_pinyin^2", "skills_text^2",
                    "category_text^2", "description^1", "description_zh^1", "freelancer_name^1"]}}
            ],
            "filter": [
                {"bool": {"should": [{"term": {"category": "design"}}, {"term": {"parent_category": "design"}}], "minimum_should_match": 1}},
                {"terms": {"skills": ["logo", "branding"]}},
                {"term": {"service_type": "fixed"}},
                {"range": {"price": {"gte": 10000, "lte": 50000}}},
                {"range": {"rating": {"gte": 4.5}}},
                {"range": {"delivery_days": {"lte": 3}}}
            ]
        }},
        "sort": [{"price": "asc"}, {"created_at": "desc"}, {"id": "asc"}],
        "_source": ["card"]
    });
    let response = json!({
        "took": 7, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": 12, "relation": "eq"},
            "max_score": null,
            "hits": [
                {"_index": "services-20261124080000", "_id": "s1", "_score": null,
                 "_source": {"card": card_json("s1")}, "sort": [29900, 1795507200000i64, "s1"]},
                {"_index": "services-20261124080000", "_id": "s2", "_score": null,
                 "_source": {"card": card_json("s2")}, "sort": [39900, 1795507100000i64, "s2"]}
            ]
        }
    });
    Mock::given(method("POST"))
        .and(path("/services/_search"))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(&response))
        .expect(1)
        .mount(&server)
        .await;
    let index = signed(&server);
    let query = SearchQuery {
        tokens: text::query_tokens("logo设计"),
        category: Some("design".into()),
        skills: vec!["logo".into(), "branding".into()],
        service_type: Some(ServiceType::Fixed),
        min_price: Some(10_000),
        max_price: Some(50_000),
        min_rating: Some(4.5),
        max_delivery_days: Some(3),
        sort: Sort::PriceLow,
        page: 2,
        size: 10,
        after: None,
    };
    let page = index.search(&query).await.unwrap();
    assert_eq!(page.total, 12);
    assert_eq!(
        page.last,
        Some(vec![json!(39900), json!(1795507100000i64), json!("s2")])
    );
    assert_eq!(
        page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["s1", "s2"]
    );
    assert_eq!(page.items[0].freelancer.location, "杭州");
    assert_sigv4(&server.received_requests().await.unwrap()[0]);
}

#[tokio::test]
async fn opensearch_sorts_and_match_all() {
    let no_text = SearchQuery {
        page: 1,
        size: 20,
        ..SearchQuery::default()
    };
    let body = shared::search::opensearch::search_body(&no_text);
    assert_eq!(body["query"], json!({"match_all": {}}));
    let sorts = |sort| {
        shared::search::opensearch::search_body(&SearchQuery {
            sort,
            ..no_text.clone()
        })["sort"]
            .clone()
    };
    let tail = [json!({"created_at": "desc"}), json!({"id": "asc"})];
    let with = |head: Vec<Value>| Value::Array(head.into_iter().chain(tail.clone()).collect());
    assert_eq!(
        sorts(Sort::Relevance),
        with(vec![
            json!({"_score": "desc"}),
            json!({"ranking_score": "desc"})
        ])
    );
    assert_eq!(sorts(Sort::PriceHigh), with(vec![json!({"price": "desc"})]));
    assert_eq!(
        sorts(Sort::Rating),
        with(vec![
            json!({"rating": "desc"}),
            json!({"reviews_count": "desc"})
        ])
    );
    assert_eq!(sorts(Sort::Newest), with(vec![]));
    // After a hit: its sort values as `search_after`, from the first hit on.
    let after = shared::search::opensearch::search_body(&SearchQuery {
        page: 300,
        after: Some(vec![json!(1795507200000i64), json!("s9")]),
        sort: Sort::Newest,
        ..no_text.clone()
    });
    assert_eq!(
        (after["from"].clone(), after["search_after"].clone()),
        (json!(0), json!([1795507200000i64, "s9"]))
    );
}

#[tokio::test]
async fn opensearch_bulk_versions_every_write_and_reports_each_item() {
    let server = MockServer::start().await;
    let upsert = doc("s1", 7, "logo");
    let mut source = serde_json::to_value(&upsert).unwrap();
    source.as_object_mut().unwrap().remove("rev");
    let expected = [
        json!({"index": {"_index": "services", "_id": "s1", "version": 7, "version_type": "external_gte"}}),
        source,
        json!({"delete": {"_index": "services", "_id": "s2", "version": 8, "version_type": "external_gte"}}),
        json!({"delete": {"_index": "services", "_id": "s3"}}),
        json!({"delete": {"_index": "services", "_id": "s4"}}),
    ];
    let expected_body: String = expected
        .iter()
        .map(|v| format!("{}\n", serde_json::to_string(v).unwrap()))
        .collect();
    let response = json!({
        "took": 30, "errors": true,
        "items": [
            {"index": {"_index": "services-1", "_id": "s1", "_version": 7, "result": "created", "status": 201}},
            {"delete": {"_index": "services-1", "_id": "s2", "status": 409,
                        "error": {"type": "version_conflict_engine_exception", "reason": "[s2]: version conflict, current version [9] is higher than the one provided [8]"}}},
            {"delete": {"_index": "services-1", "_id": "s3", "_version": 1, "result": "not_found", "status": 404}},
            {"delete": {"_index": "services-1", "_id": "s4", "status": 429,
                        "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution of coordinating operation"}}}
        ]
    });
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .and(header("content-type", "application/x-ndjson"))
        .and(body_string(expected_body))
        .respond_with(ResponseTemplate::new(200).set_body_json(&response))
        .expect(1)
        .mount(&server)
        .await;
    let outcomes = signed(&server)
        .apply(&[
            Change::Upsert(Box::new(upsert)),
            Change::Remove {
                id: "s2".into(),
                rev: Some(8),
            },
            Change::Remove {
                id: "s3".into(),
                rev: None,
            },
            Change::Remove {
                id: "s4".into(),
                rev: None,
            },
        ])
        .await
        .unwrap();
    assert_eq!(outcomes[..3], [Ok(()), Ok(()), Ok(())]);
    assert!(
        outcomes[3]
            .as_ref()
            .unwrap_err()
            .contains("rejected execution")
    );
    assert_sigv4(&server.received_requests().await.unwrap()[0]);
}

#[tokio::test]
async fn opensearch_errors_are_errors_not_empty_results() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/_search"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": {"type": "cluster_block_exception", "reason": "blocked"}, "status": 503})))
        .mount(&server)
        .await;
    assert!(signed(&server).search(&q("logo")).await.is_err());
}

#[tokio::test]
async fn opensearch_rebuild_loads_a_new_index_then_moves_the_alias_in_one_call() {
    let server = MockServer::start().await;
    let definition: Value = serde_json::from_str(INDEX_DEFINITION).unwrap();
    Mock::given(method("PUT"))
        .and(path_regex(r"^/services-\d{14}$"))
        .and(body_json(&definition))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"acknowledged": true, "shards_acknowledged": true, "index": "services-new"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_bulk"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"took": 3, "errors": false, "items": [
                {"index": {"_id": "s1", "status": 201, "result": "created"}},
                {"index": {"_id": "s2", "status": 201, "result": "created"}}
            ]}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/services-\d{14}/_refresh$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"_shards": {"total": 2, "successful": 2, "failed": 0}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/_alias/services"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"services-20261101000000": {"aliases": {"services": {}}}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_aliases"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/services-20261101000000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"acknowledged": true})))
        .expect(1)
        .mount(&server)
        .await;
    let n = signed(&server)
        .rebuild(vec![doc("s1", 1, "logo"), doc("s2", 1, "poster")])
        .await
        .unwrap();
    assert_eq!(n, 2);
    let requests = server.received_requests().await.unwrap();
    let created = requests[0].url.path().trim_start_matches('/').to_owned();
    let bulk = String::from_utf8(requests[1].body.clone()).unwrap();
    assert!(bulk.starts_with(&format!(
        "{{\"index\":{{\"_id\":\"s1\",\"_index\":\"{created}\""
    )));
    let swap: Value = serde_json::from_slice(&requests[4].body).unwrap();
    assert_eq!(
        swap,
        json!({"actions": [
            {"remove": {"index": "services-20261101000000", "alias": "services"}},
            {"add": {"index": created, "alias": "services"}}
        ]})
    );
}
