//! What the platform tells a user, and how it reaches them. A [`Notice`] is one kind of news
//! with its zh/en text; [`deliver`] writes it once (its id comes from the event that caused
//! it, so a redelivered event writes nothing new), pushes it to the user's open sockets and,
//! for the important ones (new order, delivery, dispute, a finished data export), e-mails or
//! texts a user who has no socket open. The notification worker only decodes its queue's
//! messages and calls these; the media worker tells a rejected avatar the same way.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::order::Order;
use crate::domain::order::{Actor, EventKind};
use crate::domain::payment::WithdrawalStatus;
use crate::domain::report::{ReportStatus, TargetType};
use crate::domain::stats::{MonthlyFigures, MonthlyReport};
use crate::domain::user::VerificationStatus;
use crate::domain::{MessageId, Money, NotificationId, UserId};
use crate::notify::{Mail, Mailer, SmsMessage, SmsSender, SmsTemplate};
use crate::realtime::{Push, Pusher};
use crate::store::{NotificationRecord, Store, StoreError};

/// One piece of news for one user.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Welcome,
    /// Something happened to an order the user is a party of (never what they did themselves:
    /// see [`Notice::order`]).
    Order {
        event: EventKind,
        order_id: String,
        number: String,
    },
    MessageReceived {
        conversation_id: String,
        sender_name: String,
        preview: String,
    },
    ReviewReceived {
        review_id: String,
        client_username: String,
        rating: u8,
    },
    /// The client reviewed the user's order; it is sealed until the user reviews the client
    /// too (or the 30 days end), so the notice says nothing of it.
    ReviewWaiting {
        order_id: String,
        client_username: String,
    },
    /// The buyer decided the user's custom offer.
    OfferDecided {
        offer_id: String,
        buyer_username: String,
        accepted: bool,
    },
    /// A custom offer between the user and `with_username` passed its time unaccepted.
    OfferExpired {
        offer_id: String,
        with_username: String,
    },
    /// A seller bid on the user's brief.
    ProposalReceived {
        brief_id: String,
        seller_username: String,
    },
    /// The brief the user bid on was decided: their proposal accepted (an order waits for
    /// payment), or another chosen / the brief closed.
    ProposalDecided {
        brief_id: String,
        title: String,
        accepted: bool,
    },
    VerificationReviewed {
        verification_id: String,
        approved: bool,
        reason: Option<String>,
    },
    WithdrawalReviewed {
        withdrawal_id: String,
        status: WithdrawalStatus,
        amount: Money,
        reason: Option<String>,
    },
    /// Money went back to the client's original payment (or, refused there, to the wallet).
    RefundFinished {
        order_id: Option<String>,
        refund_no: String,
        credited: bool,
        gateway: crate::domain::payment::Gateway,
        amount: Money,
    },
    /// The account's password (…) changed: told at once, and by e-mail or SMS when offline.
    AccountChanged {
        change: crate::domain::user::AccountChange,
    },
    /// A seller's earnings cleared and can be withdrawn.
    EarningsCleared {
        order_id: String,
        amount: Money,
    },
    ReportDecided {
        report_id: String,
        upheld: bool,
        target: TargetType,
    },
    ExportReady {
        export_id: String,
    },
    MonthlyReport(MonthlyReport),
    /// An uploaded avatar was not a picture the platform can use.
    AvatarRejected,
    /// An uploaded private file was not what it claimed to be (or too large): deleted.
    FileRejected {
        file_id: String,
        name: String,
    },
}

/// A notice's text, both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeText {
    pub title: &'static str,
    pub title_zh: &'static str,
    pub message: String,
    pub message_zh: String,
}

fn text(
    title: &'static str,
    title_zh: &'static str,
    message: String,
    message_zh: String,
) -> NoticeText {
    NoticeText {
        title,
        title_zh,
        message,
        message_zh,
    }
}

impl Notice {
    /// What an order event tells one party (`None`: nothing — they did it themselves, or the
    /// event is not news to them).
    pub fn order(
        event: EventKind,
        by: Actor,
        to_client: bool,
        order_id: &str,
        number: &str,
    ) -> Option<Notice> {
        let acted_self =
            (by == Actor::Client && to_client) || (by == Actor::Freelancer && !to_client);
        let news = match event {
            EventKind::Placed | EventKind::Paid | EventKind::RevisionRequested => !to_client,
            EventKind::Delivered | EventKind::ExtensionRequested => to_client,
            EventKind::ExtensionAccepted
            | EventKind::ExtensionDeclined
            | EventKind::ExtraAdded
            | EventKind::Tipped => !to_client,
            EventKind::Completed
            | EventKind::CancellationRequested
            | EventKind::Cancelled
            | EventKind::Disputed
            | EventKind::Resolved
            | EventKind::MarkedLate => true,
        };
        (news && !acted_self).then(|| Notice::Order {
            event,
            order_id: order_id.to_owned(),
            number: number.to_owned(),
        })
    }

    /// The notification type clients filter and link by (a stable wire name).
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Welcome => "welcome",
            Notice::Order { event, .. } => event.as_str(),
            Notice::MessageReceived { .. } => "message.received",
            Notice::ReviewReceived { .. } => "review.received",
            Notice::ReviewWaiting { .. } => "review.waiting",
            Notice::ProposalReceived { .. } => "proposal.received",
            Notice::OfferDecided { accepted: true, .. } => "offer.accepted",
            Notice::OfferDecided { .. } => "offer.declined",
            Notice::OfferExpired { .. } => "offer.expired",
            Notice::ProposalDecided { accepted: true, .. } => "proposal.accepted",
            Notice::ProposalDecided { .. } => "proposal.declined",
            Notice::VerificationReviewed { .. } => "verification.reviewed",
            Notice::WithdrawalReviewed { .. } => "withdrawal.reviewed",
            Notice::RefundFinished { .. } => "refund.finished",
            Notice::EarningsCleared { .. } => "earnings.cleared",
            Notice::AccountChanged {
                change: crate::domain::user::AccountChange::Password,
            } => "account.password_changed",
            Notice::AccountChanged {
                change: crate::domain::user::AccountChange::Phone,
            } => "account.phone_changed",
            Notice::AccountChanged {
                change: crate::domain::user::AccountChange::Email,
            } => "account.email_changed",
            Notice::ReportDecided { .. } => "report.decided",
            Notice::ExportReady { .. } => "export.ready",
            Notice::MonthlyReport(_) => "report.monthly",
            Notice::AvatarRejected => "avatar_rejected",
            Notice::FileRejected { .. } => "file_rejected",
        }
    }

    /// What the notification links to.
    pub fn related_id(&self) -> Option<String> {
        match self {
            Notice::Welcome | Notice::AvatarRejected => None,
            Notice::Order { order_id, .. } => Some(order_id.clone()),
            Notice::MessageReceived {
                conversation_id, ..
            } => Some(conversation_id.clone()),
            Notice::ReviewReceived { review_id, .. } => Some(review_id.clone()),
            Notice::ReviewWaiting { order_id, .. } => Some(order_id.clone()),
            Notice::OfferDecided { offer_id, .. } | Notice::OfferExpired { offer_id, .. } => {
                Some(offer_id.clone())
            }
            Notice::ProposalReceived { brief_id, .. }
            | Notice::ProposalDecided { brief_id, .. } => Some(brief_id.clone()),
            Notice::VerificationReviewed {
                verification_id, ..
            } => Some(verification_id.clone()),
            Notice::WithdrawalReviewed { withdrawal_id, .. } => Some(withdrawal_id.clone()),
            Notice::RefundFinished {
                order_id,
                refund_no,
                ..
            } => Some(order_id.clone().unwrap_or_else(|| refund_no.clone())),
            Notice::EarningsCleared { order_id, .. } => Some(order_id.clone()),
            Notice::AccountChanged { .. } => None,
            Notice::ReportDecided { report_id, .. } => Some(report_id.clone()),
            Notice::ExportReady { export_id } => Some(export_id.clone()),
            Notice::FileRejected { file_id, .. } => Some(file_id.clone()),
            Notice::MonthlyReport(r) => Some(r.month.clone()),
        }
    }

    /// Also by e-mail or SMS when the user has no socket open.
    pub fn important(&self) -> bool {
        matches!(
            self,
            Notice::Order {
                event: EventKind::Placed | EventKind::Delivered | EventKind::Disputed,
                ..
            } | Notice::ExportReady { .. }
                | Notice::AccountChanged { .. }
                | Notice::ProposalDecided { accepted: true, .. }
        )
    }

    /// The notice in both languages.
    pub fn text(&self) -> NoticeText {
        match self {
            Notice::Welcome => text(
                "Welcome to Gigbao",
                "欢迎加入Gigbao",
                "Your account is ready. Complete your profile to get started.".into(),
                "账号已创建成功，完善个人资料即可开始使用。".into(),
            ),
            Notice::Order { event, number, .. } => order_text(*event, number),
            Notice::MessageReceived {
                sender_name,
                preview,
                ..
            } => text(
                "New message",
                "新消息",
                format!("{sender_name}: {preview}"),
                format!("{sender_name}：{preview}"),
            ),
            Notice::ReviewReceived {
                client_username,
                rating,
                ..
            } => text(
                "New review",
                "收到新评价",
                format!("{client_username} rated your work {rating}★."),
                format!("{client_username} 给了您 {rating} 星评价。"),
            ),
            Notice::OfferExpired { with_username, .. } => text(
                "Custom offer expired",
                "定制报价已过期",
                format!(
                    "The custom offer between you and {with_username} expired without being accepted."
                ),
                format!("您与 {with_username} 之间的定制报价已过期，未被接受。"),
            ),
            Notice::ReviewWaiting {
                client_username, ..
            } => text(
                "Your client left a review",
                "买家已评价",
                format!(
                    "{client_username} reviewed your order. Review them too and both reviews are shown."
                ),
                format!("{client_username} 已评价您的订单。您也评价买家后，双方评价将同时公开。"),
            ),
            Notice::OfferDecided {
                buyer_username,
                accepted: true,
                ..
            } => text(
                "Offer accepted",
                "报价已被接受",
                format!("{buyer_username} accepted your offer; the order starts once they pay."),
                format!("{buyer_username} 接受了您的报价，付款后订单开始。"),
            ),
            Notice::OfferDecided { buyer_username, .. } => text(
                "Offer declined",
                "报价被拒绝",
                format!("{buyer_username} declined your offer."),
                format!("{buyer_username} 拒绝了您的报价。"),
            ),
            Notice::ProposalReceived {
                seller_username, ..
            } => text(
                "New proposal",
                "收到新投标",
                format!("{seller_username} sent a proposal for your brief."),
                format!("{seller_username} 对您的需求投标了。"),
            ),
            Notice::ProposalDecided {
                title,
                accepted: true,
                ..
            } => text(
                "Proposal accepted",
                "投标已被选中",
                format!("Your proposal for \"{title}\" was accepted; the order starts once the buyer pays."),
                format!("您对需求“{title}”的投标已被选中，买家付款后订单开始。"),
            ),
            Notice::ProposalDecided { title, .. } => text(
                "Brief decided",
                "需求已结束",
                format!("\"{title}\" went to another seller or was closed."),
                format!("需求“{title}”已选定其他卖家或已关闭。"),
            ),
            Notice::VerificationReviewed {
                approved: true, ..
            } => text(
                "Identity verified",
                "实名认证已通过",
                "Your identity verification was approved.".into(),
                "您的实名认证已审核通过。".into(),
            ),
            Notice::VerificationReviewed { reason, .. } => {
                let why = reason.as_deref().unwrap_or_default();
                text(
                    "Identity verification not approved",
                    "实名认证未通过",
                    format!("Your identity verification was not approved: {why}"),
                    format!("您的实名认证未通过审核：{why}"),
                )
            }
            Notice::WithdrawalReviewed {
                status,
                amount,
                reason,
                ..
            } => withdrawal_text(*status, *amount, reason.as_deref().unwrap_or_default()),
            Notice::RefundFinished {
                credited,
                gateway,
                amount,
                ..
            } => {
                let (en, zh) = match gateway {
                    crate::domain::payment::Gateway::Alipay => ("Alipay", "支付宝"),
                    crate::domain::payment::Gateway::Wechat => ("WeChat Pay", "微信支付"),
                };
                if *credited {
                    text(
                        "Refund credited to your wallet",
                        "退款已退至钱包",
                        format!("{en} could not take back ¥{amount}; it is in your Gigbao wallet."),
                        format!("¥{amount} 无法原路退回{zh}，已退至您的 Gigbao 钱包余额。"),
                    )
                } else {
                    text(
                        "Refund returned",
                        "退款已原路退回",
                        format!("¥{amount} is back on your {en}."),
                        format!("¥{amount} 已原路退回您的{zh}。"),
                    )
                }
            }
            Notice::AccountChanged {
                change: crate::domain::user::AccountChange::Password,
            } => text(
                "Your password was changed",
                "你的密码已更改",
                "Your Gigbao password was just changed and every other device was signed out. If this was not you, reset your password now and contact support.".into(),
                "你的 Gigbao 密码刚刚已更改，其他设备均已退出登录。如非本人操作，请立即重设密码并联系客服。".into(),
            ),
            Notice::AccountChanged {
                change: crate::domain::user::AccountChange::Phone,
            } => text(
                "Your phone number was changed",
                "你的手机号已更改",
                "Your Gigbao account now uses a new phone number; the old one no longer signs in. If this was not you, contact support now.".into(),
                "你的 Gigbao 账号已换绑新手机号，原手机号不能再用于登录。如非本人操作，请立即联系客服。".into(),
            ),
            Notice::AccountChanged {
                change: crate::domain::user::AccountChange::Email,
            } => text(
                "Your email address was changed",
                "你的邮箱已更改",
                "Your Gigbao account now uses a new email address; the old one no longer signs in. If this was not you, contact support now.".into(),
                "你的 Gigbao 账号已换绑新邮箱，原邮箱不能再用于登录。如非本人操作，请立即联系客服。".into(),
            ),
            Notice::EarningsCleared { amount, .. } => text(
                "Earnings cleared",
                "收入已结算",
                format!("¥{amount} from an order has cleared and can be withdrawn."),
                format!("订单收入 ¥{amount} 已结算，可以提现了。"),
            ),
            Notice::ReportDecided { upheld, target, .. } => {
                let (what_en, what_zh) = match target {
                    TargetType::Service => ("service", "服务"),
                    TargetType::Review => ("review", "评价"),
                    TargetType::Message => ("message", "消息"),
                    TargetType::User => ("user", "用户"),
                };
                if *upheld {
                    text(
                        "Your report was upheld",
                        "您的举报已处理",
                        format!(
                            "Thank you. We reviewed the {what_en} you reported and took action."
                        ),
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
                }
            }
            Notice::ExportReady { .. } => text(
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
            ),
            Notice::MonthlyReport(r) => {
                let (month, orders) = (&r.month, r.total_orders);
                match &r.figures {
                    MonthlyFigures::Freelancer {
                        total_earnings,
                        average_rating,
                        response_rate,
                    } => text(
                        "Your monthly report",
                        "您的月度报告",
                        format!(
                            "{month}: {orders} orders completed, ¥{total_earnings} earned, rating {average_rating}, response rate {response_rate}%."
                        ),
                        format!(
                            "{month}：完成订单 {orders} 个，收入 ¥{total_earnings}，评分 {average_rating}，回复率 {response_rate}%。"
                        ),
                    ),
                    MonthlyFigures::Client { total_spent } => text(
                        "Your monthly report",
                        "您的月度报告",
                        format!("{month}: {orders} orders completed, ¥{total_spent} spent."),
                        format!("{month}：完成订单 {orders} 个，支出 ¥{total_spent}。"),
                    ),
                }
            }
            Notice::AvatarRejected => text(
                "Your avatar could not be used",
                "头像未通过",
                "The file you uploaded is not a JPEG, PNG, WebP or GIF image of at most 5 MB, or its content is not allowed on the platform. Please choose another picture.".into(),
                "您上传的文件不是 5 MB 以内的 JPEG、PNG、WebP 或 GIF 图片，或内容不符合平台规范，请重新选择。".into(),
            ),
            Notice::FileRejected { name, .. } => text(
                "Your file could not be used",
                "文件未通过检查",
                format!("\"{name}\" is not the kind of file it was declared as, or is too large. It was deleted; please upload it again."),
                format!("「{name}」与声明的文件类型不符或超出大小限制，已删除，请重新上传。"),
            ),
        }
    }
}

impl Notice {
    /// A verification's decision (`None` while it is pending).
    pub fn verification(
        verification_id: &str,
        status: VerificationStatus,
        reason: Option<String>,
    ) -> Option<Notice> {
        let approved = match status {
            VerificationStatus::Pending => return None,
            VerificationStatus::Approved => true,
            VerificationStatus::Rejected => false,
        };
        Some(Notice::VerificationReviewed {
            verification_id: verification_id.to_owned(),
            approved,
            reason,
        })
    }

    /// A report's decision (`None` while it is pending).
    pub fn report(report_id: &str, status: ReportStatus, target: TargetType) -> Option<Notice> {
        let upheld = match status {
            ReportStatus::Pending => return None,
            ReportStatus::Resolved => true,
            ReportStatus::Dismissed => false,
        };
        Some(Notice::ReportDecided {
            report_id: report_id.to_owned(),
            upheld,
            target,
        })
    }
}

fn order_text(event: EventKind, number: &str) -> NoticeText {
    match event {
        EventKind::Placed => text(
            "New order",
            "新订单",
            format!("You have a new order {number}; it starts once it is paid."),
            format!("您收到新订单 {number}，买家付款后即可开始工作。"),
        ),
        EventKind::Paid => text(
            "Order paid",
            "订单已付款",
            format!("Order {number} is paid and held in escrow; you can start working."),
            format!("订单 {number} 已付款，款项由平台托管，请开始工作。"),
        ),
        EventKind::Delivered => text(
            "Work delivered",
            "卖家已交付",
            format!("Order {number} was delivered. Accept it or ask for a revision within 3 days."),
            format!("订单 {number} 已交付，请在3天内验收或提出修改。"),
        ),
        EventKind::RevisionRequested => text(
            "Revision requested",
            "买家要求修改",
            format!("The client asked for a revision on order {number}."),
            format!("买家对订单 {number} 提出了修改要求。"),
        ),
        EventKind::Completed => text(
            "Order completed",
            "订单已完成",
            format!("Order {number} is complete."),
            format!("订单 {number} 已完成。"),
        ),
        EventKind::CancellationRequested => text(
            "Cancellation requested",
            "对方申请取消订单",
            format!("The other party asked to cancel order {number}. Cancel too to confirm."),
            format!("对方申请取消订单 {number}，如同意请同样执行取消。"),
        ),
        EventKind::Cancelled => text(
            "Order cancelled",
            "订单已取消",
            format!("Order {number} was cancelled."),
            format!("订单 {number} 已取消。"),
        ),
        EventKind::Disputed => text(
            "Dispute opened",
            "订单纠纷",
            format!("A dispute was opened on order {number}; an operator will decide."),
            format!("订单 {number} 发起了纠纷，平台客服将介入处理。"),
        ),
        EventKind::Resolved => text(
            "Dispute resolved",
            "纠纷已处理",
            format!("The dispute on order {number} was resolved."),
            format!("订单 {number} 的纠纷已处理完毕。"),
        ),
        EventKind::MarkedLate => text(
            "Order overdue",
            "订单已逾期",
            format!("Order {number} is past its delivery deadline."),
            format!("订单 {number} 已超过交付期限。"),
        ),
        EventKind::ExtensionRequested => text(
            "More time requested",
            "卖家申请延期",
            format!("The seller of order {number} asks for more days; accept or decline."),
            format!("订单 {number} 的卖家申请延长交付时间，请同意或拒绝。"),
        ),
        EventKind::ExtensionAccepted => text(
            "Extension accepted",
            "延期已同意",
            format!("The buyer of order {number} gave you more days; the deadline moved."),
            format!("订单 {number} 的买家同意延期，交付期限已顺延。"),
        ),
        EventKind::ExtensionDeclined => text(
            "Extension declined",
            "延期被拒绝",
            format!("The buyer of order {number} kept the deadline."),
            format!("订单 {number} 的买家拒绝延期，交付期限不变。"),
        ),
        EventKind::ExtraAdded => text(
            "Extra added",
            "买家追加了服务",
            format!("The buyer of order {number} added a paid extra; it is held in escrow."),
            format!("订单 {number} 的买家追加了付费项目，款项已托管。"),
        ),
        EventKind::Tipped => text(
            "You got a tip",
            "收到打赏",
            format!("The buyer of order {number} tipped you; it is in your balance."),
            format!("订单 {number} 的买家给了您打赏，已到账余额。"),
        ),
    }
}

fn withdrawal_text(status: WithdrawalStatus, amount: Money, why: &str) -> NoticeText {
    match status {
        WithdrawalStatus::Pending | WithdrawalStatus::Processing => text(
            "Withdrawal approved",
            "提现已批准",
            format!("Your withdrawal of ¥{amount} was approved and is being paid out."),
            format!("您的 ¥{amount} 提现已批准，正在打款。"),
        ),
        WithdrawalStatus::Paid => text(
            "Withdrawal paid",
            "提现已到账",
            format!("Your withdrawal of ¥{amount} has been paid."),
            format!("您的 ¥{amount} 提现已打款。"),
        ),
        WithdrawalStatus::Failed => text(
            "Withdrawal failed",
            "提现失败",
            format!("Your withdrawal of ¥{amount} failed and is back in your wallet: {why}"),
            format!("您的 ¥{amount} 提现失败，款项已退回钱包：{why}"),
        ),
        WithdrawalStatus::Rejected => text(
            "Withdrawal rejected",
            "提现被拒绝",
            format!("Your withdrawal of ¥{amount} was rejected and is back in your wallet: {why}"),
            format!("您的 ¥{amount} 提现未通过审核，款项已退回钱包：{why}"),
        ),
    }
}

/// The line an order event leaves in the order's conversation (one line, both languages).
fn timeline_text(event: EventKind) -> String {
    let (zh, en) = match event {
        EventKind::Placed => ("订单已创建", "Order placed"),
        EventKind::Paid => (
            "买家已付款，款项由平台托管",
            "Paid; the money is held in escrow",
        ),
        EventKind::Delivered => ("卖家已交付", "Work delivered"),
        EventKind::RevisionRequested => ("买家要求修改", "Revision requested"),
        EventKind::Completed => ("订单已完成", "Order completed"),
        EventKind::CancellationRequested => ("一方申请取消订单", "Cancellation requested"),
        EventKind::Cancelled => ("订单已取消", "Order cancelled"),
        EventKind::Disputed => (
            "订单发起纠纷，平台介入处理",
            "Dispute opened; an operator will decide",
        ),
        EventKind::Resolved => ("纠纷已处理", "Dispute resolved"),
        EventKind::MarkedLate => ("订单已超过交付期限", "Past the delivery deadline"),
        EventKind::ExtensionRequested => ("卖家申请延长交付时间", "More time requested"),
        EventKind::ExtensionAccepted => (
            "买家同意延期，期限已顺延",
            "Extension accepted; the deadline moved",
        ),
        EventKind::ExtensionDeclined => ("买家拒绝延期", "Extension declined"),
        EventKind::ExtraAdded => ("买家追加付费项目，款项已托管", "Paid extra added to escrow"),
        EventKind::Tipped => ("买家打赏", "Tipped by the buyer"),
    };
    format!("{zh} · {en}")
}

/// A notification as the API lists it and the socket pushes it, both languages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    id: String,
    notification_type: String,
    title: String,
    title_zh: String,
    message: String,
    message_zh: String,
    related_id: Option<String>,
    is_read: bool,
    read_at: Option<String>,
    created_at: String,
}

impl From<&NotificationRecord> for NotificationView {
    fn from(n: &NotificationRecord) -> Self {
        NotificationView {
            id: n.id.clone(),
            notification_type: n.notification_type.clone(),
            title: n.title.clone(),
            title_zh: n.title_zh.clone(),
            message: n.message.clone(),
            message_zh: n.message_zh.clone(),
            related_id: n.related_id.clone(),
            is_read: n.is_read,
            read_at: n.read_at.as_ref().map(crate::domain::rfc3339),
            created_at: crate::domain::rfc3339(&n.created_at),
        }
    }
}

/// The ways a notice reaches a user.
#[derive(Clone, Copy)]
pub struct Channels<'a> {
    pub store: &'a Store,
    pub pusher: &'a Pusher,
    pub mail: &'a Mailer,
    pub sms: &'a SmsSender,
    /// Where links in e-mails point.
    pub app_base_url: &'a str,
}

/// Writes `notice` for `user` once (`id` derives from the causing event), pushes a new one to
/// the user's open sockets (`connections`, read here unless the caller already has them) and
/// sends an important one by e-mail or SMS while the user is offline. Returns whether it was
/// new.
pub async fn deliver(
    ch: Channels<'_>,
    id: NotificationId,
    user: UserId,
    notice: &Notice,
    at: DateTime<Utc>,
    connections: Option<&[String]>,
) -> Result<bool, StoreError> {
    let t = notice.text();
    let record = NotificationRecord::new(
        id,
        user,
        notice.kind(),
        t.title,
        t.title_zh,
        &t.message,
        &t.message_zh,
        notice.related_id(),
        at,
    );
    if !ch.store.put_notification_once(&record).await? {
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
            read = ch.pusher.connections(ch.store, user).await;
            &read
        }
    };
    let online = ch.pusher.send(ch.store, connections, &push).await > 0;
    if notice.important() && !online {
        offline(ch, user, &record).await;
    }
    Ok(true)
}

/// An order event: open order pages of both parties follow the change, each party hears what
/// is news to them, and the order's conversation records it as a system line (once: its id
/// comes from the event). Returns whether anything new was written.
pub async fn order_event(
    ch: Channels<'_>,
    event_id: &str,
    occurred_at_ms: u64,
    order: OrderChange<'_>,
) -> Result<bool, StoreError> {
    let at = crate::domain::time_of_ms(occurred_at_ms);
    let change = Push {
        kind: "order",
        data: OrderPush {
            order_id: order.order_id,
            order_number: order.number,
            event: order.event.as_str(),
            by: order.by,
            at: crate::domain::rfc3339(&at),
        },
    };
    let mut created = false;
    for (party, to_client) in [(order.client_id, true), (order.freelancer_id, false)] {
        let connections = ch.pusher.connections(ch.store, party).await;
        ch.pusher.send(ch.store, &connections, &change).await;
        let Some(notice) = Notice::order(
            order.event,
            order.by,
            to_client,
            order.order_id,
            order.number,
        ) else {
            continue;
        };
        let id = NotificationId::for_event(&format!("{event_id}#{party}"), occurred_at_ms);
        created |= deliver(ch, id, party, &notice, at, Some(&connections)).await?;
    }
    created |= timeline(
        ch.store,
        event_id,
        order.order_id,
        order.event,
        occurred_at_ms,
    )
    .await?;
    Ok(created)
}

/// What happened to which order, and between whom.
#[derive(Debug, Clone, Copy)]
pub struct OrderChange<'a> {
    pub order_id: &'a str,
    pub number: &'a str,
    pub event: EventKind,
    pub by: Actor,
    pub client_id: UserId,
    pub freelancer_id: UserId,
}

/// What an open order page receives when its order changes.
#[derive(Debug, Serialize)]
struct OrderPush<'a> {
    order_id: &'a str,
    order_number: &'a str,
    event: &'static str,
    by: Actor,
    at: String,
}

async fn timeline(
    store: &Store,
    event_id: &str,
    order_id: &str,
    event: EventKind,
    occurred_at_ms: u64,
) -> Result<bool, StoreError> {
    let Ok(id) = order_id.parse::<crate::domain::OrderId>() else {
        return Ok(false);
    };
    let Some(order) = store.get_order(id, false).await? else {
        return Ok(false);
    };
    let order: Order = order;
    let message_id = MessageId::from_ulid(crate::domain::event_ulid(event_id, occurred_at_ms));
    let at = crate::domain::time_of_ms(occurred_at_ms);
    super::messaging::post_system(store, &order, message_id, timeline_text(event), at).await
}

/// E-mail (verified address) or else SMS (verified phone), as the user's preferences allow.
/// Best effort: the in-app notification is already there.
async fn offline(ch: Channels<'_>, user: UserId, n: &NotificationRecord) {
    let user = match ch.store.get_user(user).await {
        Ok(Some(u)) if u.is_active() => u,
        Ok(_) => return,
        Err(e) => {
            tracing::error!(error = %e, "offline notice: user not read");
            return;
        }
    };
    let prefs = user.notification_preferences;
    let base = ch.app_base_url;
    let link = match &n.related_id {
        Some(id) if n.notification_type.starts_with("order.") => format!("{base}/orders/{id}"),
        _ => format!("{base}/notifications"),
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
            ch.mail
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
            ch.sms
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

#[cfg(test)]
mod tests {
    use super::*;

    const N: &str = "ORD20261124160000ABCDEF";

    #[test]
    fn order_events_tell_the_other_party() {
        let notice = |e, by, to_client| Notice::order(e, by, to_client, "o", N);
        assert!(notice(EventKind::Delivered, Actor::Freelancer, false).is_none());
        let t = notice(EventKind::Delivered, Actor::Freelancer, true)
            .unwrap()
            .text();
        assert!(t.message_zh.contains(N) && t.title_zh == "卖家已交付");
        // The timers and operators tell both sides.
        assert!(notice(EventKind::Completed, Actor::System, true).is_some());
        assert!(notice(EventKind::Completed, Actor::System, false).is_some());
        assert!(notice(EventKind::Placed, Actor::Client, true).is_none());
        // News for one side only.
        assert!(notice(EventKind::Paid, Actor::System, true).is_none());
        assert!(notice(EventKind::Delivered, Actor::System, false).is_none());
    }

    #[test]
    fn every_notice_has_its_kind_and_text_in_both_languages() {
        let notices = [
            Notice::Welcome,
            Notice::Order {
                event: EventKind::Disputed,
                order_id: "o".into(),
                number: N.into(),
            },
            Notice::MessageReceived {
                conversation_id: "c".into(),
                sender_name: "李雷".into(),
                preview: "你好".into(),
            },
            Notice::ReviewReceived {
                review_id: "r".into(),
                client_username: "han".into(),
                rating: 5,
            },
            Notice::verification("v", VerificationStatus::Rejected, Some("模糊".into())).unwrap(),
            Notice::WithdrawalReviewed {
                withdrawal_id: "w".into(),
                status: WithdrawalStatus::Failed,
                amount: Money::from_fen(30_000),
                reason: Some("账户异常".into()),
            },
            Notice::report("p", ReportStatus::Dismissed, TargetType::Review).unwrap(),
            Notice::ExportReady {
                export_id: "e".into(),
            },
            Notice::MonthlyReport(MonthlyReport {
                month: "2026-11".into(),
                user_type: crate::domain::UserType::Client,
                total_orders: 2,
                figures: MonthlyFigures::Client {
                    total_spent: Money::from_fen(59_800),
                },
            }),
            Notice::AvatarRejected,
            Notice::ReviewWaiting {
                order_id: "o".into(),
                client_username: "han".into(),
            },
            Notice::OfferExpired {
                offer_id: "f".into(),
                with_username: "han".into(),
            },
        ];
        for n in &notices {
            let t = n.text();
            assert!(!t.title.is_empty() && !t.title_zh.is_empty(), "{n:?}");
            assert!(!t.message.is_empty() && !t.message_zh.is_empty(), "{n:?}");
            assert!(!n.kind().is_empty());
        }
        assert!(notices[1].important() && notices[7].important());
        assert!(!notices[0].important() && !notices[9].important());
        assert!(notices[5].text().message.contains("¥300.00"));
        assert!(notices[8].text().message_zh.contains("支出 ¥598.00"));
        assert!(Notice::verification("v", VerificationStatus::Pending, None).is_none());
        assert!(Notice::report("p", ReportStatus::Pending, TargetType::User).is_none());
    }

    #[test]
    fn every_order_event_leaves_a_timeline_line_in_both_languages() {
        let line = timeline_text(EventKind::Paid);
        assert!(line.contains("买家已付款") && line.contains("escrow"));
    }
}
