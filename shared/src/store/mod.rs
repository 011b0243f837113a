//! The DynamoDB single-table adapter. `AttributeValue` and `SdkError` never leave this module;
//! every key is built in `keys.rs`.

pub mod keys;
mod notifications;
mod rate_limit;
mod records;
mod sessions;
mod users;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};

pub use notifications::NotificationRecord;
pub use rate_limit::{RateLimit, RateLimited};
pub use sessions::RotateOutcome;
pub use users::{CreateUserError, LoginKey, UniqueField};

/// The table and a client built once per cold start.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
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

fn to_item<T: serde::Serialize>(
    value: &T,
) -> Result<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, StoreError>
{
    serde_dynamo::to_item(value).map_err(|e| StoreError::Decode(e.to_string()))
}

fn from_item<T: serde::de::DeserializeOwned>(
    item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Decode(e.to_string()))
}
