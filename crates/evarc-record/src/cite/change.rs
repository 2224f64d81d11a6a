//! Citations of change records (`CA-C-…`): plain text, Markdown and JSON. The bibliographic
//! formats (Bluebook, CSL-JSON, BibLaTeX, RIS) cite documents, not the difference between two
//! captures, so they are not offered for change records.

use serde_json::json;

use super::{text_time, Format};
use crate::change::{ChangeRecord, PassageKind};
use crate::model::Document;

/// Why a change record cannot be cited in a format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change records are cited as record, markdown or json, not {format}")]
pub struct ChangeFormatError {
    pub format: String,
}

fn summary(change: &ChangeRecord) -> String {
    let count = |kind| change.passages.iter().filter(|p| p.kind == kind).count();
    format!(
        "{} words added, {} removed, in {} passages ({} added, {} removed, {} changed)",
        change.words_added,
        change.words_removed,
        change.passages.len(),
        count(PassageKind::Added),
        count(PassageKind::Removed),
        count(PassageKind::Changed)
    )
}

/// Renders a change record's citation. `archive` is the archive's name, `base_url` its public
/// base URL when set.
pub fn render_change(
    change: &ChangeRecord,
    document: &Document,
    archive: &str,
    base_url: Option<&str>,
    format: Format,
) -> Result<String, ChangeFormatError> {
    let link = base_url.map(|b| format!("{}/{}", b.trim_end_matches('/'), change.id));
    let superseded = change
        .superseded
        .as_ref()
        .map(|s| format!(" Superseded {}: {}.", text_time(s.at), s.reason));
    Ok(match format {
        Format::Record => {
            let mut out = format!(
                "{}, {} ({}), text change {} of {}.\n",
                document.entity,
                document.title,
                document.id,
                change.id,
                text_time(change.capture.captured_at)
            );
            out.push_str(&format!(
                "First capture with the new text: sha256:{} ({}); capture before it: sha256:{} ({}).\n",
                change.capture.sha256,
                text_time(change.capture.captured_at),
                change.previous.sha256,
                text_time(change.previous.captured_at)
            ));
            out.push_str(&format!(
                "Text sha256:{} → sha256:{}, extracted by {} under rules sha256:{}.\n",
                change.from_text_sha256,
                change.to_text_sha256,
                change.extractor,
                change.rules_sha256
            ));
            out.push_str(&format!("{}.", summary(change)));
            out.push_str(&format!(" Archived by {archive}"));
            match &link {
                Some(l) => out.push_str(&format!(", {l}.")),
                None => out.push('.'),
            }
            if let Some(s) = &superseded {
                out.push_str(s);
            }
            out.push('\n');
            out
        }
        Format::Markdown => {
            let mut out = format!(
                "**{}**: *{}* of {} ({}) changed on {}: {}.",
                change.id,
                document.title,
                document.entity,
                document.id,
                text_time(change.capture.captured_at),
                summary(change)
            );
            out.push_str(&format!(
                " New text first captured as `sha256:{}`; previous capture `sha256:{}` ({}). Archived by {archive}",
                change.capture.sha256,
                change.previous.sha256,
                text_time(change.previous.captured_at)
            ));
            match &link {
                Some(l) => out.push_str(&format!(", <{l}>.")),
                None => out.push('.'),
            }
            if let Some(s) = &superseded {
                out.push_str(s);
            }
            out.push('\n');
            out
        }
        Format::Json => {
            let value = json!({
                "id": change.id,
                "document": document,
                "archive": archive,
                "url": link,
                "change": change,
            });
            let mut out = serde_json::to_string_pretty(&value).expect("a change record serialises");
            out.push('\n');
            out
        }
        other => {
            return Err(ChangeFormatError {
                format: format!("{other:?}").to_lowercase(),
            })
        }
    })
}
