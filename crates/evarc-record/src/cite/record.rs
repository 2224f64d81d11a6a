//! The `record`, `provenance` and `markdown` formats.

use std::fmt::Write as _;

use super::dates::{human_date, text_time};
use super::{
    record_url, wayback_lookup_url, wayback_url, CheckpointCitation, CitationRecord, EvidenceCheck,
    RenderOptions, WithdrawalCitation,
};

/// `2026-06-01 10:00:00 UTC: reason`: when and why a capture was withdrawn.
pub(crate) fn withdrawal_text(w: &WithdrawalCitation) -> String {
    format!("{}: {}", text_time(w.withdrawn_at), w.reason)
}

/// The closing sentence of the `record` block.
pub(crate) const RECORD_FOOTER: &str = "Permanent archival reference. Stable identifier suitable for legal filings, compliance documentation, and research citation.";

/// `SHA-256: 880a4da359a0dff0…`: the only truncated hash of all formats.
fn short_sha(sha256: &crate::Sha256) -> String {
    let head: String = sha256.to_hex().chars().take(16).collect();
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
    let mut lines = vec![
        ("Entity", record.entity.clone()),
        ("Document", record.document_title.clone()),
        ("Record ID", record.record_id.to_string()),
        ("Captured", text_time(record.capture.captured_at)),
        ("SHA-256", short_sha(&record.capture.sha256)),
        ("URL", record_url(record)),
        ("Accessed", human_date(opts.accessed)),
    ];
    if let Some(w) = &record.capture.withdrawn {
        lines.push(("Withdrawn", withdrawal_text(w)));
    }
    lines
}

/// (label, value) lines of the `provenance` block.
fn provenance_lines(
    record: &CitationRecord,
    opts: &RenderOptions,
    checkpoint: Option<&CheckpointCitation>,
) -> Vec<(&'static str, String)> {
    // Only a recorded Wayback/Perma.cc address is named as the Wayback Machine's copy; otherwise
    // the computed link is labelled as what it is: a lookup that may find nothing.
    let wayback = match wayback_url(record) {
        Some(url) => ("Wayback Machine", url),
        None => ("Wayback lookup", wayback_lookup_url(record)),
    };
    let mut lines = vec![
        ("Source URL", record.source_url.clone()),
        wayback,
        ("Content hash (SHA-256)", record.capture.sha256.to_hex()),
        ("Record ID", record.record_id.to_string()),
        ("Document ID", record.document_id.to_string()),
        ("Captured", text_time(record.capture.captured_at)),
    ];
    if let Some(status) = record.capture.unusual_http_status() {
        lines.push(("HTTP status", status.to_string()));
    }
    if let Some(w) = &record.capture.withdrawn {
        lines.push(("Withdrawn", withdrawal_text(w)));
    }
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

/// Escapes Markdown's inline special characters in text: emphasis, code, links, images,
/// HTML and entities, strikethrough, tables, headings.
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// [`escape_markdown`] for a whole line: a leading list or heading marker (`-`, `+`, `=`,
/// `1.`, `1)`) is escaped too, so a quoted line stays a paragraph.
fn escape_markdown_line(line: &str) -> String {
    let escaped = escape_markdown(line);
    let trimmed = escaped.trim_start();
    let indent = &escaped[..escaped.len() - trimmed.len()];
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    let marker = if trimmed.starts_with(['-', '+', '=']) {
        Some(0)
    } else if digits > 0 && trimmed[digits..].starts_with(['.', ')']) {
        Some(digits)
    } else {
        None
    };
    match marker {
        Some(at) => format!("{indent}{}\\{}", &trimmed[..at], &trimmed[at..]),
        None => escaped,
    }
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
        "URL" | "Source URL" | "Wayback Machine" | "Wayback lookup" => markdown_url(value),
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
            let _ = writeln!(out, "> {}", escape_markdown_line(line));
        }
    }
    out.push_str("\n### Evidence Provenance\n\n");
    for (label, value) in provenance_lines(record, opts, checkpoint) {
        let _ = writeln!(out, "- **{label}:** {}", markdown_value(label, &value));
    }
    out
}
