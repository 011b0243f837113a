//! Messaging and notifications over HTTP: conversations, messages, read receipts, the order's
//! conversation, attachments, and the notification centre.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::common::order_not_found;
use super::common::{service_not_found, violations};
use super::order_views::OrderView;
use super::session::signed_in;
use super::uploads::{media_files, upload_request};
use super::views::NotificationView;
use super::views::rfc3339;
use super::views::user_not_found;
use crate::app::messaging::{self as app, MessagingError, OpenRequest, Sent};
use crate::app::offers::{self, OfferError};
use crate::deps::Deps;
use crate::domain::messaging::{Message, MessageInput};
use crate::domain::moderation::Finding;
use crate::domain::offer::{Offer, OfferStatus, OfferTerms};
use crate::domain::service::Violation;
use crate::domain::{ConversationId, Money, NotificationId, OfferId, OrderId};
use crate::field::Field;
use crate::http::route as r;
use crate::http::{ApiError, ListParams, Reply, json_body, path_id, query_bool};
use crate::i18n::Text;
use crate::realtime::Push;
use crate::store::{Membership, Page};

fn conversation_not_found() -> ApiError {
    ApiError::not_found(
        "conversation.not_found",
        Text::new("会话不存在", "No such conversation"),
    )
}

/// 422 naming one field, with its own code.
fn invalid(field: &str, code: &'static str, text: Text) -> ApiError {
    violations(vec![Violation {
        field: field.to_owned(),
        code,
        text,
    }])
}

impl From<MessagingError> for ApiError {
    fn from(e: MessagingError) -> ApiError {
        match e {
            MessagingError::NotFound => conversation_not_found(),
            MessagingError::UserNotFound => user_not_found(),
            MessagingError::ServiceNotFound => service_not_found(),
            MessagingError::OrderNotFound => order_not_found(),
            MessagingError::WithSelf => invalid(
                "participant_id",
                "conversation.with_self",
                Text::new(
                    "不能和自己发起会话",
                    "You cannot start a conversation with yourself",
                ),
            ),
            MessagingError::ParticipantMismatch => invalid(
                "participant_id",
                "conversation.participant_mismatch",
                Text::new(
                    "participant_id 须为该服务或订单的另一方",
                    "participant_id must be the other party of that service or order",
                ),
            ),
            MessagingError::NoParticipant => invalid(
                "participant_id",
                "conversation.participant_required",
                Text::new(
                    "请提供 participant_id、service_id 或 order_id",
                    "Give a participant_id, a service_id or an order_id",
                ),
            ),
            MessagingError::RecipientNotFreelancer => invalid(
                "participant_id",
                "conversation.recipient_not_freelancer",
                Text::new(
                    "只能联系卖家；与买家的沟通请通过其订单或对方发起的会话",
                    "Only sellers can be contacted directly; write to a buyer through their order or a conversation they started",
                ),
            ),
            MessagingError::FileMissing => invalid(
                "file_key",
                "message.file_missing",
                Text::new(
                    "未找到该文件：请先通过本会话的附件上传接口上传",
                    "No such upload: upload the file through this conversation's attachment route first",
                ),
            ),
            MessagingError::NotAnImage => invalid(
                "file_key",
                "message.not_an_image",
                Text::new(
                    "图片消息须为 JPEG、PNG、WebP 或 GIF 图片",
                    "An image message must be a JPEG, PNG, WebP or GIF image",
                ),
            ),
            MessagingError::AttachmentMismatch => invalid(
                "file_key",
                "message.file_mismatch",
                Text::new(
                    "附件内容与上传时声明的文件类型不符，请重新上传",
                    "The attachment is not the kind of file it was uploaded as; upload it again",
                ),
            ),
            MessagingError::AttachmentType => invalid(
                "content_type",
                "upload.unsupported_type",
                Text::new(
                    "不支持该文件类型：可发送图片、PDF、Office 文档、ZIP、文本或 MP4",
                    "Unsupported file type: images, PDF, Office documents, ZIP, text or MP4",
                ),
            ),
            MessagingError::AttachmentTooLarge => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "upload.too_large",
                Text::new(
                    "附件须为 1 字节到 20 MB",
                    "An attachment must be between 1 byte and 20 MB",
                ),
            ),
            MessagingError::RateLimited(r) => ApiError::rate_limited(r.retry_after_secs),
            MessagingError::Restricted(r) => ApiError {
                retry_after: Some(r.retry_after_secs.max(1)),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "account.restricted",
                    Text::new(
                        "您的账号因疑似发送垃圾信息被限制发消息频率，请稍后再试或联系客服",
                        "Your account may send only a few messages an hour because of suspected spam; try later or contact support",
                    ),
                )
            },
            MessagingError::Rules(e) => ApiError::internal(e),
            MessagingError::Store(e) => ApiError::internal(e),
            MessagingError::Files(e) => ApiError::internal(e),
            MessagingError::List(e) => e.into(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserCard {
    id: String,
    username: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LastMessageView {
    id: String,
    sender_id: Option<String>,
    message_type: &'static str,
    preview: String,
    created_at: String,
}

/// A conversation as one participant sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationView {
    id: String,
    participants: [String; 2],
    other_user: UserCard,
    service_id: Option<String>,
    order_id: Option<String>,
    last_message: Option<LastMessageView>,
    unread_count: u64,
    last_read_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<&Membership> for ConversationView {
    fn from(m: &Membership) -> Self {
        ConversationView {
            id: m.conversation_id.to_string(),
            participants: [m.user_id.to_string(), m.other_user_id.to_string()],
            other_user: UserCard {
                id: m.other_user_id.to_string(),
                username: m.other_username.clone(),
            },
            service_id: m.service_id.map(|s| s.to_string()),
            order_id: m.order_id.map(|o| o.to_string()),
            last_message: m.last_message.as_ref().map(|l| LastMessageView {
                id: l.id.clone(),
                sender_id: l.sender_id.clone(),
                message_type: l.message_type.as_str(),
                preview: l.preview.clone(),
                created_at: rfc3339(&l.created_at),
            }),
            unread_count: m.unread,
            last_read_at: m.last_read_at.as_ref().map(rfc3339),
            created_at: rfc3339(&m.created_at),
            updated_at: rfc3339(&m.updated_at),
        }
    }
}

/// A message. `is_read`: whether its recipient has read the conversation since it was sent
/// (read receipts); unknown (`false`) in pushes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    id: String,
    conversation_id: String,
    sender_id: Option<String>,
    sender_name: Option<String>,
    message_type: &'static str,
    content: String,
    file_key: Option<String>,
    file_name: Option<String>,
    /// The attachment's length and SHA-256 (lower-case hex), checked when it was sent.
    file_size: Option<u64>,
    checksum_sha256: Option<String>,
    /// A link that downloads the attachment (15 minutes; in the message lists, for the
    /// conversation's participants only).
    file_url: Option<String>,
    is_masked: bool,
    is_read: bool,
    order_id: Option<String>,
    /// For an `offer` message: the custom offer (`GET /messaging/offers/{offer_id}`).
    offer_id: Option<String>,
    created_at: String,
}

impl MessageView {
    /// `read_until`: when the message's reader last read the conversation.
    pub fn of(m: &Message, read_until: Option<DateTime<Utc>>) -> MessageView {
        MessageView {
            id: m.id.to_string(),
            conversation_id: m.conversation_id.to_string(),
            sender_id: m.sender_id.map(|u| u.to_string()),
            sender_name: m.sender_name.clone(),
            message_type: m.message_type.as_str(),
            content: m.content.clone(),
            file_key: m.file_key.clone(),
            file_name: m.file_name.clone(),
            file_size: m.file_size,
            checksum_sha256: m.file_sha256.clone(),
            file_url: None,
            is_masked: m.is_masked,
            is_read: read_until.is_some_and(|t| t >= m.created_at),
            order_id: m.order_id.map(|o| o.to_string()),
            offer_id: m.offer_id.map(|o| o.to_string()),
            created_at: rfc3339(&m.created_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct MessagePage {
    items: Vec<MessageView>,
    next_cursor: Option<String>,
    conversation: Option<ConversationView>,
}

/// A page of messages with read receipts: my messages are read once the other side read
/// after them; theirs once I did.
fn message_page(
    p: Page<Message>,
    mine: Option<&Membership>,
    theirs: Option<&Membership>,
) -> MessagePage {
    let me = mine.map(|m| m.user_id);
    MessagePage {
        items: p
            .items
            .iter()
            .map(|m| {
                let reader = if m.sender_id.is_some() && m.sender_id == me {
                    theirs
                } else {
                    mine
                };
                MessageView::of(m, reader.and_then(|r| r.last_read_at))
            })
            .collect(),
        next_cursor: p.next_cursor,
        conversation: mine.map(ConversationView::from),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Warning {
    code: &'static str,
    message: String,
    message_zh: String,
    findings: Vec<Finding>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SentView {
    #[serde(flatten)]
    message: MessageView,
    warning: Option<Warning>,
}

/// Pushes the message to every open connection of its parties, then answers the sender:
/// 201, with a warning when something was masked.
async fn sent(deps: &'static Deps, s: Sent) -> Reply {
    let push = Push {
        kind: "message",
        data: MessageView::of(&s.message, None),
    };
    for user in &s.parties {
        deps.pusher.push(&deps.store, *user, &push).await;
    }
    let contact = s
        .findings
        .iter()
        .any(|f| matches!(f, Finding::ContactInfo { .. }));
    let (code, text) = match (s.findings.is_empty(), contact) {
        (true, _) => ("", Text::new("已发送", "Sent")),
        (false, true) => (
            "message.contact_info_blocked",
            Text::new(
                "消息中的联系方式已被隐藏：为保障交易安全，请在平台内沟通和付款，多次发送将被举报审核",
                "Contact details in your message were hidden: keep contact and payment on the platform; repeated attempts are reported to moderators",
            ),
        ),
        (false, false) => (
            "message.prohibited_words_masked",
            Text::new(
                "消息中的违规词语已被隐藏",
                "Prohibited words in your message were hidden",
            ),
        ),
    };
    let warning = (!s.findings.is_empty()).then(|| Warning {
        code,
        message: text.en.to_string(),
        message_zh: text.zh.to_string(),
        findings: s.findings,
    });
    Reply::created(
        text,
        SentView {
            message: MessageView::of(&s.message, None),
            warning,
        },
    )
}

/// `message-send`'s and `order-message-send`'s body: `{message_type?: text|file|image,
/// content, file_key?, file_name?}`. A text needs `content`; a file or an image needs the
/// `file_key` of an upload and may have a caption.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = MessageBody, example = json!({"message_type": "text", "content": "您好，初稿什么时候可以看到？"}))]
pub(crate) struct MessageRequest {
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(text|image|file)$")]
    message_type: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 5000)]
    content: Field<String>,
    /// The `key` of an upload (image and file messages).
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 500)]
    file_key: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    file_name: Field<String>,
}

impl TryFrom<MessageRequest> for MessageInput {
    type Error = ApiError;

    fn try_from(r: MessageRequest) -> Result<MessageInput, ApiError> {
        MessageInput::parse(r.message_type, r.content, r.file_key, r.file_name).map_err(|errors| {
            violations(
                errors
                    .into_iter()
                    .map(|(field, text)| Violation {
                        field,
                        code: "message.invalid",
                        text,
                    })
                    .collect(),
            )
        })
    }
}

fn message_input(req: &Request) -> Result<MessageInput, ApiError> {
    MessageInput::try_from(json_body::<MessageRequest>(req)?)
}

/// `GET /messaging/conversations` [conversation-list]: most recent activity first, with the
/// last message and the caller's unread count.
pub async fn list(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let params = ListParams::of(&req)?;
    let page = deps
        .store
        .list_conversations(me.id, params.limit, params.cursor.as_deref())
        .await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        super::views::PageView {
            items: page
                .items
                .iter()
                .map(ConversationView::from)
                .collect::<Vec<_>>(),
            next_cursor: page.next_cursor,
        },
    ))
}

/// `conversation-create`'s body: one of `participant_id`, `service_id` (its freelancer) or
/// `order_id` (its other party).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = ConversationBody, example = json!({"service_id": "01JD0000000000000000000000"}))]
pub(crate) struct ConversationRequest {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    participant_id: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    service_id: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    order_id: Field<String>,
}

impl TryFrom<ConversationRequest> for OpenRequest {
    type Error = ApiError;

    fn try_from(r: ConversationRequest) -> Result<OpenRequest, ApiError> {
        Ok(OpenRequest {
            participant_id: optional_id(r.participant_id, "participant_id", user_not_found)?,
            service_id: optional_id(r.service_id, "service_id", service_not_found)?,
            order_id: optional_id(r.order_id, "order_id", order_not_found)?,
        })
    }
}

/// An id that names nothing is the thing's 404.
fn optional_id<T: std::str::FromStr>(
    value: Field<String>,
    name: &str,
    not_found: fn() -> ApiError,
) -> Result<Option<T>, ApiError> {
    match value.optional() {
        Ok(None) => Ok(None),
        Ok(Some(s)) => s.trim().parse().map(Some).map_err(|_| not_found()),
        Err(_) => Err(invalid(
            name,
            "request.invalid_field",
            Text::owned(
                format!("{name} 须为字符串"),
                format!("{name} must be a string"),
            ),
        )),
    }
}

/// `POST /messaging/conversations` [conversation-create]: `{participant_id?, service_id?,
/// order_id?}` → 201 with the new conversation, or 200 with the one that already exists.
pub async fn create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let open = OpenRequest::try_from(json_body::<ConversationRequest>(&req)?)?;
    let (mine, created) = app::open(&deps.store, &me, open, Utc::now()).await?;
    let view = ConversationView::from(&mine);
    Ok(if created {
        Reply::created(Text::new("会话已创建", "Conversation started"), view)
    } else {
        Reply::ok(Text::new("会话已存在", "Conversation already exists"), view)
    })
}

/// `GET /messaging/conversations/{conversation_id}/messages` [message-list]: newest first,
/// with read receipts.
pub async fn messages(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let id: ConversationId = path_id(&req, "conversation_id", conversation_not_found)?;
    let params = ListParams::of(&req)?;
    let mine = app::membership(&deps.store, me.id, id).await?;
    thread(deps, mine, &params).await
}

/// A page of the caller's conversation, with the other side's read receipts.
async fn thread(
    deps: &'static Deps,
    mine: Membership,
    params: &ListParams,
) -> Result<Reply, ApiError> {
    let page = deps
        .store
        .list_messages(mine.conversation_id, params.limit, params.cursor.as_deref())
        .await?;
    let theirs = app::other_side(&deps.store, &mine).await?;
    let page = message_page(page, Some(&mine), theirs.as_ref());
    with_links(deps, page).await
}

/// An order's conversation as an operator reads it: the messages only.
async fn operator_thread(
    deps: &'static Deps,
    client: Membership,
    params: &ListParams,
) -> Result<Reply, ApiError> {
    let page = deps
        .store
        .list_messages(
            client.conversation_id,
            params.limit,
            params.cursor.as_deref(),
        )
        .await?;
    with_links(deps, message_page(page, None, None)).await
}

/// The page with a short-lived link on each attachment.
async fn with_links(deps: &'static Deps, mut page: MessagePage) -> Result<Reply, ApiError> {
    // Attachments open by a short-lived link; only participants ever see this page.
    let files = media_files(deps)?;
    let now = Utc::now();
    for m in &mut page.items {
        if let Some(key) = &m.file_key {
            let name = m
                .file_name
                .as_deref()
                .and_then(crate::domain::file::sanitise_name)
                .unwrap_or_else(|| "attachment".to_owned());
            let link = crate::app::files::download(&files, key, &name, now)
                .await
                .map_err(ApiError::internal)?;
            m.file_url = Some(link.url);
        }
    }
    Ok(Reply::ok(Text::new("成功", "OK"), page))
}

/// `POST /messaging/conversations/{conversation_id}/messages` [message-send]: `{message_type?,
/// content, file_key?, file_name?}` → 201; contact details and prohibited words are masked
/// and the sender warned.
pub async fn send(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let id: ConversationId = path_id(&req, "conversation_id", conversation_not_found)?;
    let input = message_input(&req)?;
    let files = media_files(deps).ok();
    let s = app::send(&deps.store, files.as_ref(), &me, id, input, Utc::now()).await?;
    Ok(sent(deps, s).await)
}

/// `POST /messaging/conversations/{conversation_id}/read` [conversation-read]: the caller's
/// unread count to zero; their read time is the other party's read receipt.
pub async fn read(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let id: ConversationId = path_id(&req, "conversation_id", conversation_not_found)?;
    let now = Utc::now();
    app::read(&deps.store, me.id, id, now).await?;
    Ok(Reply::ok(
        Text::new("已读", "Marked as read"),
        ConversationRead {
            conversation_id: id.to_string(),
            unread_count: 0,
            read_at: rfc3339(&now),
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ConversationRead {
    conversation_id: String,
    unread_count: u32,
    read_at: String,
}

/// `POST /messaging/conversations/{conversation_id}/attachments`
/// [message-attachment-upload]: `{content_type, content_length}` → a presigned upload whose
/// `key` a file or image message then sends as `file_key`.
pub async fn attachment(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let id: ConversationId = path_id(&req, "conversation_id", conversation_not_found)?;
    let (content_type, content_length) = upload_request(&req)?;
    let ticket = app::start_attachment(
        &deps.store,
        &media_files(deps)?,
        me.id,
        id,
        &content_type,
        content_length,
        Utc::now(),
    )
    .await?;
    Ok(super::uploads::upload_created(
        ticket,
        app::MAX_ATTACHMENT_BYTES,
    ))
}

/// `GET /orders/{order_id}/messages` [order-messages-list]: the order's conversation, for its
/// two parties (empty before the first message), and read-only for operators once the order
/// has been disputed (audited; no read receipts, no conversation summary).
pub async fn order_messages(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let order_id: OrderId = path_id(&req, "order_id", order_not_found)?;
    let params = ListParams::of(&req)?;
    match app::order_conversation(&deps.store, &me, order_id, Utc::now()).await? {
        Some(app::OrderThreadReader::Party(mine)) => thread(deps, mine, &params).await,
        Some(app::OrderThreadReader::Operator(client)) => {
            operator_thread(deps, client, &params).await
        }
        None => Ok(Reply::ok(
            Text::new("成功", "OK"),
            MessagePage {
                items: vec![],
                next_cursor: None,
                conversation: None,
            },
        )),
    }
}

/// `POST /orders/{order_id}/messages` [order-message-send]: as `message-send`, into the
/// order's conversation.
pub async fn order_send(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let order_id: OrderId = path_id(&req, "order_id", order_not_found)?;
    let input = message_input(&req)?;
    let files = media_files(deps).ok();
    let s = app::send_to_order(
        &deps.store,
        files.as_ref(),
        &me,
        order_id,
        input,
        Utc::now(),
    )
    .await?;
    Ok(sent(deps, s).await)
}

fn notification_not_found() -> ApiError {
    ApiError::not_found(
        "notification.not_found",
        Text::new("通知不存在", "No such notification"),
    )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NotificationPage {
    items: Vec<NotificationView>,
    next_cursor: Option<String>,
    unread_count: u64,
}

/// `GET /messaging/notifications` [notification-list]: newest first; `?unread=true` for the
/// unread ones only; with the unread count.
pub async fn notifications(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let params = ListParams::of(&req)?;
    let unread_only = query_bool(&req, "unread")?.unwrap_or(false);
    let page = deps
        .store
        .notification_page(me.id, unread_only, params.limit, params.cursor.as_deref())
        .await?;
    let unread_count = deps.store.unread_notification_count(me.id).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        NotificationPage {
            items: page.items.iter().map(NotificationView::from).collect(),
            next_cursor: page.next_cursor,
            unread_count,
        },
    ))
}

/// `POST /messaging/notifications/{notification_id}/read` [notification-read].
pub async fn notification_read(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let id: NotificationId = path_id(&req, "notification_id", notification_not_found)?;
    if !deps
        .store
        .mark_notification_read(me.id, id, Utc::now())
        .await?
    {
        return Err(notification_not_found());
    }
    Ok(Reply::ok(
        Text::new("已读", "Marked as read"),
        NotificationRead {
            id: id.to_string(),
            is_read: true,
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NotificationRead {
    id: String,
    is_read: bool,
}

/// `POST /messaging/notifications/read-all` [notification-read-all].
pub async fn notification_read_all(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let (_, me) = signed_in(deps, &req).await?;
    let n = deps
        .store
        .mark_all_notifications_read(me.id, Utc::now())
        .await?;
    Ok(Reply::ok(
        Text::new("全部已读", "All marked as read"),
        AllRead {
            updated: n,
            unread_count: 0,
        },
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AllRead {
    updated: u64,
    unread_count: u32,
}

fn offer_not_found() -> ApiError {
    ApiError::not_found("offer.not_found", Text::new("报价不存在", "No such offer"))
}

impl From<OfferError> for ApiError {
    fn from(e: OfferError) -> ApiError {
        match e {
            OfferError::ConversationNotFound => conversation_not_found(),
            OfferError::NotFound => offer_not_found(),
            OfferError::NotSeller => ApiError::forbidden(
                "offer.sellers_only",
                Text::new(
                    "开通卖家资料后才能发送报价",
                    "Open a seller profile before sending offers",
                ),
            ),
            OfferError::Moderation(findings) => super::common::moderation_failed(
                &findings,
                Text::new("报价内容未通过审核", "The offer does not pass moderation"),
            ),
            OfferError::NotOpen(status) => ApiError::conflict(
                match status {
                    OfferStatus::Expired => "offer.expired",
                    _ => "offer.not_open",
                },
                match status {
                    OfferStatus::Expired => Text::new(
                        "报价已过期，请联系卖家重新报价",
                        "The offer has expired; ask the seller for a new one",
                    ),
                    OfferStatus::Accepted => {
                        Text::new("报价已被接受", "The offer was accepted already")
                    }
                    _ => Text::new("报价已被拒绝", "The offer was declined"),
                },
            ),
            OfferError::SellerGone => ApiError::conflict(
                "offer.seller_unavailable",
                Text::new("该卖家暂时无法接单", "This seller cannot take orders now"),
            ),
            OfferError::Rules(e) => ApiError::internal(e),
            OfferError::Store(e) => ApiError::internal(e),
        }
    }
}

/// `POST /messaging/conversations/{conversation_id}/offers`: a seller's terms.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "description": "为您的茶饮店设计 logo 和门头效果图，三个方案，含源文件。",
    "price": "1200.00", "delivery_days": 7, "revisions": 2, "expires_in_days": 3
}))]
pub(crate) struct OfferRequest {
    /// What the seller will do: 10–3,000 characters.
    #[schema(required = true, min_length = 10, max_length = 3000)]
    description: Option<String>,
    #[schema(value_type = Money, required = true)]
    price: Option<String>,
    /// 1–180.
    #[schema(required = true, minimum = 1, maximum = 180)]
    delivery_days: Option<u32>,
    /// 0–20, default 1.
    #[schema(minimum = 0, maximum = 20)]
    revisions: Option<u32>,
    /// 1–14, default 3.
    #[schema(minimum = 1, maximum = 14)]
    expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OfferParty {
    id: String,
    username: String,
}

/// A custom offer as its two parties see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct OfferView {
    id: String,
    conversation_id: String,
    seller: OfferParty,
    buyer: OfferParty,
    description: String,
    price: Money,
    delivery_days: u32,
    revisions: u32,
    /// `expired`: still open when its time passed; it can no longer be accepted.
    status: OfferStatus,
    expires_at: String,
    /// The order it became, once accepted.
    order_id: Option<String>,
    created_at: String,
}

impl OfferView {
    fn of(o: &Offer, now: DateTime<Utc>) -> OfferView {
        OfferView {
            id: o.id.to_string(),
            conversation_id: o.conversation_id.to_string(),
            seller: OfferParty {
                id: o.seller_id.to_string(),
                username: o.seller_username.clone(),
            },
            buyer: OfferParty {
                id: o.buyer_id.to_string(),
                username: o.buyer_username.clone(),
            },
            description: o.terms.description.clone(),
            price: o.terms.price,
            delivery_days: o.terms.delivery_days,
            revisions: o.terms.revisions,
            status: o.status_at(now),
            expires_at: rfc3339(&o.expires_at),
            order_id: o.order_id.map(|id| id.to_string()),
            created_at: rfc3339(&o.created_at),
        }
    }
}

fn offer_id(req: &Request) -> Result<OfferId, ApiError> {
    path_id(req, "offer_id", offer_not_found)
}

/// `POST /messaging/conversations/{conversation_id}/offers` [offer-create]: a seller sends a
/// custom offer in the conversation (an `offer` message carries it) → 201 with the offer.
pub async fn offer_create(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id: ConversationId = path_id(&req, "conversation_id", conversation_not_found)?;
    let body: OfferRequest = json_body(&req)?;
    let mut errors = crate::http::FieldErrors::new();
    let price = body.price.as_deref().and_then(|p| {
        errors.check(
            "price",
            p.trim().parse::<Money>().map_err(|_| {
                Text::new(
                    "金额须为元，最多两位小数",
                    "An amount in yuan with at most two places",
                )
            }),
        )
    });
    errors.finish()?;
    let terms = OfferTerms::parse(
        body.description,
        price,
        (body.delivery_days, body.revisions, body.expires_in_days),
    )
    .map_err(|list| {
        let mut f = crate::http::FieldErrors::new();
        for (field, text) in list {
            f.add(field, text);
        }
        ApiError::validation(f)
    })?;
    let (_, user) = signed_in(deps, &req).await?;
    let now = Utc::now();
    let (offer, _) = offers::send(&deps.store, &user, id, terms, now).await?;
    Ok(Reply::created(
        Text::new("报价已发送", "Offer sent"),
        OfferView::of(&offer, now),
    ))
}

/// `GET /messaging/offers/{offer_id}` [offer-get]: an offer, for its seller and buyer.
pub async fn offer_get(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = offer_id(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let offer = offers::get(&deps.store, &user, id).await?;
    Ok(Reply::ok(
        Text::new("成功", "OK"),
        OfferView::of(&offer, Utc::now()),
    ))
}

/// `POST /messaging/offers/{offer_id}/accept` [offer-accept]: the buyer accepts → 201 with the
/// unpaid order at the offer's terms (`origin: offer`); an expired offer is 409.
pub async fn offer_accept(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = offer_id(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let order = offers::accept(&deps.store, &deps.config.clearance, &user, id, Utc::now()).await?;
    Ok(Reply::created(
        Text::new(
            "已接受报价，订单已生成，请在30分钟内付款",
            "Offer accepted; the order is placed, pay within 30 minutes",
        ),
        OrderView::of(&order),
    ))
}

/// `POST /messaging/offers/{offer_id}/decline` [offer-decline]: the buyer declines.
pub async fn offer_decline(deps: &'static Deps, req: Request) -> Result<Reply, ApiError> {
    let id = offer_id(&req)?;
    let (_, user) = signed_in(deps, &req).await?;
    let now = Utc::now();
    let offer = offers::decline(&deps.store, &user, id, now).await?;
    Ok(Reply::ok(
        Text::new("已拒绝报价", "Offer declined"),
        OfferView::of(&offer, now),
    ))
}

/// This module's routes: what each of its handlers takes and answers (`api::openapi`
/// assembles them into the document).
pub(crate) fn routes() -> Vec<r::Route> {
    use r::Access::*;
    vec![
        r::route(
            "POST",
            "/messaging/conversations/{conversation_id}/offers",
            "offer-create",
            User,
            "messaging",
            "发送定制报价 / Send a custom offer",
        )
        .body(r::one::<OfferRequest>)
        .created(r::one::<OfferView>)
        .errors(&[403, 404]),
        r::route(
            "GET",
            "/messaging/offers/{offer_id}",
            "offer-get",
            User,
            "messaging",
            "定制报价 / A custom offer",
        )
        .ok(r::one::<OfferView>)
        .errors(&[404]),
        r::route(
            "POST",
            "/messaging/offers/{offer_id}/accept",
            "offer-accept",
            User,
            "messaging",
            "接受报价 / Accept an offer",
        )
        .created(r::one::<OrderView>)
        .errors(&[404, 409]),
        r::route(
            "POST",
            "/messaging/offers/{offer_id}/decline",
            "offer-decline",
            User,
            "messaging",
            "拒绝报价 / Decline an offer",
        )
        .ok(r::one::<OfferView>)
        .errors(&[404, 409]),
        r::route(
            "GET",
            "/orders/{order_id}/messages",
            "order-messages-list",
            User,
            "messaging",
            "订单会话消息 / The order's messages",
        )
        .paged()
        .ok(r::one::<MessagePage>),
        r::route(
            "POST",
            "/orders/{order_id}/messages",
            "order-message-send",
            User,
            "messaging",
            "在订单会话中发消息 / Message about the order",
        )
        .body(r::one::<MessageRequest>)
        .created(r::one::<SentView>)
        .errors(&[409]),
        r::route(
            "GET",
            "/messaging/conversations",
            "conversation-list",
            User,
            "messaging",
            "我的会话 / My conversations",
        )
        .paged()
        .ok(r::page::<ConversationView>),
        r::route(
            "POST",
            "/messaging/conversations",
            "conversation-create",
            User,
            "messaging",
            "发起会话 / Start a conversation",
        )
        .body(r::one::<ConversationRequest>)
        .created(r::one::<ConversationView>)
        .errors(&[404, 409]),
        r::route(
            "GET",
            "/messaging/conversations/{conversation_id}/messages",
            "message-list",
            User,
            "messaging",
            "会话消息 / Messages",
        )
        .paged()
        .ok(r::one::<MessagePage>),
        r::route(
            "POST",
            "/messaging/conversations/{conversation_id}/messages",
            "message-send",
            User,
            "messaging",
            "发送消息 / Send a message",
        )
        .body(r::one::<MessageRequest>)
        .created(r::one::<SentView>)
        .errors(&[409]),
        r::route(
            "POST",
            "/messaging/conversations/{conversation_id}/read",
            "conversation-read",
            User,
            "messaging",
            "标记已读 / Mark as read",
        )
        .ok(r::one::<ConversationRead>),
        r::route(
            "POST",
            "/messaging/conversations/{conversation_id}/attachments",
            "message-attachment-upload",
            User,
            "messaging",
            "上传附件 / Upload an attachment",
        )
        .body(r::one::<crate::api::uploads::UploadRequest>)
        .created(r::one::<crate::api::uploads::UploadView>),
        r::route(
            "GET",
            "/messaging/notifications",
            "notification-list",
            User,
            "messaging",
            "通知 / Notifications",
        )
        .query(&[("unread", r::Type::Boolean, "仅未读 / unread only")])
        .paged()
        .ok(r::one::<NotificationPage>),
        r::route(
            "POST",
            "/messaging/notifications/{notification_id}/read",
            "notification-read",
            User,
            "messaging",
            "通知已读 / Mark a notification read",
        )
        .ok(r::one::<NotificationRead>),
        r::route(
            "POST",
            "/messaging/notifications/read-all",
            "notification-read-all",
            User,
            "messaging",
            "全部已读 / Mark all read",
        )
        .ok(r::one::<AllRead>),
    ]
}
