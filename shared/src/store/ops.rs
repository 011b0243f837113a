//! Builders for the items of a `TransactWriteItems`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};

use super::{StoreError, keys};

pub(super) type Values = Vec<(&'static str, AttributeValue)>;

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Decode(format!("building a transaction item: {e}"))
}

fn key_map(key: keys::Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(key.pk)),
        (keys::SK.to_owned(), AttributeValue::S(key.sk)),
    ])
}

fn values_map(values: Values) -> Option<HashMap<String, AttributeValue>> {
    (!values.is_empty()).then(|| values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn names_map(names: &[(&str, &str)]) -> Option<HashMap<String, String>> {
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    })
}

pub(super) fn put(
    table: &str,
    item: HashMap<String, AttributeValue>,
    condition: Option<&str>,
    values: Values,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .set_expression_attribute_values(values_map(values))
        .build()
        .map_err(build_err)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Puts a whole record: a new one (`read_version = None`: the key must be free) or the next
/// state of one read at `read_version` (it must still be at that version).
pub(super) fn put_versioned(
    table: &str,
    item: HashMap<String, AttributeValue>,
    read_version: Option<u64>,
) -> Result<TransactWriteItem, StoreError> {
    match read_version {
        None => put(table, item, Some("attribute_not_exists(PK)"), vec![]),
        Some(v) => put(
            table,
            item,
            Some("attribute_exists(PK) AND version = :read"),
            vec![(":read", n(v))],
        ),
    }
}

pub(super) fn update(
    table: &str,
    key: keys::Key,
    expression: &str,
    condition: Option<&str>,
    names: &[(&str, &str)],
    values: Values,
) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key_map(key)))
        .update_expression(expression)
        .set_condition_expression(condition.map(str::to_owned))
        .set_expression_attribute_names(names_map(names))
        .set_expression_attribute_values(values_map(values))
        .build()
        .map_err(build_err)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

pub(super) fn delete(
    table: &str,
    key: keys::Key,
    condition: Option<&str>,
    values: Values,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key_map(key)))
        .set_condition_expression(condition.map(str::to_owned))
        .set_expression_attribute_values(values_map(values))
        .build()
        .map_err(build_err)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
