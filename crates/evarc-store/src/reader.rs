//! Verified streaming reads of a snapshot.

use std::io::{self, Read};

use sha2::Digest as _;

use crate::format::{decode_chunk, Manifest, CF_CHUNKS};
use crate::store::SnapshotInfo;
use crate::{Blake3, Result, Sha256, Store, StoreError};

/// Reads a snapshot's bytes, verifying as it goes.
///
/// Each chunk is decompressed and checked against its BLAKE3 key before any of its bytes are
/// returned, so a damaged chunk never reaches the caller. At the end the whole snapshot is checked
/// against its recorded SHA-256 and BLAKE3; a mismatch is returned as the final read's error.
/// Errors are [`StoreError`]s wrapped in `io::Error`; [`SnapshotReader::into_error`] unwraps them.
pub struct SnapshotReader<'a> {
    store: &'a Store,
    info: SnapshotInfo,
    manifest: Manifest,
    next_chunk: usize,
    buf: Vec<u8>,
    pos: usize,
    sha256: sha2::Sha256,
    blake3: blake3::Hasher,
    read: u64,
    done: bool,
}

impl Store {
    /// A verifying reader over snapshot `key`.
    pub fn reader(&self, key: Blake3) -> Result<SnapshotReader<'_>> {
        let manifest = self
            .manifest(key)?
            .ok_or_else(|| StoreError::SnapshotNotFound {
                query: format!("blake3:{key}"),
            })?;
        Ok(SnapshotReader {
            store: self,
            info: SnapshotInfo {
                blake3: key,
                sha256: manifest.sha256,
                len: manifest.len,
            },
            manifest,
            next_chunk: 0,
            buf: Vec::new(),
            pos: 0,
            sha256: sha2::Sha256::new(),
            blake3: blake3::Hasher::new(),
            read: 0,
            done: false,
        })
    }
}

impl SnapshotReader<'_> {
    /// What the manifest records of the snapshot being read.
    pub fn info(&self) -> &SnapshotInfo {
        &self.info
    }

    /// Turns an error returned by `read` back into the store error it carries.
    pub fn into_error(&self, err: io::Error) -> StoreError {
        into_store_error(err, "reading snapshot")
    }

    fn load_chunk(&mut self) -> Result<()> {
        let index = self.next_chunk;
        let key = self.manifest.chunks[index];
        let snapshot = self.info.blake3;
        let index_u32 = u32::try_from(index).expect("manifest chunk count is a u32");
        let value = self
            .store
            .db
            .get_pinned_cf(self.store.cf(CF_CHUNKS), key.as_bytes())
            .map_err(|e| match self.store.db_err(e) {
                StoreError::Db {
                    corruption: true,
                    source,
                    ..
                } => StoreError::ChunkCorrupt {
                    snapshot,
                    index: index_u32,
                    chunk: key,
                    reason: format!("is unreadable: {source}"),
                },
                other => other,
            })?
            .ok_or(StoreError::ChunkMissing {
                snapshot,
                index: index_u32,
                chunk: key,
            })?;
        let raw = decode_chunk(&value, self.manifest.chunk_len(index)).map_err(|reason| {
            StoreError::ChunkCorrupt {
                snapshot,
                index: index_u32,
                chunk: key,
                reason,
            }
        })?;
        let actual = Blake3::of(&raw);
        if actual != key {
            return Err(StoreError::ChunkCorrupt {
                snapshot,
                index: index_u32,
                chunk: key,
                reason: format!("hashes to blake3:{actual}"),
            });
        }
        self.sha256.update(&raw);
        self.blake3.update(&raw);
        self.read += raw.len() as u64;
        self.buf = raw;
        self.pos = 0;
        self.next_chunk += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.done = true;
        let snapshot = self.info.blake3;
        if self.read != self.info.len {
            return Err(StoreError::LengthMismatch {
                snapshot,
                expected: self.info.len,
                actual: self.read,
            });
        }
        let sha = Sha256(std::mem::take(&mut self.sha256).finalize().into());
        if sha != self.info.sha256 {
            return Err(StoreError::HashMismatch {
                snapshot,
                algorithm: Sha256::ALGORITHM,
                expected: self.info.sha256.to_hex(),
                actual: sha.to_hex(),
            });
        }
        let b3 = Blake3(*self.blake3.finalize().as_bytes());
        if b3 != snapshot {
            return Err(StoreError::HashMismatch {
                snapshot,
                algorithm: Blake3::ALGORITHM,
                expected: snapshot.to_hex(),
                actual: b3.to_hex(),
            });
        }
        Ok(())
    }
}

impl Read for SnapshotReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            if self.next_chunk == self.manifest.chunks.len() {
                self.finish().map_err(io::Error::other)?;
                return Ok(0);
            }
            self.load_chunk().map_err(io::Error::other)?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Unwraps a [`StoreError`] carried in an `io::Error`, or wraps a plain I/O error with `what`.
pub(crate) fn into_store_error(err: io::Error, what: &str) -> StoreError {
    if err.get_ref().is_some_and(|inner| inner.is::<StoreError>()) {
        let inner = err.into_inner().expect("checked get_ref above");
        *inner
            .downcast::<StoreError>()
            .expect("checked is::<StoreError>")
    } else {
        StoreError::io(what, err)
    }
}
