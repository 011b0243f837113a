//! Validated values. Each type can only be built by `parse`, so holding one proves the input
//! met the rule; the error is the bilingual text shown next to the field.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::i18n::Text;

/// A login name: 3–30 characters of letters, digits, `_`, `-` or CJK ideographs, not all
/// digits (so it can never be mistaken for a phone number at login) and without `@` (so it
/// can never be mistaken for an email). Compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, Text> {
        let s = raw.trim();
        let len = s.chars().count();
        if !(3..=30).contains(&len) {
            return Err(Text::new(
                "用户名长度需为 3 到 30 个字符",
                "Username must be 3 to 30 characters long",
            ));
        }
        let allowed = |c: char| {
            c.is_ascii_alphanumeric()
                || c == '_'
                || c == '-'
                || ('\u{4e00}'..='\u{9fff}').contains(&c)
        };
        if !s.chars().all(allowed) {
            return Err(Text::new(
                "用户名只能包含字母、数字、汉字、下划线和连字符",
                "Username may contain only letters, digits, Chinese characters, underscores and hyphens",
            ));
        }
        if s.chars().all(|c| c.is_ascii_digit()) {
            return Err(Text::new(
                "用户名不能全是数字",
                "Username cannot be all digits",
            ));
        }
        Ok(Username(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and login lookups.
    pub fn canonical(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An email address, stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, Text> {
        let s = raw.trim().to_lowercase();
        let invalid = || Text::new("邮箱地址格式不正确", "Email address is not valid");
        if s.len() > 254 {
            return Err(invalid());
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            &s,
            email_address::Options::default()
                .without_display_text()
                .without_domain_literal(),
        )
        .map_err(|_| invalid())?;
        // A real mailbox has a dotted domain; `user@localhost` is not one we can deliver to.
        if !parsed.domain().contains('.') {
            return Err(invalid());
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A mainland China mobile number, `^1[3-9]\d{9}$`. `+86` / `86` prefixes and spaces or
/// hyphens are accepted on input and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, Text> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| {
                (compact.len() == 13)
                    .then(|| compact.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&compact);
        let b = digits.as_bytes();
        let ok = b.len() == 11
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && b.iter().all(u8::is_ascii_digit);
        if !ok {
            return Err(Text::new(
                "请输入有效的中国大陆手机号",
                "Enter a valid mainland China mobile number",
            ));
        }
        Ok(Phone(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: for logs and anywhere the full number must not appear.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// A WeChat id: 6–20 characters, starting with a letter, then letters, digits, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WechatId(String);

impl WechatId {
    pub fn parse(raw: &str) -> Result<WechatId, Text> {
        let s = raw.trim();
        let len = s.chars().count();
        if !(6..=20).contains(&len) {
            return Err(Text::new(
                "微信号长度需为 6 到 20 个字符",
                "WeChat ID must be 6 to 20 characters long",
            ));
        }
        let mut chars = s.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        if !starts_with_letter
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Text::new(
                "微信号须以字母开头，只能包含字母、数字、下划线和连字符",
                "WeChat ID must start with a letter and contain only letters, digits, underscores and hyphens",
            ));
        }
        Ok(WechatId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password that meets the policy: 8–128 characters, at least one letter and one digit,
/// not a well-known password, and not containing the username. Never logged or serialised.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Passwords that meet the length and character rules but are among the most common.
const COMMON_PASSWORDS: &[&str] = &[
    "password1",
    "password123",
    "passw0rd",
    "qwerty123",
    "abc12345",
    "abcd1234",
    "1qaz2wsx",
    "a1234567",
    "a12345678",
    "aa123456",
    "qq123456",
    "woaini1314",
    "iloveyou1",
    "admin123",
    "admin888",
    "test1234",
    "12345678a",
    "123456789a",
    "1q2w3e4r",
    "zxcv1234",
    "asdf1234",
    "qwer1234",
    "letmein1",
    "welcome1",
    "p@ssw0rd",
    "1234qwer",
    "123qwe123",
    "5201314a",
];

impl Password {
    pub fn parse(raw: &str, username: Option<&str>) -> Result<Password, Text> {
        let len = raw.chars().count();
        if len < 8 {
            return Err(Text::new(
                "密码至少需要 8 个字符",
                "Password must be at least 8 characters long",
            ));
        }
        if len > 128 {
            return Err(Text::new(
                "密码不能超过 128 个字符",
                "Password must be at most 128 characters long",
            ));
        }
        let has_letter = raw.chars().any(char::is_alphabetic);
        let has_digit = raw.chars().any(|c| c.is_ascii_digit());
        if !has_letter || !has_digit {
            return Err(Text::new(
                "密码需同时包含字母和数字",
                "Password must contain both letters and digits",
            ));
        }
        let lower = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Err(Text::new(
                "密码过于常见，请换一个",
                "Password is too common; choose another",
            ));
        }
        if let Some(name) = username {
            let name = name.trim().to_lowercase();
            if name.chars().count() >= 3 && lower.contains(&name) {
                return Err(Text::new(
                    "密码不能包含用户名",
                    "Password must not contain the username",
                ));
            }
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(Username::parse("li_lei").is_ok());
        assert!(Username::parse("设计师小王").is_ok());
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(31)).is_err());
        assert!(Username::parse("13800138000").is_err());
        assert!(Username::parse("me@example.com").is_err());
        assert!(Username::parse("bad name").is_err());
        assert_eq!(Username::parse("LiLei").unwrap().canonical(), "lilei");
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            Email::parse(" Li@Example.COM ").unwrap().as_str(),
            "li@example.com"
        );
        assert!(Email::parse("li@example").is_err());
        assert!(Email::parse("not an email").is_err());
        assert!(Email::parse("Li Lei <li@example.com>").is_err());
    }

    #[test]
    fn phone_rules() {
        assert_eq!(Phone::parse("13800138000").unwrap().as_str(), "13800138000");
        assert_eq!(
            Phone::parse("+86 138-0013-8000").unwrap().as_str(),
            "13800138000"
        );
        assert_eq!(
            Phone::parse("8613800138000").unwrap().as_str(),
            "13800138000"
        );
        for bad in [
            "12800138000",
            "1380013800",
            "138001380001",
            "1380013800a",
            "",
            "+1 415 555 0100",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(Phone::parse("13800138000").unwrap().masked(), "138****8000");
    }

    #[test]
    fn wechat_id_rules() {
        assert!(WechatId::parse("wxid_abc123").is_ok());
        assert!(WechatId::parse("abc12").is_err());
        assert!(WechatId::parse("1abcdef").is_err());
        assert!(WechatId::parse("abc def1").is_err());
        assert!(WechatId::parse(&format!("a{}", "b".repeat(20))).is_err());
    }

    #[test]
    fn password_policy() {
        assert!(Password::parse("Gigbao2026!", None).is_ok());
        assert!(Password::parse("short1", None).is_err());
        assert!(Password::parse("onlyletters", None).is_err());
        assert!(Password::parse("1234567890", None).is_err());
        assert!(Password::parse("Password123", None).is_err());
        assert!(Password::parse("lilei2026x", Some("LiLei")).is_err());
        assert!(Password::parse(&format!("a1{}", "x".repeat(127)), None).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("Gigbao2026!", None).unwrap()),
            "Password(***)"
        );
    }
}
