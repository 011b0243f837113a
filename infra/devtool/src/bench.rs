//! `devtool bench-search N`: both search engines (tantivy, and the OpenSearch node at
//! `GIGBAO_OPENSEARCH_URL` when set), with our analysis, on N generated services with realistic
//! bilingual titles. Prints a Markdown section: indexing (full rebuild, and 25-document batches
//! as the indexer sends them), query latency percentiles per kind of query, and the ratios.

use std::time::{Duration, Instant};

use shared::domain::catalog::Label;
use shared::domain::service::ServiceType;
use shared::search::local::LocalIndex;
use shared::search::opensearch::OpenSearchIndex;
use shared::search::{
    CardFreelancer, Change, SearchDoc, SearchEngine, SearchIndex, SearchQuery, ServiceCard, Sort,
    text,
};

/// A small deterministic generator (xorshift64*), so every run indexes the same services.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
}

const PREFIX_ZH: [&str; 12] = [
    "品牌",
    "企业",
    "餐饮",
    "电商",
    "个人",
    "教育机构",
    "科技公司",
    "奶茶店",
    "民宿",
    "健身房",
    "跨境",
    "初创团队",
];
/// (Chinese, English, category, parent).
const WORK: [(&str, &str, &str, &str); 16] = [
    ("logo设计", "logo design", "logo-design", "design"),
    ("海报设计", "poster design", "graphic-design", "design"),
    (
        "详情页设计",
        "product page design",
        "graphic-design",
        "design",
    ),
    ("UI设计", "UI design", "ui-design", "design"),
    ("插画绘制", "illustration", "illustration", "design"),
    (
        "小程序开发",
        "mini program development",
        "mini-programs",
        "programming",
    ),
    (
        "公众号开发",
        "official account development",
        "mini-programs",
        "programming",
    ),
    (
        "网站建设",
        "website development",
        "web-development",
        "programming",
    ),
    (
        "后端开发",
        "backend development",
        "web-development",
        "programming",
    ),
    (
        "微服务架构",
        "microservice architecture",
        "web-development",
        "programming",
    ),
    (
        "短视频剪辑",
        "short video editing",
        "video-editing",
        "video",
    ),
    ("抖音运营", "Douyin marketing", "social-media", "marketing"),
    (
        "小红书种草文案",
        "Xiaohongshu copywriting",
        "copywriting",
        "writing",
    ),
    (
        "中英翻译",
        "Chinese English translation",
        "translation",
        "writing",
    ),
    ("商业配音", "commercial voice over", "voice-over", "video"),
    (
        "数据分析报告",
        "data analysis report",
        "data-analysis",
        "programming",
    ),
];
const SUFFIX_ZH: [&str; 8] = [
    "专业定制",
    "原创设计",
    "加急24小时",
    "不满意可修改",
    "资深团队",
    "一对一服务",
    "包售后",
    "高性价比",
];
const CITIES: [&str; 8] = [
    "北京", "上海", "深圳", "杭州", "成都", "广州", "武汉", "西安",
];

fn label(slug: &str, name: &str, zh: &str) -> Label {
    Label {
        slug: slug.to_owned(),
        name: name.to_owned(),
        name_zh: zh.to_owned(),
    }
}

fn doc(i: u64, rng: &mut Rng) -> SearchDoc {
    let (work_zh, work_en, category, parent) = *rng.pick(&WORK);
    let title_zh = format!(
        "{}{}{}",
        rng.pick(&PREFIX_ZH),
        work_zh,
        rng.pick(&SUFFIX_ZH)
    );
    let title = format!("Professional {work_en} for your brand");
    let description_zh = format!(
        "{}提供{}服务，{}年经验，已服务{}家客户。交付源文件，支持修改，沟通及时。",
        rng.pick(&CITIES),
        work_zh,
        1 + rng.next() % 15,
        10 + rng.next() % 990
    );
    let description =
        format!("I deliver {work_en} with source files, unlimited revisions and fast replies.");
    let price = 500 + (rng.next() % 500_000) as i64;
    let rating = (rng.next() % 51) as f64 / 10.0;
    let reviews = rng.next() % 300;
    let orders = rng.next() % 1000;
    let days = 1 + (rng.next() % 30) as u32;
    let id = format!("01JBENCH{i:018}");
    let skill = label(category, work_en, work_zh);
    let created_at = 1_700_000_000_000 + (rng.next() % 60_000_000_000) as i64;
    SearchDoc {
        id: id.clone(),
        rev: 1,
        title: text::index_text(&title),
        title_zh: text::index_text(&title_zh),
        title_pinyin: text::pinyin_text(&title_zh),
        description: text::index_text(&description),
        description_zh: text::index_text(&description_zh),
        category_text: text::index_text(&format!("{work_en} {work_zh}")),
        skills_text: text::index_text(&format!("{work_en} {work_zh}")),
        freelancer_name: format!("freelancer{}", i % 5000),
        category: category.to_owned(),
        parent_category: parent.to_owned(),
        skills: vec![category.to_owned()],
        service_type: "fixed".to_owned(),
        price,
        rating,
        reviews_count: reviews,
        orders_count: orders,
        delivery_days: days,
        created_at,
        ranking_score: shared::domain::ranking::score(&shared::domain::ranking::Signals {
            rating_sum: (rating * reviews as f64).round() as u64,
            reviews,
            orders,
            views: rng.next() % 5000,
            response_rate: Default::default(),
        }),
        card: ServiceCard {
            id,
            title: Some(title),
            title_zh: Some(title_zh),
            category: label(category, work_en, work_zh),
            parent_category: label(parent, parent, parent),
            skills: vec![skill],
            service_type: ServiceType::Fixed,
            from_price: shared::domain::Money::from_fen(price).to_string(),
            delivery_days: days,
            image: None,
            thumbnail_url: None,
            rating: format!("{rating:.2}"),
            reviews_count: reviews,
            orders_count: orders,
            freelancer: CardFreelancer {
                id: "01JBENCHFREELANCER00000000".to_owned(),
                username: format!("freelancer{}", i % 5000),
                location: (*rng.pick(&CITIES)).to_owned(),
                seller_level: Default::default(),
            },
            published_at: "2026-11-24T08:00:00Z".to_owned(),
        },
    }
}

fn query(q: &str, f: impl FnOnce(&mut SearchQuery)) -> SearchQuery {
    let mut out = SearchQuery {
        tokens: text::query_tokens(q),
        page: 1,
        size: 20,
        ..SearchQuery::default()
    };
    f(&mut out);
    out
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// What one engine measured.
struct Measured {
    engine: String,
    rebuild: Duration,
    batches: Duration,
    /// Per query kind: hits, sorted latencies.
    queries: Vec<(u64, Vec<Duration>)>,
}

const BATCHES: u64 = 40;
const WARM_UP: usize = 20;
const SAMPLES: usize = 100;

fn kinds() -> Vec<(&'static str, SearchQuery)> {
    vec![
        ("`logo设计`, relevance", query("logo设计", |_| {})),
        ("`小程序开发`, relevance", query("小程序开发", |_| {})),
        (
            "`短视频剪辑`, newest",
            query("短视频剪辑", |q| q.sort = Sort::Newest),
        ),
        ("`logo design`, relevance", query("logo design", |_| {})),
        ("`sheji` (pinyin), relevance", query("sheji", |_| {})),
        ("`xcx` (initials), relevance", query("xcx", |_| {})),
        (
            "`設計` (traditional), rating",
            query("設計", |q| q.sort = Sort::Rating),
        ),
        (
            "`设计` + price 100–500 + rating ≥ 4, price_low",
            query("设计", |q| {
                q.min_price = Some(10_000);
                q.max_price = Some(50_000);
                q.min_rating = Some(4.0);
                q.sort = Sort::PriceLow;
            }),
        ),
        (
            "no text, category `programming`, ≤ 3 days, price_high",
            query("", |q| {
                q.category = Some("programming".into());
                q.max_delivery_days = Some(3);
                q.sort = Sort::PriceHigh;
            }),
        ),
        ("no text, everything, relevance, page 1", query("", |_| {})),
        (
            "no text, everything, relevance, page 50",
            query("", |q| q.page = 50),
        ),
        // Filled in by `measure`: the cursor of the 10,000th hit.
        (
            "no text, everything, newest, page 501 (cursor past the 10,000th hit)",
            query("", |q| q.sort = Sort::Newest),
        ),
    ]
}

/// Rebuild, indexer batches, then every kind of query on one engine.
async fn measure(
    engine: &SearchEngine,
    docs: &[SearchDoc],
    extra: &[Vec<Change>],
) -> anyhow::Result<Measured> {
    let started = Instant::now();
    engine.rebuild(docs.to_vec()).await?;
    let rebuild = started.elapsed();
    let started = Instant::now();
    for changes in extra {
        engine.apply(changes).await?;
    }
    let batches = started.elapsed();
    engine.refresh().await?;
    let mut kinds = kinds();
    if let Some((_, deep)) = kinds.last_mut() {
        let page_500 = SearchQuery {
            page: 500,
            ..deep.clone()
        };
        deep.after = engine.search(&page_500).await?.last;
        deep.page = 501;
    }
    let mut queries = Vec::new();
    for (_, q) in &kinds {
        for _ in 0..WARM_UP {
            engine.search(q).await?;
        }
        let mut times = Vec::with_capacity(SAMPLES);
        let mut total = 0;
        for _ in 0..SAMPLES {
            let t = Instant::now();
            total = engine.search(q).await?.total;
            times.push(t.elapsed());
        }
        times.sort();
        queries.push((total, times));
    }
    Ok(Measured {
        engine: engine.name().to_owned(),
        rebuild,
        batches,
        queries,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `N` services on tantivy, and on the OpenSearch node at `GIGBAO_OPENSEARCH_URL` when set
/// (`make bench` starts one): the same documents, changes and queries on both.
pub async fn search(n: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("gigbao-bench-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut engines = vec![SearchEngine::Local(LocalIndex::new(&dir))];
    let node = std::env::var("GIGBAO_OPENSEARCH_URL").ok();
    let version = std::env::var("GIGBAO_OPENSEARCH_VERSION").unwrap_or_else(|_| "?".into());
    if let Some(url) = &node {
        let alias = format!("bench-{}", std::process::id());
        engines.push(SearchEngine::OpenSearch(OpenSearchIndex::new(
            url, &alias, None,
        )?));
    }

    let started = Instant::now();
    text::warm_up();
    let warm = started.elapsed();

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let docs: Vec<SearchDoc> = (0..n).map(|i| doc(i, &mut rng)).collect();
    let analysed = started.elapsed();
    // The indexer's way: 25 changes, one bulk request (tantivy: one commit).
    let extra: Vec<Vec<Change>> = (0..BATCHES)
        .map(|b| {
            (0..25)
                .map(|k| Change::Upsert(Box::new(doc(n + b * 25 + k, &mut rng))))
                .collect()
        })
        .collect();
    let mut measured = Vec::new();
    for engine in &engines {
        let mut m = measure(engine, &docs, &extra).await?;
        if matches!(engine, SearchEngine::OpenSearch(_)) {
            m.engine = format!("OpenSearch {version}");
        }
        measured.push(m);
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("## Search on both engines\n");
    println!(
        "{n} generated services with bilingual titles (16 kinds of work × 12 prefixes × 8 \
         suffixes), the same documents, changes and queries on each engine, measured by \
         `devtool bench-search` (release build): tantivy in process (the local stack's \
         engine), and {} — a single node on this machine, reached over loopback HTTP, 1 GB \
         heap, so its times include a request and a JSON answer that tantivy does not pay. \
         Latencies: {SAMPLES} runs per query after {WARM_UP} to warm up.\n",
        if node.is_some() {
            format!("OpenSearch {version} (the production engine)")
        } else {
            "no OpenSearch node (GIGBAO_OPENSEARCH_URL unset)".to_owned()
        }
    );
    println!(
        "Analysis, shared by both (fold, segment, pinyin): {:.0} docs/s; the segmenter starts in \
         {:.0} ms (dictionary compiled in).\n",
        n as f64 / analysed.as_secs_f64(),
        ms(warm)
    );
    let head: Vec<&str> = measured.iter().map(|m| m.engine.as_str()).collect();
    let ratio_head = if measured.len() == 2 {
        " | OpenSearch ÷ tantivy"
    } else {
        ""
    };
    println!("| Indexing | {}{ratio_head} |", head.join(" | "));
    println!(
        "|---|{}{}",
        "---|".repeat(head.len()),
        if ratio_head.is_empty() { "" } else { "---|" }
    );
    let ratio = |a: f64, b: f64| {
        if measured.len() == 2 {
            format!(" | {:.2}×", b / a)
        } else {
            String::new()
        }
    };
    let rebuild: Vec<f64> = measured.iter().map(|m| m.rebuild.as_secs_f64()).collect();
    println!(
        "| Full rebuild, {n} docs (new index, alias moved) | {}{} |",
        rebuild
            .iter()
            .map(|s| format!("{s:.1} s ({:.0} docs/s)", n as f64 / s))
            .collect::<Vec<_>>()
            .join(" | "),
        ratio(rebuild[0], *rebuild.last().unwrap_or(&rebuild[0]))
    );
    let batch: Vec<f64> = measured
        .iter()
        .map(|m| ms(m.batches) / BATCHES as f64)
        .collect();
    println!(
        "| Indexer batches (25 docs each) | {}{} |",
        batch
            .iter()
            .map(|b| format!("{b:.0} ms per batch ({:.0} docs/s)", 25_000.0 / b))
            .collect::<Vec<_>>()
            .join(" | "),
        ratio(batch[0], *batch.last().unwrap_or(&batch[0]))
    );
    println!();
    println!(
        "| Query | hits | {} p50 / p95 / p99 ms{ratio_head} (p50) |",
        head.join(" p50 / p95 / p99 ms | ")
    );
    println!(
        "|---|---|{}{}",
        "---|".repeat(head.len()),
        if ratio_head.is_empty() { "" } else { "---|" }
    );
    let names: Vec<&str> = kinds().into_iter().map(|(name, _)| name).collect();
    let cell = |t: &[Duration]| {
        format!(
            "{:.2} / {:.2} / {:.2}",
            percentile(t, 0.5),
            percentile(t, 0.95),
            percentile(t, 0.99)
        )
    };
    let mut all: Vec<Vec<Duration>> = vec![Vec::new(); measured.len()];
    for (i, name) in names.iter().enumerate() {
        let hits: Vec<String> = measured
            .iter()
            .map(|m| m.queries[i].0.to_string())
            .collect();
        let hits = if hits.iter().all(|h| *h == hits[0]) {
            hits[0].clone()
        } else {
            hits.join(" / ")
        };
        let cells: Vec<String> = measured.iter().map(|m| cell(&m.queries[i].1)).collect();
        let p50: Vec<f64> = measured
            .iter()
            .map(|m| percentile(&m.queries[i].1, 0.5))
            .collect();
        println!(
            "| {name} | {hits} | {}{} |",
            cells.join(" | "),
            ratio(p50[0], *p50.last().unwrap_or(&p50[0]))
        );
        for (a, m) in all.iter_mut().zip(&measured) {
            a.extend(&m.queries[i].1);
        }
    }
    for a in &mut all {
        a.sort();
    }
    let p50: Vec<f64> = all.iter().map(|a| percentile(a, 0.5)).collect();
    println!(
        "| **all of the above** | | {}{} |",
        all.iter()
            .map(|a| format!("**{}**", cell(a)))
            .collect::<Vec<_>>()
            .join(" | "),
        ratio(p50[0], *p50.last().unwrap_or(&p50[0]))
    );
    Ok(())
}
