//! Withdrawals: an append-only record that a capture was a mistake. The bytes, the capture
//! record and its log leaf stay; the withdrawal is logged as a leaf of its own (kind
//! `withdrawal`, docs/transparency-log.md) in the same batch as its record, and every citation
//! and export of the capture says it was withdrawn, when and why.

use chrono::{DateTime, SecondsFormat, Utc};
use evarc_store::{RecordBatch, Sha256};
use serde::{Deserialize, Serialize};

use crate::archive::{encode, Archive};
use crate::cite::{self, WithdrawalCitation};
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, RecordId};
use crate::keys;
use crate::model::Capture;

/// The stored withdrawal of one capture.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    pub document: DocumentId,
    pub capture_sha256: Sha256,
    pub captured_at: DateTime<Utc>,
    pub reason: String,
    /// When the withdrawal was recorded (the clock handed to provenance).
    pub withdrawn_at: DateTime<Utc>,
}

impl Withdrawal {
    /// As citations print it.
    pub fn citation(&self) -> WithdrawalCitation {
        WithdrawalCitation {
            withdrawn_at: self.withdrawn_at,
            reason: self.reason.clone(),
        }
    }
}

/// The leaf of a withdrawal: canonical JSON, keys in byte order.
#[derive(Serialize)]
struct WithdrawalLeaf<'a> {
    capture_sha256: &'a Sha256,
    captured_at: String,
    document: String,
    kind: &'static str,
    reason: &'a str,
    v: u32,
    withdrawn_at: String,
}

/// The leaf bytes of a withdrawal.
pub fn withdrawal_leaf(w: &Withdrawal) -> Vec<u8> {
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let leaf = WithdrawalLeaf {
        capture_sha256: &w.capture_sha256,
        captured_at: time(w.captured_at),
        document: w.document.to_string(),
        kind: "withdrawal",
        reason: &w.reason,
        v: crate::tlog::LEAF_VERSION,
        withdrawn_at: time(w.withdrawn_at),
    };
    serde_json::to_vec(&leaf).expect("a leaf serialises: strings and integers")
}

/// What to withdraw: the bytes (when only one capture has them), or a record's capture.
#[derive(Clone, Debug)]
pub enum WithdrawTarget {
    Sha256(Sha256),
    /// A document's capture (its latest, or the one with these bytes), or a provision's.
    Record {
        id: RecordId,
        sha256: Option<Sha256>,
    },
}

impl Archive {
    /// The withdrawal of `capture`, if it was withdrawn.
    pub fn withdrawal(&self, capture: &Capture) -> Result<Option<Withdrawal>> {
        let sha = capture.sha256.0;
        self.json(&keys::withdrawal(
            capture.document.seq(),
            capture.captured_at,
            &sha,
        ))
    }

    /// The capture a withdrawal target names.
    pub fn withdraw_target(&self, target: &WithdrawTarget) -> Result<Capture> {
        match target {
            WithdrawTarget::Sha256(sha) => {
                let mut captures = self.captures_with_sha(*sha)?;
                match captures.len() {
                    0 => Err(ProvenanceError::UnknownRecord {
                        id: format!("capture with SHA-256 {sha}"),
                    }),
                    1 => Ok(captures.remove(0)),
                    count => Err(ProvenanceError::AmbiguousCapture {
                        sha256: sha.to_hex(),
                        count,
                        list: captures
                            .iter()
                            .map(|c| {
                                format!("{} at {}", c.document, cite::text_time(c.captured_at))
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
            WithdrawTarget::Record { id, sha256 } => {
                let choice = match sha256 {
                    Some(sha) => crate::citing::CaptureChoice::Sha256(*sha),
                    None => crate::citing::CaptureChoice::Latest,
                };
                let record = self.citation_with(id, &choice)?;
                let sha = record.capture.sha256;
                self.capture_at(&record.document_id, record.capture.captured_at, sha)?
                    .ok_or_else(|| ProvenanceError::UnknownRecord {
                        id: format!("{} capture sha256:{}", record.document_id, sha.to_hex()),
                    })
            }
        }
    }

    /// Withdraws a capture: records when and why, appends the withdrawal's log leaf in the same
    /// synced batch. The bytes, the capture and its leaf stay. A capture is withdrawn once.
    pub fn withdraw(
        &self,
        target: &WithdrawTarget,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Withdrawal> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ProvenanceError::InvalidInput(
                "a withdrawal needs a reason (non-empty text)".into(),
            ));
        }
        let capture = self.withdraw_target(target)?;
        let _guard = self.write_lock();
        if let Some(existing) = self.withdrawal(&capture)? {
            return Err(ProvenanceError::AlreadyWithdrawn {
                document: existing.document.to_string(),
                sha256: existing.capture_sha256.to_hex(),
                withdrawn_at: cite::text_time(existing.withdrawn_at),
                reason: existing.reason,
            });
        }
        let withdrawal = Withdrawal {
            document: capture.document.clone(),
            capture_sha256: capture.sha256,
            captured_at: capture.captured_at,
            reason: reason.to_owned(),
            withdrawn_at: now,
        };
        let sha = capture.sha256.0;
        let key = keys::withdrawal(capture.document.seq(), capture.captured_at, &sha);
        let mut batch = RecordBatch::new();
        self.log_record(&key, withdrawal_leaf(&withdrawal), &mut batch)?;
        batch.put(key, encode(&withdrawal));
        self.store().commit_records(batch)?;
        Ok(withdrawal)
    }
}
