//! `evarc track`: fetch every tracked document's page through the same capture path as
//! `evarc archive URL`, archive it, and say per document whether its text changed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use evarc_provenance::cite::CaptureMethod;
use evarc_provenance::id::DocumentId;
use evarc_provenance::model::Document;
use evarc_provenance::OpenMode;
use evarc_provenance::{CaptureRequest, DocumentRef};
use serde_json::json;

use super::{now, text_time};
use crate::cli::{GlobalArgs, TrackArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::fetch::{self, FetchOptions, Fetched};
use crate::output::Output;

fn request_for(
    document: &DocumentId,
    fetched: &Fetched,
    started: chrono::DateTime<chrono::Utc>,
) -> CaptureRequest {
    CaptureRequest {
        document: DocumentRef::Id(document.clone()),
        captured_at: started,
        method: CaptureMethod::HttpFetch {
            status: fetched.status,
            final_url: fetched.final_url.clone(),
        },
        media_type: fetched.media_type.clone(),
        source_url: Some(fetched.final_url.clone()),
        http: Some(fetched.http_exchange()),
        last_updated: None,
        wayback: None,
        expected_sha256: None,
        private: false,
    }
}

fn host_of(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

pub fn track(global: &GlobalArgs, args: TrackArgs, out: &mut Output) -> Result<Outcome> {
    let named: Vec<DocumentId> = args.documents.clone();
    let archive = open(global, OpenMode::ReadWrite)?;
    if let Some(dir) = &args.declarations {
        let declarations = super::versions::read_declarations(dir)?;
        archive.bind_declarations(
            &declarations,
            &format!("declarations {}", dir.display()),
            now(),
        )?;
    }
    let documents: Vec<Document> = if named.is_empty() {
        let mut tracked = Vec::new();
        for doc in archive.documents()? {
            if archive.document_rules(&doc.id)?.is_some() {
                tracked.push(doc);
            }
        }
        tracked
    } else {
        named
            .iter()
            .map(|id| archive.document(id))
            .collect::<Result<_, _>>()?
    };
    if documents.is_empty() {
        bail!("no tracked documents: bind rules with `evarc import declarations` or `evarc declare`, or name documents (CA-D-…)");
    }
    let config = archive.config()?;
    let contact = config
        .base_url
        .clone()
        .unwrap_or_else(|| config.name.clone());
    let options = FetchOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        user_agent: args.user_agent.clone().unwrap_or_else(|| {
            format!(
                "evarc/{} (+evidence capture; archive: {contact})",
                env!("CARGO_PKG_VERSION")
            )
        }),
        ..FetchOptions::default()
    };
    let delay = Duration::from_millis(args.delay_ms);
    let mut last_fetch: HashMap<String, Instant> = HashMap::new();
    let mut results = Vec::new();
    let mut failed = 0usize;
    for doc in &documents {
        let host = host_of(&doc.source_url);
        if let Some(at) = last_fetch.get(&host) {
            let waited = at.elapsed();
            if waited < delay {
                std::thread::sleep(delay - waited);
            }
        }
        let started = now();
        let fetched = fetch::fetch(&doc.source_url, &options);
        last_fetch.insert(host, Instant::now());
        let outcome = fetched.map_err(anyhow::Error::from).and_then(|fetched| {
            if fetched.body.is_empty() {
                bail!("{} returned an empty body", fetched.final_url);
            }
            let request = request_for(&doc.id, &fetched, started);
            Ok(archive.capture(std::io::Cursor::new(&fetched.body), request, now())?)
        });
        let (status, line) = match outcome {
            Err(err) => {
                failed += 1;
                let reason = format!("{err:#}").replace('\n', " ");
                (
                    json!({"status": "failed", "reason": reason}),
                    format!("failed: {reason}"),
                )
            }
            Ok(outcome) if !outcome.capture_created => (
                json!({"status": "unchanged", "bytes": "same"}),
                format!(
                    "unchanged (same bytes as {}; last verified now)",
                    text_time(outcome.capture.captured_at)
                ),
            ),
            Ok(outcome) => {
                let change = archive.changes_of(&doc.id)?.into_iter().find(|c| {
                    c.capture.sha256 == outcome.capture.sha256
                        && c.capture.captured_at == outcome.capture.captured_at
                });
                let first = archive.captures(&doc.id)?.len() == 1;
                match change {
                    None if first => (
                        json!({"status": "first version"}),
                        "first version".to_owned(),
                    ),
                    Some(change) => (
                        json!({"status": "new version", "change": change.id}),
                        format!("new version {}", change.id),
                    ),
                    None => (
                        json!({"status": "unchanged", "bytes": "new"}),
                        "unchanged text (new bytes: a re-verification)".to_owned(),
                    ),
                }
            }
        };
        out.line(format!(
            "{}  {} — {}: {line}",
            doc.id, doc.entity, doc.title
        ))?;
        results.push(json!({"document": doc.id, "url": doc.source_url, "result": status}));
    }
    out.line(format!(
        "{} documents fetched, {failed} failed",
        documents.len() - failed
    ))?;
    out.value(&json!({"documents": results, "failed": failed}))?;
    Ok(Outcome::verified_unless(failed > 0))
}
