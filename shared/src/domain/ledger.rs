//! The double-entry ledger. Every movement of money is a [`Movement`]: postings on
//! `(account, bucket)` pairs that sum to zero, with an id that makes it happen once.
//!
//! Users' buckets never go below zero (the store conditions every decrement). Platform accounts
//! are sharded so that no single item takes every order's fee; the clearing account stands for
//! money on its way in from a gateway and is the one account allowed to go negative.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::fee::FeeTerms;
use super::ids::{OrderId, UserId, WithdrawalId};
use super::money::Money;

/// How many items each platform account is spread over.
pub const PLATFORM_SHARDS: u8 = 8;

/// A platform-owned account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformAccount {
    /// Platform fees earned on released orders.
    Revenue,
    /// Money arriving from gateways (and, locally, demo credit): it goes negative by what was
    /// paid in and is settled against the gateway's statements.
    Clearing,
}

impl PlatformAccount {
    pub fn as_str(&self) -> &'static str {
        match self {
            PlatformAccount::Revenue => "revenue",
            PlatformAccount::Clearing => "clearing",
        }
    }
}

/// Whose money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    User(UserId),
    Platform(PlatformAccount, u8),
}

impl Account {
    /// The platform shard a movement about `seed` (an order, a payment) uses.
    pub fn platform(kind: PlatformAccount, seed: &str) -> Account {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
        let shard = digest.as_ref().first().copied().unwrap_or(0) % PLATFORM_SHARDS;
        Account::Platform(kind, shard)
    }

    /// May this account's buckets go below zero?
    pub fn may_go_negative(&self) -> bool {
        matches!(self, Account::Platform(PlatformAccount::Clearing, _))
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::User(id) => write!(f, "user:{id}"),
            Account::Platform(kind, shard) => write!(f, "platform:{}:{shard}", kind.as_str()),
        }
    }
}

impl FromStr for Account {
    type Err = String;

    fn from_str(s: &str) -> Result<Account, String> {
        let bad = || format!("not an account: {s}");
        match s.split(':').collect::<Vec<_>>().as_slice() {
            ["user", id] => id.parse().map(Account::User).map_err(|_| bad()),
            ["platform", kind, shard] => {
                let kind = match *kind {
                    "revenue" => PlatformAccount::Revenue,
                    "clearing" => PlatformAccount::Clearing,
                    _ => return Err(bad()),
                };
                let shard: u8 = shard.parse().map_err(|_| bad())?;
                if shard >= PLATFORM_SHARDS {
                    return Err(bad());
                }
                Ok(Account::Platform(kind, shard))
            }
            _ => Err(bad()),
        }
    }
}

impl Serialize for Account {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Account, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Spendable money, money held in escrow, or earnings waiting out their clearance period.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Available,
    Frozen,
    /// A seller's earnings from a completed order, withdrawable once they clear.
    PendingClearance,
}

impl Bucket {
    pub const ALL: [Bucket; 3] = [Bucket::Available, Bucket::Frozen, Bucket::PendingClearance];

    pub fn as_str(&self) -> &'static str {
        match self {
            Bucket::Available => "available",
            Bucket::Frozen => "frozen",
            Bucket::PendingClearance => "pending_clearance",
        }
    }
}

/// What a movement is, for people reading statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Money paid in (a top-up; locally, demo credit).
    Deposit,
    /// A client pays an order from the wallet: available → escrow.
    EscrowFreeze,
    /// An order completes: escrow → freelancer and platform fee.
    EscrowRelease,
    /// An order is cancelled or refunded after payment: escrow → client.
    EscrowRefund,
    /// A dispute settled by an operator with part refunded and part released.
    EscrowSplit,
    /// A withdrawal requested: available → frozen until it is paid or returned.
    WithdrawalHold,
    /// A withdrawal paid out: frozen → the gateway (net) and the platform (fee).
    WithdrawalPayout,
    /// A withdrawal rejected or refused by the gateway: frozen → available.
    WithdrawalReturn,
    /// A seller's earnings cleared: pending clearance → available.
    Clearance,
    /// A refund the gateway could not return to the original payment: credited to the wallet.
    RefundCredited,
    /// A seller's earnings cleared through the split channel: pending clearance → their own
    /// sub-merchant account at WeChat Pay (the split instruction unfroze them there).
    SplitPayout,
    /// A client's tip on a completed order: to the seller's available balance, less the
    /// order's commission.
    Tip,
}

impl MovementKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            MovementKind::Deposit => "deposit",
            MovementKind::EscrowFreeze => "escrow_freeze",
            MovementKind::EscrowRelease => "escrow_release",
            MovementKind::EscrowRefund => "escrow_refund",
            MovementKind::EscrowSplit => "escrow_split",
            MovementKind::WithdrawalHold => "withdrawal_hold",
            MovementKind::WithdrawalPayout => "withdrawal_payout",
            MovementKind::WithdrawalReturn => "withdrawal_return",
            MovementKind::Clearance => "clearance",
            MovementKind::RefundCredited => "refund_credited",
            MovementKind::SplitPayout => "split_payout",
            MovementKind::Tip => "tip",
        }
    }

    /// (English, Chinese) description for statements.
    pub fn describe(&self) -> (&'static str, &'static str) {
        match self {
            MovementKind::Deposit => ("Deposit", "充值"),
            MovementKind::EscrowFreeze => ("Order payment held in escrow", "订单付款（托管冻结）"),
            MovementKind::EscrowRelease => {
                ("Order completed: escrow released", "订单完成，托管款结算")
            }
            MovementKind::EscrowRefund => ("Order refund", "订单退款"),
            MovementKind::EscrowSplit => ("Dispute settled: partial refund", "纠纷裁决：部分退款"),
            MovementKind::WithdrawalHold => ("Withdrawal requested (frozen)", "提现申请（冻结）"),
            MovementKind::WithdrawalPayout => ("Withdrawal paid out", "提现到账"),
            MovementKind::WithdrawalReturn => ("Withdrawal returned", "提现退回"),
            MovementKind::Clearance => ("Earnings cleared", "收入已结算，可提现"),
            MovementKind::RefundCredited => (
                "Refund could not return to the original payment: credited to the wallet",
                "原路退款未成功，已退至钱包余额",
            ),
            MovementKind::SplitPayout => (
                "Earnings cleared to your WeChat Pay merchant account",
                "收入已结算至你的微信支付商户号",
            ),
            MovementKind::Tip => ("Tip on a completed order", "订单打赏"),
        }
    }
}

/// Where money going back to a client goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundTo {
    /// The client's wallet (the order was paid from it).
    Wallet,
    /// Back through the gateway that took it, under our trade number `charge`: the money
    /// leaves through gateway clearing.
    Source { charge: String },
}

/// One signed change to one bucket of one account, in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: Account,
    pub bucket: Bucket,
    pub amount_fen: i64,
}

/// Running totals a movement adds to (statements, not balances).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub earned_fen: i64,
    pub spent_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MovementError {
    #[error("postings do not sum to zero")]
    Unbalanced,
    #[error("amounts must be positive")]
    NotPositive,
    #[error("a movement needs postings")]
    Empty,
    #[error("a refund larger than the escrow")]
    RefundTooLarge,
}

/// A set of postings that happens once, under `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Deterministic for a business event (`release:{order}`), so a retry is recognised.
    pub id: String,
    pub kind: MovementKind,
    pub order: Option<OrderId>,
    pub postings: Vec<Posting>,
    pub totals: BTreeMap<Account, Totals>,
}

fn positive(m: Money) -> Result<i64, MovementError> {
    if m.is_positive() {
        Ok(m.fen())
    } else {
        Err(MovementError::NotPositive)
    }
}

fn p(account: Account, bucket: Bucket, amount_fen: i64) -> Posting {
    Posting {
        account,
        bucket,
        amount_fen,
    }
}

impl Movement {
    fn new(
        id: String,
        kind: MovementKind,
        order: Option<OrderId>,
        postings: Vec<Posting>,
    ) -> Result<Movement, MovementError> {
        let postings: Vec<Posting> = postings.into_iter().filter(|p| p.amount_fen != 0).collect();
        if postings.is_empty() {
            return Err(MovementError::Empty);
        }
        let sum = postings
            .iter()
            .try_fold(0i64, |acc, p| acc.checked_add(p.amount_fen));
        if sum != Some(0) {
            return Err(MovementError::Unbalanced);
        }
        Ok(Movement {
            id,
            kind,
            order,
            postings,
            totals: BTreeMap::new(),
        })
    }

    fn total(mut self, account: Account, earned_fen: i64, spent_fen: i64) -> Movement {
        let t = self.totals.entry(account).or_default();
        t.earned_fen += earned_fen;
        t.spent_fen += spent_fen;
        self.totals.retain(|_, t| *t != Totals::default());
        self
    }

    /// `amount` moves between the two buckets of one user's wallet, out of `from`: escrow
    /// frozen or refunded, a withdrawal held or returned.
    fn shift(
        id: String,
        kind: MovementKind,
        order: Option<OrderId>,
        user: UserId,
        from: Bucket,
        amount: Money,
    ) -> Result<Movement, MovementError> {
        let fen = positive(amount)?;
        let to = match from {
            Bucket::Available => Bucket::Frozen,
            Bucket::Frozen | Bucket::PendingClearance => Bucket::Available,
        };
        let u = Account::User(user);
        Movement::new(id, kind, order, vec![p(u, from, -fen), p(u, to, fen)])
    }

    /// Money paid in for `user` (gateway clearing → user available), once per `reference`.
    pub fn deposit(
        user: UserId,
        amount: Money,
        reference: &str,
    ) -> Result<Movement, MovementError> {
        let fen = positive(amount)?;
        let id = format!("deposit:{reference}");
        let clearing = Account::platform(PlatformAccount::Clearing, &id);
        Movement::new(
            id,
            MovementKind::Deposit,
            None,
            vec![
                p(clearing, Bucket::Available, -fen),
                p(Account::User(user), Bucket::Available, fen),
            ],
        )
    }

    /// The client pays an order from the wallet: available → frozen.
    pub fn escrow_freeze(
        order: OrderId,
        client: UserId,
        total: Money,
    ) -> Result<Movement, MovementError> {
        Movement::shift(
            format!("freeze:{order}"),
            MovementKind::EscrowFreeze,
            Some(order),
            client,
            Bucket::Available,
            total,
        )
    }

    /// The client pays an order through a gateway (`charge` is our trade number): the money
    /// comes from gateway clearing straight into the client's escrow. The id is the same as a
    /// wallet payment's, so an order is paid into escrow once, however it is paid.
    pub fn gateway_escrow(
        order: OrderId,
        client: UserId,
        total: Money,
        charge: &str,
    ) -> Result<Movement, MovementError> {
        let fen = positive(total)?;
        let clearing = Account::platform(PlatformAccount::Clearing, charge);
        Movement::new(
            format!("freeze:{order}"),
            MovementKind::EscrowFreeze,
            Some(order),
            vec![
                p(clearing, Bucket::Available, -fen),
                p(Account::User(client), Bucket::Frozen, fen),
            ],
        )
    }

    /// A withdrawal is requested: `amount` leaves the spendable balance.
    pub fn withdrawal_hold(
        user: UserId,
        amount: Money,
        withdrawal: WithdrawalId,
    ) -> Result<Movement, MovementError> {
        Movement::shift(
            format!("withdraw:{withdrawal}"),
            MovementKind::WithdrawalHold,
            None,
            user,
            Bucket::Available,
            amount,
        )
    }

    /// A withdrawal is paid: `amount` leaves the user, `amount − fee` through the gateway and
    /// `fee` to the platform.
    pub fn withdrawal_payout(
        user: UserId,
        amount: Money,
        fee: Money,
        withdrawal: WithdrawalId,
    ) -> Result<Movement, MovementError> {
        let fen = positive(amount)?;
        let fee_fen = fee.fen();
        if fee_fen < 0 || fee_fen >= fen {
            return Err(MovementError::NotPositive);
        }
        let id = format!("payout:{withdrawal}");
        let clearing = Account::platform(PlatformAccount::Clearing, &id);
        let revenue = Account::platform(PlatformAccount::Revenue, &id);
        Ok(Movement::new(
            id,
            MovementKind::WithdrawalPayout,
            None,
            vec![
                p(Account::User(user), Bucket::Frozen, -fen),
                p(clearing, Bucket::Available, fen - fee_fen),
                p(revenue, Bucket::Available, fee_fen),
            ],
        )?
        .total(revenue, fee_fen, 0))
    }

    /// A withdrawal is rejected or refused by the gateway: the money is spendable again.
    pub fn withdrawal_return(
        user: UserId,
        amount: Money,
        withdrawal: WithdrawalId,
    ) -> Result<Movement, MovementError> {
        Movement::shift(
            format!("return:{withdrawal}"),
            MovementKind::WithdrawalReturn,
            None,
            user,
            Bucket::Frozen,
            amount,
        )
    }

    /// The order completes: the client's escrow goes to the freelancer (total − fee, pending
    /// clearance) and to the platform (fee).
    pub fn escrow_release(
        order: OrderId,
        (client, freelancer): (UserId, UserId),
        total: Money,
        fee: &FeeTerms,
    ) -> Result<Movement, MovementError> {
        Movement::settle(
            order,
            (client, freelancer),
            total,
            0,
            &RefundTo::Wallet,
            fee,
        )
    }

    /// The order is cancelled after payment: the escrow goes back to the client, to the
    /// wallet or through the gateway it came from.
    pub fn escrow_refund(
        order: OrderId,
        client: UserId,
        total: Money,
        to: &RefundTo,
    ) -> Result<Movement, MovementError> {
        let id = format!("refund:{order}");
        match to {
            RefundTo::Wallet => Movement::shift(
                id,
                MovementKind::EscrowRefund,
                Some(order),
                client,
                Bucket::Frozen,
                total,
            ),
            RefundTo::Source { charge } => {
                let fen = positive(total)?;
                let clearing = Account::platform(PlatformAccount::Clearing, charge);
                Movement::new(
                    id,
                    MovementKind::EscrowRefund,
                    Some(order),
                    vec![
                        p(Account::User(client), Bucket::Frozen, -fen),
                        p(clearing, Bucket::Available, fen),
                    ],
                )
            }
        }
    }

    /// The client adds a paid extra to an order in progress (the `n`th): available → frozen,
    /// released or refunded with the rest of the order's escrow.
    pub fn escrow_extra(
        order: OrderId,
        n: usize,
        client: UserId,
        amount: Money,
    ) -> Result<Movement, MovementError> {
        Movement::shift(
            format!("extra:{order}:{n}"),
            MovementKind::EscrowFreeze,
            Some(order),
            client,
            Bucket::Available,
            amount,
        )
    }

    /// The client tips the seller of a completed order (once per order): from the client's
    /// available balance, the order's commission to the platform, the rest straight to the
    /// seller's available balance.
    pub fn tip(
        order: OrderId,
        (client, freelancer): (UserId, UserId),
        amount: Money,
        terms: &FeeTerms,
    ) -> Result<Movement, MovementError> {
        let fen = positive(amount)?;
        let (fee, earnings) = terms.split(amount);
        let id = format!("tip:{order}");
        let revenue = Account::platform(PlatformAccount::Revenue, &id);
        let (c, f) = (Account::User(client), Account::User(freelancer));
        Ok(Movement::new(
            id,
            MovementKind::Tip,
            Some(order),
            vec![
                p(c, Bucket::Available, -fen),
                p(f, Bucket::Available, earnings.fen()),
                p(revenue, Bucket::Available, fee.fen()),
            ],
        )?
        .total(c, 0, fen)
        .total(f, earnings.fen(), 0)
        .total(revenue, fee.fen(), 0))
    }

    /// A seller's earnings from `order` have cleared: they can be withdrawn.
    pub fn clearance(
        order: OrderId,
        seller: UserId,
        amount: Money,
    ) -> Result<Movement, MovementError> {
        Movement::shift(
            format!("clear:{order}"),
            MovementKind::Clearance,
            Some(order),
            seller,
            Bucket::PendingClearance,
            amount,
        )
    }

    /// A seller's earnings from `order`, paid through the split channel, have cleared: the
    /// channel's split instruction put them in the seller's own merchant account, so they
    /// leave our books through clearing. The id is the clearance's: earnings clear once,
    /// whichever way.
    pub fn split_payout(
        order: OrderId,
        seller: UserId,
        amount: Money,
    ) -> Result<Movement, MovementError> {
        let fen = positive(amount)?;
        let id = format!("clear:{order}");
        let clearing = Account::platform(PlatformAccount::Clearing, &id);
        Movement::new(
            id,
            MovementKind::SplitPayout,
            Some(order),
            vec![
                p(Account::User(seller), Bucket::PendingClearance, -fen),
                p(clearing, Bucket::Available, fen),
            ],
        )
    }

    /// A refund the gateway would not return to the original payment (`refund` is our refund
    /// number): the money that left through clearing comes back into the client's wallet.
    pub fn refund_credited(
        client: UserId,
        amount: Money,
        order: Option<OrderId>,
        refund: &str,
    ) -> Result<Movement, MovementError> {
        let fen = positive(amount)?;
        let id = format!("refund-credit:{refund}");
        let clearing = Account::platform(PlatformAccount::Clearing, &id);
        Movement::new(
            id,
            MovementKind::RefundCredited,
            order,
            vec![
                p(clearing, Bucket::Available, -fen),
                p(Account::User(client), Bucket::Available, fen),
            ],
        )
    }

    /// A dispute settled with `refund` back to the client (wallet or source) and the rest
    /// released as an order of that size would be (fee on the released part).
    pub fn escrow_split(
        order: OrderId,
        (client, freelancer): (UserId, UserId),
        total: Money,
        refund: Money,
        to: &RefundTo,
        fee: &FeeTerms,
    ) -> Result<Movement, MovementError> {
        Movement::settle(
            order,
            (client, freelancer),
            total,
            positive(refund)?,
            to,
            fee,
        )
    }

    /// The escrow of `total` leaves the client: `refund_fen` back to them (`to`), the rest to
    /// the freelancer less the fee on it (the order's frozen `terms`), pending clearance. A release is a settlement without
    /// a refund.
    fn settle(
        order: OrderId,
        (client, freelancer): (UserId, UserId),
        total: Money,
        refund_fen: i64,
        to: &RefundTo,
        terms: &FeeTerms,
    ) -> Result<Movement, MovementError> {
        let fen = positive(total)?;
        if refund_fen >= fen {
            return Err(MovementError::RefundTooLarge);
        }
        let released = Money::from_fen(fen - refund_fen);
        let (fee, earnings) = terms.split(released);
        let (id, kind) = if refund_fen == 0 {
            (format!("release:{order}"), MovementKind::EscrowRelease)
        } else {
            (format!("split:{order}"), MovementKind::EscrowSplit)
        };
        let revenue = Account::platform(PlatformAccount::Revenue, &id);
        let c = Account::User(client);
        let f = Account::User(freelancer);
        let back = match to {
            RefundTo::Wallet => p(c, Bucket::Available, refund_fen),
            RefundTo::Source { charge } => p(
                Account::platform(PlatformAccount::Clearing, charge),
                Bucket::Available,
                refund_fen,
            ),
        };
        Ok(Movement::new(
            id,
            kind,
            Some(order),
            vec![
                p(c, Bucket::Frozen, -fen),
                back,
                p(f, Bucket::PendingClearance, earnings.fen()),
                p(revenue, Bucket::Available, fee.fen()),
            ],
        )?
        .total(c, 0, released.fen())
        .total(f, earnings.fen(), 0)
        .total(revenue, fee.fen(), 0))
    }

    /// The net change per account and bucket, in a stable order.
    pub fn deltas(&self) -> BTreeMap<Account, BTreeMap<Bucket, i64>> {
        let mut out: BTreeMap<Account, BTreeMap<Bucket, i64>> = BTreeMap::new();
        for p in &self.postings {
            *out.entry(p.account)
                .or_default()
                .entry(p.bucket)
                .or_default() += p.amount_fen;
        }
        out
    }
}

/// A wallet's balances in fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balances {
    pub available_fen: i64,
    pub frozen_fen: i64,
    #[serde(default)]
    pub pending_fen: i64,
    pub total_earned_fen: i64,
    pub total_spent_fen: i64,
}

impl Balances {
    pub fn bucket(&self, b: Bucket) -> i64 {
        match b {
            Bucket::Available => self.available_fen,
            Bucket::Frozen => self.frozen_fen,
            Bucket::PendingClearance => self.pending_fen,
        }
    }

    fn bucket_mut(&mut self, b: Bucket) -> &mut i64 {
        match b {
            Bucket::Available => &mut self.available_fen,
            Bucket::Frozen => &mut self.frozen_fen,
            Bucket::PendingClearance => &mut self.pending_fen,
        }
    }

    /// Whether nothing is held in any bucket.
    pub fn is_empty(&self) -> bool {
        Bucket::ALL.iter().all(|b| self.bucket(*b) == 0)
    }
}

/// The ledger in memory, with the same rules as the store: the model the property tests
/// drive, and what reconciliation compares a wallet against.
#[derive(Debug, Default, Clone)]
pub struct Book {
    pub wallets: BTreeMap<Account, Balances>,
    pub lines: Vec<Posting>,
    applied: std::collections::BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Done,
    AlreadyApplied,
    Insufficient(Account, Bucket),
}

impl Book {
    /// Applies `m` entirely or not at all.
    pub fn apply(&mut self, m: &Movement) -> Applied {
        if self.applied.contains(&m.id) {
            return Applied::AlreadyApplied;
        }
        for (account, buckets) in m.deltas() {
            let w = self.wallets.get(&account).copied().unwrap_or_default();
            for (bucket, delta) in buckets {
                if delta < 0 && !account.may_go_negative() && w.bucket(bucket) + delta < 0 {
                    return Applied::Insufficient(account, bucket);
                }
            }
        }
        for p in &m.postings {
            *self
                .wallets
                .entry(p.account)
                .or_default()
                .bucket_mut(p.bucket) += p.amount_fen;
            self.lines.push(*p);
        }
        for (account, t) in &m.totals {
            let w = self.wallets.entry(*account).or_default();
            w.total_earned_fen += t.earned_fen;
            w.total_spent_fen += t.spent_fen;
        }
        self.applied.insert(m.id.clone());
        Applied::Done
    }
}

/// What the lines of one account add up to, per bucket (as balances without totals).
pub fn sum_lines<'a>(lines: impl IntoIterator<Item = &'a Posting>) -> Balances {
    let mut sums = Balances::default();
    for p in lines {
        *sums.bucket_mut(p.bucket) += p.amount_fen;
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn yuan(s: &str) -> Money {
        s.parse().or_else(|_| Money::parse_query(s)).unwrap()
    }

    #[test]
    fn release_of_199_pays_159_20_and_a_fee_of_39_80() {
        let (o, c, f) = (OrderId::new(), UserId::new(), UserId::new());
        let m = Movement::escrow_release(o, (c, f), yuan("199.00"), &FeeTerms::default()).unwrap();
        let d = m.deltas();
        assert_eq!(d[&Account::User(c)][&Bucket::Frozen], -19900);
        assert_eq!(d[&Account::User(f)][&Bucket::PendingClearance], 15920);
        let revenue: i64 = d
            .iter()
            .filter(|(a, _)| matches!(a, Account::Platform(PlatformAccount::Revenue, _)))
            .map(|(_, b)| b[&Bucket::Available])
            .sum();
        assert_eq!(revenue, 3980);
        assert_eq!(m.totals[&Account::User(f)].earned_fen, 15920);
        assert_eq!(m.totals[&Account::User(c)].spent_fen, 19900);
        assert_eq!(m.id, format!("release:{o}"));
    }

    #[test]
    fn a_split_refunds_exactly_and_charges_the_fee_on_the_released_part() {
        let (o, c, f) = (OrderId::new(), UserId::new(), UserId::new());
        let w = RefundTo::Wallet;
        let fee = FeeTerms::default();
        let m = Movement::escrow_split(o, (c, f), yuan("199.00"), yuan("99.00"), &w, &fee).unwrap();
        let d = m.deltas();
        assert_eq!(d[&Account::User(c)][&Bucket::Frozen], -19900);
        assert_eq!(d[&Account::User(c)][&Bucket::Available], 9900);
        // 100.00 released: fee 20.00, earnings 80.00, pending clearance.
        assert_eq!(d[&Account::User(f)][&Bucket::PendingClearance], 8000);
        assert_eq!(
            Movement::escrow_split(o, (c, f), yuan("199.00"), yuan("199.00"), &w, &fee),
            Err(MovementError::RefundTooLarge)
        );
        assert_eq!(
            Movement::escrow_split(o, (c, f), yuan("199.00"), yuan("0"), &w, &fee),
            Err(MovementError::NotPositive)
        );
        // Paid through a gateway: the refunded part leaves through that charge's clearing.
        let src = RefundTo::Source {
            charge: "GB1".into(),
        };
        let m =
            Movement::escrow_split(o, (c, f), yuan("199.00"), yuan("99.00"), &src, &fee).unwrap();
        let d = m.deltas();
        assert_eq!(d[&Account::User(c)].get(&Bucket::Available), None);
        assert_eq!(
            d[&Account::platform(PlatformAccount::Clearing, "GB1")][&Bucket::Available],
            9900
        );
    }

    #[test]
    fn a_withdrawal_holds_then_pays_net_and_fee_or_returns_it_all() {
        let (u, w) = (UserId::new(), WithdrawalId::new());
        let mut book = Book::default();
        book.apply(&Movement::deposit(u, yuan("500.00"), "t1").unwrap());
        book.apply(&Movement::withdrawal_hold(u, yuan("100.00"), w).unwrap());
        let b = book.wallets[&Account::User(u)];
        assert_eq!((b.available_fen, b.frozen_fen), (40_000, 10_000));
        let payout = Movement::withdrawal_payout(u, yuan("100.00"), yuan("2.00"), w).unwrap();
        let d = payout.deltas();
        assert_eq!(d[&Account::User(u)][&Bucket::Frozen], -10_000);
        let by_kind = |k: PlatformAccount| -> i64 {
            d.iter()
                .filter(|(a, _)| matches!(a, Account::Platform(x, _) if *x == k))
                .map(|(_, b)| b[&Bucket::Available])
                .sum()
        };
        assert_eq!(
            (
                by_kind(PlatformAccount::Clearing),
                by_kind(PlatformAccount::Revenue)
            ),
            (9_800, 200)
        );
        assert_eq!(
            Movement::withdrawal_return(u, yuan("100.00"), w)
                .unwrap()
                .deltas()[&Account::User(u)][&Bucket::Available],
            10_000
        );
        assert!(Movement::withdrawal_payout(u, yuan("1.00"), yuan("1.00"), w).is_err());
    }

    #[test]
    fn an_order_paid_by_gateway_is_frozen_under_the_same_id_as_from_the_wallet() {
        let (o, c) = (OrderId::new(), UserId::new());
        let g = Movement::gateway_escrow(o, c, yuan("199.00"), "GB1").unwrap();
        let w = Movement::escrow_freeze(o, c, yuan("199.00")).unwrap();
        assert_eq!(g.id, w.id);
        assert_eq!(g.deltas()[&Account::User(c)].get(&Bucket::Available), None);
        assert_eq!(g.deltas()[&Account::User(c)][&Bucket::Frozen], 19_900);
    }

    #[test]
    fn accounts_print_and_parse() {
        let u = UserId::new();
        for a in [
            Account::User(u),
            Account::Platform(PlatformAccount::Revenue, 3),
            Account::Platform(PlatformAccount::Clearing, 0),
        ] {
            assert_eq!(a.to_string().parse::<Account>().unwrap(), a);
        }
        assert!("platform:revenue:8".parse::<Account>().is_err());
        assert!("bank:1".parse::<Account>().is_err());
    }

    #[test]
    fn the_book_refuses_an_overdraft_and_a_repeat() {
        let (c, o) = (UserId::new(), OrderId::new());
        let mut book = Book::default();
        let pay = Movement::escrow_freeze(o, c, yuan("10.00")).unwrap();
        assert_eq!(
            book.apply(&pay),
            Applied::Insufficient(Account::User(c), Bucket::Available)
        );
        assert!(book.lines.is_empty());
        book.apply(&Movement::deposit(c, yuan("10.00"), "t1").unwrap());
        assert_eq!(book.apply(&pay), Applied::Done);
        assert_eq!(book.apply(&pay), Applied::AlreadyApplied);
        assert_eq!(book.wallets[&Account::User(c)].frozen_fen, 1000);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Deposit(usize, i64),
        /// Client, freelancer, total, paid through a gateway, fee rate (bp), minimum fee.
        Pay(usize, usize, i64, bool, u32, i64),
        /// The same, paid by WeChat Pay into the seller's sub-merchant account (split channel):
        /// its earnings leave through the channel when they clear.
        PayIntoChannel(usize, usize, i64, u32, i64),
        Release(usize),
        Refund(usize),
        Split(usize, i64),
        /// The gateway refuses a refund for good: the money comes back to the wallet.
        RefundRefused(usize),
        /// Time passes (hours), then due clearances clear; one clearance is tried early.
        Wait(i64, usize),
        Withdraw(usize, i64),
        /// A withdrawal is paid (true) or returned.
        Payout(usize, bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..4usize, 1..50_000i64).prop_map(|(u, f)| Step::Deposit(u, f)),
            (
                0..4usize,
                0..4usize,
                1..80_000i64,
                any::<bool>(),
                0..=5_000u32,
                0..=10_000i64
            )
                .prop_map(|(c, f, x, g, r, m)| Step::Pay(c, f, x, g, r, m)),
            (
                0..4usize,
                0..4usize,
                1..80_000i64,
                0..=5_000u32,
                0..=10_000i64
            )
                .prop_map(|(c, f, x, r, m)| Step::PayIntoChannel(c, f, x, r, m)),
            (0..12usize).prop_map(Step::Release),
            (0..12usize).prop_map(Step::Refund),
            (0..12usize, 1..80_000i64).prop_map(|(o, r)| Step::Split(o, r)),
            (0..12usize).prop_map(Step::RefundRefused),
            (1..400i64, 0..12usize).prop_map(|(h, k)| Step::Wait(h, k)),
            (0..4usize, 1..30_000i64).prop_map(|(u, a)| Step::Withdraw(u, a)),
            (0..8usize, any::<bool>()).prop_map(|(w, p)| Step::Payout(w, p)),
        ]
    }

    struct PaidOrder {
        id: OrderId,
        client: usize,
        freelancer: usize,
        total: i64,
        charge: Option<String>,
        fee: FeeTerms,
        /// Paid through the split channel.
        channel: bool,
        settled: bool,
        /// Money sent back through the gateway, until it arrives or is refused.
        refund: Option<(i64, bool)>,
    }

    proptest! {
        #[test]
        fn random_movements_keep_every_invariant(steps in proptest::collection::vec(step(), 1..80)) {
            use crate::domain::clearance::Clearance;
            let users: Vec<UserId> = (0..4).map(|_| UserId::new()).collect();
            let mut book = Book::default();
            let mut orders: Vec<PaidOrder> = Vec::new();
            let mut clearances: Vec<(Clearance, bool)> = Vec::new();
            let mut withdrawals: Vec<(WithdrawalId, usize, i64, bool)> = Vec::new();
            let start = chrono::Utc::now();
            let mut now = start;
            for (i, s) in steps.iter().enumerate() {
                let mut moves: Vec<Movement> = Vec::new();
                match s {
                    Step::Deposit(u, fen) => {
                        moves.extend(Movement::deposit(users[*u], Money::from_fen(*fen), &i.to_string()).ok());
                    }
                    Step::Pay(c, f, fen, _, rate_bp, minimum) | Step::PayIntoChannel(c, f, fen, rate_bp, minimum) => {
                        let id = OrderId::new();
                        let total = Money::from_fen(*fen);
                        let channel = matches!(s, Step::PayIntoChannel(..));
                        let charge = (channel || matches!(s, Step::Pay(_, _, _, true, _, _))).then(|| format!("GB{i}"));
                        let m = match &charge {
                            Some(ch) => Movement::gateway_escrow(id, users[*c], total, ch),
                            None => Movement::escrow_freeze(id, users[*c], total),
                        };
                        if let Ok(m) = m && book.clone().apply(&m) == Applied::Done {
                            orders.push(PaidOrder {
                                id, client: *c, freelancer: *f, total: *fen, charge,
                                fee: FeeTerms { rate_bp: *rate_bp, minimum: Money::from_fen(*minimum) },
                                channel, settled: false, refund: None,
                            });
                            moves.push(m);
                        }
                    }
                    Step::Release(k) | Step::Refund(k) | Step::Split(k, _) => {
                        if let Some(o) = orders.get_mut(*k) && !o.settled {
                            o.settled = true;
                            let total = Money::from_fen(o.total);
                            let to = o.charge.clone().map_or(RefundTo::Wallet, |charge| RefundTo::Source { charge });
                            let parties = (users[o.client], users[o.freelancer]);
                            let (m, refunded) = match s {
                                Step::Release(_) => (Movement::escrow_release(o.id, parties, total, &o.fee), 0),
                                Step::Refund(_) => (Movement::escrow_refund(o.id, parties.0, total, &to), o.total),
                                Step::Split(_, r) => {
                                    let r = (*r % o.total).max(1);
                                    (Movement::escrow_split(o.id, parties, total, Money::from_fen(r), &to, &o.fee), r)
                                }
                                _ => unreachable!(),
                            };
                            if let Ok(m) = m {
                                let released = o.total - refunded;
                                let (fee, earnings) = o.fee.split(Money::from_fen(released));
                                if released > 0 && earnings.is_positive() {
                                    let split = o.channel.then(|| crate::domain::split::SplitInstruction {
                                        target: crate::domain::split::SplitTarget {
                                            sub_mchid: "1900000109".into(),
                                            transaction_id: format!("4200{k}"),
                                        },
                                        commission: fee,
                                    });
                                    clearances.push((Clearance::after(o.id, parties.1, earnings, 14, now).through(split), false));
                                }
                                if o.charge.is_some() && refunded > 0 {
                                    o.refund = Some((refunded, false));
                                }
                                moves.push(m);
                            }
                        }
                    }
                    Step::RefundRefused(k) => {
                        if let Some(o) = orders.get_mut(*k) && let Some((amount, done)) = o.refund.as_mut() && !*done {
                            *done = true;
                            moves.extend(Movement::refund_credited(users[o.client], Money::from_fen(*amount), Some(o.id), &format!("RF{k}")).ok());
                        }
                    }
                    Step::Wait(hours, early) => {
                        // One clearance tried before it is due must not clear.
                        if let Some((c, done)) = clearances.get(*early) && !*done && now < c.clears_at {
                            prop_assert!(c.clear(now).is_err());
                        }
                        now += chrono::Duration::hours(*hours);
                        for (c, done) in clearances.iter_mut().filter(|(_, d)| !*d) {
                            if let Ok(m) = c.clear(now) {
                                // Through the channel the earnings leave for the seller's own
                                // merchant account: nothing reaches their wallet's balance.
                                if c.split.is_some() {
                                    prop_assert_eq!(m.kind, MovementKind::SplitPayout);
                                    prop_assert!(m.postings.iter().all(|p| p.account != Account::User(c.seller_id) || p.bucket == Bucket::PendingClearance));
                                }
                                *done = true;
                                moves.push(m);
                            }
                        }
                    }
                    Step::Withdraw(u, fen) => {
                        let w = WithdrawalId::new();
                        if let Ok(m) = Movement::withdrawal_hold(users[*u], Money::from_fen(*fen), w)
                            && book.clone().apply(&m) == Applied::Done {
                            withdrawals.push((w, *u, *fen, false));
                            moves.push(m);
                        }
                    }
                    Step::Payout(k, paid) => {
                        if let Some((w, u, fen, done)) = withdrawals.get_mut(*k) && !*done {
                            *done = true;
                            let amount = Money::from_fen(*fen);
                            let fee = Money::from_fen((*fen / 50).clamp(0, *fen - 1));
                            moves.extend(if *paid {
                                Movement::withdrawal_payout(users[*u], amount, fee, *w).ok()
                            } else {
                                Movement::withdrawal_return(users[*u], amount, *w).ok()
                            });
                        }
                    }
                }
                for m in moves {
                    let sum: i64 = m.postings.iter().map(|p| p.amount_fen).sum();
                    prop_assert_eq!(sum, 0);
                    prop_assert_eq!(book.apply(&m), Applied::Done, "{}", m.id);
                }
                // No user bucket is ever negative.
                for (a, w) in &book.wallets {
                    if !a.may_go_negative() {
                        for b in Bucket::ALL {
                            prop_assert!(w.bucket(b) >= 0, "{a}: {w:?}");
                        }
                    }
                }
                // All lines sum to zero; every wallet equals the sum of its lines.
                prop_assert_eq!(book.lines.iter().map(|p| p.amount_fen).sum::<i64>(), 0);
                for (a, w) in &book.wallets {
                    let sums = sum_lines(book.lines.iter().filter(|p| p.account == *a));
                    for b in Bucket::ALL {
                        prop_assert_eq!(sums.bucket(b), w.bucket(b));
                    }
                }
                // Nothing clears early: what waits to clear is exactly the earnings not yet due.
                for (u, user) in users.iter().enumerate() {
                    let waiting: i64 = clearances
                        .iter()
                        .filter(|(c, done)| !*done && c.seller_id == *user)
                        .map(|(c, _)| c.amount.fen())
                        .sum();
                    let pending = book.wallets.get(&Account::User(*user)).map_or(0, |w| w.pending_fen);
                    prop_assert_eq!(pending, waiting, "user {}", u);
                    for (c, done) in &clearances {
                        if *done {
                            prop_assert!(c.clears_at <= now);
                        }
                    }
                }
            }
        }
    }
}
