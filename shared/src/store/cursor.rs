//! Opaque list cursors: a query's `LastEvaluatedKey` as base64url JSON. A cursor is checked
//! before use — exactly the key names of the index, string values, and the partition the
//! query is about — so a crafted cursor cannot start a page in somebody else's partition.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A cursor that does not belong to this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor")]
pub struct BadCursor;

/// One page of a list and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub(super) fn encode(key: Option<&HashMap<String, AttributeValue>>) -> Option<String> {
    let key = key?;
    let flat: BTreeMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|s| (k.as_str(), s.as_str())))
        .collect();
    serde_json::to_vec(&flat)
        .ok()
        .map(|json| URL_SAFE_NO_PAD.encode(json))
}

/// Decodes `cursor` for a query on `names` (the table keys plus the index keys) whose
/// partition attribute `partition_name` must equal `partition`.
pub(super) fn decode(
    cursor: &str,
    names: &[&str],
    partition_name: &str,
    partition: &str,
) -> Result<HashMap<String, AttributeValue>, BadCursor> {
    let json = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| BadCursor)?;
    let flat: BTreeMap<String, String> = serde_json::from_slice(&json).map_err(|_| BadCursor)?;
    if flat.len() != names.len()
        || !names.iter().all(|n| flat.contains_key(*n))
        || flat.get(partition_name).map(String::as_str) != Some(partition)
    {
        return Err(BadCursor);
    }
    Ok(flat
        .into_iter()
        .map(|(k, v)| (k, AttributeValue::S(v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_cannot_move_partition() {
        let key: HashMap<String, AttributeValue> = [
            ("PK", "USER#1"),
            ("SK", "USER"),
            ("GSI1PK", "USERS"),
            ("GSI1SK", "2026#1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
        .collect();
        let c = encode(Some(&key)).unwrap();
        let names = ["PK", "SK", "GSI1PK", "GSI1SK"];
        assert_eq!(decode(&c, &names, "GSI1PK", "USERS").unwrap(), key);
        assert_eq!(
            decode(&c, &names, "GSI1PK", "VERIFICATIONS#pending"),
            Err(BadCursor)
        );
        assert_eq!(
            decode("not base64!", &names, "GSI1PK", "USERS"),
            Err(BadCursor)
        );
        assert_eq!(decode(&c, &names[..2], "GSI1PK", "USERS"), Err(BadCursor));
    }
}
