//! Every AWS request a function sends, as IAM authorizes it: the action and the resource ARN.
//! With `GIGBAO_RECORD_AWS_CALLS` set (the local stack sets it; in AWS it is not set), each
//! request is logged as `{"message": "aws call", "aws_action": …, "aws_resource": …,
//! "function": …}`; `infra/local/check_permissions.py` compares them, function by function,
//! with what the template grants.
//!
//! One interceptor serves every SDK client (the `Intercept` trait each SDK crate re-exports is
//! the same trait). It reads the signed request: the service from the SigV4 credential scope,
//! the action from `X-Amz-Target` or the REST method and path, the resource from the body or
//! the path. A transaction is as many requests as it has items, each authorized on its own
//! (`TransactWriteItems` with a `ConditionCheck` needs `dynamodb:ConditionCheckItem`).

use std::sync::OnceLock;

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use serde_json::Value;

/// Whether this process records its AWS calls (read once).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("GIGBAO_RECORD_AWS_CALLS").is_some())
}

/// The interceptor; register it on a client only when [`enabled`].
#[derive(Debug, Clone, Copy)]
pub struct RecordAwsCalls;

impl Intercept for RecordAwsCalls {
    fn name(&self) -> &'static str {
        "RecordAwsCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request();
        let header = |name: &str| request.headers().get(name).unwrap_or("");
        // A presigned request (an upload URL handed to a client, who sends it with this
        // function's credentials) carries its signature in the query.
        let credential = match header("authorization") {
            "" => query_credential(request.uri()),
            signed => signed.to_owned(),
        };
        let call = Request {
            service: service_of(&credential),
            method: request.method(),
            uri: request.uri(),
            target: header("x-amz-target"),
            copy_source: header("x-amz-copy-source"),
            body: request.body().bytes().unwrap_or_default(),
        };
        for (action, resource) in calls(&call, &Scope::from_env()) {
            log(&action, &resource);
        }
        Ok(())
    }
}

/// An OpenSearch request as the domain's IAM policy authorizes it: `es:ESHttp{Method}` on
/// `{domain ARN}/{path}` (the query string is not part of the resource). The OpenSearch client
/// is not an SDK client, so the adapter calls this itself; the local stack names the domain's
/// ARN (`GIGBAO_SEARCH_DOMAIN_ARN`) only where it records.
pub fn record_opensearch(verb: &str, path: &str) {
    if !enabled() {
        return;
    }
    let Ok(domain) = std::env::var("GIGBAO_SEARCH_DOMAIN_ARN") else {
        return;
    };
    let (action, resource) = opensearch_call(&domain, verb, path);
    log(&action, &resource);
}

/// The action and resource of an OpenSearch request (`verb` as IAM spells it: `Get`, `Post`).
fn opensearch_call(domain: &str, verb: &str, path: &str) -> (String, String) {
    let path = path.split('?').next().unwrap_or_default();
    (
        format!("es:ESHttp{verb}"),
        format!("{domain}/{}", path.trim_start_matches('/')),
    )
}

fn log(action: &str, resource: &str) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    tracing::info!(
        aws_action = action,
        aws_resource = resource,
        function,
        "aws call"
    );
}

/// Where the calls go: the partition, region and account ARNs are written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub partition: &'static str,
    pub region: String,
    pub account: String,
}

impl Scope {
    fn from_env() -> Scope {
        let region = std::env::var("AWS_REGION").unwrap_or_default();
        Scope {
            partition: if region.starts_with("cn-") {
                "aws-cn"
            } else {
                "aws"
            },
            // Functions never ask STS who they are; the local stack says (in AWS nothing is
            // recorded).
            account: std::env::var("GIGBAO_ACCOUNT_ID").unwrap_or_else(|_| "*".to_owned()),
            region,
        }
    }
}

/// What the interceptor reads of a signed request.
pub struct Request<'a> {
    pub service: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    pub target: &'a str,
    pub copy_source: &'a str,
    pub body: &'a [u8],
}

/// `Credential=AKID/20261203/us-east-1/s3/aws4_request` from a presigned URL's query.
fn query_credential(uri: &str) -> String {
    uri.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-Credential="))
        .map(|c| format!("Credential={}", c.replace("%2F", "/").replace("%2f", "/")))
        .unwrap_or_default()
}

/// `dynamodb` from `AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/dynamodb/aws4_request, …`.
fn service_of(authorization: &str) -> &str {
    authorization
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("")
}

/// The (action, resource) pairs IAM authorizes one request by.
pub fn calls(r: &Request<'_>, s: &Scope) -> Vec<(String, String)> {
    let arn = |service: &str, rest: &str| {
        format!(
            "arn:{}:{service}:{}:{}:{rest}",
            s.partition, s.region, s.account
        )
    };
    let body: Value = serde_json::from_slice(r.body).unwrap_or(Value::Null);
    let operation = r.target.rsplit('.').next().unwrap_or("");
    match r.service {
        "dynamodb" => dynamodb(operation, &body, &|rest| arn("dynamodb", rest)),
        "sqs" => {
            let queue = body["QueueUrl"]
                .as_str()
                .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
                .unwrap_or("*");
            // A batch is authorized as its single form (SendMessageBatch by sqs:SendMessage).
            let action = operation.strip_suffix("Batch").unwrap_or(operation);
            vec![(format!("sqs:{action}"), arn("sqs", queue))]
        }
        "secretsmanager" => {
            let id = body["SecretId"].as_str().unwrap_or("*");
            let resource = if id.starts_with("arn:") {
                id.to_owned()
            } else {
                arn("secretsmanager", &format!("secret:{id}"))
            };
            vec![(format!("secretsmanager:{operation}"), resource)]
        }
        "s3" => s3(r, s.partition),
        "ses" => {
            let from = body["FromEmailAddress"].as_str().unwrap_or("*");
            let domain = from.rsplit('@').next().unwrap_or(from);
            vec![(
                "ses:SendEmail".to_owned(),
                arn("ses", &format!("identity/{domain}")),
            )]
        }
        "execute-api" => {
            // POST|GET|DELETE {endpoint}/@connections/{id}; the endpoint's API and stage are
            // the host's first label and the path before `@connections`.
            let path = path_of(r.uri);
            let (stage, connection) = path.split_once("/@connections/").unwrap_or(("", path));
            let api = host_of(r.uri).split('.').next().unwrap_or("*");
            vec![(
                "execute-api:ManageConnections".to_owned(),
                arn(
                    "execute-api",
                    &format!(
                        "{api}/{}/{}/@connections/{connection}",
                        stage.trim_matches('/'),
                        r.method
                    ),
                ),
            )]
        }
        other => vec![(
            format!("{other}:{operation}"),
            format!("{} {}", r.method, r.uri),
        )],
    }
}

fn dynamodb(operation: &str, body: &Value, arn: &dyn Fn(&str) -> String) -> Vec<(String, String)> {
    let table = |v: &Value| -> String {
        let mut rest = format!("table/{}", v["TableName"].as_str().unwrap_or("*"));
        if let Some(index) = v["IndexName"].as_str() {
            rest.push_str(&format!("/index/{index}"));
        }
        arn(&rest)
    };
    match operation {
        "TransactWriteItems" | "TransactGetItems" => body["TransactItems"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_object()?.iter().next())
                    .map(|(kind, inner)| {
                        let action = match kind.as_str() {
                            "Put" => "PutItem",
                            "Update" => "UpdateItem",
                            "Delete" => "DeleteItem",
                            "ConditionCheck" => "ConditionCheckItem",
                            _ => "GetItem",
                        };
                        (format!("dynamodb:{action}"), table(inner))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        "BatchGetItem" | "BatchWriteItem" => body["RequestItems"]
            .as_object()
            .map(|tables| {
                tables
                    .keys()
                    .map(|t| (format!("dynamodb:{operation}"), arn(&format!("table/{t}"))))
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec![(format!("dynamodb:{operation}"), table(body))],
    }
}

fn s3(r: &Request<'_>, partition: &str) -> Vec<(String, String)> {
    // Path style (`/bucket/key`, as the local stack uses) or virtual-hosted
    // (`bucket.s3.region.amazonaws.com/key`).
    let host = host_of(r.uri);
    let path = path_of(r.uri).trim_start_matches('/');
    let query = r.uri.split_once('?').map(|(_, q)| q).unwrap_or("");
    let (bucket, key) = match host.split_once(".s3") {
        Some((bucket, _)) if !bucket.is_empty() => (bucket, path),
        _ => path.split_once('/').unwrap_or((path, "")),
    };
    let object = format!("arn:{partition}:s3:::{bucket}/{key}");
    let bucket_arn = format!("arn:{partition}:s3:::{bucket}");
    match (r.method, key.is_empty()) {
        ("GET", true) if query.contains("list-type") || query.is_empty() => {
            vec![("s3:ListBucket".to_owned(), bucket_arn)]
        }
        ("PUT", false) if !r.copy_source.is_empty() => {
            let source = r.copy_source.trim_start_matches('/');
            vec![
                (
                    "s3:GetObject".to_owned(),
                    format!("arn:{partition}:s3:::{source}"),
                ),
                ("s3:PutObject".to_owned(), object),
            ]
        }
        ("PUT", false) => vec![("s3:PutObject".to_owned(), object)],
        ("GET" | "HEAD", false) => vec![("s3:GetObject".to_owned(), object)],
        ("DELETE", false) => vec![("s3:DeleteObject".to_owned(), object)],
        ("POST", true) if query.contains("delete") => {
            vec![("s3:DeleteObject".to_owned(), format!("{bucket_arn}/*"))]
        }
        (method, _) => vec![(format!("s3:{method}"), object)],
    }
}

fn host_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or("")
}

fn path_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split('?').next().unwrap_or("")
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_opensearch_request_is_authorized_by_method_and_path() {
        let domain = "arn:aws-cn:es:cn-north-1:123456789012:domain/gigbao";
        assert_eq!(
            opensearch_call(domain, "Post", "/_bulk?require_alias=true"),
            ("es:ESHttpPost".to_owned(), format!("{domain}/_bulk"))
        );
        assert_eq!(
            opensearch_call(
                domain,
                "Get",
                "/_cluster/health/services-0?wait_for_status=yellow"
            ),
            (
                "es:ESHttpGet".to_owned(),
                format!("{domain}/_cluster/health/services-0")
            )
        );
    }

    use super::*;

    fn scope() -> Scope {
        Scope {
            partition: "aws",
            region: "us-east-1".into(),
            account: "000000000000".into(),
        }
    }

    fn of(
        service: &str,
        method: &str,
        uri: &str,
        target: &str,
        body: &str,
    ) -> Vec<(String, String)> {
        calls(
            &Request {
                service,
                method,
                uri,
                target,
                copy_source: "",
                body: body.as_bytes(),
            },
            &scope(),
        )
    }

    #[test]
    fn a_query_on_an_index_is_authorized_on_the_index() {
        assert_eq!(
            of(
                "dynamodb",
                "POST",
                "http://localhost/",
                "DynamoDB_20120810.Query",
                r#"{"TableName":"t","IndexName":"GSI2"}"#
            ),
            vec![(
                "dynamodb:Query".into(),
                "arn:aws:dynamodb:us-east-1:000000000000:table/t/index/GSI2".into()
            )]
        );
    }

    #[test]
    fn a_transaction_is_each_of_its_items() {
        let calls = of(
            "dynamodb",
            "POST",
            "http://localhost/",
            "DynamoDB_20120810.TransactWriteItems",
            r#"{"TransactItems":[{"Put":{"TableName":"t"}},{"ConditionCheck":{"TableName":"t"}}]}"#,
        );
        let actions: Vec<&str> = calls.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(actions, ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"]);
    }

    #[test]
    fn s3_objects_queues_and_connections_have_their_arns() {
        assert_eq!(
            of(
                "s3",
                "PUT",
                "http://127.0.0.1:4566/media/uploads/avatars/u/1.jpg",
                "",
                ""
            ),
            vec![(
                "s3:PutObject".into(),
                "arn:aws:s3:::media/uploads/avatars/u/1.jpg".into()
            )]
        );
        assert_eq!(
            of(
                "s3",
                "GET",
                "https://media.s3.us-east-1.amazonaws.com/avatars/1.jpg",
                "",
                ""
            ),
            vec![(
                "s3:GetObject".into(),
                "arn:aws:s3:::media/avatars/1.jpg".into()
            )]
        );
        assert_eq!(
            of(
                "sqs",
                "POST",
                "http://localhost/",
                "AmazonSQS.SendMessageBatch",
                r#"{"QueueUrl":"http://localhost:4566/000000000000/notifications"}"#
            ),
            vec![(
                "sqs:SendMessage".into(),
                "arn:aws:sqs:us-east-1:000000000000:notifications".into()
            )]
        );
        assert_eq!(
            of(
                "execute-api",
                "POST",
                "https://abc123.execute-api.us-east-1.amazonaws.com/ws/@connections/Xy=",
                "",
                ""
            ),
            vec![(
                "execute-api:ManageConnections".into(),
                "arn:aws:execute-api:us-east-1:000000000000:abc123/ws/POST/@connections/Xy=".into()
            )]
        );
    }

    #[test]
    fn a_presigned_upload_is_a_put_object_by_this_function() {
        let uri = "http://127.0.0.1:4566/media/uploads/messages/c/1?x-id=PutObject&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=ab";
        let credential = query_credential(uri);
        assert_eq!(service_of(&credential), "s3");
        assert_eq!(
            of("s3", "PUT", uri, "", ""),
            vec![(
                "s3:PutObject".into(),
                "arn:aws:s3:::media/uploads/messages/c/1".into()
            )]
        );
    }

    #[test]
    fn the_service_comes_from_the_signature() {
        assert_eq!(
            service_of(
                "AWS4-HMAC-SHA256 Credential=test/20261203/us-east-1/dynamodb/aws4_request, SignedHeaders=host"
            ),
            "dynamodb"
        );
    }
}
