//! A Rust client of the sync protocol, speaking to the real server the way the browser does:
//! a session (cookie + CSRF header), one `Tab` per sync client with its outbox, the last pulled
//! base state and its cookie, the rebase (base + pending re-applied with `shared::mutation::apply`),
//! the poke WebSocket, and read-only access to the server's database for the exactly-once checks.

use crate::{Api, DEMO_PASSWORD, Server};
use anyhow::{Context, bail, ensure};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use shared::account::Me;
use shared::actor::Actor;
use shared::board::{Column, sort_key};
use shared::entity::{Entity, EntityKey, Item, Millis, Unit};
use shared::ids::{ClientGroupId, ClientId, ItemId, TaskId, UnitId};
use shared::mutation::{Mutation, apply};
use shared::state::State;
use shared::sync::{
    Cookie, MAX_PUSH_BATCH, PROTOCOL_VERSION, PendingMutation, PullRequest, PullResponse,
    PushRequest, PushResponse, ServerMessage,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite};

/// A non-2xx answer: the status and the body as text (the API's JSON error).
#[derive(Clone, Debug)]
pub struct HttpError {
    /// Status.
    pub status: StatusCode,
    /// Body.
    pub body: String,
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

/// What a request came back with: the decoded body, or the error status. Transport failures are
/// the outer `anyhow::Result`.
pub type Reply<T> = Result<T, HttpError>;

/// A signed-in user: an HTTP client whose cookie jar we can read (the WebSocket needs the
/// session cookie), and who they are.
#[derive(Clone)]
pub struct Session {
    /// The HTTP client (cookie jar + X-Reformboard header).
    pub api: Api,
    jar: Arc<Jar>,
    /// `GET /api/auth/me`.
    pub me: Me,
}

impl Session {
    /// Logs in as `username` with the demo password.
    pub async fn login(server: &Server, username: &str) -> anyhow::Result<Session> {
        let jar = Arc::new(Jar::default());
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-reformboard",
            reqwest::header::HeaderValue::from_static("1"),
        );
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .build()?;
        let api = Api {
            base: server.url.clone(),
            http,
        };
        api.login(username, DEMO_PASSWORD).await?;
        let me: Me = api.get_json("/api/auth/me").await?;
        ensure!(
            me.username == username,
            "logged in as {username}, /me says {}",
            me.username
        );
        Ok(Session { api, jar, me })
    }

    /// The same session, talking to another process that shares the database (sessions live in
    /// the database, so the cookie is good there too).
    pub fn on(&self, server: &Server) -> anyhow::Result<Session> {
        let cookie = self.cookie_header()?;
        let jar = Arc::new(Jar::default());
        let url: reqwest::Url = server.url.parse()?;
        for part in cookie.split("; ") {
            jar.add_cookie_str(&format!("{part}; Path=/"), &url);
        }
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-reformboard",
            reqwest::header::HeaderValue::from_static("1"),
        );
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .build()?;
        Ok(Session {
            api: Api {
                base: server.url.clone(),
                http,
            },
            jar,
            me: self.me.clone(),
        })
    }

    /// Who this is, as `apply` sees it.
    pub fn actor(&self) -> Actor {
        Actor {
            user: self.me.id,
            name: self.me.display_name.clone(),
            unit: self.me.unit,
            role: self.me.role,
            groups: vec![],
        }
    }

    /// The `Cookie:` header value the browser would send to `/api`.
    pub fn cookie_header(&self) -> anyhow::Result<String> {
        let url: reqwest::Url = format!("{}/api/sync/ws", self.api.base).parse()?;
        let value = self
            .jar
            .cookies(&url)
            .context("no session cookie in the jar")?;
        Ok(value.to_str()?.to_string())
    }

    /// POSTs any JSON body to `path` and returns the status and the body text.
    pub async fn post_raw(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<(StatusCode, String)> {
        let res = self.api.post(path, body).await?;
        let status = res.status();
        Ok((status, res.text().await?))
    }

    async fn post_typed<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<Reply<T>> {
        let res = self.api.post(path, body).await?;
        let status = res.status();
        let body = res.text().await?;
        if status.is_success() {
            let decoded = serde_json::from_str(&body)
                .with_context(|| format!("{path} answered {status} with {body}"))?;
            Ok(Ok(decoded))
        } else {
            Ok(Err(HttpError { status, body }))
        }
    }

    /// `POST /api/sync/push`.
    pub async fn push(&self, req: &PushRequest) -> anyhow::Result<Reply<PushResponse>> {
        self.post_typed("/api/sync/push", req).await
    }

    /// `POST /api/sync/pull`.
    pub async fn pull(&self, req: &PullRequest) -> anyhow::Result<Reply<PullResponse>> {
        self.post_typed("/api/sync/pull", req).await
    }

    /// Pushes and insists on a 200.
    pub async fn push_ok(&self, req: &PushRequest) -> anyhow::Result<PushResponse> {
        self.push(req)
            .await?
            .map_err(|e| anyhow::anyhow!("push: {e}"))
    }

    /// Pulls and insists on a 200.
    pub async fn pull_ok(&self, req: &PullRequest) -> anyhow::Result<PullResponse> {
        self.pull(req)
            .await?
            .map_err(|e| anyhow::anyhow!("pull: {e}"))
    }

    /// Everything this user may see right now, as a brand-new client would get it: a pull with
    /// no cookie on a fresh client group.
    pub async fn server_view(&self) -> anyhow::Result<State> {
        let res = self
            .pull_ok(&pull_request(ClientGroupId::new_v7(), None))
            .await?;
        ensure!(res.reset, "a pull without a cookie must be a reset");
        let mut state = State::new();
        for e in res.puts {
            state.put(e);
        }
        Ok(state)
    }

    /// Waits up to 10 s for the server to hold a task titled `title` that this user may see.
    pub async fn wait_for_task(&self, title: &str) -> anyhow::Result<()> {
        for _ in 0..100 {
            if self.server_view().await?.tasks().any(|t| t.title == title) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server never got the task {title}")
    }

    /// Opens the poke WebSocket with this session's cookie and the CSRF header.
    pub async fn websocket(&self) -> anyhow::Result<PokeSocket> {
        let url = format!(
            "{}/api/sync/ws",
            self.api.base.replacen("http://", "ws://", 1)
        );
        let mut req = url.into_client_request()?;
        req.headers_mut()
            .insert("cookie", HeaderValue::from_str(&self.cookie_header()?)?);
        req.headers_mut()
            .insert("x-reformboard", HeaderValue::from_static("1"));
        // tungstenite zero-fills its whole read buffer (128 KiB by default) before every read;
        // pokes are a few bytes, and with a thousand sockets in the load generator that memset
        // took more CPU than the server being measured.
        let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(4096);
        let (ws, _) =
            tokio_tungstenite::connect_async_with_config(req, Some(config), false).await?;
        Ok(PokeSocket { ws })
    }
}

/// A new task at the end of 未启动 on `item`, owned by `owner`: its id and the mutation.
pub fn create_task(item: ItemId, owner: UnitId, title: &str, at: Millis) -> (TaskId, Mutation) {
    let id = TaskId::new_v7();
    let m = Mutation::CreateTask {
        id,
        item,
        title: title.into(),
        owner,
        column: Column::NotStarted,
        sort_key: sort_key::between(None, None),
        due: None,
        at,
    };
    (id, m)
}

/// A pull request in the current protocol.
pub fn pull_request(group: ClientGroupId, cookie: Option<Cookie>) -> PullRequest {
    PullRequest {
        protocol: PROTOCOL_VERSION,
        client_group: group,
        cookie,
    }
}

/// A push request in the current protocol.
pub fn push_request(group: ClientGroupId, mutations: Vec<PendingMutation>) -> PushRequest {
    PushRequest {
        protocol: PROTOCOL_VERSION,
        client_group: group,
        mutations,
        retire: BTreeMap::new(),
    }
}

/// The poke WebSocket of one browser tab.
pub struct PokeSocket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl PokeSocket {
    /// The next poke, or None when none comes within `timeout`. Pings and other frames are
    /// skipped; a closed socket is an error.
    pub async fn next_poke(&mut self, timeout: Duration) -> anyhow::Result<Option<Vec<String>>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => bail!("the WebSocket closed"),
                Ok(Some(msg)) => msg?,
            };
            if let tungstenite::Message::Text(text) = msg {
                let ServerMessage::Poke { spaces } = serde_json::from_str(text.as_str())
                    .with_context(|| format!("not a server message: {}", text.as_str()))?;
                return Ok(Some(spaces));
            }
        }
    }

    /// Whether the server closes the socket within `timeout` (pokes meanwhile are skipped).
    pub async fn closes_within(&mut self, timeout: Duration) -> anyhow::Result<bool> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Ok(false),
                Ok(None | Some(Ok(tungstenite::Message::Close(_)))) => return Ok(true),
                // A reset after the close frame, or instead of it, is closed all the same.
                Ok(Some(Err(_))) => return Ok(true),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Waits (up to `timeout`) for a poke that names `space` itself; pokes for other spaces and
    /// for everything (`*`, which would prove nothing about fan-out) are skipped. Returns the
    /// pokes seen, the matching one last.
    pub async fn wait_for_poke(
        &mut self,
        space: &str,
        timeout: Duration,
    ) -> anyhow::Result<Vec<Vec<String>>> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(spaces) = self.next_poke(left).await? else {
                bail!("no poke for {space} within {timeout:?}; saw {seen:?}");
            };
            let hit = spaces.iter().any(|s| s == space);
            seen.push(spaces);
            if hit {
                return Ok(seen);
            }
        }
    }
}

/// One sync client (a browser tab): its outbox of pending mutations (kept across a restart, as
/// IndexedDB keeps it), the base state of its last pull, and its cookie.
#[derive(Clone, Debug)]
pub struct Tab {
    /// The browser profile it belongs to.
    pub group: ClientGroupId,
    /// Its own id.
    pub client: ClientId,
    /// The id of the last mutation it made.
    pub last_id: u64,
    /// Mutations not yet confirmed by a pull, in order.
    pub outbox: Vec<PendingMutation>,
    /// The server's state as of the last pull.
    pub base: State,
    /// The cookie of the last pull (None: never pulled, or restarted).
    pub cookie: Option<Cookie>,
    /// The last mutation id the server confirmed for this client in a pull.
    pub confirmed: u64,
}

impl Tab {
    /// A new tab in `group`.
    pub fn new(group: ClientGroupId) -> Tab {
        Tab {
            group,
            client: ClientId::new_v7(),
            last_id: 0,
            outbox: Vec::new(),
            base: State::new(),
            cookie: None,
            confirmed: 0,
        }
    }

    /// Writes `m` to the outbox (as the browser does before it applies it) and returns its id.
    pub fn add(&mut self, m: Mutation) -> u64 {
        self.last_id += 1;
        self.outbox.push(PendingMutation {
            client_id: self.client,
            id: self.last_id,
            mutation: m,
        });
        self.last_id
    }

    /// What the screen shows: the base with every pending mutation re-applied (rebase). A
    /// pending mutation that no longer applies is skipped, as the server will reject it too.
    pub fn view(&self, actor: &Actor) -> State {
        let mut state = self.base.clone();
        for p in &self.outbox {
            let _ = apply(&mut state, actor, &p.mutation);
        }
        state
    }

    /// The push of the whole outbox (at most one batch).
    pub fn push_request(&self) -> PushRequest {
        push_request(
            self.group,
            self.outbox.iter().take(MAX_PUSH_BATCH).cloned().collect(),
        )
    }

    /// The next pull.
    pub fn pull_request(&self) -> PullRequest {
        pull_request(self.group, self.cookie.clone())
    }

    /// Takes a pull response to a request that was sent with `sent_cookie`. A response to an
    /// older request than the last one taken (it arrived late) is dropped, as applying it would
    /// move the tab back in time; returns whether it was taken. Fails if the server moved this
    /// client's last mutation id backwards.
    pub fn take_pull(
        &mut self,
        sent_cookie: &Option<Cookie>,
        res: PullResponse,
    ) -> anyhow::Result<bool> {
        if *sent_cookie != self.cookie {
            return Ok(false);
        }
        if res.reset {
            self.base = State::new();
        }
        for key in &res.deletes {
            self.base.remove(key);
        }
        for e in res.puts {
            self.base.put(e);
        }
        self.cookie = Some(res.cookie);
        let confirmed = res
            .last_mutation_ids
            .get(&self.client)
            .copied()
            .unwrap_or(0);
        ensure!(
            confirmed >= self.confirmed,
            "client {}: last mutation id went back from {} to {confirmed}",
            self.client,
            self.confirmed
        );
        ensure!(
            confirmed <= self.last_id,
            "server confirmed {confirmed}, tab only made {}",
            self.last_id
        );
        self.confirmed = confirmed;
        self.outbox.retain(|p| p.id > confirmed);
        Ok(true)
    }

    /// A reload: the in-memory copy and cookie are gone; the outbox and the ids survive.
    pub fn restart(&mut self) {
        self.base = State::new();
        self.cookie = None;
    }
}

/// Names and numbers of the seed plan, read from a synced state.
pub struct PlanFacts {
    state: State,
}

impl PlanFacts {
    /// From a full state.
    pub fn new(state: State) -> PlanFacts {
        PlanFacts { state }
    }

    /// Item number `n`.
    pub fn item(&self, n: u32) -> anyhow::Result<Item> {
        self.state
            .items()
            .into_iter()
            .find(|i| i.number == n)
            .cloned()
            .with_context(|| format!("no item {n}"))
    }

    /// The unit called `name` (canonical name or alias).
    pub fn unit(&self, name: &str) -> anyhow::Result<Unit> {
        self.state
            .units()
            .find(|u| u.name == name || u.aliases.iter().any(|a| a == name))
            .cloned()
            .with_context(|| format!("no unit {name}"))
    }

    /// The demo account of `unit`: `unitNN`, numbered in the order the plan names the units
    /// (`State::plan_units`, as `backend::bootstrap::demo_accounts` numbers them; callers check
    /// it with /me).
    pub fn username_of(&self, unit: UnitId) -> anyhow::Result<String> {
        let n = self
            .state
            .plan_units()
            .iter()
            .position(|u| u.id == unit)
            .context("unit is not in the plan")?;
        Ok(format!("unit{:02}", n + 1))
    }

    /// Logs in as the demo account of the unit called `name`, checking /me agrees.
    pub async fn login_unit(&self, server: &Server, name: &str) -> anyhow::Result<Session> {
        let unit = self.unit(name)?;
        let session = Session::login(server, &self.username_of(unit.id)?).await?;
        ensure!(
            session.me.unit == unit.id,
            "{} is not the account of {name}",
            session.me.username
        );
        Ok(session)
    }
}

/// The unit that leads item 4 (开展集体股份合作公司试点改革), the item most tests work on.
pub const ITEM4_LEAD: &str = "区财政局〈国资委〉";

/// Where most API tests start: the office signed in, the plan as the office sees it, and item 4
/// with its lead unit signed in.
pub struct Item4 {
    /// The reform office (综合办公室).
    pub office: Session,
    /// The seed plan's names and numbers.
    pub facts: PlanFacts,
    /// Item 4.
    pub item: Item,
    /// Its lead unit, [`ITEM4_LEAD`].
    pub lead: Session,
}

impl Item4 {
    /// Signs the office and item 4's lead unit in on `server`.
    pub async fn on(server: &Server) -> anyhow::Result<Item4> {
        let office = Session::login(server, "office").await?;
        let facts = PlanFacts::new(office.server_view().await?);
        let item = facts.item(4)?;
        let lead = facts.login_unit(server, ITEM4_LEAD).await?;
        Ok(Item4 {
            office,
            facts,
            item,
            lead,
        })
    }
}

/// Direct access to the server's own database, for checks the API does not expose (audit rows by
/// client and mutation id, stored last ids). Tests only read through it, except to plant rows
/// that no mutation can make yet.
pub struct ServerDb {
    /// The pool.
    pub pool: sqlx::AnyPool,
}

/// One audit row of a pushed mutation.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MutationAudit {
    /// Row id (UUID v7: time-ordered).
    pub id: String,
    /// Mutation name.
    pub action: String,
    /// Entity key.
    pub entity: Option<String>,
    /// Sync client.
    pub client_id: Option<String>,
    /// Mutation id.
    pub mutation_id: Option<i64>,
    /// Before (JSON).
    pub before: Option<String>,
    /// After (JSON).
    pub after: Option<String>,
}

impl ServerDb {
    /// Opens the database `server` runs on (its SQLite file or its PostgreSQL database).
    pub async fn open(server: &Server) -> anyhow::Result<ServerDb> {
        sqlx::any::install_default_drivers();
        let url = match &server.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rw",
                server.data_path().join("reformboard.db").display()
            ),
        };
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await?;
        Ok(ServerDb { pool })
    }

    /// Every audit row written by a push, but for the demo's own set-up at start (its street
    /// offices, pushed as the system account).
    pub async fn mutation_audit(&self) -> anyhow::Result<Vec<MutationAudit>> {
        Ok(sqlx::query_as(
            "SELECT id, action, entity, client_id, mutation_id, before, after FROM audit \
             WHERE client_id IS NOT NULL AND user_id NOT IN \
                 (SELECT id FROM users WHERE username = $1) ORDER BY id",
        )
        .bind(backend::reminder_job::SYSTEM_USERNAME)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Audit rows about one entity, oldest first.
    pub async fn audit_of(&self, key: &EntityKey) -> anyhow::Result<Vec<MutationAudit>> {
        Ok(sqlx::query_as(
            "SELECT id, action, entity, client_id, mutation_id, before, after FROM audit \
             WHERE entity = $1 ORDER BY id",
        )
        .bind(&key.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Recorded rejections: (client id, mutation id) → reason.
    pub async fn rejections(&self) -> anyhow::Result<BTreeMap<(String, i64), String>> {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT client_id, mutation_id, reason FROM rejection")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(c, m, r)| ((c, m), r)).collect())
    }

    /// The stored last mutation id of `client` (None: no row).
    pub async fn last_mutation_id(&self, client: ClientId) -> anyhow::Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT last_mutation_id FROM client WHERE id = $1")
                .bind(client.to_string())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Dates `group`'s last push back to `at` (server time, ms): a test can't wait hours for a
    /// browser that last pushed that long ago.
    pub async fn set_group_last_push(&self, group: ClientGroupId, at: i64) -> anyhow::Result<()> {
        sqlx::query("UPDATE client SET updated_at = $1 WHERE client_group = $2")
            .bind(at)
            .bind(group.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores `entity` over its row as it is, version and space unchanged: a history no client
    /// may write, such as changes dated years back (the server bounds a change's time to its
    /// browser's last push). For a test that sets the scene before any browser has pulled.
    pub async fn overwrite(&self, entity: &Entity) -> anyhow::Result<()> {
        let done = sqlx::query("UPDATE entity SET data = $1 WHERE id = $2")
            .bind(serde_json::to_string(entity)?)
            .bind(entity.key().0)
            .execute(&self.pool)
            .await?;
        anyhow::ensure!(done.rows_affected() == 1, "no row for {}", entity.key());
        Ok(())
    }

    /// Every stored entity, decoded.
    pub async fn entities(&self) -> anyhow::Result<State> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT data FROM entity")
            .fetch_all(&self.pool)
            .await?;
        let mut state = State::new();
        for (data,) in rows {
            state.put(serde_json::from_str::<Entity>(&data)?);
        }
        Ok(state)
    }
}

/// The differences between two states, for a readable assertion message (empty: equal).
pub fn diff(left: &State, right: &State) -> Vec<String> {
    let keys: BTreeSet<EntityKey> = left.iter().chain(right.iter()).map(Entity::key).collect();
    let mut out = Vec::new();
    for key in keys {
        match (left.get(&key), right.get(&key)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => out.push(format!("{key}: {a:?}\n   != {b:?}")),
            (Some(_), None) => out.push(format!("{key}: only left")),
            (None, Some(_)) => out.push(format!("{key}: only right")),
            (None, None) => {}
        }
    }
    out
}
