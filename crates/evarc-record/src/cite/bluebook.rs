//! The `bluebook` format (Rule 18 internet source, with archival parenthetical).

use super::dates::{bluebook_date, text_time};
use super::record::{escape_markdown, is_line_break};
use super::{archive_link, CitationRecord, Markup, RenderOptions};

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text as the markup needs it: HTML-escaped for HTML, Markdown-escaped for Markdown (so
/// `_Under_ *Star*` stays literal), as is for plain text.
fn text(markup: Markup, value: &str) -> String {
    let value: String = value
        .chars()
        .map(|c| if is_line_break(c) { ' ' } else { c })
        .collect();
    match markup {
        Markup::Html => escape_html(&value),
        Markup::Markdown => escape_markdown(&value),
        Markup::Plain => value,
    }
}

fn italic(markup: Markup, value: &str) -> String {
    match markup {
        Markup::Plain => text(markup, value),
        Markup::Markdown => format!("*{}*", escape_markdown(value)),
        Markup::Html => format!("<i>{}</i>", text(markup, value)),
    }
}

pub(crate) fn render(record: &CitationRecord, opts: &RenderOptions) -> String {
    let m = opts.markup;
    let dated = match record.last_updated {
        Some(date) => format!("last updated {}", bluebook_date(date)),
        None => format!("last visited {}", bluebook_date(opts.accessed)),
    };
    let captured = record.capture.captured_at;
    let time = text_time(captured);
    let clock = time
        .split_once(' ')
        .map_or(time.as_str(), |(_, clock)| clock);
    let quote = match &record.provision {
        Some(p) => format!(" (\"{}\")", text(m, &p.quote)),
        None => String::new(),
    };
    // The bracketed archived copy only when one is recorded: nothing invented.
    let archived = archive_link(record)
        .map(|link| format!(" [{}]", text(m, &link)))
        .unwrap_or_default();
    let withdrawn = record
        .capture
        .withdrawn
        .as_ref()
        .map(|w| {
            format!(
                "; withdrawn {}: {}",
                bluebook_date(w.withdrawn_at.date_naive()),
                text(m, &w.reason)
            )
        })
        .unwrap_or_default();
    format!(
        "{}, {} ({}), {}{archived}{} (captured {}, {}; SHA-256: {}; {}{withdrawn}).\n",
        text(m, &record.entity),
        italic(m, &record.document_title),
        dated,
        text(m, &record.source_url),
        quote,
        bluebook_date(captured.date_naive()),
        clock,
        record.capture.sha256,
        record.record_id,
    )
}
