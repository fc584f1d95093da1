//! The long runs behind `cargo xtask torture` and `cargo xtask soak` (which build the binaries,
//! start a throwaway PostgreSQL and set `REFORMBOARD_BIN` / `REFORMBOARD_TEST_PG`):
//!
//! ```text
//! stress torture [--minutes N] [--store sqlite|postgres|both] [--seed S]
//! stress soak    [--minutes N] [--store sqlite|postgres|both] [--clients N]
//! ```
//!
//! `--minutes` is the whole run, shared evenly by the stores. Exits non-zero on the first
//! violation, with the seed to repeat it.

use anyhow::{Context, bail};
use e2e::Store;
use e2e::crash::{CrashOptions, Length, crash_cycles};
use e2e::soak::{SoakOptions, soak};
use std::time::Duration;

struct Args {
    command: String,
    minutes: f64,
    stores: Vec<Store>,
    seed: u64,
    clients: usize,
}

fn parse() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let command = args
        .next()
        .context("usage: stress torture|soak [--minutes N] …")?;
    let mut parsed = Args {
        command,
        minutes: 10.0,
        stores: vec![Store::Sqlite, Store::Postgres],
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        clients: 200,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--minutes" => parsed.minutes = value.parse().context("--minutes")?,
            "--seed" => parsed.seed = value.parse().context("--seed")?,
            "--clients" => parsed.clients = value.parse().context("--clients")?,
            "--store" => {
                parsed.stores = match value.as_str() {
                    "sqlite" => vec![Store::Sqlite],
                    "postgres" => vec![Store::Postgres],
                    "both" => vec![Store::Sqlite, Store::Postgres],
                    other => bail!("--store {other}: sqlite, postgres or both"),
                }
            }
            other => bail!("unknown flag {other}"),
        }
    }
    if parsed.minutes.is_nan() || parsed.minutes <= 0.0 {
        bail!("--minutes must be positive");
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse()?;
    let each = Duration::from_secs_f64(args.minutes * 60.0 / args.stores.len() as f64);
    match args.command.as_str() {
        "torture" => {
            eprintln!(
                "torture: seed {} ({} s per store)",
                args.seed,
                each.as_secs()
            );
            let mut total = (0, 0);
            for store in &args.stores {
                let opts = CrashOptions {
                    store: *store,
                    length: Length::For(each),
                    writers: 4,
                    seed: args.seed,
                };
                let report = crash_cycles(&opts)
                    .await
                    .with_context(|| format!("{store:?}, seed {}", args.seed))?;
                println!(
                    "torture {store:?}: {} kill -9 cycles, {} mutations checked ({} acknowledged, \
                     {} drained from outboxes after the last restart): each applied exactly once",
                    report.cycles,
                    report.mutations,
                    report.acknowledged,
                    report.drained_after_restart
                );
                total.0 += report.cycles;
                total.1 += report.mutations;
            }
            println!(
                "torture: {} cycles, {} mutations checked, nothing lost or doubled",
                total.0, total.1
            );
        }
        "soak" => {
            for store in &args.stores {
                let opts = SoakOptions {
                    store: *store,
                    clients: args.clients,
                    duration: each,
                    warm_up: (each / 4).min(Duration::from_secs(60)),
                    seed: args.seed,
                };
                let r = soak(&opts).await.with_context(|| format!("{store:?}"))?;
                println!(
                    "soak {store:?}: {} clients, {} s: {} pulls, {} pushes, {} WebSocket opens, \
                     {} pokes; RSS {} MiB after warm-up, {} MiB at the end (peak {} MiB)",
                    opts.clients,
                    each.as_secs(),
                    r.pulls,
                    r.pushes,
                    r.sockets,
                    r.pokes,
                    r.rss_after_warm_up_kib / 1024,
                    r.rss_end_kib / 1024,
                    r.rss_peak_kib / 1024
                );
                if !r.memory_flat() {
                    bail!("{store:?}: memory grew beyond the margin");
                }
            }
        }
        other => bail!("unknown command {other}: torture or soak"),
    }
    Ok(())
}
