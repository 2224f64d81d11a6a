//! Provenance of evarc: documents, captures and provisions with stable IDs, and their citations.
//!
//! An [`Archive`] wraps the snapshot store ([`evarc_store::Store`]) and keeps, beside the bytes,
//! the records that make them citable: which entity published which document, when each capture
//! was taken and how, and which clause (provision) is pinned to which capture by a quote.
//!
//! Architecture invariant: provenance never reads the clock. Every operation that records a time
//! is handed `now` by its caller; capture times come from the caller too. It does no network or
//! terminal I/O either: the CLI fetches URLs and prints.

// `Archive::store` is this crate's own way to its store; clippy.toml keeps the front ends off it.
#![allow(clippy::disallowed_methods)]

mod archive;
mod audit;
mod bucket;
mod capture;
mod citation;
mod citing;
pub mod compare;
pub mod declaration;
mod error;
mod evidence;
pub mod export;
mod index;
mod keys;
mod order;
mod pair;
pub mod privacy;
mod provision;
mod query;
pub mod rules;
mod snapshots;
pub mod textnorm;
mod tlog;
pub mod tokens;
pub mod upload;
mod version_pass;
mod version_texts;
pub mod versions;
pub mod web;
// Issue 12, serve load: the last check of each capture's bytes, reused for a while.
pub mod checks;
mod withdraw;

// The pure record crate, under the names these modules always had here.
pub use evarc_record::{
    anchor, change, cite, id, model, normalise_url, safe_text, text, text_diff,
};
// The one rule for an absolute http(s) URL (source URLs, Wayback addresses, the base URL).
pub use evarc_record::{http_url, HttpUrl, HttpUrlError, UrlProblem};

// The store's types that front ends name (digests, open mode, outcomes, errors): front ends
// depend on provenance only, and name these through it.
pub use evarc_store::{error_chain, DigestError, SnapshotReader};
pub use evarc_store::{
    Blake3, DigestQuery, Durability, OpenMode, PutOutcome, Sha256, SnapshotInfo, StoreError,
    FORMAT_VERSION,
};
// Repack (issue 14): front ends run it through the archive's store and render its report.
pub use evarc_store::{RepackOptions, RepackProgress, RepackReport, SpaceReport, REPACK_LEVEL};

// Snapshot bytes on an S3-compatible bucket, restore, replicas and gc (issue 14).
pub use archive::{Archive, DEFAULT_NAME};
pub use audit::{AuditReport, CaptureName, FileFinding, RecordDamage, RecordKind, SnapshotDamage};
pub use capture::{CaptureOutcome, CaptureRequest, DocumentRef};
pub use citing::{exhibit_name, CaptureChoice, Certification, Citation, CiteOptions, Exhibit};
pub use error::{ProvenanceError, Result};
pub use evarc_store::{
    BlobsConfig, GcReport, RemoteProblem, RepairReport, ReplicateReport, RestoreReport,
};
pub use evarc_tlog;
pub use order::RegistrationTurns;
pub use privacy::Audience;
pub use provision::ProvisionRequest;
pub use query::{At, CaptureOf, SearchHit, SearchQuery, SearchRangeError};
pub use snapshots::{SnapshotCheck, StoredOriginal};
pub use tlog::{
    capture_leaf, provision_leaf, CheckpointReport, LeafKind, LogEntry, LogSubject, LoggedLeaf,
    LEAF_VERSION, SIGNING_KEY_FILE,
};
pub use tokens::{Scope, Token, TokenRefusal};
pub use upload::{ArchiveReport, CaptureUpload, DocumentReport, ProvisionUpload, SnapshotReport};
pub use version_pass::VersionPass;
pub use version_texts::VersionTextAudit;
pub use withdraw::{withdrawal_leaf, WithdrawTarget, Withdrawal};
