//! `reformboard`: the server and its command-line tools.

use anyhow::Context;
use backend::app::{AppState, Config};
use backend::auth::session::SessionLimits;
use backend::auth::{password, users};
use backend::db::Db;
use backend::sync::poke::PokeHub;
use backend::{bootstrap, plan_import};
use clap::{Args, Parser, Subcommand};
use shared::actor::Role;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// mimalloc rather than glibc's malloc: every request allocates (JSON in and out, rows,
/// answers), glibc's bookkeeping (consolidating and unlinking chunks) was a tenth of the server's
/// time answering a thousand pulls, and glibc kept what a burst of writes had used: after the
/// throughput benchmark the server held ~100 MB, with mimalloc ~45 MB (speed unchanged within
/// the noise).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "reformboard",
    version,
    about = "改革看板 Reformboard: runs a government reform plan"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Data directory (the SQLite file, uploads).
    #[arg(long, env = "REFORMBOARD_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…); without it, SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args, Clone)]
struct SessionArgs {
    /// Sign a session out after this many minutes without use (default: 3 days).
    #[arg(long, env = "REFORMBOARD_SESSION_IDLE_MINUTES")]
    session_idle_minutes: Option<u32>,
    /// Sign a session out this many hours after login, used or not (default: 14 days).
    #[arg(long, env = "REFORMBOARD_SESSION_MAX_HOURS")]
    session_max_hours: Option<u32>,
    /// Served behind a reverse proxy: the client's address is the last X-Forwarded-For entry.
    #[arg(long, env = "REFORMBOARD_BEHIND_PROXY", value_parser = clap::builder::BoolishValueParser::new())]
    behind_proxy: bool,
}

impl SessionArgs {
    fn limits(&self) -> SessionLimits {
        let default = SessionLimits::default();
        SessionLimits {
            idle_ms: self
                .session_idle_minutes
                .map_or(default.idle_ms, |m| i64::from(m) * 60_000),
            absolute_ms: self
                .session_max_hours
                .map_or(default.absolute_ms, |h| i64::from(h) * 3_600_000),
        }
    }
}

#[derive(Args, Clone)]
struct MailArgs {
    /// Mail notifications through this SMTP server: smtp://[user:pass@]host[:port]
    /// (`?tls=required` for STARTTLS), smtps://… for TLS, or file:///dir to write .eml files.
    /// Without it nothing is mailed.
    #[arg(long, env = "REFORMBOARD_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender of those mails.
    #[arg(
        long,
        env = "REFORMBOARD_SMTP_FROM",
        default_value = "改革看板 <reformboard@localhost>"
    )]
    smtp_from: String,
}

impl MailArgs {
    fn mailer(&self) -> anyhow::Result<Option<backend::mail::Mailer>> {
        self.smtp_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|url| backend::mail::Mailer::new(url, &self.smtp_from))
            .transpose()
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app and the API.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, env = "REFORMBOARD_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// The built app (`cargo xtask build-site` writes it to target/site).
        #[arg(long, env = "REFORMBOARD_SITE_DIR")]
        site_dir: Option<PathBuf>,
        /// Demo mode: one account per unit, listed on the login page. Never for real data.
        #[arg(long)]
        demo: bool,
        /// With --demo: play a year of the seed plan (tasks, submissions, difficulties,
        /// instructions, evaluations, a bulletin) into an empty database, dated 2014.
        #[arg(long, requires = "demo")]
        demo_year: bool,
        /// Mark the session cookie Secure (set when served over HTTPS).
        #[arg(long, env = "REFORMBOARD_SECURE_COOKIES", value_parser = clap::builder::BoolishValueParser::new())]
        secure_cookies: bool,
        #[command(flatten)]
        sessions: SessionArgs,
        /// Largest upload accepted, in MB (default 20).
        #[arg(long, env = "REFORMBOARD_MAX_UPLOAD_MB")]
        max_upload_mb: Option<u64>,
        /// Seconds a client may take to send a request's headers, and a keep-alive connection
        /// may sit idle, before it is closed (default 30).
        #[arg(long, env = "REFORMBOARD_HEADER_TIMEOUT_SECS",
              value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout_secs: Option<u64>,
        /// Hour of the day (Beijing time, 0–23) at which the daily reminders (催办) are sent;
        /// they are also sent once at start.
        #[arg(long, env = "REFORMBOARD_REMINDER_HOUR", default_value_t = 8,
              value_parser = clap::value_parser!(u32).range(0..24))]
        reminder_hour: u32,
        /// Don't send the daily reminders from this process.
        #[arg(long, env = "REFORMBOARD_NO_REMINDERS", value_parser = clap::builder::BoolishValueParser::new())]
        no_reminders: bool,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Send the daily reminders (催办) once, for today or another date, and exit.
    Remind {
        /// The day to remind as of (YYYY-MM-DD; default today in Beijing).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        #[command(flatten)]
        db: DbArgs,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Parse a plan document and print what was read.
    ParsePlan {
        /// The document (UTF-8 text).
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Import a plan document (idempotent: the same file twice changes nothing).
    ImportPlan {
        /// The document.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write a consistent copy of the SQLite database while the server runs.
    Backup {
        /// Where to write the copy.
        file: PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Put a backup written by `backup` in place as the SQLite database of a data directory. The
    /// server must be stopped; the restored database gets a new sync epoch, so every browser
    /// drops its copy and pulls afresh instead of mixing two histories.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Data directory to restore into.
        #[arg(long, env = "REFORMBOARD_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// Replace an existing database there.
        #[arg(long)]
        force: bool,
    },
    /// Create a user account.
    CreateUser {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Shown name.
        #[arg(long)]
        name: String,
        /// The unit's name (as in the plan).
        #[arg(long)]
        unit: String,
        /// office, unit, leader or supervisor.
        #[arg(long, default_value = "unit")]
        role: String,
        /// Initial password (must be changed at first login).
        #[arg(long, env = "REFORMBOARD_NEW_PASSWORD")]
        password: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Writes a line to standard output: the CLI's results, not logs.
fn say(line: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn open(db: &DbArgs) -> anyhow::Result<Db> {
    Db::open(db.database_url.as_deref(), &db.data_dir).await
}

fn read_plan(
    file: &PathBuf,
) -> anyhow::Result<Result<shared::plan_text::ParsedPlan, shared::plan_text::ParseError>> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    Ok(shared::plan_text::parse_bytes(&bytes))
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    match cli.command {
        Command::Serve {
            db,
            addr,
            site_dir,
            demo,
            demo_year,
            secure_cookies,
            sessions,
            max_upload_mb,
            header_timeout_secs,
            reminder_hour,
            no_reminders,
            mail,
        } => {
            let config = Config {
                demo,
                secure_cookies,
                site_dir,
                data_dir: db.data_dir.clone(),
                sessions: sessions.limits(),
                behind_proxy: sessions.behind_proxy,
                upload_max_bytes: max_upload_mb.map(|mb| mb.saturating_mul(1024 * 1024)),
                mailer: mail.mailer()?,
            };
            let reminders = (!no_reminders).then_some(reminder_hour);
            let header_timeout = header_timeout_secs.map_or(
                backend::connection::HEADER_READ_TIMEOUT,
                Duration::from_secs,
            );
            serve(db, addr, config, demo_year, reminders, header_timeout).await?;
        }
        Command::Remind { date, db, mail } => {
            let mailer = mail.mailer()?;
            let db = open(&db).await?;
            let day = date.unwrap_or_else(backend::export::today);
            let hub = PokeHub::new();
            let report = backend::reminder_job::run_once(&db, &hub, mailer.as_ref(), day).await?;
            say(format!(
                "{day} 催办：新发 {}，已有 {}",
                report.created, report.existing
            ));
        }
        Command::ParsePlan { file, json } => {
            let parsed = match read_plan(&file)? {
                Ok(p) => p,
                Err(e) => {
                    say(format!("{}: {e}", file.display()));
                    return Ok(std::process::ExitCode::FAILURE);
                }
            };
            if json {
                say(serde_json::to_string_pretty(&parsed.summary())?);
            } else {
                say(&parsed.plan.title);
                for item in &parsed.plan.items {
                    say(format!(
                        "{:>3}. {}\n     牵头：{}\n     配合：{}",
                        item.number,
                        item.title,
                        item.lead_units.join("、"),
                        item.cooperating_units.join("、")
                    ));
                }
                say(format!(
                    "{} 项改革，{} 个单位",
                    parsed.plan.items.len(),
                    parsed.units.len()
                ));
                for w in &parsed.warnings {
                    say(format!("警告 第{}行：{}", w.line, w.message));
                }
            }
        }
        Command::ImportPlan { file, db } => {
            let parsed = match read_plan(&file)? {
                Ok(p) => p,
                Err(e) => {
                    say(format!("{}: {e}", file.display()));
                    return Ok(std::process::ExitCode::FAILURE);
                }
            };
            // What the parser could not place is said before anything is written (an item
            // without a unit line comes in with no lead unit, to be completed by hand).
            for w in &parsed.warnings {
                say(format!("警告 第{}行：{}", w.line, w.message));
            }
            let db = open(&db).await?;
            let report = plan_import::import(&db, &parsed).await?;
            say(format!(
                "导入完成：新建 {}，更新 {}，未变 {}",
                report.created, report.updated, report.unchanged
            ));
        }
        Command::Backup { file, db } => {
            let db = open(&db).await?;
            anyhow::ensure!(
                db.kind == backend::db::DbKind::Sqlite,
                "backup copies the SQLite database; for PostgreSQL use pg_dump"
            );
            anyhow::ensure!(!file.exists(), "{} already exists", file.display());
            // VACUUM INTO writes a consistent snapshot while other connections keep writing.
            sqlx::query("VACUUM INTO $1")
                .bind(file.to_string_lossy().to_string())
                .execute(&db.pool)
                .await
                .context("writing the backup")?;
            say(format!("备份已写入 {}", file.display()));
        }
        Command::Restore {
            file,
            data_dir,
            force,
        } => {
            restore(&file, &data_dir, force).await?;
            say(format!(
                "已从 {} 恢复到 {}",
                file.display(),
                data_dir.display()
            ));
        }
        Command::CreateUser {
            username,
            name,
            unit,
            role,
            password: pw,
            db,
        } => {
            let role =
                Role::parse(&role).context("role must be office, unit, leader or supervisor")?;
            anyhow::ensure!(
                shared::account::valid_username(&username),
                "invalid username"
            );
            password::check_new(&pw).map_err(|m| anyhow::anyhow!("{}", m.en()))?;
            let db = open(&db).await?;
            plan_import::ensure_builtin_units(&db).await?;
            let state = backend::entity_store::load_all(&db.pool).await?;
            let unit = state
                .unit_named(&unit)
                .with_context(|| format!("no unit named {unit}"))?;
            let fits = shared::unit::role_of_unit(&unit.name);
            anyhow::ensure!(
                role == fits,
                "an account of {} has the role {}",
                unit.name,
                fits.as_str()
            );
            let created = users::insert(
                &db.pool,
                users::NewUser {
                    username: &username,
                    display_name: &name,
                    unit: unit.id,
                    role,
                    password_hash: password::hash(&pw)?,
                    must_change_password: true,
                },
            )
            .await?;
            let Some(id) = created else {
                anyhow::bail!("username {username} is taken");
            };
            // On the record like an account the office creates, by nobody signed in.
            let event = backend::audit::SecurityEvent {
                actor: None,
                action: "user_created",
                subject: Some(&id.to_string()),
                detail: Some(format!(
                    "{username}：{}，{}（命令行 create-user）",
                    unit.name,
                    role.zh()
                )),
            };
            backend::audit::security_event(&db.pool, event).await?;
            say(format!("已创建用户 {username}（{}）", unit.name));
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The SQLite migrations this binary knows; a backup must have every one of them applied.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

async fn restore(
    file: &std::path::Path,
    data_dir: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(file.is_file(), "{} is not a file", file.display());
    let target = data_dir.join("reformboard.db");
    let sidecars = [
        data_dir.join("reformboard.db-wal"),
        data_dir.join("reformboard.db-shm"),
    ];
    if target.exists() && !force {
        anyhow::bail!(
            "{} already holds a database: stop the server and pass --force to replace it",
            target.display()
        );
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    // Work on a copy next to the target, so the backup is never written to and a failure
    // leaves the current database untouched; the rename at the end is atomic.
    let staging = data_dir.join("reformboard.db.restoring");
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(file, &staging)
        .with_context(|| format!("copying {} to {}", file.display(), staging.display()))?;
    let result = prepare_restored(&staging).await;
    for leftover in [
        "reformboard.db.restoring-wal",
        "reformboard.db.restoring-shm",
    ] {
        let _ = std::fs::remove_file(data_dir.join(leftover));
    }
    if let Err(e) = result {
        let _ = std::fs::remove_file(&staging);
        return Err(e.context(format!(
            "{} is not a usable Reformboard backup",
            file.display()
        )));
    }
    // A WAL left by the old database would be replayed onto the new file: remove it first.
    for sidecar in &sidecars {
        if sidecar.exists() {
            std::fs::remove_file(sidecar)
                .with_context(|| format!("removing {}", sidecar.display()))?;
        }
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("moving the restored database to {}", target.display()))?;
    if let Ok(dir) = std::fs::File::open(data_dir) {
        // Make the rename itself durable.
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Checks the copy is an intact SQLite database with this binary's migrations applied, and gives
/// it a new sync epoch.
async fn prepare_restored(staging: &std::path::Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rw", staging.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .context("opening it as SQLite")?;
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut conn)
        .await
        .context("not an SQLite database")?;
    anyhow::ensure!(check == "ok", "SQLite integrity check failed: {check}");
    let applied: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version, CAST(success AS INTEGER) FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .context("it has no migration table (not a Reformboard database)")?;
    for m in SQLITE_MIGRATIONS
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
    {
        anyhow::ensure!(
            applied.iter().any(|&(v, ok)| v == m.version && ok != 0),
            "migration {} ({}) is not applied",
            m.version,
            m.description
        );
    }
    if let Some((v, _)) = applied
        .iter()
        .find(|(v, _)| !SQLITE_MIGRATIONS.iter().any(|m| m.version == *v))
    {
        anyhow::bail!("it has migration {v}, which this version of Reformboard does not know");
    }
    for table in ["meta", "entity", "audit", "users"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT 1 FROM {table} LIMIT 1"
        )))
        .fetch_optional(&mut conn)
        .await
        .with_context(|| format!("it has no {table} table"))?;
    }
    // A new epoch: every browser's cookie names the old history, so its next pull is a reset.
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('epoch', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .execute(&mut conn)
    .await
    .context("setting a new sync epoch")?;
    // Fold any WAL into the file before it is moved (the backup itself has none, but be sure).
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

async fn serve(
    db_args: DbArgs,
    addr: SocketAddr,
    config: Config,
    demo_year: bool,
    reminder_hour: Option<u32>,
    header_timeout: Duration,
) -> anyhow::Result<()> {
    let db = open(&db_args).await?;
    let demo = config.demo;
    let boot = bootstrap::run(&db, demo).await?;
    if boot.seed_imported {
        tracing::info!("imported the seed plan into the empty database");
    }
    if !boot.demo_passwords_disabled.is_empty() {
        tracing::warn!(
            accounts = %boot.demo_passwords_disabled.join(", "),
            "disabled the accounts that still had the demo password (this database was served \
             with --demo before); create an office account with `reformboard create-user` or \
             re-enable them from 账号管理 after setting a password"
        );
    }
    if demo_year && backend::demo_year::seed(&db).await? {
        say("演示数据 demo year: the 2014 plan played through — pick 查看日期 in 2014 to see it as it stood".to_string());
    }
    if let Some(site) = &config.site_dir
        && !site.join("index.html").exists()
    {
        tracing::warn!(
            "{} has no index.html: run `cargo xtask build-site`",
            site.display()
        );
    }
    let hub = PokeHub::new();
    hub.spawn_listener(&db);
    if let Some(hour) = reminder_hour {
        backend::reminder_job::spawn(
            db.clone(),
            hub.clone(),
            config.mailer.clone(),
            hour,
            config.data_dir.clone(),
        );
    }
    let state = AppState {
        pulls: backend::sync::pull::Puller::start(db.clone(), config.sessions),
        db,
        config: Arc::new(config),
        hub,
        sockets: Default::default(),
        uploads: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    say(format!("Reformboard 改革看板 listening on http://{local}"));
    if let Some(pw) = boot.admin_password {
        say(format!(
            "管理员账号 administrator: {} / {pw}",
            bootstrap::ADMIN_USERNAME
        ));
    }
    if demo {
        say(format!(
            "演示模式 demo mode: the login page lists every demo account (password {})",
            bootstrap::DEMO_PASSWORD
        ));
    }
    backend::connection::serve(listener, backend::app(state), header_timeout, shutdown()).await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
