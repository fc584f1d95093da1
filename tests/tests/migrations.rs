//! Upgrades keep every row: for each store and every schema version N the repository has a
//! migration for (`backend/migrations/{sqlite,postgres}/NNNN_*.sql`), a database is built at
//! version N only (the migrations up to N, through sqlx's own migrator), populated, and then the
//! current binary is started on it: it migrates N → latest, and everything a client can see
//! (every entity, every account, every audit record, sessions, the sync clients' last mutation
//! ids, passwords) must be as it was.
//!
//! Populating: the current binary makes realistic data through the API (cards, steps, comments,
//! a rejected mutation, accounts created and disabled, failed logins, sessions), and its rows are
//! copied into the version-N database column by column, for every table and column that version
//! has. So the test covers a new migration the moment its file exists, with nothing to add. What
//! it can't see: a migration that rewrites the *format* of data written by an older binary (the
//! rows come from the current one). Such a migration needs its own test with rows in the old
//! format.

use anyhow::{Context, ensure};
use e2e::sync_client::{Item4, Session, Tab, pull_request};
use e2e::{Server, ServerOptions, Store};
use shared::account::UserSummary;
use shared::audit::AuditRecord;
use shared::board::{Column, sort_key};
use shared::entity::Millis;
use shared::ids::{ClientGroupId, CommentId, StepId, TaskId};
use shared::mutation::Mutation;
use shared::state::State;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn migrations_dir(store: Store) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../backend/migrations")
        .join(match store {
            Store::Sqlite => "sqlite",
            Store::Postgres => "postgres",
        })
}

/// The schema versions the repository has, oldest first.
async fn versions(store: Store) -> anyhow::Result<Vec<i64>> {
    let migrator = sqlx::migrate::Migrator::new(migrations_dir(store)).await?;
    let versions: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    ensure!(!versions.is_empty(), "no migrations found");
    Ok(versions)
}

/// What a client can see of the server, to compare before and after an upgrade.
#[derive(Debug, PartialEq)]
struct Seen {
    entities: State,
    users: Vec<UserSummary>,
    audit: BTreeMap<String, AuditRecord>,
    last_mutation_ids: BTreeMap<String, u64>,
}

/// Data the test made, and the sessions and client that made it.
struct Made {
    office: Session,
    lead: Session,
    group: ClientGroupId,
    new_user: (String, String),
}

async fn seen(server: &Server, made: &Made) -> anyhow::Result<Seen> {
    let office = made.office.on(server)?;
    let lead = made.lead.on(server)?;
    let audit: Vec<AuditRecord> = office.api.get_json("/api/audit?limit=1000").await?;
    let pulled = lead.pull_ok(&pull_request(made.group, None)).await?;
    Ok(Seen {
        entities: office.server_view().await?,
        users: office.api.get_json("/api/users").await?,
        audit: audit.into_iter().map(|r| (r.id.clone(), r)).collect(),
        last_mutation_ids: pulled
            .last_mutation_ids
            .into_iter()
            .map(|(c, id)| (c.to_string(), id))
            .collect(),
    })
}

/// Fills a fresh server with one of everything the API can make.
async fn populate(server: &Server) -> anyhow::Result<Made> {
    let Item4 {
        office, item, lead, ..
    } = Item4::on(server).await?;
    let owner = lead.me.unit;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let task = TaskId::new_v7();
    let at = Millis(1_396_224_000_000);
    let k = sort_key::between(None, None);
    tab.add(Mutation::CreateTask {
        id: task,
        item: item.id,
        title: "迁移测试：制定工作方案".into(),
        owner,
        column: Column::NotStarted,
        sort_key: k.clone(),
        due: chrono::NaiveDate::from_ymd_opt(2014, 3, 31),
        at,
    });
    tab.add(Mutation::AddStep {
        task,
        step: StepId::new_v7(),
        text: "调研".into(),
        sort_key: k.clone(),
        at,
    });
    tab.add(Mutation::MoveTask {
        task,
        column: Column::InProgress,
        sort_key: k,
        at,
    });
    tab.add(Mutation::SetTaskProgress {
        task,
        progress: 40,
        at,
    });
    tab.add(Mutation::AddComment {
        id: CommentId::new_v7(),
        item: item.id,
        task: Some(task),
        body: "请按时报送".into(),
        at,
    });
    // Refused for good: a row in `rejection`.
    tab.add(Mutation::SetTaskProgress {
        task: TaskId::new_v7(),
        progress: 10,
        at,
    });
    lead.push_ok(&tab.push_request()).await?;
    // Accounts: one created (and its password), one disabled; a failed login for the throttle.
    let password = "迁移-Passw0rd-2014".to_string();
    let created: UserSummary = office
        .api
        .post_json(
            "/api/users",
            &serde_json::json!({
                "username": "migration-user",
                "display_name": "迁移测试",
                "unit": owner,
                "role": "unit",
                "password": password,
            }),
        )
        .await?;
    let npc = Session::login(server, "npc").await?;
    let res = office
        .api
        .post(
            &format!("/api/users/{}/disable", npc.me.id),
            &serde_json::json!({}),
        )
        .await?;
    ensure!(res.status().is_success(), "disable: {}", res.status());
    let res = server
        .client()
        .post(
            "/api/auth/login",
            &serde_json::json!({ "username": "leader", "password": "wrong" }),
        )
        .await?;
    ensure!(res.status() == 403, "a wrong password: {}", res.status());
    Ok(Made {
        office,
        lead,
        group: tab.group,
        new_user: (created.username, password),
    })
}

async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .with_context(|| format!("connecting to {url}"))
}

fn sqlite_url(dir: &std::path::Path, create: bool) -> String {
    let mode = if create { "rwc" } else { "rw" };
    format!(
        "sqlite://{}?mode={mode}",
        dir.join("reformboard.db").display()
    )
}

/// Tables (but sqlx's own) and their columns with declared types.
async fn schema(
    pool: &AnyPool,
    store: Store,
) -> anyhow::Result<BTreeMap<String, Vec<(String, String)>>> {
    let tables: Vec<(String,)> = match store {
        Store::Sqlite => {
            sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await?
        }
        Store::Postgres => {
            sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(pool)
            .await?
        }
    };
    let mut out = BTreeMap::new();
    for (table,) in tables {
        let columns: Vec<(String, String)> = match store {
            Store::Sqlite => {
                sqlx::query_as("SELECT name, type FROM pragma_table_info($1)")
                    .bind(&table)
                    .fetch_all(pool)
                    .await?
            }
            Store::Postgres => {
                sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(&table)
                .fetch_all(pool)
                .await?
            }
        };
        out.insert(table, columns);
    }
    Ok(out)
}

/// One value read generically, by its declared column type.
enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
}

fn read(row: &AnyRow, i: usize, declared: &str) -> anyhow::Result<Value> {
    let t = declared.to_ascii_lowercase();
    Ok(if t.contains("int") {
        Value::Int(row.try_get(i)?)
    } else if t.contains("real")
        || t.contains("double")
        || t.contains("float")
        || t.contains("numeric")
    {
        Value::Real(row.try_get(i)?)
    } else if t.contains("bool") {
        Value::Bool(row.try_get(i)?)
    } else {
        Value::Text(row.try_get(i)?)
    })
}

/// Copies every row of `from` into `to`, for the tables and columns `to` has. Returns the rows
/// copied per table.
async fn copy_rows(
    from: &AnyPool,
    to: &AnyPool,
    store: Store,
) -> anyhow::Result<BTreeMap<String, usize>> {
    let source = schema(from, store).await?;
    let target = schema(to, store).await?;
    let mut copied = BTreeMap::new();
    for (table, target_columns) in &target {
        let Some(source_columns) = source.get(table) else {
            continue;
        };
        let columns: Vec<&(String, String)> = source_columns
            .iter()
            .filter(|(name, _)| target_columns.iter().any(|(t, _)| t == name))
            .collect();
        let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
        let list = names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {list} FROM \"{table}\""
        )))
        .fetch_all(from)
        .await?;
        let marks = (1..=names.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!("INSERT INTO \"{table}\" ({list}) VALUES ({marks})");
        // The version-N database was just made by its migrations, which may seed rows of their
        // own (e.g. meta); the populated copy wins.
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM \"{table}\"")))
            .execute(to)
            .await?;
        for row in &rows {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
            for (i, (_, declared)) in columns.iter().enumerate() {
                q = match read(row, i, declared)? {
                    Value::Int(v) => q.bind(v),
                    Value::Real(v) => q.bind(v),
                    Value::Bool(v) => q.bind(v),
                    Value::Text(v) => q.bind(v),
                };
            }
            q.execute(to)
                .await
                .with_context(|| format!("copying a row of {table}"))?;
        }
        copied.insert(table.clone(), rows.len());
    }
    Ok(copied)
}

async fn row_counts(pool: &AnyPool, store: Store) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for table in schema(pool, store).await?.keys() {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM \"{table}\""
        )))
        .fetch_one(pool)
        .await?;
        out.insert(table.clone(), n);
    }
    Ok(out)
}

/// A new empty database for `store`: a temp dir (SQLite) or a fresh PostgreSQL database.
async fn empty_database(
    store: Store,
) -> anyhow::Result<(tempfile::TempDir, Option<String>, String)> {
    let dir = tempfile::tempdir()?;
    Ok(match store {
        Store::Sqlite => {
            let url = sqlite_url(dir.path(), true);
            (dir, None, url)
        }
        Store::Postgres => {
            let url = e2e::fresh_postgres_database().await?;
            (dir, Some(url.clone()), url)
        }
    })
}

async fn upgrades_keep_everything(store: Store) -> anyhow::Result<()> {
    let versions = versions(store).await?;
    let latest = *versions.last().context("no migrations")?;

    // The populated database, made by the current binary.
    let source = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let made = populate(&source).await?;
    let before = seen(&source, &made).await?;
    let source_url = source
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(source.data_path(), false));
    let from = connect(&source_url).await?;
    let counts_before = row_counts(&from, store).await?;

    for &version in &versions {
        let (dir, database_url, url) = empty_database(store).await?;
        let to = connect(&url).await?;
        let migrator = sqlx::migrate::Migrator::new(migrations_dir(store)).await?;
        migrator.run_to(version, &to).await?;
        let copied = copy_rows(&from, &to, store).await?;
        to.close().await;

        let upgraded = Server::start_in(
            ServerOptions {
                store,
                ..Default::default()
            },
            dir,
            database_url,
        )
        .await
        .with_context(|| format!("starting on a version-{version} database"))?;
        let after = seen(&upgraded, &made).await?;
        ensure!(
            before.entities == after.entities,
            "{store:?} {version} → {latest}: entities differ: {:#?}",
            e2e::sync_client::diff(&before.entities, &after.entities)
        );
        ensure!(
            before.users == after.users,
            "{store:?} {version} → {latest}: accounts differ"
        );
        ensure!(
            before.last_mutation_ids == after.last_mutation_ids,
            "{store:?} {version} → {latest}: last mutation ids differ"
        );
        // Reading the trail signs in and so adds records; every old one must be there unchanged.
        for (id, record) in &before.audit {
            ensure!(
                after.audit.get(id) == Some(record),
                "{store:?} {version} → {latest}: audit record {id} lost or changed"
            );
        }
        // Passwords and sessions survive: the created account signs in, the old session is
        // still signed in, and the disabled account is still disabled.
        let fresh = upgraded.client();
        fresh.login(&made.new_user.0, &made.new_user.1).await?;
        let me = made.office.on(&upgraded)?.api.get("/api/auth/me").await?;
        ensure!(me.status() == 200, "the old session ended: {}", me.status());
        let npc = upgraded
            .client()
            .post(
                "/api/auth/login",
                &serde_json::json!({ "username": "npc", "password": e2e::DEMO_PASSWORD }),
            )
            .await?;
        ensure!(
            npc.status() == 403,
            "a disabled account signed in after the upgrade"
        );

        let url_after = upgraded
            .database_url
            .clone()
            .unwrap_or_else(|| sqlite_url(upgraded.data_path(), false));
        let check = connect(&url_after).await?;
        let counts_after = row_counts(&check, store).await?;
        for (table, n) in &copied {
            let now = counts_after.get(table).copied().unwrap_or(0);
            ensure!(
                now >= i64::try_from(*n)?,
                "{store:?} {version} → {latest}: {table} had {n} rows, now {now}"
            );
        }
        check.close().await;
        eprintln!(
            "{store:?}: schema {version} → {latest}: {} entities, {} accounts, {} audit records, \
             {} tables ({} rows) kept",
            before.entities.iter().count(),
            before.users.len(),
            before.audit.len(),
            copied.len(),
            copied.values().sum::<usize>()
        );
    }
    ensure!(
        counts_before.values().sum::<i64>() > 0,
        "the populated database is empty"
    );
    Ok(())
}

/// Migration 0006 rewrites rows an older binary wrote: an assessment adjustment stored for its
/// unit alone is re-marked for those who oversee the plan, so a leader sees it after the upgrade.
async fn old_adjustments_reach_the_leaders_after_the_upgrade(store: Store) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let office = Session::login(&server, "office").await?;
    let unit = office
        .server_view()
        .await?
        .units()
        .find(|u| u.in_plan)
        .context("a unit")?
        .id;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    tab.add(Mutation::AdjustAssessment(shared::assessment::Adjust {
        id: shared::ids::AdjustmentId::new_v7(),
        unit,
        points: -1,
        reason: "报告逾期".into(),
        at: Millis(1_400_000_000_000),
    }));
    office.push_ok(&tab.push_request()).await?;
    let url = server
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(server.data_path(), false));
    let (dir, database_url) = server.kill();
    // As the binary before 0006 stored it, at schema version 5.
    let db = connect(&url).await?;
    let old = sqlx::query(
        "UPDATE entity SET visible_unit = substr(visible_unit, 11) WHERE kind = 'adjustment'",
    )
    .execute(&db)
    .await?;
    ensure!(
        old.rows_affected() == 1,
        "{} adjustments",
        old.rows_affected()
    );
    // And what the later migrations added is not there yet.
    sqlx::query("ALTER TABLE rejection DROP COLUMN refusal")
        .execute(&db)
        .await?;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version >= 6")
        .execute(&db)
        .await?;
    db.close().await;

    let upgraded = Server::start_in(
        ServerOptions {
            store,
            ..Default::default()
        },
        dir,
        database_url,
    )
    .await?;
    let leader = Session::login(&upgraded, "leader").await?;
    ensure!(
        leader
            .server_view()
            .await?
            .adjustments()
            .any(|a| a.unit == unit),
        "the leader does not see the adjustment after the upgrade"
    );
    Ok(())
}

e2e::on_both_stores!(
    upgrades_keep_everything,
    old_adjustments_reach_the_leaders_after_the_upgrade
);
