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
        sha256: evarc_store::Sha256,
        #[source]
        source: AnchorError,
    },
    #[error("{document} has no capture with SHA-256 {sha256}{hint}")]
    CaptureNotFound {
        document: String,
        sha256: String,
        hint: String,
    },
    #[error("no text could be extracted from capture sha256:{sha256} of {document} ({media_type}), so there is no text to quote")]
    NoText {
        document: String,
        sha256: evarc_store::Sha256,
        media_type: String,
    },
    #[error("{document} has no captures yet")]
    NoCaptures { document: String },
    #[error("{0}")]
    InvalidInput(String),
    /// A capture names a document by entity and title only, and that is not enough: none is
    /// registered yet (`candidates` empty), or several are.
    #[error("{}", document_needs_url_message(entity, title, candidates))]
    DocumentNeedsSourceUrl {
        entity: String,
        title: String,
        candidates: Vec<String>,
    },
    #[error(transparent)]
    UnsafeText(#[from] crate::safe_text::UnsafeText),
    #[error("record {key} is damaged: {reason}")]
    RecordCorrupt { key: String, reason: String },
    #[error("this archive has no signing key yet (`evarc key` creates one)")]
    NoSigningKey,
    #[error("the signing key file {path} does not match the archive's public key {expected}")]
    SigningKeyMismatch { path: String, expected: String },
    /// The private key file is absent (e.g. an archive restored from a bucket without it): the
    /// records and their log verify with the public key; only new checkpoints cannot be signed.
    #[error("the signing key file {path} is missing: this archive's checkpoints are signed by {expected}, whose private key is kept only in that file (never in the records or a bucket)")]
    SigningKeyMissing { path: String, expected: String },
    #[error("{record} has no leaf in the transparency log: the record was altered, or recorded before the log existed and no checkpoint has been made since")]
    NotLogged { record: String },
    #[error("{record} is leaf {index} of the log, but the checkpoint covers only {size} leaves: make a newer checkpoint (`evarc checkpoint`)")]
    NotInCheckpoint {
        record: String,
        index: u64,
        size: u64,
    },
    #[error("{record} no longer matches leaf {index} of the transparency log: the record or the log was altered")]
    LeafMismatch { record: String, index: u64 },
    #[error("the log's tree of {size} leaves has head {actual}, but the checkpoint says {expected}: the log was rewritten")]
    CheckpointMismatch {
        size: u64,
        expected: String,
        actual: String,
    },
    #[error("checkpoint of {size} leaves: no such checkpoint in this archive")]
    UnknownCheckpoint { size: u64 },
    #[error(transparent)]
    Note(#[from] evarc_tlog::NoteError),
    #[error(
        "the stored bytes of {record} (sha256:{sha256}) did not verify: {}",
        crate::citing::evidence_failure(check, sha256)
    )]
    EvidenceFailed {
        record: String,
        sha256: evarc_store::Sha256,
        check: crate::cite::EvidenceCheck,
    },
    #[error("{document} has no capture at or before {at}{}", first.as_ref().map(|f| format!(" (its first capture is {f})")).unwrap_or_default())]
    NoCaptureAt {
        document: String,
        at: String,
        first: Option<String>,
    },
    #[error("{provision} is pinned to capture {sha256} of {captured_at}; cite its document for another capture")]
    ProvisionPinned {
        provision: String,
        sha256: evarc_store::Sha256,
        captured_at: String,
    },
    #[error("capture time {captured_at} is {problem}: refused as implausible")]
    ImplausibleCaptureTime {
        captured_at: String,
        problem: String,
    },
    #[error("refusing to certify: exhibit {exhibit} has SHA-256 {actual}, but {record} recorded {expected}")]
    ExhibitMismatch {
        exhibit: String,
        actual: evarc_store::Sha256,
        record: String,
        expected: evarc_store::Sha256,
    },
    #[error("refusing to certify: exhibit {exhibit} has SHA-256 {actual}, which is no capture of {document}")]
    ExhibitNotACapture {
        exhibit: String,
        actual: String,
        document: String,
    },
    #[error("capture {sha256} of {document} was already withdrawn at {withdrawn_at}: {reason}")]
    AlreadyWithdrawn {
        document: String,
        sha256: String,
        withdrawn_at: String,
        reason: String,
    },
    #[error("{sha256} is the bytes of {count} captures ({list}): name the one to withdraw by its document ID and capture")]
    AmbiguousCapture {
        sha256: String,
        count: usize,
        list: String,
    },
    #[error("{action} the signing key {path}")]
    KeyFile {
        /// "reading" or "writing".
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
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
            Self::RecordCorrupt { .. }
            | Self::LeafMismatch { .. }
            | Self::CheckpointMismatch { .. }
            | Self::SigningKeyMismatch { .. }
            | Self::NotLogged { .. }
            | Self::EvidenceFailed { .. }
            | Self::ExhibitMismatch { .. }
            | Self::ExhibitNotACapture { .. } => true,
            Self::Note(err) => matches!(err, evarc_tlog::NoteError::BadSignature { .. }),
            _ => false,
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = ProvenanceError> = std::result::Result<T, E>;

fn document_needs_url_message(entity: &str, title: &str, candidates: &[String]) -> String {
    if candidates.is_empty() {
        format!("no document {title:?} of {entity:?} yet: give its source URL to register it")
    } else {
        format!(
            "{} documents are titled {title:?} for {entity:?} ({}): give its source URL or the document ID",
            candidates.len(),
            candidates.join(", ")
        )
    }
}

/// A malformed digest is the store's `MalformedDigest` (a usage error), wherever it was parsed.
impl From<evarc_store::DigestError> for ProvenanceError {
    fn from(err: evarc_store::DigestError) -> Self {
        Self::Store(err.into())
    }
}
