//! The provenance archive: a snapshot store plus the records that make its bytes citable.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use evarc_store::{OpenMode, RecordBatch, Store};
use serde::de::DeserializeOwned;

use crate::error::{ProvenanceError, Result};
use crate::id::{Prefix, RecordId};
use crate::keys;
use crate::model::Config;

/// Default archive name, used in citations until `config set name` changes it.
pub const DEFAULT_NAME: &str = "evarc";

/// An archive opened for provenance work.
///
/// Writes that allocate IDs or update records are serialised by an in-process lock; the store's
/// advisory lock keeps other processes out while this one writes. Snapshot bytes are stored
/// before that lock is taken, so several threads can ingest at once.
#[derive(Debug)]
pub struct Archive {
    store: Store,
    writer: Mutex<()>,
    /// The settings as last read; cleared when they change.
    config: std::sync::RwLock<Option<Config>>,
    /// Set by [`Archive::allow_any_capture_time`]: implausible capture times are recorded.
    any_capture_time: std::sync::atomic::AtomicBool,
}

impl Archive {
    /// Creates a new archive, with its ID prefix and name when given.
    pub fn init(path: &Path, prefix: Option<Prefix>, name: Option<&str>) -> Result<Self> {
        Self::init_with_blobs(path, prefix, name, None)
    }

    /// [`Archive::init`], with the snapshot bytes in the bucket of `blobs` when given (issue 14).
    pub fn init_with_blobs(
        path: &Path,
        prefix: Option<Prefix>,
        name: Option<&str>,
        blobs: Option<evarc_store::BlobsConfig>,
    ) -> Result<Self> {
        let archive = Self::from_store(Store::init_with(path, blobs)?);
        let mut batch = RecordBatch::new();
        batch.put(
            keys::CONFIG_PREFIX,
            prefix.unwrap_or_default().as_str().as_bytes().to_vec(),
        );
        if let Some(name) = name {
            batch.put(keys::CONFIG_NAME, name.as_bytes().to_vec());
        }
        // A new archive has no documents: every one it registers is indexed.
        batch.put(keys::INDEX_DOCUMENTS, vec![1]);
        batch.put(keys::INDEX_DOCUMENTS_NORMALISED_URL, vec![1]);
        archive.store.commit_records(batch)?;
        Ok(archive)
    }

    /// Opens an existing archive (opened for writing, an archive written before the document
    /// indexes existed is indexed first).
    pub fn open(path: &Path, mode: OpenMode) -> Result<Self> {
        let archive = Self::from_store(Store::open(path, mode)?);
        archive.ensure_document_index()?;
        Ok(archive)
    }

    /// Opens an existing archive; a writer waits up to `wait` for another process to finish
    /// writing (see [`Store::open_waiting`]).
    pub fn open_waiting(path: &Path, mode: OpenMode, wait: std::time::Duration) -> Result<Self> {
        let archive = Self::from_store(Store::open_waiting(path, mode, wait)?);
        archive.ensure_document_index()?;
        Ok(archive)
    }

    /// Wraps an open store.
    pub fn from_store(store: Store) -> Self {
        Self {
            store,
            writer: Mutex::new(()),
            config: std::sync::RwLock::new(None),
            any_capture_time: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The snapshot store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// From now on, record capture times before 1991 or in the future too (the operator
    /// insists they are right).
    pub fn allow_any_capture_time(&self) {
        self.any_capture_time
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn any_capture_time(&self) -> bool {
        self.any_capture_time
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn write_lock(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock cannot leave records half-written (each write is one
        // atomic batch), so a poisoned lock is safe to take over.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The archive's settings.
    pub fn config(&self) -> Result<Config> {
        if let Some(config) = self
            .config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            return Ok(config.clone());
        }
        let config = self.read_config()?;
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(config.clone());
        Ok(config)
    }

    fn read_config(&self) -> Result<Config> {
        let prefix = match self.text(keys::CONFIG_PREFIX)? {
            Some(text) => Prefix::new(&text).map_err(|e| ProvenanceError::RecordCorrupt {
                key: keys::CONFIG_PREFIX.into(),
                reason: e.to_string(),
            })?,
            None => Prefix::default(),
        };
        Ok(Config {
            prefix,
            name: self
                .text(keys::CONFIG_NAME)?
                .unwrap_or_else(|| DEFAULT_NAME.to_owned()),
            base_url: self
                .text(keys::CONFIG_BASE_URL)?
                .filter(|url| !url.is_empty()),
        })
    }

    /// Sets the ID prefix; refused once any ID has been issued.
    pub fn set_prefix(&self, prefix: Prefix) -> Result<()> {
        let _guard = self.write_lock();
        if self.seq(keys::SEQ_DOCUMENT)? > 0 || self.seq(keys::SEQ_PROVISION)? > 0 {
            return Err(ProvenanceError::PrefixLocked {
                prefix: self.config()?.prefix.to_string(),
            });
        }
        self.put_text(keys::CONFIG_PREFIX, prefix.as_str())
    }

    /// Sets the archive's name, as cited (CSL-JSON `archive`).
    pub fn set_name(&self, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(ProvenanceError::InvalidInput(format!(
                "invalid archive name {name:?}: expected non-empty text without control characters"
            )));
        }
        crate::safe_text::check_free_text("archive name", name)?;
        let _guard = self.write_lock();
        self.put_text(keys::CONFIG_NAME, name)
    }

    /// Sets the public base URL that record IDs are joined to for permanent addresses.
    pub fn set_base_url(&self, url: &str) -> Result<()> {
        let url = url.trim();
        crate::capture::check_http_url("base URL", url)?;
        let _guard = self.write_lock();
        self.put_text(keys::CONFIG_BASE_URL, url)
    }

    /// Removes the base URL: citations then print no permanent address of this archive. (Kept
    /// as an empty value, which reads as unset.)
    pub fn unset_base_url(&self) -> Result<()> {
        let _guard = self.write_lock();
        self.put_text(keys::CONFIG_BASE_URL, "")
    }

    fn put_text(&self, key: &str, value: &str) -> Result<()> {
        let mut batch = RecordBatch::new();
        batch.put(key, value.as_bytes().to_vec());
        self.store.commit_records(batch)?;
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(())
    }

    fn text(&self, key: &str) -> Result<Option<String>> {
        self.store
            .record(key.as_bytes())?
            .map(|bytes| {
                String::from_utf8(bytes).map_err(|_| ProvenanceError::RecordCorrupt {
                    key: key.into(),
                    reason: "not UTF-8".into(),
                })
            })
            .transpose()
    }

    /// The highest sequence number issued under `key` (0 when none).
    pub(crate) fn seq(&self, key: &str) -> Result<u64> {
        match self.store.record(key.as_bytes())? {
            None => Ok(0),
            Some(bytes) => keys::u64_at(&bytes, 0).ok_or_else(|| ProvenanceError::RecordCorrupt {
                key: key.into(),
                reason: format!("{} bytes instead of 8", bytes.len()),
            }),
        }
    }

    /// Decodes the JSON record under `key`.
    pub(crate) fn json<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        self.store
            .record(key)?
            .map(|bytes| decode(key, &bytes))
            .transpose()
    }

    /// A record's prefix must be this archive's.
    pub(crate) fn check_prefix(&self, id: &RecordId) -> Result<()> {
        let prefix = self.config()?.prefix;
        if id.prefix() != &prefix {
            return Err(ProvenanceError::ForeignPrefix {
                id: id.to_string(),
                prefix: prefix.to_string(),
            });
        }
        Ok(())
    }
}

/// Decodes a JSON record, naming the key when it is damaged.
pub(crate) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| ProvenanceError::RecordCorrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

/// Encodes a record as JSON.
pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise: plain structs, string keys")
}
