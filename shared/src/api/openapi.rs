//! The OpenAPI 3.1 document of the HTTP API (`GET /openapi.json` [openapi]), built from the
//! Rust types the handlers answer with (`utoipa::ToSchema`) and one table of routes below.
//! Every HTTP API route of the templates (`stacks/*.yaml`) is in the table (a test checks); a snapshot test pins the
//! document, so a change to a response type shows up in review as a change of the contract.

use serde_json::json;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, ServerBuilder,
};

use crate::http::route::{Access, Components, In, Out, Route};

/// Where the API is mounted; the paths below are relative to it.
const BASE: &str = "/api/v1";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn date_time() -> ObjectBuilder {
    string().format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
        utoipa::openapi::KnownFormat::DateTime,
    )))
}

/// Every route of the HTTP API, in the order of `api.md`.
pub fn routes() -> Vec<Route> {
    [
        super::auth::routes(),
        super::account::routes(),
        super::users::routes(),
        super::privacy::routes(),
        super::services::routes(),
        super::reviews::routes(),
        super::search::routes(),
        super::orders::routes(),
        super::briefs::routes(),
        super::files::routes(),
        super::messaging::routes(),
        super::payments::routes(),
        super::reports::routes(),
        super::admin::routes(),
        super::health::routes(),
        own_routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// This document's own routes: the document, and a page that renders it.
fn own_routes() -> Vec<Route> {
    use crate::http::route::route;
    use Access::*;
    vec![
        route(
            "GET",
            "/openapi.json",
            "openapi",
            Public,
            "platform",
            "本文档 / This document",
        )
        .out(Out::Raw),
        route(
            "GET",
            "/docs",
            "api-docs",
            Public,
            "platform",
            "可阅读的接口文档（离线可用）/ Readable API docs (work offline)",
        )
        .out(Out::Html),
    ]
}

// ---- Assembling the document.

fn envelope(data: RefOr<Schema>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([true])),
        )
        .required("success")
        .property("message", string().examples([json!("成功")]))
        .required("message")
        .property("data", data)
        .required("data")
        .property("timestamp", date_time())
        .required("timestamp")
        .into()
}

fn error_envelope() -> RefOr<Schema> {
    ObjectBuilder::new()
        .description(Some("错误响应 / An error"))
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([false])),
        )
        .required("success")
        .property(
            "message",
            string().description(Some(
                "按 Accept-Language 选择中文或英文 / in the language of Accept-Language",
            )),
        )
        .required("message")
        .property(
            "code",
            string().description(Some(
                "稳定的错误码 / a stable code, e.g. order.invalid_transition",
            )),
        )
        .required("code")
        .property(
            "errors",
            ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::Object,
                    Type::Null,
                ]))
                .additional_properties(Some(AdditionalProperties::RefOr(
                    ArrayBuilder::new().items(string()).into(),
                )))
                .description(Some("字段 → 错误说明 / field → messages")),
        )
        .required("errors")
        .property("request_id", string())
        .required("request_id")
        .property("timestamp", date_time())
        .required("timestamp")
        .into()
}

/// A Chinese example of each error status (the `message` follows `Accept-Language`).
fn error_example(status: u16) -> (&'static str, &'static str, &'static str) {
    match status {
        400 => (
            "request.invalid_json",
            "请求体不是有效的 JSON",
            "Malformed request",
        ),
        401 => (
            "auth.missing_token",
            "请先登录",
            "No, invalid or expired token",
        ),
        403 => (
            "auth.forbidden",
            "没有权限执行此操作",
            "Signed in but not allowed",
        ),
        404 => ("order.not_found", "订单不存在", "Not found, or not yours"),
        409 => (
            "order.invalid_transition",
            "订单当前状态为「已交付」，不能执行此操作",
            "Conflicts with the current state",
        ),
        413 => ("request.too_large", "请求体过大", "Body too large"),
        415 => (
            "request.unsupported_media_type",
            "请求体须为 JSON（Content-Type: application/json）",
            "Not JSON",
        ),
        422 => (
            "validation.failed",
            "提交的信息有误",
            "Valid JSON that breaks a rule",
        ),
        429 => (
            "rate_limited",
            "操作过于频繁，请稍后再试",
            "Rate limited; see Retry-After",
        ),
        503 => (
            "service.unavailable",
            "服务暂时不可用，请稍后再试",
            "A dependency is unavailable; try again",
        ),
        _ => ("internal", "服务器内部错误", "Server error"),
    }
}

fn error_response(status: u16) -> utoipa::openapi::Response {
    let (code, zh, en) = error_example(status);
    let mut errors = serde_json::Value::Null;
    if status == 422 {
        errors = json!({"title": ["标题须为 10 到 100 个字符"]});
    }
    let mut b = ResponseBuilder::new().description(en).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Error")))
            .example(Some(json!({
                "success": false,
                "message": zh,
                "code": code,
                "errors": errors,
                "request_id": "3f6c2a1e-0000-4000-8000-000000000000",
                "timestamp": "2026-11-24T08:00:00Z"
            })))
            .build(),
    );
    if status == 429 {
        b = b.header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("秒 / seconds"))
                .build(),
        );
    }
    b.build()
}

fn path_params(path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(
                    string().examples([json!("01JD6Q3M8Y6V0Z4W2K9R5T7B1C")]),
                ))
                .build()
        })
        .collect()
}

fn method_of(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PATCH" => HttpMethod::Patch,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// The statuses a route can answer with besides success: its own plus those of its kind.
fn error_statuses(r: &Route) -> Vec<u16> {
    let mut s = vec![400, 429];
    if matches!(
        r.access,
        Access::User | Access::Admin | Access::OptionalUser
    ) {
        s.extend([401, 403]);
    }
    if r.path.contains('{') {
        s.push(404);
    }
    if matches!(r.input, In::Json(_)) {
        s.extend([413, 415, 422]);
    }
    if !r.query.is_empty() {
        s.push(422);
    }
    s.extend_from_slice(r.errors);
    s.sort_unstable();
    s.dedup();
    s
}

fn operation(r: &Route, c: &mut Components) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .operation_id(Some(r.function))
        .tag(r.tag)
        .summary(Some(r.summary))
        .description(Some(match r.notes {
            Some(notes) => format!("{notes}\n\nLambda: `{}`", r.function),
            None => format!("Lambda: `{}`", r.function),
        }));
    let mut params = path_params(r.path);
    params.extend(r.query.iter().map(|(name, ty, desc)| {
        ParameterBuilder::new()
            .name(*name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .description(Some(*desc))
            .schema(Some(ObjectBuilder::new().schema_type(ty.clone())))
            .build()
    }));
    if matches!(
        r.function,
        "order-create" | "order-pay" | "topup-create" | "withdrawal-create"
    ) {
        params.push(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "同一个键和请求体重放第一次的响应 / the same key and body replay the first answer",
                ))
                .schema(Some(string().max_length(Some(128)).pattern(Some("^[A-Za-z0-9_.:-]+$"))))
                .build(),
        );
    }
    op = op.parameters(Some(params));
    match r.input {
        In::Nothing => {}
        In::Json(f) => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(f(c))).build(),
                    )
                    .build(),
            ));
        }
        In::Form => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/x-www-form-urlencoded",
                        ContentBuilder::new()
                            .schema(Some(ObjectBuilder::new().additional_properties(Some(
                                AdditionalProperties::RefOr(string().into()),
                            ))))
                            .build(),
                    )
                    .build(),
            ));
        }
    }
    let success = match r.output {
        Out::Data(status, f) => (
            status,
            ResponseBuilder::new()
                .description(if status == 201 {
                    "已创建 / Created"
                } else {
                    "成功 / OK"
                })
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(envelope(f(c)))).build(),
                )
                .build(),
        ),
        Out::Accepted => (
            202,
            ResponseBuilder::new()
                .description("已受理 / Accepted")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(envelope(
                            ObjectBuilder::new().schema_type(Type::Null).into(),
                        )))
                        .build(),
                )
                .build(),
        ),
        Out::NoContent => (
            204,
            ResponseBuilder::new()
                .description("无内容 / No content")
                .build(),
        ),
        Out::Text(body) => (
            200,
            ResponseBuilder::new()
                .description("纯文本 / Plain text")
                .content(
                    "text/plain",
                    ContentBuilder::new()
                        .schema(Some(string()))
                        .example(Some(json!(body)))
                        .build(),
                )
                .build(),
        ),
        Out::Html => (
            200,
            ResponseBuilder::new()
                .description("HTML")
                .content(
                    "text/html",
                    ContentBuilder::new().schema(Some(string())).build(),
                )
                .build(),
        ),
        Out::Raw => (
            200,
            ResponseBuilder::new()
                .description("OpenAPI 3.1")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new()))
                        .build(),
                )
                .build(),
        ),
    };
    op = op.response(success.0.to_string(), success.1);
    for status in error_statuses(r) {
        op = op.response(
            status.to_string(),
            Ref::new(format!("#/components/responses/E{status}")),
        );
    }
    match r.access {
        Access::Public | Access::Gateway => {}
        Access::OptionalUser => {
            op = op.securities(Some([
                SecurityRequirement::default(),
                SecurityRequirement::new("bearer", Vec::<String>::new()),
            ]));
        }
        Access::User | Access::Admin => {
            op = op.securities(Some([SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]));
        }
    }
    op.build()
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut c = Components::default();
    let mut paths = PathsBuilder::new();
    let mut by_path: Vec<(&str, Vec<&Route>)> = Vec::new();
    let all = routes();
    for r in &all {
        match by_path.iter_mut().find(|(p, _)| *p == r.path) {
            Some((_, rs)) => rs.push(r),
            None => by_path.push((r.path, vec![r])),
        }
    }
    // Paths in path order, whichever module states them.
    by_path.sort_by(|a, b| a.0.cmp(b.0));
    for (path, rs) in by_path {
        let mut item: Option<PathItem> = None;
        for r in rs {
            let op = operation(r, &mut c);
            let one = PathItem::new(method_of(r.method), op);
            item = Some(match item {
                None => one,
                Some(mut i) => {
                    i.merge_operations(one);
                    i
                }
            });
        }
        if let Some(i) = item {
            paths = paths.path(format!("{BASE}{path}"), i);
        }
    }
    let mut components = ComponentsBuilder::new()
        .schema("Error", error_envelope())
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("15 分钟有效的访问令牌 / a 15-minute access token"))
                    .build(),
            ),
        );
    for status in [400, 401, 403, 404, 409, 413, 415, 422, 429, 503] {
        components = components.response(format!("E{status}"), error_response(status));
    }
    for (name, schema) in c.schemas {
        components = components.schema(name, schema);
    }
    let tags = [
        (
            "auth",
            "注册、登录与账号安全 / Sign-up, sign-in and account security",
        ),
        (
            "users",
            "资料、实名认证与个人信息 / Profiles, 实名认证 and personal data",
        ),
        ("services", "服务（三档套餐）/ Services in three packages"),
        ("orders", "担保交易订单 / Escrow orders"),
        ("reviews", "评价 / Reviews"),
        ("messaging", "消息与通知 / Messages and notifications"),
        (
            "payments",
            "钱包、充值、提现与支付回调 / Wallet, top-ups, withdrawals, gateway callbacks",
        ),
        ("reports", "举报 / Reports"),
        ("admin", "运营后台 / Operators"),
        ("platform", "平台 / Platform"),
    ];
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Gigbao API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Gigbao（技包）自由职业服务平台接口。成功：`{success, message, data, timestamp}`；\
                     失败：`{success: false, message, code, errors, request_id, timestamp}`。\
                     `Accept-Language: zh-CN`（默认）或 `en` 选择提示语言；金额为两位小数的字符串（元）。\n\n\
                     The Gigbao marketplace API. Money is a decimal string in CNY; times are RFC 3339 UTC; \
                     lists take `limit` and `cursor` and answer `{items, next_cursor}`.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .tags(Some(tags.map(|(name, desc)| TagBuilder::new().name(name).description(Some(desc)).build())))
        .paths(paths.build())
        .components(Some(components.build()))
        .build()
}

/// The document as served: compact JSON, Chinese as-is.
pub fn document_json() -> String {
    serde_json::to_string(&document()).unwrap_or_else(|_| "{}".to_owned())
}

/// `GET /openapi.json` [openapi]: the document, built once per process.
pub fn serve(_req: &lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(document_json).clone();
    static_response("application/json; charset=utf-8", body)
}

/// `GET /docs` [api-docs]: a page that renders `openapi.json` with the Redoc bundle inlined
/// (`script`), so it needs nothing from the internet.
pub fn docs_page(script: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Gigbao API 接口文档</title>\n<style>body {{ margin: 0; }}</style>\n</head>\n<body>\n\
         <div id=\"redoc\"></div>\n<script>{script}</script>\n\
         <script>Redoc.init(\"openapi.json\", {{ expandResponses: \"200,201\", hideHostname: true }}, \
         document.getElementById(\"redoc\"));</script>\n</body>\n</html>\n"
    )
}

/// A `200` with a body that only changes with a deployment.
pub fn static_response(
    content_type: &'static str,
    body: String,
) -> lambda_http::Response<lambda_http::Body> {
    use lambda_http::http::HeaderValue;
    use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
    let mut resp = lambda_http::Response::new(lambda_http::Body::Text(body));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document as committed in `docs/openapi.json`. A change to a response type or a
    /// route changes it: run `UPDATE_OPENAPI=1 cargo test -p shared openapi` and review the diff.
    #[test]
    fn the_document_matches_its_snapshot() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
        let doc: serde_json::Value =
            serde_json::from_str(&document_json()).expect("the document is JSON");
        let pretty = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &pretty).expect("write the snapshot");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == pretty,
            "docs/openapi.json is not the generated document; run UPDATE_OPENAPI=1 cargo test -p shared openapi"
        );
    }

    #[test]
    fn every_operation_documents_its_errors_in_the_envelope() {
        let doc: serde_json::Value =
            serde_json::from_str(&document_json()).expect("the document is JSON");
        let mut ops = 0;
        for item in doc["paths"].as_object().expect("paths").values() {
            for op in item.as_object().expect("item").values() {
                ops += 1;
                let responses = op["responses"].as_object().expect("responses");
                for status in ["400", "429"] {
                    assert!(
                        responses.contains_key(status),
                        "{} lacks {status}",
                        op["operationId"]
                    );
                }
                if op.get("security").is_some() {
                    assert!(responses.contains_key("401"), "{}", op["operationId"]);
                }
            }
        }
        assert_eq!(ops, routes().len());
        // Examples in Chinese, as clients will see them.
        let text = document_json();
        assert!(text.contains("订单不存在"));
        assert!(text.contains("专业品牌 Logo 设计"));
    }

    #[test]
    fn no_two_types_share_a_schema_name() {
        let mut c = Components::default();
        for r in routes() {
            operation(&r, &mut c);
        }
        assert!(c.clashes.is_empty(), "{:?}", c.clashes);
    }

    /// The limits the document states are the ones the domain enforces (a schema attribute
    /// takes only literals, so the two are tied here).
    #[test]
    fn documented_limits_are_the_domain_limits() {
        use crate::domain::{Money, order, service};
        let doc: serde_json::Value =
            serde_json::from_str(&document_json()).expect("the document is JSON");
        let schema = |name: &str| doc["components"]["schemas"][name]["properties"].clone();
        assert_eq!(
            schema("OrderBody")["requirements"]["maxLength"],
            order::MAX_REQUIREMENTS_CHARS
        );
        let package = schema("PackageBody");
        assert_eq!(package["delivery_days"]["minimum"], 1);
        assert_eq!(
            package["delivery_days"]["maximum"],
            service::MAX_DELIVERY_DAYS
        );
        assert_eq!(package["revisions"]["maximum"], service::MAX_REVISIONS);
        let money = &doc["components"]["schemas"]["Money"];
        assert_eq!(money["pattern"], Money::PATTERN);
        assert_eq!(
            schema("CreateRequest")["description"]["maxLength"],
            crate::api::reports::MAX_DESCRIPTION_CHARS
        );
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = docs_page("/* bundle */");
        assert!(page.contains("Redoc.init(\"openapi.json\""));
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
