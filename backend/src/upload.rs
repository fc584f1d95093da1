//! Evidence files (佐证材料): `POST /api/uploads` stores the bytes, `GET /api/attachments/{id}`
//! gives them back. Uploads are not mutations: an `attach_file` mutation by the same user then
//! records the attachment (see `crate::sync::attach`).
//!
//! The body is the file itself (what `fetch(url, { body: file })` sends), its name in the query
//! (`?name=…`) or, percent-encoded, in an `X-File-Name` header — no multipart parsing. The bytes
//! are streamed to `uploads/<uuid>` under the data directory while their size is counted and
//! their hash taken; the user's file name is display text only and never reaches the file
//! system. A file must be of an accepted type twice over: by its extension, and by its first
//! bytes (a renamed executable is not a PDF).

use crate::app::AppState;
use crate::auth::session::ActiveUser;
use crate::db::{Db, LockSpace, now_millis};
use crate::entity_store::{EntityRow, visible};
use crate::error::{ApiError, ApiJson, ApiResult};
use crate::held::Over;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use shared::actor::{Actor, Role};
use shared::attachment::{ACCEPTED_TYPES, AttachedTo, Attachment, UploadInfo, content_type_for};
use shared::entity::{Entity, EntityKey};
use shared::ids::AttachmentId;
use shared::message::Msg;
use shared::state::Stored;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Routes `/api/uploads` and `/api/attachments/{id}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/uploads", post(upload))
        .route("/attachments/{id}", get(download))
}

/// Where uploads are kept.
pub fn upload_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("uploads")
}

/// `?name=` of an upload.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file's name as the user sees it (its extension decides the type). Alternatively
    /// sent percent-encoded in the `X-File-Name` header.
    pub name: Option<String>,
}

/// The name the file is shown under: the last path component of what the client sent, cleaned
/// of control characters, so `../../etc/x.pdf` is shown as `x.pdf` (it never touches the disk
/// either way).
pub fn display_name(raw: &str) -> ApiResult<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let name = shared::text::FILE_NAME
        .parse(base)
        .map_err(|e| ApiError::bad_request(e.message()))?;
    if name.trim_matches('.').is_empty() {
        return Err(ApiError::bad_request(Msg::new(
            "文件名无效",
            "The file name is not valid",
        )));
    }
    Ok(name)
}

/// Whether the first bytes of a file are what its extension claims.
pub fn content_matches(content_type: &str, head: &[u8]) -> bool {
    const PDF: &[u8] = b"%PDF-";
    const OLE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    const ZIP: &[u8] = b"PK\x03\x04";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF];
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let magic: &[u8] = match content_type {
        "application/pdf" => PDF,
        "application/msword" | "application/vnd.ms-excel" => OLE,
        t if t.starts_with("application/vnd.openxmlformats-officedocument.") => ZIP,
        "image/jpeg" => JPEG,
        "image/png" => PNG,
        _ => return false,
    };
    head.starts_with(magic)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// RFC 5987 encoding for `filename*=UTF-8''…`: everything but attr-chars percent-encoded.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Content-Disposition: attachment` with the UTF-8 name, and a plain ASCII fallback for old
/// clients (non-ASCII and quoting characters replaced).
pub fn disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        percent_encode(name)
    )
}

/// Upload a file (pdf, doc, docx, xls, xlsx, jpg, png; at most the configured size, 20 MB by
/// default) as the body. Only users who can attach files (the office and units) may upload.
#[utoipa::path(post, path = "/api/uploads", tag = "uploads", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The file's bytes"),
    responses((status = 201, body = UploadInfo)))]
#[tracing::instrument(skip_all, err(level = "debug"), fields(user = %user.0.row.username))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    user: ActiveUser,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, ApiJson<UploadInfo>)> {
    let actor = &user.0.actor;
    let max = state.config.upload_limit();
    let content_type = match accept(actor, query.name, &headers, max) {
        Ok(v) => v,
        Err(e) => {
            drain(body, max).await;
            return Err(e);
        }
    };
    let (name, content_type, declared) = content_type;
    // Reserved from the start, so that files still arriving count against the quota too (a
    // thousand uploads started side by side, each stalled just short of the limit, would
    // otherwise all pass): what the upload declares, or the most any may be.
    let quota = max.saturating_mul(PENDING_FILES);
    let reserve = if declared > 0 { declared } else { max };
    let room = quota.saturating_sub(pending_bytes(&state.db.pool, actor).await?);
    let _receiving =
        match state
            .uploads
            .take(&actor.user.to_string(), MAX_PARALLEL_UPLOADS, reserve, room)
        {
            Ok(held) => held,
            Err(over) => {
                drain(body, max).await;
                return Err(match over {
                    Over::Count => ApiError::TooManyRequests(5),
                    Over::Bytes => quota_exceeded(quota),
                });
            }
        };
    let dir = upload_dir(&state);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    let id = AttachmentId::new_v7();
    let part = dir.join(format!("{id}.part"));
    let mut file = Leftover(Some(part.clone()));
    let (size, sha256) = receive(body, &part, max, content_type).await?;
    // Recorded, and checked again with the real size, one upload of the user at a time across
    // every process: uploads sent side by side all passed the first check.
    let _writer = state.db.write_guard().await;
    let mut tx = state.db.pool.begin().await?;
    state
        .db
        .lock_key(&mut tx, LockSpace::PendingUploads, &actor.user.to_string())
        .await?;
    // The row before the check: on SQLite a transaction that starts with a write holds the
    // write lock from then on, where one that read first could find its snapshot stale.
    let stored_name = id.to_string();
    sqlx::query(
        "INSERT INTO upload (id, user_id, unit_id, name, size, content_type, stored_name, sha256, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.to_string())
    .bind(actor.user.to_string())
    .bind(actor.unit.to_string())
    .bind(&name)
    .bind(i64::try_from(size).unwrap_or(i64::MAX))
    .bind(content_type)
    .bind(&stored_name)
    .bind(sha256)
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    if pending_bytes(&mut *tx, actor).await? > quota {
        return Err(quota_exceeded(quota));
    }
    let stored_path = dir.join(&stored_name);
    tokio::fs::rename(&part, &stored_path)
        .await
        .map_err(|e| anyhow::anyhow!("storing upload {id}: {e}"))?;
    file.0 = Some(stored_path);
    tx.commit().await?;
    file.0 = None;
    let info = UploadInfo {
        id,
        name,
        size,
        content_type: content_type.into(),
    };
    Ok((StatusCode::CREATED, ApiJson(info)))
}

/// An upload's file (received, or stored under its final name) until the row naming it is
/// committed: removed when dropped before that — on an error, or when the client goes away
/// mid-request and the handler is dropped — since no row would ever lead the sweep to it.
struct Leftover(Option<std::path::PathBuf>);

impl Drop for Leftover {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The display name, content type and declared length (0: none) of an upload, or why it is
/// refused before its bytes are looked at.
fn accept(
    actor: &Actor,
    name: Option<String>,
    headers: &HeaderMap,
    max: u64,
) -> ApiResult<(String, &'static str, u64)> {
    if !matches!(actor.role, Role::Office | Role::Unit) {
        return Err(ApiError::forbidden(Msg::new(
            "只有综合办和各单位可以上传佐证材料",
            "Only the reform office and the units can upload evidence",
        )));
    }
    let raw_name = match name {
        Some(n) => n,
        None => headers
            .get("x-file-name")
            .and_then(|v| v.to_str().ok())
            .and_then(percent_decode)
            .ok_or_else(|| {
                ApiError::bad_request(Msg::new(
                    "缺少文件名（?name=）",
                    "The file name is missing (?name=)",
                ))
            })?,
    };
    let name = display_name(&raw_name)?;
    let content_type =
        content_type_for(&name).ok_or_else(|| ApiError::unsupported_media_type(ACCEPTED_TYPES))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok((name, content_type, declared.unwrap_or(0)))
}

/// The condition on an `upload` row that no attachment names it (an attachment's id is its
/// upload's).
const NOT_ATTACHED: &str =
    "NOT EXISTS (SELECT 1 FROM entity WHERE entity.id = 'attachment/' || upload.id)";

/// How many largest files' worth of uploads a user may have waiting to be attached. An attach
/// follows its upload within seconds (or when an offline browser is back), so only someone
/// filling the disk reaches it; the sweep frees them after `ORPHAN_DAYS`.
pub const PENDING_FILES: u64 = 10;

/// Uploads one user may be sending at once: a few files picked together; each holds a
/// connection and a partial file until it ends.
pub const MAX_PARALLEL_UPLOADS: usize = 4;

/// The bytes of `actor`'s uploads not attached yet.
async fn pending_bytes(db: impl sqlx::AnyExecutor<'_>, actor: &Actor) -> ApiResult<u64> {
    let pending: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM upload WHERE user_id = $1 \
         AND {NOT_ATTACHED}"
    )))
    .bind(actor.user.to_string())
    .fetch_one(db)
    .await?;
    Ok(u64::try_from(pending).unwrap_or(0))
}

/// The refusal of an upload that would take its user's uploads not attached yet past `quota`
/// (`PENDING_FILES` largest files).
fn quota_exceeded(quota: u64) -> ApiError {
    let mb = quota / (1024 * 1024);
    ApiError::quota_exceeded(shared::msg!(
        "尚未添加为佐证材料的上传文件已达上限（{mb} MB）：请先把已上传的文件添加到任务或报告，未添加的文件{ORPHAN_DAYS}天后自动删除",
        "Your uploads not yet attached as evidence have reached the limit ({mb} MB): attach them to a task or report first. Files left unattached are deleted after {ORPHAN_DAYS} days"
    ))
}

/// How much of a refused upload is still read (and thrown away) before answering: a client
/// that is still sending when the answer comes often never reads it, and sees a broken
/// connection instead of "too large". Past this, the connection is simply closed.
fn drain_cap(max: u64) -> u64 {
    max.saturating_mul(2).saturating_add(1024 * 1024)
}

/// Reads and discards the rest of `body`, up to `drain_cap(max)` bytes.
async fn drain(body: Body, max: u64) {
    let mut stream = body.into_data_stream();
    let mut seen: u64 = 0;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len() as u64;
        if seen > drain_cap(max) {
            break;
        }
    }
}

/// Streams `body` into `part`, refusing it past `max` bytes or when its first bytes are not of
/// `content_type`. Returns the size and the SHA-256.
async fn receive(
    body: Body,
    part: &std::path::Path,
    max: u64,
    content_type: &str,
) -> ApiResult<(u64, String)> {
    let mut file = tokio::fs::File::create(part)
        .await
        .map_err(|e| anyhow::anyhow!("creating {}: {e}", part.display()))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(16);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(shared::msg!("上传中断：{e}", "The upload was cut off: {e}"))
        })?;
        size += chunk.len() as u64;
        if size > max {
            drain(Body::from_stream(stream), max).await;
            return Err(ApiError::PayloadTooLarge);
        }
        if head.len() < 16 {
            let take = (16 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            // Refuse early: no need to store 20 MB of something that is not what it claims.
            if head.len() >= 8 && !content_matches(content_type, &head) {
                drain(Body::from_stream(stream), max).await;
                return Err(refused());
            }
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", part.display()))?;
    }
    if size == 0 {
        return Err(ApiError::bad_request(Msg::new(
            "文件是空的",
            "The file is empty",
        )));
    }
    if !content_matches(content_type, &head) {
        return Err(refused());
    }
    file.sync_all()
        .await
        .map_err(|e| anyhow::anyhow!("syncing {}: {e}", part.display()))?;
    Ok((size, hex::encode(hasher.finalize())))
}

fn refused() -> ApiError {
    ApiError::unsupported_media_type(shared::msg!(
        "文件内容与扩展名不符（{types}）",
        "The file's content does not match its extension. {types}",
        types = ACCEPTED_TYPES
    ))
}

/// Uploads never attached are deleted after this many days (an attach normally follows its
/// upload within seconds; the days leave room for a browser that went offline in between).
pub const ORPHAN_DAYS: i64 = 7;

/// Deletes uploads (rows and files) that no attachment names and that are older than
/// `ORPHAN_DAYS`, and partial files a day old, so abandoned uploads don't fill the disk.
/// Returns how many went.
pub async fn sweep_orphans(db: &Db, data_dir: &std::path::Path) -> anyhow::Result<usize> {
    let cutoff = now_millis() - ORPHAN_DAYS * 24 * 3600 * 1000;
    let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, user_id FROM upload WHERE at < $1 AND {NOT_ATTACHED}"
    )))
    .bind(cutoff)
    .fetch_all(&db.pool)
    .await?;
    let dir = data_dir.join("uploads");
    let mut swept = 0;
    for (id, user) in rows {
        // Under the lock a push takes to attach one of the user's uploads
        // (`sync::attach::resolve`), and only if still unattached then: a browser back after
        // a week offline may be attaching it right now.
        let _writer = db.write_guard().await;
        let mut tx = db.pool.begin().await?;
        db.lock_key(&mut tx, LockSpace::PendingUploads, &user)
            .await?;
        // The row goes first: a file without a row is unreachable, a row without a file is not.
        let stored: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "DELETE FROM upload WHERE id = $1 AND {NOT_ATTACHED} RETURNING stored_name"
        )))
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(stored_name) = stored else { continue };
        match tokio::fs::remove_file(dir.join(&stored_name)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(%id, error = %e, "removing an orphaned upload"),
        }
        swept += 1;
    }
    // A file still being received when its process stopped (a request dropped is cleaned up by
    // `Leftover`), or stored under its final name by one killed before its row was committed,
    // has no row: gone a day later.
    if let Ok(mut entries) = tokio::fs::read_dir(&dir).await {
        let day = std::time::Duration::from_secs(24 * 3600);
        while let Ok(Some(entry)) = entries.next_entry().await {
            let path = entry.path();
            let stale = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > day));
            if !stale {
                continue;
            }
            let partial = path.extension().is_some_and(|e| e == "part");
            let unnamed = !partial && {
                let name = entry.file_name().to_string_lossy().into_owned();
                let named: Option<i64> = sqlx::query_scalar(
                    "SELECT CAST(1 AS BIGINT) FROM upload WHERE stored_name = $1",
                )
                .bind(&name)
                .fetch_optional(&db.pool)
                .await?;
                named.is_none()
            };
            if partial || unnamed {
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => swept += 1,
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "removing a partial upload")
                    }
                }
            }
        }
    }
    Ok(swept)
}

/// The stored entity under `key`, if `actor` may see it.
pub async fn visible_entity(
    pool: &sqlx::AnyPool,
    key: &EntityKey,
    actor: &Actor,
) -> ApiResult<Option<Entity>> {
    let row: Option<EntityRow> =
        sqlx::query_as("SELECT id, space, version, visible_unit, data FROM entity WHERE id = $1")
            .bind(&key.0)
            .fetch_optional(pool)
            .await?;
    match row {
        Some(row) if visible(&row, actor) => Ok(Some(row.entity()?)),
        _ => Ok(None),
    }
}

/// Download an attached file, if the attachment is live and its user may see it and what it is
/// attached to (a draft's files are its unit's, like the draft).
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "uploads",
    params(("id" = String, Path, description = "The attachment's id")),
    responses((status = 200, description = "The file, as an attachment",
        content_type = "application/octet-stream")))]
#[tracing::instrument(skip_all, err(level = "debug"), fields(user = %user.0.row.username))]
pub(crate) async fn download(
    State(state): State<AppState>,
    user: ActiveUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found(&<Attachment as Stored>::NOUN);
    let id: AttachmentId = id.parse().map_err(|_| not_found())?;
    let actor = &user.0.actor;
    let pool = &state.db.pool;
    let attachment: Attachment =
        match visible_entity(pool, &EntityKey::attachment(id), actor).await? {
            Some(Entity::Attachment(a)) if !a.removed => a,
            _ => return Err(not_found()),
        };
    let target = match attachment.to {
        AttachedTo::Task(t) => EntityKey::task(t),
        AttachedTo::Submission(s) => EntityKey::submission(s),
    };
    if visible_entity(pool, &target, actor).await?.is_none() {
        return Err(not_found());
    }
    let stored: Option<(String, i64)> =
        sqlx::query_as("SELECT stored_name, size FROM upload WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?;
    let Some((stored_name, size)) = stored else {
        tracing::warn!(%id, "an attachment without its upload row");
        return Err(not_found());
    };
    let path = upload_dir(&state).join(&stored_name);
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "an attachment's file is missing");
            return Err(not_found());
        }
    };
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let h = response.headers_mut();
    let value = |s: &str| {
        HeaderValue::from_str(s).map_err(|e| ApiError::Internal(anyhow::anyhow!("header: {e}")))
    };
    h.insert(header::CONTENT_TYPE, value(&attachment.content_type)?);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size.max(0)));
    h.insert(
        header::CONTENT_DISPOSITION,
        value(&disposition("attachment", &attachment.name))?,
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // PDFs, images and Office files are compressed already: spare the CPU (the API's
    // compression layer leaves a response that has an encoding alone).
    h.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    // Evidence may be a unit's own business: no shared cache keeps a copy.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_display_text() {
        assert_eq!(
            display_name("../../etc/报告.pdf").ok().as_deref(),
            Some("报告.pdf")
        );
        assert_eq!(display_name("a\u{0}b.pdf").ok().as_deref(), Some("ab.pdf"));
        assert_eq!(display_name("C:\\x\\y.png").ok().as_deref(), Some("y.png"));
        assert!(display_name("..").is_err());
        assert!(display_name("dir/").is_err());
    }

    #[test]
    fn magic_bytes() {
        assert!(content_matches("application/pdf", b"%PDF-1.7\n"));
        assert!(!content_matches("application/pdf", b"MZ\x90\x00"));
        assert!(content_matches("image/png", b"\x89PNG\r\n\x1a\n...."));
        assert!(content_matches(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK\x03\x04rest"
        ));
    }

    #[test]
    fn dispositions() {
        assert_eq!(
            disposition("attachment", "报告 1.pdf"),
            "attachment; filename=\"__ 1.pdf\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%201.pdf"
        );
        assert_eq!(percent_decode("%E6%8A%A5.pdf").as_deref(), Some("报.pdf"));
    }
}
