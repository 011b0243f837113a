//! The DynamoDB single-table adapter. `AttributeValue` and `SdkError` never leave this module;
//! every key is built in `keys.rs`.

mod audit;
mod briefs;
mod catalog;
pub mod change;
mod codes;
pub mod cursor;
mod entity_type;
mod fees;
mod files;
pub use entity_type::EntityType;
pub use fees::StoredFeeRules;
pub use files::Checked;
pub use tax::TaxReportRecord;
mod idempotency;
pub mod keys;
mod leases;
mod ledger;
mod merchants;
mod messaging;
mod notifications;
mod offers;
mod ops;
mod orders;
mod payments;
mod privacy;
mod ranking;
mod rate_limit;
mod records;
mod refunds;
mod reports;
mod reviews;
mod services;
mod sessions;
mod stats;
mod tax;
mod users;
mod verifications;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};

pub use audit::AuditRecord;
pub use briefs::{BriefCreate, BriefListing, ProposalCreate};
/// One write of a transaction, as a use case hands it to the store (what it holds is the
/// store's business).
pub type TxWrite = aws_sdk_dynamodb::types::TransactWriteItem;
pub use codes::{CodeCheck, TokenRecord};
pub use cursor::{BadCursor, Page};
pub use idempotency::{IdempotencyRecord, Replay};
pub use ledger::{
    AccountSnapshot, LineRecord, MoveRefusal, MovementRecord, ReconcileCheckpoint, books_of,
    export_items,
};
pub use messaging::{LastMessage, Membership, Party, Thread};
pub use notifications::NotificationRecord;
pub use orders::{OrderListing, OrderStep, StepKind, TransitionRefusal};
pub use payments::{ChargeRecord, PaymentRefusal};
pub use privacy::StoredItem;
pub use ranking::Dirty;
pub use rate_limit::{RateLimit, RateLimited};
pub use reviews::{CountOutcome, ReviewListing, Sealed};
pub use services::{FoldOutcome, MediaSlot, SavedEntry, ServiceListing};
pub use sessions::RotateOutcome;
pub use users::{AdminUserFilter, CreateUserError, LoginKey, PhoneMove, SocialBind, UniqueField};
pub use verifications::{ReviewOutcome, SubmitOutcome, VerificationRecord, VerificationReview};

/// The table and a client built once per cold start.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

/// Why a list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    BadCursor(#[from] BadCursor),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A transaction's outcome when DynamoDB cancelled it: the cancellation code of each item, in
/// item order (`None` where that item was fine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cancelled(pub Vec<Option<String>>);

impl Cancelled {
    pub fn failed(&self, index: usize) -> bool {
        self.0
            .get(index)
            .and_then(|c| c.as_deref())
            .is_some_and(|c| c == "ConditionalCheckFailed")
    }
}

/// One query of one partition, for the list endpoints.
pub(crate) struct PageQuery<'a> {
    pub index: Option<&'static str>,
    pub partition_name: &'static str,
    pub partition: String,
    /// Names of every key attribute of the index (for cursor validation).
    pub key_names: &'static [&'static str],
    pub newest_first: bool,
    pub limit: i32,
    pub cursor: Option<&'a str>,
    pub sort_prefix: Option<(&'static str, String)>,
    pub filter: Option<String>,
    pub values: Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
    pub names: Vec<(&'static str, &'static str)>,
}

impl<'a> PageQuery<'a> {
    /// A page of one partition of `index` (`None`: the table), newest first, with nothing
    /// else set. The partition key's name and the key attributes a cursor must carry follow
    /// from the index.
    pub fn newest(
        index: Option<&'static str>,
        partition: String,
        limit: i32,
        cursor: Option<&'a str>,
    ) -> PageQuery<'a> {
        let (partition_name, key_names): (&'static str, &'static [&'static str]) = match index {
            Some(keys::GSI1) => ("GSI1PK", &["PK", "SK", "GSI1PK", "GSI1SK"]),
            Some(keys::GSI2) => ("GSI2PK", &["PK", "SK", "GSI2PK", "GSI2SK"]),
            Some(keys::GSI3) => ("GSI3PK", &["PK", "SK", "GSI3PK", "GSI3SK"]),
            Some(keys::GSI4) => ("GSI4PK", &["PK", "SK", "GSI4PK", "GSI4SK"]),
            // The table (the only other place a query can read).
            _ => ("PK", &["PK", "SK"]),
        };
        PageQuery {
            index,
            partition_name,
            partition,
            key_names,
            newest_first: true,
            limit,
            cursor,
            sort_prefix: None,
            filter: None,
            values: vec![],
            names: vec![],
        }
    }
}

/// Where a whole list is read internally (no client cursor), a bad cursor is our own bug.
impl From<ListError> for StoreError {
    fn from(e: ListError) -> StoreError {
        match e {
            ListError::Store(e) => e,
            ListError::BadCursor(e) => StoreError::Decode(format!("own cursor refused: {e}")),
        }
    }
}

/// Every item of a paged list: `page(cursor)` is called until there is no next cursor.
pub async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, ListError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, ListError>>,
{
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let p = page(cursor).await?;
        out.extend(p.items);
        cursor = p.next_cursor;
        if cursor.is_none() {
            return Ok(out);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("dynamodb {op} failed: {message}")]
    Dynamo { op: &'static str, message: String },
    #[error("item could not be decoded: {0}")]
    Decode(String),
}

impl StoreError {
    fn dynamo<E>(op: &'static str, err: E) -> StoreError
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        StoreError::Dynamo {
            op,
            message: DisplayErrorContext(&err).to_string(),
        }
    }
}

/// A single write's outcome as [`Store::transact`] reports it: a failed condition is the
/// cancellation of its one item.
fn as_transaction<O, E>(
    op: &'static str,
    sent: Result<O, aws_sdk_dynamodb::error::SdkError<E>>,
) -> Result<Result<(), Cancelled>, StoreError>
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    match sent {
        Ok(_) => Ok(Ok(())),
        Err(e)
            if e.as_service_error().and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(Err(Cancelled(vec![Some("ConditionalCheckFailed".into())])))
        }
        Err(e) => Err(StoreError::dynamo(op, e)),
    }
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Runs one page of `q` and decodes its items.
    pub(crate) async fn query_page<T: serde::de::DeserializeOwned>(
        &self,
        q: PageQuery<'_>,
    ) -> Result<Page<T>, ListError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let start = q
            .cursor
            .map(|c| cursor::decode(c, q.key_names, q.partition_name, &q.partition))
            .transpose()?;
        let mut key_condition = format!("{} = :pk", q.partition_name);
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_owned))
            .expression_attribute_values(":pk", AttributeValue::S(q.partition.clone()))
            .scan_index_forward(!q.newest_first)
            .limit(q.limit)
            .set_exclusive_start_key(start)
            .set_filter_expression(q.filter);
        if let Some((sort_name, prefix)) = q.sort_prefix {
            key_condition.push_str(&format!(" AND begins_with({sort_name}, :prefix)"));
            req = req.expression_attribute_values(":prefix", AttributeValue::S(prefix));
        }
        for (k, v) in q.values {
            req = req.expression_attribute_values(k, v);
        }
        for (k, v) in q.names {
            req = req.expression_attribute_names(k, v);
        }
        let out = req
            .key_condition_expression(key_condition)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Query", e))?;
        let next_cursor = cursor::encode(out.last_evaluated_key());
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<T>, StoreError>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Runs a transaction. `Ok(Err(Cancelled))` when a condition failed, with the reason of
    /// each item so the caller can tell which. A transaction that lost a race with another on
    /// the same items (`TransactionConflict`, no failed condition) is retried with backoff:
    /// every transaction here is conditional, so running it again is safe.
    ///
    /// A transaction of one write is sent as that write's own request: a single-item write is
    /// just as atomic and conditional, and costs half (DynamoDB bills a transactional write
    /// two write units).
    pub(crate) async fn transact(
        &self,
        mut items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        use aws_sdk_dynamodb::error::SdkError;
        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
        const ATTEMPTS: u32 = 8;
        if items.len() == 1
            && items[0].condition_check.is_none()
            && let Some(item) = items.pop()
        {
            return self.write_one(item).await;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Ok(())),
                Err(SdkError::ServiceError(e)) => {
                    if let TransactWriteItemsError::TransactionCanceledException(tc) = e.err() {
                        let reasons = tc
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().filter(|c| *c != "None").map(str::to_owned))
                            .collect::<Vec<_>>();
                        if reasons
                            .iter()
                            .any(|r| r.as_deref() == Some("ConditionalCheckFailed"))
                        {
                            return Ok(Err(Cancelled(reasons)));
                        }
                        let conflict = reasons
                            .iter()
                            .flatten()
                            .all(|r| r == "TransactionConflict" || r == "ThrottlingError");
                        if conflict && attempt < ATTEMPTS {
                            backoff(attempt).await;
                            continue;
                        }
                    }
                    if matches!(
                        e.err(),
                        TransactWriteItemsError::TransactionInProgressException(_)
                    ) && attempt < ATTEMPTS
                    {
                        backoff(attempt).await;
                        continue;
                    }
                    return Err(StoreError::dynamo("TransactWriteItems", e.into_err()));
                }
                Err(e) => return Err(StoreError::dynamo("TransactWriteItems", e)),
            }
        }
    }

    /// The one write of a transaction (a put, an update or a delete) as its own request, with
    /// a failed condition reported as the transaction would report it.
    async fn write_one(
        &self,
        item: aws_sdk_dynamodb::types::TransactWriteItem,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        if let Some(put) = item.put {
            let sent = self
                .client
                .put_item()
                .table_name(put.table_name)
                .set_item(Some(put.item))
                .set_condition_expression(put.condition_expression)
                .set_expression_attribute_names(put.expression_attribute_names)
                .set_expression_attribute_values(put.expression_attribute_values)
                .send()
                .await;
            return as_transaction("PutItem", sent);
        }
        if let Some(update) = item.update {
            let sent = self
                .client
                .update_item()
                .table_name(update.table_name)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_condition_expression(update.condition_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await;
            return as_transaction("UpdateItem", sent);
        }
        if let Some(delete) = item.delete {
            let sent = self
                .client
                .delete_item()
                .table_name(delete.table_name)
                .set_key(Some(delete.key))
                .set_condition_expression(delete.condition_expression)
                .set_expression_attribute_names(delete.expression_attribute_names)
                .set_expression_attribute_values(delete.expression_attribute_values)
                .send()
                .await;
            return as_transaction("DeleteItem", sent);
        }
        Err(StoreError::Decode(
            "a transaction item with no write".into(),
        ))
    }

    /// Every item of `keys` that exists (any order), in one `BatchGetItem` per 100 keys;
    /// unprocessed keys are retried a few times, then reported as an error.
    pub(crate) async fn batch_get(
        &self,
        keys: Vec<keys::Key>,
        consistent: bool,
    ) -> Result<
        Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
        StoreError,
    > {
        use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
        let mut items = Vec::new();
        for chunk in keys.chunks(100) {
            let mut request = KeysAndAttributes::builder().consistent_read(consistent);
            for key in chunk {
                request = request.keys(std::collections::HashMap::from([
                    (keys::PK.to_owned(), AttributeValue::S(key.pk.clone())),
                    (keys::SK.to_owned(), AttributeValue::S(key.sk.clone())),
                ]));
            }
            let mut pending = Some(
                request
                    .build()
                    .map_err(|e| StoreError::Decode(e.to_string()))?,
            );
            for _ in 0..8 {
                let Some(req) = pending.take() else { break };
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(|e| StoreError::dynamo("BatchGetItem", e))?;
                items.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&self.table))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::Decode(
                    "BatchGetItem keys stayed unprocessed".into(),
                ));
            }
        }
        Ok(items)
    }

    /// One `PutItem` that replaces whatever the key held (state the writer owns alone:
    /// checkpoints, marks).
    pub(crate) async fn put(
        &self,
        item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", e))?;
        Ok(())
    }

    /// One `PutItem` that only happens if `condition` holds (`attribute_not_exists(PK)`: only
    /// if the item is new). `Ok(false)` when it did not.
    pub(crate) async fn put_if(
        &self,
        item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
        condition: &str,
        values: Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<bool, StoreError> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition);
        for (name, value) in values {
            put = put.expression_attribute_values(name, value);
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::dynamo("PutItem", e)),
        }
    }

    /// One `UpdateItem` that only happens if `condition` holds. `Ok(false)` when it did not.
    pub(crate) async fn update_if(
        &self,
        key: keys::Key,
        expression: &str,
        condition: &str,
        names: &[(&str, &str)],
        values: Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .update_if_returning_old(key, expression, condition, names, values)
            .await?
            .is_some())
    }

    /// [`Store::update_if`] that also answers the attributes the update changed, as they were
    /// before it. `Ok(None)` when the condition did not hold.
    pub(crate) async fn update_if_returning_old(
        &self,
        key: keys::Key,
        expression: &str,
        condition: &str,
        names: &[(&str, &str)],
        values: Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<
        Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
        StoreError,
    > {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .update_expression(expression)
            .condition_expression(condition)
            .return_values(ReturnValue::UpdatedOld);
        for (k, v) in names {
            req = req.expression_attribute_names(*k, *v);
        }
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(out) => Ok(Some(out.attributes.unwrap_or_default())),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(None),
                _ => Err(StoreError::dynamo("UpdateItem", e)),
            },
        }
    }

    /// Every item `query` finds, all pages (each page starts where the last stopped).
    pub(crate) async fn query_all(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<
        Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
        StoreError,
    > {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = query
                .clone()
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", e))?;
            out.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// Every item of an index partition whose time-ordered sort key (`{time}#{id}`) is at or
    /// after `from`, all pages.
    pub(crate) async fn query_from<T: serde::de::DeserializeOwned>(
        &self,
        index: &'static str,
        (partition_name, sort_name): (&str, &str),
        partition: String,
        from: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<T>, StoreError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!("{partition_name} = :pk AND {sort_name} >= :from"))
            .expression_attribute_values(":pk", AttributeValue::S(partition))
            .expression_attribute_values(":from", AttributeValue::S(keys::ms(from)));
        self.query_all(query)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// One `GetItem` by key, decoded into a record.
    async fn get_record<T: serde::de::DeserializeOwned>(
        &self,
        key: keys::Key,
        consistent: bool,
    ) -> Result<Option<T>, StoreError> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem", e))?;
        out.item.map(from_item).transpose()
    }
}

/// Waits a little longer after each lost race, with jitter so racers spread out.
async fn backoff(attempt: u32) {
    let jitter = u64::from(ulid::Ulid::new().random() as u16 % 20);
    let ms = (10u64 << attempt.min(5)) + jitter;
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

fn to_item<T: serde::Serialize>(
    value: &T,
) -> Result<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, StoreError>
{
    serde_dynamo::to_item(value).map_err(|e| StoreError::Decode(e.to_string()))
}

/// An item read as `T` directly (types stored as they are).
pub(crate) fn plain<T: serde::de::DeserializeOwned>(
    item: serde_dynamo::Item,
) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Decode(e.to_string()))
}

/// Serialises a record as an item.
pub(crate) fn to_image<T: serde::Serialize>(record: &T) -> Result<serde_dynamo::Item, StoreError> {
    serde_dynamo::to_item(record).map_err(|e| StoreError::Decode(e.to_string()))
}

fn from_item<T: serde::de::DeserializeOwned>(
    item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Decode(e.to_string()))
}
