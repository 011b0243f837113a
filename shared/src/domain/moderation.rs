//! Automated text moderation: a sensitive-word list and off-platform contact details.
//!
//! Both checks run on *normalised* text so that the usual evasions do not work: traditional
//! characters are folded to simplified (`賭博` → `赌博`), full-width forms to ASCII
//! (`ＶＸ` → `vx`), case is folded, and spacing and punctuation between characters are
//! dropped (`赌 * 博` → `赌博`). Contact details are also looked for with Chinese numerals read
//! as digits (`一三八…`), since that is how phone numbers get past naive filters.
//!
//! Publishing (services, reviews) refuses such text; chat masks it instead ([`screen`]).

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Phone,
    Wechat,
    Qq,
    Email,
    /// "加V", "vx", "私聊加微" and the like: asking to move off the platform.
    Solicitation,
    /// A link to another marketplace, a shop or a chat invitation.
    Link,
}

impl ContactKind {
    const ALL: [ContactKind; 6] = [
        ContactKind::Phone,
        ContactKind::Wechat,
        ContactKind::Qq,
        ContactKind::Email,
        ContactKind::Solicitation,
        ContactKind::Link,
    ];

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
            ContactKind::Link => Text::new(
                "包含其他平台或店铺的链接",
                "Contains a link to another platform or shop",
            ),
        }
    }
}

/// Why a text failed moderation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// One character folded: full-width → ASCII, lower case (traditional → simplified is done on
/// the whole text by `fast2s`, which maps one character to one character).
fn fold_char(c: char) -> impl Iterator<Item = char> {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    c.to_lowercase()
}

/// Traditional → simplified, full-width → ASCII, lower case. Search folds text the same
/// way, so `設計` and `ＬＯＧＯ` find what `设计` and `logo` find.
pub fn fold(text: &str) -> String {
    fast2s::convert(text).chars().flat_map(fold_char).collect()
}

/// [`fold`], then drop everything that is not a letter or digit: spacing and punctuation
/// inserted between the characters of a word no longer hide it.
pub fn normalise(text: &str) -> String {
    fold(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Chinese numerals (also the financial forms, `幺`, and circled digits) as ASCII digits.
fn numeral_as_digit(c: char) -> char {
    match c {
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
    }
}

/// A transformed text that remembers, for each of its characters, the index of the character
/// of the original text it came from — so a match can be masked in the original.
struct View {
    text: String,
    /// Byte offset in `text` of each character, and the original character's index.
    chars: Vec<(usize, usize)>,
}

impl View {
    fn new(pairs: impl Iterator<Item = (char, usize)>) -> View {
        let mut text = String::new();
        let mut chars = Vec::new();
        for (c, origin) in pairs {
            chars.push((text.len(), origin));
            text.push(c);
        }
        View { text, chars }
    }

    /// The original characters a byte range of `text` came from.
    fn origin(&self, bytes: std::ops::Range<usize>) -> Option<std::ops::RangeInclusive<usize>> {
        let first = self.chars.partition_point(|(b, _)| *b < bytes.start);
        let last = self.chars.partition_point(|(b, _)| *b < bytes.end);
        let start = self.chars.get(first)?.1;
        let end = self.chars.get(last.checked_sub(1)?)?.1;
        Some(start.min(end)..=start.max(end))
    }
}

/// The views of one text every rule runs on.
struct Views {
    /// Folded, numerals as digits, decorations between characters dropped (`微❤信` → `微信`);
    /// spacing and the separators ids are written with are kept.
    clean: View,
    /// `clean` without spacing: `加 V` → `加v`.
    compact: View,
    /// Letters and digits only: `138-0013 8000` → `13800138000`.
    squeezed: View,
    /// Folded, letters and digits only, numerals left as they are (the word list's form).
    words: View,
}

fn views(text: &str) -> Views {
    let folded: Vec<(char, usize)> = fast2s::convert(text)
        .chars()
        .enumerate()
        .flat_map(|(i, c)| fold_char(c).map(move |f| (f, i)))
        .collect();
    let digits = || folded.iter().map(|&(c, i)| (numeral_as_digit(c), i));
    let kept =
        |c: char| c.is_alphanumeric() || c.is_whitespace() || ":：_-@.+#/()（）[]【】".contains(c);
    Views {
        clean: View::new(digits().filter(|&(c, _)| kept(c))),
        compact: View::new(digits().filter(|&(c, _)| kept(c) && !c.is_whitespace())),
        squeezed: View::new(digits().filter(|&(c, _)| c.is_alphanumeric())),
        words: View::new(folded.iter().copied().filter(|&(c, _)| c.is_alphanumeric())),
    }
}

struct Rules {
    words: AhoCorasick,
    /// The normalised form of each listed word, by pattern index.
    listed: Vec<String>,
    title: AhoCorasick,
    /// Each contact rule, the view it reads and what it finds. A rule's `c` group, where it has
    /// one, is the part to mask (the rest only anchors it).
    contact: Vec<(ContactKind, Seen, Regex)>,
}

#[derive(Debug, Clone, Copy)]
enum Seen {
    Clean,
    Compact,
    Squeezed,
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
    let rule = |kind: ContactKind, seen: Seen, p: &str| {
        Regex::new(p)
            .map(|re| (kind, seen, re))
            .map_err(|e| RulesError(e.to_string()))
    };
    use ContactKind::{Email, Link, Phone, Qq, Solicitation, Wechat};
    use Seen::{Clean, Compact, Squeezed};
    Ok(Rules {
        words: automaton(&listed)?,
        listed,
        title: automaton(&title)?,
        contact: vec![
            // On digit runs with separators removed: a mainland mobile number.
            rule(
                Phone,
                Squeezed,
                r"(?:^|[^0-9])(?:0086|86)?(?P<c>1[3-9][0-9]{9})(?:[^0-9]|$)",
            )?,
            // A WeChat keyword, then an id after a colon ("wx: abc123456"), or a Chinese
            // keyword right before an id with a digit, `_` or `-` ("微信gigbao_2026"). Not
            // "微信小程序", "WeChat Pay" or "wxWidgets".
            rule(
                Wechat,
                Clean,
                r"(?:^|[^a-z])(?P<c>(?:weixin|wechat|vx|wx|v)(?:号|\s*id)?\s*[:：是为]\s*[a-z][-_a-z0-9]{5,19})",
            )?,
            rule(
                Wechat,
                Clean,
                r"(?P<c>(?:微信|v信|薇信|徽信|威信号)(?:号|\s*id)?\s*[:：是为]?\s*[a-z][-_a-z0-9]{5,19})",
            )?,
            rule(
                Wechat,
                Squeezed,
                r"(?P<c>(?:微信|v信|薇信|徽信)(?:号|id)?[a-z][a-z]{0,18}[0-9][a-z0-9]{0,18})",
            )?,
            rule(
                Qq,
                Squeezed,
                r"(?P<c>(?:qq|扣扣|企鹅|q群|扣群)(?:号码|号|群号|群)?[0-9]{5,11})",
            )?,
            rule(
                Email,
                Clean,
                r"(?P<c>[a-z0-9._%+-]+\s*@\s*[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})",
            )?,
            // "lin [at] 163 [dot] com", "lin艾特qq点com".
            rule(
                Email,
                Compact,
                r"(?P<c>[a-z0-9._-]+[\[(（【]?(?:at|艾特|圈a)[\])）】]?[a-z0-9-]+[\[(（【]?(?:dot|点)[\])）】]?(?:com|cn|net|org))",
            )?,
            // Links to other marketplaces, shops and chat invitations. A portfolio on
            // GitHub or Behance is fine.
            rule(
                Link,
                Clean,
                r"(?P<c>(?:[a-z0-9-]+\.)*(?:taobao|tmall|jd|goofish|xianyu|pinduoduo|yangkeduo|weidian|zbj|epwk|fiverr|upwork|douyin|xiaohongshu|xhslink|(?:weixin|qm|jq)\.qq|u\.wechat)\.(?:com|cn|net)(?:/[^\s]*)?)",
            )?,
            rule(Link, Clean, r"(?:^|[^a-z0-9.])(?P<c>(?:t|wa)\.me/[^\s]+)")?,
            rule(
                Solicitation,
                Clean,
                r"(?:^|[^a-z])(?P<c>(?:telegram|tg|whatsapp|电报)\s*[:：]?\s*@?[a-z0-9_+]{5,})",
            )?,
            // "加V", "加微信", "+vx", "vx" standing alone (not inside a longer Latin word such
            // as "devxcode"), "薇信". Not "增加微服务", "参加VR展" or "C++Vue".
            rule(
                Solicitation,
                Compact,
                r"(?P<c>加(?:个|我的?)?(?:微信|薇信|徽信|v信|vx|wx|v|qq|扣扣|q))(?:[^a-z0-9]|$)",
            )?,
            rule(
                Solicitation,
                Clean,
                r"(?P<c>加(?:个|我的?)?\s*(?:微|薇))(?:$|[^\p{Han}a-z0-9])",
            )?,
            rule(
                Solicitation,
                Compact,
                r"(?:^|[^a-z+])(?P<c>\+(?:v|vx|wx|qq))(?:[^a-z0-9]|$)",
            )?,
            rule(
                Solicitation,
                Compact,
                r"(?:^|[^a-z])(?P<c>vx|wx)(?:[^a-z]|$)",
            )?,
            rule(
                Solicitation,
                Compact,
                r"(?P<c>薇信|徽信|v信|微x|威信号|围信)",
            )?,
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

/// What one field was found to contain, and where (original character indices).
struct Hits {
    words: Vec<(String, std::ops::RangeInclusive<usize>)>,
    contacts: Vec<(ContactKind, std::ops::RangeInclusive<usize>)>,
}

fn hits(r: &Rules, text: &str) -> Hits {
    let v = views(text);
    let mut words = Vec::new();
    for m in r.words.find_iter(&v.words.text) {
        if let (Some(word), Some(at)) = (
            r.listed.get(m.pattern().as_usize()),
            v.words.origin(m.start()..m.end()),
        ) {
            words.push((word.clone(), at));
        }
    }
    let mut contacts = Vec::new();
    for (kind, seen, re) in &r.contact {
        let view = match seen {
            Seen::Clean => &v.clean,
            Seen::Compact => &v.compact,
            Seen::Squeezed => &v.squeezed,
        };
        for caps in re.captures_iter(&view.text) {
            let Some(m) = caps.name("c").or_else(|| caps.get(0)) else {
                continue;
            };
            if let Some(at) = view.origin(m.start()..m.end()) {
                contacts.push((*kind, at));
            }
        }
    }
    Hits { words, contacts }
}

/// Every finding in the named texts, in field order; empty when the texts may be published.
pub fn check(fields: &[(&str, &str)]) -> Result<Vec<Finding>, RulesError> {
    let r = rules()?;
    let mut findings = Vec::new();
    for (field, text) in fields {
        findings.extend(findings_of(field, hits(r, text)));
    }
    Ok(findings)
}

fn findings_of(field: &str, hits: Hits) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut words: Vec<String> = hits.words.into_iter().map(|(w, _)| w).collect();
    words.sort_unstable();
    words.dedup();
    for word in words {
        findings.push(Finding::SensitiveWord {
            field: field.to_owned(),
            word,
        });
    }
    for kind in ContactKind::ALL {
        if hits.contacts.iter().any(|(k, _)| *k == kind) {
            findings.push(Finding::ContactInfo {
                field: field.to_owned(),
                contact: kind,
            });
        }
    }
    findings
}

/// A text with every contact detail and sensitive word masked, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screened {
    /// The text with the found characters replaced by `*` (spacing kept).
    pub text: String,
    pub findings: Vec<Finding>,
}

/// Screens one text of `field` (chat messages): what moderation would refuse is masked
/// instead, so the rest of the message still gets through.
pub fn screen(field: &str, text: &str) -> Result<Screened, RulesError> {
    let r = rules()?;
    let hits = hits(r, text);
    let mut masked = vec![false; text.chars().count()];
    for at in hits
        .words
        .iter()
        .map(|(_, at)| at)
        .chain(hits.contacts.iter().map(|(_, at)| at))
    {
        for i in at.clone() {
            if let Some(m) = masked.get_mut(i) {
                *m = true;
            }
        }
    }
    let text = text
        .chars()
        .zip(&masked)
        .map(|(c, m)| if *m && !c.is_whitespace() { '*' } else { c })
        .collect();
    Ok(Screened {
        text,
        findings: findings_of(field, hits),
    })
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

    /// Real-world ways of passing contact details in a chat, each of which must be found and
    /// masked (the digits or the id never reach the other party).
    const EVASIONS: [&str; 40] = [
        "138 0013 8000",
        "一三八零零一三八零零零",
        "加V: abc_123",
        "Q群 12345678",
        "我的微❤信：design_pro88",
        "电话 138-0013-8000",
        "1 3 8 0 0 1 3 8 0 0 0",
        "１３８００１３８０００",
        "壹叁捌零零壹叁捌零零零",
        "幺三八 零零幺三 八零零零",
        "+86 13800138000 随时联系",
        "手机：138.0013.8000",
        "13八0013八000",
        "vx: design_2026",
        "VX：lin888888",
        "wx号 zhang_san99",
        "加我微信 abc123456",
        "薇信 studio_2026",
        "徽信号：hello_world1",
        "v信 kk_9988",
        "扣扣 987654321",
        "qq：10001000",
        "QQ号码 12345678",
        "企鹅 55667788",
        "邮箱 lin.design@163.com",
        "lin [at] 163 [dot] com",
        "私聊加V",
        "加个vx聊",
        "+v 详谈",
        "加微 细聊",
        "weixin: lin_2026",
        "WeChat ID: designer_lin",
        "V：lin2026",
        "拍下链接 https://item.taobao.com/item.htm?id=123",
        "来我店里 shop123.tmall.com 下单",
        "闲鱼见 https://m.goofish.com/item/456",
        "telegram @lin_design",
        "进群 https://t.me/gigbao_deals",
        "微 信 号 ： lin_design_88",
        "ＱＱ ８８８８８８８８",
    ];

    /// Ordinary marketplace talk that must pass untouched.
    const INNOCENT: [&str; 32] = [
        "你好，请问Logo设计三天能交付吗？",
        "我需要一个微信小程序，预算5000元",
        "公众号运营的套餐包含哪些内容？",
        "可以接入微信支付和支付宝吗？",
        "订单号 ORD20261124160000ABCDEF 的进度如何？",
        "预算在 3000 到 5000 之间",
        "我们公司有 120 名员工",
        "请在 2026-12-01 之前交付",
        "修改第 3 版的配色，改成 #FF5733",
        "网站需要支持 Vue 3 和 React 18",
        "增加微服务模块，参加VR展",
        "Can you deliver the logo in 3 days?",
        "My budget is 800 yuan for the basic package",
        "Please use Rust 1.95 and tokio 1.40",
        "I uploaded the brief, version v2.1",
        "作品集在 https://github.com/lin-design 可以看看",
        "第一稿很好，第二稿颜色再深一点",
        "三十个页面，每页一张图",
        "一共需要十二张海报",
        "好的，我加一下需求说明",
        "谢谢！五星好评",
        "视频时长 1 分 30 秒，分辨率 1920x1080",
        "QQ音乐的歌单封面设计",
        "微信公众号推文排版，每篇 200 元",
        "电话会议可以安排在周三下午吗？",
        "产品编号 SKU-20261124-001",
        "价格 13800 元可以吗",
        "我在 WeChat Pay 上付款失败了",
        "尺寸 1380 x 800 像素",
        "交付时间是 2026年11月24日 下午3点",
        "请加一个V形图案在Logo上",
        "Use the @media query for mobile, and devxcode is fine",
    ];

    #[test]
    fn chat_evasions_are_found_and_masked() {
        let mut missed = Vec::new();
        for text in EVASIONS {
            let s = screen("content", text).unwrap();
            let digits_left = s.text.chars().filter(char::is_ascii_digit).count();
            if s.findings.is_empty() || s.text == text || digits_left >= 5 {
                missed.push(format!("{text} → {}", s.text));
            }
        }
        assert!(missed.is_empty(), "not masked: {missed:#?}");
    }

    #[test]
    fn innocent_chat_passes_untouched() {
        let mut flagged = Vec::new();
        for text in INNOCENT {
            let s = screen("content", text).unwrap();
            if !s.findings.is_empty() || s.text != text {
                flagged.push(format!("{text} → {} {:?}", s.text, s.findings));
            }
        }
        assert!(flagged.is_empty(), "flagged: {flagged:#?}");
    }

    #[test]
    fn masking_keeps_the_rest_of_the_message() {
        let s = screen("content", "你好，电话 138 0013 8000，明天聊").unwrap();
        assert_eq!(s.text, "你好，电话 *** **** ****，明天聊");
        assert_eq!(s.findings.len(), 1);
        let s = screen("content", "详情加V: abc_123 谢谢").unwrap();
        assert!(
            !s.text.contains("abc_123") && s.text.ends_with(" 谢谢"),
            "{}",
            s.text
        );
        let s = screen("content", "提供賭博网站").unwrap();
        assert_eq!(s.text, "提供**网站");
    }
}
