//! Editing a profile (`PATCH /users/profile`). The body is a JSON object of the fields to
//! change; a field set to `null` clears an optional field. Fields the platform computes
//! (rating, counters, featured, verified…) or that have their own flow (username, email,
//! phone, avatar) are refused with their names, as are fields the profile does not have, so a
//! client never believes a write happened when it did not.

use serde_json::{Map, Value};

use super::{ClientProfile, FreelancerProfile, Money, User, UserType, WechatId};
use crate::i18n::Text;

/// Fields that exist but are never written through the profile.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "username",
    "email",
    "phone",
    "user_type",
    "status",
    "avatar",
    "is_verified",
    "email_verified",
    "phone_verified",
    "has_password",
    "verification",
    "rating",
    "total_reviews",
    "is_featured",
    "response_rate",
    "response_time",
    "seller_level",
    "created_at",
    "updated_at",
];

const FREELANCER_FIELDS: &[&str] = &[
    "notification_preferences",
    "bio",
    "skills",
    "hourly_rate",
    "portfolio_url",
    "linkedin_url",
    "wechat_id",
    "location",
    "languages",
    "education",
    "experience_years",
];

const CLIENT_FIELDS: &[&str] = &[
    "notification_preferences",
    "company_name",
    "company_size",
    "industry",
    "website",
    "location",
    "budget_range",
];

const LANGUAGE_LEVELS: &[&str] = &["native", "fluent", "conversational", "basic"];

/// Why a patch was refused. Each list names fields, with the message for each.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// Computed or owned by another flow.
    #[error("read-only fields: {0:?}")]
    ReadOnly(Vec<String>),
    /// Not a field of this user's profile.
    #[error("unknown fields: {0:?}")]
    Unknown(Vec<String>),
    /// Present and writable, but the value breaks a rule.
    #[error("invalid fields")]
    Invalid(Vec<(String, Text)>),
    /// Nothing to change.
    #[error("nothing to change")]
    Empty,
}

/// Applies `patch` to `user`'s profile. On error `user` is unchanged.
pub fn apply_patch(user: &mut User, patch: Map<String, Value>) -> Result<(), PatchError> {
    let patch = flatten(patch);
    if patch.is_empty() {
        return Err(PatchError::Empty);
    }
    let allowed: &[&str] = match user.user_type {
        UserType::Freelancer => FREELANCER_FIELDS,
        UserType::Client => CLIENT_FIELDS,
        UserType::Admin => &[],
    };
    let read_only: Vec<String> = patch
        .keys()
        .filter(|k| READ_ONLY_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !read_only.is_empty() {
        return Err(PatchError::ReadOnly(read_only));
    }
    let unknown: Vec<String> = patch
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(PatchError::Unknown(unknown));
    }
    let mut errors = Vec::new();
    let mut preferences = user.notification_preferences;
    if let Some(v) = patch.get("notification_preferences") {
        match v.as_object() {
            Some(m)
                if m.keys().all(|k| k == "email" || k == "sms")
                    && m.values().all(Value::is_boolean) =>
            {
                if let Some(b) = m.get("email").and_then(Value::as_bool) {
                    preferences.email = b;
                }
                if let Some(b) = m.get("sms").and_then(Value::as_bool) {
                    preferences.sms = b;
                }
            }
            _ => errors.push((
                "notification_preferences".to_owned(),
                Text::new(
                    "notification_preferences 须为 {email: true|false, sms: true|false}",
                    "notification_preferences must be {email: true|false, sms: true|false}",
                ),
            )),
        }
    }
    match user.user_type {
        UserType::Freelancer => {
            let mut p = user.freelancer_profile.clone().unwrap_or_default();
            patch_freelancer(&mut p, &patch, &mut errors);
            if errors.is_empty() {
                user.freelancer_profile = Some(p);
            }
        }
        UserType::Client => {
            let mut p = user.client_profile.clone().unwrap_or_default();
            patch_client(&mut p, &patch, &mut errors);
            if errors.is_empty() {
                user.client_profile = Some(p);
            }
        }
        UserType::Admin => {}
    }
    if errors.is_empty() {
        user.notification_preferences = preferences;
        Ok(())
    } else {
        Err(PatchError::Invalid(errors))
    }
}

/// Accepts the fields flat or nested the way `GET /users/profile` returns them.
fn flatten(mut patch: Map<String, Value>) -> Map<String, Value> {
    for nested in ["freelancer_profile", "client_profile"] {
        if let Some(Value::Object(inner)) = patch.get(nested).cloned() {
            patch.remove(nested);
            for (k, v) in inner {
                patch.entry(k).or_insert(v);
            }
        }
    }
    patch
}

type Errors = Vec<(String, Text)>;

fn patch_freelancer(p: &mut FreelancerProfile, patch: &Map<String, Value>, errors: &mut Errors) {
    for (field, value) in patch {
        let f = field.as_str();
        let result: Result<(), Text> = match f {
            "bio" => text(value, 0, 2000, false).map(|v| p.bio = v.unwrap_or_default()),
            "location" => text(value, 0, 200, false).map(|v| p.location = v.unwrap_or_default()),
            "portfolio_url" => url(value, None).map(|v| p.portfolio_url = v),
            "linkedin_url" => url(value, Some("linkedin.com")).map(|v| p.linkedin_url = v),
            "wechat_id" => match value {
                Value::Null => {
                    p.wechat_id = None;
                    Ok(())
                }
                Value::String(s) if s.trim().is_empty() => {
                    p.wechat_id = None;
                    Ok(())
                }
                Value::String(s) => {
                    WechatId::parse(s).map(|w| p.wechat_id = Some(w.as_str().to_owned()))
                }
                _ => Err(must_be_string()),
            },
            "hourly_rate" => hourly_rate(value).map(|v| p.hourly_rate = v),
            "skills" => skills(value).map(|v| p.skills = v),
            "languages" => languages(value).map(|v| p.languages = v),
            "education" => education(value).map(|v| p.education = v),
            "experience_years" => match value.as_u64() {
                Some(n) if n <= 60 => {
                    p.experience_years = n as u32;
                    Ok(())
                }
                _ => Err(Text::new(
                    "从业年限须为 0 到 60 的整数",
                    "experience_years must be a whole number from 0 to 60",
                )),
            },
            _ => Ok(()),
        };
        if let Err(t) = result {
            errors.push((field.clone(), t));
        }
    }
}

fn patch_client(p: &mut ClientProfile, patch: &Map<String, Value>, errors: &mut Errors) {
    for (field, value) in patch {
        let result: Result<(), Text> = match field.as_str() {
            "company_name" => text(value, 1, 200, true).map(|v| p.company_name = v),
            "company_size" => text(value, 1, 50, true).map(|v| p.company_size = v),
            "industry" => text(value, 1, 100, true).map(|v| p.industry = v),
            "budget_range" => text(value, 1, 100, true).map(|v| p.budget_range = v),
            "location" => text(value, 0, 200, false).map(|v| p.location = v.unwrap_or_default()),
            "website" => url(value, None).map(|v| p.website = v),
            _ => Ok(()),
        };
        if let Err(t) = result {
            errors.push((field.clone(), t));
        }
    }
}

fn must_be_string() -> Text {
    Text::new("须为字符串", "Must be a string")
}

/// A trimmed string of `min..=max` characters without control characters; `null` (or an
/// empty string where `nullable`) clears it.
fn text(value: &Value, min: usize, max: usize, nullable: bool) -> Result<Option<String>, Text> {
    let s = match value {
        Value::Null => return Ok(None),
        Value::String(s) => s.trim(),
        _ => return Err(must_be_string()),
    };
    if s.is_empty() && nullable {
        return Ok(None);
    }
    let len = s.chars().count();
    if len < min || len > max {
        return Err(Text::owned(
            format!("长度须在 {min} 到 {max} 个字符之间"),
            format!("Must be {min} to {max} characters long"),
        ));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Text::new(
            "不能包含控制字符",
            "Must not contain control characters",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// An `http(s)` URL of at most 200 characters with a dotted host, optionally on `domain`.
fn url(value: &Value, domain: Option<&str>) -> Result<Option<String>, Text> {
    let Some(s) = text(value, 1, 200, true)? else {
        return Ok(None);
    };
    let bad = || {
        Text::new(
            "请输入以 http:// 或 https:// 开头的有效网址",
            "Enter a valid URL starting with http:// or https://",
        )
    };
    let parsed = url::Url::parse(&s).map_err(|_| bad())?;
    let host = parsed.host_str().unwrap_or("");
    if !matches!(parsed.scheme(), "http" | "https") || !host.contains('.') {
        return Err(bad());
    }
    if let Some(d) = domain
        && host != d
        && !host.ends_with(&format!(".{d}"))
    {
        return Err(Text::owned(
            format!("须为 {d} 的网址"),
            format!("Must be a {d} URL"),
        ));
    }
    Ok(Some(parsed.to_string()))
}

fn hourly_rate(value: &Value) -> Result<Option<Money>, Text> {
    let bad = || {
        Text::new(
            "时薪须为 1.00 到 10000.00 元之间的金额字符串，如 \"150.00\"",
            "hourly_rate must be an amount string from 1.00 to 10000.00, like \"150.00\"",
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let m: Money = s.parse().map_err(|_| bad())?;
            if m.fen() < 100 || m.fen() > 1_000_000 {
                return Err(bad());
            }
            Ok(Some(m))
        }
        _ => Err(bad()),
    }
}

fn skills(value: &Value) -> Result<Vec<String>, Text> {
    let bad = || {
        Text::new(
            "技能须为最多 30 个、每个 1 到 50 个字符的字符串列表",
            "skills must be a list of at most 30 strings of 1 to 50 characters",
        )
    };
    let Value::Array(items) = value else {
        return Err(bad());
    };
    if items.len() > 30 {
        return Err(bad());
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let s = item.as_str().map(str::trim).ok_or_else(bad)?;
        if s.is_empty() || s.chars().count() > 50 || s.chars().any(char::is_control) {
            return Err(bad());
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// One of the profile's `languages`, as [`languages`] checks it (the OpenAPI schema of the
/// stored items).
#[derive(utoipa::ToSchema)]
#[schema(as = Language)]
#[allow(dead_code)]
pub struct LanguageDoc {
    #[schema(min_length = 1, max_length = 50, example = "中文")]
    language: String,
    level: LanguageLevel,
}

#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum LanguageLevel {
    Native,
    Fluent,
    Conversational,
    Basic,
}

/// One of the profile's `education` entries, as [`education`] checks it.
#[derive(utoipa::ToSchema)]
#[schema(as = Education)]
#[allow(dead_code)]
pub struct EducationDoc {
    #[schema(min_length = 1, max_length = 100, example = "同济大学")]
    school: String,
    #[schema(min_length = 1, max_length = 100)]
    degree: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    major: Option<String>,
    #[schema(minimum = 1950, maximum = 2100)]
    start_year: Option<u32>,
    #[schema(minimum = 1950, maximum = 2100)]
    end_year: Option<u32>,
}

fn languages(value: &Value) -> Result<Vec<Value>, Text> {
    let bad = || {
        Text::new(
            "语言须为最多 10 项的列表，每项形如 {\"language\": \"中文\", \"level\": \"native\"}，level 为 native、fluent、conversational 或 basic",
            "languages must be a list of at most 10 items like {\"language\": \"English\", \"level\": \"fluent\"}; level is native, fluent, conversational or basic",
        )
    };
    let Value::Array(items) = value else {
        return Err(bad());
    };
    if items.len() > 10 {
        return Err(bad());
    }
    items
        .iter()
        .map(|item| {
            let language = item
                .get("language")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| (1..=50).contains(&s.chars().count()))
                .ok_or_else(bad)?;
            let level = item
                .get("level")
                .and_then(Value::as_str)
                .filter(|l| LANGUAGE_LEVELS.contains(l))
                .ok_or_else(bad)?;
            Ok(serde_json::json!({"language": language, "level": level}))
        })
        .collect()
}

fn education(value: &Value) -> Result<Vec<Value>, Text> {
    let bad = || {
        Text::new(
            "教育经历须为最多 10 项的列表，每项含 school（必填）、degree、major、start_year、end_year",
            "education must be a list of at most 10 items with school (required), degree, major, start_year, end_year",
        )
    };
    let Value::Array(items) = value else {
        return Err(bad());
    };
    if items.len() > 10 {
        return Err(bad());
    }
    items
        .iter()
        .map(|item| {
            let obj = item.as_object().ok_or_else(bad)?;
            if obj.keys().any(|k| {
                !matches!(
                    k.as_str(),
                    "school" | "degree" | "major" | "start_year" | "end_year"
                )
            }) {
                return Err(bad());
            }
            let short = |k: &str, required: bool| -> Result<Value, Text> {
                match obj.get(k) {
                    None | Some(Value::Null) if !required => Ok(Value::Null),
                    Some(v) => match text(v, 1, 100, !required) {
                        Ok(Some(s)) => Ok(Value::String(s)),
                        Ok(None) if !required => Ok(Value::Null),
                        _ => Err(bad()),
                    },
                    None => Err(bad()),
                }
            };
            let year = |k: &str| -> Result<Value, Text> {
                match obj.get(k) {
                    None | Some(Value::Null) => Ok(Value::Null),
                    Some(v) => match v.as_u64() {
                        Some(y) if (1950..=2100).contains(&y) => Ok(Value::from(y)),
                        _ => Err(bad()),
                    },
                }
            };
            let (start, end) = (year("start_year")?, year("end_year")?);
            if let (Some(s), Some(e)) = (start.as_u64(), end.as_u64())
                && e < s
            {
                return Err(bad());
            }
            Ok(serde_json::json!({
                "school": short("school", true)?,
                "degree": short("degree", false)?,
                "major": short("major", false)?,
                "start_year": start,
                "end_year": end,
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Username;
    use chrono::Utc;
    use serde_json::json;

    fn user(t: UserType) -> User {
        User::new(
            Username::parse("li_lei").unwrap(),
            None,
            None,
            t,
            None,
            Utc::now(),
        )
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_freelancer_edits_every_seed_field() {
        let mut u = user(UserType::Freelancer);
        apply_patch(
            &mut u,
            obj(json!({
                "bio": "十年 UI 设计经验", "skills": ["Figma", "figma", "UI"], "hourly_rate": "150.50",
                "portfolio_url": "https://dribbble.com/lilei", "linkedin_url": "https://cn.linkedin.com/in/lilei",
                "wechat_id": "lilei_design", "location": "上海",
                "languages": [{"language": "中文", "level": "native"}],
                "education": [{"school": "同济大学", "degree": "本科", "start_year": 2010, "end_year": 2014}],
                "experience_years": 10
            })),
        )
        .unwrap();
        let p = u.freelancer_profile.unwrap();
        assert_eq!(p.skills, vec!["Figma", "UI"]);
        assert_eq!(p.hourly_rate.unwrap().to_string(), "150.50");
        assert_eq!(p.wechat_id.as_deref(), Some("lilei_design"));
        assert_eq!(p.experience_years, 10);
        assert_eq!(p.education[0]["school"], "同济大学");
    }

    #[test]
    fn each_computed_field_is_refused_by_name_and_nothing_changes() {
        for field in [
            "rating",
            "total_reviews",
            "is_featured",
            "response_rate",
            "response_time",
            "is_verified",
            "user_type",
        ] {
            let mut u = user(UserType::Freelancer);
            let before = u.clone();
            let err = apply_patch(&mut u, obj(json!({ field: 5, "bio": "x" }))).unwrap_err();
            assert_eq!(err, PatchError::ReadOnly(vec![field.to_owned()]));
            assert_eq!(u, before);
        }
    }

    #[test]
    fn a_client_cannot_write_freelancer_fields() {
        let mut u = user(UserType::Client);
        assert_eq!(
            apply_patch(&mut u, obj(json!({"bio": "hi"}))).unwrap_err(),
            PatchError::Unknown(vec!["bio".into()])
        );
        apply_patch(
            &mut u,
            obj(json!({"client_profile": {"company_name": "极客科技", "website": "https://geek.cn"}})),
        )
        .unwrap();
        assert_eq!(
            u.client_profile.unwrap().company_name.as_deref(),
            Some("极客科技")
        );
    }

    #[test]
    fn bad_values_are_named() {
        let mut u = user(UserType::Freelancer);
        let err = apply_patch(
            &mut u,
            obj(json!({
                "bio": "长".repeat(2001), "hourly_rate": 150, "linkedin_url": "https://example.com/me",
                "wechat_id": "1abc", "experience_years": -1, "languages": [{"language": "中文", "level": "expert"}]
            })),
        )
        .unwrap_err();
        let PatchError::Invalid(fields) = err else {
            panic!("{err:?}")
        };
        let mut names: Vec<&str> = fields.iter().map(|(f, _)| f.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "bio",
                "experience_years",
                "hourly_rate",
                "languages",
                "linkedin_url",
                "wechat_id"
            ]
        );
        assert_eq!(apply_patch(&mut u, Map::new()), Err(PatchError::Empty));
    }

    #[test]
    fn null_clears_optional_fields() {
        let mut u = user(UserType::Freelancer);
        apply_patch(
            &mut u,
            obj(json!({"hourly_rate": "99.00", "wechat_id": "abcdef1"})),
        )
        .unwrap();
        apply_patch(&mut u, obj(json!({"hourly_rate": null, "wechat_id": null}))).unwrap();
        let p = u.freelancer_profile.unwrap();
        assert!(p.hourly_rate.is_none() && p.wechat_id.is_none());
    }
}
