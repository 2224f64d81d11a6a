//! `evarc export ID… --format warc|wacz|bagit -o PATH`: evidence packages (crate
//! `evarc-package`) of documents and provisions.
//!
//! Each capture exported carries the citation records of the requested IDs anchored on it: the
//! document's citation of that very capture for a document ID, the provision's citation for a
//! provision ID. The package holds no clock-derived value: the access date printed in the
//! citation texts defaults to the date of the latest capture exported, so exporting the same IDs
//! twice gives byte-identical files.
//!
//! When the archive's latest checkpoint covers the exported records, the package also carries
//! the transparency-log evidence (`export_log`): checkpoint, verifier key, time-stamp and
//! inclusion proofs. No checkpoint is made implicitly; the summary names what is not covered.
//!
//! Nothing partial is left behind: a WARC is written to a temporary file beside PATH and moved
//! into place only when complete; WACZ and BagIt exports remove what they wrote on failure.
//! Stored bytes that fail verification while being exported fail the export with exit 1.

use std::fs;
use std::io::{self, BufWriter};
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use chrono::NaiveDate;
use evarc_package::{
    write_bagit_with_log, write_wacz_with_log, write_warc_with_log, ExportCapture, ExportOptions,
    LogEvidence, PackageError,
};
use evarc_provenance::export::{ExportRequest, LogSummary, StoreBytes};
use evarc_provenance::id::RecordId;
use evarc_provenance::{OpenMode, StoreError};
use serde::Serialize;

use super::export_log::summary_line;
use super::thousands;
use crate::cli::{ExportArgs, GlobalArgs, PackageFormat};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

use crate::progress;

/// What was exported, as printed (`--json`: this object).
#[derive(Serialize)]
struct Summary {
    format: &'static str,
    path: String,
    documents: usize,
    captures: usize,
    citations: usize,
    /// Change records carried (omitted when none).
    #[serde(skip_serializing_if = "is_zero")]
    changes: usize,
    /// WARC records (warcinfo included; 0 for BagIt).
    records: usize,
    /// Files in the package: WACZ resources, or BagIt payload files (0 for a WARC).
    files: u64,
    /// Bytes of the WARC or WACZ file, or of the BagIt payload.
    bytes: u64,
    accessed: NaiveDate,
    /// The transparency-log evidence carried.
    log: LogSummary,
}

pub fn run(global: &GlobalArgs, args: ExportArgs, out: &mut Output) -> Result<Outcome> {
    // The IDs asked for, in order, each once.
    let mut ids: Vec<RecordId> = Vec::with_capacity(args.ids.len());
    for id in &args.ids {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    let only = args.capture;
    let at = super::cite::capture_choice(None, args.at.as_deref())?;
    if (only.is_some() || !at.is_latest())
        && !ids.iter().any(|id| matches!(id, RecordId::Document(_)))
    {
        bail!("--capture and --at select captures of document IDs, and no document ID was given");
    }
    let accessed = args.accessed;
    refuse_existing(&args.output, args.format)?;

    let archive = open(global, OpenMode::ReadOnly)?;
    let request = ExportRequest {
        ids,
        only,
        at,
        accessed,
        bagging_date: Some(export_date()?),
        software: format!("evarc {}", env!("CARGO_PKG_VERSION")),
    };
    let mut plan = archive.export_plan(&request)?;
    plan.options.gzip = args.output.to_string_lossy().ends_with(".gz");
    let bar = progress::bytes(None, "exporting");
    let wrap_bar = bar.clone();
    let bytes = StoreBytes::wrapped(&archive, move |r| Box::new(wrap_bar.wrap_read(r)));
    let written = write_package(
        &args.output,
        args.format,
        &plan.items,
        &bytes,
        &plan.options,
        plan.log.as_ref(),
    );
    bar.finish_and_clear();
    let (records, files, size) = written.map_err(|e| classify(e, &args.output))?;

    let items = &plan.items;
    let summary = Summary {
        format: format_name(args.format),
        path: args.output.display().to_string(),
        documents: plan.documents().len(),
        captures: plan.distinct_captures(),
        citations: items.iter().map(|i| i.citations.len()).sum(),
        changes: plan.options.changes.len(),
        records,
        files,
        bytes: size,
        accessed: plan.options.accessed,
        log: plan.log_summary,
    };
    print_summary(out, &summary)?;
    Ok(Outcome::Done)
}

/// The day of the export (BagIt `Bagging-Date`): `SOURCE_DATE_EPOCH` (seconds since the Unix
/// epoch, the reproducible-builds convention) when set, so that re-exports are byte-identical;
/// else today (UTC).
fn export_date() -> Result<NaiveDate> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .map(|t| t.date_naive())
            .with_context(|| {
                format!("invalid SOURCE_DATE_EPOCH {text:?}: expected seconds since 1970-01-01 UTC")
            }),
        Err(_) => Ok(super::now().date_naive()),
    }
}

/// Refuses an output that exists (a WARC or WACZ file), or a BagIt directory that is not empty,
/// before the archive is opened.
fn refuse_existing(path: &Path, format: PackageFormat) -> Result<()> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        // A missing output folder of a package file is the request's fault (exit 2), not the
        // environment's. (A bag's directory is created with its parents.)
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent.filter(|_| format != PackageFormat::Bagit) {
            if !parent.is_dir() {
                bail!(
                    "the output folder {} does not exist; create it first or choose another output path",
                    parent.display()
                );
            }
        }
        return Ok(());
    };
    if format == PackageFormat::Bagit && meta.is_dir() {
        let empty = fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .next()
            .is_none();
        if empty {
            return Ok(());
        }
        bail!(
            "{} exists and is not empty; a bag goes into a new or empty directory",
            path.display()
        );
    }
    bail!(
        "{} already exists; choose a new output path (an export never overwrites)",
        path.display()
    )
}

/// Writes the package; returns (WARC records, files, bytes).
fn write_package(
    path: &Path,
    format: PackageFormat,
    items: &[ExportCapture],
    bytes: &StoreBytes<'_>,
    opts: &ExportOptions,
    log: Option<&LogEvidence>,
) -> Result<(usize, u64, u64), PackageError> {
    match format {
        PackageFormat::Warc => {
            let written = write_warc_file(path, items, bytes, opts, log)?;
            Ok((written.0 + 1, 0, written.1))
        }
        PackageFormat::Wacz => {
            let summary = write_wacz_with_log(path, items, bytes, opts, log)?;
            let size = fs::metadata(path)
                .map_err(|source| PackageError::Write {
                    path: path.to_owned(),
                    source,
                })?
                .len();
            Ok((
                summary.warc.records.len() + 1,
                summary.resources.len() as u64,
                size,
            ))
        }
        PackageFormat::Bagit => {
            let summary = write_bagit_with_log(path, items, bytes, opts, log)?;
            Ok((0, summary.payload_files, summary.payload_bytes))
        }
    }
}

/// A WARC goes to a temporary file beside `path`, moved into place (never over an existing
/// file) only once complete and synced. Returns (records after the warcinfo, bytes).
fn write_warc_file(
    path: &Path,
    items: &[ExportCapture],
    bytes: &StoreBytes<'_>,
    opts: &ExportOptions,
    log: Option<&LogEvidence>,
) -> Result<(usize, u64), PackageError> {
    let write_err = |source| PackageError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".evarc-export-").suffix(".partial");
    // A package is meant to be shared: the usual file mode (0644 less the umask), not 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let temp = builder.tempfile_in(dir).map_err(write_err)?;
    let summary = write_warc_with_log(BufWriter::new(temp.as_file()), items, bytes, opts, log)?;
    temp.as_file().sync_all().map_err(write_err)?;
    temp.persist_noclobber(path)
        .map_err(|e| match e.error.kind() {
            io::ErrorKind::AlreadyExists => PackageError::OutputExists {
                path: path.to_owned(),
            },
            _ => write_err(e.error),
        })?;
    Ok((summary.records.len(), summary.bytes))
}

/// Says what a failed export means; its exit code is `exit::code_for`'s, from the typed package
/// error (damaged stored bytes: 1, a failing output: 3, else 2).
fn classify(err: PackageError, path: &Path) -> anyhow::Error {
    let damaged = err.is_integrity_failure()
        || matches!(&err, PackageError::CaptureRead { source, .. } if source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<StoreError>())
            .is_some_and(StoreError::is_integrity_failure));
    let what = format!("export to {} failed, nothing was written", path.display());
    if damaged {
        anyhow::Error::new(err).context(format!("{what}: stored bytes do not verify"))
    } else {
        anyhow::Error::new(err).context(what)
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn format_name(format: PackageFormat) -> &'static str {
    match format {
        PackageFormat::Warc => "warc",
        PackageFormat::Wacz => "wacz",
        PackageFormat::Bagit => "bagit",
    }
}

fn print_summary(out: &mut Output, s: &Summary) -> Result<()> {
    if out.json {
        return out.value(s);
    }
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let contents = match s.format {
        "warc" => format!(
            "{}, {} bytes",
            plural(s.records, "WARC record", "WARC records"),
            thousands(s.bytes)
        ),
        "wacz" => format!(
            "{}, {} ({} bytes)",
            plural(s.records, "WARC record", "WARC records"),
            plural(s.files as usize, "resource", "resources"),
            thousands(s.bytes)
        ),
        _ => format!(
            "{}, {} payload bytes",
            plural(s.files as usize, "payload file", "payload files"),
            thousands(s.bytes)
        ),
    };
    out.line(format!(
        "exported {} of {} with {} as {}: {contents}",
        plural(s.captures, "capture", "captures"),
        plural(s.documents, "document", "documents"),
        plural(s.citations, "citation", "citations"),
        s.format
    ))?;
    out.line(format!("accessed date in citations: {}", s.accessed))?;
    if s.changes > 0 {
        out.line(format!(
            "{} carried as JSON",
            plural(s.changes, "change record", "change records")
        ))?;
    }
    out.line(summary_line(&s.log))?;
    out.line(format!("wrote {}", s.path))
}
