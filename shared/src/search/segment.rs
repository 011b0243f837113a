//! Chinese word segmentation as jieba does it without HMM guessing (precise mode and search
//! mode), over a dictionary compiled into the binary (`build.rs`): a finite-state transducer
//! from word to frequency, used in place, so a cold start parses nothing. jieba-rs builds the
//! same dictionary into memory first, about 0.1 s of CPU at every cold start; the tokens are
//! the same, which `tests` below check against jieba-rs itself.
//!
//! A sentence is split into runs of "han" characters (CJK ideographs, ASCII letters and digits,
//! `+#&._%-`) and other characters (each its own token). In a run, every dictionary word that
//! starts at each character is an edge of a DAG; the route through it with the greatest product
//! of word probabilities (`freq / TOTAL`, a character no word covers counting as `1 / TOTAL`)
//! is the segmentation, and single ASCII letters or digits next to each other are joined into
//! one word. Search mode also yields, before each word, its parts joined by `.`, `_` or `-`, and
//! the 2- and 3-character dictionary words inside it.

use std::sync::LazyLock;

use fst::Map;
use fst::raw::Output;

include!(concat!(env!("OUT_DIR"), "/segmenter_total.rs"));

static BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/segmenter.fst"));

/// The dictionary, mapped from the binary (reading its header is all the work).
static DICT: LazyLock<Option<Map<&'static [u8]>>> = LazyLock::new(|| match Map::new(BYTES) {
    Ok(map) => Some(map),
    Err(e) => {
        tracing::error!(error = %e, "segmenter dictionary unreadable: every character is a word");
        None
    }
});

/// Opens the dictionary now (it is a few bytes of header; kept for the functions that call it at
/// cold start).
pub fn warm_up() {
    LazyLock::force(&DICT);
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2B73F}'
        | '\u{2B740}'..='\u{2B81F}'
        | '\u{2B820}'..='\u{2CEAF}'
        | '\u{2CEB0}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}')
}

/// What a run that is segmented by the dictionary may hold.
fn is_han(c: char) -> bool {
    is_cjk(c) || c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '&' | '.' | '_' | '%' | '-')
}

/// Every dictionary word starting at each character of `run`: `edges[i]` = (end, frequency),
/// ends ascending.
fn dag(map: &Map<&'static [u8]>, run: &str, starts: &[usize]) -> Vec<Vec<(usize, u64)>> {
    let fst = map.as_fst();
    let mut edges = vec![Vec::new(); starts.len()];
    for (i, edges_i) in edges.iter_mut().enumerate() {
        let mut node = fst.root();
        let mut out = Output::zero();
        let bytes = &run.as_bytes()[starts[i]..];
        let mut next_char = i + 1;
        for (k, b) in bytes.iter().enumerate() {
            let Some(t) = node.find_input(*b) else { break };
            let t = node.transition(t);
            out = out.cat(t.out);
            node = fst.node(t.addr);
            let end_byte = starts[i] + k + 1;
            let boundary = starts.get(next_char).copied().unwrap_or(run.len());
            if end_byte == boundary {
                if node.is_final() {
                    edges_i.push((next_char, out.cat(node.final_output()).value()));
                }
                next_char += 1;
            }
        }
    }
    edges
}

/// The best route: `route[i]` = where the word starting at `i` ends.
fn route(edges: &[Vec<(usize, u64)>]) -> Vec<usize> {
    let n = edges.len();
    let log_total = (TOTAL as f64).ln();
    let mut prob = vec![0.0f64; n + 1];
    let mut end = vec![n; n + 1];
    for i in (0..n).rev() {
        let mut best: Option<(f64, usize)> = None;
        for &(e, freq) in &edges[i] {
            let p = (freq as f64).ln() - log_total + prob[e];
            if best.is_none_or(|(bp, be)| p > bp || (p == bp && e > be)) {
                best = Some((p, e));
            }
        }
        let (p, e) = best.unwrap_or((-log_total + prob[i + 1], i + 1));
        prob[i] = p;
        end[i] = e;
    }
    end
}

/// A word of a segmented sentence, and whether it came from a dictionary-segmented run (only
/// those have search mode's sub-words).
struct Word<'a> {
    text: &'a str,
    in_run: bool,
}

/// Calls `emit` with each word of `sentence` in order.
fn each_word<'a>(sentence: &'a str, mut emit: impl FnMut(&Word<'a>, &dyn Fn(&str) -> bool)) {
    let dict = DICT.as_ref();
    let contains = |w: &str| dict.is_some_and(|m| m.contains_key(w));
    let mut rest = sentence;
    while let Some(first) = rest.chars().next() {
        let han = is_han(first);
        let len = rest
            .char_indices()
            .find(|&(_, c)| is_han(c) != han)
            .map_or(rest.len(), |(i, _)| i);
        let (run, after) = rest.split_at(len);
        rest = after;
        if !han {
            let mut chars = run.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                let mut j = i + c.len_utf8();
                if c == '\r' && chars.peek().is_some_and(|&(_, d)| d == '\n') {
                    chars.next();
                    j += 1;
                }
                emit(
                    &Word {
                        text: &run[i..j],
                        in_run: false,
                    },
                    &contains,
                );
            }
            continue;
        }
        let starts: Vec<usize> = run.char_indices().map(|(i, _)| i).collect();
        let edges = match dict {
            Some(map) => dag(map, run, &starts),
            None => vec![Vec::new(); starts.len()],
        };
        let route = route(&edges);
        let chars: Vec<char> = run.chars().collect();
        let byte = |k: usize| starts.get(k).copied().unwrap_or(run.len());
        let mut word = |x: usize, y: usize| {
            emit(
                &Word {
                    text: &run[byte(x)..byte(y)],
                    in_run: true,
                },
                &contains,
            );
        };
        let mut x = 0;
        let mut joined: Option<usize> = None;
        while x < chars.len() {
            let y = route[x];
            if y - x == 1 && chars[x].is_ascii_alphanumeric() {
                joined.get_or_insert(x);
            } else {
                if let Some(start) = joined.take() {
                    word(start, x);
                }
                word(x, y);
            }
            x = y;
        }
        if let Some(start) = joined {
            word(start, chars.len());
        }
    }
}

/// Precise mode: the words of `sentence`, in order (jieba's `cut(sentence, false)`).
pub fn cut(sentence: &str) -> Vec<&str> {
    let mut out = Vec::new();
    each_word(sentence, |w, _| out.push(w.text));
    out
}

/// Search mode (jieba's `cut_for_search(sentence, false)`): before each word, its parts joined
/// by `.`, `_` or `-` (of two bytes or more, with a letter), then the 2- and 3-character
/// dictionary words inside it.
pub fn cut_for_search(sentence: &str) -> Vec<&str> {
    let mut out = Vec::new();
    each_word(sentence, |w, contains| {
        let word = w.text;
        if word.bytes().any(|b| matches!(b, b'.' | b'_' | b'-')) {
            for part in word.split(['.', '_', '-']) {
                if part.len() >= 2 && part.bytes().any(|b| b.is_ascii_alphabetic()) {
                    out.push(part);
                }
            }
        }
        if w.in_run {
            let bounds: Vec<usize> = word
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(word.len()))
                .collect();
            let n = bounds.len() - 1;
            for len in [2usize, 3] {
                if n > len {
                    for i in 0..=n - len {
                        let gram = &word[bounds[i]..bounds[i + len]];
                        if contains(gram) {
                            out.push(gram);
                        }
                    }
                }
            }
        }
        out.push(word);
    });
    out
}

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use proptest::prelude::*;

    use super::*;

    fn jieba() -> &'static jieba_rs::Jieba {
        static JIEBA: LazyLock<jieba_rs::Jieba> = LazyLock::new(|| {
            let mut j = jieba_rs::Jieba::new();
            j.load_dict(&mut BufReader::new(include_str!("userdict.txt").as_bytes()))
                .unwrap();
            j
        });
        &JIEBA
    }

    fn same(s: &str) {
        let theirs: Vec<&str> = jieba().cut(s, false).iter().map(|t| t.word).collect();
        assert_eq!(cut(s), theirs, "cut {s:?}");
        let theirs: Vec<&str> = jieba()
            .cut_for_search(s, false)
            .iter()
            .map(|t| t.word)
            .collect();
        assert_eq!(cut_for_search(s), theirs, "cut_for_search {s:?}");
    }

    #[test]
    fn words_are_cut_as_jieba_cuts_them() {
        for s in [
            "小程序开发",
            "专业品牌logo设计，原创三稿",
            "微信小程序开发，前后端一站式",
            "抖音短视频剪辑，包装字幕特效",
            "我来到北京清华大学",
            "他来到了网易杭研大厦",
            "WES-5.4.5 固件升级 c++ C# node.js 3.6.3",
            "淘宝天猫店铺装修 PS抠图 1688详情页",
            "",
            "  \r\n\t",
            "ａｂｃ全角ＡＢＣ，标点！？",
            "企业官网建设 SEO优化 H5页面 UI设计 App开发",
            "短視頻剪輯",
            "𠀀𠀁 扩展区汉字",
        ] {
            same(s);
        }
    }

    /// Every text of the demo data and the catalogue: real marketplace titles, descriptions
    /// and category names.
    #[test]
    fn the_demo_marketplace_is_cut_as_jieba_cuts_it() {
        fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/seed");
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(seed).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                strings(&v, &mut texts);
            }
        }
        assert!(texts.len() > 100, "{}", texts.len());
        for t in &texts {
            same(t);
            same(&crate::domain::moderation::fold(t));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn any_text_is_cut_as_jieba_cuts_it(
            s in proptest::collection::vec(
                prop::sample::select(
                    "小程序开发设计品牌标志短视频剪辑微信公众号网站建设企业官网清华大学北京来到了的是在和有中国人民共和国logoappuiseo-._+#&%ABCxyz0189 ，。！、\n\r"
                        .chars()
                        .collect::<Vec<_>>(),
                ),
                0..40,
            )
        ) {
            let s: String = s.into_iter().collect();
            same(&s);
        }
    }
}
