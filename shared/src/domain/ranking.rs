//! Ranking and seller levels: pure functions of a service's and a freelancer's record,
//! computed hourly by `ranking-updater`. The formulas and thresholds are in
//! `docs/ranking.md`; change them there and here together.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::Money;
use super::order::Order;

/// Weights of the seed's four terms.
pub const WEIGHTS: Weights = Weights {
    reviews: 0.4,
    orders: 0.3,
    views: 0.2,
    response: 0.1,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub reviews: f64,
    pub orders: f64,
    pub views: f64,
    pub response: f64,
}

/// A service without reviews is taken to be rated [`PRIOR_MEAN`], as if it had
/// [`PRIOR_REVIEWS`] such reviews: a single 5★ does not outrank a hundred 4.9★.
const PRIOR_MEAN: u64 = 3;
const PRIOR_REVIEWS: u64 = 5;
/// Completed orders at which the orders term is one half.
const ORDERS_HALF: f64 = 10.0;
/// Views at which the views term is one half.
const VIEWS_HALF: f64 = 500.0;

/// What the ranking reads of a service and its freelancer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    pub rating_sum: u64,
    pub reviews: u64,
    pub orders: u64,
    pub views: u64,
    /// The freelancer's response rate, 0–100.
    pub response_rate: Decimal,
}

/// Each term of the score, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Terms {
    pub reviews: f64,
    pub orders: f64,
    pub views: f64,
    pub response: f64,
}

/// `x / (x + half)`: 0 at 0, ½ at `half`, approaching 1; one term can never outweigh its
/// weight however large its count grows.
fn saturating(x: u64, half: f64) -> f64 {
    let x = x as f64;
    x / (x + half)
}

impl Terms {
    pub fn of(s: &Signals) -> Terms {
        let bayes =
            (s.rating_sum + PRIOR_MEAN * PRIOR_REVIEWS) as f64 / (s.reviews + PRIOR_REVIEWS) as f64;
        let response = s.response_rate.to_f64().unwrap_or(0.0) / 100.0;
        Terms {
            reviews: ((bayes - 1.0) / 4.0).clamp(0.0, 1.0),
            orders: saturating(s.orders, ORDERS_HALF),
            views: saturating(s.views, VIEWS_HALF),
            response: response.clamp(0.0, 1.0),
        }
    }
}

/// The score in [0, 1], to four decimal places (so an hourly run rewrites only services
/// whose standing really moved).
pub fn score(s: &Signals) -> f64 {
    let t = Terms::of(s);
    let w = WEIGHTS;
    let raw =
        w.reviews * t.reviews + w.orders * t.orders + w.views * t.views + w.response * t.response;
    (raw * 10_000.0).round() / 10_000.0
}

pub use super::user::SellerLevel;

/// The window levels look at.
pub const LEVEL_WINDOW: Duration = Duration::days(60);

/// What a freelancer did in the last [`LEVEL_WINDOW`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub completed: u32,
    pub earnings: Money,
    pub on_time: u32,
    /// Ratings received in the window: sum and count.
    pub window_ratings: (u64, u64),
    /// Every rating ever received: used when the window has none.
    pub lifetime_ratings: (u64, u64),
    /// Days since the account was opened.
    pub member_days: i64,
}

impl Record {
    /// The record from the orders completed in the window and the ratings received in it.
    pub fn of(
        completed: &[Order],
        window_ratings: &[u8],
        lifetime_ratings: (u64, u64),
        member_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Record {
        let earnings = Money::from_fen(completed.iter().map(|o| o.freelancer_earnings.fen()).sum());
        Record {
            completed: u32::try_from(completed.len()).unwrap_or(u32::MAX),
            earnings,
            on_time: u32::try_from(completed.iter().filter(|o| o.delivered_on_time()).count())
                .unwrap_or(u32::MAX),
            window_ratings: (
                window_ratings.iter().map(|r| u64::from(*r)).sum(),
                window_ratings.len() as u64,
            ),
            lifetime_ratings,
            member_days: (now - member_since).num_days(),
        }
    }
}

/// What each level asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub level: SellerLevel,
    pub completed: u32,
    pub earnings_yuan: i64,
    /// Rating in tenths of a star (44 = 4.4).
    pub rating_tenths: u64,
    pub on_time_percent: u64,
    pub member_days: i64,
}

/// Highest first: a freelancer gets the first level whose bar they clear.
const BARS: [Bar; 3] = [
    Bar {
        level: SellerLevel::TopRated,
        completed: 50,
        earnings_yuan: 50_000,
        rating_tenths: 48,
        on_time_percent: 95,
        member_days: 180,
    },
    Bar {
        level: SellerLevel::LevelTwo,
        completed: 20,
        earnings_yuan: 10_000,
        rating_tenths: 46,
        on_time_percent: 90,
        member_days: 120,
    },
    Bar {
        level: SellerLevel::LevelOne,
        completed: 5,
        earnings_yuan: 2_000,
        rating_tenths: 44,
        on_time_percent: 90,
        member_days: 60,
    },
];

impl Bar {
    fn cleared_by(&self, r: &Record) -> bool {
        let (sum, count) = if r.window_ratings.1 > 0 {
            r.window_ratings
        } else {
            r.lifetime_ratings
        };
        r.completed >= self.completed
            && r.earnings.fen() >= self.earnings_yuan * 100
            && count > 0
            && sum * 10 >= self.rating_tenths * count
            && u64::from(r.on_time) * 100 >= self.on_time_percent * u64::from(r.completed)
            && r.member_days >= self.member_days
    }
}

pub fn level(r: &Record) -> SellerLevel {
    BARS.iter()
        .find(|b| b.cleared_by(r))
        .map_or(SellerLevel::New, |b| b.level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(rating_sum: u64, reviews: u64, orders: u64, views: u64, rate: i64) -> Signals {
        Signals {
            rating_sum,
            reviews,
            orders,
            views,
            response_rate: Decimal::new(rate, 0),
        }
    }

    #[test]
    fn scores_of_fixed_inputs() {
        // Nothing yet: the prior rating (3★ → ½ of the reviews term) and nothing else.
        assert_eq!(score(&signals(0, 0, 0, 0, 0)), 0.2);
        // 5, 4, 4 (13/3), 3 orders, 250 views: 0.4·0.625 + 0.3·3/13 + 0.2·⅓ = 0.3859.
        assert_eq!(score(&signals(13, 3, 3, 250, 0)), 0.3859);
        // 100 reviews of 5★, 90 orders, 4,500 views, 100 % response:
        // 0.4·(515/105 − 1)/4 + 0.3·0.9 + 0.2·0.9 + 0.1 = 0.9405.
        assert_eq!(score(&signals(500, 100, 90, 4500, 100)), 0.9405);
        // Every term is capped by its weight however far its count goes.
        assert!(score(&signals(0, 0, u64::MAX / 2, 0, 0)) <= 0.2 + 0.3);
        assert!(score(&signals(0, 0, 0, u64::MAX / 2, 0)) <= 0.2 + 0.2);
    }

    #[test]
    fn one_perfect_review_does_not_beat_a_long_excellent_record() {
        let one = score(&signals(5, 1, 1, 0, 0));
        let many = score(&signals(490, 100, 1, 0, 0));
        assert!(many > one, "{many} vs {one}");
        // And a bad review lowers a service below one with none.
        assert!(score(&signals(1, 1, 0, 0, 0)) < score(&signals(0, 0, 0, 0, 0)));
    }

    fn record(completed: u32, yuan: i64, on_time: u32, ratings: (u64, u64), days: i64) -> Record {
        Record {
            completed,
            earnings: Money::from_fen(yuan * 100),
            on_time,
            window_ratings: ratings,
            lifetime_ratings: (0, 0),
            member_days: days,
        }
    }

    #[test]
    fn levels_at_each_bar_and_just_below_it() {
        assert_eq!(level(&record(0, 0, 0, (0, 0), 0)), SellerLevel::New);
        // Level one: 5 orders, ¥2,000, 4.4★, 90 % on time, 60 days.
        assert_eq!(
            level(&record(5, 2000, 5, (22, 5), 60)),
            SellerLevel::LevelOne
        );
        assert_eq!(level(&record(4, 2000, 4, (22, 5), 60)), SellerLevel::New);
        assert_eq!(level(&record(5, 1999, 5, (22, 5), 60)), SellerLevel::New);
        assert_eq!(level(&record(5, 2000, 5, (219, 50), 60)), SellerLevel::New); // 4.38★
        assert_eq!(level(&record(10, 2000, 8, (44, 10), 60)), SellerLevel::New); // 80 %
        assert_eq!(level(&record(5, 2000, 5, (22, 5), 59)), SellerLevel::New);
        // Level two: 20 orders, ¥10,000, 4.6★, 90 %, 120 days.
        assert_eq!(
            level(&record(20, 10_000, 18, (92, 20), 120)),
            SellerLevel::LevelTwo
        );
        assert_eq!(
            level(&record(20, 9_999, 18, (92, 20), 120)),
            SellerLevel::LevelOne
        );
        // Top rated: 50 orders, ¥50,000, 4.8★, 95 %, 180 days.
        assert_eq!(
            level(&record(50, 50_000, 48, (240, 50), 180)),
            SellerLevel::TopRated
        );
        assert_eq!(
            level(&record(50, 50_000, 47, (240, 50), 180)),
            SellerLevel::LevelTwo
        );
        assert_eq!(
            level(&record(50, 50_000, 48, (240, 50), 179)),
            SellerLevel::LevelTwo
        );
    }

    #[test]
    fn without_ratings_in_the_window_the_lifetime_rating_counts() {
        let mut r = record(5, 2000, 5, (0, 0), 90);
        assert_eq!(level(&r), SellerLevel::New, "never rated");
        r.lifetime_ratings = (45, 10);
        assert_eq!(level(&r), SellerLevel::LevelOne);
        r.lifetime_ratings = (43, 10);
        assert_eq!(level(&r), SellerLevel::New);
    }
}

/// What the hourly ranking run must look at again because one of its inputs changed (the
/// stream marks it; see `app::ranking::run_hourly`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RankTarget {
    /// Its ratings, orders or views changed, or it was published.
    Service(super::ServiceId),
    /// Their reviews or completed orders changed: their level, and so every service of theirs.
    Freelancer(super::UserId),
}

/// How often the whole catalogue is ranked again, whatever changed: levels and response rates
/// move with time alone (orders leave the 60-day window, accounts grow older).
pub const FULL_PASS_EVERY: Duration = Duration::hours(24);
