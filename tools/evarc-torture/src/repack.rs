//! `repack`: SIGKILL `evarc repack` at random moments (issue 14), with readers running beside it.
//!
//! One archive is imported once and kept pristine. Each round copies it, starts `evarc repack` on
//! the copy with a reader loop beside it (`evarc verify --all`, read-only opens, over and over),
//! and kills the repack after a random delay within the time a full repack takes. After the kill:
//! every record is still there (the same canonical state as before the repack), every capture's
//! snapshot verifies, `verify --all` exits 0, and every reader run during the repack exited 0.
//! Then the repack is run again on the killed copy to completion, and the same checks hold.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use evarc_provenance::Archive;
use evarc_store::OpenMode;

use crate::evarc::Evarc;
use crate::rng::Rng;
use crate::state::{self, State};
use crate::workload::{self, Manifest};

/// What to run.
#[derive(Clone, Debug)]
pub struct RepackOptions {
    pub kills: u32,
    pub seed: u64,
    /// An existing TSV manifest (e.g. the corpus' m300.tsv); otherwise one is generated.
    pub manifest: Option<PathBuf>,
    pub documents: usize,
    pub versions: usize,
    pub evarc: PathBuf,
    pub work: PathBuf,
}

/// The figures of a run.
#[derive(Debug, Default)]
pub struct RepackReport {
    pub kills: u32,
    /// Repacks that finished before their kill time (checked all the same).
    pub completed_early: u32,
    pub reader_runs: u32,
    pub verify_all_runs: u32,
    /// Bytes of the pristine archive's directory, and of one repacked to completion.
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub problems: Vec<String>,
}

pub fn run(opts: &RepackOptions, log: &mut dyn FnMut(&str)) -> Result<RepackReport> {
    let mut rng = Rng::new(opts.seed);
    log(&format!(
        "repack: seed {} ({} kills)",
        opts.seed, opts.kills
    ));
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
    let pristine = Evarc::new(opts.evarc.clone(), opts.work.join("pristine"));
    pristine.init()?;
    pristine.ok(&["import", "manifest", &manifest.path.to_string_lossy()])?;
    let expected = State::load(&pristine.archive)?.canonical();
    let mut report = RepackReport {
        bytes_before: dir_bytes(&pristine.archive)?,
        ..RepackReport::default()
    };
    // The time of a full repack bounds the kill delays.
    let full = {
        let copy = copy_of(&pristine, &opts.work.join("full"))?;
        let started = Instant::now();
        copy.ok(&["repack"])?;
        let took = started.elapsed();
        report.bytes_after = dir_bytes(&copy.archive)?;
        check(&copy, &expected, "after a full repack", &mut report)?;
        took
    };
    log(&format!(
        "repack: {} rows, archive {} bytes, repacked to {} bytes in {full:.2?}",
        manifest.rows.len(),
        report.bytes_before,
        report.bytes_after
    ));
    for round in 0..opts.kills {
        let copy = copy_of(&pristine, &opts.work.join(format!("round-{round}")))?;
        let delay = Duration::from_micros(rng.below(full.as_micros() as u64 + 1));
        let readers = Readers::start(&copy);
        let mut child = copy
            .command(&["repack"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning evarc repack")?;
        let deadline = Instant::now() + delay;
        let killed = loop {
            if let Some(status) = child.try_wait()? {
                if !status.success() {
                    report
                        .problems
                        .push(format!("round {round}: repack exited {status}"));
                }
                break false;
            }
            if Instant::now() >= deadline {
                child.kill().context("SIGKILL")?;
                child.wait()?;
                break true;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let (runs, failures) = readers.stop();
        report.reader_runs += runs;
        for f in failures {
            report
                .problems
                .push(format!("round {round}: a reader beside repack: {f}"));
        }
        if killed {
            report.kills += 1;
        } else {
            report.completed_early += 1;
        }
        check(
            &copy,
            &expected,
            &format!("round {round}, killed after {delay:.2?}"),
            &mut report,
        )?;
        // The interrupted repack resumes to completion.
        copy.ok(&["repack"])?;
        check(
            &copy,
            &expected,
            &format!("round {round}, repack rerun"),
            &mut report,
        )?;
        std::fs::remove_dir_all(&copy.archive).ok();
        if !report.problems.is_empty() {
            break;
        }
    }
    log(&format!(
        "repack: {} kills ({} repacks finished first), {} reader runs beside them, {} verify --all runs, {} problems",
        report.kills,
        report.completed_early,
        report.reader_runs,
        report.verify_all_runs,
        report.problems.len()
    ));
    Ok(report)
}

/// Records unchanged, every snapshot verifying in process, and `verify --all` exiting 0.
fn check(
    evarc: &Evarc,
    expected: &std::collections::BTreeSet<String>,
    when: &str,
    report: &mut RepackReport,
) -> Result<()> {
    {
        let archive = Archive::open(&evarc.archive, OpenMode::ReadOnly)?;
        let state = State::of(&archive)?;
        for p in state.problems(&archive)? {
            report.problems.push(format!("{when}: {p}"));
        }
        for d in state::diff(expected, &state.canonical(), 10) {
            report.problems.push(format!("{when}: {d}"));
        }
    }
    let verify = evarc.run(&["verify", "--all"])?;
    report.verify_all_runs += 1;
    if verify.code != 0 {
        report.problems.push(format!(
            "{when}: verify --all exited {}: {}{}",
            verify.code,
            verify.stdout_text(),
            verify.stderr
        ));
    }
    Ok(())
}

/// A copy of the pristine archive's directory at `to`.
fn copy_of(pristine: &Evarc, to: &Path) -> Result<Evarc> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(&pristine.archive)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(Evarc::new(pristine.bin.clone(), to.to_owned()))
}

fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// `evarc verify --all` run over and over beside the repack until stopped.
struct Readers {
    stop: Arc<AtomicBool>,
    results: Arc<Mutex<(u32, Vec<String>)>>,
    thread: std::thread::JoinHandle<()>,
}

impl Readers {
    fn start(evarc: &Evarc) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let results = Arc::new(Mutex::new((0u32, Vec::new())));
        let thread = {
            let (stop, results, evarc) = (Arc::clone(&stop), Arc::clone(&results), evarc.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let outcome = evarc.run(&["verify", "--all"]);
                    let mut r = results.lock().unwrap_or_else(|e| e.into_inner());
                    r.0 += 1;
                    match outcome {
                        Ok(run) if run.code == 0 => {}
                        Ok(run) => r.1.push(format!(
                            "verify --all exited {}: {}{}",
                            run.code,
                            run.stdout_text(),
                            run.stderr
                        )),
                        Err(e) => r.1.push(format!("verify --all did not run: {e:#}")),
                    }
                }
            })
        };
        Self {
            stop,
            results,
            thread,
        }
    }

    fn stop(self) -> (u32, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        let r = self.results.lock().unwrap_or_else(|e| e.into_inner());
        (r.0, r.1.clone())
    }
}
