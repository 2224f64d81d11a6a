//! `evarc show`, `evarc list`, `evarc search`.

use anyhow::Result;
use evarc_provenance::id::RecordId;
use evarc_provenance::{DigestQuery, OpenMode};
use evarc_provenance::{SearchHit, SearchQuery, SearchRangeError};
use serde_json::json;

use super::{text_time, thousands};
use crate::cli::{GlobalArgs, ListArgs, SearchArgs, ShowArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

pub fn show(global: &GlobalArgs, args: ShowArgs, out: &mut Output) -> Result<Outcome> {
    let choice = super::cite::capture_choice(args.capture, args.at.as_deref())?;
    let archive = open(global, OpenMode::ReadOnly)?;
    let text = args.id.trim();
    if !choice.is_latest() && !matches!(text.parse::<RecordId>(), Ok(RecordId::Document(_))) {
        anyhow::bail!(
            "--at and --capture choose a capture of a document: give a document ID (CA-D-…), not {text:?}"
        );
    }
    let id = match text.parse::<RecordId>() {
        Ok(id) => id,
        Err(id_err) => {
            // Not an ID: perhaps a snapshot hash.
            let Ok(query) = text.parse::<DigestQuery>() else {
                // Something shaped like an ID keeps the ID's own error (e.g. a zero sequence).
                if text.contains('-') {
                    return Err(id_err.into());
                }
                let prefix = archive.config()?.prefix;
                anyhow::bail!(
                    "{text:?} is neither a record ID nor a snapshot hash: expected a document or provision ID ({prefix}-D-<digits>, {prefix}-P-<digits>) or a SHA-256 or BLAKE3 (64 hex digits, optionally sha256: or blake3: before them)"
                );
            };
            let info = archive.snapshot(query)?;
            let captures = archive.captures_with_sha(info.sha256)?;
            out.line(format!("Snapshot sha256:{}", info.sha256))?;
            out.line(format!("BLAKE3:   blake3:{}", info.blake3))?;
            out.line(format!("Size:     {} bytes", thousands(info.len)))?;
            for c in &captures {
                out.line(format!(
                    "Capture:  {} at {}",
                    c.document,
                    text_time(c.captured_at)
                ))?;
            }
            out.value(&json!({"snapshot": {"sha256": info.sha256.to_hex(), "blake3": info.blake3.to_hex(), "size": info.len}, "captures": captures}))?;
            return Ok(Outcome::Done);
        }
    };
    match &id {
        RecordId::Document(doc_id) => {
            let doc = archive.document(doc_id)?;
            let captures = archive.captures(doc_id)?;
            let provisions = archive.provisions_of(doc_id)?;
            out.line(format!("Document:      {}", doc.id))?;
            out.line(format!("Entity:        {}", doc.entity))?;
            out.line(format!("Title:         {}", doc.title))?;
            out.line(format!("Source URL:    {}", doc.source_url))?;
            out.line(format!("Registered:    {}", text_time(doc.registered_at)))?;
            out.line(format!("Captures:      {}", captures.len()))?;
            if let (Some(first), Some(last)) = (captures.first(), captures.last()) {
                out.line(format!("First tracked: {}", text_time(first.first_tracked)))?;
                out.line(format!(
                    "Latest:        {} sha256:{}",
                    text_time(last.captured_at),
                    last.sha256
                ))?;
                out.line(format!("Last verified: {}", text_time(last.last_verified)))?;
            }
            let chosen = if choice.is_latest() {
                None
            } else {
                let c = archive.choose_capture(doc_id, &choice)?;
                out.line(format!(
                    "Chosen:        {} sha256:{} ({} bytes, {})",
                    text_time(c.captured_at),
                    c.sha256,
                    thousands(c.byte_len),
                    c.media_type
                ))?;
                Some(c)
            };
            let shown = chosen.as_ref().or(captures.last());
            let withdrawn = match shown {
                Some(c) => archive.withdrawal(c)?,
                None => None,
            };
            if let Some(w) = &withdrawn {
                out.line(format!(
                    "Withdrawn:     {}: {}",
                    text_time(w.withdrawn_at),
                    w.reason
                ))?;
            }
            if let Some(status) = shown.and_then(|c| c.http.as_ref()).map(|h| h.status) {
                if !(200..300).contains(&status) {
                    out.line(format!("HTTP status:   {status}"))?;
                }
            }
            out.line(format!("Provisions:    {}", provisions.len()))?;
            for p in &provisions {
                out.line(format!("  {}  {}", p.id, p.title))?;
            }
            let mut value =
                json!({"document": doc, "captures": captures, "provisions": provisions});
            if let Some(c) = &chosen {
                value["capture"] = json!(c);
            }
            if let Some(w) = &withdrawn {
                value["withdrawn"] = json!(w);
            }
            out.value(&value)?;
        }
        RecordId::Provision(prov_id) => {
            let p = archive.provision(prov_id)?;
            let doc = archive.document(&p.document)?;
            out.line(format!("Provision:  {}", p.id))?;
            out.line(format!("Title:      {}", p.title))?;
            out.line(format!(
                "Document:   {} {} — {}",
                doc.id, doc.entity, doc.title
            ))?;
            out.line(format!(
                "Capture:    {} sha256:{}",
                text_time(p.capture.captured_at),
                p.capture.sha256
            ))?;
            out.line(format!("Quote:      {}", p.quote))?;
            out.line(format!(
                "Position:   characters {}–{} of the extracted text",
                p.selector.start, p.selector.end
            ))?;
            out.line(format!("Prefix:     {:?}", p.selector.prefix))?;
            out.line(format!("Suffix:     {:?}", p.selector.suffix))?;
            if let Some(severity) = &p.severity {
                out.line(format!("Severity:   {severity}"))?;
            }
            if !p.categories.is_empty() {
                out.line(format!("Categories: {}", p.categories.join(", ")))?;
            }
            out.line(format!("Registered: {}", text_time(p.registered_at)))?;
            out.value(&json!({"provision": p, "document": doc}))?;
        }
    }
    Ok(Outcome::Done)
}

pub fn list(global: &GlobalArgs, args: ListArgs, out: &mut Output) -> Result<Outcome> {
    let archive = open(global, OpenMode::ReadOnly)?;
    let wanted = args.entity.as_deref().map(|e| e.trim().to_lowercase());
    let mut rows = Vec::new();
    for doc in archive.documents()? {
        if wanted
            .as_ref()
            .is_some_and(|w| &doc.entity.to_lowercase() != w)
        {
            continue;
        }
        let captures = archive.captures(&doc.id)?;
        let latest = captures.last().map(|c| c.captured_at);
        out.line(format!(
            "{}  {} — {}  ({} captures{})",
            doc.id,
            doc.entity,
            doc.title,
            captures.len(),
            latest.map_or_else(String::new, |t| format!(", latest {}", text_time(t)))
        ))?;
        rows.push(json!({"document": doc, "captures": captures.len(), "latest": latest}));
    }
    if rows.is_empty() {
        eprintln!("no documents");
    }
    out.value(&rows)?;
    Ok(Outcome::Done)
}

pub fn search(global: &GlobalArgs, args: SearchArgs, out: &mut Output) -> Result<Outcome> {
    if args.text.trim().is_empty() {
        anyhow::bail!("search needs some text to look for");
    }
    let query = SearchQuery::with_range(&args.text, args.from.as_deref(), args.to.as_deref())
        // The bound is named as the option it came from.
        .map_err(|e: SearchRangeError| anyhow::anyhow!("--{e}"))?;
    let archive = open(global, OpenMode::ReadOnly)?;
    let hits = archive.search_with(&query)?;
    let mut rows = Vec::new();
    for hit in &hits {
        match hit {
            SearchHit::Document(d) => {
                out.line(format!(
                    "{}  {} — {}  <{}>",
                    d.id, d.entity, d.title, d.source_url
                ))?;
                rows.push(json!({"document": d}));
            }
            SearchHit::Provision(p) => {
                out.line(format!("{}  {}  ({})", p.id, p.title, p.document))?;
                rows.push(json!({"provision": p}));
            }
        }
    }
    if hits.is_empty() {
        eprintln!("no matches for {:?}", args.text);
    }
    out.value(&rows)?;
    Ok(Outcome::Done)
}
