//! Provenance of evarc: documents, captures and provisions with stable IDs, and their citations.
//!
//! An [`Archive`] wraps the snapshot store ([`evarc_store::Store`]) and keeps, beside the bytes,
//! the records that make them citable: which entity published which document, when each capture
//! was taken and how, and which clause (provision) is pinned to which capture by a quote.
//!
//! Architecture invariant: provenance never reads the clock. Every operation that records a time
//! is handed `now` by its caller; capture times come from the caller too. It does no network or
//! terminal I/O either: the CLI fetches URLs and prints.

pub mod anchor;
mod archive;
mod audit;
mod capture;
mod citation;
pub mod cite;
mod error;
pub mod id;
mod keys;
pub mod model;
mod provision;
mod query;
pub mod text;
mod tlog;

pub use archive::{Archive, DEFAULT_NAME};
pub use audit::{AuditReport, CaptureName, FileFinding, RecordDamage, RecordKind, SnapshotDamage};
pub use capture::{CaptureOutcome, CaptureRequest, DocumentRef};
pub use error::{ProvenanceError, Result};
pub use evarc_tlog;
pub use provision::ProvisionRequest;
pub use query::SearchHit;
pub use tlog::{
    capture_leaf, provision_leaf, LogEntry, LogSubject, LEAF_VERSION, SIGNING_KEY_FILE,
};
