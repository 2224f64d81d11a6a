//! The last check of each capture's stored bytes, for a front end answering many requests
//! (`evarc serve`): what may be reused, and for how long.
//!
//! The rule (docs/serve.md, "Evidence checks"): a check is always a real one — the bytes read
//! back whole through the verifying reader (BLAKE3 of the stored chunks, then SHA-256 of the
//! whole), [`Archive::verified_bytes`] — and carries the time it was made. A front end may show
//! a check that verified again while it is younger than its `max_age`; a check that failed is
//! never kept, so a failing capture is checked again on every request (and a repaired archive
//! shows ✓ again at once). The caller hands in the clock and drops the cache whenever it opens
//! a new view of the archive.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::archive::Archive;
use crate::cite::{CitationRecord, EvidenceCheck};
use crate::error::{ProvenanceError, Result};
use crate::id::RecordId;
use crate::model::Capture;
use crate::web::{context_in_text, QuoteContext, TextCache, VerifiedBytes};
use evarc_store::Sha256;

/// A check of a capture's stored bytes and when it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckStamp {
    pub check: EvidenceCheck,
    pub at: DateTime<Utc>,
}

/// Which stored bytes a check concerns: the capture's BLAKE3 (the store's key) and the SHA-256
/// they must hash to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CheckKey {
    blake3: String,
    sha256: String,
}

impl CheckKey {
    pub fn of(capture: &Capture) -> Self {
        Self {
            blake3: capture.blake3.clone(),
            sha256: capture.sha256.clone(),
        }
    }
}

/// How many captures' checks a [`CheckCache`] keeps; when full it is emptied.
pub const CHECK_CACHE_ENTRIES: usize = 1 << 16;

/// The time of the last check that verified, per capture's bytes. Failed checks are never in it.
#[derive(Debug, Default)]
pub struct CheckCache {
    verified: RwLock<HashMap<CheckKey, DateTime<Utc>>>,
}

impl CheckCache {
    /// The time of the last check of these bytes, when it verified and was made less than
    /// `max_age` before `now` (a `max_age` of zero: never; a check dated after `now`, the clock
    /// having gone back: never).
    pub fn fresh(
        &self,
        key: &CheckKey,
        now: DateTime<Utc>,
        max_age: Duration,
    ) -> Option<DateTime<Utc>> {
        let at = *self
            .verified
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)?;
        let age = (now - at).to_std().ok()?;
        (age < max_age).then_some(at)
    }

    /// Keeps a check just made: one that verified replaces the earlier one; one that failed
    /// removes it (a failure is never reused).
    fn keep(&self, key: CheckKey, stamp: &CheckStamp) {
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if stamp.check.is_verified() {
            if verified.len() >= CHECK_CACHE_ENTRIES && !verified.contains_key(&key) {
                verified.clear();
            }
            let later = verified.get(&key).is_none_or(|at| *at <= stamp.at);
            if later {
                verified.insert(key, stamp.at);
            }
        } else {
            verified.remove(&key);
        }
    }
}

/// A capture's bytes checked now: the check and, when they verified, the bytes.
pub struct Checked {
    pub stamp: CheckStamp,
    pub bytes: Option<Vec<u8>>,
}

impl Archive {
    /// Checks the capture's stored bytes now ([`Archive::verified_bytes`]), dates the check
    /// `now` and keeps it in `checks` (a failure removes the earlier one).
    pub fn check_capture(
        &self,
        capture: &Capture,
        checks: &CheckCache,
        now: DateTime<Utc>,
    ) -> Result<Checked> {
        let (check, bytes) = match self.verified_bytes(capture)? {
            VerifiedBytes::Verified(bytes) => (EvidenceCheck::Verified, Some(bytes)),
            VerifiedBytes::NotVerified(check) => (check, None),
        };
        let stamp = CheckStamp { check, at: now };
        checks.keep(CheckKey::of(capture), &stamp);
        Ok(Checked { stamp, bytes })
    }

    /// Everything a record page shows of the cited capture: the capture, the evidence check —
    /// the last one kept in `checks` when it verified less than `max_age` before `now`, else one
    /// made now — and (for a provision, from verified bytes only) the quote in context.
    pub fn evidence_view_checked(
        &self,
        id: &RecordId,
        record: &CitationRecord,
        texts: &TextCache,
        checks: &CheckCache,
        now: DateTime<Utc>,
        max_age: Duration,
    ) -> Result<CheckedView> {
        let sha = Sha256::from_hex(&record.capture.sha256)?;
        let capture = self
            .capture_at(&record.document_id, record.capture.captured_at, sha)?
            .ok_or_else(|| ProvenanceError::RecordCorrupt {
                key: id.to_string(),
                reason: "its cited capture is not recorded".into(),
            })?;
        let key = CheckKey::of(&capture);
        // A kept check is reused only when the text it vouches for is at hand as well.
        let reused = checks.fresh(&key, now, max_age).and_then(|at| {
            let text = match id {
                RecordId::Provision(_) => Some(texts.cached(&capture)?),
                RecordId::Document(_) => None,
            };
            Some((at, text))
        });
        let (stamp, text) = match reused {
            Some((at, text)) => (
                CheckStamp {
                    check: EvidenceCheck::Verified,
                    at,
                },
                text,
            ),
            None => {
                let checked = self.check_capture(&capture, checks, now)?;
                let text = match (&checked.bytes, id) {
                    (Some(bytes), RecordId::Provision(_)) => Some(texts.text(&capture, bytes)),
                    _ => None,
                };
                (checked.stamp, text)
            }
        };
        let context = match (id, text) {
            (RecordId::Provision(p), Some(text)) => context_in_text(&self.provision(p)?, &text),
            _ => None,
        };
        Ok(CheckedView {
            key,
            capture,
            stamp,
            context,
        })
    }
}

/// See [`Archive::evidence_view_checked`].
#[derive(Clone, Debug)]
pub struct CheckedView {
    /// The stored bytes the check concerns.
    pub key: CheckKey,
    pub capture: Capture,
    pub stamp: CheckStamp,
    pub context: Option<QuoteContext>,
}
