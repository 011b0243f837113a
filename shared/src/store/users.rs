use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::entity_type::EntityType;
use super::records::{SessionRecord, UniqueRecord, UserRecord};
use super::{Store, StoreError, from_item, keys, to_item};

use crate::domain::user::{Role, Social, UserType};
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

/// What [`Store::bind_social`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocialBind {
    Bound,
    /// The identity is bound to an account already.
    IdentityTaken,
    /// The account is bound to another identity of the same provider.
    AccountTaken,
}

/// What [`Store::move_phone`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneMove {
    Moved,
    /// Another account has the new number.
    Taken,
    /// The account changed since it was read: read it again.
    Stale,
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
                entity_type: EntityType::Unique,
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

    /// The account as last written (a strongly consistent read): what a read-modify-write
    /// reads again after losing a race, so that it does not read the version it lost to.
    pub async fn get_user_latest(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.get_record::<UserRecord>(keys::user(id), true)
            .await?
            .map(User::try_from)
            .transpose()
    }

    /// Users by id, in one `BatchGetItem` per 100 (any order; missing ones left out).
    pub async fn get_users(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        self.batch_get(ids.iter().map(|id| keys::user(*id)).collect(), false)
            .await?
            .into_iter()
            .map(|item| User::try_from(from_item::<UserRecord>(item)?))
            .collect()
    }
}

/// The operators' user list filters.
#[derive(Debug, Clone, Default)]
pub struct AdminUserFilter {
    pub user_type: Option<crate::domain::UserType>,
    pub verified: Option<bool>,
    /// `Some(true)`: banned only; `Some(false)`: not banned.
    pub banned: Option<bool>,
}

impl Store {
    /// The full-item write of a changed user, conditional on the version it was read at.
    pub(crate) fn replace_user_op(
        &self,
        user: &User,
        read_version: u64,
    ) -> Result<TransactWriteItem, StoreError> {
        super::ops::put(
            &self.table,
            to_item(&UserRecord::from(user))?,
            Some("attribute_exists(PK) AND version = :v"),
            vec![(":v", super::ops::n(read_version))],
        )
    }

    /// Writes `user` (whose `version` has already been bumped) if nobody changed it since it
    /// was read at `read_version`. Returns false on such a conflict.
    pub async fn replace_user(&self, user: &User, read_version: u64) -> Result<bool, StoreError> {
        let op = self.replace_user_op(user, read_version)?;
        Ok(self.transact(vec![op]).await?.is_ok())
    }

    /// Writes a changed user with companion items (audit entry, cleared strikes) together.
    pub async fn replace_user_with(
        &self,
        user: &User,
        read_version: u64,
        companions: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let mut ops = vec![self.replace_user_op(user, read_version)?];
        ops.extend(companions);
        Ok(self.transact(ops).await?.is_ok())
    }

    /// Sets a new password hash, refuses access tokens issued before `now`, and optionally
    /// uses up the emailed token that authorised it — in one transaction. `Ok(false)` when
    /// the token was already used or expired.
    pub async fn reset_password(
        &self,
        user: UserId,
        password_hash: &str,
        token: Option<(&str, &str)>,
        mark_email_verified: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        use super::ops::{n, s};
        let mut expr =
            "SET password_hash = :h, tokens_valid_after = :now, updated_at = :now ADD version :one"
                .to_owned();
        let mut values = vec![
            (":h", s(password_hash)),
            (":now", s(now.to_rfc3339())),
            (":one", n(1)),
        ];
        if mark_email_verified {
            expr = expr.replace("SET ", "SET email_verified = :t, ");
            values.push((":t", AttributeValue::Bool(true)));
        }
        let mut ops = vec![super::ops::update(
            &self.table,
            keys::user(user),
            &expr,
            Some("attribute_exists(PK)"),
            &[],
            values,
        )?];
        if let Some((purpose, hash)) = token {
            ops.push(self.consume_token_op(purpose, hash, now)?);
        }
        Ok(self.transact(ops).await?.is_ok())
    }

    /// Marks `email` verified on `user` and uses up the token, in one transaction. `Ok(false)`
    /// when the token was used already or the account's email has changed since it was sent.
    pub async fn verify_email(
        &self,
        user: UserId,
        email: &str,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        use super::ops::{n, s};
        let ops = vec![
            super::ops::update(
                &self.table,
                keys::user(user),
                "SET email_verified = :t, updated_at = :now ADD version :one",
                Some("attribute_exists(PK) AND email = :email"),
                &[],
                vec![
                    (":t", AttributeValue::Bool(true)),
                    (":now", s(now.to_rfc3339())),
                    (":one", n(1)),
                    (":email", s(email)),
                ],
            )?,
            self.consume_token_op("verify-email", token_hash, now)?,
        ];
        Ok(self.transact(ops).await?.is_ok())
    }

    /// Accounts written before roles existed (no `roles` attribute): their ids and types, from
    /// the users' index.
    pub async fn users_without_roles(&self) -> Result<Vec<(UserId, UserType)>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Legacy {
            id: String,
            user_type: UserType,
        }
        let items = self
            .query_all(
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .key_condition_expression("GSI1PK = :pk")
                    .filter_expression("attribute_not_exists(#roles)")
                    .projection_expression("id, user_type")
                    .expression_attribute_names("#roles", "roles")
                    .expression_attribute_values(
                        ":pk",
                        AttributeValue::S(keys::GSI1_USERS.to_owned()),
                    ),
            )
            .await?;
        items
            .into_iter()
            .map(|item| {
                let l: Legacy = from_item(item)?;
                let id =
                    l.id.parse()
                        .map_err(|_| StoreError::Decode(format!("user id {}", l.id)))?;
                Ok((id, l.user_type))
            })
            .collect()
    }

    /// Writes `roles` on an account that has none yet (a new version). `Ok(false)` when it has
    /// them already or is gone: running the migration again changes nothing.
    pub async fn set_initial_roles(
        &self,
        user: UserId,
        roles: &[Role],
    ) -> Result<bool, StoreError> {
        use super::ops::n;
        let list = roles
            .iter()
            .map(|r| AttributeValue::S(r.as_str().to_owned()))
            .collect();
        let op = super::ops::update(
            &self.table,
            keys::user(user),
            "SET #roles = :r ADD version :one",
            Some("attribute_exists(PK) AND attribute_not_exists(#roles)"),
            &[("#roles", "roles")],
            vec![(":r", AttributeValue::L(list)), (":one", n(1))],
        )?;
        Ok(self.transact(vec![op]).await?.is_ok())
    }

    pub async fn set_phone_verified(&self, user: UserId) -> Result<(), StoreError> {
        use super::ops::n;
        let key = keys::user(user);
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .update_expression("SET phone_verified = :t ADD version :one")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem", e))?;
        Ok(())
    }

    /// The transaction items that move a uniqueness guard: `new` taken for `user`
    /// (`attribute_not_exists`, first), `old` deleted if it is `user`'s.
    fn move_guard(
        &self,
        user: UserId,
        new: keys::Key,
        old: Option<keys::Key>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(TransactWriteItem, Option<TransactWriteItem>), StoreError> {
        let guard = UniqueRecord {
            pk: new.pk,
            sk: new.sk,
            entity_type: EntityType::Unique,
            user_id: user.to_string(),
            created_at: now,
            version: 1,
        };
        let take = self.put_new(to_item(&guard)?)?;
        let free = old
            .map(|key| {
                super::ops::delete(
                    &self.table,
                    key,
                    Some("user_id = :me"),
                    vec![(":me", super::ops::s(user.to_string()))],
                )
            })
            .transpose()?;
        Ok((take, free))
    }

    /// Moves `user` (read at `read_version`) to `new_phone`, verified, in one transaction: the
    /// new number's guard is taken (`attribute_not_exists`), the old number's guard (if it is
    /// ours) deleted so another account may use it, the user updated if unchanged since read.
    pub async fn move_phone(
        &self,
        user: UserId,
        old_phone: Option<&str>,
        new_phone: &str,
        read_version: u64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<PhoneMove, StoreError> {
        use super::ops::{n, s};
        let (take, free) = self.move_guard(
            user,
            keys::unique_phone(new_phone),
            old_phone.map(keys::unique_phone),
            now,
        )?;
        let mut ops = vec![
            take,
            super::ops::update(
                &self.table,
                keys::user(user),
                "SET phone = :p, phone_verified = :t, updated_at = :now ADD version :one",
                Some("attribute_exists(PK) AND version = :read"),
                &[],
                vec![
                    (":p", s(new_phone)),
                    (":t", AttributeValue::Bool(true)),
                    (":now", s(now.to_rfc3339())),
                    (":one", n(1)),
                    (":read", n(read_version)),
                ],
            )?,
        ];
        ops.extend(free);
        Ok(match self.transact(ops).await? {
            Ok(()) => PhoneMove::Moved,
            Err(c) if c.failed(0) => PhoneMove::Taken,
            Err(_) => PhoneMove::Stale,
        })
    }

    /// Moves `user` to `new_email`, verified, with the change token `token_hash`, in one
    /// transaction: the new address's guard taken, the token used up, the old address's guard
    /// (if ours) deleted. `Ok(false)`: the token was used already; `Err(Taken)` via `Ok(None)`.
    pub async fn move_email(
        &self,
        user: UserId,
        old_email: Option<&str>,
        new_email: &str,
        token: (&str, &str),
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<bool>, StoreError> {
        use super::ops::{n, s};
        let (take, free) = self.move_guard(
            user,
            keys::unique_email(new_email),
            old_email.map(keys::unique_email),
            now,
        )?;
        let mut ops = vec![
            take,
            self.consume_token_op(token.0, token.1, now)?,
            super::ops::update(
                &self.table,
                keys::user(user),
                "SET email = :e, email_verified = :t, updated_at = :now ADD version :one",
                Some("attribute_exists(PK)"),
                &[],
                vec![
                    (":e", s(new_email)),
                    (":t", AttributeValue::Bool(true)),
                    (":now", s(now.to_rfc3339())),
                    (":one", n(1)),
                ],
            )?,
        ];
        ops.extend(free);
        Ok(match self.transact(ops).await? {
            Ok(()) => Some(true),
            Err(c) if c.failed(0) => None,
            Err(_) => Some(false),
        })
    }

    /// The account a WeChat or Alipay identity is bound to.
    pub async fn social_binding(
        &self,
        social: Social,
        binding: &str,
    ) -> Result<Option<UserId>, StoreError> {
        self.get_record::<UniqueRecord>(keys::unique_social(social, binding), true)
            .await?
            .map(|r| {
                r.user_id.parse().map_err(|_| {
                    StoreError::Decode(format!("{} binding {binding}: user id", social.as_str()))
                })
            })
            .transpose()
    }

    /// The identity of `social` that `user` is bound to (`USER#{id}/WECHAT`), if any.
    pub async fn social_of(
        &self,
        social: Social,
        user: UserId,
    ) -> Result<Option<String>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Bound {
            binding: String,
        }
        Ok(self
            .get_record::<Bound>(keys::social_of(social, user), true)
            .await?
            .map(|b| b.binding))
    }

    /// Binds `user` to the identity `binding` of `social`, both ways, in one transaction.
    pub async fn bind_social(
        &self,
        social: Social,
        user: UserId,
        binding: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SocialBind, StoreError> {
        let guard = |key: keys::Key| UniqueRecord {
            pk: key.pk,
            sk: key.sk,
            entity_type: EntityType::Unique,
            user_id: user.to_string(),
            created_at: now,
            version: 1,
        };
        let mine = keys::social_of(social, user);
        let mut of_user = to_item(&guard(mine))?;
        of_user.insert("binding".into(), AttributeValue::S(binding.to_owned()));
        let ops = vec![
            self.put_new(to_item(&guard(keys::unique_social(social, binding)))?)?,
            self.put_new(of_user)?,
        ];
        Ok(match self.transact(ops).await? {
            Ok(()) => SocialBind::Bound,
            Err(c) if c.failed(0) => SocialBind::IdentityTaken,
            Err(_) => SocialBind::AccountTaken,
        })
    }

    /// Revokes every live session of a user (A6: one Query, then one update per session).
    /// Returns how many were revoked.
    pub async fn revoke_user_sessions(
        &self,
        user: UserId,
        reason: &str,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk AND begins_with(GSI1SK, :p)")
                .filter_expression("revoked = :f")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(keys::gsi1_user_sessions(user)),
                )
                .expression_attribute_values(":p", AttributeValue::S("SESSION#".to_owned()))
                .expression_attribute_values(":f", AttributeValue::Bool(false))
                .projection_expression("id")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", e))?;
            for item in out.items() {
                if let Some(Ok(id)) = item
                    .get("id")
                    .and_then(|v| v.as_s().ok())
                    .map(|s| s.parse::<crate::domain::SessionId>())
                    && self.revoke_session(id, reason).await?
                {
                    revoked += 1;
                }
            }
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return Ok(revoked),
            }
        }
    }

    /// Sets the avatar to `key` unless a newer upload already set it (keys sort by upload id).
    /// Returns false when the user is gone or has a newer avatar.
    /// Sets `avatar` unless a newer one is set: `None` when it was not set, else the avatar
    /// it replaced.
    pub async fn set_avatar(
        &self,
        user: UserId,
        avatar_key: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Option<String>>, StoreError> {
        let old = self
            .update_if_returning_old(
                keys::user(user),
                "SET avatar = :a, updated_at = :now ADD version :one",
                "attribute_exists(PK) AND (attribute_not_exists(avatar) OR attribute_type(avatar, :nt) OR avatar < :a)",
                &[],
                vec![
                    (":a", AttributeValue::S(avatar_key.to_owned())),
                    (":now", AttributeValue::S(now.to_rfc3339())),
                    (":nt", AttributeValue::S("NULL".to_owned())),
                    (":one", super::ops::n(1)),
                ],
            )
            .await?;
        Ok(old.map(|mut old| old.remove("avatar").and_then(|v| v.as_s().ok().cloned())))
    }

    /// Sets a freelancer's level (`ranking-updater`). A new version, so a profile edit
    /// read before it is retried rather than writing the old level back.
    pub async fn set_seller_level(
        &self,
        user: UserId,
        level: crate::domain::ranking::SellerLevel,
    ) -> Result<bool, StoreError> {
        self.update_if(
            keys::user(user),
            "SET freelancer_profile.seller_level = :level ADD version :one",
            "attribute_exists(freelancer_profile)",
            &[],
            vec![
                (":level", AttributeValue::S(level.as_str().to_owned())),
                (":one", super::ops::n(1)),
            ],
        )
        .await
    }

    /// The freelancer's response metrics (the ranking run's).
    pub async fn set_response_metrics(
        &self,
        user: UserId,
        rate: rust_decimal::Decimal,
        hours: u32,
    ) -> Result<bool, StoreError> {
        self.update_if(
            keys::user(user),
            "SET freelancer_profile.response_rate = :rate, freelancer_profile.response_time = :hours ADD version :one",
            "attribute_exists(freelancer_profile)",
            &[],
            vec![
                (":rate", AttributeValue::S(rate.to_string())),
                (":hours", super::ops::n(hours)),
                (":one", super::ops::n(1)),
            ],
        )
        .await
    }

    /// One page of users for the operators, newest first. Banned users come from their own
    /// sparse index; type and verification are filters.
    pub async fn list_users(
        &self,
        filter: &AdminUserFilter,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<super::Page<User>, super::ListError> {
        use crate::domain::UserStatus;
        let (index, partition) = if filter.banned == Some(true) {
            (keys::GSI2, keys::gsi2_users_by_status(UserStatus::Banned))
        } else {
            (keys::GSI1, keys::GSI1_USERS.to_owned())
        };
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let mut names = Vec::new();
        if let Some(t) = filter.user_type {
            conditions.push("user_type = :ut");
            values.push((":ut", AttributeValue::S(t.as_str().to_owned())));
        }
        if let Some(v) = filter.verified {
            conditions.push("is_verified = :v");
            values.push((":v", AttributeValue::Bool(v)));
        }
        if filter.banned == Some(false) {
            conditions.push("#st <> :banned");
            names.push(("#st", "status"));
            values.push((":banned", AttributeValue::S("banned".to_owned())));
        }
        let page = self
            .query_page::<UserRecord>(super::PageQuery {
                filter: (!conditions.is_empty()).then(|| conditions.join(" AND ")),
                values,
                names,
                ..super::PageQuery::newest(Some(index), partition, limit, cursor)
            })
            .await?;
        Ok(super::Page {
            items: page
                .items
                .into_iter()
                .map(User::try_from)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }
}
