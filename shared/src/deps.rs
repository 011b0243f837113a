//! Everything a function needs, built once per cold start and shared by every invocation.

use aws_config::BehaviorVersion;

use crate::auth::TokenKeys;
use crate::config::{Config, ConfigError};
use crate::store::Store;

#[derive(Debug)]
pub struct Deps {
    pub config: Config,
    pub store: Store,
    pub keys: TokenKeys,
    pub sqs: aws_sdk_sqs::Client,
}

impl Deps {
    /// Reads the configuration and builds the AWS clients. No network call happens here:
    /// credentials and endpoints (`AWS_ENDPOINT_URL` for the local stack) resolve lazily.
    pub async fn from_env() -> Result<Deps, ConfigError> {
        let config = Config::from_env()?;
        let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Ok(Deps::build(config, &aws))
    }

    pub fn build(config: Config, aws: &aws_config::SdkConfig) -> Deps {
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.table_name.clone(),
        );
        let keys = TokenKeys::new(&config.jwt_secret);
        Deps {
            store,
            keys,
            sqs: aws_sdk_sqs::Client::new(aws),
            config,
        }
    }
}
