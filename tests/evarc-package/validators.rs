//! The ecosystem's validators, from the venv made by tools/validators-venv.sh.
//!
//! `$EVARC_VALIDATORS_VENV` (default `$HOME/.cache/evarc/validators-venv`) must hold `warcio`,
//! `bagit.py` and `wacz`. When one is missing the test prints a SKIP line, unless
//! `EVARC_REQUIRE_VALIDATORS=1`, when it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

fn venv() -> PathBuf {
    match std::env::var_os("EVARC_VALIDATORS_VENV") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/evarc/validators-venv"),
    }
}

/// The validator executable, or `None` (after a SKIP line) when it is not installed.
pub fn find(name: &str) -> Option<PathBuf> {
    let exe = venv().join("bin").join(name);
    if exe.is_file() {
        return Some(exe);
    }
    let required = std::env::var("EVARC_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "validator {} not found and EVARC_REQUIRE_VALIDATORS=1; run tools/validators-venv.sh",
        exe.display()
    );
    eprintln!(
        "SKIP: validator {} not installed (run tools/validators-venv.sh)",
        exe.display()
    );
    None
}

/// Runs `exe args… target`, asserts it succeeded and returns its stdout+stderr.
pub fn run(exe: &Path, args: &[&str], target: &Path) -> String {
    let output = Command::new(exe)
        .args(args)
        .arg(target)
        .output()
        .expect("run validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "$ {} {} {}\n{text}",
        exe.display(),
        args.join(" "),
        target.display()
    );
    assert!(
        output.status.success(),
        "{} failed on {}:\n{text}",
        exe.display(),
        target.display()
    );
    text
}
