//! Crash safety, shared by the short test (`tests/tests/crash_safety.rs`) and the long run
//! (`cargo xtask torture`): writers push mutations while the server is killed with SIGKILL at
//! random moments and restarted on the same data. Every mutation the server acknowledged must be
//! there exactly once, and every outbox the clients still held must apply exactly once after
//! restart. Violations are errors, not panics, so the long run reports them and stops.

use crate::sync_client::{HttpError, Item4, ServerDb, Session, Tab};
use crate::{Server, ServerOptions, Store};
use anyhow::{Context, bail, ensure};
use shared::board::{Column, sort_key};
use shared::entity::{Entity, Millis};
use shared::ids::{ClientGroupId, TaskId};
use shared::mutation::Mutation;
use shared::sync::Outcome;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a crash run goes on.
#[derive(Clone, Copy, Debug)]
pub enum Length {
    /// This many kills.
    Cycles(usize),
    /// Kills until this much time has passed.
    For(Duration),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct CrashOptions {
    /// Database.
    pub store: Store,
    /// How long.
    pub length: Length,
    /// Concurrent writers (sync clients, each with its own outbox).
    pub writers: usize,
    /// Seeds the kill timing; printed, so a failing run can be repeated.
    pub seed: u64,
}

/// What a run checked.
#[derive(Clone, Debug, Default)]
pub struct CrashReport {
    /// SIGKILLs (each followed by a restart on the same data).
    pub cycles: usize,
    /// Mutations checked to have taken effect exactly once.
    pub mutations: u64,
    /// Of those, the ones the server acknowledged before a kill or at the end.
    pub acknowledged: u64,
    /// Of those, the ones still in an outbox when the last server came up (pushed after).
    pub drained_after_restart: u64,
}

/// A writer's tab and the mutation ids the server acknowledged to it.
type Writer = Arc<Mutex<(Tab, Vec<u64>)>>;

/// Pushes the tab's whole outbox once; drops what the server answered for (applied or
/// duplicate), keeps the rest. `Ok(false)`: the server is down or said "retry" (503); a
/// rejection or any other error status is a failure of the run.
async fn flush(session: &Session, tab: &mut Tab, acked: &mut Vec<u64>) -> anyhow::Result<bool> {
    if tab.outbox.is_empty() {
        return Ok(true);
    }
    let req = tab.push_request();
    match session.push(&req).await {
        Ok(Ok(res)) => {
            for r in res.results {
                ensure!(
                    matches!(r.outcome, Outcome::Applied | Outcome::Duplicate),
                    "mutation {} was rejected: {:?}",
                    r.id,
                    r.outcome
                );
                acked.push(r.id);
                tab.outbox.retain(|m| m.id != r.id);
            }
            Ok(true)
        }
        Ok(Err(HttpError { status, .. })) if status.as_u16() == 503 => Ok(false),
        Ok(Err(e)) => bail!("push failed: {e}"),
        // Connection refused or cut: the server is being killed or restarted.
        Err(_) => Ok(false),
    }
}

/// xorshift: the kill timing needs no more than that, and stays repeatable from the seed.
fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// Runs writers against a server that is killed and restarted, then checks exactly-once.
pub async fn crash_cycles(opts: &CrashOptions) -> anyhow::Result<CrashReport> {
    let server_opts = ServerOptions {
        store: opts.store,
        ..Default::default()
    };
    let server = Server::start(server_opts.clone()).await?;
    let addr = server.addr()?;
    let Item4 { item, lead, .. } = Item4::on(&server).await?;
    let owner = lead.me.unit;
    let lead = Arc::new(lead);

    let stop = Arc::new(AtomicBool::new(false));
    let tabs: Vec<Writer> = (0..opts.writers.max(1))
        .map(|_| Arc::new(Mutex::new((Tab::new(ClientGroupId::new_v7()), Vec::new()))))
        .collect();
    let mut writers = Vec::new();
    for (w, tab) in tabs.iter().enumerate() {
        let (tab, stop, lead) = (tab.clone(), stop.clone(), lead.clone());
        let item_id = item.id;
        writers.push(tokio::spawn(async move {
            let mut n = 0u64;
            let mut key: Option<String> = None;
            while !stop.load(Ordering::Relaxed) {
                let mut guard = tab.lock().await;
                let (tab, acked) = &mut *guard;
                // Two new cards per round, batched as the browser batches its outbox.
                for _ in 0..2 {
                    n += 1;
                    let k = sort_key::between(key.as_deref(), None);
                    key = Some(k.clone());
                    tab.add(Mutation::CreateTask {
                        id: TaskId::new_v7(),
                        item: item_id,
                        title: format!("crash-{w}-{n}"),
                        owner,
                        column: Column::NotStarted,
                        sort_key: k,
                        due: None,
                        at: Millis(0),
                    });
                }
                let reached = flush(&lead, tab, acked).await?;
                drop(guard);
                // While the server is down the outbox grows, as a browser's does while the user
                // works on; more slowly, so a long run's final drain stays a few batches.
                let pause = if reached { 5 } else { 50 };
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            anyhow::Ok(())
        }));
    }

    let mut server = Some(server);
    let mut rng = opts.seed | 1;
    let started = Instant::now();
    let mut cycles = 0;
    let result: anyhow::Result<()> = async {
        loop {
            let more = match opts.length {
                Length::Cycles(n) => cycles < n,
                Length::For(d) => started.elapsed() < d,
            };
            if !more || writers.iter().any(|w| w.is_finished()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(150 + next(&mut rng) % 400)).await;
            let (dir, url) = server.take().map(Server::kill).context("no server")?;
            cycles += 1;
            if cycles % 25 == 1 {
                eprintln!("{:?}: kill -9 cycle {cycles}", opts.store);
            }
            tokio::time::sleep(Duration::from_millis(next(&mut rng) % 100)).await;
            let restart = ServerOptions {
                addr: Some(addr),
                ..server_opts.clone()
            };
            server = Some(Server::start_in(restart, dir, url).await?);
        }
        Ok(())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.context("a writer panicked")??;
    }
    result?;
    let server = server.context("no server")?;

    // Whatever the clients still hold goes through now, exactly once.
    let mut report = CrashReport {
        cycles,
        ..Default::default()
    };
    for tab in &tabs {
        let mut guard = tab.lock().await;
        let (tab, acked) = &mut *guard;
        let held = tab.outbox.len() as u64;
        for _ in 0..100 {
            if flush(&lead, tab, acked).await? && tab.outbox.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ensure!(tab.outbox.is_empty(), "outbox never drained");
        report.mutations += tab.last_id;
        report.drained_after_restart += held;
    }
    report.acknowledged = report.mutations - report.drained_after_restart;

    let db = ServerDb::open(&server).await?;
    let mut per_mutation: BTreeMap<(String, i64), usize> = BTreeMap::new();
    for row in db.mutation_audit().await? {
        if let (Some(c), Some(m)) = (row.client_id, row.mutation_id) {
            *per_mutation.entry((c, m)).or_default() += 1;
        }
    }
    let state = db.entities().await?;
    let mut titles: Vec<&str> = state
        .iter()
        .filter_map(|e| match e {
            Entity::Task(t) if t.title.starts_with("crash-") => Some(t.title.as_str()),
            _ => None,
        })
        .collect();
    for tab in &tabs {
        let guard = tab.lock().await;
        let (tab, acked) = &*guard;
        for id in 1..=tab.last_id {
            let n = per_mutation
                .get(&(tab.client.to_string(), i64::try_from(id)?))
                .copied()
                .unwrap_or(0);
            ensure!(
                n == 1,
                "client {} mutation {id} took effect {n} times",
                tab.client
            );
        }
        ensure!(
            acked.iter().all(|id| *id <= tab.last_id),
            "an acknowledgement for a mutation never sent"
        );
    }
    ensure!(
        titles.len() as u64 == report.mutations,
        "{} cards for {} mutations: one card per mutation, no more, no fewer",
        titles.len(),
        report.mutations
    );
    let all = titles.len();
    titles.sort_unstable();
    titles.dedup();
    ensure!(titles.len() == all, "a card is there twice");
    Ok(report)
}
