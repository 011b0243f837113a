//! Users and their profiles.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Email, Money, Phone, UserId, Username};

/// What a user is on the platform. Chosen at registration (freelancer or client); admins are
/// made by operators only. Never writable through the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserType {
    Freelancer,
    Client,
    Admin,
}

impl UserType {
    pub fn as_str(&self) -> &'static str {
        match self {
            UserType::Freelancer => "freelancer",
            UserType::Client => "client",
            UserType::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<UserType> {
        match s {
            "freelancer" => Some(UserType::Freelancer),
            "client" => Some(UserType::Client),
            "admin" => Some(UserType::Admin),
            _ => None,
        }
    }
}

/// What an account may do. One person buys and sells with one account: every client and
/// freelancer is a buyer, a seller once they open a seller profile (a freelancer from the
/// start); operators are admins only.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Buyer,
    Seller,
    Admin,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Buyer => "buyer",
            Role::Seller => "seller",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "buyer" => Some(Role::Buyer),
            "seller" => Some(Role::Seller),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The roles an account registered as `user_type` starts with (and what an account
    /// written before roles existed has).
    pub fn initial(user_type: UserType) -> Vec<Role> {
        match user_type {
            UserType::Freelancer => vec![Role::Buyer, Role::Seller],
            UserType::Client => vec![Role::Buyer],
            UserType::Admin => vec![Role::Admin],
        }
    }
}

/// A provider people sign in with instead of a password: each of its identities is bound to
/// at most one account, and an account to at most one identity of each provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Social {
    /// 微信登录.
    Wechat,
    /// 支付宝登录.
    Alipay,
}

impl Social {
    pub const ALL: [Social; 2] = [Social::Wechat, Social::Alipay];

    /// The name in error codes (`wechat.invalid_code`) and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Social::Wechat => "wechat",
            Social::Alipay => "alipay",
        }
    }

    /// The name in the table's keys (`UNIQUE#WECHAT#…`, `USER#{id}/ALIPAY`).
    pub fn key_part(&self) -> &'static str {
        match self {
            Social::Wechat => "WECHAT",
            Social::Alipay => "ALIPAY",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    /// Suspended by an operator; refused on every authenticated request.
    Banned,
    /// Closed by its owner (PIPL deletion); refused like a ban.
    Deactivated,
}

impl UserStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Banned => "banned",
            UserStatus::Deactivated => "deactivated",
        }
    }
}

/// Where a user's 实名认证 stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Pending,
    Approved,
    Rejected,
}

impl VerificationStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            VerificationStatus::Pending => "pending",
            VerificationStatus::Approved => "approved",
            VerificationStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<VerificationStatus> {
        match s {
            "pending" => Some(VerificationStatus::Pending),
            "approved" => Some(VerificationStatus::Approved),
            "rejected" => Some(VerificationStatus::Rejected),
            _ => None,
        }
    }
}

/// The latest 实名认证 submission as the owner sees it, embedded in the user so the profile
/// stays one read. Holds only masked values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationSummary {
    pub id: String,
    pub status: VerificationStatus,
    pub real_name_masked: String,
    pub id_number_masked: String,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// The seed's freelancer profile. `rating`, `total_reviews`, `is_featured`, `response_rate`,
/// `response_time` and `seller_level` are computed by the platform and never written by the
/// user. `rating` is derived from the exact `rating_sum` (see `domain::review::average`).
/// `response_rate` (percent) and `response_time` (hours) keep their defaults until messaging
/// exists; `docs/ranking.md` defines them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FreelancerProfile {
    pub bio: String,
    pub skills: Vec<String>,
    pub hourly_rate: Option<Money>,
    pub portfolio_url: Option<String>,
    pub linkedin_url: Option<String>,
    pub wechat_id: Option<String>,
    pub location: String,
    pub languages: Vec<crate::domain::profile::Language>,
    pub education: Vec<crate::domain::profile::Education>,
    pub experience_years: u32,
    pub rating: Decimal,
    #[serde(skip)]
    pub rating_sum: u64,
    pub total_reviews: u32,
    pub is_featured: bool,
    pub response_rate: Decimal,
    /// Hours.
    pub response_time: u32,
    #[serde(default)]
    pub seller_level: SellerLevel,
}

impl Default for FreelancerProfile {
    fn default() -> Self {
        FreelancerProfile {
            bio: String::new(),
            skills: Vec::new(),
            hourly_rate: None,
            portfolio_url: None,
            linkedin_url: None,
            wechat_id: None,
            location: String::new(),
            languages: Vec::new(),
            education: Vec::new(),
            experience_years: 0,
            rating: Decimal::new(0, 2),
            rating_sum: 0,
            total_reviews: 0,
            is_featured: false,
            response_rate: Decimal::new(0, 2),
            response_time: 0,
            seller_level: SellerLevel::New,
        }
    }
}

/// The seed's client profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientProfile {
    pub company_name: Option<String>,
    pub company_size: Option<String>,
    pub industry: Option<String>,
    pub website: Option<String>,
    pub location: String,
    pub budget_range: Option<String>,
}

/// A user account with the profile that goes with its type.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    /// What the account registered as. What it may do is [`User::roles`].
    pub user_type: UserType,
    /// Sorted, without repeats.
    pub roles: Vec<Role>,
    pub status: UserStatus,
    pub avatar: Option<String>,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    /// Argon2id PHC string. `None` for accounts that only ever signed in by SMS code.
    pub password_hash: Option<String>,
    pub freelancer_profile: Option<FreelancerProfile>,
    pub client_profile: Option<ClientProfile>,
    /// Sellers' reviews of this account as a buyer: the sum of their ratings and how many.
    pub buyer_rating: (u64, u32),
    /// Access tokens issued before this instant are refused (password reset, ban).
    pub tokens_valid_after: Option<DateTime<Utc>>,
    pub verification: Option<VerificationSummary>,
    pub notification_preferences: NotificationPreferences,
    /// Where the account was registered from (the abuse rules count accounts per address).
    pub registered_ip: Option<String>,
    /// Until then the user may send only a few messages an hour (suspected spam); lifted by
    /// an operator or by time.
    pub restricted_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// Whether the user wants important notifications (new order, delivery, dispute) by email
/// and by SMS while they are offline. Both on unless turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationPreferences {
    pub email: bool,
    pub sms: bool,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        NotificationPreferences {
            email: true,
            sms: true,
        }
    }
}

impl User {
    /// A new active account of the given type with the empty profile for that type.
    pub fn new(
        username: Username,
        email: Option<Email>,
        phone: Option<Phone>,
        user_type: UserType,
        password_hash: Option<String>,
        now: DateTime<Utc>,
    ) -> User {
        User {
            id: UserId::new(),
            username,
            email,
            phone,
            user_type,
            roles: Role::initial(user_type),
            status: UserStatus::Active,
            avatar: None,
            is_verified: false,
            email_verified: false,
            phone_verified: false,
            password_hash,
            freelancer_profile: (user_type == UserType::Freelancer)
                .then(FreelancerProfile::default),
            client_profile: (user_type == UserType::Client).then(ClientProfile::default),
            buyer_rating: (0, 0),
            tokens_valid_after: None,
            verification: None,
            notification_preferences: NotificationPreferences::default(),
            registered_ip: None,
            restricted_until: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == UserStatus::Active
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the account may publish services and take orders.
    pub fn is_seller(&self) -> bool {
        self.has(Role::Seller)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }

    /// Whether an automatic or operator restriction is in force at `now`.
    pub fn is_restricted(&self, now: DateTime<Utc>) -> bool {
        self.restricted_until.is_some_and(|until| until > now)
    }
}

/// Fiverr-style seller levels, shown on profiles and services.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SellerLevel {
    #[default]
    New,
    LevelOne,
    LevelTwo,
    TopRated,
}

impl SellerLevel {
    pub fn as_str(&self) -> &'static str {
        match self {
            SellerLevel::New => "new",
            SellerLevel::LevelOne => "level_one",
            SellerLevel::LevelTwo => "level_two",
            SellerLevel::TopRated => "top_rated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_user_gets_the_profile_of_its_type() {
        let name = Username::parse("li_lei").unwrap();
        let f = User::new(
            name.clone(),
            None,
            None,
            UserType::Freelancer,
            None,
            Utc::now(),
        );
        assert!(f.freelancer_profile.is_some() && f.client_profile.is_none());
        let c = User::new(name.clone(), None, None, UserType::Client, None, Utc::now());
        assert!(c.client_profile.is_some() && c.freelancer_profile.is_none());
        let a = User::new(name, None, None, UserType::Admin, None, Utc::now());
        assert!(a.client_profile.is_none() && a.freelancer_profile.is_none());
        assert_eq!(f.status, UserStatus::Active);
        assert_eq!(f.version, 1);
    }
}

/// A sensitive change to an account that its owner is told about (so that one they did not
/// make is noticed at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountChange {
    /// A new password (changed while signed in, or reset).
    Password,
    /// The account moved to another phone number.
    Phone,
    /// The account moved to another e-mail address.
    Email,
}
