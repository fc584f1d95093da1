//! `cargo xtask pg-shell` (hidden): the tests' throwaway PostgreSQL with psql attached, to look
//! at what tests would see, and to check that the cluster is cleaned up afterwards.

use std::ffi::OsString;
use std::process::Command;

use anyhow::{Result, bail};

use crate::postgres::{Durability, Postgres};
use crate::util::{self, Workspace, say};

pub fn pg_shell(ws: &Workspace, psql_args: &[OsString]) -> Result<()> {
    let postgres = Postgres::start(&ws.tmp_dir(), Durability::Throwaway)?;
    say(format!("REFORMBOARD_TEST_PG={}", postgres.url()));
    let status = util::run_interactive(
        Command::new(postgres.bin_dir().join("psql"))
            .arg(postgres.url())
            .args(psql_args),
    )?;
    drop(postgres);
    if !status.success() {
        bail!("psql exited ({status})");
    }
    Ok(())
}
