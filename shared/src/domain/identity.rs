//! 实名认证 values: a resident identity card number and a real name. Both are sensitive
//! personal information under PIPL: they are encrypted at rest, never logged, and shown only
//! masked.

use std::fmt;

use chrono::{Datelike, NaiveDate, Utc};

use crate::i18n::Text;

/// An 18-character PRC resident identity number (GB 11643-1999): 17 digits and a check
/// character (`0-9` or `X`) computed with the ISO 7064 MOD 11-2 weights, with a real date of
/// birth in positions 7–14. Upper-cased on input. `Debug` shows it masked.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

impl IdNumber {
    pub fn parse(raw: &str) -> Result<IdNumber, Text> {
        let s: String = raw.trim().to_ascii_uppercase();
        let invalid = || {
            Text::new(
                "身份证号码格式不正确",
                "The ID number is not a valid resident identity card number",
            )
        };
        let b = s.as_bytes();
        if b.len() != 18
            || !b[..17].iter().all(u8::is_ascii_digit)
            || !(b[17].is_ascii_digit() || b[17] == b'X')
            || b[0] == b'0'
        {
            return Err(invalid());
        }
        let sum: u32 = b[..17]
            .iter()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        if CHECK[(sum % 11) as usize] != b[17] {
            return Err(Text::new(
                "身份证号码校验位不正确",
                "The ID number's check digit is wrong",
            ));
        }
        let birth = NaiveDate::parse_from_str(&s[6..14], "%Y%m%d").map_err(|_| invalid())?;
        if birth.year() < 1900 || birth > Utc::now().date_naive() {
            return Err(invalid());
        }
        Ok(IdNumber(s))
    }

    /// Only for encryption and the blind index; never for display or logs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `1101**********002X`: the region prefix and the last four.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// A legal name as on the identity card: 2–30 characters of Chinese characters, letters,
/// the middle dot of minority and transliterated names (`·`), and single spaces.
#[derive(Clone, PartialEq, Eq)]
pub struct RealName(String);

impl RealName {
    pub fn parse(raw: &str) -> Result<RealName, Text> {
        let s = raw.trim();
        let len = s.chars().count();
        let allowed = |c: char| {
            ('\u{4e00}'..='\u{9fff}').contains(&c)
                || c.is_ascii_alphabetic()
                || matches!(c, '·' | '•' | ' ')
        };
        if !(2..=30).contains(&len) || !s.chars().all(allowed) || s.contains("  ") {
            return Err(Text::new(
                "请填写身份证上的真实姓名",
                "Enter your legal name as shown on your ID card",
            ));
        }
        Ok(RealName(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `张*`, `欧阳**`: the first character and a star for each of the rest.
    pub fn masked(&self) -> String {
        mask_name(&self.0)
    }
}

/// Masks a stored name the way [`RealName::masked`] does.
fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().map(String::from).unwrap_or_default();
    first + &"*".repeat(chars.count())
}

impl fmt::Debug for RealName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RealName({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_standard_example_is_valid_and_masks() {
        let id = IdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(1101**********002X)");
    }

    #[test]
    fn bad_numbers_are_refused() {
        for bad in [
            "110105194912310021",  // wrong check digit
            "11010519491231002",   // 17 characters
            "1101051949123100211", // 19 characters
            "11010519491331002X",  // month 13 (check digit would not save it)
            "01010519491231002X",  // region cannot start with 0
            "1101051949123100AX",  // letters inside
            "",
        ] {
            assert!(IdNumber::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    fn with_check(first17: &str) -> String {
        let sum: u32 = first17
            .bytes()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
    }

    proptest! {
        #[test]
        fn every_valid_number_with_one_digit_changed_is_refused(
            region in 110000u32..659999, days in 0i64..30_000, seq in 0u32..999, pos in 0usize..17, delta in 1u8..10
        ) {
            let birth = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap() + chrono::Duration::days(days);
            let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            let good = with_check(&first17);
            prop_assert!(IdNumber::parse(&good).is_ok());
            let mut bytes = good.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            // A single changed digit always changes the MOD 11-2 check character.
            prop_assert!(IdNumber::parse(std::str::from_utf8(&bytes).unwrap()).is_err());
        }
    }

    #[test]
    fn names() {
        assert_eq!(RealName::parse("张三").unwrap().masked(), "张*");
        assert_eq!(RealName::parse("欧阳娜娜").unwrap().masked(), "欧***");
        assert!(RealName::parse("阿依古丽·买买提").is_ok());
        assert!(RealName::parse("Li Lei").is_ok());
        assert!(RealName::parse("张").is_err());
        assert!(RealName::parse("张三3").is_err());
        assert!(RealName::parse("<script>").is_err());
    }
}

/// What a verification seals: the full name and identity number, opened only to review it
/// and to pay a withdrawal out to that name.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct SealedIdentity {
    pub real_name: String,
    pub id_number: String,
}

impl SealedIdentity {
    /// The JSON text that is sealed.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An opened seal; `None` if it is not one.
    pub fn from_json(json: &str) -> Option<SealedIdentity> {
        serde_json::from_str(json).ok()
    }
}

impl std::fmt::Debug for SealedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedIdentity(..)")
    }
}
