//! Transparency-log evidence carried by a package (docs/transparency-log.md, docs/packages.md):
//! the signed checkpoint, the verifier key, the RFC 3161 time-stamp over the checkpoint when
//! there is one, and the inclusion proof of each exported record's leaf.
//!
//! The package only carries these texts: it neither makes nor checks them (the CLI takes them
//! from the archive, `evarc verify-proof` checks them). Their places in the package are fixed
//! names derived from the records, so evidence keeps exports reproducible.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::export::ExportCapture;
use crate::safe::safe_component;

/// The checkpoint file, relative to the log folder (`log/` in a WACZ, `data/log/` in a bag).
pub const CHECKPOINT_FILE: &str = "checkpoint.txt";
/// The verifier key file, relative to the log folder.
pub const KEY_FILE: &str = "key.txt";
/// The time-stamp response (DER) file, relative to the log folder.
pub const TIMESTAMP_FILE: &str = "checkpoint.tsr";

/// Log evidence for an export: everything `evarc verify-proof` (and `openssl ts -verify`)
/// needs besides the exported bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvidence {
    /// The signed checkpoint (C2SP tlog-checkpoint signed note), verbatim.
    pub checkpoint: String,
    /// The verifier key that signed it (`<name>+<key ID>+<base64 key>`, as `evarc key` prints).
    pub public_key: String,
    /// The DER RFC 3161 `TimeStampResp` over the checkpoint text, when one was obtained.
    pub timestamp: Option<Vec<u8>>,
    /// Inclusion proofs against `checkpoint`. A proof of a capture not exported is not written.
    pub proofs: Vec<LogProof>,
}

/// The inclusion proof of one leaf, attached to the exported capture it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogProof {
    /// The capture: document ID, SHA-256 (hex) and capture time, as in [`ExportCapture`].
    pub document: String,
    pub sha256: evarc_record::Sha256,
    pub captured_at: DateTime<Utc>,
    /// `None`: the proof of the capture's own leaf; `Some(provision ID)`: of the leaf of that
    /// provision (which is pinned to this capture).
    pub provision: Option<String>,
    /// The proof (C2SP tlog-proof text, the checkpoint inside it).
    pub proof: String,
}

impl LogProof {
    fn belongs_to(&self, item: &ExportCapture) -> bool {
        self.document == item.document.id.to_string()
            && self.sha256 == item.capture.sha256
            && self.captured_at == item.capture.captured_at
    }

    /// The record whose leaf is proven: the provision ID, or the document ID for a capture.
    pub fn record(&self) -> &str {
        self.provision.as_deref().unwrap_or(&self.document)
    }
}

/// One proof placed in a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlacedProof<'a> {
    /// Index of the capture in the normalized items.
    pub item: usize,
    pub proof: &'a LogProof,
    /// File name in the log folder: `<document>-<stem>.tlog-proof` for a capture's leaf,
    /// `<provision>.tlog-proof` for a provision's. Flat, because `wacz validate` matches a
    /// WACZ's files to its resources by their last two path components only.
    pub path: String,
}

/// The file stem of a capture in a package: `<YYYYMMDDThhmmssZ>-<first 16 hex of SHA-256>`.
pub(crate) fn capture_stem(item: &ExportCapture) -> String {
    let stem = format!(
        "{}-{}",
        item.capture.captured_at.format("%Y%m%dT%H%M%SZ"),
        &item.capture.sha256.to_hex()[..16]
    );
    safe_component(&stem)
}

/// The proofs of `items` (normalized), in package order: by capture, the capture's own proof
/// first, then provisions by ID; each proof once, with a unique path.
pub(crate) fn place_proofs<'a>(
    items: &[ExportCapture],
    log: &'a LogEvidence,
) -> Vec<PlacedProof<'a>> {
    let mut placed = Vec::new();
    let mut used = BTreeSet::new();
    for (index, item) in items.iter().enumerate() {
        let mut proofs: Vec<&LogProof> = log.proofs.iter().filter(|p| p.belongs_to(item)).collect();
        proofs.sort_by(|a, b| a.provision.cmp(&b.provision));
        proofs.dedup_by(|a, b| a.provision == b.provision);
        let capture = safe_component(&format!("{}-{}", item.document.id, capture_stem(item)));
        for proof in proofs {
            let stem = match &proof.provision {
                None => capture.clone(),
                Some(id) => safe_component(id),
            };
            let mut n = 1u32;
            let path = loop {
                let candidate = if n == 1 {
                    format!("{stem}.tlog-proof")
                } else {
                    format!("{stem}-{n}.tlog-proof")
                };
                if used.insert(candidate.to_ascii_lowercase()) {
                    break candidate;
                }
                n += 1;
            };
            placed.push(PlacedProof {
                item: index,
                proof,
                path,
            });
        }
    }
    placed
}

/// The verifier key as a file: one line.
pub(crate) fn key_file(log: &LogEvidence) -> String {
    format!("{}\n", log.public_key.trim())
}

/// The log files of a package, relative to the log folder, in a fixed order: checkpoint, key,
/// time-stamp, then the proofs.
pub(crate) fn log_files(items: &[ExportCapture], log: &LogEvidence) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        (
            CHECKPOINT_FILE.to_owned(),
            log.checkpoint.as_bytes().to_vec(),
        ),
        (KEY_FILE.to_owned(), key_file(log).into_bytes()),
    ];
    if let Some(tsr) = &log.timestamp {
        files.push((TIMESTAMP_FILE.to_owned(), tsr.clone()));
    }
    for placed in place_proofs(items, log) {
        files.push((placed.path, placed.proof.proof.as_bytes().to_vec()));
    }
    files
}
