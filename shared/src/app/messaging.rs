//! Messaging: opening conversations, sending (screened for contact details), reading, and the
//! order's own conversation. Only participants see a conversation; anyone else is told it
//! does not exist.

use chrono::{DateTime, Utc};

use crate::domain::messaging::{
    self, Context, Message, MessageInput, MessageKind, REPORT_AFTER_OFFENCES, conversation_id,
};
use crate::domain::moderation::{Finding, RulesError};
use crate::domain::order::{Order, PaymentStatus};
use crate::domain::report::{Evidence, Reason, Report, TargetType};
use crate::domain::service::ServiceStatus;
use crate::domain::{ConversationId, MessageId, OrderId, ServiceId, User, UserId};
use crate::files::Files;
use crate::store::{
    ListError, Membership, Party, RateLimit, RateLimited, Store, StoreError, Thread,
};

/// Messages a user may send per minute (the seed's limit).
const MESSAGES_PER_MINUTE: RateLimit = RateLimit {
    name: "messages",
    limit: 30,
    window_secs: 60,
};

/// What a user restricted for suspected spam may still send.
const RESTRICTED_MESSAGES: RateLimit = RateLimit {
    name: "messages-restricted",
    limit: crate::domain::report::RESTRICTED_MESSAGES_PER_HOUR,
    window_secs: 3_600,
};

/// Attachment uploads per user per hour.
const ATTACHMENTS_PER_HOUR: RateLimit = RateLimit {
    name: "message-attachments",
    limit: 60,
    window_secs: 3_600,
};

/// The largest attachment.
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// What may be attached: images (sent as `image`) and common documents (sent as `file`).
pub(crate) const ATTACHMENT_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "application/pdf",
    "application/zip",
    "text/plain",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "video/mp4",
];

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    #[error("no such conversation")]
    NotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("no such service")]
    ServiceNotFound,
    #[error("no such order")]
    OrderNotFound,
    #[error("a conversation with oneself")]
    WithSelf,
    #[error("the participant is not the other party of that service or order")]
    ParticipantMismatch,
    #[error("a conversation needs a participant, a service or an order")]
    NoParticipant,
    #[error("clients can only be written to about a service or an order")]
    RecipientNotFreelancer,
    #[error("the file was not uploaded for this conversation")]
    FileMissing,
    #[error("the upload is not an image")]
    NotAnImage,
    #[error("unsupported attachment type")]
    AttachmentType,
    #[error("attachment too large")]
    AttachmentTooLarge,
    #[error("the attachment's bytes are not what it was uploaded as")]
    AttachmentMismatch,
    #[error("rate limited")]
    RateLimited(RateLimited),
    #[error("restricted for suspected spam")]
    Restricted(RateLimited),
    #[error(transparent)]
    Rules(#[from] RulesError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    List(#[from] ListError),
    #[error("files: {0}")]
    Files(String),
}

/// `conversation-create`'s body: a participant, a service (its freelancer) or an order (its
/// other party).
#[derive(Debug, Clone, Default)]
pub struct OpenRequest {
    pub participant_id: Option<UserId>,
    pub service_id: Option<ServiceId>,
    pub order_id: Option<OrderId>,
}

fn party(u: &User) -> Party {
    Party {
        user_id: u.id,
        username: u.username.as_str().to_owned(),
    }
}

/// The order's conversation, as seen by `me`, one of its parties.
fn order_thread(order: &Order) -> Thread {
    Thread {
        conversation_id: conversation_id(
            order.client_id,
            order.freelancer_id,
            Context::Order(order.id),
        ),
        service_id: order.service_id,
        order_id: Some(order.id),
        parties: [
            Party {
                user_id: order.client_id,
                username: order.client_username.clone(),
            },
            Party {
                user_id: order.freelancer_id,
                username: order.freelancer_username.clone(),
            },
        ],
    }
}

async fn party_order(store: &Store, me: &User, id: OrderId) -> Result<Order, MessagingError> {
    store
        .get_order(id, false)
        .await?
        .filter(|o| o.party_of(me.id).is_some())
        .ok_or(MessagingError::OrderNotFound)
}

/// `conversation-create`: opens (or finds) the conversation of the caller and the other
/// party in that context. Returns the caller's side and whether it is new.
pub async fn open(
    store: &Store,
    me: &User,
    req: OpenRequest,
    now: DateTime<Utc>,
) -> Result<(Membership, bool), MessagingError> {
    let thread = if let Some(order_id) = req.order_id {
        let order = party_order(store, me, order_id).await?;
        let other = if order.client_id == me.id {
            order.freelancer_id
        } else {
            order.client_id
        };
        if req.participant_id.is_some_and(|p| p != other) {
            return Err(MessagingError::ParticipantMismatch);
        }
        order_thread(&order)
    } else {
        let (other, service_id) = if let Some(service_id) = req.service_id {
            let service = store
                .get_service(service_id, false)
                .await?
                .filter(|s| s.status == ServiceStatus::Active || s.freelancer_id == me.id)
                .ok_or(MessagingError::ServiceNotFound)?;
            if req
                .participant_id
                .is_some_and(|p| p != service.freelancer_id)
            {
                return Err(MessagingError::ParticipantMismatch);
            }
            (service.freelancer_id, Some(service_id))
        } else {
            (
                req.participant_id.ok_or(MessagingError::NoParticipant)?,
                None,
            )
        };
        if other == me.id {
            return Err(MessagingError::WithSelf);
        }
        let other = store
            .get_user(other)
            .await?
            .filter(User::is_active)
            .ok_or(MessagingError::UserNotFound)?;
        // Sellers are there to be contacted; buyers are written to about their orders
        // (or answered in conversations they opened).
        if !other.is_seller() && !me.is_admin() {
            return Err(MessagingError::RecipientNotFreelancer);
        }
        let context = service_id.map_or(Context::Direct, Context::Service);
        Thread {
            conversation_id: conversation_id(me.id, other.id, context),
            service_id,
            order_id: None,
            parties: [party(me), party(&other)],
        }
    };
    if let Some(mine) = store.open_conversation(&thread, now).await? {
        return Ok((mine, true));
    }
    let mine = store
        .get_membership(me.id, thread.conversation_id)
        .await?
        .ok_or(MessagingError::NotFound)?;
    Ok((mine, false))
}

/// The caller's side of a conversation (404 for anyone else).
pub async fn membership(
    store: &Store,
    me: UserId,
    id: ConversationId,
) -> Result<Membership, MessagingError> {
    store
        .get_membership(me, id)
        .await?
        .ok_or(MessagingError::NotFound)
}

/// A sent message, as the sender gets it back.
#[derive(Debug)]
pub struct Sent {
    pub message: Message,
    /// Everyone in the conversation (who the message is pushed to).
    pub parties: Vec<UserId>,
    /// What was masked (the sender is warned).
    pub findings: Vec<Finding>,
}

/// Where attachments of `sender` in `conversation` are uploaded.
fn attachment_prefix(conversation: ConversationId, sender: UserId) -> String {
    format!("uploads/messages/{conversation}/{sender}/")
}

/// A presigned upload for an attachment of the caller's next message.
pub async fn start_attachment(
    store: &Store,
    files: &Files,
    me: UserId,
    conversation: ConversationId,
    content_type: &str,
    content_length: u64,
    now: DateTime<Utc>,
) -> Result<crate::files::UploadTicket, MessagingError> {
    membership(store, me, conversation).await?;
    if !ATTACHMENT_TYPES.contains(&content_type) {
        return Err(MessagingError::AttachmentType);
    }
    if content_length == 0 || content_length > MAX_ATTACHMENT_BYTES {
        return Err(MessagingError::AttachmentTooLarge);
    }
    store
        .hit_rate_limit(ATTACHMENTS_PER_HOUR, &me.to_string(), now)
        .await?
        .map_err(MessagingError::RateLimited)?;
    let key = format!(
        "{}{}",
        attachment_prefix(conversation, me),
        ulid::Ulid::new()
    );
    files
        .upload_ticket(key, content_type, content_length, now)
        .await
        .map_err(|e| MessagingError::Files(e.to_string()))
}

/// `message-send`: a message from `me` into one of their conversations.
pub async fn send(
    store: &Store,
    files: Option<&Files>,
    me: &User,
    id: ConversationId,
    input: MessageInput,
    now: DateTime<Utc>,
) -> Result<Sent, MessagingError> {
    let mine = membership(store, me.id, id).await?;
    let (thread, order) = match mine.order_id {
        Some(o) => {
            let order = party_order(store, me, o).await?;
            (order_thread(&order), Some(order))
        }
        None => (
            Thread {
                conversation_id: id,
                service_id: mine.service_id,
                order_id: None,
                parties: [
                    party(me),
                    Party {
                        user_id: mine.other_user_id,
                        username: mine.other_username.clone(),
                    },
                ],
            },
            None,
        ),
    };
    post(store, files, me, thread, order.as_ref(), input, now).await
}

/// `order-message-send`: a message into the order's conversation (opened on first use).
pub async fn send_to_order(
    store: &Store,
    files: Option<&Files>,
    me: &User,
    order_id: OrderId,
    input: MessageInput,
    now: DateTime<Utc>,
) -> Result<Sent, MessagingError> {
    let order = party_order(store, me, order_id).await?;
    post(
        store,
        files,
        me,
        order_thread(&order),
        Some(&order),
        input,
        now,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn post(
    store: &Store,
    files: Option<&Files>,
    me: &User,
    thread: Thread,
    order: Option<&Order>,
    input: MessageInput,
    now: DateTime<Utc>,
) -> Result<Sent, MessagingError> {
    if me.is_restricted(now) {
        store
            .hit_rate_limit(RESTRICTED_MESSAGES, &me.id.to_string(), now)
            .await?
            .map_err(MessagingError::Restricted)?;
    }
    store
        .hit_rate_limit(MESSAGES_PER_MINUTE, &me.id.to_string(), now)
        .await?
        .map_err(MessagingError::RateLimited)?;
    let checked = match &input.file_key {
        Some(key) => Some(
            check_attachment(
                files,
                thread.conversation_id,
                me.id,
                key,
                input.message_type,
            )
            .await?,
        ),
        None => None,
    };
    let (content, findings) = input.screened()?;
    let recipients: Vec<UserId> = thread
        .parties
        .iter()
        .map(|p| p.user_id)
        .filter(|u| *u != me.id)
        .collect();
    let message = Message {
        id: MessageId::new(),
        conversation_id: thread.conversation_id,
        sender_id: Some(me.id),
        sender_name: Some(me.username.as_str().to_owned()),
        recipients: recipients.clone(),
        message_type: input.message_type,
        content,
        file_key: input.file_key,
        file_name: input
            .file_name
            .as_deref()
            .and_then(crate::domain::file::sanitise_name),
        file_size: checked.as_ref().map(|c| c.0),
        file_sha256: checked.map(|c| c.1),
        is_masked: !findings.is_empty(),
        order_id: thread.order_id,
        offer_id: None,
        created_at: now,
    };
    store.post_message(&thread, &message).await?;
    let before_payment = order.is_none_or(|o| o.payment_status == PaymentStatus::Pending);
    if messaging::counts_as_offence(&findings, before_payment) {
        note_offence(store, me, &message, now).await;
    }
    Ok(Sent {
        message,
        parties: thread.parties.iter().map(|p| p.user_id).collect(),
        findings,
    })
}

/// The attachment, read through once: it must be the sender's upload to this conversation,
/// its bytes what it was uploaded as (its signature, like every other file), an image when
/// sent as one. Its (length, SHA-256) go with the message.
async fn check_attachment(
    files: Option<&Files>,
    conversation: ConversationId,
    me: UserId,
    key: &str,
    kind: MessageKind,
) -> Result<(u64, String), MessagingError> {
    if !key.starts_with(&attachment_prefix(conversation, me)) || key.contains("..") {
        return Err(MessagingError::FileMissing);
    }
    let files = files.ok_or_else(|| MessagingError::Files("no media bucket".into()))?;
    use crate::files::UploadProblem;
    let checked = files
        .check_uploaded(key, MAX_ATTACHMENT_BYTES)
        .await
        .map_err(|e| MessagingError::Files(e.to_string()))?;
    let checked = match checked {
        Ok(c) => c,
        Err(UploadProblem::Missing) => return Err(MessagingError::FileMissing),
        Err(UploadProblem::TooLarge) => return Err(MessagingError::AttachmentTooLarge),
    };
    if kind == MessageKind::Image && !crate::media::looks_like_image(&checked.head) {
        return Err(MessagingError::NotAnImage);
    }
    if !checked.is_what_it_says() {
        return Err(MessagingError::AttachmentMismatch);
    }
    Ok((checked.size, checked.sha256))
}

/// Counts a masked message before payment against its sender; the third files a report for
/// the moderators. Best effort: the message is already delivered (masked).
async fn note_offence(store: &Store, me: &User, message: &Message, now: DateTime<Utc>) {
    match store.add_offence(me.id, now).await {
        Ok(n) if n == REPORT_AFTER_OFFENCES => {
            let report = Report::automatic(
                TargetType::User,
                &me.id.to_string(),
                Some(me.id.to_string()),
                Reason::OffPlatformContact,
                format!(
                    "{n} messages with contact details before payment; the last in conversation {} (message {})",
                    message.conversation_id, message.id
                ),
                Evidence::ContactDetails {
                    offences: n,
                    conversation_id: message.conversation_id.to_string(),
                    message_id: message.id.to_string(),
                },
                now,
            );
            match store.create_report(&report).await {
                Ok(true) => tracing::warn!(user = %me.id, "reported for repeated contact details"),
                Ok(false) => tracing::info!(user = %me.id, "already reported"),
                Err(e) => tracing::error!(error = %e, "report not filed"),
            }
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "offence not counted"),
    }
}

/// The other party's side, for read receipts (their `last_read_at`).
pub async fn other_side(
    store: &Store,
    mine: &Membership,
) -> Result<Option<Membership>, StoreError> {
    store
        .get_membership(mine.other_user_id, mine.conversation_id)
        .await
}

/// Who reads an order's conversation.
#[derive(Debug, Clone)]
pub enum OrderThreadReader {
    /// One of its parties, on their own side.
    Party(Membership),
    /// An operator deciding the order's dispute: read-only, audited; the conversation is read
    /// through the client's side.
    Operator(Membership),
}

/// `order-messages-list`: the order's conversation, for its two parties, and for operators once
/// the order has been disputed (each such read is audited). `None` before the first message;
/// anyone else gets "no such order".
pub async fn order_conversation(
    store: &Store,
    me: &User,
    order_id: OrderId,
    now: DateTime<Utc>,
) -> Result<Option<OrderThreadReader>, MessagingError> {
    let order = store
        .get_order(order_id, false)
        .await?
        .ok_or(MessagingError::OrderNotFound)?;
    let id = order_thread(&order).conversation_id;
    if order.party_of(me.id).is_some() {
        return Ok(store
            .get_membership(me.id, id)
            .await?
            .map(OrderThreadReader::Party));
    }
    let Some(dispute) = order
        .dispute
        .as_ref()
        .filter(|_| me.user_type == crate::domain::UserType::Admin)
    else {
        return Err(MessagingError::OrderNotFound);
    };
    let audit = crate::store::AuditRecord::new(
        me.id,
        "order.conversation_read",
        "order",
        &order.id.to_string(),
        None,
        serde_json::json!({"dispute_at": dispute.at, "status": order.status.as_str()}),
        now,
    );
    store.record_audit(&audit).await?;
    Ok(store
        .get_membership(order.client_id, id)
        .await?
        .map(OrderThreadReader::Operator))
}

/// `conversation-read`: everything up to now is read.
pub async fn read(
    store: &Store,
    me: UserId,
    id: ConversationId,
    now: DateTime<Utc>,
) -> Result<(), MessagingError> {
    if store.mark_conversation_read(me, id, now).await? {
        Ok(())
    } else {
        Err(MessagingError::NotFound)
    }
}

/// A system message from the platform into an order's conversation (order events), once per
/// event: its id is derived from the event.
pub async fn post_system(
    store: &Store,
    order: &Order,
    id: MessageId,
    text: String,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let thread = order_thread(order);
    let message = Message {
        id,
        conversation_id: thread.conversation_id,
        sender_id: None,
        sender_name: None,
        recipients: vec![order.client_id, order.freelancer_id],
        message_type: MessageKind::System,
        content: text,
        file_key: None,
        file_name: None,
        file_size: None,
        file_sha256: None,
        is_masked: false,
        order_id: Some(order.id),
        offer_id: None,
        created_at: at,
    };
    store.post_message(&thread, &message).await
}
