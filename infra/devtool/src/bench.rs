//! `devtool bench-search N`: the local search engine (tantivy, with our analysis) on N
//! generated services with realistic bilingual titles. Prints a Markdown section: indexing
//! throughput (full rebuild, and 25-document batches as the indexer commits them) and query
//! latency percentiles per kind of query.

use std::time::{Duration, Instant};

use shared::domain::catalog::Label;
use shared::domain::service::ServiceType;
use shared::search::local::LocalIndex;
use shared::search::{
    CardFreelancer, Change, SearchDoc, SearchIndex, SearchQuery, ServiceCard, Sort, text,
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

pub async fn search(n: u64) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("gigbao-bench-search-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let index = LocalIndex::new(&dir);

    let started = Instant::now();
    text::warm_up();
    let warm = started.elapsed();

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let docs: Vec<SearchDoc> = (0..n).map(|i| doc(i, &mut rng)).collect();
    let analysed = started.elapsed();
    let started = Instant::now();
    index.rebuild(docs).await?;
    let built = started.elapsed();

    // The indexer's way: 25 changes, one commit.
    let batches = 40u64;
    let started = Instant::now();
    for b in 0..batches {
        let changes: Vec<Change> = (0..25)
            .map(|k| Change::Upsert(Box::new(doc(n + b * 25 + k, &mut rng))))
            .collect();
        index.apply(&changes).await?;
    }
    let batched = started.elapsed();

    let kinds: Vec<(&str, SearchQuery)> = vec![
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
    ];
    println!("## Search (tantivy, local)\n");
    println!(
        "{n} generated services with bilingual titles (16 kinds of work × 12 prefixes × 8 \
         suffixes), release build, one core, measured by `devtool bench-search`.\n"
    );
    println!("| Step | Result |\n|---|---|");
    println!(
        "| Segmenter start (dictionary compiled in) | {:.0} ms |",
        warm.as_secs_f64() * 1000.0
    );
    println!(
        "| Analysis (fold, segment, pinyin) | {:.0} docs/s |",
        n as f64 / analysed.as_secs_f64()
    );
    println!(
        "| Full rebuild (one commit) | {:.0} docs/s ({:.1} s) |",
        n as f64 / built.as_secs_f64(),
        built.as_secs_f64()
    );
    println!(
        "| Indexer batches (25 docs, one commit each) | {:.0} docs/s ({:.0} ms per batch) |",
        (batches * 25) as f64 / batched.as_secs_f64(),
        batched.as_secs_f64() * 1000.0 / batches as f64
    );
    println!("\n| Query | hits | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|");
    let mut all = Vec::new();
    for (name, q) in &kinds {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..3 {
            index.search(q).await?;
        }
        for _ in 0..100 {
            let t = Instant::now();
            total = index.search(q).await?.total;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "| {name} | {total} | {:.2} | {:.2} | {:.2} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            percentile(&times, 0.99)
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "| **all of the above** | | **{:.2}** | **{:.2}** | **{:.2}** |",
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        percentile(&all, 0.99)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
