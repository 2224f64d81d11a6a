//! `crash`: SIGKILL `evarc import manifest` and `evarc provision add` at random moments, and check
//! after every kill that everything reported durable is there and verifies, that no partial
//! capture and no reused ID exists, and that `verify --all` is clean. An import that completes
//! ends an epoch: its final state must equal that of an uninterrupted run.

use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use evarc_provenance::Archive;
use evarc_store::OpenMode;

use crate::evarc::Evarc;
use crate::rng::Rng;
use crate::state::{self, State};
use crate::workload::{self, Manifest};

/// What to run.
#[derive(Clone, Debug)]
pub struct CrashOptions {
    pub kills: u32,
    pub seed: u64,
    /// An existing TSV manifest (e.g. the corpus'); otherwise one is generated.
    pub manifest: Option<PathBuf>,
    pub documents: usize,
    pub versions: usize,
    /// One kill in this many targets `provision add` instead of the import (0: never).
    pub provision_every: u32,
    pub evarc: PathBuf,
    pub work: PathBuf,
}

/// The figures of a run.
#[derive(Debug, Default)]
pub struct CrashReport {
    pub kills: u32,
    pub import_kills: u32,
    pub provision_kills: u32,
    pub epochs: u32,
    pub captures_acknowledged: u64,
    pub provisions_acknowledged: u64,
    pub verify_all_runs: u32,
    pub problems: Vec<String>,
}

/// One kill round of an import: what was printed before the kill, and whether it was killed.
struct ImportRound {
    lines: Vec<serde_json::Value>,
    killed: bool,
    code: Option<i32>,
}

pub fn run(opts: &CrashOptions, log: &mut dyn FnMut(&str)) -> Result<CrashReport> {
    let mut rng = Rng::new(opts.seed);
    log(&format!("crash: seed {} ({} kills)", opts.seed, opts.kills));
    let manifest = match &opts.manifest {
        Some(path) => Manifest::read(path)?,
        None => workload::generate(
            &opts.work.join("workload"),
            opts.documents,
            opts.versions,
            false,
            &mut rng,
        )?,
    };
    // The reference: one uninterrupted import.
    let clean = Evarc::new(opts.evarc.clone(), opts.work.join("clean"));
    clean.init()?;
    let started = Instant::now();
    let manifest_arg = manifest.path.to_string_lossy().into_owned();
    clean.ok(&["import", "manifest", &manifest_arg])?;
    let full = started.elapsed();
    let expected = State::load(&clean.archive)?.canonical();
    log(&format!(
        "crash: clean import of {} rows took {:.2?}",
        manifest.rows.len(),
        full
    ));

    let mut report = CrashReport::default();
    let mut epoch = Epoch::start(opts, 0)?;
    let mut attempts = 0u32;
    while report.kills < opts.kills {
        attempts += 1;
        if attempts > opts.kills * 20 + 20 {
            bail!(
                "could not deliver {} kills in {attempts} attempts",
                opts.kills
            );
        }
        let provision_round = opts.provision_every > 0
            && rng.below(u64::from(opts.provision_every)) == 0
            && !epoch.documents.is_empty();
        if provision_round {
            if epoch.provision_round(&mut rng, &mut report)? {
                report.kills += 1;
                report.provision_kills += 1;
            }
        } else {
            let delay = Duration::from_micros(rng.below(full.as_micros() as u64 + 1));
            let round = epoch.import_round(&manifest_arg, delay)?;
            if round.killed {
                report.kills += 1;
                report.import_kills += 1;
            } else if round.code != Some(0) {
                report.problems.push(format!(
                    "epoch {}: import exited {:?} without being killed",
                    epoch.number, round.code
                ));
            }
            epoch.check_import_lines(&manifest, &round.lines, &mut report)?;
            if !round.killed {
                epoch.finish(&expected, &mut report)?;
                report.epochs += 1;
                epoch = Epoch::start(opts, epoch.number + 1)?;
                continue;
            }
        }
        epoch.check_after_kill(&mut report)?;
        if !report.problems.is_empty() {
            break;
        }
    }
    // Finish the last epoch: the rerun completes and equals the clean run.
    if report.problems.is_empty() {
        let round = epoch.import_round(&manifest_arg, Duration::from_secs(3600))?;
        if round.code != Some(0) {
            report
                .problems
                .push(format!("final import exited {:?}", round.code));
        }
        epoch.check_import_lines(&manifest, &round.lines, &mut report)?;
        epoch.finish(&expected, &mut report)?;
        report.epochs += 1;
    }
    log(&format!(
        "crash: {} kills survived ({} during import, {} during provision add), {} epochs, {} capture lines and {} provision IDs checked, {} verify --all runs, {} problems",
        report.kills,
        report.import_kills,
        report.provision_kills,
        report.epochs,
        report.captures_acknowledged,
        report.provisions_acknowledged,
        report.verify_all_runs,
        report.problems.len()
    ));
    Ok(report)
}

/// One archive, killed repeatedly until an import completes on it.
struct Epoch {
    number: u32,
    evarc: Evarc,
    /// Document key → ID, as first observed: an ID never changes or moves.
    ids: HashMap<(String, String, String), String>,
    documents: Vec<(String, String)>,
    /// Provision IDs printed, with the title they were printed for.
    provisions: Vec<(String, String)>,
    stderr: PathBuf,
}

impl Epoch {
    fn start(opts: &CrashOptions, number: u32) -> Result<Self> {
        let evarc = Evarc::new(
            opts.evarc.clone(),
            opts.work.join(format!("epoch-{number}")),
        );
        evarc.init()?;
        Ok(Self {
            number,
            evarc,
            ids: HashMap::new(),
            documents: Vec::new(),
            provisions: Vec::new(),
            stderr: opts.work.join(format!("epoch-{number}.stderr")),
        })
    }

    /// Runs an import, killing it after `delay` if it is still running.
    fn import_round(&self, manifest: &str, delay: Duration) -> Result<ImportRound> {
        let stderr = std::fs::File::create(&self.stderr)?;
        let mut child = self
            .evarc
            .command(&["--json", "import", "manifest", manifest])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("spawning evarc import")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                let mut input = std::io::BufReader::new(stdout);
                let mut buf = Vec::new();
                // Only whole lines count: a line cut by the kill was not reported.
                while input.read_until(b'\n', &mut buf).unwrap_or(0) > 0 {
                    if buf.ends_with(b"\n") {
                        lines
                            .lock()
                            .expect("line list lock")
                            .push(String::from_utf8_lossy(&buf).into_owned());
                    }
                    buf.clear();
                }
            })
        };
        let deadline = Instant::now() + delay;
        let mut killed = false;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() >= deadline {
                child.kill().context("SIGKILL")?;
                killed = true;
                break child.wait()?;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        reader.join().expect("stdout reader does not panic");
        let lines = std::mem::take(&mut *lines.lock().expect("line list lock"));
        let lines = lines
            .iter()
            .map(|l| serde_json::from_str(l).with_context(|| format!("import printed {l:?}")))
            .collect::<Result<Vec<serde_json::Value>>>()?;
        Ok(ImportRound {
            lines,
            killed,
            code: status.code(),
        })
    }

    /// Every line printed names a capture that is in the archive now, under a stable ID.
    fn check_import_lines(
        &mut self,
        manifest: &Manifest,
        lines: &[serde_json::Value],
        report: &mut CrashReport,
    ) -> Result<()> {
        let state = State::load(&self.evarc.archive)?;
        for line in lines {
            let status = line["status"].as_str().unwrap_or("");
            // The summary, and the version pass's report (its records are checked with the
            // archive's state).
            if status == "summary" || status == "versions" {
                continue;
            }
            if status != "archived" && status != "skipped" {
                report.problems.push(format!("import reported {line}"));
                continue;
            }
            report.captures_acknowledged += 1;
            let row_no = line["line"].as_u64().unwrap_or(0) as usize;
            let Some(row) = row_no.checked_sub(2).and_then(|i| manifest.rows.get(i)) else {
                report
                    .problems
                    .push(format!("line {line} names no manifest row"));
                continue;
            };
            let doc = line["document"].as_str().unwrap_or("").to_owned();
            let sha = line["sha256"].as_str().unwrap_or("");
            let at: chrono::DateTime<chrono::Utc> =
                serde_json::from_value(line["captured_at"].clone())
                    .context("captured_at of an import line")?;
            let key = (
                row.entity.clone(),
                row.document.clone(),
                row.source_url.clone(),
            );
            match self.ids.get(&key) {
                Some(id) if *id != doc => report
                    .problems
                    .push(format!("{key:?} was {id} and is now reported as {doc}")),
                Some(_) => {}
                None => {
                    if self.ids.values().any(|v| *v == doc) {
                        report
                            .problems
                            .push(format!("{doc} reused for a second document"));
                    }
                    self.ids.insert(key.clone(), doc.clone());
                    self.documents.push((doc.clone(), row.document.clone()));
                }
            }
            let present = state.captures.iter().any(|c| {
                c.document.to_string() == doc
                    && c.sha256.to_hex() == sha
                    && c.captured_at <= at
                    && at <= c.last_verified
            });
            let doc_ok = state.documents.iter().any(|d| {
                d.id.to_string() == doc
                    && (d.entity.as_str(), d.title.as_str(), d.source_url.as_str())
                        == (key.0.as_str(), key.1.as_str(), key.2.as_str())
            });
            if !present || !doc_ok {
                report.problems.push(format!(
                    "epoch {}: acknowledged capture lost: {doc} {at} sha256:{sha} (document present: {doc_ok})",
                    self.number
                ));
            }
        }
        Ok(())
    }

    /// A few `provision add`s, one of them killed at a random moment. True when a kill landed.
    fn provision_round(&mut self, rng: &mut Rng, report: &mut CrashReport) -> Result<bool> {
        let adds = 1 + rng.below(4) as usize;
        let victim = rng.index(adds);
        let mut killed_any = false;
        for i in 0..adds {
            let (doc, title) = self.documents[rng.index(self.documents.len())].clone();
            let k = rng.index(workload::STABLE_CLAUSES);
            let quote = workload::stable_clause(&title, k);
            let ptitle = format!("Provision {k} of {doc}, round {}", rng.below(1 << 30));
            let mut child = self
                .evarc
                .command(&[
                    "--json",
                    "provision",
                    "add",
                    &doc,
                    "--title",
                    &ptitle,
                    "--quote",
                    &quote,
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .context("spawning evarc provision add")?;
            let delay = if i == victim {
                Duration::from_micros(rng.below(150_000))
            } else {
                Duration::from_secs(3600)
            };
            let deadline = Instant::now() + delay;
            let (status, killed) = loop {
                if let Some(status) = child.try_wait()? {
                    break (status, false);
                }
                if Instant::now() >= deadline {
                    child.kill()?;
                    break (child.wait()?, true);
                }
                std::thread::sleep(Duration::from_micros(200));
            };
            killed_any |= killed;
            let mut out = String::new();
            std::io::Read::read_to_string(
                &mut child.stdout.take().expect("stdout is piped"),
                &mut out,
            )?;
            let printed: Option<serde_json::Value> = out
                .ends_with('\n')
                .then(|| serde_json::from_str(&out).ok())
                .flatten();
            let Some(printed) = printed else {
                if !killed && status.success() {
                    report
                        .problems
                        .push(format!("provision add printed {out:?}"));
                }
                continue;
            };
            report.provisions_acknowledged += 1;
            let id = printed["provision"]["id"].as_str().unwrap_or("").to_owned();
            // A new provision must be numbered above every one printed before; an existing one
            // (same document, capture and quote) comes back under its first ID and title.
            if printed["new"].as_bool() == Some(true) {
                if self.provisions.iter().any(|(p, _)| *p == id) {
                    report.problems.push(format!("provision {id} issued twice"));
                }
                if let Some((last, _)) = self.provisions.last() {
                    if id_seq(&id) <= id_seq(last) {
                        report.problems.push(format!(
                            "provision {id} printed after {last}: IDs must increase"
                        ));
                    }
                }
                self.provisions.push((id, ptitle));
            }
        }
        Ok(killed_any)
    }

    /// After a kill: invariants, printed provisions present, `verify --all` clean.
    fn check_after_kill(&mut self, report: &mut CrashReport) -> Result<()> {
        {
            let archive = Archive::open(&self.evarc.archive, OpenMode::ReadOnly)?;
            let state = State::of(&archive)?;
            for p in state.problems(&archive)? {
                report.problems.push(format!("epoch {}: {p}", self.number));
            }
            for (id, title) in &self.provisions {
                match state.provisions.iter().find(|p| p.id.to_string() == *id) {
                    Some(p) if p.title == *title => {}
                    Some(p) => report.problems.push(format!(
                        "provision {id} was printed for {title:?} but records {:?}",
                        p.title
                    )),
                    None => report
                        .problems
                        .push(format!("acknowledged provision {id} lost")),
                }
            }
        }
        let verify = self.evarc.run(&["verify", "--all"])?;
        report.verify_all_runs += 1;
        if verify.code != 0 {
            report.problems.push(format!(
                "epoch {}: verify --all exited {} after a kill: {}{}",
                self.number,
                verify.code,
                verify.stdout_text(),
                verify.stderr
            ));
        }
        Ok(())
    }

    /// The completed import must hold exactly what the clean run holds.
    fn finish(
        &mut self,
        expected: &std::collections::BTreeSet<String>,
        report: &mut CrashReport,
    ) -> Result<()> {
        self.check_after_kill(report)?;
        let actual = State::load(&self.evarc.archive)?.canonical();
        for d in state::diff(expected, &actual, 10) {
            report.problems.push(format!(
                "epoch {} differs from a clean run: {d}",
                self.number
            ));
        }
        Ok(())
    }
}

fn id_seq(id: &str) -> u64 {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A scratch directory for a run: `dir` when given, else a temporary one (kept with `keep`).
pub fn work_dir(dir: Option<&Path>, name: &str) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            Ok((dir.to_owned(), None))
        }
        None => {
            let tmp = tempfile::Builder::new()
                .prefix(&format!("evarc-torture-{name}-"))
                .tempdir()?;
            Ok((tmp.path().to_owned(), Some(tmp)))
        }
    }
}
