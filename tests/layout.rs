//! The functions in `functions/`, the resources of the templates (`template.yaml` and the
//! nested stacks it names in `stacks/`) and the OpenAPI document must describe the same
//! functions and exactly the same routes (the local edge reads its routes from the templates
//! themselves).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_norway::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_norway::from_str(&text).unwrap()
}

/// The resources of every nested stack of `template.yaml`, together (logical ids are unique
/// across stacks).
fn template() -> Value {
    let root_template = load(&root().join("template.yaml"));
    let mut resources = serde_norway::Mapping::new();
    for (lid, res) in root_template["Resources"].as_mapping().unwrap() {
        assert_eq!(
            res["Type"].as_str(),
            Some("AWS::Serverless::Application"),
            "the root template holds nested stacks only: {lid:?}"
        );
        let location = res["Properties"]["Location"].as_str().unwrap();
        let stack = load(&root().join(location));
        for (rid, r) in stack["Resources"].as_mapping().unwrap() {
            assert!(
                resources.insert(rid.clone(), r.clone()).is_none(),
                "{rid:?} is in two stacks"
            );
        }
    }
    let mut out = serde_norway::Mapping::new();
    out.insert("Resources".into(), Value::Mapping(resources));
    Value::Mapping(out)
}

/// `!Ref X` → "X", `!GetAtt X.Arn` → "X.Arn", `!Sub "…"` → "…".
fn text(v: &Value) -> String {
    match untag(v) {
        Value::String(s) => s.clone(),
        other => panic!("expected a string or a tagged string, got {other:?}"),
    }
}

/// Routes of one API (`HttpApi` or `WebSocketApi`): route key → the logical id of the
/// function its integration invokes.
fn api_routes(tpl: &Value, api: &str) -> Vec<(String, String)> {
    let resources = tpl["Resources"].as_mapping().unwrap();
    let mut out = Vec::new();
    for res in resources.values() {
        if res["Type"].as_str() != Some("AWS::ApiGatewayV2::Route")
            || text(&res["Properties"]["ApiId"]) != api
        {
            continue;
        }
        let target = text(&res["Properties"]["Target"]);
        let integration = target
            .strip_prefix("integrations/${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or_else(|| panic!("route target {target}"));
        let uri = text(&tpl["Resources"][integration]["Properties"]["IntegrationUri"]);
        let function = uri
            .split("${")
            .filter_map(|p| p.split_once(".Arn}"))
            .map(|(lid, _)| lid.to_owned())
            .next()
            .or_else(|| uri.strip_suffix(".Arn").map(str::to_owned))
            .unwrap_or_else(|| panic!("integration URI {uri}"));
        out.push((text(&res["Properties"]["RouteKey"]), function));
    }
    out
}

fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => &t.value,
        other => other,
    }
}

struct TemplateFunction {
    binary: String,
    routes: Vec<(String, String)>,
    has_other_events: bool,
}

fn template_functions() -> Vec<TemplateFunction> {
    let tpl = template();
    let http_routes = api_routes(&tpl, "HttpApi");
    let mut out = Vec::new();
    for (lid, res) in tpl["Resources"].as_mapping().unwrap() {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = res["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{lid:?} has no Metadata.BuildProperties.Binary"))
            .to_owned();
        assert_eq!(
            res["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{binary}"
        );
        // Names line up: auth-register → AuthRegisterFunction.
        let expected_lid: String = binary
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<String>()
            + "Function";
        assert_eq!(
            lid.as_str(),
            Some(expected_lid.as_str()),
            "logical id of {binary}"
        );
        let routes = http_routes
            .iter()
            .filter(|(_, function)| function == lid.as_str().unwrap())
            .map(|(key, _)| match key.split_once(' ') {
                Some((m, path)) => (m.to_owned(), path.to_owned()),
                // The API's `$default` route: no method, no path.
                None => ("*".to_owned(), key.clone()),
            })
            .collect();
        let has_other_events = res["Properties"]["Events"]
            .as_mapping()
            .is_some_and(|events| !events.is_empty());
        out.push(TemplateFunction {
            binary,
            routes,
            has_other_events,
        });
    }
    out
}

const DEFAULT_ROUTE: &str = "$default";

fn function_dirs() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[test]
fn every_function_crate_is_in_the_template_and_nothing_else_is() {
    let in_template: BTreeSet<String> =
        template_functions().into_iter().map(|f| f.binary).collect();
    assert_eq!(in_template, function_dirs());
}

#[test]
fn function_folder_package_and_binary_share_one_name() {
    for dir in function_dirs() {
        let manifest: toml::Table =
            std::fs::read_to_string(root().join("functions").join(&dir).join("Cargo.toml"))
                .unwrap()
                .parse()
                .unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some(dir.as_str()));
        assert!(
            manifest.get("bin").is_none(),
            "{dir}: one binary, named after the package"
        );
        assert!(
            root()
                .join("functions")
                .join(&dir)
                .join("src/main.rs")
                .exists()
        );
    }
}

/// Every HTTP route of the templates: (method, path, function), `$default` included.
fn all_template_routes() -> BTreeSet<(String, String, String)> {
    template_functions()
        .into_iter()
        .flat_map(|f| {
            let b = f.binary.clone();
            f.routes.into_iter().map(move |(m, p)| (m, p, b.clone()))
        })
        .collect()
}

/// The template's routes with a path and a method (the API's operations).
fn template_routes() -> BTreeSet<(String, String, String)> {
    all_template_routes()
        .into_iter()
        .filter(|(_, path, _)| path != DEFAULT_ROUTE)
        .collect()
}

/// A request that no route takes is answered by our own function in the envelope, in AWS
/// and locally alike (the local edge reads the same route).
#[test]
fn unknown_routes_go_to_the_not_found_function() {
    let defaults: Vec<_> = all_template_routes()
        .into_iter()
        .filter(|(_, path, _)| path == DEFAULT_ROUTE)
        .collect();
    assert_eq!(
        defaults,
        vec![(
            "*".to_owned(),
            DEFAULT_ROUTE.to_owned(),
            "not-found".to_owned()
        )]
    );
    assert!(!template_routes().is_empty());
}

/// Functions behind a route of the WebSocket API (an `AWS::ApiGatewayV2::Integration` whose
/// URI names the function), by binary name.
fn websocket_functions() -> BTreeSet<String> {
    let tpl = template();
    api_routes(&tpl, "WebSocketApi")
        .into_iter()
        .map(|(_, lid)| {
            let binary = &tpl["Resources"][lid.as_str()]["Metadata"]["BuildProperties"]["Binary"];
            binary.as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn every_function_has_a_route_or_an_event_source() {
    let websocket = websocket_functions();
    assert_eq!(
        websocket,
        ["ws-connect", "ws-default", "ws-disconnect"]
            .map(String::from)
            .into()
    );
    for f in template_functions() {
        assert!(
            !f.routes.is_empty() || f.has_other_events || websocket.contains(&f.binary),
            "{} is never invoked",
            f.binary
        );
    }
}

#[test]
fn every_function_has_sample_events() {
    for dir in function_dirs() {
        let events = root().join("events").join(&dir);
        let n = std::fs::read_dir(&events)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "json")
                })
                .count()
            })
            .unwrap_or(0);
        assert!(n > 0, "events/{dir}/ has no sample event");
    }
}

/// Every HTTP route of the template is an operation of the OpenAPI document, with the
/// function's name as its `operationId`, and the document has no route the template lacks.
#[test]
fn the_openapi_document_has_exactly_the_template_routes() {
    let doc: serde_json::Value =
        serde_json::from_str(&shared::api::openapi::document_json()).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut in_doc = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            in_doc.insert((
                method.to_uppercase(),
                path.clone(),
                op["operationId"].as_str().expect("operationId").to_owned(),
            ));
        }
    }
    let from_template = template_routes();
    let missing: Vec<_> = from_template.difference(&in_doc).collect();
    let extra: Vec<_> = in_doc.difference(&from_template).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "documented routes with no function: {extra:?}"
    );
}

/// What API Gateway does before any function runs: throttling from the operator's parameters,
/// CORS that lets browser clients read `Retry-After` and `Idempotency-Key`, and a custom domain
/// only when the operator names one.
#[test]
fn the_http_api_edge_is_throttled_exposes_retry_headers_and_takes_an_optional_domain() {
    let root_template = load(&root().join("template.yaml"));
    let shared = load(&root().join("stacks/shared.yaml"));
    let res = &shared["Resources"];
    let params = root_template["Parameters"].as_mapping().unwrap();
    for name in [
        "ApiRateLimit",
        "ApiBurstLimit",
        "ApiDomainName",
        "ApiCertificateArn",
    ] {
        assert!(params.contains_key(name), "root parameter {name}");
    }
    assert_eq!(params["ApiDomainName"]["Default"].as_str(), Some(""));

    let settings = &res["HttpApiStage"]["Properties"]["DefaultRouteSettings"];
    assert_eq!(text(&settings["ThrottlingRateLimit"]), "ApiRateLimit");
    assert_eq!(text(&settings["ThrottlingBurstLimit"]), "ApiBurstLimit");

    let cors = &res["HttpApi"]["Properties"]["CorsConfiguration"];
    let exposed: BTreeSet<String> = cors["ExposeHeaders"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(exposed.contains("retry-after") && exposed.contains("idempotency-key"));
    let allowed: BTreeSet<String> = cors["AllowHeaders"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_ascii_lowercase())
        .collect();
    assert!(allowed.contains("idempotency-key") && allowed.contains("authorization"));

    for lid in ["ApiDomain", "ApiDomainMapping"] {
        assert_eq!(
            res[lid]["Condition"].as_str(),
            Some("HasApiDomain"),
            "{lid} exists only with a domain"
        );
    }
    let condition = format!("{:?}", shared["Conditions"]["HasApiDomain"]);
    assert!(condition.contains("ApiDomainName"), "{condition}");
}

// ------------------------------------------------------------------ the layers of `shared`

/// What each layer of `shared` may not name. `domain` is the marketplace's types and rules and
/// knows nothing else; `app` (the use cases) works through `store` and the adapters and never
/// sees HTTP, a worker or the AWS SDK; `store` persists the domain and knows no use case or
/// handler. `api` and `workers` sit on top and may use everything below. Neither `domain` nor
/// `app` handles untyped JSON: a body arrives as a typed request of `field::Field`s, and what
/// they hand on is typed too.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "domain",
        &[
            "crate::app",
            "crate::store",
            "crate::api",
            "crate::workers",
            "crate::auth",
            "crate::http",
            "crate::entry",
            "crate::deps",
            "aws_sdk_",
            "aws_config",
            "lambda_http",
            "lambda_runtime",
            "aws_lambda_events",
            "serde_json::Value",
            "serde_json::Map",
            "serde_json::{",
        ],
    ),
    (
        "app",
        &[
            "crate::api",
            "crate::workers",
            "crate::http",
            "crate::entry",
            "aws_sdk_",
            "lambda_http",
            "lambda_runtime",
            "aws_lambda_events",
            "serde_json::Value",
            "serde_json::Map",
            "serde_json::{",
        ],
    ),
    (
        "store",
        &[
            "crate::app",
            "crate::api",
            "crate::workers",
            "crate::http",
            "crate::entry",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names `source` (one file of `layer`) may not use, with their lines. Comments and the
/// file's own test module are not the layer's code.
fn violations(layer: &str, source: &str) -> Vec<String> {
    let forbidden = FORBIDDEN
        .iter()
        .find(|(l, _)| *l == layer)
        .map(|(_, f)| *f)
        .unwrap_or_default();
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let line = line.split("//").next().unwrap_or_default();
        for name in forbidden {
            let at_word = line.match_indices(name).any(|(i, _)| {
                i == 0
                    || !line[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if at_word {
                found.push(format!("line {}: {name} in `{}`", n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn each_layer_of_shared_names_only_the_layers_below_it() {
    let src = root().join("shared/src");
    let mut problems = Vec::new();
    for (layer, _) in FORBIDDEN {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        let single = src.join(format!("{layer}.rs"));
        if single.exists() {
            files.push(single);
        }
        assert!(!files.is_empty(), "no files in shared/src/{layer}");
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for v in violations(layer, &source) {
                problems.push(format!(
                    "{} ({layer}): {v}",
                    file.strip_prefix(root()).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "layering broken:\n{}",
        problems.join("\n")
    );
}

/// The check itself: a use case that reaches up into a handler, a domain type that names the
/// SDK, a store that calls a use case — each is found; comments and tests are not code.
#[test]
fn the_layering_check_finds_an_upward_import() {
    assert_eq!(
        violations("app", "use crate::api::orders::OrderView;\n"),
        ["line 1: crate::api in `use crate::api::orders::OrderView;`"]
    );
    assert_eq!(
        violations(
            "domain",
            "fn f(v: aws_sdk_dynamodb::types::AttributeValue) {}\n"
        )
        .len(),
        1
    );
    assert_eq!(
        violations("store", "    crate::app::orders::pay(x);\n").len(),
        1
    );
    assert!(
        violations(
            "app",
            "// see crate::api::orders\nuse crate::store::Store;\n"
        )
        .is_empty()
    );
    assert!(
        violations(
            "app",
            "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::api::x;\n}\n"
        )
        .is_empty()
    );
    assert!(violations("domain", "use crate::i18n::Text;\n").is_empty());
    assert_eq!(
        violations(
            "app",
            "pub fn update(patch: serde_json::Map<String, serde_json::Value>) {}\n"
        )
        .len(),
        2
    );
    assert_eq!(
        violations("domain", "use serde_json::{Map, Value};\n").len(),
        1
    );
    assert!(violations("domain", "let v = serde_json::json!({});\n").is_empty());
}

/// Handler files of `shared/src/api` (one per area, each with handlers and `routes()`).
const HANDLER_FILES: &[&str] = &[
    "account",
    "admin",
    "auth",
    "briefs",
    "files",
    "health",
    "messaging",
    "orders",
    "payments",
    "privacy",
    "realtime",
    "reports",
    "reviews",
    "search",
    "services",
    "users",
];

/// The other handler files `source` (the handler file `own`) imports from, with their lines.
fn sibling_imports(own: &str, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or_default();
        for other in HANDLER_FILES.iter().filter(|h| **h != own) {
            if code.contains(&format!("super::{other}::"))
                || code.contains(&format!("crate::api::{other}::"))
            {
                found.push(format!("line {}: {other} in `{}`", n + 1, code.trim()));
            }
        }
    }
    found
}

/// What two handler files share lives in a module of its own (`api/common.rs`, `views.rs`,
/// `service_views.rs`, `review_views.rs`, `session.rs`, `uploads.rs`), never in one of them:
/// a handler file can change without reaching into another.
#[test]
fn no_handler_file_imports_another() {
    let mut problems = Vec::new();
    for own in HANDLER_FILES {
        let path = root().join(format!("shared/src/api/{own}.rs"));
        let source = std::fs::read_to_string(&path).unwrap();
        for v in sibling_imports(own, &source) {
            problems.push(format!("shared/src/api/{own}.rs: {v}"));
        }
    }
    assert!(
        problems.is_empty(),
        "handler files import each other:\n{}",
        problems.join("\n")
    );
    assert_eq!(
        sibling_imports(
            "orders",
            "use super::payments::pay_with;\nuse super::common::x;\n"
        ),
        ["line 1: payments in `use super::payments::pay_with;`"]
    );
}

/// The files of `shared/src` by module path (`store/orders`, `api`, …; the crate root is "").
fn modules() -> std::collections::BTreeMap<String, PathBuf> {
    let src = root().join("shared/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap().with_extension("");
            let mut m = rel.to_string_lossy().replace('\\', "/");
            if m == "lib" {
                m.clear();
            } else if let Some(parent) = m.strip_suffix("/mod") {
                m = parent.to_owned();
            }
            (m, f)
        })
        .collect()
}

/// The module a path (`crate::a::b::C`, `super::x`) names, as the longest module prefix.
fn module_of(
    own: &str,
    path: &str,
    known: &std::collections::BTreeMap<String, PathBuf>,
) -> Option<String> {
    let mut parts: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = match parts.first()? {
        &"crate" => vec![],
        &"super" | &"self" => own.split('/').filter(|p| !p.is_empty()).collect(),
        _ => return None,
    };
    while let Some(&first) = parts.first() {
        match first {
            "crate" | "self" => {}
            "super" => {
                base.pop();
            }
            _ => break,
        }
        parts.remove(0);
    }
    (0..=parts.len()).rev().find_map(|n| {
        let m = base
            .iter()
            .chain(&parts[..n])
            .copied()
            .collect::<Vec<_>>()
            .join("/");
        known.contains_key(&m).then_some(m)
    })
}

/// Which other files of `shared/src` each file names (its parents and the crate root aside:
/// a module may use what its parent declares). Test modules are not the file's code.
fn file_imports() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    let mut out = std::collections::BTreeMap::new();
    for (own, file) in &known {
        let source = std::fs::read_to_string(file).unwrap();
        let code: String = source
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default()
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let mut paths = Vec::new();
        // `use crate::a::{b, c::D}` names `a::b` and `a::c::D`.
        let mut rest = code.as_str();
        while let Some(at) = rest.find("::{") {
            let head_start = rest[..at]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(0, |i| i + 1);
            let head = &rest[head_start..at];
            let close = rest[at..].find('}').map_or(rest.len(), |i| at + i);
            for item in rest[at + 3..close].split(',') {
                let item = item.split(" as ").next().unwrap_or_default().trim();
                if !item.is_empty() && item != "self" {
                    paths.push(format!("{head}::{item}"));
                }
            }
            rest = &rest[close.min(rest.len())..];
        }
        for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
            if word.starts_with("crate::")
                || word.starts_with("super::")
                || word.starts_with("self::")
            {
                paths.push(word.to_owned());
            }
        }
        let deps: BTreeSet<String> = paths
            .iter()
            .filter_map(|p| module_of(own, p.trim_end_matches(':'), &known))
            .filter(|t| !t.is_empty() && t != own && !own.starts_with(&format!("{t}/")))
            .collect();
        out.insert(own.clone(), deps);
    }
    out
}

/// The groups of files that import each other round a circle.
fn circles(imports: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Files from which `start` is reachable and that `start` reaches are in its circle.
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(m) = todo.pop() {
            for d in imports.get(&m).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    let mut found: Vec<Vec<String>> = Vec::new();
    for m in imports.keys() {
        if found.iter().any(|c| c.contains(m)) {
            continue;
        }
        let forward = reach(m);
        if !forward.contains(m) {
            continue;
        }
        let circle: Vec<String> = forward
            .into_iter()
            .filter(|other| reach(other).contains(m))
            .collect();
        found.push(circle);
    }
    found
}

/// No file of `shared` imports, through others, a file that imports it: each can be read and
/// changed from the bottom up.
#[test]
fn no_files_import_each_other_round_a_circle() {
    let imports = file_imports();
    assert!(
        imports["workers/stream_router"].contains("store/change"),
        "the import reader sees `use` paths"
    );
    assert!(imports["store/change"].contains("store/orders"));
    let found = circles(&imports);
    assert!(found.is_empty(), "files in a circle: {found:?}");
}

/// The circle check itself finds a circle of three and none in a line.
#[test]
fn the_circle_check_finds_a_circle() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        for (a, b) in edges {
            g.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
            g.entry((*b).to_owned()).or_default();
        }
        g
    };
    assert_eq!(
        circles(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])),
        [vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]
    );
    assert!(circles(&graph(&[("a", "b"), ("b", "c")])).is_empty());
}

/// The variables each function's template gives it (its stack's `Globals` and its own).
fn template_env() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let root_template = load(&root().join("template.yaml"));
    let mut out = std::collections::BTreeMap::new();
    for (_, res) in root_template["Resources"].as_mapping().unwrap() {
        let stack = load(&root().join(res["Properties"]["Location"].as_str().unwrap()));
        let keys = |v: &Value| -> BTreeSet<String> {
            v.as_mapping()
                .map(|m| {
                    m.keys()
                        .filter_map(|k| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let globals = keys(&stack["Globals"]["Function"]["Environment"]["Variables"]);
        for (_, r) in stack["Resources"].as_mapping().unwrap() {
            if r["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let binary = r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap()
                .to_owned();
            let mut env = globals.clone();
            env.extend(keys(&r["Properties"]["Environment"]["Variables"]));
            out.insert(binary, env);
        }
    }
    out
}

/// What a function's `main.rs` says it needs (`http_needing` / `event_needing`), its template
/// gives it: the cold-start check can never fail a deployed function for a variable the
/// template forgot.
#[test]
fn every_variable_a_function_needs_is_in_its_template() {
    let env = template_env();
    let mut declared = 0;
    for name in function_dirs() {
        let main =
            std::fs::read_to_string(root().join(format!("functions/{name}/src/main.rs"))).unwrap();
        let Some(start) = main.find("_needing(") else {
            continue;
        };
        let list = &main[start..];
        let list = &list[list.find("&[").unwrap() + 2..];
        let list = &list[..list.find(']').unwrap()];
        for var in list
            .split(',')
            .map(|v| v.trim().trim_matches('"'))
            .filter(|v| !v.is_empty())
        {
            declared += 1;
            assert!(
                env.get(&name).is_some_and(|e| e.contains(var)),
                "{name} needs {var}, which its template does not give it"
            );
        }
    }
    assert!(declared >= 10, "only {declared} declared needs found");
}
