//! The archive as the server sees it: opened read-only, re-opened when a writer changed it.
//!
//! A read-only RocksDB open is a view of the archive as it was when opened. Writers (`evarc
//! archive`, `provision add`, `checkpoint`…) keep working beside the server: they take the
//! archive's writer lock, which a read-only open does not hold. The server notices their
//! changes by a cheap fingerprint of the archive directory (names, sizes and modification times
//! of its files), checked at most every [`RECHECK`], and then opens a fresh view: new records
//! appear on the pages within a second.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use evarc_provenance::checks::CheckCache;
use evarc_provenance::Archive;
use evarc_provenance::OpenMode;

use crate::cache::{MementoCache, PageCache, RawCache};
use crate::error::{Failure, ServeError};

/// How often the archive directory is looked at for changes.
pub const RECHECK: Duration = Duration::from_millis(250);

/// How long a check of a capture's bytes is shown again by default (`--recheck-after`).
pub const DEFAULT_RECHECK_AFTER: Duration = Duration::from_secs(60);

type Fingerprint = Vec<(std::ffi::OsString, u64, Option<SystemTime>)>;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// One read-only view of the archive and what was learnt from it: the checks of captures'
/// bytes, rendered pages and verified raw bytes. A new view starts with all of them empty (a
/// writer may have changed any stored bytes).
pub struct View {
    pub archive: Archive,
    pub checks: CheckCache,
    pub pages: PageCache,
    pub raws: RawCache,
    /// The TimeGate's memento lists (no evidence check involved: records only).
    pub mementos: MementoCache,
}

impl View {
    fn new(archive: Archive) -> Self {
        Self {
            archive,
            checks: CheckCache::default(),
            pages: PageCache::default(),
            raws: RawCache::default(),
            mementos: MementoCache::default(),
        }
    }
}

struct Inner {
    path: PathBuf,
    texts: evarc_provenance::web::TextCache,
    view: RwLock<Arc<View>>,
    /// When the directory is next looked at, in milliseconds since `epoch`: read without a lock
    /// by every request.
    epoch: Instant,
    next_look: AtomicU64,
    /// The fingerprint of the current view; held while looking (one request looks at a time).
    looked: Mutex<Fingerprint>,
    /// How long a check that verified is shown again (`--recheck-after`).
    recheck_after: Duration,
    /// Writes through the server (`POST /api/v1/…`) go one at a time.
    writes: Mutex<()>,
    /// Tokens' "last used" recording (last_used.rs).
    attempts: crate::last_used::Attempts,
}

impl AppState {
    /// Opens the archive at `path` read-only; checks are reused for [`DEFAULT_RECHECK_AFTER`].
    pub fn open(path: PathBuf) -> Result<Self, ServeError> {
        Self::open_with(path, DEFAULT_RECHECK_AFTER)
    }

    /// Opens the archive at `path` read-only; a check of a capture's bytes that verified is
    /// shown again for `recheck_after` (zero: every request checks).
    pub fn open_with(path: PathBuf, recheck_after: Duration) -> Result<Self, ServeError> {
        let fingerprint = fingerprint(&path);
        let archive = Archive::open(&path, OpenMode::ReadOnly)?;
        let epoch = Instant::now();
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                texts: evarc_provenance::web::TextCache::default(),
                view: RwLock::new(Arc::new(View::new(archive))),
                epoch,
                next_look: AtomicU64::new(millis(RECHECK)),
                looked: Mutex::new(fingerprint),
                recheck_after,
                writes: Mutex::new(()),
                attempts: crate::last_used::Attempts::default(),
            }),
        })
    }

    /// Extracted texts of verified captures, shared by all requests.
    pub fn texts(&self) -> &evarc_provenance::web::TextCache {
        &self.inner.texts
    }

    /// How long a check that verified is shown again.
    pub fn recheck_after(&self) -> Duration {
        self.inner.recheck_after
    }

    /// The current view of the archive, re-opened first when the directory changed.
    pub fn view(&self) -> Arc<View> {
        self.catch_up();
        self.current()
    }

    /// The current view when the directory need not be looked at now (no blocking work on the
    /// caller's thread); `None` when it is time to look, which [`AppState::view`] does.
    pub fn settled_view(&self) -> Option<Arc<View>> {
        (self.now_ms() < self.inner.next_look.load(Ordering::Relaxed)).then(|| self.current())
    }

    fn current(&self) -> Arc<View> {
        self.inner
            .view
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn now_ms(&self) -> u64 {
        millis(self.inner.epoch.elapsed())
    }

    fn catch_up(&self) {
        if self.now_ms() < self.inner.next_look.load(Ordering::Relaxed) {
            return;
        }
        // Another request is looking: this one goes on with the current view.
        let Ok(mut looked) = self.inner.looked.try_lock() else {
            return;
        };
        if self.now_ms() < self.inner.next_look.load(Ordering::Relaxed) {
            return;
        }
        let now = fingerprint(&self.inner.path);
        self.inner
            .next_look
            .store(self.now_ms() + millis(RECHECK), Ordering::Relaxed);
        if now == *looked {
            return;
        }
        // A writer may be mid-way; a failed open keeps the previous view and retries later.
        if let Ok(archive) = Archive::open(&self.inner.path, OpenMode::ReadOnly) {
            *self
                .inner
                .view
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(View::new(archive));
            *looked = now;
        }
    }

    /// Runs blocking archive work off the async threads.
    pub async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Archive) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        self.with_view(move |view| work(&view.archive)).await
    }

    /// Runs blocking work on the current view (its archive and caches) off the async threads.
    pub async fn with_view<T: Send + 'static>(
        &self,
        work: impl FnOnce(&View) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || work(&state.view()))
            .await
            .map_err(|e| {
                Failure::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
            })?
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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
        self.inner.next_look.store(0, Ordering::Relaxed);
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
