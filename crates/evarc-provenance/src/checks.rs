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
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::archive::Archive;
use crate::cite::{CitationRecord, EvidenceCheck};
use crate::error::Result;
use crate::id::RecordId;
use crate::model::Capture;
use crate::web::{context_in_text, QuoteContext, TextCache, VerifiedBytes};
use evarc_store::{Blake3, Sha256};

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
    blake3: Blake3,
    sha256: Sha256,
}

impl CheckKey {
    pub fn of(capture: &Capture) -> Self {
        Self {
            blake3: capture.blake3,
            sha256: capture.sha256,
        }
    }
}

/// How many captures' checks a [`CheckCache`] keeps; when full it is emptied.
pub const CHECK_CACHE_ENTRIES: usize = 1 << 16;

/// The time of the last check that verified, per capture's bytes. Failed checks are never in it.
#[derive(Debug, Default)]
pub struct CheckCache {
    verified: RwLock<HashMap<CheckKey, DateTime<Utc>>>,
    /// One check of the same bytes at a time ([`CheckCache::turn`]).
    turns: Mutex<HashMap<CheckKey, Arc<Mutex<()>>>>,
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
        // A check dated after `now` was made while this request waited for its turn: it is
        // newer than the request. (By less than `max_age`: a clock gone back far is not trusted.)
        let age = (now - at).abs().to_std().ok()?;
        (age < max_age).then_some(at)
    }

    /// The lock taken while checking these bytes: requests that find no fresh check wait for
    /// the one check being made and then reuse it, instead of all reading the bytes at once.
    pub fn turn(&self, key: &CheckKey) -> Arc<Mutex<()>> {
        let mut turns = self
            .turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if turns.len() >= CHECK_CACHE_ENTRIES {
            turns.retain(|_, turn| Arc::strong_count(turn) > 1);
        }
        turns.entry(key.clone()).or_default().clone()
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
    pub fn check_capture_kept(
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
        let capture = self.cited_capture(id, record)?;
        let key = CheckKey::of(&capture);
        // A kept check is reused only when the text it vouches for is at hand as well.
        let reuse = || {
            checks.fresh(&key, now, max_age).and_then(|at| {
                let text = match id {
                    RecordId::Provision(_) => Some(texts.cached(&capture)?),
                    RecordId::Document(_) => None,
                };
                Some((at, text))
            })
        };
        let mut reused = reuse();
        let turn;
        let _held = if reused.is_none() {
            // Wait for a check of these bytes being made; it may be the one to reuse.
            turn = checks.turn(&key);
            let held = turn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            reused = reuse();
            Some(held)
        } else {
            None
        };
        let (stamp, text) = match reused {
            Some((at, text)) => (
                CheckStamp {
                    check: EvidenceCheck::Verified,
                    at,
                },
                text,
            ),
            None => {
                let checked = self.check_capture_kept(&capture, checks, now)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CheckKey {
        CheckKey {
            blake3: Blake3([0xbb; 32]),
            sha256: Sha256([0xaa; 32]),
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000 + seconds, 0).expect("a valid time")
    }

    #[test]
    fn a_verified_check_is_reused_only_while_younger_than_max_age() {
        let checks = CheckCache::default();
        let stamp = CheckStamp {
            check: EvidenceCheck::Verified,
            at: at(0),
        };
        checks.keep(key(), &stamp);
        let window = Duration::from_secs(60);
        assert_eq!(checks.fresh(&key(), at(59), window), Some(at(0)));
        assert_eq!(checks.fresh(&key(), at(60), window), None);
        // `--recheck-after 0`: never reused.
        assert_eq!(checks.fresh(&key(), at(0), Duration::ZERO), None);
        // A clock gone back by more than the window does not make an old check fresh.
        assert_eq!(checks.fresh(&key(), at(-3600), window), None);
    }

    #[test]
    fn a_failed_check_is_never_kept_and_removes_the_verified_one() {
        let checks = CheckCache::default();
        let window = Duration::from_secs(60);
        checks.keep(
            key(),
            &CheckStamp {
                check: EvidenceCheck::Verified,
                at: at(0),
            },
        );
        checks.keep(
            key(),
            &CheckStamp {
                check: EvidenceCheck::Mismatch {
                    actual_sha256: Sha256([0xcc; 32]),
                },
                at: at(1),
            },
        );
        assert_eq!(checks.fresh(&key(), at(2), window), None);
        checks.keep(
            key(),
            &CheckStamp {
                check: EvidenceCheck::Missing,
                at: at(3),
            },
        );
        assert_eq!(checks.fresh(&key(), at(4), window), None);
    }
}
