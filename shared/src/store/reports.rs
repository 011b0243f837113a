//! Reports to the moderators, the one-open-report guard, automatic sanctions and the data the
//! abuse rules count (accounts per address, identical messages).

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::cursor::Page;
use super::entity_type::EntityType;
use super::ops::{n, s};
use super::{AuditRecord, ListError, PageQuery, Store, StoreError, keys, to_item};
use crate::domain::report::{Report, ReportStatus, TargetType};
use crate::domain::{ReportId, UserId};

#[derive(Debug, Serialize, Deserialize)]
struct ReportRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    entity_type: EntityType,
    #[serde(flatten)]
    report: Report,
}

impl From<&Report> for ReportRecord {
    fn from(r: &Report) -> Self {
        let key = keys::report(r.id);
        let sort = format!("{}#{}", keys::ms(r.created_at), r.id);
        ReportRecord {
            pk: key.pk,
            sk: key.sk,
            gsi1pk: keys::reports_by_status(r.status.as_str()),
            gsi1sk: sort.clone(),
            gsi2pk: keys::reports_by_status_type(r.status.as_str(), r.target_type.as_str()),
            gsi2sk: sort,
            entity_type: EntityType::Report,
            report: r.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ReportGuard {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity_type: EntityType,
    report_id: String,
    version: u64,
}

fn guard_key(r: &Report) -> keys::Key {
    keys::report_guard(&r.reporter_id, r.target_type.as_str(), &r.target_id)
}

impl Store {
    /// Files a report with its guard. `Ok(false)`: the reporter already has an open report
    /// on that target (nothing written).
    pub async fn create_report(&self, report: &Report) -> Result<bool, StoreError> {
        self.create_report_with(report, None).await
    }

    /// As [`Store::create_report`], with the audit entry of the automatic action that filed
    /// it in the same transaction (neither is written when the report is a duplicate).
    pub async fn create_report_with(
        &self,
        report: &Report,
        audit: Option<&AuditRecord>,
    ) -> Result<bool, StoreError> {
        let guard = guard_key(report);
        let mut ops = vec![
            super::ops::put_versioned(
                &self.table,
                to_item(&ReportGuard {
                    pk: guard.pk,
                    sk: guard.sk,
                    entity_type: EntityType::ReportGuard,
                    report_id: report.id.to_string(),
                    version: 1,
                })?,
                None,
            )?,
            super::ops::put_versioned(&self.table, to_item(&ReportRecord::from(report))?, None)?,
        ];
        if let Some(audit) = audit {
            ops.push(audit.put(&self.table)?);
        }
        Ok(self.transact(ops).await?.is_ok())
    }

    pub async fn get_report(&self, id: ReportId) -> Result<Option<Report>, StoreError> {
        Ok(self
            .get_record::<ReportRecord>(keys::report(id), true)
            .await?
            .map(|r| r.report))
    }

    /// The queue: pending reports oldest first, decided ones newest first; of one type
    /// through `GSI2`.
    pub async fn list_reports(
        &self,
        status: ReportStatus,
        target_type: Option<TargetType>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<Report>, ListError> {
        let q = match target_type {
            None => PageQuery::newest(
                Some(keys::GSI1),
                keys::reports_by_status(status.as_str()),
                limit,
                cursor,
            ),
            Some(t) => PageQuery::newest(
                Some(keys::GSI2),
                keys::reports_by_status_type(status.as_str(), t.as_str()),
                limit,
                cursor,
            ),
        };
        let page = self
            .query_page::<ReportRecord>(PageQuery {
                newest_first: status != ReportStatus::Pending,
                ..q
            })
            .await?;
        Ok(Page {
            items: page.items.into_iter().map(|r| r.report).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Writes a decided report (read while pending at `read_version`), frees its guard, and
    /// writes `companions` (the sanction, the audit entry) in one transaction. `Ok(false)`:
    /// decided meanwhile, or a companion's condition failed.
    pub async fn decide_report(
        &self,
        report: &Report,
        read_version: u64,
        companions: Vec<TransactWriteItem>,
    ) -> Result<bool, StoreError> {
        let mut ops = vec![
            // It was read pending at `read_version`; the version says it still is.
            super::ops::put_versioned(
                &self.table,
                to_item(&ReportRecord::from(report))?,
                Some(read_version),
            )?,
            super::ops::delete(&self.table, guard_key(report), None, vec![])?,
        ];
        ops.extend(companions);
        Ok(self.transact(ops).await?.is_ok())
    }

    /// Every account registered from `ip` in the day up to `at`, after noting `user` (TTL a
    /// day and an hour). Idempotent: noting the same account again changes nothing.
    pub async fn note_registration(
        &self,
        ip: &str,
        user: UserId,
        at: DateTime<Utc>,
        window: Duration,
    ) -> Result<Vec<String>, StoreError> {
        let key = keys::ip_registration(ip, at, user);
        self.client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(key.pk.clone()))
            .item(keys::SK, s(key.sk))
            .item("entity_type", s(EntityType::IpRegistration.as_str()))
            .item("user_id", s(user.to_string()))
            .item(
                "expires_at",
                n((at + window + Duration::hours(1)).timestamp()),
            )
            .send()
            .await
            .map_err(|e| StoreError::dynamo("PutItem", e))?;
        let mut users = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(key.pk.clone()))
                .expression_attribute_values(":from", s(keys::ms(at - window)))
                // Everything at `at` (any account id after the time) is in.
                .expression_attribute_values(":to", s(format!("{}#~", keys::ms(at))))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::dynamo("Query", e))?;
            for item in page.items.unwrap_or_default() {
                if let Some(AttributeValue::S(u)) = item.get("user_id") {
                    users.push(u.clone());
                }
            }
            start = page.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                return Ok(users);
            }
        }
    }

    /// Adds `recipients` to the people `sender` sent the text with `fingerprint` to in the
    /// hour starting at `window_start`; returns how many there are now. A set, so a
    /// redelivered message adds nobody.
    pub async fn note_duplicate(
        &self,
        sender: UserId,
        fingerprint: &str,
        window_start: i64,
        recipients: &[String],
    ) -> Result<usize, StoreError> {
        if recipients.is_empty() {
            return Ok(0);
        }
        let key = keys::duplicate_messages(sender, fingerprint, window_start);
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(key.pk))
            .key(keys::SK, s(key.sk))
            .update_expression("ADD recipients :r SET entity_type = :et, expires_at = :exp")
            .expression_attribute_values(":r", AttributeValue::Ss(recipients.to_vec()))
            .expression_attribute_values(":et", s(EntityType::DuplicateMessages.as_str()))
            .expression_attribute_values(":exp", n(window_start + 2 * 3_600))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("UpdateItem", e))?;
        Ok(
            match out.attributes.as_ref().and_then(|a| a.get("recipients")) {
                Some(AttributeValue::Ss(set)) => set.len(),
                _ => 0,
            },
        )
    }

    /// An automatic sanction, once per `(user, rule, evidence)`: the user is restricted until
    /// `until`, a strike is added, and the audit entry is written, in one transaction.
    /// `Ok(None)` when this sanction was applied before (or the user is gone); otherwise the
    /// user's strikes now.
    pub async fn restrict_user(
        &self,
        user: UserId,
        rule: &str,
        evidence: &str,
        until: DateTime<Utc>,
        audit: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        let guard = keys::sanction_guard(user, rule, evidence);
        let ops = vec![
            super::ops::put(
                &self.table,
                std::collections::HashMap::from([
                    (keys::PK.to_owned(), s(guard.pk)),
                    (keys::SK.to_owned(), s(guard.sk)),
                    (
                        "entity_type".to_owned(),
                        s(EntityType::SanctionGuard.as_str()),
                    ),
                    ("audit_id".to_owned(), s(audit.id.clone())),
                    ("created_at".to_owned(), s(keys::ms(now))),
                ]),
                Some("attribute_not_exists(PK)"),
                vec![],
            )?,
            super::ops::update(
                &self.table,
                keys::user(user),
                "SET restricted_until = :until, updated_at = :now ADD version :one",
                Some("attribute_exists(PK)"),
                &[],
                vec![
                    (":until", s(until.to_rfc3339())),
                    (":now", s(now.to_rfc3339())),
                    (":one", n(1)),
                ],
            )?,
            super::ops::update(
                &self.table,
                keys::offences(user),
                "ADD spam_strikes :one SET entity_type = :et, user_id = :uid, last_at = :now",
                None,
                &[],
                vec![
                    (":one", n(1)),
                    (":et", s(EntityType::Offences.as_str())),
                    (":uid", s(user.to_string())),
                    (":now", s(keys::ms(now))),
                ],
            )?,
            audit.put(&self.table)?,
        ];
        if self.transact(ops).await?.is_err() {
            return Ok(None);
        }
        Ok(Some(self.spam_strikes(user).await?))
    }

    /// How many automatic spam sanctions the user has had since an operator last cleared
    /// them.
    pub async fn spam_strikes(&self, user: UserId) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::offences(user).pk))
            .key(keys::SK, s(keys::offences(user).sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::dynamo("GetItem", e))?;
        Ok(
            match out.item.as_ref().and_then(|i| i.get("spam_strikes")) {
                Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
                _ => 0,
            },
        )
    }

    /// Clears the strikes (an operator lifted a sanction): a companion of the user write.
    pub(crate) fn clear_strikes_op(&self, user: UserId) -> Result<TransactWriteItem, StoreError> {
        super::ops::update(
            &self.table,
            keys::offences(user),
            "SET spam_strikes = :zero, entity_type = :et, user_id = :uid",
            None,
            &[],
            vec![
                (":zero", n(0)),
                (":et", s(EntityType::Offences.as_str())),
                (":uid", s(user.to_string())),
            ],
        )
    }

    /// The audit log of one month (`yyyy-mm`), newest first.
    pub async fn audit_month(
        &self,
        month: &str,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<AuditRecord>, ListError> {
        self.query_page(PageQuery::newest(
            None,
            keys::audit_month(month),
            limit,
            cursor,
        ))
        .await
    }

    /// Everything done to one target, newest first, a page at a time.
    pub async fn audit_target_page(
        &self,
        target_type: &str,
        target_id: &str,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<Page<AuditRecord>, ListError> {
        self.query_page(PageQuery::newest(
            Some(keys::GSI1),
            keys::gsi1_audit_target(&format!("{target_type}#{target_id}")),
            limit,
            cursor,
        ))
        .await
    }
}

/// A report item from the table's stream.
pub(super) fn decode_report(item: serde_dynamo::Item) -> Result<Report, StoreError> {
    Ok(super::plain::<ReportRecord>(item)?.report)
}

/// A report as the store writes it.
pub(super) fn report_image(r: &Report) -> Result<serde_dynamo::Item, StoreError> {
    super::to_image(&ReportRecord::from(r))
}
