//! The one evidence rule: do the stored bytes of a capture still hash to its recorded digests,
//! and if not, how is that classified (missing, a different SHA-256, unreadable). `cite`,
//! `certify`, `verify`'s citation checks and the server's evidence line (through
//! [`Archive::check_evidence`]) and the server's raw bytes ([`Archive::verified_bytes`]) all
//! decide here; they differ only in whether they keep the bytes they read.

use evarc_store::{Store, StoreError};

use crate::cite::EvidenceCheck;
use crate::{Archive, Blake3, Result, Sha256};

impl Archive {
    /// Reads the bytes stored under `key` back whole with `read` (which returns the SHA-256 of
    /// what it read, and what it keeps of it) and classifies the result against `sha256`:
    /// `Ok(kept)` when they verify, else the [`EvidenceCheck`] that says why not. A storage
    /// failure that says nothing about the bytes (I/O, the database) is an error.
    pub(crate) fn check_stored<T>(
        &self,
        key: Blake3,
        sha256: Sha256,
        read: impl FnOnce(&Store, Blake3) -> std::result::Result<(Sha256, T), StoreError>,
    ) -> Result<std::result::Result<T, EvidenceCheck>> {
        if !self.store().contains(key)? {
            return Ok(Err(EvidenceCheck::Missing));
        }
        match read(self.store(), key) {
            Ok((actual, kept)) if actual == sha256 => Ok(Ok(kept)),
            Ok((actual, _)) => Ok(Err(EvidenceCheck::Mismatch {
                actual_sha256: actual,
            })),
            Err(err) if err.is_integrity_failure() => Ok(Err(failed_evidence(err))),
            Err(err) => Err(err.into()),
        }
    }
}

/// What a store integrity failure means for the evidence of the bytes it concerns: a SHA-256
/// the verifying reader computed is a mismatch, anything else damage.
fn failed_evidence(err: StoreError) -> EvidenceCheck {
    if let StoreError::HashMismatch {
        algorithm: "SHA-256",
        actual,
        ..
    } = &err
    {
        if let Ok(actual_sha256) = Sha256::from_hex(actual) {
            return EvidenceCheck::Mismatch { actual_sha256 };
        }
    }
    EvidenceCheck::Damaged {
        reason: err.to_string(),
    }
}
