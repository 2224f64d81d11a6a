//! What an archive holds, read in-process (read-only), and the invariants it must keep.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use anyhow::{Context as _, Result};
use evarc_provenance::model::{Capture, Document, Provision};
use evarc_provenance::Archive;
use evarc_store::{Blake3, OpenMode};

/// Every record of an archive.
#[derive(Debug, Default)]
pub struct State {
    pub documents: Vec<Document>,
    pub captures: Vec<Capture>,
    pub provisions: Vec<Provision>,
    pub seq_doc: u64,
    pub seq_prov: u64,
}

fn seq(archive: &Archive, key: &str) -> Result<u64> {
    Ok(match archive.store().record(key.as_bytes())? {
        Some(b) if b.len() == 8 => u64::from_be_bytes(b.try_into().expect("8 bytes")),
        Some(b) => anyhow::bail!("{key} holds {} bytes instead of 8", b.len()),
        None => 0,
    })
}

impl State {
    /// Reads every record of the archive at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let archive = Archive::open(path, OpenMode::ReadOnly)
            .with_context(|| format!("opening {} read-only", path.display()))?;
        Self::of(&archive)
    }

    /// Reads every record of an open archive.
    pub fn of(archive: &Archive) -> Result<Self> {
        let documents = archive.documents()?;
        let mut captures = Vec::new();
        for doc in &documents {
            captures.extend(archive.captures(&doc.id)?);
        }
        Ok(Self {
            documents,
            captures,
            provisions: archive.provisions()?,
            seq_doc: seq(archive, "seq/doc")?,
            seq_prov: seq(archive, "seq/prov")?,
        })
    }

    /// Invariants that hold after any crash: IDs unique and below their counters, documents
    /// unique by key, every capture's snapshot present and verifying (no partial capture),
    /// every provision pinned to a capture that exists.
    pub fn problems(&self, archive: &Archive) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        for d in &self.documents {
            if !ids.insert(d.id.seq()) {
                problems.push(format!("document ID {} appears twice", d.id));
            }
            if d.id.seq() > self.seq_doc {
                problems.push(format!(
                    "document {} is above seq/doc {}",
                    d.id, self.seq_doc
                ));
            }
            if !keys.insert((&d.entity, &d.title, &d.source_url)) {
                problems.push(format!("document {} duplicates another's key", d.id));
            }
        }
        let mut verified: HashSet<Blake3> = HashSet::new();
        for c in &self.captures {
            let key = c.blake3;
            if verified.contains(&key) {
                continue;
            }
            match archive.store().verify(key) {
                Ok(info) if info.sha256 == c.sha256 && info.len == c.byte_len => {
                    verified.insert(key);
                }
                Ok(info) => problems.push(format!(
                    "capture of {} at {} records sha256:{} but its snapshot holds sha256:{}",
                    c.document, c.captured_at, c.sha256, info.sha256
                )),
                Err(e) => problems.push(format!(
                    "capture of {} at {}: snapshot does not verify: {e}",
                    c.document, c.captured_at
                )),
            }
        }
        let mut prov_ids = HashSet::new();
        for p in &self.provisions {
            if !prov_ids.insert(p.id.seq()) {
                problems.push(format!("provision ID {} appears twice", p.id));
            }
            if p.id.seq() > self.seq_prov {
                problems.push(format!(
                    "provision {} is above seq/prov {}",
                    p.id, self.seq_prov
                ));
            }
            let pinned = self.captures.iter().any(|c| {
                c.document == p.document
                    && c.sha256 == p.capture.sha256
                    && c.captured_at == p.capture.captured_at
            });
            if !pinned {
                problems.push(format!("provision {} is pinned to a missing capture", p.id));
            }
        }
        Ok(problems)
    }

    /// The archive's content without IDs and clock-derived fields: documents by key, captures by
    /// document key, time and bytes (with the span of times they were seen). Two runs of the same
    /// import must agree on it even though parallel lanes may number documents differently.
    pub fn canonical(&self) -> BTreeSet<String> {
        let key_of: BTreeMap<_, _> = self
            .documents
            .iter()
            .map(|d| {
                (
                    d.id.to_string(),
                    format!("{} | {} | {}", d.entity, d.title, d.source_url),
                )
            })
            .collect();
        let mut out: BTreeSet<String> = key_of.values().map(|k| format!("document {k}")).collect();
        for c in &self.captures {
            let doc = key_of
                .get(&c.document.to_string())
                .map_or("?", String::as_str);
            out.insert(format!(
                "capture {doc} @ {} sha256:{} {} bytes, {}, first {} last {}",
                c.captured_at.to_rfc3339(),
                c.sha256,
                c.byte_len,
                c.media_type,
                c.first_tracked.to_rfc3339(),
                c.last_verified.to_rfc3339()
            ));
        }
        out
    }
}

/// Differences between two canonical states, at most `limit` of them.
pub fn diff(expected: &BTreeSet<String>, actual: &BTreeSet<String>, limit: usize) -> Vec<String> {
    expected
        .difference(actual)
        .map(|l| format!("missing: {l}"))
        .chain(actual.difference(expected).map(|l| format!("extra:   {l}")))
        .take(limit)
        .collect()
}
