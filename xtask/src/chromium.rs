//! Headless Chromium and chromedriver for the browser tests, from Debian's packages (a test
//! tool's own browser download can't reach its servers from CI machines).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Result, bail};

use crate::util::{self, say};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// fonts-noto-cjk: without a CJK font the Chinese UI renders as boxes and layout checks lie.
const PACKAGES: &[&str] = &["chromium", "chromium-driver", "fonts-noto-cjk"];

pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Finds Chromium and chromedriver, installing them with apt-get when missing and running as
/// root (CI machines are fresh and run as root); otherwise says what to run.
pub fn ensure() -> Result<Browser> {
    let browser = Browser {
        chromium: CHROMIUM.into(),
        chromedriver: CHROMEDRIVER.into(),
    };
    if present(&browser) {
        report_versions(&browser);
        return Ok(browser);
    }
    let install = format!(
        "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y {}",
        PACKAGES.join(" ")
    );
    if !util::is_root() {
        bail!(
            "{CHROMIUM} or {CHROMEDRIVER} is missing and installing needs root; run:\n  \
             sudo sh -c '{install}'"
        );
    }
    say(format!(
        "{CHROMIUM} or {CHROMEDRIVER} is missing; installing: {install}"
    ));
    util::run(Command::new("apt-get").arg("update"))?;
    util::run(
        Command::new("apt-get")
            .args(["install", "-y"])
            .args(PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    if !present(&browser) {
        bail!(
            "installed {} but {CHROMIUM} or {CHROMEDRIVER} is still missing",
            PACKAGES.join(" ")
        );
    }
    report_versions(&browser);
    Ok(browser)
}

/// Logs the versions, since a browser test failing in CI is often a browser/driver mismatch.
fn report_versions(browser: &Browser) {
    for path in [&browser.chromium, &browser.chromedriver] {
        if let Ok(version) = util::output(Command::new(path).arg("--version")) {
            say(format!("{}: {}", path.display(), version.trim()));
        }
    }
}

fn present(browser: &Browser) -> bool {
    browser.chromium.is_file() && browser.chromedriver.is_file()
}
