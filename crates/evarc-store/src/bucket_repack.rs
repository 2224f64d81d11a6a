//! Repack of an archive whose snapshot bytes live in a bucket (issue 14).
//!
//! The values are re-encoded as by the local repack (repack.rs): a delta keeps its base and
//! chain position, at a higher level with its base (codec 2) or, with two ancestors or more on
//! its read path, as a path delta (codec 3); a chunk stays the same chunk. Each new value is
//! decoded again and found equal to the verified bytes it replaces before anything is written.
//!
//! Objects are immutable and a re-encoded value has the same key as the old one, so the new
//! encoding goes to a new object whose name also names its bytes,
//! `deltas/<hex[0..2]>/<hex>.<tag>` (value_names.rs). Per group of snapshots (a few of one
//! chain): every new object is uploaded and confirmed by the bucket, then the switch-over
//! (which object now holds the value of key K) is committed to the local RocksDB in one atomic,
//! synced batch, and goes to the bucket in the record segments with the other `meta` entries.
//! A crash at any point leaves each value's old object named (still there, valid) or its new
//! one (confirmed before it was named). The old objects are then unreferenced: `evarc gc` lists
//! them and `--delete` removes them (docs/format.md). A bucket archive has no spare copies.

use std::sync::Mutex;

use rocksdb::{WriteBatch, WriteOptions};

use crate::blobs::{value_tag, BlobKind, RemoteBlobs};
use crate::format::{Layout, Manifest};
use crate::{Blake3, RepackOptions, RepackProgress, RepackReport, Result, Store, StoreError};

/// New values for one group, with the byte counts before and after.
#[derive(Default)]
struct BucketEdits {
    values: Vec<(BlobKind, Blake3, Vec<u8>)>,
    deltas: u64,
    chunks: u64,
    before: u64,
    after: u64,
}

impl BucketEdits {
    /// Takes `new` for the value `key` of `kind` when it is smaller than `old`.
    fn offer(&mut self, kind: BlobKind, key: Blake3, old_len: usize, new: Vec<u8>) {
        self.before += old_len as u64;
        if new.len() < old_len {
            self.after += new.len() as u64;
            match kind {
                BlobKind::Chunk => self.chunks += 1,
                BlobKind::Delta => self.deltas += 1,
            }
            self.values.push((kind, key, new));
        } else {
            self.after += old_len as u64;
        }
    }
}

impl Store {
    /// [`Store::repack`] of an archive on a bucket (the level already checked).
    pub(crate) fn repack_bucket(
        &self,
        remote: &RemoteBlobs,
        options: RepackOptions,
        progress: impl Fn(RepackProgress) + Sync,
    ) -> Result<RepackReport> {
        // Nothing goes to a prefix that is not this archive's (owner.rs).
        self.claim_bucket()?;
        // Before the first path delta is named: an evarc that cannot read them refuses the
        // archive (and a restored one: `meta` travels in the record segments).
        self.set_format_version(crate::format::FORMAT_VERSION_REPACKED)?;
        self.note_written([(
            crate::remote::CODE_META,
            crate::format::META_FORMAT_KEY.to_vec(),
        )]);
        let report = Mutex::new(RepackReport {
            bucket: Some(remote.config.url()),
            ..RepackReport::default()
        });
        self.repack_chains(
            &report,
            &progress,
            |key, edits: &mut BucketEdits| {
                self.reencode_bucket_snapshot(remote, key, options.level, edits)
            },
            |edits| self.switch_over(remote, edits),
            |edits, report| {
                report.deltas_rewritten += edits.deltas;
                report.chunks_rewritten += edits.chunks;
                report.value_bytes_before += edits.before;
                report.value_bytes_after += edits.after;
                report.objects_uploaded += edits.values.len() as u64;
            },
        )?;
        // The switch-over goes to the bucket's record log now (a failure here leaves it to the
        // next writer's first upload: the old objects stay named there until then).
        self.push_pending()?;
        self.settle_records();
        let compacted = self.compact_all();
        self.unsettle_records();
        compacted?;
        Ok(report
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Uploads one group's new values as new objects (each confirmed by the bucket), then
    /// commits, in one atomic and synced batch, that they hold those values now.
    fn switch_over(&self, remote: &RemoteBlobs, edits: &BucketEdits) -> Result<()> {
        if edits.values.is_empty() {
            return Ok(());
        }
        let mut objects = Vec::with_capacity(edits.values.len());
        let mut batch = WriteBatch::default();
        let mut noted = Vec::with_capacity(edits.values.len());
        for (kind, key, value) in &edits.values {
            let tag = value_tag(value);
            objects.push((kind.tagged_name(*key, Some(&tag)), value.clone()));
            let meta_key = self.put_value_tag(&mut batch, *kind, *key, Some(&tag))?;
            noted.push((crate::remote::CODE_META, meta_key));
        }
        remote.put_named(objects)?;
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.db
            .write_opt(batch, &sync)
            .map_err(|e| self.db_err(e))?;
        self.note_written(noted);
        Ok(())
    }

    /// Adds to `edits` the smaller re-encodings of one snapshot's values.
    fn reencode_bucket_snapshot(
        &self,
        remote: &RemoteBlobs,
        key: Blake3,
        level: i32,
        edits: &mut BucketEdits,
    ) -> Result<()> {
        let (manifest, _) = self.manifest_required(key)?;
        match &manifest.layout {
            Layout::Delta { base, .. } => {
                let base_manifest = self.manifest(*base)?.ok_or(StoreError::ManifestCorrupt {
                    snapshot: *base,
                    reason: format!("is missing (snapshot blake3:{key} is a delta on it)"),
                })?;
                // Both verified against their keys (materialize checks every level); the old
                // value was fetched for it (the blob cache answers below).
                let base_bytes = self.materialize(*base, base_manifest)?;
                let own = self.materialize(key, manifest.clone())?;
                let tag = self.value_tag(BlobKind::Delta, key)?;
                let old = remote
                    .get(BlobKind::Delta, key, tag.as_ref())?
                    .ok_or(StoreError::DeltaMissing { snapshot: key })?;
                let new = self.reencode_delta(key, &manifest, &base_bytes, &own, level)?;
                edits.offer(BlobKind::Delta, key, old.len(), new);
            }
            Layout::Chunked { .. } => {
                self.reencode_bucket_chunks(remote, key, &manifest, level, edits)?;
            }
        }
        Ok(())
    }

    /// Re-encodes the chunks of a chunked snapshot, each checked against its key first.
    fn reencode_bucket_chunks(
        &self,
        remote: &RemoteBlobs,
        key: Blake3,
        manifest: &Manifest,
        level: i32,
        edits: &mut BucketEdits,
    ) -> Result<()> {
        for (index, chunk) in manifest.chunks().iter().enumerate() {
            // A chunk shared with a snapshot of the same group is re-encoded once.
            if edits
                .values
                .iter()
                .any(|(kind, k, _)| *kind == BlobKind::Chunk && k == chunk)
            {
                continue;
            }
            let raw_len = manifest.chunk_len(index);
            let tag = self.value_tag(BlobKind::Chunk, *chunk)?;
            let old = remote
                .get(BlobKind::Chunk, *chunk, tag.as_ref())?
                .ok_or_else(|| StoreError::ChunkCorrupt {
                    snapshot: key,
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    chunk: *chunk,
                    reason: "is missing from the bucket".into(),
                })?;
            let new = crate::repack::reencode_chunk(key, index, *chunk, raw_len, &old, level)?;
            edits.offer(BlobKind::Chunk, *chunk, old.len(), new);
        }
        Ok(())
    }
}
