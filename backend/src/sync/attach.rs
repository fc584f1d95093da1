//! The one server-side step before `attach_file`: uploads are not mutations, so the server
//! checks that the named upload exists and is the pushing user's, and takes the file's name and
//! size from what it stored rather than from what the client claims.

use shared::actor::Actor;
use shared::attachment::Attach;
use shared::message::Msg;
use shared::mutation::{Mutation, Rejection};
use shared::state::State;
use sqlx::{Any, Transaction};
use std::borrow::Cow;

/// `m` as it is to be applied: unchanged, or for `AttachFile` with the upload's name and size;
/// `Err` when the upload is not the actor's. Permission is checked first, so a user who may not
/// attach there is told so (denied) whatever upload id they name.
pub async fn resolve<'m>(
    db: &crate::db::Db,
    tx: &mut Transaction<'_, Any>,
    state: &State,
    actor: &Actor,
    m: &'m Mutation,
) -> Result<Result<Cow<'m, Mutation>, Rejection>, sqlx::Error> {
    let Mutation::AttachFile(attach) = m else {
        return Ok(Ok(Cow::Borrowed(m)));
    };
    if let Err(denied) = m.authorize(state, actor) {
        return Ok(Err(denied));
    }
    // The sweep of unattached uploads takes the same lock before it deletes one: it either
    // went before this read (not found) or waits for this push's commit and sees it attached.
    db.lock_key(
        tx,
        crate::db::LockSpace::PendingUploads,
        &actor.user.to_string(),
    )
    .await?;
    let row: Option<(String, String, i64)> =
        sqlx::query_as("SELECT user_id, name, size FROM upload WHERE id = $1")
            .bind(attach.id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match row {
        Some((user, name, size)) if user == actor.user.to_string() => {
            Ok(Cow::Owned(Mutation::AttachFile(Attach {
                name,
                size: u64::try_from(size).unwrap_or(0),
                ..attach.clone()
            })))
        }
        _ => Err(Rejection::Invalid(Msg::new(
            "找不到该上传文件（须先由本人上传）",
            "The uploaded file was not found (it must be uploaded by you first)",
        ))),
    })
}
