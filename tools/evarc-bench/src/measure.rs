//! Running commands and timing them: wall time, peak RSS (via GNU time), medians.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde::Serialize;

/// One timed run of a command.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub seconds: f64,
    /// Peak resident set size in KiB, as GNU time reports it (max over the process tree's
    /// largest process).
    pub max_rss_kib: u64,
}

/// Runs `sh -c script` under `/usr/bin/time -f %M`, returning wall time and peak RSS.
pub fn shell(script: &str, dir: &Path) -> Result<Run> {
    let rss_file = tempfile::NamedTempFile::new()?;
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(rss_file.path())
        .arg("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running {script}"))?;
    let seconds = start.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!(
            "{script} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let rss = std::fs::read_to_string(rss_file.path())?;
    let max_rss_kib = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    Ok(Run {
        seconds,
        max_rss_kib,
    })
}

/// The median of a non-empty list.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The value at quantile `q` (0..=1) of a non-empty list, nearest rank.
pub fn quantile(values: &mut [Duration], q: f64) -> Duration {
    values.sort();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Shell-quotes a path for `sh -c`.
pub fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

/// Bytes used by a directory tree (file sizes, as `du -sb`).
pub fn tree_bytes(path: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            tree_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
