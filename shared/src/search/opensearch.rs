//! The OpenSearch adapter (production): the `opensearch` crate's transport, signed with SigV4
//! (service `es`) from the function's AWS credentials. The requests are built by the pure
//! functions below, so the contract tests pin their exact JSON.
//!
//! Writes carry the service item's revision as an external version: OpenSearch refuses a
//! write older than what it holds (409), which we count as done, so concurrent indexers
//! never put an older state back.

use chrono::Utc;
use opensearch::OpenSearch;
use opensearch::auth::Credentials;
use opensearch::http::headers::{CONTENT_TYPE, HeaderMap, HeaderValue};
use opensearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use opensearch::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    Change, FIELDS, MAX_WINDOW, Outcomes, SearchDoc, SearchError, SearchIndex, SearchPage,
    SearchQuery, ServiceCard, TIE_BREAK,
};

/// Settings and mappings of a services index (`infra/opensearch/services.json`).
pub const INDEX_DEFINITION: &str = include_str!("../../../infra/opensearch/services.json");
/// Documents per bulk request when rebuilding.
const REBUILD_CHUNK: usize = 500;

#[derive(Debug)]
pub struct OpenSearchIndex {
    client: OpenSearch,
    /// The alias searches and writes go to.
    alias: String,
}

fn engine(e: impl std::fmt::Display) -> SearchError {
    SearchError::Engine(e.to_string())
}

/// The bulk lines (action, then source) of `changes`.
fn bulk_body(index: &str, changes: &[Change]) -> Result<String, SearchError> {
    let mut out = String::new();
    for change in changes {
        let line =
            |v: Value| -> Result<String, SearchError> { serde_json::to_string(&v).map_err(engine) };
        match change {
            Change::Upsert(d) => {
                out.push_str(&line(json!({"index": {
                    "_index": index, "_id": d.id,
                    "version": d.rev, "version_type": "external_gte"
                }}))?);
                out.push('\n');
                out.push_str(&line(serde_json::to_value(d).map_err(engine)?)?);
                out.push('\n');
            }
            Change::Remove { id, rev } => {
                let mut action = json!({"_index": index, "_id": id});
                if let Some(rev) = rev {
                    action["version"] = json!(rev);
                    action["version_type"] = json!("external_gte");
                }
                out.push_str(&line(json!({ "delete": action }))?);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// What each bulk item did: created/updated/deleted, a delete of nothing, or a stale write
/// (409: a newer revision is indexed) are done; anything else failed.
fn bulk_outcomes(response: &Value, expected: usize) -> Result<Outcomes, SearchError> {
    let items = response["items"]
        .as_array()
        .ok_or_else(|| engine("bulk response without items"))?;
    if items.len() != expected {
        return Err(engine(format!(
            "bulk response has {} items for {expected} changes",
            items.len()
        )));
    }
    Ok(items
        .iter()
        .map(|item| {
            let (action, result) = item
                .as_object()
                .and_then(|o| o.iter().next())
                .ok_or_else(|| "empty bulk item".to_owned())?;
            let status = result["status"].as_u64().unwrap_or(0);
            match status {
                200..=299 | 409 => Ok(()),
                404 if action == "delete" => Ok(()),
                _ => Err(format!(
                    "{action} {}: {} {}",
                    result["_id"].as_str().unwrap_or("?"),
                    status,
                    result["error"]["reason"]
                        .as_str()
                        .unwrap_or("unknown error")
                )),
            }
        })
        .collect())
}

/// The search request: every token must match one of the text fields (each token a
/// `multi_match` over the seed's fields and weights), filters that do not score, the sort
/// with its tie-breaks, and the exact total.
pub fn search_body(q: &SearchQuery) -> Value {
    let fields: Vec<String> = FIELDS
        .iter()
        .map(|(name, boost)| format!("{name}^{boost}"))
        .collect();
    let must: Vec<Value> = q
        .tokens
        .iter()
        .map(|t| json!({"multi_match": {"query": t, "fields": fields, "type": "best_fields"}}))
        .collect();
    let mut filter: Vec<Value> = Vec::new();
    if let Some(c) = &q.category {
        filter.push(json!({"bool": {"should": [
            {"term": {"category": c}}, {"term": {"parent_category": c}}
        ], "minimum_should_match": 1}}));
    }
    if !q.skills.is_empty() {
        filter.push(json!({"terms": {"skills": q.skills}}));
    }
    if let Some(t) = q.service_type {
        filter.push(json!({"term": {"service_type": t.as_str()}}));
    }
    if q.min_price.is_some() || q.max_price.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(v) = q.min_price {
            range.insert("gte".into(), json!(v));
        }
        if let Some(v) = q.max_price {
            range.insert("lte".into(), json!(v));
        }
        filter.push(json!({"range": {"price": range}}));
    }
    if let Some(r) = q.min_rating {
        filter.push(json!({"range": {"rating": {"gte": r}}}));
    }
    if let Some(d) = q.max_delivery_days {
        filter.push(json!({"range": {"delivery_days": {"lte": d}}}));
    }
    let direction = |desc: bool| if desc { "desc" } else { "asc" };
    let mut sort: Vec<Value> = q
        .sort
        .keys()
        .iter()
        .map(|k| json!({ k.field: direction(k.desc) }))
        .collect();
    sort.push(json!({ TIE_BREAK: "asc" }));
    let query = if must.is_empty() && filter.is_empty() {
        json!({"match_all": {}})
    } else {
        json!({"bool": {"must": must, "filter": filter}})
    };
    let mut body = json!({
        "from": q.offset(),
        "size": q.size,
        "track_total_hits": true,
        "query": query,
        "sort": sort,
        "_source": ["card"]
    });
    // After a hit: from its sort values (the id tie-break makes them unique), not by skipping.
    if let Some(after) = &q.after {
        body["from"] = json!(0);
        body["search_after"] = json!(after);
    }
    body
}

/// The cards and the total of a search response.
fn page_of(response: &Value) -> Result<SearchPage, SearchError> {
    let total = response["hits"]["total"]["value"]
        .as_u64()
        .ok_or_else(|| engine("search response without hits.total.value"))?;
    let hits = response["hits"]["hits"]
        .as_array()
        .ok_or_else(|| engine("search response without hits.hits"))?;
    let items = hits
        .iter()
        .map(|h| serde_json::from_value::<ServiceCard>(h["_source"]["card"].clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(engine)?;
    let last = match hits.last() {
        None => None,
        Some(h) => Some(
            h["sort"]
                .as_array()
                .cloned()
                .ok_or_else(|| engine("a hit without its sort values"))?,
        ),
    };
    Ok(SearchPage { items, total, last })
}

impl OpenSearchIndex {
    /// `url`: the domain endpoint (`https://search-….es.amazonaws.com`); `credentials`:
    /// SigV4 from the function's role (`None` only against a test server).
    pub fn new(
        url: &str,
        alias: &str,
        credentials: Option<Credentials>,
    ) -> Result<OpenSearchIndex, SearchError> {
        let url = url::Url::parse(url).map_err(engine)?;
        let mut builder = TransportBuilder::new(SingleNodeConnectionPool::new(url))
            .disable_proxy()
            .timeout(std::time::Duration::from_secs(8));
        if let Some(c) = credentials {
            builder = builder.auth(c).service_name("es");
        }
        Ok(OpenSearchIndex {
            client: OpenSearch::new(builder.build().map_err(engine)?),
            alias: alias.to_owned(),
        })
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        ndjson: bool,
    ) -> Result<(StatusCode, Value), SearchError> {
        crate::aws_calls::record_opensearch(iam_verb(method), path);
        let mut headers = HeaderMap::new();
        if ndjson {
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
        }
        let response = self
            .client
            .transport()
            .send(method, path, headers, Option::<&()>::None, body, None)
            .await
            .map_err(engine)?;
        let status = response.status_code();
        let text = response.text().await.map_err(engine)?;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(engine)?
        };
        Ok((status, value))
    }

    /// One bulk request. Through the alias it requires the alias (`require_alias`): without
    /// it, a write before the first rebuild would auto-create a concrete index named like the
    /// alias, and every later alias swap would fail. Returns the outcomes and whether the
    /// alias was missing.
    async fn bulk(
        &self,
        index: &str,
        changes: &[Change],
        require_alias: bool,
    ) -> Result<(Outcomes, bool), SearchError> {
        if changes.is_empty() {
            return Ok((Vec::new(), false));
        }
        let path = if require_alias {
            "/_bulk?require_alias=true"
        } else {
            "/_bulk"
        };
        let (status, value) = self
            .call(Method::Post, path, Some(bulk_body(index, changes)?), true)
            .await?;
        if !status.is_success() {
            return Err(engine(format!("bulk answered {status}: {value}")));
        }
        Ok((bulk_outcomes(&value, changes.len())?, alias_missing(&value)))
    }

    /// Creates the first index behind the alias (`{alias}-0`, from the mapping), unless
    /// another writer just did, and points the alias at it only once its primary shard is
    /// active: an alias that exists before its index can answer makes every search in that
    /// window fail (`search_phase_execution_exception`, 503), where no alias means "nothing
    /// indexed yet". The same order as a rebuild: the index first, the alias last.
    async fn create_first_index(&self) -> Result<(), SearchError> {
        let index = format!("{}-0", self.alias);
        let (status, value) = self
            .call(
                Method::Put,
                &format!("/{index}"),
                Some(INDEX_DEFINITION.to_owned()),
                false,
            )
            .await?;
        if !status.is_success() && value["error"]["type"] != "resource_already_exists_exception" {
            return Err(engine(format!("index creation answered {status}: {value}")));
        }
        let (status, health) = self
            .call(
                Method::Get,
                &format!("/_cluster/health/{index}?wait_for_status=yellow&timeout=20s"),
                None,
                false,
            )
            .await?;
        ok_or(status, &health, "index health")?;
        if health["timed_out"] != false {
            return Err(engine(format!("{index} has no active shard: {health}")));
        }
        let (status, value) = self
            .call(
                Method::Post,
                "/_aliases",
                Some(
                    json!({"actions": [{"add": {"index": index, "alias": self.alias}}]})
                        .to_string(),
                ),
                false,
            )
            .await?;
        ok_or(status, &value, "alias creation")?;
        tracing::info!(alias = %self.alias, "created the first index behind the alias");
        Ok(())
    }

    /// Makes what was written visible to searches now (tests and tools; production relies on
    /// the index's `refresh_interval`).
    pub async fn refresh(&self) -> Result<(), SearchError> {
        let (status, value) = self
            .call(
                Method::Post,
                &format!("/{}/_refresh", self.alias),
                None,
                false,
            )
            .await?;
        ok_or(status, &value, "refresh")
    }
}

/// The method as the domain's IAM actions spell it (`es:ESHttpGet`, …).
fn iam_verb(method: Method) -> &'static str {
    match method {
        Method::Get => "Get",
        Method::Put => "Put",
        Method::Post => "Post",
        Method::Delete => "Delete",
        Method::Head => "Head",
    }
}

/// Whether a bulk response says the alias it required does not exist.
fn alias_missing(response: &Value) -> bool {
    response["items"].as_array().is_some_and(|items| {
        items.iter().any(|item| {
            item.as_object()
                .and_then(|o| o.values().next())
                .is_some_and(|r| r["error"]["type"] == "index_not_found_exception")
        })
    })
}

fn ok_or(status: StatusCode, value: &Value, what: &str) -> Result<(), SearchError> {
    if status.is_success() {
        Ok(())
    } else {
        Err(engine(format!("{what} answered {status}: {value}")))
    }
}

impl SearchIndex for OpenSearchIndex {
    /// Writes through the alias; before the first rebuild there is none, so the first index
    /// is created behind it and the batch sent again (external versions make a repeat of the
    /// items that went through harmless).
    async fn apply(&self, changes: &[Change]) -> Result<Outcomes, SearchError> {
        let (outcomes, missing) = self.bulk(&self.alias, changes, true).await?;
        if !missing {
            return Ok(outcomes);
        }
        self.create_first_index().await?;
        Ok(self.bulk(&self.alias, changes, true).await?.0)
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchPage, SearchError> {
        if q.after.is_none() && q.offset() + q.size as usize > MAX_WINDOW as usize {
            return Err(engine("beyond the result window"));
        }
        let body = serde_json::to_string(&search_body(q)).map_err(engine)?;
        let (status, value) = self
            .call(
                Method::Post,
                &format!("/{}/_search", self.alias),
                Some(body),
                false,
            )
            .await?;
        // Before anything was ever indexed there is no index behind the alias: nothing is
        // found, which is not an outage.
        if status == StatusCode::NOT_FOUND && value["error"]["type"] == "index_not_found_exception"
        {
            return Ok(SearchPage {
                items: Vec::new(),
                total: 0,
                last: None,
            });
        }
        ok_or(status, &value, "search")?;
        page_of(&value)
    }

    /// Creates `{alias}-{timestamp}` from the mapping, loads it, then moves the alias to it in
    /// one `_aliases` call and deletes the indices it left.
    async fn rebuild(&self, docs: Vec<SearchDoc>) -> Result<usize, SearchError> {
        let target = format!("{}-{}", self.alias, Utc::now().format("%Y%m%d%H%M%S"));
        let (status, value) = self
            .call(
                Method::Put,
                &format!("/{target}"),
                Some(INDEX_DEFINITION.to_owned()),
                false,
            )
            .await?;
        ok_or(status, &value, "index creation")?;
        let changes: Vec<Change> = docs
            .into_iter()
            .map(|d| Change::Upsert(Box::new(d)))
            .collect();
        for chunk in changes.chunks(REBUILD_CHUNK) {
            if let Some(Err(e)) = self
                .bulk(&target, chunk, false)
                .await?
                .0
                .into_iter()
                .find(Result::is_err)
            {
                return Err(engine(e));
            }
        }
        let (status, value) = self
            .call(Method::Post, &format!("/{target}/_refresh"), None, false)
            .await?;
        ok_or(status, &value, "refresh")?;
        let (status, held) = self
            .call(Method::Get, &format!("/_alias/{}", self.alias), None, false)
            .await?;
        let old: Vec<String> = if status == StatusCode::NOT_FOUND {
            Vec::new()
        } else {
            ok_or(status, &held, "alias lookup")?;
            held.as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut actions: Vec<Value> = old
            .iter()
            .map(|i| json!({"remove": {"index": i, "alias": self.alias}}))
            .collect();
        actions.push(json!({"add": {"index": target, "alias": self.alias}}));
        let (status, value) = self
            .call(
                Method::Post,
                "/_aliases",
                Some(json!({ "actions": actions }).to_string()),
                false,
            )
            .await?;
        ok_or(status, &value, "alias swap")?;
        for i in old {
            let (status, value) = self
                .call(Method::Delete, &format!("/{i}"), None, false)
                .await?;
            if !status.is_success() {
                tracing::warn!(index = %i, %status, %value, "old index not deleted");
            }
        }
        Ok(changes.len())
    }
}
