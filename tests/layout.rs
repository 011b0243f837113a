//! The functions in `functions/`, the resources of `template.yaml` and the OpenAPI document
//! must describe the same functions and exactly the same routes (the local edge reads its
//! routes from the template itself).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_norway::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
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
        let mut routes = Vec::new();
        let mut has_other_events = false;
        if let Some(events) = res["Properties"]["Events"].as_mapping() {
            for ev in events.values() {
                if ev["Type"].as_str() == Some("HttpApi") {
                    let p = &ev["Properties"];
                    assert!(matches!(untag(&p["ApiId"]), Value::String(s) if s == "HttpApi"));
                    // No path and no method: the API's `$default` route.
                    routes.push(match (p["Method"].as_str(), p["Path"].as_str()) {
                        (Some(m), Some(path)) => (m.to_uppercase(), path.to_owned()),
                        (None, None) => ("*".to_owned(), DEFAULT_ROUTE.to_owned()),
                        other => {
                            panic!("{binary}: a route needs both a method and a path: {other:?}")
                        }
                    });
                } else {
                    has_other_events = true;
                }
            }
        }
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

/// Every HTTP route of template.yaml: (method, path, function), `$default` included.
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
    let mut out = BTreeSet::new();
    for res in tpl["Resources"].as_mapping().unwrap().values() {
        if res["Type"].as_str() != Some("AWS::ApiGatewayV2::Integration") {
            continue;
        }
        let uri = match untag(&res["Properties"]["IntegrationUri"]) {
            Value::String(s) => s.clone(),
            other => panic!("IntegrationUri {other:?}"),
        };
        let lid = uri
            .split("${")
            .filter_map(|p| p.split_once(".Arn}"))
            .map(|(lid, _)| lid.to_owned())
            .next()
            .unwrap();
        let binary = &tpl["Resources"][lid.as_str()]["Metadata"]["BuildProperties"]["Binary"];
        out.insert(binary.as_str().unwrap().to_owned());
    }
    out
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
