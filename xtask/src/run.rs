//! `cargo xtask run`: build everything and serve the app locally with demo data.

use std::ffi::OsString;
use std::process::exit;

use anyhow::Result;

use crate::util::{self, Workspace, say};
use crate::{build, interrupt};

const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_DATA_DIR: &str = "./data";

pub fn run(ws: &Workspace, extra: &[OsString]) -> Result<()> {
    let site = build::build_site(ws)?;
    util::run(
        ws.cargo()
            .args(["build", "-p", "backend", "--bin", "reformboard"]),
    )?;

    let mut cmd = std::process::Command::new(ws.backend_bin());
    cmd.current_dir(&ws.root)
        .args(["serve", "--demo", "--demo-year"]);
    // A flag given after `--` replaces our default rather than repeating it (clap refuses
    // repeats).
    let defaults = [
        ("--site-dir", site.into_os_string()),
        ("--addr", DEFAULT_ADDR.into()),
        ("--data-dir", DEFAULT_DATA_DIR.into()),
    ];
    for (flag, value) in defaults {
        if !mentions(extra, flag) {
            cmd.arg(flag).arg(value);
        }
    }
    cmd.args(extra);
    say(format!("starting `{}`", util::display(&cmd)));
    // The backend prints its URL and the demo logins. Ctrl-C is passed on to it, and its exit
    // status becomes ours.
    let status = util::run_status(&mut cmd)?;
    if interrupt::received() > 0 {
        say("stopped");
    } else if !status.success() {
        say(format!("reformboard exited ({status})"));
        exit(status.code().unwrap_or(1));
    }
    Ok(())
}

fn mentions(args: &[OsString], flag: &str) -> bool {
    args.iter().any(|arg| {
        let arg = arg.to_string_lossy();
        arg == flag
            || arg
                .strip_prefix(flag)
                .is_some_and(|rest| rest.starts_with('='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_a_flag_in_both_spellings() {
        let args: Vec<OsString> = vec!["--addr=0.0.0.0:80".into(), "--verbose".into()];
        assert!(mentions(&args, "--addr"));
        assert!(!mentions(&args, "--data-dir"));
        let args: Vec<OsString> = vec!["--data-dir".into(), "/tmp/x".into()];
        assert!(mentions(&args, "--data-dir"));
        assert!(!mentions(&args, "--data"));
    }
}
