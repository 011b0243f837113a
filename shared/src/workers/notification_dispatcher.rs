//! `notification-dispatcher`: domain events from SQS → bilingual in-app notifications, pushed
//! to the user's open WebSockets, and for the important ones (new order, delivery, dispute)
//! an email or SMS when the user is offline. Each notification's id is derived from the
//! causing event, so a redelivered message writes (and sends) nothing new.

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, TimeZone, Utc};

use super::{Batch, BatchResponse, WorkMessage, work_message};
use crate::api::NotificationView;
use crate::deps::Deps;
use crate::domain::{NotificationId, UserId};
use crate::entry::BoxError;
use crate::notify::{Mail, SmsMessage, SmsTemplate};
use crate::realtime::Push;
use crate::store::{NotificationRecord, StoreError};

/// A notification id that sorts by the time of the event and is the same every time the same
/// event is handled ([`NotificationId::for_event`]).
pub fn notification_id(event_id: &str, occurred_at_ms: u64) -> NotificationId {
    NotificationId::for_event(event_id, occurred_at_ms)
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("bad message: {0}")]
    BadMessage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn time_of(ms: u64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(i64::try_from(ms).unwrap_or(0))
        .single()
        .unwrap_or_else(Utc::now)
}

fn user_id(s: &str) -> Result<UserId, DispatchError> {
    s.parse()
        .map_err(|_| DispatchError::BadMessage(format!("user id {s}")))
}

/// One notification to write, push and, if it matters and the user is offline, send.
struct Note<'a> {
    id: NotificationId,
    user: UserId,
    kind: &'a str,
    text: NotificationText,
    related_id: Option<String>,
    at: DateTime<Utc>,
    /// New order, delivery, dispute: also by email or SMS when the user has no open socket.
    important: bool,
}

impl<'a> Note<'a> {
    /// A notification of `kind` to `user` caused by the event `event_id` (its id derives from
    /// the event: a redelivery finds it written).
    fn new(
        event_id: &str,
        occurred_at_ms: u64,
        user: UserId,
        kind: &'a str,
        text: NotificationText,
        related_id: Option<String>,
    ) -> Note<'a> {
        Note {
            id: notification_id(event_id, occurred_at_ms),
            user,
            kind,
            text,
            related_id,
            at: time_of(occurred_at_ms),
            important: false,
        }
    }
}

/// Writes the notification once; a new one is pushed to the user's open sockets (read here
/// unless the caller already has them), and an important one reaches an offline user by
/// email or SMS. Returns whether it was new.
async fn deliver(
    deps: &Deps,
    note: Note<'_>,
    connections: Option<&[String]>,
) -> Result<bool, DispatchError> {
    let record = NotificationRecord::new(
        note.id,
        note.user,
        note.kind,
        &note.text.title,
        &note.text.title_zh,
        &note.text.message,
        &note.text.message_zh,
        note.related_id,
        note.at,
    );
    if !deps.store.put_notification_once(&record).await? {
        return Ok(false);
    }
    let push = Push {
        kind: "notification",
        data: NotificationView::from(&record),
    };
    let read;
    let connections = match connections {
        Some(c) => c,
        None => {
            read = deps.pusher.connections(&deps.store, note.user).await;
            &read
        }
    };
    let online = deps.pusher.send(&deps.store, connections, &push).await > 0;
    if note.important && !online {
        offline(deps, note.user, &record).await;
    }
    Ok(true)
}

/// Email (verified address) or else SMS (verified phone), as the user's preferences allow.
/// Best effort: the in-app notification is already there.
async fn offline(deps: &Deps, user: UserId, n: &NotificationRecord) {
    let user = match deps.store.get_user(user).await {
        Ok(Some(u)) if u.is_active() => u,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, "offline notice: user not read");
            return;
        }
    };
    let prefs = user.notification_preferences;
    let link = match &n.related_id {
        Some(id) if n.notification_type.starts_with("order.") => {
            format!("{}/orders/{id}", deps.config.app_base_url)
        }
        _ => format!("{}/notifications", deps.config.app_base_url),
    };
    let result = match (&user.email, &user.phone) {
        (Some(email), _) if user.email_verified && prefs.email => {
            let text = format!(
                "{}\n\n{}\n\n{link}\n\n—\n{}\n\n{}",
                n.message_zh, link, n.title, n.message
            );
            let html = format!(
                "<p>{}</p><p><a href=\"{link}\">{link}</a></p><hr><p>{}</p>",
                html_escape(&n.message_zh),
                html_escape(&n.message)
            );
            deps.mail
                .send(&Mail {
                    to: email.as_str().to_owned(),
                    subject: format!("{} | {}", n.title_zh, n.title),
                    text,
                    html,
                    kind: "notification",
                })
                .await
                .map(|()| "email")
        }
        (_, Some(phone)) if user.phone_verified && prefs.sms => {
            let number = n.related_id.clone().unwrap_or_default();
            deps.sms
                .send(&SmsMessage {
                    phone,
                    template: SmsTemplate::OrderNotice,
                    code: &number,
                    event: Some(&n.notification_type),
                })
                .await
                .map(|()| "sms")
        }
        _ => return,
    };
    match result {
        Ok(channel) => tracing::info!(channel, kind = %n.notification_type, "offline notice sent"),
        Err(e) => tracing::error!(error = %e, "offline notice not sent"),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn text(title: &str, title_zh: &str, message: String, message_zh: String) -> NotificationText {
    NotificationText {
        title: title.to_owned(),
        title_zh: title_zh.to_owned(),
        message,
        message_zh,
    }
}

/// Acts on one message. Returns whether anything new was written.
pub async fn dispatch(deps: &Deps, message: &WorkMessage) -> Result<bool, DispatchError> {
    match message {
        WorkMessage::UserRegistered {
            id,
            user_id: user,
            occurred_at_ms,
        } => {
            let text = text(
                "Welcome to Gigbao",
                "欢迎加入Gigbao",
                "Your account is ready. Complete your profile to get started.".into(),
                "账号已创建成功，完善个人资料即可开始使用。".into(),
            );
            let note = Note::new(id, *occurred_at_ms, user_id(user)?, "welcome", text, None);
            deliver(deps, note, None).await
        }
        WorkMessage::OrderEvent {
            id,
            order_id,
            order_number,
            event,
            by,
            client_id,
            freelancer_id,
            occurred_at_ms,
        } => {
            let at = time_of(*occurred_at_ms);
            // Open order pages follow the change on every device of both parties; the other
            // party is also notified. Each party's connections are read once for both.
            let change = Push {
                kind: "order",
                data: serde_json::json!({
                    "order_id": order_id,
                    "order_number": order_number,
                    "event": event,
                    "by": by,
                    "at": crate::domain::rfc3339(&at),
                }),
            };
            let mut created = false;
            for (party, to_client) in [(client_id, true), (freelancer_id, false)] {
                let user = user_id(party)?;
                let connections = deps.pusher.connections(&deps.store, user).await;
                deps.pusher.send(&deps.store, &connections, &change).await;
                let Some(t) = order_text(event, by, to_client, order_number) else {
                    continue;
                };
                let mut note = Note::new(
                    &format!("{id}#{party}"),
                    *occurred_at_ms,
                    user,
                    event,
                    t,
                    Some(order_id.clone()),
                );
                note.important = matches!(
                    event.as_str(),
                    "order.placed" | "order.delivered" | "order.disputed"
                );
                created |= deliver(deps, note, Some(&connections)).await?;
            }
            created |= order_timeline(deps, id, order_id, event, *occurred_at_ms).await?;
            Ok(created)
        }
        WorkMessage::MessagePosted {
            id,
            conversation_id,
            sender_name,
            recipients,
            preview,
            occurred_at_ms,
            ..
        } => {
            let mut created = false;
            for recipient in recipients {
                let text = text(
                    "New message",
                    "新消息",
                    format!("{sender_name}: {preview}"),
                    format!("{sender_name}：{preview}"),
                );
                let note = Note::new(
                    &format!("{id}#{recipient}"),
                    *occurred_at_ms,
                    user_id(recipient)?,
                    "message.received",
                    text,
                    Some(conversation_id.clone()),
                );
                created |= deliver(deps, note, None).await?;
            }
            Ok(created)
        }
        WorkMessage::ReviewReceived {
            id,
            review_id,
            freelancer_id,
            client_username,
            rating,
            occurred_at_ms,
        } => {
            let text = text(
                "New review",
                "收到新评价",
                format!("{client_username} rated your work {rating}★."),
                format!("{client_username} 给了您 {rating} 星评价。"),
            );
            let note = Note::new(
                id,
                *occurred_at_ms,
                user_id(freelancer_id)?,
                "review.received",
                text,
                Some(review_id.clone()),
            );
            deliver(deps, note, None).await
        }
        WorkMessage::VerificationReviewed {
            id,
            verification_id,
            user_id: user,
            status,
            reason,
            occurred_at_ms,
        } => {
            let t = if status == "approved" {
                text(
                    "Identity verified",
                    "实名认证已通过",
                    "Your identity verification was approved.".into(),
                    "您的实名认证已审核通过。".into(),
                )
            } else {
                let why = reason.clone().unwrap_or_default();
                text(
                    "Identity verification not approved",
                    "实名认证未通过",
                    format!("Your identity verification was not approved: {why}"),
                    format!("您的实名认证未通过审核：{why}"),
                )
            };
            let note = Note::new(
                id,
                *occurred_at_ms,
                user_id(user)?,
                "verification.reviewed",
                t,
                Some(verification_id.clone()),
            );
            deliver(deps, note, None).await
        }
        WorkMessage::WithdrawalReviewed {
            id,
            withdrawal_id,
            user_id: user,
            status,
            amount_fen,
            reason,
            occurred_at_ms,
        } => {
            let amount = crate::domain::Money::from_fen(*amount_fen).to_string();
            let why = reason.clone().unwrap_or_default();
            let t = match status.as_str() {
                "processing" => text(
                    "Withdrawal approved",
                    "提现已批准",
                    format!("Your withdrawal of ¥{amount} was approved and is being paid out."),
                    format!("您的 ¥{amount} 提现已批准，正在打款。"),
                ),
                "paid" => text(
                    "Withdrawal paid",
                    "提现已到账",
                    format!("Your withdrawal of ¥{amount} has been paid."),
                    format!("您的 ¥{amount} 提现已打款。"),
                ),
                "failed" => text(
                    "Withdrawal failed",
                    "提现失败",
                    format!(
                        "Your withdrawal of ¥{amount} failed and is back in your wallet: {why}"
                    ),
                    format!("您的 ¥{amount} 提现失败，款项已退回钱包：{why}"),
                ),
                _ => text(
                    "Withdrawal rejected",
                    "提现被拒绝",
                    format!(
                        "Your withdrawal of ¥{amount} was rejected and is back in your wallet: {why}"
                    ),
                    format!("您的 ¥{amount} 提现未通过审核，款项已退回钱包：{why}"),
                ),
            };
            let note = Note::new(
                id,
                *occurred_at_ms,
                user_id(user)?,
                "withdrawal.reviewed",
                t,
                Some(withdrawal_id.clone()),
            );
            deliver(deps, note, None).await
        }
        WorkMessage::ReportDecided {
            id,
            report_id,
            reporter_id,
            status,
            target_type,
            occurred_at_ms,
        } => {
            let (what_en, what_zh) = match target_type.as_str() {
                "service" => ("service", "服务"),
                "review" => ("review", "评价"),
                "message" => ("message", "消息"),
                _ => ("user", "用户"),
            };
            let t = if status == "resolved" {
                text(
                    "Your report was upheld",
                    "您的举报已处理",
                    format!("Thank you. We reviewed the {what_en} you reported and took action."),
                    format!("感谢您的举报。我们已核实您举报的{what_zh}并作出处理。"),
                )
            } else {
                text(
                    "Your report was reviewed",
                    "您的举报已审核",
                    format!(
                        "We reviewed the {what_en} you reported and found no breach of our rules."
                    ),
                    format!("我们已审核您举报的{what_zh}，未发现违反平台规则的情况。"),
                )
            };
            let note = Note::new(
                id,
                *occurred_at_ms,
                user_id(reporter_id)?,
                "report.decided",
                t,
                Some(report_id.clone()),
            );
            deliver(deps, note, None).await
        }
        WorkMessage::ExportReady {
            id,
            user_id: user,
            export_id,
            occurred_at_ms,
        } => {
            let t = text(
                "Your data export is ready",
                "您的数据导出已完成",
                format!(
                    "Download it from Account settings → Export my data within {} days. The link there works for 15 minutes; open the page again for a fresh one.",
                    crate::domain::export::ARCHIVE_DAYS
                ),
                format!(
                    "请在 {} 天内到「账号设置 → 导出我的数据」下载。下载链接 15 分钟内有效，过期后重新打开页面即可获取新链接。",
                    crate::domain::export::ARCHIVE_DAYS
                ),
            );
            let mut note = Note::new(
                id,
                *occurred_at_ms,
                user_id(user)?,
                "export.ready",
                t,
                Some(export_id.clone()),
            );
            // Someone who asked for their data and went away hears of it by e-mail or SMS.
            note.important = true;
            deliver(deps, note, None).await
        }
        WorkMessage::MonthlyReport {
            id,
            user_id: user,
            month,
            report,
            occurred_at_ms,
        } => {
            let orders = report["total_orders"].as_u64().unwrap_or(0);
            let t = match report["total_earnings"].as_str() {
                Some(earned) => text(
                    "Your monthly report",
                    "您的月度报告",
                    format!(
                        "{month}: {orders} orders completed, ¥{earned} earned, rating {}, response rate {}%.",
                        report["average_rating"].as_str().unwrap_or("0"),
                        report["response_rate"].as_str().unwrap_or("0"),
                    ),
                    format!(
                        "{month}：完成订单 {orders} 个，收入 ¥{earned}，评分 {}，回复率 {}%。",
                        report["average_rating"].as_str().unwrap_or("0"),
                        report["response_rate"].as_str().unwrap_or("0"),
                    ),
                ),
                None => {
                    let spent = report["total_spent"].as_str().unwrap_or("0.00");
                    text(
                        "Your monthly report",
                        "您的月度报告",
                        format!("{month}: {orders} orders completed, ¥{spent} spent."),
                        format!("{month}：完成订单 {orders} 个，支出 ¥{spent}。"),
                    )
                }
            };
            let note = Note::new(
                id,
                *occurred_at_ms,
                user_id(user)?,
                "report.monthly",
                t,
                Some(month.clone()),
            );
            deliver(deps, note, None).await
        }
        WorkMessage::ViewsChanged { .. }
        | WorkMessage::ReviewChanged { .. }
        | WorkMessage::SearchService { .. }
        | WorkMessage::SearchFreelancer { .. }
        | WorkMessage::Counters(_)
        | WorkMessage::AccountRegistered { .. }
        | WorkMessage::MessageSent { .. }
        | WorkMessage::ReportsPage { .. }
        | WorkMessage::ExportRequested { .. }
        | WorkMessage::RankService { .. }
        | WorkMessage::RankFreelancer { .. } => Err(DispatchError::BadMessage(
            "a stats, search, abuse or reports message on the notifications queue".into(),
        )),
    }
}

/// The order's conversation records the event as a system message (once: its id comes from
/// the event), pushed to both parties.
async fn order_timeline(
    deps: &Deps,
    event_id: &str,
    order_id: &str,
    event: &str,
    occurred_at_ms: u64,
) -> Result<bool, DispatchError> {
    let Some(line) = timeline_text(event) else {
        return Ok(false);
    };
    let id: crate::domain::OrderId = order_id
        .parse()
        .map_err(|_| DispatchError::BadMessage(format!("order id {order_id}")))?;
    let Some(order) = deps.store.get_order(id, false).await? else {
        return Ok(false);
    };
    let message_id =
        crate::domain::MessageId::from_ulid(crate::domain::event_ulid(event_id, occurred_at_ms));
    let at = time_of(occurred_at_ms);
    if !crate::app::messaging::post_system(&deps.store, &order, message_id, line, at).await? {
        return Ok(false);
    }
    Ok(true)
}

/// The line an order event leaves in the order's conversation (one line, both languages).
pub fn timeline_text(event: &str) -> Option<String> {
    let (zh, en) = match event {
        "order.placed" => ("订单已创建", "Order placed"),
        "order.paid" => (
            "买家已付款，款项由平台托管",
            "Paid; the money is held in escrow",
        ),
        "order.delivered" => ("卖家已交付", "Work delivered"),
        "order.revision_requested" => ("买家要求修改", "Revision requested"),
        "order.completed" => ("订单已完成", "Order completed"),
        "order.cancellation_requested" => ("一方申请取消订单", "Cancellation requested"),
        "order.cancelled" => ("订单已取消", "Order cancelled"),
        "order.disputed" => (
            "订单发起纠纷，平台介入处理",
            "Dispute opened; an operator will decide",
        ),
        "order.resolved" => ("纠纷已处理", "Dispute resolved"),
        "order.marked_late" => ("订单已超过交付期限", "Past the delivery deadline"),
        _ => return None,
    };
    Some(format!("{zh} · {en}"))
}

/// A bilingual notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationText {
    pub title: String,
    pub title_zh: String,
    pub message: String,
    pub message_zh: String,
}

/// What an order event tells one party (`None`: nothing — they did it themselves).
pub fn order_text(
    event: &str,
    by: &str,
    to_client: bool,
    number: &str,
) -> Option<NotificationText> {
    let acted_self = (by == "client" && to_client) || (by == "freelancer" && !to_client);
    if acted_self {
        return None;
    }
    let t = |title: &str, title_zh: &str, message: String, message_zh: String| {
        Some(text(title, title_zh, message, message_zh))
    };
    match (event, to_client) {
        ("order.placed", false) => t(
            "New order",
            "新订单",
            format!("You have a new order {number}; it starts once it is paid."),
            format!("您收到新订单 {number}，买家付款后即可开始工作。"),
        ),
        ("order.paid", false) => t(
            "Order paid",
            "订单已付款",
            format!("Order {number} is paid and held in escrow; you can start working."),
            format!("订单 {number} 已付款，款项由平台托管，请开始工作。"),
        ),
        ("order.delivered", true) => t(
            "Work delivered",
            "卖家已交付",
            format!("Order {number} was delivered. Accept it or ask for a revision within 3 days."),
            format!("订单 {number} 已交付，请在3天内验收或提出修改。"),
        ),
        ("order.revision_requested", false) => t(
            "Revision requested",
            "买家要求修改",
            format!("The client asked for a revision on order {number}."),
            format!("买家对订单 {number} 提出了修改要求。"),
        ),
        ("order.completed", _) => t(
            "Order completed",
            "订单已完成",
            format!("Order {number} is complete."),
            format!("订单 {number} 已完成。"),
        ),
        ("order.cancellation_requested", _) => t(
            "Cancellation requested",
            "对方申请取消订单",
            format!("The other party asked to cancel order {number}. Cancel too to confirm."),
            format!("对方申请取消订单 {number}，如同意请同样执行取消。"),
        ),
        ("order.cancelled", _) => t(
            "Order cancelled",
            "订单已取消",
            format!("Order {number} was cancelled."),
            format!("订单 {number} 已取消。"),
        ),
        ("order.disputed", _) => t(
            "Dispute opened",
            "订单纠纷",
            format!("A dispute was opened on order {number}; an operator will decide."),
            format!("订单 {number} 发起了纠纷，平台客服将介入处理。"),
        ),
        ("order.resolved", _) => t(
            "Dispute resolved",
            "纠纷已处理",
            format!("The dispute on order {number} was resolved."),
            format!("订单 {number} 的纠纷已处理完毕。"),
        ),
        ("order.marked_late", _) => t(
            "Order overdue",
            "订单已逾期",
            format!("Order {number} is past its delivery deadline."),
            format!("订单 {number} 已超过交付期限。"),
        ),
        _ => None,
    }
}

/// Handles an SQS batch; failed messages are reported for retry (and reach the DLQ after the
/// queue's `maxReceiveCount`), unreadable ones too (see [`Batch`]).
pub async fn handle(deps: &'static Deps, event: SqsEvent) -> Result<BatchResponse, BoxError> {
    let batch = Batch::decode(&event, |body| work_message(body, Some));
    Ok(batch
        .each(|work| async move {
            dispatch(deps, &work)
                .await
                .map(|created| format!("dispatched: {created} created"))
                .map_err(|e| e.to_string())
        })
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_events_tell_the_other_party() {
        let n = "ORD20261124160000ABCDEF";
        assert!(order_text("order.delivered", "freelancer", false, n).is_none());
        let t = order_text("order.delivered", "freelancer", true, n).unwrap();
        assert!(t.message_zh.contains(n) && t.title_zh == "卖家已交付");
        // The timers and operators tell both sides.
        assert!(order_text("order.completed", "system", true, n).is_some());
        assert!(order_text("order.completed", "system", false, n).is_some());
        assert!(order_text("order.placed", "client", true, n).is_none());
    }

    #[test]
    fn notification_ids_are_deterministic_and_time_ordered() {
        let a = notification_id("ev-1", 1_000);
        assert_eq!(a, notification_id("ev-1", 1_000));
        assert_ne!(a, notification_id("ev-2", 1_000));
        assert!(notification_id("ev-9", 999) < notification_id("ev-1", 1_000));
        assert_eq!(a.timestamp_ms(), 1_000);
    }
}
