use chrono::{Duration, Utc};
use futures_util::future::join_all;
use gigbao_tests::{count_items, deps_for, fresh_store, unique_name};
use shared::app::ClientInfo;
use shared::app::auth::{self, LoginError, NewAccount, RefreshError, RegisterError};
use shared::domain::{Email, Password, Phone, UserType, Username};
use shared::store::{RateLimit, UniqueField};

fn client(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: ip.into(),
        user_agent: "tests".into(),
    }
}

fn account(name: &str, email: Option<&str>, phone: Option<&str>) -> NewAccount {
    NewAccount {
        username: Username::parse(name).unwrap(),
        password: Password::parse("Gigbao-2026-pw", None).unwrap(),
        user_type: UserType::Freelancer,
        email: email.map(|e| Email::parse(e).unwrap()),
        phone: phone.map(|p| Phone::parse(p).unwrap()),
    }
}

#[tokio::test]
async fn registration_writes_user_guards_and_session_together() {
    // GIVEN an empty table
    let deps = deps_for(fresh_store().await).await;
    // WHEN a freelancer registers with username, email and phone
    let signed = auth::register(
        &deps.store,
        &deps.keys,
        account("li_lei", Some("li@example.com"), Some("13800138000")),
        &client("1.1.1.1"),
        Utc::now(),
    )
    .await
    .unwrap();
    // THEN user + 3 guards + 1 session exist, and the profile is a freelancer's
    assert_eq!(count_items(&deps.store).await, 5);
    let user = deps.store.get_user(signed.user.id).await.unwrap().unwrap();
    assert_eq!(user.username.as_str(), "li_lei");
    assert!(user.freelancer_profile.is_some());
    assert!(
        user.password_hash
            .as_deref()
            .unwrap()
            .starts_with("$argon2id$")
    );
}

#[tokio::test]
async fn a_duplicate_is_refused_naming_each_taken_field_and_writes_nothing() {
    let deps = deps_for(fresh_store().await).await;
    auth::register(
        &deps.store,
        &deps.keys,
        account("li_lei", Some("li@example.com"), Some("13800138000")),
        &client("1.1.1.1"),
        Utc::now(),
    )
    .await
    .unwrap();
    let before = count_items(&deps.store).await;
    // Same username (other case) and phone, new email.
    let err = auth::register(
        &deps.store,
        &deps.keys,
        account("LI_LEI", Some("new@example.com"), Some("13800138000")),
        &client("1.1.1.1"),
        Utc::now(),
    )
    .await
    .unwrap_err();
    match err {
        RegisterError::Taken(fields) => {
            assert_eq!(fields, vec![UniqueField::Username, UniqueField::Phone])
        }
        other => panic!("expected Taken, got {other:?}"),
    }
    // Nothing half-written: the new email's guard was not left behind.
    assert_eq!(count_items(&deps.store).await, before);
}

#[tokio::test]
async fn concurrent_registrations_of_one_username_create_one_account() {
    let deps = deps_for(fresh_store().await).await;
    let attempts = (0..8).map(|i| {
        let email = format!("racer{i}@example.com");
        async move {
            auth::register(
                &deps.store,
                &deps.keys,
                account("racer", Some(&email), None),
                &client("1.1.1.1"),
                Utc::now(),
            )
            .await
        }
    });
    let results = join_all(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    // One user, its username guard, its email guard, its session.
    assert_eq!(count_items(&deps.store).await, 4);
}

#[tokio::test]
async fn login_works_by_username_email_or_phone_and_fails_alike_otherwise() {
    let deps = deps_for(fresh_store().await).await;
    let name = unique_name("u");
    auth::register(
        &deps.store,
        &deps.keys,
        account(&name, Some("han@example.com"), Some("13700137000")),
        &client("1.1.1.1"),
        Utc::now(),
    )
    .await
    .unwrap();
    for (i, login) in [
        name.to_uppercase().as_str(),
        "HAN@example.com",
        "+86 137 0013 7000",
    ]
    .iter()
    .enumerate()
    {
        let ip = format!("10.0.0.{i}");
        let s = auth::login(
            &deps.store,
            &deps.keys,
            login,
            "Gigbao-2026-pw",
            &client(&ip),
            Utc::now(),
        )
        .await;
        assert!(s.is_ok(), "login by {login}: {s:?}");
    }
    let wrong = auth::login(
        &deps.store,
        &deps.keys,
        &name,
        "Gigbao-2026-px",
        &client("10.0.1.1"),
        Utc::now(),
    )
    .await;
    let unknown = auth::login(
        &deps.store,
        &deps.keys,
        "nobody_here",
        "Gigbao-2026-pw",
        &client("10.0.1.2"),
        Utc::now(),
    )
    .await;
    assert!(matches!(wrong, Err(LoginError::InvalidCredentials)));
    assert!(matches!(unknown, Err(LoginError::InvalidCredentials)));
}

#[tokio::test]
async fn login_is_limited_to_five_attempts_per_five_minutes_per_ip() {
    let deps = deps_for(fresh_store().await).await;
    let now = Utc::now();
    for _ in 0..5 {
        let r = auth::login(
            &deps.store,
            &deps.keys,
            "nobody_here",
            "x",
            &client("9.9.9.9"),
            now,
        )
        .await;
        assert!(matches!(r, Err(LoginError::InvalidCredentials)));
    }
    match auth::login(
        &deps.store,
        &deps.keys,
        "nobody_here",
        "x",
        &client("9.9.9.9"),
        now,
    )
    .await
    {
        Err(LoginError::RateLimited(secs)) => assert!((1..=300).contains(&secs), "{secs}"),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    // Another IP is not affected.
    let other = auth::login(
        &deps.store,
        &deps.keys,
        "nobody_here",
        "x",
        &client("9.9.9.8"),
        now,
    )
    .await;
    assert!(matches!(other, Err(LoginError::InvalidCredentials)));
}

#[tokio::test]
async fn the_rate_limit_counter_never_passes_its_limit_under_concurrency() {
    let store = fresh_store().await;
    let now = Utc::now();
    let hits =
        join_all((0..20).map(|_| store.hit_rate_limit(RateLimit::LOGIN_PER_IP, "7.7.7.7", now)))
            .await;
    let allowed = hits.into_iter().filter(|h| matches!(h, Ok(Ok(())))).count();
    assert_eq!(allowed, 5);
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_family() {
    let deps = deps_for(fresh_store().await).await;
    let s = auth::register(
        &deps.store,
        &deps.keys,
        account(&unique_name("r"), None, None),
        &client("1.1.1.1"),
        Utc::now(),
    )
    .await
    .unwrap();
    let first = s.tokens.refresh.clone();
    // Rotation gives a new token…
    let second = auth::refresh(&deps.store, &deps.keys, &first, Utc::now())
        .await
        .unwrap()
        .refresh;
    assert_ne!(first, second);
    // …the old one replayed is detected and revokes the session…
    assert!(matches!(
        auth::refresh(&deps.store, &deps.keys, &first, Utc::now()).await,
        Err(RefreshError::Reused)
    ));
    // …so the newest one is dead too.
    assert!(matches!(
        auth::refresh(&deps.store, &deps.keys, &second, Utc::now()).await,
        Err(RefreshError::Revoked)
    ));
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_exactly_one_through() {
    let deps = deps_for(fresh_store().await).await;
    let s = auth::register(
        &deps.store,
        &deps.keys,
        account(&unique_name("c"), None, None),
        &client("1.1.1.1"),
        Utc::now(),
    )
    .await
    .unwrap();
    let token = s.tokens.refresh;
    let results =
        join_all((0..10).map(|_| auth::refresh(&deps.store, &deps.keys, &token, Utc::now()))).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let deps = deps_for(fresh_store().await).await;
    let long_ago = Utc::now() - Duration::days(15);
    let s = auth::register(
        &deps.store,
        &deps.keys,
        account(&unique_name("e"), None, None),
        &client("1.1.1.1"),
        long_ago,
    )
    .await
    .unwrap();
    assert!(matches!(
        auth::refresh(&deps.store, &deps.keys, &s.tokens.refresh, Utc::now()).await,
        Err(RefreshError::Expired)
    ));
}

#[tokio::test]
async fn logout_revokes_the_session_and_is_idempotent() {
    let deps = deps_for(fresh_store().await).await;
    let s = auth::register(
        &deps.store,
        &deps.keys,
        account(&unique_name("l"), None, None),
        &client("1.1.1.1"),
        Utc::now(),
    )
    .await
    .unwrap();
    auth::logout(&deps.store, &deps.keys, &s.tokens.refresh)
        .await
        .unwrap();
    auth::logout(&deps.store, &deps.keys, &s.tokens.refresh)
        .await
        .unwrap();
    assert!(matches!(
        auth::refresh(&deps.store, &deps.keys, &s.tokens.refresh, Utc::now()).await,
        Err(RefreshError::Revoked)
    ));
    // A well-formed token for a session that never existed is refused.
    let ghost = deps
        .keys
        .issue_refresh(shared::domain::SessionId::new(), 1)
        .unwrap();
    assert!(matches!(
        auth::logout(&deps.store, &deps.keys, &ghost).await,
        Err(RefreshError::Invalid)
    ));
}

/// Accounts written before roles existed get them in place, once: a freelancer buys and sells,
/// a client buys, an operator administers; a second run finds nothing, and an account that
/// opened a seller profile meanwhile is left as it is.
#[tokio::test]
async fn the_roles_migration_gives_old_accounts_their_roles_once() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use shared::app::users::{RolesMigration, migrate_roles};
    use shared::domain::Role;
    let store = fresh_store().await;
    let freelancer = gigbao_tests::new_user(&store, UserType::Freelancer).await;
    let client = gigbao_tests::new_user(&store, UserType::Client).await;
    let admin = gigbao_tests::new_user(&store, UserType::Admin).await;
    let current = gigbao_tests::new_user(&store, UserType::Client).await;
    // Written the way accounts were before roles: no `roles` attribute.
    for u in [&freelancer, &client, &admin] {
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("PK", AttributeValue::S(format!("USER#{}", u.id)))
            .key("SK", AttributeValue::S("USER".into()))
            .update_expression("REMOVE #r")
            .expression_attribute_names("#r", "roles")
            .send()
            .await
            .unwrap();
    }
    // Read before the migration, they already have the roles of their type.
    let read = store.get_user(client.id).await.unwrap().unwrap();
    assert_eq!(read.roles, vec![Role::Buyer]);
    let first = migrate_roles(&store).await.unwrap();
    assert_eq!(
        first,
        RolesMigration {
            found: 3,
            migrated: 3
        }
    );
    for (u, roles) in [
        (&freelancer, vec![Role::Buyer, Role::Seller]),
        (&client, vec![Role::Buyer]),
        (&admin, vec![Role::Admin]),
    ] {
        let after = store.get_user(u.id).await.unwrap().unwrap();
        assert_eq!(after.roles, roles, "{}", u.user_type.as_str());
        assert_eq!(after.version, u.version + 1);
    }
    assert_eq!(
        migrate_roles(&store).await.unwrap(),
        RolesMigration::default()
    );
    assert_eq!(
        store.get_user(current.id).await.unwrap().unwrap().version,
        current.version
    );
}
