//! Serving the built app: precompressed files (`.br`, `.gz` written by `cargo xtask build-site`),
//! and index.html for every other path so deep links open the app.

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
                    Ok(ours) if ours.trim() != asked => another_build(),
                    _ => next.run(req).await,
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

/// A file of another build than the one served (see `shared::site::BUILD_ID_FILE`).
fn another_build() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        "此文件属于另一版本的改革看板 This file belongs to another build of Reformboard",
    )
        .into_response()
}
