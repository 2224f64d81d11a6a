//! Digests: BLAKE3 (the storage key) and SHA-256 (the public hash), and how users name them.
//! The types live in `evarc-digest`, shared with the record model; a malformed digest is a
//! [`StoreError::MalformedDigest`] here.

pub use evarc_digest::{Blake3, DigestError, DigestQuery, Sha256};

use crate::StoreError;

impl From<DigestError> for StoreError {
    fn from(err: DigestError) -> Self {
        StoreError::MalformedDigest {
            input: err.input,
            reason: err.reason,
        }
    }
}
