//! Lighthouse (npm `lighthouse`, pinned) for the bench, installed under target/ on first use (the
//! npm registry is one of those CI machines reach). The load generator runs it, signed in, with
//! Debian's Chromium.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::util::{self, Workspace, say};

/// Pinned so scores compare across runs (scoring changes between major versions).
const VERSION: &str = "12.8.2";

/// The lighthouse CLI, installed into target/lighthouse when missing.
pub fn ensure(ws: &Workspace) -> Result<PathBuf> {
    let prefix = ws.target_dir.join("lighthouse");
    let bin = prefix.join("node_modules/.bin/lighthouse");
    let installed = prefix.join("node_modules/lighthouse/package.json");
    let current = std::fs::read_to_string(&installed)
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["version"].as_str().map(String::from));
    if bin.exists() && current.as_deref() == Some(VERSION) {
        return Ok(bin);
    }
    say(format!(
        "installing lighthouse@{VERSION} with npm into {}",
        prefix.display()
    ));
    std::fs::create_dir_all(&prefix)?;
    util::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("lighthouse@{VERSION}")),
    )
    .context("npm install lighthouse (needs Node.js and the npm registry)")?;
    if !bin.exists() {
        bail!("npm installed lighthouse but {} is missing", bin.display());
    }
    Ok(bin)
}
