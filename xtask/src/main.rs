//! Reformboard's build, run and test automation, run as `cargo xtask ...` (an alias in
//! .cargo/config.toml): plain Rust instead of shell scripts, so it works the same on every
//! machine with a Rust toolchain and needs nothing downloaded but crates.

mod bench;
mod build;
mod chromium;
mod compress;
mod interrupt;
mod lighthouse;
mod pg_shell;
mod postgres;
mod run;
mod schemathesis;
mod test;
mod toolchain;
mod torture;
mod util;

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, run and test Reformboard")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the wasm app, its JS glue and static files into target/site (precompressed).
    BuildSite,
    /// Build everything and serve the app with demo data at http://127.0.0.1:8080.
    Run {
        /// Extra arguments for `reformboard serve` (they replace the defaults they name).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Everything CI checks: fmt, clippy, the site, the backend, all tests (with PostgreSQL and
    /// headless Chromium).
    Test {
        /// Skip fmt and clippy.
        #[arg(long)]
        quick: bool,
        /// Extra arguments for `cargo test`, e.g. a test name filter.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Measure first load, live latency, throughput, sequential creates, cold pull and memory
    /// on SQLite and PostgreSQL; writes target/bench/results.json.
    Bench {
        /// Toy sizes on the debug build: seconds, to check the bench works.
        #[arg(long)]
        smoke: bool,
        /// Run only these parts (repeatable or comma-separated): first-load, board, sqlite,
        /// postgres, lighthouse. The results go to target/bench/results-only.json.
        #[arg(long, value_delimiter = ',', value_enum)]
        only: Vec<bench::Part>,
    },
    /// Only the schemathesis step of `test`: fuzz the debug backend against its OpenAPI
    /// document as each role (build it first: `cargo build -p backend`).
    Schemathesis,
    /// Crash safety, longer: writers on SQLite and PostgreSQL while the server is killed with
    /// SIGKILL at random moments; checks every mutation took effect exactly once.
    Torture {
        /// Length of the whole run (shared by the two databases).
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
    },
    /// 200 clients pulling, pushing and reconnecting on SQLite and PostgreSQL; memory must
    /// stay flat.
    Soak {
        /// Length of the whole run (shared by the two databases).
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        /// Concurrent clients.
        #[arg(long)]
        clients: Option<u32>,
    },
    /// Start the tests' throwaway PostgreSQL and open psql on it; removed on exit.
    #[command(hide = true)]
    PgShell {
        /// Extra arguments for psql, e.g. `-c 'select version()'`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run_task(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The cause chain, without the backtrace anyhow would add under RUST_BACKTRACE=1:
            // these errors are about the outside world, not about xtask's own code.
            eprintln!("\nxtask: error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run_task(task: Task) -> Result<()> {
    interrupt::install()?;
    let ws = util::Workspace::locate()?;
    match task {
        Task::BuildSite => build::build_site(&ws).map(drop),
        Task::Run { args } => run::run(&ws, &args),
        Task::Test { quick, args } => test::test(
            &ws,
            &test::Options {
                quick,
                cargo_test_args: args,
            },
        ),
        Task::Bench { smoke, only } => bench::bench_only(&ws, &bench::Options { smoke }, &only),
        Task::Schemathesis => schemathesis::run(&ws),
        Task::Torture { minutes } => torture::run(&ws, torture::Kind::Torture, minutes, None),
        Task::Soak { minutes, clients } => torture::run(&ws, torture::Kind::Soak, minutes, clients),
        Task::PgShell { args } => pg_shell::pg_shell(&ws, &args),
    }
}
