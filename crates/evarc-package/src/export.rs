//! What an export is made of: the captures, where their bytes come from, and the options.

use std::io::{self, Read, Write};

use chrono::{DateTime, NaiveDate, Utc};
use evarc_record::change::ChangeRecord;
use evarc_record::cite::{render, CitationRecord, EvidenceCheck, Format, Markup, RenderOptions};
use evarc_record::model::{Capture, Document};

use crate::digest::copy_hashing;
use crate::error::PackageError;

/// One capture to export, with the citation records anchored on it (the document's and/or its
/// provisions'). The same capture given twice (e.g. once for a document and once for a
/// provision) is exported once, with the union of its citations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportCapture {
    pub document: Document,
    pub capture: Capture,
    pub citations: Vec<CitationRecord>,
}

/// Where capture bytes come from. The CLI implements it with the store's reader; the export
/// re-hashes whatever it returns, so it need not verify.
pub trait CaptureBytes {
    /// Opens the exact bytes of `capture`. May be called more than once per capture (a WARC
    /// `response` record needs its block digest before its bytes).
    fn open(&self, capture: &Capture) -> io::Result<Box<dyn Read + '_>>;
}

/// Options of every export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The reader's day, printed only in the rendered citation texts (never a capture date).
    pub accessed: NaiveDate,
    /// WARC only: one gzip member per record (`.warc.gz`) instead of plain `.warc`. WACZ is
    /// always gzipped.
    pub gzip: bool,
    /// Tool and version, e.g. `evarc 0.1.0`.
    pub software: String,
    /// The archive's name: `isPartOf` of the warcinfo, the WACZ title, BagIt
    /// `Source-Organization`.
    pub archive_name: String,
    /// Who exported (warcinfo `operator`, BagIt `Contact-Name`), when the caller knows.
    pub operator: Option<String>,
    /// The day of the export: BagIt `Bagging-Date` (RFC 8493: the date the bag was made). The
    /// caller decides it (the CLI: `SOURCE_DATE_EPOCH` when set, else today); None: the date of
    /// the latest capture exported.
    pub bagging_date: Option<NaiveDate>,
    /// Change records (issue 13) the package carries beside the captures, each as JSON: in a
    /// WARC (and so a WACZ) a `metadata` record `urn:evarc:change:<ID>` after the captures, in
    /// a bag the payload file `data/changes/<ID>.json`. Which ones concern an export is the
    /// caller's decision (evarc-provenance's `export` module); empty: none.
    pub changes: Vec<ChangeRecord>,
}

/// Merges repeated captures and sorts them: by capture time, then document ID, then SHA-256.
/// Citations are deduplicated by record ID and sorted by it.
pub(crate) fn normalize(items: &[ExportCapture]) -> Result<Vec<ExportCapture>, PackageError> {
    if items.is_empty() {
        return Err(PackageError::NoCaptures);
    }
    let mut out: Vec<ExportCapture> = Vec::with_capacity(items.len());
    for item in items {
        match out.iter_mut().find(|o| same_capture(o, item)) {
            Some(existing) => existing.citations.extend(item.citations.iter().cloned()),
            None => out.push(item.clone()),
        }
    }
    for item in &mut out {
        item.citations
            .sort_by_key(|c| (c.record_id.to_string(), c.capture.captured_at));
        item.citations
            .dedup_by(|a, b| a.record_id == b.record_id && a.capture == b.capture);
    }
    out.sort_by(|a, b| {
        (
            a.capture.captured_at,
            a.document.id.to_string(),
            &a.capture.sha256,
        )
            .cmp(&(
                b.capture.captured_at,
                b.document.id.to_string(),
                &b.capture.sha256,
            ))
    });
    Ok(out)
}

fn same_capture(a: &ExportCapture, b: &ExportCapture) -> bool {
    a.document.id == b.document.id
        && a.capture.sha256 == b.capture.sha256
        && a.capture.captured_at == b.capture.captured_at
}

/// The latest capture time: the date of the package itself (warcinfo, WACZ `created`,
/// BagIt `Bagging-Date`), so that it comes from the records and not from the clock.
pub(crate) fn package_date(items: &[ExportCapture]) -> DateTime<Utc> {
    items
        .iter()
        .map(|i| i.capture.captured_at)
        .max()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Streams the bytes of `item` into `out`, failing if they do not hash to the recorded SHA-256
/// and length. Output errors come back as [`CopyError::Output`] so the caller can name its path.
pub(crate) fn copy_verified(
    item: &ExportCapture,
    bytes: &dyn CaptureBytes,
    out: &mut dyn Write,
) -> Result<(), CopyError> {
    let mut reader = bytes
        .open(&item.capture)
        .map_err(|source| CopyError::Package(read_error(item, source)))?;
    let mut source = ErrorTagging {
        inner: &mut reader,
        failed: None,
    };
    let result = copy_hashing(&mut source, out);
    if let Some(err) = source.failed.take() {
        return Err(CopyError::Package(read_error(item, err)));
    }
    let (actual, actual_len) = result.map_err(CopyError::Output)?;
    check(item, &actual, actual_len).map_err(CopyError::Package)
}

/// Fails unless `actual` (hex) and `actual_len` are the recorded SHA-256 and length of `item`.
pub(crate) fn check(
    item: &ExportCapture,
    actual: &str,
    actual_len: u64,
) -> Result<(), PackageError> {
    if actual != item.capture.sha256.to_hex() || actual_len != item.capture.byte_len {
        return Err(PackageError::CaptureMismatch {
            document: item.document.id.to_string(),
            expected: item.capture.sha256.to_hex(),
            actual: actual.to_owned(),
            expected_len: item.capture.byte_len,
            actual_len,
        });
    }
    Ok(())
}

pub(crate) fn read_error(item: &ExportCapture, source: io::Error) -> PackageError {
    PackageError::CaptureRead {
        document: item.document.id.to_string(),
        sha256: item.capture.sha256.to_hex(),
        source,
    }
}

/// A failed copy: either the capture (typed) or the output (to be named by the caller).
pub(crate) enum CopyError {
    Package(PackageError),
    Output(io::Error),
}

/// Remembers whether an error came from the source reader rather than the output writer.
struct ErrorTagging<'a, R: ?Sized> {
    inner: &'a mut R,
    failed: Option<io::Error>,
}

impl<R: Read + ?Sized> Read for ErrorTagging<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Err(err),
            Err(err) => {
                let reported = io::Error::new(err.kind(), err.to_string());
                self.failed = Some(err);
                Err(reported)
            }
        }
    }
}

/// Render options of the citation texts in a package: the bytes were just re-hashed.
pub(crate) fn render_options(opts: &ExportOptions) -> RenderOptions {
    RenderOptions {
        accessed: opts.accessed,
        markup: Markup::Plain,
        evidence: EvidenceCheck::Verified,
    }
}

/// The citations of a capture as one JSON array (each element the `json` format).
pub(crate) fn citations_json(item: &ExportCapture, opts: &ExportOptions) -> String {
    let render_opts = render_options(opts);
    let parts: Vec<String> = item
        .citations
        .iter()
        .map(|c| indent(render(c, Format::Json, &render_opts).trim_end()))
        .collect();
    if parts.is_empty() {
        return "[]\n".to_owned();
    }
    format!("[\n{}\n]\n", parts.join(",\n"))
}

/// The change records of an export, each once, in ID order, with their JSON (pretty, with a
/// final newline): what a package carries of them.
pub(crate) fn changes_json(opts: &ExportOptions) -> Result<Vec<(String, String)>, PackageError> {
    let mut changes: Vec<&ChangeRecord> = opts.changes.iter().collect();
    changes.sort_by_key(|c| c.id.seq());
    changes.dedup_by_key(|c| c.id.seq());
    changes
        .into_iter()
        .map(|c| {
            serde_json::to_string_pretty(c)
                .map(|json| (c.id.to_string(), format!("{json}\n")))
                .map_err(|source| PackageError::ChangeJson {
                    id: c.id.to_string(),
                    source,
                })
        })
        .collect()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
