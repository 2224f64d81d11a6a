//! Text versions and change records: `import declarations`, `declare`, `reindex`, `changes`,
//! `provision status`, and the citation of a change record. The rules live in
//! `evarc_provenance::{declaration, rules, versions}`; this only renders.

use std::path::Path;

use anyhow::{bail, Context as _, Result};
use evarc_provenance::change::word_ops;
use evarc_provenance::declaration::{parse_declaration, ServiceDeclaration};
use evarc_provenance::id::{ChangeId, DocumentId, ProvisionId};
use evarc_provenance::model::Document;
use evarc_provenance::rules::{Rules, Selector};
use evarc_provenance::versions::{ChangeRecord, DocumentRules, PassageKind, ProvisionStatus};
use evarc_provenance::Archive;
use evarc_provenance::OpenMode;
use serde_json::json;

use super::{now, text_time};
use crate::cli::{
    ChangesArgs, DeclareArgs, GlobalArgs, ImportDeclarationsArgs, ProvisionStatusArgs, ReindexArgs,
};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

/// Reads one declaration file or every `*.json` of a folder (sorted by name).
pub(crate) fn read_declarations(path: &Path) -> Result<Vec<ServiceDeclaration>> {
    let files = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("reading the folder {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(parse_declaration(&name, &text)?);
    }
    Ok(out)
}

pub fn import_declarations(
    global: &GlobalArgs,
    args: ImportDeclarationsArgs,
    out: &mut Output,
) -> Result<Outcome> {
    let declarations = read_declarations(&args.path)?;
    let archive = open(global, OpenMode::ReadWrite)?;
    let origin = format!("declarations {}", args.path.display());
    let bindings = archive.bind_declarations(&declarations, &origin, now())?;
    let files = declarations.len();
    let (mut bound, mut unmatched) = (0usize, 0usize);
    for b in &bindings {
        for d in &b.documents {
            bound += 1;
            let history = if d.history > 0 {
                " (history: older rules)"
            } else {
                ""
            };
            let moved = if d.moved {
                format!(" (page moved: declared at {})", d.fetch)
            } else {
                String::new()
            };
            out.line(format!(
                "{}  {} — {}: bound{}{}",
                d.document, b.service, d.title, history, moved
            ))?;
            for feature in &d.unsupported {
                out.line(format!("    unsupported: {feature}"))?;
            }
        }
        for url in &b.unmatched {
            unmatched += 1;
            out.line(format!(
                "-            {} — {}: no document for {url}",
                b.service, b.terms_type
            ))?;
        }
    }
    let undeclared = archive.undeclared_documents(&declarations, &bindings)?;
    for doc in &undeclared {
        out.line(format!(
            "{}  {} — {}: no declared page (its text is the whole page)",
            doc.id, doc.entity, doc.title
        ))?;
    }
    out.line(format!(
        "{files} declaration files, {bound} document bindings, {unmatched} declared pages without a document; run `evarc reindex` to recompute versions"
    ))?;
    let undeclared: Vec<_> = undeclared.iter().map(|d| d.id.to_string()).collect();
    out.value(&json!({"files": files, "bindings": bindings, "undeclared": undeclared}))?;
    Ok(Outcome::Done)
}

pub fn declare(global: &GlobalArgs, args: DeclareArgs, out: &mut Output) -> Result<Outcome> {
    let id = args.document.clone();
    let rules = Rules {
        select: args.select.into_iter().map(Selector::Css).collect(),
        remove: args.remove.into_iter().map(Selector::Css).collect(),
        filter: Vec::new(),
    };
    rules.check()?;
    let archive = open(global, OpenMode::ReadWrite)?;
    let document_rules = DocumentRules {
        document: id.clone(),
        rules: rules.clone(),
        history: Vec::new(),
        unsupported: Vec::new(),
        origin: "declare".to_owned(),
        set_at: now(),
    };
    archive.set_document_rules(&document_rules)?;
    let list = |v: &[Selector]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.line(format!(
        "{id}: select [{}], remove [{}] (rules sha256:{}); run `evarc reindex {id}` to recompute versions",
        list(&rules.select),
        list(&rules.remove),
        rules.digest()
    ))?;
    out.value(&json!({"rules": document_rules, "rules_sha256": rules.digest()}))?;
    Ok(Outcome::Done)
}

pub fn reindex(global: &GlobalArgs, args: ReindexArgs, out: &mut Output) -> Result<Outcome> {
    let only = args.document.clone();
    let archive = open(global, OpenMode::ReadWrite)?;
    let documents: Vec<DocumentId> = match only {
        Some(id) => vec![archive.document(&id)?.id],
        None => archive.documents()?.into_iter().map(|d| d.id).collect(),
    };
    let mut reports = Vec::new();
    for id in documents {
        let report = archive.reindex(&id, now())?;
        let superseded = if report.changes_superseded.is_empty() {
            String::new()
        } else {
            format!(
                ", superseded {}",
                report
                    .changes_superseded
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        let no_text = if report.without_text > 0 {
            format!(", {} without text under the rules", report.without_text)
        } else {
            String::new()
        };
        out.line(format!(
            "{id}  {} captures, {} versions, {} new change records, {} kept{superseded}{no_text}",
            report.captures,
            report.versions,
            report.changes_new.len(),
            report.changes_kept
        ))?;
        reports.push(report);
    }
    out.value(&json!({"documents": reports}))?;
    Ok(Outcome::Done)
}

fn doc_label(doc: &Document) -> String {
    format!("{} {} — {}", doc.id, doc.entity, doc.title)
}

fn passages_summary(change: &ChangeRecord) -> String {
    let count = |kind| change.passages.iter().filter(|p| p.kind == kind).count();
    format!(
        "+{} −{} words; {} added, {} removed, {} changed passages",
        change.words_added,
        change.words_removed,
        count(PassageKind::Added),
        count(PassageKind::Removed),
        count(PassageKind::Changed)
    )
}

fn status_line(status: ProvisionStatus, wording: Option<&str>, words: &str) -> String {
    match status {
        ProvisionStatus::Amended => format!("amended: {words}"),
        ProvisionStatus::Unchanged | ProvisionStatus::Moved => status.as_str().to_owned(),
        ProvisionStatus::Removed => "removed".to_owned(),
        ProvisionStatus::Absent => {
            if wording.is_none() {
                "absent (not in the previous version's text)".to_owned()
            } else {
                "absent".to_owned()
            }
        }
    }
}

fn indent(text: &str, mark: &str) -> String {
    text.lines()
        .map(|l| format!("      {mark}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn print_change(out: &mut Output, change: &ChangeRecord, document: &Document) -> Result<()> {
    out.line(format!("{}  {}", change.id, doc_label(document)))?;
    out.line(format!(
        "  changed:  {} (capture sha256:{})",
        text_time(change.capture.captured_at),
        change.capture.sha256
    ))?;
    out.line(format!(
        "  before:   {} (capture sha256:{})",
        text_time(change.previous.captured_at),
        change.previous.sha256
    ))?;
    out.line(format!(
        "  text:     sha256:{} → sha256:{}",
        change.from_text_sha256, change.to_text_sha256
    ))?;
    out.line(format!(
        "  rules:    sha256:{} ({})",
        change.rules_sha256, change.extractor
    ))?;
    if let Some(s) = &change.superseded {
        out.line(format!("  superseded {}: {}", text_time(s.at), s.reason))?;
    }
    out.line(format!("  {}", passages_summary(change)))?;
    for p in &change.passages {
        match p.kind {
            PassageKind::Added => {
                out.line(format!("    added at line {}:", p.line))?;
                out.line(indent(&p.new, "+ "))?;
            }
            PassageKind::Removed => {
                out.line(format!("    removed at line {}:", p.line))?;
                out.line(indent(&p.old, "- "))?;
            }
            PassageKind::Changed => {
                out.line(format!("    changed at line {}:", p.line))?;
                out.line(indent(
                    &super::text_diff::render_words(
                        &word_ops(&p.words),
                        super::text_diff::colour_wanted(),
                    ),
                    "~ ",
                ))?;
            }
        }
    }
    if !change.provisions.is_empty() {
        out.line("  provisions:")?;
    }
    for p in &change.provisions {
        out.line(format!(
            "    {} {}: {}",
            p.provision,
            p.title,
            status_line(
                p.status,
                p.wording.as_deref(),
                &super::text_diff::render_words(
                    &word_ops(&p.words),
                    super::text_diff::colour_wanted()
                )
            )
        ))?;
    }
    Ok(())
}

pub fn changes(global: &GlobalArgs, args: ChangesArgs, out: &mut Output) -> Result<Outcome> {
    let since = args.since;
    let archive = open(global, OpenMode::ReadOnly)?;
    if let Some(what) = args.what.as_deref() {
        if let Ok(id) = what.trim().parse::<ChangeId>() {
            let change = archive.change_view(&id)?;
            let document = archive.document(&change.document)?;
            print_change(out, &change, &document)?;
            out.value(&json!({"change": change, "document": document}))?;
            return Ok(Outcome::Done);
        }
    }
    let documents = select_documents(&archive, args.what.as_deref())?;
    let mut listed = Vec::new();
    let mut superseded_hidden = 0usize;
    for doc in &documents {
        for change in archive.changes_with_statuses(&doc.id)? {
            if since.is_some_and(|d| change.capture.captured_at.date_naive() < d) {
                continue;
            }
            if change.superseded.is_some() && !args.all {
                superseded_hidden += 1;
                continue;
            }
            let provisions: Vec<String> = change
                .provisions
                .iter()
                .filter(|p| p.status != ProvisionStatus::Unchanged)
                .map(|p| format!("{} {}", p.provision, p.status.as_str()))
                .collect();
            out.line(format!(
                "{}  {}  {}  {}{}{}",
                change.id,
                text_time(change.capture.captured_at),
                doc_label(doc),
                passages_summary(&change),
                if provisions.is_empty() {
                    String::new()
                } else {
                    format!("; {}", provisions.join(", "))
                },
                if change.superseded.is_some() {
                    " (superseded)"
                } else {
                    ""
                }
            ))?;
            listed.push(change);
        }
    }
    let hidden = if superseded_hidden > 0 {
        format!(" ({superseded_hidden} superseded not shown: --all)")
    } else {
        String::new()
    };
    out.line(format!(
        "{} change records in {} documents{hidden}",
        listed.len(),
        documents.len()
    ))?;
    out.value(&json!({"changes": listed}))?;
    Ok(Outcome::Done)
}

/// A document ID, an entity (case-insensitive), or every document.
fn select_documents(archive: &Archive, what: Option<&str>) -> Result<Vec<Document>> {
    let Some(what) = what.map(str::trim) else {
        return Ok(archive.documents()?);
    };
    if let Ok(id) = what.parse::<DocumentId>() {
        return Ok(vec![archive.document(&id)?]);
    }
    let docs: Vec<Document> = archive
        .documents()?
        .into_iter()
        .filter(|d| d.entity.eq_ignore_ascii_case(what))
        .collect();
    if docs.is_empty() {
        bail!("no document or entity {what:?} in this archive (give CA-D-…, CA-C-… or an entity name)");
    }
    Ok(docs)
}

pub fn provision_status(
    global: &GlobalArgs,
    args: ProvisionStatusArgs,
    out: &mut Output,
) -> Result<Outcome> {
    let id: ProvisionId = args.provision.trim().parse()?;
    let archive = open(global, OpenMode::ReadOnly)?;
    let provision = archive.provision(&id)?;
    let document = archive.document(&provision.document)?;
    let timeline = archive.provision_timeline(&id)?;
    out.line(format!("{}  {}", provision.id, provision.title))?;
    out.line(format!("  of {}", doc_label(&document)))?;
    out.line(format!(
        "  registered on capture sha256:{} ({})",
        provision.capture.sha256,
        text_time(provision.capture.captured_at)
    ))?;
    if timeline.is_empty() {
        out.line("  no text versions of its capture yet (`evarc reindex`)")?;
    }
    for entry in &timeline {
        let change = entry
            .change
            .as_ref()
            .map_or_else(String::new, |c| format!(" ({c})"));
        out.line(format!(
            "  v{}  {}{}  {}",
            entry.version,
            text_time(entry.first_captured_at),
            change,
            status_line(
                entry.status,
                entry.wording.as_deref(),
                &super::text_diff::render_words(
                    &word_ops(&entry.words),
                    super::text_diff::colour_wanted()
                )
            )
        ))?;
    }
    out.value(&json!({"provision": provision, "timeline": timeline}))?;
    Ok(Outcome::Done)
}

/// `evarc cite CA-C-…`.
pub fn cite_change(
    global: &GlobalArgs,
    id: &ChangeId,
    format: evarc_provenance::cite::Format,
    out: &mut Output,
) -> Result<Outcome> {
    let archive = open(global, OpenMode::ReadOnly)?;
    let change = archive.change_view(id)?;
    let document = archive.document(&change.document)?;
    let config = archive.config()?;
    let text = evarc_provenance::cite::change::render_change(
        &change,
        &document,
        &config.name,
        config.base_url.as_deref(),
        format,
    )?;
    out.raw(text.as_bytes())?;
    Ok(Outcome::Done)
}
