//! Ctrl-C (and SIGTERM/SIGHUP) handling. xtask must outlive the signal: it has to pass it on to
//! the command it is running and then stop the PostgreSQL it started. So it only counts signals
//! here, and the code waiting on children acts on the count (see `util::run_status`).

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use anyhow::{Context as _, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static RECEIVED: AtomicUsize = AtomicUsize::new(0);
static LAST: AtomicI32 = AtomicI32::new(SIGINT);

/// Starts counting signals instead of dying of them. Children still start with the default
/// disposition (exec resets caught signals), so they die of a forwarded signal as usual.
pub fn install() -> Result<()> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM, SIGHUP]).context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                LAST.store(signal, Ordering::SeqCst);
                let n = RECEIVED.fetch_add(1, Ordering::SeqCst) + 1;
                let how = if n > 1 { ", killing" } else { ", stopping" };
                eprintln!("\nxtask: got {}{how}", name(signal));
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// How many signals have arrived so far.
pub fn received() -> usize {
    RECEIVED.load(Ordering::SeqCst)
}

/// The last signal's name as kill(1) spells it, to forward the same one.
pub fn last_signal_name() -> &'static str {
    name(LAST.load(Ordering::SeqCst))
}

fn name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "TERM",
        SIGHUP => "HUP",
        _ => "INT",
    }
}
