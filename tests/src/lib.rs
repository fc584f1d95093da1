//! Shared helpers for the end-to-end tests: start the real `reformboard` binary on a free port
//! against a fresh SQLite file or a fresh PostgreSQL database, talk to it as a logged-in user, and
//! drive headless Chromium through chromedriver.

pub mod browser;

/// Runs the async test function `$name(store)` once on SQLite and once on PostgreSQL, as the
/// tests `$name::sqlite` and `$name::postgres`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() -> anyhow::Result<()> {
                super::$name(e2e::Store::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() -> anyhow::Result<()> {
                super::$name(e2e::Store::Postgres).await
            }
        }
    )*};
}

pub mod crash;
pub mod routes;
pub mod soak;
pub mod sync_client;

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The demo accounts' password (see backend::bootstrap).
pub const DEMO_PASSWORD: &str = backend::bootstrap::DEMO_PASSWORD;

/// Which database a test server uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// A fresh SQLite file in a temp dir.
    Sqlite,
    /// A fresh database in the throwaway cluster `cargo xtask test` started.
    Postgres,
}

/// Path of the `reformboard` binary: `REFORMBOARD_BIN` (set by `cargo xtask test`), else the
/// workspace's debug build.
pub fn binary() -> PathBuf {
    std::env::var_os("REFORMBOARD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/reformboard")
        })
}

/// The built app, if `cargo xtask build-site` has run.
pub fn site_dir() -> Option<PathBuf> {
    std::env::var_os("REFORMBOARD_SITE_DIR")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site")))
        .filter(|d| d.join("index.html").exists())
}

/// A test's way out when something it needs is not on this machine (`what`: Chromium, the
/// throwaway PostgreSQL): run by hand, it passes saying it was skipped; under `cargo xtask test`
/// (`REFORMBOARD_TEST_STRICT`), which provides all of them, a missing one fails the test
/// instead of letting it pass having checked nothing.
pub fn skipped(what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var_os("REFORMBOARD_TEST_STRICT").is_none(),
        "{what} is missing, though `cargo xtask test` provides it"
    );
    eprintln!("skipped: {what} is missing (`cargo xtask test` provides it)");
    Ok(())
}

/// The superuser URL of the throwaway PostgreSQL cluster, if one is running.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("REFORMBOARD_TEST_PG")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Creates a fresh, uniquely named PostgreSQL database and returns its URL.
pub async fn fresh_postgres_database() -> anyhow::Result<String> {
    use sqlx::Connection;
    let admin = postgres_admin_url().context(
        "REFORMBOARD_TEST_PG is not set: run the tests with `cargo xtask test`, which starts PostgreSQL",
    )?;
    let name = format!("rb_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// A running `reformboard serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Its data directory (removed when the server is dropped, unless taken by `kill`).
    data_dir: Option<tempfile::TempDir>,
    /// The database URL it was started with (None: SQLite in `data_dir`).
    pub database_url: Option<String>,
}

/// Options for `Server::start`.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Database.
    pub store: Store,
    /// Demo accounts.
    pub demo: bool,
    /// Serve the built app too.
    pub site: bool,
    /// Reuse this database URL (a second process on the same PostgreSQL).
    pub database_url: Option<String>,
    /// Listen here instead of on a free port (to restart on the same origin).
    pub addr: Option<std::net::SocketAddr>,
    /// Run the daily reminder job (off by default: on the 2014 seed plan, today's run would
    /// remind every unit of everything, which other tests don't expect).
    pub reminders: bool,
    /// More arguments for `reformboard serve`.
    pub args: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            store: Store::Sqlite,
            demo: true,
            site: false,
            database_url: None,
            addr: None,
            reminders: false,
            args: vec![],
        }
    }
}

impl Server {
    /// Starts the real binary on a free port and waits until it answers.
    pub async fn start(opts: ServerOptions) -> anyhow::Result<Server> {
        let data_dir = tempfile::tempdir()?;
        let database_url = match (&opts.database_url, opts.store) {
            (Some(url), _) => Some(url.clone()),
            (None, Store::Postgres) => Some(fresh_postgres_database().await?),
            (None, Store::Sqlite) => None,
        };
        Self::start_in(opts, data_dir, database_url).await
    }

    /// Starts the binary on an existing data directory (e.g. after a crash).
    pub async fn start_in(
        opts: ServerOptions,
        data_dir: tempfile::TempDir,
        database_url: Option<String>,
    ) -> anyhow::Result<Server> {
        let bin = binary();
        anyhow::ensure!(
            bin.exists(),
            "{} is missing: run `cargo build -p backend`",
            bin.display()
        );
        let mut cmd = Command::new(&bin);
        let addr = opts
            .addr
            .map_or_else(|| "127.0.0.1:0".to_string(), |a| a.to_string());
        cmd.arg("serve")
            .arg("--addr")
            .arg(addr)
            .arg("--data-dir")
            .arg(data_dir.path());
        if opts.demo {
            cmd.arg("--demo");
        }
        if !opts.reminders {
            cmd.arg("--no-reminders");
        }
        cmd.args(&opts.args);
        if opts.site {
            let site = site_dir().context("the app is not built: run `cargo xtask build-site`")?;
            cmd.arg("--site-dir").arg(site);
        }
        cmd.env_remove("DATABASE_URL");
        if let Some(url) = &database_url {
            cmd.env("DATABASE_URL", url);
        }
        // Quiet unless asked (`REFORMBOARD_TEST_LOG=tower_http=debug` shows each request's time).
        let log = std::env::var("REFORMBOARD_TEST_LOG").unwrap_or_else(|_| "warn".into());
        cmd.env("RUST_LOG", log)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                bail!("the server did not start within 60 s");
            }
        };
        Ok(Server {
            child,
            url,
            data_dir: Some(data_dir),
            database_url,
        })
    }

    /// A fresh HTTP client for this server (own cookie jar).
    pub fn client(&self) -> Api {
        Api::new(&self.url)
    }

    /// Logs in a fresh client as `username` with the demo password.
    pub async fn login(&self, username: &str) -> anyhow::Result<Api> {
        let api = self.client();
        api.login(username, DEMO_PASSWORD).await?;
        Ok(api)
    }

    /// Kills the process with SIGKILL (no graceful shutdown) and returns its data directory.
    pub fn kill(mut self) -> (tempfile::TempDir, Option<String>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = self
            .data_dir
            .take()
            .expect("a running server has its data directory");
        (dir, self.database_url.take())
    }

    /// The process id (the soak reads its memory from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address it listens on.
    pub fn addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        Ok(self.url.trim_start_matches("http://").parse()?)
    }

    /// Its data directory.
    pub fn data_path(&self) -> &std::path::Path {
        self.data_dir
            .as_ref()
            .map_or(std::path::Path::new("."), |d| d.path())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client with its own cookie jar and the CSRF header the app sends.
#[derive(Clone)]
pub struct Api {
    /// Base URL.
    pub base: String,
    /// The client.
    pub http: reqwest::Client,
}

impl Api {
    /// A client for `base`.
    pub fn new(base: &str) -> Api {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-reformboard",
            reqwest::header::HeaderValue::from_static("1"),
        );
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .unwrap_or_default();
        Api {
            base: base.to_string(),
            http,
        }
    }

    /// `POST /api/auth/login`; fails unless 200.
    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<serde_json::Value> {
        let res = self
            .post(
                "/api/auth/login",
                &serde_json::json!({ "username": username, "password": password }),
            )
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "login as {username}: {}",
            res.status()
        );
        Ok(res.json().await?)
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.http.get(format!("{}{path}", self.base)).send().await?)
    }

    /// POST JSON to a path.
    pub async fn post<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await?)
    }

    /// Signs this user out on every device, as the account page's 在所有设备上退出 does.
    pub async fn logout_everywhere(&self) -> anyhow::Result<reqwest::Response> {
        self.post(
            "/api/auth/logout",
            &serde_json::json!({ "everywhere": true }),
        )
        .await
    }

    /// GET a path and decode JSON, failing unless 2xx.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let res = self.get(path).await?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status} {text}");
        Ok(serde_json::from_str(&text)?)
    }

    /// POST JSON and decode JSON, failing unless 2xx.
    pub async fn post_json<B: serde::Serialize + ?Sized, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let res = self.post(path, body).await?;
        let status = res.status();
        let text = res.text().await?;
        anyhow::ensure!(status.is_success(), "POST {path}: {status} {text}");
        Ok(serde_json::from_str(&text)?)
    }
}

/// The demo username of the unit named `unit` (demo accounts are listed by display name).
pub async fn demo_username(server: &Server, unit: &str) -> anyhow::Result<String> {
    let accounts: Vec<shared::account::DemoAccount> =
        server.client().get_json("/api/auth/demo-accounts").await?;
    accounts
        .into_iter()
        .find(|a| a.display_name == unit)
        .map(|a| a.username)
        .with_context(|| format!("no demo account for {unit}"))
}
