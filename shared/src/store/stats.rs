//! The operators' counters (kept by `stats-updater` from the stream, read by `admin-stats`)
//! and the users' monthly reports.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{Store, StoreError, keys};
use crate::domain::UserId;
use crate::domain::stats::{CounterChange, Counters};

/// How long a counted change is remembered (longer than any redelivery).
const COUNTED_TTL_SECS: i64 = 7 * 86_400;

fn counters_of(item: Option<&HashMap<String, AttributeValue>>) -> Counters {
    let mut out = Counters::new();
    for (k, v) in item.into_iter().flatten() {
        if let AttributeValue::N(v) = v
            && let Ok(v) = v.parse::<i64>()
            && k != "version"
        {
            out.insert(k.clone(), v);
        }
    }
    out
}

impl Store {
    /// Applies one change's counter deltas exactly once: a guard for the change and the
    /// `ADD`s to the gauges and to its day, in one transaction. `Ok(false)`: counted before.
    pub async fn apply_counts(
        &self,
        change: &CounterChange,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let guard = keys::counted(&change.id);
        let mut ops = vec![super::ops::put(
            &self.table,
            HashMap::from([
                (keys::PK.to_owned(), s(guard.pk)),
                (keys::SK.to_owned(), s(guard.sk)),
                ("entity_type".to_owned(), s(EntityType::Counted.as_str())),
                (
                    "expires_at".to_owned(),
                    n(now.timestamp() + COUNTED_TTL_SECS),
                ),
            ]),
            Some("attribute_not_exists(PK)"),
            vec![],
        )?];
        for (key, deltas) in [
            (keys::stats_current(), &change.current),
            (keys::stats_day(&change.day), &change.daily),
        ] {
            if deltas.is_empty() {
                continue;
            }
            let names: Vec<(String, String)> = deltas
                .keys()
                .enumerate()
                .map(|(i, k)| (format!("#c{i}"), k.clone()))
                .collect();
            let expression = format!(
                "ADD {}",
                (0..deltas.len())
                    .map(|i| format!("#c{i} :c{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let values: Vec<(String, AttributeValue)> = deltas
                .values()
                .enumerate()
                .map(|(i, v)| (format!(":c{i}"), n(v)))
                .collect();
            ops.push(self.add_op(key, &expression, &names, values)?);
        }
        Ok(self.transact(ops).await?.is_ok())
    }

    fn add_op(
        &self,
        key: keys::Key,
        expression: &str,
        names: &[(String, String)],
        values: Vec<(String, AttributeValue)>,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .update_expression(format!("{expression} SET entity_type = :et"))
            .set_expression_attribute_names(Some(names.iter().cloned().collect()))
            .set_expression_attribute_values(Some(
                values
                    .into_iter()
                    .chain([(":et".to_owned(), s(EntityType::Stats.as_str()))])
                    .collect(),
            ))
            .build()
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder()
            .update(update)
            .build())
    }

    /// The gauges and the counters of each of `days` (missing days are zero), in one
    /// `BatchGetItem` per 100 keys.
    pub async fn read_counters(
        &self,
        days: &[String],
    ) -> Result<(Counters, Vec<(String, Counters)>), StoreError> {
        let mut wanted = vec![keys::stats_current()];
        wanted.extend(days.iter().map(|d| keys::stats_day(d)));
        let items = self.batch_get(wanted, false).await?;
        let by_sk: HashMap<String, &HashMap<String, AttributeValue>> = items
            .iter()
            .filter_map(|i| match i.get(keys::SK) {
                Some(AttributeValue::S(sk)) => Some((sk.clone(), i)),
                _ => None,
            })
            .collect();
        let current = counters_of(by_sk.get(&keys::stats_current().sk).copied());
        let daily = days
            .iter()
            .map(|d| {
                (
                    d.clone(),
                    counters_of(by_sk.get(&keys::stats_day(d).sk).copied()),
                )
            })
            .collect();
        Ok((current, daily))
    }

    /// Claims the sending of the page after `cursor` of `month`'s reports: `Ok(false)` when a
    /// delivery of the same page claimed it before (so a redelivered page starts no second
    /// chain).
    pub async fn claim_report_page(
        &self,
        month: &str,
        cursor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = keys::report_page(month, cursor);
        self.put_if(
            HashMap::from([
                (keys::PK.to_owned(), s(key.pk)),
                (keys::SK.to_owned(), s(key.sk)),
                ("entity_type".to_owned(), s(EntityType::ReportPage.as_str())),
                ("expires_at".to_owned(), n(now.timestamp() + 40 * 86_400)),
            ]),
            "attribute_not_exists(PK)",
            vec![],
        )
        .await
    }

    /// Stores a user's report of a month once. `Ok(false)`: it was stored before.
    pub async fn put_monthly_report(
        &self,
        user: UserId,
        month: &str,
        report: &crate::domain::stats::MonthlyReport,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = keys::monthly_report(user, month);
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(report).map_err(|e| StoreError::Decode(e.to_string()))?;
        item.insert(keys::PK.to_owned(), s(key.pk));
        item.insert(keys::SK.to_owned(), s(key.sk));
        item.insert(
            "entity_type".to_owned(),
            s(EntityType::MonthlyReport.as_str()),
        );
        item.insert("user_id".to_owned(), s(user.to_string()));
        item.insert("month".to_owned(), s(month));
        item.insert("created_at".to_owned(), s(keys::ms(now)));
        item.insert("version".to_owned(), n(1));
        self.put_if(item, "attribute_not_exists(PK)", vec![]).await
    }
}
