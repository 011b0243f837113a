//! Item shapes as stored. Money is integer fen; every item has `entity_type` and `version`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::{StoreError, keys};
use crate::domain::{
    ClientProfile, Email, FreelancerProfile, Money, Phone, Role, Session, User, UserStatus,
    UserType, Username, VerificationSummary,
};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct UserRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    /// Only on users who are not active: the operators' "banned" list.
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    pub entity_type: EntityType,
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_type: UserType,
    /// Absent on accounts written before roles existed (`devtool migrate-roles` writes it):
    /// read as the roles their type starts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Role>>,
    pub status: UserStatus,
    pub avatar: Option<String>,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub password_hash: Option<String>,
    pub freelancer_profile: Option<FreelancerProfileRecord>,
    pub client_profile: Option<ClientProfile>,
    /// Sellers' ratings of the account as a buyer (`ADD`ed with each seller's review).
    #[serde(default)]
    pub buyer_rating_sum: u64,
    #[serde(default)]
    pub buyer_reviews: u32,
    #[serde(default)]
    pub tokens_valid_after: Option<DateTime<Utc>>,
    #[serde(default)]
    pub verification: Option<VerificationSummary>,
    #[serde(default)]
    pub notification_preferences: crate::domain::NotificationPreferences,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct FreelancerProfileRecord {
    pub bio: String,
    pub skills: Vec<String>,
    pub hourly_rate_fen: Option<i64>,
    pub portfolio_url: Option<String>,
    pub linkedin_url: Option<String>,
    pub wechat_id: Option<String>,
    pub location: String,
    pub languages: Vec<crate::domain::profile::Language>,
    pub education: Vec<crate::domain::profile::Education>,
    pub experience_years: u32,
    /// Sum of the ratings of the public reviews (`stats-updater`); the average is derived.
    #[serde(default)]
    pub rating_sum: u64,
    pub total_reviews: u32,
    pub is_featured: bool,
    pub response_rate: Decimal,
    pub response_time: u32,
    #[serde(default)]
    pub seller_level: crate::domain::ranking::SellerLevel,
}

impl From<&FreelancerProfile> for FreelancerProfileRecord {
    fn from(p: &FreelancerProfile) -> Self {
        FreelancerProfileRecord {
            bio: p.bio.clone(),
            skills: p.skills.clone(),
            hourly_rate_fen: p.hourly_rate.map(|m| m.fen()),
            portfolio_url: p.portfolio_url.clone(),
            linkedin_url: p.linkedin_url.clone(),
            wechat_id: p.wechat_id.clone(),
            location: p.location.clone(),
            languages: p.languages.clone(),
            education: p.education.clone(),
            experience_years: p.experience_years,
            rating_sum: p.rating_sum,
            total_reviews: p.total_reviews,
            is_featured: p.is_featured,
            response_rate: p.response_rate,
            response_time: p.response_time,
            seller_level: p.seller_level,
        }
    }
}

impl From<FreelancerProfileRecord> for FreelancerProfile {
    fn from(r: FreelancerProfileRecord) -> Self {
        FreelancerProfile {
            bio: r.bio,
            skills: r.skills,
            hourly_rate: r.hourly_rate_fen.map(Money::from_fen),
            portfolio_url: r.portfolio_url,
            linkedin_url: r.linkedin_url,
            wechat_id: r.wechat_id,
            location: r.location,
            languages: r.languages,
            education: r.education,
            experience_years: r.experience_years,
            rating: crate::domain::review::average(r.rating_sum, u64::from(r.total_reviews)),
            rating_sum: r.rating_sum,
            total_reviews: r.total_reviews,
            is_featured: r.is_featured,
            response_rate: r.response_rate,
            response_time: r.response_time,
            seller_level: r.seller_level,
        }
    }
}

impl From<&User> for UserRecord {
    fn from(u: &User) -> Self {
        let key = keys::user(u.id);
        UserRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::GSI1_USERS.to_owned(),
            gsi1sk: keys::user_list_sort(u.created_at, u.id),
            gsi2pk: (u.status != UserStatus::Active).then(|| keys::gsi2_users_by_status(u.status)),
            gsi2sk: (u.status != UserStatus::Active)
                .then(|| keys::user_list_sort(u.created_at, u.id)),
            entity_type: EntityType::User,
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: u.phone.as_ref().map(|p| p.as_str().to_owned()),
            user_type: u.user_type,
            roles: Some(u.roles.clone()),
            status: u.status,
            avatar: u.avatar.clone(),
            is_verified: u.is_verified,
            email_verified: u.email_verified,
            phone_verified: u.phone_verified,
            password_hash: u.password_hash.clone(),
            freelancer_profile: u.freelancer_profile.as_ref().map(Into::into),
            buyer_rating_sum: u.buyer_rating.0,
            buyer_reviews: u.buyer_rating.1,
            client_profile: u.client_profile.clone(),
            tokens_valid_after: u.tokens_valid_after,
            verification: u.verification.clone(),
            notification_preferences: u.notification_preferences,
            registered_ip: u.registered_ip.clone(),
            restricted_until: u.restricted_until,
            created_at: u.created_at,
            updated_at: u.updated_at,
            version: u.version,
        }
    }
}

impl TryFrom<UserRecord> for User {
    type Error = StoreError;

    fn try_from(r: UserRecord) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::Decode(format!("user {}: bad {what}", r.id));
        Ok(User {
            id: r.id.parse().map_err(|_| bad("id"))?,
            username: Username::parse(&r.username).map_err(|_| bad("username"))?,
            email: r
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(|_| bad("email"))?,
            phone: r
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(|_| bad("phone"))?,
            roles: r.roles.unwrap_or_else(|| Role::initial(r.user_type)),
            user_type: r.user_type,
            status: r.status,
            avatar: r.avatar,
            is_verified: r.is_verified,
            email_verified: r.email_verified,
            phone_verified: r.phone_verified,
            password_hash: r.password_hash,
            freelancer_profile: r.freelancer_profile.map(Into::into),
            buyer_rating: (r.buyer_rating_sum, r.buyer_reviews),
            client_profile: r.client_profile,
            tokens_valid_after: r.tokens_valid_after,
            verification: r.verification,
            notification_preferences: r.notification_preferences,
            registered_ip: r.registered_ip,
            restricted_until: r.restricted_until,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct UniqueRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity_type: EntityType,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct SessionRecord {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    pub entity_type: EntityType,
    pub id: String,
    pub user_id: String,
    pub user_type: UserType,
    pub generation: u64,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    pub version: u64,
}

impl From<&Session> for SessionRecord {
    fn from(s: &Session) -> Self {
        let key = keys::session(s.id);
        SessionRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::gsi1_user_sessions(s.user_id),
            gsi1sk: format!("SESSION#{}", s.created_at.to_rfc3339()),
            entity_type: EntityType::Session,
            id: s.id.to_string(),
            user_id: s.user_id.to_string(),
            user_type: s.user_type,
            generation: s.generation,
            revoked: s.revoked,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            ip: s.ip.clone(),
            user_agent: s.user_agent.clone(),
            version: 1,
        }
    }
}

impl TryFrom<SessionRecord> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRecord) -> Result<Self, StoreError> {
        let bad = |what: &str| StoreError::Decode(format!("session {}: bad {what}", r.id));
        Ok(Session {
            id: r.id.parse().map_err(|_| bad("id"))?,
            user_id: r.user_id.parse().map_err(|_| bad("user_id"))?,
            user_type: r.user_type,
            generation: r.generation,
            revoked: r.revoked,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            ip: r.ip,
            user_agent: r.user_agent,
        })
    }
}

/// A user item from the table's stream.
pub(super) fn decode_user(item: serde_dynamo::Item) -> Result<User, StoreError> {
    User::try_from(super::plain::<UserRecord>(item)?)
}

/// A user as the store writes it.
pub(super) fn user_image(u: &User) -> Result<serde_dynamo::Item, StoreError> {
    super::to_image(&UserRecord::from(u))
}
