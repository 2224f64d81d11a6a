//! The `biblatex` format: one `@online` entry.
//!
//! Text fields escape `# $ % & _ { } ~ ^ \` and turn line breaks into spaces; the corporate
//! author is wrapped in an extra pair of braces. URLs (`url`, `\url{…}`) are not escaped: they
//! are read verbatim, so only `{`, `}`, `\` and whitespace are percent-encoded to keep the field
//! balanced.

use super::dates::json_time;
use super::record::is_line_break;
use super::{archive_link, cited_title, CitationRecord, RenderOptions};

/// Escapes LaTeX's special characters in a text field.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '#' | '$' | '%' | '&' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '\\' => out.push_str("\\textbackslash{}"),
            c if is_line_break(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Makes a URL safe inside a braced field: braces, backslashes and whitespace are percent-encoded.
pub fn escape_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '{' => out.push_str("%7B"),
            '}' => out.push_str("%7D"),
            '\\' => out.push_str("%5C"),
            c if c.is_whitespace() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn render(record: &CitationRecord, opts: &RenderOptions) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("author", format!("{{{}}}", escape_text(&record.entity))),
        ("title", escape_text(cited_title(record))),
    ];
    if let Some(date) = record.last_updated {
        fields.push(("date", date.format("%Y-%m-%d").to_string()));
    }
    fields.push(("url", escape_url(&record.source_url)));
    fields.push(("urldate", opts.accessed.format("%Y-%m-%d").to_string()));
    let archived = archive_link(record)
        .map(|link| format!("Archived at \\url{{{}}}; ", escape_url(&link)))
        .unwrap_or_default();
    let withdrawn = record
        .capture
        .withdrawn
        .as_ref()
        .map(|w| {
            format!(
                "; withdrawn {}: {}",
                json_time(w.withdrawn_at),
                escape_text(&w.reason)
            )
        })
        .unwrap_or_default();
    fields.push((
        "addendum",
        format!(
            "{archived}captured {}; SHA-256 {}; {}{withdrawn}",
            json_time(record.capture.captured_at),
            record.capture.sha256,
            record.document_id
        ),
    ));
    let mut out = format!("@online{{{},\n", record.record_id);
    for (name, value) in fields {
        out.push_str(&format!("  {name:<8} = {{{value}}},\n"));
    }
    out.push_str("}\n");
    out
}
