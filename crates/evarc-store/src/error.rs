//! Errors of the snapshot store.
//!
//! Every error names what it concerns: the archive path, the snapshot (by BLAKE3 key and, where
//! known, SHA-256), the chunk, and for mismatches both the expected and the actual value.
//! [`StoreError::is_integrity_failure`] separates "the archive's bytes are damaged" (a verification
//! failure) from "the request was wrong" or "the environment failed".

use std::path::PathBuf;

use crate::{Blake3, Sha256};

/// An error of the snapshot store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The archive directory does not exist.
    #[error("no archive at {}: the directory does not exist", path.display())]
    NotFound { path: PathBuf },
    /// The path exists but holds no evarc archive.
    #[error("{} is not an evarc archive ({reason})", path.display())]
    NotAnArchive { path: PathBuf, reason: String },
    /// The directory holds an archive whose database cannot be opened (e.g. CURRENT deleted).
    #[error("archive {} is damaged: {reason}", path.display())]
    DatabaseDamaged { path: PathBuf, reason: String },
    /// `init` on a path that already holds something.
    #[error("cannot create an archive at {}: {reason}", path.display())]
    AlreadyExists { path: PathBuf, reason: String },
    /// Another process holds the archive open for writing.
    #[error("archive {} is in use by another evarc process (it holds {}){}; wait for it to finish", path.display(), lock.display(), waited_note(*waited_secs))]
    InUse {
        path: PathBuf,
        lock: PathBuf,
        /// How long this process waited for the lock before giving up (0: it did not wait).
        waited_secs: u64,
    },
    /// The archive was written by a format this version cannot read.
    #[error("archive {} has format version {found}; this evarc reads versions 1 to {supported}", path.display())]
    UnsupportedFormat {
        path: PathBuf,
        found: String,
        supported: u32,
    },
    /// A digest given by a user is not well-formed.
    #[error("malformed hash {input:?}: {reason}")]
    MalformedDigest { input: String, reason: String },
    /// No snapshot has the digest asked for.
    #[error("no snapshot with hash {query} in this archive")]
    SnapshotNotFound { query: String },
    /// A snapshot's manifest cannot be decoded.
    #[error("snapshot blake3:{snapshot} is damaged: its manifest {reason}")]
    ManifestCorrupt { snapshot: Blake3, reason: String },
    /// A chunk listed by a manifest is absent.
    #[error("snapshot blake3:{snapshot} is damaged: chunk {index} (blake3:{chunk}) is missing")]
    ChunkMissing {
        snapshot: Blake3,
        index: u32,
        chunk: Blake3,
    },
    /// A chunk is present but does not decompress or does not hash to its key.
    #[error("snapshot blake3:{snapshot} is damaged: chunk {index} (blake3:{chunk}) {reason}")]
    ChunkCorrupt {
        snapshot: Blake3,
        index: u32,
        chunk: Blake3,
        reason: String,
    },
    /// A delta snapshot's compressed bytes are absent.
    #[error("snapshot blake3:{snapshot} is damaged: its delta is missing")]
    DeltaMissing { snapshot: Blake3 },
    /// A delta snapshot's compressed bytes do not decode against its base.
    #[error("snapshot blake3:{snapshot} is damaged: its delta {reason}")]
    DeltaCorrupt { snapshot: Blake3, reason: String },
    /// A delta snapshot cannot be rebuilt because a snapshot it is built on failed.
    #[error("snapshot blake3:{snapshot} cannot be rebuilt: its delta base blake3:{base} failed: {source}")]
    BaseDamaged {
        snapshot: Blake3,
        base: Blake3,
        #[source]
        source: Box<StoreError>,
    },
    /// The bytes read back do not hash to the recorded digest.
    #[error("snapshot blake3:{snapshot} failed verification: {algorithm} was {actual}, but should have been {expected}")]
    HashMismatch {
        snapshot: Blake3,
        algorithm: &'static str,
        expected: String,
        actual: String,
    },
    /// Input bytes did not hash to the SHA-256 promised for them; nothing was recorded.
    #[error(
        "the input failed verification: SHA-256 was {actual}, but should have been {expected}"
    )]
    InputMismatch { expected: Sha256, actual: Sha256 },
    /// The bytes read back are not as long as recorded.
    #[error("snapshot blake3:{snapshot} failed verification: read {actual} bytes, but {expected} were recorded")]
    LengthMismatch {
        snapshot: Blake3,
        expected: u64,
        actual: u64,
    },
    /// The SHA-256 index points at a snapshot that does not record that SHA-256.
    #[error("index entry sha256:{sha256} is damaged: it points at blake3:{points_to}, {reason}")]
    IndexCorrupt {
        sha256: Sha256,
        points_to: String,
        reason: String,
    },
    /// RocksDB reported an error. `corruption` is true when RocksDB detected damaged data.
    #[error("storage error in archive {}: {source}", path.display())]
    Db {
        path: PathBuf,
        corruption: bool,
        #[source]
        source: rocksdb::Error,
    },
    /// Reading the input or writing the output failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A bucket URL that is not `s3://BUCKET[/PREFIX]` (issue 14).
    #[error("invalid bucket URL {url:?}: {reason}")]
    BlobsUrl { url: String, reason: String },
    /// A request to the bucket holding snapshot bytes failed (issue 14).
    #[error("{url} at {endpoint}: {problem}: {detail}")]
    Remote {
        url: String,
        endpoint: String,
        problem: crate::blobs::RemoteProblem,
        detail: String,
    },
    /// A bucket that holds no archive where one was expected (restore, repair).
    #[error("{url} holds no evarc archive: {reason}")]
    NotARemoteArchive { url: String, reason: String },
    /// An object of the bucket's record log that cannot be read back (restore, repair).
    #[error("{url}: object {name} is damaged: {reason}")]
    SegmentCorrupt {
        url: String,
        name: String,
        reason: String,
    },
    /// A bucket prefix whose marker names another archive (or, written before archive IDs,
    /// none, and the prefix holds records this archive did not write): refused before anything
    /// is written (issue 14; docs/format.md, "One archive per prefix").
    #[error("{url} belongs to another archive ({}); this archive's ID is {this}: each archive needs a prefix of its own", holder_note(holder.as_deref()))]
    PrefixHeld {
        url: String,
        /// The ID the prefix's marker names; `None` for a marker written before archive IDs.
        holder: Option<String>,
        this: String,
    },
    /// A bucket prefix holding record segments another copy of this archive wrote (the
    /// original and a restored copy, or two copies of its directory, both writing): this copy
    /// is refused, never mixing its records with the other's (issue 14).
    #[error("{url} holds record segment {segment}, written by another copy of archive {id} (this copy knows segments up to {head}; {reason}): two copies must not write to one prefix, so this copy is refused; restore from the bucket into a new directory to go on there")]
    PrefixDiverged {
        url: String,
        id: String,
        /// The first segment this copy did not write.
        segment: String,
        /// The number of the last segment this copy knew of.
        head: String,
        reason: String,
    },
}

/// "archive ID X", or what an old marker says.
fn holder_note(holder: Option<&str>) -> String {
    match holder {
        Some(id) => format!("archive ID {id}"),
        None => "its marker, written by an evarc before archive IDs, names none".into(),
    }
}

/// " after waiting N s" when a writer waited for the lock.
fn waited_note(secs: u64) -> String {
    if secs == 0 {
        String::new()
    } else {
        format!(" after waiting {secs} s")
    }
}

impl StoreError {
    /// True when the error means stored bytes are damaged or missing: a failed verification,
    /// as opposed to a bad request or a failing environment.
    pub fn is_integrity_failure(&self) -> bool {
        match self {
            Self::ManifestCorrupt { .. }
            | Self::ChunkMissing { .. }
            | Self::ChunkCorrupt { .. }
            | Self::HashMismatch { .. }
            | Self::LengthMismatch { .. }
            | Self::IndexCorrupt { .. }
            | Self::InputMismatch { .. }
            | Self::DeltaMissing { .. }
            | Self::DeltaCorrupt { .. }
            | Self::BaseDamaged { .. }
            | Self::DatabaseDamaged { .. } => true,
            Self::Db { corruption, .. } => *corruption,
            _ => false,
        }
    }

    /// The snapshot concerned, when the error names one.
    pub fn snapshot(&self) -> Option<Blake3> {
        match self {
            Self::ManifestCorrupt { snapshot, .. }
            | Self::ChunkMissing { snapshot, .. }
            | Self::ChunkCorrupt { snapshot, .. }
            | Self::HashMismatch { snapshot, .. }
            | Self::LengthMismatch { snapshot, .. }
            | Self::DeltaMissing { snapshot }
            | Self::DeltaCorrupt { snapshot, .. }
            | Self::BaseDamaged { snapshot, .. } => Some(*snapshot),
            _ => None,
        }
    }

    pub(crate) fn db(path: &std::path::Path, source: rocksdb::Error) -> Self {
        let corruption = matches!(source.kind(), rocksdb::ErrorKind::Corruption);
        Self::Db {
            path: path.to_owned(),
            corruption,
            source,
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}

/// An error and each of its causes once, on one line (`reading …: Permission denied`): for
/// reports that keep errors as text (an audit's findings, an HTTP answer). A cause whose text
/// the line already holds is not repeated.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = inner.source();
    }
    out
}
