//! The order of a tantivy search as one collector: the sort's keys ([`Sort::keys`]), then the
//! id ascending — what the OpenSearch request sorts by — with each hit's sort values, and the
//! choice to start after a given hit (`search_after`), which tantivy's `TopDocs` cannot.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde_json::{Value, json};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn, TermOrdHit};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyError};

use crate::search::{KeyKind, Sort, SortKey};

/// The most keys a sort has before its id tie-break.
const MAX_KEYS: usize = 3;

/// A hit's sort values: the keys as numbers (every indexed number is exact in an `f64`: fen,
/// milliseconds and counts stay far below 2^53), then the id.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    nums: [f64; MAX_KEYS],
    id: String,
}

/// How keys compare in one sort: `Less` is "comes first".
#[derive(Debug, Clone, Copy)]
struct Directions {
    desc: [bool; MAX_KEYS],
    len: usize,
}

impl Directions {
    fn of(keys: &[SortKey]) -> Directions {
        let mut desc = [false; MAX_KEYS];
        for (d, k) in desc.iter_mut().zip(keys) {
            *d = k.desc;
        }
        Directions {
            desc,
            len: keys.len().min(MAX_KEYS),
        }
    }

    /// Key `i` of two hits in this sort's direction.
    fn at(&self, i: usize, a: f64, b: f64) -> Ordering {
        let o = a.total_cmp(&b);
        if self.desc[i] { o.reverse() } else { o }
    }

    fn nums(&self, a: &[f64; MAX_KEYS], b: &[f64; MAX_KEYS]) -> Ordering {
        for i in 0..self.len {
            let o = self.at(i, a[i], b[i]);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

/// The sort values as a cursor carries them (whole numbers as whole numbers).
pub fn to_values(sort: Sort, key: &Key) -> Vec<Value> {
    let mut out: Vec<Value> = sort
        .keys()
        .iter()
        .zip(key.nums)
        .map(|(k, n)| match k.kind {
            KeyKind::Int => json!(n as i64),
            KeyKind::Count => json!(n as u64),
            KeyKind::Score | KeyKind::Float => json!(n),
        })
        .collect();
    out.push(json!(key.id));
    out
}

/// A cursor's values as a key (the caller checked them with [`Sort::fits`]).
pub fn from_values(sort: Sort, values: &[Value]) -> Option<Key> {
    let keys = sort.keys();
    let mut nums = [0.0; MAX_KEYS];
    for (n, v) in nums.iter_mut().zip(values.iter().take(keys.len())) {
        *n = v.as_f64()?;
    }
    Some(Key {
        nums,
        id: values.get(keys.len())?.as_str()?.to_owned(),
    })
}

/// Collects the best `limit` hits (after `after` when given) with their keys, in order.
pub struct Ordered {
    pub sort: Sort,
    pub limit: usize,
    pub after: Option<Key>,
}

enum Col {
    Score,
    F64(Column<f64>),
    I64(Column<i64>),
    U64(Column<u64>),
}

pub struct SegmentOrdered {
    cols: Vec<Col>,
    ids: StrColumn,
    segment: SegmentOrdinal,
    dirs: Directions,
    limit: usize,
    /// The cursor's keys, and the first id ordinal of this segment past the cursor's id.
    after: Option<([f64; MAX_KEYS], u64)>,
    heap: BinaryHeap<Hit>,
}

/// A hit in the heap: the worst one (last in the order) on top. Within a segment ids compare
/// by their term ordinal (the dictionary is sorted); they become strings only for the hits the
/// segment gives back.
struct Hit {
    nums: [f64; MAX_KEYS],
    ord: u64,
    doc: DocId,
    dirs: Directions,
}

impl Hit {
    fn order(&self, other: &Hit) -> Ordering {
        self.dirs
            .nums(&self.nums, &other.nums)
            .then_with(|| self.ord.cmp(&other.ord))
    }
}

impl PartialEq for Hit {
    fn eq(&self, other: &Hit) -> bool {
        self.order(other) == Ordering::Equal
    }
}
impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Hit) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    fn cmp(&self, other: &Hit) -> Ordering {
        self.order(other)
    }
}

impl Collector for Ordered {
    type Fruit = Vec<(Key, DocAddress)>;
    type Child = SegmentOrdered;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentOrdered> {
        let fast = reader.fast_fields();
        let cols = self
            .sort
            .keys()
            .iter()
            .map(|k| {
                Ok(match k.kind {
                    KeyKind::Score => Col::Score,
                    KeyKind::Float => Col::F64(fast.f64(k.field)?),
                    KeyKind::Int => Col::I64(fast.i64(k.field)?),
                    KeyKind::Count => Col::U64(fast.u64(k.field)?),
                })
            })
            .collect::<tantivy::Result<Vec<Col>>>()?;
        let ids = fast
            .str(crate::search::TIE_BREAK)?
            .ok_or_else(|| TantivyError::SchemaError("the id is not a fast field".to_owned()))?;
        let after = match &self.after {
            None => None,
            Some(a) => {
                let first_past = match ids.dictionary().term_ord_or_next(&a.id)? {
                    TermOrdHit::Exact(ord) => ord + 1,
                    TermOrdHit::Next(ord) => ord,
                };
                Some((a.nums, first_past))
            }
        };
        Ok(SegmentOrdered {
            cols,
            ids,
            segment,
            dirs: Directions::of(self.sort.keys()),
            limit: self.limit,
            after,
            heap: BinaryHeap::with_capacity(self.limit.min(1024) + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort.keys().iter().any(|k| k.kind == KeyKind::Score)
    }

    fn merge_fruits(
        &self,
        segments: Vec<Vec<(Key, DocAddress)>>,
    ) -> tantivy::Result<Vec<(Key, DocAddress)>> {
        let dirs = Directions::of(self.sort.keys());
        let mut all: Vec<(Key, DocAddress)> = segments.into_iter().flatten().collect();
        all.sort_by(|(a, _), (b, _)| dirs.nums(&a.nums, &b.nums).then_with(|| a.id.cmp(&b.id)));
        all.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentOrdered {
    fn value(&self, i: usize, doc: DocId, score: Score) -> f64 {
        match &self.cols[i] {
            Col::Score => f64::from(score),
            Col::F64(c) => c.first(doc).unwrap_or(0.0),
            Col::I64(c) => c.first(doc).unwrap_or(0) as f64,
            Col::U64(c) => c.first(doc).unwrap_or(0) as f64,
        }
    }

    /// Compares `doc` with `other` key by key, reading a key only when the ones before it tie
    /// (`nums[..*known]` are read already): most documents are decided by their first key.
    fn compare(
        &self,
        doc: DocId,
        score: Score,
        nums: &mut [f64; MAX_KEYS],
        known: &mut usize,
        other: &[f64; MAX_KEYS],
    ) -> Ordering {
        for i in 0..self.dirs.len {
            if i >= *known {
                nums[i] = self.value(i, doc, score);
                *known = i + 1;
            }
            let o = self.dirs.at(i, nums[i], other[i]);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl SegmentCollector for SegmentOrdered {
    type Fruit = Vec<(Key, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let mut nums = [0.0; MAX_KEYS];
        let mut known = 0;
        let ord = self.ids.ords().first(doc).unwrap_or(0);
        if let Some((after, first_past)) = &self.after {
            match self.compare(doc, score, &mut nums, &mut known, after) {
                Ordering::Less => return,
                Ordering::Equal if ord < *first_past => return,
                _ => {}
            }
        }
        if self.heap.len() >= self.limit {
            let Some(worst) = self.heap.peek() else {
                return;
            };
            match self.compare(doc, score, &mut nums, &mut known, &worst.nums) {
                Ordering::Greater => return,
                Ordering::Equal if ord >= worst.ord => return,
                _ => {}
            }
        }
        for (i, n) in nums.iter_mut().enumerate().take(self.dirs.len).skip(known) {
            *n = self.value(i, doc, score);
        }
        self.heap.push(Hit {
            nums,
            ord,
            doc,
            dirs: self.dirs,
        });
        if self.heap.len() > self.limit {
            self.heap.pop();
        }
    }

    fn harvest(self) -> Vec<(Key, DocAddress)> {
        let segment = self.segment;
        let hits = self.heap.into_sorted_vec();
        // The hits' ids in one pass over the dictionary (ordinals sorted, as it requires).
        let mut ords: Vec<u64> = hits.iter().map(|h| h.ord).collect();
        ords.sort_unstable();
        ords.dedup();
        let mut names = Vec::with_capacity(ords.len());
        let _ = self
            .ids
            .dictionary()
            .sorted_ords_to_term_cb(&ords, |bytes| {
                names.push(String::from_utf8_lossy(bytes).into_owned());
            });
        hits.into_iter()
            .map(|h| {
                let id = ords
                    .binary_search(&h.ord)
                    .ok()
                    .and_then(|i| names.get(i).cloned())
                    .unwrap_or_default();
                (Key { nums: h.nums, id }, DocAddress::new(segment, h.doc))
            })
            .collect()
    }
}
