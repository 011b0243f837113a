use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::records::{SessionRecord, UniqueRecord, UserRecord};
use super::{Store, StoreError, keys, to_item};
use crate::domain::{Email, Phone, Session, User, UserId, Username};

/// The fields that must be unique across accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Username,
    Email,
    Phone,
}

impl UniqueField {
    pub fn name(&self) -> &'static str {
        match self {
            UniqueField::Username => "username",
            UniqueField::Email => "email",
            UniqueField::Phone => "phone",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("already taken: {0:?}")]
    Taken(Vec<UniqueField>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a person types to sign in, already told apart.
#[derive(Debug, Clone)]
pub enum LoginKey {
    Username(Username),
    Email(Email),
    Phone(Phone),
}

impl Store {
    /// Creates the user, its uniqueness guards and its first session in one transaction:
    /// either all are written or none is.
    pub async fn create_user_with_session(
        &self,
        user: &User,
        session: &Session,
    ) -> Result<(), CreateUserError> {
        let mut fields = vec![(
            UniqueField::Username,
            keys::unique_username(&user.username.canonical()),
        )];
        if let Some(email) = &user.email {
            fields.push((UniqueField::Email, keys::unique_email(email.as_str())));
        }
        if let Some(phone) = &user.phone {
            fields.push((UniqueField::Phone, keys::unique_phone(phone.as_str())));
        }
        let mut items = vec![self.put_new(to_item(&UserRecord::from(user))?)?];
        for (_, key) in &fields {
            let guard = UniqueRecord {
                pk: key.pk.clone(),
                sk: key.sk.clone(),
                entity_type: "unique".to_owned(),
                user_id: user.id.to_string(),
                created_at: user.created_at,
                version: 1,
            };
            items.push(self.put_new(to_item(&guard)?)?);
        }
        items.push(self.put_new(to_item(&SessionRecord::from(session))?)?);

        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => {
                if let TransactWriteItemsError::TransactionCanceledException(tc) = e.err() {
                    // Reasons come back in item order: [user, guards…, session].
                    let taken: Vec<UniqueField> = tc
                        .cancellation_reasons()
                        .iter()
                        .skip(1)
                        .zip(fields.iter())
                        .filter(|(r, _)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(_, (f, _))| *f)
                        .collect();
                    if !taken.is_empty() {
                        return Err(CreateUserError::Taken(taken));
                    }
                }
                Err(StoreError::dynamo("TransactWriteItems", e.into_err()).into())
            }
            Err(e) => Err(StoreError::dynamo("TransactWriteItems", e).into()),
        }
    }

    fn put_new(
        &self,
        item: std::collections::HashMap<String, AttributeValue>,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The user id a username, email or phone belongs to, from its uniqueness guard.
    pub async fn find_user_id(&self, login: &LoginKey) -> Result<Option<UserId>, StoreError> {
        let key = match login {
            LoginKey::Username(u) => keys::unique_username(&u.canonical()),
            LoginKey::Email(e) => keys::unique_email(e.as_str()),
            LoginKey::Phone(p) => keys::unique_phone(p.as_str()),
        };
        self.get_record::<UniqueRecord>(key, false)
            .await?
            .map(|guard| {
                guard.user_id.parse().map_err(|_| {
                    StoreError::Decode(format!("guard points at bad id {}", guard.user_id))
                })
            })
            .transpose()
    }

    pub async fn get_user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.get_record::<UserRecord>(keys::user(id), false)
            .await?
            .map(User::try_from)
            .transpose()
    }
}
