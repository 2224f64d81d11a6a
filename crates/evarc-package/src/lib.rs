//! Standard evidence packages of evarc: WARC 1.1, WACZ and BagIt 1.0 export, and WARC reading.
//!
//! Evidence leaves the archive in the formats the web-archiving and digital-preservation worlds
//! already validate (`warcio check`, `wacz validate`, `bagit.py --validate`), and captures made
//! elsewhere come in through [`WarcReader`], or from an Open Terms Archive snapshots git repository
//! through [`OtaSnapshots`]. `docs/packages.md` describes every layout as built.
//!
//! Architecture invariants:
//! - Pure library code: no terminal I/O, no clock, no randomness. Every date written comes from
//!   the records ([`ExportCapture`]); record IDs are derived from the records' identity
//!   ([`record_id`]); output order is a sort of the records, never hash-map order. Exporting
//!   the same records twice gives byte-identical files.
//! - Capture bytes come through [`CaptureBytes`] and are re-hashed while they are written; an
//!   export whose bytes do not match the recorded SHA-256 and length fails
//!   ([`PackageError::CaptureMismatch`]) instead of shipping them.
//! - Nothing read from a WARC or a record chooses a path outside an output directory: every file
//!   name is built from [`safe_component`].
//! - Transparency-log evidence ([`LogEvidence`]: checkpoint, verifier key, time-stamp, inclusion
//!   proofs) is carried, never made or checked here: the `*_with_log` writers put it at fixed
//!   places named from the records, so it keeps exports reproducible.
//! - The reader never trusts a `Content-Length`: blocks are streamed into a spooled temporary
//!   file with a cap ([`ReaderOptions`]), and damage yields a [`DamagedRecord`] with its byte
//!   offset, after which the reader resynchronises on the next record.

mod bagit;
mod digest;
mod error;
mod export;
mod log;
mod ota;
mod safe;
mod title;
mod wacz;
mod warc;

pub use bagit::{write_bagit, write_bagit_with_log, BagSummary};
pub use digest::record_id;
pub use error::PackageError;
pub use export::{CaptureBytes, ExportCapture, ExportOptions};
pub use log::{LogEvidence, LogProof, CHECKPOINT_FILE, KEY_FILE, TIMESTAMP_FILE};
pub use ota::{OtaCapture, OtaError, OtaFilter, OtaSnapshots, OTA_SOURCE_TRAILER};
pub use safe::{media_type_extension, safe_component};
pub use title::{html_title, sanitize_title};
pub use wacz::{surt_key, write_wacz, write_wacz_with_log, WaczSummary, WACZ_VERSION};
pub use warc::read::{
    DamagedRecord, ImportedCapture, Payload, ReaderOptions, Revisit, WarcReader, WarcRecord,
};
pub(crate) use warc::write::warc_date;
pub use warc::write::{write_warc, write_warc_with_log, WarcRecordSummary, WarcSummary};
