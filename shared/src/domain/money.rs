//! Money in CNY. In the API it is a decimal string with two places (`"199.00"`), in code a
//! [`Money`] over `rust_decimal::Decimal`, in DynamoDB integer fen. Never a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of CNY with exactly two decimal places. Negative amounts exist (ledger postings);
/// callers that need a positive amount check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not a decimal amount")]
    NotANumber,
    /// Not written as the API writes amounts: two places, no sign but `-`, no spacing or
    /// leading zeros ("199.00", not "199", "+199.00", " 199.00" or "0199.00").
    #[error("amounts are written with two decimal places, like 199.00")]
    NotCanonical,
    #[error("more than two decimal places")]
    TooPrecise,
    #[error("amount out of range")]
    OutOfRange,
}

/// `#[serde(with = "fen")]`: a money field stored as integer fen.
pub mod fen {
    use super::Money;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(m.fen())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        i64::deserialize(d).map(Money::from_fen)
    }
}

/// The platform keeps 20% of every order.
const FEE_RATE: Decimal = Decimal::from_parts(20, 0, 0, false, 2);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// From integer fen (1 CNY = 100 fen).
    pub fn from_fen(fen: i64) -> Money {
        Money(Decimal::new(fen, 2))
    }

    /// To integer fen. Exact, because a `Money` never has more than two places.
    pub fn fen(&self) -> i64 {
        let scaled = self.0 * Decimal::ONE_HUNDRED;
        i64::try_from(scaled).unwrap_or(if scaled.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
    }

    pub fn decimal(&self) -> Decimal {
        self.0
    }

    pub fn is_positive(&self) -> bool {
        self.0 > Decimal::ZERO
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// The platform fee on an order total: 20%, rounded half-up to the fen.
    pub fn platform_fee(self) -> Money {
        Money((self.0 * FEE_RATE).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))
    }

    /// Splits an order total into `(platform_fee, freelancer_earnings)`; the two always add up
    /// to the total exactly.
    pub fn split_fee(self) -> (Money, Money) {
        let fee = self.platform_fee();
        (fee, Money(self.0 - fee.0))
    }
}

/// Whether `s` is digits with no leading zero (or a lone `0`).
fn whole_part(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

impl Money {
    /// An amount as the API writes it, and as it accepts it in every request body: `-?`,
    /// whole yuan without leading zeros, `.`, exactly two places — the OpenAPI pattern
    /// [`Money::PATTERN`].
    fn parse_canonical(s: &str) -> Result<Money, MoneyError> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        let Some((whole, places)) = digits.split_once('.') else {
            return Err(Self::diagnose(s));
        };
        if !whole_part(whole) || places.len() != 2 || !places.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Self::diagnose(s));
        }
        Self::from_decimal_str(s)
    }

    /// An amount in a query parameter, as people type one: whole yuan, or with one or two
    /// places ("500", "99.5", "99.50"); never negative. The pattern [`Money::QUERY_PATTERN`].
    pub fn parse_query(s: &str) -> Result<Money, MoneyError> {
        let (whole, places) = s.split_once('.').unwrap_or((s, "00"));
        if !whole_part(whole)
            || places.is_empty()
            || places.len() > 2
            || !places.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Self::diagnose(s));
        }
        Self::from_decimal_str(s)
    }

    pub const PATTERN: &'static str = r"^-?(0|[1-9][0-9]*)\.[0-9]{2}$";
    pub const QUERY_PATTERN: &'static str = r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$";

    /// Why a string is not an amount: not a number at all, too many places, or a number
    /// written another way.
    fn diagnose(s: &str) -> MoneyError {
        match Decimal::from_str(s.trim()) {
            Err(_) => MoneyError::NotANumber,
            Ok(d) if d.scale() > 2 && d.normalize().scale() > 2 => MoneyError::TooPrecise,
            Ok(_) => MoneyError::NotCanonical,
        }
    }

    fn from_decimal_str(s: &str) -> Result<Money, MoneyError> {
        let d = Decimal::from_str(s).map_err(|_| MoneyError::NotANumber)?;
        // ±90 trillion CNY keeps every amount representable in i64 fen with room to add.
        if d.abs() > Decimal::from(90_000_000_000_000i64) {
            return Err(MoneyError::OutOfRange);
        }
        let mut d = d.normalize();
        d.rescale(2);
        Ok(Money(d))
    }
}

/// The API's own form ([`Money::parse_canonical`]).
impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Money, MoneyError> {
        Money::parse_canonical(s)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = self.0;
        d.rescale(2);
        write!(f, "{d}")
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// In the OpenAPI document: a decimal string with two places, never a number.
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(Money::PATTERN))
            .description(Some(
                "人民币金额，两位小数的字符串 / CNY, a decimal string with two places",
            ))
            .examples([serde_json::json!("199.00")])
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn money_is_read_only_in_the_form_the_api_writes_it() {
        assert_eq!("199.00".parse::<Money>().unwrap().to_string(), "199.00");
        assert_eq!("0.01".parse::<Money>().unwrap().fen(), 1);
        assert_eq!("-3.50".parse::<Money>().unwrap().fen(), -350);
        for other in [
            "199", "199.5", "199.500", "+199.00", " 199.00", "199.00 ", "0199.00",
        ] {
            assert_eq!(
                other.parse::<Money>(),
                Err(MoneyError::NotCanonical),
                "{other}"
            );
        }
        assert_eq!("199.001".parse::<Money>(), Err(MoneyError::TooPrecise));
        assert_eq!("abc".parse::<Money>(), Err(MoneyError::NotANumber));
        assert_eq!("1e3".parse::<Money>(), Err(MoneyError::NotCanonical));
        assert_eq!("".parse::<Money>(), Err(MoneyError::NotANumber));
    }

    #[test]
    fn query_amounts_may_leave_out_the_places() {
        assert_eq!(Money::parse_query("500").unwrap().fen(), 50_000);
        assert_eq!(Money::parse_query("99.5").unwrap().fen(), 9_950);
        assert_eq!(Money::parse_query("99.50").unwrap().fen(), 9_950);
        assert_eq!(Money::parse_query("0").unwrap().fen(), 0);
        for bad in ["-1", "+1", " 1", "01", "1.", "1.234", "1e3", "", "abc"] {
            assert!(Money::parse_query(bad).is_err(), "{bad}");
        }
    }

    /// The two parsers accept exactly what their documented patterns match.
    #[test]
    fn the_parsers_and_the_documented_patterns_agree() {
        let canonical = regex::Regex::new(Money::PATTERN).unwrap();
        let query = regex::Regex::new(Money::QUERY_PATTERN).unwrap();
        for s in [
            "0.00",
            "-0.00",
            "1.00",
            "10.50",
            "-99.99",
            "100",
            "1.5",
            "01.00",
            "+1.00",
            "1.234",
            " 1.00",
            "1.00\n",
            "",
            ".50",
            "1.",
            "-1",
            "1e2",
            "１.００",
        ] {
            assert_eq!(
                Money::parse_canonical(s).is_ok(),
                canonical.is_match(s),
                "{s:?}"
            );
            assert_eq!(Money::parse_query(s).is_ok(), query.is_match(s), "{s:?}");
        }
    }

    #[test]
    fn fee_is_twenty_percent_rounded_half_up() {
        // 0.03 * 0.2 = 0.006 → 0.01
        assert_eq!(Money::from_fen(3).platform_fee(), Money::from_fen(1));
        // 0.02 * 0.2 = 0.004 → 0.00
        assert_eq!(Money::from_fen(2).platform_fee(), Money::from_fen(0));
        // 0.025 would be the midpoint: 12.5 fen of 62.5 → 0.13
        assert_eq!(Money::from_fen(6250).platform_fee(), Money::from_fen(1250));
        assert_eq!(Money::from_fen(63).platform_fee(), Money::from_fen(13));
        assert_eq!(
            "199.00".parse::<Money>().unwrap().split_fee(),
            (Money::from_fen(3980), Money::from_fen(15920))
        );
    }

    proptest! {
        #[test]
        fn fee_and_earnings_always_add_up(fen in 0i64..10_000_000_000) {
            let total = Money::from_fen(fen);
            let (fee, earnings) = total.split_fee();
            prop_assert_eq!(fee.fen() + earnings.fen(), fen);
            prop_assert!(fee.fen() >= 0 && earnings.fen() >= 0);
            // Half-up to the fen: |fee − 0.2·total| ≤ 0.5 fen.
            prop_assert!((fee.fen() * 10 - fen * 2).abs() <= 5);
        }

        #[test]
        fn fen_round_trips_through_strings(fen in -10_000_000_000i64..10_000_000_000) {
            let m = Money::from_fen(fen);
            prop_assert_eq!(m.to_string().parse::<Money>().unwrap(), m);
            prop_assert_eq!(m.fen(), fen);
        }
    }
}
