//! A throwaway PostgreSQL cluster for the tests, made from the machine's own binaries: created
//! in a temp dir, started on a free port, and always stopped and deleted by the guard's `Drop`
//! (on success, on a failed step and on Ctrl-C, which xtask survives; see `interrupt`).

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};

use crate::interrupt;
use crate::util::{self, say};

/// Debian installs each major version side by side under this directory.
const INSTALL_ROOT: &str = "/usr/lib/postgresql";
/// initdb refuses to run as root, so as root the cluster belongs to this user.
const OS_USER: &str = "postgres";
/// A unix socket path must fit in `sun_path` (108 bytes, with `.s.PGSQL.NNNNN` appended).
const MAX_SOCKET_DIR_LEN: usize = 90;
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether a cluster flushes its commits to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// fsync, synchronous commit and full-page writes off: the tests' clusters, deleted in a
    /// minute, are worth nothing after a crash, and speed is.
    Throwaway,
    /// PostgreSQL's defaults, as a deployment runs it: the bench measures what users get, and
    /// SQLite's commits are flushed too (`synchronous=FULL`).
    AsDeployed,
}

/// A running cluster. Dropping it stops the server and deletes its files.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_root: bool,
    durability: Durability,
    server: Option<Child>,
}

impl Postgres {
    /// A superuser URL; tests create their own databases through it.
    pub fn url(&self) -> String {
        format!("postgres://{OS_USER}@127.0.0.1:{}/postgres", self.port)
    }

    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// Creates and starts a cluster under `tmp_root` (normally `target/tmp`).
    pub fn start(tmp_root: &Path, durability: Durability) -> Result<Self> {
        let bin = find_bin_dir()?;
        let as_root = util::is_root();
        remove_stale(tmp_root, &bin, as_root);
        let base = usable_base(tmp_root, as_root);
        fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
        let dir = base.join(format!("pg-{}-{}", std::process::id(), nanos()));
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;

        // From here on the guard owns the directory, so any failure below still cleans up.
        let mut pg = Self {
            bin,
            dir,
            port: 0,
            as_root,
            durability,
            server: None,
        };
        if as_root {
            util::run(Command::new("chown").args([
                "-R".as_ref(),
                format!("{OS_USER}:{OS_USER}").as_ref(),
                pg.dir.as_os_str(),
            ]))?;
        }
        pg.initdb()?;
        // A free port can be taken by someone else between our probe and postgres binding it;
        // when that happens, try another.
        let mut attempts = 0;
        loop {
            attempts += 1;
            pg.port = free_port()?;
            match pg.launch() {
                Ok(()) => break,
                Err(err) if attempts < 3 && pg.log_tail().contains("could not bind") => {
                    say(format!(
                        "port {} was taken ({err:#}); trying another",
                        pg.port
                    ));
                }
                Err(err) => {
                    return Err(err.context(format!(
                        "PostgreSQL did not start; its log ends with:\n{}",
                        pg.log_tail()
                    )));
                }
            }
        }
        say(format!(
            "PostgreSQL {} is up at {} (data in {})",
            pg.bin
                .parent()
                .and_then(Path::file_name)
                .map(|v| v.to_string_lossy().into_owned())
                .unwrap_or_default(),
            pg.url(),
            pg.dir.display()
        ));
        Ok(pg)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    fn command(&self, program: &str) -> Command {
        pg_command(&self.bin, self.as_root, program)
    }

    fn initdb(&self) -> Result<()> {
        // UTF8 with the C locale: works without any generated locales and stores Chinese text
        // as it is; sort order is not what these tests are about.
        let out = self
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                OS_USER,
                "--no-sync",
                "--no-instructions",
            ])
            .args(["-E", "UTF8", "--locale=C", "-D"])
            .arg(self.data_dir())
            .stdin(Stdio::null())
            .output()
            .context("running initdb")?;
        if !out.status.success() {
            bail!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn launch(&mut self) -> Result<()> {
        // A failed earlier attempt must not leave its server behind.
        self.stop();
        let log = File::create(self.log_path())
            .with_context(|| format!("creating {}", self.log_path().display()))?;
        let log_err = log.try_clone().context("duplicating the log file handle")?;
        let mut cmd = self.command("postgres");
        cmd.arg("-D")
            .arg(self.data_dir())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"]);
        if self.durability == Durability::Throwaway {
            cmd.args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off"]);
        }
        // Tests open pools per database and run in parallel.
        cmd.args(["-c", "max_connections=300"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // Its own process group: a Ctrl-C at the terminal must not stop it under the tests'
        // feet; the guard stops it when xtask is done.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting `{}`", util::display(&cmd)))?;
        self.server = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(server) = self.server.as_mut()
                && let Some(status) = server.try_wait().context("waiting for postgres")?
            {
                self.server = None;
                bail!("postgres exited during startup ({status})");
            }
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(["-U", OS_USER, "-d", "postgres"])
                .status()
                .context("running pg_isready")?;
            if ready.success() {
                return Ok(());
            }
            if interrupt::received() > 0 {
                bail!("interrupted while waiting for PostgreSQL");
            }
            if Instant::now() > deadline {
                bail!(
                    "PostgreSQL did not accept connections within {}",
                    util::seconds(START_TIMEOUT)
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            stop_cluster(&self.bin, self.as_root, &self.data_dir());
            // runuser stays as postgres's parent; make sure the whole group is gone.
            util::signal_group(server.id(), "KILL");
            let _ = server.wait();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => say(format!(
                "stopped PostgreSQL and removed {}",
                self.dir.display()
            )),
            Err(err) => say(format!(
                "stopped PostgreSQL but could not remove {}: {err}",
                self.dir.display()
            )),
        }
    }
}

/// A PostgreSQL program, run as the cluster's owner.
fn pg_command(bin: &Path, as_root: bool, program: &str) -> Command {
    let path = bin.join(program);
    if as_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", OS_USER, "--"]).arg(path);
        cmd
    } else {
        Command::new(path)
    }
}

/// Best effort: the server may be gone already.
fn stop_cluster(bin: &Path, as_root: bool, data_dir: &Path) {
    // Immediate: nothing in this cluster is worth a checkpoint.
    let _ = pg_command(bin, as_root, "pg_ctl")
        .args(["stop", "-m", "immediate", "-w", "-t", "20", "-D"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The newest installed major version's bin directory.
fn find_bin_dir() -> Result<PathBuf> {
    let missing = || {
        format!(
            "no PostgreSQL server binaries under {INSTALL_ROOT}/*/bin. They are part of the \
             machine image (Debian's postgresql package); the tests need them to run against \
             PostgreSQL."
        )
    };
    let entries = fs::read_dir(INSTALL_ROOT).with_context(missing)?;
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("postgres").is_file() && bin.join("initdb").is_file()).then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).with_context(missing)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

fn nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// `tmp_root` unless the `postgres` user couldn't reach it (a target dir under /root, say) or
/// its path is too long for a unix socket; then the system temp dir.
fn usable_base(tmp_root: &Path, as_root: bool) -> PathBuf {
    let reachable = !as_root || tmp_root.ancestors().skip(1).all(world_searchable);
    // pg-<pid>-<nanos> adds about 35 bytes.
    let short = tmp_root.as_os_str().len() + 35 < MAX_SOCKET_DIR_LEN;
    if reachable && short {
        tmp_root.to_path_buf()
    } else {
        std::env::temp_dir().join("reformboard-xtask")
    }
}

fn world_searchable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    // A directory not created yet will be created 0755.
    fs::metadata(dir).map_or(true, |m| m.permissions().mode() & 0o001 != 0)
}

/// Clusters left behind by an xtask that was killed outright (SIGKILL skips `Drop`): their
/// directory names the xtask pid; if that process is gone, stop the server and delete them.
/// Clusters of xtask runs still alive (another terminal) are left alone.
fn remove_stale(tmp_root: &Path, bin: &Path, as_root: bool) {
    for base in [
        tmp_root.to_path_buf(),
        std::env::temp_dir().join("reformboard-xtask"),
    ] {
        let Ok(entries) = fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix("pg-"))
                .and_then(|n| n.split('-').next())
            else {
                continue;
            };
            if xtask_alive(pid) {
                continue;
            }
            let dir = entry.path();
            say(format!(
                "removing a cluster left by an earlier run: {}",
                dir.display()
            ));
            let data_dir = dir.join("data");
            if data_dir.join("postmaster.pid").exists() {
                stop_cluster(bin, as_root, &data_dir);
            }
            if let Err(err) = fs::remove_dir_all(&dir) {
                say(format!("could not remove {}: {err}", dir.display()));
            }
        }
    }
}

/// Whether `pid` is a running xtask: not gone, not a zombie, and not a reused pid.
fn xtask_alive(pid: &str) -> bool {
    let Ok(stat) = fs::read_to_string(Path::new("/proc").join(pid).join("stat")) else {
        return false;
    };
    // `pid (comm) state ...`; comm may itself contain spaces or parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    comm == "xtask" && !matches!(state, Some('Z' | 'X') | None)
}
