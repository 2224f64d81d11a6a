//! Verified reads of a snapshot: streamed chunk by chunk, or rebuilt from its delta chain.

use std::io::{self, Read};
use std::sync::Arc;

use sha2::Digest as _;

use crate::format::{decode_chunk, Layout, Manifest, CF_CHUNKS, CF_DELTAS};
use crate::store::SnapshotInfo;
use crate::{Blake3, Result, Sha256, Store, StoreError};

/// Reads a snapshot's bytes, verifying as it goes.
///
/// A chunked snapshot is streamed: each chunk is decompressed and checked against its BLAKE3 key
/// before any of its bytes are returned, so a damaged chunk never reaches the caller; at the end
/// the whole snapshot is checked against its recorded SHA-256 and BLAKE3, and a mismatch is the
/// final read's error. A delta snapshot (at most [`crate::format::DELTA_MAX`] bytes) is rebuilt
/// and fully verified before the reader is returned. Errors are [`StoreError`]s wrapped in
/// `io::Error`; [`SnapshotReader::into_error`] unwraps them.
pub struct SnapshotReader<'a> {
    info: SnapshotInfo,
    source: Source<'a>,
}

enum Source<'a> {
    Chunked(Box<ChunkStream<'a>>),
    Verified { bytes: Arc<Vec<u8>>, pos: usize },
}

struct ChunkStream<'a> {
    store: &'a Store,
    key: Blake3,
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
        let (manifest, info) = self.manifest_required(key)?;
        let source = match &manifest.layout {
            Layout::Delta { .. } => Source::Verified {
                bytes: self.rebuild(key, manifest)?,
                pos: 0,
            },
            Layout::Chunked { .. } => match self.cache.get(key) {
                Some(bytes) => Source::Verified { bytes, pos: 0 },
                None => Source::Chunked(Box::new(ChunkStream::new(self, key, manifest))),
            },
        };
        Ok(SnapshotReader { info, source })
    }

    /// The verified bytes of a delta snapshot for a one-off read: the chain is rebuilt checking
    /// only the result (both digests), which is what is returned; intermediate versions are
    /// neither hashed nor cached. When the result fails, the chain is rebuilt again checking
    /// every level, so that the error names the snapshot that is actually damaged.
    fn rebuild(&self, key: Blake3, manifest: Manifest) -> Result<Arc<Vec<u8>>> {
        if let Some(bytes) = self.cache.get(key) {
            return Ok(bytes);
        }
        match self.rebuild_unchecked(key, &manifest) {
            Ok(bytes) if digests_match(&bytes, key, manifest.sha256) => {
                let bytes = Arc::new(bytes);
                self.cache.put(key, Arc::clone(&bytes));
                Ok(bytes)
            }
            _ => self.materialize(key, manifest),
        }
    }

    /// Applies a delta chain without checking the levels in between (see [`Store::rebuild`]).
    fn rebuild_unchecked(&self, key: Blake3, manifest: &Manifest) -> Result<Vec<u8>> {
        let mut chain = vec![(key, manifest.clone())];
        let bottom: Arc<Vec<u8>> = loop {
            let (at, current) = chain.last().expect("chain starts non-empty");
            match &current.layout {
                Layout::Chunked { .. } => {
                    let (at, current) = chain.pop().expect("non-empty");
                    break match self.cache.get(at) {
                        Some(cached) => cached,
                        None => Arc::new(self.decode_keyframe_unchecked(at, &current)?),
                    };
                }
                Layout::Delta { base, .. } => {
                    if let Some(cached) = self.cache.get(*base) {
                        break cached;
                    }
                    let (at, base) = (*at, *base);
                    let next = self.manifest(base)?.ok_or(StoreError::ManifestCorrupt {
                        snapshot: base,
                        reason: format!("is missing (snapshot blake3:{at} is a delta on it)"),
                    })?;
                    chain.push((base, next));
                }
            }
        };
        // The levels rebuilt so far, bottom first: path deltas (issue 14) use those below them.
        // The bytes of the chain laid end to end are reserved at once (growing them copied
        // every level again: 5% of a read of a repacked archive).
        let chain_bytes = chain.iter().fold(bottom.len(), |sum, (_, m)| {
            sum.saturating_add(usize::try_from(m.len).unwrap_or(usize::MAX))
        });
        let mut levels = vec![bottom];
        let mut joined = JoinedLevels::with_capacity(chain_bytes.min(JOINED_RESERVE_MAX));
        while let Some((at, current)) = chain.pop() {
            let bytes = self.decode_delta_joined(at, &current, &levels, Some(&mut joined))?;
            joined.push(&bytes);
            push_level(&mut levels, Arc::new(bytes));
        }
        let top = levels.pop().expect("levels start non-empty");
        Ok(Arc::try_unwrap(top).unwrap_or_else(|shared| shared.as_ref().clone()))
    }

    /// The verified bytes of a snapshot of at most `DELTA_MAX` bytes, rebuilt through its delta
    /// chain when it has one, every level checked against its key and cached.
    pub(crate) fn materialize(&self, key: Blake3, manifest: Manifest) -> Result<Arc<Vec<u8>>> {
        if let Some(bytes) = self.cache.get(key) {
            return Ok(bytes);
        }
        // Walk down to a cached snapshot or the chain's keyframe.
        let mut chain = vec![(key, manifest)];
        let mut bytes = loop {
            let (at, current) = chain.last().expect("chain starts non-empty");
            let (at, base) = match &current.layout {
                Layout::Chunked { .. } => {
                    let (at, current) = chain.pop().expect("non-empty");
                    break self
                        .read_keyframe(at, current)
                        .map_err(|e| wrap(key, at, e))?;
                }
                Layout::Delta { base, .. } => (*at, *base),
            };
            if let Some(bytes) = self.cache.get(base) {
                break bytes;
            }
            let base_manifest = self
                .manifest(base)
                .map_err(|e| wrap(key, base, e))?
                .ok_or_else(|| {
                    wrap(
                        key,
                        base,
                        StoreError::ManifestCorrupt {
                            snapshot: base,
                            reason: format!("is missing (snapshot blake3:{at} is a delta on it)"),
                        },
                    )
                })?;
            chain.push((base, base_manifest));
        };
        // Apply the deltas upwards, checking every level against its key.
        let mut levels = vec![Arc::clone(&bytes)];
        while let Some((at, current)) = chain.pop() {
            let rebuilt = self
                .apply_delta(at, &current, &levels)
                .map_err(|e| wrap(key, at, e))?;
            bytes = Arc::new(rebuilt);
            self.cache.put(at, Arc::clone(&bytes));
            push_level(&mut levels, Arc::clone(&bytes));
        }
        let manifest_sha =
            self.manifest(key)?
                .map(|m| m.sha256)
                .ok_or_else(|| StoreError::SnapshotNotFound {
                    query: format!("blake3:{key}"),
                })?;
        let sha = Sha256::of(&bytes);
        if sha != manifest_sha {
            return Err(StoreError::HashMismatch {
                snapshot: key,
                algorithm: Sha256::ALGORITHM,
                expected: manifest_sha.to_hex(),
                actual: sha.to_hex(),
            });
        }
        Ok(bytes)
    }

    /// A keyframe's bytes for a one-off rebuild ([`Store::rebuild_unchecked`]): its chunks
    /// decoded, not hashed and not cached. Hashing the keyframe as well as the result was a
    /// quarter of a read of a repacked archive; a damaged chunk makes the result fail its
    /// check, and the checked rebuild then names it (or heals it from a spare).
    fn decode_keyframe_unchecked(&self, key: Blake3, manifest: &Manifest) -> Result<Vec<u8>> {
        let len = usize::try_from(manifest.len).unwrap_or(usize::MAX);
        let mut out = Vec::with_capacity(len.min(crate::format::DELTA_MAX));
        for (index, chunk) in manifest.chunks().iter().enumerate() {
            let index = u32::try_from(index).expect("manifest chunk count is a u32");
            let corrupt = |reason| StoreError::ChunkCorrupt {
                snapshot: key,
                index,
                chunk: *chunk,
                reason,
            };
            let value =
                self.stored_value(CF_CHUNKS, *chunk, corrupt)?
                    .ok_or(StoreError::ChunkMissing {
                        snapshot: key,
                        index,
                        chunk: *chunk,
                    })?;
            let raw = decode_chunk(&value, manifest.chunk_len(index as usize)).map_err(corrupt)?;
            out.extend_from_slice(&raw);
        }
        Ok(out)
    }

    /// Reads a whole chunked snapshot into memory, verified, and caches it.
    fn read_keyframe(&self, key: Blake3, manifest: Manifest) -> Result<Arc<Vec<u8>>> {
        let len = usize::try_from(manifest.len).unwrap_or(usize::MAX);
        let mut stream = ChunkStream::new(self, key, manifest);
        let mut out = Vec::with_capacity(len.min(crate::format::DELTA_MAX));
        stream.read_all(&mut out)?;
        let bytes = Arc::new(out);
        self.cache.put(key, Arc::clone(&bytes));
        Ok(bytes)
    }

    /// Rebuilds delta snapshot `key` from its base's bytes and checks its BLAKE3.
    fn apply_delta(
        &self,
        key: Blake3,
        manifest: &Manifest,
        lower: &[Arc<Vec<u8>>],
    ) -> Result<Vec<u8>> {
        let base = lower
            .last()
            .expect("a delta has its base below it")
            .as_slice();
        let err = match self.decode_delta(key, manifest, lower) {
            Ok(bytes) => {
                let actual = Blake3::of(&bytes);
                if actual == key {
                    return Ok(bytes);
                }
                StoreError::HashMismatch {
                    snapshot: key,
                    algorithm: Blake3::ALGORITHM,
                    expected: key.to_hex(),
                    actual: actual.to_hex(),
                }
            }
            Err(err) => err,
        };
        // A heavily shared snapshot's delta is insured in another column family: by a full
        // copy (codec 2, against its base alone) in archives written before issue 14's parity
        // groups, else by its parity group, which rebuilds the value as stored.
        if err.is_integrity_failure() {
            if let Some(value) = self.spare(crate::spares::TAG_DELTA, key) {
                let len = usize::try_from(manifest.len).unwrap_or(usize::MAX);
                if let Ok(bytes) = crate::delta::decompress(base, &value, len) {
                    if Blake3::of(&bytes) == key {
                        return Ok(bytes);
                    }
                }
            }
            if let Some(value) = self.parity_rebuild(crate::spares::TAG_DELTA, key) {
                if let Ok(bytes) = self.decode_delta_value(key, manifest, lower, &value, None) {
                    if Blake3::of(&bytes) == key {
                        return Ok(bytes);
                    }
                }
            }
        }
        Err(err)
    }

    /// Decodes delta snapshot `key` against its base's bytes, unchecked.
    /// `lower`: the levels rebuilt below it, bottom first, its base last.
    pub(crate) fn decode_delta(
        &self,
        key: Blake3,
        manifest: &Manifest,
        lower: &[Arc<Vec<u8>>],
    ) -> Result<Vec<u8>> {
        self.decode_delta_joined(key, manifest, lower, None)
    }

    /// [`Store::decode_delta`], taking a path delta's ancestors from `joined` (the same levels
    /// laid end to end) when it holds them, instead of laying them end to end again.
    fn decode_delta_joined(
        &self,
        key: Blake3,
        manifest: &Manifest,
        lower: &[Arc<Vec<u8>>],
        joined: Option<&mut JoinedLevels>,
    ) -> Result<Vec<u8>> {
        let value = self
            .stored_value(CF_DELTAS, key, |reason| StoreError::DeltaCorrupt {
                snapshot: key,
                reason,
            })?
            .ok_or(StoreError::DeltaMissing { snapshot: key })?;
        self.decode_delta_value(key, manifest, lower, &value, joined)
    }

    /// True when `value`, a delta value of snapshot `key`, rebuilds it from the levels below.
    pub(crate) fn decode_delta_value_checked(
        &self,
        key: Blake3,
        manifest: &Manifest,
        lower: &[Arc<Vec<u8>>],
        value: &[u8],
    ) -> bool {
        matches!(
            self.decode_delta_value(key, manifest, lower, value, None),
            Ok(bytes) if Blake3::of(&bytes) == key
        )
    }

    /// Decodes `value`, a delta value of snapshot `key` (its primary, or one rebuilt from
    /// parity), against the levels below it, unchecked.
    fn decode_delta_value(
        &self,
        key: Blake3,
        manifest: &Manifest,
        lower: &[Arc<Vec<u8>>],
        value: &[u8],
        joined: Option<&mut JoinedLevels>,
    ) -> Result<Vec<u8>> {
        let base = lower
            .last()
            .expect("a delta has its base below it")
            .as_slice();
        let len = usize::try_from(manifest.len).unwrap_or(usize::MAX);
        let corrupt = |reason| StoreError::DeltaCorrupt {
            snapshot: key,
            reason,
        };
        if let Some(k) = crate::pathdelta::ancestors_used(value) {
            if let Some(prefix) = joined.and_then(|j| j.prefix(lower, k)) {
                return crate::pathdelta::decompress_with_prefix(prefix, value, len)
                    .map_err(corrupt);
            }
            let ancestors = self.path_ancestors(manifest, k, lower)?;
            return crate::pathdelta::decompress(&ancestors, value, len).map_err(corrupt);
        }
        crate::delta::decompress(base, value, len).map_err(corrupt)
    }
}

impl Store {
    /// The value under `key` in column family `cf`; data RocksDB finds damaged becomes the
    /// error `corrupt` builds from the reason.
    fn stored_value(
        &self,
        cf: &str,
        key: Blake3,
        corrupt: impl FnOnce(String) -> StoreError,
    ) -> Result<Option<crate::remote::BlobBytes<'_>>> {
        if let Some(remote) = &self.blobs {
            if cf == CF_CHUNKS || cf == CF_DELTAS {
                let kind = if cf == CF_CHUNKS {
                    crate::BlobKind::Chunk
                } else {
                    crate::BlobKind::Delta
                };
                // The object a repack switched the value to, if any (value_names.rs).
                let tag = self.value_tag(kind, key)?;
                return Ok(remote
                    .get(kind, key, tag.as_ref())?
                    .map(crate::remote::BlobBytes::Owned));
            }
        }
        match self.db.get_pinned_cf(self.cf(cf)?, key.as_bytes()) {
            Ok(value) => Ok(value.map(crate::remote::BlobBytes::Pinned)),
            Err(e) => match self.db_err(e) {
                StoreError::Db {
                    corruption: true,
                    source,
                    ..
                } => match self.salvage(cf, key.as_bytes()) {
                    // The table file's index (or footer) is damaged, its data blocks are not:
                    // the value read without the index is checked like any other (issue 16).
                    Some(value) => Ok(Some(crate::remote::BlobBytes::Owned(value))),
                    None => Err(corrupt(format!("is unreadable: {source}"))),
                },
                other => Err(other),
            },
        }
    }
}

/// Adds a rebuilt level, keeping only as many below it as a path delta can use.
/// The levels of one chain walk laid end to end, from the first path delta met on (issue 14):
/// a path delta's prefix is then a slice of it, where laying its ancestors end to end for each
/// level copied each of them up to four times (8% of a read of a repacked archive). Holds at
/// least the levels [`push_level`] keeps, as a suffix.
#[derive(Default)]
struct JoinedLevels {
    bytes: Vec<u8>,
    /// Where each level held starts in `bytes`, oldest first.
    starts: Vec<usize>,
    /// Bytes reserved at the first path delta met (a chain without one reserves nothing).
    reserve: usize,
}

impl JoinedLevels {
    fn with_capacity(bytes: usize) -> Self {
        Self {
            reserve: bytes,
            ..Self::default()
        }
    }

    /// The last `k` levels of `lower` end to end, if `lower` has that many; the first call
    /// copies `lower` in.
    fn prefix(&mut self, lower: &[Arc<Vec<u8>>], k: usize) -> Option<&[u8]> {
        if k == 0 || k > lower.len() {
            return None;
        }
        if self.starts.is_empty() {
            self.bytes.reserve(self.reserve);
            for level in lower {
                self.starts.push(self.bytes.len());
                self.bytes.extend_from_slice(level);
            }
        }
        let n = self.starts.len();
        (k <= n).then(|| &self.bytes[self.starts[n - k]..])
    }

    /// Appends the level just rebuilt (once started); levels beyond what [`push_level`] keeps
    /// are dropped when they are more than half of the bytes held.
    fn push(&mut self, level: &[u8]) {
        if self.starts.is_empty() {
            return;
        }
        self.starts.push(self.bytes.len());
        self.bytes.extend_from_slice(level);
        let newest = self.starts[self.starts.len() - 1];
        let mut first = self.starts.len() - 1;
        while first > 0 && newest - self.starts[first - 1] <= crate::pathdelta::PATH_PREFIX_MAX {
            first -= 1;
        }
        let dropped = self.starts[first];
        if dropped > self.bytes.len() / 2 {
            self.bytes.drain(..dropped);
            self.starts.drain(..first);
            for start in &mut self.starts {
                *start -= dropped;
            }
        }
    }
}

/// At most this many bytes of a chain laid end to end are reserved up front (larger chains
/// grow their buffer as before).
const JOINED_RESERVE_MAX: usize = 64 << 20;

/// Snapshots from this size on are hashed with SHA-256 and BLAKE3 side by side, on two threads.
const PARALLEL_HASH_FROM: usize = 512 << 10;

/// True when `bytes` hash to `blake3` and `sha256`.
fn digests_match(bytes: &[u8], blake3: Blake3, sha256: Sha256) -> bool {
    if bytes.len() < PARALLEL_HASH_FROM {
        return Blake3::of(bytes) == blake3 && Sha256::of(bytes) == sha256;
    }
    std::thread::scope(|scope| {
        let Ok(sha) = std::thread::Builder::new().spawn_scoped(scope, || Sha256::of(bytes)) else {
            // No thread to be had: one after the other.
            return Blake3::of(bytes) == blake3 && Sha256::of(bytes) == sha256;
        };
        let blake3_ok = Blake3::of(bytes) == blake3;
        // A hashing thread that panicked leaves the SHA-256 unchecked: not a match.
        let sha_ok = sha.join().is_ok_and(|actual| actual == sha256);
        blake3_ok && sha_ok
    })
}

fn push_level(levels: &mut Vec<Arc<Vec<u8>>>, bytes: Arc<Vec<u8>>) {
    levels.push(bytes);
    let mut kept = 0usize;
    let mut first = levels.len() - 1;
    while first > 0 && kept + levels[first - 1].len() <= crate::pathdelta::PATH_PREFIX_MAX {
        kept += levels[first - 1].len();
        first -= 1;
    }
    levels.drain(..first);
}

/// Names the snapshot asked for when a snapshot it is built on failed.
fn wrap(asked: Blake3, failed: Blake3, err: StoreError) -> StoreError {
    if asked == failed {
        err
    } else {
        StoreError::BaseDamaged {
            snapshot: asked,
            base: failed,
            source: Box::new(err),
        }
    }
}

impl<'a> ChunkStream<'a> {
    fn new(store: &'a Store, key: Blake3, manifest: Manifest) -> Self {
        Self {
            store,
            key,
            manifest,
            next_chunk: 0,
            buf: Vec::new(),
            pos: 0,
            sha256: sha2::Sha256::new(),
            blake3: blake3::Hasher::new(),
            read: 0,
            done: false,
        }
    }

    /// Reads everything into `out`, verified (used for keyframes of delta chains).
    fn read_all(&mut self, out: &mut Vec<u8>) -> Result<()> {
        while self.next_chunk < self.manifest.chunks().len() {
            self.load_chunk()?;
            out.extend_from_slice(&self.buf);
            self.pos = self.buf.len();
        }
        self.finish()
    }

    fn load_chunk(&mut self) -> Result<()> {
        let raw = match self.load_primary_chunk() {
            Ok(raw) => raw,
            Err(err) => {
                // A chunk of a heavily shared keyframe is insured in another column family: by
                // a full copy (archives written before issue 14's parity groups), else by its
                // parity group.
                if !err.is_integrity_failure() {
                    return Err(err);
                }
                let index = self.next_chunk;
                let chunk = self.manifest.chunks()[index];
                let raw_len = self.manifest.chunk_len(index);
                let decoded = |value: Vec<u8>| {
                    decode_chunk(&value, raw_len)
                        .ok()
                        .filter(|raw| Blake3::of(raw) == chunk)
                };
                let store = self.store;
                let spare = store
                    .spare(crate::spares::TAG_CHUNK, chunk)
                    .and_then(decoded)
                    .or_else(|| {
                        store
                            .parity_rebuild(crate::spares::TAG_CHUNK, chunk)
                            .and_then(decoded)
                    });
                match spare {
                    Some(raw) => raw,
                    None => return Err(err),
                }
            }
        };
        self.sha256.update(&raw);
        self.blake3.update(&raw);
        self.read += raw.len() as u64;
        self.buf = raw;
        self.pos = 0;
        self.next_chunk += 1;
        Ok(())
    }

    /// The next chunk's raw bytes from its primary copy, checked against its key.
    fn load_primary_chunk(&mut self) -> Result<Vec<u8>> {
        let index = self.next_chunk;
        let chunk = self.manifest.chunks()[index];
        let snapshot = self.key;
        let index_u32 = u32::try_from(index).expect("manifest chunk count is a u32");
        let store = self.store;
        let value = store
            .stored_value(CF_CHUNKS, chunk, |reason| StoreError::ChunkCorrupt {
                snapshot,
                index: index_u32,
                chunk,
                reason,
            })?
            .ok_or(StoreError::ChunkMissing {
                snapshot,
                index: index_u32,
                chunk,
            })?;
        let raw = decode_chunk(&value, self.manifest.chunk_len(index)).map_err(|reason| {
            StoreError::ChunkCorrupt {
                snapshot,
                index: index_u32,
                chunk,
                reason,
            }
        })?;
        let actual = Blake3::of(&raw);
        if actual != chunk {
            return Err(StoreError::ChunkCorrupt {
                snapshot,
                index: index_u32,
                chunk,
                reason: format!("hashes to blake3:{actual}"),
            });
        }
        Ok(raw)
    }

    fn finish(&mut self) -> Result<()> {
        self.done = true;
        let snapshot = self.key;
        if self.read != self.manifest.len {
            return Err(StoreError::LengthMismatch {
                snapshot,
                expected: self.manifest.len,
                actual: self.read,
            });
        }
        let sha = Sha256(std::mem::take(&mut self.sha256).finalize().into());
        if sha != self.manifest.sha256 {
            return Err(StoreError::HashMismatch {
                snapshot,
                algorithm: Sha256::ALGORITHM,
                expected: self.manifest.sha256.to_hex(),
                actual: sha.to_hex(),
            });
        }
        let b3 = Blake3(*std::mem::take(&mut self.blake3).finalize().as_bytes());
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

    fn read(&mut self, out: &mut [u8]) -> Result<usize> {
        while self.pos == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            if self.next_chunk == self.manifest.chunks().len() {
                self.finish()?;
                return Ok(0);
            }
            self.load_chunk()?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
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
}

impl Read for SnapshotReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        match &mut self.source {
            Source::Chunked(stream) => stream.read(out).map_err(io::Error::other),
            Source::Verified { bytes, pos } => {
                let n = out.len().min(bytes.len() - *pos);
                out[..n].copy_from_slice(&bytes[*pos..*pos + n]);
                *pos += n;
                Ok(n)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The joined levels always end with the levels a chain walk keeps, whatever their sizes:
    /// a path delta's prefix taken from them is the ancestors it was made with.
    #[test]
    fn joined_levels_end_with_the_levels_kept() {
        let mut levels: Vec<Arc<Vec<u8>>> = vec![Arc::new(vec![0u8; 3 << 20])];
        let mut joined = JoinedLevels::default();
        for step in 1u8..=48 {
            // Sizes from 1 to 7 MiB, so the 64 MiB bound is crossed many times.
            let level = Arc::new(vec![step; usize::from(step % 7 + 1) << 20]);
            for k in [1, 3, levels.len()]
                .into_iter()
                .filter(|k| *k <= levels.len())
            {
                let prefix = joined.prefix(&levels, k).expect("k levels are held");
                let expected = &levels[levels.len() - k..];
                let len: usize = expected.iter().map(|l| l.len()).sum();
                assert_eq!(prefix.len(), len, "step {step}, k {k}");
                let mut at = 0;
                for level in expected {
                    assert!(
                        prefix[at..at + level.len()] == level[..],
                        "step {step}, k {k}"
                    );
                    at += level.len();
                }
            }
            assert!(joined.prefix(&levels, levels.len() + 1).is_none());
            joined.push(&level);
            push_level(&mut levels, level);
            assert!(joined.bytes.len() <= 3 * crate::pathdelta::PATH_PREFIX_MAX);
        }
    }

    #[test]
    fn digests_are_checked_alike_below_and_above_the_parallel_size() {
        for len in [0, 1000, PARALLEL_HASH_FROM, PARALLEL_HASH_FROM * 3 + 7] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let (blake3, sha256) = (Blake3::of(&bytes), Sha256::of(&bytes));
            assert!(digests_match(&bytes, blake3, sha256), "{len}");
            let other = Blake3::of(b"other");
            assert!(!digests_match(&bytes, other, sha256), "{len}: wrong BLAKE3");
            assert!(
                !digests_match(&bytes, blake3, Sha256::of(b"other")),
                "{len}: wrong SHA-256"
            );
        }
    }
}
