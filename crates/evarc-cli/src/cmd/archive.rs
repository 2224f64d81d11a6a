//! `evarc archive FILE|-|URL`: store the exact bytes, and record a capture when a document is named.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use evarc_provenance::cite::CaptureMethod;
use evarc_provenance::ProvenanceError;
use evarc_provenance::{Archive, ArchiveReport, CaptureRequest, DocumentRef, SnapshotReport};
use evarc_provenance::{OpenMode, PutOutcome};
use serde_json::json;

use super::{now, text_time, thousands};
use crate::cli::{ArchiveArgs, GlobalArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::fetch::{self, FetchOptions, Fetched};
use crate::output::Output;
use crate::progress;

pub fn run(global: &GlobalArgs, args: ArchiveArgs, out: &mut Output) -> Result<Outcome> {
    // Everything the user typed is checked before the archive is opened or a byte is read.
    let plan = Plan::from_args(&args)?;
    if let Some(remote) = crate::remote::Remote::from_args(&args.remote)? {
        return run_remote(&remote, args, plan, out);
    }
    // A file name need not be UTF-8; a URL is.
    let url = args
        .input
        .to_str()
        .filter(|text| fetch::looks_like_url(text));
    if let Some(url) = url {
        if args.captured_at.is_some() {
            bail!("--captured-at is for imported files: the capture time of a URL is the time evarc fetches it");
        }
        let archive = open(global, OpenMode::ReadWrite)?;
        let started = now();
        let fetched = fetch::fetch(url, &fetch_options(&args))?;
        if fetched.body.is_empty() && !args.allow_empty {
            bail!(
                "{} returned an empty body (0 bytes); pass --allow-empty to archive it anyway",
                fetched.final_url
            );
        }
        let request = plan.request_for_fetch(&fetched, started);
        let body = std::io::Cursor::new(&fetched.body);
        return finish(&archive, body, request, out, Some(&fetched));
    }
    let (reader, len) = open_input(&args.input, args.allow_empty)?;
    let archive = open(global, OpenMode::ReadWrite)?;
    if args.force {
        archive.allow_any_capture_time();
    }
    // Provenance refuses an implausible capture time (before 1991, more than a day ahead).
    let captured_at = match args.captured_at {
        Some(at) => {
            if let Err(err) = archive.check_capture_time(at, now()) {
                let text = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
                bail!("invalid --captured-at {text:?}: {err}; pass --force to record it anyway");
            }
            at
        }
        None => now(),
    };
    let request = plan.request_for_file(captured_at);
    let bar = progress::bytes(len, "archiving");
    let reader = bar.wrap_read(reader);
    let code = finish(&archive, reader, request, out, None);
    bar.finish_and_clear();
    code
}

/// What the arguments ask for, validated.
struct Plan {
    document: Option<DocumentRef>,
    source_url: Option<String>,
    last_updated: Option<chrono::NaiveDate>,
    wayback: Option<String>,
    media_type: Option<String>,
    private: bool,
}

impl Plan {
    fn from_args(args: &ArchiveArgs) -> Result<Self> {
        let last_updated = args.last_updated;
        let explicit_id = args.id.clone();
        // For a registered document, --url is this capture's source URL (provenance records it
        // or refuses it); for a new document it is the document's.
        let mut source_url = None;
        let document = match (&args.entity, &args.document) {
            (_, Some(doc))
                if doc
                    .trim()
                    .parse::<evarc_provenance::id::DocumentId>()
                    .is_ok() =>
            {
                if explicit_id.is_some() {
                    bail!("--id registers a new document; {doc} is already an ID");
                }
                if let Some(entity) = &args.entity {
                    bail!("--entity {entity:?} names the publisher of a new document; {doc} is already registered");
                }
                source_url = args.url.clone().map(String::from);
                Some(DocumentRef::Id(
                    doc.trim().parse::<evarc_provenance::id::DocumentId>()?,
                ))
            }
            (Some(entity), Some(title)) => Some(DocumentRef::Named {
                entity: entity.clone(),
                title: title.clone(),
                source_url: args.url.clone().map(String::from).or_else(|| {
                    args.input
                        .to_str()
                        .filter(|text| fetch::looks_like_url(text))
                        .map(str::to_owned)
                }),
                id: explicit_id,
            }),
            (None, Some(_)) => {
                bail!("--document needs --entity (who publishes it), or a document ID")
            }
            (_, None) => {
                let capture_only = [
                    ("--url", args.url.is_some()),
                    ("--id", args.id.is_some()),
                    ("--last-updated", args.last_updated.is_some()),
                    ("--wayback", args.wayback.is_some()),
                ];
                if let Some((flag, _)) = capture_only.iter().find(|(_, given)| *given) {
                    bail!("{flag} describes a capture: name the document with --entity and --document");
                }
                None
            }
        };
        Ok(Self {
            document,
            source_url,
            last_updated,
            wayback: args.wayback.clone().map(String::from),
            media_type: args.media_type.clone(),
            private: args.private,
        })
    }

    fn request_for_file(self, captured_at: DateTime<Utc>) -> Option<CaptureRequest> {
        Some(CaptureRequest {
            document: self.document?,
            captured_at,
            method: CaptureMethod::FileImport,
            media_type: self.media_type,
            source_url: self.source_url,
            http: None,
            last_updated: self.last_updated,
            wayback: self.wayback,
            expected_sha256: None,
            private: self.private,
        })
    }

    fn request_for_fetch(
        self,
        fetched: &Fetched,
        started: DateTime<Utc>,
    ) -> Option<CaptureRequest> {
        Some(CaptureRequest {
            document: self.document?,
            captured_at: started,
            method: CaptureMethod::HttpFetch {
                status: fetched.status,
                final_url: fetched.final_url.clone(),
            },
            media_type: self.media_type.or_else(|| fetched.media_type.clone()),
            source_url: self.source_url.or_else(|| Some(fetched.final_url.clone())),
            http: Some(fetched.http_exchange()),
            last_updated: self.last_updated,
            wayback: self.wayback,
            expected_sha256: None,
            private: self.private,
        })
    }
}

fn fetch_options(args: &ArchiveArgs) -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_bytes: args.max_bytes,
        allow_http_errors: args.allow_http_errors,
        ..FetchOptions::default()
    }
}

/// Opens a file or standard input, refusing what cannot be archived before anything is stored.
fn open_input(input: &std::ffi::OsStr, allow_empty: bool) -> Result<(Box<dyn Read>, Option<u64>)> {
    if input == "-" {
        let mut stdin = BufReader::with_capacity(1 << 16, std::io::stdin());
        let empty = stdin
            .fill_buf()
            .context("reading standard input")?
            .is_empty();
        if empty && !allow_empty {
            bail!("standard input is empty (0 bytes); pass --allow-empty to archive an empty snapshot");
        }
        return Ok((Box::new(stdin), None));
    }
    let path = Path::new(input);
    let input = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        // `ftp://…`, `file://…`: a URL whose scheme evarc does not fetch, not a missing file.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            if let Some(scheme) = url_scheme(&path.to_string_lossy()) {
                bail!("unsupported URL scheme {scheme:?} in {input}: evarc captures http:// and https:// URLs (or give a file path)");
            }
            return Err(anyhow::Error::new(err).context(format!("cannot read {input}")));
        }
        Err(err) => return Err(anyhow::Error::new(err).context(format!("cannot read {input}"))),
    };
    if meta.is_dir() {
        bail!(
            "{input} is a directory: archive files one at a time (or use `evarc import manifest`)"
        );
    }
    if !meta.is_file() {
        bail!("{input} is not a regular file");
    }
    let file = File::open(path).with_context(|| format!("cannot open {input}"))?;
    if meta.len() == 0 && !allow_empty {
        bail!("{input} is empty (0 bytes); pass --allow-empty to archive an empty snapshot");
    }
    Ok((Box::new(file), Some(meta.len())))
}

fn finish(
    archive: &Archive,
    reader: impl Read,
    request: Option<CaptureRequest>,
    out: &mut Output,
    fetched: Option<&Fetched>,
) -> Result<Outcome> {
    if let Some(f) = fetched {
        out.line(format!(
            "Fetched:  {} → {} {} ({})",
            f.requested_url, f.status, f.reason, f.final_url
        ))?;
    }
    match request {
        None => {
            let outcome = archive.store_bytes(reader)?;
            print_snapshot(&outcome, out)?;
            out.value(&json!({ "snapshot": snapshot_json(&outcome) }))?;
        }
        Some(request) => {
            let outcome = archive
                .capture(reader, request, now())
                .map_err(|err| match err {
                    // The library says what is missing; the CLI says which flag gives it.
                    ProvenanceError::DocumentNeedsSourceUrl { .. } => {
                        anyhow::anyhow!("{err} (--url, or --document CA-D-…)")
                    }
                    other => other.into(),
                })?;
            print_report(&ArchiveReport::of(&outcome), out)?;
        }
    }
    Ok(Outcome::Done)
}

fn snapshot_json(outcome: &PutOutcome) -> serde_json::Value {
    serde_json::to_value(SnapshotReport::of(outcome))
        .expect("a snapshot report serialises: strings and integers")
}

fn print_snapshot(outcome: &PutOutcome, out: &mut Output) -> Result<()> {
    print_snapshot_report(&SnapshotReport::of(outcome), out)
}

fn print_snapshot_report(snapshot: &SnapshotReport, out: &mut Output) -> Result<()> {
    out.line(format!("SHA-256:  {}", snapshot.sha256))?;
    out.line(format!("BLAKE3:   blake3:{}", snapshot.blake3))?;
    out.line(format!("Size:     {} bytes", thousands(snapshot.size)))?;
    if snapshot.new {
        out.line(format!(
            "Status:   new snapshot stored ({} bytes on disk)",
            thousands(snapshot.stored_bytes)
        ))
    } else {
        out.line("Status:   already archived (nothing new stored)")
    }
}

/// What archiving a capture did, as text or as the JSON object (the same locally and through
/// `--remote`, whose server answers with this object).
pub(crate) fn print_report(report: &ArchiveReport, out: &mut Output) -> Result<()> {
    let doc = &report.document;
    let capture = &report.capture;
    out.line(format!(
        "Document: {}{} {} — {} <{}>",
        doc.id,
        if doc.new { " (new)" } else { "" },
        doc.entity,
        doc.title,
        doc.source_url
    ))?;
    if capture.source_url != doc.source_url {
        out.line(format!("Source:   {}", capture.source_url))?;
    }
    if report.capture_new {
        out.line(format!(
            "Capture:  {} (new capture)",
            text_time(capture.captured_at)
        ))?;
    } else {
        out.line(format!(
            "Capture:  {} (identical bytes; last verified {})",
            text_time(capture.captured_at),
            text_time(capture.last_verified)
        ))?;
    }
    if capture.private {
        out.line("Private:  yes (readers of `evarc serve` need a read-private token)")?;
    }
    print_snapshot_report(&report.snapshot, out)?;
    out.value(&serde_json::to_value(report)?)
}

/// The scheme of something shaped like a URL (`ftp://host/…`), if it is one.
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    (first_ok && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
        .then_some(scheme)
}

/// `archive … --remote URL --token T`: the same checks and output, the capture archived by the
/// server (`POST /api/v1/captures`) through the same provenance call.
fn run_remote(
    remote: &crate::remote::Remote,
    args: ArchiveArgs,
    plan: Plan,
    out: &mut Output,
) -> Result<Outcome> {
    if plan.document.is_none() {
        bail!("--remote sends captures: name the document with --entity and --document, or a document ID");
    }
    if args.force {
        bail!(
            "--force is not sent to a server: the server checks capture times with its own clock"
        );
    }
    let url = args
        .input
        .to_str()
        .filter(|text| fetch::looks_like_url(text));
    let (request, bytes, fetched) = if let Some(url) = url {
        if args.captured_at.is_some() {
            bail!("--captured-at is for imported files: the capture time of a URL is the time evarc fetches it");
        }
        let started = now();
        let fetched = fetch::fetch(url, &fetch_options(&args))?;
        if fetched.body.is_empty() && !args.allow_empty {
            bail!(
                "{} returned an empty body (0 bytes); pass --allow-empty to archive it anyway",
                fetched.final_url
            );
        }
        let request = plan.request_for_fetch(&fetched, started);
        let body = fetched.body.clone();
        (request, body, Some(fetched))
    } else {
        let (mut reader, _) = open_input(&args.input, args.allow_empty)?;
        let captured_at = args.captured_at.unwrap_or_else(now);
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", Path::new(&args.input).display()))?;
        (plan.request_for_file(captured_at), bytes, None)
    };
    let request = request.context("--remote sends captures: name the document")?;
    if let Some(f) = &fetched {
        out.line(format!(
            "Fetched:  {} → {} {} ({})",
            f.requested_url, f.status, f.reason, f.final_url
        ))?;
    }
    let report = remote.send_capture(&evarc_provenance::CaptureUpload::new(&request, &bytes))?;
    print_report(&report, out)?;
    Ok(Outcome::Done)
}
