//! An archive and an S3-compatible bucket (issue 14): restore from the bucket alone, keep a
//! replica, repair from it, and collect unreferenced objects. The rules live in the store
//! (evarc-store `remote`); these are the archive-level entry points front ends call.

use std::path::Path;

use evarc_store::{BlobsConfig, GcReport, RepairReport, ReplicateReport, RestoreReport, Store};

use crate::{Archive, Result};

impl Archive {
    /// Rebuilds an archive at `path` from the bucket of `config` alone (its record log and
    /// blobs); the new archive keeps its snapshot bytes in that bucket.
    pub fn restore(config: &BlobsConfig, path: &Path) -> Result<(Self, RestoreReport)> {
        let (store, report) = Store::restore(config, path)?;
        Ok((Self::from_store(store), report))
    }

    /// How many documents an import takes on at once (one per core, at most 4; more on a
    /// bucket, whose commits wait on the network: evarc_store::Store::write_parallelism).
    pub fn import_workers(&self) -> usize {
        self.store().write_parallelism()
    }

    /// Where this archive's snapshot bytes live, when in a bucket.
    pub fn blobs(&self) -> Result<Option<BlobsConfig>> {
        Ok(self.store().blobs_config()?)
    }

    /// Sends what is new since the last run to the replica in the bucket of `config`.
    pub fn replicate(&self, config: &BlobsConfig) -> Result<ReplicateReport> {
        Ok(self.store().replicate(config)?)
    }

    /// Repairs the archive at `path` from the replica in `config`: every snapshot a scrub
    /// finds damaged (and every damaged table file) is rebuilt from what is readable plus the
    /// replica; the report names each snapshot repaired or not.
    pub fn repair(
        path: &Path,
        config: &BlobsConfig,
        wait: std::time::Duration,
    ) -> Result<RepairReport> {
        Ok(Store::repair(path, config, wait)?)
    }

    /// Lists (with `delete`, removes) the bucket's objects no manifest references.
    pub fn gc(&self, delete: bool) -> Result<GcReport> {
        Ok(self.store().gc(delete)?)
    }
}
