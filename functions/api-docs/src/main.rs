//! `GET /docs`: the API reference as a page. Redoc (MIT, `assets/REDOC-LICENSE`) is vendored
//! from the npm package `redoc@2.5.4` and inlined, so the page works without the internet.

use std::sync::OnceLock;

use lambda_http::{Body, Request, Response};

const REDOC: &str = include_str!("../assets/redoc.standalone.js");

fn page(_req: &Request) -> Response<Body> {
    static PAGE: OnceLock<String> = OnceLock::new();
    let html = PAGE.get_or_init(|| shared::api::openapi::docs_page(REDOC));
    shared::api::openapi::static_response("text/html; charset=utf-8", html.clone())
}

#[tokio::main]
async fn main() -> Result<(), shared::entry::BoxError> {
    shared::entry::static_http(page).await
}
