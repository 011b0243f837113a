//! Trust and safety against the emulator: the abuse rules just below and just above their
//! thresholds, redelivery doing nothing twice, the tunable automatic ban, operators
//! reversing a sanction, and the counters applied exactly once.

use chrono::{Duration, Utc};
use gigbao_tests::{fresh_store, new_user};
use shared::app::abuse::{self, AbuseSettings, SentMessage, Verdict};
use shared::app::admin::{self as admin_app, UserAction};
use shared::app::messaging::{self, MessagingError, OpenRequest};
use shared::domain::messaging::{MessageInput, MessageKind};
use shared::domain::report::{ReportStatus, TargetType};
use shared::domain::stats::CounterChange;
use shared::domain::{MessageId, User, UserStatus, UserType};
use shared::store::{Membership, Store, all_pages};

fn text(s: &str) -> MessageInput {
    MessageInput {
        message_type: MessageKind::Text,
        content: s.to_owned(),
        file_key: None,
        file_name: None,
    }
}

/// `from`'s side of a new direct conversation with `to`.
async fn conversation(store: &Store, from: &User, to: shared::domain::UserId) -> Membership {
    messaging::open(
        store,
        from,
        OpenRequest {
            participant_id: Some(to),
            ..OpenRequest::default()
        },
        Utc::now(),
    )
    .await
    .unwrap()
    .0
}

/// A cold message from `from` to a new freelancer, as the detector would see it.
async fn cold_message(store: &Store, from: &User, content: &str) -> SentMessage {
    let to = new_user(store, UserType::Freelancer).await;
    let side = conversation(store, from, to.id).await;
    let sent = messaging::send(
        store,
        None,
        from,
        side.conversation_id,
        text(content),
        Utc::now(),
    )
    .await
    .unwrap();
    SentMessage {
        id: sent.message.id,
        conversation_id: side.conversation_id,
        sender_id: from.id,
        recipients: vec![to.id],
        content: content.to_owned(),
        created_at: sent.message.created_at,
    }
}

async fn reports_about(store: &Store, user: &User) -> Vec<shared::domain::report::Report> {
    all_pages(|c| async move {
        store
            .list_reports(
                ReportStatus::Pending,
                Some(TargetType::User),
                100,
                c.as_deref(),
            )
            .await
    })
    .await
    .unwrap()
    .into_iter()
    .filter(|r| r.target_id == user.id.to_string())
    .collect()
}

#[tokio::test]
async fn five_accounts_from_one_address_are_fine_and_the_sixth_is_flagged() {
    let store = fresh_store().await;
    let ip = format!("203.0.113.{}", ulid::Ulid::new().random() as u8);
    let now = Utc::now();
    let mut users = Vec::new();
    for i in 0..5 {
        let u = new_user(&store, UserType::Client).await;
        let at = now - Duration::hours(20) + Duration::minutes(i);
        let v = abuse::registration(&store, u.id, &ip, at, now)
            .await
            .unwrap();
        assert_eq!(v, Verdict::Clean, "account {}", i + 1);
        users.push(u);
    }
    // One from a day and a half ago does not count.
    let old = new_user(&store, UserType::Client).await;
    let v = abuse::registration(&store, old.id, &ip, now - Duration::hours(48), now)
        .await
        .unwrap();
    assert_eq!(v, Verdict::Clean);
    let sixth = new_user(&store, UserType::Client).await;
    let v = abuse::registration(&store, sixth.id, &ip, now, now)
        .await
        .unwrap();
    assert_eq!(v, Verdict::Flagged);
    // Redelivered: still flagged, no second report or audit entry.
    let v = abuse::registration(&store, sixth.id, &ip, now, now)
        .await
        .unwrap();
    assert_eq!(v, Verdict::Flagged);
    let reports = reports_about(&store, &sixth).await;
    assert_eq!(reports.len(), 1);
    let evidence = serde_json::to_value(reports[0].evidence.clone().unwrap()).unwrap();
    assert_eq!(evidence["rule"], "accounts_per_ip");
    assert_eq!(evidence["count"], 6);
    assert_eq!(evidence["ip"], ip.as_str());
    assert_eq!(reports[0].reason.as_str(), "multiple_accounts");
    let audit = store
        .audit_for_target("user", &sixth.id.to_string())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, "system");
    assert_eq!(audit[0].action, "abuse.flag");
    // Flagging takes nothing away.
    let sixth = store.get_user(sixth.id).await.unwrap().unwrap();
    assert!(sixth.is_active() && !sixth.is_restricted(Utc::now()));
}

#[tokio::test]
async fn three_spam_words_pass_and_four_restrict_the_sender_once() {
    let store = fresh_store().await;
    let settings = AbuseSettings {
        ban_after_strikes: 0,
    };
    let sender = new_user(&store, UserType::Client).await;
    let m = cold_message(&store, &sender, "免费试用，立即点击领取").await;
    assert_eq!(
        abuse::message(&store, settings, &m, Utc::now())
            .await
            .unwrap(),
        Verdict::Clean
    );
    let m = cold_message(&store, &sender, "FREE 免费试用，立即点击领取").await;
    let v = abuse::message(&store, settings, &m, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        v,
        Verdict::Restricted {
            strikes: 1,
            banned: false
        }
    );
    assert_eq!(
        abuse::message(&store, settings, &m, Utc::now())
            .await
            .unwrap(),
        Verdict::AlreadyActed
    );
    let user = store.get_user(sender.id).await.unwrap().unwrap();
    assert!(user.is_restricted(Utc::now()));
    let reports = reports_about(&store, &sender).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(
        serde_json::to_value(reports[0].evidence.as_ref().unwrap()).unwrap()["keywords"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let audit = store
        .audit_for_target("user", &sender.id.to_string())
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "user.restrict");
    assert_eq!(audit[0].details["evidence"]["rule"], "spam_keywords");

    // Restricted: 5 messages an hour, the sixth refused with a wait.
    let to = new_user(&store, UserType::Freelancer).await;
    let side = conversation(&store, &user, to.id).await;
    let mut refused = None;
    for i in 0..6 {
        match messaging::send(
            &store,
            None,
            &user,
            side.conversation_id,
            text(&format!("msg {i}")),
            Utc::now(),
        )
        .await
        {
            Ok(_) => {}
            Err(MessagingError::Restricted(r)) => refused = Some((i, r.retry_after_secs)),
            Err(e) => panic!("{e}"),
        }
    }
    let (at, wait) = refused.expect("the sixth message is refused");
    assert!(at >= 4, "refused too early, at {at}");
    assert!(wait > 0);

    // An operator lifts it: messages flow again and the strikes are forgiven.
    let admin = new_user(&store, UserType::Admin).await;
    let lifted = admin_app::update_user(
        &store,
        admin.id,
        sender.id,
        UserAction::Unrestrict,
        "误判",
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(!lifted.is_restricted(Utc::now()));
    assert_eq!(store.spam_strikes(sender.id).await.unwrap(), 0);
    messaging::send(
        &store,
        None,
        &lifted,
        side.conversation_id,
        text("back"),
        Utc::now(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_same_cold_text_to_five_people_passes_and_to_six_restricts() {
    let store = fresh_store().await;
    let settings = AbuseSettings::default();
    let sender = new_user(&store, UserType::Freelancer).await;
    let pitch = "专业logo设计，三天交付，欢迎咨询我的店铺";
    for i in 0..5 {
        let m = cold_message(&store, &sender, pitch).await;
        let v = abuse::message(&store, settings, &m, Utc::now())
            .await
            .unwrap();
        assert_eq!(v, Verdict::Clean, "recipient {}", i + 1);
        // A redelivery adds nobody.
        let v = abuse::message(&store, settings, &m, Utc::now())
            .await
            .unwrap();
        assert_eq!(v, Verdict::Clean);
    }
    let m = cold_message(&store, &sender, pitch).await;
    let v = abuse::message(&store, settings, &m, Utc::now())
        .await
        .unwrap();
    assert_eq!(
        v,
        Verdict::Restricted {
            strikes: 1,
            banned: false
        }
    );
    // Replies to enquiries are not cold: a freelancer answering many buyers alike is fine.
    let other = new_user(&store, UserType::Freelancer).await;
    for _ in 0..7 {
        let client = new_user(&store, UserType::Client).await;
        let side = conversation(&store, &client, other.id).await;
        messaging::send(
            &store,
            None,
            &client,
            side.conversation_id,
            text("请问可以做logo吗"),
            Utc::now(),
        )
        .await
        .unwrap();
        let sent = messaging::send(
            &store,
            None,
            &other,
            side.conversation_id,
            text(pitch),
            Utc::now(),
        )
        .await
        .unwrap();
        let m = SentMessage {
            id: sent.message.id,
            conversation_id: side.conversation_id,
            sender_id: other.id,
            recipients: vec![client.id],
            content: pitch.to_owned(),
            created_at: sent.message.created_at,
        };
        assert_eq!(
            abuse::message(&store, settings, &m, Utc::now())
                .await
                .unwrap(),
            Verdict::Clean
        );
    }
}

#[tokio::test]
async fn the_ban_comes_only_at_the_operators_threshold_and_is_reversible() {
    let store = fresh_store().await;
    let settings = AbuseSettings {
        ban_after_strikes: 3,
    };
    let sender = new_user(&store, UserType::Client).await;
    for strike in 1..=3u64 {
        let m = SentMessage {
            id: MessageId::new(),
            ..cold_message(&store, &sender, &format!("FREE 免费 立即 点击 #{strike}")).await
        };
        let v = abuse::message(&store, settings, &m, Utc::now())
            .await
            .unwrap();
        assert_eq!(
            v,
            Verdict::Restricted {
                strikes: strike,
                banned: strike == 3
            },
            "strike {strike}"
        );
        let status = store.get_user(sender.id).await.unwrap().unwrap().status;
        assert_eq!(status == UserStatus::Banned, strike == 3);
    }
    let audit = store
        .audit_for_target("user", &sender.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.action == "user.restrict").count(),
        3
    );
    let ban = audit.iter().find(|a| a.action == "user.ban").unwrap();
    assert_eq!(ban.actor_id, "system");
    assert_eq!(ban.details["ban_after_strikes"], 3);
    // Reversed by an operator.
    let admin = new_user(&store, UserType::Admin).await;
    let back = admin_app::update_user(
        &store,
        admin.id,
        sender.id,
        UserAction::Unban,
        "申诉成功",
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(back.status, UserStatus::Active);
    assert_eq!(store.spam_strikes(sender.id).await.unwrap(), 0);
}

#[tokio::test]
async fn counters_apply_each_change_once_even_when_raced() {
    let store = fresh_store().await;
    let change = CounterChange {
        id: format!("ev-{}", ulid::Ulid::new()),
        day: "2026-11-24".into(),
        current: [
            ("orders_pending".to_owned(), -1),
            ("orders_in_progress".to_owned(), 1),
        ]
        .into_iter()
        .collect(),
        daily: [
            ("gmv_fen".to_owned(), 19_900),
            ("orders_paid".to_owned(), 1),
        ]
        .into_iter()
        .collect(),
    };
    let copies = (0..8).map(|_| store.apply_counts(&change, Utc::now()));
    let applied = futures_util::future::join_all(copies)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(applied, 1);
    let second = CounterChange {
        id: format!("ev-{}", ulid::Ulid::new()),
        day: "2026-11-25".into(),
        current: [("orders_in_progress".to_owned(), 1)].into_iter().collect(),
        daily: [("gmv_fen".to_owned(), 100)].into_iter().collect(),
    };
    assert!(store.apply_counts(&second, Utc::now()).await.unwrap());
    let (current, days) = store
        .read_counters(&[
            "2026-11-24".into(),
            "2026-11-25".into(),
            "2026-11-26".into(),
        ])
        .await
        .unwrap();
    assert_eq!(current["orders_in_progress"], 2);
    assert_eq!(current["orders_pending"], -1);
    assert_eq!(days[0].1["gmv_fen"], 19_900);
    assert_eq!(days[1].1["gmv_fen"], 100);
    assert!(days[2].1.is_empty());
}
