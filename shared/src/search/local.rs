//! The tantivy adapter: an on-disk index (`SEARCH_INDEX_DIR`) shared by the indexer and the
//! search function on one machine. Used by the local stack and the tests; production uses
//! OpenSearch.
//!
//! One writer at a time (tantivy's lock file): each batch opens the writer, commits and lets
//! it go, waiting a little if another process holds it. Readers in other processes see a
//! commit within about half a second (tantivy watches `meta.json`).

use std::ops::Bound;
use std::path::PathBuf;
use std::time::Duration;

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::directory::error::LockError;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, Stemmer, TextAnalyzer, TokenStream, WhitespaceTokenizer,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument,
    TantivyError, Term,
};
use tokio::sync::OnceCell;

mod order;

use super::{
    Change, FIELDS, MAX_WINDOW, Outcomes, SearchDoc, SearchError, SearchIndex, SearchPage,
    SearchQuery, ServiceCard,
};

/// Whitespace (the text is already segmented), lower case, English stems.
const STEMMED: &str = "gigbao_stemmed";
/// Whitespace and lower case only (pinyin).
const PLAIN: &str = "gigbao_plain";
/// tantivy's smallest writer budget.
const WRITER_MEMORY: usize = 15_000_000;

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    rev: Field,
    category: Field,
    parent_category: Field,
    skills: Field,
    service_type: Field,
    price: Field,
    rating: Field,
    reviews_count: Field,
    orders_count: Field,
    delivery_days: Field,
    created_at: Field,
    ranking_score: Field,
    card: Field,
}

fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("id", STRING | STORED | FAST);
    b.add_u64_field("rev", FAST | STORED);
    for (name, _) in FIELDS {
        let tokenizer = if name == "title_pinyin" {
            PLAIN
        } else {
            STEMMED
        };
        b.add_text_field(
            name,
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        );
    }
    for name in ["category", "parent_category", "skills", "service_type"] {
        b.add_text_field(name, STRING);
    }
    b.add_i64_field("price", INDEXED | FAST);
    b.add_f64_field("rating", INDEXED | FAST);
    b.add_u64_field("reviews_count", FAST);
    b.add_u64_field("orders_count", FAST);
    b.add_u64_field("delivery_days", INDEXED | FAST);
    b.add_i64_field("created_at", INDEXED | FAST);
    b.add_f64_field("ranking_score", FAST);
    b.add_text_field("card", STORED);
    b.build()
}

fn analyzers(index: &Index) {
    index.tokenizers().register(
        STEMMED,
        TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build(),
    );
    index.tokenizers().register(
        PLAIN,
        TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}

struct Opened {
    index: Index,
    reader: IndexReader,
    f: Fields,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opened")
    }
}

#[derive(Debug)]
pub struct LocalIndex {
    dir: PathBuf,
    opened: OnceCell<Opened>,
}

fn engine(e: impl std::fmt::Display) -> SearchError {
    SearchError::Engine(e.to_string())
}

impl LocalIndex {
    /// Opens (or creates) the index lazily, on first use.
    pub fn new(dir: impl Into<PathBuf>) -> LocalIndex {
        LocalIndex {
            dir: dir.into(),
            opened: OnceCell::new(),
        }
    }

    async fn open(&self) -> Result<&Opened, SearchError> {
        self.opened
            .get_or_try_init(|| async {
                std::fs::create_dir_all(&self.dir).map_err(engine)?;
                let dir = MmapDirectory::open(&self.dir).map_err(engine)?;
                let index = Index::open_or_create(dir, schema()).map_err(|e| {
                    SearchError::Engine(format!(
                        "{e} (an index of an older schema? delete {} and reindex)",
                        self.dir.display()
                    ))
                })?;
                analyzers(&index);
                let s = index.schema();
                let field = |n: &str| s.get_field(n).map_err(engine);
                let f = Fields {
                    id: field("id")?,
                    rev: field("rev")?,
                    category: field("category")?,
                    parent_category: field("parent_category")?,
                    skills: field("skills")?,
                    service_type: field("service_type")?,
                    price: field("price")?,
                    rating: field("rating")?,
                    reviews_count: field("reviews_count")?,
                    orders_count: field("orders_count")?,
                    delivery_days: field("delivery_days")?,
                    created_at: field("created_at")?,
                    ranking_score: field("ranking_score")?,
                    card: field("card")?,
                };
                let reader = index
                    .reader_builder()
                    .reload_policy(ReloadPolicy::OnCommitWithDelay)
                    .try_into()
                    .map_err(engine)?;
                Ok(Opened { index, reader, f })
            })
            .await
    }

    /// The writer, waiting up to 10 s for another process to let it go.
    async fn writer(o: &Opened) -> Result<IndexWriter<TantivyDocument>, SearchError> {
        let mut waited = 0;
        loop {
            match o.index.writer_with_num_threads(1, WRITER_MEMORY) {
                Ok(w) => return Ok(w),
                Err(TantivyError::LockFailure(LockError::LockBusy, _)) if waited < 100 => {
                    waited += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(engine(e)),
            }
        }
    }

    fn document(o: &Opened, d: &SearchDoc) -> Result<TantivyDocument, SearchError> {
        let s = o.index.schema();
        let mut doc = TantivyDocument::default();
        doc.add_text(o.f.id, &d.id);
        doc.add_u64(o.f.rev, d.rev);
        let texts = [
            &d.title,
            &d.title_zh,
            &d.title_pinyin,
            &d.skills_text,
            &d.category_text,
            &d.description,
            &d.description_zh,
            &d.freelancer_name,
        ];
        for ((name, _), text) in FIELDS.iter().zip(texts) {
            doc.add_text(s.get_field(name).map_err(engine)?, text);
        }
        doc.add_text(o.f.category, &d.category);
        doc.add_text(o.f.parent_category, &d.parent_category);
        for skill in &d.skills {
            doc.add_text(o.f.skills, skill);
        }
        doc.add_text(o.f.service_type, &d.service_type);
        doc.add_i64(o.f.price, d.price);
        doc.add_f64(o.f.rating, d.rating);
        doc.add_u64(o.f.reviews_count, d.reviews_count);
        doc.add_u64(o.f.orders_count, d.orders_count);
        doc.add_u64(o.f.delivery_days, u64::from(d.delivery_days));
        doc.add_i64(o.f.created_at, d.created_at);
        doc.add_f64(o.f.ranking_score, d.ranking_score);
        doc.add_text(o.f.card, serde_json::to_string(&d.card).map_err(engine)?);
        Ok(doc)
    }

    /// The revision the index holds for `id`, if any.
    fn indexed_rev(o: &Opened, searcher: &Searcher, id: &str) -> Result<Option<u64>, SearchError> {
        let q = TermQuery::new(Term::from_field_text(o.f.id, id), IndexRecordOption::Basic);
        let hits = searcher
            .search(&q, &TopDocs::with_limit(1).order_by_score())
            .map_err(engine)?;
        let Some((_, addr)) = hits.first() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(*addr).map_err(engine)?;
        Ok(doc.get_first(o.f.rev).and_then(|v| v.as_u64()))
    }

    fn text_query(o: &Opened, token: &str) -> Result<Option<Box<dyn Query>>, SearchError> {
        let s = o.index.schema();
        let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
        for (name, boost) in FIELDS {
            let field = s.get_field(name).map_err(engine)?;
            let mut analyzer = o.index.tokenizer_for_field(field).map_err(engine)?;
            let mut stream = analyzer.token_stream(token);
            while let Some(t) = stream.next() {
                let q = TermQuery::new(
                    Term::from_field_text(field, &t.text),
                    IndexRecordOption::WithFreqs,
                );
                disjuncts.push(Box::new(BoostQuery::new(Box::new(q), boost)));
            }
        }
        Ok((!disjuncts.is_empty())
            .then(|| Box::new(DisjunctionMaxQuery::new(disjuncts)) as Box<dyn Query>))
    }

    fn query(o: &Opened, q: &SearchQuery) -> Result<Box<dyn Query>, SearchError> {
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for token in &q.tokens {
            if let Some(tq) = Self::text_query(o, token)? {
                must.push((Occur::Must, tq));
            }
        }
        let term = |f: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(f, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        if let Some(c) = &q.category {
            filters.push(Box::new(BooleanQuery::new(vec![
                (Occur::Should, term(o.f.category, c)),
                (Occur::Should, term(o.f.parent_category, c)),
            ])));
        }
        if !q.skills.is_empty() {
            filters.push(Box::new(BooleanQuery::new(
                q.skills
                    .iter()
                    .map(|s| (Occur::Should, term(o.f.skills, s)))
                    .collect(),
            )));
        }
        if let Some(t) = q.service_type {
            filters.push(term(o.f.service_type, t.as_str()));
        }
        if q.min_price.is_some() || q.max_price.is_some() {
            let b = |v: Option<i64>| {
                v.map_or(Bound::Unbounded, |v| {
                    Bound::Included(Term::from_field_i64(o.f.price, v))
                })
            };
            filters.push(Box::new(RangeQuery::new(b(q.min_price), b(q.max_price))));
        }
        if let Some(r) = q.min_rating {
            filters.push(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_f64(o.f.rating, r)),
                Bound::Unbounded,
            )));
        }
        if let Some(d) = q.max_delivery_days {
            filters.push(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_u64(o.f.delivery_days, u64::from(d))),
            )));
        }
        for f in filters {
            must.push((Occur::Must, Box::new(ConstScoreQuery::new(f, 0.0))));
        }
        Ok(if must.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(must))
        })
    }
}

impl SearchIndex for LocalIndex {
    async fn apply(&self, changes: &[Change]) -> Result<Outcomes, SearchError> {
        let o = self.open().await?;
        let mut writer = Self::writer(o).await?;
        o.reader.reload().map_err(engine)?;
        let searcher = o.reader.searcher();
        for change in changes {
            let (id, rev) = match change {
                Change::Upsert(d) => (d.id.as_str(), Some(d.rev)),
                Change::Remove { id, rev } => (id.as_str(), *rev),
            };
            // A newer revision is already indexed: this change is stale.
            if let (Some(new), Some(held)) = (rev, Self::indexed_rev(o, &searcher, id)?)
                && held > new
            {
                continue;
            }
            writer.delete_term(Term::from_field_text(o.f.id, id));
            if let Change::Upsert(d) = change {
                writer.add_document(Self::document(o, d)?).map_err(engine)?;
            }
        }
        writer.commit().map_err(engine)?;
        drop(writer);
        o.reader.reload().map_err(engine)?;
        Ok(changes.iter().map(|_| Ok(())).collect())
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchPage, SearchError> {
        let o = self.open().await?;
        let searcher = o.reader.searcher();
        let query = Self::query(o, q)?;
        let size = q.size.max(1) as usize;
        let (skip, after) = match &q.after {
            Some(values) => (
                0,
                Some(
                    order::from_values(q.sort, values)
                        .ok_or_else(|| engine("a cursor that does not fit the sort"))?,
                ),
            ),
            // The same window as OpenSearch's: deeper pages take a cursor.
            None if q.offset() + size > MAX_WINDOW as usize => {
                return Err(engine("beyond the result window"));
            }
            None => (q.offset(), None),
        };
        let ordered = order::Ordered {
            sort: q.sort,
            limit: skip + size,
            after,
        };
        let (total, hits) = searcher
            .search(query.as_ref(), &(Count, ordered))
            .map_err(engine)?;
        let hits: Vec<_> = hits.into_iter().skip(skip).collect();
        let last = hits.last().map(|(k, _)| order::to_values(q.sort, k));
        let addrs: Vec<DocAddress> = hits.into_iter().map(|(_, a)| a).collect();
        let mut items = Vec::with_capacity(addrs.len());
        for addr in addrs {
            let doc: TantivyDocument = searcher.doc(addr).map_err(engine)?;
            let card = doc
                .get_first(o.f.card)
                .and_then(|v| v.as_str())
                .ok_or_else(|| engine("a document without its card"))?;
            items.push(serde_json::from_str::<ServiceCard>(card).map_err(engine)?);
        }
        Ok(SearchPage {
            items,
            total: total as u64,
            last,
        })
    }

    async fn rebuild(&self, docs: Vec<SearchDoc>) -> Result<usize, SearchError> {
        let o = self.open().await?;
        let mut writer = Self::writer(o).await?;
        writer.delete_all_documents().map_err(engine)?;
        for d in &docs {
            writer.add_document(Self::document(o, d)?).map_err(engine)?;
        }
        writer.commit().map_err(engine)?;
        drop(writer);
        o.reader.reload().map_err(engine)?;
        Ok(docs.len())
    }
}
