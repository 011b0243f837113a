//! Money in and out through gateways: charges (a top-up, or an order paid by Alipay or WeChat
//! Pay), what a verified gateway notification says, and withdrawals with their rules.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::ids::{OrderId, UserId, WithdrawalId};
use super::money::{Money, fen};
use super::stamped_number;

/// A payment gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gateway {
    Alipay,
    Wechat,
}

impl Gateway {
    pub fn as_str(&self) -> &'static str {
        match self {
            Gateway::Alipay => "alipay",
            Gateway::Wechat => "wechat",
        }
    }
}

impl fmt::Display for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Gateway {
    type Err = ();

    fn from_str(s: &str) -> Result<Gateway, ()> {
        match s {
            "alipay" => Ok(Gateway::Alipay),
            "wechat" => Ok(Gateway::Wechat),
            _ => Err(()),
        }
    }
}

/// How the payer meets the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Alipay on a computer: a page on Alipay's site (`alipay.trade.page.pay`).
    Page,
    /// Alipay in a phone browser (`alipay.trade.wap.pay`).
    Wap,
    /// WeChat Pay by scanning a QR code (`code_url`).
    Native,
    /// WeChat Pay inside WeChat (Official Account pages and the mini-program): needs the
    /// payer's `openid`.
    Jsapi,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Page => "page",
            Channel::Wap => "wap",
            Channel::Native => "native",
            Channel::Jsapi => "jsapi",
        }
    }

    /// The channel asked for (or the gateway's default), if the gateway has it.
    pub fn of(gateway: Gateway, asked: Option<&str>) -> Option<Channel> {
        match (gateway, asked) {
            (Gateway::Alipay, None | Some("page")) => Some(Channel::Page),
            (Gateway::Alipay, Some("wap")) => Some(Channel::Wap),
            (Gateway::Wechat, None | Some("native")) => Some(Channel::Native),
            (Gateway::Wechat, Some("jsapi")) => Some(Channel::Jsapi),
            _ => None,
        }
    }
}

/// What a charge pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "purpose", content = "order_id")]
pub enum Purpose {
    /// Money into the wallet.
    Topup,
    /// An order, straight into escrow.
    Order(OrderId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeStatus {
    /// Waiting for the payer.
    Pending,
    /// Paid and applied: the wallet credited, or the order paid into escrow.
    Paid,
    /// Paid for an order that could no longer take it (paid another way, cancelled, expired):
    /// the money went to the payer's wallet instead (before refunds to the original payment).
    Credited,
    /// Paid for an order that could no longer take it: refunded to the original payment.
    Refunded,
}

impl ChargeStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChargeStatus::Pending => "pending",
            ChargeStatus::Paid => "paid",
            ChargeStatus::Credited => "credited",
            ChargeStatus::Refunded => "refunded",
        }
    }
}

/// Top-ups: at least 1.00, at most 50,000.00 at a time.
pub const TOPUP_MIN_FEN: i64 = 100;
pub const TOPUP_MAX_FEN: i64 = 5_000_000;
/// How long a top-up can be paid.
pub const TOPUP_PAY_WITHIN: Duration = Duration::minutes(30);

/// One attempt to take money in through a gateway, under our `out_trade_no`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub out_trade_no: String,
    pub user_id: UserId,
    #[serde(flatten)]
    pub purpose: Purpose,
    pub gateway: Gateway,
    pub channel: Channel,
    /// The payer's WeChat `openid` (JSAPI payments only).
    #[serde(default)]
    pub openid: Option<String>,
    #[serde(with = "fen")]
    pub amount: Money,
    /// What the payer sees at the gateway.
    pub subject: String,
    pub status: ChargeStatus,
    /// The gateway's transaction id, once paid.
    pub trade_no: Option<String>,
    /// Paid through the split channel into this seller's sub-merchant account (电商收付通).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The gateway refuses payment after this.
    pub expires_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
}

impl Charge {
    /// `GB` + China time + 10 characters: 26 characters, within both gateways' 32-character
    /// limit and alphabet.
    pub fn new_trade_no(now: DateTime<Utc>, random: u128) -> String {
        stamped_number("GB", now, random, 10)
    }

    pub fn order_id(&self) -> Option<OrderId> {
        match self.purpose {
            Purpose::Topup => None,
            Purpose::Order(id) => Some(id),
        }
    }
}

/// What a verified notification from a gateway says: this trade of ours was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayNotice {
    pub gateway: Gateway,
    pub out_trade_no: String,
    /// The gateway's own transaction id (Alipay `trade_no`, WeChat `transaction_id`).
    pub trade_no: String,
    pub amount: Money,
    /// The seller's sub-merchant the payment went to (a split-channel payment).
    pub sub_mchid: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Withdrawals

/// Where a withdrawal is paid out to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PayoutMethod {
    /// An Alipay account (the phone number or email it logs in with).
    Alipay,
    /// The WeChat user's `openid` under our app.
    Wechat,
    /// A bank card; paid by an operator through the bank, then confirmed here.
    Bank,
}

impl PayoutMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            PayoutMethod::Alipay => "alipay",
            PayoutMethod::Wechat => "wechat",
            PayoutMethod::Bank => "bank",
        }
    }

    pub fn parse(s: &str) -> Option<PayoutMethod> {
        match s {
            "alipay" => Some(PayoutMethod::Alipay),
            "wechat" => Some(PayoutMethod::Wechat),
            "bank" => Some(PayoutMethod::Bank),
            _ => None,
        }
    }

    /// The account in canonical form, if it is one this method can pay.
    pub fn normalize_account(&self, account: &str) -> Option<String> {
        let a: String = account.chars().filter(|c| !c.is_whitespace()).collect();
        let ok = match self {
            PayoutMethod::Alipay => {
                let phone =
                    a.len() == 11 && a.starts_with('1') && a.bytes().all(|b| b.is_ascii_digit());
                phone || email_address::EmailAddress::is_valid(&a)
            }
            PayoutMethod::Wechat => {
                (6..=64).contains(&a.len())
                    && a.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            PayoutMethod::Bank => {
                (12..=19).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_digit())
            }
        };
        ok.then_some(a)
    }

    /// What may be shown: enough for the owner to recognise the account.
    pub fn mask(&self, account: &str) -> String {
        let chars: Vec<char> = account.chars().collect();
        match self {
            PayoutMethod::Alipay if account.contains('@') => {
                let (name, domain) = account.split_once('@').unwrap_or((account, ""));
                let first: String = name.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            PayoutMethod::Alipay => {
                let head: String = chars.iter().take(3).collect();
                let tail: String = chars.iter().skip(chars.len().saturating_sub(4)).collect();
                format!("{head}****{tail}")
            }
            PayoutMethod::Wechat | PayoutMethod::Bank => {
                let tail: String = chars.iter().skip(chars.len().saturating_sub(4)).collect();
                format!("****{tail}")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalStatus {
    /// Waiting for an operator; the money is frozen.
    Pending,
    /// Approved; the transfer is under way at the gateway.
    Processing,
    /// Paid out and posted.
    Paid,
    /// The gateway refused the transfer; the money is back in the wallet.
    Failed,
    /// An operator refused it; the money is back in the wallet.
    Rejected,
}

impl WithdrawalStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            WithdrawalStatus::Pending => "pending",
            WithdrawalStatus::Processing => "processing",
            WithdrawalStatus::Paid => "paid",
            WithdrawalStatus::Failed => "failed",
            WithdrawalStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<WithdrawalStatus> {
        [
            WithdrawalStatus::Pending,
            WithdrawalStatus::Processing,
            WithdrawalStatus::Paid,
            WithdrawalStatus::Failed,
            WithdrawalStatus::Rejected,
        ]
        .into_iter()
        .find(|w| w.as_str() == s)
    }
}

pub const WITHDRAW_MIN_FEN: i64 = 1_000;
pub const WITHDRAW_MAX_FEN: i64 = 1_000_000;
const WITHDRAW_FEE_MIN_FEN: i64 = 100;
const WITHDRAW_FEE_MAX_FEN: i64 = 5_000;
/// 2%.
const WITHDRAW_FEE_RATE: Decimal = Decimal::from_parts(2, 0, 0, false, 2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawalRuleError {
    #[error("below the minimum of 10.00")]
    TooSmall,
    #[error("above the maximum of 10,000.00 per request")]
    TooLarge,
    #[error("the withdrawal is {0:?}")]
    Status(WithdrawalStatus),
}

/// The fee on a withdrawal of `amount`: 2%, rounded half-up to the fen, at least 1.00 and at
/// most 50.00. It is taken out of the amount: the payee receives `amount − fee`.
fn withdrawal_fee(amount: Money) -> Money {
    let raw = (amount.decimal() * WITHDRAW_FEE_RATE)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let fen = i64::try_from(raw * Decimal::ONE_HUNDRED).unwrap_or(WITHDRAW_FEE_MAX_FEN);
    Money::from_fen(fen.clamp(WITHDRAW_FEE_MIN_FEN, WITHDRAW_FEE_MAX_FEN))
}

/// A request to take money out, with the money frozen until it is paid or returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    pub id: WithdrawalId,
    pub user_id: UserId,
    pub username: String,
    /// Taken from the wallet.
    #[serde(with = "fen")]
    pub amount: Money,
    #[serde(with = "fen")]
    pub fee: Money,
    /// Paid to the account: `amount − fee`.
    #[serde(with = "fen")]
    pub net: Money,
    pub method: PayoutMethod,
    pub account_masked: String,
    /// The account, sealed with the personal-information key.
    pub account_sealed: String,
    pub status: WithdrawalStatus,
    /// The gateway's transfer id (or the operator's bank reference).
    pub payout_ref: Option<String>,
    /// Why the gateway refused, or why an operator rejected.
    pub reason: Option<String>,
    pub reviewer_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl Withdrawal {
    /// A new pending withdrawal, if `amount` is within the limits.
    #[allow(clippy::too_many_arguments)]
    pub fn request(
        user_id: UserId,
        username: &str,
        amount: Money,
        method: PayoutMethod,
        account: &str,
        account_sealed: String,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal, WithdrawalRuleError> {
        if amount.fen() < WITHDRAW_MIN_FEN {
            return Err(WithdrawalRuleError::TooSmall);
        }
        if amount.fen() > WITHDRAW_MAX_FEN {
            return Err(WithdrawalRuleError::TooLarge);
        }
        let fee = withdrawal_fee(amount);
        let net = Money::from_fen(amount.fen() - fee.fen());
        Ok(Withdrawal {
            id: WithdrawalId::new(),
            user_id,
            username: username.to_owned(),
            amount,
            fee,
            net,
            method,
            account_masked: method.mask(account),
            account_sealed,
            status: WithdrawalStatus::Pending,
            payout_ref: None,
            reason: None,
            reviewer_id: None,
            created_at: now,
            reviewed_at: None,
            completed_at: None,
            version: 1,
        })
    }

    fn next(&self, status: WithdrawalStatus, now: DateTime<Utc>) -> Withdrawal {
        let mut w = self.clone();
        w.status = status;
        w.version += 1;
        if w.reviewed_at.is_none() {
            w.reviewed_at = Some(now);
        }
        w
    }

    fn status_in(&self, allowed: &[WithdrawalStatus]) -> Result<(), WithdrawalRuleError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(WithdrawalRuleError::Status(self.status))
        }
    }

    /// An operator approves: the transfer starts. Approving one already processing asks the
    /// gateway again (transfers are idempotent on our id).
    pub fn approve(
        &self,
        admin: UserId,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal, WithdrawalRuleError> {
        self.status_in(&[WithdrawalStatus::Pending, WithdrawalStatus::Processing])?;
        let mut w = self.next(WithdrawalStatus::Processing, now);
        w.reviewer_id = Some(admin);
        Ok(w)
    }

    /// An operator refuses; the money goes back.
    pub fn reject(
        &self,
        admin: UserId,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal, WithdrawalRuleError> {
        self.status_in(&[WithdrawalStatus::Pending])?;
        let mut w = self.next(WithdrawalStatus::Rejected, now);
        w.reviewer_id = Some(admin);
        w.reason = Some(reason);
        w.completed_at = Some(now);
        Ok(w)
    }

    /// The gateway paid it.
    pub fn paid(
        &self,
        payout_ref: String,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal, WithdrawalRuleError> {
        self.status_in(&[WithdrawalStatus::Processing])?;
        let mut w = self.next(WithdrawalStatus::Paid, now);
        w.payout_ref = Some(payout_ref);
        w.completed_at = Some(now);
        Ok(w)
    }

    /// The gateway refused it for good; the money goes back.
    pub fn failed(
        &self,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal, WithdrawalRuleError> {
        self.status_in(&[WithdrawalStatus::Processing])?;
        let mut w = self.next(WithdrawalStatus::Failed, now);
        w.reason = Some(reason);
        w.completed_at = Some(now);
        Ok(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn the_fee_is_two_percent_between_one_and_fifty_yuan() {
        for (amount, fee) in [
            ("10.00", "1.00"),
            ("49.99", "1.00"),
            ("50.00", "1.00"),
            ("50.25", "1.01"),
            ("100.00", "2.00"),
            ("123.45", "2.47"),
            ("2500.00", "50.00"),
            ("2499.99", "50.00"),
            ("2474.75", "49.50"),
            ("10000.00", "50.00"),
        ] {
            assert_eq!(withdrawal_fee(yuan(amount)), yuan(fee), "{amount}");
        }
    }

    #[test]
    fn amounts_outside_the_limits_are_refused_and_net_plus_fee_is_the_amount() {
        let req = |a: &str| {
            Withdrawal::request(
                UserId::new(),
                "u",
                yuan(a),
                PayoutMethod::Bank,
                "6222020200112233445",
                String::new(),
                Utc::now(),
            )
        };
        assert_eq!(req("9.99").unwrap_err(), WithdrawalRuleError::TooSmall);
        assert_eq!(req("10000.01").unwrap_err(), WithdrawalRuleError::TooLarge);
        for a in ["10.00", "123.45", "10000.00"] {
            let w = req(a).unwrap();
            assert_eq!(w.net.fen() + w.fee.fen(), w.amount.fen());
            assert_eq!(w.account_masked, "****3445");
        }
    }

    #[test]
    fn accounts_are_checked_per_method_and_masked() {
        let a = PayoutMethod::Alipay;
        assert_eq!(
            a.normalize_account("138 0013 8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(a.mask("13800138000"), "138****8000");
        assert_eq!(a.mask("lin.xiao@example.cn"), "l***@example.cn");
        assert!(a.normalize_account("not an account").is_none());
        assert!(
            PayoutMethod::Wechat
                .normalize_account("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
                .is_some()
        );
        assert!(PayoutMethod::Wechat.normalize_account("o@x").is_none());
        assert!(PayoutMethod::Bank.normalize_account("62220202").is_none());
    }

    #[test]
    fn withdrawals_move_through_their_states_only_forward() {
        let admin = UserId::new();
        let now = Utc::now();
        let w = Withdrawal::request(
            UserId::new(),
            "u",
            yuan("100.00"),
            PayoutMethod::Alipay,
            "13800138000",
            String::new(),
            now,
        )
        .unwrap();
        assert!(w.paid("x".into(), now).is_err());
        let p = w.approve(admin, now).unwrap();
        assert_eq!(p.status, WithdrawalStatus::Processing);
        assert!(p.reject(admin, "no".into(), now).is_err());
        assert!(p.approve(admin, now).is_ok());
        let done = p.paid("T1".into(), now).unwrap();
        assert_eq!(done.status, WithdrawalStatus::Paid);
        assert!(done.approve(admin, now).is_err());
        assert!(done.failed("x".into(), now).is_err());
        assert_eq!(
            w.reject(admin, "no".into(), now).unwrap().status,
            WithdrawalStatus::Rejected
        );
    }

    #[test]
    fn trade_numbers_fit_both_gateways() {
        let n = Charge::new_trade_no(Utc::now(), u128::MAX);
        assert_eq!(n.len(), 26);
        assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn channels_belong_to_their_gateway() {
        assert_eq!(Channel::of(Gateway::Alipay, None), Some(Channel::Page));
        assert_eq!(
            Channel::of(Gateway::Wechat, Some("jsapi")),
            Some(Channel::Jsapi)
        );
        assert_eq!(Channel::of(Gateway::Alipay, Some("native")), None);
    }
}
