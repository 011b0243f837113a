//! Clearance: a seller's earnings from a completed order wait out a clearance period in
//! `pending_clearance` before they can be withdrawn, so that chargebacks, disputes and fraud
//! can still be handled (Fiverr holds 14 days, 7 for its top sellers).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{OrderId, UserId};
use super::ledger::{Movement, MovementError};
use super::money::{Money, fen};
use super::split::SplitInstruction;
use super::user::SellerLevel;

/// How many days earnings wait, per seller level (`CLEARANCE_DAYS`: four numbers for new,
/// level one, level two and top rated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearancePolicy {
    pub days: [u32; 4],
}

impl Default for ClearancePolicy {
    fn default() -> ClearancePolicy {
        ClearancePolicy {
            days: [14, 14, 7, 7],
        }
    }
}

impl ClearancePolicy {
    /// `"14,14,7,7"`; each from 0 to 90 days.
    pub fn parse(s: &str) -> Option<ClearancePolicy> {
        let days: Vec<u32> = s
            .split(',')
            .map(|d| d.trim().parse().ok().filter(|d| *d <= 90))
            .collect::<Option<_>>()?;
        Some(ClearancePolicy {
            days: days.try_into().ok()?,
        })
    }

    pub fn days_for(&self, level: SellerLevel) -> u32 {
        let i = match level {
            SellerLevel::New => 0,
            SellerLevel::LevelOne => 1,
            SellerLevel::LevelTwo => 2,
            SellerLevel::TopRated => 3,
        };
        self.days[i]
    }
}

/// Earnings of one order waiting to clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clearance {
    pub order_id: OrderId,
    pub seller_id: UserId,
    #[serde(with = "fen")]
    pub amount: Money,
    pub clears_at: DateTime<Utc>,
    /// For an order paid through the split channel: the instruction that clears it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitInstruction>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClearanceError {
    #[error("clears at {0}")]
    NotDue(DateTime<Utc>),
    #[error(transparent)]
    Money(#[from] MovementError),
}

impl Clearance {
    /// Earnings released at `now` that clear `days` later.
    pub fn after(
        order_id: OrderId,
        seller_id: UserId,
        amount: Money,
        days: u32,
        now: DateTime<Utc>,
    ) -> Clearance {
        Clearance {
            order_id,
            seller_id,
            amount,
            clears_at: now + Duration::days(i64::from(days)),
            split: None,
        }
    }

    /// Cleared through the split channel by `split` instead of into the wallet.
    pub fn through(self, split: Option<SplitInstruction>) -> Clearance {
        Clearance { split, ..self }
    }

    /// The movement that makes the earnings withdrawable (or, through the split channel,
    /// pays them to the seller's merchant account), once they are due.
    pub fn clear(&self, now: DateTime<Utc>) -> Result<Movement, ClearanceError> {
        if now < self.clears_at {
            return Err(ClearanceError::NotDue(self.clears_at));
        }
        let movement = match self.split {
            None => Movement::clearance,
            Some(_) => Movement::split_payout,
        };
        Ok(movement(self.order_id, self.seller_id, self.amount)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_reads_four_levels_and_refuses_anything_else() {
        let p = ClearancePolicy::parse("14, 14, 7, 3").unwrap();
        assert_eq!(p.days_for(SellerLevel::New), 14);
        assert_eq!(p.days_for(SellerLevel::TopRated), 3);
        for bad in [
            "",
            "14,14,7",
            "14,14,7,7,7",
            "a,b,c,d",
            "91,0,0,0",
            "-1,0,0,0",
        ] {
            assert_eq!(ClearancePolicy::parse(bad), None, "{bad}");
        }
        assert_eq!(ClearancePolicy::default().days, [14, 14, 7, 7]);
    }

    #[test]
    fn nothing_clears_early() {
        let now = Utc::now();
        let c = Clearance::after(OrderId::new(), UserId::new(), Money::from_fen(100), 14, now);
        assert!(matches!(
            c.clear(now + Duration::days(14) - Duration::seconds(1)),
            Err(ClearanceError::NotDue(_))
        ));
        let m = c.clear(now + Duration::days(14)).unwrap();
        assert_eq!(m.id, format!("clear:{}", c.order_id));
    }
}
