//! The API's OpenAPI 3.1 document, served at `GET /api/openapi.json`. Schemathesis fuzzes the
//! live server against it in `cargo xtask test`, and `tests/tests/openapi.rs` checks that every
//! route the router declares is in it.
//!
//! # Adding an endpoint
//!
//! 1. Put `#[utoipa::path(...)]` on the handler, with the full path as the browser calls it
//!    (`/api/...`; a catch-all `{*key}` is written `{key}`), its tag, the request body type, the
//!    query parameters (`params(MyQuery)` with `#[derive(utoipa::IntoParams)]`) and its *success*
//!    responses, e.g.
//!
//!    ```ignore
//!    #[utoipa::path(post, path = "/api/uploads", tag = "uploads",
//!        request_body(content = Vec<u8>, content_type = "application/octet-stream"),
//!        responses((status = 201, body = UploadInfo)))]
//!    async fn upload(...) -> ApiResult<...> { ... }
//!    ```
//!
//!    The client-error answers every endpoint can give (400, 401, 403, 404, 409, 413, 429, 503,
//!    as `ErrorBody`) are added to every operation by [`CommonErrors`]; list one yourself only to
//!    describe it better.
//! 2. Name the handler in `paths(...)` of [`ApiDoc`] below (make its module `pub(crate)` if it
//!    is private), and every body type in `components(schemas(...))` if utoipa doesn't find it
//!    through a path.
//! 3. Body types: `#[derive(utoipa::ToSchema)]` in the backend; in `shared`, add
//!    `#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]` (only the backend enables the
//!    feature, so the wasm build doesn't carry utoipa). Ids of a new kind get a line in
//!    `uuid_schema!` in `shared/src/openapi.rs`.
//!
//! A route without a path here fails `every_route_is_documented`; a schema that doesn't match
//! what the handler answers fails the schemathesis step of `cargo xtask test`.

use crate::app::AppState;
use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// The JSON shape of every error answer (see `crate::error`).
#[derive(Debug, ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code: `bad_request`, `unauthorized`, `forbidden`, `not_found`, …
    pub error: String,
    /// A message the UI can show as is, in Chinese.
    pub message: String,
    /// The same in English.
    pub message_en: String,
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Reformboard API",
        description = "The JSON API of Reformboard (改革看板). Sign in with `POST /api/auth/login`: \
                       the answer sets the `rb_session` cookie. Every request other than GET, \
                       HEAD and OPTIONS must carry the header `X-Reformboard: 1` and, if it \
                       sends an `Origin`, the server's own. Board changes are sync mutations \
                       (`POST /api/sync/push`); see `shared::sync` and `shared::mutation`."
    ),
    paths(
        serve,
        crate::app::health,
        crate::app::audit_list,
        crate::app::audit_csv,
        crate::app::history,
        crate::plan_api::plan,
        crate::auth::login,
        crate::auth::logout,
        crate::auth::me,
        crate::auth::change_password,
        crate::auth::set_language,
        crate::auth::demo_accounts,
        crate::auth::list_users,
        crate::auth::create_user,
        crate::auth::reset_password,
        crate::auth::disable_user,
        crate::auth::enable_user,
        crate::auth::set_role,
        crate::sync::push_handler,
        crate::sync::pull_handler,
        crate::sync::ws::handler,
        crate::upload::upload,
        crate::upload::download,
        crate::export::ledger_xlsx,
        crate::export::ledger_csv,
        crate::export::assessment_xlsx,
        crate::export::bulletin_html,
        crate::auth::users::set_user_email,
    ),
    components(schemas(ErrorBody, shared::sync::ServerMessage)),
    modifiers(&Security, &CommonErrors),
    tags(
        (name = "auth", description = "Signing in and out, the own account"),
        (name = "users", description = "The office's account management"),
        (name = "sync", description = "Push, pull and pokes"),
        (name = "plan", description = "Read-only plan views"),
        (name = "audit", description = "The audit trail"),
        (name = "meta", description = "Health and this document"),
        (name = "uploads", description = "Evidence files: upload, then attach with a mutation; download"),
        (name = "exports", description = "The ledger and assessment as spreadsheets, bulletins as printable pages"),
    )
)]
pub struct ApiDoc;

/// The session cookie and the CSRF header, as security schemes (for tools and readers; the
/// server enforces them itself).
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::session::COOKIE,
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Reformboard"))),
        );
    }
}

/// The client errors any endpoint may answer (malformed input, no session, no permission,
/// unknown id, conflicts, size limit, throttling, "retry"), added to every operation so a new
/// endpoint gets them without listing them. 500 is deliberately absent: it is always a bug.
struct CommonErrors;

const COMMON_ERRORS: [(&str, &str); 10] = [
    (
        "400",
        "The request is malformed or its values are not acceptable",
    ),
    ("401", "Not signed in, or the session ended"),
    (
        "403",
        "Not allowed (or the CSRF header / Origin is missing)",
    ),
    ("404", "No such thing, or not visible to this user"),
    ("405", "The path does not take this method"),
    ("409", "Conflicts with the current state"),
    ("413", "The body is larger than the server accepts"),
    ("415", "The body is not JSON"),
    ("429", "Too many attempts; see Retry-After"),
    ("503", "A transient failure: retry"),
];

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut Document) {
        let error = || {
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build()
        };
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                for (status, description) in COMMON_ERRORS {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(description)
                                .content("application/json", error())
                                .into()
                        });
                }
            }
        }
    }
}

/// The document, built once per call (it is small, and asked for rarely).
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// `GET /api/openapi.json`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(serve))
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn serve() -> axum::Json<Document> {
    axum::Json(document())
}
