//! The helpers every command shares: where the workspace and its target directory are, how a
//! child process is run (and why it fails), and how long things took.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::interrupt;

/// The workspace as cargo sees it. Asked of `cargo metadata` rather than derived from xtask's own
/// path, so `CARGO_TARGET_DIR` and `build.target-dir` are respected.
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
}

impl Workspace {
    pub fn locate() -> Result<Self> {
        let output = cargo()
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .context("running `cargo metadata`")?;
        if !output.status.success() {
            bail!(
                "`cargo metadata` failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let meta: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("parsing `cargo metadata` output")?;
        let path_of = |key: &str| -> Result<PathBuf> {
            meta.get(key)
                .and_then(serde_json::Value::as_str)
                .map(PathBuf::from)
                .with_context(|| format!("`cargo metadata` output has no `{key}`"))
        };
        Ok(Self {
            root: path_of("workspace_root")?,
            target_dir: path_of("target_directory")?,
        })
    }

    /// Where the built web app goes; the backend serves this directory.
    pub fn site_dir(&self) -> PathBuf {
        self.target_dir.join("site")
    }

    /// Scratch space for tests, Chromium profiles and throwaway databases: under target/ so it
    /// is cleaned with it and never fills the machine's /tmp.
    pub fn tmp_dir(&self) -> PathBuf {
        self.target_dir.join("tmp")
    }

    pub fn backend_bin(&self) -> PathBuf {
        self.target_dir.join("debug").join("reformboard")
    }

    /// A `cargo` command run from the workspace root.
    pub fn cargo(&self) -> Command {
        let mut cmd = cargo();
        cmd.current_dir(&self.root);
        cmd
    }
}

/// The cargo that started xtask (cargo sets `CARGO`), so nested builds use the same toolchain.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Renders a command the way a person would retype it, for progress lines and errors.
pub fn display(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or_else(|| cmd.get_program());
    let mut line = program.to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

fn quote(arg: &OsStr) -> String {
    let arg = arg.to_string_lossy();
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c));
    if plain {
        arg.into_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Runs a command to completion and fails, naming it, unless it succeeds.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = run_status(cmd)?;
    if interrupt::received() > 0 {
        bail!("interrupted while running `{}`", display(cmd));
    }
    if !status.success() {
        bail!("`{}` failed ({status})", display(cmd));
    }
    Ok(())
}

/// Runs a command to completion and returns how it ended; fails only if it could not start (or
/// would start after a Ctrl-C).
///
/// The child gets a process group of its own, so a Ctrl-C at the terminal reaches xtask alone;
/// xtask then passes the signal on to the whole group (cargo *and* the test binaries, chromedriver
/// and browsers it started). Doing it this way round means xtask is never killed before it has
/// stopped what it started (PostgreSQL), and the child sees the signal exactly once.
pub fn run_status(cmd: &mut Command) -> Result<ExitStatus> {
    if interrupt::received() > 0 {
        bail!("interrupted; not starting `{}`", display(cmd));
    }
    cmd.process_group(0);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting `{}`", display(cmd)))?;
    let mut forwarded = 0;
    loop {
        if let Some(status) = child
            .try_wait()
            .with_context(|| format!("waiting for `{}`", display(cmd)))?
        {
            return Ok(status);
        }
        let received = interrupt::received();
        if received > forwarded {
            forwarded = received;
            // A second Ctrl-C means "now": the child may be ignoring the first.
            let signal = if received > 1 {
                "KILL"
            } else {
                interrupt::last_signal_name()
            };
            signal_group(child.id(), signal);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Runs a command that talks to the terminal (reads stdin), so it stays in xtask's process
/// group; a Ctrl-C reaches it straight from the terminal.
pub fn run_interactive(cmd: &mut Command) -> Result<ExitStatus> {
    cmd.status()
        .with_context(|| format!("starting `{}`", display(cmd)))
}

/// Sends a signal to a process group. Uses kill(1) because `std` only offers SIGKILL to one
/// process, and the workspace forbids the `unsafe` a direct libc call would need. Best effort:
/// the group may already be gone.
pub fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args(["-s", signal, "--", &format!("-{pgid}")])
        .stderr(std::process::Stdio::null())
        .status();
}

/// Runs a command and returns its stdout, failing with its stderr.
pub fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("starting `{}`", display(cmd)))?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}):\n{}",
            display(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{}` printed non-UTF-8", display(cmd)))
}

/// Every regular file under `dir`, as paths relative to it, sorted (so hashes are stable).
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .with_context(|| format!("inspecting {}", path.display()))?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_path_buf());
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

/// True when running with effective uid 0. Read from /proc rather than asked of libc, which
/// would take `unsafe`.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?;
            // Fields: real, effective, saved, filesystem.
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// Prints a progress line in one recognisable style.
pub fn say(message: impl std::fmt::Display) {
    eprintln!("xtask: {message}");
}

pub fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

pub fn kib(bytes: u64) -> String {
    #[expect(
        clippy::cast_precision_loss,
        reason = "a size shown to one decimal place"
    )]
    let k = bytes as f64 / 1024.0;
    format!("{k:.1} KiB")
}

/// Runs named steps in order, timing each, and stops at the first failure. The summary is
/// printed either way, so a long CI log ends with what passed and what broke.
pub struct Steps {
    total: usize,
    done: Vec<(String, Duration, bool)>,
    started: Instant,
}

impl Steps {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            done: Vec::new(),
            started: Instant::now(),
        }
    }

    pub fn step<T>(&mut self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let n = self.done.len() + 1;
        eprintln!("\n==> [{n}/{}] {name}", self.total);
        let start = Instant::now();
        let result = f();
        let took = start.elapsed();
        self.done.push((name.to_owned(), took, result.is_ok()));
        match result {
            Ok(value) => {
                eprintln!("<== [{n}/{}] {name}: ok in {}", self.total, seconds(took));
                Ok(value)
            }
            Err(err) => {
                eprintln!(
                    "<== [{n}/{}] {name}: FAILED after {}",
                    self.total,
                    seconds(took)
                );
                eprintln!("{}", self.summary());
                Err(err.context(format!("step `{name}` failed")))
            }
        }
    }

    pub fn summary(&self) -> String {
        let mut out = String::from("\nsummary:\n");
        for (name, took, ok) in &self.done {
            let verdict = if *ok { "ok    " } else { "FAILED" };
            let _ = writeln!(out, "  {verdict} {:>7}  {name}", seconds(*took));
        }
        let skipped = self.total.saturating_sub(self.done.len());
        if skipped > 0 {
            let _ = writeln!(out, "  ({skipped} step(s) not run)");
        }
        let _ = write!(out, "  total  {:>7}", seconds(self.started.elapsed()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let mut cmd = Command::new("/usr/bin/cargo");
        cmd.args(["test", "--", "name with space", "it's"]);
        assert_eq!(display(&cmd), r"cargo test -- 'name with space' 'it'\''s'");
    }
}
