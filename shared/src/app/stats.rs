//! The operators' overview (from the maintained counters) and the users' monthly reports.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::domain::order::OrderStatus;
use crate::domain::stats::{self, MAX_PERIOD_DAYS, MonthlyFigures, MonthlyReport, Overview};
use crate::domain::{Money, User, UserStatus, UserType};
use crate::store::{OrderListing, Store, StoreError, all_pages};

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    #[error("the period ends before it starts")]
    Reversed,
    #[error("the period is longer than {MAX_PERIOD_DAYS} days")]
    TooLong,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `admin-stats`: the gauges, today, and the flows of `from..=to` (China days; both default
/// to today). Reads one item per day plus one, never a scan.
pub async fn overview(
    store: &Store,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Overview, StatsError> {
    let today = stats::china_today(now);
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to);
    if to < from {
        return Err(StatsError::Reversed);
    }
    if (to - from).num_days() >= MAX_PERIOD_DAYS {
        return Err(StatsError::TooLong);
    }
    let mut days = stats::days(from, to);
    let today_key = today.format("%Y-%m-%d").to_string();
    if !days.contains(&today_key) {
        days.push(today_key.clone());
    }
    let (current, daily) = store.read_counters(&days).await?;
    let today_counts = daily
        .iter()
        .find(|(d, _)| *d == today_key)
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    let from_key = from.format("%Y-%m-%d").to_string();
    let to_key = to.format("%Y-%m-%d").to_string();
    let period: Vec<_> = daily
        .into_iter()
        .filter(|(d, _)| *d >= from_key && *d <= to_key)
        .map(|(_, c)| c)
        .collect();
    Ok(stats::overview(
        &current,
        &today_counts,
        &from_key,
        &to_key,
        &period,
    ))
}

/// The month before `now` (China time): `(yyyy-mm, start, end)` as instants.
pub fn previous_month(now: DateTime<Utc>) -> (String, DateTime<Utc>, DateTime<Utc>) {
    let local = crate::domain::china_time(now);
    let china = *local.offset();
    let first_this = NaiveDate::from_ymd_opt(local.year(), local.month(), 1).unwrap_or_default();
    let first_prev = (first_this - Duration::days(1))
        .with_day(1)
        .unwrap_or(first_this);
    let instant = |d: NaiveDate| {
        china
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now)
    };
    (
        first_prev.format("%Y-%m").to_string(),
        instant(first_prev),
        instant(first_this),
    )
}

/// The seed's monthly report: for a seller the orders they completed in the month, what they
/// earned, their rating and response rate; for a buyer the orders completed and what they
/// spent. An account with both roles is reported as the seller when it sold that month, else
/// as the buyer. `None` when the user did nothing that month.
pub async fn monthly_report(
    store: &Store,
    user: &User,
    month: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Option<MonthlyReport>, StoreError> {
    if user.status != UserStatus::Active || user.is_admin() {
        return Ok(None);
    }
    let completed = |listing| async move {
        let orders =
            all_pages(|c| async move { store.list_orders(listing, 100, c.as_deref()).await })
                .await?;
        let (mut count, mut earned, mut spent) = (0u64, 0i64, 0i64);
        for o in orders
            .iter()
            .filter(|o| o.completed_at.is_some_and(|t| t >= start && t < end))
        {
            count += 1;
            earned += o.freelancer_earnings.fen();
            spent += o.total_amount.fen();
        }
        Ok::<_, StoreError>((count, earned, spent))
    };
    if user.is_seller()
        && let Some(p) = &user.freelancer_profile
    {
        let (count, earned, _) = completed(OrderListing::Freelancer(
            user.id,
            Some(OrderStatus::Completed),
        ))
        .await?;
        if count > 0 {
            return Ok(Some(MonthlyReport {
                month: month.to_owned(),
                user_type: UserType::Freelancer,
                total_orders: count,
                figures: MonthlyFigures::Freelancer {
                    total_earnings: Money::from_fen(earned),
                    average_rating: p.rating.to_string(),
                    response_rate: p.response_rate.to_string(),
                },
            }));
        }
    }
    let (count, _, spent) =
        completed(OrderListing::Client(user.id, Some(OrderStatus::Completed))).await?;
    Ok((count > 0).then(|| MonthlyReport {
        month: month.to_owned(),
        user_type: UserType::Client,
        total_orders: count,
        figures: MonthlyFigures::Client {
            total_spent: Money::from_fen(spent),
        },
    }))
}
