//! The `ris` format: CRLF line endings, `TY` first, `ER  - ` last.
//!
//! Line breaks inside a value become spaces. In `AU` a comma would be read as "Last, First",
//! so commas there become spaces (and the resulting runs of spaces collapse to one).

use super::dates::json_time;
use super::record::is_line_break;
use super::{archive_link, cited_title, container_title, CitationRecord, RenderOptions};

/// A value on one line.
pub fn ris_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if is_line_break(c) { ' ' } else { c })
        .collect()
}

/// A corporate author without commas.
pub fn ris_author(value: &str) -> String {
    let spaced: String = ris_value(value).replace(',', " ");
    spaced
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn render(record: &CitationRecord, opts: &RenderOptions) -> String {
    let mut lines: Vec<(&str, String)> = vec![
        ("TY", "ELEC".to_owned()),
        ("TI", ris_value(cited_title(record))),
        ("AU", ris_author(&record.entity)),
        ("T2", ris_value(container_title(record))),
    ];
    if let Some(date) = record.last_updated {
        lines.push(("DA", date.format("%Y/%m/%d/").to_string()));
    }
    lines.push(("UR", ris_value(&record.source_url)));
    lines.push(("Y2", opts.accessed.format("%Y/%m/%d/").to_string()));
    if let Some(link) = archive_link(record) {
        lines.push(("N1", format!("Archived at {}", ris_value(&link))));
    }
    let mut ids = record.document_id.to_string();
    if record.provision.is_some() {
        ids = format!("{ids}; {}", record.record_id);
    }
    lines.push((
        "N1",
        format!(
            "Captured {}; SHA-256 {}; {ids}",
            json_time(record.capture.captured_at),
            record.capture.sha256
        ),
    ));
    if let Some(w) = &record.capture.withdrawn {
        lines.push((
            "N1",
            format!(
                "Withdrawn {}: {}",
                json_time(w.withdrawn_at),
                ris_value(&w.reason)
            ),
        ));
    }
    let mut out = String::new();
    for (tag, value) in lines {
        out.push_str(&format!("{tag}  - {value}\r\n"));
    }
    out.push_str("ER  - \r\n");
    out
}
