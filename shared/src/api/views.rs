//! What clients see of our types.

use serde::Serialize;

use crate::app::auth::SignedIn;
use crate::app::payments::Started;
use crate::domain::Money;
use crate::domain::payment::{Channel, Gateway, Purpose};
use crate::payments::PayParams;

use crate::domain::{
    ClientProfile, FreelancerProfile, Role, User, UserStatus, UserType, VerificationStatus,
    VerificationSummary,
};

pub(crate) use crate::domain::rfc3339;
use crate::http::ApiError;
use crate::i18n::Text;

/// The 404 of a user who does not exist (or whom the caller may not see).
pub(crate) fn user_not_found() -> ApiError {
    ApiError::not_found("user.not_found", Text::new("用户不存在", "No such user"))
}

/// The caller's own account: everything, including contact details. Never shown to others.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnUserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_type: UserType,
    /// What the account may do: `buyer`, `seller` (after opening a seller profile), `admin`.
    pub roles: Vec<Role>,
    pub status: UserStatus,
    pub avatar: Option<String>,
    /// The avatar's public URL (a 500 × 500 JPEG).
    pub avatar_url: Option<String>,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub has_password: bool,
    pub freelancer_profile: Option<FreelancerProfile>,
    pub client_profile: Option<ClientProfile>,
    pub verification: Option<VerificationSummaryView>,
    /// A seller's merchant account at the split channel (微信支付 电商收付通), on
    /// `GET /users/profile` once they applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_merchant: Option<SubMerchantView>,
    pub notification_preferences: crate::domain::NotificationPreferences,
    pub created_at: String,
    pub updated_at: String,
}

/// The owner's view of their 实名认证: masked values only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerificationSummaryView {
    pub id: String,
    pub status: VerificationStatus,
    pub real_name: String,
    pub id_number: String,
    pub submitted_at: String,
    pub reviewed_at: Option<String>,
    pub reason: Option<String>,
}

impl From<&VerificationSummary> for VerificationSummaryView {
    fn from(v: &VerificationSummary) -> Self {
        VerificationSummaryView {
            id: v.id.clone(),
            status: v.status,
            real_name: v.real_name_masked.clone(),
            id_number: v.id_number_masked.clone(),
            submitted_at: rfc3339(&v.submitted_at),
            reviewed_at: v.reviewed_at.as_ref().map(rfc3339),
            reason: v.reason.clone(),
        }
    }
}

impl From<&User> for OwnUserView {
    fn from(u: &User) -> Self {
        OwnUserView {
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: u.phone.as_ref().map(|p| p.as_str().to_owned()),
            user_type: u.user_type,
            roles: u.roles.clone(),
            status: u.status,
            avatar: u.avatar.clone(),
            avatar_url: u
                .avatar
                .as_deref()
                .and_then(crate::config::public_media_url),
            is_verified: u.is_verified,
            email_verified: u.email_verified,
            phone_verified: u.phone_verified,
            has_password: u.password_hash.is_some(),
            freelancer_profile: u.freelancer_profile.clone(),
            client_profile: u.client_profile.clone(),
            verification: u.verification.as_ref().map(Into::into),
            sub_merchant: None,
            notification_preferences: u.notification_preferences,
            created_at: rfc3339(&u.created_at),
            updated_at: rfc3339(&u.updated_at),
        }
    }
}

/// The seller's sub-merchant account at the split channel, as they see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubMerchantView {
    pub status: crate::domain::split::SubMerchantStatus,
    /// WeChat Pay's merchant number, once active.
    pub sub_mchid: Option<String>,
    /// Where to sign the agreement (`needs_signing`): open it in WeChat.
    pub sign_url: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub merchant_shortname: String,
    pub submitted_at: String,
    pub updated_at: String,
}

impl From<&crate::domain::split::SubMerchant> for SubMerchantView {
    fn from(m: &crate::domain::split::SubMerchant) -> SubMerchantView {
        SubMerchantView {
            status: m.status,
            sub_mchid: m.sub_mchid.clone(),
            sign_url: m.sign_url.clone(),
            reason: m.reason.clone(),
            merchant_shortname: m.shortname.clone(),
            submitted_at: crate::domain::rfc3339(&m.submitted_at),
            updated_at: crate::domain::rfc3339(&m.updated_at),
        }
    }
}

/// What anybody may see of a user: no phone, email, WeChat id or identity details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PublicUserView {
    pub id: String,
    pub username: String,
    pub user_type: UserType,
    /// What the account may do: `buyer`, `seller` (after opening a seller profile), `admin`.
    pub roles: Vec<Role>,
    pub avatar: Option<String>,
    /// The avatar's public URL (a 500 × 500 JPEG).
    pub avatar_url: Option<String>,
    pub is_verified: bool,
    pub freelancer_profile: Option<serde_json::Value>,
    pub client_profile: Option<serde_json::Value>,
    pub member_since: String,
}

impl From<&User> for PublicUserView {
    fn from(u: &User) -> Self {
        let freelancer_profile = u.freelancer_profile.as_ref().map(|p| {
            serde_json::json!({
                "bio": p.bio,
                "skills": p.skills,
                "hourly_rate": p.hourly_rate,
                "portfolio_url": p.portfolio_url,
                "linkedin_url": p.linkedin_url,
                "location": p.location,
                "languages": p.languages,
                "education": p.education,
                "experience_years": p.experience_years,
                "rating": p.rating,
                "total_reviews": p.total_reviews,
                "is_featured": p.is_featured,
                "response_rate": p.response_rate,
                "response_time": p.response_time,
                "seller_level": p.seller_level,
            })
        });
        let client_profile = u.client_profile.as_ref().map(|p| {
            serde_json::json!({
                "company_name": p.company_name,
                "company_size": p.company_size,
                "industry": p.industry,
                "website": p.website,
                "location": p.location,
            })
        });
        PublicUserView {
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            user_type: u.user_type,
            roles: u.roles.clone(),
            avatar: u.avatar.clone(),
            avatar_url: u
                .avatar
                .as_deref()
                .and_then(crate::config::public_media_url),
            is_verified: u.is_verified,
            freelancer_profile,
            client_profile,
            member_since: rfc3339(&u.created_at),
        }
    }
}

/// A user in the operators' list: contact details masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminUserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_type: UserType,
    /// What the account may do: `buyer`, `seller` (after opening a seller profile), `admin`.
    pub roles: Vec<Role>,
    pub status: UserStatus,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub verification_status: Option<VerificationStatus>,
    /// Messages limited until then (suspected spam); `null` when not restricted.
    pub restricted_until: Option<String>,
    pub registered_ip: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&User> for AdminUserView {
    fn from(u: &User) -> Self {
        AdminUserView {
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: u.phone.as_ref().map(|p| p.masked()),
            restricted_until: u
                .restricted_until
                .filter(|t| *t > chrono::Utc::now())
                .as_ref()
                .map(rfc3339),
            registered_ip: u.registered_ip.clone(),
            user_type: u.user_type,
            roles: u.roles.clone(),
            status: u.status,
            is_verified: u.is_verified,
            email_verified: u.email_verified,
            phone_verified: u.phone_verified,
            verification_status: u.verification.as_ref().map(|v| v.status),
            created_at: rfc3339(&u.created_at),
            updated_at: rfc3339(&u.updated_at),
        }
    }
}

/// A list page in the envelope's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SignedInView {
    user: OwnUserView,
    access: String,
    refresh: String,
    token_type: &'static str,
    expires_in: i64,
}

impl From<SignedIn> for SignedInView {
    fn from(s: SignedIn) -> Self {
        SignedInView {
            user: OwnUserView::from(&s.user),
            access: s.tokens.access,
            refresh: s.tokens.refresh,
            token_type: s.tokens.token_type,
            expires_in: s.tokens.expires_in,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ChargeView {
    out_trade_no: String,
    method: Gateway,
    channel: Channel,
    amount: Money,
    status: &'static str,
    purpose: &'static str,
    order_id: Option<String>,
    expires_at: String,
    /// How to pay: `{kind: redirect, pay_url}`, `{kind: qr_code, code_url}` or
    /// `{kind: jsapi, appId, timeStamp, nonceStr, package, signType, paySign}`.
    payment: PayParams,
}

impl ChargeView {
    pub(crate) fn of(s: &Started) -> ChargeView {
        let c = &s.charge;
        ChargeView {
            out_trade_no: c.out_trade_no.clone(),
            method: c.gateway,
            channel: c.channel,
            amount: c.amount,
            status: c.status.as_str(),
            purpose: match c.purpose {
                Purpose::Topup => "topup",
                Purpose::Order(_) => "order",
            },
            order_id: c.order_id().map(|o| o.to_string()),
            expires_at: rfc3339(&c.expires_at),
            payment: s.params.clone(),
        }
    }
}

pub use crate::app::notifications::NotificationView;
