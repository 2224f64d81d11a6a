//! Spare copies of the few snapshots many others are built on (issue 16: bounded blast radius).
//!
//! A delta snapshot can only be rebuilt through its base, so one damaged byte in a keyframe that
//! a whole publisher's documents branch off makes hundreds of snapshots unreadable. When a new
//! snapshot makes an ancestor the base (directly or through other deltas) of at least
//! [`SPARE_DEPENDENTS`] snapshots, that ancestor's manifest is written a second time, in another
//! column family (so in other table files), and its stored value (its delta, or its chunks) joins
//! a parity group (parity.rs, issue 14), in the same write as the new snapshot. Reads fall back
//! to the spare manifest, and to an old full copy of the value or else its parity group, when the
//! primary copy fails.
//!
//! Keys are one tag byte followed by the 32-byte digest, so they never meet the 32-byte keys of
//! the column family that holds them (docs/format.md, "Spare copies"):
//! - `m`‖BLAKE3 of the snapshot → its manifest, in `deltas` (the primary is in `snapshots`);
//! - `d`‖BLAKE3 of the snapshot → its delta value, in `chunks` (primary in `deltas`): written
//!   before issue 14's parity groups only, still read; a repack folds them into parity groups;
//! - `c`‖BLAKE3 of the chunk → its chunk value, in `deltas` (primary in `chunks`): likewise;
//! - `p`‖group number and `q`‖member key: parity groups and their index (parity.rs).

use rocksdb::WriteBatch;

use crate::format::{decode_chunk, Layout, Manifest, CF_CHUNKS, CF_DELTAS, MAX_DEPTH};
use crate::parity::ParityOp;
use crate::{Blake3, Result, Store};

/// An ancestor gets spare copies once this many snapshots are built on it. With runs of 8 and
/// the Fenwick links, an ancestor without spares has at most 31 dependents, so that one damaged
/// value costs at most 32 snapshots (and one damaged block of small values a few of those).
pub const SPARE_DEPENDENTS: u64 = 32;

pub(crate) const TAG_MANIFEST: u8 = b'm';
pub(crate) const TAG_DELTA: u8 = b'd';
pub(crate) const TAG_CHUNK: u8 = b'c';

pub(crate) fn spare_key(tag: u8, key: Blake3) -> [u8; 33] {
    let mut out = [0u8; 33];
    out[0] = tag;
    out[1..].copy_from_slice(key.as_bytes());
    out
}

/// The column family holding spares of a given tag (never the one holding the primary).
pub(crate) fn spare_cf(tag: u8) -> &'static str {
    match tag {
        TAG_DELTA => CF_CHUNKS,
        _ => CF_DELTAS,
    }
}

impl Store {
    /// The spare copy under `tag`‖`key`, if any (`None` also when it cannot be read: the caller
    /// reports the primary's error).
    pub(crate) fn spare(&self, tag: u8, key: Blake3) -> Option<Vec<u8>> {
        let cf = self.db.cf_handle(spare_cf(tag))?;
        self.db.get_cf(cf, spare_key(tag, key)).ok().flatten()
    }

    /// Adds to `batch` spare manifests, and to `parity` the stored values, of the ancestors of
    /// a snapshot placed at `position` on `base` that now have at least [`SPARE_DEPENDENTS`]
    /// snapshots built on them. Returns the bytes of the spare manifests.
    pub(crate) fn add_spares(
        &self,
        batch: &mut WriteBatch,
        parity: &mut Vec<ParityOp>,
        base: Blake3,
        position: u64,
    ) -> Result<u64> {
        let mut added = 0u64;
        let mut key = base;
        for _ in 0..=MAX_DEPTH {
            let Some(manifest) = self.manifest(key)? else {
                break;
            };
            let (at, _) = manifest.chain_position();
            // Positions of one line of versions are contiguous, so every position between an
            // ancestor and the new one is built on the ancestor; a keyframe with a branch off it
            // (position 8·2^20) is the base of whole documents.
            if position.saturating_sub(at) >= SPARE_DEPENDENTS
                && self.spare(TAG_MANIFEST, key).is_none()
            {
                added += self.spare_snapshot(batch, parity, key, &manifest)?;
            }
            match manifest.layout {
                Layout::Delta { base, .. } => key = base,
                Layout::Chunked { .. } => break,
            }
        }
        Ok(added)
    }

    /// Writes the spare manifest of one snapshot and adds its stored values (each once its
    /// bytes verify) to `parity`; returns the manifest's bytes.
    fn spare_snapshot(
        &self,
        batch: &mut WriteBatch,
        parity: &mut Vec<ParityOp>,
        key: Blake3,
        manifest: &Manifest,
    ) -> Result<u64> {
        let encoded = manifest.encode();
        let bytes = encoded.len() as u64;
        batch.put_cf(
            self.cf(spare_cf(TAG_MANIFEST))?,
            spare_key(TAG_MANIFEST, key),
            encoded,
        );
        match &manifest.layout {
            Layout::Delta { .. } => {
                // The value as stored, whatever its codec (a parity group rebuilds the stored
                // value, which is then decoded as any other), once the snapshot's bytes verify
                // (the chain was just rebuilt to store the new snapshot: they are in the
                // cache). A damaged primary is not insured (the scrub reports it).
                if self.materialize(key, manifest.clone()).is_err() {
                    return Ok(bytes);
                }
                if let Some(value) = self
                    .db
                    .get_cf(self.cf(CF_DELTAS)?, key.as_bytes())
                    .map_err(|e| self.db_err(e))?
                {
                    parity.push(ParityOp::Add {
                        tag: TAG_DELTA,
                        key,
                        value,
                    });
                }
            }
            Layout::Chunked { chunks, .. } => {
                for (index, chunk) in chunks.iter().enumerate() {
                    let Some(value) = self
                        .db
                        .get_cf(self.cf(CF_CHUNKS)?, chunk.as_bytes())
                        .map_err(|e| self.db_err(e))?
                    else {
                        continue;
                    };
                    // Insured as stored once it checks (a damaged primary is not; the scrub
                    // reports it).
                    match decode_chunk(&value, manifest.chunk_len(index)) {
                        Ok(raw) if Blake3::of(&raw) == *chunk => {}
                        _ => continue,
                    }
                    parity.push(ParityOp::Add {
                        tag: TAG_CHUNK,
                        key: *chunk,
                        value,
                    });
                }
            }
        }
        Ok(bytes)
    }
}
