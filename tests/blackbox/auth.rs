use serde_json::json;

use crate::Api;

#[tokio::test]
async fn register_login_profile_refresh_reuse_and_logout() {
    let api = Api::connect();
    // Register
    let (username, password, registered) = api.register("flow").await;
    assert_eq!(registered["user"]["username"], username.as_str());
    assert_eq!(registered["user"]["user_type"], "client");
    assert!(registered["user"]["client_profile"].is_object());

    // Login by username
    let login = api
        .post(
            "/auth/login",
            json!({"login": username, "password": password}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["success"], true);
    assert_eq!(login.body["message"], "登录成功");
    let access = login.body["data"]["access"].as_str().unwrap().to_owned();
    let refresh1 = login.body["data"]["refresh"].as_str().unwrap().to_owned();

    // Own profile
    let me = api.get_auth("/users/profile", &access).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["username"], username.as_str());
    assert_eq!(me.body["data"]["email"], format!("{username}@example.com"));
    assert!(me.body["timestamp"].as_str().unwrap().ends_with('Z'));

    // Refresh rotates
    let r = api
        .post("/auth/refresh-token", json!({"refresh": refresh1}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refresh2 = r.body["data"]["refresh"].as_str().unwrap().to_owned();
    let access2 = r.body["data"]["access"].as_str().unwrap().to_owned();
    assert_ne!(refresh1, refresh2);
    assert_eq!(api.get_auth("/users/profile", &access2).await.status, 200);

    // Reusing the rotated token is refused and revokes the family…
    let reuse = api
        .post("/auth/refresh-token", json!({"refresh": refresh1}))
        .await;
    assert_eq!(reuse.status, 401);
    assert_eq!(reuse.body["code"], "auth.refresh_token_reused");
    // …so even the newest token no longer works.
    let dead = api
        .post("/auth/refresh-token", json!({"refresh": refresh2}))
        .await;
    assert_eq!(dead.status, 401);
    assert_eq!(dead.body["code"], "auth.session_revoked");

    // A new login, then logout
    let login = api
        .post(
            "/auth/login",
            json!({"login": format!("{username}@example.com"), "password": password}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let refresh3 = login.body["data"]["refresh"].as_str().unwrap().to_owned();
    let out = api.post("/auth/logout", json!({"refresh": refresh3})).await;
    assert_eq!(out.status, 204);
    let after = api
        .post("/auth/refresh-token", json!({"refresh": refresh3}))
        .await;
    assert_eq!(after.status, 401);
    assert_eq!(after.body["code"], "auth.session_revoked");
}

#[tokio::test]
async fn a_duplicate_registration_is_a_409_naming_the_field_in_both_languages() {
    let api = Api::connect();
    let (username, _, registered) = api.register("dup").await;
    let phone = registered["user"]["phone"].as_str().unwrap().to_owned();
    let again = json!({
        "username": username.to_uppercase(),
        "password": "Another-2026-pw",
        "user_type": "freelancer",
        "email": format!("{username}@example.com"),
        "phone": phone,
    });
    let zh = api.post("/auth/register", again.clone()).await;
    assert_eq!(zh.status, 409);
    assert_eq!(zh.body["code"], "auth.already_registered");
    assert_eq!(zh.body["errors"]["username"][0], "用户名已被占用");
    assert_eq!(zh.body["errors"]["email"][0], "该邮箱已被注册");
    assert_eq!(zh.body["errors"]["phone"][0], "该手机号已被注册");
    let en = api.post_en("/auth/register", again).await;
    assert_eq!(en.status, 409);
    assert_eq!(
        en.body["errors"]["username"][0],
        "This username is already taken"
    );
    assert_eq!(
        en.body["message"],
        "An account with these details already exists"
    );
}

#[tokio::test]
async fn login_is_limited_to_five_attempts_per_ip_with_retry_after() {
    let api = Api::connect();
    // The limit counts in fixed 5-minute windows: start well inside one, so the six
    // attempts cannot straddle a boundary.
    let into_window = chrono::Utc::now().timestamp().rem_euclid(300);
    if into_window > 285 {
        tokio::time::sleep(std::time::Duration::from_secs((301 - into_window) as u64)).await;
    }
    for _ in 0..5 {
        let a = api
            .post(
                "/auth/login",
                json!({"login": "nobody_at_all", "password": "Wrong-2026-pw"}),
            )
            .await;
        assert_eq!(a.status, 401);
        assert_eq!(a.body["code"], "auth.invalid_credentials");
    }
    let limited = api
        .post_en(
            "/auth/login",
            json!({"login": "nobody_at_all", "password": "Wrong-2026-pw"}),
        )
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["code"], "auth.too_many_attempts");
    assert_eq!(
        limited.body["message"],
        "Too many login attempts; please try again later"
    );
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "Retry-After {retry}");
}

/// The WeChat stand-in hands out a one-use code for `who`, as WeChat does when the user taps
/// "allow" (`kind`: `code` for sign-in, `phone-code` for the phone-number button).
async fn wechat_code(kind: &str, who: serde_json::Value) -> String {
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
}

/// 微信登录: the mini-program with the phone-number button creates the account; the same person
/// on the website (same unionid) lands in it; an account registered with a number is bound by
/// that number; forged, replayed or phone-less first sign-ins and a number bound to another
/// WeChat user are refused with their codes.
#[tokio::test]
async fn wechat_sign_in_is_one_account_per_person_across_mini_program_and_web() {
    // Each sign-in from its own device (the sign-in limit counts per address).
    let api = Api::connect();
    let unionid = format!("oUnion{}", ulid::Ulid::new());
    let phone = gigbao_tests::unique_phone();
    // A new WeChat user without a number: asked for one, nothing written.
    let code = wechat_code("code", json!({"unionid": unionid})).await;
    let first = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "mini_program", "code": code}),
        )
        .await;
    assert_eq!(first.status, 422, "{}", first.body);
    assert_eq!(first.body["code"], "wechat.phone_required");
    assert_eq!(first.body["message"], "首次微信登录需要验证手机号");
    // The same code again: WeChat says it was used.
    let replay = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "mini_program", "code": code}),
        )
        .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(replay.body["code"], "wechat.invalid_code");
    let forged = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "web", "code": "not-a-code-wechat-gave"}),
        )
        .await;
    assert_eq!(
        forged.body["code"], "wechat.invalid_code",
        "{}",
        forged.body
    );
    // In the mini-program, with the phone-number button: a new client account.
    let mini = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({
                "client": "mini_program",
                "code": wechat_code("code", json!({"unionid": unionid})).await,
                "phone_code": wechat_code("phone-code", json!({"phone": phone})).await,
            }),
        )
        .await;
    assert_eq!(mini.status, 200, "{}", mini.body);
    let user = mini.body["data"]["user"].clone();
    assert_eq!(user["phone"], phone.as_str());
    assert_eq!(user["phone_verified"], true);
    assert_eq!(user["has_password"], false);
    // The same person on the website: the same account, no number asked.
    let web = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "web", "code": wechat_code("code", json!({"unionid": unionid, "nickname": "小王"})).await}),
        )
        .await;
    assert_eq!(web.status, 200, "{}", web.body);
    assert_eq!(web.body["data"]["user"]["id"], user["id"]);
    // Someone registered with a number: their first WeChat sign-in binds that account.
    let (_, _, registered) = api.register("weixin").await;
    let their_phone = registered["user"]["phone"].as_str().unwrap().to_owned();
    let other_union = format!("oUnion{}", ulid::Ulid::new());
    let bound = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({
                "client": "mini_program",
                "code": wechat_code("code", json!({"unionid": other_union})).await,
                "phone_code": wechat_code("phone-code", json!({"phone": their_phone})).await,
            }),
        )
        .await;
    assert_eq!(bound.status, 200, "{}", bound.body);
    assert_eq!(bound.body["data"]["user"]["id"], registered["user"]["id"]);
    // A third WeChat user proving the same number: that account has its WeChat already.
    let third = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({
                "client": "mini_program",
                "code": wechat_code("code", json!({"unionid": format!("oUnion{}", ulid::Ulid::new())})).await,
                "phone_code": wechat_code("phone-code", json!({"phone": their_phone})).await,
            }),
        )
        .await;
    assert_eq!(third.status, 409, "{}", third.body);
    assert_eq!(third.body["code"], "wechat.phone_bound_elsewhere");
    // The phone-number button does not work from the website.
    let wrong_place = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({
                "client": "web",
                "code": wechat_code("code", json!({"unionid": format!("oUnion{}", ulid::Ulid::new())})).await,
                "phone_code": "x",
            }),
        )
        .await;
    assert_eq!(
        wrong_place.body["code"], "wechat.phone_code_mini_program_only",
        "{}",
        wrong_place.body
    );
    // An erased account frees its WeChat identity: signing in again is a new user's first time.
    let gone = api
        .send(
            api.request(reqwest::Method::DELETE, "/users/profile")
                .bearer_auth(bound.body["data"]["access"].as_str().unwrap())
                .json(&json!({"password": "Kehu-2026-safe"})),
        )
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    let again = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "mini_program", "code": wechat_code("code", json!({"unionid": other_union})).await}),
        )
        .await;
    assert_eq!(
        again.body["code"], "wechat.phone_required",
        "{}",
        again.body
    );
}

/// Alipay's side of a sign-in from the sandbox: a one-use auth code for `who` (`{"user_id"}`,
/// or `{"union_id"}` on the OpenID model).
async fn alipay_code(who: serde_json::Value) -> String {
    alipay_sandbox("code", json!(who)).await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The answer `my.getPhoneNumber` gives the mini-program for `phone`: signed and encrypted.
async fn alipay_phone(phone: &str) -> String {
    alipay_sandbox("phone-response", json!({"phone": phone})).await["phone_response"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn alipay_sandbox(what: &str, body: serde_json::Value) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!(
            "{}/sandbox/alipay-login/{what}",
            gigbao_tests::env("GIGBAO_SANDBOX_URL")
        ))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// 支付宝登录 follows WeChat's rules: Alipay's `user_id` is one account from the mini-program and
/// the website; the first sign-in proves a number with the mini-program's signed phone answer
/// (a forged one is refused and writes nothing) or an SMS code; the same person signing in
/// with WeChat and the same number lands in the same account; a number whose account has
/// another Alipay user is refused.
#[tokio::test]
async fn alipay_sign_in_is_one_account_per_alipay_user_and_meets_wechat_in_it() {
    let user_id = format!("2088{}", &gigbao_tests::unique_phone()[1..]);
    let phone = gigbao_tests::unique_phone();
    let code = alipay_code(json!({"user_id": user_id})).await;
    let first = Api::connect()
        .post(
            "/auth/login/alipay",
            json!({"client": "mini_program", "code": code}),
        )
        .await;
    assert_eq!(first.status, 422, "{}", first.body);
    assert_eq!(first.body["code"], "alipay.phone_required");
    assert_eq!(first.body["message"], "首次支付宝登录需要验证手机号");
    assert!(
        first.body["errors"]["phone_response"].is_array(),
        "{}",
        first.body
    );
    let replay = Api::connect()
        .post(
            "/auth/login/alipay",
            json!({"client": "mini_program", "code": code}),
        )
        .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert_eq!(replay.body["code"], "alipay.invalid_code");
    // A phone answer the client made up: refused, no account made for the number.
    let forged = serde_json::json!({"response": "bm90IGVuY3J5cHRlZA==", "sign": "Zm9yZ2Vk",
                                    "sign_type": "RSA2", "encrypt_type": "AES"})
    .to_string();
    let refused = Api::connect()
        .post(
            "/auth/login/alipay",
            json!({"client": "mini_program",
                   "code": alipay_code(json!({"user_id": user_id})).await,
                   "phone_response": forged}),
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.body["code"], "alipay.invalid_code");
    let store = gigbao_tests::stack_store().await;
    let number = shared::domain::Phone::parse(&phone).unwrap();
    assert!(
        store
            .find_user_id(&shared::store::LoginKey::Phone(number.clone()))
            .await
            .unwrap()
            .is_none(),
        "a refused sign-in wrote an account"
    );
    // The real answer: a new client account with the number.
    let mini = Api::connect()
        .post(
            "/auth/login/alipay",
            json!({"client": "mini_program",
                   "code": alipay_code(json!({"user_id": user_id})).await,
                   "phone_response": alipay_phone(&phone).await}),
        )
        .await;
    assert_eq!(mini.status, 200, "{}", mini.body);
    let user = mini.body["data"]["user"].clone();
    assert_eq!(user["phone"], phone.as_str());
    assert_eq!(user["roles"], json!(["buyer"]));
    // The website, same Alipay user: the same account, no number asked.
    let web = Api::connect()
        .post(
            "/auth/login/alipay",
            json!({"client": "web", "code": alipay_code(json!({"user_id": user_id})).await}),
        )
        .await;
    assert_eq!(web.status, 200, "{}", web.body);
    assert_eq!(web.body["data"]["user"]["id"], user["id"]);
    // The same person with WeChat, proving the same number: the same account again.
    let wechat = Api::connect()
        .post(
            "/auth/login/wechat",
            json!({"client": "mini_program",
                   "code": wechat_code("code", json!({"unionid": format!("oUnion{}", ulid::Ulid::new())})).await,
                   "phone_code": wechat_code("phone-code", json!({"phone": phone})).await}),
        )
        .await;
    assert_eq!(wechat.status, 200, "{}", wechat.body);
    assert_eq!(wechat.body["data"]["user"]["id"], user["id"]);
    // Another Alipay user proving that number (by SMS code): that account has its Alipay.
    let api = Api::connect();
    let sent = api
        .post(
            "/auth/sms-code",
            json!({"phone": phone, "purpose": "login"}),
        )
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let other = Api::connect()
        .post(
            "/auth/login/alipay",
            json!({"client": "web",
                   "code": alipay_code(json!({"user_id": format!("2088{}", &gigbao_tests::unique_phone()[1..])})).await,
                   "phone": phone, "sms_code": crate::last_code(&phone)}),
        )
        .await;
    assert_eq!(other.status, 409, "{}", other.body);
    assert_eq!(other.body["code"], "alipay.phone_bound_elsewhere");
    // The phone answer only comes from the mini-program.
    let wrong_place = Api::connect()
        .post(
            "/auth/login/alipay",
            json!({"client": "web", "code": alipay_code(json!({"union_id": "u-x"})).await,
                   "phone_response": alipay_phone(&phone).await}),
        )
        .await;
    assert_eq!(
        wrong_place.body["code"], "alipay.phone_response_mini_program_only",
        "{}",
        wrong_place.body
    );
}
