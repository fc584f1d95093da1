//! Serving the built app: precompressed files (`.br`, `.gz` written by `cargo xtask build-site`),
//! and index.html for every other path that names no file (no extension), so deep links open
//! the app.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::Arc;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The static-file service, or a plain 404 service when there is no site directory.
pub fn service(site_dir: Option<&Path>) -> axum::routing::MethodRouter {
    let Some(dir) = site_dir else {
        return axum::routing::get(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                "前端未构建：请运行 cargo xtask run",
            )
        });
    };
    let index = ServeFile::new(dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    // A path that names a file this site lacks (another build's chunk, a favicon) is a 404, not
    // the app: a service worker would store the page as that file, and a lazily loaded screen
    // would try to run it.
    let index = axum::routing::get_service(index).layer(middleware::from_fn(
        |req: Request, next: Next| async move {
            if names_a_file(req.uri().path()) {
                refused(StatusCode::NOT_FOUND, "没有这个文件 No such file")
            } else {
                next.run(req).await
            }
        },
    ));
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    // Read at each request, as the files are: `cargo xtask build-site` replaces the site under
    // a running process. A site built before the file existed has none, and then every `?v=`
    // is served.
    let build_file: Arc<Path> = dir.join(shared::site::BUILD_ID_FILE).into();
    // Asset URLs carry a build id (`?v=…`), but index.html and the service worker must always be
    // revalidated so a new build is picked up.
    axum::routing::get_service(files)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let build_file = build_file.clone();
            async move {
                let Some(asked) = requested_build(&req) else {
                    return next.run(req).await;
                };
                match tokio::fs::read_to_string(&*build_file).await {
                    Ok(ours) if ours.trim() != asked => refused(
                        StatusCode::NOT_FOUND,
                        "此文件属于另一版本的改革看板 This file belongs to another build of Reformboard",
                    ),
                    Ok(_) => next.run(req).await,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => next.run(req).await,
                    // Which build is served is not known: nothing is, rather than a file of
                    // the wrong one.
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the site's build id failed");
                        refused(StatusCode::SERVICE_UNAVAILABLE, "请稍后再试 Try again shortly")
                    }
                }
            }
        }))
}

/// The `v` of the request's query, if any.
fn requested_build(req: &Request) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "v")
        .map(|(_, value)| value.into_owned())
}

/// Whether `path` names a file (its last segment has an extension) rather than a screen of the
/// app, none of whose paths has one.
fn names_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

/// A refusal no cache may keep: the next request may find the file (a deploy under way).
fn refused(status: StatusCode, why: &'static str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        why,
    )
        .into_response()
}
