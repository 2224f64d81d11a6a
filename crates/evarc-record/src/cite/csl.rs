//! The `csl-json` format: an array of one CSL-JSON item (citation-style-language `csl-data.json`).
//!
//! Compact single-line JSON, keys in the reference order, non-ASCII kept as UTF-8.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::dates::json_time;
use super::{archive_link, cited_title, container_title, CitationRecord, RenderOptions};

#[derive(Serialize)]
struct Item<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    #[serde(rename = "container-title")]
    container_title: &'a str,
    author: [Literal<'a>; 1],
    #[serde(rename = "URL")]
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    issued: Option<DateParts>,
    accessed: DateParts,
    archive: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    archive_location: Option<String>,
    note: String,
    custom: Custom,
}

#[derive(Serialize)]
struct Literal<'a> {
    literal: &'a str,
}

#[derive(Serialize)]
struct DateParts {
    #[serde(rename = "date-parts")]
    date_parts: [[i32; 3]; 1],
}

impl DateParts {
    fn of(date: NaiveDate) -> DateParts {
        // Month and day are at most 31: the casts cannot truncate.
        let month = i32::try_from(date.month()).expect("month fits in i32");
        let day = i32::try_from(date.day()).expect("day fits in i32");
        DateParts {
            date_parts: [[date.year(), month, day]],
        }
    }
}

#[derive(Serialize)]
struct Custom {
    sha256: crate::Sha256,
    captured: String,
    #[serde(rename = "document-id")]
    document_id: String,
}

pub(crate) fn render(record: &CitationRecord, opts: &RenderOptions) -> String {
    let captured = json_time(record.capture.captured_at);
    let item = Item {
        id: record.record_id.to_string(),
        kind: "webpage",
        title: cited_title(record),
        container_title: container_title(record),
        author: [Literal {
            literal: &record.entity,
        }],
        url: &record.source_url,
        issued: record.last_updated.map(DateParts::of),
        accessed: DateParts::of(opts.accessed),
        archive: &record.archive.name,
        archive_location: archive_link(record),
        note: format!(
            "Captured: {captured}\nSHA-256: {}\nDocument ID: {}{}",
            record.capture.sha256,
            record.document_id,
            record
                .capture
                .withdrawn
                .as_ref()
                .map(|w| format!("\nWithdrawn: {}: {}", json_time(w.withdrawn_at), w.reason))
                .unwrap_or_default()
        ),
        custom: Custom {
            sha256: record.capture.sha256,
            captured,
            document_id: record.document_id.to_string(),
        },
    };
    let mut out =
        serde_json::to_string(&[item]).expect("CSL item serialises: only strings and numbers");
    out.push('\n');
    out
}
