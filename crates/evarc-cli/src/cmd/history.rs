//! `evarc history` and `evarc diff`: a document over time.

use anyhow::{bail, Result};
use evarc_provenance::anchor::{relocate, Relocation};
use evarc_provenance::compare::CaptureDiff;
use evarc_provenance::model::{Capture, Provision};
use evarc_provenance::OpenMode;
use serde_json::json;

use super::{text_diff, text_time, thousands};
use crate::cli::{DiffArgs, GlobalArgs, HistoryArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

fn anchored_in<'a>(provisions: &'a [Provision], capture: &Capture) -> Vec<&'a Provision> {
    provisions
        .iter()
        .filter(|p| {
            p.capture.sha256 == capture.sha256 && p.capture.captured_at == capture.captured_at
        })
        .collect()
}

pub fn history(global: &GlobalArgs, args: HistoryArgs, out: &mut Output) -> Result<Outcome> {
    let id = args.document.clone();
    let archive = open(global, OpenMode::ReadOnly)?;
    let document = archive.document(&id)?;
    let captures = archive.captures(&id)?;
    let provisions = archive.provisions_of(&id)?;
    out.line(format!(
        "{} {} — {} <{}>",
        document.id, document.entity, document.title, document.source_url
    ))?;
    out.line(format!("{} captures", captures.len()))?;
    // Text versions (docs/versions.md): which version each capture shows.
    let versions = archive.versions(&id)?;
    let version_of = |c: &Capture| {
        versions.versions.iter().find(|v| {
            v.captures
                .iter()
                .any(|x| x.sha256 == c.sha256 && x.captured_at == c.captured_at)
        })
    };
    if let Some(current) = versions.versions.last() {
        let stated = captures
            .iter()
            .rev()
            .find_map(|c| c.last_updated)
            .map_or_else(String::new, |d| {
                format!("; stated by the operator: {}", d.format("%Y-%m-%d"))
            });
        out.line(format!(
            "{} text versions; document last updated {} (first capture of the current text, v{}){stated}",
            versions.versions.len(),
            text_time(current.first_captured_at),
            current.number
        ))?;
    }
    let mut previous: Option<&Capture> = None;
    for capture in &captures {
        let version = version_of(capture);
        let opens = version.filter(|v| {
            v.captures
                .first()
                .is_some_and(|f| f.sha256 == capture.sha256 && f.captured_at == capture.captured_at)
        });
        if let Some(v) = opens {
            let change = v
                .change
                .as_ref()
                .map_or_else(String::new, |c| format!(" ({c})"));
            out.line(format!(
                "v{}{}  text sha256:{}  {} captures, last verified {}",
                v.number,
                change,
                v.text_sha256,
                v.captures.len(),
                text_time(v.last_verified)
            ))?;
        }
        let change = match previous {
            None => "first",
            Some(p) if p.sha256 == capture.sha256 => "same bytes as before",
            Some(_) if version.is_some() && opens.is_none() => "same text (re-verification)",
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
    out.value(&json!({"document": document, "captures": entries, "versions": versions.versions.iter().map(|v| json!({
        "number": v.number,
        "text_sha256": v.text_sha256,
        "change": v.change,
        "first_captured_at": v.first_captured_at,
        "last_verified": v.last_verified,
        "captures": v.captures.iter().map(|c| &c.sha256).collect::<Vec<_>>(),
    })).collect::<Vec<_>>(), "unindexed": versions.unindexed.len(), "without_text": versions.without_text.len()}))?;
    Ok(Outcome::Done)
}

pub fn diff(global: &GlobalArgs, args: DiffArgs, out: &mut Output) -> Result<Outcome> {
    let id = args.document.clone();
    let archive = open(global, OpenMode::ReadOnly)?;
    archive.document(&id)?;
    if args.from.is_none() && args.to.is_none() && archive.captures(&id)?.len() < 2 {
        let n = archive.captures(&id)?.len();
        bail!(
            "{id} has {n} capture{}: a diff needs two",
            if n == 1 { "" } else { "s" }
        );
    }
    let (older, newer) = archive.capture_pair(&id, args.from, args.to)?;
    let (outcome, _old_text, new_text) = archive.diff_captures(&older, &newer, args.context)?;
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
    // The same keys whatever the outcome: counts 0 and no hunks unless the text changed.
    let mut result = json!({
        "document": id,
        "from": older,
        "to": newer,
        "outcome": null,
        "no_text": null,
        "lines_added": 0,
        "lines_removed": 0,
        "lines_changed": 0,
        "diff": "",
        "hunks": [],
    });
    match &outcome {
        CaptureDiff::IdenticalBytes => {
            out.line("identical bytes: no change")?;
            result["outcome"] = json!("identical_bytes");
        }
        CaptureDiff::NoText {
            older: old_type,
            newer: new_type,
        } => {
            let which = match (old_type, new_type) {
                (Some(o), Some(n)) if o == n => format!("either capture ({o})"),
                (Some(o), Some(n)) => format!("either capture (older: {o}; newer: {n})"),
                (Some(o), None) => format!("the older capture ({o})"),
                (None, Some(n)) => format!("the newer capture ({n})"),
                (None, None) => "either capture".to_owned(),
            };
            out.line(format!(
                "no text could be extracted from {which}, so the text cannot be compared; the bytes differ ({} → {} bytes)",
                thousands(older.byte_len),
                thousands(newer.byte_len)
            ))?;
            result["outcome"] = json!("no_text");
            result["no_text"] = json!({"from": old_type, "to": new_type});
        }
        CaptureDiff::SameText => {
            out.line("the bytes differ, but their extracted text is identical")?;
            result["outcome"] = json!("same_text");
        }
        CaptureDiff::Changed(diff) => {
            out.raw_text(&text_diff::render(
                diff,
                !out.json && text_diff::colour_wanted(),
            ))?;
            out.line(text_diff::summary(diff))?;
            result["outcome"] = json!("changed");
            result["lines_added"] = json!(diff.lines_added);
            result["lines_removed"] = json!(diff.lines_removed);
            result["lines_changed"] = json!(diff.lines_changed);
            result["diff"] = json!(text_diff::render(diff, false));
            result["hunks"] = json!(diff.hunks);
        }
    }
    let newer_has_text = !matches!(&outcome, CaptureDiff::NoText { newer: Some(_), .. });
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
        if !newer_has_text {
            out.line(format!(
                "  {} {}: cannot be checked: the newer capture has no text",
                provision.id, provision.title
            ))?;
            fates.push(json!({"provision": provision.id, "status": "unchecked", "detail": null}));
            continue;
        }
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
    result["provisions"] = json!(fates);
    out.value(&result)?;
    Ok(Outcome::Done)
}
