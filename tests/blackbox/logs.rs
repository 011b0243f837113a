//! Nothing sensitive reaches the functions' logs. (`stack.py test` also checks, after the whole
//! suite, that no phone number, code or emailed token from the outbox appears in them.)

use std::time::Duration;

use serde_json::json;

use crate::{Api, fresh_id_number, last_code};

#[tokio::test]
async fn tokens_codes_phones_and_id_numbers_never_reach_the_logs() {
    let api = Api::connect();
    let phone = gigbao_tests::unique_phone();
    api.post(
        "/auth/sms-code",
        json!({"phone": phone, "purpose": "login"}),
    )
    .await;
    let code = last_code(&phone);
    let wrong = api
        .post("/auth/login/sms", json!({"phone": phone, "code": "999999"}))
        .await;
    assert_eq!(wrong.status, 401);
    let login = api
        .post("/auth/login/sms", json!({"phone": phone, "code": code}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let access = login.body["data"]["access"].as_str().unwrap().to_owned();
    let refresh = login.body["data"]["refresh"].as_str().unwrap().to_owned();
    let id_number = fresh_id_number();
    let sub = api
        .post_auth(
            "/users/profile/verification",
            &access,
            json!({"real_name": "赵六", "id_number": id_number}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    let refreshed = api
        .post("/auth/refresh-token", json!({"refresh": refresh}))
        .await;
    assert_eq!(refreshed.status, 200);
    let new_refresh = refreshed.body["data"]["refresh"]
        .as_str()
        .unwrap()
        .to_owned();
    // A replay is logged as a warning: make sure that line names no token either.
    api.post("/auth/refresh-token", json!({"refresh": refresh}))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    let log_file =
        std::path::Path::new(&gigbao_tests::env("GIGBAO_LOG_DIR")).join("cargo-lambda-watch.log");
    let logs = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        logs.contains("signed in by code") || logs.contains("registered by code"),
        "the flow was logged"
    );
    for (what, secret) in [
        ("phone", phone.as_str()),
        ("ID number", id_number.as_str()),
        ("ID number body", &id_number[4..14]),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("rotated refresh token", new_refresh.as_str()),
    ] {
        assert!(
            !logs.contains(secret),
            "the {what} appears in {}",
            log_file.display()
        );
    }
    // Six digits occur by chance inside timestamps and ids: the code counts as a whole word.
    assert!(
        !contains_word(&logs, &code),
        "the code appears in {}",
        log_file.display()
    );
}

fn contains_word(haystack: &str, word: &str) -> bool {
    let bytes = haystack.as_bytes();
    haystack.match_indices(word).any(|(i, _)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + word.len()).copied();
        let joins = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.');
        !joins(before) && !joins(after)
    })
}
