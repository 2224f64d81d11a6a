//! `evarc import manifest FILE`: the bulk path for captures made by other tools.
//!
//! One line is printed per capture as soon as it is durable (`--json`: one object per line,
//! flushed), so a caller knows exactly what was archived if the run is interrupted. Captures are
//! synced in groups (at most 64, or every 50 ms), and lines come in the order captures became
//! durable: documents are imported in parallel, each document's rows in manifest order. A rerun
//! skips captures already recorded without reading their files.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use evarc_provenance::id::DocumentId;
use evarc_provenance::{Archive, CaptureRequest, DocumentRef, RegistrationTurns};
use evarc_provenance::{Durability, OpenMode, Sha256};
use serde::Deserialize;
use serde_json::json;

use super::{now, text_time};
use crate::cli::{GlobalArgs, ImportManifestArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

use crate::progress;

/// One manifest row, with the columns of ../shared/corpus's manifest.tsv.
#[derive(Debug, Deserialize)]
pub(super) struct Row {
    pub(super) captured_at: String,
    pub(super) entity: String,
    pub(super) document: String,
    pub(super) source_url: String,
    pub(super) path: String,
    #[serde(default)]
    pub(super) sha256: Option<String>,
    #[serde(default)]
    pub(super) bytes: Option<String>,
}

/// Where the bytes of the rows come from: files beside a manifest, or another collection
/// (`import ota`). Everything else of an import (order, parallel documents, grouped syncs,
/// reporting, summary, exit code) is [`import_rows`], the same for every source.
pub(super) trait RowSource: Sync {
    /// What a row number counts in messages: `line` (of a manifest) or `capture`.
    fn unit(&self) -> &'static str;
    /// Archives one row (or finds it already archived).
    fn import(&self, archive: &Archive, row: &Row) -> Result<Fate>;
    /// The command that resumes an interrupted import (it skips what is already recorded).
    fn resume_command(&self) -> String;
}

/// The files of a manifest, relative to its folder.
struct ManifestFiles {
    manifest: PathBuf,
    base: PathBuf,
}

impl RowSource for ManifestFiles {
    fn unit(&self) -> &'static str {
        "line"
    }

    fn import(&self, archive: &Archive, row: &Row) -> Result<Fate> {
        import_row(archive, &self.base, row)
    }

    fn resume_command(&self) -> String {
        format!("evarc import manifest {}", self.manifest.display())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Tsv,
    Csv,
    JsonLines,
}

fn layout_of(path: &Path) -> Result<Layout> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".tsv") || name.ends_with(".tab") {
        return Ok(Layout::Tsv);
    }
    if name.ends_with(".csv") {
        return Ok(Layout::Csv);
    }
    if name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        return Ok(Layout::JsonLines);
    }
    let head = std::fs::read(path)
        .map(|b| b.into_iter().take(4096).collect::<Vec<u8>>())
        .with_context(|| format!("cannot read manifest {}", path.display()))?;
    let first = String::from_utf8_lossy(&head);
    let first = first.lines().next().unwrap_or("").trim_start();
    Ok(if first.starts_with('{') {
        Layout::JsonLines
    } else if first.contains('\t') {
        Layout::Tsv
    } else {
        Layout::Csv
    })
}

/// Reads every row, numbered from 1 (the header is line 1 in TSV/CSV).
fn read_rows(path: &Path) -> Result<Vec<(usize, Result<Row>)>> {
    let layout = layout_of(path)?;
    let file =
        File::open(path).with_context(|| format!("cannot open manifest {}", path.display()))?;
    if layout == Layout::JsonLines {
        let text = std::io::read_to_string(file)
            .with_context(|| format!("cannot read manifest {} as UTF-8", path.display()))?;
        return Ok(text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                let row = serde_json::from_str::<Row>(line).context("not a manifest row");
                (i + 1, row)
            })
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if layout == Layout::Tsv { b'\t' } else { b',' })
        .quoting(layout == Layout::Csv)
        .flexible(false)
        .from_reader(file);
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read the header line of {}", path.display()))?
        .clone();
    for required in ["captured_at", "entity", "document", "source_url", "path"] {
        if !headers.iter().any(|h| h == required) {
            bail!(
                "manifest {} has no {required:?} column (columns: {})",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    Ok(reader
        .deserialize::<Row>()
        .enumerate()
        .map(|(i, row)| (i + 2, row.context("not a manifest row")))
        .collect())
}

/// What happened to one row.
pub(super) enum Fate {
    Archived {
        document: String,
        new_document: bool,
        capture_new: bool,
        sha256: String,
        at: DateTime<Utc>,
        snapshot_new: bool,
    },
    Skipped {
        document: String,
        sha256: String,
        at: DateTime<Utc>,
    },
    Mismatch(String),
    Failed(String),
}

/// Captures reported durable in one group: one write-ahead-log sync covers them all.
const SYNC_GROUP: usize = 64;
/// Longest a durable capture waits to be reported.
const SYNC_INTERVAL: Duration = Duration::from_millis(50);

pub fn manifest(
    global: &GlobalArgs,
    args: ImportManifestArgs,
    out: &mut Output,
) -> Result<Outcome> {
    let remote = crate::remote::Remote::from_args(&args.remote)?;
    let rows = read_rows(&args.manifest)?;
    // A bare file name ("m.tsv") has an empty parent: its folder is the working directory.
    let base = args
        .manifest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if let Some(remote) = remote {
        if args.force {
            bail!("--force is not sent to a server: the server checks capture times with its own clock");
        }
        return super::import_remote::manifest(&remote, rows, &base, out);
    }
    let archive = open(global, OpenMode::ReadWrite)?;
    if args.force {
        archive.allow_any_capture_time();
    }
    let source = ManifestFiles {
        manifest: args.manifest.clone(),
        base,
    };
    import_rows(&archive, rows, &source, out)
}

/// Imports numbered rows whose bytes come from `source`: one line per capture as it becomes
/// durable, then the summary; returns the exit code.
pub(super) fn import_rows(
    archive: &Archive,
    rows: Vec<(usize, Result<Row>)>,
    source: &dyn RowSource,
    out: &mut Output,
) -> Result<Outcome> {
    let bar = progress::items(rows.len() as u64, "importing");
    let mut tally = Tally {
        unit: source.unit(),
        ..Tally::default()
    };
    // Ctrl-C stops taking rows: what is in flight is finished, synced and reported, then the
    // import says how far it got. Registered for this command only.
    let interrupted = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))
        .context("cannot install the Ctrl-C handler")?;
    let lines: Vec<usize> = rows.iter().map(|(line, _)| *line).collect();
    // Rows of one document keep their order (a capture folds into the one before it); documents
    // are imported in parallel.
    let mut lanes: Vec<Vec<(usize, Row)>> = Vec::new();
    let mut lane_of: HashMap<(String, String, String), usize> = HashMap::new();
    for (line, row) in rows {
        match row {
            Ok(row) => {
                let key = (
                    row.entity.clone(),
                    row.document.clone(),
                    row.source_url.clone(),
                );
                let lane = *lane_of.entry(key).or_insert_with(|| {
                    lanes.push(Vec::new());
                    lanes.len() - 1
                });
                lanes[lane].push((line, row));
            }
            Err(e) => {
                bar.inc(1);
                let fate = Fate::Failed(crate::error_line::render(&e));
                bar.suspend(|| tally.report(out, line, fate))?;
            }
        }
    }
    // Lanes are taken in manifest order (of their first rows), and each lane's new document is
    // registered in that order: the same manifest gives the same document IDs whatever the
    // parallelism (the first row's document is the first registered).
    let turns = RegistrationTurns::new();
    let queue = Mutex::new(lanes.into_iter().enumerate().collect::<VecDeque<_>>());
    let workers = archive.import_workers();
    let (tx, rx) = mpsc::channel::<(usize, Fate)>();
    // Documents with captures in this import (or recorded by an earlier, interrupted one).
    let mut touched: HashSet<String> = HashSet::new();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let (queue, turns) = (&queue, &turns);
            let interrupted = &interrupted;
            scope.spawn(move || loop {
                let lane = queue
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop_front();
                let Some((turn, lane)) = lane else { break };
                let mut registered = false;
                let mut receiver_gone = false;
                for (line, row) in lane {
                    if interrupted.load(Ordering::SeqCst) {
                        break;
                    }
                    if !registered {
                        turns.wait(turn);
                    }
                    let fate = source
                        .import(archive, &row)
                        .unwrap_or_else(|e| failed_row(&e));
                    if !registered && matches!(fate, Fate::Archived { .. } | Fate::Skipped { .. }) {
                        // The document exists now: later lanes may register theirs.
                        turns.pass(turn);
                        registered = true;
                    }
                    if tx.send((line, fate)).is_err() {
                        receiver_gone = true;
                        break;
                    }
                }
                // A lane whose every row failed registered nothing: its turn is over too.
                turns.pass(turn);
                if receiver_gone {
                    return;
                }
            });
        }
        drop(tx);
        // Captures are reported only once a sync has made them durable.
        let mut pending: Vec<(usize, Fate)> = Vec::new();
        let mut oldest = Instant::now();
        loop {
            let received = rx.recv_timeout(SYNC_INTERVAL);
            let finished = matches!(received, Err(mpsc::RecvTimeoutError::Disconnected));
            if let Ok((line, fate)) = received {
                bar.inc(1);
                if let Fate::Archived { document, .. } | Fate::Skipped { document, .. } = &fate {
                    touched.insert(document.clone());
                }
                if matches!(fate, Fate::Failed(_) | Fate::Mismatch(_)) {
                    bar.suspend(|| tally.report(out, line, fate))?;
                } else {
                    if pending.is_empty() {
                        oldest = Instant::now();
                    }
                    pending.push((line, fate));
                }
            }
            let due = pending.len() >= SYNC_GROUP || oldest.elapsed() >= SYNC_INTERVAL || finished;
            if due && !pending.is_empty() {
                archive.sync()?;
                // Lines are printed above the bar, which stays at the bottom of the terminal.
                bar.suspend(|| -> Result<()> {
                    for (line, fate) in pending.drain(..) {
                        tally.report(out, line, fate)?;
                    }
                    Ok(())
                })?;
            }
            if finished {
                return Ok(());
            }
        }
    })?;
    bar.finish_and_clear();
    // Versions of what was imported, in document order; an interrupted import leaves them to
    // its resumption (which passes the documents of skipped rows too) or `evarc reindex`.
    if !interrupted.load(Ordering::SeqCst) {
        let mut documents: Vec<DocumentId> =
            touched.iter().filter_map(|d| d.parse().ok()).collect();
        documents.sort_by_key(DocumentId::seq);
        super::version_pass::run(archive, &documents, out)?;
    }
    if interrupted.load(Ordering::SeqCst) {
        if let Some(resume) = lines.iter().copied().find(|l| !tally.done.contains(l)) {
            return report_interrupted(out, &source.resume_command(), &tally, resume);
        }
    }
    let summary = format!(
        "{} archived, {} already there, {} hash mismatches, {} failed",
        tally.archived, tally.skipped, tally.mismatched, tally.failed
    );
    if out.json {
        out.json_line(&json!({"status": "summary", "archived": tally.archived, "skipped": tally.skipped, "mismatched": tally.mismatched, "failed": tally.failed}))?;
    } else {
        eprintln!("{summary}");
    }
    Ok(if tally.mismatched > 0 {
        Outcome::VerificationFailed
    } else if STORAGE_FAILED.load(Ordering::SeqCst) {
        // A row failed on the storage (e.g. the bucket stopped answering, issue 14): exit 3.
        Outcome::StorageFailed
    } else if tally.failed > 0 {
        Outcome::InputRefused
    } else {
        Outcome::Done
    })
}

/// Set when a row failed on the storage (I/O, an unreachable bucket) rather than on its input.
static STORAGE_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The fate of a row whose import failed; a storage failure is remembered for the exit code.
fn failed_row(err: &anyhow::Error) -> Fate {
    if crate::exit::code_for(err) == crate::exit::ENVIRONMENT {
        STORAGE_FAILED.store(true, Ordering::SeqCst);
    }
    Fate::Failed(crate::error_line::render(err))
}

/// Counts of what happened, and the reporting of each row.
#[derive(Default)]
pub(super) struct Tally {
    /// What a row number counts: `line` or `capture`.
    pub(super) unit: &'static str,
    pub(super) archived: u64,
    pub(super) skipped: u64,
    pub(super) mismatched: u64,
    pub(super) failed: u64,
    /// The manifest lines reported (each done: durable, skipped or refused).
    done: HashSet<usize>,
}

/// What an interrupted import made durable, and where to resume.
fn report_interrupted(
    out: &mut Output,
    resume_command: &str,
    tally: &Tally,
    resume: usize,
) -> Result<Outcome> {
    let unit = match tally.unit {
        "line" => "manifest line",
        other => other,
    };
    if out.json {
        out.json_line(&json!({"status": "interrupted", "durable": tally.archived, "skipped": tally.skipped, "mismatched": tally.mismatched, "failed": tally.failed, "resume_line": resume, "unit": tally.unit}))?;
    } else {
        eprintln!(
            "interrupted: {} captures made durable ({} already there, {} hash mismatches, {} failed); every row before {unit} {resume} is done: resume from {} {resume} (`{resume_command}` again skips what is already recorded)",
            tally.archived,
            tally.skipped,
            tally.mismatched,
            tally.failed,
            tally.unit,
        );
    }
    Ok(Outcome::Interrupted)
}

impl Tally {
    pub(super) fn report(&mut self, out: &mut Output, line: usize, fate: Fate) -> Result<()> {
        self.done.insert(line);
        match fate {
            Fate::Archived {
                document,
                new_document,
                capture_new,
                sha256,
                at,
                snapshot_new,
            } => {
                self.archived += 1;
                let what = match (capture_new, snapshot_new) {
                    (true, true) => "new capture",
                    (true, false) => "new capture (bytes already stored)",
                    (false, _) => "identical to the previous capture (last verified moved)",
                };
                if out.json {
                    out.json_line(&json!({self.unit: line, "status": "archived", "document": document, "new_document": new_document, "capture_new": capture_new, "snapshot_new": snapshot_new, "sha256": sha256, "captured_at": at}))
                } else {
                    out.line_flushed(&format!(
                        "{document} {} sha256:{sha256} {what}",
                        text_time(at)
                    ))
                }
            }
            Fate::Skipped {
                document,
                sha256,
                at,
            } => {
                self.skipped += 1;
                if out.json {
                    out.json_line(&json!({self.unit: line, "status": "skipped", "document": document, "sha256": sha256, "captured_at": at}))
                } else {
                    out.line_flushed(&format!(
                        "{document} {} sha256:{sha256} already archived",
                        text_time(at)
                    ))
                }
            }
            Fate::Mismatch(message) => {
                self.mismatched += 1;
                report_failure(out, self.unit, line, "mismatch", &message)
            }
            Fate::Failed(message) => {
                self.failed += 1;
                report_failure(out, self.unit, line, "failed", &message)
            }
        }
    }
}

fn report_failure(
    out: &mut Output,
    unit: &str,
    line: usize,
    status: &str,
    message: &str,
) -> Result<()> {
    if out.json {
        out.json_line(&json!({unit: line, "status": status, "error": message}))
    } else {
        eprintln!("{unit} {line}: {message}");
        Ok(())
    }
}

impl Row {
    /// The row's capture time and, when given, the SHA-256 its file must hash to: read the same
    /// way for a local import and for one sent to a server.
    pub(super) fn time_and_sha256(&self) -> Result<(DateTime<Utc>, Option<Sha256>)> {
        let at = crate::values::field_instant("captured_at", &self.captured_at)?;
        let expected = self
            .sha256
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Sha256::from_hex(s.trim()))
            .transpose()
            .with_context(|| format!("bad sha256 column for {}", self.path))?;
        Ok((at, expected))
    }
}

fn import_row(archive: &Archive, base: &Path, row: &Row) -> Result<Fate> {
    let (at, expected) = row.time_and_sha256()?;
    // A rerun skips what is already recorded without reading the file.
    if let Some(sha) = expected {
        if let Some(skipped) = already_recorded(archive, row, at, sha)? {
            return Ok(skipped);
        }
    }
    let (file, path) = open_row_file(base, row)?;
    if let Some(bytes) = row.bytes.as_deref().filter(|b| !b.trim().is_empty()) {
        let expected_len: u64 = bytes
            .trim()
            .parse()
            .with_context(|| format!("bad bytes column {bytes:?}"))?;
        let actual = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if actual != expected_len {
            return Ok(Fate::Mismatch(format!(
                "{} is {actual} bytes, the manifest says {expected_len}",
                path.display()
            )));
        }
    }
    record_capture(
        archive,
        row,
        at,
        expected,
        file,
        &path.display().to_string(),
    )
}

/// Opens a row's file: its path must be relative to the manifest's folder and stay inside it
/// (no `..`, no symbolic link leading out).
pub(super) fn open_row_file(base: &Path, row: &Row) -> Result<(File, PathBuf)> {
    let relative = Path::new(&row.path);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        bail!(
            "path {:?} must be relative to the manifest and stay inside its folder",
            row.path
        );
    }
    let path = base.join(relative);
    // A symbolic link may not lead out of the folder either.
    let resolved =
        std::fs::canonicalize(&path).with_context(|| format!("cannot open {}", path.display()))?;
    let folder = std::fs::canonicalize(base)
        .with_context(|| format!("cannot read the manifest's folder {}", base.display()))?;
    if !resolved.starts_with(&folder) {
        bail!(
            "path {:?} leads to {} through a symbolic link: it must stay inside its folder",
            row.path,
            resolved.display()
        );
    }
    let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok((file, path))
}

/// `Skipped` when the row's document already records these bytes at `at` (as a capture, or
/// folded into the identical capture before it).
pub(super) fn already_recorded(
    archive: &Archive,
    row: &Row,
    at: DateTime<Utc>,
    sha: Sha256,
) -> Result<Option<Fate>> {
    if let Some(doc) = archive.find_document(&row.entity, &row.document, &row.source_url)? {
        if archive.capture_at(&doc.id, at, sha)?.is_some()
            || folded_into_previous(archive, &doc.id, at, sha)?
        {
            return Ok(Some(Fate::Skipped {
                document: doc.id.to_string(),
                sha256: sha.to_hex(),
                at,
            }));
        }
    }
    Ok(None)
}

/// Archives the bytes of `reader` as the row's capture at `at`; `what` names the bytes in a
/// mismatch message.
pub(super) fn record_capture(
    archive: &Archive,
    row: &Row,
    at: DateTime<Utc>,
    expected: Option<Sha256>,
    reader: impl std::io::Read,
    what: &str,
) -> Result<Fate> {
    let document = DocumentRef::Named {
        entity: row.entity.clone(),
        title: row.document.clone(),
        source_url: Some(row.source_url.clone()),
        id: None,
    };
    let request = CaptureRequest {
        expected_sha256: expected,
        ..CaptureRequest::file_import(document, at)
    };
    // A file that does not hash to its manifest's SHA-256 is refused by the store: no capture.
    // The text version is computed by the import's version pass (`version_pass::run`).
    let outcome =
        match archive.capture_deferring_version(reader, request, now(), Durability::Deferred) {
            Err(err)
                if matches!(
                    err.store_error(),
                    Some(evarc_provenance::StoreError::InputMismatch { .. })
                ) =>
            {
                return Ok(Fate::Mismatch(format!("{what}: {err}")));
            }
            other => other?,
        };
    Ok(Fate::Archived {
        document: outcome.document.id.to_string(),
        new_document: outcome.document_created,
        capture_new: outcome.capture_created,
        sha256: outcome.snapshot.info.sha256.to_hex(),
        at,
        snapshot_new: outcome.snapshot.new,
    })
}

/// True when an identical capture before `at` already records these bytes as seen at `at`.
fn folded_into_previous(
    archive: &Archive,
    doc: &evarc_provenance::id::DocumentId,
    at: DateTime<Utc>,
    sha: Sha256,
) -> Result<bool> {
    Ok(archive
        .captures(doc)?
        .iter()
        .rev()
        .find(|c| c.captured_at <= at)
        .is_some_and(|c| c.sha256 == sha && c.last_verified >= at))
}
