//! Split payments through a licensed channel (微信支付 电商收付通). In this mode a buyer's money
//! is never the platform's: the payment lands, frozen, in the seller's own sub-merchant account
//! at WeChat Pay (二级商户); when the order's earnings clear, a split instruction (分账) moves the
//! commission to the platform's merchant account and unfreezes the rest for the seller; a
//! refund comes out of the frozen money. Our ledger still records every step, so that the
//! wallet view, reconciliation and tax reports read the same in both modes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::UserId;
use super::money::{Money, fen};

/// Where a seller's sub-merchant application (二级商户进件) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubMerchantStatus {
    /// Sent; WeChat Pay is checking the documents.
    Reviewing,
    /// The seller must confirm the bank account (a small payment WeChat Pay asks for).
    AccountNeedsVerify,
    /// Approved: the seller signs the agreement at `sign_url` (scan with WeChat).
    NeedsSigning,
    /// A sub-merchant: the seller's orders are paid into their own account.
    Active,
    /// Rejected, with the reason: submit again with the same number to correct it.
    Rejected,
    /// Frozen or cancelled by WeChat Pay.
    Closed,
}

impl SubMerchantStatus {
    /// WeChat Pay's `applyment_state`.
    pub fn from_applyment_state(s: &str) -> SubMerchantStatus {
        match s {
            "ACCOUNT_NEED_VERIFY" => SubMerchantStatus::AccountNeedsVerify,
            "NEED_SIGN" => SubMerchantStatus::NeedsSigning,
            "FINISH" => SubMerchantStatus::Active,
            "REJECTED" => SubMerchantStatus::Rejected,
            "FROZEN" | "CANCELED" => SubMerchantStatus::Closed,
            // CHECKING, AUDITING and anything new.
            _ => SubMerchantStatus::Reviewing,
        }
    }

    /// Will WeChat Pay still change it without the seller submitting again?
    pub fn is_settled(&self) -> bool {
        matches!(
            self,
            SubMerchantStatus::Active | SubMerchantStatus::Rejected | SubMerchantStatus::Closed
        )
    }
}

/// What WeChat Pay said about an application, read by the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplymentState {
    pub status: SubMerchantStatus,
    pub sub_mchid: Option<String>,
    pub sign_url: Option<String>,
    /// Why it was rejected (the fields and reasons WeChat Pay gave), or its description.
    pub reason: Option<String>,
}

/// How often an application still under review is asked about.
pub const APPLYMENT_CHECK_EVERY: Duration = Duration::minutes(10);

/// A seller's sub-merchant account at the split channel (one per seller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubMerchant {
    pub user_id: UserId,
    /// Ours (`out_request_no`): submitting again under it corrects a rejected application.
    pub out_request_no: String,
    pub applyment_id: Option<String>,
    pub status: SubMerchantStatus,
    /// The merchant number WeChat Pay gave, once active.
    pub sub_mchid: Option<String>,
    pub sign_url: Option<String>,
    pub reason: Option<String>,
    /// A short name shown to payers (`merchant_shortname`).
    pub shortname: String,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When to ask WeChat Pay again (until the status is settled).
    pub next_check_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl SubMerchant {
    /// The application number of `user`: one per seller, so that a corrected application
    /// replaces the rejected one.
    pub fn request_no(user: UserId) -> String {
        format!("GBSM{user}")
    }

    /// The merchant number payments go to, when the account is active.
    pub fn active(&self) -> Option<&str> {
        (self.status == SubMerchantStatus::Active)
            .then_some(self.sub_mchid.as_deref())
            .flatten()
    }

    /// The record after WeChat Pay answered with `state` at `now`.
    pub fn answered(&self, state: ApplymentState, now: DateTime<Utc>) -> SubMerchant {
        let settled = state.status.is_settled();
        SubMerchant {
            status: state.status,
            sub_mchid: state.sub_mchid.or_else(|| self.sub_mchid.clone()),
            sign_url: state.sign_url,
            reason: state.reason,
            updated_at: now,
            next_check_at: (!settled).then(|| now + APPLYMENT_CHECK_EVERY),
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// Which split-channel payment paid an order: the seller's sub-merchant and WeChat Pay's
/// transaction id, which the split instruction and refunds name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitTarget {
    pub sub_mchid: String,
    pub transaction_id: String,
}

/// What the clearance of an order paid through the split channel sends: the commission to the
/// platform, the rest unfrozen for the seller (分账 with `finish`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitInstruction {
    #[serde(flatten)]
    pub target: SplitTarget,
    /// The platform's commission on the released amount.
    #[serde(with = "fen")]
    pub commission: Money,
}

/// What the channel said about a split instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitOutcome {
    /// Done: the commission is the platform's and the rest is the seller's.
    Finished,
    /// Accepted, not done yet.
    Processing,
    /// Refused for good (for instance the split authorisation was withdrawn).
    Closed { reason: String },
    /// The channel has no instruction under our number.
    NotFound,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applyment_states_map_to_what_a_seller_sees_and_checks_stop_once_settled() {
        let now = Utc::now();
        let sm = SubMerchant {
            user_id: UserId::new(),
            out_request_no: "GBSM1".into(),
            applyment_id: Some("2000002124775691".into()),
            status: SubMerchantStatus::Reviewing,
            sub_mchid: None,
            sign_url: None,
            reason: None,
            shortname: "小王设计".into(),
            submitted_at: now,
            updated_at: now,
            next_check_at: Some(now),
            version: 1,
        };
        for (s, want) in [
            ("CHECKING", SubMerchantStatus::Reviewing),
            ("AUDITING", SubMerchantStatus::Reviewing),
            ("ACCOUNT_NEED_VERIFY", SubMerchantStatus::AccountNeedsVerify),
            ("NEED_SIGN", SubMerchantStatus::NeedsSigning),
            ("FINISH", SubMerchantStatus::Active),
            ("REJECTED", SubMerchantStatus::Rejected),
            ("FROZEN", SubMerchantStatus::Closed),
            ("CANCELED", SubMerchantStatus::Closed),
        ] {
            assert_eq!(SubMerchantStatus::from_applyment_state(s), want, "{s}");
        }
        let signing = sm.answered(
            ApplymentState {
                status: SubMerchantStatus::NeedsSigning,
                sub_mchid: None,
                sign_url: Some("https://pay.weixin.qq.com/sign".into()),
                reason: None,
            },
            now,
        );
        assert_eq!(signing.active(), None);
        assert_eq!(signing.next_check_at, Some(now + APPLYMENT_CHECK_EVERY));
        let active = signing.answered(
            ApplymentState {
                status: SubMerchantStatus::Active,
                sub_mchid: Some("1900000109".into()),
                sign_url: None,
                reason: None,
            },
            now,
        );
        assert_eq!(active.active(), Some("1900000109"));
        assert_eq!(active.next_check_at, None);
        assert_eq!(active.version, 3);
    }
}
