//! The operators' counters: what one change adds to them, and the overview built from them.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::order::OrderStatus;
use super::{Money, UserType};

/// The seed's monthly report of one user: for a freelancer the orders completed in the month,
/// what they earned, their rating and response rate; for a client the orders completed and
/// what they spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyReport {
    pub month: String,
    pub user_type: UserType,
    pub total_orders: u64,
    #[serde(flatten)]
    pub figures: MonthlyFigures,
}

/// What a month's report adds up for each kind of account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MonthlyFigures {
    Freelancer {
        total_earnings: Money,
        /// Two places, as the profile shows it.
        average_rating: String,
        /// Percent, two places.
        response_rate: String,
    },
    Client {
        total_spent: Money,
    },
}

/// Counter name → value (fen for money).
pub type Counters = BTreeMap<String, i64>;

/// What one change of the table adds to the counters. `id` is the change's id (the stream
/// record's), so it is counted once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterChange {
    pub id: String,
    /// The day (China time) the change happened on.
    pub day: String,
    /// Gauges (`STATS / CURRENT`): users by type, orders by status, open queues.
    pub current: Counters,
    /// Flows of the day: new users, GMV, revenue, orders paid and completed.
    pub daily: Counters,
}

impl CounterChange {
    pub fn is_empty(&self) -> bool {
        self.current.values().all(|v| *v == 0) && self.daily.values().all(|v| *v == 0)
    }

    pub fn add_current(&mut self, name: impl Into<String>, by: i64) {
        *self.current.entry(name.into()).or_default() += by;
    }

    pub fn add_daily(&mut self, name: impl Into<String>, by: i64) {
        *self.daily.entry(name.into()).or_default() += by;
    }

    /// Drops counters that cancel out (a status that did not change).
    pub fn tidy(mut self) -> CounterChange {
        self.current.retain(|_, v| *v != 0);
        self.daily.retain(|_, v| *v != 0);
        self
    }
}

/// The day of `at` in China (the marketplace's day starts at midnight in Beijing),
/// `yyyy-mm-dd`.
pub fn china_day(at: DateTime<Utc>) -> String {
    super::china_time(at).format("%Y-%m-%d").to_string()
}

pub fn china_today(now: DateTime<Utc>) -> NaiveDate {
    super::china_time(now).date_naive()
}

/// The days from `from` to `to`, both included.
pub fn days(from: NaiveDate, to: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        out.push(d.format("%Y-%m-%d").to_string());
        d += Duration::days(1);
    }
    out
}

/// The longest period the overview sums.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// What `admin-stats` shows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub users: UsersOverview,
    pub orders: BTreeMap<String, i64>,
    pub period: PeriodOverview,
    pub open_disputes: i64,
    pub open_reports: i64,
    pub pending_verifications: i64,
    pub pending_withdrawals: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsersOverview {
    pub total: i64,
    pub by_type: BTreeMap<String, i64>,
    /// Accounts that sell: registered freelancers and clients who opened a seller profile.
    pub sellers: i64,
    pub new_today: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PeriodOverview {
    pub from: String,
    pub to: String,
    pub new_users: i64,
    pub orders_paid: i64,
    pub orders_completed: i64,
    /// Yuan, two places: what clients paid for orders in the period.
    pub gmv: String,
    /// Yuan: platform fees (orders released, withdrawals paid) earned in the period.
    pub platform_revenue: String,
}

fn get(c: &Counters, name: &str) -> i64 {
    c.get(name).copied().unwrap_or(0)
}

fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

/// The overview from the gauges, today's counters and the period's days.
pub fn overview(
    current: &Counters,
    today: &Counters,
    from: &str,
    to: &str,
    period: &[Counters],
) -> Overview {
    let by_type: BTreeMap<String, i64> = [UserType::Freelancer, UserType::Client, UserType::Admin]
        .iter()
        .map(|t| {
            (
                t.as_str().to_owned(),
                get(current, &format!("users_{}", t.as_str())),
            )
        })
        .collect();
    let orders: BTreeMap<String, i64> = OrderStatus::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                get(current, &format!("orders_{}", s.as_str())),
            )
        })
        .collect();
    let sum = |name: &str| period.iter().map(|d| get(d, name)).sum::<i64>();
    Overview {
        users: UsersOverview {
            total: by_type.values().sum(),
            sellers: get(current, "users_freelancer") + get(current, "users_client_sellers"),
            by_type,
            new_today: get(today, "new_users"),
        },
        open_disputes: get(current, "orders_disputed"),
        orders,
        period: PeriodOverview {
            from: from.to_owned(),
            to: to.to_owned(),
            new_users: sum("new_users"),
            orders_paid: sum("orders_paid"),
            orders_completed: sum("orders_completed"),
            gmv: yuan(sum("gmv_fen")),
            platform_revenue: yuan(sum("revenue_fen")),
        },
        open_reports: get(current, "reports_pending"),
        pending_verifications: get(current, "verifications_pending"),
        pending_withdrawals: get(current, "withdrawals_pending"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_is_chinas() {
        let late_utc = "2026-11-23T16:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(china_day(late_utc), "2026-11-24");
        let early_utc = "2026-11-23T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(china_day(early_utc), "2026-11-23");
    }

    #[test]
    fn periods_include_both_ends() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            days(d("2026-02-27"), d("2026-03-01")),
            vec!["2026-02-27", "2026-02-28", "2026-03-01"]
        );
        assert!(days(d("2026-03-02"), d("2026-03-01")).is_empty());
    }

    #[test]
    fn the_overview_sums_the_period_and_reads_the_gauges() {
        let c = |pairs: &[(&str, i64)]| -> Counters {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
        };
        let current = c(&[
            ("users_client", 7),
            ("users_freelancer", 3),
            ("orders_disputed", 2),
            ("orders_completed", 5),
            ("reports_pending", 4),
        ]);
        let today = c(&[("new_users", 2)]);
        let period = [
            c(&[
                ("gmv_fen", 10_050),
                ("revenue_fen", 1_005),
                ("new_users", 1),
            ]),
            c(&[("gmv_fen", 20_000), ("orders_paid", 2)]),
        ];
        let o = overview(&current, &today, "2026-11-01", "2026-11-02", &period);
        assert_eq!(o.users.total, 10);
        assert_eq!(o.users.new_today, 2);
        assert_eq!(o.open_disputes, 2);
        assert_eq!(o.orders["completed"], 5);
        assert_eq!(o.orders["pending"], 0);
        assert_eq!(o.period.gmv, "300.50");
        assert_eq!(o.period.platform_revenue, "10.05");
        assert_eq!(o.period.orders_paid, 2);
        assert_eq!(o.open_reports, 4);
    }
}
