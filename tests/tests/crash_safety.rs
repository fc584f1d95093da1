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
