//! Automated text moderation: a sensitive-word list and off-platform contact details.
//!
//! Both checks run on *normalised* text so that the usual evasions do not work: traditional
//! characters are folded to simplified (`賭博` → `赌博`), full-width forms to ASCII
//! (`ＶＸ` → `vx`), case is folded, and spacing and punctuation between characters are
//! dropped (`赌 * 博` → `赌博`). Contact details are also looked for with Chinese numerals read
//! as digits (`一三八…`), since that is how phone numbers get past naive filters.
//!
//! Used by service publishing now, and by reviews and messaging later.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::i18n::Text;

const SENSITIVE_WORDS: &str = include_str!("../../data/sensitive-words.txt");

/// The seed's title rule: these may not appear in a service title at all (checked at create
/// and edit time; the full sensitive-word list runs when publishing).
pub const TITLE_PROHIBITED: [&str; 4] = ["illegal", "prohibited", "违禁", "违法"];

/// One kind of off-platform contact detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Phone,
    Wechat,
    Qq,
    Email,
    /// "加V", "vx", "私聊加微" and the like: asking to move off the platform.
    Solicitation,
}

impl ContactKind {
    fn text(self) -> Text {
        match self {
            ContactKind::Phone => Text::new("包含手机号码", "Contains a phone number"),
            ContactKind::Wechat => Text::new("包含微信号", "Contains a WeChat id"),
            ContactKind::Qq => Text::new("包含QQ号", "Contains a QQ number"),
            ContactKind::Email => Text::new("包含电子邮箱", "Contains an email address"),
            ContactKind::Solicitation => Text::new(
                "引导站外联系（如“加V”“vx”）",
                "Asks to be contacted off the platform (such as \"add me on WeChat\")",
            ),
        }
    }
}

/// Why a text failed moderation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A word of the sensitive list (as listed, normalised).
    SensitiveWord { field: String, word: String },
    /// Contact details that would take the deal off the platform.
    ContactInfo { field: String, contact: ContactKind },
}

impl Finding {
    pub fn field(&self) -> &str {
        match self {
            Finding::SensitiveWord { field, .. } | Finding::ContactInfo { field, .. } => field,
        }
    }

    /// A stable code per kind of finding.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::SensitiveWord { .. } => "moderation.sensitive_word",
            Finding::ContactInfo { .. } => "moderation.contact_info",
        }
    }

    /// What to tell the author.
    pub fn text(&self) -> Text {
        match self {
            Finding::SensitiveWord { word, .. } => Text::owned(
                format!("包含违禁内容：“{word}”"),
                format!("Contains prohibited content: \"{word}\""),
            ),
            Finding::ContactInfo { contact, .. } => {
                let t = contact.text();
                Text::owned(
                    format!("{}，请通过平台沟通和交易", t.zh),
                    format!("{}; keep contact and payment on the platform", t.en),
                )
            }
        }
    }
}

/// The moderation rules could not be built (a bad pattern): callers fail closed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("moderation rules failed to build: {0}")]
pub struct RulesError(String);

/// Traditional → simplified, full-width → ASCII, lower case. Search folds text the same
/// way, so `設計` and `ＬＯＧＯ` find what `设计` and `logo` find.
pub fn fold(text: &str) -> String {
    fast2s::convert(text)
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// [`fold`], then drop everything that is not a letter or digit: spacing and punctuation
/// inserted between the characters of a word no longer hide it.
pub fn normalise(text: &str) -> String {
    fold(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Chinese numerals (also the financial forms, `幺`, and circled digits) as ASCII digits.
fn numerals_as_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '零' | '〇' | '⓪' => '0',
            '一' | '壹' | '幺' | '①' => '1',
            '二' | '贰' | '两' | '②' => '2',
            '三' | '叁' | '③' => '3',
            '四' | '肆' | '④' => '4',
            '五' | '伍' | '⑤' => '5',
            '六' | '陆' | '⑥' => '6',
            '七' | '柒' | '⑦' => '7',
            '八' | '捌' | '⑧' => '8',
            '九' | '玖' | '⑨' => '9',
            _ => c,
        })
        .collect()
}

struct Rules {
    words: AhoCorasick,
    /// The normalised form of each listed word, by pattern index.
    listed: Vec<String>,
    title: AhoCorasick,
    phone: Regex,
    qq: Regex,
    wechat_id: Vec<Regex>,
    email: Regex,
    solicitation: Vec<Regex>,
}

fn build_rules() -> Result<Rules, RulesError> {
    let listed: Vec<String> = SENSITIVE_WORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(normalise)
        .filter(|w| !w.is_empty())
        .collect();
    let automaton = |words: &[String]| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(words)
            .map_err(|e| RulesError(e.to_string()))
    };
    let title: Vec<String> = TITLE_PROHIBITED.iter().map(|w| normalise(w)).collect();
    let re = |p: &str| Regex::new(p).map_err(|e| RulesError(e.to_string()));
    Ok(Rules {
        words: automaton(&listed)?,
        listed,
        title: automaton(&title)?,
        // On digit runs with separators removed: a mainland mobile number.
        phone: re(r"(?:^|[^0-9])1[3-9][0-9]{9}(?:[^0-9]|$)")?,
        qq: re(r"(?:qq|扣扣|企鹅)(?:号|号码)?[0-9]{5,11}")?,
        // On folded text (spacing kept): a WeChat keyword, then an id after a colon
        // ("wx: abc123456"), or a Chinese keyword right before an id with a digit, `_` or `-`
        // ("微信gigbao_2026"). Not "微信小程序", "WeChat Pay" or "wxWidgets".
        wechat_id: vec![
            re(
                r"(?:(?:^|[^a-z])(?:weixin|wechat|vx|wx)|微信|v信|薇信|徽信)(?:号|id)?\s*[:：是为]\s*[a-z][-_a-z0-9]{5,19}",
            )?,
            re(r"(?:微信|v信|薇信|徽信)(?:号|id)?\s*[a-z][a-z]{0,18}[-_0-9][-_a-z0-9]{0,18}")?,
        ],
        email: re(r"[a-z0-9._%+-]+\s*@\s*[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")?,
        // On folded text without spacing: "加V", "加微信", "+vx", "vx" standing alone
        // (not inside a longer Latin word such as "devxcode"), "薇信". Not "增加微服务",
        // "参加VR展" or "C++Vue".
        solicitation: vec![
            re(r"加(?:个|我的?)?(?:微信|薇信|徽信|v信|vx|wx|v|qq|扣扣)(?:[^a-z0-9]|$)")?,
            re(r"加(?:个|我)?(?:微|薇)(?:$|[^\p{Han}a-z0-9])")?,
            re(r"(?:^|[^a-z+])\+(?:v|vx|wx|qq)(?:[^a-z0-9]|$)")?,
            re(r"(?:^|[^a-z])(?:vx|wx)(?:[^a-z]|$)")?,
            re(r"薇信|徽信|v信|微x")?,
        ],
    })
}

static RULES: LazyLock<Result<Rules, RulesError>> = LazyLock::new(build_rules);

fn rules() -> Result<&'static Rules, RulesError> {
    RULES.as_ref().map_err(Clone::clone)
}

/// The prohibited title words `title` contains (normalised), if any.
pub fn title_prohibited(title: &str) -> Result<Vec<&'static str>, RulesError> {
    let r = rules()?;
    let text = normalise(title);
    let mut found: Vec<&'static str> = r
        .title
        .find_iter(&text)
        .filter_map(|m| TITLE_PROHIBITED.get(m.pattern().as_usize()).copied())
        .collect();
    found.dedup();
    Ok(found)
}

/// Every finding in the named texts, in field order; empty when the texts may be published.
pub fn check(fields: &[(&str, &str)]) -> Result<Vec<Finding>, RulesError> {
    let r = rules()?;
    let mut findings = Vec::new();
    for (field, text) in fields {
        let field = (*field).to_owned();
        let norm = normalise(text);
        let mut words: Vec<&str> = r
            .words
            .find_iter(&norm)
            .filter_map(|m| r.listed.get(m.pattern().as_usize()).map(String::as_str))
            .collect();
        words.sort_unstable();
        words.dedup();
        for word in words {
            findings.push(Finding::SensitiveWord {
                field: field.clone(),
                word: word.to_owned(),
            });
        }
        for contact in contacts(r, text) {
            findings.push(Finding::ContactInfo {
                field: field.clone(),
                contact,
            });
        }
    }
    Ok(findings)
}

fn contacts(r: &Rules, text: &str) -> Vec<ContactKind> {
    let folded = numerals_as_digits(&fold(text));
    let squeezed: String = folded.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut kinds = Vec::new();
    if r.phone.is_match(&squeezed) {
        kinds.push(ContactKind::Phone);
    }
    if r.wechat_id.iter().any(|re| re.is_match(&folded)) {
        kinds.push(ContactKind::Wechat);
    }
    if r.qq.is_match(&squeezed) {
        kinds.push(ContactKind::Qq);
    }
    if r.email.is_match(&folded) {
        kinds.push(ContactKind::Email);
    }
    let compact: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
    if r.solicitation.iter().any(|re| re.is_match(&compact)) {
        kinds.push(ContactKind::Solicitation);
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<ContactKind> {
        check(&[("t", text)])
            .unwrap()
            .into_iter()
            .filter_map(|f| match f {
                Finding::ContactInfo { contact, .. } => Some(contact),
                _ => None,
            })
            .collect()
    }

    fn words(text: &str) -> Vec<String> {
        check(&[("t", text)])
            .unwrap()
            .into_iter()
            .filter_map(|f| match f {
                Finding::SensitiveWord { word, .. } => Some(word),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_rules_build() {
        assert!(rules().is_ok());
    }

    #[test]
    fn sensitive_words_are_found_through_spacing_full_width_and_traditional_forms() {
        assert_eq!(words("提供赌博网站搭建"), vec!["赌博"]);
        assert_eq!(words("提供賭博網站搭建"), vec!["赌博"]);
        assert_eq!(words("赌 * 博 网站"), vec!["赌博"]);
        assert_eq!(words("ＣＡＳＩＮＯ app"), vec!["casino"]);
        assert_eq!(words("代 开 发 票，正规"), vec!["代开发票"]);
        assert!(words("专业品牌Logo设计，三天交付").is_empty());
    }

    #[test]
    fn legitimate_wechat_services_are_not_contact_details() {
        assert!(kinds("微信小程序开发，公众号运营，微信支付接入").is_empty());
        assert!(kinds("Vue + Rust 全栈开发，5 年经验，交付 7 天，价格 500 元").is_empty());
        assert!(kinds("Develop xcode projects, wxWidgets GUI").is_empty());
        assert!(kinds("增加微服务模块，参加VR展，C++ Vue 开发，增加V2版本").is_empty());
    }

    #[test]
    fn contact_details_are_found_in_their_usual_disguises() {
        assert_eq!(
            kinds("有问题加微信：gigbao_2026"),
            vec![ContactKind::Wechat, ContactKind::Solicitation]
        );
        assert_eq!(
            kinds("wx: abc12345"),
            vec![ContactKind::Wechat, ContactKind::Solicitation]
        );
        assert_eq!(kinds("电话 138-0013-8000"), vec![ContactKind::Phone]);
        assert_eq!(
            kinds("电话 １３８ ００１３ ８０００"),
            vec![ContactKind::Phone]
        );
        assert_eq!(
            kinds("电话一三八零零一三八零零零"),
            vec![ContactKind::Phone]
        );
        assert_eq!(kinds("QQ：12345678"), vec![ContactKind::Qq]);
        assert_eq!(kinds("mail me: dev@example.com"), vec![ContactKind::Email]);
        assert_eq!(kinds("详情加V"), vec![ContactKind::Solicitation]);
        assert_eq!(kinds("私聊 vx"), vec![ContactKind::Solicitation]);
        assert_eq!(kinds("+v 了解"), vec![ContactKind::Solicitation]);
    }

    #[test]
    fn titles_are_checked_against_the_seed_list() {
        assert_eq!(
            title_prohibited("代办违 法业务的专业服务").unwrap(),
            vec!["违法"]
        );
        assert_eq!(
            title_prohibited("ILLEGAL downloads for you").unwrap(),
            vec!["illegal"]
        );
        assert!(title_prohibited("专业品牌Logo设计").unwrap().is_empty());
    }

    #[test]
    fn findings_name_their_field_and_code() {
        let f = check(&[("title", "好标题"), ("description", "赌博")]).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].field(), "description");
        assert_eq!(f[0].code(), "moderation.sensitive_word");
        assert!(f[0].text().en.contains("赌博"));
    }
}
