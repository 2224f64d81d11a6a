//! Delta compression: a snapshot stored as a zstd frame that uses an earlier snapshot as prefix.
//!
//! Chains are runs of [`RUN`] versions linked by a Fenwick (binary-indexed) skip structure, so
//! that reads stay short while most deltas are taken against the previous version, where they
//! are smallest. The snapshot at position `n` of a chain (the keyframe is 0) is compressed against
//! position `n - 1` when `n` is not a multiple of `RUN`, else against position
//! `(q - lowbit(q)) · RUN` with `q = n / RUN`. Reaching position `n` applies
//! `n mod RUN + popcount(n / RUN)` deltas: at most 7 + 17 = 24 for a million versions.
//! On the shared corpus this keeps 7.9 MB of deltas where a plain chain (unbounded reads) keeps
//! 6.9 MB and a pure Fenwick tree 8.8 MB (tools/benchmarks, docs/benchmarks.md).

use zstd::zstd_safe::{self, CCtx, CParameter, DCtx, DParameter};

use crate::format::{Layout, Manifest, CODEC_ZSTD_PREFIX, MAX_DEPTH};
use crate::{Blake3, Result, Store, StoreError};

/// zstd level of deltas (with long-distance matching: level 3 was the best size for the time on
/// the corpus; levels 4 to 7 saved under 3% at 1.2 to 3.5 times the time).
pub(crate) const DELTA_LEVEL: i32 = 3;

/// Versions per run of a chain: see the module documentation.
pub(crate) const RUN: u64 = 8;

/// The position of a snapshot that starts a branch off a chain's keyframe (a new line of
/// versions, e.g. another document of the same publisher): aligned so that the next `RUN · 2^20`
/// versions of the branch find all their bases within it.
pub(crate) const BRANCH_POSITION: u64 = RUN << 20;

/// The chain position a snapshot at position `n` is compressed against.
pub(crate) fn base_position(n: u64) -> u64 {
    if !n.is_multiple_of(RUN) {
        n - 1
    } else {
        let q = n / RUN;
        (q - (q & q.wrapping_neg())) * RUN
    }
}

/// An earlier snapshot that a new one is likely close to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseHint {
    /// The new snapshot is the next version after this one (e.g. the previous capture of the
    /// same document): it joins this snapshot's chain.
    After(Blake3),
    /// The new snapshot starts a line of versions of its own that resembles this one (e.g. the
    /// first capture of another document of the same publisher): it branches off the keyframe
    /// of this snapshot's chain.
    BranchFrom(Blake3),
}

/// Where a new snapshot goes in the chain of the base it was hinted to follow.
pub(crate) struct ChainSlot {
    pub base: Blake3,
    pub index: u64,
    pub depth: u32,
}

impl Store {
    /// Chooses the base for a snapshot that follows `hint`: the ancestor of `hint` at
    /// [`base_position`]`(n)`, where `n` is one past `hint`'s position (always an ancestor). `None` when the hint cannot serve
    /// (absent, too large, damaged or its chain too deep): the snapshot is then stored whole.
    pub(crate) fn chain_slot(&self, hint: BaseHint) -> Result<Option<ChainSlot>> {
        let hint = match hint {
            BaseHint::After(hint) => hint,
            BaseHint::BranchFrom(hint) => return self.branch_slot(hint),
        };
        let Some(manifest) = self.manifest(hint)? else {
            return Ok(None);
        };
        if manifest.len > crate::format::DELTA_MAX as u64 {
            return Ok(None);
        }
        let (hint_index, _) = manifest.chain_position();
        let index = hint_index + 1;
        let target = base_position(index);
        let (mut key, mut current) = (hint, manifest);
        loop {
            let (position, depth) = current.chain_position();
            if position <= target {
                if depth + 1 > MAX_DEPTH {
                    return Ok(None);
                }
                return Ok(Some(ChainSlot {
                    base: key,
                    index,
                    depth: depth + 1,
                }));
            }
            let Layout::Delta { base, .. } = current.layout else {
                return Ok(None);
            };
            key = base;
            current = match self.manifest(key)? {
                Some(m) => m,
                None => return Ok(None),
            };
        }
    }
}

impl Store {
    /// A branch starts off the keyframe of `hint`'s chain, at depth 1.
    fn branch_slot(&self, hint: Blake3) -> Result<Option<ChainSlot>> {
        let mut key = hint;
        for _ in 0..=MAX_DEPTH {
            let Some(manifest) = self.manifest(key)? else {
                return Ok(None);
            };
            match manifest.layout {
                Layout::Delta { base, .. } => key = base,
                Layout::Chunked { .. } if manifest.len <= crate::format::DELTA_MAX as u64 => {
                    return Ok(Some(ChainSlot {
                        base: key,
                        index: BRANCH_POSITION,
                        depth: 1,
                    }))
                }
                Layout::Chunked { .. } => return Ok(None),
            }
        }
        Ok(None)
    }
}

/// Below this level, a base and version of at most [`FAST_DELTA_MAX`] bytes together are
/// compressed with a larger hash table instead of long-distance matching.
const LDM_FROM_LEVEL: i32 = 10;
/// The most bytes (base and version together) compressed without long-distance matching.
const FAST_DELTA_MAX: usize = 8 << 20;
/// The hash table of those deltas: 2^19 entries (zstd's level 3 uses 2^17).
const FAST_DELTA_HASH_LOG: u32 = 19;

/// Compresses `data` against `base`; the value written to the `deltas` column family.
pub(crate) fn compress(base: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    compress_at(base, data, DELTA_LEVEL)
}

/// [`compress`] at another zstd level (spare copies, written once: issue 16).
pub(crate) fn compress_at(base: &[u8], data: &[u8], level: i32) -> Result<Vec<u8>> {
    let zstd_err = |what: &str, code: usize| {
        StoreError::io(
            format!("delta compression ({what})"),
            std::io::Error::other(zstd_safe::get_error_name(code)),
        )
    };
    let mut cctx = CCtx::create();
    let window_log = window_log(base.len() + data.len());
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .map_err(|c| zstd_err("level", c))?;
    cctx.set_parameter(CParameter::WindowLog(window_log))
        .map_err(|c| zstd_err("window", c))?;
    if level < LDM_FROM_LEVEL && base.len() + data.len() <= FAST_DELTA_MAX {
        // A version is mostly its base at the same place: one table of 2^19 positions finds
        // those matches as well as long-distance matching does, at half the CPU
        // (docs/benchmarks.md, "Delta parameters").
        cctx.set_parameter(CParameter::HashLog(FAST_DELTA_HASH_LOG))
            .map_err(|c| zstd_err("hash log", c))?;
    } else {
        cctx.set_parameter(CParameter::EnableLongDistanceMatching(true))
            .map_err(|c| zstd_err("long distance matching", c))?;
    }
    cctx.set_parameter(CParameter::ContentSizeFlag(true))
        .map_err(|c| zstd_err("content size", c))?;
    cctx.ref_prefix(base).map_err(|c| zstd_err("prefix", c))?;
    let mut out = Vec::with_capacity(1 + zstd_safe::compress_bound(data.len()));
    out.push(CODEC_ZSTD_PREFIX);
    let mut frame = Vec::with_capacity(zstd_safe::compress_bound(data.len()));
    cctx.compress2(&mut frame, data)
        .map_err(|c| zstd_err("compress", c))?;
    out.extend_from_slice(&frame);
    Ok(out)
}

/// Decompresses a delta value made by [`compress`] against `base`, expecting `len` bytes.
pub(crate) fn decompress(base: &[u8], value: &[u8], len: usize) -> Result<Vec<u8>, String> {
    let (codec, frame) = value
        .split_first()
        .ok_or_else(|| "is empty (no codec byte)".to_string())?;
    if *codec != CODEC_ZSTD_PREFIX {
        return Err(format!("has unknown delta codec byte {codec}"));
    }
    let mut dctx = DCtx::create();
    dctx.set_parameter(DParameter::WindowLogMax(window_log(
        crate::format::DELTA_MAX * 2,
    )))
    .map_err(|c| format!("cannot be decoded: {}", zstd_safe::get_error_name(c)))?;
    dctx.ref_prefix(base)
        .map_err(|c| format!("cannot be decoded: {}", zstd_safe::get_error_name(c)))?;
    let mut out = Vec::with_capacity(len);
    dctx.decompress(&mut out, frame)
        .map_err(|c| format!("does not decompress: {}", zstd_safe::get_error_name(c)))?;
    if out.len() != len {
        return Err(format!(
            "holds {} bytes, but {len} were recorded",
            out.len()
        ));
    }
    Ok(out)
}

/// A window covering base and data, as zstd's `--patch-from` chooses.
fn window_log(total: usize) -> u32 {
    let bits = usize::BITS - total.max(1).leading_zeros();
    bits.clamp(10, 27)
}

/// The manifest of a delta snapshot.
pub(crate) fn manifest(info: &crate::SnapshotInfo, slot: &ChainSlot) -> Manifest {
    Manifest {
        sha256: info.sha256,
        len: info.len,
        layout: Layout::Delta {
            base: slot.base,
            index: slot.index,
            depth: slot.depth,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_round_trips_and_is_small() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let base: Vec<u8> = (0..800_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        let mut data = base.clone();
        data[1000] ^= 1;
        data.extend_from_slice(b"appended");
        let value = compress(&base, &data).expect("compress");
        assert!(
            value.len() < 2000,
            "delta of a small change is small: {}",
            value.len()
        );
        assert_eq!(
            decompress(&base, &value, data.len()).expect("decompress"),
            data
        );
        assert!(decompress(&base[1..], &value, data.len()).map_or(true, |d| d != data));
        assert!(decompress(&base, &value, data.len() + 1).is_err());
    }

    #[test]
    fn deltas_on_either_side_of_the_fast_bound_round_trip_small() {
        // A version repeating its base far from where the base has it (4 MiB apart) is found
        // by long-distance matching above the bound and by the hash table below it.
        for half in [FAST_DELTA_MAX / 4, FAST_DELTA_MAX / 2 + 4096] {
            let mut seed = 7u64;
            let base: Vec<u8> = (0..half)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (seed >> 56) as u8
                })
                .collect();
            let mut data = base[half / 2..].to_vec();
            data.extend_from_slice(b"a new clause");
            data.extend_from_slice(&base[..half / 2]);
            let value = compress(&base, &data).expect("compress");
            assert!(
                value.len() < 16 << 10,
                "{} + {} bytes: a delta of {}",
                base.len(),
                data.len(),
                value.len()
            );
            assert_eq!(
                decompress(&base, &value, data.len()).expect("decompress"),
                data
            );
        }
    }

    #[test]
    fn base_positions_form_short_chains() {
        assert_eq!(base_position(1), 0);
        assert_eq!(base_position(7), 6);
        assert_eq!(base_position(8), 0);
        assert_eq!(base_position(16), 0);
        assert_eq!(base_position(24), 16);
        assert_eq!(base_position(25), 24);
        // Depth of every position up to 2^20 stays within RUN - 1 + 20.
        let mut depth = vec![0u32; 1 << 20];
        for n in 1..depth.len() {
            depth[n] = depth[base_position(n as u64) as usize] + 1;
            assert!(depth[n] <= 7 + 20, "position {n} at depth {}", depth[n]);
        }
        // The base of n is an ancestor of n - 1, so hints can be followed down to it.
        for n in 2..5000u64 {
            let target = base_position(n);
            let mut at = n - 1;
            while at > target {
                at = base_position(at);
            }
            assert_eq!(at, target, "position {n}");
        }
    }

    #[test]
    fn window_log_is_bounded() {
        assert_eq!(window_log(0), 10);
        assert_eq!(window_log(1 << 20), 21);
        assert_eq!(window_log(usize::MAX), 27);
    }
}
