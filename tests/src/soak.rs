//! The soak: many sync clients against the real binary for a while, mixing incremental pulls,
//! pushes and WebSocket reconnects, with the server's resident memory sampled from /proc. Used
//! by `tests/tests/soak.rs` (60 s in CI) and `cargo xtask soak --minutes N`.
//!
//! Nothing here is timed: a slow answer is not an error (the bench measures speed); an error
//! status, a transport failure, a rejected mutation or a closed WebSocket is.

use crate::sync_client::{Item4, Session, Tab};
use crate::{Server, ServerOptions, Store};
use anyhow::{Context, bail, ensure};
use shared::board::{Column, sort_key};
use shared::entity::{Entity, Millis};
use shared::ids::{ClientGroupId, CommentId, ItemId, TaskId, UnitId};
use shared::mutation::Mutation;
use shared::sync::Outcome;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug)]
pub struct SoakOptions {
    /// Database.
    pub store: Store,
    /// Concurrent clients.
    pub clients: usize,
    /// How long.
    pub duration: Duration,
    /// Memory is compared from the end of this on (first pulls, caches and pools fill up first).
    pub warm_up: Duration,
    /// Seeds each client's choices.
    pub seed: u64,
}

/// What a soak did and saw.
#[derive(Clone, Debug, Default)]
pub struct SoakReport {
    /// Pulls answered.
    pub pulls: u64,
    /// Pushes answered (each one mutation).
    pub pushes: u64,
    /// WebSocket connections opened (first ones and reconnects).
    pub sockets: u64,
    /// Pokes received.
    pub pokes: u64,
    /// The server's RSS (KiB) when the warm-up ended.
    pub rss_after_warm_up_kib: u64,
    /// The server's RSS (KiB) at the end.
    pub rss_end_kib: u64,
    /// The highest RSS seen (KiB).
    pub rss_peak_kib: u64,
}

impl SoakReport {
    /// Whether memory stayed flat: the end within half again of the post-warm-up figure plus
    /// 32 MiB (the allocator keeps freed pages, SQLite's page cache fills up to its limit, and
    /// the plan grows by the cards the soak creates; a leak per request grows without bound).
    pub fn memory_flat(&self) -> bool {
        self.rss_end_kib <= self.rss_after_warm_up_kib * 3 / 2 + 32 * 1024
    }
}

#[derive(Default)]
struct Counters {
    pulls: AtomicU64,
    pushes: AtomicU64,
    /// Cards whose creation the server acknowledged.
    created: AtomicU64,
    sockets: AtomicU64,
    pokes: AtomicU64,
}

/// Resident set size of process `pid` in KiB, from /proc.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

/// What one client may do, from its user's role on item 4.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The lead unit: creates cards, moves them, reports progress.
    Lead,
    /// Anyone else who may comment (office, leader, cooperating unit).
    Commenter,
    /// Reads only (the People's Congress).
    Reader,
}

struct Plan {
    item: ItemId,
    owner: UnitId,
}

async fn client(
    n: usize,
    session: Session,
    kind: Kind,
    plan: Arc<Plan>,
    until: Instant,
    seed: u64,
    counters: Arc<Counters>,
) -> anyhow::Result<()> {
    let mut rng = (seed ^ (n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let mut socket = Some(session.websocket().await?);
    counters.sockets.fetch_add(1, Ordering::Relaxed);
    let mut mine: Vec<TaskId> = Vec::new();
    let mut key: Option<String> = None;
    while Instant::now() < until {
        let roll = next(&mut rng) % 100;
        if roll < 60 || tab.cookie.is_none() {
            let sent = tab.cookie.clone();
            let res = session
                .pull(&tab.pull_request())
                .await?
                .map_err(|e| anyhow::anyhow!("client {n}: pull: {e}"))?;
            tab.take_pull(&sent, res)?;
            counters.pulls.fetch_add(1, Ordering::Relaxed);
        } else if roll < 85 && kind != Kind::Reader {
            let at = Millis(0);
            let m = match kind {
                Kind::Lead if mine.len() < 5 || roll < 70 => {
                    let id = TaskId::new_v7();
                    let k = sort_key::between(key.as_deref(), None);
                    key = Some(k.clone());
                    mine.push(id);
                    Mutation::CreateTask {
                        id,
                        item: plan.item,
                        title: format!("soak-{n}-{}", tab.last_id + 1),
                        owner: plan.owner,
                        column: Column::NotStarted,
                        sort_key: k,
                        due: None,
                        at,
                    }
                }
                Kind::Lead => {
                    let task = mine[(next(&mut rng) % mine.len() as u64) as usize];
                    Mutation::SetTaskProgress {
                        task,
                        progress: (next(&mut rng) % 101) as u8,
                        at,
                    }
                }
                _ => Mutation::AddComment {
                    id: CommentId::new_v7(),
                    item: plan.item,
                    task: None,
                    body: format!("soak {n}"),
                    at,
                },
            };
            let creates = matches!(m, Mutation::CreateTask { .. });
            tab.add(m);
            let res = session
                .push(&tab.push_request())
                .await?
                .map_err(|e| anyhow::anyhow!("client {n}: push: {e}"))?;
            for r in &res.results {
                ensure!(
                    matches!(r.outcome, Outcome::Applied | Outcome::Duplicate),
                    "client {n}: mutation {} refused: {:?}",
                    r.id,
                    r.outcome
                );
            }
            tab.outbox.clear();
            counters.pushes.fetch_add(1, Ordering::Relaxed);
            if creates {
                counters.created.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            // A reconnect, as a phone losing its network does: the old socket goes, a new one
            // must open (and whatever pokes came meanwhile were readable).
            if let Some(mut old) = socket.take() {
                while let Some(_spaces) = old.next_poke(Duration::from_millis(1)).await? {
                    counters.pokes.fetch_add(1, Ordering::Relaxed);
                }
            }
            socket = Some(session.websocket().await?);
            counters.sockets.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(200 + next(&mut rng) % 600)).await;
    }
    Ok(())
}

fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// Runs the soak and reports; fails on the first client error. Memory flatness is for the
/// caller to judge (`SoakReport::memory_flat`), so the figures are printed either way.
pub async fn soak(opts: &SoakOptions) -> anyhow::Result<SoakReport> {
    let server = Server::start(ServerOptions {
        store: opts.store,
        ..Default::default()
    })
    .await?;
    let pid = server.pid();
    let Item4 {
        office,
        facts,
        item,
        lead,
    } = Item4::on(&server).await?;
    let owner = lead.me.unit;
    let coop = *item
        .cooperating_units
        .first()
        .context("item 4 has no cooperating unit")?;
    let cooperating = Session::login(&server, &facts.username_of(coop)?).await?;
    let leader = Session::login(&server, "leader").await?;
    let npc = Session::login(&server, "npc").await?;
    let sessions = [
        (lead, Kind::Lead),
        (office, Kind::Commenter),
        (cooperating, Kind::Commenter),
        (leader, Kind::Commenter),
        (npc, Kind::Reader),
    ];
    let plan = Arc::new(Plan {
        item: item.id,
        owner,
    });
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let until = started + opts.duration;
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..opts.clients {
        let (session, kind) = &sessions[n % sessions.len()];
        // Its own HTTP client (own connections), on the shared session.
        let session = session.on(&server)?;
        tasks.spawn(client(
            n,
            session,
            *kind,
            plan.clone(),
            until,
            opts.seed,
            counters.clone(),
        ));
    }

    let mut report = SoakReport::default();
    let mut warm = false;
    let mut last_print = Instant::now();
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                None => break,
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => bail!("a soak client panicked: {e}"),
            },
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                let rss = rss_kib(pid)?;
                report.rss_peak_kib = report.rss_peak_kib.max(rss);
                if !warm && started.elapsed() >= opts.warm_up {
                    warm = true;
                    report.rss_after_warm_up_kib = rss;
                }
                if last_print.elapsed() >= Duration::from_secs(30) {
                    last_print = Instant::now();
                    eprintln!(
                        "soak {:?}: {:>4} s, RSS {} MiB, {} pulls, {} pushes",
                        opts.store,
                        started.elapsed().as_secs(),
                        rss / 1024,
                        counters.pulls.load(Ordering::Relaxed),
                        counters.pushes.load(Ordering::Relaxed)
                    );
                }
            }
        }
    }
    report.rss_end_kib = rss_kib(pid)?;
    if !warm {
        report.rss_after_warm_up_kib = report.rss_end_kib;
    }
    report.pulls = counters.pulls.load(Ordering::Relaxed);
    report.pushes = counters.pushes.load(Ordering::Relaxed);
    report.sockets = counters.sockets.load(Ordering::Relaxed);
    report.pokes = counters.pokes.load(Ordering::Relaxed);

    // The server is still whole: a fresh client gets every card the soak made.
    let check = Session::login(&server, "office").await?;
    let cards = check
        .server_view()
        .await?
        .iter()
        .filter(|e| matches!(e, Entity::Task(t) if t.title.starts_with("soak-")))
        .count();
    let created = counters.created.load(Ordering::Relaxed);
    ensure!(
        u64::try_from(cards)? == created,
        "{created} cards were acknowledged, {cards} are on the server"
    );
    Ok(report)
}
