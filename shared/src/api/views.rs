//! What clients see of our types.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::{ClientProfile, FreelancerProfile, User, UserStatus, UserType};

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The caller's own account: everything, including contact details. Never shown to others.
#[derive(Debug, Serialize)]
pub struct OwnUserView {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub user_type: UserType,
    pub status: UserStatus,
    pub avatar: Option<String>,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
    pub has_password: bool,
    pub freelancer_profile: Option<FreelancerProfile>,
    pub client_profile: Option<ClientProfile>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&User> for OwnUserView {
    fn from(u: &User) -> Self {
        OwnUserView {
            id: u.id.to_string(),
            username: u.username.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: u.phone.as_ref().map(|p| p.as_str().to_owned()),
            user_type: u.user_type,
            status: u.status,
            avatar: u.avatar.clone(),
            is_verified: u.is_verified,
            email_verified: u.email_verified,
            phone_verified: u.phone_verified,
            has_password: u.password_hash.is_some(),
            freelancer_profile: u.freelancer_profile.clone(),
            client_profile: u.client_profile.clone(),
            created_at: rfc3339(&u.created_at),
            updated_at: rfc3339(&u.updated_at),
        }
    }
}
