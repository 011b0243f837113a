//! SMS codes, code sign-in, email verification and password reset, through the stack.

use serde_json::json;

use crate::{Api, last_code, last_mail_token};

#[tokio::test]
async fn the_first_code_sign_in_creates_a_client_and_the_next_signs_into_it() {
    let api = Api::connect();
    let phone = gigbao_tests::unique_phone();
    // GIVEN a code sent to a number nobody has registered
    let a = api
        .post(
            "/auth/sms-code",
            json!({"phone": phone, "purpose": "login"}),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.body);
    // WHEN it is used to sign in
    let first = api
        .post(
            "/auth/login/sms",
            json!({"phone": phone, "code": last_code(&phone)}),
        )
        .await;
    // THEN a client account exists, with the phone verified and no password
    assert_eq!(first.status, 200, "{}", first.body);
    let user = &first.body["data"]["user"];
    assert_eq!(user["user_type"], "client");
    assert_eq!(user["phone"], phone.as_str());
    assert_eq!(user["phone_verified"], true);
    assert_eq!(user["has_password"], false);
    assert!(user["username"].as_str().unwrap().starts_with("用户"));
    assert!(first.body["data"]["access"].is_string());

    // AND a later code (from another address, a minute later in spirit) signs into the same account
    let later = Api::connect();
    let store = gigbao_tests::stack_store().await;
    // The per-minute limit is real; clear it the way a minute passing would.
    clear_minute_limit(&store, &phone).await;
    assert_eq!(
        later
            .post(
                "/auth/sms-code",
                json!({"phone": phone, "purpose": "login"})
            )
            .await
            .status,
        202
    );
    let second = later
        .post(
            "/auth/login/sms",
            json!({"phone": phone, "code": last_code(&phone)}),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.body["data"]["user"]["id"], user["id"]);
}

/// Deletes the phone's per-minute SMS counters (what the passing of the minute would do).
async fn clear_minute_limit(store: &shared::store::Store, phone: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let out = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("RATE#sms-min#{phone}")))
        .send()
        .await
        .unwrap();
    for item in out.items() {
        store
            .client()
            .delete_item()
            .table_name(store.table())
            .key("PK", item["PK"].clone())
            .key("SK", item["SK"].clone())
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_second_code_within_a_minute_is_refused_with_retry_after() {
    let api = Api::connect();
    let phone = gigbao_tests::unique_phone();
    assert_eq!(
        api.post(
            "/auth/sms-code",
            json!({"phone": phone, "purpose": "register"})
        )
        .await
        .status,
        202
    );
    let code = last_code(&phone);
    // WHEN another code is asked for at once (even from another address)
    let again = Api::connect()
        .post_en(
            "/auth/sms-code",
            json!({"phone": phone, "purpose": "login"}),
        )
        .await;
    // THEN 429 with Retry-After, and the first code still works
    assert_eq!(again.status, 429, "{}", again.body);
    assert_eq!(again.body["code"], "auth.code_rate_limited");
    let retry: u64 = again.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert!(again.body["message"].as_str().unwrap().contains("a minute"));
    assert_eq!(last_code(&phone), code, "no second code was sent");
    assert_eq!(
        api.post("/auth/login/sms", json!({"phone": phone, "code": code}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn five_wrong_codes_burn_it_and_a_used_code_is_dead() {
    let api = Api::connect();
    let phone = gigbao_tests::unique_phone();
    api.post(
        "/auth/sms-code",
        json!({"phone": phone, "purpose": "login"}),
    )
    .await;
    let code = last_code(&phone);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for remaining in (1..=4).rev() {
        let a = api
            .post_en("/auth/login/sms", json!({"phone": phone, "code": wrong}))
            .await;
        assert_eq!(a.status, 401, "{}", a.body);
        assert_eq!(a.body["code"], "auth.invalid_code");
        assert!(
            a.body["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{remaining} tries left"))
        );
    }
    let fifth = api
        .post("/auth/login/sms", json!({"phone": phone, "code": wrong}))
        .await;
    assert_eq!(fifth.body["code"], "auth.code_attempts_exceeded");
    // THEN even the right code no longer works
    let right = api
        .post("/auth/login/sms", json!({"phone": phone, "code": code}))
        .await;
    assert_eq!(right.status, 401);
    assert_eq!(right.body["code"], "auth.code_attempts_exceeded");

    // AND a fresh code works once, never twice
    clear_minute_limit(&gigbao_tests::stack_store().await, &phone).await;
    api.post(
        "/auth/sms-code",
        json!({"phone": phone, "purpose": "login"}),
    )
    .await;
    let fresh = last_code(&phone);
    assert_eq!(
        api.post("/auth/login/sms", json!({"phone": phone, "code": fresh}))
            .await
            .status,
        200
    );
    let reuse = api
        .post("/auth/login/sms", json!({"phone": phone, "code": fresh}))
        .await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.body["code"], "auth.invalid_code");
}

#[tokio::test]
async fn bad_code_requests_name_the_field() {
    let api = Api::connect();
    let a = api
        .post_en(
            "/auth/sms-code",
            json!({"phone": "12345", "purpose": "marketing"}),
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["phone"].is_array());
    assert!(
        a.body["errors"]["purpose"][0]
            .as_str()
            .unwrap()
            .contains("login, register, reset or change_phone")
    );
    let b = api
        .post_en(
            "/auth/login/sms",
            json!({"phone": gigbao_tests::unique_phone(), "code": "12ab"}),
        )
        .await;
    assert_eq!(b.status, 422);
    assert_eq!(b.body["errors"]["code"][0], "The code is 6 digits");
}

#[tokio::test]
async fn an_email_is_verified_once_by_its_link() {
    let api = Api::connect();
    let (username, _, data) = api.register("verify").await;
    let access = data["access"].as_str().unwrap();
    let email = format!("{username}@example.com");
    assert_eq!(data["user"]["email_verified"], false);
    let sent = api
        .post_auth("/auth/verify-email/send", access, json!({}))
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let token = last_mail_token(&email, "verify_email");
    // WHEN the link's token is posted (no sign-in needed: it may be opened on another device)
    let ok = api
        .post("/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["data"]["email_verified"], true);
    // THEN it cannot be used again, and asking for another is a conflict
    let again = api
        .post_en("/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["code"], "auth.invalid_token");
    let resend = api
        .post_auth("/auth/verify-email/send", access, json!({}))
        .await;
    assert_eq!(resend.status, 409);
    assert_eq!(resend.body["code"], "auth.email_already_verified");
    let forged = api
        .post("/auth/verify-email", json!({"token": "x".repeat(43)}))
        .await;
    assert_eq!(forged.status, 400);
}

#[tokio::test]
async fn a_reset_by_email_changes_the_password_and_signs_out_everywhere() {
    let api = Api::connect();
    let (username, old_password, data) = api.register("reset").await;
    let email = format!("{username}@example.com");
    let old_access = data["access"].as_str().unwrap().to_owned();
    let old_refresh = data["refresh"].as_str().unwrap().to_owned();
    // GIVEN the same answer for a known and an unknown address
    let known = api
        .post("/auth/password-reset", json!({"email": email}))
        .await;
    let unknown = api
        .post(
            "/auth/password-reset",
            json!({"email": format!("nobody-{username}@example.com")}),
        )
        .await;
    assert_eq!(known.status, 202);
    assert_eq!(unknown.status, 202);
    assert_eq!(known.body["message"], unknown.body["message"]);
    assert_eq!(known.body["data"], unknown.body["data"]);
    let token = last_mail_token(&email, "password_reset");
    // WHEN a weak password is offered, nothing is used up
    let weak = api
        .post_en(
            "/auth/password-reset/confirm",
            json!({"token": token, "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body["errors"]["new_password"].is_array());
    let done = api
        .post(
            "/auth/password-reset/confirm",
            json!({"token": token, "new_password": "Xin-Mima-2026"}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    // THEN the old access and refresh tokens are dead, the old password too, the new one works
    let profile = api.get_auth("/users/profile", &old_access).await;
    assert_eq!(profile.status, 401);
    assert_eq!(profile.body["code"], "auth.session_revoked");
    let refresh = api
        .post("/auth/refresh-token", json!({"refresh": old_refresh}))
        .await;
    assert_eq!(refresh.status, 401);
    assert_eq!(refresh.body["code"], "auth.session_revoked");
    let old = api
        .post(
            "/auth/login",
            json!({"login": username, "password": old_password}),
        )
        .await;
    assert_eq!(old.status, 401);
    let new = api
        .post(
            "/auth/login",
            json!({"login": username, "password": "Xin-Mima-2026"}),
        )
        .await;
    assert_eq!(new.status, 200, "{}", new.body);
    assert_eq!(
        new.body["data"]["user"]["email_verified"], true,
        "the link proved the address"
    );
    // AND the token was single-use
    let reuse = api
        .post(
            "/auth/password-reset/confirm",
            json!({"token": token, "new_password": "Zai-Lai-2026x"}),
        )
        .await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.body["code"], "auth.invalid_token");
}

#[tokio::test]
async fn a_reset_by_sms_code_works_and_unknown_numbers_get_the_same_answer() {
    let api = Api::connect();
    let phone = gigbao_tests::unique_phone();
    let username = gigbao_tests::unique_name("smsreset");
    let reg = api
        .post(
            "/auth/register",
            json!({"username": username, "password": "Jiu-Mima-2026", "user_type": "client", "phone": phone}),
        )
        .await;
    assert_eq!(reg.status, 201);
    let stranger = gigbao_tests::unique_phone();
    let a = api
        .post("/auth/password-reset", json!({"phone": phone}))
        .await;
    let b = Api::connect()
        .post("/auth/password-reset", json!({"phone": stranger}))
        .await;
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (202, 202));
    assert_eq!(a.body["message"], b.body["message"]);
    let wrong = api
        .post_en(
            "/auth/password-reset/confirm",
            json!({"phone": stranger, "code": "123456", "new_password": "Xin-Mima-2026"}),
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.body["code"], "auth.invalid_code");
    let ok = api
        .post(
            "/auth/password-reset/confirm",
            json!({"phone": phone, "code": last_code(&phone), "new_password": "Xin-Mima-2026"}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let login = api
        .post(
            "/auth/login",
            json!({"login": phone, "password": "Xin-Mima-2026"}),
        )
        .await;
    assert_eq!(login.status, 200);
}

#[tokio::test]
async fn a_code_sign_in_verifies_the_phone_of_a_password_account() {
    let api = Api::connect();
    let (_, _, data) = api.register("phoneproof").await;
    let phone = data["user"]["phone"].as_str().unwrap().to_owned();
    assert_eq!(data["user"]["phone_verified"], false);
    api.post(
        "/auth/sms-code",
        json!({"phone": phone, "purpose": "login"}),
    )
    .await;
    let a = api
        .post(
            "/auth/login/sms",
            json!({"phone": phone, "code": last_code(&phone)}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["data"]["user"]["id"], data["user"]["id"]);
    assert_eq!(
        a.body["data"]["user"]["phone_verified"], true,
        "the answer says so"
    );
    let access = a.body["data"]["access"].as_str().unwrap();
    let me = api.get_auth("/users/profile", access).await;
    assert_eq!(me.body["data"]["phone_verified"], true, "and it was stored");
}

/// 修改密码：当前设备换新令牌继续使用，其他设备立即退出；旧密码失效。Sessions list the devices
/// and a device can be signed out.
#[tokio::test]
async fn a_password_change_signs_every_other_device_out_at_once() {
    let phone_api = Api::connect();
    let (username, password, first) = crate::register_freelancer(&phone_api, "gaimima").await;
    let phone = first["access"].as_str().unwrap().to_owned();
    // The same person on a laptop and on a tablet.
    let laptop_api = Api::connect();
    let laptop = login(&laptop_api, &username, &password).await;
    assert_eq!(laptop.status, 200, "{}", laptop.body);
    let laptop_access = laptop.body["data"]["access"].as_str().unwrap().to_owned();
    let laptop_refresh = laptop.body["data"]["refresh"].as_str().unwrap().to_owned();
    let tablet = login(&Api::connect(), &username, &password).await;
    let tablet_access = tablet.body["data"]["access"].as_str().unwrap().to_owned();
    // Three devices, the one asking marked current, addresses masked.
    let list = phone_api.get_auth("/users/profile/sessions", &phone).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let devices = list.body["data"].as_array().unwrap().clone();
    assert_eq!(devices.len(), 3, "{}", list.body);
    assert_eq!(devices.iter().filter(|d| d["current"] == true).count(), 1);
    assert!(
        devices
            .iter()
            .all(|d| d["ip"].as_str().unwrap().ends_with(".*")),
        "{}",
        list.body
    );
    // The tablet is signed out from the phone (the tablet's own list marks its session).
    let tablet_own = phone_api
        .get_auth("/users/profile/sessions", &tablet_access)
        .await;
    let tablet_id = tablet_own.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["current"] == true)
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .unwrap();
    let gone = phone_api
        .send(
            phone_api
                .request(
                    reqwest::Method::DELETE,
                    &format!("/users/profile/sessions/{tablet_id}"),
                )
                .header("authorization", format!("Bearer {phone}")),
        )
        .await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    let again = phone_api
        .send(
            phone_api
                .request(
                    reqwest::Method::DELETE,
                    &format!("/users/profile/sessions/{tablet_id}"),
                )
                .header("authorization", format!("Bearer {phone}")),
        )
        .await;
    assert_eq!(again.status, 404, "{}", again.body);
    assert_eq!(again.body["code"], "session.not_found");
    assert_eq!(
        phone_api
            .get_auth("/users/profile/sessions", &phone)
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A wrong current password changes nothing.
    let wrong = phone_api
        .post_auth(
            "/users/profile/password",
            &phone,
            json!({"current_password": "Not-the-2026-one", "new_password": "Xinmima-2026-anquan"}),
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert_eq!(wrong.body["code"], "password.wrong");
    assert_eq!(wrong.body["message"], "当前密码不正确");
    let same = phone_api
        .post_auth(
            "/users/profile/password",
            &phone,
            json!({"current_password": password, "new_password": password}),
        )
        .await;
    assert_eq!(same.body["code"], "password.unchanged", "{}", same.body);
    // WHEN the phone changes the password
    let changed = phone_api
        .post_auth(
            "/users/profile/password",
            &phone,
            json!({"current_password": password, "new_password": "Xinmima-2026-anquan"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["message"], "密码已修改，其他设备已退出登录");
    let fresh = changed.body["data"]["access"].as_str().unwrap().to_owned();
    // THEN the laptop is out at once, access and refresh; the phone's old token too
    for old in [&laptop_access, &phone] {
        let a = laptop_api.get_auth("/users/profile", old).await;
        assert_eq!(a.status, 401, "{}", a.body);
    }
    let r = laptop_api
        .post("/auth/refresh-token", json!({"refresh": laptop_refresh}))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    // AND the phone goes on with its new tokens, the only device left
    let me = phone_api.get_auth("/users/profile/sessions", &fresh).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"].as_array().unwrap().len(), 1, "{}", me.body);
    // AND only the new password signs in; the owner is told
    assert_eq!(
        login(&Api::connect(), &username, &password).await.status,
        401
    );
    assert_eq!(
        login(&Api::connect(), &username, "Xinmima-2026-anquan")
            .await
            .status,
        200
    );
    crate::safety::eventually("the password notice", || async {
        let n = phone_api.get_auth("/messaging/notifications", &fresh).await;
        n.body.to_string().contains("你的密码已更改").then_some(())
    })
    .await;
}

async fn login(api: &Api, username: &str, password: &str) -> crate::Answer {
    api.post(
        "/auth/login",
        json!({"login": username, "password": password}),
    )
    .await
}

/// 换绑手机号：新号码的验证码加原号码的验证码（或密码）；原号码立即可被其他账号注册。
#[tokio::test]
async fn changing_the_phone_frees_the_old_number_for_another_account() {
    let api = Api::connect();
    let (username, password, me) = crate::register_freelancer(&api, "huanhao").await;
    let access = me["access"].as_str().unwrap().to_owned();
    let old = me["user"]["phone"].as_str().unwrap().to_owned();
    let new = gigbao_tests::unique_phone();
    let send = |phone: String| {
        let api = &api;
        async move {
            let a = api
                .post(
                    "/auth/sms-code",
                    json!({"phone": phone, "purpose": "change_phone"}),
                )
                .await;
            assert_eq!(a.status, 202, "{}", a.body);
        }
    };
    send(new.clone()).await;
    send(old.clone()).await;
    // Neither proof, or a wrong code to the old number: refused, nothing moves.
    let none = api
        .post_auth(
            "/users/profile/phone",
            &access,
            json!({"new_phone": new, "new_code": last_code(&new)}),
        )
        .await;
    assert_eq!(none.status, 422, "{}", none.body);
    assert!(none.body["errors"]["old_code"].is_array(), "{}", none.body);
    let wrong = api
        .post_auth(
            "/users/profile/phone",
            &access,
            json!({"new_phone": new, "new_code": last_code(&new), "old_code": "000000"}),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong.body["errors"]["old_code"].is_array(),
        "{}",
        wrong.body
    );
    // Another account's number is taken.
    let (_, _, other) = api.register("zhanhao").await;
    let theirs = other["user"]["phone"].as_str().unwrap().to_owned();
    let store = gigbao_tests::stack_store().await;
    clear_minute_limit(&store, &theirs).await;
    send(theirs.clone()).await;
    let taken = api
        .post_auth(
            "/users/profile/phone",
            &access,
            json!({"new_phone": theirs, "new_code": last_code(&theirs), "password": password}),
        )
        .await;
    assert_eq!(taken.status, 409, "{}", taken.body);
    assert_eq!(taken.body["code"], "phone.taken");
    assert_eq!(taken.body["message"], "该手机号已绑定其他账号");
    // WHEN both codes are right
    let moved = api
        .post_auth(
            "/users/profile/phone",
            &access,
            json!({"new_phone": new, "new_code": last_code(&new), "old_code": last_code(&old)}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["data"]["phone"], new.as_str());
    assert_eq!(moved.body["data"]["phone_verified"], true);
    // THEN the new number signs in, the old one does not, and another account may take it
    assert_eq!(login(&Api::connect(), &new, &password).await.status, 200);
    assert_eq!(login(&Api::connect(), &old, &password).await.status, 401);
    let b = Api::connect()
        .post(
            "/auth/register",
            json!({"username": gigbao_tests::unique_name("jiuhao"), "password": "Kehu-2026-safe",
                   "user_type": "client", "phone": old}),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.body);
    let _ = username;
    crate::safety::eventually("the phone notice", || async {
        let n = api.get_auth("/messaging/notifications", &access).await;
        n.body
            .to_string()
            .contains("你的手机号已更改")
            .then_some(())
    })
    .await;
}

/// 更换邮箱：确认链接发到新地址；使用后账号换到新地址（已验证），原地址可被其他账号使用。
#[tokio::test]
async fn an_email_change_moves_the_account_once_the_new_address_confirms() {
    let api = Api::connect();
    let (username, password, me) = crate::register_freelancer(&api, "huanyou").await;
    let access = me["access"].as_str().unwrap().to_owned();
    let old = format!("{username}@example.com");
    let new = format!("{}@example.com", gigbao_tests::unique_name("xinyou"));
    let wrong = api
        .post_auth(
            "/users/profile/email",
            &access,
            json!({"new_email": new, "password": "Not-the-2026-one"}),
        )
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.body["code"].as_str()),
        (422, Some("password.wrong")),
        "{}",
        wrong.body
    );
    let (other, _, _) = api.register("youren").await;
    let taken = api
        .post_auth(
            "/users/profile/email",
            &access,
            json!({"new_email": format!("{other}@example.com"), "password": password}),
        )
        .await;
    assert_eq!(
        (taken.status.as_u16(), taken.body["code"].as_str()),
        (409, Some("email.taken")),
        "{}",
        taken.body
    );
    let sent = api
        .post_auth(
            "/users/profile/email",
            &access,
            json!({"new_email": new, "password": password}),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    // Nothing moves until the new address confirms.
    let me_now = api.get_auth("/users/profile", &access).await;
    assert_eq!(me_now.body["data"]["email"], old.as_str());
    let token = last_mail_token(&new, "change_email");
    let done = api
        .post("/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["data"]["email"], new.as_str());
    assert_eq!(done.body["data"]["email_verified"], true);
    let again = api
        .post("/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(again.body["code"], "auth.invalid_token", "{}", again.body);
    // The new address signs in; the old one is free for another account.
    assert_eq!(login(&Api::connect(), &new, &password).await.status, 200);
    let b = Api::connect()
        .post(
            "/auth/register",
            json!({"username": gigbao_tests::unique_name("jiuyou"), "password": "Kehu-2026-safe",
                   "user_type": "client", "email": old}),
        )
        .await;
    assert_eq!(b.status, 201, "{}", b.body);
    crate::safety::eventually("the email notice", || async {
        let n = api.get_auth("/messaging/notifications", &access).await;
        n.body.to_string().contains("你的邮箱已更改").then_some(())
    })
    .await;
}

/// The roles an access token carries (its payload, unverified: what a client reads).
fn token_roles(access: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = access.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["roles"].clone()
}

/// One account buys and sells: a WeChat user signs in from the mini-program with their
/// number, opens a seller profile, publishes a service and, with the same account, buys
/// another seller's service; the website sign-in (same unionid) lands in the same account,
/// and the refreshed token carries the new role.
#[tokio::test]
async fn a_wechat_user_opens_a_seller_profile_then_sells_and_buys_with_one_account() {
    use crate::orders::{Party, order, pay, seller, service};
    let api = Api::connect();
    let unionid = format!("oUnion{}", ulid::Ulid::new());
    let phone = gigbao_tests::unique_phone();
    let wechat = |kind: &'static str, who: serde_json::Value| async move {
        let v: serde_json::Value = reqwest::Client::new()
            .post(format!(
                "{}/sandbox/wechat-login/{kind}",
                gigbao_tests::env("GIGBAO_SANDBOX_URL")
            ))
            .json(&who)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["code"].as_str().unwrap().to_owned()
    };
    let signed = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "mini_program",
                   "code": wechat("code", json!({"unionid": unionid})).await,
                   "phone_code": wechat("phone-code", json!({"phone": phone})).await}),
        )
        .await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let me = Party {
        access: signed.body["data"]["access"].as_str().unwrap().to_owned(),
        id: signed.body["data"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    let refresh = signed.body["data"]["refresh"].as_str().unwrap().to_owned();
    assert_eq!(signed.body["data"]["user"]["roles"], json!(["buyer"]));
    assert_eq!(token_roles(&me.access), json!(["buyer"]));
    // A buyer cannot sell yet, and is told how to.
    let early = api
        .post_auth(
            "/services",
            &me.access,
            json!({"title_zh": "品牌Logo设计", "description_zh": "简洁易记的品牌标志设计。",
                   "category": "logo-design",
                   "packages": {"basic": {"price": "99.00", "description": "1 个方案", "delivery_days": 3, "revisions": 1}}}),
        )
        .await;
    assert_eq!(early.status, 403, "{}", early.body);
    assert_eq!(early.body["code"], "service.freelancer_only");
    assert_eq!(early.body["message"], "开通卖家资料后才能发布服务");
    // Opening a seller profile needs a bio and a skill, and only seller fields.
    let empty = api
        .post_auth("/users/profile/seller", &me.access, json!({}))
        .await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    assert!(empty.body["errors"]["bio"].is_array(), "{}", empty.body);
    assert!(empty.body["errors"]["skills"].is_array(), "{}", empty.body);
    let foreign = api
        .post_auth(
            "/users/profile/seller",
            &me.access,
            json!({"bio": "品牌设计", "skills": ["logo-design"], "company_name": "云栖"}),
        )
        .await;
    assert_eq!(foreign.status, 400, "{}", foreign.body);
    assert_eq!(foreign.body["code"], "profile.unknown_field");
    let opened = api
        .post_auth(
            "/users/profile/seller",
            &me.access,
            json!({"bio": "十年品牌设计经验，擅长 logo 与 VI 设计", "skills": ["logo-design"],
                   "hourly_rate": "300.00", "location": "杭州"}),
        )
        .await;
    assert_eq!(opened.status, 201, "{}", opened.body);
    assert_eq!(opened.body["data"]["roles"], json!(["buyer", "seller"]));
    assert_eq!(opened.body["data"]["user_type"], "client");
    assert_eq!(
        opened.body["data"]["freelancer_profile"]["hourly_rate"],
        "300.00"
    );
    assert_eq!(
        opened.body["data"]["freelancer_profile"]["seller_level"],
        "new"
    );
    let twice = api
        .post_auth(
            "/users/profile/seller",
            &me.access,
            json!({"bio": "再来一次", "skills": ["logo-design"]}),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(twice.body["code"], "profile.seller_already_open");
    // The account sells at once (checks read the account); the next token says so too.
    let mine = service(&api, &me).await;
    let refreshed = api
        .post("/auth/refresh-token", json!({"refresh": refresh}))
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(
        token_roles(refreshed.body["data"]["access"].as_str().unwrap()),
        json!(["buyer", "seller"])
    );
    // Its public profile shows the seller side.
    let public = api.get(&format!("/users/{}", me.id)).await;
    assert_eq!(public.body["data"]["roles"], json!(["buyer", "seller"]));
    assert_eq!(
        public.body["data"]["freelancer_profile"]["bio"],
        "十年品牌设计经验，擅长 logo 与 VI 设计"
    );
    // The same account buys another seller's service.
    let other = seller(&api).await;
    let theirs = service(&api, &other).await;
    let store = gigbao_tests::stack_store().await;
    shared::app::ledger::deposit(
        &store,
        me.id.parse().unwrap(),
        "500.00".parse().unwrap(),
        &ulid::Ulid::new().to_string(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let bought = order(&api, &me, &theirs, "basic").await;
    let paid = pay(&api, &me, bought["id"].as_str().unwrap()).await;
    assert_eq!(paid["status"], "in_progress", "{paid}");
    // Its lists keep the roles apart: the purchase as a buyer, nothing sold yet.
    let as_buyer = api.get_auth("/orders?role=client", &me.access).await;
    assert_eq!(
        as_buyer.body["data"]["items"][0]["id"], bought["id"],
        "{}",
        as_buyer.body
    );
    let as_seller = api.get_auth("/orders?role=freelancer", &me.access).await;
    assert_eq!(
        as_seller.body["data"]["items"],
        json!([]),
        "{}",
        as_seller.body
    );
    // Its own service is on sale, under its name.
    let listed = api.get(&format!("/services/{mine}")).await;
    assert_eq!(
        listed.body["data"]["freelancer"]["id"],
        me.id.as_str(),
        "{}",
        listed.body
    );
    // The website, same person: the same account, with both roles.
    let web = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "web", "code": wechat("code", json!({"unionid": unionid})).await}),
        )
        .await;
    assert_eq!(web.status, 200, "{}", web.body);
    assert_eq!(web.body["data"]["user"]["id"], me.id.as_str());
    assert_eq!(
        web.body["data"]["user"]["roles"],
        json!(["buyer", "seller"])
    );
}
