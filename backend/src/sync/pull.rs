//! Answering pulls: what changed since the client's cookie that this user may see, the new
//! cookie and the group's last mutation ids, all read from one snapshot.
//!
//! Pulls are answered in batches. After a poke every connected tab asks at once, and mostly the
//! same question ("what changed in space X since version v?"); answered one by one, that was
//! seven statements per tab and most of the poke's latency with a thousand tabs. A [`Puller`]
//! queues them instead: whatever arrived while the previous batch was being answered is answered
//! next, together, in one read transaction — one snapshot for all of them, which is what each
//! pull needs anyway — with one query per table and per changed space. A lone pull is answered at
//! once, as before.
//!
//! The batch also checks its requesters' sessions, with one query for all of them
//! (`session::lookup_many`): the pull handler takes the session token unchecked, and a pull whose
//! session is gone is answered 401 here, as the `ActiveUser` extractor would have.

use crate::auth::session::{self, ActiveUser, CurrentUser, SessionLimits, SessionToken};
use crate::db::{Db, DbKind, select_in};
use crate::entity_store::{self, EntityRow};
use crate::error::{ApiError, ApiResult};
use shared::actor::Actor;
use shared::entity::{Entity, EntityKey};
use shared::ids::ClientId;
use shared::sync::{Cookie, PullRequest, PullResponse};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// Most pulls answered from one snapshot: bounds the wait of the last in line.
const MAX_BATCH: usize = 256;
/// Batches answered at the same time (each holds one database connection).
const WORKERS: usize = 2;
/// Pulls waiting beyond this make their requests wait to be queued.
const QUEUE: usize = 4096;

/// One waiting pull.
struct Job {
    token: SessionToken,
    req: PullRequest,
    reply: oneshot::Sender<ApiResult<PullResponse>>,
}

/// The queue of pulls and the workers that answer them.
#[derive(Clone, Debug)]
pub struct Puller {
    tx: mpsc::Sender<Job>,
}

impl Puller {
    /// Starts the workers (on the current tokio runtime).
    pub fn start(db: Db, sessions: SessionLimits) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..WORKERS {
            tokio::spawn(work(db.clone(), sessions, rx.clone()));
        }
        Self { tx }
    }

    /// The answer to `req` for the user signed in with `token` (401 when no one is).
    pub async fn pull(&self, token: SessionToken, req: PullRequest) -> ApiResult<PullResponse> {
        let (reply, answer) = oneshot::channel();
        let job = Job { token, req, reply };
        let lost = || ApiError::Internal(anyhow::anyhow!("the pull workers are gone"));
        self.tx.send(job).await.map_err(|_| lost())?;
        answer.await.map_err(|_| lost())?
    }
}

async fn work(db: Db, sessions: SessionLimits, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        let mut jobs = Vec::new();
        if rx.lock().await.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            return; // The server is shutting down.
        }
        // Its own task, so that a bug in one batch cannot stop the worker; the batch's waiting
        // requests then see their reply dropped and answer 500.
        if let Err(e) = tokio::spawn(answer(db.clone(), sessions, jobs)).await {
            tracing::error!(error = %e, "answering a batch of pulls failed");
        }
    }
}

/// Answers the jobs whose session doesn't stand (401, 403, or the database's error) and
/// returns the others with their users.
async fn signed_in(db: &Db, sessions: SessionLimits, jobs: Vec<Job>) -> Vec<(Actor, Job)> {
    let tokens: Vec<&str> = jobs.iter().map(|j| j.token.0.as_str()).collect();
    let rows: Vec<ApiResult<_>> = match session::lookup_many(db, &tokens, sessions).await {
        Ok(rows) => rows.into_iter().map(Ok).collect(),
        Err(e) if jobs.len() == 1 => vec![Err(e.into())],
        Err(e) => {
            // As for the pulls themselves: each alone, each with its own answer or error.
            tracing::warn!(error = %e, n = jobs.len(), "checking a batch of sessions failed; retrying one by one");
            let mut rows = Vec::with_capacity(tokens.len());
            for token in &tokens {
                rows.push(
                    session::lookup(db, token, sessions)
                        .await
                        .map_err(ApiError::from),
                );
            }
            rows
        }
    };
    let mut out = Vec::with_capacity(jobs.len());
    for (job, row) in jobs.into_iter().zip(rows) {
        let user = row.and_then(|row| CurrentUser::of(row, job.token.0.clone()));
        match user.and_then(ActiveUser::try_from) {
            Ok(user) => out.push((user.0.actor, job)),
            Err(e) => {
                let _ = job.reply.send(Err(e));
            }
        }
    }
    out
}

async fn answer(db: Db, sessions: SessionLimits, jobs: Vec<Job>) {
    let jobs = signed_in(&db, sessions, jobs).await;
    if jobs.is_empty() {
        return;
    }
    let asks: Vec<(&Actor, &PullRequest)> = jobs.iter().map(|(a, j)| (a, &j.req)).collect();
    let answers = match pull_many(&db, &asks).await {
        Ok(answers) => answers,
        Err(e) if jobs.len() == 1 => vec![Err(e)],
        Err(e) => {
            // Answer each alone, so that each gets its own answer or its own error.
            tracing::warn!(error = %e, n = jobs.len(), "a batch of pulls failed; retrying one by one");
            let mut answers = Vec::with_capacity(jobs.len());
            for ask in &asks {
                answers.push(match pull_many(&db, &[*ask]).await {
                    Ok(mut one) => one.pop().unwrap_or_else(|| Err(no_answer())),
                    Err(e) => Err(e),
                });
            }
            answers
        }
    };
    for ((_, job), answer) in jobs.into_iter().zip(answers) {
        // A requester that has gone away no longer needs its answer.
        let _ = job.reply.send(answer);
    }
}

fn no_answer() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("a pull got no answer"))
}

/// What `actor` may see, as `visible` decides it: their role and unit (`Cookie::view`).
fn view_of(actor: &Actor) -> String {
    format!("{}/{}/{VISIBILITY_RULES}", actor.role.as_str(), actor.unit)
}

/// The version of the rules of `entity_store::visible`: a cookie taken under other rules starts
/// afresh, or rows that became visible to someone without changing would never reach them (2:
/// assessment adjustments seen by the leaders and the supervisors; 3: draft bulletins the
/// office's alone, migration 0008, so its saver's unit loses the copy it kept).
const VISIBILITY_RULES: u32 = 3;

/// Whether `cookie` is a position in this server's history for this user as they are now;
/// anything else (another database, another user, another role or unit, a version from the
/// future, a forged value) gets a full reset.
fn usable(cookie: &Cookie, epoch: &str, actor: &Actor, current: &BTreeMap<String, i64>) -> bool {
    cookie.epoch == epoch
        && cookie.user == actor.user.to_string()
        && cookie.view == view_of(actor)
        && cookie
            .spaces
            .iter()
            .all(|(space, v)| *v >= 0 && current.get(space).is_some_and(|cur| v <= cur))
}

/// A changed row with its entity, decoded once for every pull that needs it.
struct Changed {
    row: EntityRow,
    entity: Entity,
}

/// Answers `asks` from one snapshot. The outer error is the batch's (the database failed); the
/// inner ones are each pull's own (a client group of another user).
async fn pull_many(
    db: &Db,
    asks: &[(&Actor, &PullRequest)],
) -> ApiResult<Vec<ApiResult<PullResponse>>> {
    // One snapshot for every read below; SQLite's WAL read transaction gives the same. Said in
    // the BEGIN itself: a SET TRANSACTION after it was one more round trip per batch.
    let mut tx = match db.kind {
        DbKind::Postgres => {
            db.pool
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?
        }
        DbKind::Sqlite => db.pool.begin().await?,
    };
    let epoch: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
        .fetch_one(&mut *tx)
        .await?;
    let current = entity_store::space_versions(&mut tx).await?;
    let groups: BTreeSet<String> = asks
        .iter()
        .map(|(_, r)| r.client_group.to_string())
        .collect();
    let owners: HashMap<String, String> = select_in::<(String, String)>(
        &mut tx,
        |p| format!("SELECT id, user_id FROM client_group WHERE id IN ({p})"),
        &groups,
    )
    .await?
    .into_iter()
    .collect();
    let mut clients: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (group, id, last) in select_in::<(String, String, i64)>(
        &mut tx,
        |p| {
            format!(
                "SELECT client_group, id, last_mutation_id FROM client WHERE client_group IN ({p})"
            )
        },
        &groups,
    )
    .await?
    {
        clients.entry(group).or_default().push((id, last));
    }

    // Where each pull starts in each space (None: a full reset), then, per space, one read of
    // everything any of them lacks.
    let starts: Vec<Option<&BTreeMap<String, i64>>> = asks
        .iter()
        .map(|(actor, req)| {
            req.cookie
                .as_ref()
                .filter(|c| usable(c, &epoch, actor, &current))
                .map(|c| &c.spaces)
        })
        .collect();
    let since = |start: Option<&BTreeMap<String, i64>>, space: &str| {
        start.and_then(|s| s.get(space).copied()).unwrap_or(0)
    };
    let mut changed: BTreeMap<&str, Vec<Changed>> = BTreeMap::new();
    for (space, version) in &current {
        let Some(oldest) = starts.iter().map(|s| since(*s, space)).min() else {
            continue;
        };
        if *version <= oldest {
            continue;
        }
        let rows = entity_store::changed_since(&mut tx, space, oldest).await?;
        let rows = rows
            .into_iter()
            .map(|row| {
                Ok(Changed {
                    entity: row.entity()?,
                    row,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        changed.insert(space, rows);
    }
    tx.commit().await?;

    let answers = asks
        .iter()
        .zip(&starts)
        .map(|((actor, req), start)| {
            let group = req.client_group.to_string();
            if owners
                .get(&group)
                .is_some_and(|owner| *owner != actor.user.to_string())
            {
                return Err(super::push::group_of_another_user());
            }
            let reset = start.is_none();
            let mut puts = Vec::new();
            let mut deletes = Vec::new();
            for (space, rows) in &changed {
                let since = since(*start, space);
                for c in rows.iter().filter(|c| c.row.version > since) {
                    if crate::entity_store::visible(&c.row, actor) {
                        puts.push(c.entity.clone());
                    } else if !reset && c.row.ever_public != 0 {
                        // It may have been visible to them before. One that never was is none
                        // of their business, not even that it changed.
                        deletes.push(EntityKey(c.row.id.clone()));
                    }
                }
            }
            let last_mutation_ids = clients
                .get(&group)
                .into_iter()
                .flatten()
                .filter_map(|(id, last)| {
                    Some((id.parse::<ClientId>().ok()?, u64::try_from(*last).ok()?))
                })
                .collect();
            Ok(PullResponse {
                reset,
                cookie: Cookie {
                    epoch: epoch.clone(),
                    user: actor.user.to_string(),
                    view: view_of(actor),
                    spaces: current.clone(),
                },
                puts,
                deletes,
                last_mutation_ids,
            })
        })
        .collect();
    Ok(answers)
}
