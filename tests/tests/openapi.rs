//! The OpenAPI document (`backend::openapi`, served at `/api/openapi.json`) describes every route
//! the router declares, and nothing else. Schemathesis checks the answers against it in
//! `cargo xtask test`; this checks it is complete.

use anyhow::ensure;
use e2e::{Server, ServerOptions};
use std::collections::BTreeSet;

/// `(METHOD, path under /api)` of every operation in the document, a catch-all `{*key}` of the
/// router being `{key}` there.
fn documented() -> anyhow::Result<BTreeSet<(String, String)>> {
    let doc = serde_json::to_value(backend::openapi::document())?;
    let paths = doc["paths"]
        .as_object()
        .ok_or_else(|| anyhow::anyhow!("the document has no paths"))?;
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let path = path
            .strip_prefix("/api")
            .ok_or_else(|| anyhow::anyhow!("{path} is not under /api"))?;
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.to_string()));
            }
        }
    }
    Ok(out)
}

#[test]
fn every_route_is_documented() -> anyhow::Result<()> {
    let declared: BTreeSet<(String, String)> = e2e::routes::declared()?
        .into_iter()
        .map(|(m, p)| (m, p.replace("{*", "{")))
        .collect();
    ensure!(
        declared.len() >= 15,
        "found too few routes ({declared:?}): is the parser still right?"
    );
    let documented = documented()?;
    let missing: Vec<_> = declared.difference(&documented).collect();
    ensure!(
        missing.is_empty(),
        "routes missing from the OpenAPI document (see the doc comment of backend/src/openapi.rs \
         for how to add them): {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&declared).collect();
    ensure!(
        stale.is_empty(),
        "documented operations the router doesn't have: {stale:?}"
    );
    Ok(())
}

/// Every operation says what it answers on success, and the schemas it refers to exist.
#[test]
fn operations_are_described() -> anyhow::Result<()> {
    let doc = serde_json::to_value(backend::openapi::document())?;
    let text = doc.to_string();
    let schemas = &doc["components"]["schemas"];
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        ensure!(
            schemas.get(name).is_some(),
            "#/components/schemas/{name} is referred to but not defined"
        );
    }
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let responses = op["responses"].as_object();
            let success = responses
                .into_iter()
                .flatten()
                .any(|(status, _)| status.starts_with('1') || status.starts_with('2'));
            ensure!(success, "{method} {path} documents no success answer");
            ensure!(
                op.get("tags").is_some(),
                "{method} {path} has no tag (group it with its peers)"
            );
        }
    }
    Ok(())
}

/// The live server serves the same document.
#[tokio::test]
async fn served_at_api_openapi_json() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions::default()).await?;
    let served: serde_json::Value = server.client().get_json("/api/openapi.json").await?;
    ensure!(
        served["openapi"] == "3.1.0",
        "not OpenAPI 3.1: {}",
        served["openapi"]
    );
    ensure!(
        served == serde_json::to_value(backend::openapi::document())?,
        "the served document differs from backend::openapi::document()"
    );
    Ok(())
}
