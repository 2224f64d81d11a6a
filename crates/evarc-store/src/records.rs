//! Opaque records kept beside the snapshots for upper layers.
//!
//! The store gives them a key space (column family `records`), atomic synced batches and prefix
//! scans. It never interprets keys or values: the provenance layer defines them.

use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions};

use crate::format::CF_RECORDS;
use crate::{Result, Store};

/// Puts and deletes of records, applied atomically by [`Store::commit_records`].
#[derive(Default, Debug)]
pub struct RecordBatch {
    puts: Vec<(Vec<u8>, Vec<u8>)>,
}

impl RecordBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put of `value` under `key`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.puts.push((key.into(), value.into()));
    }

    pub(crate) fn into_puts(self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.puts
    }

    /// True when the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
    }
}

impl Store {
    /// The record under `key`.
    pub fn record(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_salvaging(CF_RECORDS, key)
    }

    /// Writes `batch` atomically, with the write-ahead log synced before returning.
    pub fn commit_records(&self, batch: RecordBatch) -> Result<()> {
        self.commit_records_with(batch, crate::Durability::Synced)
    }

    /// [`Store::commit_records`], made durable now or at the next [`Store::sync`] (a bulk pass
    /// writing many batches syncs once at its end). A deferred batch is atomic and survives a
    /// crash of the process, not of the machine, until synced.
    pub fn commit_records_with(
        &self,
        batch: RecordBatch,
        durability: crate::Durability,
    ) -> Result<()> {
        let mut wb = WriteBatch::default();
        let cf = self.cf(CF_RECORDS)?;
        // Nothing is written for a prefix that is not this archive's (owner.rs).
        self.claim_bucket()?;
        let remote = self.blobs.is_some();
        let mut written = Vec::new();
        for (key, value) in batch.puts {
            if remote {
                written.push((crate::remote::CODE_RECORDS, key.clone()));
            }
            wb.put_cf(cf, key, value);
        }
        let mut options = WriteOptions::default();
        options.set_sync(durability == crate::Durability::Synced);
        self.db
            .write_opt(wb, &options)
            .map_err(|e| self.db_err(e))?;
        // On a bucket, what is synced goes to the bucket too (Store::push_pending).
        self.note_written(written);
        if durability == crate::Durability::Synced {
            self.push_pending()?;
        }
        Ok(())
    }

    /// Every record whose key starts with `prefix`, in key order.
    pub fn records_with_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        self.scan_records(prefix, |key, value| {
            out.push((key.to_vec(), value.to_vec()));
            true
        })?;
        Ok(out)
    }

    /// Calls `visit` on each record whose key starts with `prefix`, in key order, until it
    /// returns false.
    pub fn scan_records(
        &self,
        prefix: &[u8],
        mut visit: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let iter = self.db.iterator_cf(
            self.cf(CF_RECORDS)?,
            IteratorMode::From(prefix, Direction::Forward),
        );
        for item in iter {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            if !key.starts_with(prefix) || !visit(&key, &value) {
                break;
            }
        }
        Ok(())
    }

    /// The last record whose key starts with `prefix` and is at most `bound` (in key order).
    pub fn last_record_at_or_before(
        &self,
        prefix: &[u8],
        bound: &[u8],
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mode = IteratorMode::From(bound, Direction::Reverse);
        if let Some(item) = self.db.iterator_cf(self.cf(CF_RECORDS)?, mode).next() {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            if key.starts_with(prefix) && key.as_ref() <= bound {
                return Ok(Some((key.to_vec(), value.to_vec())));
            }
        }
        Ok(None)
    }

    /// The last record (in key order) whose key starts with `prefix`.
    pub fn last_record_with_prefix(&self, prefix: &[u8]) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut upper = prefix.to_vec();
        // The smallest key greater than every key with this prefix: increment the last byte
        // that is not 0xff, dropping the 0xff bytes after it.
        while let Some(last) = upper.pop() {
            if last < 0xff {
                upper.push(last + 1);
                break;
            }
        }
        let mode = if upper.is_empty() {
            IteratorMode::End
        } else {
            IteratorMode::From(&upper, Direction::Reverse)
        };
        for item in self.db.iterator_cf(self.cf(CF_RECORDS)?, mode) {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            if key.as_ref() >= upper.as_slice() && !upper.is_empty() {
                continue;
            }
            if key.starts_with(prefix) {
                return Ok(Some((key.to_vec(), value.to_vec())));
            }
            return Ok(None);
        }
        Ok(None)
    }
}
