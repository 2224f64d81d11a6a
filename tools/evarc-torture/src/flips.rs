//! Issue 16's experiment: N single-byte flips at random offsets over all of an archive's files,
//! each on a fresh copy of the same archive, each followed by `verify --all` (text) and
//! `verify --all --json`. Per flip: the audit must finish (exit 1, one valid JSON report, no
//! `error:` line), must not be clean (the file differs), and the text must name every capture
//! the JSON counts as affected. The distribution of affected captures is the blast radius.
//!
//! Offsets are drawn uniformly over the bytes of the files that hold data (so a 10 MB table is
//! hit 10 000 times as often as a 1 KB MANIFEST). RocksDB's info logs (`LOG`, `LOG.old.*`), which
//! readers append to and which hold no data, are left out and reported as such.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::evarc::Evarc;
use crate::rng::Rng;
use crate::workload;

pub struct FlipOptions {
    pub flips: u32,
    pub seed: u64,
    /// An archive to copy (left untouched); else one is made from `manifest`, else generated.
    pub archive: Option<PathBuf>,
    pub manifest: Option<PathBuf>,
    pub documents: usize,
    pub versions: usize,
    pub evarc: PathBuf,
    pub work: PathBuf,
}

/// One flip and what the audit said.
#[derive(Debug)]
pub struct Flip {
    pub file: String,
    pub offset: u64,
    pub exit: i32,
    pub affected: usize,
    /// Captures whose record could not be read (named by their log leaves).
    pub records: usize,
    pub problem: Option<String>,
    /// What the flip hit, as the audit's file check names it: the table's column family and
    /// block kind (`deltas data block`, `chunks index block`, …) or the file kind (`MANIFEST`).
    pub hit: String,
}

#[derive(Debug, Default)]
pub struct FlipReport {
    pub archive_bytes: u64,
    pub flips: Vec<Flip>,
    /// Audits that did not finish with a report (exit other than 0/1, invalid JSON, `error:`).
    pub aborted: Vec<String>,
    /// Audits that were clean although a file was damaged.
    pub clean_damaged: Vec<String>,
    /// Other problems: affected captures not named in the text, text and JSON disagreeing.
    pub unnamed: Vec<String>,
}

impl FlipReport {
    /// Median, 90th percentile and maximum of the affected captures per flip.
    pub fn distribution(&self) -> (usize, usize, usize) {
        Self::quantiles(self.flips.iter().map(|f| f.affected).collect())
    }

    /// The same for captures whose record could not be read.
    pub fn records_distribution(&self) -> (usize, usize, usize) {
        Self::quantiles(self.flips.iter().map(|f| f.records).collect())
    }

    fn quantiles(mut v: Vec<usize>) -> (usize, usize, usize) {
        if v.is_empty() {
            return (0, 0, 0);
        }
        v.sort_unstable();
        let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
        (at(0.5), at(0.9), v[v.len() - 1])
    }

    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.aborted.iter().map(|p| format!("aborted: {p}")));
        out.extend(self.clean_damaged.iter().map(|p| format!("clean: {p}")));
        out.extend(self.unnamed.iter().cloned());
        out
    }
}

/// True for files the flips may hit: every file evarc or RocksDB reads data from. Left out:
/// RocksDB's info logs (`LOG*`, diagnostics readers append to), `OPTIONS-*` (a record of the
/// options in text, never read when evarc opens an archive: evarc passes its options in code)
/// and `IDENTITY` (a random database ID, not data); none has a checksum to check.
pub fn holds_data(name: &str) -> bool {
    !(name.starts_with("LOG") || name.starts_with("OPTIONS-") || name == "IDENTITY")
}

pub fn run(opts: &FlipOptions, log: &mut dyn FnMut(&str)) -> Result<FlipReport> {
    let source = match &opts.archive {
        Some(path) => path.clone(),
        None => build_archive(opts, log)?,
    };
    let mut files: Vec<(String, u64)> = Vec::new();
    let mut total_all = 0u64;
    for entry in
        std::fs::read_dir(&source).with_context(|| format!("reading {}", source.display()))?
    {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let len = entry.metadata()?.len();
        total_all += len;
        if len > 0 && holds_data(&name) {
            files.push((name, len));
        }
    }
    files.sort();
    let families = column_families(&source);
    let total: u64 = files.iter().map(|(_, l)| l).sum();
    log(&format!(
        "flips: seed {}, archive {} ({} bytes in {} files; {} bytes in files that hold data)",
        opts.seed,
        source.display(),
        total_all,
        files.len(),
        total
    ));
    let mut report = FlipReport {
        archive_bytes: total_all,
        ..FlipReport::default()
    };
    let mut rng = Rng::new(opts.seed);
    let copy = opts.work.join("flipped");
    for round in 0..opts.flips {
        let mut at = rng.below(total);
        let (file, offset) = files
            .iter()
            .find_map(|(name, len)| {
                if at < *len {
                    Some((name.clone(), at))
                } else {
                    at -= len;
                    None
                }
            })
            .expect("an offset below the total falls in some file");
        let xor = 1 + rng.below(255) as u8;
        if copy.exists() {
            std::fs::remove_dir_all(&copy)?;
        }
        copy_dir(&source, &copy)?;
        let target = copy.join(&file);
        let mut bytes = std::fs::read(&target)?;
        bytes[offset as usize] ^= xor;
        std::fs::write(&target, &bytes)?;
        let evarc = Evarc::new(opts.evarc.clone(), copy.clone());
        let json = evarc.run(&["verify", "--all", "--json"])?;
        let text = evarc.run(&["verify", "--all"])?;
        let what = format!("flip {round}: {file} offset {offset} ^{xor:#04x}");
        let mut flip = Flip {
            file: file.clone(),
            offset,
            exit: json.code,
            affected: 0,
            records: 0,
            problem: None,
            hit: String::new(),
        };
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&json.stdout).ok();
        let finished =
            |code: i32, stderr: &str| (code == 0 || code == 1) && !stderr.contains("error:");
        if !finished(json.code, &json.stderr)
            || !finished(text.code, &text.stderr)
            || parsed.is_none()
        {
            let p = format!(
                "{what}: exit {} / {}: {}{}",
                json.code,
                text.code,
                json.stderr.trim(),
                if parsed.is_none() {
                    " (no valid JSON report)"
                } else {
                    ""
                }
            );
            report.aborted.push(p.clone());
            flip.problem = Some(p);
        } else if json.code == 0 || text.code == 0 {
            let p = format!("{what}: verify --all exited 0 on a damaged file");
            report.clean_damaged.push(p.clone());
            flip.problem = Some(p);
        }
        if let Some(value) = parsed {
            let affected = value["affected_captures"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            flip.affected = affected.len();
            let out = text.stdout_text();
            let records = value["captures_with_unreadable_records"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            flip.records = records.len();
            flip.hit = hit(&file, &families, &value);
            for capture in affected.iter().chain(&records) {
                let doc = capture["document"].as_str().unwrap_or("?");
                if !out.contains(doc) {
                    let p = format!("{what}: the text report does not name {doc}");
                    report.unnamed.push(p.clone());
                    flip.problem.get_or_insert(p);
                    break;
                }
            }
            if value["clean"] != serde_json::Value::Bool(json.code == 0) {
                report.unnamed.push(format!(
                    "{what}: JSON \"clean\" disagrees with the exit code"
                ));
            }
        }
        log(&format!(
            "{what} ({}): exit {}, {} captures affected, {} capture records unreadable{}",
            flip.hit,
            flip.exit,
            flip.affected,
            flip.records,
            flip.problem
                .as_deref()
                .map(|p| format!(" PROBLEM {p}"))
                .unwrap_or_default()
        ));
        report.flips.push(flip);
    }
    if copy.exists() {
        std::fs::remove_dir_all(&copy)?;
    }
    Ok(report)
}

/// The column family of each table file of the archive at `path` (empty if it will not open).
fn column_families(path: &Path) -> std::collections::HashMap<String, String> {
    let opts = rocksdb::Options::default();
    let Ok(cfs) = rocksdb::DB::list_cf(&opts, path) else {
        return Default::default();
    };
    let Ok(db) = rocksdb::DB::open_cf_for_read_only(&opts, path, &cfs, false) else {
        return Default::default();
    };
    db.live_files()
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            (
                f.name.trim_start_matches('/').to_owned(),
                f.column_family_name,
            )
        })
        .collect()
}

/// What a flip in `file` hit: for a table, its column family and the kind of block the audit's
/// file check names (`data block`, `index block`, `metaindex block`, `meta block` for the
/// filter and properties, `footer` otherwise); for other files, the file kind.
fn hit(
    file: &str,
    families: &std::collections::HashMap<String, String>,
    report: &serde_json::Value,
) -> String {
    if !file.ends_with(".sst") {
        return file
            .split(['-', '.'])
            .next()
            .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(if file.ends_with(".log") { "WAL" } else { file })
            .to_owned();
    }
    let family = families.get(file).map(String::as_str).unwrap_or("?");
    let reason = report["file_damage"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["file"] == file)
        .and_then(|d| d["reason"].as_str())
        .unwrap_or("");
    let block = ["metaindex block", "index block", "meta block", "data block"]
        .into_iter()
        .find(|k| reason.starts_with(k))
        .unwrap_or("footer or padding");
    format!("{family} {block}")
}

/// An archive of `opts.manifest`, or of a generated corpus, under `opts.work`.
fn build_archive(opts: &FlipOptions, log: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let archive = opts.work.join("source");
    let evarc = Evarc::new(opts.evarc.clone(), archive.clone());
    evarc.init()?;
    let manifest = match &opts.manifest {
        Some(m) => m.clone(),
        None => {
            let dir = opts.work.join("corpus");
            let mut rng = Rng::new(opts.seed ^ 0x5eed);
            workload::generate(&dir, opts.documents, opts.versions, false, &mut rng)?;
            dir.join("manifest.tsv")
        }
    };
    let run = evarc.ok(&["import", "manifest", &manifest.to_string_lossy()])?;
    log(&format!(
        "flips: imported {}: {}",
        manifest.display(),
        run.stdout_text().lines().last().unwrap_or("")
    ));
    Ok(archive)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
