//! The WebSocket that carries pokes to a browser. It is authenticated by the same session cookie
//! as every other request; the browser sends nothing that matters on it, and whatever it sends is
//! read and dropped (bounded in size), so a flood can't grow memory.

use crate::app::AppState;
use crate::auth::session::{self, ActiveUser};
use crate::auth::session_cache::EVERYONE;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use shared::sync::ServerMessage;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

/// Largest message accepted from a browser.
const MAX_MESSAGE: usize = 4 * 1024;

/// Sockets one user may hold open in this process: a tab each, on a few devices, with room to
/// spare. Each holds a task and its receivers, so one account's script can't open them by the
/// hundred thousand.
pub const MAX_SOCKETS_PER_USER: usize = 64;

/// Pokes (`ServerMessage` as JSON text frames) for as long as the session holds.
#[utoipa::path(get, path = "/api/sync/ws", tag = "sync",
    responses((status = 101, description = "Switching to a WebSocket carrying `ServerMessage`s")))]
pub async fn handler(
    State(state): State<AppState>,
    user: ActiveUser,
    ws: WebSocketUpgrade,
) -> Response {
    let Ok(slot) = state
        .sockets
        .take(&user.0.row.id, MAX_SOCKETS_PER_USER, 0, 0)
    else {
        // The browser retries its socket with a growing delay, and pulls meanwhile.
        return crate::error::ApiError::TooManyRequests(30).into_response();
    };
    // Subscribe before the upgrade is answered, not when the socket task starts: a client that
    // sees the socket open and then pulls must get a poke for any change after that pull, and a
    // poke sent before the task subscribed would be lost until the next 60-second pull.
    let pokes = state.hub.subscribe();
    // Likewise for sign-outs: one that ends this session right after the upgrade still closes it.
    let forgotten = state.db.sessions.watch();
    // Pokes are a few dozen bytes each way; tungstenite's default 128 KiB read buffer per socket
    // was most of the backend's memory with a thousand browsers connected.
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .read_buffer_size(MAX_MESSAGE)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            // Counted for as long as the socket is served.
            let _slot = slot;
            serve(
                socket,
                Watched {
                    pokes,
                    forgotten,
                    db: state.db.clone(),
                    user_id: user.0.row.id,
                    token: user.0.token,
                    limits: state.config.sessions,
                },
            )
            .await
        })
}

/// What a socket listens to, and the session it belongs to.
struct Watched {
    pokes: broadcast::Receiver<Arc<Vec<String>>>,
    /// Users whose sessions were forgotten (`SessionCache::watch`).
    forgotten: broadcast::Receiver<Arc<str>>,
    db: crate::db::Db,
    user_id: String,
    token: String,
    limits: session::SessionLimits,
}

/// Whether the session behind the socket still holds: a sign-out, a password change or a
/// disabled account closes the socket as soon as it is announced, and an expired session at the
/// next ping; not at the next request.
async fn still_signed_in(db: &crate::db::Db, token: &str, limits: session::SessionLimits) -> bool {
    // A database hiccup is not a reason to drop a healthy client; the next ping asks again.
    session::lookup(db, token, limits)
        .await
        .map_or(true, |user| user.is_some())
}

async fn serve(socket: WebSocket, watched: Watched) {
    let Watched {
        mut pokes,
        mut forgotten,
        db,
        user_id,
        token,
        limits,
    } = watched;
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            poke = pokes.recv() => {
                let spaces = match poke {
                    Ok(spaces) => spaces.as_ref().clone(),
                    // Fell behind: it missed some pokes, so it must pull everything it has.
                    Err(RecvError::Lagged(_)) => vec![super::poke::ALL.to_string()],
                    Err(RecvError::Closed) => break,
                };
                let Ok(text) = serde_json::to_string(&ServerMessage::Poke { spaces }) else { break };
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            who = forgotten.recv() => {
                let ask = match who {
                    Ok(who) => *who == *user_id || *who == *EVERYONE,
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => break,
                };
                if ask && !still_signed_in(&db, &token, limits).await {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if !still_signed_in(&db, &token, limits).await {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
}
