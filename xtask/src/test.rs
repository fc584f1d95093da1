//! `cargo xtask test`: everything CI checks, in order, stopping at the first failure. Runs on a
//! fresh machine: what is missing (wasm target, Chromium) is installed, PostgreSQL is started
//! from the machine's binaries and stopped again.

use std::ffi::OsString;
use std::fs;

use anyhow::{Context as _, Result};

use crate::postgres::{Durability, Postgres};
use crate::util::{self, Steps, Workspace, say};
use crate::{build, chromium, toolchain};

pub struct Options {
    /// Skip fmt and clippy: for iterating on a failing test.
    pub quick: bool,
    /// Passed to `cargo test` (a test name filter, `-- --nocapture`, ...).
    pub cargo_test_args: Vec<OsString>,
}

pub fn test(ws: &Workspace, opts: &Options) -> Result<()> {
    let total = if opts.quick { 8 } else { 11 };
    let mut steps = Steps::new(total);

    steps.step("wasm32 target", toolchain::ensure_wasm_target)?;
    let browser = steps.step("Chromium and chromedriver", chromium::ensure)?;
    if opts.quick {
        say("--quick: skipping rustfmt and clippy");
    } else {
        steps.step("rustfmt", || {
            util::run(ws.cargo().args(["fmt", "--all", "--", "--check"]))
        })?;
        steps.step("clippy, native crates", || {
            util::run(ws.cargo().args([
                "clippy",
                "--workspace",
                "--exclude",
                "frontend",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
        steps.step("clippy, frontend (wasm32)", || {
            util::run(ws.cargo().args([
                "clippy",
                "-p",
                "frontend",
                "--target",
                toolchain::WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ]))
        })?;
    }
    let site = steps.step("build the site", || build::build_site(ws))?;
    steps.step("build reformboard", || {
        util::run(
            ws.cargo()
                .args(["build", "-p", "backend", "--bin", "reformboard"]),
        )
    })?;
    // Held to the end of this function: its Drop stops the server whatever happens next.
    let postgres = steps.step("throwaway PostgreSQL", || {
        Postgres::start(&ws.tmp_dir(), Durability::Throwaway)
    })?;

    steps.step("cargo test", || {
        let tmp = ws.tmp_dir();
        fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut cmd = ws.cargo();
        cmd.args(["test", "--workspace", "--exclude", "frontend"])
            .args(&opts.cargo_test_args)
            .env("REFORMBOARD_BIN", ws.backend_bin())
            .env("REFORMBOARD_SITE_DIR", &site)
            .env("CHROMIUM", &browser.chromium)
            .env("CHROMEDRIVER", &browser.chromedriver)
            .env("REFORMBOARD_TEST_PG", postgres.url())
            // Everything the tests may need is provided: none may skip itself (`e2e::skipped`).
            .env("REFORMBOARD_TEST_STRICT", "1")
            // Chromium and chromedriver leave profile folders behind in the temp dir.
            .env("TMPDIR", &tmp);
        say(format!(
            "REFORMBOARD_BIN={} REFORMBOARD_SITE_DIR={} REFORMBOARD_TEST_PG={} TMPDIR={}",
            ws.backend_bin().display(),
            site.display(),
            postgres.url(),
            tmp.display()
        ));
        util::run(&mut cmd)
    })?;

    drop(postgres);
    // After the tests, so the backend is built and a failure here doesn't hide theirs.
    steps.step("schemathesis against /api/openapi.json", || {
        crate::schemathesis::run(ws)
    })?;
    // Proves `cargo xtask bench` still works end to end; its figures are not checked (shared,
    // noisy machines make timed assertions meaningless).
    steps.step("bench smoke run", || {
        crate::bench::bench(ws, &crate::bench::Options { smoke: true })
    })?;
    eprintln!("{}", steps.summary());
    say("all steps passed");
    Ok(())
}
