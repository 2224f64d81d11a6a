//! A small cache of recently materialised snapshots, so that a delta's base is rarely rebuilt.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::Blake3;

/// Least-recently-used snapshot bytes, bounded in total size.
#[derive(Debug)]
pub(crate) struct RawCache {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: VecDeque<(Blake3, Arc<Vec<u8>>)>,
    bytes: usize,
    budget: usize,
}

impl RawCache {
    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: VecDeque::new(),
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
        let mut inner = self.lock();
        let pos = inner.entries.iter().position(|(k, _)| *k == key)?;
        let entry = inner.entries.remove(pos).expect("position is in range");
        let bytes = Arc::clone(&entry.1);
        inner.entries.push_back(entry);
        Some(bytes)
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.bytes = 0;
    }

    /// Caches verified bytes of `key`, evicting the least recently used beyond the budget.
    pub fn put(&self, key: Blake3, bytes: Arc<Vec<u8>>) {
        let mut inner = self.lock();
        if bytes.len() > inner.budget / 4 || inner.entries.iter().any(|(k, _)| *k == key) {
            return;
        }
        inner.bytes += bytes.len();
        inner.entries.push_back((key, bytes));
        while inner.bytes > inner.budget {
            match inner.entries.pop_front() {
                Some((_, old)) => inner.bytes -= old.len(),
                None => break,
            }
        }
    }
}
