//! Conversations, messages, WebSocket connections and moderation offences.
//!
//! A conversation is stored as one member item per participant (`USER#{u} / CONV#{c}`):
//! reading or listing one's conversations, and checking that one takes part, is one request.
//! A message is written in one transaction with both member items (last message, unread
//! count), so a count never drifts from the messages.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ops::{self, n, s};
use super::{ListError, Page, PageQuery, Store, StoreError, from_item, keys, to_item};
use crate::domain::messaging::{Enquiry, Message, MessageKind};
use crate::domain::{ConversationId, MessageId, OrderId, ServiceId, UserId};

/// The last message, as a conversation list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastMessage {
    pub id: String,
    pub sender_id: Option<String>,
    pub message_type: MessageKind,
    pub preview: String,
    pub created_at: DateTime<Utc>,
}

/// One participant's side of a conversation. Absent values are left out of the item (not
/// written as NULL), so the send transaction's `if_not_exists` sees them as absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub other_user_id: UserId,
    pub other_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message: Option<LastMessage>,
    #[serde(default)]
    pub unread: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_at: Option<DateTime<Utc>>,
    /// The first message the other party sent here (what makes it an enquiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enquiry_at: Option<DateTime<Utc>>,
    /// This user's first message here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Membership {
    /// An enquiry is a conversation the other party started; it is answered by this user's
    /// first message after it.
    pub fn enquiry(&self) -> Option<Enquiry> {
        let at = self.enquiry_at?;
        match self.first_sent_at {
            Some(sent) if sent < at => None,
            answered_at => Some(Enquiry { at, answered_at }),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct MembershipRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity_type: EntityType,
    #[serde(flatten)]
    member: Membership,
}

#[derive(Debug, Serialize, Deserialize)]
struct MessageRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    #[serde(flatten)]
    message: Message,
}

/// The other side of a message's transaction: who else is in the conversation.
#[derive(Debug, Clone)]
pub struct Party {
    pub user_id: UserId,
    pub username: String,
}

/// Where a message goes: its conversation, what it is about, and the two parties.
#[derive(Debug, Clone)]
pub struct Thread {
    pub conversation_id: ConversationId,
    pub service_id: Option<ServiceId>,
    pub order_id: Option<OrderId>,
    pub parties: [Party; 2],
}

fn ms(t: DateTime<Utc>) -> AttributeValue {
    s(keys::ms(t))
}

impl Store {
    /// Opens a conversation: both member items, once. Returns the first party's item as
    /// written, or `None` when the conversation already existed (nothing written).
    pub async fn open_conversation(
        &self,
        thread: &Thread,
        now: DateTime<Utc>,
    ) -> Result<Option<Membership>, StoreError> {
        let mut items = Vec::new();
        let mut first = None;
        for (me, other) in [(0, 1), (1, 0)] {
            let member = Membership {
                conversation_id: thread.conversation_id,
                user_id: thread.parties[me].user_id,
                other_user_id: thread.parties[other].user_id,
                other_username: thread.parties[other].username.clone(),
                service_id: thread.service_id,
                order_id: thread.order_id,
                last_message: None,
                unread: 0,
                last_read_at: None,
                enquiry_at: None,
                first_sent_at: None,
                created_at: now,
                updated_at: now,
            };
            let key = keys::conversation_member(member.user_id, member.conversation_id);
            let record = MembershipRecord {
                pk: key.pk,
                sk: key.sk,
                gsi1pk: keys::user_conversations(member.user_id),
                gsi1sk: keys::activity_sort(now, member.conversation_id),
                entity_type: EntityType::ConversationMember,
                member,
            };
            first.get_or_insert_with(|| record.member.clone());
            items.push(ops::put(
                &self.table,
                to_item(&record)?,
                Some("attribute_not_exists(PK)"),
                vec![],
            )?);
        }
        Ok(self.transact(items).await?.ok().and(first))
    }

    /// The caller's side of a conversation; `None` when they are not in it.
    pub async fn get_membership(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Option<Membership>, StoreError> {
        let record: Option<MembershipRecord> = self
            .get_record(keys::conversation_member(user, conversation), true)
            .await?;
        Ok(record.map(|r| r.member))
    }

    /// Writes a message with both member items in one transaction: the sender's last message
    /// and first reply, each recipient's last message, unread count and first enquiry.
    /// Member items that do not exist yet (an order's conversation) are created. `Ok(false)`
    /// when the message id was already written (a repeated system message).
    pub async fn post_message(
        &self,
        thread: &Thread,
        message: &Message,
    ) -> Result<bool, StoreError> {
        self.post_message_with(thread, message, vec![]).await
    }

    /// [`Store::post_message`] with `companions` in the same transaction (a custom offer the
    /// message carries).
    pub async fn post_message_with(
        &self,
        thread: &Thread,
        message: &Message,
        companions: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let key = keys::message(message.conversation_id, message.id);
        let record = MessageRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::Message,
            message: message.clone(),
        };
        let last = LastMessage {
            id: message.id.to_string(),
            sender_id: message.sender_id.map(|u| u.to_string()),
            message_type: message.message_type,
            preview: message.preview(),
            created_at: message.created_at,
        };
        let last = serde_dynamo::to_attribute_value::<_, AttributeValue>(&last)
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        let now = message.created_at;
        let mut items = vec![ops::put(
            &self.table,
            to_item(&record)?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )?];
        for (me, other) in [(0, 1), (1, 0)] {
            let (user, other) = (&thread.parties[me], &thread.parties[other]);
            let is_sender = message.sender_id == Some(user.user_id);
            let mut set = vec![
                "GSI1PK = :gpk",
                "GSI1SK = :gsk",
                "entity_type = :et",
                "conversation_id = :cid",
                "user_id = :uid",
                "other_user_id = :oid",
                "other_username = if_not_exists(other_username, :oname)",
                "created_at = if_not_exists(created_at, :now)",
                "updated_at = :now",
                "last_message = :last",
            ];
            let mut values = vec![
                (":gpk", s(keys::user_conversations(user.user_id))),
                (":gsk", s(keys::activity_sort(now, thread.conversation_id))),
                (":et", s(EntityType::ConversationMember.as_str())),
                (":cid", s(thread.conversation_id.to_string())),
                (":uid", s(user.user_id.to_string())),
                (":oid", s(other.user_id.to_string())),
                (":oname", s(other.username.clone())),
                (":now", ms(now)),
                (":last", last.clone()),
            ];
            if let Some(o) = thread.order_id {
                set.push("order_id = :order");
                values.push((":order", s(o.to_string())));
            }
            if let Some(sv) = thread.service_id {
                set.push("service_id = :service");
                values.push((":service", s(sv.to_string())));
            }
            let expression = if is_sender {
                set.push("first_sent_at = if_not_exists(first_sent_at, :now)");
                set.push("unread = if_not_exists(unread, :zero)");
                values.push((":zero", n(0)));
                format!("SET {}", set.join(", "))
            } else {
                if message.sender_id.is_some() {
                    set.push("enquiry_at = if_not_exists(enquiry_at, :now)");
                }
                values.push((":one", n(1)));
                format!("SET {} ADD unread :one", set.join(", "))
            };
            items.push(ops::update(
                &self.table,
                keys::conversation_member(user.user_id, thread.conversation_id),
                &expression,
                None,
                &[],
                values,
            )?);
        }
        items.extend(companions);
        match self.transact(items).await? {
            Ok(()) => Ok(true),
            Err(c) if c.failed(0) => Ok(false),
            Err(c) => Err(StoreError::Decode(format!("message not written: {c:?}"))),
        }
    }

    /// A user's conversations, most recent activity first.
    /// One message of a conversation.
    pub async fn get_message(
        &self,
        conversation: ConversationId,
        id: MessageId,
    ) -> Result<Option<Message>, StoreError> {
        let record: Option<MessageRecord> = self
            .get_record(keys::message(conversation, id), false)
            .await?;
        Ok(record.map(|r| r.message))
    }

    pub async fn list_conversations(
        &self,
        user: UserId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Membership>, ListError> {
        let page: Page<MembershipRecord> = self
            .query_page(PageQuery::newest(
                Some(keys::GSI1),
                keys::user_conversations(user),
                limit,
                cursor,
            ))
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.member).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// A conversation's messages, newest first.
    pub async fn list_messages(
        &self,
        conversation: ConversationId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Message>, ListError> {
        let page: Page<MessageRecord> = self
            .query_page(PageQuery {
                sort_prefix: Some(("SK", "MSG#".to_owned())),
                ..PageQuery::newest(
                    None,
                    keys::conversation_messages(conversation),
                    limit,
                    cursor,
                )
            })
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.message).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Everything up to now is read: unread to zero, the read time recorded (the other
    /// party's read receipts). `Ok(false)` when the user is not in the conversation.
    pub async fn mark_conversation_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.update_if(
            keys::conversation_member(user, conversation),
            "SET unread = :zero, last_read_at = :now",
            "attribute_exists(PK)",
            &[],
            vec![(":zero", n(0)), (":now", ms(now))],
        )
        .await
    }

    /// The user's conversations active since `from` (what the response metrics read).
    pub async fn conversations_since(
        &self,
        user: UserId,
        from: DateTime<Utc>,
    ) -> Result<Vec<Membership>, StoreError> {
        let records: Vec<MembershipRecord> = self
            .query_from(
                keys::GSI1,
                ("GSI1PK", "GSI1SK"),
                keys::user_conversations(user),
                from,
            )
            .await?;
        Ok(records.into_iter().map(|r| r.member).collect())
    }

    /// Counts one masked message against `user`; returns the new total.
    pub async fn add_offence(&self, user: UserId, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let key = keys::offences(user);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .update_expression(
                "ADD contact_offences :one SET entity_type = :et, user_id = :uid, last_at = :now",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":et", s(EntityType::Offences.as_str()))
            .expression_attribute_values(":uid", s(user.to_string()))
            .expression_attribute_values(":now", ms(now))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem", e))?;
        Ok(out
            .attributes
            .and_then(|a| match a.get("contact_offences") {
                Some(AttributeValue::N(v)) => v.parse().ok(),
                _ => None,
            })
            .unwrap_or(0))
    }

    /// Remembers an open WebSocket of `user` until `expires_at` (TTL).
    pub async fn put_connection(
        &self,
        connection: &str,
        user: UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = keys::ws_connection(connection);
        let item = std::collections::HashMap::from([
            (keys::PK.to_owned(), s(key.pk)),
            (keys::SK.to_owned(), s(key.sk)),
            ("GSI1PK".to_owned(), s(keys::user_connections(user))),
            (
                "GSI1SK".to_owned(),
                s(format!("{}#{connection}", keys::ms(now))),
            ),
            (
                "entity_type".to_owned(),
                s(EntityType::WsConnection.as_str()),
            ),
            ("connection_id".to_owned(), s(connection)),
            ("user_id".to_owned(), s(user.to_string())),
            ("connected_at".to_owned(), ms(now)),
            ("expires_at".to_owned(), n(expires_at.timestamp())),
        ]);
        self.put(item).await?;
        Ok(())
    }

    pub async fn delete_connection(&self, connection: &str) -> Result<(), StoreError> {
        let key = keys::ws_connection(connection);
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("DeleteItem", e))?;
        Ok(())
    }

    /// The ids of the user's open WebSockets (one Query; expired ones left out even before
    /// TTL removes them).
    pub async fn user_connections(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Conn {
            connection_id: String,
            expires_at: i64,
        }
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(keys::user_connections(user)))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Query", e))?;
        let mut ids = Vec::new();
        for item in out.items.unwrap_or_default() {
            let c: Conn = from_item(item)?;
            if c.expires_at > now.timestamp() {
                ids.push(c.connection_id);
            }
        }
        Ok(ids)
    }
}

/// A message item from the table's stream.
pub(super) fn decode_message(item: serde_dynamo::Item) -> Result<Message, StoreError> {
    Ok(super::plain::<MessageRecord>(item)?.message)
}
