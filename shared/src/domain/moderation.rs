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
const TITLE_PROHIBITED: [&str; 4] = ["illegal", "prohibited", "违禁", "违法"];

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
fn normalise(text: &str) -> String {
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

/// Characters people put in place of `+`, `@`, `#`, `:` and `.` ("➕V", "lin＠163", "ⓐ").
fn canonical(c: char) -> char {
    match c {
        '➕' | '✚' | '﹢' | '✙' => '+',
        'ⓐ' | 'Ⓐ' | '﹫' => '@',
        // "lin@163。com": the ideographic full stop as a dot.
        '。' | '｡' => '.',
        // The penguin is QQ's mascot: "🐧 12345678" reads as "q 12345678".
        '🐧' => 'q',
        '﹟' | '♯' => '#',
        '﹕' | '︰' => ':',
        _ => c,
    }
}

fn views(text: &str) -> Views {
    let folded: Vec<(char, usize)> = fast2s::convert(text)
        .chars()
        .enumerate()
        .flat_map(|(i, c)| fold_char(canonical(c)).map(move |f| (f, i)))
        .collect();
    let digits = || folded.iter().map(|&(c, i)| (numeral_as_digit(c), i));
    let kept =
        |c: char| c.is_alphanumeric() || c.is_whitespace() || ":_-@.+#/()[]【】（）=".contains(c);
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
    /// Each contact rule: the view it reads, what it finds, and when a match counts. A rule's
    /// `c` group is the part to mask (the rest only anchors it).
    contact: Vec<ContactRule>,
}

struct ContactRule {
    kind: ContactKind,
    seen: Seen,
    re: Regex,
    /// Whether a match counts (a regex cannot say "an id with two digits").
    accept: fn(&regex::Captures<'_>) -> bool,
}

#[derive(Debug, Clone, Copy)]
enum Seen {
    Clean,
    Compact,
    Squeezed,
}

/// How much a channel's name says on its own, which decides what must follow it for the pair
/// to be an account. `Strong` names are not ordinary words (`vx`, `薇信`, `绿泡泡`: asking to
/// be added already): any word set apart after them is an account. `Medium` ones are real
/// product names also used innocently (`微信小程序`, `WeChat Pay`, `钉钉机器人`): the account
/// must be introduced ("号", "：", "加") or look made up (`lin_88`, `chen2026`). `Weak` ones are
/// ordinary words or single letters (`v`, `line`, `卫星`): introduced, or set apart and made up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strength {
    Strong,
    Medium,
    Weak,
}

/// Off-platform channels by name, as they appear in the clean view (folded, simplified, lower
/// case). A `~` between two characters lets anything a person might put between them
/// (spacing, a dot, a dash) stand there: `wei~xin` is `weixin`, `wei xin` and `wei-xin`.
struct Channel {
    kind: ContactKind,
    strength: Strength,
    /// Latin names need a word boundary before them (`devxcode` is not `vx`).
    latin: bool,
    names: &'static [&'static str],
}

/// Characters read like "wei" and "xin": any pair of them beside an account is 微信
/// (`威信：lin2026`, `维心 lin_88`).
const WEI: &str = "微威维薇徽唯为围伟卫未位味魏韦危巍惟违尾喂胃苇玮炜";
const XIN: &str = "信心新芯欣辛鑫馨薪昕锌";

const CHANNELS: &[Channel] = &[
    Channel {
        kind: ContactKind::Wechat,
        strength: Strength::Strong,
        latin: true,
        names: &["weixin", "v~x", "w~x", "vxin"],
    },
    Channel {
        kind: ContactKind::Wechat,
        strength: Strength::Strong,
        latin: false,
        names: &[
            "薇~信",
            "徽~信",
            "v~信",
            "vx~信",
            "wei~信",
            "微~xin",
            "微~x",
            "围~信",
            "绿~泡~泡",
            "绿~色~泡~泡",
            "小~绿~泡",
        ],
    },
    Channel {
        kind: ContactKind::Wechat,
        strength: Strength::Medium,
        latin: true,
        // "wei xin" written apart may be a person's name (魏欣).
        names: &["wechat", "we~chat", "wei~xin"],
    },
    Channel {
        kind: ContactKind::Wechat,
        strength: Strength::Medium,
        latin: false,
        // Every "wei" + "xin" pair (微信, 威信, 维心, …), built from the two sets.
        names: &["{WEI}~{XIN}"],
    },
    Channel {
        kind: ContactKind::Wechat,
        strength: Strength::Weak,
        latin: true,
        names: &["v"],
    },
    Channel {
        kind: ContactKind::Wechat,
        strength: Strength::Weak,
        latin: false,
        names: &["微", "薇", "卫~星", "绿~泡"],
    },
    Channel {
        kind: ContactKind::Qq,
        strength: Strength::Strong,
        latin: false,
        names: &["扣~扣", "抠~抠", "扣~群", "q~群", "企~鹅~号"],
    },
    Channel {
        kind: ContactKind::Qq,
        strength: Strength::Medium,
        latin: true,
        names: &["qq"],
    },
    Channel {
        kind: ContactKind::Qq,
        strength: Strength::Medium,
        latin: false,
        names: &["企~鹅", "球~球"],
    },
    Channel {
        kind: ContactKind::Qq,
        strength: Strength::Weak,
        latin: true,
        names: &["q"],
    },
    // Other messaging apps and social accounts: asking to be contacted there.
    Channel {
        kind: ContactKind::Solicitation,
        strength: Strength::Medium,
        latin: true,
        names: &[
            "telegram",
            "tg",
            "whatsapp",
            "whats~app",
            "skype",
            "discord",
            "kakao~talk",
            "kakao",
            "viber",
            "instagram",
        ],
    },
    Channel {
        kind: ContactKind::Solicitation,
        strength: Strength::Medium,
        latin: false,
        names: &["钉~钉", "飞~书", "陌~陌", "电~报", "连~我"],
    },
    Channel {
        kind: ContactKind::Solicitation,
        strength: Strength::Weak,
        latin: true,
        names: &["line", "ding~talk", "lark", "douyin", "weibo"],
    },
    Channel {
        kind: ContactKind::Solicitation,
        strength: Strength::Weak,
        latin: false,
        names: &["纸~飞~机", "抖~音", "快~手", "小~红~书", "微~博", "b~站"],
    },
];

/// What may stand between the characters of a channel's name: spacing and the separators
/// the clean view keeps.
const INSIDE: &str = r"[\s.\-_*/|]*";

/// One channel name as a regex.
fn name_pattern(name: &str) -> String {
    if name == "{WEI}~{XIN}" {
        return format!("[{WEI}]{INSIDE}[{XIN}]");
    }
    name.split('~')
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join(INSIDE)
}

fn names_pattern(names: &[&str]) -> String {
    // Longer names first: `vxin` before `vx` before `v`.
    let mut names: Vec<&str> = names.to_vec();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names
        .iter()
        .map(|n| name_pattern(n))
        .collect::<Vec<_>>()
        .join("|")
}

/// An account: what WeChat, QQ, Telegram and LINE ids look like (letters, digits, `_`, `-`).
const ID: &str = r"[a-z0-9][-_a-z0-9]{4,29}";
/// Where an account ends: not inside a longer word, an address or a domain (`abc123.com`);
/// a full stop ending the sentence is fine.
const ID_END: &str = r"(?:$|[^-_a-z0-9@.]|\.(?:$|[^a-z0-9]))";
/// Asking to be added: "加", "加个", "加我的", "加一下" (`1下` in the view: numerals are
/// digits there), "+", "➕".
const ADD: &str = r"(?P<p>加|\+)(?:个|我的?|1下|下)?\s*";
/// What names the account after the channel: "号", "账号", "id", "hao".
const MARK: &str = r"(?P<m>号码|账号|帐号|群号|号|群|hao|id)";
/// What introduces it: "：", "是", "为", "=", "搜".
const INTRO: &str = r"(?P<m2>[:=]|是|为|搜索|搜)";

/// A channel's name followed by an account: `vx abc123`, `威信：lin2026`, `加我vx lin_88`,
/// `wei xin hao design2026`, `钉钉号 lin2026`, `line id: lin_tw`. The whole of it is masked.
fn channel_pattern(channel: &Channel) -> String {
    let before = if channel.latin { "(?:^|[^a-z0-9])" } else { "" };
    format!(
        r"{before}(?P<c>(?:{ADD})?(?:{names})(?P<gap>\s*)(?:{MARK}\s*)?(?:{INTRO}\s*)?@?(?P<id>{ID})){ID_END}",
        names = names_pattern(channel.names)
    )
}

/// An id that is hardly an ordinary word: with `_` or `-`, two digits or more, or all
/// digits (QQ numbers).
fn id_looks_made_up(id: &str) -> bool {
    id.contains(['_', '-']) || id.chars().filter(char::is_ascii_digit).count() >= 2
}

fn accept_strong(c: &regex::Captures<'_>) -> bool {
    explicit(c) || c.name("gap").is_some_and(|g| !g.is_empty()) || made_up_id(c)
}

fn accept_medium(c: &regex::Captures<'_>) -> bool {
    explicit(c) || made_up_id(c)
}

fn accept_weak(c: &regex::Captures<'_>) -> bool {
    explicit(c) || (c.name("gap").is_some_and(|g| !g.is_empty()) && made_up_id(c))
}

fn explicit(c: &regex::Captures<'_>) -> bool {
    c.name("p").is_some() || c.name("m").is_some() || c.name("m2").is_some()
}

fn made_up_id(c: &regex::Captures<'_>) -> bool {
    c.name("id").is_some_and(|id| id_looks_made_up(id.as_str()))
}

fn always(_: &regex::Captures<'_>) -> bool {
    true
}

/// WeChat's and QQ's own products, which are not a way to reach someone: "增加微信支付",
/// "加微信小程序", "增加QQ音乐歌单".
const PRODUCTS: [&str; 24] = [
    "支付",
    "小程序",
    "公众",
    "登录",
    "登陆",
    "分享",
    "生态",
    "开放",
    "商城",
    "商户",
    "视频号",
    "接口",
    "开发",
    "运营",
    "营销",
    "推文",
    "文章",
    "功能",
    "插件",
    "机器人",
    "音乐",
    "浏览器",
    "游戏",
    "空间",
];

/// "加微信" and "加v" ask to be added unless a product follows ("增加微信支付").
fn accept_add(c: &regex::Captures<'_>) -> bool {
    let after = c.name("after").map_or("", |a| a.as_str());
    !PRODUCTS.iter().any(|p| after.starts_with(p))
}

/// The WeChat and QQ names that, after "加" or "+", ask to be added on their own ("加微信",
/// "+薇信"). Not the look-alike pairs ("添加为新用户") nor ordinary words ("增加卫星图层").
const ADD_NAMES: [&str; 13] = [
    "微~信",
    "薇~信",
    "徽~信",
    "v~信",
    "vx~信",
    "微~x",
    "围~信",
    "绿~泡~泡",
    "小~绿~泡",
    "扣~扣",
    "抠~抠",
    "扣~群",
    "q~群",
];

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
    let rule =
        |kind: ContactKind, seen: Seen, p: &str, accept: fn(&regex::Captures<'_>) -> bool| {
            Regex::new(p)
                .map(|re| ContactRule {
                    kind,
                    seen,
                    re,
                    accept,
                })
                .map_err(|e| RulesError(format!("{e} in {p}")))
        };
    use ContactKind::{Email, Link, Phone, Qq, Solicitation};
    use Seen::{Clean, Compact, Squeezed};
    let mut contact = Vec::new();
    for channel in CHANNELS {
        let accept = match channel.strength {
            Strength::Strong => accept_strong,
            Strength::Medium => accept_medium,
            Strength::Weak => accept_weak,
        };
        contact.push(rule(
            channel.kind,
            Clean,
            &channel_pattern(channel),
            accept,
        )?);
    }
    let add_names = format!("{}|vx|wx|v|qq|q", names_pattern(&ADD_NAMES));
    contact.extend([
        // On digit runs with separators removed: a mainland mobile number.
        rule(
            Phone,
            Squeezed,
            r"(?:^|[^0-9])(?:0086|86)?(?P<c>1[3-9][0-9]{9})(?:[^0-9]|$)",
            always,
        )?,
        rule(
            Qq,
            Squeezed,
            r"(?P<c>(?:qq|扣扣|企鹅|q群|扣群)(?:号码|号|群号|群)?[0-9]{5,11})",
            always,
        )?,
        // An address with "@" or what stands for it ("#", "(at)", "艾特", "圈a") and a
        // domain with a top-level name ("lin#163.com", "lin (at) 163 [dot] com")…
        rule(
            Email,
            Clean,
            r"(?P<c>[a-z0-9][a-z0-9._%+-]*\s*(?:@|#|[\[(（【]\s*(?:at|@)\s*[\])）】]|艾特|圈a)\s*(?:[a-z0-9-]+\s*(?:\.|点|[\[(（【]\s*(?:dot|\.)\s*[\])）】])\s*)+(?:com|cn|net|org|edu|io|me|co|info|cc|top|xyz))(?:[^a-z0-9]|$)",
            always,
        )?,
        // …or a known mail provider without one ("lin@163", "lin艾特qq"; not "C# 163").
        rule(
            Email,
            Clean,
            r"(?P<c>[a-z0-9][a-z0-9._%+-]*\s*(?:@|[\[(（【]\s*(?:at|@)\s*[\])）】]|艾特|圈a)\s*(?:163|126|qq|gmail|foxmail|outlook|hotmail|sina|sohu|yeah|aliyun|icloud|139|yahoo|proton))(?:[^a-z0-9.]|$)",
            always,
        )?,
        // "lin at 163 dot com", "lin艾特qq点com" (spacing gone).
        rule(
            Email,
            Compact,
            r"(?P<c>[a-z0-9._-]+[\[(（【]?(?:at|艾特|圈a)[\])）】]?[a-z0-9-]+[\[(（【]?(?:dot|点|\.)[\])）】]?(?:com|cn|net|org))",
            always,
        )?,
        // Links to other marketplaces, shops and chat invitations. A portfolio on
        // GitHub or Behance is fine.
        rule(
            Link,
            Clean,
            r"(?P<c>(?:[a-z0-9-]+\.)*(?:taobao|tmall|jd|goofish|xianyu|pinduoduo|yangkeduo|weidian|zbj|epwk|fiverr|upwork|douyin|xiaohongshu|xhslink|(?:weixin|qm|jq)\.qq|u\.wechat)\.(?:com|cn|net)(?:/[^\s]*)?)",
            always,
        )?,
        rule(
            Link,
            Clean,
            r"(?:^|[^a-z0-9.])(?P<c>(?:t|wa|line)\.me/[^\s]+)",
            always,
        )?,
        rule(
            Solicitation,
            Clean,
            r"(?:^|[^a-z])(?P<c>(?:telegram|tg|whatsapp|电报)\s*(?::\s*@?|@)[a-z0-9_+]{5,})",
            always,
        )?,
        // "加V", "加微信", "加我vx" standing alone (not "增加微信支付", "参加VR展", "加vue").
        rule(
            Solicitation,
            Compact,
            &format!(
                r"(?P<c>加(?:个|我的?|1下|下)?(?:{add_names}))(?:$|(?P<after>\p{{Han}}{{1,3}})|[^a-z0-9\p{{Han}}])"
            ),
            accept_add,
        )?,
        // "加微" alone (not "增加微服务").
        rule(
            Solicitation,
            Clean,
            r"(?P<c>加(?:个|我的?|1下|下)?\s*(?:微|薇))(?:$|[^\p{Han}a-z0-9])",
            always,
        )?,
        rule(
            Solicitation,
            Compact,
            &format!(r"(?:^|[^a-z+])(?P<c>\+(?:{add_names}))(?:[^a-z0-9]|$)"),
            accept_add,
        )?,
        // "vx" and "wx" standing alone (not inside a longer Latin word such as "devxcode",
        // nor the mini-program API's `wx.login`).
        rule(
            Solicitation,
            Compact,
            r"(?:^|[^a-z])(?P<c>vx|wx)(?:[^a-z.]|$)",
            always,
        )?,
        // Names that are nothing but a way to say WeChat.
        rule(
            Solicitation,
            Compact,
            r"(?P<c>薇信|徽信|v信|微x|围信|绿泡泡|绿色泡泡|小绿泡)",
            always,
        )?,
    ]);
    Ok(Rules {
        words: automaton(&listed)?,
        listed,
        title: automaton(&title)?,
        contact,
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
    for rule in &r.contact {
        let view = match rule.seen {
            Seen::Clean => &v.clean,
            Seen::Compact => &v.compact,
            Seen::Squeezed => &v.squeezed,
        };
        for caps in rule.re.captures_iter(&view.text) {
            if !(rule.accept)(&caps) {
                continue;
            }
            let Some(m) = caps.name("c").or_else(|| caps.get(0)) else {
                continue;
            };
            if let Some(at) = view.origin(m.start()..m.end()) {
                contacts.push((rule.kind, at));
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

    const CORPUS: &str = include_str!("../../data/contact-corpus.tsv");

    /// The corpus: (must be caught, text, what must not survive masking).
    fn corpus() -> Vec<(bool, &'static str, Option<&'static str>)> {
        CORPUS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut parts = l.split('\t');
                let sign = parts.next().unwrap();
                let text = parts.next().unwrap();
                assert!(sign == "+" || sign == "-", "bad corpus line: {l}");
                (sign == "+", text, parts.next().filter(|s| !s.is_empty()))
            })
            .collect()
    }

    /// Whether a caught text was masked well enough: changed, no run of five digits left, and
    /// the account (where the corpus names it) unreadable.
    fn masked(original: &str, screened: &str, secret: Option<&str>) -> bool {
        let mut run = 0;
        let mut longest = 0;
        for c in screened.chars() {
            run = if c.is_ascii_digit() { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        screened != original && longest < 5 && secret.is_none_or(|s| !screened.contains(s))
    }

    /// Every way of passing contact details in the corpus is found, both where text is refused
    /// (services, reviews) and where it is masked (chat), and the account after a caught
    /// trigger is masked too; no ordinary text is touched. Prints precision and recall.
    #[test]
    fn contact_corpus_precision_and_recall() {
        let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
        let mut wrong = Vec::new();
        for (positive, text, secret) in corpus() {
            let refused = !kinds(text).is_empty();
            let s = screen("content", text).unwrap();
            let flagged = !s.findings.is_empty();
            match positive {
                true if refused && flagged && masked(text, &s.text, secret) => tp += 1,
                true => {
                    fn_ += 1;
                    wrong.push(format!("missed: {text} → {}", s.text));
                }
                false if !refused && !flagged && s.text == text => tn += 1,
                false => {
                    fp += 1;
                    wrong.push(format!("flagged: {text} → {} {:?}", s.text, s.findings));
                }
            }
        }
        let precision = f64::from(tp) / f64::from((tp + fp).max(1));
        let recall = f64::from(tp) / f64::from((tp + fn_).max(1));
        eprintln!(
            "contact corpus: {tp} caught, {fn_} missed, {fp} false alarms, {tn} passed; \
             precision {:.1} %, recall {:.1} %",
            precision * 100.0,
            recall * 100.0
        );
        assert!(tp > 100 && tn > 60, "the corpus shrank: {tp} + {tn}");
        assert!(wrong.is_empty(), "{wrong:#?}");
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
