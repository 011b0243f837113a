//! Search through the running stack: services published over HTTP reach the index through
//! the table stream, `stream-router`, the search queue and `search-indexer`, and are found by
//! `GET /services/search`. A fixed data set of six services, marked with a word of their own
//! so that other tests' services never show up, gives an exact order for every filter and
//! every sort.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::{Api, register_freelancer};

struct DataSet {
    marker: String,
    /// S1…S6, in publication order.
    ids: Vec<String>,
}

static DATA: OnceCell<DataSet> = OnceCell::const_new();

fn marker() -> String {
    let n = ulid::Ulid::new().random();
    let letters: String = (0..8)
        .map(|i| char::from(b'a' + ((n >> (i * 5)) % 26) as u8))
        .collect();
    format!("zq{letters}")
}

#[allow(clippy::too_many_arguments)]
fn service(
    m: &str,
    title_zh: &str,
    title: &str,
    description_zh: &str,
    category: &str,
    skills: &[&str],
    service_type: &str,
    price: &str,
    days: u32,
) -> Value {
    json!({
        "title": format!("{m} {title}"),
        "title_zh": title_zh,
        "description": "Source files included, revisions welcome, quick replies.",
        "description_zh": description_zh,
        "category": category,
        "skills": skills,
        "service_type": service_type,
        "packages": {"basic": {"price": price, "description": "基础版", "delivery_days": days, "revisions": 1}}
    })
}

async fn publish(api: &Api, access: &str, body: Value) -> String {
    let a = api.post_auth("/services", access, body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let id = a.body["data"]["id"].as_str().unwrap().to_owned();
    let p = api
        .post_auth(&format!("/services/{id}/publish"), access, json!({}))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body["data"]["status"], "active", "{}", p.body);
    id
}

/// Sets a service's review sums as `stats-updater` would (straight in the table, with a new
/// revision); the stream carries them to the index like any other change.
async fn rate(id: &str, rating_sum: u32, reviews: u32) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let store = gigbao_tests::stack_store().await;
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("PK", AttributeValue::S(format!("SERVICE#{id}")))
        .key("SK", AttributeValue::S("SERVICE".into()))
        .update_expression("SET rating_sum = :r, reviews_count = :n ADD rev :one")
        .expression_attribute_values(":r", AttributeValue::N(rating_sum.to_string()))
        .expression_attribute_values(":n", AttributeValue::N(reviews.to_string()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
}

async fn search(api: &Api, query: &str) -> Value {
    let a = api.get(&format!("/services/search?{query}")).await;
    assert_eq!(a.status, 200, "{query}: {}", a.body);
    a.body["data"].clone()
}

fn ids(data: &Value) -> Vec<String> {
    data["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until `query` answers `want` (the index follows the table within seconds).
async fn until(api: &Api, query: &str, want: impl Fn(&Value) -> bool) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let data = search(api, query).await;
        if want(&data) {
            return (data, started.elapsed());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{query} never answered as expected; last: {data}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn data() -> &'static DataSet {
    DATA.get_or_init(|| async {
        let api = Api::connect();
        let m = marker();
        let (_, _, a) = register_freelancer(&api, "searcha").await;
        let (_, _, b) = register_freelancer(&api, "searchb").await;
        let a = a["access"].as_str().unwrap().to_owned();
        let b = b["access"].as_str().unwrap().to_owned();
        let mut ids = Vec::new();
        for (access, body) in [
            (
                &a,
                service(
                    &m,
                    "品牌logo设计，原创三稿交付",
                    "brand logo design, three drafts",
                    "提供源文件，支持修改。沟通及时，按时交付，售后无忧。",
                    "logo-design",
                    &["illustrator"],
                    "package",
                    "199.00",
                    3,
                ),
            ),
            (
                &a,
                service(
                    &m,
                    "微信小程序开发，前后端一站式",
                    "WeChat mini program development",
                    "提供源码，支持修改。沟通及时，按时交付，售后无忧。",
                    "mini-program-development",
                    &["wechat-mini-program"],
                    "fixed",
                    "2999.00",
                    14,
                ),
            ),
            (
                &a,
                service(
                    &m,
                    "抖音短视频剪辑，包装字幕特效",
                    "short video editing for Douyin",
                    "提供工程文件，支持修改。沟通及时，按时交付，售后无忧。",
                    "video-editing",
                    &[],
                    "hourly",
                    "99.00",
                    2,
                ),
            ),
            (
                &b,
                service(
                    &m,
                    "海报制作加急，当天交付源文件",
                    "express poster making, same day",
                    "提供源文件，支持修改。沟通及时，按时交付，售后无忧。",
                    "poster-design",
                    &["photoshop"],
                    "fixed",
                    "59.00",
                    1,
                ),
            ),
            (
                &b,
                service(
                    &m,
                    "后端微服务开发，高并发架构",
                    "backend microservices development",
                    "负责架构设计与实现，提供源码。沟通及时，按时交付，售后无忧。",
                    "backend-development",
                    &["go", "microservices"],
                    "package",
                    "5000.00",
                    30,
                ),
            ),
            (
                &b,
                service(
                    &m,
                    "公众号排版美化，图文精排服务",
                    "official account layout polishing",
                    "提供排版文件，支持修改。沟通及时，按时交付，售后无忧。",
                    "official-account-development",
                    &[],
                    "fixed",
                    "129.00",
                    5,
                ),
            ),
        ] {
            ids.push(publish(&api, access, body).await);
            // Distinct publication times: `newest` has one right order.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Averages 4.90 (49/10), 4.50 (9/2), 4.90 (196/40), 3.00 (6/2).
        for (i, rating_sum, reviews) in [(0, 49, 10), (1, 9, 2), (2, 196, 40), (3, 6, 2)] {
            rate(&ids[i], rating_sum, reviews).await;
        }
        let (_, took) = until(&api, &format!("q={m}&min_rating=3&size=50"), |d| {
            d["total"] == 4
        })
        .await;
        let (all, _) = until(&api, &format!("q={m}&size=50"), |d| d["total"] == 6).await;
        eprintln!(
            "data set indexed {took:?} after the last rating; {}",
            all["total"]
        );
        DataSet { marker: m, ids }
    })
    .await
}

/// The data set's ids for these positions (1-based: S1…S6).
fn s(d: &DataSet, which: &[usize]) -> Vec<String> {
    which.iter().map(|i| d.ids[i - 1].clone()).collect()
}

async fn order(query: &str) -> Vec<String> {
    let d = data().await;
    ids(&search(&Api::connect(), &format!("q={}&size=50&{query}", d.marker)).await)
}

#[tokio::test]
async fn published_services_are_found_in_seconds_by_chinese_english_pinyin_and_traditional() {
    let api = Api::connect();
    let (_, _, f) = register_freelancer(&api, "findme").await;
    let access = f["access"].as_str().unwrap();
    let m = marker();
    let id = publish(
        &api,
        access,
        service(
            &m,
            "企业logo设计，小程序开发，短视频剪辑",
            "logo design and mini programs",
            "提供源文件。沟通及时，按时交付，售后无忧。",
            "logo-design",
            &[],
            "fixed",
            "300.00",
            3,
        ),
    )
    .await;
    let (_, took) = until(&api, &format!("q={m}"), |d| d["total"] == 1).await;
    eprintln!("found {took:?} after publishing");
    for q in [
        "logo设计",
        "小程序开发",
        "短视频剪辑",
        "logo design",
        "sheji",
        "sj",
        "xiaochengxu",
        "設計",
        "短視頻剪輯",
        "ＬＯＧＯ",
    ] {
        let data = search(&api, &format!("q={}%20{}", m, enc(q))).await;
        assert_eq!(ids(&data), std::slice::from_ref(&id), "{q}");
    }
    // A card is what a result list shows.
    let data = search(&api, &format!("q={m}")).await;
    let card = &data["items"][0];
    assert_eq!(card["title_zh"], "企业logo设计，小程序开发，短视频剪辑");
    assert_eq!(card["from_price"], "300.00");
    assert_eq!(card["category"]["slug"], "logo-design");
    assert_eq!(
        (data["page"].clone(), data["size"].clone()),
        (json!(1), json!(20))
    );

    // Paused: gone within seconds; published again: back.
    let p = api
        .post_auth(&format!("/services/{id}/pause"), access, json!({}))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    until(&api, &format!("q={m}"), |d| d["total"] == 0).await;
    let p = api
        .post_auth(&format!("/services/{id}/publish"), access, json!({}))
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    until(&api, &format!("q={m}"), |d| d["total"] == 1).await;
}

#[tokio::test]
async fn relevance_ranks_title_then_category_then_description_matches() {
    let d = data().await;
    let api = Api::connect();
    let data = search(
        &api,
        &format!("q={}%20{}&sort=relevance", d.marker, enc("设计")),
    )
    .await;
    // S1 has 设计 in its title, S4 in its category (海报设计), S5 only in its description.
    assert_eq!(ids(&data), s(d, &[1, 4, 5]));
}

#[tokio::test]
async fn filter_category_takes_a_subcategory_or_its_parent() {
    let d = data().await;
    assert_eq!(order("category=design&sort=newest").await, s(d, &[4, 1]));
    assert_eq!(order("category=logo-design").await, s(d, &[1]));
    assert_eq!(
        order("category=development&sort=newest").await,
        s(d, &[6, 5, 2])
    );
    assert_eq!(
        order("category=no-such-category").await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn filter_skills_matches_any_of_them() {
    let d = data().await;
    assert_eq!(
        order("skills=go,photoshop&sort=newest").await,
        s(d, &[5, 4])
    );
    assert_eq!(order("skills=wechat-mini-program").await, s(d, &[2]));
}

#[tokio::test]
async fn filter_service_type() {
    let d = data().await;
    assert_eq!(order("service_type=hourly").await, s(d, &[3]));
    assert_eq!(
        order("service_type=package&sort=price_low").await,
        s(d, &[1, 5])
    );
}

#[tokio::test]
async fn filter_price_range_is_inclusive_and_in_yuan() {
    let d = data().await;
    assert_eq!(
        order("min_price=99&max_price=199.00&sort=price_low").await,
        s(d, &[3, 6, 1])
    );
    assert_eq!(order("min_price=3000&sort=price_low").await, s(d, &[5]));
    assert_eq!(order("max_price=59&sort=price_low").await, s(d, &[4]));
}

#[tokio::test]
async fn filter_min_rating() {
    let d = data().await;
    assert_eq!(order("min_rating=4.5&sort=rating").await, s(d, &[3, 1, 2]));
    assert_eq!(order("min_rating=4.9&sort=newest").await, s(d, &[3, 1]));
}

#[tokio::test]
async fn filter_max_delivery_days() {
    let d = data().await;
    assert_eq!(
        order("max_delivery_days=2&sort=newest").await,
        s(d, &[4, 3])
    );
    assert_eq!(
        order("max_delivery_days=3&sort=price_low").await,
        s(d, &[4, 3, 1])
    );
}

#[tokio::test]
async fn sort_price_low_and_price_high() {
    let d = data().await;
    assert_eq!(order("sort=price_low").await, s(d, &[4, 3, 6, 1, 2, 5]));
    assert_eq!(order("sort=price_high").await, s(d, &[5, 2, 1, 6, 3, 4]));
}

#[tokio::test]
async fn sort_rating_breaks_ties_by_reviews_then_newest() {
    let d = data().await;
    assert_eq!(order("sort=rating").await, s(d, &[3, 1, 2, 4, 6, 5]));
}

#[tokio::test]
async fn sort_newest() {
    let d = data().await;
    assert_eq!(order("sort=newest").await, s(d, &[6, 5, 4, 3, 2, 1]));
}

#[tokio::test]
async fn pages_have_an_exact_total() {
    let d = data().await;
    let api = Api::connect();
    let page = search(&api, &format!("q={}&sort=newest&size=4&page=2", d.marker)).await;
    assert_eq!(ids(&page), s(d, &[2, 1]));
    assert_eq!(
        (
            page["total"].clone(),
            page["page"].clone(),
            page["size"].clone()
        ),
        (json!(6), json!(2), json!(4))
    );
    let beyond = search(&api, &format!("q={}&size=4&page=3", d.marker)).await;
    assert_eq!((ids(&beyond).len(), beyond["total"].clone()), (0, json!(6)));
}

/// A client walks the results by `next_cursor` (how pages past the 10,000th hit are reached):
/// the same hits as page numbers, in the same order, counted pages, and `null` at the end; a
/// cursor only continues its own search.
#[tokio::test]
async fn next_cursor_walks_the_results_to_the_end() {
    let d = data().await;
    let api = Api::connect();
    let first = format!("q={}&sort=price_low&size=2", d.marker);
    let mut page = search(&api, &first).await;
    let mut walked = ids(&page);
    let mut numbers = vec![page["page"].clone()];
    while let Some(cursor) = page["next_cursor"].as_str() {
        page = search(&api, &format!("{first}&cursor={cursor}")).await;
        assert_eq!(page["total"], 6);
        walked.extend(ids(&page));
        numbers.push(page["page"].clone());
    }
    assert_eq!(walked, s(d, &[4, 3, 6, 1, 2, 5]));
    assert_eq!(numbers, [json!(1), json!(2), json!(3)]);
    assert_eq!(page["next_cursor"], Value::Null);
    // The cursor of page 1, sent with another sort or a page number: a 400 that says why.
    let cursor = search(&api, &first).await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    for (query, code) in [
        (
            format!("q={}&sort=newest&size=2&cursor={cursor}", d.marker),
            "search.invalid_cursor",
        ),
        (
            format!("{first}&page=2&cursor={cursor}"),
            "search.cursor_with_page",
        ),
        (
            format!("{first}&cursor=bm90LWEtY3Vyc29y"),
            "search.invalid_cursor",
        ),
    ] {
        let a = api.get(&format!("/services/search?{query}")).await;
        assert_eq!(a.status, 400, "{}", a.body);
        assert_eq!(a.body["code"], code, "{}", a.body);
    }
}

#[tokio::test]
async fn bad_search_input_is_a_400_with_a_code_in_both_languages() {
    let api = Api::connect();
    let long = "设".repeat(500);
    for (query, code) in [
        ("min_price=500&max_price=100", "search.invalid_price_range"),
        ("page=-1", "search.invalid_page"),
        ("page=0", "search.invalid_page"),
        ("size=51", "search.invalid_size"),
        ("sort=cheapest", "search.invalid_sort"),
        (
            &format!("q={}", enc(&long)) as &str,
            "search.query_too_long",
        ),
        ("min_rating=6", "search.invalid_rating"),
        ("max_delivery_days=-3", "search.invalid_delivery_days"),
        ("service_type=gig", "search.invalid_service_type"),
        ("min_price=abc", "search.invalid_price"),
        ("page=201&size=50", "search.page_too_deep"),
    ] {
        let zh = api.get(&format!("/services/search?{query}")).await;
        assert_eq!(zh.status, 400, "{query}: {}", zh.body);
        assert_eq!(zh.body["success"], false);
        assert_eq!(zh.body["code"], code, "{query}: {}", zh.body);
        assert!(
            crate::is_chinese(zh.body["message"].as_str().unwrap()),
            "{}",
            zh.body
        );
        let en = api
            .send(
                api.request(reqwest::Method::GET, &format!("/services/search?{query}"))
                    .header("accept-language", "en"),
            )
            .await;
        assert_eq!(en.status, 400);
        assert!(
            en.body["message"].as_str().unwrap().is_ascii(),
            "{}",
            en.body
        );
    }
}

/// Open public briefs are found in the search engine beside services, by Chinese, pinyin and
/// the buyer's words, with category and budget filters; one that closes leaves the results.
#[tokio::test]
async fn briefs_are_found_by_text_beside_services_and_leave_when_closed() {
    let api = Api::connect();
    let m = marker();
    let buyer = crate::orders::buyer(&api, "0").await;
    let post = |title: String, category: &str, lo: &str, hi: &str| {
        let body = json!({
            "title": title,
            "description": "我们需要一位有经验的设计师，两周内完成，可开发票，欢迎投标沟通细节。",
            "category": category,
            "budget_min": lo,
            "budget_max": hi,
        });
        let access = buyer.access.clone();
        let api = &api;
        async move {
            let a = api.post_auth("/briefs", &access, body).await;
            assert_eq!(a.status, 201, "{}", a.body);
            a.body["data"]["id"].as_str().unwrap().to_owned()
        }
    };
    let logo = post(
        format!("{m} 茶饮品牌标志设计"),
        "logo-design",
        "2000.00",
        "3000.00",
    )
    .await;
    let small = post(
        format!("{m} 小程序开发"),
        "mini-program-development",
        "500.00",
        "800.00",
    )
    .await;
    let find = |query: String| {
        let api = &api;
        async move {
            let a = api.get(&format!("/briefs/search?{query}")).await;
            assert_eq!(a.status, 200, "{query}: {}", a.body);
            a.body["data"].clone()
        }
    };
    let wait = |query: String, want: Vec<String>| {
        let find = &find;
        async move {
            let started = Instant::now();
            loop {
                let data = find(query.clone()).await;
                if ids(&data) == want {
                    return data;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "{query} never answered {want:?}; last: {data}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    // Newest first for the marker alone; by a Chinese word, and by its pinyin.
    let all = wait(
        format!("q={m}&sort=newest"),
        vec![small.clone(), logo.clone()],
    )
    .await;
    assert_eq!(all["total"], 2);
    assert_eq!(all["items"][0]["title"], format!("{m} 小程序开发"));
    assert_eq!(all["items"][0]["budget_max"], "800.00");
    wait(format!("q={m}+{}", enc("标志")), vec![logo.clone()]).await;
    wait(format!("q={m}+xiaochengxu"), vec![small.clone()]).await;
    // A category, and the top of the budget.
    wait(format!("q={m}&category=logo-design"), vec![logo.clone()]).await;
    wait(format!("q={m}&budget_min=1000"), vec![logo.clone()]).await;
    // The services' search does not show briefs.
    let services = search(&api, &format!("q={m}")).await;
    assert_eq!(services["total"], 0, "{services}");
    // Closed: gone from the results.
    let closed = api
        .post_auth(&format!("/briefs/{logo}/close"), &buyer.access, json!({}))
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    wait(format!("q={m}"), vec![small.clone()]).await;
    // A bad parameter is a 400 like the services' search.
    let bad = api.get("/briefs/search?sort=rating").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.body["code"], "search.invalid_sort");
}
