//! Editing one's profile and reading other people's public profiles.

use serde_json::json;

use crate::{Api, register_freelancer};

#[tokio::test]
async fn a_freelancer_edits_the_seed_fields_and_reads_them_back() {
    let api = Api::connect();
    let (_, _, data) = register_freelancer(&api, "edit").await;
    let access = data["access"].as_str().unwrap();
    let a = api
        .patch_auth(
            "/users/profile",
            access,
            json!({
                "bio": "十年品牌设计经验，擅长 Logo 与 VI。",
                "skills": ["Logo设计", "VI设计"],
                "hourly_rate": "200.00",
                "portfolio_url": "https://www.zcool.com.cn/u/123",
                "wechat_id": "sheji_2026",
                "location": "上海",
                "languages": [{"language": "中文", "level": "native"}, {"language": "English", "level": "fluent"}],
                "education": [{"school": "中国美术学院", "degree": "本科", "start_year": 2008, "end_year": 2012}],
                "experience_years": 10
            }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let back = api.get_auth("/users/profile", access).await;
    let p = &back.body["data"]["freelancer_profile"];
    assert_eq!(p["hourly_rate"], "200.00");
    assert_eq!(p["skills"], json!(["Logo设计", "VI设计"]));
    assert_eq!(p["wechat_id"], "sheji_2026");
    assert_eq!(p["experience_years"], 10);
    assert_eq!(p["languages"][1]["level"], "fluent");
}

#[tokio::test]
async fn every_computed_field_is_refused_and_nothing_is_written() {
    let api = Api::connect();
    let (_, _, data) = register_freelancer(&api, "computed").await;
    let access = data["access"].as_str().unwrap();
    let before = api.get_auth("/users/profile", access).await.body["data"].clone();
    for (field, value) in [
        ("rating", json!("5.00")),
        ("total_reviews", json!(999)),
        ("response_rate", json!("100.00")),
        ("response_time", json!(1)),
        ("is_featured", json!(true)),
        ("is_verified", json!(true)),
        ("user_type", json!("admin")),
        ("email_verified", json!(true)),
        ("avatar", json!("avatars/x.jpg")),
    ] {
        // Even mixed with a legitimate change, and even nested the way GET returns it.
        for body in [
            json!({ field: value.clone(), "bio": "changed" }),
            json!({ "freelancer_profile": { field: value.clone(), "bio": "changed" } }),
        ] {
            let a = api.patch_auth("/users/profile", access, body).await;
            assert_eq!(a.status, 400, "{field}: {}", a.body);
            assert_eq!(a.body["code"], "profile.read_only_field");
            assert_eq!(a.body["errors"][field][0], "This field is read-only");
        }
    }
    let after = api.get_auth("/users/profile", access).await.body["data"].clone();
    assert_eq!(before, after, "nothing was written");
}

#[tokio::test]
async fn bad_values_and_other_profiles_fields_are_named() {
    let api = Api::connect();
    let (_, _, data) = register_freelancer(&api, "badvals").await;
    let access = data["access"].as_str().unwrap();
    let a = api
        .patch_auth(
            "/users/profile",
            access,
            json!({"bio": "x".repeat(2001), "hourly_rate": 150.5, "linkedin_url": "https://evil.example.com/in/me", "experience_years": 99}),
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    for f in ["bio", "hourly_rate", "linkedin_url", "experience_years"] {
        assert!(a.body["errors"][f].is_array(), "{f}: {}", a.body);
    }
    let b = api
        .patch_auth(
            "/users/profile",
            access,
            json!({"company_name": "极客科技"}),
        )
        .await;
    assert_eq!(b.status, 400);
    assert_eq!(b.body["code"], "profile.unknown_field");
    let c = api.patch_auth("/users/profile", access, json!({})).await;
    assert_eq!(c.body["code"], "profile.empty_patch");

    // A client edits the client fields.
    let (_, _, client) = api.register("company").await;
    let d = api
        .patch_auth(
            "/users/profile",
            client["access"].as_str().unwrap(),
            json!({"company_name": "极客科技有限公司", "company_size": "11-50", "website": "https://geek.cn", "budget_range": "5000-20000"}),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(
        d.body["data"]["client_profile"]["company_name"],
        "极客科技有限公司"
    );
}

#[tokio::test]
async fn a_public_profile_shows_no_contact_details() {
    let api = Api::connect();
    let (_, _, data) = register_freelancer(&api, "public").await;
    let access = data["access"].as_str().unwrap();
    let id = data["user"]["id"].as_str().unwrap();
    let phone = data["user"]["phone"].as_str().unwrap().to_owned();
    let email = data["user"]["email"].as_str().unwrap().to_owned();
    api.patch_auth(
        "/users/profile",
        access,
        json!({"wechat_id": "secret_wx_2026", "bio": "公开简介"}),
    )
    .await;
    // Anyone, signed in or not
    let a = api.get(&format!("/users/{id}")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["data"]["freelancer_profile"]["bio"], "公开简介");
    let text = a.body.to_string();
    for secret in [
        phone.as_str(),
        email.as_str(),
        "secret_wx_2026",
        "password",
        "phone",
        "email",
    ] {
        assert!(
            !text.contains(secret),
            "public profile shows {secret}: {text}"
        );
    }
    for (path, _) in [("services", 0), ("reviews", 0)] {
        let l = api.get(&format!("/users/{id}/{path}")).await;
        assert_eq!(l.status, 200);
        assert_eq!(l.body["data"], json!({"items": [], "next_cursor": null}));
    }
    let missing = api.get(&format!("/users/{}", ulid::Ulid::new())).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["code"], "user.not_found");
    assert_eq!(api.get("/users/not-an-id").await.status, 404);
    assert_eq!(
        api.get(&format!("/users/{}/services", ulid::Ulid::new()))
            .await
            .status,
        404
    );
}
