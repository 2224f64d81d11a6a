//! `evarc history` and `evarc diff`: a document over time.

use std::fmt::Write as _;

use anyhow::{bail, Result};
use evarc_provenance::anchor::{relocate, Relocation};
use evarc_provenance::model::{Capture, Provision};
use evarc_store::OpenMode;
use serde_json::json;
use similar::{ChangeTag, TextDiff};

use super::{parse_document_id, text_time, thousands};
use crate::cli::{DiffArgs, GlobalArgs, HistoryArgs};
use crate::context::open;
use crate::output::Output;

fn anchored_in<'a>(provisions: &'a [Provision], capture: &Capture) -> Vec<&'a Provision> {
    provisions
        .iter()
        .filter(|p| {
            p.capture.sha256 == capture.sha256 && p.capture.captured_at == capture.captured_at
        })
        .collect()
}

pub fn history(global: &GlobalArgs, args: HistoryArgs, out: &mut Output) -> Result<u8> {
    let id = parse_document_id(&args.document)?;
    let archive = open(global, OpenMode::ReadOnly)?;
    let document = archive.document(&id)?;
    let captures = archive.captures(&id)?;
    let provisions = archive.provisions_of(&id)?;
    out.line(format!(
        "{} {} — {} <{}>",
        document.id, document.entity, document.title, document.source_url
    ))?;
    out.line(format!("{} captures", captures.len()))?;
    let mut previous: Option<&Capture> = None;
    for capture in &captures {
        let change = match previous {
            None => "first",
            Some(p) if p.sha256 == capture.sha256 => "same bytes as before",
            Some(_) => "changed",
        };
        out.line(format!(
            "{}  sha256:{}  {} bytes  {}{}",
            text_time(capture.captured_at),
            capture.sha256,
            thousands(capture.byte_len),
            change,
            if capture.last_verified > capture.captured_at {
                format!(
                    "; seen unchanged until {}",
                    text_time(capture.last_verified)
                )
            } else {
                String::new()
            }
        ))?;
        for provision in anchored_in(&provisions, capture) {
            out.line(format!("    {}  {}", provision.id, provision.title))?;
        }
        previous = Some(capture);
    }
    let entries: Vec<_> = captures
        .iter()
        .map(|c| {
            json!({
                "capture": c,
                "provisions": anchored_in(&provisions, c).iter().map(|p| p.id.to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();
    out.value(&json!({"document": document, "captures": entries}))?;
    Ok(crate::exit::OK)
}

pub fn diff(global: &GlobalArgs, args: DiffArgs, out: &mut Output) -> Result<u8> {
    let id = parse_document_id(&args.document)?;
    let archive = open(global, OpenMode::ReadOnly)?;
    archive.document(&id)?;
    if args.from.is_none() && args.to.is_none() && archive.captures(&id)?.len() < 2 {
        let n = archive.captures(&id)?.len();
        bail!(
            "{id} has {n} capture{}: a diff needs two",
            if n == 1 { "" } else { "s" }
        );
    }
    let (older, newer) = archive.capture_pair(&id, args.from.as_deref(), args.to.as_deref())?;
    let old_text = archive.capture_text(&older)?;
    let new_text = archive.capture_text(&newer)?;
    let diff = TextDiff::from_lines(&old_text, &new_text);
    let mut rendered = String::new();
    let (mut added, mut removed) = (0usize, 0usize);
    for (i, group) in diff.grouped_ops(args.context).iter().enumerate() {
        if i > 0 {
            rendered.push_str("…\n");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let (sign, line_no) = match change.tag() {
                    ChangeTag::Delete => {
                        removed += 1;
                        ("-", change.old_index())
                    }
                    ChangeTag::Insert => {
                        added += 1;
                        ("+", change.new_index())
                    }
                    ChangeTag::Equal => (" ", change.new_index()),
                };
                let _ = write!(
                    rendered,
                    "{sign}{:>6} {}",
                    line_no.map_or(0, |n| n + 1),
                    change.value()
                );
                if change.missing_newline() {
                    rendered.push('\n');
                }
            }
        }
    }
    out.line(format!(
        "--- {} sha256:{} ({})",
        id,
        older.sha256,
        text_time(older.captured_at)
    ))?;
    out.line(format!(
        "+++ {} sha256:{} ({})",
        id,
        newer.sha256,
        text_time(newer.captured_at)
    ))?;
    if older.sha256 == newer.sha256 {
        out.line("identical bytes: no change")?;
    } else if added + removed == 0 {
        out.line("the bytes differ, but their extracted text is identical")?;
    } else {
        out.raw_text(&rendered)?;
        out.line(format!("{added} lines added, {removed} lines removed"))?;
    }
    let provisions: Vec<_> = archive
        .provisions_of(&id)?
        .into_iter()
        .filter(|p| p.capture.sha256 == older.sha256 && p.capture.captured_at == older.captured_at)
        .collect();
    let mut fates = Vec::new();
    if !provisions.is_empty() {
        out.line("")?;
        out.line("Provisions of the older capture, in the newer one:")?;
    }
    for provision in &provisions {
        let (word, detail) = match relocate(&new_text, &provision.selector) {
            Relocation::Unchanged => ("unchanged", json!(null)),
            Relocation::Moved { start, end } => (
                "moved",
                json!({"from": [provision.selector.start, provision.selector.end], "to": [start, end]}),
            ),
            Relocation::Changed { closest } => ("changed", json!({"closest": closest})),
        };
        let extra = match word {
            "moved" => format!(
                " (characters {}–{} → {}–{})",
                provision.selector.start, provision.selector.end, detail["to"][0], detail["to"][1]
            ),
            "changed" => format!(
                "; closest passage now: {:?}",
                detail["closest"].as_str().unwrap_or_default()
            ),
            _ => String::new(),
        };
        out.line(format!(
            "  {} {}: {}{}",
            provision.id, provision.title, word, extra
        ))?;
        fates.push(json!({"provision": provision.id, "status": word, "detail": detail}));
    }
    out.value(&json!({
        "document": id,
        "from": older,
        "to": newer,
        "lines_added": added,
        "lines_removed": removed,
        "diff": rendered,
        "provisions": fates,
    }))?;
    Ok(crate::exit::OK)
}
