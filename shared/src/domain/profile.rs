//! Editing a profile (`PATCH /users/profile`). The body is a JSON object of the fields to
//! change; a field set to `null` clears an optional field. Fields the platform computes
//! (rating, counters, featured, verified…) or that have their own flow (username, email,
//! phone, avatar) are refused with their names, as are fields the profile does not have, so a
//! client never believes a write happened when it did not.

use serde::{Deserialize, Serialize};

use super::{ClientProfile, FreelancerProfile, Money, Role, User, UserType, WechatId};
use crate::field::{Field, Others};
use crate::i18n::Text;

/// Fields that exist but are never written through the profile.
const READ_ONLY_FIELDS: &[&str] = &[
    "id",
    "username",
    "email",
    "phone",
    "user_type",
    "roles",
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

/// `PATCH /users/profile`: any of these; `null` clears an optional field. The fields may also
/// come nested the way `GET /users/profile` returns them (`freelancer_profile`,
/// `client_profile`). `user_type`, `is_verified`, `rating`, counters and contact details are
/// read-only here (400 `profile.read_only_field`); a field the account's profile does not have
/// is 400 `profile.unknown_field`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "freelancer_profile": {"bio": "十年品牌设计经验，擅长 logo 与 VI 设计", "skills": ["logo-design"], "location": "杭州"},
    "notification_preferences": {"email": true, "sms": false}
}))]
pub struct ProfilePatch {
    #[serde(flatten)]
    pub fields: ProfileFields,
    /// The same fields, nested.
    #[serde(default)]
    #[schema(value_type = ProfileFields)]
    pub freelancer_profile: Field<ProfileFields>,
    /// The same fields, nested.
    #[serde(default)]
    #[schema(value_type = ProfileFields)]
    pub client_profile: Field<ProfileFields>,
}

/// The writable fields of a profile; which ones an account has depends on its type.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ProfileFields {
    #[serde(default)]
    #[schema(value_type = Option<PreferencesPatch>)]
    pub notification_preferences: Field<PreferencesPatch>,
    /// Freelancers.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub bio: Field<String>,
    /// Freelancers: at most 30, 1–50 characters each.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>, max_items = 30)]
    pub skills: Field<Vec<String>>,
    /// Freelancers: 1.00–10,000.00.
    #[serde(default)]
    #[schema(value_type = Option<Money>)]
    pub hourly_rate: Field<String>,
    /// Freelancers.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub portfolio_url: Field<String>,
    /// Freelancers: a linkedin.com address.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub linkedin_url: Field<String>,
    /// Freelancers.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub wechat_id: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub location: Field<String>,
    /// Freelancers: at most 10.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Language>>, max_items = 10)]
    pub languages: Field<Vec<Language>>,
    /// Freelancers: at most 10.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Education>>, max_items = 10)]
    pub education: Field<Vec<Education>>,
    /// Freelancers: 0–60.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 60)]
    pub experience_years: Field<u64>,
    /// Clients.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub company_name: Field<String>,
    /// Clients.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 50)]
    pub company_size: Field<String>,
    /// Clients.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub industry: Field<String>,
    /// Clients.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub website: Field<String>,
    /// Clients.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub budget_range: Field<String>,
    /// Names the body has that a profile does not (refused by name).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Others,
}

/// Whether to be told by e-mail and by SMS; an absent one is unchanged.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesPatch {
    #[serde(default)]
    #[schema(value_type = bool)]
    email: Field<bool>,
    #[serde(default)]
    #[schema(value_type = bool)]
    sms: Field<bool>,
}

/// One of the profile's `languages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Language {
    #[schema(min_length = 1, max_length = 50, example = "中文")]
    pub language: String,
    pub level: LanguageLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LanguageLevel {
    Native,
    Fluent,
    Conversational,
    Basic,
}

/// One of the profile's `education` entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Education {
    #[schema(min_length = 1, max_length = 100, example = "同济大学")]
    pub school: String,
    /// An empty one is none.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub degree: Option<String>,
    /// An empty one is none.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub major: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1950, maximum = 2100)]
    pub start_year: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 1950, maximum = 2100)]
    pub end_year: Option<u32>,
}

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
pub fn apply_patch(user: &mut User, patch: ProfilePatch) -> Result<(), PatchError> {
    let patch = patch.flatten();
    let sent = patch.sent();
    if sent.is_empty() {
        return Err(PatchError::Empty);
    }
    // A seller writes the seller profile; a registered client also the client profile (one
    // account may have both).
    let sells = user.is_seller();
    let buys = user.user_type == UserType::Client;
    let allowed: Vec<&str> = [(sells, FREELANCER_FIELDS), (buys, CLIENT_FIELDS)]
        .into_iter()
        .filter(|(has, _)| *has)
        .flat_map(|(_, names)| names.iter().copied())
        .collect();
    let read_only: Vec<String> = sent
        .iter()
        .filter(|k| READ_ONLY_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !read_only.is_empty() {
        return Err(PatchError::ReadOnly(read_only));
    }
    let unknown: Vec<String> = sent
        .iter()
        .filter(|k| !allowed.contains(&k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(PatchError::Unknown(unknown));
    }
    let mut errors = Vec::new();
    let mut preferences = user.notification_preferences;
    let mut patch = patch;
    match std::mem::take(&mut patch.notification_preferences) {
        Field::Absent => {}
        Field::Given(PreferencesPatch { email, sms })
            if !matches!(email, Field::Null | Field::Wrong(_))
                && !matches!(sms, Field::Null | Field::Wrong(_)) =>
        {
            if let Field::Given(b) = email {
                preferences.email = b;
            }
            if let Field::Given(b) = sms {
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
    let mut seller = user.freelancer_profile.clone().unwrap_or_default();
    let mut client = user.client_profile.clone().unwrap_or_default();
    if sells {
        Fields(patch.clone()).freelancer(&mut seller, &mut errors);
    }
    if buys {
        Fields(patch).client(&mut client, &mut errors);
    }
    if errors.is_empty() {
        if sells {
            user.freelancer_profile = Some(seller);
        }
        if buys {
            user.client_profile = Some(client);
        }
        user.notification_preferences = preferences;
        Ok(())
    } else {
        // A field both profiles have (`location`) is reported once.
        errors.sort_by(|a, b| a.0.cmp(&b.0));
        errors.dedup_by(|a, b| a.0 == b.0);
        Err(PatchError::Invalid(errors))
    }
}

/// Why a seller profile could not be opened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenSellerError {
    #[error("operators do not sell")]
    Admin,
    #[error("the account sells already")]
    AlreadySeller,
    #[error(transparent)]
    Patch(#[from] PatchError),
}

/// Opens a seller profile on a buyer's account: the seed's freelancer fields from `patch`
/// (`bio` and at least one skill required; the computed ones start at zero) and the seller
/// role. Purchases, wallet and reviews stay with the account. On error `user` is unchanged.
pub fn open_seller(user: &mut User, patch: ProfilePatch) -> Result<(), OpenSellerError> {
    if user.is_admin() {
        return Err(OpenSellerError::Admin);
    }
    if user.is_seller() {
        return Err(OpenSellerError::AlreadySeller);
    }
    let patch = patch.flatten();
    let sent = patch.sent();
    let read_only: Vec<String> = sent
        .iter()
        .filter(|k| READ_ONLY_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !read_only.is_empty() {
        return Err(PatchError::ReadOnly(read_only).into());
    }
    let unknown: Vec<String> = sent
        .iter()
        .filter(|k| *k == "notification_preferences" || !FREELANCER_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(PatchError::Unknown(unknown).into());
    }
    let mut profile = user.freelancer_profile.clone().unwrap_or_default();
    let mut errors = Vec::new();
    Fields(patch).freelancer(&mut profile, &mut errors);
    if profile.bio.trim().is_empty() {
        errors.push((
            "bio".to_owned(),
            Text::new(
                "请介绍你的专长与经验",
                "Tell buyers what you do and your experience",
            ),
        ));
    }
    if profile.skills.is_empty() {
        errors.push((
            "skills".to_owned(),
            Text::new("请至少填写一项技能", "Name at least one skill"),
        ));
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.0.cmp(&b.0));
        errors.dedup_by(|a, b| a.0 == b.0);
        return Err(PatchError::Invalid(errors).into());
    }
    user.freelancer_profile = Some(profile);
    user.roles.push(Role::Seller);
    user.roles.sort();
    user.roles.dedup();
    Ok(())
}

/// Calls `$m!(name, …)` with every writable field of a [`ProfilePatch`] (one list for
/// merging and naming).
macro_rules! each_field {
    ($m:ident) => {
        $m!(
            notification_preferences,
            bio,
            skills,
            hourly_rate,
            portfolio_url,
            linkedin_url,
            wechat_id,
            location,
            languages,
            education,
            experience_years,
            company_name,
            company_size,
            industry,
            website,
            budget_range
        )
    };
}

impl ProfilePatch {
    /// The nested forms laid under the flat one: a field sent at the top wins.
    fn flatten(self) -> ProfileFields {
        let mut top = self.fields;
        for (name, nested) in [
            ("freelancer_profile", self.freelancer_profile),
            ("client_profile", self.client_profile),
        ] {
            let inner = match nested {
                Field::Given(inner) => inner,
                Field::Absent => continue,
                // Not an object: the name itself is not a field.
                _ => {
                    top.other = top.other.with(name);
                    continue;
                }
            };
            macro_rules! under {
                ($($f:ident),*) => { $( top.$f = std::mem::take(&mut top.$f).or(inner.$f); )* };
            }
            each_field!(under);
            for name in inner.other.names() {
                top.other = top.other.with(name);
            }
        }
        top
    }
}

impl ProfileFields {
    /// The names of every field the body sent (typed or not).
    fn sent(&self) -> Vec<String> {
        let mut names: Vec<String> = self.other.names().map(str::to_owned).collect();
        macro_rules! named {
            ($($f:ident),*) => { $( if self.$f.is_sent() { names.push(stringify!($f).to_owned()); } )* };
        }
        each_field!(named);
        names.sort();
        names
    }
}

type Errors = Vec<(String, Text)>;

/// A flattened patch whose names are all writable for the account.
struct Fields(ProfileFields);

impl Fields {
    fn freelancer(self, p: &mut FreelancerProfile, errors: &mut Errors) {
        let f = self.0;
        let mut check = |field: &str, result: Result<(), Text>| {
            if let Err(t) = result {
                errors.push((field.to_owned(), t));
            }
        };
        if f.bio.is_sent() {
            check(
                "bio",
                text(f.bio, 0, 2000, false).map(|v| p.bio = v.unwrap_or_default()),
            );
        }
        if f.location.is_sent() {
            check(
                "location",
                text(f.location, 0, 200, false).map(|v| p.location = v.unwrap_or_default()),
            );
        }
        if f.portfolio_url.is_sent() {
            check(
                "portfolio_url",
                url(f.portfolio_url, None).map(|v| p.portfolio_url = v),
            );
        }
        if f.linkedin_url.is_sent() {
            check(
                "linkedin_url",
                url(f.linkedin_url, Some("linkedin.com")).map(|v| p.linkedin_url = v),
            );
        }
        match f.wechat_id {
            Field::Absent => {}
            Field::Null => p.wechat_id = None,
            Field::Given(s) if s.trim().is_empty() => p.wechat_id = None,
            Field::Given(s) => check(
                "wechat_id",
                WechatId::parse(&s).map(|w| p.wechat_id = Some(w.as_str().to_owned())),
            ),
            Field::Wrong(_) => check("wechat_id", Err(must_be_string())),
        }
        if f.hourly_rate.is_sent() {
            check(
                "hourly_rate",
                hourly_rate(f.hourly_rate).map(|v| p.hourly_rate = v),
            );
        }
        if f.skills.is_sent() {
            check("skills", skills(f.skills).map(|v| p.skills = v));
        }
        if f.languages.is_sent() {
            check("languages", languages(f.languages).map(|v| p.languages = v));
        }
        if f.education.is_sent() {
            check("education", education(f.education).map(|v| p.education = v));
        }
        match f.experience_years {
            Field::Absent => {}
            Field::Given(n) if n <= 60 => p.experience_years = n as u32,
            _ => check(
                "experience_years",
                Err(Text::new(
                    "从业年限须为 0 到 60 的整数",
                    "experience_years must be a whole number from 0 to 60",
                )),
            ),
        }
    }

    fn client(self, p: &mut ClientProfile, errors: &mut Errors) {
        let f = self.0;
        let mut check = |field: &str, result: Result<(), Text>| {
            if let Err(t) = result {
                errors.push((field.to_owned(), t));
            }
        };
        if f.company_name.is_sent() {
            check(
                "company_name",
                text(f.company_name, 1, 200, true).map(|v| p.company_name = v),
            );
        }
        if f.company_size.is_sent() {
            check(
                "company_size",
                text(f.company_size, 1, 50, true).map(|v| p.company_size = v),
            );
        }
        if f.industry.is_sent() {
            check(
                "industry",
                text(f.industry, 1, 100, true).map(|v| p.industry = v),
            );
        }
        if f.budget_range.is_sent() {
            check(
                "budget_range",
                text(f.budget_range, 1, 100, true).map(|v| p.budget_range = v),
            );
        }
        if f.location.is_sent() {
            check(
                "location",
                text(f.location, 0, 200, false).map(|v| p.location = v.unwrap_or_default()),
            );
        }
        if f.website.is_sent() {
            check("website", url(f.website, None).map(|v| p.website = v));
        }
    }
}

fn must_be_string() -> Text {
    Text::new("须为字符串", "Must be a string")
}

/// A trimmed string of `min..=max` characters without control characters; `null` (or an
/// empty string where `nullable`) clears it.
fn text(
    value: Field<String>,
    min: usize,
    max: usize,
    nullable: bool,
) -> Result<Option<String>, Text> {
    match value.optional() {
        Ok(None) => Ok(None),
        Ok(Some(s)) => text_of(&s, min, max, nullable),
        Err(_) => Err(must_be_string()),
    }
}

fn text_of(s: &str, min: usize, max: usize, nullable: bool) -> Result<Option<String>, Text> {
    let s = s.trim();
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
fn url(value: Field<String>, domain: Option<&str>) -> Result<Option<String>, Text> {
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

fn hourly_rate(value: Field<String>) -> Result<Option<Money>, Text> {
    let bad = || {
        Text::new(
            "时薪须为 1.00 到 10000.00 元之间的金额字符串，如 \"150.00\"",
            "hourly_rate must be an amount string from 1.00 to 10000.00, like \"150.00\"",
        )
    };
    let Some(s) = value.optional().map_err(|_| bad())? else {
        return Ok(None);
    };
    let m: Money = s.parse().map_err(|_| bad())?;
    if m.fen() < 100 || m.fen() > 1_000_000 {
        return Err(bad());
    }
    Ok(Some(m))
}

fn skills(value: Field<Vec<String>>) -> Result<Vec<String>, Text> {
    let bad = || {
        Text::new(
            "技能须为最多 30 个、每个 1 到 50 个字符的字符串列表",
            "skills must be a list of at most 30 strings of 1 to 50 characters",
        )
    };
    let Field::Given(items) = value else {
        return Err(bad());
    };
    if items.len() > 30 {
        return Err(bad());
    }
    let mut out: Vec<String> = Vec::new();
    for item in &items {
        let s = item.trim();
        if s.is_empty() || s.chars().count() > 50 || s.chars().any(char::is_control) {
            return Err(bad());
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

fn languages(value: Field<Vec<Language>>) -> Result<Vec<Language>, Text> {
    let bad = || {
        Text::new(
            "语言须为最多 10 项的列表，每项形如 {\"language\": \"中文\", \"level\": \"native\"}，level 为 native、fluent、conversational 或 basic",
            "languages must be a list of at most 10 items like {\"language\": \"English\", \"level\": \"fluent\"}; level is native, fluent, conversational or basic",
        )
    };
    let Field::Given(items) = value else {
        return Err(bad());
    };
    if items.len() > 10 {
        return Err(bad());
    }
    items
        .into_iter()
        .map(|item| {
            let language = item.language.trim();
            if !(1..=50).contains(&language.chars().count()) {
                return Err(bad());
            }
            Ok(Language {
                language: language.to_owned(),
                level: item.level,
            })
        })
        .collect()
}

fn education(value: Field<Vec<Education>>) -> Result<Vec<Education>, Text> {
    let bad = || {
        Text::new(
            "教育经历须为最多 10 项的列表，每项含 school（必填）、degree、major、start_year、end_year",
            "education must be a list of at most 10 items with school (required), degree, major, start_year, end_year",
        )
    };
    let Field::Given(items) = value else {
        return Err(bad());
    };
    if items.len() > 10 {
        return Err(bad());
    }
    items
        .into_iter()
        .map(|item| {
            let short = |s: &str, nullable: bool| text_of(s, 1, 100, nullable).map_err(|_| bad());
            let school = short(&item.school, false)?.ok_or_else(bad)?;
            let degree = item
                .degree
                .as_deref()
                .map(|d| short(d, true))
                .transpose()?
                .flatten();
            let major = item
                .major
                .as_deref()
                .map(|m| short(m, true))
                .transpose()?
                .flatten();
            let year = |y: Option<u32>| match y {
                Some(y) if !(1950..=2100).contains(&y) => Err(bad()),
                y => Ok(y),
            };
            let (start_year, end_year) = (year(item.start_year)?, year(item.end_year)?);
            if let (Some(s), Some(e)) = (start_year, end_year)
                && e < s
            {
                return Err(bad());
            }
            Ok(Education {
                school,
                degree,
                major,
                start_year,
                end_year,
            })
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

    fn obj(v: serde_json::Value) -> ProfilePatch {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_client_opens_a_seller_profile_once_and_then_edits_both_profiles() {
        let mut u = user(UserType::Client);
        let before = u.clone();
        // Seller fields only; a bio and a skill are required; nothing changes on refusal.
        assert!(matches!(
            open_seller(&mut u, obj(json!({"bio": "品牌设计", "skills": ["logo"], "company_name": "云栖"}))),
            Err(OpenSellerError::Patch(PatchError::Unknown(f))) if f == ["company_name"]
        ));
        match open_seller(&mut u, obj(json!({"location": "杭州"}))) {
            Err(OpenSellerError::Patch(PatchError::Invalid(e))) => {
                let names: Vec<&str> = e.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(names, ["bio", "skills"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(u, before);
        open_seller(
            &mut u,
            obj(json!({"bio": "十年品牌设计经验", "skills": ["logo"], "location": "杭州"})),
        )
        .unwrap();
        assert_eq!(u.roles, vec![Role::Buyer, Role::Seller]);
        assert_eq!(u.user_type, UserType::Client);
        assert!(u.client_profile.is_some());
        assert_eq!(
            open_seller(&mut u, obj(json!({"bio": "x", "skills": ["y"]}))),
            Err(OpenSellerError::AlreadySeller)
        );
        // Both profiles are the account's now: a shared field goes to both.
        apply_patch(
            &mut u,
            obj(json!({"bio": "品牌与包装设计", "company_name": "云栖茶舍", "location": "上海"})),
        )
        .unwrap();
        let (seller, client) = (
            u.freelancer_profile.clone().unwrap(),
            u.client_profile.clone().unwrap(),
        );
        assert_eq!(
            (seller.bio.as_str(), seller.location.as_str()),
            ("品牌与包装设计", "上海")
        );
        assert_eq!(
            (client.company_name.as_deref(), client.location.as_str()),
            (Some("云栖茶舍"), "上海")
        );
        // Operators do not sell.
        let mut admin = user(UserType::Admin);
        assert_eq!(
            open_seller(&mut admin, obj(json!({"bio": "x", "skills": ["y"]}))),
            Err(OpenSellerError::Admin)
        );
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
        assert_eq!(p.education[0].school, "同济大学");
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
        assert_eq!(
            apply_patch(&mut u, ProfilePatch::default()),
            Err(PatchError::Empty)
        );
    }

    #[test]
    fn nested_fields_count_as_sent_and_a_nested_non_object_is_an_unknown_field() {
        let mut u = user(UserType::Freelancer);
        let err = apply_patch(
            &mut u,
            obj(json!({"freelancer_profile": {"bio": 7, "colour": "red"}})),
        )
        .unwrap_err();
        assert_eq!(err, PatchError::Unknown(vec!["colour".into()]));
        let err = apply_patch(
            &mut u,
            obj(json!({"bio": "上面的", "freelancer_profile": {"bio": 7, "location": ["x"]}})),
        )
        .unwrap_err();
        assert!(
            matches!(&err, PatchError::Invalid(f) if f.len() == 1 && f[0].0 == "location"),
            "{err:?}"
        );
        assert_eq!(
            apply_patch(&mut u, obj(json!({"client_profile": null}))).unwrap_err(),
            PatchError::Unknown(vec!["client_profile".into()])
        );
        assert_eq!(
            apply_patch(
                &mut u,
                obj(json!({"notification_preferences": {"email": null}}))
            )
            .unwrap_err(),
            PatchError::Invalid(vec![(
                "notification_preferences".into(),
                Text::new(
                    "notification_preferences 须为 {email: true|false, sms: true|false}",
                    "notification_preferences must be {email: true|false, sms: true|false}",
                )
            )])
        );
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
