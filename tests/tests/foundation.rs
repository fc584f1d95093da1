//! The foundation, end to end: the real binary imports the seed plan into a fresh database on
//! first start and serves it back over HTTP; the CLI parses and imports plans idempotently.

use anyhow::Context;
use e2e::{Server, ServerOptions, Store, binary};
use serde_json::Value;
use std::process::Command;

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../seeds/yantian-2014-key-reforms.txt"
);

async fn seed_served(store: Store) -> anyhow::Result<()> {
    let server = Server::start(ServerOptions {
        store,
        ..Default::default()
    })
    .await?;
    let anon = server.client();
    assert_eq!(anon.get("/api/health").await?.status(), 200);
    assert_eq!(
        anon.get("/api/plan").await?.status(),
        401,
        "the plan needs a login"
    );
    assert_eq!(anon.get("/api/no-such-endpoint").await?.status(), 404);

    let api = server.login("unit01").await?;
    let plan: Value = api.get_json("/api/plan").await?;
    assert_eq!(plan["title"], "盐田区2014年重点改革计划");
    assert_eq!(plan["issue_date"], "2014-03-20");
    let items = plan["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 14);
    let item4 = &items[3];
    assert_eq!(item4["number"], 4);
    assert_eq!(item4["title"], "开展集体股份合作公司试点改革");
    assert_eq!(
        item4["lead_units"],
        serde_json::json!(["区财政局〈国资委〉"])
    );
    assert_eq!(
        item4["cooperating_units"],
        serde_json::json!([
            "区纪委〈监察局〉",
            "区委组织部〈编办〉",
            "区社工委",
            "区发改局",
            "区经促局",
            "区民政局",
            "区审计局",
            "区城改办",
            "各街道办",
            "滨海规划国土局"
        ])
    );
    assert_eq!(plan["units"].as_array().map(Vec::len), Some(27));
    Ok(())
}

/// API answers go compressed when they are big enough to gain from it (the plan) and as they
/// are when small (who am I): a brotli stream per small answer costs more than it saves.
#[tokio::test]
async fn big_answers_are_compressed_and_small_ones_are_not() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions::default()).await?;
    let api = server.login("unit01").await?;
    for (path, compressed) in [("/api/plan", true), ("/api/auth/me", false)] {
        let res = api
            .http
            .get(format!("{}{path}", api.base))
            .header("accept-encoding", "br, gzip")
            .send()
            .await?;
        assert_eq!(res.status(), 200, "{path}");
        let encoding = res
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let body = res.bytes().await?;
        if compressed {
            assert_eq!(encoding.as_deref(), Some("br"), "{path} is compressed");
        } else {
            assert_eq!(
                encoding,
                None,
                "{path} ({} bytes) goes as it is",
                body.len()
            );
            assert!(body.len() < 1024, "{path} is small: {} bytes", body.len());
        }
    }
    Ok(())
}

/// The app's files are asked for with their build's id (`?v=`); another build's id is refused,
/// so that a service worker installing the old build during a deploy fails (and tries again
/// later) instead of storing the new build's files under the old build's names.
#[tokio::test]
async fn another_builds_files_are_not_served_as_this_builds() -> anyhow::Result<()> {
    let site = tempfile::tempdir()?;
    std::fs::write(
        site.path().join("index.html"),
        "<!doctype html><title>app</title>",
    )?;
    std::fs::write(site.path().join("boot.js"), "// this build's boot.js")?;
    std::fs::write(
        site.path().join(shared::site::BUILD_ID_FILE),
        "0123456789\n",
    )?;
    let server = Server::start(ServerOptions {
        args: vec!["--site-dir".into(), site.path().display().to_string()],
        ..Default::default()
    })
    .await?;
    let anon = server.client();
    for (path, status) in [
        ("/boot.js?v=0123456789", 200),
        ("/boot.js", 200),
        ("/index.html?v=0123456789", 200),
        ("/boot.js?v=9876543210", 404),
        ("/index.html?v=9876543210", 404),
        ("/items/4/board?x=1&v=9876543210", 404),
        // A screen of the app is the app; a file the site lacks (another build's chunk) is not.
        ("/items/4/board", 200),
        ("/pkg/split-0000000000000000/chunk_1.wasm", 404),
        ("/favicon.ico", 404),
    ] {
        let res = anon.get(path).await?;
        assert_eq!(res.status(), status, "{path}");
        if status == 404 {
            assert_eq!(
                res.headers()
                    .get("cache-control")
                    .and_then(|v| v.to_str().ok()),
                Some("no-store"),
                "{path}: a refusal must not be cached"
            );
        }
    }
    // A new build put in place under the running server (`cargo xtask build-site` replaces the
    // site's folder) is served by its id at once, and the old id refused.
    std::fs::write(
        site.path().join(shared::site::BUILD_ID_FILE),
        "9876543210\n",
    )?;
    assert_eq!(anon.get("/boot.js?v=9876543210").await?.status(), 200);
    assert_eq!(anon.get("/boot.js?v=0123456789").await?.status(), 404);
    Ok(())
}

#[tokio::test]
async fn seed_is_imported_and_served_sqlite() -> anyhow::Result<()> {
    seed_served(Store::Sqlite).await
}

#[tokio::test]
async fn seed_is_imported_and_served_postgres() -> anyhow::Result<()> {
    seed_served(Store::Postgres).await
}

#[test]
fn parse_plan_prints_the_seed_as_json() -> anyhow::Result<()> {
    let out = Command::new(binary())
        .args(["parse-plan", SEED, "--json"])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(json["title"], "盐田区2014年重点改革计划");
    assert_eq!(json["items"].as_array().map(Vec::len), Some(14));
    assert_eq!(json["units"].as_array().map(Vec::len), Some(27));
    assert_eq!(
        json["items"][0]["lead_units"],
        serde_json::json!(["区委〈府〉办", "区委组织部〈编办〉"])
    );
    Ok(())
}

#[test]
fn parse_plan_rejects_junk_with_a_line_number() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let junk = dir.path().join("junk.txt");
    std::fs::write(&junk, b"\xff\xfe\x00binary\x00junk")?;
    let out = Command::new(binary())
        .args(["parse-plan"])
        .arg(&junk)
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("line 1"), "{text}");
    Ok(())
}

/// The SQLite database of the data directory `dir`, read-only.
async fn database_in(dir: &std::path::Path) -> anyhow::Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&format!(
            "sqlite://{}?mode=ro",
            dir.join("reformboard.db").display()
        ))
        .await?)
}

/// Every stored entity row (id, version, content) of the SQLite database in `dir`.
async fn stored_rows(dir: &std::path::Path) -> anyhow::Result<Vec<(String, i64, String)>> {
    let pool = database_in(dir).await?;
    let rows = sqlx::query_as("SELECT id, version, data FROM entity ORDER BY id")
        .fetch_all(&pool)
        .await?;
    pool.close().await;
    Ok(rows)
}

#[tokio::test]
async fn import_plan_is_idempotent() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let import = |file: &std::path::Path| -> anyhow::Result<String> {
        let out = Command::new(binary())
            .arg("import-plan")
            .arg(file)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("DATABASE_URL")
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let first = import(std::path::Path::new(SEED))?;
    assert!(
        first.contains("新建 42"),
        "14 items + 27 units + the plan: {first}"
    );
    let stored = stored_rows(dir.path()).await?;
    let second = import(std::path::Path::new(SEED))?;
    assert!(second.contains("新建 0，更新 0，未变 42"), "{second}");
    // Nothing written: not a row, not a version (every browser would pull again).
    assert!(
        stored_rows(dir.path()).await? == stored,
        "the same file wrote rows"
    );

    // An edited document updates the item in place instead of adding a new one.
    let edited = dir.path().join("edited.txt");
    let text = std::fs::read_to_string(SEED)?
        .replace("开展集体股份合作公司试点改革", "深化集体股份合作公司改革");
    std::fs::write(&edited, text)?;
    let third = import(&edited)?;
    assert!(third.contains("新建 0，更新 1"), "{third}");
    let after = stored_rows(dir.path()).await?;
    let changed: Vec<&(String, i64, String)> =
        after.iter().filter(|row| !stored.contains(row)).collect();
    assert!(
        after.len() == stored.len()
            && changed.len() == 1
            && changed[0].2.contains("深化集体股份合作公司改革"),
        "one item updated in place: {changed:?}"
    );

    // An edition that swaps items 1 and 2 would move item 1's work under item 2's title and
    // units: refused, saying why, with nothing written.
    let swapped = dir.path().join("swapped.txt");
    let text = std::fs::read_to_string(&edited)?;
    let mut lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.starts_with("1.深入推进行政审批制度改革"))
        .context("item 1")?;
    // Item 1 (its line and its unit line) after item 2, each renumbered in its new place.
    lines[first..first + 4].rotate_left(2);
    let text = lines
        .join("\n")
        .replacen("2.推进国企管理体制改革", "1.推进国企管理体制改革", 1)
        .replacen(
            "1.深入推进行政审批制度改革",
            "2.深入推进行政审批制度改革",
            1,
        );
    std::fs::write(&swapped, text)?;
    let refused = import(&swapped).expect_err("a renumbering edition is refused");
    assert!(
        refused.to_string().contains("原为第1项，文本中为第2项"),
        "{refused}"
    );
    let after = import(&edited)?;
    assert!(after.contains("新建 0，更新 0，未变 42"), "{after}");
    Ok(())
}

/// The backend's PostgreSQL sessions price a random read as an SSD's (`db::PG_RANDOM_PAGE_COST`):
/// a push's lookup of a few entities by key then takes the index while the table is small, and
/// so keeps taking it as the table grows (a connection plans its statements once). A value the
/// database's administrator gave stands.
#[tokio::test]
async fn postgres_sessions_look_entities_up_by_index() -> anyhow::Result<()> {
    use anyhow::ensure;
    let url = e2e::fresh_postgres_database().await?;
    let dir = tempfile::tempdir()?;
    let db = backend::db::Db::open(Some(&url), dir.path()).await?;
    let setting = |pool: &sqlx::AnyPool| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT current_setting('random_page_cost')")
                .fetch_one(&pool)
                .await
        }
    };
    ensure!(setting(&db.pool).await? == "1.1");
    // A few hundred entities, as a plan has once broken down: a prepared lookup of four by key
    // (a push pads its keys to four, `locking::padded`), planned once for all its runs (as a
    // connection's statements are), uses the primary key's index.
    sqlx::query(
        "INSERT INTO entity (id, kind, space, version, visible_unit, data, ever_public) \
         SELECT 'task/' || n, 'task', 'item/x', 1, NULL, '{}', 0 FROM generate_series(1, 500) AS n",
    )
    .execute(&db.pool)
    .await?;
    let mut conn = db.pool.acquire().await?;
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "PREPARE lookup(text, text, text, text) AS \
         SELECT data FROM entity WHERE id IN ($1, $2, $3, $4)",
    )
    .execute(&mut *conn)
    .await?;
    let plan: Vec<String> =
        sqlx::query_scalar("EXPLAIN EXECUTE lookup('task/7', 'task/9', 'task/7', 'task/7')")
            .fetch_all(&mut *conn)
            .await?;
    ensure!(
        plan.iter().any(|l| l.contains("Index")),
        "a lookup by key scans the table: {plan:?}"
    );
    drop(conn);
    db.pool.close().await;
    // An administrator's value stands.
    let name = url.rsplit('/').next().unwrap_or_default().to_string();
    let admin = e2e::postgres_admin_url().unwrap_or_default();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET random_page_cost = 2"
    )))
    .execute(&mut conn)
    .await?;
    let db = backend::db::Db::open(Some(&url), dir.path()).await?;
    ensure!(setting(&db.pool).await? == "2");
    Ok(())
}

/// `reformboard create-user`, the way in when no office account can sign in: the account is
/// made and on the audit trail like one the office makes; a role that does not go with the
/// unit is refused.
#[tokio::test]
async fn create_user_from_the_command_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let create = |username: &str, unit: &str, role: &str| {
        Command::new(binary())
            .args(["create-user", "--username", username, "--name", "王主任"])
            .args([
                "--unit",
                unit,
                "--role",
                role,
                "--password",
                "first-pass-123",
            ])
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("DATABASE_URL")
            .output()
    };
    let made = create("chief", shared::unit::OFFICE_UNIT, "office")?;
    anyhow::ensure!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let refused = create("chief2", shared::unit::NPC_UNIT, "unit")?;
    anyhow::ensure!(!refused.status.success(), "a unit-staff account of 区人大");
    let said = String::from_utf8_lossy(&refused.stderr);
    anyhow::ensure!(said.contains("has the role supervisor"), "{said}");

    let pool = database_in(dir.path()).await?;
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit WHERE action = 'user_created'")
            .fetch_all(&pool)
            .await?;
    anyhow::ensure!(
        details.len() == 1 && details[0].contains("chief：区全面深化改革工作领导小组综合办公室"),
        "{details:?}"
    );
    Ok(())
}

/// A plan that names 区人大 among its units keeps it in the plan across later starts and
/// commands (each makes sure the built-in units exist, and rewrote them as outside the plan).
#[tokio::test]
async fn a_built_in_unit_the_plan_names_stays_in_the_plan() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let plan = dir.path().join("plan.txt");
    std::fs::write(
        &plan,
        "某区2014年重点改革计划\n一、改革项目\n1.推进代表联络站建设。建立代表联络站。\n（区人大牵头，区民政局配合）\n",
    )?;
    let run = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("DATABASE_URL")
            .output()
    };
    let imported = run(&["import-plan", &plan.display().to_string()])?;
    anyhow::ensure!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let made = run(&[
        "create-user",
        "--username",
        "rd",
        "--name",
        "人大联络员",
        "--unit",
        "区人大",
        "--role",
        "supervisor",
        "--password",
        "first-pass-123",
    ])?;
    anyhow::ensure!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let pool = database_in(dir.path()).await?;
    let units: Vec<String> = sqlx::query_scalar("SELECT data FROM entity WHERE kind = 'unit'")
        .fetch_all(&pool)
        .await?;
    let npc: Value = units
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|u| u["data"]["name"] == "区人大")
        .context("区人大 is stored")?;
    anyhow::ensure!(npc.to_string().contains("\"in_plan\":true"), "{npc}");
    Ok(())
}

/// The login page's demo accounts come in the order a visitor tries them: the office, the
/// leader, the People's Congress and the CPPCC, the plan's units, the street offices last.
#[tokio::test]
async fn demo_accounts_are_listed_office_first() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions::default()).await?;
    let accounts: Vec<shared::account::DemoAccount> =
        server.client().get_json("/api/auth/demo-accounts").await?;
    let names: Vec<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
    anyhow::ensure!(
        names.starts_with(&["office", "leader", "cppcc", "npc", "unit01", "unit02"]),
        "{names:?}"
    );
    anyhow::ensure!(
        names.last().is_some_and(|n| n.starts_with("member")),
        "{names:?}"
    );
    Ok(())
}
