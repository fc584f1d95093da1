//! A seeded simulation of many sync clients against the real server, on SQLite and PostgreSQL.
//!
//! Four users (the office, item 4's lead unit, a unit that cooperates on it, a unit that has
//! nothing to do with it) with a few tabs each (tabs of one user share a client group; the office
//! has a second browser) make random board changes the way the browser does: written to the
//! outbox first, shown as base + pending re-applied with `shared::mutation::apply`. Faults are
//! injected on the client side: push responses that never arrive (so the client retries and the
//! server sees duplicates), pushes sent twice, pull responses that arrive late or after a later
//! push's response, offline periods, tab reloads that lose the in-memory copy but keep the
//! outbox. Then several clients push at once into the same items, in different orders, so
//! their transactions wait on each other's locks (the server takes them in one order, so they
//! must not deadlock), while tabs of the same browser pull in between. After quiescence:
//! * every tab's view equals what the server gives a fresh client of that user;
//! * every mutation id of every client is, exactly once, either applied (one audit row) or
//!   rejected (one rejection row), and what each client heard agrees with that;
//! * each entity's audit trail is one unbroken chain of before/after ending in its stored value
//!   (no lost update, no double application);
//! * cookies and last mutation ids never went backwards, and a pull sent after a push was
//!   answered reflects it (read your writes); a pull's last ids and entities come from one
//!   snapshot (what a client of the group created and a pull counts as applied is in it);
//! * no answer was a 5xx other than 503.
//!
//! Two PostgreSQL tests force the transient failures the server must absorb: serialization
//! failures (the database's default isolation set to SERIALIZABLE, and a row updated under a
//! waiting push) are retried inside the server; lock timeouts that outlast its retries are
//! answered 503, advance nothing, and the same push sent later applies exactly once.
//!
//! The seed is printed; `REFORMBOARD_SIM_SEED=<n>` replays a run's client decisions.

use anyhow::{Context, bail, ensure};
use e2e::sync_client::{HttpError, PlanFacts, ServerDb, Session, Tab, diff, pull_request};
use e2e::{Server, ServerOptions, Store};
use reqwest::StatusCode;
use serde_json::Value;
use shared::actor::Actor;
use shared::board::{Column, sort_key};
use shared::entity::{EntityKey, Item, Millis, Space};
use shared::ids::{ClientGroupId, ClientId, CommentId, StepId, TaskId};
use shared::mutation::Mutation;
use shared::state::State;
use shared::sync::{Cookie, Outcome, PullResponse, PushRequest, PushResponse};
use sqlx::Connection;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEFAULT_SEED: u64 = 0x5eed_2014_0320;
/// Random client steps of the first phase (about 55% of them make a mutation).
const STEPS: usize = 650;
/// Clients pushing at once in the contention phase, and rounds each.
const WORKERS: usize = 6;
const ROUNDS: usize = 8;

#[tokio::test]
async fn simulation_sqlite() -> anyhow::Result<()> {
    simulation(Store::Sqlite).await
}

#[tokio::test]
async fn simulation_postgres() -> anyhow::Result<()> {
    simulation(Store::Postgres).await
}

async fn simulation(store: Store) -> anyhow::Result<()> {
    let seed = seed();
    println!("sync simulation on {store:?}: seed {seed} (replay with REFORMBOARD_SIM_SEED={seed})");
    let started = Instant::now();
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let mut sim = Sim::new(&server, seed).await?;
    sim.random_phase(STEPS)
        .await
        .with_context(|| format!("seed {seed}"))?;
    sim.contention(WORKERS, ROUNDS)
        .await
        .with_context(|| format!("seed {seed}"))?;
    sim.quiesce_and_check()
        .await
        .with_context(|| format!("seed {seed}"))?;
    println!("{store:?}: {} in {:.1?}", sim.stats, started.elapsed());
    ensure!(
        sim.stats.mutations >= 300,
        "the run is big enough to mean something: {}",
        sim.stats
    );
    ensure!(
        sim.stats.applied > 100 && sim.stats.rejected > 5,
        "both outcomes occur: {}",
        sim.stats
    );
    ensure!(
        sim.stats.dropped > 0
            && sim.stats.duplicated > 0
            && sim.stats.late_pulls > 0
            && sim.stats.restarts > 0,
        "every fault was injected: {}",
        sim.stats
    );
    Ok(())
}

/// A serialization failure (40001) inside a push is retried by the server, not passed on; then
/// many clients pushing at once under SERIALIZABLE get only 200s and 503s, and every mutation
/// takes effect exactly once.
#[tokio::test]
async fn serialization_failures_are_retried_postgres() -> anyhow::Result<()> {
    let url = postgres_database_with("default_transaction_isolation = 'serializable'").await?;
    let (server, mut sim, tab, task, space) = on_postgres(&url).await?;

    // Hold the item's space row, let the push wait on it, then change it under the push.
    let (mut holder, holder_pid) = hold_space(&url, &space).await?;
    let office = sim.users[0].session.clone();
    let mut tab = tab;
    tab.tab.add(Mutation::SetTaskProgress {
        task,
        progress: 40,
        at: Millis(1),
    });
    let req = tab.tab.push_request();
    let push = tokio::spawn(async move { office.push(&req).await });
    wait_for_lock_wait(&url, holder_pid).await?;
    sqlx::query("COMMIT").execute(&mut holder).await?;
    let res = push
        .await??
        .map_err(|e| anyhow::anyhow!("the push must absorb the serialization failure: {e}"))?;
    ensure!(
        res.results.last().map(|r| &r.outcome) == Some(&Outcome::Applied),
        "{res:?}"
    );
    let db = ServerDb::open(&server).await?;
    ensure!(db.last_mutation_id(tab.tab.client).await? == Some(2));
    sim.adopt(tab, vec![(2, Outcome::Applied)]);

    sim.contention(WORKERS, ROUNDS).await?;
    sim.quiesce_and_check().await?;
    println!("serializable: {}", sim.stats);
    Ok(())
}

/// A push that keeps failing transiently (here: a lock held longer than the database's
/// lock_timeout, through every retry inside the server) is answered 503 and advances nothing;
/// sent again later, it applies exactly once. Then many clients push at once with that short
/// lock_timeout: 503s happen and are retried until everything applied once.
#[tokio::test]
async fn lock_timeouts_give_503_and_the_retry_applies_once_postgres() -> anyhow::Result<()> {
    let url = postgres_database_with("lock_timeout = '150ms'").await?;
    let (server, mut sim, mut tab, task, space) = on_postgres(&url).await?;
    let db = ServerDb::open(&server).await?;
    let audit_before = db.mutation_audit().await?.len();

    let (mut holder, _) = hold_space(&url, &space).await?;
    tab.tab.add(Mutation::SetTaskProgress {
        task,
        progress: 70,
        at: Millis(1),
    });
    let req = tab.tab.push_request();
    let office = sim.users[0].session.clone();
    let res = office.push(&req).await?;
    let err = res
        .err()
        .context("a push that cannot get its lock must fail")?;
    ensure!(
        err.status == StatusCode::SERVICE_UNAVAILABLE,
        "a transient failure is a 503: {err}"
    );
    ensure!(
        db.last_mutation_id(tab.tab.client).await? == Some(1),
        "a 503 advances nothing"
    );
    ensure!(
        db.mutation_audit().await?.len() == audit_before,
        "and writes nothing"
    );
    sqlx::query("ROLLBACK").execute(&mut holder).await?;

    let res = office.push_ok(&req).await?;
    let outcomes: Vec<&Outcome> = res.results.iter().map(|r| &r.outcome).collect();
    ensure!(
        outcomes == [&Outcome::Applied],
        "the retry applies it: {outcomes:?}"
    );
    let res = office.push_ok(&req).await?;
    ensure!(
        res.results.iter().all(|r| r.outcome == Outcome::Duplicate),
        "once: {res:?}"
    );
    ensure!(db.last_mutation_id(tab.tab.client).await? == Some(2));

    // The same when the lock is on the entities the push reads (here, the item it creates a
    // task in), not on the version row: still a 503, never a 500.
    sqlx::query("BEGIN").execute(&mut holder).await?;
    sqlx::query("LOCK TABLE entity IN ACCESS EXCLUSIVE MODE")
        .execute(&mut holder)
        .await?;
    let created = TaskId::new_v7();
    tab.tab.add(Mutation::CreateTask {
        id: created,
        item: sim.items[1].id,
        title: "锁等待中创建".into(),
        owner: sim.items[1].lead_units[0],
        column: Column::NotStarted,
        sort_key: sort_key::between(None, None),
        due: None,
        at: Millis(2),
    });
    let req = tab.tab.push_request();
    let err = office
        .push(&req)
        .await?
        .err()
        .context("the push cannot read the item")?;
    ensure!(
        err.status == StatusCode::SERVICE_UNAVAILABLE,
        "a transient failure is a 503: {err}"
    );
    sqlx::query("ROLLBACK").execute(&mut holder).await?;
    ensure!(
        db.last_mutation_id(tab.tab.client).await? == Some(2),
        "a 503 advances nothing"
    );
    let res = office.push_ok(&req).await?;
    ensure!(
        res.results.last().map(|r| &r.outcome) == Some(&Outcome::Applied),
        "{res:?}"
    );
    sim.adopt(tab, vec![(2, Outcome::Applied), (3, Outcome::Applied)]);

    sim.contention(WORKERS, ROUNDS).await?;
    sim.quiesce_and_check().await?;
    println!("lock_timeout: {}", sim.stats);
    Ok(())
}

fn seed() -> u64 {
    std::env::var("REFORMBOARD_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

/// A fresh PostgreSQL database whose sessions default to `setting` (set before the server
/// connects, so every connection of its pool has it).
async fn postgres_database_with(setting: &str) -> anyhow::Result<String> {
    let url = e2e::fresh_postgres_database().await?;
    let admin = e2e::postgres_admin_url().context("REFORMBOARD_TEST_PG")?;
    let name = url.rsplit('/').next().context("database name")?;
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET {setting}"
    )))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(url)
}

/// Waits until some backend other than `holder` waits for a lock in the database at `url`.
/// A server on the PostgreSQL database at `url`, a simulation on it, and a tab that created a
/// task on item 2 (`Sim::tab_with_task`), with that item's space.
async fn on_postgres(url: &str) -> anyhow::Result<(Server, Sim, SimTab, TaskId, String)> {
    let server = Server::start(ServerOptions {
        store: Store::Postgres,
        database_url: Some(url.to_string()),
        ..Default::default()
    })
    .await?;
    let mut sim = Sim::new(&server, seed()).await?;
    let (tab, task) = sim.tab_with_task().await?;
    let space = Space::Item(sim.items[1].id).to_string();
    Ok((server, sim, tab, task, space))
}

/// A session of its own, in a transaction holding the row of `space` (pushes that write the
/// space wait for it until the caller commits or rolls back), and its backend's pid.
async fn hold_space(url: &str, space: &str) -> anyhow::Result<(sqlx::PgConnection, i32)> {
    let mut holder = sqlx::PgConnection::connect(url).await?;
    sqlx::query("BEGIN").execute(&mut holder).await?;
    sqlx::query("UPDATE space SET version = version WHERE id = $1")
        .bind(space)
        .execute(&mut holder)
        .await?;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut holder)
        .await?;
    Ok((holder, pid))
}

async fn wait_for_lock_wait(url: &str, holder: i32) -> anyhow::Result<()> {
    wait_for_lock_waits(url, holder, 1).await
}

/// Waits until `n` sessions other than `holder` wait for a lock.
async fn wait_for_lock_waits(url: &str, holder: i32, n: i64) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND pid <> $1",
        )
        .bind(holder)
        .fetch_one(&mut conn)
        .await?;
        if waiting >= n {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "the push never waited for the lock"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A client that sends a change while an earlier one of its own is still being applied (held
/// here at its item's lock) has it applied on top of the earlier one. The later push reads
/// before the earlier one commits, then waits for the client's row behind it; holding the row,
/// it must see what the earlier one wrote (here, the task it changes), not its snapshot's
/// older view, where the task does not exist yet.
#[tokio::test]
async fn a_change_sent_while_the_clients_earlier_one_waits_sees_it_postgres() -> anyhow::Result<()>
{
    let url = e2e::fresh_postgres_database().await?;
    let (server, sim, mut tab, _, space) = on_postgres(&url).await?;
    let item = &sim.items[1];

    let (mut holder, holder_pid) = hold_space(&url, &space).await?;
    let task = TaskId::new_v7();
    tab.tab.add(Mutation::CreateTask {
        id: task,
        item: item.id,
        title: "第二项任务".into(),
        owner: item.lead_units[0],
        column: Column::NotStarted,
        sort_key: sort_key::between(None, None),
        due: None,
        at: Millis(2),
    });
    let first = tab.tab.push_request();
    let later = tab.tab.add(Mutation::SetTaskProgress {
        task,
        progress: 30,
        at: Millis(3),
    });
    let mut second = tab.tab.push_request();
    second.mutations.retain(|m| m.id == later);

    let office = sim.users[0].session.clone();
    let pusher = office.clone();
    let first = tokio::spawn(async move { pusher.push(&first).await });
    wait_for_lock_waits(&url, holder_pid, 1).await?;
    let pusher = office.clone();
    let second = tokio::spawn(async move { pusher.push(&second).await });
    // The second waits behind the first, which waits behind the holder.
    wait_for_lock_waits(&url, holder_pid, 2).await?;
    sqlx::query("COMMIT").execute(&mut holder).await?;

    let outcome = |res: PushResponse| res.results.last().map(|r| r.outcome.clone());
    let first = first.await??.map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(outcome(first) == Some(Outcome::Applied));
    let second = second.await??.map_err(|e| anyhow::anyhow!("{e}"))?;
    ensure!(
        outcome(second.clone()) == Some(Outcome::Applied),
        "the change to the task the earlier push created: {second:?}"
    );
    let db = ServerDb::open(&server).await?;
    ensure!(db.last_mutation_id(tab.tab.client).await? == Some(3));
    Ok(())
}

/// SplitMix64: small, fast, and the same sequence on every platform and crate version.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        if xs.is_empty() {
            None
        } else {
            xs.get(self.below(xs.len()))
        }
    }
    fn uuid(&mut self, millis: i64) -> uuid::Uuid {
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes()[..2]);
        uuid::Builder::from_unix_timestamp_millis(millis.unsigned_abs(), &bytes).into_uuid()
    }
}

#[derive(Default, Debug)]
struct Stats {
    mutations: usize,
    pushes: usize,
    pulls: usize,
    dropped: usize,
    duplicated: usize,
    late_pulls: usize,
    stale_pulls: usize,
    reordered: usize,
    restarts: usize,
    offline: usize,
    unavailable: usize,
    applied: usize,
    rejected: usize,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} mutations ({} applied, {} rejected), {} pushes ({} responses dropped, {} sent twice, {} answered 503), \
             {} pulls ({} delivered late, {} dropped as stale, {} after a later push), {} reloads, {} offline periods",
            self.mutations,
            self.applied,
            self.rejected,
            self.pushes,
            self.dropped,
            self.duplicated,
            self.unavailable,
            self.pulls,
            self.late_pulls,
            self.stale_pulls,
            self.reordered,
            self.restarts,
            self.offline
        )
    }
}

struct User {
    name: &'static str,
    session: Session,
    actor: Actor,
}

/// The position a tab has seen, recorded when it sends a pull: the answer must not be behind it.
#[derive(Clone, Debug)]
struct Watermark {
    spaces: BTreeMap<String, i64>,
    last_ids: BTreeMap<ClientId, u64>,
}

/// A pull response not yet delivered to its tab.
struct InFlight {
    sent: Option<Cookie>,
    mark: Watermark,
    res: PullResponse,
}

struct SimTab {
    user: usize,
    tab: Tab,
    online: bool,
    held: Option<InFlight>,
    /// Highest version of each space this tab has been answered.
    spaces_seen: BTreeMap<String, i64>,
    /// What the tab heard about its mutations (a dropped response hears nothing).
    heard: BTreeMap<u64, Outcome>,
    /// Highest mutation id sent in any push so far; a duplicate above it would be invented.
    max_sent: u64,
    /// The entity each of its creating mutations makes.
    creates: BTreeMap<u64, EntityKey>,
}

impl SimTab {
    fn new(user: usize, group: ClientGroupId) -> SimTab {
        SimTab {
            user,
            tab: Tab::new(group),
            online: true,
            held: None,
            spaces_seen: BTreeMap::new(),
            heard: BTreeMap::new(),
            max_sent: 0,
            creates: BTreeMap::new(),
        }
    }
}

struct Sim {
    rng: Rng,
    clock: i64,
    users: Vec<User>,
    tabs: Vec<SimTab>,
    /// Highest last mutation id known per client of each group (from pulls and push answers).
    group_last_ids: HashMap<ClientGroupId, BTreeMap<ClientId, u64>>,
    /// Items 4 (the shared one), 2 (same lead, same cooperating unit), 3 (led by the
    /// cooperating unit), 7 (led by the unrelated unit).
    items: Vec<Item>,
    stats: Stats,
    db: ServerDb,
}

impl Sim {
    async fn new(server: &Server, seed: u64) -> anyhow::Result<Sim> {
        let office = Session::login(server, "office").await?;
        let facts = PlanFacts::new(office.server_view().await?);
        let mut users = vec![User {
            name: "office",
            actor: office.actor(),
            session: office,
        }];
        for (name, unit) in [
            ("lead", "区财政局〈国资委〉"),
            ("coop", "区发改局"),
            ("other", "区法院"),
        ] {
            let session = facts.login_unit(server, unit).await?;
            users.push(User {
                name,
                actor: session.actor(),
                session,
            });
        }
        let items = vec![
            facts.item(2)?,
            facts.item(4)?,
            facts.item(3)?,
            facts.item(7)?,
        ];
        ensure!(items[1].lead_units == vec![users[1].actor.unit]);
        ensure!(items[1].cooperating_units.contains(&users[2].actor.unit));
        ensure!(items[3].lead_units == vec![users[3].actor.unit]);
        let mut tabs = Vec::new();
        for user in 0..users.len() {
            let group = ClientGroupId::new_v7();
            tabs.push(SimTab::new(user, group));
            tabs.push(SimTab::new(user, group));
        }
        // The office's phone: a second browser, so a second group of the same user.
        tabs.push(SimTab::new(0, ClientGroupId::new_v7()));
        Ok(Sim {
            rng: Rng(seed),
            clock: 1_400_000_000_000,
            users,
            tabs,
            group_last_ids: HashMap::new(),
            items,
            stats: Stats::default(),
            db: ServerDb::open(server).await?,
        })
    }

    fn tick(&mut self) -> Millis {
        self.clock += 1 + self.rng.below(5_000) as i64;
        Millis(self.clock)
    }

    fn watermark(&self, t: usize) -> Watermark {
        let tab = &self.tabs[t];
        Watermark {
            spaces: tab.spaces_seen.clone(),
            last_ids: self
                .group_last_ids
                .get(&tab.tab.group)
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// Sends tab `t`'s pull; the response is returned, not yet delivered.
    async fn send_pull(&mut self, t: usize) -> anyhow::Result<InFlight> {
        self.stats.pulls += 1;
        let sent = self.tabs[t].tab.cookie.clone();
        let mark = self.watermark(t);
        let req = pull_request(self.tabs[t].tab.group, sent.clone());
        let res = self.users[self.tabs[t].user].session.pull(&req).await?;
        let res = res.map_err(|e| anyhow::anyhow!("pull: {e}"))?;
        Ok(InFlight { sent, mark, res })
    }

    /// Delivers a pull response to tab `t`: checks that the server did not go back behind what
    /// the tab had seen when it asked, then lets the tab take it (or drop it as stale).
    fn deliver_pull(&mut self, t: usize, pull: InFlight) -> anyhow::Result<()> {
        let InFlight { sent, mark, res } = pull;
        let last_ids = res.last_mutation_ids.clone();
        for (space, v) in &mark.spaces {
            let now = res.cookie.spaces.get(space).copied().unwrap_or(-1);
            ensure!(
                now >= *v,
                "tab {t}: space {space} went back from {v} to {now}"
            );
        }
        for (client, v) in &mark.last_ids {
            let now = res.last_mutation_ids.get(client).copied().unwrap_or(0);
            ensure!(
                now >= *v,
                "tab {t}: last id of {client} went back from {v} to {now} (or a pull missed a push)"
            );
        }
        let group = self.tabs[t].tab.group;
        let known = self.group_last_ids.entry(group).or_default();
        for (client, v) in &res.last_mutation_ids {
            let k = known.entry(*client).or_default();
            *k = (*k).max(*v);
        }
        let st = &mut self.tabs[t];
        for (space, v) in &res.cookie.spaces {
            let seen = st.spaces_seen.entry(space.clone()).or_default();
            *seen = (*seen).max(*v);
        }
        if !st.tab.take_pull(&sent, res)? {
            self.stats.stale_pulls += 1;
            return Ok(());
        }
        // Read your writes, from the same snapshot as the last ids, for every tab of the group.
        let mut creates: Creates = BTreeMap::new();
        for other in self.tabs.iter().filter(|o| o.tab.group == group) {
            let applied = other
                .creates
                .iter()
                .filter(|(id, _)| other.heard.get(id) == Some(&Outcome::Applied));
            creates.insert(
                other.tab.client,
                applied.map(|(id, key)| (*id, key.clone())).collect(),
            );
        }
        let st = &self.tabs[t];
        check_snapshot(&st.tab.base, &last_ids, &creates).with_context(|| format!("tab {t}"))
    }

    /// Sends tab `t`'s outbox. Returns None when there was nothing to send.
    async fn send_push(
        &mut self,
        t: usize,
    ) -> anyhow::Result<Option<(PushRequest, Result<PushResponse, HttpError>)>> {
        if self.tabs[t].tab.outbox.is_empty() {
            return Ok(None);
        }
        self.stats.pushes += 1;
        let req = self.tabs[t].tab.push_request();
        let res = self.users[self.tabs[t].user].session.push(&req).await?;
        let max_sent = self.tabs[t].max_sent;
        if let Ok(res) = &res {
            check_push_answer(&req, res, max_sent)?;
        }
        if let Err(e) = &res {
            ensure!(
                e.status == StatusCode::SERVICE_UNAVAILABLE,
                "a push may only fail with 503: {e}"
            );
            self.stats.unavailable += 1;
        } else if let Some(last) = req.mutations.last() {
            let st = &mut self.tabs[t];
            st.max_sent = st.max_sent.max(last.id);
        }
        Ok(Some((req, res)))
    }

    /// The tab hears a push answer.
    fn hear_push(&mut self, t: usize, res: &PushResponse) {
        let st = &mut self.tabs[t];
        let mut top = 0;
        for r in &res.results {
            top = top.max(r.id);
            if r.outcome != Outcome::Duplicate {
                st.heard.insert(r.id, r.outcome.clone());
            }
        }
        let known = self
            .group_last_ids
            .entry(st.tab.group)
            .or_default()
            .entry(st.tab.client)
            .or_default();
        *known = (*known).max(top);
    }

    async fn push_and_hear(&mut self, t: usize) -> anyhow::Result<()> {
        if let Some((_, Ok(res))) = self.send_push(t).await? {
            self.hear_push(t, &res);
        }
        Ok(())
    }

    async fn pull_and_take(&mut self, t: usize) -> anyhow::Result<()> {
        let pull = self.send_pull(t).await?;
        self.deliver_pull(t, pull)
    }

    /// The random phase: one client action per step, faults included.
    async fn random_phase(&mut self, steps: usize) -> anyhow::Result<()> {
        // Everyone starts from a first pull.
        for t in 0..self.tabs.len() {
            self.pull_and_take(t).await?;
        }
        for _ in 0..steps {
            let t = self.rng.below(self.tabs.len());
            let roll = self.rng.below(100);
            let online = self.tabs[t].online;
            match roll {
                0..55 => self.mutate(t),
                55..70 if online => {
                    let fault = self.rng.below(100);
                    match self.send_push(t).await? {
                        // The server applied it; the answer is lost: the outbox stays and is
                        // sent again later, and the server must see duplicates.
                        Some(_) if fault < 20 => self.stats.dropped += 1,
                        Some((req, first)) if fault < 35 => {
                            self.stats.duplicated += 1;
                            let again = self.users[self.tabs[t].user].session.push(&req).await?;
                            let again = again.map_err(|e| anyhow::anyhow!("second push: {e}"))?;
                            // Applied once: the second time a duplicate; a refusal is told
                            // again, as it was the first time.
                            if let Ok(first) = &first {
                                ensure!(
                                    first.results.len() == again.results.len()
                                        && first.results.iter().zip(&again.results).all(
                                            |(one, two)| match &one.outcome {
                                                Outcome::Rejected { .. } => {
                                                    two.outcome == one.outcome
                                                }
                                                _ => two.outcome == Outcome::Duplicate,
                                            }
                                        ),
                                    "the same push twice applies once: {first:?} then {again:?}"
                                );
                            }
                            self.hear_push(t, &again);
                            if let Ok(first) = first {
                                self.hear_push(t, &first);
                            }
                        }
                        Some((_, Ok(res))) => self.hear_push(t, &res),
                        _ => {}
                    }
                }
                70..85 if online => {
                    let fault = self.rng.below(100);
                    if fault < 20 && self.tabs[t].held.is_none() {
                        // The answer is slow: it arrives some steps later, maybe after newer ones.
                        let pull = self.send_pull(t).await?;
                        self.tabs[t].held = Some(pull);
                    } else if fault < 40 {
                        // The pull answer arrives after the answer of a push sent after it.
                        self.stats.reordered += 1;
                        let pull = self.send_pull(t).await?;
                        self.push_and_hear(t).await?;
                        self.deliver_pull(t, pull)?;
                    } else {
                        self.pull_and_take(t).await?;
                    }
                }
                85..90 => {
                    if let Some(pull) = self.tabs[t].held.take() {
                        self.stats.late_pulls += 1;
                        self.deliver_pull(t, pull)?;
                    }
                }
                90..96 => {
                    let st = &mut self.tabs[t];
                    st.online = !st.online;
                    if !st.online {
                        self.stats.offline += 1;
                    }
                }
                96..100 => {
                    // A reload: the page's memory (and any answer in flight) is gone, the
                    // outbox in IndexedDB is not; it starts over with a pull without cookie.
                    self.stats.restarts += 1;
                    let st = &mut self.tabs[t];
                    st.tab.restart();
                    st.held = None;
                    if st.online {
                        self.pull_and_take(t).await?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A random change tab `t`'s user could make from what the tab shows; now and then one the
    /// UI would not offer, which the server must refuse.
    fn mutate(&mut self, t: usize) {
        let actor = self.users[self.tabs[t].user].actor.clone();
        let view = self.tabs[t].tab.view(&actor);
        let mut chosen = None;
        for _ in 0..8 {
            let m = self.random_mutation(&view);
            let allowed = m.authorize(&view, &actor).is_ok();
            if allowed || self.rng.percent(8) {
                chosen = Some(m);
                break;
            }
        }
        if let Some(m) = chosen {
            self.stats.mutations += 1;
            let key = match &m {
                Mutation::CreateTask { id, .. } => Some(EntityKey::task(*id)),
                Mutation::AddComment { id, .. } => Some(EntityKey::comment(*id)),
                _ => None,
            };
            let st = &mut self.tabs[t];
            let id = st.tab.add(m);
            if let Some(key) = key {
                st.creates.insert(id, key);
            }
        }
    }

    fn random_mutation(&mut self, view: &State) -> Mutation {
        // Item 4 is where most of the work (and the conflicts) are.
        let item = if self.rng.percent(50) {
            self.items[1].clone()
        } else {
            self.items[self.rng.below(self.items.len())].clone()
        };
        let at = self.tick();
        let mut tasks: Vec<_> = view
            .tasks()
            .filter(|x| x.item == item.id)
            .cloned()
            .collect();
        tasks.sort_by_key(|x| x.id);
        let task = self.rng.pick(&tasks).cloned();
        let owners: Vec<_> = item
            .lead_units
            .iter()
            .chain(&item.cooperating_units)
            .copied()
            .collect();
        let Some(task) = task.filter(|_| !self.rng.percent(15)) else {
            if self.rng.percent(25) {
                let id = CommentId(self.rng.uuid(at.0));
                let on = self
                    .rng
                    .pick(&tasks)
                    .map(|x| x.id)
                    .filter(|_| self.rng.percent(50));
                return Mutation::AddComment {
                    id,
                    item: item.id,
                    task: on,
                    body: format!("意见{}", at.0 % 1000),
                    at,
                };
            }
            let column = Column::ALL[self.rng.below(4)];
            let last = tasks
                .iter()
                .filter(|x| x.column == column)
                .map(|x| x.sort_key.clone())
                .max();
            return Mutation::CreateTask {
                id: TaskId(self.rng.uuid(at.0)),
                item: item.id,
                title: format!("任务{}", at.0 % 10_000),
                owner: self
                    .rng
                    .pick(&owners)
                    .copied()
                    .unwrap_or(item.lead_units[0]),
                column,
                sort_key: sort_key::between(last.as_deref(), None),
                // Past dates (a unit's is refused, `postponement::check_new_due`) and future.
                due: chrono::NaiveDate::from_ymd_opt(
                    if self.rng.percent(50) { 2014 } else { 2040 },
                    1 + self.rng.below(12) as u32,
                    1 + self.rng.below(28) as u32,
                )
                .filter(|_| self.rng.percent(50)),
                at,
            };
        };
        let step = self.rng.pick(&task.steps).map(|s| s.id);
        match (self.rng.below(14), step) {
            (0..=2, _) => {
                // A move to a random place in a random column: between two neighbours.
                let column = Column::ALL[self.rng.below(4)];
                let mut keys: Vec<String> = tasks
                    .iter()
                    .filter(|x| x.column == column && x.id != task.id && !x.archived)
                    .map(|x| x.sort_key.clone())
                    .collect();
                keys.sort();
                let i = self.rng.below(keys.len() + 1);
                let before = i
                    .checked_sub(1)
                    .and_then(|j| keys.get(j))
                    .map(String::as_str);
                let after = keys.get(i).map(String::as_str);
                Mutation::MoveTask {
                    task: task.id,
                    column,
                    sort_key: sort_key::between(before, after),
                    at,
                }
            }
            (3..=4, _) => Mutation::SetTaskProgress {
                task: task.id,
                progress: (self.rng.below(11) * 10) as u8,
                at,
            },
            (5, _) => {
                let last = task.steps.last().map(|s| s.sort_key.clone());
                Mutation::AddStep {
                    task: task.id,
                    step: StepId(self.rng.uuid(at.0)),
                    text: format!("步骤{}", at.0 % 1000),
                    sort_key: sort_key::between(last.as_deref(), None),
                    at,
                }
            }
            (6, Some(step)) => Mutation::TickStep {
                task: task.id,
                step,
                done: self.rng.percent(70),
                at,
            },
            (7, Some(step)) => Mutation::RemoveStep {
                task: task.id,
                step,
                at,
            },
            (8, Some(step)) => Mutation::MoveStep {
                task: task.id,
                step,
                sort_key: sort_key::between(None, task.steps.first().map(|s| s.sort_key.as_str())),
                at,
            },
            (9, _) => {
                let reason = self.rng.percent(60).then(|| "等待上级批复".to_string());
                Mutation::SetTaskBlocked {
                    task: task.id,
                    reason,
                    at,
                }
            }
            (10, _) if task.archived => Mutation::RestoreTask { task: task.id, at },
            (10, _) => Mutation::ArchiveTask { task: task.id, at },
            (11, _) => Mutation::SetTaskTitle {
                task: task.id,
                title: format!(
                    "{}（修订）",
                    task.title.chars().take(20).collect::<String>()
                ),
                at,
            },
            (12, _) => Mutation::AssignTask {
                task: task.id,
                owner: self.rng.pick(&owners).copied().unwrap_or(task.owner),
                at,
            },
            _ => Mutation::AddComment {
                id: CommentId(self.rng.uuid(at.0)),
                item: item.id,
                task: Some(task.id),
                body: "请加快进度".into(),
                at,
            },
        }
    }

    /// A new office tab with one task of item 4 created and confirmed.
    async fn tab_with_task(&mut self) -> anyhow::Result<(SimTab, TaskId)> {
        let office = self.users[0].session.clone();
        let mut st = SimTab::new(0, ClientGroupId::new_v7());
        let task = TaskId::new_v7();
        st.tab.add(Mutation::CreateTask {
            id: task,
            item: self.items[1].id,
            title: "试点公司名单".into(),
            owner: self.items[1].lead_units[0],
            column: Column::NotStarted,
            sort_key: sort_key::between(None, None),
            due: None,
            at: Millis(1),
        });
        let res = office.push_ok(&st.tab.push_request()).await?;
        ensure!(res.results[0].outcome == Outcome::Applied, "{res:?}");
        st.heard.insert(1, Outcome::Applied);
        st.max_sent = 1;
        let sent = st.tab.cookie.clone();
        let res = office.pull_ok(&st.tab.pull_request()).await?;
        st.tab.take_pull(&sent, res)?;
        Ok((st, task))
    }

    /// Takes a tab made outside the simulation into the final checks.
    fn adopt(&mut self, mut st: SimTab, heard: Vec<(u64, Outcome)>) {
        for (id, outcome) in heard {
            st.max_sent = st.max_sent.max(id);
            st.heard.insert(id, outcome);
        }
        self.stats.mutations += st.tab.last_id as usize;
        self.tabs.push(st);
    }

    /// Several new tabs push at once, each batch touching items 2 and 4 in its own random order,
    /// so their transactions wait for each other's locks. A 503 is retried later with the same
    /// ids (the outbox is only trimmed by pulls, so applied mutations are sent again as well);
    /// anything else but 200 is a failure.
    async fn contention(&mut self, workers: usize, rounds: usize) -> anyhow::Result<()> {
        // The tasks they fight over, created by the office and pulled by everyone.
        let (mut setup, _) = self.tab_with_task().await?;
        for item in [self.items[0].clone(), self.items[1].clone()] {
            for n in 0..3 {
                setup.tab.add(Mutation::CreateTask {
                    id: TaskId::new_v7(),
                    item: item.id,
                    title: format!("争用任务{n}"),
                    owner: item.lead_units[0],
                    column: Column::InProgress,
                    sort_key: sort_key::between(None, None),
                    due: None,
                    at: Millis(2),
                });
            }
        }
        let office = self.users[0].session.clone();
        let res = office.push_ok(&setup.tab.push_request()).await?;
        for r in &res.results {
            if r.outcome != Outcome::Duplicate {
                setup.heard.insert(r.id, r.outcome.clone());
            }
        }
        setup.max_sent = setup.tab.last_id;
        self.stats.mutations += setup.tab.last_id as usize;
        let sent = setup.tab.cookie.clone();
        let res = office.pull_ok(&setup.tab.pull_request()).await?;
        setup.tab.take_pull(&sent, res)?;
        let base = setup.tab.base.clone();
        let tasks: Vec<(TaskId, shared::ids::ItemId)> = {
            let mut v: Vec<_> = base
                .tasks()
                .filter(|t| t.title.starts_with("争用任务"))
                .map(|t| (t.id, t.item))
                .collect();
            v.sort();
            v
        };
        self.tabs.push(setup);

        // Workers come in pairs, two tabs of one browser, and pull while the other pushes: a
        // pull must never report a last id whose effects it does not carry.
        let registry: Arc<Mutex<Creates>> = Arc::default();
        let groups: Vec<ClientGroupId> = (0..workers.div_ceil(2))
            .map(|_| ClientGroupId::new_v7())
            .collect();
        let mut handles = Vec::new();
        for w in 0..workers {
            // Office and lead unit: both may do everything on items 2 and 4.
            let user = if (w / 2) % 2 == 0 { 0 } else { 1 };
            let session = self.users[user].session.clone();
            let mut st = SimTab::new(user, groups[w / 2]);
            let mut rng = Rng(self.rng.next());
            let tasks = tasks.clone();
            let registry = registry.clone();
            handles.push(tokio::spawn(async move {
                let (mut pushes, mut unavailable) = (0, 0);
                for round in 0..rounds {
                    let n = 2 + rng.below(5);
                    for _ in 0..n {
                        let Some(&(task, item)) = rng.pick(&tasks) else {
                            break;
                        };
                        let at = Millis(10_000 + round as i64);
                        let m = match rng.below(4) {
                            0 => Mutation::SetTaskProgress {
                                task,
                                progress: rng.below(101) as u8,
                                at,
                            },
                            1 => Mutation::MoveTask {
                                task,
                                column: Column::ALL[rng.below(4)],
                                sort_key: sort_key::between(None, None),
                                at,
                            },
                            2 => Mutation::AddComment {
                                id: CommentId(rng.uuid(at.0)),
                                item,
                                task: Some(task),
                                body: format!("争用{round}"),
                                at,
                            },
                            _ => Mutation::SetTaskBlocked {
                                task,
                                reason: rng.percent(50).then(|| "资金未到位".into()),
                                at,
                            },
                        };
                        let key = match &m {
                            Mutation::AddComment { id, .. } => Some(EntityKey::comment(*id)),
                            _ => None,
                        };
                        let id = st.tab.add(m);
                        st.creates.extend(key.map(|k| (id, k)));
                    }
                    let req = st.tab.push_request();
                    pushes += 1;
                    match session.push(&req).await? {
                        Ok(res) => {
                            check_push_answer(&req, &res, st.max_sent)?;
                            st.max_sent = st.tab.last_id;
                            for r in &res.results {
                                if r.outcome != Outcome::Duplicate {
                                    st.heard.insert(r.id, r.outcome.clone());
                                }
                            }
                            let applied: BTreeMap<u64, EntityKey> = st
                                .creates
                                .iter()
                                .filter(|(id, _)| st.heard.get(id) == Some(&Outcome::Applied))
                                .map(|(id, key)| (*id, key.clone()))
                                .collect();
                            registry
                                .lock()
                                .map_err(|_| anyhow::anyhow!("poisoned"))?
                                .insert(st.tab.client, applied);
                        }
                        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => unavailable += 1,
                        Err(e) => bail!("contention: a push may only fail with 503: {e}"),
                    }
                    if rng.percent(60) {
                        let sent = st.tab.cookie.clone();
                        match session.pull(&st.tab.pull_request()).await? {
                            Ok(res) => {
                                let last_ids = res.last_mutation_ids.clone();
                                st.tab.take_pull(&sent, res)?;
                                let creates = registry
                                    .lock()
                                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                                    .clone();
                                check_snapshot(&st.tab.base, &last_ids, &creates)?;
                            }
                            Err(e) => {
                                ensure!(e.status == StatusCode::SERVICE_UNAVAILABLE, "pull: {e}")
                            }
                        }
                    }
                }
                anyhow::Ok((st, pushes, unavailable))
            }));
        }
        for h in handles {
            let (st, pushes, unavailable) = h.await??;
            self.stats.pushes += pushes;
            self.stats.unavailable += unavailable;
            self.stats.mutations += st.tab.last_id as usize;
            self.tabs.push(st);
        }
        Ok(())
    }

    /// Brings every tab online, flushes every outbox (retrying 503s), pulls everywhere, then
    /// checks everything the module doc promises.
    async fn quiesce_and_check(&mut self) -> anyhow::Result<()> {
        for st in &mut self.tabs {
            st.online = true;
            st.held = None;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut busy = false;
            for t in 0..self.tabs.len() {
                if let Some((_, res)) = self.send_push(t).await? {
                    busy = true;
                    if let Ok(res) = res {
                        self.hear_push(t, &res);
                    }
                }
                self.pull_and_take(t).await?;
            }
            if !busy && self.tabs.iter().all(|st| st.tab.outbox.is_empty()) {
                break;
            }
            ensure!(Instant::now() < deadline, "the outboxes did not drain");
        }
        // One more round of pulls so every tab has everyone's last changes.
        for t in 0..self.tabs.len() {
            self.pull_and_take(t).await?;
        }

        // 1. Every tab shows what the server gives a fresh client of its user.
        let mut server_views = Vec::new();
        for user in &self.users {
            server_views.push(user.session.server_view().await?);
        }
        for (t, st) in self.tabs.iter().enumerate() {
            let user = &self.users[st.user];
            let view = st.tab.view(&user.actor);
            let d = diff(&view, &server_views[st.user]);
            ensure!(
                d.is_empty(),
                "tab {t} ({}) differs from the server:\n{}",
                user.name,
                d.join("\n")
            );
        }
        // Today everything is public: every user sees the whole stored state.
        let stored = self.db.entities().await?;
        for (user, view) in self.users.iter().zip(&server_views) {
            let d = diff(view, &stored);
            ensure!(
                d.is_empty(),
                "{} does not see the stored state:\n{}",
                user.name,
                d.join("\n")
            );
        }

        // 2. Exactly once: each mutation id of each client is applied (one audit row) or
        //    rejected (one rejection row), never both, never twice; what was heard agrees.
        let audit = self.db.mutation_audit().await?;
        let rejections = self.db.rejections().await?;
        let mut applied: HashMap<(String, i64), usize> = HashMap::new();
        for row in &audit {
            if let (Some(c), Some(m)) = (&row.client_id, row.mutation_id) {
                *applied.entry((c.clone(), m)).or_default() += 1;
            }
        }
        let mut accounted = 0;
        for (t, st) in self.tabs.iter().enumerate() {
            let client = st.tab.client.to_string();
            let stored = self.db.last_mutation_id(st.tab.client).await?.unwrap_or(0);
            ensure!(
                stored == st.tab.last_id as i64,
                "tab {t}: server has {stored}, tab made {}",
                st.tab.last_id
            );
            for id in 1..=st.tab.last_id as i64 {
                let key = (client.clone(), id);
                let a = applied.get(&key).copied().unwrap_or(0);
                let r = rejections.get(&key);
                ensure!(a <= 1, "tab {t}: mutation {id} took effect {a} times");
                ensure!(
                    a + usize::from(r.is_some()) == 1,
                    "tab {t}: mutation {id}: applied {a}, rejected {r:?}"
                );
                match st.heard.get(&(id as u64)) {
                    Some(Outcome::Applied) => {
                        ensure!(a == 1, "tab {t}: heard {id} applied, but it was not")
                    }
                    Some(Outcome::Rejected { reason }) => ensure!(
                        r == Some(&reason.to_string()),
                        "tab {t}: heard {id} rejected for {reason}, recorded {r:?}"
                    ),
                    _ => {}
                }
                if a == 1 {
                    self.stats.applied += 1;
                } else {
                    self.stats.rejected += 1;
                }
                accounted += a;
            }
        }
        ensure!(
            accounted == audit.len(),
            "{} audit rows, {accounted} from known clients",
            audit.len()
        );

        // 3. Each entity's trail is one chain: created once, each row's before is the previous
        //    row's after, and the last after is what is stored.
        let mut trails: BTreeMap<String, Vec<&e2e::sync_client::MutationAudit>> = BTreeMap::new();
        for row in &audit {
            if let Some(entity) = &row.entity {
                trails.entry(entity.clone()).or_default().push(row);
            }
        }
        let json = |s: &Option<String>| -> anyhow::Result<Option<Value>> {
            s.as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(anyhow::Error::from)
        };
        for (entity, rows) in &trails {
            let mut prev: Option<Value> = None;
            for (i, row) in rows.iter().enumerate() {
                ensure!(
                    json(&row.before)? == prev,
                    "{entity}: audit row {i} ({}) does not continue from the previous one",
                    row.action
                );
                prev = json(&row.after)?;
            }
            let stored = stored
                .get(&EntityKey(entity.clone()))
                .map(serde_json::to_value)
                .transpose()?;
            ensure!(
                prev == stored,
                "{entity}: the trail does not end in the stored value"
            );
        }
        Ok(())
    }
}

/// Per client, the entities its mutations created that it heard applied, by mutation id.
type Creates = BTreeMap<ClientId, BTreeMap<u64, EntityKey>>;

/// The snapshot rule of a pull: its last mutation ids and its entities are read together, so
/// whatever a client of the group created, heard applied, and is covered by the last id the pull
/// reports for that client is in the state the pull leads to.
fn check_snapshot(
    base: &State,
    last_ids: &BTreeMap<ClientId, u64>,
    creates: &Creates,
) -> anyhow::Result<()> {
    for (client, last) in last_ids {
        for (id, key) in creates
            .get(client)
            .into_iter()
            .flat_map(|c| c.range(..=*last))
        {
            ensure!(
                base.get(key).is_some(),
                "the pull says mutation {id} of {client} is applied, but {key} is not in it"
            );
        }
    }
    Ok(())
}

/// A push answer must answer each mutation sent, in order, and may call a mutation a duplicate
/// only if it was sent before.
fn check_push_answer(req: &PushRequest, res: &PushResponse, max_sent: u64) -> anyhow::Result<()> {
    ensure!(
        res.results.len() == req.mutations.len(),
        "{} results for {} mutations",
        res.results.len(),
        req.mutations.len()
    );
    for (m, r) in req.mutations.iter().zip(&res.results) {
        ensure!(
            (m.client_id, m.id) == (r.client_id, r.id),
            "results out of order: {res:?}"
        );
        if r.outcome == Outcome::Duplicate {
            ensure!(
                m.id <= max_sent,
                "mutation {} was never sent before but is called a duplicate",
                m.id
            );
        }
    }
    Ok(())
}
