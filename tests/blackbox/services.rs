//! Catalogue and services through the running stack.

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{Answer, Api, admin_session, is_chinese, register_freelancer};

fn body() -> Value {
    json!({
        "title": "Professional logo design for your brand",
        "title_zh": "专业品牌Logo设计，三天交付",
        "description": "A clean, memorable logo with source files and a short brand guide.",
        "description_zh": "简洁易记的品牌标志设计，提供源文件和简要品牌规范。",
        "category": "logo-design",
        "skills": ["illustrator", "vi-system"],
        "service_type": "package",
        "requirements": "请提供品牌名称和喜欢的颜色",
        "packages": {
            "basic": {"price": "199.00", "description": "1 个方案", "delivery_days": 3, "revisions": 2, "features": ["源文件"]},
            "standard": {"price": "399.00", "description": "3 个方案", "delivery_days": 5, "revisions": 3},
            "premium": {"price": "799.00", "description": "完整 VI", "delivery_days": 10, "revisions": 5}
        }
    })
}

async fn freelancer(api: &Api) -> (String, String) {
    let (_, _, data) = register_freelancer(api, "seller").await;
    (
        data["access"].as_str().unwrap().to_owned(),
        data["user"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn create(api: &Api, access: &str, body: Value) -> String {
    let a = api.post_auth("/services", access, body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["data"]["status"], "draft");
    a.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn delete(api: &Api, path: &str, access: &str) -> Answer {
    api.send(api.request(Method::DELETE, path).bearer_auth(access))
        .await
}

fn ids(a: &Answer) -> Vec<String> {
    a.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_catalogue_is_a_bilingual_tree_with_skills() {
    let api = Api::connect();
    let a = api.get("/services/categories").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let roots = a.body["data"].as_array().unwrap();
    let dev = roots.iter().find(|r| r["slug"] == "development").unwrap();
    assert_eq!(dev["name_zh"], "开发");
    assert_eq!(dev["name"], "Development");
    let kids: Vec<&str> = dev["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name_zh"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&"小程序开发"), "{kids:?}");
    assert!(!dev["skills"].as_array().unwrap().is_empty());

    let a = api
        .get("/services/skills?category=mini-program-development")
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name_zh"] == "微信小程序")
    );
    let a = api.get("/services/skills?category=no-such-thing").await;
    assert_eq!(a.status, 404);
    assert_eq!(a.body["code"], "category.not_found");
}

#[tokio::test]
async fn a_freelancer_sells_a_client_finds_and_saves_an_admin_features() {
    let api = Api::connect();
    let (seller, seller_id) = freelancer(&api).await;
    let (rival, _) = freelancer(&api).await;

    // A draft: only its owner sees it.
    let id = create(&api, &seller, body()).await;
    let path = format!("/services/{id}");
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(api.get_auth(&path, &rival).await.status, 404);
    let own = api.get_auth(&path, &seller).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["data"]["packages"]["standard"]["price"], "399.00");
    assert_eq!(own.body["data"]["packages"]["basic"]["name_zh"], "基础版");
    assert_eq!(own.body["data"]["category"]["name_zh"], "Logo设计");
    assert_eq!(own.body["data"]["parent_category"]["slug"], "design");

    // Another freelancer can neither edit, publish, pause nor delete it: 404 each time.
    let patch = json!({"title_zh": "专业品牌Logo设计，我来改一改"});
    assert_eq!(
        api.patch_auth(&path, &rival, patch.clone()).await.status,
        404
    );
    for action in ["publish", "pause"] {
        let a = api
            .post_auth(&format!("{path}/{action}"), &rival, json!({}))
            .await;
        assert_eq!(a.status, 404, "{action}: {}", a.body);
    }
    assert_eq!(delete(&api, &path, &rival).await.status, 404);

    // The owner edits and publishes.
    let edited = api
        .patch_auth(
            &path,
            &seller,
            json!({"title_zh": "专业品牌Logo设计，两天加急交付"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(
        edited.body["data"]["title_zh"],
        "专业品牌Logo设计，两天加急交付"
    );
    assert_eq!(
        edited.body["data"]["packages"]["premium"]["price"],
        "799.00"
    );
    let published = api
        .post_auth(&format!("{path}/publish"), &seller, json!({}))
        .await;
    assert_eq!(published.status, 200, "{}", published.body);
    assert_eq!(published.body["data"]["status"], "active");

    // A client lists the subcategory and the top-level category, reads it, saves it.
    let (_, _, client) = api.register("buyer").await;
    let buyer = client["access"].as_str().unwrap();
    for category in ["logo-design", "design"] {
        let a = api
            .get(&format!("/services?category={category}&limit=100"))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(ids(&a).contains(&id), "{category}");
    }
    let seen = api.get_auth(&path, buyer).await;
    assert_eq!(seen.status, 200);
    assert!(seen.body["data"].get("moderation").is_none());
    for _ in 0..2 {
        let a = api
            .post_auth(&format!("{path}/save"), buyer, json!({}))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let saved = api.get_auth("/users/profile/saved", buyer).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let items = saved.body["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "saving twice keeps one entry");
    assert_eq!(items[0]["service"]["id"], id.as_str());

    // The freelancer's public list shows it.
    let a = api.get(&format!("/users/{seller_id}/services")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(ids(&a), vec![id.clone()]);
    let a = api.get(&format!("/services?freelancer={seller_id}")).await;
    assert_eq!(ids(&a), vec![id.clone()]);

    // An admin features it.
    let (admin, _) = admin_session(&api).await;
    let a = api
        .post_auth(
            &format!("/admin/services/{id}/moderate"),
            &admin,
            json!({"action": "feature", "reason": "优质服务"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["data"]["is_featured"], true);
    let featured = api.get("/services/featured?limit=50").await;
    assert_eq!(featured.status, 200);
    assert!(ids_of(&featured.body["data"]).contains(&id));
    let again = api
        .post_auth(
            &format!("/admin/services/{id}/moderate"),
            &admin,
            json!({"action": "feature"}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["code"], "admin.no_change");

    // Paused: gone from every public place, still the owner's; the saved entry remains.
    let a = api
        .post_auth(&format!("{path}/pause"), &seller, json!({}))
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"]["status"], "paused");
    assert_eq!(api.get(&path).await.status, 404);
    assert_eq!(api.get_auth(&path, &seller).await.status, 200);
    assert!(!ids_of(&api.get("/services/featured?limit=50").await.body["data"]).contains(&id));
    let a = api.get("/services?category=logo-design&limit=100").await;
    assert!(!ids(&a).contains(&id));
    let saved = api.get_auth("/users/profile/saved", buyer).await;
    assert_eq!(saved.body["data"]["items"][0]["service"], Value::Null);
    assert_eq!(
        api.post_auth(&format!("{path}/pause"), &seller, json!({}))
            .await
            .body["code"],
        "service.invalid_transition"
    );

    // Unsave, then delete: 404 for everyone, the owner too.
    let a = delete(&api, &format!("{path}/save"), buyer).await;
    assert_eq!(a.status, 204);
    let saved = api.get_auth("/users/profile/saved", buyer).await;
    assert!(saved.body["data"]["items"].as_array().unwrap().is_empty());
    assert_eq!(delete(&api, &path, &seller).await.status, 204);
    assert_eq!(api.get_auth(&path, &seller).await.status, 404);
    assert_eq!(api.get_auth(&path, &admin).await.status, 404);
}

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn publishing_contact_details_or_sensitive_words_is_rejected_with_the_reasons() {
    let api = Api::connect();
    let (seller, _) = freelancer(&api).await;
    let cases = [
        (
            "description_zh",
            "简洁易记的品牌标志设计，详情加微信：gigbao_2026 私聊",
            "moderation.contact_info",
        ),
        (
            "description",
            "Logo design; call me on 138-0013-8000 for a better price",
            "moderation.contact_info",
        ),
        (
            "description_zh",
            "专业搭建賭博网站与各类棋牌平台，包上线包运营",
            "moderation.sensitive_word",
        ),
    ];
    let (admin, _) = admin_session(&api).await;
    for (field, text, code) in cases {
        let mut b = body();
        b[field] = json!(text);
        let id = create(&api, &seller, b).await;
        let a = api
            .post_auth(&format!("/services/{id}/publish"), &seller, json!({}))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["data"]["status"], "rejected", "{text}");
        assert!(is_chinese(a.body["message"].as_str().unwrap()));
        let findings = a.body["data"]["moderation"]["findings"].as_array().unwrap();
        assert!(
            findings
                .iter()
                .any(|f| f["field"] == field && f["code"] == code),
            "{text}: {findings:?}"
        );
        assert!(
            findings
                .iter()
                .all(|f| is_chinese(f["message_zh"].as_str().unwrap()))
        );
        // Nobody else sees a rejected service; the operators' list does.
        assert_eq!(api.get(&format!("/services/{id}")).await.status, 404);
        let list = api
            .get_auth("/admin/services?status=rejected&limit=100", &admin)
            .await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(ids(&list).contains(&id));
    }

    // Clean text goes live; an edit that adds contact details to a live service is refused
    // and leaves it as it was. (A second seller: the first used its three creations an hour.)
    let (seller, _) = freelancer(&api).await;
    let id = create(&api, &seller, body()).await;
    let a = api
        .post_auth(&format!("/services/{id}/publish"), &seller, json!({}))
        .await;
    assert_eq!(a.body["data"]["status"], "active", "{}", a.body);
    let a = api
        .patch_auth(
            &format!("/services/{id}"),
            &seller,
            json!({"requirements": "下单前请加V：gigbao_2026"}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["code"], "moderation.contact_info");
    assert!(a.body["errors"]["requirements"].is_array());
    let now = api.get(&format!("/services/{id}")).await;
    assert_eq!(
        now.body["data"]["requirements"],
        "请提供品牌名称和喜欢的颜色"
    );

    // An operator can reject it by hand (a reason is required) and approve it again.
    let path = format!("/admin/services/{id}/moderate");
    let a = api
        .post_auth(&path, &admin, json!({"action": "reject"}))
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["reason"].is_array());
    let a = api
        .post_auth(
            &path,
            &admin,
            json!({"action": "reject", "reason": "图片侵权"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["data"]["moderation"]["note"], "图片侵权");
    let a = api
        .post_auth(&path, &admin, json!({"action": "approve"}))
        .await;
    assert_eq!(a.body["data"]["status"], "active");
    let a = api
        .post_auth(&path, &seller, json!({"action": "approve"}))
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.body["code"], "auth.admin_required");
}

/// Each rule of the seed, one broken at a time: 422 with the rule's own code, the field
/// named, and the message in Chinese by default and in English on request.
#[tokio::test]
async fn every_service_rule_is_refused_with_its_code_in_both_languages() {
    let api = Api::connect();
    let (seller, _) = freelancer(&api).await;
    let cases: Vec<(&[&str], Value, &str, &str)> = vec![
        (&["title"], json!("Logo"), "service.title_length", "title"),
        (
            &["title_zh"],
            json!("一二三四五六七八九"),
            "service.title_length",
            "title_zh",
        ),
        (
            &["title"],
            json!("违法 logo design and more"),
            "service.prohibited_word",
            "title",
        ),
        (
            &["packages", "basic", "price"],
            json!("4.99"),
            "service.price_out_of_range",
            "packages.basic.price",
        ),
        (
            &["packages", "premium", "price"],
            json!("50000.01"),
            "service.price_out_of_range",
            "packages.premium.price",
        ),
        (
            &["packages", "standard", "price"],
            json!("199.00"),
            "service.package_price_order",
            "packages.standard.price",
        ),
        (
            &["packages", "premium", "price"],
            json!("399.00"),
            "service.package_price_order",
            "packages.premium.price",
        ),
        (
            &["packages", "basic"],
            Value::Null,
            "service.basic_package_required",
            "packages.basic",
        ),
        (
            &["packages", "basic", "price"],
            json!("abc"),
            "service.invalid_price",
            "packages.basic.price",
        ),
        (
            &["packages", "basic", "delivery_days"],
            json!(0),
            "service.invalid_delivery_days",
            "packages.basic.delivery_days",
        ),
        (
            &["category"],
            json!("no-such-category"),
            "service.invalid_category",
            "category",
        ),
        (
            &["skills"],
            json!(["rust"]),
            "service.invalid_skill",
            "skills",
        ),
    ];
    for (path, value, code, field) in cases {
        let mut b = body();
        let mut cur = &mut b;
        for p in &path[..path.len() - 1] {
            cur = cur.get_mut(*p).unwrap();
        }
        cur[path[path.len() - 1]] = value;
        let zh = api.post_auth("/services", &seller, b.clone()).await;
        assert_eq!(zh.status, 422, "{code}: {}", zh.body);
        assert_eq!(zh.body["code"], code, "{}", zh.body);
        let msg = zh.body["errors"][field][0]
            .as_str()
            .unwrap_or_else(|| panic!("{code}: {}", zh.body));
        assert!(is_chinese(msg), "{code}: {msg}");
        let en = api
            .send(
                api.request(Method::POST, "/services")
                    .bearer_auth(&seller)
                    .header("accept-language", "en")
                    .json(&b),
            )
            .await;
        assert_eq!(en.body["code"], code);
        let msg = en.body["errors"][field][0].as_str().unwrap();
        assert!(
            !is_chinese(msg) || msg.contains('“') || msg.contains("违法"),
            "{code}: {msg}"
        );
    }

    // Only freelancers sell; platform fields cannot be written.
    let (_, _, client) = api.register("buyer").await;
    let a = api
        .post_auth("/services", client["access"].as_str().unwrap(), body())
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(a.body["code"], "service.freelancer_only");
    let mut b = body();
    b["status"] = json!("active");
    b["rating"] = json!("5.00");
    let a = api.post_auth("/services", &seller, b).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["code"], "service.read_only_field");
    assert!(a.body["errors"]["status"].is_array() && a.body["errors"]["rating"].is_array());

    // None of the refused bodies used up the creation quota: three still go through.
    for _ in 0..3 {
        create(&api, &seller, body()).await;
    }
    let a = api.post_auth("/services", &seller, body()).await;
    assert_eq!(a.status, 429, "{}", a.body);
    assert!(a.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn five_hundred_parallel_views_are_counted_exactly() {
    let api = Api::connect();
    let (seller, _) = freelancer(&api).await;
    let id = create(&api, &seller, body()).await;
    let a = api
        .post_auth(&format!("/services/{id}/publish"), &seller, json!({}))
        .await;
    assert_eq!(a.body["data"]["status"], "active");
    let path = format!("/services/{id}");
    let statuses = futures_util::stream::iter(0..500)
        .map(|_| api.get(&path))
        .buffer_unordered(32)
        .map(|a| a.status.as_u16())
        .collect::<Vec<_>>()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    // The owner's own reads are not counted; the fold arrives through stream → router →
    // stats queue → stats-updater.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let a = api.get_auth(&path, &seller).await;
        let views = a.body["data"]["views_count"].as_u64().unwrap();
        if views == 500 {
            break;
        }
        assert!(views < 500, "counted {views}");
        assert!(
            std::time::Instant::now() < deadline,
            "only {views} of 500 after 90 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
