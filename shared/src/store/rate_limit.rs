use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::sessions::n;
use super::{Store, StoreError, keys};

/// A limit of `limit` hits per `window_secs` for one kind of action.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub name: &'static str,
    pub limit: u32,
    pub window_secs: i64,
}

impl RateLimit {
    /// Login: 5 attempts per 5 minutes per IP.
    pub const LOGIN_PER_IP: RateLimit = RateLimit {
        name: "login-ip",
        limit: 5,
        window_secs: 300,
    };
    /// SMS codes: 1 per minute per phone…
    pub const SMS_PER_PHONE_MINUTE: RateLimit = RateLimit {
        name: "sms-min",
        limit: 1,
        window_secs: 60,
    };
    /// …and 10 per day per phone.
    pub const SMS_PER_PHONE_DAY: RateLimit = RateLimit {
        name: "sms-day",
        limit: 10,
        window_secs: 86_400,
    };
    /// SMS pumping across many numbers from one address.
    pub const SMS_PER_IP_HOUR: RateLimit = RateLimit {
        name: "sms-ip",
        limit: 30,
        window_secs: 3_600,
    };
    /// Code sign-in attempts per IP (each code also dies after 5 wrong tries).
    pub const LOGIN_SMS_PER_IP: RateLimit = RateLimit {
        name: "login-sms-ip",
        limit: 10,
        window_secs: 300,
    };
    /// Password-reset requests and confirmations per IP.
    pub const RESET_PER_IP: RateLimit = RateLimit {
        name: "reset-ip",
        limit: 10,
        window_secs: 3_600,
    };
    /// Reset emails per address.
    pub const RESET_PER_EMAIL: RateLimit = RateLimit {
        name: "reset-email",
        limit: 3,
        window_secs: 3_600,
    };
    /// Data exports started per user (each reads the whole account).
    pub const EXPORTS_PER_USER_DAY: RateLimit = RateLimit {
        name: "export-day",
        limit: 10,
        window_secs: 86_400,
    };
    /// Verification emails per user.
    pub const VERIFY_EMAIL_PER_USER: RateLimit = RateLimit {
        name: "verify-email",
        limit: 3,
        window_secs: 3_600,
    };
    /// Avatar upload URLs per user.
    pub const AVATAR_PER_USER: RateLimit = RateLimit {
        name: "avatar",
        limit: 10,
        window_secs: 3_600,
    };
    /// 实名认证 submissions per user.
    pub const VERIFICATION_PER_USER: RateLimit = RateLimit {
        name: "verification",
        limit: 5,
        window_secs: 86_400,
    };
    /// Password changes (and wrong current passwords) per account per hour.
    pub const PASSWORD_CHANGE_PER_USER: RateLimit = RateLimit {
        name: "password-change",
        limit: 5,
        window_secs: 3_600,
    };
    /// Services a freelancer may create per hour (the seed's limit).
    pub const SERVICE_CREATE_PER_USER: RateLimit = RateLimit {
        name: "service-create",
        limit: 3,
        window_secs: 3_600,
    };
    /// Briefs a buyer may post per day (besides the open-brief limit).
    pub const BRIEF_CREATE_PER_USER: RateLimit = RateLimit {
        name: "brief-create",
        limit: 10,
        window_secs: 86_400,
    };
    /// Proposals a seller may send per day.
    pub const PROPOSAL_CREATE_PER_USER: RateLimit = RateLimit {
        name: "proposal-create",
        limit: 20,
        window_secs: 86_400,
    };
    /// Media uploads per service per hour.
    pub const SERVICE_MEDIA_PER_USER: RateLimit = RateLimit {
        name: "service-media",
        limit: 30,
        window_secs: 3_600,
    };
}

/// Refused: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after_secs: u64,
}

impl Store {
    /// Counts one hit against `limit` for `subject` in the current fixed window, in one
    /// conditional update: the counter never passes the limit, and the item expires (TTL) a
    /// minute after its window closes.
    pub async fn hit_rate_limit(
        &self,
        limit: RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), RateLimited>, StoreError> {
        let now_secs = now.timestamp();
        let window_start = now_secs - now_secs.rem_euclid(limit.window_secs);
        let window_end = window_start + limit.window_secs;
        let key = keys::rate(limit.name, subject, window_start);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .update_expression(
                "ADD hits :one SET expires_at = :exp, entity_type = :et, version = if_not_exists(version, :one)",
            )
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit.limit))
            .expression_attribute_values(":exp", n(window_end + 60))
            .expression_attribute_values(":et", AttributeValue::S(super::entity_type::EntityType::RateLimit.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(Err(RateLimited {
                    retry_after_secs: u64::try_from(window_end - now_secs).unwrap_or(1).max(1),
                }))
            }
            Err(e) => Err(StoreError::dynamo("UpdateItem", e)),
        }
    }
}
