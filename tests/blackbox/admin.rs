//! 实名认证 review and user administration.

use serde_json::json;

use crate::{Api, admin_session, fresh_id_number};

#[tokio::test]
async fn verification_is_submitted_masked_reviewed_and_audited() {
    let api = Api::connect();
    let (_, _, data) = api.register("shiming").await;
    let access = data["access"].as_str().unwrap();
    let user_id = data["user"]["id"].as_str().unwrap().to_owned();
    let id_number = fresh_id_number();
    // Bad input first
    let bad = api
        .send(
            api.request(reqwest::Method::POST, "/users/profile/verification")
                .bearer_auth(access)
                .header("accept-language", "en")
                .json(&json!({"real_name": "张三", "id_number": "110105194912310021"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.body["errors"]["id_number"][0],
        "The ID number's check digit is wrong"
    );
    // WHEN a valid submission is made
    let sub = api
        .post_auth(
            "/users/profile/verification",
            access,
            json!({"real_name": "张三丰", "id_number": id_number}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    assert!(!sub.body.to_string().contains(&id_number));
    assert_eq!(
        sub.body["data"]["id_number"],
        format!("{}**********{}", &id_number[..4], &id_number[14..])
    );
    assert_eq!(sub.body["data"]["real_name"], "张**");
    let vid = sub.body["data"]["id"].as_str().unwrap().to_owned();
    let profile = api.get_auth("/users/profile", access).await;
    assert_eq!(profile.body["data"]["verification"]["status"], "pending");
    assert!(!profile.body.to_string().contains(&id_number));
    // THEN a second submission waits, and the same number cannot verify another account
    let again = api
        .post_auth(
            "/users/profile/verification",
            access,
            json!({"real_name": "张三丰", "id_number": id_number}),
        )
        .await;
    assert_eq!(again.body["code"], "verification.pending");
    let (_, _, other) = api.register("shiming2").await;
    let other_access = other["access"].as_str().unwrap();
    let dup = api
        .post_auth(
            "/users/profile/verification",
            other_access,
            json!({"real_name": "李四", "id_number": id_number}),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.body["code"], "verification.id_number_in_use");

    // Non-admins are refused the queue.
    let nope = api.get_auth("/admin/verifications", access).await;
    assert_eq!(nope.status, 403);
    assert_eq!(nope.body["code"], "auth.admin_required");
    // The admin sees it, with the full name and the masked number, and approves it.
    let (admin, admin_id) = admin_session(&api).await;
    let mut found = None;
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let path = match &cursor {
            Some(c) => format!("/admin/verifications?limit=100&cursor={c}"),
            None => "/admin/verifications?limit=100".to_owned(),
        };
        let page = api.get_auth(&path, &admin).await;
        assert_eq!(page.status, 200, "{}", page.body);
        found = page.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == vid.as_str())
            .cloned();
        cursor = page.body["data"]["next_cursor"].as_str().map(str::to_owned);
        if found.is_some() || cursor.is_none() {
            break;
        }
    }
    let item = found.expect("pending submission listed");
    assert_eq!(item["real_name"], "张三丰");
    assert!(!item.to_string().contains(&id_number));
    let reject_without_reason = api
        .post_auth(
            &format!("/admin/verifications/{vid}/review"),
            &admin,
            json!({"decision": "reject"}),
        )
        .await;
    assert_eq!(reject_without_reason.status, 422);
    let ok = api
        .post_auth(
            &format!("/admin/verifications/{vid}/review"),
            &admin,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let twice = api
        .post_auth(
            &format!("/admin/verifications/{vid}/review"),
            &admin,
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.body["code"], "verification.already_reviewed");
    let me = api.get_auth("/users/profile", access).await;
    assert_eq!(me.body["data"]["is_verified"], true);
    assert_eq!(me.body["data"]["verification"]["status"], "approved");
    // AND the action is in the audit log: who, what, when
    let store = gigbao_tests::stack_store().await;
    let audit = store.audit_for_target("verification", &vid).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, admin_id);
    assert_eq!(audit[0].action, "verification.approved");
    assert_eq!(audit[0].details["user_id"], user_id.as_str());
}

#[tokio::test]
async fn a_rejected_number_can_be_submitted_again() {
    let api = Api::connect();
    let (_, _, a) = api.register("rej1").await;
    let id_number = fresh_id_number();
    let sub = api
        .post_auth(
            "/users/profile/verification",
            a["access"].as_str().unwrap(),
            json!({"real_name": "王五", "id_number": id_number}),
        )
        .await;
    let vid = sub.body["data"]["id"].as_str().unwrap().to_owned();
    let (admin, _) = admin_session(&api).await;
    let rej = api
        .post_auth(
            &format!("/admin/verifications/{vid}/review"),
            &admin,
            json!({"decision": "reject", "reason": "证件照片模糊"}),
        )
        .await;
    assert_eq!(rej.status, 200, "{}", rej.body);
    let me = api
        .get_auth("/users/profile", a["access"].as_str().unwrap())
        .await;
    assert_eq!(me.body["data"]["verification"]["status"], "rejected");
    assert_eq!(me.body["data"]["verification"]["reason"], "证件照片模糊");
    assert_eq!(me.body["data"]["is_verified"], false);
    // The number is free again (the first account may have mistyped someone else's).
    let (_, _, b) = api.register("rej2").await;
    let again = api
        .post_auth(
            "/users/profile/verification",
            b["access"].as_str().unwrap(),
            json!({"real_name": "王五", "id_number": id_number}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);
}

#[tokio::test]
async fn a_banned_user_is_refused_everywhere_at_once() {
    let api = Api::connect();
    let (username, password, data) = api.register("banme").await;
    let access = data["access"].as_str().unwrap().to_owned();
    let refresh = data["refresh"].as_str().unwrap().to_owned();
    let id = data["user"]["id"].as_str().unwrap().to_owned();
    let (admin, admin_id) = admin_session(&api).await;
    // Non-admins cannot ban; a reason is required; an admin cannot ban themself.
    let nope = api
        .patch_auth(
            &format!("/admin/users/{id}"),
            &access,
            json!({"action": "ban", "reason": "x"}),
        )
        .await;
    assert_eq!(nope.status, 403);
    let no_reason = api
        .patch_auth(
            &format!("/admin/users/{id}"),
            &admin,
            json!({"action": "ban"}),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let myself = api
        .patch_auth(
            &format!("/admin/users/{admin_id}"),
            &admin,
            json!({"action": "ban", "reason": "x"}),
        )
        .await;
    assert_eq!(myself.body["code"], "admin.self_action");
    // WHEN the admin bans the user
    let ban = api
        .patch_auth(
            &format!("/admin/users/{id}"),
            &admin,
            json!({"action": "ban", "reason": "刷单"}),
        )
        .await;
    assert_eq!(ban.status, 200, "{}", ban.body);
    assert_eq!(ban.body["data"]["status"], "banned");
    // THEN the still-unexpired access token is refused, and so are refresh and login
    let p = api.get_auth("/users/profile", &access).await;
    assert_eq!(p.status, 403);
    assert_eq!(p.body["code"], "account.disabled");
    let u = api
        .patch_auth("/users/profile", &access, json!({"company_name": "x"}))
        .await;
    assert_eq!(u.status, 403);
    let r = api
        .post("/auth/refresh-token", json!({"refresh": refresh}))
        .await;
    assert_eq!(r.status, 401);
    let l = api
        .post(
            "/auth/login",
            json!({"login": username, "password": password}),
        )
        .await;
    assert_eq!(l.status, 403);
    assert_eq!(l.body["code"], "account.disabled");
    assert_eq!(
        api.get(&format!("/users/{id}")).await.status,
        404,
        "banned profiles are hidden"
    );
    // AND the banned list has them
    let list = api
        .get_auth("/admin/users?banned=true&type=client&limit=100", &admin)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["id"] == id.as_str())
    );
    assert!(
        !list
            .body
            .to_string()
            .contains(data["user"]["phone"].as_str().unwrap()),
        "phones are masked"
    );
    // WHEN unbanned, a new login works but the old token stays dead
    let unban = api
        .patch_auth(
            &format!("/admin/users/{id}"),
            &admin,
            json!({"action": "unban", "reason": "申诉成功"}),
        )
        .await;
    assert_eq!(unban.status, 200);
    assert_eq!(
        api.post(
            "/auth/login",
            json!({"login": username, "password": password})
        )
        .await
        .status,
        200
    );
    assert_eq!(api.get_auth("/users/profile", &access).await.status, 401);
    let audit = gigbao_tests::stack_store()
        .await
        .audit_for_target("user", &id)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["user.unban", "user.ban"]);
    assert_eq!(audit[1].reason.as_deref(), Some("刷单"));
}

#[tokio::test]
async fn the_user_list_filters_and_pages() {
    let api = Api::connect();
    let (admin, _) = admin_session(&api).await;
    let first = api
        .get_auth("/admin/users?type=freelancer&limit=2", &admin)
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let items = first.body["data"]["items"].as_array().unwrap();
    assert!(items.iter().all(|u| u["user_type"] == "freelancer"));
    if let Some(c) = first.body["data"]["next_cursor"].as_str() {
        let next = api
            .get_auth(
                &format!("/admin/users?type=freelancer&limit=2&cursor={c}"),
                &admin,
            )
            .await;
        assert_eq!(next.status, 200);
        // A cursor of one list does not open another partition.
        let other = api
            .get_auth(&format!("/admin/users?banned=true&cursor={c}"), &admin)
            .await;
        assert_eq!(other.status, 400);
        assert_eq!(other.body["code"], "request.invalid_cursor");
    }
    assert_eq!(
        api.get_auth("/admin/users?type=robot", &admin).await.status,
        400
    );
    assert_eq!(
        api.get_auth("/admin/users?limit=1000", &admin).await.status,
        400
    );
    assert_eq!(
        api.get_auth("/admin/users?cursor=garbage", &admin)
            .await
            .status,
        400
    );
    let verified = api
        .get_auth("/admin/users?verified=true&limit=100", &admin)
        .await;
    assert!(
        verified.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["is_verified"] == true)
    );
}
