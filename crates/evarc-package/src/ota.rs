//! Reading an Open Terms Archive `*-snapshots` git repository as a list of captures.
//!
//! OTA records every fetch of a terms document as one commit: the file it changes is the page as
//! fetched, the commit (committer) date is the fetch time, the trailer
//! `X-source-document-location` names the URL fetched, and the path is
//! `<service>/<terms type>[ #<page>].<ext>`. Here the service is the entity and the file stem the
//! document title (a `#page` suffix names one page of a multi-page document, its own document,
//! exactly as in the corpus manifest). Local repositories only: nothing is fetched.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use gix::ObjectId;

/// The commit trailer that names the URL a snapshot was fetched from.
pub const OTA_SOURCE_TRAILER: &str = "X-source-document-location";

/// Why a snapshots repository could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OtaError {
    /// The directory is not a git repository gix can open.
    #[error("{} is not a readable git repository", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The repository has no commit to start from.
    #[error("{} has no commits (HEAD does not name a commit)", path.display())]
    NoHead {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An object of the history could not be read or decoded.
    #[error("{}: cannot read {what} {id}", path.display())]
    Object {
        path: PathBuf,
        what: &'static str,
        id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Which snapshots to take: commit dates (UTC calendar days, both ends included) and services.
#[derive(Clone, Debug, Default)]
pub struct OtaFilter {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Service directory names; empty takes every service.
    pub services: Vec<String>,
}

impl OtaFilter {
    fn takes_time(&self, at: DateTime<Utc>) -> bool {
        let day = at.date_naive();
        self.since.is_none_or(|since| day >= since) && self.until.is_none_or(|until| day <= until)
    }

    fn takes_service(&self, service: &str) -> bool {
        self.services.is_empty() || self.services.iter().any(|s| s == service)
    }
}

/// One snapshot: a file added or changed by a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtaCapture {
    /// The commit, full hex.
    pub commit: String,
    /// The commit's committer date, in UTC.
    pub captured_at: DateTime<Utc>,
    /// The service directory: the entity.
    pub service: String,
    /// The file name without its extension: the document title (with its `#page` suffix).
    pub document: String,
    /// `<service>/<file name>`.
    pub path: String,
    /// The commit's `X-source-document-location` trailer; `None` when the commit has none.
    pub source_url: Option<String>,
    blob: ObjectId,
}

/// An OTA snapshots repository opened for reading. It can be shared between threads: each
/// thread reads through its own handle of the repository (gix handles are not `Sync` without
/// its `parallel` feature).
pub struct OtaSnapshots {
    path: PathBuf,
}

thread_local! {
    /// This thread's handle of the repository last read, by path.
    static REPOSITORY: RefCell<Option<(PathBuf, gix::Repository)>> = const { RefCell::new(None) };
}

impl OtaSnapshots {
    /// Opens the repository at `path` (a work tree or a bare repository).
    pub fn open(path: &Path) -> Result<OtaSnapshots, OtaError> {
        let snapshots = OtaSnapshots {
            path: path.to_owned(),
        };
        snapshots.with_repository(|_| Ok(()))?;
        Ok(snapshots)
    }

    /// Runs `f` on this thread's handle of the repository, opening it when needed.
    fn with_repository<T>(
        &self,
        f: impl FnOnce(&gix::Repository) -> Result<T, OtaError>,
    ) -> Result<T, OtaError> {
        REPOSITORY.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.as_ref().is_none_or(|(path, _)| *path != self.path) {
                let repo = gix::open(&self.path).map_err(|source| OtaError::Open {
                    path: self.path.clone(),
                    source: Box::new(source),
                })?;
                *slot = Some((self.path.clone(), repo));
            }
            let (_, repo) = slot.as_ref().expect("the repository was just opened");
            f(repo)
        })
    }

    /// Every snapshot the filter takes, in commit order (oldest first, following first
    /// parents from HEAD); within a commit, by path.
    pub fn captures(&self, filter: &OtaFilter) -> Result<Vec<OtaCapture>, OtaError> {
        self.with_repository(|repo| self.captures_in(repo, filter))
    }

    fn captures_in(
        &self,
        repo: &gix::Repository,
        filter: &OtaFilter,
    ) -> Result<Vec<OtaCapture>, OtaError> {
        let head = repo.head_id().map_err(|source| OtaError::NoHead {
            path: self.path.clone(),
            source: Box::new(source),
        })?;
        // First-parent chain from HEAD, then oldest first.
        let mut chain = Vec::new();
        let mut next = Some(head.detach());
        while let Some(id) = next {
            let commit = repo
                .find_commit(id)
                .map_err(|e| self.object_error("commit", id, e))?;
            next = commit.parent_ids().next().map(gix::Id::detach);
            chain.push(id);
        }
        chain.reverse();

        let mut out = Vec::new();
        let mut previous: HashMap<String, ObjectId> = HashMap::new();
        for id in chain {
            let commit = repo
                .find_commit(id)
                .map_err(|e| self.object_error("commit", id, e))?;
            let files = self.snapshot_files(&commit)?;
            let time = commit
                .time()
                .map_err(|e| self.object_error("commit date of", id, e))?;
            let captured_at = DateTime::from_timestamp(time.seconds, 0).ok_or_else(|| {
                self.object_error(
                    "commit date of",
                    id,
                    format!("{} seconds is out of range", time.seconds),
                )
            })?;
            let changed: Vec<(&String, &ObjectId)> = files
                .iter()
                .filter(|(path, blob)| previous.get(*path) != Some(*blob))
                .collect();
            if !changed.is_empty() && filter.takes_time(captured_at) {
                let decoded = commit
                    .decode()
                    .map_err(|e| self.object_error("commit", id, e))?;
                let source_url = decoded
                    .message_trailers()
                    .find(|t| t.token.eq_ignore_ascii_case(OTA_SOURCE_TRAILER.as_bytes()))
                    .map(|t| t.value.to_string());
                for (path, blob) in changed {
                    let Some((service, file)) = path.split_once('/') else {
                        continue;
                    };
                    if !filter.takes_service(service) {
                        continue;
                    }
                    let document = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
                    out.push(OtaCapture {
                        commit: id.to_string(),
                        captured_at,
                        service: service.to_owned(),
                        document: document.to_owned(),
                        path: path.clone(),
                        source_url: source_url.clone(),
                        blob: *blob,
                    });
                }
            }
            previous = files.into_iter().collect();
        }
        Ok(out)
    }

    /// The bytes of a snapshot.
    pub fn read(&self, capture: &OtaCapture) -> Result<Vec<u8>, OtaError> {
        self.with_repository(|repo| {
            let blob = repo
                .find_blob(capture.blob)
                .map_err(|e| self.object_error("file", capture.blob, e))?;
            Ok(blob.detach().data)
        })
    }

    /// `<service>/<file>` → blob of the commit's tree: files one level down, not hidden.
    fn snapshot_files(
        &self,
        commit: &gix::Commit<'_>,
    ) -> Result<BTreeMap<String, ObjectId>, OtaError> {
        let tree = commit
            .tree()
            .map_err(|e| self.object_error("tree of commit", commit.id, e))?;
        let entries = tree
            .traverse()
            .breadthfirst
            .files()
            .map_err(|e| self.object_error("tree of commit", commit.id, e))?;
        Ok(entries
            .into_iter()
            .filter(|e| e.mode.is_blob())
            .filter_map(|e| {
                let path = String::from_utf8(e.filepath.to_vec()).ok()?;
                let (service, file) = path.split_once('/')?;
                let snapshot = !service.starts_with('.')
                    && !file.contains('/')
                    && !file.starts_with('.')
                    && !file.is_empty();
                snapshot.then_some((path, e.oid))
            })
            .collect())
    }

    fn object_error(
        &self,
        what: &'static str,
        id: ObjectId,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> OtaError {
        OtaError::Object {
            path: self.path.clone(),
            what,
            id: id.to_string(),
            source: source.into(),
        }
    }
}
