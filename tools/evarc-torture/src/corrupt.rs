//! `corrupt`: damage a closed archive (a copy of a clean one) and check that every damage that
//! affects data is detected, named by record, and never turned into wrong bytes or a "✓".
//!
//! Each injection is classified:
//! - `detected`: some record or byte is affected and `verify --all` fails, naming every affected
//!   capture by document ID (or the archive refuses to open / list, which names nothing);
//! - `harmless`: nothing is affected (every capture reads back identical, records unchanged) and
//!   `verify --all` is clean, e.g. a flip in padding, the info LOG or a stale file;
//! - `flagged`: nothing is affected, but `verify --all` fails (over-cautious, not a bug);
//! - `MISSED`: wrong bytes returned, a "✓ Hash verified" on damaged data, `verify --all` clean
//!   while something is affected, or an affected capture `verify --all` does not name. A bug.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use evarc_provenance::Archive;
use evarc_store::{Blake3, OpenMode};

use crate::evarc::Evarc;
use crate::rng::Rng;
use crate::state::State;
use crate::workload;

#[derive(Clone, Debug)]
pub struct CorruptOptions {
    pub rounds: u32,
    pub seed: u64,
    pub documents: usize,
    pub versions: usize,
    pub evarc: PathBuf,
    pub work: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Detected,
    Harmless,
    Flagged,
    Missed,
}

#[derive(Debug, Default)]
pub struct CorruptReport {
    pub rounds: u32,
    pub by_verdict: BTreeMap<String, u32>,
    /// Injection kind → verdict → count.
    pub by_kind: BTreeMap<String, BTreeMap<String, u32>>,
    pub missed: Vec<String>,
    /// Delta-base injections whose dependants were all named.
    pub chain_checks: u32,
}

/// One capture of the clean archive, the ground truth.
#[derive(Clone, Debug)]
struct Truth {
    document: String,
    sha256: String,
    blake3: Blake3,
}

pub fn run(opts: &CorruptOptions, log: &mut dyn FnMut(&str)) -> Result<CorruptReport> {
    let mut rng = Rng::new(opts.seed);
    log(&format!(
        "corrupt: seed {} ({} rounds)",
        opts.seed, opts.rounds
    ));
    let manifest = workload::generate(
        &opts.work.join("workload"),
        opts.documents,
        opts.versions,
        true,
        &mut rng,
    )?;
    let clean = Evarc::new(opts.evarc.clone(), opts.work.join("clean"));
    clean.init()?;
    clean.ok(&["import", "manifest", &manifest.path.to_string_lossy()])?;
    let state = State::load(&clean.archive)?;
    for doc in state.documents.iter().take(3) {
        let quote = workload::stable_clause(&doc.title, 1);
        clean.ok(&[
            "provision",
            "add",
            &doc.id.to_string(),
            "--title",
            "Kept",
            "--quote",
            &quote,
        ])?;
    }
    let state = State::load(&clean.archive)?;
    let clean_canonical = state.canonical();
    let mut expected: HashMap<String, Vec<u8>> = HashMap::new();
    for row in &manifest.rows {
        expected.insert(row.sha256.clone(), manifest.bytes_of(row)?);
    }
    let truths: Vec<Truth> = state
        .captures
        .iter()
        .map(|c| {
            Ok(Truth {
                document: c.document.to_string(),
                sha256: c.sha256.to_hex(),
                blake3: c.blake3,
            })
        })
        .collect::<Result<_>>()?;
    let cited: Vec<String> = state
        .documents
        .iter()
        .map(|d| d.id.to_string())
        .chain(state.provisions.iter().map(|p| p.id.to_string()))
        .collect();
    let chains = delta_children(&clean.archive)?;
    log(&format!(
        "corrupt: clean archive of {} captures ({} snapshots, {} built on a delta base)",
        truths.len(),
        chains.snapshots,
        chains.children.values().map(Vec::len).sum::<usize>()
    ));

    let mut report = CorruptReport::default();
    for round in 0..opts.rounds {
        let dir = opts.work.join(format!("round-{round}"));
        copy_dir(&clean.archive, &dir)?;
        let injection = inject(&dir, &chains, &mut rng)?;
        let damaged = Evarc::new(opts.evarc.clone(), dir.clone());
        let outcome = judge(
            &damaged,
            &truths,
            &expected,
            &clean_canonical,
            &cited,
            &injection,
            &mut rng,
        )?;
        if injection.must_name.is_some() && outcome.verdict == Verdict::Detected {
            report.chain_checks += 1;
        }
        let verdict = format!("{:?}", outcome.verdict).to_lowercase();
        log(&format!(
            "corrupt: round {round}: {} → {verdict}{}",
            injection.description,
            outcome
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ));
        if outcome.verdict == Verdict::Missed {
            report.missed.push(format!(
                "round {round} (seed {}): {}: {}",
                opts.seed,
                injection.description,
                outcome.note.unwrap_or_default()
            ));
        } else {
            std::fs::remove_dir_all(&dir).ok();
        }
        *report.by_verdict.entry(verdict.clone()).or_default() += 1;
        *report
            .by_kind
            .entry(injection.kind.clone())
            .or_default()
            .entry(verdict)
            .or_default() += 1;
        report.rounds += 1;
    }
    log(&format!(
        "corrupt: {} injections: {:?}; delta-base chains fully named: {}",
        report.rounds, report.by_verdict, report.chain_checks
    ));
    Ok(report)
}

/// What was damaged.
struct Injection {
    kind: String,
    description: String,
    /// Snapshots (SHA-256) that must all be named by `verify --all` (a damaged delta base and
    /// every snapshot built on it).
    must_name: Option<Vec<String>>,
}

struct Outcome {
    verdict: Verdict,
    note: Option<String>,
}

/// The delta structure of the clean archive: base → snapshots built directly on it.
struct Chains {
    snapshots: usize,
    children: HashMap<Blake3, Vec<Blake3>>,
    chunked: Vec<(Blake3, Vec<Blake3>)>,
    sha_of: HashMap<Blake3, String>,
}

fn raw_db(path: &Path, read_only: bool) -> Result<rocksdb::DB> {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    let opts = rocksdb::Options::default();
    if read_only {
        rocksdb::DB::open_cf_for_read_only(&opts, path, cfs, false)
    } else {
        rocksdb::DB::open_cf(&opts, path, cfs)
    }
    .with_context(|| format!("opening {} with RocksDB", path.display()))
}

/// Decodes the manifests of the archive (docs/format.md, version 2) enough to know the chains.
fn delta_children(path: &Path) -> Result<Chains> {
    let db = raw_db(path, true)?;
    let cf = db
        .cf_handle("snapshots")
        .context("snapshots column family")?;
    let mut chains = Chains {
        snapshots: 0,
        children: HashMap::new(),
        chunked: Vec::new(),
        sha_of: HashMap::new(),
    };
    for item in db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
        let (key, value) = item?;
        let key = Blake3::from_slice(&key).context("a 32-byte snapshot key")?;
        chains.snapshots += 1;
        chains.sha_of.insert(key, hex::encode(&value[1..33]));
        match (value[0], value.get(41)) {
            (2, Some(1)) => {
                let base = Blake3::from_slice(&value[42..74]).context("delta base")?;
                chains.children.entry(base).or_default().push(key);
            }
            (2, Some(0)) => {
                let chunks = value[50..]
                    .chunks_exact(32)
                    .filter_map(Blake3::from_slice)
                    .collect();
                chains.chunked.push((key, chunks));
            }
            _ => {}
        }
    }
    Ok(chains)
}

impl Chains {
    /// `base` and every snapshot built on it, directly or not.
    fn dependants(&self, base: Blake3) -> Vec<Blake3> {
        let mut out = vec![base];
        let mut i = 0;
        while i < out.len() {
            if let Some(children) = self.children.get(&out[i]) {
                out.extend(children.iter().copied());
            }
            i += 1;
        }
        out
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to)?;
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))
            .with_context(|| format!("copying {}", entry.path().display()))?;
    }
    Ok(())
}

/// Damages the archive at `dir`: a file-level injection (flip, truncate, delete, zero) of a
/// random RocksDB file, or a targeted one below the store's API (a delta base's chunk forged).
fn inject(dir: &Path, chains: &Chains, rng: &mut Rng) -> Result<Injection> {
    if rng.chance(20) {
        return inject_logical(dir, chains, rng);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    // Data files most of the time; the rest of the directory too.
    let ssts: Vec<PathBuf> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sst"))
        .cloned()
        .collect();
    let file = if !ssts.is_empty() && rng.chance(60) {
        ssts[rng.index(ssts.len())].clone()
    } else {
        files[rng.index(files.len())].clone()
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let class = file_class(&name);
    let mut bytes = std::fs::read(&file)?;
    let len = bytes.len();
    let action = rng.below(100);
    let description = if len == 0 || action < 10 {
        std::fs::remove_file(&file)?;
        format!("deleted {name} ({len} bytes)")
    } else if action < 25 {
        let at = rng.index(len);
        bytes.truncate(at);
        std::fs::write(&file, &bytes)?;
        format!("truncated {name} from {len} to {at} bytes")
    } else if action < 32 {
        let at = rng.index(len);
        let end = (at + 4096).min(len);
        bytes[at..end].fill(0);
        std::fs::write(&file, &bytes)?;
        format!("zeroed bytes {at}..{end} of {name} ({len} bytes)")
    } else {
        let flips = 1 + rng.below(4);
        let mut at = Vec::new();
        for _ in 0..flips {
            let i = rng.index(len);
            bytes[i] ^= 1 << rng.below(8);
            at.push(i);
        }
        std::fs::write(&file, &bytes)?;
        format!("flipped {flips} bit(s) of {name} ({len} bytes) at {at:?}")
    };
    let verb = description.split(' ').next().unwrap_or("").to_owned();
    Ok(Injection {
        kind: format!("{verb} {class}"),
        description,
        must_name: None,
    })
}

fn file_class(name: &str) -> &'static str {
    if name.ends_with(".sst") {
        "SST"
    } else if name.starts_with("MANIFEST") {
        "MANIFEST"
    } else if name == "CURRENT" {
        "CURRENT"
    } else if name.ends_with(".log") {
        "WAL"
    } else if name.starts_with("OPTIONS") {
        "OPTIONS"
    } else if name.starts_with("LOG") {
        "info LOG"
    } else {
        "other"
    }
}

/// A delta base's first chunk forged (every delta on it must then fail and be named), or a
/// snapshot's delta value or manifest deleted.
fn inject_logical(dir: &Path, chains: &Chains, rng: &mut Rng) -> Result<Injection> {
    let db = raw_db(dir, false)?;
    let bases: Vec<&(Blake3, Vec<Blake3>)> = chains
        .chunked
        .iter()
        .filter(|(k, c)| chains.children.contains_key(k) && !c.is_empty())
        .collect();
    let deltas: Vec<Blake3> = chains.children.values().flatten().copied().collect();
    let choice = rng.below(3);
    let (kind, description, victim) = if choice == 0 && !bases.is_empty() {
        let (key, chunks) = bases[rng.index(bases.len())];
        let cf = db.cf_handle("chunks").context("chunks cf")?;
        let mut forged = vec![0u8];
        forged.extend_from_slice(&rng.bytes(1000));
        db.put_cf(cf, chunks[0].as_bytes(), forged)?;
        (
            "forged delta-base chunk",
            format!("forged chunk 0 of delta base blake3:{key}"),
            *key,
        )
    } else if choice == 1 && !deltas.is_empty() {
        let key = deltas[rng.index(deltas.len())];
        let cf = db.cf_handle("deltas").context("deltas cf")?;
        let mut value = db.get_cf(cf, key.as_bytes())?.context("delta value")?;
        let i = 1 + rng.index(value.len() - 1);
        value[i] ^= 0x55;
        db.put_cf(cf, key.as_bytes(), value)?;
        (
            "altered delta value",
            format!("altered byte {i} of the delta of blake3:{key}"),
            key,
        )
    } else {
        let all: Vec<Blake3> = chains.sha_of.keys().copied().collect();
        let key = all[rng.index(all.len())];
        let cf = db.cf_handle("snapshots").context("snapshots cf")?;
        db.delete_cf(cf, key.as_bytes())?;
        (
            "deleted manifest",
            format!("deleted the manifest of blake3:{key}"),
            key,
        )
    };
    drop(db);
    let must_name = chains
        .dependants(victim)
        .into_iter()
        .filter_map(|k| chains.sha_of.get(&k).cloned())
        .collect();
    Ok(Injection {
        kind: kind.to_owned(),
        description,
        must_name: Some(must_name),
    })
}

/// Reads everything back and decides the verdict.
fn judge(
    damaged: &Evarc,
    truths: &[Truth],
    expected: &HashMap<String, Vec<u8>>,
    clean: &std::collections::BTreeSet<String>,
    cited: &[String],
    injection: &Injection,
    rng: &mut Rng,
) -> Result<Outcome> {
    let mut wrong: Vec<String> = Vec::new();
    let mut failed: Vec<&Truth> = Vec::new();
    let mut records_affected = None;
    let mut unreadable: HashSet<String> = HashSet::new();
    match Archive::open(&damaged.archive, OpenMode::ReadOnly) {
        Err(e) => records_affected = Some(format!("archive does not open: {e}")),
        Ok(archive) => {
            let mut seen = HashSet::new();
            for t in truths {
                if !seen.insert(t.blake3) {
                    if failed.iter().any(|f| f.blake3 == t.blake3) {
                        failed.push(t);
                    }
                    continue;
                }
                // As `evarc get SHA256` does: through the SHA-256 index, then verified.
                let by_sha = evarc_store::Sha256::from_hex(&t.sha256)
                    .map_err(anyhow::Error::from)
                    .and_then(|sha| {
                        Ok(archive
                            .store()
                            .resolve(evarc_store::DigestQuery::Sha256(sha))?)
                    })
                    .and_then(|info| Ok(archive.store().read(info.blake3)?));
                // The bytes themselves, by the BLAKE3 key the capture record holds (what
                // `cite` and `certify` re-hash): a "✓" is only wrong when these fail.
                if archive.store().read(t.blake3).is_err() {
                    unreadable.insert(t.sha256.clone());
                }
                match by_sha {
                    Ok(bytes) if Some(&bytes) == expected.get(&t.sha256) => {}
                    Ok(_) => wrong.push(format!(
                        "in-process read of sha256:{} returned wrong bytes",
                        t.sha256
                    )),
                    Err(_) => failed.push(t),
                }
            }
            match State::of(&archive) {
                Ok(state) if state.canonical() == *clean => {}
                Ok(_) => records_affected = Some("records differ from the clean archive".into()),
                Err(e) => records_affected = Some(format!("records unreadable: {e}")),
            }
        }
    }
    let verify = damaged.run(&["verify", "--all"])?;
    let report = verify.stdout_text();
    // `evarc get` of the failed captures and one random capture: only verified bytes.
    let mut probes: Vec<&Truth> = failed.iter().take(3).copied().collect();
    probes.push(&truths[rng.index(truths.len())]);
    for t in probes {
        let get = damaged.run(&["get", &t.sha256])?;
        let want = &expected[&t.sha256];
        if !want.starts_with(&get.stdout) {
            wrong.push(format!(
                "evarc get {} wrote bytes that differ from the original",
                t.sha256
            ));
        } else if get.code == 0 && get.stdout.len() != want.len() {
            wrong.push(format!(
                "evarc get {} exited 0 after a short read",
                t.sha256
            ));
        } else if get.code == 0 && failed.iter().any(|f| f.sha256 == t.sha256) {
            // Fine only if the CLI genuinely re-read identical bytes.
        }
    }
    // Citations that state the evidence check must not claim "✓" for a damaged capture.
    let failed_shas: HashSet<&str> = unreadable.iter().map(String::as_str).collect();
    // Citations of the documents whose captures failed, and two more at random.
    let mut to_cite: Vec<&String> = cited
        .iter()
        .filter(|id| failed.iter().any(|t| t.document == **id))
        .take(3)
        .collect();
    for _ in 0..2 {
        to_cite.push(&cited[rng.index(cited.len())]);
    }
    for id in to_cite {
        let cite = damaged.run(&["cite", id, "--format", "provenance"])?;
        let text = cite.stdout_text();
        if text.contains("Hash verified") {
            if let Some(sha) = failed_shas.iter().find(|s| text.contains(**s)) {
                wrong.push(format!(
                    "cite {id} printed ✓ Hash verified for damaged sha256:{sha}"
                ));
            }
            if cite.code != 0 {
                wrong.push(format!("cite {id} printed ✓ but exited {}", cite.code));
            }
        }
    }
    let affected = !failed.is_empty() || records_affected.is_some();
    let mut unnamed: Vec<String> = Vec::new();
    if verify.code != 0 && records_affected.is_none() {
        for t in &failed {
            if !report.contains(&t.document) || !report.contains(&t.sha256) {
                unnamed.push(format!("{} sha256:{}", t.document, t.sha256));
            }
        }
    }
    if let (Some(shas), None) = (&injection.must_name, &records_affected) {
        if verify.code != 0 {
            for sha in shas {
                if !report.contains(sha.as_str()) {
                    unnamed.push(format!("dependant sha256:{sha}"));
                }
            }
        }
    }
    let (verdict, note) = if !wrong.is_empty() {
        (Verdict::Missed, Some(wrong.join("; ")))
    } else if affected && verify.code == 0 {
        (
            Verdict::Missed,
            Some(format!(
                "verify --all was clean but {} capture(s) fail to read{}",
                failed.len(),
                records_affected
                    .map(|r| format!(", {r}"))
                    .unwrap_or_default()
            )),
        )
    } else if affected && !unnamed.is_empty() {
        (
            Verdict::Missed,
            Some(format!("verify --all did not name {}", unnamed.join(", "))),
        )
    } else if affected {
        let how = records_affected
            .unwrap_or_else(|| format!("{} capture(s) unreadable, all named", failed.len()));
        let code = if verify.code == 1 {
            String::new()
        } else {
            format!(", verify exit {}", verify.code)
        };
        (Verdict::Detected, Some(format!("{how}{code}")))
    } else if verify.code == 0 {
        (Verdict::Harmless, None)
    } else {
        (
            Verdict::Flagged,
            Some(format!(
                "verify exit {}: {}",
                verify.code,
                verify
                    .stderr
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(160)
                    .collect::<String>()
            )),
        )
    };
    Ok(Outcome { verdict, note })
}
