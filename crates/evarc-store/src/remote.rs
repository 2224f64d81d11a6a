//! The bucket as the archive's second home (issue 14): the record log kept beside the blobs,
//! `restore` from a bucket alone, incremental `replicate`, `repair` from a replica, and `gc`.
//!
//! A bucket holding an archive has, under its prefix (docs/format.md, "Snapshot bytes in a
//! bucket"):
//! - `evarc-archive`: a marker written first, naming the archive the prefix belongs to
//!   (owner.rs);
//! - `chunks/<hex[0..2]>/<hex>` and `deltas/<hex[0..2]>/<hex>`: chunk and delta values, exactly
//!   as the `chunks` and `deltas` column families hold them; `…/<hex>.<tag>`, values a repack
//!   re-encoded (value_names.rs);
//! - `records/<16-digit sequence number>`: immutable segments of the record log. Each holds the
//!   entries of `meta`, `snapshots`, `sha256` and `records` that were new or changed since the
//!   previous segment; replaying them in order rebuilds those column families.
//!
//! Which entries are new is decided by a *cursor*, a local file listing a 16-byte digest of
//! every entry (and, for a replica, every blob) the bucket already holds.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::atomic::Ordering;

use rocksdb::{IteratorMode, WriteBatch, WriteOptions};

use crate::blobs::{BlobKind, BlobStore, S3Blobs};
use crate::format::{
    Layout, Manifest, CF_CHUNKS, CF_DELTAS, CF_META, CF_RECORDS, CF_SHA256, CF_SNAPSHOTS,
};
use crate::owner::Marker;
use crate::{Blake3, BlobsConfig, OpenMode, Result, Store, StoreError};

/// Key in `meta` of an archive on a bucket: its [`BlobsConfig`] in text form.
pub(crate) const META_BLOBS_KEY: &[u8] = b"blobs";

/// Segment family code of `meta` entries.
pub(crate) const CODE_META: u8 = b'm';
/// Segment family code of manifests (`snapshots`).
pub(crate) const CODE_SNAPSHOTS: u8 = b's';
/// Segment family code of the SHA-256 index (`sha256`).
pub(crate) const CODE_SHA256: u8 = b'h';
/// Segment family code of the layer above's records (`records`).
pub(crate) const CODE_RECORDS: u8 = b'r';

/// The column families a segment carries, with their one-byte codes.
const SEGMENT_CFS: [(u8, &str); 4] = [
    (CODE_META, CF_META),
    (CODE_SNAPSHOTS, CF_SNAPSHOTS),
    (CODE_SHA256, CF_SHA256),
    (CODE_RECORDS, CF_RECORDS),
];
const SEGMENT_MAGIC: &[u8] = b"evarc-records 1\n";
pub(crate) const SEGMENT_DIR: &str = "records";
/// Segments `restore` fetches at once before replaying them (bounded memory).
const RESTORE_FETCH_GROUP: usize = 64;
/// The cursor of the archive's own bucket (an archive on a bucket).
const BUCKET_CURSOR: &str = "bucket-cursor";
/// The cursor of the replica `evarc replicate` keeps.
const REPLICA_CURSOR: &str = "replica-cursor";
/// The last segment the archive's own bucket is known to hold (owner.rs).
const BUCKET_HEAD: &str = "bucket-head";
/// The last segment the replica is known to hold.
const REPLICA_HEAD: &str = "replica-head";
/// Values `repair` fetches from the replica per group, 8 at a time ([`BlobStore::get_many`]).
const REPAIR_FETCH_GROUP: usize = 256;

/// A chunk or delta value: pinned in RocksDB or fetched from a bucket.
pub(crate) enum BlobBytes<'a> {
    Pinned(rocksdb::DBPinnableSlice<'a>),
    Owned(Vec<u8>),
}

impl std::ops::Deref for BlobBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Self::Pinned(slice) => slice,
            Self::Owned(bytes) => bytes,
        }
    }
}

/// What `replicate` (or the upload of an archive on a bucket) sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicateReport {
    pub url: String,
    /// Chunk and delta values uploaded.
    pub blobs: u64,
    /// Their bytes.
    pub blob_bytes: u64,
    /// Record entries uploaded.
    pub entries: u64,
    /// The segment written, if any.
    pub segment: Option<String>,
}

/// What `restore` rebuilt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    pub url: String,
    pub segments: u64,
    pub entries: u64,
    pub snapshots: u64,
}

/// What `repair` did, snapshot by snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairReport {
    pub url: String,
    /// Snapshots found damaged before the repair.
    pub damaged: Vec<Blake3>,
    /// Those that verify after it.
    pub repaired: Vec<Blake3>,
    /// Those that still fail, with the error.
    pub unrepaired: Vec<(Blake3, String)>,
    /// Values fetched from the replica.
    pub fetched: u64,
    /// Damaged table files replaced by rebuilt ones.
    pub files_replaced: Vec<String>,
}

/// What `gc` found (and removed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcReport {
    pub url: String,
    /// Blob objects in the bucket.
    pub objects: u64,
    /// Unreferenced ones: name and size.
    pub unreferenced: Vec<(String, u64)>,
    /// Whether they were deleted.
    pub deleted: bool,
}

impl Store {
    /// Where the archive's snapshot bytes live, when in a bucket.
    pub fn blobs_config(&self) -> Result<Option<BlobsConfig>> {
        let Some(cf) = self.db.cf_handle(CF_META) else {
            return Ok(None);
        };
        match self
            .db
            .get_cf(cf, META_BLOBS_KEY)
            .map_err(|e| self.db_err(e))?
        {
            Some(bytes) => Ok(Some(BlobsConfig::decode(&String::from_utf8_lossy(&bytes))?)),
            None => Ok(None),
        }
    }

    /// How many snapshots a bulk writer (an import) should prepare and commit at once: one per
    /// core (at most 4) when the bytes are local; on a bucket, where a commit mostly waits for
    /// the bucket to confirm its objects, [`crate::UPLOAD_CONCURRENCY`] (uploads of different
    /// snapshots then overlap).
    pub fn write_parallelism(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
        if self.blobs.is_some() {
            cores.max(crate::UPLOAD_CONCURRENCY)
        } else {
            cores
        }
    }

    /// What reads fetched from the archive's bucket since it was opened (`None`: the bytes
    /// are local).
    pub fn blob_fetches(&self) -> Option<crate::BlobFetches> {
        self.blobs.as_ref().map(|remote| remote.fetches())
    }

    pub(crate) fn write_meta(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db
            .put_cf_opt(self.cf(CF_META)?, key, value, &sync)
            .map_err(|e| self.db_err(e))
    }

    /// Uploads what the records gained since the last upload to the archive's own bucket (an
    /// archive on a bucket): every entry of the segment families not yet in the bucket, found
    /// by a scan (a writer does this when it closes, after the incremental pushes of
    /// [`Store::sync`]).
    pub fn push_records(&self) -> Result<Option<ReplicateReport>> {
        let Some(remote) = &self.blobs else {
            return Ok(None);
        };
        // The scan below sees every entry the noted ones name.
        self.claimed_push(remote, |state, _noted| {
            let PushState {
                cursor,
                next_segment,
                ..
            } = state;
            let cursor_path = self.path.join(BUCKET_CURSOR);
            let mut loaded = match cursor.take() {
                Some(cursor) => cursor,
                None => Cursor::load(&cursor_path, &remote.backend.url())?,
            };
            let result = self.push_to(
                remote.backend.as_ref(),
                &cursor_path,
                &self.path.join(BUCKET_HEAD),
                &mut loaded,
                next_segment,
                false,
            );
            *cursor = Some(loaded);
            result
        })
        .map(Some)
    }

    /// Runs one push to the archive's own bucket: the push state locked, the prefix claimed
    /// for this archive (a prefix held by another is refused), the entries noted since the last
    /// push handed to `push` and noted again when it fails (sent with the next push, or the
    /// scan at close).
    fn claimed_push<T>(
        &self,
        remote: &crate::blobs::RemoteBlobs,
        push: impl FnOnce(&mut PushState, &[(u8, Vec<u8>)]) -> Result<T>,
    ) -> Result<T> {
        let mut state = remote
            .push
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.claim_locked(remote, &mut state)?;
        let noted = std::mem::take(&mut *remote.pending_entries());
        let result = push(&mut state, &noted);
        if result.is_err() {
            remote.pending_entries().extend(noted);
        }
        result
    }

    /// Notes entries of the segment families (family code, key) just written, for the next
    /// incremental push of an archive on a bucket.
    pub(crate) fn note_written(&self, entries: impl IntoIterator<Item = (u8, Vec<u8>)>) {
        if let Some(remote) = &self.blobs {
            remote.pending_entries().extend(entries);
        }
    }

    /// Sends the record entries written since the last push to the archive's own bucket, as
    /// one new segment (an archive on a bucket; nothing otherwise). Called at every sync
    /// point ([`Store::sync`], synced commits): a capture reported durable then has its records
    /// in the bucket too, so `restore` after a writer killed with SIGKILL finds every
    /// acknowledged capture. The first push of a writer sends everything not yet in the
    /// bucket (found by a scan: also what a killed writer left unsent); later ones send only
    /// the entries noted since, with their current values.
    pub(crate) fn push_pending(&self) -> Result<()> {
        let Some(remote) = &self.blobs else {
            return Ok(());
        };
        if self.mode() != crate::OpenMode::ReadWrite {
            return Ok(());
        }
        self.claimed_push(remote, |state, noted| {
            self.push_touched(remote, state, noted)
        })
    }

    fn push_touched(
        &self,
        remote: &crate::blobs::RemoteBlobs,
        state: &mut PushState,
        touched: &[(u8, Vec<u8>)],
    ) -> Result<()> {
        let backend = remote.backend.as_ref();
        let cursor_path = self.path.join(BUCKET_CURSOR);
        let head_path = self.path.join(BUCKET_HEAD);
        let PushState {
            cursor,
            next_segment,
            ..
        } = state;
        let Some(cursor) = cursor else {
            let mut loaded = Cursor::load(&cursor_path, &backend.url())?;
            let result = self.push_to(
                backend,
                &cursor_path,
                &head_path,
                &mut loaded,
                next_segment,
                false,
            );
            *cursor = Some(loaded);
            return result.map(|_| ());
        };
        let mut keys: Vec<&(u8, Vec<u8>)> = touched.iter().collect();
        keys.sort();
        keys.dedup();
        let mut segment = Vec::new();
        let mut digests = Vec::new();
        for (code, key) in keys {
            let Some(cf) = segment_cf(*code) else {
                continue;
            };
            if *code == CODE_META && key.as_slice() == META_BLOBS_KEY {
                continue;
            }
            let Some(value) = self
                .db
                .get_cf(self.cf(cf)?, key)
                .map_err(|e| self.db_err(e))?
            else {
                continue;
            };
            let digest = entry_digest(*code, key, &value);
            if !cursor.seen.contains(&digest) {
                push_entry(&mut segment, *code, key, &value);
                digests.push(digest);
            }
        }
        if digests.is_empty() {
            return Ok(());
        }
        let number = match next_segment {
            Some(n) => *n,
            None => self.check_head(backend, &head_path)?,
        };
        self.put_segment(backend, &head_path, number, encode_segment(&segment)?)?;
        *next_segment = Some(number + 1);
        cursor.append(&cursor_path, &digests)?;
        Ok(())
    }

    /// Keeps an incremental replica of this archive in the bucket of `config`: the chunk and
    /// delta values and the record entries not sent before (a cursor in the archive directory
    /// remembers what the bucket holds).
    pub fn replicate(&self, config: &BlobsConfig) -> Result<ReplicateReport> {
        if let Some(own) = &self.blobs {
            if own.config.url() == config.url() {
                return self
                    .push_records()?
                    .ok_or_else(|| StoreError::NotARemoteArchive {
                        url: config.url(),
                        reason: "this archive keeps its snapshot bytes locally (no bucket)".into(),
                    });
            }
            return Err(StoreError::NotARemoteArchive {
                url: config.url(),
                reason: format!(
                    "this archive's snapshot bytes already live in {}; replicate that bucket with the object store's own tools",
                    own.config.url()
                ),
            });
        }
        let s3 = S3Blobs::connect(config)?;
        s3.probe()?;
        let cursor_path = self.path.join(REPLICA_CURSOR);
        let head_path = self.path.join(REPLICA_HEAD);
        // The archive that already replicates there adopts a marker written before archive IDs.
        let writes_there = Cursor::names(&cursor_path, &s3.url());
        let id = self.ensure_archive_id()?;
        crate::owner::check_and_claim(&s3, id, writes_there)?;
        let mut next = Some(self.check_head(&s3, &head_path)?);
        let mut cursor = Cursor::load(&cursor_path, &s3.url())?;
        self.push_to(&s3, &cursor_path, &head_path, &mut cursor, &mut next, true)
    }

    /// Before the first write of a writer of an archive on a bucket: checks that the prefix
    /// belongs to this archive (adopting a marker written before archive IDs) and that no other
    /// copy of it wrote segments this copy does not know (owner.rs). Once per writer.
    pub(crate) fn claim_bucket(&self) -> Result<()> {
        let Some(remote) = &self.blobs else {
            return Ok(());
        };
        if self.mode() != crate::OpenMode::ReadWrite || remote.claimed.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut state = remote
            .push
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.claim_locked(remote, &mut state)
    }

    fn claim_locked(
        &self,
        remote: &crate::blobs::RemoteBlobs,
        state: &mut PushState,
    ) -> Result<()> {
        if remote.claimed.load(Ordering::Acquire) {
            return Ok(());
        }
        let backend = remote.backend.as_ref();
        let id = self.ensure_archive_id()?;
        crate::owner::check_and_claim(backend, id, true)?;
        state.next_segment = Some(self.check_head(backend, &self.path.join(BUCKET_HEAD))?);
        remote.claimed.store(true, Ordering::Release);
        Ok(())
    }

    /// Writes segment `number` only if no other writer did (asked first, then a conditional
    /// create), then records it as the head.
    fn put_segment(
        &self,
        backend: &dyn BlobStore,
        head_path: &Path,
        number: u64,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let name = format!("{SEGMENT_DIR}/{number:016}");
        // Asked first too: Garage (2.5.0) ignores `If-None-Match` and would overwrite; asking
        // leaves it only the instant between the question and the write.
        if backend.exists(&name)? || !backend.put_new(&name, bytes)? {
            return Err(StoreError::PrefixDiverged {
                url: backend.url(),
                id: self
                    .archive_id()
                    .ok()
                    .flatten()
                    .map_or_else(|| "(none)".to_owned(), |id| id.to_string()),
                segment: name,
                head: number.saturating_sub(1).to_string(),
                reason: "it appeared while this copy was writing".into(),
            });
        }
        crate::owner::write_head(head_path, &backend.url(), number)
    }

    /// Sends what `cursor` says the bucket lacks (blobs too with `with_blobs`), the records as
    /// one new segment numbered `next_segment` (or after the bucket's highest).
    fn push_to(
        &self,
        backend: &dyn BlobStore,
        cursor_path: &Path,
        head_path: &Path,
        cursor: &mut Cursor,
        next_segment: &mut Option<u64>,
        with_blobs: bool,
    ) -> Result<ReplicateReport> {
        let cursor_path = cursor_path.to_owned();
        let mut report = ReplicateReport {
            url: backend.url(),
            ..ReplicateReport::default()
        };
        if with_blobs {
            // A value a repack re-encoded since the replica got it goes up under a new name
            // (its tag, value_names.rs); the record segment below carries the switch-over.
            let tags = self.value_tags()?;
            for (cf, kind) in [(CF_CHUNKS, BlobKind::Chunk), (CF_DELTAS, BlobKind::Delta)] {
                for item in self.db.iterator_cf(self.cf(cf)?, IteratorMode::Start) {
                    let (key, value) = item.map_err(|e| self.db_err(e))?;
                    // 33-byte keys are spare copies (spares.rs): the bucket needs none.
                    let Some(key) = Blake3::from_slice(&key) else {
                        continue;
                    };
                    let tag = tags.get(&(kind, key));
                    let digest = match tag {
                        Some(tag) => tagged_blob_digest(kind, key, tag),
                        None => blob_digest(kind, key),
                    };
                    if cursor.seen.contains(&digest) {
                        continue;
                    }
                    backend.put(&kind.tagged_name(key, tag), value.to_vec())?;
                    report.blobs += 1;
                    report.blob_bytes += value.len() as u64;
                    cursor.seen.insert(digest);
                }
            }
            // Values sent are remembered even if the records below fail.
            cursor.save(&cursor_path)?;
        }
        let mut segment = Vec::new();
        let mut new_digests = Vec::new();
        self.scan_segment_entries(|code, key, value| {
            let digest = entry_digest(code, key, value);
            if !cursor.seen.contains(&digest) {
                push_entry(&mut segment, code, key, value);
                new_digests.push(digest);
            }
        })?;
        if !new_digests.is_empty() {
            let next = match next_segment {
                Some(n) => *n,
                None => self.check_head(backend, head_path)?,
            };
            let name = format!("{SEGMENT_DIR}/{next:016}");
            self.put_segment(backend, head_path, next, encode_segment(&segment)?)?;
            *next_segment = Some(next + 1);
            report.entries = new_digests.len() as u64;
            report.segment = Some(name);
            cursor.seen.extend(new_digests);
            cursor.save(&cursor_path)?;
        }
        Ok(report)
    }

    /// Calls `visit` on every entry a segment carries, in column-family and key order.
    fn scan_segment_entries(&self, mut visit: impl FnMut(u8, &[u8], &[u8])) -> Result<()> {
        for (code, cf) in SEGMENT_CFS {
            for item in self.db.iterator_cf(self.cf(cf)?, IteratorMode::Start) {
                let (key, value) = item.map_err(|e| self.db_err(e))?;
                if cf == CF_META && key.as_ref() == META_BLOBS_KEY {
                    continue;
                }
                visit(code, &key, &value);
            }
        }
        Ok(())
    }

    /// Rebuilds an archive at `path` (a new or empty directory) from the bucket of `config`
    /// alone: the record log is replayed, and the snapshot bytes stay in the bucket (the new
    /// archive is an archive on that bucket).
    pub fn restore(config: &BlobsConfig, path: &Path) -> Result<(Self, RestoreReport)> {
        let s3 = S3Blobs::connect(config)?;
        let marker = crate::owner::read_marker(&s3)?;
        if marker == Marker::Absent {
            return Err(StoreError::NotARemoteArchive {
                url: config.url(),
                reason: format!("it has no {} object", crate::blobs::MARKER_OBJECT),
            });
        }
        let segments = s3.list(SEGMENT_DIR)?;
        if segments.is_empty() {
            return Err(StoreError::NotARemoteArchive {
                url: config.url(),
                reason: "it holds no record segments".into(),
            });
        }
        let store = Self::init_with(path, None)?;
        let mut report = RestoreReport {
            url: config.url(),
            ..RestoreReport::default()
        };
        // Fetched a group at a time, concurrently (a writer sends one segment per sync point:
        // hundreds for an import), and replayed in number order; synced once at the end.
        let names: Vec<String> = segments.iter().map(|s| s.name.clone()).collect();
        for group in names.chunks(RESTORE_FETCH_GROUP) {
            for (name, bytes) in group.iter().zip(s3.get_many(group)?) {
                let corrupt = |reason: String| StoreError::SegmentCorrupt {
                    url: config.url(),
                    name: name.clone(),
                    reason,
                };
                let bytes = bytes.ok_or_else(|| corrupt("it vanished while being read".into()))?;
                let entries = decode_segment(&bytes).map_err(&corrupt)?;
                let mut batch = WriteBatch::default();
                for (code, key, value) in entries {
                    let cf = segment_cf(code)
                        .ok_or_else(|| corrupt(format!("an entry of unknown family {code}")))?;
                    batch.put_cf(store.cf(cf)?, key, value);
                    report.entries += 1;
                }
                store.db.write(batch).map_err(|e| store.db_err(e))?;
                report.segments += 1;
            }
        }
        store.sync()?;
        // The restored archive is the archive of the prefix: it keeps the marker's ID (and one
        // restored from a marker written before IDs keeps the one it was made with, adopting
        // the marker at its first write). It knows every segment it replayed: its head.
        if let Marker::Held(id) = marker {
            store.set_archive_id(id)?;
        }
        if let Some(last) = names
            .last()
            .and_then(|name| name.rsplit('/').next()?.parse::<u64>().ok())
        {
            crate::owner::write_head(&path.join(BUCKET_HEAD), &config.url(), last)?;
        }
        store.write_meta(META_BLOBS_KEY, config.encode().as_bytes())?;
        // The bucket holds every entry now: the cursor says so.
        let mut cursor = Cursor::empty(&config.url());
        store.scan_segment_entries(|code, key, value| {
            cursor.seen.insert(entry_digest(code, key, value));
        })?;
        cursor.save(&path.join(BUCKET_CURSOR))?;
        report.snapshots = store
            .db
            .iterator_cf(store.cf(CF_SNAPSHOTS)?, IteratorMode::Start)
            .count() as u64;
        drop(store);
        let store = Self::open(path, OpenMode::ReadWrite)?;
        Ok((store, report))
    }

    /// The blob objects of the archive's bucket that no manifest references (what a crash
    /// between an upload and its commit leaves, and the objects a repack switched values away
    /// from); with `delete`, removes them.
    pub fn gc(&self, delete: bool) -> Result<GcReport> {
        let Some(remote) = &self.blobs else {
            return Err(StoreError::NotARemoteArchive {
                url: String::new(),
                reason: "this archive keeps its snapshot bytes locally (no bucket)".into(),
            });
        };
        // Objects another copy of the archive wrote are unreferenced here: only the copy that
        // writes to the prefix may judge (and delete) them.
        self.claim_bucket()?;
        if delete {
            // The objects a repack switched values away from are the ones the bucket's record
            // log names until it holds the switch-over: it goes up before any is deleted, so a
            // restore from the bucket never names a deleted object.
            self.push_records()?;
        }
        let referenced = self.referenced_objects()?;
        let mut report = GcReport {
            url: remote.config.url(),
            deleted: delete,
            ..GcReport::default()
        };
        for dir in [BlobKind::Chunk.dir(), BlobKind::Delta.dir()] {
            for entry in remote.backend.list(dir)? {
                report.objects += 1;
                if !referenced.contains(&entry.name) {
                    report.unreferenced.push((entry.name, entry.size));
                }
            }
        }
        if delete {
            for (name, _) in &report.unreferenced {
                remote.backend.delete(name)?;
                remote.forget_cached(name);
            }
        }
        Ok(report)
    }

    /// The name of the object holding every chunk and delta value some manifest needs (the
    /// one a repack switched it to, else its plain name).
    fn referenced_objects(&self) -> Result<HashSet<String>> {
        let tags = self.value_tags()?;
        Ok(self
            .referenced_blobs()?
            .into_iter()
            .map(|(kind, key)| kind.tagged_name(key, tags.get(&(kind, key))))
            .collect())
    }

    /// Every chunk and delta value some manifest needs.
    fn referenced_blobs(&self) -> Result<HashSet<(BlobKind, Blake3)>> {
        let mut out = HashSet::new();
        for item in self
            .db
            .iterator_cf(self.cf(CF_SNAPSHOTS)?, IteratorMode::Start)
        {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            let Some(key) = Blake3::from_slice(&key) else {
                continue;
            };
            let manifest =
                Manifest::decode(&value).map_err(|reason| StoreError::ManifestCorrupt {
                    snapshot: key,
                    reason,
                })?;
            match manifest.layout {
                Layout::Delta { .. } => {
                    out.insert((BlobKind::Delta, key));
                }
                Layout::Chunked { chunks, .. } => {
                    out.extend(chunks.into_iter().map(|c| (BlobKind::Chunk, c)));
                }
            }
        }
        Ok(out)
    }

    /// Repairs the archive at `path` from the replica in `config` (issue 14): when a scrub
    /// finds damaged snapshots or the file check finds damaged table files, the database is
    /// rebuilt beside the old one from every entry still readable, the values and records that
    /// are not are fetched from the replica, and the rebuilt files replace the old ones. A
    /// scrub of the result names each damaged snapshot repaired, or not (with why).
    pub fn repair(
        path: &Path,
        config: &BlobsConfig,
        wait: std::time::Duration,
    ) -> Result<RepairReport> {
        let s3 = S3Blobs::connect(config)?;
        let marker = crate::owner::read_marker(&s3)?;
        if marker == Marker::Absent {
            return Err(StoreError::NotARemoteArchive {
                url: config.url(),
                reason: format!("it has no {} object", crate::blobs::MARKER_OBJECT),
            });
        }
        let mut store = Self::open_waiting(path, OpenMode::ReadWrite, wait)?;
        // A replica of another archive would bring its records: refused (an archive whose ID
        // cannot be read, or a marker written before IDs, cannot tell; values are
        // content-addressed and verified either way).
        if let (Marker::Held(holder), Ok(Some(this))) = (marker, store.archive_id()) {
            if holder != this {
                return Err(StoreError::PrefixHeld {
                    url: config.url(),
                    holder: Some(holder.to_string()),
                    this: this.to_string(),
                });
            }
        }
        let live = store.live_table_files().ok();
        let files = crate::check_files_live(path, live.as_ref())?;
        let before = store.scrub(|_, _| {})?;
        let mut report = RepairReport {
            url: s3.url(),
            damaged: before.failures.iter().map(|f| f.blake3).collect(),
            ..RepairReport::default()
        };
        let mut damaged_files: Vec<String> = files.damage().map(|d| d.file.clone()).collect();
        damaged_files.dedup();
        if report.damaged.is_empty() && damaged_files.is_empty() {
            return Ok(report);
        }
        let new_dir = path.join(REBUILD_DIR);
        if new_dir.exists() {
            std::fs::remove_dir_all(&new_dir)
                .map_err(|e| StoreError::io(format!("removing {}", new_dir.display()), e))?;
        }
        report.fetched = store.rebuild_into(&new_dir, &s3)?;
        // The old database is closed, the writer lock kept until the new files are in place.
        let lock = store._lock.take();
        drop(store);
        swap_in(path, &new_dir)?;
        drop(lock);
        report.files_replaced = damaged_files;
        let store = Self::open_waiting(path, OpenMode::ReadWrite, wait)?;
        let after = store.scrub(|_, _| {})?;
        let still: BTreeMap<Blake3, String> = after
            .failures
            .iter()
            .map(|f| (f.blake3, f.error.to_string()))
            .collect();
        for key in &report.damaged {
            match still.get(key) {
                Some(error) => report.unrepaired.push((*key, error.clone())),
                None => report.repaired.push(*key),
            }
        }
        for (key, error) in still {
            if !report.damaged.contains(&key) {
                report.unrepaired.push((key, error));
            }
        }
        Ok(report)
    }

    /// Copies every readable entry into a new database at `dir`, then fills in from the replica
    /// what could not be read: record entries of a damaged family, and the chunk and delta
    /// values some manifest needs. Returns the number of values fetched.
    fn rebuild_into(&self, dir: &Path, replica: &dyn BlobStore) -> Result<u64> {
        let mut opts = crate::store::db_options();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let new = rocksdb::DB::open_cf_descriptors(&opts, dir, crate::store::descriptors())
            .map_err(|e| StoreError::db(dir, e))?;
        let new_cf = |name: &str| {
            new.cf_handle(name).ok_or_else(|| StoreError::NotAnArchive {
                path: dir.to_owned(),
                reason: format!("it has no column family {name:?}"),
            })
        };
        let write = |batch: WriteBatch| -> Result<()> {
            new.write(batch).map_err(|e| StoreError::db(dir, e))
        };
        let mut damaged_families: Vec<&str> = Vec::new();
        for name in crate::format::ALL_CFS {
            let Some(old) = self.db.cf_handle(name) else {
                continue;
            };
            let cf = new_cf(name)?;
            let mut batch = WriteBatch::default();
            let mut last: Option<Vec<u8>> = None;
            let mut broken = false;
            for item in self.db.iterator_cf(old, IteratorMode::Start) {
                let Ok((key, value)) = item else {
                    broken = true;
                    break;
                };
                batch.put_cf(cf, &key, &value);
                last = Some(key.to_vec());
                if batch.len() >= 1024 {
                    write(std::mem::take(&mut batch))?;
                }
            }
            if broken {
                // What follows the damage, read from the other end.
                damaged_families.push(name);
                for item in self.db.iterator_cf(old, IteratorMode::End) {
                    let Ok((key, value)) = item else { break };
                    if last.as_deref().is_some_and(|l| key.as_ref() <= l) {
                        break;
                    }
                    batch.put_cf(cf, &key, &value);
                    if batch.len() >= 1024 {
                        write(std::mem::take(&mut batch))?;
                    }
                }
            }
            write(batch)?;
        }
        let mut fetched = 0u64;
        let record_families: Vec<&str> = damaged_families
            .iter()
            .copied()
            .filter(|name| SEGMENT_CFS.iter().any(|(_, cf)| cf == name))
            .collect();
        if !record_families.is_empty() {
            let mut batch = WriteBatch::default();
            for ((code, key), value) in read_record_log(replica)? {
                let Some(name) = segment_cf(code) else {
                    continue;
                };
                if !record_families.contains(&name) {
                    continue;
                }
                let cf = new_cf(name)?;
                if new
                    .get_cf(cf, &key)
                    .map_err(|e| StoreError::db(dir, e))?
                    .is_none()
                {
                    batch.put_cf(cf, &key, &value);
                    fetched += 1;
                }
            }
            write(batch)?;
        }
        // Every manifest's index entry, and (bytes kept locally) every value it needs: those
        // the rebuilt database lacks are fetched from the replica a group at a time, up to
        // `UPLOAD_CONCURRENCY` requests in flight.
        let mut batch = WriteBatch::default();
        let mut wanted: Vec<(BlobKind, Blake3)> = Vec::new();
        let mut asked: HashSet<(BlobKind, Blake3)> = HashSet::new();
        let cf_of = |kind: BlobKind| {
            new_cf(match kind {
                BlobKind::Chunk => CF_CHUNKS,
                BlobKind::Delta => CF_DELTAS,
            })
        };
        // A value a repack re-encoded is fetched under its tagged name (value_names.rs); a
        // replica not sent to since has the earlier encoding under the plain name, which then
        // becomes the value again (recorded, so that the next `replicate` names it right).
        let tags = crate::value_names::tags_in(&new, new_cf(CF_META)?)
            .map_err(|e| StoreError::db(dir, e))?;
        let fetch = |wanted: &mut Vec<(BlobKind, Blake3)>, batch: &mut WriteBatch| -> Result<u64> {
            let names: Vec<String> = wanted
                .iter()
                .map(|(kind, blob)| kind.tagged_name(*blob, tags.get(&(*kind, *blob))))
                .collect();
            let mut got = 0;
            let mut untagged = Vec::new();
            for ((kind, blob), value) in wanted.drain(..).zip(replica.get_many(&names)?) {
                match value {
                    Some(value) => {
                        batch.put_cf(cf_of(kind)?, blob.as_bytes(), value);
                        got += 1;
                    }
                    None if tags.contains_key(&(kind, blob)) => untagged.push((kind, blob)),
                    None => {}
                }
            }
            let plain: Vec<String> = untagged
                .iter()
                .map(|(kind, blob)| kind.object_name(*blob))
                .collect();
            for ((kind, blob), value) in untagged.into_iter().zip(replica.get_many(&plain)?) {
                if let Some(value) = value {
                    batch.put_cf(cf_of(kind)?, blob.as_bytes(), value);
                    batch.put_cf(
                        new_cf(CF_META)?,
                        crate::value_names::value_object_key(kind, blob),
                        [],
                    );
                    got += 1;
                }
            }
            Ok(got)
        };
        for item in new.iterator_cf(new_cf(CF_SNAPSHOTS)?, IteratorMode::Start) {
            let (key, value) = item.map_err(|e| StoreError::db(dir, e))?;
            let (Some(snapshot), Ok(manifest)) =
                (Blake3::from_slice(&key), Manifest::decode(&value))
            else {
                continue;
            };
            batch.put_cf(
                new_cf(CF_SHA256)?,
                manifest.sha256.as_bytes(),
                snapshot.as_bytes(),
            );
            if self.blobs.is_some() {
                continue;
            }
            let needed: Vec<(BlobKind, Blake3)> = match manifest.layout {
                Layout::Delta { .. } => vec![(BlobKind::Delta, snapshot)],
                Layout::Chunked { chunks, .. } => {
                    chunks.into_iter().map(|c| (BlobKind::Chunk, c)).collect()
                }
            };
            for (kind, blob) in needed {
                if asked.contains(&(kind, blob)) {
                    continue;
                }
                let present = new
                    .get_pinned_cf(cf_of(kind)?, blob.as_bytes())
                    .map_err(|e| StoreError::db(dir, e))?
                    .is_some();
                if present {
                    continue;
                }
                asked.insert((kind, blob));
                // The copy above stops at a family's first and last damaged block: what lies
                // between is read again by key, a read that fails only in a damaged block
                // itself; only what that cannot read is fetched from the replica.
                match self.read_old_value(kind, blob) {
                    Some(value) => batch.put_cf(cf_of(kind)?, blob.as_bytes(), value),
                    None => wanted.push((kind, blob)),
                }
            }
            if wanted.len() >= REPAIR_FETCH_GROUP {
                fetched += fetch(&mut wanted, &mut batch)?;
            }
            if batch.len() >= 256 {
                write(std::mem::take(&mut batch))?;
            }
        }
        fetched += fetch(&mut wanted, &mut batch)?;
        write(batch)?;
        for name in crate::format::ALL_CFS {
            new.flush_cf(new_cf(name)?)
                .map_err(|e| StoreError::db(dir, e))?;
        }
        Ok(fetched)
    }
}

impl Store {
    /// The chunk or delta value `key` of this (damaged) database, when its block reads.
    fn read_old_value(&self, kind: BlobKind, key: Blake3) -> Option<Vec<u8>> {
        let cf = self.db.cf_handle(match kind {
            BlobKind::Chunk => CF_CHUNKS,
            BlobKind::Delta => CF_DELTAS,
        })?;
        self.db
            .get_pinned_cf(cf, key.as_bytes())
            .ok()
            .flatten()
            .map(|value| value.to_vec())
    }
}

/// Where `repair` builds the new database, inside the archive directory.
const REBUILD_DIR: &str = ".repair-new";
/// Where the old database's files go while the new ones move in.
const REPLACED_DIR: &str = ".repair-old";

/// True for the files of a RocksDB database (never evarc's own: lock, key, cache, cursors).
fn is_database_file(name: &str) -> bool {
    matches!(name, "CURRENT" | "IDENTITY" | "LOCK")
        || name.starts_with("LOG")
        || name.starts_with("MANIFEST-")
        || name.starts_with("OPTIONS-")
        || name.ends_with(".sst")
        || name.ends_with(".log")
        || name.ends_with(".blob")
}

/// Moves the database files of `path` aside, those of `new_dir` in, then removes both
/// leftovers. Interrupted, the old files are in `.repair-old` and the new in `.repair-new`.
fn swap_in(path: &Path, new_dir: &Path) -> Result<()> {
    let io = |what: String| move |e| StoreError::io(what, e);
    let old_dir = path.join(REPLACED_DIR);
    if old_dir.exists() {
        std::fs::remove_dir_all(&old_dir).map_err(io(format!("removing {}", old_dir.display())))?;
    }
    std::fs::create_dir(&old_dir).map_err(io(format!("creating {}", old_dir.display())))?;
    let names = |dir: &Path| -> Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(format!("reading {}", dir.display())))? {
            let entry = entry.map_err(io(format!("reading {}", dir.display())))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_database_file(&name) {
                out.push(name);
            }
        }
        Ok(out)
    };
    for name in names(path)? {
        std::fs::rename(path.join(&name), old_dir.join(&name))
            .map_err(io(format!("moving {name} aside")))?;
    }
    // CURRENT last: until it is in place the directory holds no database to open.
    let mut incoming = names(new_dir)?;
    incoming.sort_by_key(|name| name == "CURRENT");
    for name in incoming {
        std::fs::rename(new_dir.join(&name), path.join(&name))
            .map_err(io(format!("moving the rebuilt {name} in")))?;
    }
    std::fs::remove_dir_all(new_dir).map_err(io(format!("removing {}", new_dir.display())))?;
    std::fs::remove_dir_all(&old_dir).map_err(io(format!("removing {}", old_dir.display())))?;
    Ok(())
}

/// Every entry of a bucket's record log, the last value of each key winning.
/// Record entries by family code and key.
type RecordLog = BTreeMap<(u8, Vec<u8>), Vec<u8>>;

fn read_record_log(backend: &dyn BlobStore) -> Result<RecordLog> {
    let mut out = BTreeMap::new();
    let names: Vec<String> = backend
        .list(SEGMENT_DIR)?
        .into_iter()
        .map(|segment| segment.name)
        .collect();
    // Fetched a group at a time, concurrently, and replayed in number order.
    for group in names.chunks(RESTORE_FETCH_GROUP) {
        for (name, bytes) in group.iter().zip(backend.get_many(group)?) {
            let Some(bytes) = bytes else {
                continue;
            };
            let entries = decode_segment(&bytes).map_err(|reason| StoreError::SegmentCorrupt {
                url: backend.url(),
                name: name.clone(),
                reason,
            })?;
            for (code, key, value) in entries {
                out.insert((code, key), value);
            }
        }
    }
    Ok(out)
}

pub(crate) fn segment_cf(code: u8) -> Option<&'static str> {
    SEGMENT_CFS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, cf)| *cf)
}

fn push_entry(out: &mut Vec<u8>, code: u8, key: &[u8], value: &[u8]) {
    out.push(code);
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(&(value.len() as u32).to_be_bytes());
    out.extend_from_slice(value);
}

/// A segment object: zstd frame of magic ‖ entries ‖ BLAKE3 of magic ‖ entries.
fn encode_segment(entries: &[u8]) -> Result<Vec<u8>> {
    let mut raw = Vec::with_capacity(SEGMENT_MAGIC.len() + entries.len() + 32);
    raw.extend_from_slice(SEGMENT_MAGIC);
    raw.extend_from_slice(entries);
    let digest = Blake3::of(&raw);
    raw.extend_from_slice(digest.as_bytes());
    zstd::encode_all(raw.as_slice(), 9).map_err(|e| StoreError::io("compressing a segment", e))
}

type Entry = (u8, Vec<u8>, Vec<u8>);

pub(crate) fn decode_segment(bytes: &[u8]) -> std::result::Result<Vec<Entry>, String> {
    let mut raw = Vec::new();
    zstd::Decoder::new(bytes)
        .and_then(|mut d| d.read_to_end(&mut raw))
        .map_err(|e| format!("does not decompress: {e}"))?;
    if raw.len() < SEGMENT_MAGIC.len() + 32 || !raw.starts_with(SEGMENT_MAGIC) {
        return Err("is not an evarc record segment".into());
    }
    let (body, digest) = raw.split_at(raw.len() - 32);
    let actual = Blake3::of(body);
    if actual.as_bytes() != digest {
        return Err(format!(
            "hashes to blake3:{actual}, not the recorded blake3:{}",
            hex::encode(digest)
        ));
    }
    let mut rest = &body[SEGMENT_MAGIC.len()..];
    let mut out = Vec::new();
    let take = |rest: &mut &[u8], n: usize| -> std::result::Result<Vec<u8>, String> {
        if rest.len() < n {
            return Err("ends inside an entry".into());
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Ok(head.to_vec())
    };
    let len = |rest: &mut &[u8]| -> std::result::Result<usize, String> {
        let bytes = take(rest, 4)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
    };
    while !rest.is_empty() {
        let code = take(&mut rest, 1)?[0];
        let key_len = len(&mut rest)?;
        let key = take(&mut rest, key_len)?;
        let value_len = len(&mut rest)?;
        let value = take(&mut rest, value_len)?;
        out.push((code, key, value));
    }
    Ok(out)
}

type Digest16 = [u8; 16];

fn entry_digest(code: u8, key: &[u8], value: &[u8]) -> Digest16 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&[code]);
    hasher.update(&(key.len() as u64).to_be_bytes());
    hasher.update(key);
    hasher.update(value);
    truncate(hasher.finalize().as_bytes())
}

fn blob_digest(kind: BlobKind, key: Blake3) -> Digest16 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(kind.dir().as_bytes());
    hasher.update(key.as_bytes());
    truncate(hasher.finalize().as_bytes())
}

/// The cursor's digest of a re-encoded value's object (the tag names its bytes).
fn tagged_blob_digest(kind: BlobKind, key: Blake3, tag: &crate::blobs::ValueTag) -> Digest16 {
    let mut hasher = blake3::Hasher::new();
    hasher.update(kind.dir().as_bytes());
    hasher.update(key.as_bytes());
    hasher.update(b".");
    hasher.update(tag);
    truncate(hasher.finalize().as_bytes())
}

/// Whether the local archive at `path` keeps a replica (`replicate` wrote its cursor).
pub(crate) fn has_replica(path: &Path) -> bool {
    path.join(REPLICA_CURSOR).is_file()
}

fn truncate(bytes: &[u8; 32]) -> Digest16 {
    let mut out = [0u8; 16];
    out.copy_from_slice(&bytes[..16]);
    out
}

/// A writer's view of its bucket's record log, kept for the life of the open archive: the
/// cursor (loaded at the first push) and the number of the next segment (the writer holds the
/// archive's lock: no other process adds segments meanwhile).
#[derive(Default)]
pub(crate) struct PushState {
    cursor: Option<Cursor>,
    next_segment: Option<u64>,
}

impl std::fmt::Debug for PushState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushState")
            .field("loaded", &self.cursor.is_some())
            .field("next_segment", &self.next_segment)
            .finish()
    }
}

/// What a bucket is known to hold: a first line naming it, then 16-byte digests.
struct Cursor {
    url: String,
    seen: HashSet<Digest16>,
}

impl Cursor {
    fn empty(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            seen: HashSet::new(),
        }
    }

    /// Whether the cursor at `path` names `url` (this archive has written there before).
    fn names(path: &Path, url: &str) -> bool {
        std::fs::read(path).is_ok_and(|bytes| {
            bytes
                .split(|b| *b == b'\n')
                .next()
                .is_some_and(|first| first == url.as_bytes())
        })
    }

    /// The cursor at `path` when it names `url`; an empty one otherwise (a new replica).
    fn load(path: &Path, url: &str) -> Result<Self> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::empty(url)),
            Err(e) => return Err(StoreError::io(format!("reading {}", path.display()), e)),
        };
        let Some(newline) = bytes.iter().position(|b| *b == b'\n') else {
            return Ok(Self::empty(url));
        };
        if &bytes[..newline] != url.as_bytes() {
            return Ok(Self::empty(url));
        }
        let seen = bytes[newline + 1..]
            .chunks_exact(16)
            .map(|c| {
                let mut d = [0u8; 16];
                d.copy_from_slice(c);
                d
            })
            .collect();
        Ok(Self {
            url: url.to_owned(),
            seen,
        })
    }

    /// Adds `digests` (now in the bucket) and appends them to the file at `path` (synced); a
    /// cursor not yet on disk is written whole.
    fn append(&mut self, path: &Path, digests: &[Digest16]) -> Result<()> {
        self.seen.extend(digests.iter().copied());
        // Not on disk yet, or ending inside a digest (a writer killed while appending): whole.
        let header = self.url.len() as u64 + 1;
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() >= header && (meta.len() - header).is_multiple_of(16) => {}
            _ => return self.save(path),
        }
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::options().append(true).open(path)?;
            file.write_all(&digests.concat())?;
            file.sync_data()
        };
        write().map_err(|e| StoreError::io(format!("writing {}", path.display()), e))
    }

    /// Written to a temporary file, synced, then renamed over the old one.
    fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            let mut out = Vec::with_capacity(self.url.len() + 1 + self.seen.len() * 16);
            out.extend_from_slice(self.url.as_bytes());
            out.push(b'\n');
            let mut sorted: Vec<&Digest16> = self.seen.iter().collect();
            sorted.sort();
            for digest in sorted {
                out.extend_from_slice(digest);
            }
            file.write_all(&out)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| StoreError::io(format!("writing {}", path.display()), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_round_trips_and_a_flipped_byte_is_refused() {
        let mut entries = Vec::new();
        push_entry(&mut entries, b'r', b"key-1", b"value one");
        push_entry(&mut entries, b's', &[7u8; 32], b"");
        let object = encode_segment(&entries).expect("encode");
        let decoded = decode_segment(&object).expect("decode");
        assert_eq!(
            decoded,
            vec![
                (b'r', b"key-1".to_vec(), b"value one".to_vec()),
                (b's', vec![7u8; 32], Vec::new()),
            ]
        );
        // Damage inside the frame's content: re-encode a raw body with one byte changed.
        let mut raw = Vec::new();
        zstd::Decoder::new(object.as_slice())
            .and_then(|mut d| d.read_to_end(&mut raw))
            .expect("inflate");
        raw[SEGMENT_MAGIC.len() + 3] ^= 1;
        let damaged = zstd::encode_all(raw.as_slice(), 1).expect("deflate");
        let err = decode_segment(&damaged).expect_err("damaged segment");
        assert!(err.starts_with("hashes to blake3:"), "{err}");
        assert_eq!(
            decode_segment(b"not zstd")
                .expect_err("garbage")
                .split(':')
                .next(),
            Some("does not decompress")
        );
    }

    #[test]
    fn the_cursor_round_trips_and_forgets_another_bucket() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cursor");
        let mut cursor = Cursor::empty("s3://a/p");
        cursor.seen.insert(entry_digest(b'r', b"k", b"v"));
        cursor
            .seen
            .insert(blob_digest(BlobKind::Chunk, Blake3::of(b"x")));
        cursor.save(&path).expect("save");
        let again = Cursor::load(&path, "s3://a/p").expect("load");
        assert_eq!(again.seen, cursor.seen);
        assert!(Cursor::load(&path, "s3://b/p")
            .expect("load")
            .seen
            .is_empty());
    }
}
