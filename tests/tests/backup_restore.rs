//! Backup under write load and restore into a fresh data directory (SQLite; PostgreSQL is backed
//! up with pg_dump, and `reformboard backup` says so). The restored server serves the plan and
//! the board exactly as the backup holds them, every acknowledged write from before the backup
//! started is in it, every audit row's entity exists, pushes are accepted (and retries stay
//! duplicates), and browsers' old cookies get a full reset because the restore gives the
//! database a new sync epoch.

use anyhow::{Context, ensure};
use e2e::sync_client::{
    ITEM4_LEAD, Item4, ServerDb, Session, Tab, diff, pull_request, push_request,
};
use e2e::{Server, ServerOptions, Store};
use serde_json::Value;
use shared::board::{Column, sort_key};
use shared::entity::{EntityKey, Millis};
use shared::ids::{ClientGroupId, ClientId, TaskId};
use shared::mutation::Mutation;
use shared::state::State;
use shared::sync::{Outcome, PendingMutation};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const WRITERS: usize = 3;

/// Runs `reformboard ARGS`; returns whether it succeeded and what it printed.
async fn reformboard(args: Vec<String>) -> anyhow::Result<(bool, String)> {
    let out = tokio::task::spawn_blocking(move || {
        Command::new(e2e::binary())
            .args(&args)
            .env_remove("DATABASE_URL")
            .env_remove("REFORMBOARD_DATA_DIR")
            .env("RUST_LOG", "error")
            .output()
    })
    .await??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Opens a SQLite file read-only (the backup itself, left untouched).
async fn open_sqlite(file: &Path) -> anyhow::Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await?)
}

async fn entities_of(pool: &sqlx::AnyPool) -> anyhow::Result<State> {
    ServerDb { pool: pool.clone() }.entities().await
}

async fn epoch_of(pool: &sqlx::AnyPool) -> anyhow::Result<String> {
    Ok(
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
            .fetch_one(pool)
            .await?,
    )
}

/// One writer: new cards and progress updates on item 4, each push acknowledged before the next;
/// returns the ids of cards acknowledged and when.
async fn writer(
    session: Arc<Session>,
    item: shared::entity::Item,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(TaskId, Instant)>>>,
) -> anyhow::Result<Tab> {
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let mut key: Option<String> = None;
    let owner = item
        .lead_units
        .first()
        .copied()
        .context("item 4 has a lead unit")?;
    while !stop.load(Ordering::Relaxed) {
        let id = TaskId::new_v7();
        let k = sort_key::between(key.as_deref(), None);
        key = Some(k.clone());
        tab.add(Mutation::CreateTask {
            id,
            item: item.id,
            title: format!("备份负载 {id}"),
            owner,
            column: Column::NotStarted,
            sort_key: k,
            due: None,
            at: Millis(0),
        });
        tab.add(Mutation::SetTaskProgress {
            task: id,
            progress: 30,
            at: Millis(1),
        });
        let res = session.push_ok(&tab.push_request()).await?;
        for r in &res.results {
            ensure!(matches!(r.outcome, Outcome::Applied), "{:?}", r.outcome);
        }
        tab.outbox.clear();
        acked.lock().await.push((id, Instant::now()));
    }
    Ok(tab)
}

#[tokio::test]
async fn backup_under_load_restores_the_same_plan_with_a_new_epoch() -> anyhow::Result<()> {
    let started = Instant::now();
    let source = Server::start(ServerOptions {
        store: Store::Sqlite,
        ..Default::default()
    })
    .await?;
    let Item4 {
        office,
        facts,
        item: item4,
        lead,
    } = Item4::on(&source).await?;
    let lead = Arc::new(lead);
    // A browser's cookie from before the backup, to try on the restored server.
    let old_group = ClientGroupId::new_v7();
    let old_cookie = lead.pull_ok(&pull_request(old_group, None)).await?.cookie;

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            tokio::spawn(writer(
                lead.clone(),
                item4.clone(),
                stop.clone(),
                acked.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;

    let work = tempfile::tempdir()?;
    let backup = work.path().join("backup.db");
    let backup_started = Instant::now();
    let (ok, out) = reformboard(vec![
        "backup".into(),
        path_arg(&backup),
        "--data-dir".into(),
        path_arg(source.data_path()),
    ])
    .await?;
    ensure!(ok, "backup failed: {out}");
    let backup_took = backup_started.elapsed();
    // Writing a backup over an existing file is refused, so a backup is never half-overwritten.
    let (ok, _) = reformboard(vec![
        "backup".into(),
        path_arg(&backup),
        "--data-dir".into(),
        path_arg(source.data_path()),
    ])
    .await?;
    ensure!(!ok, "backup overwrote an existing file");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut tabs = Vec::new();
    for w in writers {
        tabs.push(w.await??);
    }
    let acked = acked.lock().await.clone();
    let before_backup: Vec<TaskId> = acked
        .iter()
        .filter(|(_, at)| *at < backup_started)
        .map(|(id, _)| *id)
        .collect();
    let after_backup = acked
        .iter()
        .filter(|(_, at)| *at > backup_started + backup_took)
        .count();
    ensure!(
        !before_backup.is_empty() && after_backup > 0,
        "the backup ran under load"
    );

    // The backup on its own: consistent, holding every write acknowledged before it started.
    let backup_pool = open_sqlite(&backup).await?;
    let in_backup = entities_of(&backup_pool).await?;
    for id in &before_backup {
        let task = in_backup
            .tasks()
            .find(|t| t.id == *id)
            .with_context(|| format!("acknowledged task {id} is not in the backup"))?;
        ensure!(task.progress == 30, "task {id} lost its progress update");
    }
    let backup_tasks = in_backup.tasks().count();
    let audit_entities: Vec<(Option<String>,)> =
        sqlx::query_as("SELECT entity FROM audit WHERE client_id IS NOT NULL")
            .fetch_all(&backup_pool)
            .await?;
    for (entity,) in &audit_entities {
        let key = EntityKey(
            entity
                .clone()
                .context("a mutation's audit row names its entity")?,
        );
        ensure!(
            in_backup.get(&key).is_some(),
            "audit row about {key}, which the backup lacks"
        );
    }
    // Every card in the backup is in the source as it went on (a prefix of its history).
    let source_db = ServerDb::open(&source).await?;
    let source_now = source_db.entities().await?;
    for task in in_backup.tasks() {
        let key = EntityKey(format!("task/{}", task.id));
        ensure!(
            source_now.get(&key).is_some(),
            "{key} is in the backup but not in the source"
        );
    }
    let backup_epoch = epoch_of(&backup_pool).await?;
    let source_plan: Value = office.api.get_json("/api/plan").await?;

    // Restore: refused into a directory that has a database, accepted with --force, and never
    // from a file that is not a Reformboard database.
    let target = tempfile::tempdir()?;
    let restore = |file: &Path, dir: &Path, force: bool| {
        let mut args = vec![
            "restore".into(),
            path_arg(file),
            "--data-dir".into(),
            path_arg(dir),
        ];
        if force {
            args.push("--force".into());
        }
        reformboard(args)
    };
    let (ok, out) = restore(&backup, target.path(), false).await?;
    ensure!(ok, "restore failed: {out}");
    let (ok, out) = restore(&backup, target.path(), false).await?;
    ensure!(
        !ok && out.contains("--force"),
        "a second restore without --force: {ok} {out}"
    );
    let garbage = work.path().join("garbage.db");
    std::fs::write(&garbage, "not a database at all, just text\n".repeat(100))?;
    let (ok, out) = restore(&garbage, target.path(), true).await?;
    ensure!(!ok, "restored a text file: {out}");
    let empty = work.path().join("empty.db");
    {
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}?mode=rwc", empty.display()))
            .await?;
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&pool)
            .await?;
        pool.close().await;
    }
    let (ok, out) = restore(&empty, target.path(), true).await?;
    ensure!(
        !ok && out.contains("migration"),
        "restored a database without migrations: {out}"
    );
    let (ok, out) = restore(Path::new("/nonexistent/backup.db"), target.path(), true).await?;
    ensure!(!ok, "restored a missing file: {out}");
    // The failed attempts left the restored database as it was.
    let (ok, out) = restore(&backup, target.path(), true).await?;
    ensure!(ok, "restore --force: {out}");
    ensure!(
        entities_of(&backup_pool).await? == in_backup,
        "restore wrote to the backup"
    );
    ensure!(
        epoch_of(&backup_pool).await? == backup_epoch,
        "restore changed the backup's epoch"
    );

    // The restored server serves what the backup holds.
    let restored = Server::start_in(
        ServerOptions {
            store: Store::Sqlite,
            ..Default::default()
        },
        target,
        None,
    )
    .await?;
    let restored_db = ServerDb::open(&restored).await?;
    let restored_entities = restored_db.entities().await?;
    let d = diff(&in_backup, &restored_entities);
    ensure!(
        d.is_empty(),
        "restored entities differ from the backup: {d:?}"
    );
    let restored_office = Session::login(&restored, "office").await?;
    let restored_plan: Value = restored_office.api.get_json("/api/plan").await?;
    ensure!(
        restored_plan == source_plan,
        "GET /api/plan differs after the restore"
    );
    let full = restored_office.server_view().await?;
    let d = diff(&in_backup, &full);
    ensure!(
        d.is_empty(),
        "a full pull of the restored server differs from the backup: {d:?}"
    );
    let epoch: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'epoch'")
        .fetch_one(&restored_db.pool)
        .await?;
    ensure!(
        epoch != backup_epoch && epoch != old_cookie.epoch,
        "the restore kept the old epoch"
    );

    // A browser that synced with the old server gets a full reset, with the restored state.
    let lead_there = facts.login_unit(&restored, ITEM4_LEAD).await?;
    let res = lead_there
        .pull_ok(&pull_request(old_group, Some(old_cookie.clone())))
        .await?;
    ensure!(
        res.reset,
        "an old cookie was taken as current after a restore"
    );
    // The restored server accepts pushes; a retry of a mutation the backup holds stays a
    // duplicate (exactly once across the restore), and the next new one applies.
    // A writer acknowledged before the backup started (checked above): its client's last id
    // is in the backup.
    let mut held_by = Vec::new();
    for tab in &tabs {
        let held: i64 = sqlx::query_scalar("SELECT last_mutation_id FROM client WHERE id = $1")
            .bind(tab.client.to_string())
            .fetch_optional(&backup_pool)
            .await?
            .unwrap_or(0);
        held_by.push((held, tab));
    }
    let (held, tab) = held_by
        .into_iter()
        .max_by_key(|(held, _)| *held)
        .context("writers")?;
    ensure!(held > 0, "the backup holds no writer's last change id");
    {
        let retry = push_request(
            tab.group,
            vec![PendingMutation {
                client_id: tab.client,
                id: u64::try_from(held)?,
                mutation: Mutation::SetTaskProgress {
                    task: TaskId::new_v7(),
                    progress: 1,
                    at: Millis(2),
                },
            }],
        );
        let res = lead_there.push_ok(&retry).await?;
        ensure!(
            res.results
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Duplicate)),
            "a mutation the backup holds was applied again: {res:?}"
        );
    }
    let fresh = TaskId::new_v7();
    let res = lead_there
        .push_ok(&push_request(
            ClientGroupId::new_v7(),
            vec![PendingMutation {
                client_id: ClientId::new_v7(),
                id: 1,
                mutation: Mutation::CreateTask {
                    id: fresh,
                    item: item4.id,
                    title: "恢复之后".into(),
                    owner: lead_there.me.unit,
                    column: Column::NotStarted,
                    sort_key: sort_key::between(None, None),
                    due: None,
                    at: Millis(3),
                },
            }],
        ))
        .await?;
    ensure!(
        matches!(
            res.results.first().map(|r| &r.outcome),
            Some(Outcome::Applied)
        ),
        "{res:?}"
    );
    let after = restored_db.entities().await?;
    ensure!(
        after.get(&EntityKey(format!("task/{fresh}"))).is_some(),
        "the new card is stored"
    );
    let keys: BTreeSet<_> = after.tasks().map(|t| t.id).collect();
    ensure!(
        keys.len() == backup_tasks + 1,
        "one card more than the backup"
    );
    eprintln!(
        "backup of {backup_tasks} cards under load ({} acknowledged writes, {} before the backup, \
         {after_backup} after) took {backup_took:?}; whole test {:?}",
        acked.len(),
        before_backup.len(),
        started.elapsed()
    );
    Ok(())
}

/// PostgreSQL is backed up with its own tools: `reformboard backup` refuses rather than writing
/// something partial, and `restore` only ever writes the SQLite file of a data directory.
#[tokio::test]
async fn backup_of_postgres_points_to_pg_dump() -> anyhow::Result<()> {
    let Some(_) = e2e::postgres_admin_url() else {
        return e2e::skipped("PostgreSQL (REFORMBOARD_TEST_PG)");
    };
    let url = e2e::fresh_postgres_database().await?;
    let work = tempfile::tempdir()?;
    let out = tokio::task::spawn_blocking({
        let file = work.path().join("pg.db");
        let dir = work.path().join("data");
        move || {
            Command::new(e2e::binary())
                .arg("backup")
                .arg(file)
                .arg("--data-dir")
                .arg(dir)
                .env("DATABASE_URL", url)
                .env("RUST_LOG", "error")
                .output()
        }
    })
    .await??;
    let text = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success() && text.contains("pg_dump"),
        "backup on PostgreSQL: {text}"
    );
    ensure!(!work.path().join("pg.db").exists(), "no partial file");
    Ok(())
}
