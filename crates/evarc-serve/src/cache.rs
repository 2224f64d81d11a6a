//! Rendered record pages and verified raw bytes of one view of the archive, reused only while
//! the check of the bytes they rest on is the current kept check (docs/serve.md, "Evidence
//! checks and caching").
//!
//! Both caches belong to a [`crate::state::View`]: a new view of the archive starts them empty.
//! They are bounded by the bytes they hold; when an entry would not fit, the cache is emptied
//! first (simple, and the next requests fill it again).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use evarc_provenance::checks::CheckKey;
use evarc_provenance::id::RecordId;
use evarc_provenance::model::Capture;
use evarc_provenance::Audience;

/// How many bytes of rendered pages a view keeps.
pub const PAGE_CACHE_BYTES: usize = 64 << 20;
/// How many bytes of raw captures a view keeps.
pub const RAW_CACHE_BYTES: usize = 256 << 20;
/// A capture larger than this is never kept: it is read and checked for each request.
pub const RAW_CACHE_LARGEST: usize = 32 << 20;

/// A record page as one reader sees it: anonymous readers and `read-private` tokens never share
/// an entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub id: RecordId,
    pub sees_private: bool,
}

impl PageKey {
    pub fn new(id: RecordId, audience: Audience) -> Self {
        Self {
            id,
            sees_private: audience.sees_private(),
        }
    }
}

/// A rendered record page and the check it shows.
#[derive(Debug)]
pub struct CachedPage {
    pub body: Bytes,
    /// The bytes whose check the page shows, and the time of that check.
    pub check: CheckKey,
    pub checked_at: DateTime<Utc>,
    /// The reader's day the citation was rendered for ("Accessed").
    pub day: NaiveDate,
}

/// The raw bytes of `/raw/<sha256>` as one reader may see them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RawKey {
    pub sha256: String,
    pub sees_private: bool,
}

/// Bytes of a capture that verified, with the capture their headers come from.
#[derive(Debug)]
pub struct CachedRaw {
    pub capture: Capture,
    pub bytes: Bytes,
    pub check: CheckKey,
}

/// The mementos of an original URL (as asked) as one reader may see them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MementoKey {
    pub url: String,
    pub sees_private: bool,
}

/// The mementos of a URL, oldest first, and the archive's configured public origin.
#[derive(Debug)]
pub struct CachedMementos {
    pub captures: Vec<Capture>,
    pub base_url: Option<String>,
}

/// How many bytes (estimated) of memento lists a view keeps.
pub const MEMENTO_CACHE_BYTES: usize = 16 << 20;

/// Memento lists of one view (the TimeGate).
pub type MementoCache = Bounded<MementoKey, CachedMementos>;

impl Weight for CachedMementos {
    fn weight(&self) -> usize {
        self.captures.len() * 640 + 256
    }
}

impl MementoCache {
    pub fn put(&self, key: MementoKey, mementos: CachedMementos) -> Arc<CachedMementos> {
        self.put_within(key, mementos, MEMENTO_CACHE_BYTES, MEMENTO_CACHE_BYTES)
    }
}

/// Rendered pages of one view.
pub type PageCache = Bounded<PageKey, CachedPage>;
/// Verified raw bytes of one view.
pub type RawCache = Bounded<RawKey, CachedRaw>;

trait Weight {
    fn weight(&self) -> usize;
}

impl Weight for CachedPage {
    fn weight(&self) -> usize {
        self.body.len() + 256
    }
}

impl Weight for CachedRaw {
    fn weight(&self) -> usize {
        self.bytes.len() + 512
    }
}

/// A map bounded by the bytes of its values.
#[derive(Debug)]
pub struct Bounded<K, V> {
    inner: RwLock<(HashMap<K, Arc<V>>, usize)>,
}

impl<K, V> Default for Bounded<K, V> {
    fn default() -> Self {
        Self {
            inner: RwLock::new((HashMap::new(), 0)),
        }
    }
}

#[allow(private_bounds)]
impl<K: Eq + Hash, V: Weight> Bounded<K, V> {
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
            .get(key)
            .cloned()
    }

    /// Keeps `value` unless it is larger than `largest`; empties the cache first when it would
    /// take the cache over `limit`.
    fn put_within(&self, key: K, value: V, limit: usize, largest: usize) -> Arc<V> {
        let value = Arc::new(value);
        let weight = value.weight();
        if weight > largest.min(limit) {
            return value;
        }
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = inner.0.remove(&key) {
            inner.1 -= old.weight();
        }
        if inner.1 + weight > limit {
            inner.0.clear();
            inner.1 = 0;
        }
        inner.1 += weight;
        inner.0.insert(key, value.clone());
        value
    }
}

impl PageCache {
    pub fn put(&self, key: PageKey, page: CachedPage) -> Arc<CachedPage> {
        self.put_within(key, page, PAGE_CACHE_BYTES, PAGE_CACHE_BYTES)
    }
}

impl RawCache {
    pub fn put(&self, key: RawKey, raw: CachedRaw) -> Arc<CachedRaw> {
        self.put_within(key, raw, RAW_CACHE_BYTES, RAW_CACHE_LARGEST + 512)
    }
}
