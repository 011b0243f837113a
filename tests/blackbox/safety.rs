//! Trust and safety, privacy and the operators' view through the running stack: reports and
//! their sanctions, the abuse detector fed by the stream, the audit log, PIPL export and
//! deletion, the counters behind `admin-stats`, and monthly reports.

use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::messaging::{freelancer, open};
use crate::orders::{Party, act, buyer, deliver, order, pay, seller, service};
use crate::{Answer, Api, admin_session, is_chinese};

async fn client(api: &Api) -> (Party, String, String) {
    let (username, password, data) = api.register("anquan").await;
    (
        Party {
            access: data["access"].as_str().unwrap().to_owned(),
            id: data["user"]["id"].as_str().unwrap().to_owned(),
        },
        username,
        password,
    )
}

async fn say(api: &Api, from: &Party, conversation: &str, text: &str) -> Answer {
    api.send(
        api.request(
            Method::POST,
            &format!("/messaging/conversations/{conversation}/messages"),
        )
        .bearer_auth(&from.access)
        .header("accept-language", "en")
        .json(&json!({ "content": text })),
    )
    .await
}

async fn report(api: &Api, who: &Party, body: Value) -> Answer {
    api.post_auth("/reports", &who.access, body).await
}

/// Polls `f` until it returns `Some`, for what the stream does asynchronously.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The caller's data as the export hands it over: asked for, written by the worker, told,
/// downloaded through its short-lived link (as `{"data": archive, "download_url": …}`).
pub(crate) async fn exported(api: &Api, who: &Party) -> Value {
    let started = api
        .send(
            api.request(Method::POST, "/users/profile/export")
                .bearer_auth(&who.access),
        )
        .await;
    assert_eq!(started.status, 202, "{}", started.body);
    assert_eq!(
        started.body["data"]["status"], "pending",
        "{}",
        started.body
    );
    let id = started.body["data"]["id"].as_str().unwrap().to_owned();
    let ready = eventually("the export", || async {
        let e = api.get_auth("/users/profile/export", &who.access).await;
        (e.body["data"]["id"] == id.as_str() && e.body["data"]["status"] == "ready").then_some(e)
    })
    .await;
    let url = ready.body["data"]["download_url"].as_str().unwrap();
    let download = reqwest::get(url).await.unwrap();
    assert_eq!(download.status(), 200);
    let archive: Value = download.json().await.unwrap();
    // The owner is told, in both languages.
    let told = eventually("the export's notification", || async {
        let n = api.get_auth("/messaging/notifications", &who.access).await;
        n.body["data"]["items"]
            .as_array()?
            .iter()
            .find(|n| n["notification_type"] == "export.ready" && n["related_id"] == id.as_str())
            .cloned()
    })
    .await;
    assert!(
        is_chinese(told["title_zh"].as_str().unwrap_or("")),
        "{told}"
    );
    assert!(
        told["message"]
            .as_str()
            .unwrap_or("")
            .contains("15 minutes"),
        "{told}"
    );
    json!({ "data": archive, "download_url": url })
}

async fn pending_reports(api: &Api, admin: &str, kind: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("/admin/reports?status=pending&type={kind}&limit=100"),
            Some(c) => format!("/admin/reports?status=pending&type={kind}&limit=100&cursor={c}"),
        };
        let a = api.get_auth(&path, admin).await;
        assert_eq!(a.status, 200, "{}", a.body);
        out.extend(a.body["data"]["items"].as_array().unwrap().iter().cloned());
        cursor = a.body["data"]["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return out;
        }
    }
}

async fn audit_of(api: &Api, admin: &str, target_type: &str, id: &str) -> Vec<Value> {
    let a = api
        .get_auth(
            &format!("/admin/audit-log?target_type={target_type}&target_id={id}"),
            admin,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["data"]["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_admin_route_refuses_clients_and_freelancers() {
    let api = Api::connect();
    let (c, _, _) = client(&api).await;
    let f = freelancer(&api).await;
    let id = "01JDEMO0000000000000000000";
    let routes = [
        (Method::GET, "/admin/users".to_owned()),
        (Method::PATCH, format!("/admin/users/{id}")),
        (Method::GET, "/admin/services".to_owned()),
        (Method::POST, format!("/admin/services/{id}/moderate")),
        (Method::GET, "/admin/orders".to_owned()),
        (Method::POST, format!("/admin/orders/{id}/resolve")),
        (Method::GET, "/admin/reports".to_owned()),
        (Method::POST, format!("/admin/reports/{id}/resolve")),
        (Method::GET, "/admin/withdrawals".to_owned()),
        (Method::POST, format!("/admin/withdrawals/{id}/review")),
        (Method::GET, "/admin/verifications".to_owned()),
        (Method::POST, format!("/admin/verifications/{id}/review")),
        (Method::GET, "/admin/audit-log".to_owned()),
        (Method::GET, "/admin/stats".to_owned()),
    ];
    for who in [&c, &f] {
        for (method, path) in &routes {
            let a = api
                .send(
                    api.request(method.clone(), path)
                        .bearer_auth(&who.access)
                        .json(&json!({"action": "ban", "reason": "x", "decision": "resolve", "note": "x"})),
                )
                .await;
            assert_eq!(a.status, 403, "{method} {path}: {}", a.body);
            assert_eq!(a.body["code"], "auth.admin_required", "{method} {path}");
        }
    }
    // And without a token at all: 401.
    let a = api.get("/admin/stats").await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn a_service_report_is_filed_once_upheld_with_a_pause_and_the_reporter_is_told() {
    let api = Api::connect();
    let (admin, _) = admin_session(&api).await;
    let owner = seller(&api).await;
    let svc = service(&api, &owner).await;
    let (reporter, _, _) = client(&api).await;

    // Refusals first: a bad reason (both languages), the owner reporting themself, a
    // missing target.
    let bad = api
        .send(
            api.request(Method::POST, "/reports")
                .bearer_auth(&reporter.access)
                .header("accept-language", "en")
                .json(&json!({"target_type": "service", "target_id": svc, "reason": "boring", "description": "x"})),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.body["code"], "report.invalid_reason");
    assert!(
        bad.body["errors"]["reason"][0]
            .as_str()
            .unwrap()
            .contains("reason must be one of"),
        "{}",
        bad.body
    );
    let bad_zh = report(
        &api,
        &reporter,
        json!({"target_type": "planet", "target_id": svc, "reason": "fraud", "description": "x"}),
    )
    .await;
    assert_eq!(bad_zh.status, 422);
    assert_eq!(bad_zh.body["code"], "report.invalid_target_type");
    assert!(is_chinese(bad_zh.body["message"].as_str().unwrap()));
    let own = report(
        &api,
        &owner,
        json!({"target_type": "service", "target_id": svc, "reason": "fraud", "description": "自己"}),
    )
    .await;
    assert_eq!(own.status, 422, "{}", own.body);
    assert_eq!(own.body["code"], "report.self");
    let missing = report(
        &api,
        &reporter,
        json!({"target_type": "service", "target_id": "01JDEMO0000000000000000000", "reason": "fraud", "description": "不存在"}),
    )
    .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["code"], "report.target_not_found");

    let body = json!({
        "target_type": "service", "target_id": svc, "reason": "fraud",
        "description": "收款后不交付，要求站外转账"
    });
    let filed = report(&api, &reporter, body.clone()).await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let report_id = filed.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(filed.body["data"]["status"], "pending");
    assert_eq!(filed.body["data"]["reported_user_id"], owner.id.as_str());
    let again = report(&api, &reporter, body).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["code"], "report.duplicate");

    let queue = pending_reports(&api, &admin, "service").await;
    assert!(queue.iter().any(|r| r["id"] == report_id.as_str()));
    assert!(
        pending_reports(&api, &admin, "review")
            .await
            .iter()
            .all(|r| r["id"] != report_id.as_str())
    );

    let path = format!("/admin/reports/{report_id}/resolve");
    let wrong = api
        .post_auth(
            &path,
            &admin,
            json!({"decision": "resolve", "action": "hide_review", "note": "x"}),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert_eq!(wrong.body["code"], "report.action_mismatch");
    let no_note = api
        .post_auth(
            &path,
            &admin,
            json!({"decision": "resolve", "action": "pause_service"}),
        )
        .await;
    assert_eq!(no_note.status, 422);
    let done = api
        .post_auth(
            &path,
            &admin,
            json!({"decision": "resolve", "action": "pause_service", "note": "核实为站外引流"}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["data"]["status"], "resolved");
    assert_eq!(done.body["data"]["action"], "pause_service");
    let twice = api
        .post_auth(&path, &admin, json!({"decision": "dismiss", "note": "x"}))
        .await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.body["code"], "report.already_decided");

    // The service is paused: gone for the public, paused for its owner.
    assert_eq!(api.get(&format!("/services/{svc}")).await.status, 404);
    let mine = api
        .get_auth(&format!("/services/{svc}"), &owner.access)
        .await;
    assert_eq!(mine.body["data"]["status"], "paused", "{}", mine.body);
    // Audited with the decision.
    let audit = audit_of(&api, &admin, "report", &report_id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["action"], "report.resolve");
    assert_eq!(audit[0]["details"]["action"], "pause_service");
    assert_eq!(audit[0]["automatic"], false);
    // A new report on the same target is possible now that the first one is decided.
    let later = report(
        &api,
        &reporter,
        json!({"target_type": "service", "target_id": svc, "reason": "spam", "description": "又出现了"}),
    )
    .await;
    // The service is paused, so the reporter can no longer see it.
    assert_eq!(later.status, 404);
    // The reporter hears the outcome.
    eventually("the reporter's notification", || async {
        let n = api
            .get_auth("/messaging/notifications", &reporter.access)
            .await;
        n.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["notification_type"] == "report.decided")
            .cloned()
    })
    .await;
}

#[tokio::test]
async fn a_reported_message_leads_to_a_ban_that_ends_the_senders_access() {
    let api = Api::connect();
    let (admin, _) = admin_session(&api).await;
    let (rude, _, _) = client(&api).await;
    let target = freelancer(&api).await;
    let conv = open(&api, &rude, &target).await;
    let sent = say(&api, &rude, &conv, "你这种水平也敢接单？").await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let message_id = sent.body["data"]["id"].as_str().unwrap().to_owned();
    // A message is reported by someone who can see it, with its conversation.
    let no_conv = report(
        &api,
        &target,
        json!({"target_type": "message", "target_id": message_id, "reason": "harassment", "description": "辱骂"}),
    )
    .await;
    assert_eq!(no_conv.status, 422);
    let (stranger, _, _) = client(&api).await;
    let hidden = report(
        &api,
        &stranger,
        json!({"target_type": "message", "target_id": message_id, "conversation_id": conv, "reason": "harassment", "description": "辱骂"}),
    )
    .await;
    assert_eq!(hidden.status, 404);
    let filed = report(
        &api,
        &target,
        json!({"target_type": "message", "target_id": message_id, "conversation_id": conv, "reason": "harassment", "description": "辱骂"}),
    )
    .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert_eq!(filed.body["data"]["reported_user_id"], rude.id.as_str());
    let id = filed.body["data"]["id"].as_str().unwrap();
    let done = api
        .post_auth(
            &format!("/admin/reports/{id}/resolve"),
            &admin,
            json!({"decision": "resolve", "action": "ban_user", "note": "多次辱骂"}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let me = api.get_auth("/users/profile", &rude.access).await;
    assert!(me.status == 401 || me.status == 403, "{}", me.body);
    let audit = audit_of(&api, &admin, "report", id).await;
    assert_eq!(audit[0]["details"]["user_status"]["to"], "banned");
}

#[tokio::test]
async fn six_accounts_from_one_address_flag_the_sixth_for_review() {
    let api = Api::connect();
    let (admin, _) = admin_session(&api).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let (p, _, _) = client(&api).await;
        ids.push(p.id);
    }
    let sixth = ids[5].clone();
    let flagged = eventually("the multiple-accounts report", || async {
        pending_reports(&api, &admin, "user")
            .await
            .into_iter()
            .find(|r| r["target_id"] == sixth.as_str())
    })
    .await;
    assert_eq!(flagged["reason"], "multiple_accounts");
    assert_eq!(flagged["reporter_id"], "system");
    assert_eq!(flagged["evidence"]["count"], 6);
    let accounts = flagged["evidence"]["accounts"].as_array().unwrap();
    for id in &ids {
        assert!(accounts.iter().any(|a| a == id.as_str()));
    }
    // The first five are not flagged.
    let queue = pending_reports(&api, &admin, "user").await;
    for id in &ids[..5] {
        assert!(queue.iter().all(|r| r["target_id"] != id.as_str()), "{id}");
    }
    let audit = audit_of(&api, &admin, "user", &sixth).await;
    assert_eq!(audit[0]["action"], "abuse.flag");
    assert_eq!(audit[0]["automatic"], true);
}

#[tokio::test]
async fn a_spammer_is_restricted_and_reported_and_an_operator_lifts_it() {
    let api = Api::connect();
    let (admin, _) = admin_session(&api).await;
    let (spammer, _, _) = client(&api).await;
    let to = freelancer(&api).await;
    let conv = open(&api, &spammer, &to).await;
    // Three spam words are allowed…
    let ok = say(&api, &spammer, &conv, "免费咨询，立即回复，点击查看作品").await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    // …four are spam.
    let spam = say(&api, &spammer, &conv, "FREE 免费领取，立即点击 click here").await;
    assert_eq!(spam.status, 201, "{}", spam.body);
    let audit = eventually("the restriction", || async {
        let a = audit_of(&api, &admin, "user", &spammer.id).await;
        (!a.is_empty()).then_some(a)
    })
    .await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["action"], "user.restrict");
    assert_eq!(audit[0]["actor_id"], "system");
    assert_eq!(audit[0]["details"]["evidence"]["rule"], "spam_keywords");
    let reported = pending_reports(&api, &admin, "user")
        .await
        .into_iter()
        .find(|r| r["target_id"] == spammer.id.as_str())
        .expect("a spam report");
    assert_eq!(reported["reason"], "spam");
    // Restricted: a few messages an hour, then 429 with a clear reason.
    let mut refused = None;
    for i in 0..6 {
        let a = say(&api, &spammer, &conv, &format!("第{i}条")).await;
        if a.status == 429 {
            refused = Some(a);
            break;
        }
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let refused = refused.expect("the restricted sender is slowed down");
    assert_eq!(refused.body["code"], "account.restricted");
    assert!(refused.headers.contains_key("retry-after"));
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("suspected spam")
    );
    // The operator reverses it.
    let lift = api
        .patch_auth(
            &format!("/admin/users/{}", spammer.id),
            &admin,
            json!({"action": "unrestrict", "reason": "人工复核：正常推广"}),
        )
        .await;
    assert_eq!(lift.status, 200, "{}", lift.body);
    assert_eq!(lift.body["data"]["restricted_until"], Value::Null);
    let again = say(&api, &spammer, &conv, "恢复正常了").await;
    assert_eq!(again.status, 201, "{}", again.body);
    let audit = audit_of(&api, &admin, "user", &spammer.id).await;
    assert_eq!(audit[0]["action"], "user.unrestrict");
}

#[tokio::test]
async fn deleting_an_account_is_refused_while_an_order_or_money_is_open() {
    let api = Api::connect();
    let rich = buyer(&api, "500.00").await;
    let a = api
        .send(
            api.request(Method::DELETE, "/users/profile")
                .bearer_auth(&rich.access)
                .header("accept-language", "en")
                .json(&json!({"password": "Kehu-2026-safe"})),
        )
        .await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.body["code"], "account.balance_not_zero");
    assert!(a.body["message"].as_str().unwrap().contains("withdraw"));

    let owner = seller(&api).await;
    let svc = service(&api, &owner).await;
    let waiting = buyer(&api, "0").await;
    order(&api, &waiting, &svc, "basic").await;
    let a = api
        .send(
            api.request(Method::DELETE, "/users/profile")
                .bearer_auth(&waiting.access)
                .json(&json!({"password": "Kehu-2026-safe"})),
        )
        .await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.body["code"], "account.open_orders");
    assert!(is_chinese(a.body["message"].as_str().unwrap()));
    // The freelancer of that order cannot leave either.
    let a = api
        .send(
            api.request(Method::DELETE, "/users/profile")
                .bearer_auth(&owner.access)
                .json(&json!({"password": "Sheji-2026-safe"})),
        )
        .await;
    assert_eq!(a.body["code"], "account.open_orders", "{}", a.body);
    // The password confirms it.
    let (plain, _, _) = client(&api).await;
    let none = api
        .send(
            api.request(Method::DELETE, "/users/profile")
                .bearer_auth(&plain.access),
        )
        .await;
    assert_eq!(none.status, 422, "{}", none.body);
    let wrong = api
        .send(
            api.request(Method::DELETE, "/users/profile")
                .bearer_auth(&plain.access)
                .json(&json!({"password": "wrong-password-1"})),
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.body["code"], "account.wrong_password");
    // Still there.
    assert_eq!(
        api.get_auth("/users/profile", &plain.access).await.status,
        200
    );
}

#[tokio::test]
async fn a_deleted_account_leaves_no_personal_data_with_the_other_party_and_the_ledger_holds() {
    let api = Api::connect();
    let owner = seller(&api).await;
    let svc = service(&api, &owner).await;
    // A client who spends exactly what they had: a completed order, an empty wallet.
    let c = buyer(&api, "199.00").await;
    let me = api.get_auth("/users/profile", &c.access).await;
    let username = me.body["data"]["username"].as_str().unwrap().to_owned();
    let email = me.body["data"]["email"].as_str().unwrap().to_owned();
    let phone = me.body["data"]["phone"].as_str().unwrap().to_owned();
    let o = order(&api, &c, &svc, "basic").await;
    let oid = o["id"].as_str().unwrap().to_owned();
    pay(&api, &c, &oid).await;
    deliver(&api, &owner, &oid).await;
    let done = act(&api, &c, &oid, "accept", json!({})).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let conv = open(&api, &c, &owner).await;
    assert_eq!(say(&api, &c, &conv, "谢谢，设计很满意").await.status, 201);
    assert_eq!(say(&api, &owner, &conv, "感谢支持").await.status, 201);
    // A brief of theirs with a file, and the seller's bid on it; the seller reviews them
    // (sealed: they have not reviewed the seller).
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let t = api
        .post_auth(
            "/briefs/attachments",
            &c.access,
            json!({"content_type": "application/pdf", "content_length": pdf.len()}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    assert_eq!(gigbao_tests::put_upload(&t.body["data"], pdf).await, 200);
    let brief = api
        .post_auth(
            "/briefs",
            &c.access,
            json!({"title": "为新茶饮品牌设计 logo 和门头",
                   "description": "我们在杭州新开一家茶饮店，需要一个简洁、易记的 logo，两周内完成。",
                   "category": "logo-design", "budget": "2000.00",
                   "attachments": [{"key": t.body["data"]["key"], "name": "需求.pdf"}]}),
        )
        .await;
    assert_eq!(brief.status, 201, "{}", brief.body);
    let brief_id = brief.body["data"]["id"].as_str().unwrap().to_owned();
    let file_url = api
        .get(&format!("/briefs/{brief_id}"))
        .await
        .body["data"]["attachments"][0]["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let bid = api
        .post_auth(
            &format!("/briefs/{brief_id}/proposals"),
            &owner.access,
            json!({"price": "2000.00", "delivery_days": 10, "revisions": 2,
                   "message": "我做过很多茶饮品牌的 logo，十天交付三个方案。"}),
        )
        .await;
    assert_eq!(bid.status, 201, "{}", bid.body);
    let sealed = api
        .post_auth(
            &format!("/orders/{oid}/client-review"),
            &owner.access,
            json!({"rating": 4, "comment": "沟通顺畅的买家"}),
        )
        .await;
    assert_eq!(sealed.status, 201, "{}", sealed.body);

    // Their own export has it all, and no secrets. The order's conversation is written by the
    // notification worker (its system lines), so wait for it first.
    eventually("the order's conversation", || async {
        let list = api.get_auth("/messaging/conversations", &c.access).await;
        (list.body["data"]["items"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    let export = exported(&api, &c).await;
    let data = &export["data"];
    assert_eq!(data["account"]["username"], username.as_str());
    assert_eq!(data["orders"].as_array().unwrap().len(), 1);
    // The direct conversation and the order's own (with its system lines).
    let direct = |export: &Value| {
        export["data"]["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["conversation"]["conversation_id"] == conv.as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(data["conversations"].as_array().unwrap().len(), 2);
    assert_eq!(direct(&export)["messages"].as_array().unwrap().len(), 2);
    assert!(data["ledger_lines"].as_array().unwrap().len() >= 2);
    assert_eq!(data["wallet"]["balance"], "0.00");
    assert!(!export.to_string().contains("password_hash"));
    assert!(!export.to_string().contains("argon2"));
    assert_eq!(
        data["briefs"][0]["id"],
        brief_id.as_str(),
        "{}",
        data["briefs"]
    );
    assert_eq!(data["briefs"][0]["attachments"][0]["name"], "需求.pdf");
    // The seller's review of them is sealed: not theirs to read, not even in an export.
    assert_eq!(
        data["client_reviews"],
        json!([]),
        "{}",
        data["client_reviews"]
    );

    let gone = api
        .send(
            api.request(Method::DELETE, "/users/profile")
                .bearer_auth(&c.access)
                .json(&json!({"password": "Kehu-2026-safe"})),
        )
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    // The archive of their data went with the account (its link, still within its 15
    // minutes, finds nothing).
    let archive = reqwest::get(export["download_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(
        archive.status(),
        404,
        "the export archive outlived the account"
    );
    // Signed out everywhere, and the name is free again.
    assert!(matches!(
        api.get_auth("/users/profile", &c.access)
            .await
            .status
            .as_u16(),
        401 | 403
    ));
    let login = api
        .post(
            "/auth/login",
            json!({"login": username, "password": "Kehu-2026-safe"}),
        )
        .await;
    assert_eq!(login.status, 401);
    // Their brief is closed under the erased name, its file gone.
    let left = api.get(&format!("/briefs/{brief_id}")).await;
    assert_eq!(left.body["data"]["status"], "closed", "{}", left.body);
    assert_eq!(left.body["data"]["client"]["username"], "已注销用户");
    assert_eq!(left.body["data"]["attachments"], json!([]));
    assert_eq!(reqwest::get(&file_url).await.unwrap().status(), 404);

    // The freelancer keeps the conversation and the order, with nothing personal of the
    // client in them.
    let theirs = exported(&api, &owner).await;
    assert_eq!(
        theirs["data"]["proposals"][0]["brief_id"],
        brief_id.as_str()
    );
    assert_eq!(
        theirs["data"]["client_reviews"][0]["comment"],
        "沟通顺畅的买家"
    );
    let text = format!(
        "{}{}{}{}",
        theirs["data"]["conversations"],
        theirs["data"]["orders"],
        theirs["data"]["reviews"],
        theirs["data"]["client_reviews"]
    );
    for secret in [&username, &email, &phone] {
        assert!(
            !text.contains(secret.as_str()),
            "{secret} in the other party's export"
        );
    }
    let conversations = theirs["data"]["conversations"].to_string();
    assert!(
        !conversations.contains(&c.id),
        "the deleted account's id in conversations"
    );
    let kept_conv = direct(&theirs);
    let messages = kept_conv["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().any(|m| m["content"] == "谢谢，设计很满意"));
    assert_eq!(kept_conv["conversation"]["other_username"], "已注销用户");
    let kept = &theirs["data"]["orders"][0];
    assert_eq!(kept["status"], "completed");
    assert_eq!(kept["client_username"], "已注销用户");

    // The ledger still balances, the deleted account's lines kept.
    let store = gigbao_tests::stack_store().await;
    let account = shared::domain::ledger::Account::User(c.id.parse().unwrap());
    let snapshot = store.account_snapshot(account).await.unwrap();
    assert!(snapshot.lines.len() >= 2);
    assert_eq!(snapshot.balances.available_fen, 0);
    let by_bucket = |b: shared::domain::ledger::Bucket| {
        snapshot
            .lines
            .iter()
            .filter(|l| l.bucket == b)
            .map(|l| l.amount)
            .sum::<i64>()
    };
    assert_eq!(by_bucket(shared::domain::ledger::Bucket::Available), 0);
    assert_eq!(by_bucket(shared::domain::ledger::Bucket::Frozen), 0);
    // Every movement of the order still balances to the fen.
    for line in &snapshot.lines {
        let m = store.movement(&line.movement_id).await.unwrap().unwrap();
        let sum: i64 = m.postings.iter().map(|p| p.amount_fen).sum();
        assert_eq!(sum, 0, "movement {}", line.movement_id);
    }
}

async fn stats(api: &Api, admin: &str) -> Value {
    let a = api.get_auth("/admin/stats", admin).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body["data"].clone()
}

#[tokio::test]
async fn the_operators_overview_follows_the_counters() {
    let api = Api::connect();
    let (admin, _) = admin_session(&api).await;
    let before = stats(&api, &admin).await;
    for key in [
        "users",
        "orders",
        "period",
        "open_disputes",
        "open_reports",
        "pending_verifications",
        "pending_withdrawals",
    ] {
        assert!(!before[key].is_null(), "{key} missing: {before}");
    }
    let gmv = |v: &Value| v["period"]["gmv"].as_str().unwrap().parse::<f64>().unwrap();
    let freelancers = |v: &Value| v["users"]["by_type"]["freelancer"].as_i64().unwrap();
    let owner = seller(&api).await;
    let svc = service(&api, &owner).await;
    let c = buyer(&api, "199.00").await;
    let o = order(&api, &c, &svc, "basic").await;
    pay(&api, &c, o["id"].as_str().unwrap()).await;
    let after = eventually("the counters", || async {
        let now = stats(&api, &admin).await;
        (freelancers(&now) > freelancers(&before)
            && gmv(&now) >= gmv(&before) + 199.0
            && now["users"]["new_today"].as_i64() > before["users"]["new_today"].as_i64())
        .then_some(now)
    })
    .await;
    assert!(after["orders"]["in_progress"].as_i64().unwrap() >= 1);
    // Periods.
    let today = after["period"]["to"].as_str().unwrap().to_owned();
    let a = api
        .get_auth(&format!("/admin/stats?from={today}&to=2000-01-01"), &admin)
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["code"], "stats.invalid_period");
    let a = api
        .get_auth("/admin/stats?from=2020-01-01&to=2026-11-24", &admin)
        .await;
    assert_eq!(a.status, 400);
    let a = api.get_auth("/admin/stats?from=yesterday", &admin).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["code"], "request.invalid_query");
}

#[tokio::test]
async fn monthly_reports_are_stored_once_and_sent() {
    let api = Api::connect();
    let owner = seller(&api).await;
    let svc = service(&api, &owner).await;
    let c = buyer(&api, "199.00").await;
    let o = order(&api, &c, &svc, "basic").await;
    let oid = o["id"].as_str().unwrap().to_owned();
    pay(&api, &c, &oid).await;
    deliver(&api, &owner, &oid).await;
    assert_eq!(act(&api, &c, &oid, "accept", json!({})).await.status, 200);
    // Early next month the run reports this one.
    let now = Utc::now();
    let next_month = now + chrono::Duration::days(i64::from(32 - now.day()));
    let store = gigbao_tests::stack_store().await;
    let first = shared::workers::monthly_reports::run(&store, next_month)
        .await
        .unwrap();
    assert!(first.stored >= 2, "{first:?}");
    shared::workers::monthly_reports::run(&store, next_month)
        .await
        .unwrap();
    for (who, needle) in [(&owner, "¥159.20"), (&c, "¥199.00")] {
        let note = eventually("the monthly report", || async {
            let n = api.get_auth("/messaging/notifications", &who.access).await;
            n.body["data"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["notification_type"] == "report.monthly")
                .cloned()
        })
        .await;
        let text = note.to_string();
        assert!(text.contains(needle), "{needle} not in {text}");
        // Stored once, sent once, though the run went twice.
        let n = api.get_auth("/messaging/notifications", &who.access).await;
        let count = n.body["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["notification_type"] == "report.monthly")
            .count();
        assert_eq!(count, 1);
    }
}
