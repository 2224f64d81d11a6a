//! Bounded forms of the reliability torture (issue 6), run by `cargo test --workspace`.
//!
//! The long forms run by hand with `evarc-torture` (docs/reliability.md). Seeds are fixed here so
//! that CI is deterministic; `EVARC_TORTURE_SEED` replays another.

mod concurrency;
mod corrupt;
mod crash;
mod flips;
mod fuzz_inputs;
mod hostile;
mod repack;
mod wal;

use std::path::PathBuf;

use evarc_torture::evarc::{self, Evarc};

/// The `evarc` binary of this build (built on demand when `cargo test` did not build it).
pub fn evarc_bin() -> PathBuf {
    evarc::locate().expect("the evarc binary (set EVARC_BIN)")
}

/// A fresh temporary directory.
pub fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("evarc-reliability-{name}-"))
        .tempdir()
        .expect("a temporary directory")
}

/// The seed of a test: `EVARC_TORTURE_SEED` or the test's own.
pub fn seed(default: u64) -> u64 {
    std::env::var("EVARC_TORTURE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// An initialised archive in `dir`.
pub fn archive_in(dir: &std::path::Path) -> Evarc {
    let evarc = Evarc::new(evarc_bin(), dir.join("archive"));
    evarc.init().expect("evarc init");
    evarc
}

/// Prints a torture log line (shown with `--nocapture` or on failure).
pub fn log(line: &str) {
    eprintln!("{line}");
}
