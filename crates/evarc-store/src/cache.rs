//! A small cache of recently materialised snapshots, so that a delta's base is rarely rebuilt.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::Blake3;

/// Least-recently-used snapshot bytes, bounded in total size. Lookups and inserts are
/// O(log n) in the number of entries (an archive of small captures caches thousands).
#[derive(Debug)]
pub(crate) struct RawCache {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Bytes and last-use tick of each cached snapshot.
    entries: HashMap<Blake3, (Arc<Vec<u8>>, u64)>,
    /// Snapshots by last-use tick, oldest first.
    by_use: BTreeMap<u64, Blake3>,
    tick: u64,
    bytes: usize,
    budget: usize,
}

impl RawCache {
    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                by_use: BTreeMap::new(),
                tick: 0,
                bytes: 0,
                budget,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The cache holds only verified copies; a panic elsewhere cannot leave it inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached bytes of `key`, marked most recently used.
    pub fn get(&self, key: Blake3) -> Option<Arc<Vec<u8>>> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.tick += 1;
        let tick = inner.tick;
        let (bytes, used) = inner.entries.get_mut(&key)?;
        inner.by_use.remove(used);
        *used = tick;
        inner.by_use.insert(tick, key);
        Some(Arc::clone(bytes))
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.by_use.clear();
        inner.bytes = 0;
    }

    /// Caches verified bytes of `key`, evicting the least recently used beyond the budget.
    pub fn put(&self, key: Blake3, bytes: Arc<Vec<u8>>) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        if bytes.len() > inner.budget / 4 || inner.entries.contains_key(&key) {
            return;
        }
        inner.tick += 1;
        inner.bytes += bytes.len();
        inner.by_use.insert(inner.tick, key);
        inner.entries.insert(key, (bytes, inner.tick));
        while inner.bytes > inner.budget {
            let Some((_, oldest)) = inner.by_use.pop_first() else {
                break;
            };
            if let Some((old, _)) = inner.entries.remove(&oldest) {
                inner.bytes -= old.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_within_budget() {
        let cache = RawCache::new(400);
        let key = |i: u8| Blake3::of(&[i]);
        for i in 0..4 {
            cache.put(key(i), Arc::new(vec![i; 100]));
        }
        assert!(cache.get(key(0)).is_some()); // 0 is now the most recent
        cache.put(key(4), Arc::new(vec![4; 100]));
        assert!(cache.get(key(1)).is_none(), "1 was least recently used");
        assert!(cache.get(key(0)).is_some());
        assert!(cache.get(key(4)).is_some());
        cache.put(key(9), Arc::new(vec![9; 101])); // over a quarter of the budget: not cached
        assert!(cache.get(key(9)).is_none());
        cache.clear();
        assert!(cache.get(key(0)).is_none());
    }
}
