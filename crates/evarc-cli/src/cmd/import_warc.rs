//! `evarc import warc FILE…`: captures made by web archiving tools (`.warc`, `.warc.gz`).
//!
//! Each `response` record with a 2xx status, and each `resource` record, becomes a capture of the
//! document keyed by its target URI, captured at its `WARC-Date`. A `revisit` record is resolved
//! to the payload it repeats (by `WARC-Refers-To`, by target URI and date, or by payload digest)
//! and recorded as a capture of those bytes at the revisit's date. Bytes already stored are not
//! stored again.
//!
//! Like `import manifest`, one line is printed per capture as soon as it is durable (`--json`:
//! one object per line, flushed). A damaged or truncated record is reported with its byte offset
//! and skipped; the intact records are imported. The run exits 1 when any record was damaged, so
//! a script cannot mistake a partial import for a complete one.
//!
//! Target URIs and titles are data, never paths. A title gets its control characters replaced by
//! spaces, whitespace collapsed and is cut to [`MAX_TITLE_CHARS`] characters; a target URI gets
//! whitespace, control characters and `<>"` percent-encoded (as the WARC export writes them).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use evarc_package::{ImportedCapture, ReaderOptions, Revisit, WarcReader, WarcRecord};
use evarc_provenance::cite::CaptureMethod;
use evarc_provenance::id::DocumentId;
use evarc_provenance::model::HttpExchange;
use evarc_provenance::{Archive, CaptureOutcome, CaptureRequest, DocumentRef, ProvenanceError};
use evarc_provenance::{Blake3, Durability, OpenMode, Sha256};
use indicatif::ProgressBar;
use serde_json::json;

use super::{now, text_time};
use crate::cli::{GlobalArgs, ImportWarcArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

use crate::progress;

/// Longest document title kept from a page's `<title>` (characters).
pub const MAX_TITLE_CHARS: usize = 200;

/// The counts of a run, printed at the end.
#[derive(Default)]
struct Counts {
    /// Records recorded as captures (revisits included).
    imported: u64,
    /// Of those, records whose bytes were already stored.
    duplicates: u64,
    /// Of those, revisit records.
    revisits: u64,
    /// Of those, records already recorded as a capture (a rerun), or identical to the
    /// document's previous capture (its `last_verified` moved).
    already: u64,
    /// Response records with a non-2xx status.
    non_2xx: u64,
    /// Records of other types (warcinfo, request, metadata, …).
    other_types: u64,
    /// Records that cannot be a capture: target URI not http(s), revisit of unknown bytes.
    unsupported: u64,
    damaged: u64,
    /// Records the archive refused.
    failed: u64,
}

impl Counts {
    fn skipped(&self) -> u64 {
        self.non_2xx + self.other_types + self.unsupported
    }
}

/// A payload already imported, for resolving revisits.
#[derive(Clone)]
struct Original {
    sha256: Sha256,
    blake3: Blake3,
    media_type: String,
    title: Option<String>,
}

/// What the run has seen: the documents by target URI and the payloads revisits may point to.
#[derive(Default)]
struct Seen {
    documents: HashMap<String, DocumentId>,
    by_record_id: HashMap<String, Original>,
    by_uri_date: HashMap<(String, DateTime<Utc>), Original>,
    by_digest: HashMap<String, Original>,
}

pub fn run(global: &GlobalArgs, args: ImportWarcArgs, out: &mut Output) -> Result<Outcome> {
    for (what, value) in [("--entity", &args.entity), ("--document", &args.document)] {
        if let Some(v) = value {
            if v.trim().is_empty() || v.chars().any(char::is_control) {
                bail!("invalid {what} {v:?}: expected non-empty text without control characters");
            }
        }
    }
    // Every file must open before anything is imported.
    let mut files = Vec::with_capacity(args.files.len());
    let mut total = 0u64;
    for path in &args.files {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        total += len;
        files.push((path.clone(), file));
    }
    let archive = open(global, OpenMode::ReadWrite)?;
    let bar = progress::bytes(Some(total), "importing");
    let mut run = Run {
        archive: &archive,
        args: &args,
        out,
        counts: Counts::default(),
        seen: Seen::default(),
        touched: Vec::new(),
    };
    let mut done = 0u64;
    for (path, file) in files {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        run.file(&path, file, &bar, done)?;
        done += len;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    let mut documents = std::mem::take(&mut run.touched);
    documents.sort_by_key(DocumentId::seq);
    super::version_pass::run(&archive, &documents, run.out)?;
    let c = &run.counts;
    if run.out.json {
        run.out.json_line(&json!({
            "status": "summary", "imported": c.imported, "duplicates": c.duplicates,
            "revisits": c.revisits, "already_recorded": c.already, "skipped": c.skipped(), "skipped_non_2xx": c.non_2xx,
            "skipped_other_types": c.other_types, "skipped_unsupported": c.unsupported,
            "damaged": c.damaged, "failed": c.failed,
        }))?;
    } else {
        eprintln!(
            "{} imported ({} duplicates of stored bytes, {} revisits, {} already recorded), {} skipped ({} non-2xx, {} other record types, {} unsupported), {} damaged, {} failed",
            c.imported, c.duplicates, c.revisits, c.already, c.skipped(), c.non_2xx, c.other_types,
            c.unsupported, c.damaged, c.failed
        );
        if c.damaged > 0 {
            eprintln!("incomplete: damaged records were skipped (exit 1)");
        }
    }
    Ok(if c.damaged > 0 {
        Outcome::VerificationFailed
    } else if c.failed > 0 {
        Outcome::InputRefused
    } else {
        Outcome::Done
    })
}

struct Run<'a> {
    archive: &'a Archive,
    args: &'a ImportWarcArgs,
    out: &'a mut Output,
    counts: Counts,
    seen: Seen,
    /// Documents with captures in this import, for the version pass.
    touched: Vec<DocumentId>,
}

/// Where a record came from, for messages.
struct At<'a> {
    file: &'a Path,
    offset: u64,
}

impl Run<'_> {
    fn file(&mut self, path: &Path, file: File, bar: &ProgressBar, base: u64) -> Result<()> {
        let source = ProgressFile {
            file,
            bar: bar.clone(),
            base,
        };
        let mut reader = WarcReader::new(source, ReaderOptions::default())
            .with_context(|| format!("cannot read {}", path.display()))?;
        for record in reader.by_ref() {
            match record {
                Ok(WarcRecord::Capture(capture)) => {
                    let at = At {
                        file: path,
                        offset: capture.offset,
                    };
                    self.capture(&at, capture)?;
                }
                Ok(WarcRecord::Revisit(revisit)) => {
                    let at = At {
                        file: path,
                        offset: revisit.offset,
                    };
                    self.revisit(&at, &revisit)?;
                }
                Err(damaged) => {
                    self.counts.damaged += 1;
                    let at = At {
                        file: path,
                        offset: damaged.offset,
                    };
                    self.report(&at, "damaged", &damaged.reason)?;
                }
            }
        }
        self.counts.other_types += reader.skipped();
        Ok(())
    }

    fn capture(&mut self, at: &At<'_>, mut record: ImportedCapture) -> Result<()> {
        if let Some(status) = record.status.filter(|s| !(200..300).contains(s)) {
            self.counts.non_2xx += 1;
            return self.report(at, "skipped", &format!("HTTP status {status} is not 2xx"));
        }
        let Some((url, host)) = http_url(&record.target_uri) else {
            self.counts.unsupported += 1;
            let reason = format!(
                "target URI {:?} is not an http(s) URL",
                shorten(&record.target_uri)
            );
            return self.report(at, "skipped", &reason);
        };
        let title = record
            .title
            .as_deref()
            .map(sanitize_title)
            .filter(|t| !t.is_empty());
        let document = self.document_ref(&url, &host, title.as_deref())?;
        let http = record
            .status
            .map(|status| exchange(&url, status, &record.headers));
        let request = CaptureRequest {
            document,
            captured_at: record.date,
            method: CaptureMethod::WarcImport,
            media_type: record.media_type.clone(),
            source_url: None,
            http,
            last_updated: None,
            wayback: None,
            expected_sha256: Sha256::from_hex(&record.payload_sha256).ok(),
            private: false,
        };
        let outcome = match self.archive.capture_deferring_version(
            &mut record.payload,
            request,
            now(),
            Durability::Synced,
        ) {
            Ok(outcome) => outcome,
            Err(err) => return self.refused(at, err),
        };
        let original = Original {
            sha256: outcome.snapshot.info.sha256,
            blake3: outcome.snapshot.info.blake3,
            media_type: outcome.capture.media_type.clone(),
            title,
        };
        if !record.record_id.is_empty() {
            self.seen
                .by_record_id
                .insert(record.record_id.clone(), original.clone());
        }
        if let Some(digest) = &record.warc_payload_digest {
            self.seen.by_digest.insert(digest.clone(), original.clone());
        }
        self.seen.by_digest.insert(
            format!("sha256:{}", record.payload_sha256),
            original.clone(),
        );
        self.seen
            .by_uri_date
            .insert((record.target_uri.clone(), record.date), original);
        self.imported(at, &url, &outcome, record.date, false)
    }

    fn revisit(&mut self, at: &At<'_>, revisit: &Revisit) -> Result<()> {
        if let Some(status) = revisit
            .status
            .filter(|s| !(200..300).contains(s) && *s != 304)
        {
            self.counts.non_2xx += 1;
            let reason = format!("revisit with HTTP status {status} (neither 2xx nor 304)");
            return self.report(at, "skipped", &reason);
        }
        let Some(original) = self.resolve(revisit)? else {
            self.counts.unsupported += 1;
            return self.report(
                at,
                "skipped",
                "revisit of a payload neither in this import nor in the archive",
            );
        };
        let Some((url, host)) = http_url(&revisit.target_uri) else {
            self.counts.unsupported += 1;
            let reason = format!(
                "target URI {:?} is not an http(s) URL",
                shorten(&revisit.target_uri)
            );
            return self.report(at, "skipped", &reason);
        };
        let document = self.document_ref(&url, &host, original.title.as_deref())?;
        let media_type = revisit
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
            .map_or_else(|| original.media_type.clone(), |(_, v)| v.clone());
        // A 304 revisit says the bytes were still current; its exchange carried no body, so
        // only a 2xx exchange is recorded with the capture.
        let http = revisit
            .status
            .filter(|s| (200..300).contains(s))
            .map(|status| exchange(&url, status, &revisit.headers));
        let request = CaptureRequest {
            document,
            captured_at: revisit.date,
            method: CaptureMethod::WarcImport,
            media_type: Some(media_type),
            source_url: None,
            http,
            last_updated: None,
            wayback: None,
            expected_sha256: Some(original.sha256),
            private: false,
        };
        // The bytes come back through the store's verifying reader; nothing new is stored.
        let bytes = self.archive.snapshot_reader(original.blake3)?;
        let outcome =
            match self
                .archive
                .capture_deferring_version(bytes, request, now(), Durability::Synced)
            {
                Ok(outcome) => outcome,
                Err(err) => return self.refused(at, err),
            };
        self.imported(at, &url, &outcome, revisit.date, true)
    }

    /// The earlier payload a revisit repeats.
    fn resolve(&self, revisit: &Revisit) -> Result<Option<Original>> {
        let seen = &self.seen;
        let found = revisit
            .refers_to
            .as_ref()
            .and_then(|id| seen.by_record_id.get(id))
            .or_else(|| {
                let uri = revisit.refers_to_target_uri.as_ref()?;
                let uri = uri.trim_start_matches('<').trim_end_matches('>');
                let date = revisit.refers_to_date?;
                seen.by_uri_date.get(&(uri.to_owned(), date))
            })
            .or_else(|| {
                revisit
                    .warc_payload_digest
                    .as_ref()
                    .and_then(|d| seen.by_digest.get(d))
            })
            .or_else(|| {
                revisit
                    .payload_sha256
                    .as_ref()
                    .and_then(|hex| seen.by_digest.get(&format!("sha256:{hex}")))
            });
        if let Some(original) = found {
            return Ok(Some(original.clone()));
        }
        // Bytes archived earlier (another run, another tool) resolve by their SHA-256.
        let Some(sha) = revisit
            .payload_sha256
            .as_deref()
            .and_then(|hex| Sha256::from_hex(hex).ok())
        else {
            return Ok(None);
        };
        let Some(stored) = self.archive.stored_original(sha)? else {
            return Ok(None);
        };
        Ok(Some(Original {
            sha256: stored.info.sha256,
            blake3: stored.info.blake3,
            media_type: stored
                .media_type
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            title: None,
        }))
    }

    /// The document of a target URI: `--document` names it exactly; otherwise the document
    /// already holding this URI (in this run or the archive), else a new one titled after the
    /// page.
    fn document_ref(&mut self, url: &str, host: &str, title: Option<&str>) -> Result<DocumentRef> {
        let entity = self.args.entity.clone().unwrap_or_else(|| host.to_owned());
        if let Some(title) = &self.args.document {
            return Ok(DocumentRef::Named {
                entity,
                title: title.clone(),
                source_url: Some(url.to_owned()),
                id: None,
            });
        }
        if let Some(id) = self.seen.documents.get(url) {
            return Ok(DocumentRef::Id(id.clone()));
        }
        let mut existing = self.archive.documents_at_url(url)?;
        if self.args.entity.is_some() {
            existing.retain(|d| d.entity == entity);
        }
        if let Some(doc) = existing.first() {
            self.seen.documents.insert(url.to_owned(), doc.id.clone());
            return Ok(DocumentRef::Id(doc.id.clone()));
        }
        Ok(DocumentRef::Named {
            entity,
            title: title.map_or_else(|| sanitize_title(url), str::to_owned),
            source_url: Some(url.to_owned()),
            id: None,
        })
    }

    fn imported(
        &mut self,
        at: &At<'_>,
        url: &str,
        outcome: &CaptureOutcome,
        record_date: chrono::DateTime<chrono::Utc>,
        revisit: bool,
    ) -> Result<()> {
        self.seen
            .documents
            .insert(url.to_owned(), outcome.document.id.clone());
        if !self.touched.contains(&outcome.document.id) {
            self.touched.push(outcome.document.id.clone());
        }
        self.counts.imported += 1;
        if !outcome.snapshot.new {
            self.counts.duplicates += 1;
        }
        if revisit {
            self.counts.revisits += 1;
        }
        if !outcome.capture_created {
            self.counts.already += 1;
        }
        let document = outcome.document.id.to_string();
        let sha256 = outcome.snapshot.info.sha256.to_hex();
        let captured = outcome.capture.captured_at;
        if self.out.json {
            return self.out.json_line(&json!({
                "file": at.file.display().to_string(), "offset": at.offset, "status": "imported",
                "revisit": revisit, "document": document, "new_document": outcome.document_created,
                "capture_new": outcome.capture_created, "snapshot_new": outcome.snapshot.new,
                "sha256": sha256, "captured_at": captured, "warc_date": record_date,
            }));
        }
        let what = match (outcome.capture_created, outcome.snapshot.new) {
            (true, true) => "new capture",
            (true, false) => "new capture (bytes already stored)",
            (false, _) => "already recorded, or identical to the previous capture",
        };
        let kind = if revisit { " (revisit)" } else { "" };
        // The record's own WARC-Date: a revisit or a re-capture folded into an earlier capture
        // (whose time is `captured`) was still seen at this date.
        self.out.line_flushed(&format!(
            "{document} {} sha256:{sha256} {what}{kind}",
            text_time(record_date)
        ))
    }

    /// A record the archive refused: input problems are counted and reported, anything else
    /// (storage, disk) stops the run.
    fn refused(&mut self, at: &At<'_>, err: ProvenanceError) -> Result<()> {
        if matches!(
            err,
            ProvenanceError::InvalidInput(_) | ProvenanceError::ImplausibleCaptureTime { .. }
        ) {
            self.counts.failed += 1;
            return self.report(at, "failed", &err.to_string());
        }
        Err(anyhow::Error::new(err).context(format!(
            "{}: importing the record at byte {}",
            at.file.display(),
            at.offset
        )))
    }

    /// `FILE: <status> record at byte N: reason` on stderr, or one JSON line.
    fn report(&mut self, at: &At<'_>, status: &str, reason: &str) -> Result<()> {
        if self.out.json {
            return self.out.json_line(&json!({
                "file": at.file.display().to_string(), "offset": at.offset,
                "status": status, "reason": reason,
            }));
        }
        eprintln!(
            "{}: {status} record at byte {}: {reason}",
            at.file.display(),
            at.offset
        );
        Ok(())
    }
}

/// The HTTP exchange of a response record: no redirects are known, so requested and final URL
/// are both the target URI.
fn exchange(url: &str, status: u16, headers: &[(String, String)]) -> HttpExchange {
    HttpExchange {
        requested_url: url.to_owned(),
        final_url: url.to_owned(),
        status,
        reason: String::new(),
        version: "HTTP/1.1".to_owned(),
        headers: headers.to_vec(),
        redirects: Vec::new(),
    }
}

/// The target URI as a source URL (whitespace, controls, bidirectional and invisible format
/// characters and `<>"` percent-encoded) and its
/// host, when it is an absolute http(s) URL ([`evarc_provenance::HttpUrl`]'s rule, and one the
/// url crate parses).
fn http_url(target: &str) -> Option<(String, String)> {
    let mut encoded = String::with_capacity(target.len());
    for c in target.trim().chars() {
        if c.is_whitespace()
            || c.is_control()
            || matches!(c, '<' | '>' | '"')
            || evarc_provenance::safe_text::hidden_kind(c).is_some()
        {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                encoded.push_str(&format!("%{b:02X}"));
            }
        } else {
            encoded.push(c);
        }
    }
    // The one http(s) URL rule, then the url crate's parse for the host (lower-cased, IDNA).
    let encoded = evarc_provenance::HttpUrl::parse(&encoded)
        .ok()?
        .into_string();
    let parsed = url::Url::parse(&encoded).ok()?;
    let host = parsed.host_str()?.trim_matches(['[', ']']).to_owned();
    (!host.is_empty()).then_some((encoded, host))
}

/// A title as provenance accepts it (`evarc_package::sanitize_title`): control, bidirectional
/// and invisible characters become spaces, whitespace runs one space, at most
/// [`MAX_TITLE_CHARS`] characters. Titles are data, never paths.
pub fn sanitize_title(raw: &str) -> String {
    evarc_package::sanitize_title(raw, MAX_TITLE_CHARS)
}

/// A URI shortened for a message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The WARC file, moving the progress bar as the reader goes.
struct ProgressFile {
    file: File,
    bar: ProgressBar,
    base: u64,
}

impl Read for ProgressFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if let Ok(pos) = self.file.stream_position() {
            self.bar.set_position(self.base + pos);
        }
        Ok(n)
    }
}

impl Seek for ProgressFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}
