//! Serving the built app: precompressed files (`.br`, `.gz` written by `cargo xtask build-site`),
//! and index.html for every other path so deep links open the app.

use axum::http::{HeaderValue, header};
use std::path::Path;
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
    // Asset URLs carry a build id (`?v=…`), but index.html and the service worker must always be
    // revalidated so a new build is picked up.
    axum::routing::get_service(files).layer(SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    ))
}
