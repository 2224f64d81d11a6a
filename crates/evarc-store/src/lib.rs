//! The snapshot store of evarc: exact bytes, kept once, keyed by their BLAKE3 digest.
//!
//! A *snapshot* is a byte string. It is stored as a sequence of zstd-compressed chunks, each keyed
//! by the BLAKE3 digest of its raw bytes, plus a *manifest* keyed by the BLAKE3 digest of the whole
//! snapshot that records its SHA-256, its length and its chunk list. An index maps SHA-256 to the
//! BLAKE3 key, so either digest finds a snapshot. docs/format.md describes the layout byte by byte.
//!
//! Architecture invariant: this crate knows bytes and digests only. It knows nothing of URLs,
//! clocks, documents or citations. Upper layers may keep opaque records beside the snapshots
//! ([`Store::commit_records`]); the store never interprets them.
//!
//! Every read re-hashes what it returns ([`SnapshotReader`]): each chunk is checked against its
//! BLAKE3 key before any of its bytes are handed out, and the whole snapshot against both recorded
//! digests at the end. A mismatch is an error naming the snapshot and both digests.

mod blobs;
mod bucket_repack;
mod cache;
mod delta;
mod digest;
mod error;
mod files;
mod format;
mod ingest;
mod owner;
mod parity;
mod pathdelta;
mod reader;
mod records;
mod remote;
mod repack;
mod salvage;
mod scrub;
mod space;
mod spares;
mod store;
mod value_names;

pub use blobs::{
    BlobFetches, BlobKind, BlobStore, BlobsConfig, ObjectEntry, RemoteProblem, S3Blobs,
    DEFAULT_BLOB_CACHE, UPLOAD_CONCURRENCY,
};
pub use delta::BaseHint;
pub use digest::{Blake3, DigestError, DigestQuery, Sha256};
pub use error::{error_chain, StoreError};
pub use files::{check_files, check_files_live, FileCheck, FileDamage, FileKind, FilesReport};
pub use format::{CHUNK_SIZE, DELTA_MAX, FORMAT_VERSION};
pub use ingest::{Durability, PreparedSnapshot, PutOptions, PutOutcome};
pub use owner::ArchiveId;
pub use parity::PARITY_MEMBERS;
pub use reader::SnapshotReader;
pub use records::RecordBatch;
pub use remote::{GcReport, RepairReport, ReplicateReport, RestoreReport};
pub use repack::{RepackOptions, RepackProgress, RepackReport, REPACK_LEVEL};
pub use scrub::{ScrubFinding, ScrubReport};
pub use space::SpaceReport;
pub use spares::SPARE_DEPENDENTS;
pub use store::{OpenMode, SnapshotInfo, Store};

/// Result type of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
