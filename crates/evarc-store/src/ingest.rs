//! Putting snapshots: hashed, compressed (as a delta when a base is hinted) and committed
//! atomically.

use std::io::{self, Read};
use std::sync::mpsc;
use std::sync::Arc;

use rocksdb::{WriteBatch, WriteOptions};
use sha2::Digest as _;

use crate::format::{
    encode_chunk, Layout, Manifest, CF_CHUNKS, CF_DELTAS, CF_SHA256, CF_SNAPSHOTS, CHUNK_SIZE,
    DELTA_MAX,
};
use crate::reader::into_store_error;
use crate::store::SnapshotInfo;
use crate::{Blake3, RecordBatch, Result, Sha256, Store, StoreError};

/// zstd level of chunk values streamed from large inputs.
const ZSTD_LEVEL: i32 = 3;
/// zstd level of small snapshots stored whole (chain keyframes): there are few of them and they
/// dominate the size of a history (level 9: 4.03 MB for the corpus' 71 keyframes, level 3: 4.48).
const KEYFRAME_LEVEL: i32 = 9;
/// Inputs from this size on hash SHA-256 and BLAKE3 on two threads.
const PARALLEL_HASH_MIN: usize = 256 << 10;
/// Chunks in flight between the reader and the hashing thread: bounds memory to a few MiB.
const PIPELINE_DEPTH: usize = 4;

/// The result of a put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PutOutcome {
    pub info: SnapshotInfo,
    /// False when identical bytes were already archived: nothing new was stored.
    pub new: bool,
    /// Bytes of chunk and delta values newly written (after compression).
    pub stored_bytes: u64,
}

/// How to put a snapshot.
#[derive(Debug, Default)]
pub struct PutOptions {
    /// The SHA-256 the bytes are promised to have: anything else is refused, nothing recorded.
    pub expected: Option<Sha256>,
    /// An earlier snapshot these bytes are likely close to (e.g. the previous version of the
    /// same document): the new snapshot may be stored as a delta in its chain.
    pub base_hint: Option<crate::BaseHint>,
}

/// When a commit is made durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Before the commit returns (the write-ahead log is synced).
    Synced,
    /// At the next [`Store::sync`] (or a later synced commit).
    Deferred,
}

/// A snapshot hashed and compressed but not yet committed ([`Store::prepare`]).
///
/// Preparing is the expensive part and may run on several threads at once; committing is one
/// synced write, which can carry the caller's records so that they appear exactly when the
/// bytes do.
pub struct PreparedSnapshot {
    info: SnapshotInfo,
    /// Chunk or delta values with the manifest and index entry; `None` when already stored.
    batch: Option<WriteBatch>,
    stored_bytes: u64,
    bytes: Option<Arc<Vec<u8>>>,
    /// Chunk or delta values bound for the bucket of an archive on one (issue 14): uploaded,
    /// and confirmed, before the batch that references them is committed.
    uploads: Vec<(crate::BlobKind, Blake3, Vec<u8>)>,
    /// Values the snapshot makes worth insuring: they join parity groups in the commit's write.
    parity: Vec<crate::parity::ParityOp>,
}

impl std::fmt::Debug for PreparedSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedSnapshot")
            .field("info", &self.info)
            .field("new", &self.batch.is_some())
            .finish_non_exhaustive()
    }
}

impl PreparedSnapshot {
    /// The digests and length of the prepared bytes.
    pub fn info(&self) -> &SnapshotInfo {
        &self.info
    }
}

impl Store {
    /// Stores the bytes `source` yields and returns their digests.
    ///
    /// Inputs of at most [`crate::DELTA_MAX`] bytes are read into memory, hashed, and stored as
    /// a delta against the hinted base when there is one, else whole. Larger inputs are streamed
    /// in [`crate::CHUNK_SIZE`] chunks (memory stays bounded whatever their size): one thread
    /// hashes the stream while the calling thread compresses and writes chunks not already
    /// present. In both cases the manifest and the SHA-256 index entry are written in one batch
    /// with the write-ahead log synced: once this returns `Ok`, the snapshot is durable, and a
    /// crash before that leaves no snapshot (at most unreferenced chunks, which a later put of
    /// the same bytes reuses).
    pub fn put(&self, source: impl Read) -> Result<PutOutcome> {
        self.put_with(source, PutOptions::default(), |_| {})
    }

    /// [`Store::put`] with a promised SHA-256 (see [`PutOptions::expected`]).
    pub fn put_checked(
        &self,
        source: impl Read,
        expected: Option<Sha256>,
        progress: impl FnMut(u64),
    ) -> Result<PutOutcome> {
        let options = PutOptions {
            expected,
            ..PutOptions::default()
        };
        self.put_with(source, options, progress)
    }

    /// [`Store::put`] with options; `progress` is called with the bytes read so far.
    pub fn put_with(
        &self,
        source: impl Read,
        options: PutOptions,
        progress: impl FnMut(u64),
    ) -> Result<PutOutcome> {
        let prepared = self.prepare(source, options, progress)?;
        self.commit_prepared(prepared, None)
    }

    /// Hashes and compresses a snapshot without committing it. Chunks of large (streamed)
    /// inputs are written already, unreferenced until the commit.
    pub fn prepare(
        &self,
        source: impl Read,
        options: PutOptions,
        mut progress: impl FnMut(u64),
    ) -> Result<PreparedSnapshot> {
        let mut head = Vec::new();
        let mut source = source;
        read_up_to(&mut source, &mut head, DELTA_MAX + 1)?;
        progress(head.len() as u64);
        if head.len() <= DELTA_MAX {
            return self.prepare_small(head, options);
        }
        let chained = io::Cursor::new(head).chain(source);
        self.prepare_streamed(chained, options, progress)
    }

    /// Commits a prepared snapshot (unless it was stored meanwhile) together with `records`,
    /// in one synced write.
    pub fn commit_prepared(
        &self,
        prepared: PreparedSnapshot,
        records: Option<RecordBatch>,
    ) -> Result<PutOutcome> {
        self.commit_prepared_with(prepared, records, Durability::Synced)
    }

    /// [`Store::commit_prepared`], with the write-ahead log synced now or by a later
    /// [`Store::sync`] (bulk imports sync once per group of commits). A deferred commit is
    /// atomic and survives a crash of the process, but not of the machine, until synced.
    pub fn commit_prepared_with(
        &self,
        prepared: PreparedSnapshot,
        records: Option<RecordBatch>,
        durability: Durability,
    ) -> Result<PutOutcome> {
        let PreparedSnapshot {
            info,
            batch,
            stored_bytes,
            bytes,
            uploads,
            parity,
        } = prepared;
        // On a bucket, a delta object's name is the snapshot's key but its bytes depend on the
        // base: the check, the upload and the commit of one snapshot must not interleave with
        // another writer thread's of the same snapshot (objects stay immutable once referenced).
        let _commit_guard = self
            .blobs
            .as_ref()
            .map(|remote| remote.commit.lock(info.blake3));
        let batch = match batch {
            Some(batch) if !self.contains(info.blake3)? => batch,
            _ => {
                self.commit(WriteBatch::default(), records, durability, None, Vec::new())?;
                return Ok(PutOutcome {
                    info,
                    new: false,
                    stored_bytes: 0,
                });
            }
        };
        if let Some(remote) = &self.blobs {
            // The bucket confirms every value before the manifest that needs it is written: a
            // crash in between leaves at most unreferenced objects (`gc` lists them). The
            // values of one snapshot upload concurrently; other writer threads upload theirs
            // meanwhile. Nothing goes to a prefix that is not this archive's (owner.rs).
            self.claim_bucket()?;
            remote.put_all(uploads)?;
        }
        self.commit(batch, records, durability, Some(&info), parity)?;
        if let Some(bytes) = bytes {
            self.cache.put(info.blake3, bytes);
        }
        Ok(PutOutcome {
            info,
            new: true,
            stored_bytes,
        })
    }

    /// A snapshot held in memory: a delta on the hinted base's chain, or whole.
    fn prepare_small(&self, bytes: Vec<u8>, options: PutOptions) -> Result<PreparedSnapshot> {
        // Large inputs hash on two cores; for small ones a thread costs more than it saves.
        let (sha256, blake3) = if bytes.len() >= PARALLEL_HASH_MIN {
            std::thread::scope(|scope| {
                let sha = scope.spawn(|| Sha256::of(&bytes));
                let b3 = Blake3::of(&bytes);
                (sha.join().expect("hashing thread does not panic"), b3)
            })
        } else {
            (Sha256::of(&bytes), Blake3::of(&bytes))
        };
        let info = SnapshotInfo {
            blake3,
            sha256,
            len: bytes.len() as u64,
        };
        check_expected(options.expected, sha256)?;
        if self.contains(blake3)? {
            return Ok(PreparedSnapshot {
                info,
                batch: None,
                stored_bytes: 0,
                bytes: None,
                uploads: Vec::new(),
                parity: Vec::new(),
            });
        }
        let mut batch = WriteBatch::default();
        let mut uploads = Vec::new();
        let mut parity = Vec::new();
        let mut stored = 0u64;
        let slot = match options.base_hint {
            Some(hint) => self.chain_slot(hint)?,
            None => None,
        };
        let delta = match slot {
            Some(slot) => self
                .delta_against(&slot, &bytes)?
                .map(|value| (slot, value)),
            None => None,
        };
        let manifest = match delta {
            Some((slot, value)) => {
                stored += value.len() as u64;
                if self.blobs.is_some() {
                    // The bucket is the spare copy: no spares in RocksDB.
                    uploads.push((crate::BlobKind::Delta, blake3, value));
                } else {
                    batch.put_cf(self.cf(CF_DELTAS)?, blake3.as_bytes(), value);
                    stored += self.add_spares(&mut batch, &mut parity, slot.base, slot.index)?;
                }
                crate::delta::manifest(&info, &slot)
            }
            None => {
                let mut chunks = Vec::new();
                for raw in bytes.chunks(CHUNK_SIZE) {
                    let key = Blake3::of(raw);
                    if !self.chunk_present(key)? {
                        let value = encode_chunk(raw, KEYFRAME_LEVEL)
                            .map_err(|e| StoreError::io("compressing a chunk", e))?;
                        stored += value.len() as u64;
                        if self.blobs.is_some() {
                            uploads.push((crate::BlobKind::Chunk, key, value));
                        } else {
                            batch.put_cf(self.cf(CF_CHUNKS)?, key.as_bytes(), value);
                        }
                    }
                    chunks.push(key);
                }
                Manifest {
                    sha256,
                    len: info.len,
                    layout: Layout::Chunked {
                        chunk_size: CHUNK_SIZE as u32,
                        chunks,
                    },
                }
            }
        };
        batch.put_cf(self.cf(CF_SNAPSHOTS)?, blake3.as_bytes(), manifest.encode());
        batch.put_cf(self.cf(CF_SHA256)?, sha256.as_bytes(), blake3.as_bytes());
        Ok(PreparedSnapshot {
            info,
            batch: Some(batch),
            stored_bytes: stored,
            bytes: Some(Arc::new(bytes)),
            uploads,
            parity,
        })
    }

    /// The delta value of `bytes` against the slot's base, or `None` when the base cannot be
    /// rebuilt (it is then reported by a scrub; the new snapshot is stored whole instead).
    fn delta_against(
        &self,
        slot: &crate::delta::ChainSlot,
        bytes: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let Some(manifest) = self.manifest(slot.base)? else {
            return Ok(None);
        };
        let base = match self.materialize(slot.base, manifest) {
            Ok(base) => base,
            Err(err) if err.is_integrity_failure() => return Ok(None),
            Err(err) => return Err(err),
        };
        let value = crate::delta::compress(&base, bytes)?;
        Ok(Some(value))
    }

    /// Makes every write so far durable (syncs the write-ahead log). On an archive on a
    /// bucket, the record entries written since the last sync then go to the bucket as one
    /// segment (docs/format.md): what a sync made durable, `restore` finds.
    pub fn sync(&self) -> Result<()> {
        self.db.flush_wal(true).map_err(|e| self.db_err(e))?;
        self.push_pending()
    }

    /// Writes `batch` plus the caller's records in one write; `snapshot` names the manifest
    /// and index entry the batch holds, if any; the parity groups `parity` changes are in the
    /// same write.
    fn commit(
        &self,
        mut batch: WriteBatch,
        records: Option<RecordBatch>,
        durability: Durability,
        snapshot: Option<&SnapshotInfo>,
        parity: Vec<crate::parity::ParityOp>,
    ) -> Result<()> {
        let remote = self.blobs.is_some();
        let mut written = Vec::new();
        if let Some(records) = records {
            let cf = self.cf(crate::format::CF_RECORDS)?;
            for (key, value) in records.into_puts() {
                if remote {
                    written.push((crate::remote::CODE_RECORDS, key.clone()));
                }
                batch.put_cf(cf, key, value);
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.claim_bucket()?;
        if let (true, Some(info)) = (remote, snapshot) {
            written.push((
                crate::remote::CODE_SNAPSHOTS,
                info.blake3.as_bytes().to_vec(),
            ));
            written.push((crate::remote::CODE_SHA256, info.sha256.as_bytes().to_vec()));
        }
        let mut options = WriteOptions::default();
        options.set_sync(durability == Durability::Synced);
        self.write_with_parity(batch, parity, &options)?;
        self.note_written(written);
        if durability == Durability::Synced {
            self.push_pending()?;
        }
        Ok(())
    }

    /// A large snapshot, streamed in chunks.
    fn prepare_streamed(
        &self,
        mut source: impl Read,
        options: PutOptions,
        mut progress: impl FnMut(u64),
    ) -> Result<PreparedSnapshot> {
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
        let info = SnapshotInfo {
            blake3,
            sha256,
            len,
        };
        check_expected(options.expected, sha256)?;
        if self.contains(blake3)? {
            // Same bytes, same chunks: nothing to add. The chunks written above (if any) were
            // missing, which repairs a damaged archive rather than duplicating anything.
            return Ok(PreparedSnapshot {
                info,
                batch: None,
                stored_bytes,
                bytes: None,
                uploads: Vec::new(),
                parity: Vec::new(),
            });
        }
        let manifest = Manifest {
            sha256,
            len,
            layout: Layout::Chunked {
                chunk_size: CHUNK_SIZE as u32,
                chunks,
            },
        };
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_SNAPSHOTS)?, blake3.as_bytes(), manifest.encode());
        batch.put_cf(self.cf(CF_SHA256)?, sha256.as_bytes(), blake3.as_bytes());
        Ok(PreparedSnapshot {
            info,
            batch: Some(batch),
            stored_bytes,
            bytes: None,
            uploads: Vec::new(),
            parity: Vec::new(),
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
        // On a bucket, chunks upload in groups, concurrently (bounded memory: a group's values).
        let mut uploads = Vec::new();
        loop {
            let mut chunk = Vec::with_capacity(CHUNK_SIZE);
            read_up_to(source, &mut chunk, CHUNK_SIZE)?;
            if chunk.is_empty() {
                break;
            }
            len += chunk.len() as u64;
            let chunk = Arc::new(chunk);
            hasher
                .send(Arc::clone(&chunk))
                .expect("hashing thread lives until the sender is dropped");
            let key = Blake3::of(&chunk);
            if !self.chunk_present(key)? {
                let value = encode_chunk(&chunk, ZSTD_LEVEL)
                    .map_err(|e| StoreError::io("compressing a chunk", e))?;
                stored += value.len() as u64;
                match &self.blobs {
                    Some(remote) => {
                        uploads.push((crate::BlobKind::Chunk, key, value));
                        if uploads.len() >= crate::blobs::UPLOAD_CONCURRENCY {
                            self.claim_bucket()?;
                            remote.put_all(std::mem::take(&mut uploads))?;
                        }
                    }
                    None => self
                        .db
                        .put_cf(self.cf(CF_CHUNKS)?, key.as_bytes(), value)
                        .map_err(|e| self.db_err(e))?,
                }
            }
            chunks.push(key);
            progress(len);
        }
        if let Some(remote) = &self.blobs {
            self.claim_bucket()?;
            remote.put_all(uploads)?;
        }
        Ok((chunks, stored, len))
    }

    /// True when chunk `key` is stored. A chunk RocksDB reports as corrupt counts as absent, so
    /// that a put of the same bytes writes it afresh.
    fn chunk_present(&self, key: Blake3) -> Result<bool> {
        if let Some(remote) = &self.blobs {
            let tag = self.value_tag(crate::BlobKind::Chunk, key)?;
            return remote.contains(crate::BlobKind::Chunk, key, tag.as_ref());
        }
        Ok(matches!(
            self.db.get_pinned_cf(self.cf(CF_CHUNKS)?, key.as_bytes()),
            Ok(Some(value)) if !value.is_empty()
        ))
    }
}

fn check_expected(expected: Option<Sha256>, actual: Sha256) -> Result<()> {
    match expected {
        Some(expected) if expected != actual => Err(StoreError::InputMismatch { expected, actual }),
        _ => Ok(()),
    }
}

/// Appends up to `limit` bytes of `source` to `out`, retrying short reads; fewer means end of
/// input.
fn read_up_to(source: &mut impl Read, out: &mut Vec<u8>, limit: usize) -> Result<()> {
    let mut limited = source.take(limit as u64);
    loop {
        match limited.read_to_end(out) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(into_store_error(e, "reading the input")),
        }
    }
}
