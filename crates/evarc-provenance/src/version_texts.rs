//! Version texts kept as snapshots in the store (docs/versions.md, docs/format.md).
//!
//! A new version text goes through the store's snapshot path with the document's previous
//! version text as its base hint, so it is kept as a delta (versions differ by a few lines, as
//! the pages do). The store knows only bytes and digests; provenance keeps the reference
//! `vsnap/<text SHA-256>` → the snapshot's BLAKE3 key, committed in the snapshot's own write.
//! Archives written before keep each text whole under `vtext/<text SHA-256>`: both read.

use std::collections::BTreeSet;
use std::io::Cursor;

use evarc_store::{BaseHint, Blake3, Durability, PutOptions, RecordBatch, Sha256};
use sha2::Digest as _;

use crate::archive::Archive;
use crate::error::{ProvenanceError, Result};
use crate::keys;
use crate::model::Capture;

/// What the audit found about version texts (`verify --all`).
#[derive(Debug, Default)]
pub struct VersionTextAudit {
    /// Version texts checked: snapshots re-hashed by the scrub and found by their reference, and
    /// whole texts (older archives) re-hashed against their key.
    pub checked: u64,
    /// Snapshot keys of version texts that no capture shares (not counted as capture snapshots).
    pub text_only_snapshots: BTreeSet<Blake3>,
    /// Bytes of those snapshots re-hashed by the scrub.
    pub text_only_bytes: u64,
    /// Damage: (record name, what is wrong).
    pub damage: Vec<(String, String)>,
}

fn sha_hex(text: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(text))
}

impl Archive {
    /// The snapshot holding a version text, when it is kept as one.
    pub(crate) fn version_text_snapshot(&self, sha: &[u8; 32]) -> Result<Option<Blake3>> {
        match self.store().record(&keys::text_snapshot(sha))? {
            None => Ok(None),
            Some(value) => {
                Blake3::from_slice(&value)
                    .map(Some)
                    .ok_or_else(|| ProvenanceError::RecordCorrupt {
                        key: format!("vsnap/{}", hex::encode(sha)),
                        reason: "not a 32-byte BLAKE3 key".into(),
                    })
            }
        }
    }

    /// A version's text by its SHA-256: from its snapshot (verified by the store as it is read),
    /// or whole from an older archive; checked against the SHA-256 either way.
    pub fn version_text(&self, text_sha256: &str) -> Result<String> {
        let sha = evarc_store::Sha256::from_hex(text_sha256)?.0;
        let (bytes, key) = match self.version_text_snapshot(&sha)? {
            Some(snapshot) => (self.store().read(snapshot)?, format!("vsnap/{text_sha256}")),
            None => (
                self.store().record(&keys::text(&sha))?.ok_or_else(|| {
                    ProvenanceError::RecordCorrupt {
                        key: format!("vtext/{text_sha256}"),
                        reason: "missing".into(),
                    }
                })?,
                format!("vtext/{text_sha256}"),
            ),
        };
        let actual = sha_hex(&bytes);
        if actual != text_sha256 {
            return Err(ProvenanceError::RecordCorrupt {
                key,
                reason: format!("the text hashes to {actual}"),
            });
        }
        String::from_utf8(bytes).map_err(|_| ProvenanceError::RecordCorrupt {
            key,
            reason: "not UTF-8".into(),
        })
    }

    /// The snapshot of the text of the latest capture before `before` (in `captures`, time
    /// order) whose text is known and kept as a snapshot: the base of the next version text.
    pub(crate) fn text_base_before(
        &self,
        captures: &[Capture],
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Blake3>> {
        for capture in captures.iter().rev() {
            if capture.captured_at >= before {
                continue;
            }
            let Some(record) = self.capture_text_record(capture)? else {
                continue;
            };
            if let Some(sha) = record.text_sha256 {
                return self.version_text_snapshot(&evarc_store::Sha256::from_hex(&sha)?.0);
            }
        }
        Ok(None)
    }

    /// Stores version texts of one document, in time order, each as a snapshot that follows
    /// the one before (`previous` first: the document's earlier version text), with its
    /// reference in the same write. Texts already stored are not stored again (one kept as a
    /// snapshot becomes the base of the next). Returns the last text's snapshot.
    pub(crate) fn store_version_texts<'a>(
        &self,
        texts: impl IntoIterator<Item = (&'a str, &'a str)>,
        mut previous: Option<Blake3>,
        durability: Durability,
    ) -> Result<Option<Blake3>> {
        for (text_sha256, text) in texts {
            let sha = evarc_store::Sha256::from_hex(text_sha256)?.0;
            if let Some(snapshot) = self.version_text_snapshot(&sha)? {
                previous = Some(snapshot);
                continue;
            }
            if self.store().record(&keys::text(&sha))?.is_some() {
                continue; // kept whole by an older evarc
            }
            let options = PutOptions {
                expected: Some(Sha256(sha)),
                base_hint: previous.map(BaseHint::After),
            };
            let prepared = self
                .store()
                .prepare(Cursor::new(text.as_bytes()), options, |_| {})?;
            let snapshot = prepared.info().blake3;
            let mut batch = RecordBatch::new();
            batch.put(keys::text_snapshot(&sha), snapshot.as_bytes().to_vec());
            self.store()
                .commit_prepared_with(prepared, Some(batch), durability)?;
            previous = Some(snapshot);
        }
        Ok(previous)
    }

    /// Every version text re-checked: each reference must name a snapshot that is present,
    /// that the scrub verified (`failed`: the scrub's failures) and whose SHA-256 is the
    /// reference's; each whole text must hash to its key. `capture_snapshots`: the snapshots
    /// capture records name (a text may share one with a capture, e.g. a plain-text page).
    pub(crate) fn audit_version_texts(
        &self,
        capture_snapshots: &BTreeSet<Blake3>,
        failed: &BTreeSet<Blake3>,
    ) -> VersionTextAudit {
        let mut audit = VersionTextAudit::default();
        match self
            .store()
            .records_with_prefix(keys::TEXT_SNAPSHOT.as_bytes())
        {
            Ok(rows) => {
                for (key, value) in rows {
                    audit.checked += 1;
                    let sha = &key[keys::TEXT_SNAPSHOT.len()..];
                    let name = format!("vsnap/{}", hex::encode(sha));
                    let Some(snapshot) = Blake3::from_slice(&value) else {
                        audit.damage.push((name, "not a 32-byte BLAKE3 key".into()));
                        continue;
                    };
                    let shared = capture_snapshots.contains(&snapshot);
                    if failed.contains(&snapshot) {
                        audit.damage.push((
                            name,
                            format!("its snapshot blake3:{snapshot} does not verify"),
                        ));
                        if !shared {
                            audit.text_only_snapshots.insert(snapshot);
                        }
                        continue;
                    }
                    match self.store().info(snapshot) {
                        Ok(Some(info)) if info.sha256.as_bytes()[..] == *sha => {
                            if !shared && audit.text_only_snapshots.insert(snapshot) {
                                audit.text_only_bytes += info.len;
                            }
                        }
                        Ok(Some(info)) => audit.damage.push((
                            name,
                            format!(
                                "its snapshot blake3:{snapshot} holds SHA-256 {}",
                                info.sha256
                            ),
                        )),
                        Ok(None) => audit
                            .damage
                            .push((name, format!("its snapshot blake3:{snapshot} is missing"))),
                        Err(err) => audit.damage.push((name, err.to_string())),
                    }
                }
            }
            Err(err) => audit
                .damage
                .push((keys::TEXT_SNAPSHOT.to_owned(), err.to_string())),
        }
        // Capture text records and change records: each must read and decode.
        for prefix in [keys::CAPTURE_TEXT, keys::CHANGE] {
            let mut visited = 0u64;
            let scanned = self.store().scan_records(prefix.as_bytes(), |key, value| {
                visited += 1;
                let decodes = if prefix == keys::CHANGE {
                    serde_json::from_slice::<crate::versions::ChangeRecord>(value).is_ok()
                } else {
                    serde_json::from_slice::<crate::versions::CaptureText>(value).is_ok()
                };
                if !decodes {
                    audit.damage.push((
                        format!("{prefix}{}", hex::encode(&key[prefix.len()..])),
                        "does not decode".into(),
                    ));
                }
                true
            });
            if let Err(err) = scanned {
                audit.damage.push((
                    format!("{prefix} (after {visited} records)"),
                    err.to_string(),
                ));
            }
        }
        match self.store().records_with_prefix(keys::TEXT.as_bytes()) {
            Ok(rows) => {
                for (key, text) in rows {
                    audit.checked += 1;
                    let expected = hex::encode(&key[keys::TEXT.len()..]);
                    let actual = sha_hex(&text);
                    if actual != expected {
                        audit.damage.push((
                            format!("vtext/{expected}"),
                            format!("the text hashes to {actual}"),
                        ));
                    }
                }
            }
            Err(err) => audit.damage.push((keys::TEXT.to_owned(), err.to_string())),
        }
        audit
    }
}
