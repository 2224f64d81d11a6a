//! Citation renderers: pure functions from a [`CitationRecord`] to text.
//!
//! Architecture invariant: nothing here reads the clock, the archive or the network. The accessed
//! date, the verification time and the evidence check are passed in by the caller. Every format
//! is specified byte for byte in `docs/citations.md`.
//!
//! Every rendered output ends with exactly one line terminator (`\r\n` for RIS, `\n` otherwise).

mod biblatex;
mod bluebook;
mod certify;
pub mod change;
mod csl;
mod dates;
mod json;
mod record;
mod ris;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::anchor::QuoteSelector;
use crate::id::{DocumentId, RecordId};

pub use certify::{certification, HashedSubject};
pub use dates::{bluebook_date, human_date, json_time, text_time, wayback_timestamp, MONTHS};
pub use json::JSON_SCHEMA_VERSION;

/// Everything a citation shows, gathered by the caller from the archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CitationRecord {
    /// What is cited: the document or the provision.
    pub record_id: RecordId,
    pub document_id: DocumentId,
    pub entity: String,
    pub document_title: String,
    pub source_url: String,
    /// The document's own "last updated" date, when known.
    pub last_updated: Option<NaiveDate>,
    /// Some when `record_id` is a provision.
    pub provision: Option<ProvisionCitation>,
    /// The capture cited (the provision's capture, or the document's latest).
    pub capture: CaptureCitation,
    pub archive: ArchiveCitation,
}

/// The provision part of a citation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionCitation {
    pub title: String,
    pub quote: String,
    pub severity: Option<String>,
    pub categories: Vec<String>,
    pub selector: QuoteSelector,
}

/// The capture part of a citation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureCitation {
    pub captured_at: DateTime<Utc>,
    pub sha256: crate::Sha256,
    pub blake3: crate::Blake3,
    pub byte_len: u64,
    pub media_type: String,
    pub method: CaptureMethod,
    pub first_tracked: DateTime<Utc>,
    pub last_verified: DateTime<Utc>,
    /// Operator-recorded Wayback/Perma.cc URL; `None`: no archived copy elsewhere is recorded
    /// (a computed Wayback link is printed only as a lookup, never as the archived copy).
    pub wayback: Option<String>,
    /// The capture's withdrawal record, when the capture was withdrawn as a mistake.
    pub withdrawn: Option<WithdrawalCitation>,
}

/// A capture's withdrawal: when it was recorded and why (the bytes and the log stay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WithdrawalCitation {
    pub withdrawn_at: DateTime<Utc>,
    pub reason: String,
}

impl CaptureCitation {
    /// The recorded HTTP status when it was not 2xx (an error page archived on purpose).
    pub fn unusual_http_status(&self) -> Option<u16> {
        match &self.method {
            CaptureMethod::HttpFetch { status, .. } if !(200..300).contains(status) => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// How the bytes of a capture were obtained.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CaptureMethod {
    HttpFetch { status: u16, final_url: String },
    FileImport,
    WarcImport,
}

/// The archive part of a citation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveCitation {
    pub name: String,
    /// The archive's public base URL, e.g. `https://evidence.example.org/`.
    pub base_url: Option<String>,
    /// Tool and version, e.g. `evarc 0.1.0`.
    pub tool: String,
}

/// An unknown `--format` or `--markup` name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CiteError {
    #[error("unknown citation format {input:?}: expected one of record, provenance, bluebook, csl-json, biblatex, ris, json, markdown")]
    UnknownFormat { input: String },
    #[error("unknown markup {input:?}: expected one of plain, markdown, html")]
    UnknownMarkup { input: String },
}

/// The citation formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Format {
    #[default]
    Record,
    Provenance,
    Bluebook,
    CslJson,
    Biblatex,
    Ris,
    Json,
    Markdown,
}

impl Format {
    /// Every format, in documentation order.
    pub const ALL: [Format; 8] = [
        Format::Record,
        Format::Provenance,
        Format::Bluebook,
        Format::CslJson,
        Format::Biblatex,
        Format::Ris,
        Format::Json,
        Format::Markdown,
    ];

    /// True for the formats that print [`RenderOptions::evidence`]; the others never print it.
    /// Whatever the format, [`crate::Archive::cite`] re-reads and re-hashes the cited bytes and
    /// renders nothing unless they verify.
    pub fn states_evidence(self) -> bool {
        matches!(self, Format::Provenance | Format::Markdown | Format::Json)
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Record => "record",
            Format::Provenance => "provenance",
            Format::Bluebook => "bluebook",
            Format::CslJson => "csl-json",
            Format::Biblatex => "biblatex",
            Format::Ris => "ris",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = CiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| CiteError::UnknownFormat {
                input: s.to_owned(),
            })
    }
}

/// Markup for formats that set text in italics (only `bluebook` does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Markup {
    #[default]
    Plain,
    Markdown,
    Html,
}

impl FromStr for Markup {
    type Err = CiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "plain" => Ok(Markup::Plain),
            "markdown" => Ok(Markup::Markdown),
            "html" => Ok(Markup::Html),
            _ => Err(CiteError::UnknownMarkup {
                input: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Markup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Markup::Plain => "plain",
            Markup::Markdown => "markdown",
            Markup::Html => "html",
        })
    }
}

/// The result of re-hashing the stored bytes just now, computed by the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvidenceCheck {
    /// The stored bytes were read back whole and hash to the recorded SHA-256.
    Verified,
    /// No stored bytes are recorded under the capture's key.
    Missing,
    /// The stored bytes were read back whole but hash to something else.
    Mismatch { actual_sha256: crate::Sha256 },
    /// The stored bytes could not be read back whole (a damaged chunk, delta or base): no hash
    /// could be computed.
    Damaged { reason: String },
}

impl EvidenceCheck {
    /// True only for [`EvidenceCheck::Verified`]; the CLI exits non-zero otherwise.
    pub fn is_verified(&self) -> bool {
        matches!(self, EvidenceCheck::Verified)
    }
}

/// Per-call rendering options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// The reader's day (never part of the evidence).
    pub accessed: NaiveDate,
    pub markup: Markup,
    pub evidence: EvidenceCheck,
}

/// The signed checkpoint a record's transparency-log leaf is proven against: the `provenance`
/// format's `Checkpoint:` line (docs/transparency-log.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointCitation {
    /// The log's origin line (its key name).
    pub origin: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The checkpoint's root hash, base64 as in the checkpoint.
    pub root: String,
}

/// Renders `record` in `format`.
pub fn render(record: &CitationRecord, format: Format, opts: &RenderOptions) -> String {
    render_with_checkpoint(record, format, opts, None)
}

/// [`render`], naming the checkpoint the record is proven against in the `provenance` block (of
/// the `provenance` and `markdown` formats). With `None` the output is exactly [`render`]'s.
pub fn render_with_checkpoint(
    record: &CitationRecord,
    format: Format,
    opts: &RenderOptions,
    checkpoint: Option<&CheckpointCitation>,
) -> String {
    match format {
        Format::Record => record::record_block(record, opts),
        Format::Provenance => record::provenance_block(record, opts, checkpoint),
        Format::Bluebook => bluebook::render(record, opts),
        Format::CslJson => csl::render(record, opts),
        Format::Biblatex => biblatex::render(record, opts),
        Format::Ris => ris::render(record, opts),
        Format::Json => json::render(record, opts),
        Format::Markdown => record::markdown(record, opts, checkpoint),
    }
}

/// The computed Wayback link for a source URL and capture time.
pub fn computed_wayback_url(source_url: &str, captured_at: DateTime<Utc>) -> String {
    format!(
        "https://web.archive.org/web/{}/{}",
        wayback_timestamp(captured_at),
        source_url
    )
}

/// The operator-recorded Wayback/Perma.cc address, if any.
pub fn wayback_url(record: &CitationRecord) -> Option<String> {
    record.capture.wayback.clone()
}

/// The computed Wayback *lookup* link: it asks the Wayback Machine for the capture nearest the
/// capture time, which may not exist. Printed only labelled as a lookup.
pub fn wayback_lookup_url(record: &CitationRecord) -> String {
    computed_wayback_url(&record.source_url, record.capture.captured_at)
}

/// The record's permanent address (base URL joined with the ID), when the archive has a base URL.
pub fn permanent_url(record: &CitationRecord) -> Option<String> {
    let base = record.archive.base_url.as_deref()?.trim();
    if base.is_empty() {
        return None;
    }
    Some(format!(
        "{}/{}",
        base.trim_end_matches('/'),
        record.record_id
    ))
}

/// The `URL` of the `record` format: the permanent address, else the source URL.
pub fn record_url(record: &CitationRecord) -> String {
    permanent_url(record).unwrap_or_else(|| record.source_url.clone())
}

/// The archived-copy link (Bluebook brackets, CSL `archive_location`, RIS/BibLaTeX "Archived
/// at"): the permanent address, else the recorded Wayback/Perma.cc address, else none (nothing
/// is invented).
pub fn archive_link(record: &CitationRecord) -> Option<String> {
    permanent_url(record).or_else(|| wayback_url(record))
}

/// The title of what is cited: the provision's title, else the document's.
fn cited_title(record: &CitationRecord) -> &str {
    match &record.provision {
        Some(p) => &p.title,
        None => &record.document_title,
    }
}

/// The container of what is cited: the document title for a provision, the entity for a document.
fn container_title(record: &CitationRecord) -> &str {
    match &record.provision {
        Some(_) => &record.document_title,
        None => &record.entity,
    }
}
