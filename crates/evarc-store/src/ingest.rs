//! Putting snapshots: streamed, hashed and compressed on two threads, committed atomically.

use std::io::{self, Read};
use std::sync::mpsc;
use std::sync::Arc;

use rocksdb::{WriteBatch, WriteOptions};
use sha2::Digest as _;

use crate::format::{encode_chunk, Manifest, CF_CHUNKS, CF_SHA256, CF_SNAPSHOTS, CHUNK_SIZE};
use crate::reader::into_store_error;
use crate::store::SnapshotInfo;
use crate::{Blake3, Result, Sha256, Store, StoreError};

/// zstd level of chunk values.
const ZSTD_LEVEL: i32 = 3;
/// Chunks in flight between the reader and the hashing thread: bounds memory to a few MiB.
const PIPELINE_DEPTH: usize = 4;

/// The result of a put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    pub info: SnapshotInfo,
    /// False when identical bytes were already archived: nothing new was stored.
    pub new: bool,
    /// Bytes of chunk values newly written (after compression).
    pub stored_bytes: u64,
}

impl Store {
    /// Stores the bytes `source` yields and returns their digests.
    ///
    /// The input is streamed in [`crate::CHUNK_SIZE`] chunks: memory stays bounded whatever its
    /// size. One thread hashes the whole stream (SHA-256 and BLAKE3) while the calling thread
    /// compresses and writes chunks not already present. The manifest and the SHA-256 index entry
    /// are then written in one batch with the write-ahead log synced: once this returns `Ok`, the
    /// snapshot is durable, and a crash before that leaves no snapshot (only unreferenced chunks,
    /// which a later put of the same bytes reuses).
    pub fn put(&self, source: impl Read) -> Result<PutOutcome> {
        self.put_with_progress(source, |_| {})
    }

    /// [`Store::put`], calling `progress` with the number of bytes read so far after each chunk.
    pub fn put_with_progress(
        &self,
        source: impl Read,
        progress: impl FnMut(u64),
    ) -> Result<PutOutcome> {
        self.put_checked(source, None, progress)
    }

    /// [`Store::put_with_progress`] for bytes whose SHA-256 is promised: when they hash to
    /// anything else, no snapshot is recorded and [`StoreError::InputMismatch`] is returned.
    pub fn put_checked(
        &self,
        mut source: impl Read,
        expected: Option<Sha256>,
        mut progress: impl FnMut(u64),
    ) -> Result<PutOutcome> {
        let (tx, rx) = mpsc::sync_channel::<Arc<Vec<u8>>>(PIPELINE_DEPTH);
        let (chunks, stored_bytes, len, digests) = std::thread::scope(|scope| {
            let hasher = scope.spawn(move || {
                let mut sha = sha2::Sha256::new();
                let mut b3 = blake3::Hasher::new();
                for chunk in rx {
                    sha.update(chunk.as_slice());
                    b3.update(chunk.as_slice());
                }
                (
                    Sha256(sha.finalize().into()),
                    Blake3(*b3.finalize().as_bytes()),
                )
            });
            let written = self.write_chunks(&mut source, &tx, &mut progress);
            drop(tx);
            let digests = hasher.join().expect("hashing thread does not panic");
            written.map(|(chunks, stored, len)| (chunks, stored, len, digests))
        })?;
        let (sha256, blake3) = digests;
        if let Some(expected) = expected.filter(|e| *e != sha256) {
            return Err(StoreError::InputMismatch {
                expected,
                actual: sha256,
            });
        }
        let info = SnapshotInfo {
            blake3,
            sha256,
            len,
        };
        if self.contains(blake3)? {
            // Same bytes, same chunks: nothing to add. The chunks written above (if any) were
            // missing, which repairs a damaged archive rather than duplicating anything.
            return Ok(PutOutcome {
                info,
                new: false,
                stored_bytes,
            });
        }
        let manifest = Manifest {
            sha256,
            len,
            chunk_size: CHUNK_SIZE as u32,
            chunks,
        };
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_SNAPSHOTS), blake3.as_bytes(), manifest.encode());
        batch.put_cf(self.cf(CF_SHA256), sha256.as_bytes(), blake3.as_bytes());
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db
            .write_opt(batch, &sync)
            .map_err(|e| self.db_err(e))?;
        Ok(PutOutcome {
            info,
            new: true,
            stored_bytes,
        })
    }

    /// Reads `source` chunk by chunk, hands each chunk to the hasher and stores the chunks not yet
    /// present. Returns the chunk keys, the bytes written and the total length.
    fn write_chunks(
        &self,
        source: &mut impl Read,
        hasher: &mpsc::SyncSender<Arc<Vec<u8>>>,
        progress: &mut impl FnMut(u64),
    ) -> Result<(Vec<Blake3>, u64, u64)> {
        let mut chunks = Vec::new();
        let mut stored = 0u64;
        let mut len = 0u64;
        loop {
            let chunk = read_chunk(source)?;
            if chunk.is_empty() {
                break;
            }
            len += chunk.len() as u64;
            let chunk = Arc::new(chunk);
            hasher
                .send(Arc::clone(&chunk))
                .expect("hashing thread lives until the sender is dropped");
            let key = Blake3::of(&chunk);
            if !self.chunk_present(key) {
                let value = encode_chunk(&chunk, ZSTD_LEVEL)
                    .map_err(|e| StoreError::io("compressing a chunk", e))?;
                stored += value.len() as u64;
                self.db
                    .put_cf(self.cf(CF_CHUNKS), key.as_bytes(), value)
                    .map_err(|e| self.db_err(e))?;
            }
            chunks.push(key);
            progress(len);
        }
        Ok((chunks, stored, len))
    }

    /// True when chunk `key` is stored. A chunk RocksDB reports as corrupt counts as absent, so
    /// that a put of the same bytes writes it afresh.
    fn chunk_present(&self, key: Blake3) -> bool {
        matches!(
            self.db.get_pinned_cf(self.cf(CF_CHUNKS), key.as_bytes()),
            Ok(Some(value)) if !value.is_empty()
        )
    }
}

/// Reads up to [`CHUNK_SIZE`] bytes, retrying short reads; an empty vector means end of input.
fn read_chunk(source: &mut impl Read) -> Result<Vec<u8>> {
    let mut chunk = Vec::with_capacity(CHUNK_SIZE);
    let mut limited = source.take(CHUNK_SIZE as u64);
    loop {
        match limited.read_to_end(&mut chunk) {
            Ok(_) => return Ok(chunk),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(into_store_error(e, "reading the input")),
        }
    }
}
