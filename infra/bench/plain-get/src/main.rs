//! The plain way to write "get a service by id": every request loads the AWS configuration and
//! builds a DynamoDB client, the event and the answer are `serde_json::Value`, and the item is
//! turned into JSON attribute by attribute. `make bench` measures it beside our functions.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

fn to_json(v: &AttributeValue) -> Value {
    match v {
        AttributeValue::S(s) => json!(s),
        AttributeValue::N(n) => json!(n),
        AttributeValue::Bool(b) => json!(b),
        AttributeValue::L(l) => Value::Array(l.iter().map(to_json).collect()),
        AttributeValue::M(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        _ => Value::Null,
    }
}

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("TABLE_NAME")?;
    let id = event.payload["pathParameters"]["service_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let out = client
        .get_item()
        .table_name(table)
        .key("PK", AttributeValue::S(format!("SERVICE#{id}")))
        .key("SK", AttributeValue::S("SERVICE".to_string()))
        .send()
        .await?;
    let (status, body) = match out.item() {
        Some(item) => (
            200,
            json!({"success": true, "data": Value::Object(item.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())}),
        ),
        None => (404, json!({"success": false, "code": "service.not_found"})),
    };
    Ok(json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
