//! Soak: 200 sync clients for 60 s against the real binary on SQLite, mixing incremental pulls,
//! pushes (new cards, progress reports, comments) and WebSocket reconnects. No request may fail,
//! and the server's memory (RSS from /proc) must be flat: the end within a generous margin of
//! the figure after warm-up. The logic is `e2e::soak`, which `cargo xtask soak --minutes N` runs
//! longer and on PostgreSQL too. `REFORMBOARD_SOAK_SECONDS` changes the length.

use e2e::Store;
use e2e::soak::{SoakOptions, soak};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_for_a_minute() -> anyhow::Result<()> {
    let seconds = std::env::var("REFORMBOARD_SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let opts = SoakOptions {
        store: Store::Sqlite,
        clients: 200,
        duration: Duration::from_secs(seconds),
        warm_up: Duration::from_secs(seconds / 4),
        seed: 0x50a4,
    };
    let r = soak(&opts).await?;
    eprintln!(
        "soak: {} clients, {seconds} s: {} pulls, {} pushes, {} WebSocket opens, {} pokes; \
         RSS {} KiB after warm-up, {} KiB at the end, peak {} KiB",
        opts.clients,
        r.pulls,
        r.pushes,
        r.sockets,
        r.pokes,
        r.rss_after_warm_up_kib,
        r.rss_end_kib,
        r.rss_peak_kib
    );
    anyhow::ensure!(
        r.memory_flat(),
        "memory grew: {} KiB after warm-up, {} KiB at the end",
        r.rss_after_warm_up_kib,
        r.rss_end_kib
    );
    anyhow::ensure!(
        r.pulls > 0 && r.pushes > 0 && r.sockets > 200,
        "the soak did too little"
    );
    Ok(())
}
