//! Crash safety: writers push mutations while the server is killed with SIGKILL at random
//! moments and restarted on the same data. Every mutation the server acknowledged must be there
//! exactly once, and every outbox the clients still held must apply exactly once after restart.
//! The logic is `e2e::crash`, shared with `cargo xtask torture` (the long run);
//! `REFORMBOARD_CRASH_CYCLES` sets the number of kills here.

use e2e::Store;
use e2e::crash::{CrashOptions, Length, crash_cycles};

fn cycles() -> usize {
    std::env::var("REFORMBOARD_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

async fn kill_9_loses_nothing(store: Store) -> anyhow::Result<()> {
    let opts = CrashOptions {
        store,
        length: Length::Cycles(cycles()),
        writers: 3,
        seed: 0x9e37_79b9_7f4a_7c15,
    };
    let report = crash_cycles(&opts).await?;
    eprintln!(
        "{store:?}: {} kill -9 cycles, {} mutations checked ({} acknowledged before a kill or at \
         the end, {} still in an outbox at the last restart), each applied exactly once",
        report.cycles, report.mutations, report.acknowledged, report.drained_after_restart
    );
    Ok(())
}

e2e::on_both_stores!(kill_9_loses_nothing);

/// PostgreSQL ends every connection of the server (a restart, a failover, an administrator's
/// `pg_terminate_backend`) between two requests. The server hands out pooled connections without
/// pinging each one first (see `Db::open`), so the next requests meet dead connections: they must
/// be answered 503 (retry) or succeed, never 500, and the retried push must apply exactly once.
#[tokio::test]
async fn postgres_ending_the_connections_loses_nothing() -> anyhow::Result<()> {
    use e2e::sync_client::{Item4, ServerDb, Tab, create_task};
    use e2e::{Server, ServerOptions};
    use shared::entity::{EntityKey, Millis};
    use shared::ids::ClientGroupId;
    use shared::sync::Outcome;

    let server = Server::start(ServerOptions {
        store: Store::Postgres,
        ..Default::default()
    })
    .await?;
    let Item4 { item, lead, .. } = Item4::on(&server).await?;
    let db = ServerDb::open(&server).await?;
    let mut tab = Tab::new(ClientGroupId::new_v7());
    let create = |title: &str| create_task(item.id, lead.me.unit, title, Millis(1_700_000_000_000));
    let (first, m) = create("终止连接之前");
    tab.add(m);
    lead.push_ok(&tab.push_request()).await?;
    tab.outbox.clear();

    for round in 0..3 {
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&db.pool)
        .await?;
        anyhow::ensure!(
            ended.iter().any(|e| *e),
            "round {round}: the server held no connection to end"
        );
        let (task, m) = create(&format!("终止连接之后 {round}"));
        tab.add(m);
        let req = tab.push_request();
        let mut answered = None;
        for _ in 0..20 {
            match lead.push(&req).await? {
                Ok(res) => {
                    answered = Some(res);
                    break;
                }
                Err(e) if e.status == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => anyhow::bail!("round {round}: a push after the connections ended: {e}"),
            }
        }
        let res = answered.ok_or_else(|| anyhow::anyhow!("round {round}: no push got through"))?;
        assert_eq!(
            res.results
                .iter()
                .map(|r| r.outcome.clone())
                .collect::<Vec<_>>(),
            vec![Outcome::Applied],
            "round {round}"
        );
        tab.outbox.clear();
        assert_eq!(
            db.audit_of(&EntityKey::task(task)).await?.len(),
            1,
            "round {round}: applied exactly once"
        );
        let view = lead.server_view().await?;
        assert!(view.task(first).is_some() && view.task(task).is_some());
    }
    Ok(())
}
