//! Text analysis done by our code, before the text reaches either engine, so that tantivy and
//! OpenSearch see the same tokens: fold (traditional → simplified, full-width → ASCII, lower
//! case), segment Chinese as jieba does with the marketplace dictionary (`segment`), add
//! pinyin.
//!
//! Documents are segmented in search mode (a long word also yields its dictionary sub-words:
//! 小程序开发 → 程序, 小程序, 开发); queries in precise mode (小程序开发 → 小程序, 开发), and
//! every query token must match. Both use the same dictionary and no HMM guessing, so a word
//! is cut the same way wherever it appears.

use pinyin::ToPinyin;

use super::segment;
use crate::domain::moderation::fold;

/// The longest token kept; anything longer is noise (a URL, a run of digits).
const MAX_TOKEN_CHARS: usize = 32;
/// Query tokens beyond this many are ignored (all of them must match).
const MAX_QUERY_TOKENS: usize = 12;

/// Opens the segmenter's dictionary (compiled into the binary: nothing to parse). The indexer
/// and the search function call it at cold start.
pub fn warm_up() {
    segment::warm_up();
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

fn keep(word: &str) -> Option<&str> {
    let word = word.trim();
    (!word.is_empty()
        && word.chars().count() <= MAX_TOKEN_CHARS
        && word.chars().any(char::is_alphanumeric))
    .then_some(word)
}

/// The tokens of a document field, space-separated: what both engines index with a
/// whitespace tokenizer.
pub fn index_text(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len() + 16);
    for token in segment::cut_for_search(&folded) {
        if let Some(word) = keep(token) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// The tokens of a query, in order, without repeats; at most [`MAX_QUERY_TOKENS`].
pub fn query_tokens(query: &str) -> Vec<String> {
    let folded = fold(query);
    let mut tokens: Vec<String> = Vec::new();
    for token in segment::cut(&folded) {
        if let Some(word) = keep(token)
            && !tokens.iter().any(|t| t == word)
        {
            tokens.push(word.to_owned());
            if tokens.len() == MAX_QUERY_TOKENS {
                break;
            }
        }
    }
    tokens
}

/// Pinyin of the Chinese in `text`, space-separated: for every word and for every run of Chinese
/// characters, the full spelling and the initials (设计 → `sheji sj`; 小程序开发 →
/// `xiaochengxu xcx kaifa kf xiaochengxukaifa xcxkf`). Toneless, so `sheji` and `sj` find 设计.
pub fn pinyin_text(text: &str) -> String {
    let folded = fold(text);
    let mut tokens: Vec<String> = Vec::new();
    let mut push = |chars: &str| {
        let (full, initials) = spell(chars);
        for t in [full, initials] {
            if t.len() > 1 && !tokens.contains(&t) {
                tokens.push(t);
            }
        }
    };
    for token in segment::cut(&folded) {
        if token.chars().all(is_han) {
            push(token);
        }
    }
    for run in folded.split(|c: char| !is_han(c)) {
        if run.chars().count() > 1 {
            push(run);
        }
    }
    tokens.join(" ")
}

fn spell(han: &str) -> (String, String) {
    let mut full = String::new();
    let mut initials = String::new();
    for p in han.to_pinyin().flatten() {
        full.push_str(p.plain());
        initials.push_str(p.first_letter());
    }
    (full, initials)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split(' ').collect()
    }

    #[test]
    fn marketplace_terms_are_words() {
        for term in ["小程序", "公众号", "后端", "微服务", "短视频", "剪辑"] {
            assert_eq!(query_tokens(term), vec![term.to_owned()], "{term}");
        }
        assert_eq!(query_tokens("小程序开发"), ["小程序", "开发"]);
        assert_eq!(query_tokens("短视频剪辑"), ["短视频", "剪辑"]);
    }

    #[test]
    fn mixed_queries_split_at_the_script_boundary() {
        assert_eq!(query_tokens("logo设计"), ["logo", "设计"]);
        assert_eq!(query_tokens("  Logo  Design "), ["logo", "design"]);
        assert_eq!(query_tokens("ＬＯＧＯ設計"), ["logo", "设计"]);
        assert_eq!(query_tokens("设计 设计 logo"), ["设计", "logo"]);
        assert!(query_tokens("，。！ ?").is_empty());
    }

    #[test]
    fn documents_keep_the_sub_words_a_query_may_ask_for() {
        let doc = index_text("微信小程序开发，前后端一站式");
        for t in query_tokens("小程序开发")
            .iter()
            .chain(&query_tokens("程序"))
        {
            assert!(words(&doc).contains(&t.as_str()), "{t} in {doc}");
        }
    }

    #[test]
    fn traditional_is_folded_to_simplified() {
        assert_eq!(query_tokens("標誌設計"), query_tokens("标志设计"));
        assert_eq!(index_text("短視頻剪輯"), index_text("短视频剪辑"));
    }

    #[test]
    fn pinyin_full_and_initials() {
        let p = pinyin_text("品牌logo设计");
        for t in ["pinpai", "pp", "sheji", "sj"] {
            assert!(words(&p).contains(&t), "{t} in {p}");
        }
        let p = pinyin_text("小程序开发");
        for t in ["xiaochengxu", "xcx", "kaifa", "kf", "xiaochengxukaifa"] {
            assert!(words(&p).contains(&t), "{t} in {p}");
        }
        assert_eq!(pinyin_text("logo design"), "");
        assert_eq!(pinyin_text("設計"), pinyin_text("设计"));
    }

    #[test]
    fn overlong_tokens_are_dropped() {
        let long = "a".repeat(40);
        assert_eq!(query_tokens(&format!("{long} logo")), ["logo"]);
        let many: String = (0..30).map(|i| format!("w{i} ")).collect();
        assert_eq!(query_tokens(&many).len(), MAX_QUERY_TOKENS);
    }
}
