//! Crash safety: writers push mutations while the server is killed with SIGKILL at random
//! moments and restarted on the same data. Every mutation the server acknowledged must be there
//! exactly once, and every outbox the clients still held must apply exactly once after restart.
//! (`REFORMBOARD_CRASH_CYCLES` sets the number of kills; `cargo xtask torture` runs many.)

use e2e::sync_client::{PlanFacts, ServerDb, Session, Tab};
use e2e::{Server, ServerOptions, Store};
use shared::board::{Column, sort_key};
use shared::entity::{Entity, Millis};
use shared::ids::{ClientGroupId, TaskId};
use shared::mutation::Mutation;
use shared::sync::Outcome;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

const WRITERS: usize = 3;

/// A writer's tab and the mutation ids the server acknowledged to it.
type Writer = Arc<Mutex<(Tab, Vec<u64>)>>;

fn cycles() -> usize {
    std::env::var("REFORMBOARD_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

/// Pushes the tab's whole outbox once; drops what the server answered for (applied or
/// duplicate), keeps the rest. Connection errors (the server is down) are not failures.
async fn flush(session: &Session, tab: &mut Tab, acked: &mut Vec<u64>) -> bool {
    if tab.outbox.is_empty() {
        return true;
    }
    let req = tab.push_request();
    match session.push(&req).await {
        Ok(Ok(res)) => {
            for r in res.results {
                assert!(
                    matches!(r.outcome, Outcome::Applied | Outcome::Duplicate),
                    "mutation {} was rejected: {:?}",
                    r.id,
                    r.outcome
                );
                acked.push(r.id);
                tab.outbox.retain(|m| m.id != r.id);
            }
            true
        }
        // 503 while the database comes back is a "retry".
        Ok(Err(e)) if e.status.as_u16() == 503 => false,
        Ok(Err(e)) => panic!("push failed: {e}"),
        Err(_) => false,
    }
}

async fn crash_cycles(store: Store) -> anyhow::Result<()> {
    let opts = ServerOptions {
        store,
        ..Default::default()
    };
    let server = Server::start(opts.clone()).await?;
    let addr = server.addr()?;
    let office = Session::login(&server, "office").await?;
    let facts = PlanFacts::new(office.server_view().await?);
    let item = facts.item(4)?;
    let lead = Arc::new(facts.login_unit(&server, "区财政局〈国资委〉").await?);

    let stop = Arc::new(AtomicBool::new(false));
    let tabs: Vec<Writer> = (0..WRITERS)
        .map(|_| Arc::new(Mutex::new((Tab::new(ClientGroupId::new_v7()), Vec::new()))))
        .collect();
    let mut writers = Vec::new();
    for (w, tab) in tabs.iter().enumerate() {
        let (tab, stop, lead) = (tab.clone(), stop.clone(), lead.clone());
        let owner = item.lead_units[0];
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
                flush(&lead, tab, acked).await;
                drop(guard);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }

    let mut server = Some(server);
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    for cycle in 0..cycles() {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(Duration::from_millis(150 + rng % 400)).await;
        let (dir, url) = server
            .take()
            .map(Server::kill)
            .ok_or_else(|| anyhow::anyhow!("no server"))?;
        eprintln!("crash cycle {cycle}: killed");
        tokio::time::sleep(Duration::from_millis(50)).await;
        server = Some(
            Server::start_in(
                ServerOptions {
                    addr: Some(addr),
                    ..opts.clone()
                },
                dir,
                url,
            )
            .await?,
        );
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await?;
    }
    let server = server.ok_or_else(|| anyhow::anyhow!("no server"))?;

    // Whatever the clients still hold goes through now, exactly once.
    let mut expected = 0u64;
    for tab in &tabs {
        let mut guard = tab.lock().await;
        let (tab, acked) = &mut *guard;
        for _ in 0..100 {
            if flush(&lead, tab, acked).await && tab.outbox.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::ensure!(tab.outbox.is_empty(), "outbox never drained");
        expected += tab.last_id;
    }

    let db = ServerDb::open(&server).await?;
    let mut per_mutation: BTreeMap<(String, i64), usize> = BTreeMap::new();
    for row in db.mutation_audit().await? {
        if let (Some(c), Some(m)) = (row.client_id, row.mutation_id) {
            *per_mutation.entry((c, m)).or_default() += 1;
        }
    }
    let state = db.entities().await?;
    let titles: Vec<&str> = state
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
            assert_eq!(
                n, 1,
                "client {} mutation {id} took effect {n} times",
                tab.client
            );
        }
        assert!(acked.iter().all(|id| *id <= tab.last_id));
    }
    assert_eq!(
        titles.len() as u64,
        expected,
        "one card per mutation, no more, no fewer"
    );
    let mut unique = titles.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), titles.len(), "no card twice");
    eprintln!(
        "{store:?}: {} kill -9 cycles, {expected} mutations checked, each applied exactly once",
        cycles()
    );
    Ok(())
}

#[tokio::test]
async fn kill_9_loses_nothing_sqlite() -> anyhow::Result<()> {
    crash_cycles(Store::Sqlite).await
}

#[tokio::test]
async fn kill_9_loses_nothing_postgres() -> anyhow::Result<()> {
    crash_cycles(Store::Postgres).await
}
