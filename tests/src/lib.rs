//! Helpers for Gigbao's emulator-backed and black-box tests. `make test` starts MiniStack and
//! `cargo lambda watch` and passes their addresses in the environment.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use secrecy::SecretString;
use shared::Deps;
use shared::config::{Config, MailConfig, SmsConfig};
use shared::store::Store;

/// An environment variable the test harness sets; a clear message when run outside it.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the emulator and black-box tests through `make test`")
    })
}

pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(env("GIGBAO_AWS_ENDPOINT"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

/// A client on the stack's own table (the one the running functions use).
pub async fn stack_store() -> Store {
    Store::new(
        aws_sdk_dynamodb::Client::new(&aws_config().await),
        env("GIGBAO_TABLE_NAME"),
    )
}

/// A new, empty bucket that tells no queue about its objects: a test that plays a worker on
/// it is the only one to see what it uploads (the stack's own workers watch the media bucket).
pub async fn fresh_bucket(s3: &aws_sdk_s3::Client) -> String {
    let name = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
    s3.create_bucket().bucket(&name).send().await.unwrap();
    name
}

/// A new, empty table with the keys and indexes of the table in stacks/shared.yaml, so tests run in parallel
/// without seeing each other's items.
pub async fn fresh_store() -> Store {
    fresh_store_with(aws_sdk_dynamodb::Client::new(&aws_config().await)).await
}

/// A fresh table whose client records the DynamoDB requests it sends, as functions do (read
/// them with `shared::telemetry::recording_dynamodb`).
pub async fn counting_store() -> Store {
    let config = aws_sdk_dynamodb::config::Builder::from(&aws_config().await)
        .interceptor(shared::telemetry::CountDynamoDbCalls)
        .build();
    fresh_store_with(aws_sdk_dynamodb::Client::from_conf(config)).await
}

async fn fresh_store_with(client: aws_sdk_dynamodb::Client) -> Store {
    let name = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    let gsi = |i: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(i)
            .key_schema(key(&format!("{i}PK"), KeyType::Hash))
            .key_schema(key(&format!("{i}SK"), KeyType::Range))
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            [
                "PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK",
                "GSI4SK",
            ]
            .map(attr)
            .to_vec(),
        ))
        .key_schema(key("PK", KeyType::Hash))
        .key_schema(key("SK", KeyType::Range))
        .global_secondary_indexes(gsi("GSI1"))
        .global_secondary_indexes(gsi("GSI2"))
        .global_secondary_indexes(gsi("GSI3"))
        .global_secondary_indexes(gsi("GSI4"))
        .send()
        .await
        .expect("create test table");
    Store::new(client, name)
}

/// The token secret of in-process tests (a fixed Ed25519 key pair and MAC key).
pub fn test_token_secret() -> shared::auth::TokenSecret {
    shared::auth::TokenSecret::from_seed(&[7; 32], &[9; 32]).expect("test token secret")
}

/// Keys that verify and issue tokens as the in-process tests' functions do.
pub fn test_keys() -> shared::auth::TokenKeys {
    let secret = test_token_secret();
    shared::auth::TokenKeys::new(&secret.public_key().expect("public key"), Some(&secret))
        .expect("test keys")
}

/// Keys that issue tokens the running stack accepts (the harness passes the stack's public
/// key and token secret, as the token-issuing functions get them).
pub fn stack_keys() -> shared::auth::TokenKeys {
    let secret = shared::auth::TokenSecret::from_json(&env("GIGBAO_TOKEN_SECRET"))
        .expect("the stack's token secret");
    shared::auth::TokenKeys::new(&env("ACCESS_TOKEN_PUBLIC_KEY"), Some(&secret))
        .expect("the stack's token keys")
}

/// The stack's media bucket, as the functions reach it.
pub async fn stack_files() -> shared::files::Files {
    let conf = aws_sdk_s3::config::Builder::from(&aws_config().await)
        .force_path_style(true)
        .build();
    shared::files::Files::new(
        aws_sdk_s3::Client::from_conf(conf),
        env("GIGBAO_MEDIA_BUCKET"),
    )
}

/// Deps around `store` for calling use cases and handlers in-process.
pub async fn deps_for(store: Store) -> &'static Deps {
    deps_with(store, shared::payments::Gateways::default()).await
}

/// The two search engines the search suites run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// tantivy in a fresh directory (the local default).
    Tantivy,
    /// The real OpenSearch node `make test` starts (`GIGBAO_OPENSEARCH_URL`), through the
    /// production adapter, behind an alias of its own.
    OpenSearch,
}

/// The real node's URL. Required: `make test` always starts one, and a suite that cannot
/// reach it fails rather than falling back to tantivy.
pub fn opensearch_url() -> String {
    std::env::var("GIGBAO_OPENSEARCH_URL").unwrap_or_else(|_| {
        panic!(
            "GIGBAO_OPENSEARCH_URL is not set: run the search suites through `make test`, which \
             starts the OpenSearch node (infra/local/opensearch.py)"
        )
    })
}

/// `engine`'s configuration for a test named `name` (its own directory or alias).
pub fn search_config(engine: Engine, name: &str) -> shared::config::SearchConfig {
    match engine {
        Engine::Tantivy => shared::config::SearchConfig::Local {
            dir: std::env::temp_dir()
                .join(format!("gigbao-search-{name}"))
                .to_string_lossy()
                .into_owned(),
        },
        Engine::OpenSearch => shared::config::SearchConfig::OpenSearch {
            url: opensearch_url(),
            index: format!("services-{}", name.to_lowercase()),
        },
    }
}

/// `engine` on its own for a test named `name` (no AWS signing: the local node has no
/// security plugin).
pub fn search_engine(engine: Engine, name: &str) -> shared::search::SearchEngine {
    use shared::search::SearchEngine;
    match search_config(engine, name) {
        shared::config::SearchConfig::Local { dir } => {
            SearchEngine::Local(shared::search::local::LocalIndex::new(&dir))
        }
        shared::config::SearchConfig::OpenSearch { url, index } => SearchEngine::OpenSearch(
            shared::search::opensearch::OpenSearchIndex::new(&url, &index, None)
                .expect("the OpenSearch client"),
        ),
        shared::config::SearchConfig::Disabled => SearchEngine::Disabled,
    }
}

/// Dependencies on `store` whose search is `engine`.
pub async fn deps_on(store: Store, engine: Engine) -> &'static Deps {
    let name = store.table().to_owned();
    let deps = deps_with(store, shared::payments::Gateways::default()).await;
    if engine == Engine::Tantivy {
        return deps;
    }
    let mut config = deps.config.clone();
    config.search = search_config(engine, &name);
    let mut built = Deps::build(config, &aws_config().await).expect("test deps");
    built.store = deps.store.clone();
    Box::leak(Box::new(built))
}

async fn deps_with(store: Store, gateways: shared::payments::Gateways) -> &'static Deps {
    let config = Config {
        stats_queue_url: None,
        reports_queue_url: None,
        abuse_queue_url: None,
        exports_queue_url: None,
        abuse_ban_after_strikes: 3,
        clearance: Default::default(),
        table_name: store.table().to_owned(),
        access_token_public_key: test_token_secret().public_key().expect("public key"),
        token_secret_id: None,
        token_secret: Some(SecretString::from(test_token_secret().to_json())),
        pii_secret_id: None,
        aliyun_secret_id: None,
        trust_forwarded_for: false,
        notifications_queue_url: None,
        pii_key: Some(SecretString::from(TEST_PII_KEY.to_owned())),
        payment_secret_id: None,
        wechat_login_secret_id: None,
        alipay_login_secret_id: None,
        media_bucket: std::env::var("GIGBAO_MEDIA_BUCKET").ok(),
        s3_force_path_style: true,
        app_base_url: "https://gigbao.test".to_owned(),
        sms: SmsConfig::Outbox {
            dir: test_outbox().to_string_lossy().into_owned(),
        },
        mail: MailConfig::Outbox {
            dir: test_outbox().to_string_lossy().into_owned(),
        },
        moderation: None,
        search_queue_url: None,
        ws_endpoint: None,
        // A fresh tantivy index per test table.
        search: search_config(Engine::Tantivy, store.table()),
    };
    let mut deps = Deps::build(config, &aws_config().await).expect("test deps");
    deps.store = store;
    deps.gateways = gateways;
    Box::leak(Box::new(deps))
}

/// Base64 of 32 bytes: the in-process tests' 实名认证 key.
pub const TEST_PII_KEY: &str = "dGVzdC1vbmx5LXBpaS1rZXktMDEyMzQ1Njc4OWFiY2Q=";

/// Where in-process tests' SMS and mail go (apart from the stack's own outbox).
pub fn test_outbox() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("gigbao-inprocess-outbox-{}", std::process::id()))
}

/// The newest line of an outbox channel (`sms` or `mail`) that satisfies `pick`.
pub fn outbox_last(
    dir: &std::path::Path,
    channel: &str,
    pick: impl Fn(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(format!("{channel}.jsonl"))).ok()?;
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| pick(v))
}

/// Counts the items of a table (tests only: a Scan is fine on a table of a few items).
pub async fn count_items(store: &Store) -> usize {
    store
        .client()
        .scan()
        .table_name(store.table())
        .send()
        .await
        .expect("scan")
        .items()
        .len()
}

/// Every item of the table, all pages (a Scan: tests and benchmarks only).
pub async fn all_items(
    store: &Store,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        out.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return out;
        }
    }
}

/// A unique username for a test.
pub fn unique_name(prefix: &str) -> String {
    let id = ulid::Ulid::new().to_string().to_lowercase();
    format!("{prefix}_{}", &id[14..])
}

/// A unique CN mobile number for a test.
pub fn unique_phone() -> String {
    let n = ulid::Ulid::new().random() % 100_000_000;
    format!("139{n:08}")
}

/// The shipped catalogue (`infra/seed/catalog.json`).
pub fn seed_catalog() -> shared::domain::catalog::Catalog {
    shared::domain::catalog::Catalog::from_seed_json(include_str!("../../infra/seed/catalog.json"))
        .unwrap()
}

/// A new account of `user_type` with a unique name, made through the use case.
pub async fn new_user(store: &Store, user_type: shared::domain::UserType) -> shared::domain::User {
    let keys = test_keys();
    shared::app::auth::register(
        store,
        &keys,
        shared::app::auth::NewAccount {
            username: shared::domain::Username::parse(&unique_name("user")).unwrap(),
            password: shared::domain::Password::parse("Ceshi-2026-safe", None).unwrap(),
            user_type,
            email: None,
            phone: None,
        },
        &shared::app::ClientInfo::default(),
        chrono::Utc::now(),
    )
    .await
    .expect("register a test user")
    .user
}

/// A valid, unique-enough 18-digit resident ID number (checksum computed).
pub fn fresh_id_number() -> String {
    let n = ulid::Ulid::new().random();
    let region = 110_101 + (n % 8_000) as u64;
    let day = 1 + (n >> 16) % 28;
    let month = 1 + (n >> 24) % 12;
    let year = 1960 + (n >> 32) % 40;
    let seq = (n >> 40) % 1000;
    let first17 = format!("{region}{year:04}{month:02}{day:02}{seq:03}");
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Marks `user` verified through the real 实名认证 flow (submission, an operator's approval),
/// so withdrawals can find the payee's legal name.
pub async fn verify_user(
    store: &Store,
    user: shared::domain::User,
    real_name: &str,
) -> shared::domain::User {
    use shared::app::verification::{self, Decision, Submission};
    let vault =
        shared::crypto::PiiVault::new(&SecretString::from(TEST_PII_KEY.to_owned())).unwrap();
    let now = chrono::Utc::now();
    let summary = verification::submit(
        store,
        &vault,
        user.clone(),
        Submission {
            real_name: shared::domain::RealName::parse(real_name).unwrap(),
            id_number: shared::domain::IdNumber::parse(&fresh_id_number()).unwrap(),
            document_keys: vec![],
        },
        now,
    )
    .await
    .expect("submit verification");
    let admin = shared::domain::UserId::new();
    verification::review(
        store,
        admin,
        summary.id.parse().unwrap(),
        Decision::Approve,
        now,
    )
    .await
    .expect("approve verification");
    store.get_user(user.id).await.unwrap().unwrap()
}

/// The committed test keys of `infra/local/payment-keys/` (they play both sides).
pub mod payment_keys {
    pub const ALIPAY_APP: &str = include_str!("../../infra/local/payment-keys/alipay-app.pem");
    pub const ALIPAY_APP_PUB: &str =
        include_str!("../../infra/local/payment-keys/alipay-app.pub.pem");
    pub const ALIPAY_PLATFORM: &str =
        include_str!("../../infra/local/payment-keys/alipay-platform.pem");
    pub const ALIPAY_PLATFORM_PUB: &str =
        include_str!("../../infra/local/payment-keys/alipay-platform.pub.pem");
    pub const WECHAT_MERCHANT: &str =
        include_str!("../../infra/local/payment-keys/wechat-merchant.pem");
    pub const WECHAT_MERCHANT_PUB: &str =
        include_str!("../../infra/local/payment-keys/wechat-merchant.pub.pem");
    pub const WECHAT_PLATFORM: &str =
        include_str!("../../infra/local/payment-keys/wechat-platform.pem");
    pub const WECHAT_PLATFORM_PUB: &str =
        include_str!("../../infra/local/payment-keys/wechat-platform.pub.pem");
    const SETTINGS: &str = include_str!("../../infra/local/payment-keys/settings.json");

    pub fn setting(name: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(SETTINGS).unwrap();
        v[name].as_str().unwrap().to_owned()
    }

    /// Gateway settings with the test keys; Alipay's gateway and WeChat Pay's API at `base`
    /// (a wiremock server, or anything when no call is made).
    pub fn settings(base: &str) -> shared::payments::PaymentSettings {
        use secrecy::SecretString;
        let wechat = || shared::payments::WechatConfig {
            mchid: setting("wechat_mchid"),
            appid: setting("wechat_appid"),
            merchant_serial: setting("wechat_merchant_serial"),
            private_key: SecretString::from(WECHAT_MERCHANT.to_owned()),
            apiv3_key: SecretString::from(setting("wechat_apiv3_key")),
            platform_keys: [(
                setting("wechat_platform_serial"),
                WECHAT_PLATFORM_PUB.to_owned(),
            )]
            .into_iter()
            .collect(),
            api_base: base.to_owned(),
            notify_url: "https://api.gigbao.test/api/v1/payments/callbacks/wechat".into(),
            refund_notify_url: None,
            transfer_scene_id: setting("wechat_transfer_scene_id"),
        };
        shared::payments::PaymentSettings {
            alipay: Some(shared::payments::AlipayConfig {
                app_id: setting("alipay_app_id"),
                private_key: SecretString::from(ALIPAY_APP.to_owned()),
                alipay_public_key: ALIPAY_PLATFORM_PUB.to_owned(),
                gateway_url: format!("{base}/gateway.do"),
                notify_url: "https://api.gigbao.test/api/v1/payments/callbacks/alipay".into(),
                return_url: None,
            }),
            wechat: Some(wechat()),
            // The split channel's platform is the same merchant here (the test keys).
            wechat_ecommerce: Some(wechat()),
        }
    }
}

/// Deps around `store` with both gateways configured (test keys, calls going to `base`).
pub async fn deps_with_gateways(store: Store, base: &str) -> &'static Deps {
    let gateways = shared::payments::Gateways::from_settings(payment_keys::settings(base))
        .expect("test payment keys");
    deps_with(store, gateways).await
}

/// A PNG of `w` × `h` pixels with a gradient (never all one colour, so encoders keep work).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 250) as u8, (y % 250) as u8, 120])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode a test PNG");
    out
}

/// PUTs `bytes` to an upload ticket (`upload_url` with its signed `headers`), as a client does.
pub async fn put_upload(ticket: &serde_json::Value, bytes: Vec<u8>) -> reqwest::StatusCode {
    let mut req = reqwest::Client::new().put(ticket["upload_url"].as_str().expect("upload_url"));
    for (k, v) in ticket["headers"].as_object().expect("headers") {
        req = req.header(k.as_str(), v.as_str().unwrap_or_default());
    }
    req.body(bytes).send().await.expect("the PUT").status()
}

/// No payment gateways (what tests that never refund to a gateway pass).
pub fn no_gateways() -> &'static shared::payments::Gateways {
    static NONE: std::sync::OnceLock<shared::payments::Gateways> = std::sync::OnceLock::new();
    NONE.get_or_init(Default::default)
}

/// The default clearance periods (14, 14, 7, 7 days).
pub fn default_clearance() -> &'static shared::domain::clearance::ClearancePolicy {
    static DAYS: std::sync::OnceLock<shared::domain::clearance::ClearancePolicy> =
        std::sync::OnceLock::new();
    DAYS.get_or_init(Default::default)
}
