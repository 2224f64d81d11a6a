//! `evarc-bench corpus`: ingest, audit, bytes on disk and random access on a manifest corpus.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::json;

use crate::measure::{median, quote, shell, Run};

#[derive(clap::Args)]
pub struct CorpusArgs {
    /// The corpus manifest (manifest.tsv of ../shared/corpus, unpacked).
    pub manifest: PathBuf,
    /// Runs of each timed step; medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Also build the git comparison (one commit per capture, then an aggressive repack):
    /// several minutes.
    #[arg(long)]
    pub git: bool,
    /// Random captures read and provisions cited for the latency figures.
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
    /// The evarc binary [default: beside this one].
    #[arg(long)]
    pub evarc: Option<PathBuf>,
    /// Scratch directory [default: a temporary directory].
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Write the results as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// One manifest row: what the benchmark needs of it.
pub struct Capture {
    pub path: String,
    pub sha256: String,
    pub captured_at: String,
    pub entity: String,
    pub document: String,
}

pub fn read_manifest(manifest: &Path) -> Result<Vec<Capture>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .from_path(manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("no {name} column"))
    };
    let (path, sha, at, entity, document) = (
        col("path")?,
        col("sha256")?,
        col("captured_at")?,
        col("entity")?,
        col("document")?,
    );
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(Capture {
            path: record[path].to_owned(),
            sha256: record[sha].to_owned(),
            captured_at: record[at].to_owned(),
            entity: record[entity].to_owned(),
            document: record[document].to_owned(),
        });
    }
    Ok(rows)
}

#[derive(Serialize)]
struct Timed {
    median_seconds: f64,
    runs: Vec<Run>,
}

fn timed(runs: Vec<Run>) -> Timed {
    let seconds: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    Timed {
        median_seconds: median(&seconds),
        runs,
    }
}

pub fn run(args: CorpusArgs) -> Result<()> {
    let evarc = crate::evarc_binary(args.evarc.clone())?;
    let manifest = args.manifest.canonicalize()?;
    let root = manifest
        .parent()
        .context("manifest has no folder")?
        .to_owned();
    let captures = read_manifest(&manifest)?;
    let scratch = tempfile::tempdir()?;
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| scratch.path().to_owned());
    std::fs::create_dir_all(&work)?;
    let raw_bytes: u64 = captures
        .iter()
        .map(|c| std::fs::metadata(root.join(&c.path)).map_or(0, |m| m.len()))
        .sum();
    eprintln!(
        "corpus: {} captures, {raw_bytes} bytes, runs: {}",
        captures.len(),
        args.runs
    );

    // File list (NUL-separated) and checksum list, relative to the manifest's folder.
    let list = work.join("files.lst");
    let mut file = std::fs::File::create(&list)?;
    for c in &captures {
        file.write_all(c.path.as_bytes())?;
        file.write_all(b"\0")?;
    }
    let sums = work.join("sums.txt");
    let mut text = String::new();
    for c in &captures {
        let _ = writeln!(text, "{}  {}", c.sha256, c.path);
    }
    std::fs::write(&sums, text)?;

    let archive = work.join("archive");
    let (q_evarc, q_archive, q_manifest, q_list, q_sums) = (
        quote(&evarc),
        quote(&archive),
        quote(&manifest),
        quote(&list),
        quote(&sums),
    );

    // Ingest, interleaved so that machine noise hits all three alike.
    let (mut evarc_ingest, mut zstd_ingest, mut sha_ingest) = (vec![], vec![], vec![]);
    // The import's phases: its version pass reports its own time (`"status": "versions"`).
    let (mut pass_seconds, mut own_seconds) = (vec![], vec![]);
    let import_log = work.join("import.jsonl");
    let q_log = quote(&import_log);
    for run in 0..args.runs {
        eprintln!("ingest run {}/{}", run + 1, args.runs);
        let _ = std::fs::remove_dir_all(&archive);
        shell(&format!("{q_evarc} init {q_archive}"), &root)?;
        let whole = shell(
            &format!(
                "{q_evarc} --archive {q_archive} --json import manifest {q_manifest} > {q_log}"
            ),
            &root,
        )?;
        if let Some(pass) = version_pass_seconds(&import_log)? {
            pass_seconds.push(pass);
            own_seconds.push(whole.seconds - pass);
        }
        evarc_ingest.push(whole);
        zstd_ingest.push(shell(
            &format!("xargs -0 cat < {q_list} | zstd -3 -T1 -c > /dev/null"),
            &root,
        )?);
        sha_ingest.push(shell(
            &format!("xargs -0 sha256sum < {q_list} > /dev/null"),
            &root,
        )?);
    }

    // Audit.
    let (mut evarc_audit, mut sha_audit) = (vec![], vec![]);
    for run in 0..args.runs {
        eprintln!("audit run {}/{}", run + 1, args.runs);
        evarc_audit.push(shell(
            &format!("{q_evarc} --archive {q_archive} verify --all > /dev/null"),
            &root,
        )?);
        sha_audit.push(shell(&format!("sha256sum -c --quiet {q_sums}"), &root)?);
    }

    // Bytes on disk.
    eprintln!("bytes on disk");
    let disk = crate::disk::measure(&root, &captures, &archive, &work, args.git)?;

    // Random access, in-process.
    eprintln!("random access ({} samples)", args.samples);
    let access = crate::access::measure(&archive, args.samples)?;

    let phase = |seconds: &[f64]| {
        (!seconds.is_empty()).then(|| json!({"median_seconds": median(seconds), "runs": seconds}))
    };
    let ingest = json!({
        "evarc": timed(evarc_ingest),
        "evarc_import_own": phase(&own_seconds),
        "evarc_version_pass": phase(&pass_seconds),
        "zstd_3_T1": timed(zstd_ingest),
        "sha256sum": timed(sha_ingest),
    });
    let audit = json!({
        "evarc_verify_all": timed(evarc_audit),
        "sha256sum_c": timed(sha_audit),
    });
    let results = json!({
        "corpus": {"manifest": manifest, "captures": captures.len(), "raw_bytes": raw_bytes},
        "runs": args.runs,
        "ingest": ingest,
        "audit": audit,
        "disk": disk,
        "access": access,
    });
    print_table(&results);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// The seconds of the version pass an `import manifest --json` log reports, if it ran one.
fn version_pass_seconds(log: &Path) -> Result<Option<f64>> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["status"] == "versions")
        .and_then(|v| v["seconds"].as_f64()))
}

fn print_table(r: &serde_json::Value) {
    let s = |path: &str| {
        r.pointer(path)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN)
    };
    let evarc_in = s("/ingest/evarc/median_seconds");
    let zstd_in = s("/ingest/zstd_3_T1/median_seconds");
    let sha_in = s("/ingest/sha256sum/median_seconds");
    let evarc_au = s("/audit/evarc_verify_all/median_seconds");
    let sha_au = s("/audit/sha256sum_c/median_seconds");
    println!("step                         median s   ratio");
    println!("ingest  evarc import         {evarc_in:>8.2}   1.00");
    println!(
        "ingest  zstd -3 -T1          {zstd_in:>8.2}   evarc/zstd = {:.2}",
        evarc_in / zstd_in
    );
    println!(
        "ingest  sha256sum            {sha_in:>8.2}   evarc/sha256sum = {:.2}",
        evarc_in / sha_in
    );
    let own = s("/ingest/evarc_import_own/median_seconds");
    let pass = s("/ingest/evarc_version_pass/median_seconds");
    if !own.is_nan() {
        println!(
            "ingest  (import's own part) {own:>8.2}   own/zstd = {:.2}",
            own / zstd_in
        );
        println!(
            "ingest  (version pass)      {pass:>8.2}   pass/own = {:.2}",
            pass / own
        );
    }
    println!("audit   evarc verify --all   {evarc_au:>8.2}");
    println!(
        "audit   sha256sum -c         {sha_au:>8.2}   sha256sum/evarc = {:.2}",
        sha_au / evarc_au
    );
    println!();
    println!("bytes on disk                          bytes");
    for (label, key) in [
        ("raw", "/corpus/raw_bytes"),
        ("evarc archive", "/disk/evarc_archive_bytes"),
        ("each file zstd -3", "/disk/per_file_zstd3_bytes"),
        ("tar | zstd --long=27 -10", "/disk/solid_tar_zstd_bytes"),
        ("git fast-import + repack", "/disk/git_repacked_bytes"),
    ] {
        match r.pointer(key).and_then(serde_json::Value::as_u64) {
            Some(bytes) => println!("{label:<32} {bytes:>12}"),
            None => println!("{label:<32} {:>12}", "(not run)"),
        }
    }
    println!();
    println!("random access (in-process)        p50 ms    p99 ms");
    for (label, key) in [
        ("read + verify a capture", "/access/read_verify"),
        ("cite (record) a provision", "/access/cite_record"),
        ("cite (provenance, re-hash)", "/access/cite_provenance"),
    ] {
        println!(
            "{label:<32} {:>8.3}  {:>8.3}",
            s(&format!("{key}/p50_ms")),
            s(&format!("{key}/p99_ms"))
        );
    }
    println!();
    let peak = |path: &str| {
        r.pointer(path)
            .and_then(|v| v.as_array())
            .and_then(|runs| runs.iter().filter_map(|x| x["max_rss_kib"].as_u64()).max())
            .unwrap_or(0)
    };
    println!(
        "peak RSS KiB: ingest {}, verify --all {}",
        peak("/ingest/evarc/runs"),
        peak("/audit/evarc_verify_all/runs"),
    );
}

/// Arbitrary-but-fixed pseudo-random numbers (xorshift64*), so runs sample the same records.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}
