//! The `record`, `provenance` and `markdown` formats.

use std::fmt::Write as _;

use super::dates::{human_date, text_time};
use super::{
    record_url, wayback_url, CheckpointCitation, CitationRecord, EvidenceCheck, RenderOptions,
};

/// The closing sentence of the `record` block.
pub(crate) const RECORD_FOOTER: &str = "Permanent archival reference. Stable identifier suitable for legal filings, compliance documentation, and research citation.";

/// `SHA-256: 880a4da359a0dff0…`: the only truncated hash of all formats.
fn short_sha(sha256: &str) -> String {
    let head: String = sha256.chars().take(16).collect();
    format!("{head}…")
}

/// The `Evidence:` statement for the check just performed.
pub(crate) fn evidence_text(check: &EvidenceCheck) -> &'static str {
    match check {
        EvidenceCheck::Verified => "✓ Snapshot stored ✓ Hash verified",
        EvidenceCheck::Missing => "✗ Snapshot missing",
        EvidenceCheck::Mismatch { .. } => "✓ Snapshot stored ✗ Hash mismatch",
        EvidenceCheck::Damaged { .. } => "✗ Snapshot damaged ✗ Hash not verified",
    }
}

/// (label, value) lines of the `record` block.
fn record_lines(record: &CitationRecord, opts: &RenderOptions) -> Vec<(&'static str, String)> {
    vec![
        ("Entity", record.entity.clone()),
        ("Document", record.document_title.clone()),
        ("Record ID", record.record_id.to_string()),
        ("Captured", text_time(record.capture.captured_at)),
        ("SHA-256", short_sha(&record.capture.sha256)),
        ("URL", record_url(record)),
        ("Accessed", human_date(opts.accessed)),
    ]
}

/// (label, value) lines of the `provenance` block.
fn provenance_lines(
    record: &CitationRecord,
    opts: &RenderOptions,
    checkpoint: Option<&CheckpointCitation>,
) -> Vec<(&'static str, String)> {
    let mut lines = vec![
        ("Source URL", record.source_url.clone()),
        ("Wayback Machine", wayback_url(record)),
        ("Content hash (SHA-256)", record.capture.sha256.clone()),
        ("Record ID", record.record_id.to_string()),
        ("Document ID", record.document_id.to_string()),
        ("Captured", text_time(record.capture.captured_at)),
    ];
    if let Some(cp) = checkpoint {
        lines.push((
            "Checkpoint",
            format!("{} {} {}", cp.origin, cp.size, cp.root),
        ));
    }
    lines.push(("Evidence", evidence_text(&opts.evidence).to_owned()));
    lines
}

fn plain_block(title: &str, lines: &[(&'static str, String)], footer: Option<&str>) -> String {
    let mut out = format!("{title}\n");
    for (label, value) in lines {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{label}: {}", one_line(value));
    }
    if let Some(footer) = footer {
        out.push_str(footer);
        out.push('\n');
    }
    out
}

/// Line breaks inside a value would forge extra lines: they become spaces.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if is_line_break(c) { ' ' } else { c })
        .collect()
}

pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

pub(crate) fn record_block(record: &CitationRecord, opts: &RenderOptions) -> String {
    plain_block(
        "Citation Record",
        &record_lines(record, opts),
        Some(RECORD_FOOTER),
    )
}

pub(crate) fn provenance_block(
    record: &CitationRecord,
    opts: &RenderOptions,
    checkpoint: Option<&CheckpointCitation>,
) -> String {
    plain_block(
        "Evidence Provenance",
        &provenance_lines(record, opts, checkpoint),
        None,
    )
}

/// Escapes Markdown's inline special characters in text.
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A URL as a Markdown autolink; characters that would end it are percent-encoded.
fn markdown_url(url: &str) -> String {
    let mut out = String::from("<");
    for c in one_line(url).chars() {
        match c {
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out.push('>');
    out
}

fn markdown_value(label: &str, value: &str) -> String {
    match label {
        "URL" | "Source URL" | "Wayback Machine" => markdown_url(value),
        "SHA-256" | "Content hash (SHA-256)" | "Record ID" | "Document ID" | "Checkpoint" => {
            format!("`{value}`")
        }
        _ => escape_markdown(value),
    }
}

/// The `record` and `provenance` blocks as one Markdown section.
pub(crate) fn markdown(
    record: &CitationRecord,
    opts: &RenderOptions,
    checkpoint: Option<&CheckpointCitation>,
) -> String {
    let mut out = format!(
        "## {} — {}\n\n### Citation Record\n\n",
        record.record_id,
        escape_markdown(super::cited_title(record))
    );
    for (label, value) in record_lines(record, opts) {
        let _ = writeln!(out, "- **{label}:** {}", markdown_value(label, &value));
    }
    let _ = writeln!(out, "\n*{RECORD_FOOTER}*");
    if let Some(provision) = &record.provision {
        out.push_str("\n### Quoted provision\n\n");
        for line in provision.quote.lines() {
            let _ = writeln!(out, "> {}", escape_markdown(line));
        }
    }
    out.push_str("\n### Evidence Provenance\n\n");
    for (label, value) in provenance_lines(record, opts, checkpoint) {
        let _ = writeln!(out, "- **{label}:** {}", markdown_value(label, &value));
    }
    out
}
