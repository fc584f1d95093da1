//! The load generator behind `cargo xtask bench`: starts the real `reformboard` binary (the one
//! `REFORMBOARD_BIN` names) and drives it over the real sync protocol, then prints one JSON object
//! with what it measured on stdout. Progress goes to stderr. Nothing here passes or fails on a
//! time: a scenario fails only if the server does not do what was asked.
//!
//! `loadgen first-load` — bytes a cold browser downloads before the login, plan and board
//! screens show, as served, per encoding.
//! `loadgen board-render [--smoke]` — an item board with 100 / 1,000 cards in headless Chromium.
//! `loadgen board-serve [N]` — the same board with N cards, served until Ctrl-C, to profile by hand.
//! `loadgen board-profile [--first-visit] [--plan]` — a DevTools CPU profile of the 1,000-card
//! board (or the plan page beside it) on a throttled phone (with the saved copy of an earlier
//! visit, or without: a new phone).
//! `loadgen store --store sqlite|postgres [--smoke]` — live latency, RSS, sequential creates,
//! throughput and cold pull on one database.
//! `loadgen latency --store sqlite|postgres [--smoke]` — only the live latency (and RSS) part.

use anyhow::{Context, bail, ensure};
use e2e::browser::Browser;
use e2e::sync_client::{Item4, Session, pull_request, push_request};
use e2e::{Server, ServerOptions, Store};
use serde_json::{Value, json};
use shared::board::{Column, sort_key};
use shared::entity::{Entity, Item, Millis};
use shared::ids::{ClientGroupId, ClientId, CommentId, StepId, TaskId, UnitId};
use shared::mutation::Mutation;
use shared::sync::{Cookie, Outcome, PendingMutation, PushResponse};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Mutations per push: what the browser's outbox sends after a burst of edits.
const BATCH: usize = 20;
/// Repeated runs of each timed scenario; the JSON reports the median.
const RUNS: usize = 3;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let store = match args
        .iter()
        .position(|a| a == "--store")
        .and_then(|i| args.get(i + 1))
    {
        Some(s) if s == "postgres" => Store::Postgres,
        _ => Store::Sqlite,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let out = match args.first().map(String::as_str) {
        Some("first-load") => rt.block_on(first_load())?,
        Some("board-render") => rt.block_on(board_render(smoke))?,
        Some("board-serve") => {
            let n = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
            rt.block_on(board_serve(n))?
        }
        Some("board-profile") => rt.block_on(board_profile(
            args.iter().any(|a| a == "--first-visit"),
            args.iter().any(|a| a == "--plan"),
        ))?,
        Some("store") => rt.block_on(store_scenarios(store, Sizes::new(smoke)))?,
        Some("latency") => {
            let (latency, rss) = rt.block_on(latency_scenarios(store, &Sizes::new(smoke)))?;
            json!({ "live_latency_ms": latency, "rss_mb": rss })
        }
        Some("lighthouse") => rt.block_on(lighthouse(smoke))?,
        Some("sequential") => rt.block_on(sequential_only(store, &Sizes::new(smoke)))?,
        _ => bail!(
            "usage: loadgen first-load | board-render [--smoke] | board-serve [N] | board-profile [--first-visit] [--plan] | store --store sqlite|postgres [--smoke] | latency --store … | sequential --store … | lighthouse [--smoke]"
        ),
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

fn note(msg: impl std::fmt::Display) {
    eprintln!("loadgen: {msg}");
}

/// Scenario sizes: the issue's, or tiny ones that only prove the bench works.
struct Sizes {
    sequential: usize,
    writer1_batches: usize,
    writers50: usize,
    writers50_batches: usize,
    cold_cards: usize,
    latency_clients: Vec<usize>,
    latency_rounds: usize,
    runs: usize,
}

impl Sizes {
    fn new(smoke: bool) -> Sizes {
        if smoke {
            Sizes {
                sequential: 20,
                writer1_batches: 3,
                writers50: 5,
                writers50_batches: 2,
                cold_cards: 200,
                latency_clients: vec![5, 20],
                latency_rounds: 2,
                runs: 1,
            }
        } else {
            Sizes {
                sequential: 1000,
                writer1_batches: 50,
                writers50: 50,
                writers50_batches: 10,
                cold_cards: 5000,
                latency_clients: vec![100, 1000],
                latency_rounds: 5,
                runs: RUNS,
            }
        }
    }
}

fn now_ms() -> Millis {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Millis(i64::try_from(ms).unwrap_or(i64::MAX))
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        f64::midpoint(xs[n / 2 - 1], xs[n / 2])
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "nearest-rank index of a small sample"
    )]
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// First load

/// The screens whose first load is measured: (label, path, signed in, what shows it is there).
/// The headline figure is the plan (`/`), where everyone lands after signing in.
const FIRST_SCREENS: &[(&str, &str, bool, &str)] = &[
    ("login", "/login", false, "main.login input[name=username]"),
    ("plan", "/", true, "article.plan ol.items li"),
    ("item_board", "/items/4/board", true, ".column-tabs .count"),
];

/// `loadgen first-load`: what a browser with nothing cached downloads before each of
/// `FIRST_SCREENS` shows, as the server sends it. Headless Chromium opens the screen with an
/// empty HTTP cache and no service worker; the files it fetched (the page's own resource timing:
/// HTML, JS, wasm and its lazy chunks, CSS — not API calls) are then fetched again with each
/// `Accept-Encoding`, because Chromium asks plain-HTTP servers for gzip only. What the service
/// worker precaches afterwards, for offline use, is reported apart (`precache_*`).
async fn first_load() -> anyhow::Result<Value> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let http = reqwest::Client::builder().build()?;
    let mut screens = serde_json::Map::new();
    for &(label, path, signed_in, shown) in FIRST_SCREENS {
        let chrome = Browser::start((1366, 900), false).await?;
        if signed_in {
            chrome
                .login(&server.url, "office", e2e::DEMO_PASSWORD)
                .await?;
        }
        // Keep the session cookie, forget every cached file and the service worker.
        chrome.cdp("Network.enable", json!({})).await?;
        chrome.cdp("Network.clearBrowserCache", json!({})).await?;
        chrome
            .cdp(
                "Storage.clearDataForOrigin",
                json!({ "origin": server.url, "storageTypes": "service_workers,cache_storage" }),
            )
            .await?;
        chrome.client.goto("about:blank").await?;
        chrome.client.goto(&format!("{}{path}", server.url)).await?;
        chrome.find(fantoccini::Locator::Css(shown)).await?;
        let fetched = chrome
            .client
            .execute(
                "return [location.pathname].concat(performance.getEntriesByType('resource') \
                     .map(e => new URL(e.name)) \
                     .filter(u => u.origin === location.origin && !u.pathname.startsWith('/api/')) \
                     .map(u => u.pathname));",
                vec![],
            )
            .await?;
        chrome.close().await?;
        let mut files: Vec<String> = serde_json::from_value(fetched)?;
        files.sort();
        files.dedup();
        let mut screen = served_sizes(&http, &server.url, &files).await?;
        screen.insert("files".into(), json!(files));
        screens.insert(label.into(), Value::Object(screen));
    }
    let headline = screens.get("plan").cloned().unwrap_or(Value::Null);
    let mut out = serde_json::Map::new();
    for key in ["compressed_bytes", "br_bytes", "gzip_bytes", "raw_bytes"] {
        out.insert(key.into(), headline[key].clone());
    }
    out.insert("screens".into(), Value::Object(screens));
    // Every lazy chunk, as the service worker precaches them after the first screen.
    let chunks = chunk_files()?;
    let precache = served_sizes(&http, &server.url, &chunks).await?;
    for (key, value) in precache {
        out.insert(format!("precache_{key}"), value);
    }
    out.insert("precache_files".into(), json!(chunks.len()));
    Ok(json!({ "first_load": out }))
}

/// The site paths of the lazy chunks (`pkg/split-<hash>/…`).
fn chunk_files() -> anyhow::Result<Vec<String>> {
    let pkg = e2e::site_dir()
        .context("no built site: run `cargo xtask build-site`")?
        .join("pkg");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&pkg)? {
        let dir = entry?.path();
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !(dir.is_dir() && name.starts_with("split-")) {
            continue;
        }
        for chunk in std::fs::read_dir(&dir)? {
            let chunk = chunk?.path();
            if chunk.extension().is_some_and(|e| e == "wasm")
                && let Some(file) = chunk.file_name().and_then(|n| n.to_str())
            {
                files.push(format!("/pkg/{name}/{file}"));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The bytes on the wire for `files`, fetched with brotli, gzip and no compression accepted:
/// `br_bytes`, `gzip_bytes`, `raw_bytes` and `compressed_bytes` (the smaller of the first two).
async fn served_sizes(
    http: &reqwest::Client,
    base: &str,
    files: &[String],
) -> anyhow::Result<serde_json::Map<String, Value>> {
    let mut out = serde_json::Map::new();
    for (label, accept) in [("br", "br"), ("gzip", "gzip"), ("raw", "identity")] {
        let mut total = 0u64;
        for f in files {
            let res = http
                .get(format!("{base}{f}"))
                .header("accept-encoding", accept)
                .send()
                .await?;
            ensure!(res.status().is_success(), "GET {f}: {}", res.status());
            // reqwest is built without decompression, so these are the bytes on the wire.
            total += res.bytes().await?.len() as u64;
        }
        out.insert(format!("{label}_bytes"), json!(total));
    }
    let br = out.get("br_bytes").and_then(Value::as_u64).unwrap_or(0);
    let gz = out.get("gzip_bytes").and_then(Value::as_u64).unwrap_or(0);
    out.insert("compressed_bytes".into(), json!(br.min(gz)));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Per-store scenarios

/// The backend's resident memory in MB, found by its data directory on its command line.
fn rss_mb(server: &Server) -> Option<f64> {
    let needle = server.data_path().to_string_lossy().into_owned();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.contains(&needle) || !cmdline.contains("serve") {
            continue;
        }
        let status = std::fs::read_to_string(entry.path().join("status")).ok()?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        return Some(kb / 1024.0);
    }
    None
}

/// Who writes and where: item 4's lead unit on item 4.
struct Target {
    lead: Session,
    office: Session,
    item: Item,
    owner: UnitId,
}

async fn target(server: &Server) -> anyhow::Result<Target> {
    let Item4 {
        office, item, lead, ..
    } = Item4::on(server).await?;
    let owner = lead.me.unit;
    Ok(Target {
        lead,
        office,
        item,
        owner,
    })
}

/// One simulated browser tab writing: its own client group and id, the tasks it made, and a
/// realistic mix of edits on them.
struct Writer {
    group: ClientGroupId,
    client: ClientId,
    next_id: u64,
    tasks: Vec<(TaskId, Vec<StepId>)>,
    n: usize,
    last_key: Option<String>,
}

impl Writer {
    fn new() -> Writer {
        Writer {
            group: ClientGroupId::new_v7(),
            client: ClientId::new_v7(),
            next_id: 0,
            tasks: Vec::new(),
            n: 0,
            last_key: None,
        }
    }

    fn create(&mut self, t: &Target) -> Mutation {
        let id = TaskId::new_v7();
        self.tasks.push((id, Vec::new()));
        let key = sort_key::between(self.last_key.as_deref(), None);
        self.last_key = Some(key.clone());
        Mutation::CreateTask {
            id,
            item: t.item.id,
            title: format!("压测任务 {}", self.tasks.len()),
            owner: t.owner,
            column: Column::NotStarted,
            sort_key: key,
            due: None,
            at: now_ms(),
        }
    }

    /// The next edit: creates, moves, progress reports, checklist steps and comments.
    fn next_mutation(&mut self, t: &Target) -> Mutation {
        self.n += 1;
        if self.tasks.is_empty() {
            return self.create(t);
        }
        let pick = self.n % self.tasks.len();
        let task = self.tasks[pick].0;
        match self.n % 10 {
            0..=2 => self.create(t),
            3 | 4 => {
                let column = if self.n % 20 < 10 {
                    Column::InProgress
                } else {
                    Column::Review
                };
                let key = sort_key::between(self.last_key.as_deref(), None);
                self.last_key = Some(key.clone());
                Mutation::MoveTask {
                    task,
                    column,
                    sort_key: key,
                    at: now_ms(),
                }
            }
            5 | 6 => Mutation::SetTaskProgress {
                task,
                progress: u8::try_from(self.n % 101).unwrap_or(50),
                at: now_ms(),
            },
            7 => {
                let step = StepId::new_v7();
                self.tasks[pick].1.push(step);
                Mutation::AddStep {
                    task,
                    step,
                    text: format!("步骤 {}", self.n),
                    sort_key: sort_key::between(None, None),
                    at: now_ms(),
                }
            }
            8 => match self.tasks[pick].1.last() {
                Some(&step) => Mutation::TickStep {
                    task,
                    step,
                    done: true,
                    at: now_ms(),
                },
                None => Mutation::SetTaskProgress {
                    task,
                    progress: 10,
                    at: now_ms(),
                },
            },
            _ => Mutation::AddComment {
                id: CommentId::new_v7(),
                item: t.item.id,
                task: Some(task),
                body: format!("进展说明 {}", self.n),
                at: now_ms(),
            },
        }
    }

    fn batch(&mut self, t: &Target, size: usize, only_creates: bool) -> Vec<PendingMutation> {
        (0..size)
            .map(|_| {
                let mutation = if only_creates {
                    self.create(t)
                } else {
                    self.next_mutation(t)
                };
                self.next_id += 1;
                PendingMutation {
                    client_id: self.client,
                    id: self.next_id,
                    mutation,
                }
            })
            .collect()
    }
}

/// Pushes and counts the applied mutations; anything else is an error (the bench must measure
/// real work).
async fn push_counted(
    session: &Session,
    group: ClientGroupId,
    batch: Vec<PendingMutation>,
) -> anyhow::Result<u64> {
    let res: PushResponse = session.push_ok(&push_request(group, batch)).await?;
    let mut applied = 0;
    for r in &res.results {
        match &r.outcome {
            Outcome::Applied => applied += 1,
            other => bail!("mutation {} was not applied: {other:?}", r.id),
        }
    }
    Ok(applied)
}

async fn sequential(t: &Target, n: usize) -> anyhow::Result<f64> {
    let mut w = Writer::new();
    let start = Instant::now();
    for _ in 0..n {
        let batch = w.batch(t, 1, true);
        push_counted(&t.lead, w.group, batch).await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Accepted mutations per second with `writers` concurrent writers, each pushing `batches`
/// batches of `BATCH`, each push awaited before the next (as one browser tab does).
async fn throughput(t: &Arc<Target>, writers: usize, batches: usize) -> anyhow::Result<f64> {
    let applied = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..writers {
        let t = t.clone();
        let applied = applied.clone();
        handles.push(tokio::spawn(async move {
            let mut w = Writer::new();
            for _ in 0..batches {
                let batch = w.batch(&t, BATCH, false);
                applied.fetch_add(
                    push_counted(&t.lead, w.group, batch).await?,
                    Ordering::Relaxed,
                );
            }
            anyhow::Ok(())
        }));
    }
    for h in handles {
        h.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "a rate")]
    let n = applied.load(Ordering::Relaxed) as f64;
    Ok(n / secs)
}

/// Tops item 4 up to `cards` tasks, then times a new client's first pull (office: sees it all).
async fn cold_pull(t: &Target, cards: usize, runs: usize) -> anyhow::Result<Value> {
    let have = t.office.server_view().await?.tasks().count();
    let mut w = Writer::new();
    let mut left = cards.saturating_sub(have);
    while left > 0 {
        let n = left.min(500);
        let batch = w.batch(t, n, true);
        push_counted(&t.lead, w.group, batch).await?;
        left -= n;
    }
    let mut times = Vec::new();
    let mut bytes = 0;
    let mut gzip_bytes = 0;
    let mut tasks = 0;
    let url = format!("{}/api/sync/pull", t.office.api.base);
    for _ in 0..runs.max(3) {
        let req = pull_request(ClientGroupId::new_v7(), None);
        let start = Instant::now();
        let res = t.office.api.http.post(&url).json(&req).send().await?;
        ensure!(res.status().is_success(), "cold pull: {}", res.status());
        let body = res.bytes().await?;
        let parsed: shared::sync::PullResponse = serde_json::from_slice(&body)?;
        times.push(ms(start.elapsed()));
        bytes = body.len();
        tasks = parsed
            .puts
            .iter()
            .filter(|e| matches!(e, Entity::Task(_)))
            .count();
        // The same pull as a browser sends it, compressed if the server compresses.
        let res = t
            .office
            .api
            .http
            .post(&url)
            .header("accept-encoding", "gzip, br")
            .json(&pull_request(ClientGroupId::new_v7(), None))
            .send()
            .await?;
        gzip_bytes = res.bytes().await?.len();
    }
    Ok(json!({
        "ms": median(times),
        "bytes": bytes,
        "bytes_on_wire_compressed": gzip_bytes,
        "tasks": tasks,
    }))
}

/// One connected browser tab for the latency run: poke socket, cookie, and its own group.
async fn latency_client(
    session: Session,
    target: Arc<std::sync::Mutex<Option<(TaskId, Instant)>>>,
    ready: tokio::sync::mpsc::Sender<()>,
    report: tokio::sync::mpsc::UnboundedSender<f64>,
    stop: tokio_util_stop::Stop,
) -> anyhow::Result<()> {
    let mut ws = session.websocket().await?;
    let group = ClientGroupId::new_v7();
    let mut cookie: Option<Cookie> =
        Some(session.pull_ok(&pull_request(group, None)).await?.cookie);
    ready.send(()).await.ok();
    let mut seen: Option<TaskId> = None;
    while !stop.stopped() {
        if ws.next_poke(Duration::from_millis(500)).await?.is_none() {
            continue;
        }
        let res = session
            .pull_ok(&pull_request(group, cookie.clone()))
            .await?;
        let now = Instant::now();
        cookie = Some(res.cookie);
        let want = *target.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        if let Some((id, t0)) = want
            && seen != Some(id)
            && res
                .puts
                .iter()
                .any(|e| matches!(e, Entity::Task(task) if task.id == id))
        {
            seen = Some(id);
            report.send(ms(now - t0)).ok();
        }
    }
    Ok(())
}

/// A stop flag shared by the latency clients.
mod tokio_util_stop {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[derive(Clone, Default)]
    pub struct Stop(Arc<AtomicBool>);

    impl Stop {
        pub fn stop(&self) {
            self.0.store(true, Ordering::Relaxed);
        }
        pub fn stopped(&self) -> bool {
            self.0.load(Ordering::Relaxed)
        }
    }
}

/// `clients` tabs connected across `servers` (round-robin), one pusher; per round, the time from
/// the push being sent to each tab's pull holding the new task. Also the backend's RSS while all
/// are connected.
async fn live_latency(
    servers: &[&Server],
    sessions: &[Session],
    t: &Target,
    clients: usize,
    rounds: usize,
) -> anyhow::Result<Value> {
    let target = Arc::new(std::sync::Mutex::new(None));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(clients);
    let (rep_tx, mut rep_rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = tokio_util_stop::Stop::default();
    let mut handles = Vec::new();
    // Connect in small waves, as real tabs arrive, so the connect storm is not what is measured.
    for i in 0..clients {
        let s = sessions[i % sessions.len()].on(servers[i % servers.len()])?;
        handles.push(tokio::spawn(latency_client(
            s,
            target.clone(),
            ready_tx.clone(),
            rep_tx.clone(),
            stop.clone(),
        )));
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(ready_tx);
    for _ in 0..clients {
        tokio::time::timeout(Duration::from_secs(120), ready_rx.recv())
            .await
            .context("clients did not connect within 120 s")?
            .context("a client failed to connect")?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss: Vec<Option<f64>> = servers.iter().map(|s| rss_mb(s)).collect();
    let mut w = Writer::new();
    let mut lat = Vec::new();
    let mut missing = 0;
    for _ in 0..rounds {
        let batch = w.batch(t, 1, true);
        let Mutation::CreateTask { id, .. } = &batch[0].mutation else {
            unreachable!()
        };
        *target.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = Some((*id, Instant::now()));
        push_counted(&t.lead, w.group, batch).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut got = 0;
        while got < clients {
            match tokio::time::timeout_at(deadline, rep_rx.recv()).await {
                Ok(Some(x)) => {
                    lat.push(x);
                    got += 1;
                }
                _ => break,
            }
        }
        missing += clients - got;
        // Let stragglers' pulls drain before the next round.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    stop.stop();
    for h in handles {
        if let Ok(Err(e)) = h.await {
            note(format!("a latency client failed: {e:#}"));
        }
    }
    lat.sort_by(f64::total_cmp);
    Ok(json!({
        "p50": percentile(&lat, 50.0),
        "p99": percentile(&lat, 99.0),
        "max": lat.last().copied().unwrap_or(f64::NAN),
        "samples": lat.len(),
        "missing": missing,
        "rss_mb": rss,
    }))
}

/// Live latency and memory on a server with the seed plan only: `(latency, rss)`.
async fn latency_scenarios(
    store: Store,
    sizes: &Sizes,
) -> anyhow::Result<(
    serde_json::Map<String, Value>,
    serde_json::Map<String, Value>,
)> {
    let mut latency = serde_json::Map::new();
    let mut rss = serde_json::Map::new();
    {
        let server = Server::start(ServerOptions {
            store,
            ..Default::default()
        })
        .await?;
        let t = target(&server).await?;
        // As many people as the demo has: a user may hold only so many sockets
        // (`ws::MAX_SOCKETS_PER_USER`), and a thousand browsers are a thousand people's.
        let mut sessions = vec![t.office.clone(), t.lead.clone()];
        let others = ["leader", "npc", "cppcc"]
            .map(String::from)
            .into_iter()
            .chain((1..=27).map(|n| format!("unit{n:02}")))
            .chain((1..=3).map(|n| format!("member{n:02}")))
            .filter(|name| *name != t.lead.me.username);
        for name in others {
            sessions.push(Session::login(&server, &name).await?);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.insert("idle".into(), json!(rss_mb(&server)));
        let biggest = sizes.latency_clients.iter().copied().max().unwrap_or(0);
        for &c in &sizes.latency_clients {
            note(format!("{store:?}: live latency with {c} clients"));
            let r = live_latency(&[&server], &sessions, &t, c, sizes.latency_rounds).await?;
            if c == biggest {
                rss.insert("c1000".into(), r["rss_mb"][0].clone());
            }
            latency.insert(format!("c{c}"), r);
        }
        if store == Store::Postgres {
            let second = Server::start(ServerOptions {
                store,
                database_url: server.database_url.clone(),
                ..Default::default()
            })
            .await?;
            note(format!(
                "{store:?}: live latency with {biggest} clients on two processes"
            ));
            let r = live_latency(
                &[&server, &second],
                &sessions,
                &t,
                biggest,
                sizes.latency_rounds,
            )
            .await?;
            latency.insert(format!("c{biggest}_two_processes"), r);
        }
    }
    Ok((latency, rss))
}

/// `loadgen sequential`: only the one-by-one creates, on a fresh server (for comparing builds).
async fn sequential_only(store: Store, sizes: &Sizes) -> anyhow::Result<Value> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let t = target(&server).await?;
    let mut runs = Vec::new();
    for _ in 0..sizes.runs {
        runs.push(sequential(&t, sizes.sequential).await?);
    }
    Ok(
        json!({ "sequential_create_s": { "n": sizes.sequential, "median": median(runs.clone()), "runs": runs } }),
    )
}

async fn store_scenarios(store: Store, sizes: Sizes) -> anyhow::Result<Value> {
    let mut out = serde_json::Map::new();
    let (latency, mut rss) = latency_scenarios(store, &sizes).await?;

    // The cold pull and the writes on a fresh server.
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let t = Arc::new(target(&server).await?);
    // First, while the plan holds exactly the seeded cards; the writes below add thousands more.
    note(format!(
        "{store:?}: cold pull of {} cards",
        sizes.cold_cards
    ));
    let cold = cold_pull(&t, sizes.cold_cards, sizes.runs).await?;
    note(format!(
        "{store:?}: {} sequential creates",
        sizes.sequential
    ));
    let mut seq = Vec::new();
    for _ in 0..sizes.runs {
        seq.push(sequential(&t, sizes.sequential).await?);
    }
    note(format!("{store:?}: throughput"));
    let mut w1 = Vec::new();
    let mut w50 = Vec::new();
    for _ in 0..sizes.runs {
        w1.push(throughput(&t, 1, sizes.writer1_batches).await?);
        w50.push(throughput(&t, sizes.writers50, sizes.writers50_batches).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    rss.insert("after_throughput".into(), json!(rss_mb(&server)));

    out.insert("live_latency_ms".into(), Value::Object(latency));
    out.insert("rss_mb".into(), Value::Object(rss));
    out.insert(
        "sequential_create_s".into(),
        json!({ "n": sizes.sequential, "median": median(seq.clone()), "runs": seq }),
    );
    out.insert(
        "throughput_mps".into(),
        json!({
            "writers1": median(w1.clone()),
            "writers50": median(w50.clone()),
            "writers50_count": sizes.writers50,
            "runs_writers1": w1,
            "runs_writers50": w50,
            "batch": BATCH,
        }),
    );
    out.insert("cold_pull".into(), cold);
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------------------------
// Board render in headless Chromium

/// Navigates to `url` and returns the milliseconds from the navigation's start until the board
/// is ready, as the page's own clock sees it: its column counts add up to `cards` and the
/// cards fill the screen (long columns render only the cards near the viewport, so counting
/// `li.card` elements would never reach `cards`).
async fn time_board(browser: &Browser, url: &str, cards: usize) -> anyhow::Result<f64> {
    browser.client.goto("about:blank").await?;
    browser.client.goto(url).await?;
    let script = r"
        const [want, done] = [arguments[0], arguments[arguments.length - 1]];
        const t0 = Date.now();
        const shown = () => [...document.querySelectorAll('.column-tabs .count')]
            .reduce((sum, e) => sum + (parseInt(e.textContent, 10) || 0), 0);
        const filled = () => {
            const cards = document.querySelectorAll('li.card');
            return cards.length >= want
                || [...cards].some(c => c.getBoundingClientRect().top > innerHeight);
        };
        (function poll() {
            if (shown() >= want && filled()) {
                requestAnimationFrame(() => done(performance.now()));
            } else if (Date.now() - t0 > 60000) {
                done(-shown());
            } else {
                setTimeout(poll, 5);
            }
        })();";
    let v = browser
        .client
        .execute_async(script, vec![json!(cards)])
        .await?;
    let t = v.as_f64().context("the timing script returned no number")?;
    ensure!(t >= 0.0, "only {} of {cards} cards shown within 60 s", -t);
    Ok(t)
}

/// A server with item 4 seeded with `n` tasks spread over the columns; returns it, the target
/// and the board's URL.
async fn seeded_board(n: usize) -> anyhow::Result<(Server, Target, String)> {
    let server = Server::start(ServerOptions {
        site: true,
        ..Default::default()
    })
    .await?;
    let t = target(&server).await?;
    let have = t
        .office
        .server_view()
        .await?
        .tasks()
        .filter(|x| x.item == t.item.id)
        .count();
    let mut w = Writer::new();
    let mut left = n.saturating_sub(have);
    let mut k = 0;
    while left > 0 {
        let m = left.min(500);
        let mut batch = w.batch(&t, m, true);
        for p in &mut batch {
            if let Mutation::CreateTask { column, .. } = &mut p.mutation {
                *column = [
                    Column::NotStarted,
                    Column::InProgress,
                    Column::Review,
                    Column::Done,
                ][k % 4];
                k += 1;
            }
        }
        push_counted(&t.lead, w.group, batch).await?;
        left -= m;
    }
    let url = format!("{}/items/{}/board", server.url, t.item.number);
    Ok((server, t, url))
}

/// `loadgen lighthouse`: Lighthouse's mobile preset (the CLI at `$LIGHTHOUSE`, with
/// `$CHROMIUM`) on the plan page and on a 1,000-card item board, signed in as the board's lead
/// unit; performance and accessibility scores, 0–100, and the timings behind them.
async fn lighthouse(smoke: bool) -> anyhow::Result<Value> {
    let bin = std::env::var("LIGHTHOUSE").context("LIGHTHOUSE (the CLI's path) is not set")?;
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let n = if smoke { 20 } else { 1000 };
    let (server, t, board_url) = seeded_board(n).await?;
    let cookie = t.lead.cookie_header()?;
    let out_dir = tempfile::tempdir()?;
    let mut out = serde_json::Map::new();
    for (name, url) in [
        ("plan", format!("{}/", server.url)),
        (if smoke { "board_smoke" } else { "board_1000" }, board_url),
    ] {
        note(format!("lighthouse: {name} ({url})"));
        let report = out_dir.path().join(format!("{name}.json"));
        let status = tokio::process::Command::new(&bin)
            .arg(&url)
            .args([
                "--quiet",
                "--output=json",
                "--form-factor=mobile",
                "--only-categories=performance,accessibility",
                // The tests' Chromium flags: a closed network refuses Google's hosts.
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-quic \
                 --no-first-run --disable-background-networking --disable-component-update \
                 --disable-sync",
            ])
            .arg(format!("--output-path={}", report.display()))
            .arg(format!("--extra-headers={}", json!({ "Cookie": cookie })))
            .env("CHROME_PATH", &chromium)
            .status()
            .await
            .context("running lighthouse")?;
        anyhow::ensure!(status.success(), "lighthouse on {name}: {status}");
        let text = std::fs::read_to_string(&report)?;
        // Kept for reading what the scores are made of (lighthouse's own viewer opens them).
        let keep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
        if std::fs::create_dir_all(&keep).is_ok() {
            let _ = std::fs::write(keep.join(format!("lighthouse-{name}.json")), &text);
        }
        let report: Value = serde_json::from_str(&text)?;
        let score = |cat: &str| {
            report["categories"][cat]["score"]
                .as_f64()
                .map(|s| s * 100.0)
        };
        let metric = |audit: &str| report["audits"][audit]["numericValue"].as_f64();
        out.insert(
            name.into(),
            json!({
                "performance": score("performance"),
                "accessibility": score("accessibility"),
                "lcp_ms": metric("largest-contentful-paint"),
                "tbt_ms": metric("total-blocking-time"),
                "fcp_ms": metric("first-contentful-paint"),
            }),
        );
    }
    Ok(json!({ "lighthouse": out }))
}

/// `loadgen board-serve [N]`: the board-render setup, left running for profiling by hand.
async fn board_serve(n: usize) -> anyhow::Result<Value> {
    let (_server, t, url) = seeded_board(n).await?;
    note(format!(
        "serving {url} with {n} cards; sign in as {} / {}; Ctrl-C ends it",
        t.lead.me.username,
        e2e::DEMO_PASSWORD
    ));
    tokio::signal::ctrl_c().await?;
    Ok(json!({ "url": url }))
}

/// `loadgen board-profile`: one returning visit to a 1,000-card board at phone size with 4× CPU
/// throttling, under the DevTools CPU profiler (with `plan`, the plan page's first five seconds
/// instead). Writes the profile to `target/bench/board-phone.cpuprofile` (`plan-phone.cpuprofile`;
/// open it in Chromium's DevTools) and returns the functions that took the most time themselves. Build the site with `REFORMBOARD_WASM_NAMES=1`
/// to see the wasm's own function names.
async fn board_profile(first_visit: bool, plan: bool) -> anyhow::Result<Value> {
    let (server, t, url) = seeded_board(1000).await?;
    let chrome = Browser::start((390, 844), true).await?;
    chrome
        .login(&server.url, &t.lead.me.username, e2e::DEMO_PASSWORD)
        .await?;
    chrome
        .cdp("Emulation.setCPUThrottlingRate", json!({ "rate": 4 }))
        .await?;
    if first_visit {
        // No saved copy: the board waits for the full pull, as on a new phone (or Lighthouse).
        chrome
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 const r = indexedDB.deleteDatabase('reformboard'); \
                 r.onsuccess = r.onerror = r.onblocked = () => done(true);",
                vec![],
            )
            .await?;
    } else {
        time_board(&chrome, &url, 1000).await?;
    }
    chrome.cdp("Profiler.enable", json!({})).await?;
    chrome
        .cdp("Profiler.setSamplingInterval", json!({ "interval": 200 }))
        .await?;
    chrome.cdp("Profiler.start", json!({})).await?;
    let ms = if plan {
        // The plan page has no one moment it is done: its start, the pull and what follows.
        chrome.client.goto("about:blank").await?;
        chrome.client.goto(&format!("{}/", server.url)).await?;
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        None
    } else {
        Some(time_board(&chrome, &url, 1000).await?)
    };
    if first_visit && !plan {
        // The first pull is saved after the board shows; its tasks belong in the profile too.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    let profile = chrome.cdp("Profiler.stop", json!({})).await?["profile"].take();
    // When each step of the start ended, from the navigation's start (boot.js's marks, the
    // files' downloads).
    let steps = chrome
        .client
        .execute(
            "return performance.getEntriesByType('mark').map(m => [m.name, Math.round(m.startTime)]) \
                 .concat(performance.getEntriesByType('resource') \
                     .filter(r => /\\.(js|wasm|css)/.test(r.name)) \
                     .map(r => [new URL(r.name).pathname, Math.round(r.responseEnd)]));",
            vec![],
        )
        .await?;
    // What the page built: elements by tag, most first.
    let dom = chrome
        .client
        .execute(
            "const n = {}; for (const e of document.getElementsByTagName('*')) \
                 n[e.localName] = (n[e.localName] || 0) + 1; \
             return Object.entries(n).sort((a, b) => b[1] - a[1]);",
            vec![],
        )
        .await?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join(if plan {
            "plan-phone.cpuprofile"
        } else {
            "board-phone.cpuprofile"
        }),
        serde_json::to_vec(&profile)?,
    )?;
    Ok(json!({
        "board_ms": ms,
        "steps_ms": steps,
        "dom_elements": dom,
        "self_time_ms": self_times(&profile, 40),
    }))
}

/// The `top` functions of a DevTools CPU profile by their own (not their callees') time.
fn self_times(profile: &Value, top: usize) -> Value {
    let empty = Vec::new();
    let nodes = profile["nodes"].as_array().unwrap_or(&empty);
    let names: std::collections::HashMap<u64, String> = nodes
        .iter()
        .filter_map(|n| {
            let f = &n["callFrame"];
            let name = f["functionName"].as_str().filter(|s| !s.is_empty());
            Some((
                n["id"].as_u64()?,
                format!(
                    "{} {}",
                    name.unwrap_or("(anonymous)"),
                    f["url"]
                        .as_str()
                        .unwrap_or("")
                        .rsplit('/')
                        .next()
                        .unwrap_or("")
                ),
            ))
        })
        .collect();
    let mut by_name: std::collections::HashMap<&str, f64> = Default::default();
    let samples = profile["samples"].as_array().unwrap_or(&empty);
    let deltas = profile["timeDeltas"].as_array().unwrap_or(&empty);
    for (s, d) in samples.iter().zip(deltas) {
        if let Some(name) = s.as_u64().and_then(|id| names.get(&id)) {
            *by_name.entry(name).or_default() += d.as_f64().unwrap_or(0.0) / 1000.0;
        }
    }
    let mut rows: Vec<_> = by_name.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    rows.truncate(top);
    json!(
        rows.into_iter()
            .map(|(name, ms)| json!([name, (ms * 10.0).round() / 10.0]))
            .collect::<Vec<_>>()
    )
}

/// Seeds item 4 with `n` tasks spread over the columns, then times its board in Chromium at
/// desktop size and at phone size with 4× CPU throttling.
async fn board_render(smoke: bool) -> anyhow::Result<Value> {
    let sizes: &[usize] = if smoke { &[20] } else { &[100, 1000] };
    let runs = if smoke { 1 } else { 5 };
    let mut out = serde_json::Map::new();
    for &n in sizes {
        let (server, t, url) = seeded_board(n).await?;
        for (label, size, mobile) in [
            ("desktop", (1366, 900), false),
            ("phone_throttled", (390, 844), true),
        ] {
            note(format!("board render: {n} cards, {label}"));
            let chrome = Browser::start(size, mobile).await?;
            chrome
                .login(&server.url, &t.lead.me.username, e2e::DEMO_PASSWORD)
                .await?;
            if mobile {
                chrome
                    .cdp("Emulation.setCPUThrottlingRate", json!({ "rate": 4 }))
                    .await?;
            }
            // The first visit fills the browser's caches and IndexedDB copy; the runs after it
            // are what a returning user sees.
            let first = time_board(&chrome, &url, n).await?;
            let mut times = Vec::new();
            for _ in 0..runs {
                times.push(time_board(&chrome, &url, n).await?);
            }
            out.insert(format!("{label}_{n}"), json!(median(times.clone())));
            out.insert(format!("{label}_{n}_first_visit"), json!(first));
            out.insert(format!("{label}_{n}_runs"), json!(times));
        }
    }
    Ok(json!({ "board_render_ms": out }))
}
