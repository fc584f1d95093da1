//! The built site (`cargo xtask build-site`), as its builder and its server both know it.

/// The file in the site that holds its build id: the `?v=` its index.html and service worker put
/// on the URLs of the app's files. The server answers another build's `?v=` with 404, so that
/// during a deploy a service worker still installing the old build fails and tries again later,
/// instead of storing the new build's files under the old build's names.
pub const BUILD_ID_FILE: &str = "build-id";
