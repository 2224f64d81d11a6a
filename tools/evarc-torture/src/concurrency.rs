//! `concurrency`: many threads archiving and registering provisions on one `Archive`, a second
//! writer process refused, and reader processes opening the archive read-only meanwhile.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use evarc_provenance::{Archive, CaptureRequest, DocumentRef, ProvisionRequest};

use crate::evarc::Evarc;
use crate::state::State;
use crate::workload;

#[derive(Clone, Debug)]
pub struct ConcurrencyOptions {
    pub threads: usize,
    pub captures: usize,
    pub evarc: PathBuf,
    pub work: PathBuf,
}

#[derive(Debug, Default)]
pub struct ConcurrencyReport {
    pub captures: u64,
    pub documents: u64,
    pub provisions_new: u64,
    pub provisions_repeated: u64,
    pub reader_runs: u64,
    pub second_writer_refused: bool,
    pub problems: Vec<String>,
}

const SHARED_DOCS: usize = 3;

fn page(title: &str, thread: usize, i: usize) -> Vec<u8> {
    let mut html = format!("<html><head><title>{title}</title></head><body>");
    for k in 0..workload::STABLE_CLAUSES {
        html.push_str(&format!("<p>{}</p>", workload::stable_clause(title, k)));
    }
    html.push_str(&format!(
        "<p>Version written by thread {thread}, capture {i}.</p></body></html>"
    ));
    html.into_bytes()
}

fn request(title: &str, url: &str, at: DateTime<Utc>) -> CaptureRequest {
    let document = DocumentRef::Named {
        entity: "Concurrent Entity".into(),
        title: title.into(),
        source_url: Some(url.into()),
        id: None,
    };
    CaptureRequest::file_import(document, at)
}

pub fn run(opts: &ConcurrencyOptions, log: &mut dyn FnMut(&str)) -> Result<ConcurrencyReport> {
    let path = opts.work.join("archive");
    let archive = Archive::init(&path, None, None)?;
    let evarc = Evarc::new(opts.evarc.clone(), path.clone());
    let mut report = ConcurrencyReport::default();

    // A second writer is refused with the "in use" error (exit 2) while this process writes.
    let other = opts.work.join("other.txt");
    std::fs::write(&other, b"a second writer's bytes")?;
    let second = evarc.run(&["--wait", "0", "archive", &other.to_string_lossy()])?;
    report.second_writer_refused = second.code == 2 && second.stderr.contains("in use");
    if !report.second_writer_refused {
        report.problems.push(format!(
            "a second writer got exit {}: {}",
            second.code,
            second.stderr.trim()
        ));
    }

    let start = Utc
        .with_ymd_and_hms(2026, 5, 1, 0, 0, 0)
        .single()
        .context("a valid date")?;
    let created: Mutex<Vec<(String, DateTime<Utc>, String)>> = Mutex::new(Vec::new());
    let provisions: Mutex<Vec<(String, bool, String)>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let writing = AtomicBool::new(true);
    let reader_runs = AtomicU64::new(0);
    let shared_id: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        // Readers: `show`, `verify HASH` and `cite` processes while the writers run.
        scope.spawn(|| {
            while writing.load(Ordering::Relaxed) {
                let Some(doc) = shared_id.lock().expect("lock").clone() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                if let Err(e) = read_consistently(&evarc, &doc) {
                    errors.lock().expect("lock").push(format!("reader: {e:#}"));
                }
                reader_runs.fetch_add(1, Ordering::Relaxed);
            }
        });
        let writers: Vec<_> = (0..opts.threads)
            .map(|t| {
                let (archive, created, provisions, errors, shared_id) =
                    (&archive, &created, &provisions, &errors, &shared_id);
                scope.spawn(move || {
                    for i in 0..opts.captures {
                        // All threads race to register the same new document first.
                        let (title, url) = if i == 0 {
                            (
                                "Race document".to_owned(),
                                "https://example.org/race".to_owned(),
                            )
                        } else if i % 2 == 0 {
                            let d = (t + i) % SHARED_DOCS;
                            (
                                format!("Shared {d}"),
                                format!("https://example.org/shared/{d}"),
                            )
                        } else {
                            (format!("Own {t}"), format!("https://example.org/own/{t}"))
                        };
                        let seq = (t * opts.captures + i) as i64;
                        let at = start + Duration::seconds(seq);
                        let bytes = page(&title, t, i);
                        match archive.capture(&bytes[..], request(&title, &url, at), Utc::now()) {
                            Ok(outcome) => {
                                let id = outcome.document.id.to_string();
                                if title == "Shared 0" {
                                    shared_id.lock().expect("lock").get_or_insert(id.clone());
                                }
                                created.lock().expect("lock").push((
                                    id.clone(),
                                    at,
                                    outcome.capture.sha256.to_hex(),
                                ));
                                if i % 5 == 3 {
                                    // Threads pin the same clauses: one provision per key.
                                    let k = i % workload::STABLE_CLAUSES;
                                    let req = ProvisionRequest {
                                        document: outcome.document.id.clone(),
                                        title: format!("Clause {k}"),
                                        quote: workload::stable_clause(&title, k),
                                        capture: Some(outcome.capture.sha256),
                                        id: None,
                                        severity: None,
                                        categories: Vec::new(),
                                        private: false,
                                    };
                                    let race = ProvisionRequest {
                                        document: race_doc(archive),
                                        title: "Race clause".into(),
                                        quote: workload::stable_clause("Race document", 0),
                                        capture: None,
                                        ..req.clone()
                                    };
                                    for req in [req, race] {
                                        match archive.add_provision(req, Utc::now()) {
                                            Ok((p, new)) => {
                                                provisions.lock().expect("lock").push((
                                                    p.id.to_string(),
                                                    new,
                                                    format!(
                                                        "{}|{}|{}",
                                                        p.document, p.capture.sha256, p.quote
                                                    ),
                                                ))
                                            }
                                            Err(e) => errors
                                                .lock()
                                                .expect("lock")
                                                .push(format!("provision: {e}")),
                                        }
                                    }
                                }
                            }
                            Err(e) => errors.lock().expect("lock").push(format!("capture: {e}")),
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer thread does not panic");
        }
        writing.store(false, Ordering::Relaxed);
    });
    report.problems.extend(errors.into_inner().expect("lock"));
    report.reader_runs = reader_runs.load(Ordering::Relaxed);

    let state = State::of(&archive)?;
    report.problems.extend(state.problems(&archive)?);
    let created = created.into_inner().expect("lock");
    report.captures = state.captures.len() as u64;
    report.documents = state.documents.len() as u64;
    if created.len() != opts.threads * opts.captures || state.captures.len() != created.len() {
        report.problems.push(format!(
            "{} captures archived, {} acknowledged, {} recorded (lost update?)",
            opts.threads * opts.captures,
            created.len(),
            state.captures.len()
        ));
    }
    for (doc, at, sha) in &created {
        if !state.captures.iter().any(|c| {
            c.document.to_string() == *doc && c.captured_at == *at && c.sha256.to_hex() == *sha
        }) {
            report.problems.push(format!("capture {doc} {at} lost"));
        }
    }
    // The race document, the shared ones and one per thread.
    let expected_docs = 1 + SHARED_DOCS + opts.threads;
    if opts.captures >= 8 && state.documents.len() != expected_docs {
        report.problems.push(format!(
            "{} documents, expected {expected_docs}",
            state.documents.len()
        ));
    }
    contiguous(
        "document",
        state.documents.iter().map(|d| d.id.seq()),
        state.seq_doc,
        &mut report,
    );
    contiguous(
        "provision",
        state.provisions.iter().map(|p| p.id.seq()),
        state.seq_prov,
        &mut report,
    );
    let provisions = provisions.into_inner().expect("lock");
    let mut by_key: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (id, new, key) in &provisions {
        by_key.entry(key).or_default().insert(id);
        if *new {
            report.provisions_new += 1;
        } else {
            report.provisions_repeated += 1;
        }
    }
    for (key, ids) in by_key {
        if ids.len() != 1 {
            report
                .problems
                .push(format!("{key} got {} provision IDs: {ids:?}", ids.len()));
        }
    }
    if report.provisions_new != state.provisions.len() as u64 {
        report.problems.push(format!(
            "{} provisions reported new, {} recorded",
            report.provisions_new,
            state.provisions.len()
        ));
    }
    drop(archive);
    let verify = evarc.run(&["verify", "--all"])?;
    if verify.code != 0 {
        report.problems.push(format!(
            "verify --all exited {}: {}",
            verify.code,
            verify.stdout_text()
        ));
    }
    log(&format!(
        "concurrency: {} threads × {} captures: {} captures, {} documents, {} provisions (+{} repeats returned the same ID), {} reader runs, second writer refused: {}, {} problems",
        opts.threads,
        opts.captures,
        report.captures,
        report.documents,
        report.provisions_new,
        report.provisions_repeated,
        report.reader_runs,
        report.second_writer_refused,
        report.problems.len()
    ));
    Ok(report)
}

fn race_doc(archive: &Archive) -> evarc_provenance::id::DocumentId {
    archive
        .documents()
        .expect("documents list")
        .into_iter()
        .find(|d| d.title == "Race document")
        .expect("the race document is registered first")
        .id
}

/// IDs 1..=n each once, and the counter at n.
fn contiguous(
    what: &str,
    ids: impl Iterator<Item = u64>,
    counter: u64,
    report: &mut ConcurrencyReport,
) {
    let mut ids: Vec<u64> = ids.collect();
    ids.sort_unstable();
    let n = ids.len() as u64;
    if ids != (1..=n).collect::<Vec<_>>() || counter != n {
        report.problems.push(format!(
            "{what} IDs {ids:?} with counter {counter}: not 1..={n}"
        ));
    }
}

/// A reader process sees a consistent archive: `show` lists captures that each verify, and the
/// citation's evidence check passes.
fn read_consistently(evarc: &Evarc, doc: &str) -> Result<()> {
    let show = evarc.run(&["--json", "show", doc])?;
    anyhow::ensure!(
        show.code == 0,
        "show {doc} exited {}: {}",
        show.code,
        show.stderr.trim()
    );
    let value: serde_json::Value = serde_json::from_slice(&show.stdout).context("show --json")?;
    let captures = value["captures"].as_array().context("captures listed")?;
    anyhow::ensure!(!captures.is_empty(), "show {doc} lists no capture");
    let sha = captures[captures.len() - 1]["sha256"]
        .as_str()
        .context("a sha256")?;
    let verify = evarc.run(&["verify", sha])?;
    anyhow::ensure!(
        verify.code == 0,
        "verify {sha} exited {}: {}",
        verify.code,
        verify.stderr.trim()
    );
    let cite = evarc.run(&["cite", doc, "--format", "provenance"])?;
    anyhow::ensure!(
        cite.code == 0 && cite.stdout_text().contains("Hash verified"),
        "cite {doc} exited {}: {}",
        cite.code,
        cite.stderr.trim()
    );
    Ok(())
}
