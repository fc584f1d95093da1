//! `cargo xtask torture [--minutes N]` and `cargo xtask soak [--minutes N] [--clients N]`: the
//! long versions of the crash-safety and soak tests, on SQLite and a throwaway PostgreSQL. Both
//! run `tests/src/bin/stress.rs`, whose logic (`e2e::crash`, `e2e::soak`) is the same code the
//! short tests in `cargo xtask test` run; this only builds, starts PostgreSQL and passes the
//! length on.

use std::process::Command;

use anyhow::Result;

use crate::postgres::{Durability, Postgres};
use crate::util::{self, Steps, Workspace};

/// Which long run.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// SIGKILL under write load, restart, exactly-once checks.
    Torture,
    /// Many clients reading, writing and reconnecting; memory sampled.
    Soak,
}

pub fn run(ws: &Workspace, kind: Kind, minutes: f64, clients: Option<u32>) -> Result<()> {
    let mut steps = Steps::new(3);
    steps.step("build reformboard and the stress runner", || {
        util::run(ws.cargo().args([
            "build",
            "-p",
            "backend",
            "--bin",
            "reformboard",
            "-p",
            "e2e",
            "--bin",
            "stress",
        ]))
    })?;
    // Held to the end: its Drop stops the server whatever happens.
    let postgres = steps.step("throwaway PostgreSQL", || {
        Postgres::start(&ws.tmp_dir(), Durability::Throwaway)
    })?;
    let name = match kind {
        Kind::Torture => "torture",
        Kind::Soak => "soak",
    };
    steps.step(name, || {
        let mut cmd = Command::new(ws.target_dir.join("debug").join("stress"));
        cmd.arg(name)
            .args(["--minutes", &minutes.to_string()])
            .env("REFORMBOARD_BIN", ws.backend_bin())
            .env("REFORMBOARD_TEST_PG", postgres.url())
            .env("TMPDIR", ws.tmp_dir());
        if let Some(n) = clients {
            cmd.args(["--clients", &n.to_string()]);
        }
        util::run(&mut cmd)
    })?;
    drop(postgres);
    eprintln!("{}", steps.summary());
    Ok(())
}
