//! Snapshots as front ends ask for them: bytes named by a digest a user typed, stored without a
//! record, read back verified, re-hashed now, repacked. The CLI and the server reach the store
//! only through these (and the rest of this crate's API), never through [`Archive::store`].

use std::io::Read;

use evarc_store::{
    Blake3, DigestQuery, OpenMode, PutOutcome, RepackOptions, RepackProgress, RepackReport, Sha256,
    SnapshotInfo, SnapshotReader, SpaceReport, StoreError,
};

use crate::archive::Archive;
use crate::error::Result;
use crate::model::Capture;

/// One snapshot re-hashed now, with the captures that name its bytes.
#[derive(Debug)]
pub struct SnapshotCheck {
    /// What the archive recorded for the snapshot (digests and length).
    pub recorded: SnapshotInfo,
    /// The captures whose bytes these are.
    pub captures: Vec<Capture>,
    /// `Ok`: the bytes read back whole and hash as recorded; `Err`: an integrity failure of the
    /// stored bytes (missing, damaged or different), naming the snapshot.
    pub outcome: std::result::Result<SnapshotInfo, StoreError>,
}

impl SnapshotCheck {
    /// True when the bytes verified.
    pub fn verified(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// Where bytes already archived came from, for a capture that repeats them (a WARC revisit).
#[derive(Clone, Debug)]
pub struct StoredOriginal {
    pub info: SnapshotInfo,
    /// The media type of the latest capture of these bytes, if any names them.
    pub media_type: Option<String>,
}

impl Archive {
    /// Whether this archive was opened as the writer or read-only.
    pub fn mode(&self) -> OpenMode {
        self.store().mode()
    }

    /// The snapshot a user's digest names (either algorithm); unknown digests are an error.
    pub fn snapshot(&self, query: DigestQuery) -> Result<SnapshotInfo> {
        Ok(self.store().resolve(query)?)
    }

    /// Re-hashes the snapshot a digest names now, with the captures of its bytes. A failure of
    /// the stored bytes is the check's outcome; other errors (unknown digest, I/O) are errors.
    pub fn check_snapshot(&self, query: DigestQuery) -> Result<SnapshotCheck> {
        let recorded = self.snapshot(query)?;
        self.check_recorded(recorded)
    }

    /// Re-hashes the snapshot whose digests and length are exactly these (a file's), if one is
    /// stored: `None` when no snapshot has these bytes.
    pub fn check_bytes_of(
        &self,
        sha256: Sha256,
        blake3: Blake3,
        len: u64,
    ) -> Result<Option<SnapshotCheck>> {
        let found = self.store().find_sha256(sha256)?;
        match found.filter(|info| info.blake3 == blake3 && info.len == len) {
            Some(recorded) => self.check_recorded(recorded).map(Some),
            None => Ok(None),
        }
    }

    fn check_recorded(&self, recorded: SnapshotInfo) -> Result<SnapshotCheck> {
        let captures = self.captures_with_sha(recorded.sha256)?;
        let outcome = match self.store().verify(recorded.blake3) {
            Ok(info) => Ok(info),
            Err(err) if err.is_integrity_failure() => Err(err),
            Err(err) => return Err(err.into()),
        };
        Ok(SnapshotCheck {
            recorded,
            captures,
            outcome,
        })
    }

    /// The bytes of a snapshot through the verifying reader: each chunk checked before it is
    /// handed out, both digests at the end.
    pub fn snapshot_reader(&self, key: Blake3) -> Result<SnapshotReader<'_>> {
        Ok(self.store().reader(key)?)
    }

    /// Stores bytes as a snapshot without recording a capture (`evarc archive` with no
    /// document): they are kept, findable by digest, and named by no record.
    pub fn store_bytes(&self, source: impl Read) -> Result<PutOutcome> {
        Ok(self.store().put(source)?)
    }

    /// Bytes already archived under this SHA-256, with the media type their captures give them.
    pub fn stored_original(&self, sha256: Sha256) -> Result<Option<StoredOriginal>> {
        let Some(info) = self.store().find_sha256(sha256)? else {
            return Ok(None);
        };
        let media_type = self
            .captures_with_sha(sha256)?
            .first()
            .map(|c| c.media_type.clone());
        Ok(Some(StoredOriginal { info, media_type }))
    }

    /// Where the archive's bytes are now, by table file and by kind of stored value (memtables
    /// flushed first, so every byte is counted in a file).
    pub fn space(&self) -> Result<SpaceReport> {
        self.store().flush_all()?;
        Ok(self.store().space()?)
    }

    /// Re-encodes the stored snapshots as `options` say; a snapshot that fails verification is
    /// left as it was and named in the report.
    pub fn repack(
        &self,
        options: RepackOptions,
        progress: impl Fn(RepackProgress) + Sync,
    ) -> Result<RepackReport> {
        Ok(self.store().repack(options, progress)?)
    }
}
