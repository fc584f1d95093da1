//! `cargo xtask bench`: what users feel — first-load bytes, live latency, throughput, sequential
//! creates, cold pull and backend memory — on SQLite and PostgreSQL, measured by the load
//! generator `tests/src/bin/loadgen.rs` against the real release binary. Prints a table and writes
//! `target/bench/results.json` with the machine's description. Nothing is asserted on time: the
//! figures are reported against the targets of the benchmark issue, as ratios.
//!
//! `--smoke` runs every scenario at toy sizes on the debug build (seconds, once the tests have
//! been built), only to prove the bench works; it writes `target/bench/results-smoke.json`.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};
use serde_json::{Map, Value, json};

use crate::postgres::{Durability, Postgres};
use crate::util::{self, Steps, Workspace, say};
use crate::{build, chromium, lighthouse, toolchain};

pub struct Options {
    /// Toy sizes on the debug build.
    pub smoke: bool,
}

/// A part of the bench that `--only` can pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Bytes of the app shell.
    FirstLoad,
    /// The board in headless Chromium.
    Board,
    /// The backend scenarios on SQLite.
    Sqlite,
    /// The backend scenarios on PostgreSQL.
    Postgres,
    /// Lighthouse's mobile preset on the plan page and a 1,000-card board.
    Lighthouse,
}

/// Which parts run: all, or only those `--only` named.
struct Only<'a>(&'a [Part]);

impl Only<'_> {
    fn runs(&self, part: Part) -> bool {
        self.0.is_empty() || self.0.contains(&part)
    }
}

const DBS: [&str; 2] = ["sqlite", "postgres"];

pub fn bench(ws: &Workspace, opts: &Options) -> Result<()> {
    bench_only(ws, opts, &[])
}

/// The bench, only the parts in `only` (empty: all), for iterating on one figure without the
/// ten-minute run; those results go to `results-only.json`.
pub fn bench_only(ws: &Workspace, opts: &Options, only: &[Part]) -> Result<()> {
    let only = Only(only);
    let backend_parts = [Part::Sqlite, Part::Postgres];
    let needs_pg = only.runs(Part::Postgres);
    let steps_total = 3
        + usize::from(needs_pg)
        + [Part::FirstLoad, Part::Board, Part::Sqlite, Part::Postgres]
            .iter()
            .filter(|p| only.runs(**p))
            .count();
    let mut steps = Steps::new(steps_total);
    steps.step("wasm32 target", toolchain::ensure_wasm_target)?;
    let site = steps.step("build the site", || build::build_site(ws))?;
    let profile = if opts.smoke { "debug" } else { "release" };
    steps.step("build reformboard and the load generator", || {
        let mut cmd = ws.cargo();
        cmd.args([
            "build",
            "-p",
            "backend",
            "--bin",
            "reformboard",
            "-p",
            "e2e",
            "--bin",
            "loadgen",
        ]);
        if !opts.smoke {
            cmd.arg("--release");
        }
        util::run(&mut cmd)
    })?;
    let bin_dir = ws.target_dir.join(profile);
    let postgres = if needs_pg {
        Some(steps.step("PostgreSQL, durable as deployed", || {
            Postgres::start(&ws.tmp_dir(), Durability::AsDeployed)
        })?)
    } else {
        None
    };
    let tmp = ws.tmp_dir();
    fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let loadgen = |args: &[&str], env: &[(&str, &Path)]| -> Result<Value> {
        let mut cmd = Command::new("sh");
        // 1,000 WebSocket clients and their pulls need more descriptors than the usual soft
        // limit of 1,024; the server started by the load generator inherits the raised limit.
        cmd.arg("-c")
            .arg(r#"ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@""#)
            .arg(bin_dir.join("loadgen"))
            .args(args);
        if opts.smoke {
            cmd.arg("--smoke");
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(pg) = &postgres {
            cmd.env("REFORMBOARD_TEST_PG", pg.url());
        }
        cmd.env("REFORMBOARD_BIN", bin_dir.join("reformboard"))
            .env("REFORMBOARD_SITE_DIR", &site)
            .env("TMPDIR", &tmp)
            .stderr(Stdio::inherit());
        let out = util::output(&mut cmd)?;
        let line = out
            .lines()
            .last()
            .context("the load generator printed nothing")?;
        serde_json::from_str(line).with_context(|| format!("load generator output: {line}"))
    };
    let skipped = || json!({ "why_null": "not run (--only)" });
    let first_load = if only.runs(Part::FirstLoad) {
        steps.step("first load", || loadgen(&["first-load"], &[]))?
    } else {
        json!({ "first_load": skipped() })
    };
    // The render needs Chromium; without it a full bench still reports everything else.
    let render = if only.runs(Part::Board) {
        steps.step("board render in headless Chromium", || {
            let measured = chromium::ensure().and_then(|b| {
                loadgen(
                    &["board-render"],
                    &[("CHROMIUM", &b.chromium), ("CHROMEDRIVER", &b.chromedriver)],
                )
            });
            match measured {
                Ok(v) => Ok(v),
                // The smoke run (in `cargo xtask test`, which installs what it needs) is there
                // to prove the bench works: a part that fails there fails it.
                Err(e) if opts.smoke => Err(e),
                Err(e) => {
                    say(format!("board render not measured: {e:#}"));
                    Ok(json!({ "board_render_ms": { "why_null": format!("{e:#}") } }))
                }
            }
        })?
    } else {
        json!({ "board_render_ms": skipped() })
    };
    // Lighthouse needs Node.js and npm; without them a full bench still reports everything else.
    let lighthouse = if only.runs(Part::Lighthouse) {
        steps.step("Lighthouse (mobile preset)", || {
            let measured = chromium::ensure().and_then(|b| {
                let cli = lighthouse::ensure(ws)?;
                loadgen(
                    &["lighthouse"],
                    &[("CHROMIUM", &b.chromium), ("LIGHTHOUSE", &cli)],
                )
            });
            match measured {
                Ok(v) => Ok(v),
                // The smoke run (in `cargo xtask test`, which installs what it needs) is there
                // to prove the bench works: a part that fails there fails it.
                Err(e) if opts.smoke => Err(e),
                Err(e) => {
                    say(format!("Lighthouse not measured: {e:#}"));
                    Ok(json!({ "lighthouse": { "why_null": format!("{e:#}") } }))
                }
            }
        })?
    } else {
        json!({ "lighthouse": skipped() })
    };
    let mut stores = Vec::new();
    for (part, db) in backend_parts.into_iter().zip(DBS) {
        stores.push(if only.runs(part) {
            steps.step(&format!("scenarios on {db}"), || {
                loadgen(&["store", "--store", db], &[])
            })?
        } else {
            Value::Null
        });
    }
    drop(postgres);

    let mut results = assemble(first_load, render, &stores, opts.smoke, &ws.root)?;
    if let Some(l) = lighthouse.get("lighthouse") {
        results["lighthouse"] = l.clone();
        add_vs_target(&mut results);
    }
    let dir = ws.target_dir.join("bench");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = dir.join(if !only.0.is_empty() {
        "results-only.json"
    } else if opts.smoke {
        "results-smoke.json"
    } else {
        "results.json"
    });
    fs::write(&file, serde_json::to_string_pretty(&results)?)
        .with_context(|| format!("writing {}", file.display()))?;
    eprintln!("{}", steps.summary());
    println!("{}", table(&results));
    say(format!("wrote {}", file.display()));
    Ok(())
}

/// The issue's targets: (JSON path with `<db>`, label, target, unit, higher is better).
const TARGETS: &[(&str, &str, f64, &str, bool)] = &[
    (
        "first_load.compressed_bytes",
        "first load (the plan), compressed",
        250.0 * 1024.0,
        "B",
        false,
    ),
    (
        "first_load.screens.item_board.compressed_bytes",
        "first load (a board), compressed",
        250.0 * 1024.0,
        "B",
        false,
    ),
    (
        "live_latency_ms.<db>.c100.p99",
        "live latency p99, 100 clients",
        150.0,
        "ms",
        false,
    ),
    (
        "live_latency_ms.<db>.c1000.p50",
        "live latency p50, 1,000 clients",
        150.0,
        "ms",
        false,
    ),
    (
        "live_latency_ms.<db>.c1000.p99",
        "live latency p99, 1,000 clients",
        150.0,
        "ms",
        false,
    ),
    (
        "live_latency_ms.<db>.c1000.max",
        "live latency max, 1,000 clients",
        150.0,
        "ms",
        false,
    ),
    (
        "live_latency_ms.<db>.c1000_two_processes.p99",
        "p99, 1,000 clients, 2 processes",
        150.0,
        "ms",
        false,
    ),
    (
        "throughput_mps.<db>.writers1",
        "throughput, 1 writer",
        f64::NAN,
        "mut/s",
        true,
    ),
    (
        "throughput_mps.<db>.writers50",
        "throughput, 50 writers",
        f64::NAN,
        "mut/s",
        true,
    ),
    (
        "sequential_create_1000_s.<db>",
        "1,000 sequential creates",
        1.0,
        "s",
        false,
    ),
    (
        "cold_pull_ms.<db>.cards5000",
        "cold pull, 5,000 cards",
        150.0,
        "ms",
        false,
    ),
    (
        "cold_pull_bytes.<db>.cards5000",
        "cold pull bytes, 5,000 cards",
        f64::NAN,
        "B",
        false,
    ),
    (
        "rss_mb.<db>.idle",
        "backend RSS idle",
        f64::NAN,
        "MB",
        false,
    ),
    (
        "rss_mb.<db>.c1000",
        "backend RSS, 1,000 WS clients",
        150.0,
        "MB",
        false,
    ),
    (
        "rss_mb.<db>.after_throughput",
        "backend RSS after throughput",
        f64::NAN,
        "MB",
        false,
    ),
    (
        "board_render_ms.desktop_1000",
        "board render, 1,000 cards, desktop",
        f64::NAN,
        "ms",
        false,
    ),
    (
        "board_render_ms.phone_throttled_1000",
        "board render, 1,000, phone 4× CPU",
        1000.0,
        "ms",
        false,
    ),
    (
        "lighthouse.board_1000.performance",
        "Lighthouse performance",
        95.0,
        "",
        true,
    ),
    (
        "lighthouse.board_1000.accessibility",
        "Lighthouse accessibility",
        95.0,
        "",
        true,
    ),
];

/// Throughput targets differ per database.
fn target_for(path: &str, db: &str, target: f64) -> f64 {
    if path.starts_with("throughput_mps") && path.ends_with("writers50") {
        if db == "sqlite" { 3000.0 } else { 1500.0 }
    } else {
        target
    }
}

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn assemble(
    first_load: Value,
    render: Value,
    stores: &[Value],
    smoke: bool,
    root: &Path,
) -> Result<Value> {
    let mut live = Map::new();
    let mut through = Map::new();
    let mut cold_ms = Map::new();
    let mut cold_bytes = Map::new();
    let mut rss = Map::new();
    let mut seq = Map::new();
    let mut raw = Map::new();
    for (db, s) in DBS.iter().zip(stores) {
        let db = (*db).to_string();
        let mut latency = s["live_latency_ms"].clone();
        // Smoke runs use fewer clients; file their biggest run where the full run's goes.
        if smoke && let Some(obj) = latency.as_object_mut() {
            rename_largest(obj);
        }
        live.insert(db.clone(), latency);
        through.insert(db.clone(), s["throughput_mps"].clone());
        cold_ms.insert(db.clone(), json!({ "cards5000": s["cold_pull"]["ms"] }));
        cold_bytes.insert(
            db.clone(),
            json!({
                "cards5000": s["cold_pull"]["bytes"],
                "cards5000_compressed": s["cold_pull"]["bytes_on_wire_compressed"],
            }),
        );
        rss.insert(db.clone(), s["rss_mb"].clone());
        seq.insert(db.clone(), s["sequential_create_s"]["median"].clone());
        raw.insert(db, s.clone());
    }
    let first = first_load
        .get("first_load")
        .cloned()
        .context("first-load output has no first_load")?;
    let mut results = json!({
        "smoke": smoke,
        "machine": machine(root),
        "first_load": first,
        "board_render_ms": render.get("board_render_ms").cloned().unwrap_or(Value::Null),
        "live_latency_ms": live,
        "throughput_mps": through,
        "cold_pull_ms": cold_ms,
        "cold_pull_bytes": cold_bytes,
        "rss_mb": rss,
        "sequential_create_1000_s": seq,
        "loadgen": raw,
    });
    add_vs_target(&mut results);
    Ok(results)
}

/// Each figure beside its target, under `vs_target`.
fn add_vs_target(results: &mut Value) {
    let mut vs = Map::new();
    for &(path, _, target, _, higher) in TARGETS {
        for db in DBS {
            let p = path.replace("<db>", db);
            let target = target_for(path, db, target);
            if let Some(v) = get(results, &p).and_then(Value::as_f64)
                && target.is_finite()
            {
                let ratio = if higher { v / target } else { target / v };
                vs.insert(
                    p.clone(),
                    json!({ "value": v, "target": target, "meets": ratio >= 1.0 }),
                );
            }
            if !path.contains("<db>") {
                break;
            }
        }
    }
    results["vs_target"] = Value::Object(vs);
}

/// Renames the entry with the most clients (`cN`) to `c1000` and the next to `c100`.
fn rename_largest(obj: &mut Map<String, Value>) {
    let mut sizes: Vec<u64> = obj
        .keys()
        .filter_map(|k| k.strip_prefix('c')?.parse().ok())
        .collect();
    sizes.sort_unstable();
    let two = obj.keys().find(|k| k.ends_with("_two_processes")).cloned();
    if let Some(k) = two
        && let Some(v) = obj.remove(&k)
    {
        obj.insert("c1000_two_processes".into(), v);
    }
    for (n, name) in sizes.iter().rev().zip(["c1000", "c100"]) {
        if let Some(v) = obj.remove(&format!("c{n}")) {
            obj.insert(name.into(), v);
        }
    }
}

fn table(results: &Value) -> String {
    let mut out = String::new();
    if results["smoke"].as_bool() == Some(true) {
        out.push_str("\nSMOKE RUN: toy sizes on the debug build; the figures mean nothing.\n");
    }
    out.push_str(&format!(
        "\n{:<40} {:>12} {:>12} {:>12}\n",
        "measurement (median)", "sqlite", "postgres", "target"
    ));
    out.push_str(&format!("{}\n", "-".repeat(79)));
    for &(path, label, target, unit, higher) in TARGETS {
        let cell = |db: &str| -> String {
            let p = path.replace("<db>", db);
            match get(results, &p).and_then(Value::as_f64) {
                Some(v) => fmt_value(v, unit),
                None => "n/a".into(),
            }
        };
        let (a, b) = if path.contains("<db>") {
            (cell("sqlite"), cell("postgres"))
        } else {
            (cell(""), String::new())
        };
        let t = target_for(path, "sqlite", target);
        let target = if !t.is_finite() {
            String::new()
        } else if path.contains("writers50") {
            "≥3000/≥1500".to_string()
        } else {
            format!("{}{}", if higher { "≥" } else { "≤" }, fmt_value(t, unit))
        };
        out.push_str(&format!("{label:<40} {a:>12} {b:>12} {target:>12}\n"));
    }
    out
}

fn fmt_value(v: f64, unit: &str) -> String {
    match unit {
        "B" if v >= 1024.0 => format!("{:.1} KiB", v / 1024.0),
        "B" => format!("{v:.0} B"),
        "mut/s" => format!("{v:.0}/s"),
        "s" => format!("{v:.2} s"),
        "" => format!("{v:.0}"),
        _ => format!("{v:.1} {unit}"),
    }
}

/// Cores, memory, CPU model, date and commit, so results from different machines are not
/// compared blindly.
fn machine(root: &Path) -> Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")?
            .split_once(':')
            .map(|(_, m)| m.trim().to_string())
    });
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_mb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb / 1024);
    let git = |args: &[&str]| {
        util::output(Command::new("git").current_dir(root).args(args))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let date = util::output(Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]))
        .ok()
        .map(|s| s.trim().to_string());
    json!({
        "cores": std::thread::available_parallelism().map(std::num::NonZero::get).ok(),
        "memory_mb": mem_mb,
        "cpu_model": cpu_model,
        "kernel": fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_string()),
        "date": date,
        "git_commit": git(&["rev-parse", "HEAD"]),
        "git_dirty": git(&["status", "--porcelain"]).map(|s| !s.is_empty()),
    })
}
