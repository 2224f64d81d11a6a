//! Opening, creating and looking up an archive.

use std::fs::File;
use std::path::{Path, PathBuf};

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Options, WriteOptions, DB};

use crate::cache::RawCache;
use crate::format::{
    Manifest, ALL_CFS, CF_CHUNKS, CF_META, CF_SHA256, CF_SNAPSHOTS, FORMAT_VERSION, LOCK_FILE,
    META_FORMAT_KEY,
};
use crate::{Blake3, DigestQuery, Result, Sha256, StoreError};

/// How an archive is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// One writer per archive: a second one gets [`StoreError::InUse`].
    ReadWrite,
    /// Any number of readers, also while a writer runs; they see the archive as it was at open.
    ReadOnly,
}

/// What the store records about one snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub blake3: Blake3,
    pub sha256: Sha256,
    pub len: u64,
}

/// An open archive.
pub struct Store {
    pub(crate) db: DB,
    pub(crate) path: PathBuf,
    mode: OpenMode,
    /// Recently materialised snapshots: delta bases and small snapshots just written.
    pub(crate) cache: RawCache,
    /// Held for the life of a writer; dropping it releases the advisory lock.
    pub(crate) _lock: Option<File>,
    /// Damage met while opening read-only that did not stop the open (issue 16).
    /// (what is damaged, why), e.g. ("meta/format-version", …) or ("MANIFEST", …).
    open_damage: Option<(&'static str, String)>,
    /// Where chunk and delta values live when not in RocksDB: a bucket (issue 14).
    pub(crate) blobs: Option<crate::blobs::RemoteBlobs>,
    /// Table files read without their index after RocksDB refused them (issue 16).
    pub(crate) salvage: crate::salvage::SalvageCache,
    /// A read-only view opened through a MANIFEST rebuilt from the table files, in a temporary
    /// directory of links to them, when the archive's own MANIFEST is damaged.
    _rebuilt: Option<tempfile::TempDir>,
    /// Held while a write lays out parity groups again (parity.rs), so that concurrent writers
    /// never rewrite one group from the same old state.
    pub(crate) parity_lock: std::sync::Mutex<()>,
}

/// Bytes of recently used snapshots kept in memory (delta bases).
const CACHE_BUDGET: usize = 32 << 20;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

pub(crate) fn db_options() -> Options {
    let mut opts = Options::default();
    opts.create_if_missing(false);
    opts.set_paranoid_checks(true);
    opts.set_keep_log_file_num(2);
    opts.set_log_level(rocksdb::LogLevel::Warn);
    opts.set_max_total_wal_size(256 << 20);
    // Every table file is opened at open and held: a reader beside a writer keeps reading the
    // files the writer compacts away (see `open_read_only`).
    opts.set_max_open_files(-1);
    opts
}

/// Bytes of RocksDB's block cache, shared by all column families of an open archive.
const BLOCK_CACHE: usize = 16 << 20;

fn cf_options(name: &str, cache: &rocksdb::Cache) -> Options {
    let mut opts = Options::default();
    // Point lookups mostly miss (is this snapshot, this capture, this chunk stored yet?): a
    // bloom filter answers them without reading the table files, however many there are.
    let mut table = rocksdb::BlockBasedOptions::default();
    table.set_bloom_filter(10.0, false);
    table.set_block_cache(cache);
    opts.set_block_based_table_factory(&table);
    opts.set_level_compaction_dynamic_level_bytes(true);
    if name == CF_CHUNKS || name == crate::format::CF_DELTAS {
        // One value per table block (issue 16): a damaged block then loses one chunk or delta
        // and the at most 31 snapshots built on it without a spare copy, never several values
        // packed together (4 KiB blocks held several small deltas: up to 35 captures per flip on
        // the corpus). The values are uncompressed zstd frames, so nothing is lost to
        // compression; the cost is a block trailer and an index entry per value.
        let mut table = rocksdb::BlockBasedOptions::default();
        table.set_bloom_filter(10.0, false);
        table.set_block_cache(cache);
        table.set_block_size(1);
        opts.set_block_based_table_factory(&table);
    }
    if name == CF_CHUNKS {
        // Chunk values are zstd frames already: compressing them again only costs time.
        opts.set_compression_type(DBCompressionType::None);
        opts.set_write_buffer_size(32 << 20);
        opts.set_target_file_size_base(64 << 20);
    } else if name == crate::format::CF_DELTAS {
        opts.set_compression_type(DBCompressionType::None);
        opts.set_write_buffer_size(16 << 20);
    } else {
        // Manifests, index entries and provenance records: small, similar values. 16 KiB blocks
        // let zstd see what neighbouring records share (20% smaller than 4 KiB blocks on the
        // corpus; level 9 and per-file dictionaries gained nothing more there, and cost the
        // 1M-capture ingest a third of its rate in compaction).
        opts.set_compression_type(DBCompressionType::Zstd);
        opts.set_write_buffer_size(16 << 20);
        let mut records_table = rocksdb::BlockBasedOptions::default();
        records_table.set_bloom_filter(10.0, false);
        records_table.set_block_cache(cache);
        records_table.set_block_size(16 << 10);
        if name == CF_SHA256 {
            // Index entries are digests (zstd gains little on them), and each one lost hides a
            // capture from `get SHA256`: 2 KiB blocks keep about 30 per block (issue 16).
            records_table.set_block_size(2 << 10);
        } else if name == CF_SNAPSHOTS {
            // A lost manifest loses its snapshot and the up to 31 built on it without a spare
            // copy: one manifest per block, so that one damaged byte costs one manifest (about
            // 50 bytes more per snapshot; manifests are digests that zstd barely shrinks).
            records_table.set_block_size(1);
        }
        opts.set_block_based_table_factory(&records_table);
    }
    opts
}

pub(crate) fn descriptors() -> Vec<ColumnFamilyDescriptor> {
    let cache = rocksdb::Cache::new_lru_cache(BLOCK_CACHE);
    ALL_CFS
        .iter()
        .map(|name| ColumnFamilyDescriptor::new(*name, cf_options(name, &cache)))
        .collect()
}

impl Store {
    /// Creates a new, empty archive at `path` (the directory may exist if it is empty).
    pub fn init(path: &Path) -> Result<Self> {
        Self::init_with(path, None)
    }

    /// Creates a new, empty archive at `path` whose snapshot bytes live in the bucket of
    /// `blobs`, or in RocksDB when `None`. Every archive gets a random ID (owner.rs). The bucket
    /// is checked first (a listing, and its marker: a prefix that belongs to another archive is
    /// refused before anything is made); its marker then names the new archive.
    pub fn init_with(path: &Path, blobs: Option<crate::BlobsConfig>) -> Result<Self> {
        let id = crate::ArchiveId::random()?;
        let Some(config) = blobs else {
            return Self::init_local(path, id);
        };
        let s3 = crate::S3Blobs::connect(&config)?;
        s3.probe()?;
        let found = crate::owner::check(&s3, id, false)?;
        let existed = path.exists();
        let mut store = Self::init_local(path, id)?;
        let claimed = crate::owner::claim(&s3, id, found).and_then(|()| {
            store.write_meta(crate::remote::META_BLOBS_KEY, config.encode().as_bytes())
        });
        if let Err(err) = claimed {
            // Nothing is left of a refused init (the directory was empty or absent).
            drop(store);
            let _ = std::fs::remove_dir_all(path);
            if existed {
                let _ = std::fs::create_dir(path);
            }
            return Err(err);
        }
        store.blobs = Some(crate::blobs::RemoteBlobs::open(path, config)?);
        Ok(store)
    }

    fn init_local(path: &Path, id: crate::ArchiveId) -> Result<Self> {
        match std::fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    let reason = if path.join("CURRENT").exists() {
                        "it already holds an archive".to_string()
                    } else {
                        "the directory is not empty".to_string()
                    };
                    return Err(StoreError::AlreadyExists {
                        path: path.to_owned(),
                        reason,
                    });
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path).map_err(|e| {
                    StoreError::io(format!("creating archive directory {}", path.display()), e)
                })?;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotADirectory => {
                return Err(StoreError::AlreadyExists {
                    path: path.to_owned(),
                    reason: "it is a file, not a directory".into(),
                })
            }
            Err(err) => {
                return Err(StoreError::io(format!("reading {}", path.display()), err));
            }
        }
        let lock = acquire_lock(path)?;
        let mut opts = db_options();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        let db = DB::open_cf_descriptors(&opts, path, descriptors())
            .map_err(|e| StoreError::db(path, e))?;
        let store = Self {
            db,
            path: path.to_owned(),
            mode: OpenMode::ReadWrite,
            cache: RawCache::new(CACHE_BUDGET),
            _lock: Some(lock),
            open_damage: None,
            blobs: None,
            salvage: Default::default(),
            _rebuilt: None,
            parity_lock: Default::default(),
        };
        store.write_format_version()?;
        store.write_meta(crate::owner::META_ARCHIVE_ID_KEY, id.to_string().as_bytes())?;
        Ok(store)
    }

    /// Records [`FORMAT_VERSION`] in `meta`, synced.
    fn write_format_version(&self) -> Result<()> {
        self.set_format_version(FORMAT_VERSION)
    }

    /// Records the archive's format version (synced).
    pub(crate) fn set_format_version(&self, version: u32) -> Result<()> {
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db
            .put_cf_opt(
                self.cf(CF_META)?,
                META_FORMAT_KEY,
                version.to_string(),
                &sync,
            )
            .map_err(|e| self.db_err(e))
    }

    /// Opens an existing archive; a writer fails at once with [`StoreError::InUse`] when
    /// another process writes.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self> {
        Self::open_waiting(path, mode, std::time::Duration::ZERO)
    }

    /// Opens an existing archive; a writer waits up to `wait` for another process's writer lock
    /// to be released before failing with [`StoreError::InUse`]. Readers never wait.
    pub fn open_waiting(path: &Path, mode: OpenMode, wait: std::time::Duration) -> Result<Self> {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(StoreError::NotAnArchive {
                    path: path.to_owned(),
                    reason: "it is a file, not a directory".into(),
                })
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound {
                    path: path.to_owned(),
                })
            }
            Err(err) => return Err(StoreError::io(format!("reading {}", path.display()), err)),
        }
        // The lock file holds no data (a writer recreates it); only the database is required.
        if !path.join("CURRENT").exists() {
            if has_rocksdb_files(path) {
                return Err(StoreError::DatabaseDamaged {
                    path: path.to_owned(),
                    reason: "its CURRENT file is missing, but database files remain".into(),
                });
            }
            return Err(StoreError::NotAnArchive {
                path: path.to_owned(),
                reason: "no evarc database in it; create one with `evarc init`".into(),
            });
        }
        let lock = match mode {
            OpenMode::ReadWrite => Some(acquire_lock_waiting(path, wait)?),
            OpenMode::ReadOnly => None,
        };
        let mut opts = db_options();
        let mut rebuilt = None;
        let mut manifest_damage = None;
        let db = match mode {
            OpenMode::ReadWrite => {
                // A version-1 archive lacks the `deltas` column family: it is added here.
                opts.create_missing_column_families(true);
                DB::open_cf_descriptors(&opts, path, descriptors())
            }
            OpenMode::ReadOnly => match open_read_only(&opts, path) {
                Err(err) if is_manifest_damage(&err) => {
                    // The MANIFEST lists the table files; damaged, RocksDB refuses the whole
                    // archive although every table is intact. Read-only, evarc reads the tables
                    // through a MANIFEST rebuilt from them in a temporary directory (the
                    // archive is not touched) and keeps the damage for the audit to report.
                    let (dir, db) = open_rebuilt(&opts, path, &err)?;
                    rebuilt = Some(dir);
                    manifest_damage = Some((
                        "MANIFEST",
                        format!(
                        "its MANIFEST cannot be read ({}); its table files were read through a \
                         MANIFEST rebuilt from them",
                        err.to_string().trim()
                    ),
                    ));
                    Ok(db)
                }
                other => other,
            },
        }
        .map_err(|e| StoreError::db(path, e))?;
        let mut store = Self {
            db,
            path: path.to_owned(),
            mode,
            cache: RawCache::new(CACHE_BUDGET),
            _lock: lock,
            open_damage: None,
            blobs: None,
            salvage: Default::default(),
            _rebuilt: rebuilt,
            parity_lock: Default::default(),
        };
        store.open_damage = manifest_damage;
        if mode == OpenMode::ReadOnly && store._rebuilt.is_none() {
            // A read-only open that races a writer's flush can see a state in which the format
            // version, written to the log and being flushed, is in neither (the log already
            // gone, the table not yet listed): open again, as for a vanished file. A version
            // that stays missing is really missing.
            let mut attempt = 0;
            while attempt < VANISHED_RETRIES
                && matches!(store.check_format(), Err(StoreError::NotAnArchive { .. }))
            {
                attempt += 1;
                std::thread::sleep(VANISHED_PAUSE);
                store.db = open_read_only(&opts, path).map_err(|e| StoreError::db(path, e))?;
            }
        }
        let version = match store.check_format() {
            // A damaged block of `meta` must not stop an audit or a read: read-only, the archive
            // is read as the current format (every read still verifies), and the damage is kept
            // for the audit to report. A writer refuses.
            Err(err) if mode == OpenMode::ReadOnly && err.is_integrity_failure() => {
                store.open_damage = Some((
                    "meta/format-version",
                    format!("its format version cannot be read: {err}"),
                ));
                FORMAT_VERSION
            }
            other => other?,
        };
        if mode == OpenMode::ReadWrite && version < FORMAT_VERSION {
            // Nothing is rewritten: version 2 only adds delta snapshots beside version-1 ones.
            store.write_format_version()?;
        }
        if let Some(config) = store.blobs_config()? {
            store.blobs = Some(crate::blobs::RemoteBlobs::open(path, config)?);
        }
        Ok(store)
    }

    /// The archive's format version, refused when this code cannot read it.
    pub fn format_version(&self) -> Result<u32> {
        self.check_format()
    }

    fn check_format(&self) -> Result<u32> {
        let found = self
            .db
            .get_cf(self.cf(CF_META)?, META_FORMAT_KEY)
            .map_err(|e| self.db_err(e))?
            .ok_or_else(|| StoreError::NotAnArchive {
                path: self.path.clone(),
                reason: "it records no format version".into(),
            })?;
        let text = String::from_utf8_lossy(&found).into_owned();
        match text.parse::<u32>() {
            Ok(v) if (1..=crate::format::FORMAT_VERSION_REPACKED).contains(&v) => Ok(v),
            _ => Err(StoreError::UnsupportedFormat {
                path: self.path.clone(),
                found: text,
                supported: crate::format::FORMAT_VERSION_REPACKED,
            }),
        }
    }

    /// Damage met while opening read-only that did not stop the open, if any.
    /// What is damaged and why.
    pub fn open_damage(&self) -> Option<(&str, &str)> {
        self.open_damage
            .as_ref()
            .map(|(what, why)| (*what, why.as_str()))
    }

    /// The archive directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forgets the in-memory copies of recently used snapshots, so that the next reads rebuild
    /// and re-hash from the stored bytes (benchmarks; a scrub does this itself).
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// How the archive was opened.
    /// The table files the database references now (`000042.sst`, …): what an audit checks.
    pub fn live_table_files(&self) -> Result<std::collections::HashSet<String>> {
        Ok(self
            .db
            .live_files()
            .map_err(|e| self.db_err(e))?
            .into_iter()
            .map(|f| f.name.trim_start_matches('/').to_owned())
            .collect())
    }

    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// A column family; absent only in a version-1 archive opened read-only (no `deltas`).
    pub(crate) fn cf(&self, name: &str) -> Result<&ColumnFamily> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::NotAnArchive {
                path: self.path.clone(),
                reason: format!("it has no column family {name:?}"),
            })
    }

    pub(crate) fn db_err(&self, source: rocksdb::Error) -> StoreError {
        StoreError::db(&self.path, source)
    }

    /// Finds a snapshot by either digest; `None` when no snapshot has it.
    pub fn find(&self, query: DigestQuery) -> Result<Option<SnapshotInfo>> {
        match query {
            DigestQuery::Blake3(key) => self.info(key),
            DigestQuery::Sha256(sha) => self.find_sha256(sha),
            DigestQuery::Either(bytes) => match self.find_sha256(Sha256(bytes))? {
                Some(info) => Ok(Some(info)),
                None => self.info(Blake3(bytes)),
            },
        }
    }

    /// Like [`Store::find`], but a missing snapshot is [`StoreError::SnapshotNotFound`].
    pub fn resolve(&self, query: DigestQuery) -> Result<SnapshotInfo> {
        self.find(query)?
            .ok_or_else(|| StoreError::SnapshotNotFound {
                query: query.to_string(),
            })
    }

    /// Finds a snapshot by its SHA-256, checking that the index and the manifest agree.
    pub fn find_sha256(&self, sha: Sha256) -> Result<Option<SnapshotInfo>> {
        let Some(key) = self.get_salvaging(CF_SHA256, sha.as_bytes())? else {
            return Ok(None);
        };
        let key = Blake3::from_slice(&key).ok_or_else(|| StoreError::IndexCorrupt {
            sha256: sha,
            points_to: hex::encode(&key),
            reason: format!("a {}-byte key instead of 32", key.len()),
        })?;
        let info = self.info(key)?.ok_or_else(|| StoreError::IndexCorrupt {
            sha256: sha,
            points_to: key.to_hex(),
            reason: "which is not in the archive".into(),
        })?;
        if info.sha256 != sha {
            return Err(StoreError::IndexCorrupt {
                sha256: sha,
                points_to: key.to_hex(),
                reason: format!("whose manifest records sha256:{}", info.sha256),
            });
        }
        Ok(Some(info))
    }

    /// What the manifest of snapshot `key` records, or `None` when there is no such snapshot.
    pub fn info(&self, key: Blake3) -> Result<Option<SnapshotInfo>> {
        Ok(self.manifest(key)?.map(|m| SnapshotInfo {
            blake3: key,
            sha256: m.sha256,
            len: m.len,
        }))
    }

    /// The manifest of snapshot `key` and what it records; a missing snapshot is an error.
    pub(crate) fn manifest_required(&self, key: Blake3) -> Result<(Manifest, SnapshotInfo)> {
        let manifest = self
            .manifest(key)?
            .ok_or_else(|| StoreError::SnapshotNotFound {
                query: format!("blake3:{key}"),
            })?;
        let info = SnapshotInfo {
            blake3: key,
            sha256: manifest.sha256,
            len: manifest.len,
        };
        Ok((manifest, info))
    }

    pub(crate) fn manifest(&self, key: Blake3) -> Result<Option<Manifest>> {
        let primary = match self.get_salvaging(CF_SNAPSHOTS, key.as_bytes()) {
            Ok(None) => return Ok(None),
            Ok(Some(bytes)) => {
                Manifest::decode(&bytes).map_err(|reason| StoreError::ManifestCorrupt {
                    snapshot: key,
                    reason,
                })
            }
            Err(err) => Err(err),
        };
        match primary {
            Ok(manifest) => Ok(Some(manifest)),
            // A heavily shared snapshot keeps a spare manifest in another column family.
            Err(err) if err.is_integrity_failure() => {
                match self
                    .spare(crate::spares::TAG_MANIFEST, key)
                    .and_then(|bytes| Manifest::decode(&bytes).ok())
                {
                    Some(manifest) => Ok(Some(manifest)),
                    None => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Whether a snapshot with this BLAKE3 key exists.
    pub fn contains(&self, key: Blake3) -> Result<bool> {
        match self
            .db
            .get_pinned_cf(self.cf(CF_SNAPSHOTS)?, key.as_bytes())
        {
            Ok(found) => Ok(found.is_some()),
            // A damaged table block: the manifest may still be read without the table's index
            // or from its spare copy (issue 16).
            Err(err) => match self.db_err(err) {
                err if err.is_integrity_failure() => match self.manifest(key) {
                    Ok(found) => Ok(found.is_some()),
                    Err(_) => Err(err),
                },
                err => Err(err),
            },
        }
    }

    /// Reads a whole snapshot into memory, verified. For large snapshots use [`Store::reader`].
    pub fn read(&self, key: Blake3) -> Result<Vec<u8>> {
        let mut reader = self.reader(key)?;
        let mut out = Vec::with_capacity(usize::try_from(reader.info().len).unwrap_or(0));
        std::io::copy(&mut reader, &mut out).map_err(|e| reader.into_error(e))?;
        Ok(out)
    }

    /// Re-reads and re-hashes snapshot `key` without returning its bytes. Small snapshots
    /// (at most [`crate::DELTA_MAX`] bytes) stay cached, as bases of the deltas that follow.
    pub fn verify(&self, key: Blake3) -> Result<SnapshotInfo> {
        let (manifest, info) = self.manifest_required(key)?;
        if manifest.len <= crate::format::DELTA_MAX as u64 {
            self.materialize(key, manifest)?;
            return Ok(info);
        }
        let mut reader = self.reader(key)?;
        std::io::copy(&mut reader, &mut std::io::sink()).map_err(|e| reader.into_error(e))?;
        Ok(info)
    }
}

impl Drop for Store {
    /// A writer flushes its memtables on close, so that the write-ahead log (which holds every
    /// chunk a second time until then) can be deleted: an archive at rest is its SST files.
    /// A writer of an archive on a bucket first uploads what its records gained (issue 14).
    fn drop(&mut self) {
        if self.mode == OpenMode::ReadWrite && self.blobs.is_some() {
            // Best effort: what fails here is uploaded by the next writer (the cursor).
            let _ = self.push_records();
        }
        if self.mode == OpenMode::ReadWrite {
            // Best effort: every acknowledged write is already durable in the WAL.
            for name in ALL_CFS {
                if let Ok(cf) = self.cf(name) {
                    let _ = self.db.flush_cf(cf);
                }
            }
        }
    }
}

/// How many times a reader re-opens an archive whose files a writer removed during the open.
const VANISHED_RETRIES: u32 = 100;
/// The pause between those attempts.
const VANISHED_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Opens the database read-only beside a writer that may be running.
///
/// A read-only open reads the MANIFEST's list of table and log files, then opens each. A writer
/// that compacts (or closes, flushing and dropping its logs) between the two has deleted some of
/// them: the open fails with "No such file or directory" although nothing is damaged. The open
/// is then retried against the current state, which no longer lists those files. A file that is
/// missing twice in a row with the same error is really missing: that error is returned (the
/// archive is damaged). Once open, every table file is held open (`max_open_files` = -1), so
/// later reads see the state as it was at open, whatever the writer removes.
fn open_read_only(opts: &Options, path: &Path) -> std::result::Result<DB, rocksdb::Error> {
    let mut opts = opts.clone();
    let mut paranoid = true;
    let mut previous: Option<String> = None;
    let mut attempt = 0;
    loop {
        let before = log_state(path);
        let result = DB::list_cf(&opts, path).and_then(|present| {
            let wanted = descriptors()
                .into_iter()
                .filter(|d| present.iter().any(|p| p == d.name()));
            DB::open_cf_descriptors_read_only(&opts, path, wanted, false)
        });
        let err = match result {
            Ok(db) if attempt + 1 >= VANISHED_RETRIES || log_state(path) == before => {
                return Ok(db)
            }
            Ok(_) => {
                // A writer flushed during the open: what the open read of its logs and of the
                // MANIFEST may be from either side of the flush (records in neither). Open
                // again against the state after it.
                attempt += 1;
                std::thread::sleep(VANISHED_PAUSE);
                continue;
            }
            Err(err) => err,
        };
        let message = err.to_string();
        attempt += 1;
        let repeated = previous.as_deref() == Some(message.as_str());
        if is_vanished_file(&message) && !repeated && attempt < VANISHED_RETRIES {
            // A writer compacted the file away after we read the file list: try again
            // against the current state (issue 10).
            previous = Some(message);
            std::thread::sleep(VANISHED_PAUSE);
            continue;
        }
        if paranoid
            && matches!(err.kind(), rocksdb::ErrorKind::Corruption)
            && !is_vanished_file(&message)
        {
            // A damaged block that RocksDB reads while opening (a table's index or filter)
            // refuses the whole archive under paranoid checks. Read-only, evarc opens it anyway:
            // every later read still checks its blocks' checksums, so what is damaged fails on
            // its own and the rest stays readable (issue 16).
            opts.set_paranoid_checks(false);
            paranoid = false;
            continue;
        }
        return Err(err);
    }
}

/// A read-only open refused because a record of the MANIFEST (the list of table files) fails
/// its checksum. Not a table the MANIFEST names but which is missing ("No such file … in file
/// MANIFEST-…"): rebuilding the MANIFEST from the tables present would hide that loss.
fn is_manifest_damage(err: &rocksdb::Error) -> bool {
    let message = err.to_string();
    matches!(err.kind(), rocksdb::ErrorKind::Corruption)
        && message.contains("checksum mismatch in file")
        && message.contains("MANIFEST-")
        && !is_vanished_file(&message)
        && !message.contains("No such file")
}

/// Opens read-only a copy of the archive's database whose MANIFEST RocksDB's repair rebuilt from
/// the table files: tables are hard links (copies across file systems), the write-ahead logs and
/// options copies; the damaged MANIFEST and CURRENT are left out. The archive is not changed.
fn open_rebuilt(
    opts: &Options,
    path: &Path,
    refused: &rocksdb::Error,
) -> Result<(tempfile::TempDir, DB)> {
    let fail = |what: String, err: std::io::Error| StoreError::io(what, err);
    let dir = tempfile::Builder::new()
        .prefix("evarc-rebuilt-manifest-")
        .tempdir()
        .map_err(|e| fail("creating a temporary directory".into(), e))?;
    let entries =
        std::fs::read_dir(path).map_err(|e| fail(format!("reading {}", path.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| fail(format!("reading {}", path.display()), e))?;
        let name = entry.file_name();
        let text = name.to_string_lossy();
        let from = entry.path();
        if !from.is_file()
            || text.starts_with("MANIFEST-")
            || text == "CURRENT"
            || text == "LOCK"
            || text.starts_with("LOG")
        {
            continue;
        }
        let to = dir.path().join(&name);
        let linked = text.ends_with(".sst") && std::fs::hard_link(&from, &to).is_ok();
        if !linked {
            match std::fs::copy(&from, &to) {
                Ok(_) => {}
                // Removed since the listing by a writer beside this open: not needed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(fail(format!("copying {}", from.display()), e)),
            }
        }
    }
    let db = DB::repair(opts, dir.path())
        .and_then(|()| open_read_only(opts, dir.path()))
        .map_err(|e| StoreError::DatabaseDamaged {
            path: path.to_owned(),
            reason: format!(
                "{}; rebuilding its MANIFEST from the table files failed too: {e}",
                refused.to_string().trim()
            ),
        })?;
    Ok((dir, db))
}

/// What a flush changes in an archive directory: the CURRENT file's content (the MANIFEST in
/// use) and the write-ahead logs present.
fn log_state(path: &Path) -> (Option<Vec<u8>>, Vec<std::ffi::OsString>) {
    let current = std::fs::read(path.join("CURRENT")).ok();
    let mut logs: Vec<std::ffi::OsString> = std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name())
                .filter(|name| name.to_string_lossy().ends_with(".log"))
                .collect()
        })
        .unwrap_or_default();
    logs.sort();
    (current, logs)
}

/// True when a RocksDB error says a file it was told about does not exist (any error kind:
/// RocksDB reports a vanished table file as corruption, a vanished log as an I/O error).
pub(crate) fn is_vanished_file(message: &str) -> bool {
    message.contains("No such file or directory")
}

/// True when `path` holds RocksDB files (a MANIFEST or table files): an archive, if damaged.
fn has_rocksdb_files(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|entries| {
        entries.filter_map(|e| e.ok()).any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("MANIFEST-") || name.ends_with(".sst")
        })
    })
}

/// How often a waiting writer tries the lock again.
const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(25);

/// Takes the writer lock, trying again until `wait` has passed while another process holds it.
fn acquire_lock_waiting(path: &Path, wait: std::time::Duration) -> Result<File> {
    let start = std::time::Instant::now();
    loop {
        match acquire_lock(path) {
            Err(StoreError::InUse { path, lock, .. }) => {
                let waited = start.elapsed();
                if waited >= wait {
                    return Err(StoreError::InUse {
                        path,
                        lock,
                        waited_secs: wait.as_secs(),
                    });
                }
                std::thread::sleep(LOCK_POLL.min(wait - waited));
            }
            other => return other,
        }
    }
}

fn acquire_lock(path: &Path) -> Result<File> {
    let lock_path = path.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::io(format!("opening lock file {}", lock_path.display()), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse {
            path: path.to_owned(),
            lock: lock_path,
            waited_secs: 0,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::io(
            format!("locking {}", lock_path.display()),
            e,
        )),
    }
}
