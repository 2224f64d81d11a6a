//! Repack: settled history re-encoded at a higher effort, random access kept (issue 14).
//!
//! Ingest writes deltas at zstd level 3 and keyframe chunks at level 9, the best size for the
//! time while captures arrive. A repack re-encodes what is stored at a higher level, keeping every
//! snapshot's layout: a delta keeps its base and chain position (its manifest is not touched),
//! a chunk stays the same chunk. Only the stored value changes: a chunk to a smaller chunk value,
//! a delta to a smaller delta on its base (codec 2) or, when its read path has two ancestors or
//! more, a path delta (codec 3, crate::pathdelta) using up to four of them, which the read
//! rebuilds anyway: reads walk the same chains at the same depth. An evarc from before issue 14
//! does not read codec 3 (docs/format.md).
//!
//! Parity groups (parity.rs) stay exact: a member's new value and its group laid out again are
//! in the same atomic batch. Full spare copies of chunk and delta values (archives written
//! before parity groups) are folded into parity groups, each copy deleted in the batch that
//! adds its value to a group; at the end every group is laid out again, members sorted by size.
//!
//! Safety: a new value is written only after it was decoded again and found equal to the
//! verified bytes it replaces. Values are replaced in atomic write batches of one group of
//! snapshots (a few of one chain), each synced before the next: a crash at any point leaves
//! every value either old or new, both valid. Readers never see anything else. The replaced
//! values are dropped by the compaction at the end, which is what makes the disk bytes fall.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use rocksdb::{IteratorMode, WriteBatch, WriteOptions};

use crate::format::{decode_chunk, encode_chunk, Layout, Manifest, CF_CHUNKS, CF_DELTAS};
use crate::parity::ParityOp;
use crate::spares::{spare_cf, spare_key, TAG_CHUNK, TAG_DELTA};
use crate::{Blake3, Result, Store, StoreError};

/// zstd level of a repack unless told otherwise: zstd's highest regular level, with
/// long-distance matching for deltas (docs/benchmarks.md, "Repack").
pub const REPACK_LEVEL: i32 = 19;

/// Snapshots whose new values are committed in one atomic, synced write batch.
const GROUP: usize = 32;

/// How to repack.
#[derive(Clone, Copy, Debug)]
pub struct RepackOptions {
    /// zstd level of the re-encoded values (1 to 22).
    pub level: i32,
}

impl Default for RepackOptions {
    fn default() -> Self {
        Self {
            level: REPACK_LEVEL,
        }
    }
}

/// What a repack did.
#[derive(Debug, Default)]
pub struct RepackReport {
    /// Snapshots listed in the archive.
    pub snapshots: u64,
    /// Delta values replaced by smaller ones.
    pub deltas_rewritten: u64,
    /// Keyframe chunk values replaced by smaller ones.
    pub chunks_rewritten: u64,
    /// Full spare copies of chunk and delta values replaced by parity groups (issue 14).
    pub spares_rewritten: u64,
    /// Bytes of the values looked at (deltas, chunks, their full spare copies, parity groups),
    /// before and after.
    pub value_bytes_before: u64,
    pub value_bytes_after: u64,
    /// An archive on a bucket: its URL, and the new objects the re-encoded values went to
    /// (the objects they replace are unreferenced from then on: `gc` lists them).
    pub bucket: Option<String>,
    pub objects_uploaded: u64,
    /// Snapshots that could not be re-encoded because their stored bytes fail verification:
    /// left exactly as they were (`verify --all` names them).
    pub damaged: Vec<(Blake3, StoreError)>,
}

/// Progress of a repack: snapshots done out of the total.
#[derive(Clone, Copy, Debug)]
pub struct RepackProgress {
    pub done: u64,
    pub total: u64,
}

/// New values for one group, with the byte counts before and after.
#[derive(Default)]
struct GroupEdits {
    puts: Vec<(&'static str, Vec<u8>, Vec<u8>)>,
    /// Full spare copies folded into parity groups, deleted in the same batch.
    deletes: Vec<(&'static str, Vec<u8>)>,
    /// Values joining parity groups (the copies deleted).
    parity: Vec<ParityOp>,
    deltas: u64,
    chunks: u64,
    spares: u64,
    before: u64,
    after: u64,
}

impl Store {
    /// Re-encodes every snapshot's stored values at `options.level` where that makes them
    /// smaller, then compacts the database so that the replaced values leave the disk. Chains
    /// are processed in parallel, each in chain order (bases found in the cache).
    pub fn repack(
        &self,
        options: RepackOptions,
        progress: impl Fn(RepackProgress) + Sync,
    ) -> Result<RepackReport> {
        if !(1..=22).contains(&options.level) {
            return Err(StoreError::io(
                "repacking",
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("zstd level {} is outside 1 to 22", options.level),
                ),
            ));
        }
        if let Some(remote) = &self.blobs {
            // New values go to new objects, then a switch-over (bucket_repack.rs).
            return self.repack_bucket(remote, options, progress);
        }
        // Before the first path delta is written: an evarc that cannot read them refuses the
        // archive (format version 3) rather than reporting them as damage.
        self.set_format_version(crate::format::FORMAT_VERSION_REPACKED)?;
        let report = Mutex::new(RepackReport {
            value_bytes_before: self.parity_bytes(),
            ..RepackReport::default()
        });
        self.repack_chains(
            &report,
            &progress,
            |key, edits: &mut GroupEdits| self.repack_snapshot(key, options.level, edits),
            |edits| self.commit_edits(edits),
            |edits, report| {
                report.deltas_rewritten += edits.deltas;
                report.chunks_rewritten += edits.chunks;
                report.spares_rewritten += edits.spares;
                report.value_bytes_before += edits.before;
                report.value_bytes_after += edits.after;
            },
        )?;
        // Every parity group laid out again for the values' new sizes, in one synced batch per
        // kind (kill-safe: the groups are old or new, both exact).
        let relaid = self.relay_parity()?;
        {
            let mut report = report
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            report.value_bytes_after += relaid.after;
        }
        self.settle_records();
        let compacted = self.compact_all();
        self.unsettle_records();
        compacted?;
        Ok(report
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The re-encoding pass shared by a local and a bucket repack: every snapshot listed, its
    /// chains processed in parallel, each in chain order (bases found in the cache), in groups
    /// of [`GROUP`] snapshots: `encode` each snapshot of a group into the group's edits (one
    /// whose stored bytes fail verification is left as it is and reported), `commit` them, then
    /// `count` them into `report`, whose `snapshots` this sets.
    pub(crate) fn repack_chains<E: Default>(
        &self,
        report: &Mutex<RepackReport>,
        progress: &(impl Fn(RepackProgress) + Sync),
        encode: impl Fn(Blake3, &mut E) -> Result<()> + Sync,
        commit: impl Fn(&mut E) -> Result<()> + Sync,
        count: impl Fn(&E, &mut RepackReport) + Sync,
    ) -> Result<()> {
        let mut listed = std::collections::BTreeMap::new();
        for item in self
            .db
            .iterator_cf(self.cf(crate::format::CF_SNAPSHOTS)?, IteratorMode::Start)
        {
            let (key, _) = item.map_err(|e| self.db_err(e))?;
            if let Some(key) = Blake3::from_slice(&key) {
                listed.insert(key, None);
            }
        }
        let total = listed.len() as u64;
        let groups = self.chain_groups(listed);
        report
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .snapshots = total;
        let done = AtomicU64::new(0);
        self.cache.clear();
        groups.into_par_iter().try_for_each(|chain| -> Result<()> {
            for group in chain.chunks(GROUP) {
                let mut edits = E::default();
                let mut damaged = Vec::new();
                for (key, _) in group {
                    match encode(*key, &mut edits) {
                        Ok(()) => {}
                        Err(err) if err.is_integrity_failure() => damaged.push((*key, err)),
                        Err(err) => return Err(err),
                    }
                }
                commit(&mut edits)?;
                let n = done.fetch_add(group.len() as u64, Ordering::Relaxed) + group.len() as u64;
                progress(RepackProgress { done: n, total });
                let mut report = report
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                count(&edits, &mut report);
                report.damaged.extend(damaged);
            }
            Ok(())
        })
    }

    /// Writes one group's new values in one atomic batch, synced, with the parity groups of
    /// the members among them laid out again and the copies folded into groups.
    fn commit_edits(&self, edits: &mut GroupEdits) -> Result<()> {
        if edits.puts.is_empty() && edits.deletes.is_empty() {
            return Ok(());
        }
        let mut batch = WriteBatch::default();
        let mut parity = std::mem::take(&mut edits.parity);
        for (cf, key, value) in &edits.puts {
            batch.put_cf(self.cf(cf)?, key, value);
            let tag = match *cf {
                CF_DELTAS => TAG_DELTA,
                _ => TAG_CHUNK,
            };
            if let Some(key) = Blake3::from_slice(key) {
                parity.push(ParityOp::Replace {
                    tag,
                    key,
                    value: value.clone(),
                });
            }
        }
        for (cf, key) in &edits.deletes {
            batch.delete_cf(self.cf(cf)?, key);
        }
        self.tag_local_values(&mut batch, &edits.puts)?;
        let mut sync = WriteOptions::default();
        sync.set_sync(true);
        self.write_with_parity(batch, parity, &sync)
    }

    /// Flushes and compacts every column family, so that replaced values leave the disk.
    pub fn compact_all(&self) -> Result<()> {
        for name in crate::format::ALL_CFS {
            let Ok(cf) = self.cf(name) else { continue };
            self.db.flush_cf(cf).map_err(|e| self.db_err(e))?;
            let mut options = rocksdb::CompactOptions::default();
            options.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
            self.db
                .compact_range_cf_opt(cf, None::<&[u8]>, None::<&[u8]>, &options);
        }
        Ok(())
    }

    /// Adds to `edits` the smaller re-encodings of one snapshot's values (and spares).
    fn repack_snapshot(&self, key: Blake3, level: i32, edits: &mut GroupEdits) -> Result<()> {
        let (manifest, _) = self.manifest_required(key)?;
        match &manifest.layout {
            Layout::Delta { base, .. } => {
                let base_manifest = self.manifest(*base)?.ok_or(StoreError::ManifestCorrupt {
                    snapshot: *base,
                    reason: format!("is missing (snapshot blake3:{key} is a delta on it)"),
                })?;
                // Both verified against their keys (materialize checks every level).
                let base_bytes = self.materialize(*base, base_manifest)?;
                let own = self.materialize(key, manifest.clone())?;
                // A parity group keeps the value as stored, whatever its codec.
                let primary = self.reencode_delta(key, &manifest, &base_bytes, &own, level)?;
                let Some(old) = self
                    .db
                    .get_cf(self.cf(CF_DELTAS)?, key.as_bytes())
                    .map_err(|e| self.db_err(e))?
                else {
                    return Ok(());
                };
                edits.before += old.len() as u64;
                let kept = if primary.len() < old.len() {
                    edits.after += primary.len() as u64;
                    edits.deltas += 1;
                    edits
                        .puts
                        .push((CF_DELTAS, key.as_bytes().to_vec(), primary.clone()));
                    Some(primary)
                } else {
                    edits.after += old.len() as u64;
                    // The old value itself must rebuild the verified bytes to be insured.
                    let lower = [base_bytes];
                    match self.decode_delta_value_checked(key, &manifest, &lower, &old) {
                        true => Some(old),
                        false => None,
                    }
                };
                self.fold_spare_copy(TAG_DELTA, key, kept, edits)?;
            }
            Layout::Chunked { .. } => self.repack_chunks(key, &manifest, level, edits)?,
        }
        Ok(())
    }

    /// Re-encodes the chunks of a chunked snapshot, each checked first (a full spare copy of
    /// one is folded into a parity group).
    fn repack_chunks(
        &self,
        key: Blake3,
        manifest: &Manifest,
        level: i32,
        edits: &mut GroupEdits,
    ) -> Result<()> {
        for (index, chunk) in manifest.chunks().iter().enumerate() {
            let raw_len = manifest.chunk_len(index);
            let Some(old) = self
                .db
                .get_cf(self.cf(CF_CHUNKS)?, chunk.as_bytes())
                .map_err(|e| self.db_err(e))?
            else {
                continue;
            };
            // A damaged primary is reported (its spare copy, if any, stays).
            let new = reencode_chunk(key, index, *chunk, raw_len, &old, level)?;
            edits.before += old.len() as u64;
            let kept = if new.len() < old.len() {
                edits.after += new.len() as u64;
                edits.chunks += 1;
                edits
                    .puts
                    .push((CF_CHUNKS, chunk.as_bytes().to_vec(), new.clone()));
                new
            } else {
                edits.after += old.len() as u64;
                old
            };
            self.fold_spare_copy(TAG_CHUNK, *chunk, Some(kept), edits)?;
        }
        Ok(())
    }

    /// When value `key` (kind `tag`) has a full spare copy (archives written before parity
    /// groups), adds its verified value as stored after this batch, `kept`, to a parity group
    /// and deletes the copy in the same batch. Without a verified value the copy stays.
    fn fold_spare_copy(
        &self,
        tag: u8,
        key: Blake3,
        kept: Option<Vec<u8>>,
        edits: &mut GroupEdits,
    ) -> Result<()> {
        let cf = spare_cf(tag);
        let copy_key = spare_key(tag, key);
        let Some(copy) = self.db.get_pinned_cf(self.cf(cf)?, copy_key).ok().flatten() else {
            return Ok(());
        };
        let Some(value) = kept else {
            return Ok(());
        };
        if edits.deletes.iter().any(|(_, k)| k[..] == copy_key[..]) {
            return Ok(());
        }
        edits.before += copy.len() as u64;
        edits.spares += 1;
        edits.deletes.push((cf, copy_key.to_vec()));
        edits.parity.push(ParityOp::Add { tag, key, value });
        Ok(())
    }
}

impl Store {
    /// A delta value of `own` at `level`: a path delta when its read path has two ancestors or
    /// more, else a delta on its base; decoded again and checked equal to `own`.
    pub(crate) fn reencode_delta(
        &self,
        key: Blake3,
        manifest: &Manifest,
        base: &[u8],
        own: &[u8],
        level: i32,
    ) -> Result<Vec<u8>> {
        let len = own.len();
        let k = self.path_length(manifest)?;
        let (new, back) = if k >= 2 {
            let ancestors = self.path_ancestors(manifest, k, &[])?;
            let new = crate::pathdelta::compress(&ancestors, own, level)?;
            let back = crate::pathdelta::decompress(&ancestors, &new, len);
            (new, back)
        } else {
            let new = crate::delta::compress_at(base, own, level)?;
            let back = crate::delta::decompress(base, &new, len);
            (new, back)
        };
        let problem = match back {
            Ok(back) if back == own => return Ok(new),
            Ok(_) => "decodes to other bytes".to_owned(),
            Err(reason) => reason,
        };
        Err(StoreError::io(
            "repacking",
            std::io::Error::other(format!("a level-{level} delta of blake3:{key} {problem}")),
        ))
    }
}

/// The chunk value `old` (chunk `index` of snapshot `key`, `raw_len` bytes) at `level`, after
/// checking that `old` decodes to the chunk's bytes; decoded again and checked equal to them.
pub(crate) fn reencode_chunk(
    key: Blake3,
    index: usize,
    chunk: Blake3,
    raw_len: usize,
    old: &[u8],
    level: i32,
) -> Result<Vec<u8>> {
    let corrupt = |reason: String| StoreError::ChunkCorrupt {
        snapshot: key,
        index: u32::try_from(index).unwrap_or(u32::MAX),
        chunk,
        reason,
    };
    let raw = decode_chunk(old, raw_len).map_err(corrupt)?;
    let actual = Blake3::of(&raw);
    if actual != chunk {
        return Err(corrupt(format!("hashes to blake3:{actual}")));
    }
    let new = encode_chunk(&raw, level).map_err(|e| StoreError::io("compressing a chunk", e))?;
    if decode_chunk(&new, raw_len).map_err(corrupt)? != raw {
        return Err(corrupt(format!(
            "a level-{level} re-encoding decodes to other bytes"
        )));
    }
    Ok(new)
}

/// RocksDB options of the `records` column family's bottommost level while a repack compacts
/// it: zstd level 19 with a dictionary trained on the settled records (docs/benchmarks.md,
/// "Repack: snapshot groups"; measured −29% on the corpus' records). Files written later (new
/// records) use the usual options again.
const SETTLED_RECORDS: [(&str, &str); 2] = [
    ("bottommost_compression", "kZSTD"),
    (
        "bottommost_compression_opts",
        "{level=19;max_dict_bytes=65536;zstd_max_train_bytes=6553600;enabled=true}",
    ),
];

impl Store {
    /// Makes the final compaction of a repack write the settled records at zstd level 19 with a
    /// trained dictionary. Only sizes depend on it: when RocksDB refuses the options, the
    /// records are compacted as usual.
    pub(crate) fn settle_records(&self) {
        if let Ok(cf) = self.cf(crate::format::CF_RECORDS) {
            let _ = self.db.set_options_cf(cf, &SETTLED_RECORDS);
        }
    }

    /// Back to the usual options for what is written after the repack.
    pub(crate) fn unsettle_records(&self) {
        if let Ok(cf) = self.cf(crate::format::CF_RECORDS) {
            let _ = self.db.set_options_cf(
                cf,
                &[("bottommost_compression", "kDisableCompressionOption")],
            );
        }
    }
}
