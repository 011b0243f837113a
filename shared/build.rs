//! Compiles the segmenter's dictionary into a finite-state transducer (word → frequency) that
//! the search functions map straight from their binary: nothing is parsed at cold start.
//!
//! Sources: `data/jieba-dict.txt.gz`, the general dictionary of jieba (MIT licence; the
//! `dict.txt` that jieba-rs 0.11 ships, gzipped), and `src/search/userdict.txt`, the
//! marketplace's own words, whose frequencies replace the general ones as jieba's `load_dict`
//! does. Writes `$OUT_DIR/segmenter.fst` and `$OUT_DIR/segmenter_total.rs` (the sum of all
//! frequencies, the denominator of every word's probability).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let general = root.join("data/jieba-dict.txt.gz");
    let marketplace = root.join("src/search/userdict.txt");
    println!("cargo::rerun-if-changed={}", general.display());
    println!("cargo::rerun-if-changed={}", marketplace.display());

    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&general)?).read_to_string(&mut text)?;
    let mut words: BTreeMap<String, u64> = BTreeMap::new();
    for source in [text, std::fs::read_to_string(&marketplace)?] {
        for line in source.lines() {
            let mut fields = line.split_whitespace();
            let Some(word) = fields.next() else { continue };
            let freq = match fields.next() {
                Some(f) => f.parse::<u64>().map_err(|e| format!("{line}: {e}"))?,
                None => 0,
            };
            words.insert(word.to_owned(), freq);
        }
    }
    let total: u64 = words.values().sum();
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut builder = fst::MapBuilder::new(std::io::BufWriter::new(std::fs::File::create(
        out.join("segmenter.fst"),
    )?))?;
    for (word, freq) in &words {
        builder.insert(word, *freq)?;
    }
    builder.finish()?;
    std::fs::write(
        out.join("segmenter_total.rs"),
        format!("/// The sum of every word's frequency.\npub const TOTAL: u64 = {total};\n"),
    )?;
    Ok(())
}
