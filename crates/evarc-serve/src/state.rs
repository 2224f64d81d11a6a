//! The archive as the server sees it: opened read-only, re-opened when a writer changed it.
//!
//! A read-only RocksDB open is a view of the archive as it was when opened. Writers (`evarc
//! archive`, `provision add`, `checkpoint`…) keep working beside the server: they take the
//! archive's writer lock, which a read-only open does not hold. The server notices their
//! changes by a cheap fingerprint of the archive directory (names, sizes and modification times
//! of its files), checked at most every [`RECHECK`], and then opens a fresh view: new records
//! appear on the pages within a second.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use evarc_provenance::Archive;
use evarc_provenance::OpenMode;

use crate::error::{Failure, ServeError};

/// How often the archive directory is looked at for changes.
pub const RECHECK: Duration = Duration::from_millis(250);

type Fingerprint = Vec<(std::ffi::OsString, u64, Option<SystemTime>)>;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    texts: evarc_provenance::web::TextCache,
    archive: RwLock<Arc<Archive>>,
    checked: Mutex<(Instant, Fingerprint)>,
    /// Writes through the server (`POST /api/v1/…`) go one at a time.
    writes: Mutex<()>,
    /// Tokens' "last used" recording (last_used.rs).
    attempts: crate::last_used::Attempts,
}

impl AppState {
    /// Opens the archive at `path` read-only.
    pub fn open(path: PathBuf) -> Result<Self, ServeError> {
        let fingerprint = fingerprint(&path);
        let archive = Archive::open(&path, OpenMode::ReadOnly)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                texts: evarc_provenance::web::TextCache::default(),
                archive: RwLock::new(Arc::new(archive)),
                checked: Mutex::new((Instant::now(), fingerprint)),
                writes: Mutex::new(()),
                attempts: crate::last_used::Attempts::default(),
            }),
        })
    }

    /// Extracted texts of verified captures, shared by all requests.
    pub fn texts(&self) -> &evarc_provenance::web::TextCache {
        &self.inner.texts
    }

    /// The current view of the archive, re-opened first when the directory changed.
    pub fn archive(&self) -> Result<Arc<Archive>, Failure> {
        self.catch_up();
        Ok(self
            .inner
            .archive
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone())
    }

    fn catch_up(&self) {
        let mut checked = self
            .inner
            .checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if checked.0.elapsed() < RECHECK {
            return;
        }
        let now = fingerprint(&self.inner.path);
        checked.0 = Instant::now();
        if now == checked.1 {
            return;
        }
        // A writer may be mid-way; a failed open keeps the previous view and retries later.
        if let Ok(archive) = Archive::open(&self.inner.path, OpenMode::ReadOnly) {
            *self
                .inner
                .archive
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(archive);
            checked.1 = now;
        }
    }

    /// Runs blocking archive work off the async threads.
    pub async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Archive) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let archive = state.archive()?;
            work(&archive)
        })
        .await
        .map_err(|e| Failure::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    }
}

/// How long a write through the server waits for another evarc process writing to the
/// archive (an `evarc archive`, an import) to finish.
pub const WRITE_WAIT: Duration = Duration::from_secs(20);

impl AppState {
    /// Runs a write off the async threads: the archive is opened as its writer for this one
    /// request (waiting up to [`WRITE_WAIT`] for another writer, as the CLI does with
    /// `--wait`) and closed again, so the CLI keeps writing beside the server; the read view
    /// is re-opened before the next request.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Archive) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let _one_at_a_time = state
                .inner
                .writes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let result =
                match Archive::open_waiting(&state.inner.path, OpenMode::ReadWrite, WRITE_WAIT) {
                    Ok(archive) => work(&archive),
                    Err(err) => Err(Failure::new(
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        err.to_string(),
                    )),
                };
            state.expire_view();
            result
        })
        .await
        .map_err(|e| Failure::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    }

    /// Tokens' "last used" attempts.
    pub(crate) fn attempts(&self) -> &crate::last_used::Attempts {
        &self.inner.attempts
    }

    /// Runs `work` on the archive directory as one of the server's writes (one at a time), then
    /// has the next request look at the archive again. Blocking.
    pub(crate) fn one_write<T>(&self, work: impl FnOnce(&Path) -> T) -> T {
        let _one_at_a_time = self
            .inner
            .writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let result = work(&self.inner.path);
        self.expire_view();
        result
    }

    /// The next request re-checks the archive directory (after a write of our own).
    fn expire_view(&self) {
        let mut checked = self
            .inner
            .checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(earlier) = Instant::now().checked_sub(RECHECK) {
            checked.0 = earlier;
        }
    }
}

fn fingerprint(path: &Path) -> Fingerprint {
    let mut out: Fingerprint = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            // RocksDB's info log (written by every open, read-only ones too) and the lock files
            // change without the records changing.
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if text.starts_with("LOG") || text == "LOCK" || text == "evarc.lock" {
                return None;
            }
            let meta = entry.metadata().ok()?;
            Some((entry.file_name(), meta.len(), meta.modified().ok()))
        })
        .collect();
    out.sort();
    out
}
