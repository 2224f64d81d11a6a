//! The `json` format: evarc's own complete record (schema documented in docs/citations.md).
//!
//! Pretty-printed, keys in a fixed order. The schema only grows: fields are added, never removed
//! or renamed, and `schema` names the version.

use serde::Serialize;

use super::dates::json_time;
use super::{
    archive_link, permanent_url, record_url, wayback_lookup_url, wayback_url, CaptureMethod,
    CitationRecord, EvidenceCheck, RenderOptions,
};

/// The value of the `schema` field.
pub const JSON_SCHEMA_VERSION: &str = "evarc-citation/1";

#[derive(Serialize)]
struct Record<'a> {
    schema: &'static str,
    record_id: String,
    record_kind: &'static str,
    entity: &'a str,
    document: Document<'a>,
    provision: Option<Provision<'a>>,
    capture: Capture<'a>,
    archive: Archive<'a>,
    urls: Urls,
    accessed: String,
    evidence: Evidence<'a>,
}

#[derive(Serialize)]
struct Document<'a> {
    id: String,
    title: &'a str,
    source_url: &'a str,
    last_updated: Option<String>,
}

#[derive(Serialize)]
struct Provision<'a> {
    id: String,
    title: &'a str,
    quote: &'a str,
    severity: Option<&'a str>,
    categories: &'a [String],
    selectors: (QuoteSel<'a>, PositionSel),
}

#[derive(Serialize)]
struct QuoteSel<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    exact: &'a str,
    prefix: &'a str,
    suffix: &'a str,
}

#[derive(Serialize)]
struct PositionSel {
    #[serde(rename = "type")]
    kind: &'static str,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct Capture<'a> {
    captured_at: String,
    sha256: &'a crate::Sha256,
    blake3: &'a crate::Blake3,
    byte_len: u64,
    media_type: &'a str,
    method: &'a CaptureMethod,
    first_tracked: String,
    last_verified: String,
    wayback_recorded: Option<&'a str>,
    /// Present only for an HTTP capture whose status was not 2xx.
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    withdrawn: Option<Withdrawn>,
}

#[derive(Serialize)]
struct Withdrawn {
    at: String,
    reason: String,
}

#[derive(Serialize)]
struct Archive<'a> {
    name: &'a str,
    base_url: Option<&'a str>,
    tool: &'a str,
}

#[derive(Serialize)]
struct Urls {
    record: String,
    permanent: Option<String>,
    /// The recorded Wayback/Perma.cc address, else null.
    wayback: Option<String>,
    /// The computed Wayback lookup link (may find nothing; never the archived copy).
    wayback_lookup: String,
    /// The permanent address, else the recorded Wayback address, else null.
    archived_copy: Option<String>,
}

#[derive(Serialize)]
struct Evidence<'a> {
    status: &'static str,
    actual_sha256: Option<&'a crate::Sha256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

pub(crate) fn render(record: &CitationRecord, opts: &RenderOptions) -> String {
    let capture = &record.capture;
    let provision = record.provision.as_ref().map(|p| Provision {
        id: record.record_id.to_string(),
        title: &p.title,
        quote: &p.quote,
        severity: p.severity.as_deref(),
        categories: &p.categories,
        selectors: (
            QuoteSel {
                kind: "TextQuoteSelector",
                exact: &p.selector.exact,
                prefix: &p.selector.prefix,
                suffix: &p.selector.suffix,
            },
            PositionSel {
                kind: "TextPositionSelector",
                start: p.selector.start,
                end: p.selector.end,
            },
        ),
    });
    let (status, actual_sha256, reason) = match &opts.evidence {
        EvidenceCheck::Verified => ("verified", None, None),
        EvidenceCheck::Missing => ("missing", None, None),
        EvidenceCheck::Mismatch { actual_sha256 } => ("mismatch", Some(actual_sha256), None),
        EvidenceCheck::Damaged { reason } => ("damaged", None, Some(reason.as_str())),
    };
    let value = Record {
        schema: JSON_SCHEMA_VERSION,
        record_id: record.record_id.to_string(),
        record_kind: if record.provision.is_some() {
            "provision"
        } else {
            "document"
        },
        entity: &record.entity,
        document: Document {
            id: record.document_id.to_string(),
            title: &record.document_title,
            source_url: &record.source_url,
            last_updated: record
                .last_updated
                .map(|d| d.format("%Y-%m-%d").to_string()),
        },
        provision,
        capture: Capture {
            captured_at: json_time(capture.captured_at),
            sha256: &capture.sha256,
            blake3: &capture.blake3,
            byte_len: capture.byte_len,
            media_type: &capture.media_type,
            method: &capture.method,
            first_tracked: json_time(capture.first_tracked),
            last_verified: json_time(capture.last_verified),
            wayback_recorded: capture.wayback.as_deref(),
            http_status: capture.unusual_http_status(),
            withdrawn: capture.withdrawn.as_ref().map(|w| Withdrawn {
                at: json_time(w.withdrawn_at),
                reason: w.reason.clone(),
            }),
        },
        archive: Archive {
            name: &record.archive.name,
            base_url: record.archive.base_url.as_deref(),
            tool: &record.archive.tool,
        },
        urls: Urls {
            record: record_url(record),
            permanent: permanent_url(record),
            wayback: wayback_url(record),
            wayback_lookup: wayback_lookup_url(record),
            archived_copy: archive_link(record),
        },
        accessed: opts.accessed.format("%Y-%m-%d").to_string(),
        evidence: Evidence {
            status,
            actual_sha256,
            reason,
        },
    };
    let mut out =
        serde_json::to_string_pretty(&value).expect("record serialises: only strings and numbers");
    out.push('\n');
    out
}
