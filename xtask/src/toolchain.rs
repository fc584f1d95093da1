//! Rust toolchain pieces the build needs beyond a plain host toolchain.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::util::{self, say};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Makes sure the standard library for the browser target is installed, adding it with rustup
/// when missing (a fresh machine has only the host target).
pub fn ensure_wasm_target() -> Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let out = match listed {
        Ok(out) => out,
        // Without rustup (a distro toolchain) the target is either in the sysroot or can't be had.
        Err(err) if err.kind() == ErrorKind::NotFound => return check_sysroot(),
        Err(err) => return Err(err).context("running `rustup target list --installed`"),
    };
    if !out.status.success() {
        bail!(
            "`rustup target list --installed` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|line| line.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    say(format!(
        "the {WASM_TARGET} target is not installed; running `rustup target add {WASM_TARGET}`"
    ));
    util::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

fn check_sysroot() -> Result<()> {
    let sysroot = util::output(Command::new("rustc").args(["--print", "sysroot"]))?;
    let lib = PathBuf::from(sysroot.trim())
        .join("lib/rustlib")
        .join(WASM_TARGET);
    if lib.is_dir() {
        Ok(())
    } else {
        bail!(
            "the {WASM_TARGET} target is not installed and there is no rustup to add it \
             (looked for {})",
            lib.display()
        )
    }
}
