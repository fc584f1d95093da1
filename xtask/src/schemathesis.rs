//! The schemathesis step of `cargo xtask test`: the real backend (demo mode, SQLite) fuzzed
//! against its own OpenAPI document (`/api/openapi.json`) as each kind of user, with the session
//! cookie and the CSRF header the browser sends. Any 5xx, any answer that doesn't match the
//! document (status, content type, body schema) and any panic in the server's log fails CI.
//!
//! schemathesis (pinned) lives in a virtualenv under target/, made with the machine's python3
//! and PyPI on first use and reused after. Bounded for CI: the office (who may call everything)
//! gets schemathesis' coverage phase (boundary and invalid values of every field) and fuzzing;
//! the other roles get fuzzing only, where their permission checks matter. A fixed seed makes a
//! failure repeatable (`SCHEMATHESIS_SEED` picks another).

use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::util::{self, Workspace, say};

/// The schemathesis release the step runs (its CLI and checks change between releases).
const VERSION: &str = "4.32.5";

/// The demo accounts' password (backend/src/bootstrap.rs).
const DEMO_PASSWORD: &str = "demo1234";

/// Who fuzzes, and how hard: the office reaches every handler's body; a lead unit, a leader and
/// the People's Congress mostly reach permission checks, which need fewer cases.
const ROLES: [(&str, &str, u32); 4] = [
    ("office", "examples,coverage,fuzzing", 25),
    ("unit01", "examples,coverage,fuzzing", 15),
    ("leader", "examples,fuzzing", 10),
    ("npc", "examples,fuzzing", 10),
];

/// What is checked on every answer. Not the stricter "positive data is accepted" kind: the
/// server validates more than a schema can say (ids must exist, titles must not be blank).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

/// Operations left out, with why: signing out (or changing one's own password) would end the
/// session the rest of the run uses, and its answers are covered by the e2e tests.
const EXCLUDED: [&str; 2] = ["/api/auth/logout", "/api/auth/password"];

pub fn run(ws: &Workspace) -> Result<()> {
    let started = Instant::now();
    let dir = ws.target_dir.join("schemathesis");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let st = ensure_installed(&ws.target_dir.join("schemathesis-venv"))?;
    let data = tempdir(ws)?;
    let log_path = dir.join("server.log");
    let mut server = Server::start(&ws.backend_bin(), &data, &log_path)?;
    let seed = std::env::var("SCHEMATHESIS_SEED").unwrap_or_else(|_| "20140331".into());
    let mut failed = Vec::new();
    for (user, phases, examples) in ROLES {
        let token = login(&server.addr, user)?;
        say(format!(
            "schemathesis as {user}: phases {phases}, up to {examples} cases per operation"
        ));
        let mut cmd = Command::new(&st);
        cmd.arg("run")
            .arg(format!("http://{}/api/openapi.json", server.addr))
            .args(["--checks", CHECKS])
            .args(["--phases", phases])
            .args(["--max-examples", &examples.to_string()])
            .args(["--seed", &seed])
            // One worker: with two, Hypothesis parses lambda sources on both threads at once and
            // CPython 3.11's `ast.parse` is not thread-safe ("AST constructor recursion depth
            // mismatch"), an error of the tool that would read as a failure of the API.
            .args(["--workers", "1"])
            .args(["--request-timeout", "60"])
            .args(["--warnings", "off"])
            .args(["--header", &format!("Cookie: rb_session={token}")])
            .args(["--header", "X-Reformboard: 1"])
            .args(["--report", "junit"])
            .arg("--report-junit-path")
            .arg(dir.join(format!("junit-{user}.xml")))
            // No colours or progress bars in CI logs.
            .env("NO_COLOR", "1")
            // It keeps a cache (`.schemathesis/`) in its working directory: not in the repo.
            .current_dir(&dir);
        for path in EXCLUDED {
            cmd.args(["--exclude-path", path]);
        }
        if !util::run_status(&mut cmd)?.success() {
            failed.push(user);
        }
    }
    server.stop();
    let log = fs::read_to_string(&log_path).unwrap_or_default();
    let panics = log.lines().filter(|l| l.contains("panicked at")).count();
    // The data directory is scratch; a failure to remove it is not the test's failure.
    let _ = fs::remove_dir_all(&data);
    if panics > 0 {
        bail!(
            "the server panicked {panics} times under schemathesis; see {}",
            log_path.display()
        );
    }
    if !failed.is_empty() {
        bail!(
            "schemathesis found failures as {} (reports in {}; repeat with SCHEMATHESIS_SEED={seed})",
            failed.join(", "),
            dir.display()
        );
    }
    say(format!(
        "schemathesis: no 5xx, no schema mismatch, no panic as {} roles in {}",
        ROLES.len(),
        util::seconds(started.elapsed())
    ));
    Ok(())
}

/// The `schemathesis` executable in the virtualenv, installed at `VERSION` if it isn't.
fn ensure_installed(venv: &Path) -> Result<PathBuf> {
    let st = venv.join("bin").join("schemathesis");
    let installed = Command::new(&st)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(VERSION));
    if installed {
        return Ok(st);
    }
    say(format!(
        "installing schemathesis {VERSION} into {}",
        venv.display()
    ));
    util::run(
        Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg("--clear")
            .arg(venv),
    )
    .context("python3 -m venv (Debian: apt-get install python3-venv)")?;
    util::run(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={VERSION}")),
    )?;
    Ok(st)
}

fn tempdir(ws: &Workspace) -> Result<PathBuf> {
    let dir = ws
        .tmp_dir()
        .join(format!("schemathesis-{}", std::process::id()));
    // A leftover from an earlier run with the same pid is stale; start empty.
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// The backend under test: demo accounts, SQLite in a scratch directory, a free port.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(bin: &Path, data: &Path, log: &Path) -> Result<Server> {
        let log_file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = Command::new(bin)
            .args(["serve", "--addr", "127.0.0.1:0", "--demo", "--data-dir"])
            .arg(data)
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => Ok(Server { child, addr }),
            Err(_) => {
                let _ = child.kill();
                bail!(
                    "the server did not start within 60 s; see {}",
                    log.display()
                )
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Signs in as a demo account and returns the session token from `Set-Cookie`. Plain HTTP/1.1
/// over a socket: xtask has no HTTP client, and this is one request.
fn login(addr: &str, user: &str) -> Result<String> {
    let body = format!(r#"{{"username":"{user}","password":"{DEMO_PASSWORD}"}}"#);
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        stream,
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         X-Reformboard: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default();
    if !status.contains(" 200 ") {
        bail!("login as {user}: {status}");
    }
    response
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .find_map(|l| {
            let value = l.split_once(':')?.1.trim();
            let token = value.strip_prefix("rb_session=")?.split(';').next()?;
            (!token.is_empty()).then(|| token.to_string())
        })
        .with_context(|| format!("login as {user}: no session cookie"))
}
