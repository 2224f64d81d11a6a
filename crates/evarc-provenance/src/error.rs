//! Errors of the provenance layer.
//!
//! Each names the record concerned (ID, document, hash) and, for refusals, what was expected.
//! Store errors are carried unchanged ([`ProvenanceError::store_error`]) so that callers can still
//! tell a damaged archive from a bad request.

use crate::anchor::AnchorError;
use crate::id::IdError;

/// An error of the provenance layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvenanceError {
    #[error(transparent)]
    Store(#[from] evarc_store::StoreError),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error("no record {id} in this archive")]
    UnknownRecord { id: String },
    #[error("{id} is already taken by {existing}")]
    IdTaken { id: String, existing: String },
    #[error("{id} does not use this archive's ID prefix {prefix}")]
    ForeignPrefix { id: String, prefix: String },
    #[error("the ID prefix is fixed once an ID has been issued (it is {prefix})")]
    PrefixLocked { prefix: String },
    #[error("cannot pin the quote to capture {sha256} of {document}")]
    QuoteNotFound {
        document: String,
        sha256: String,
        #[source]
        source: AnchorError,
    },
    #[error("{document} has no capture with SHA-256 {sha256}{hint}")]
    CaptureNotFound {
        document: String,
        sha256: String,
        hint: String,
    },
    #[error("{document} has no captures yet")]
    NoCaptures { document: String },
    #[error("{0}")]
    InvalidInput(String),
    #[error("record {key} is damaged: {reason}")]
    RecordCorrupt { key: String, reason: String },
}

impl ProvenanceError {
    /// The store error underneath, if this is one.
    pub fn store_error(&self) -> Option<&evarc_store::StoreError> {
        match self {
            Self::Store(err) => Some(err),
            _ => None,
        }
    }

    /// True when the error means stored records or bytes are damaged.
    pub fn is_integrity_failure(&self) -> bool {
        match self {
            Self::Store(err) => err.is_integrity_failure(),
            Self::RecordCorrupt { .. } => true,
            _ => false,
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = ProvenanceError> = std::result::Result<T, E>;
