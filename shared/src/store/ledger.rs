//! Wallets, ledger lines and movements. A movement is written as one `TransactWriteItems`:
//! the movement record (its id is the idempotency guard), one conditional update per wallet it
//! touches, and one immutable line per posting — together with whatever business change it
//! belongs to (an order's transition), so money and state move together or not at all.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{ListError, Page, PageQuery, Store, StoreError, from_item, keys, to_item};
use crate::domain::OrderId;
use crate::domain::ledger::{Account, Balances, Bucket, Movement, MovementKind, Posting};

#[derive(Debug, Serialize, Deserialize)]
struct WalletRecord {
    account: Account,
    #[serde(default)]
    available: i64,
    #[serde(default)]
    frozen: i64,
    #[serde(default)]
    pending_clearance: i64,
    #[serde(default)]
    total_earned: i64,
    #[serde(default)]
    total_spent: i64,
    #[serde(default)]
    version: u64,
}

/// One posting as stored in its account's partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    pub account: Account,
    pub bucket: Bucket,
    /// Signed fen.
    pub amount: i64,
    pub movement_id: String,
    /// This line's place among the movement's postings.
    pub index: usize,
    pub kind: MovementKind,
    pub order_id: Option<OrderId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MovementRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    pub id: String,
    pub kind: MovementKind,
    pub order_id: Option<OrderId>,
    pub postings: Vec<Posting>,
    pub created_at: DateTime<Utc>,
    /// The day index (`keys::movements_of_day`); absent on movements written before it.
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
}

impl WalletRecord {
    fn balances(&self) -> Balances {
        Balances {
            available_fen: self.available,
            frozen_fen: self.frozen,
            pending_fen: self.pending_clearance,
            total_earned_fen: self.total_earned,
            total_spent_fen: self.total_spent,
        }
    }
}

impl MovementRecord {
    /// The keys of the lines the movement wrote, one per posting, in order.
    fn line_keys(&self) -> Vec<keys::Key> {
        self.postings
            .iter()
            .enumerate()
            .map(|(i, p)| keys::ledger_line(p.account, self.created_at, &self.id, i))
            .collect()
    }
}

/// Where the incremental reconciliation stopped: movements written up to `through` are
/// checked; the rolling wallet sample resumes after the table key `sample_after` (`None`: from
/// the start of the table).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileCheckpoint {
    pub through: Option<DateTime<Utc>>,
    pub sample_after: Option<(String, String)>,
}

/// Why a movement (and the change it came with) was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveRefusal {
    /// The companion item at this index failed its condition (e.g. the order changed).
    Companion(usize),
    /// The movement happened before.
    AlreadyApplied,
    /// A wallet could not cover its part.
    Insufficient(Account),
}

/// One account read consistently: the wallet and every line, with the wallet unchanged
/// between the first and the last read.
#[derive(Debug, Clone)]
pub struct AccountSnapshot {
    pub account: Account,
    pub balances: Balances,
    pub lines: Vec<LineRecord>,
    /// What the account's `CLEARANCE#` items add up to (they live in the wallet's partition and
    /// change in the same transactions as `pending_clearance`); read when something is pending.
    pub waiting_fen: i64,
}

impl Store {
    /// The items that write `m`, in this order: the movement record, one update per wallet
    /// (in `m.deltas()` order), one line per posting.
    fn movement_ops(
        &self,
        m: &Movement,
        now: DateTime<Utc>,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mkey = keys::movement(&m.id);
        let record = MovementRecord {
            pk: mkey.pk,
            sk: mkey.sk,
            entity_type: EntityType::Movement,
            id: m.id.clone(),
            kind: m.kind,
            order_id: m.order,
            postings: m.postings.clone(),
            created_at: now,
            gsi2pk: Some(keys::movements_of_day(now.date_naive())),
            gsi2sk: Some(format!("{}#{}", keys::ms(now), m.id)),
        };
        let mut ops = vec![super::ops::put(
            &self.table,
            to_item(&record)?,
            Some("attribute_not_exists(PK)"),
            vec![],
        )?];
        for (account, buckets) in m.deltas() {
            let delta = |b: Bucket| buckets.get(&b).copied().unwrap_or(0);
            let totals = m.totals.get(&account).copied().unwrap_or_default();
            let mut conditions = Vec::new();
            let mut values: HashMap<String, AttributeValue> = HashMap::from([
                (":te".into(), n(totals.earned_fen)),
                (":ts".into(), n(totals.spent_fen)),
                (":one".into(), n(1)),
                (":et".into(), s(EntityType::Wallet.as_str())),
                (":acc".into(), s(account.to_string())),
                (":now".into(), s(now.to_rfc3339())),
            ]);
            // Each bucket the movement changes is added to, and a decrease must be covered.
            let mut adds = Vec::new();
            for (i, b) in Bucket::ALL.into_iter().enumerate() {
                let d = delta(b);
                if d == 0 {
                    continue;
                }
                adds.push(format!("{} :d{i}", b.as_str()));
                values.insert(format!(":d{i}"), n(d));
                if d < 0 && !account.may_go_negative() {
                    conditions.push(format!("{} >= :need{i}", b.as_str()));
                    values.insert(format!(":need{i}"), n(-d));
                }
            }
            adds.extend(["total_earned :te", "total_spent :ts", "version :one"].map(str::to_owned));
            let key = keys::wallet(account);
            let update = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(key.pk))
                .key(keys::SK, s(key.sk))
                .update_expression(format!(
                    "ADD {} SET entity_type = :et, account = :acc, updated_at = :now",
                    adds.join(", ")
                ))
                .set_condition_expression(
                    (!conditions.is_empty()).then(|| conditions.join(" AND ")),
                )
                .set_expression_attribute_values(Some(values))
                .build()
                .map_err(|e| StoreError::Decode(e.to_string()))?;
            ops.push(TransactWriteItem::builder().update(update).build());
        }
        for (i, p) in m.postings.iter().enumerate() {
            let key = keys::ledger_line(p.account, now, &m.id, i);
            let line = LineRecord {
                pk: key.pk,
                sk: key.sk,
                entity_type: EntityType::LedgerLine,
                account: p.account,
                bucket: p.bucket,
                amount: p.amount_fen,
                movement_id: m.id.clone(),
                index: i,
                kind: m.kind,
                order_id: m.order,
                created_at: now,
            };
            ops.push(super::ops::put(
                &self.table,
                to_item(&line)?,
                Some("attribute_not_exists(PK)"),
                vec![],
            )?);
        }
        Ok(ops)
    }

    /// Writes `companions` (a business change) and `movement` (if any) in one transaction.
    pub(crate) async fn transact_with_movement(
        &self,
        companions: Vec<TransactWriteItem>,
        movement: Option<&Movement>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), MoveRefusal>, StoreError> {
        let first_move = companions.len();
        let accounts: Vec<Account> = movement
            .map(|m| m.deltas().into_keys().collect())
            .unwrap_or_default();
        let mut ops = companions;
        if let Some(m) = movement {
            ops.extend(self.movement_ops(m, now)?);
        }
        match self.transact(ops).await? {
            Ok(()) => Ok(Ok(())),
            Err(cancelled) => {
                if let Some(i) = (0..first_move).find(|i| cancelled.failed(*i)) {
                    return Ok(Err(MoveRefusal::Companion(i)));
                }
                if cancelled.failed(first_move) {
                    return Ok(Err(MoveRefusal::AlreadyApplied));
                }
                for (j, account) in accounts.iter().enumerate() {
                    if cancelled.failed(first_move + 1 + j) {
                        return Ok(Err(MoveRefusal::Insufficient(*account)));
                    }
                }
                Err(StoreError::Decode(format!(
                    "movement cancelled for an unexpected reason: {:?}",
                    cancelled.0
                )))
            }
        }
    }

    /// Applies a movement on its own (deposits).
    pub async fn apply_movement(
        &self,
        movement: &Movement,
        now: DateTime<Utc>,
    ) -> Result<Result<(), MoveRefusal>, StoreError> {
        self.transact_with_movement(vec![], Some(movement), now)
            .await
    }

    /// The balances of one account (zero if it never moved money).
    pub async fn balances(
        &self,
        account: Account,
        consistent: bool,
    ) -> Result<(Balances, u64), StoreError> {
        Ok(self
            .get_record::<WalletRecord>(keys::wallet(account), consistent)
            .await?
            .map(|w| (w.balances(), w.version))
            .unwrap_or_default())
    }

    /// An account's lines, newest first.
    pub async fn ledger_lines(
        &self,
        account: Account,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<LineRecord>, ListError> {
        self.query_page(PageQuery {
            sort_prefix: Some(("SK", keys::LINE_PREFIX.to_owned())),
            ..PageQuery::newest(None, keys::wallet(account).pk, limit, cursor)
        })
        .await
    }

    /// Every line of an account, oldest first, read consistently.
    async fn all_lines(&self, account: Account) -> Result<Vec<LineRecord>, StoreError> {
        self.wallet_items(account, keys::LINE_PREFIX).await
    }

    /// Every item of `account`'s partition whose sort key starts with `prefix` (its lines, its
    /// earnings waiting to clear), read consistently.
    pub(super) async fn wallet_items<T: serde::de::DeserializeOwned>(
        &self,
        account: Account,
        prefix: &str,
    ) -> Result<Vec<T>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("PK = :pk AND begins_with(SK, :p)")
            .expression_attribute_values(":pk", s(keys::wallet(account).pk))
            .expression_attribute_values(":p", s(prefix));
        self.query_all(query)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// The wallet and all its lines as of one moment: the wallet's version is the same
    /// before and after the lines are read (retried a few times under traffic).
    pub async fn account_snapshot(&self, account: Account) -> Result<AccountSnapshot, StoreError> {
        for _ in 0..5 {
            let (before, v1) = self.balances(account, true).await?;
            let lines = self.all_lines(account).await?;
            let waiting_fen = match account {
                Account::User(u) if before.pending_fen != 0 => self
                    .pending_clearances(u)
                    .await?
                    .iter()
                    .map(|c| c.amount.fen())
                    .sum(),
                _ => 0,
            };
            let (_, v2) = self.balances(account, true).await?;
            if v1 == v2 {
                return Ok(AccountSnapshot {
                    account,
                    balances: before,
                    lines,
                    waiting_fen,
                });
            }
        }
        Err(StoreError::Decode(format!(
            "wallet {account} kept changing while it was read"
        )))
    }

    /// Every wallet's account and every movement record (a scan: the daily reconciliation
    /// reads the whole ledger by design; no request path calls this).
    pub async fn ledger_inventory(
        &self,
    ) -> Result<(Vec<Account>, Vec<MovementRecord>), StoreError> {
        let mut accounts = Vec::new();
        let mut movements = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("entity_type IN (:w, :m)")
                .expression_attribute_values(":w", s(EntityType::Wallet.as_str()))
                .expression_attribute_values(":m", s(EntityType::Movement.as_str()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Scan", e))?;
            for item in page.items.unwrap_or_default() {
                match item.get("entity_type") {
                    Some(AttributeValue::S(t)) if *t == EntityType::Wallet.as_str() => {
                        accounts.push(from_item::<WalletRecord>(item)?.account)
                    }
                    _ => movements.push(from_item::<MovementRecord>(item)?),
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok((accounts, movements));
            }
        }
    }

    /// One movement record.
    pub async fn movement(&self, id: &str) -> Result<Option<MovementRecord>, StoreError> {
        self.get_record(keys::movement(id), true).await
    }
}

impl Store {
    pub async fn reconcile_checkpoint(&self) -> Result<ReconcileCheckpoint, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            through: Option<DateTime<Utc>>,
            sample_pk: Option<String>,
            sample_sk: Option<String>,
        }
        let row: Option<Row> = self.get_record(keys::reconcile_checkpoint(), true).await?;
        Ok(row
            .map(|r| ReconcileCheckpoint {
                through: r.through,
                sample_after: r.sample_pk.zip(r.sample_sk),
            })
            .unwrap_or_default())
    }

    pub async fn save_reconcile_checkpoint(
        &self,
        checkpoint: &ReconcileCheckpoint,
    ) -> Result<(), StoreError> {
        let key = keys::reconcile_checkpoint();
        let mut item = HashMap::from([
            (keys::PK.to_owned(), s(key.pk)),
            (keys::SK.to_owned(), s(key.sk)),
            (
                "entity_type".to_owned(),
                s(EntityType::ReconcileCheckpoint.as_str()),
            ),
        ]);
        if let Some(t) = checkpoint.through {
            item.insert("through".to_owned(), s(t.to_rfc3339()));
        }
        if let Some((pk, sk)) = &checkpoint.sample_after {
            item.insert("sample_pk".to_owned(), s(pk.clone()));
            item.insert("sample_sk".to_owned(), s(sk.clone()));
        }
        self.put(item).await
    }

    /// The movements written after `after` and up to `until`, oldest first: one Query per day
    /// of the day index (and its pages).
    pub async fn movements_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<MovementRecord>, StoreError> {
        let mut out = Vec::new();
        let mut day = after.date_naive();
        while day <= until.date_naive() {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression("GSI2PK = :day AND GSI2SK BETWEEN :from AND :to")
                .expression_attribute_values(":day", s(keys::movements_of_day(day)))
                // `{at}#{id}`: '$' sorts right after '#', so the bounds are (after, until].
                .expression_attribute_values(":from", s(format!("{}$", keys::ms(after))))
                .expression_attribute_values(":to", s(format!("{}$", keys::ms(until))));
            for item in self.query_all(query).await? {
                out.push(from_item(item)?);
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        Ok(out)
    }

    /// The lines `movement` wrote that exist (one `BatchGetItem` per 100).
    pub async fn movement_lines(
        &self,
        movements: &[MovementRecord],
    ) -> Result<Vec<LineRecord>, StoreError> {
        let keys = movements
            .iter()
            .flat_map(MovementRecord::line_keys)
            .collect();
        self.batch_get(keys, true)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// The next stretch of the rolling wallet sample: one `Scan` page of at most `items`
    /// items after the key `after`, and the wallets among them (user wallets; the platform's
    /// few accounts hold every order's lines and are checked by the full reconciliation).
    /// Returns where the next stretch starts (`None`: the table's end was reached).
    pub async fn wallet_sample(
        &self,
        after: Option<&(String, String)>,
        items: i32,
    ) -> Result<(Vec<Account>, Option<(String, String)>), StoreError> {
        let start = after.map(|(pk, sk)| {
            HashMap::from([
                (keys::PK.to_owned(), s(pk.clone())),
                (keys::SK.to_owned(), s(sk.clone())),
            ])
        });
        let page = self
            .client
            .scan()
            .table_name(&self.table)
            .limit(items)
            .filter_expression("entity_type = :w AND begins_with(PK, :user)")
            .expression_attribute_values(":w", s(EntityType::Wallet.as_str()))
            .expression_attribute_values(":user", s("WALLET#user:"))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("Scan", e))?;
        let mut accounts = Vec::new();
        for item in page.items.unwrap_or_default() {
            accounts.push(from_item::<WalletRecord>(item)?.account);
        }
        let next = page.last_evaluated_key.and_then(|k| {
            let text = |name: &str| k.get(name).and_then(|v| v.as_s().ok()).cloned();
            text(keys::PK).zip(text(keys::SK))
        });
        Ok((accounts, next))
    }
}

/// The items of one data file of a table export (`ExportTableToPointInTime`, DynamoDB JSON:
/// one `{"Item": {...}}` per line).
pub fn export_items(text: &str) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
    #[derive(Deserialize)]
    struct Line {
        #[serde(rename = "Item")]
        item: serde_dynamo::Item,
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<Line>(l)
                .map(|line| line.item.into())
                .map_err(|e| StoreError::Decode(format!("export line: {e}")))
        })
        .collect()
}

/// The books as a table export holds them (`ExportTableToPointInTime`, DynamoDB JSON): every
/// wallet with its lines, and every movement. Other items are skipped.
pub fn books_of(
    items: impl IntoIterator<Item = HashMap<String, AttributeValue>>,
) -> Result<(Vec<AccountSnapshot>, Vec<MovementRecord>), StoreError> {
    let mut wallets: std::collections::BTreeMap<String, AccountSnapshot> = Default::default();
    let mut movements = Vec::new();
    let mut lines = Vec::new();
    let mut waiting: std::collections::BTreeMap<String, i64> = Default::default();
    for item in items {
        let kind: EntityType = item
            .get("entity_type")
            .and_then(|v| v.as_s().ok())
            .and_then(|t| serde_json::from_value(serde_json::Value::String(t.clone())).ok())
            .unwrap_or(EntityType::Other);
        match kind {
            EntityType::Wallet => {
                let w: WalletRecord = from_item(item)?;
                wallets.insert(
                    w.account.to_string(),
                    AccountSnapshot {
                        account: w.account,
                        balances: w.balances(),
                        lines: Vec::new(),
                        waiting_fen: 0,
                    },
                );
            }
            EntityType::LedgerLine => lines.push(from_item::<LineRecord>(item)?),
            EntityType::Movement => movements.push(from_item::<MovementRecord>(item)?),
            EntityType::Clearance => {
                let c: crate::domain::clearance::Clearance = from_item(item)?;
                *waiting
                    .entry(Account::User(c.seller_id).to_string())
                    .or_default() += c.amount.fen();
            }
            _ => {}
        }
    }
    for (account, fen) in waiting {
        if let Some(w) = wallets.get_mut(&account) {
            w.waiting_fen = fen;
        }
    }
    for line in lines {
        let account = line.account;
        wallets
            .entry(account.to_string())
            .or_insert_with(|| AccountSnapshot {
                account,
                balances: Balances::default(),
                lines: Vec::new(),
                waiting_fen: 0,
            })
            .lines
            .push(line);
    }
    Ok((wallets.into_values().collect(), movements))
}
