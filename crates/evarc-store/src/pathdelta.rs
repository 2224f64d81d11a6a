//! Path deltas (codec `3`, written by a repack: issue 14): a delta snapshot compressed with the
//! snapshots on its own read path as prefix, not only its base.
//!
//! Reading a delta snapshot rebuilds every snapshot between its chain's keyframe and its base
//! anyway. A path delta gives zstd the nearest `k` of them, concatenated oldest first and ending
//! with the base, as its prefix, so a version can copy text from any of them (a paragraph that
//! came back, a banner that alternates) at no extra read cost: the read depth is the same. On the
//! corpus this halves the deltas at the same level (docs/benchmarks.md, "Repack").
//!
//! Value: `3` ‖ `k` (u8, 1 to 255) ‖ a zstd frame made with long-distance matching and a window
//! covering prefix and snapshot. The prefix never exceeds [`PATH_PREFIX_MAX`] bytes.

use std::sync::Arc;

use zstd::zstd_safe::{self, CCtx, CParameter, DCtx, DParameter};

use crate::format::{Layout, Manifest, CODEC_ZSTD_PATH, MAX_DEPTH};
use crate::{Blake3, Result, Store, StoreError};

/// The largest prefix of a path delta (with a snapshot of at most 32 MiB, the window stays
/// within zstd's 2^27 bytes).
pub(crate) const PATH_PREFIX_MAX: usize = 64 << 20;

/// Ancestors a repack gives a path delta at most: on the corpus, 4 (the base and the three below
/// it) kept all of the gain of the whole read path (39.5 kB against 39.7 kB for 59 versions of a
/// page, 75.6 kB with the base alone, zstd 19), at a quarter of the prefix to assemble per read.
pub(crate) const PATH_ANCESTORS: usize = 4;

/// The largest prefix a repack gives a path delta: a read decodes every level of a chain with
/// its prefix, and prefixes beyond the processor's cache made reads of the two largest pages of
/// the corpus (1.5 and 2.2 MB, four ancestors: 6 to 9 MB) twice as slow as before the repack
/// (docs/benchmarks.md, "Repack: read p99"). Reads accept up to [`PATH_PREFIX_MAX`].
pub(crate) const PATH_PREFIX_WRITTEN_MAX: usize = 4 << 20;

/// Window log of path deltas: prefix and snapshot together.
const PATH_WINDOW_LOG_MAX: u32 = 27;

fn window_log(total: usize) -> u32 {
    let bits = usize::BITS - total.max(1).leading_zeros();
    bits.clamp(10, PATH_WINDOW_LOG_MAX)
}

/// How many ancestors a stored path delta uses, or `None` when the value is not a path delta.
pub(crate) fn ancestors_used(value: &[u8]) -> Option<usize> {
    match value {
        [CODEC_ZSTD_PATH, k, ..] if *k > 0 => Some(usize::from(*k)),
        _ => None,
    }
}

/// Compresses `data` with `ancestors` (oldest first, the base last) as prefix, at `level`.
pub(crate) fn compress(ancestors: &[Arc<Vec<u8>>], data: &[u8], level: i32) -> Result<Vec<u8>> {
    let zstd_err = |what: &str, code: usize| {
        StoreError::io(
            format!("path delta compression ({what})"),
            std::io::Error::other(zstd_safe::get_error_name(code)),
        )
    };
    let k = u8::try_from(ancestors.len())
        .ok()
        .filter(|k| *k > 0)
        .ok_or_else(|| {
            StoreError::io(
                "path delta compression",
                std::io::Error::other(format!("{} ancestors (1 to 255)", ancestors.len())),
            )
        })?;
    let prefix = ancestors
        .iter()
        .map(|a| a.as_slice())
        .collect::<Vec<_>>()
        .concat();
    let mut cctx = CCtx::create();
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .map_err(|c| zstd_err("level", c))?;
    cctx.set_parameter(CParameter::WindowLog(window_log(prefix.len() + data.len())))
        .map_err(|c| zstd_err("window", c))?;
    cctx.set_parameter(CParameter::EnableLongDistanceMatching(true))
        .map_err(|c| zstd_err("long distance matching", c))?;
    cctx.set_parameter(CParameter::ContentSizeFlag(true))
        .map_err(|c| zstd_err("content size", c))?;
    cctx.ref_prefix(&prefix)
        .map_err(|c| zstd_err("prefix", c))?;
    let mut frame = Vec::with_capacity(zstd_safe::compress_bound(data.len()));
    cctx.compress2(&mut frame, data)
        .map_err(|c| zstd_err("compress", c))?;
    let mut out = Vec::with_capacity(2 + frame.len());
    out.push(CODEC_ZSTD_PATH);
    out.push(k);
    out.extend_from_slice(&frame);
    Ok(out)
}

/// Decompresses a path delta given its ancestors (oldest first, the base last), expecting `len`
/// bytes.
pub(crate) fn decompress(
    ancestors: &[Arc<Vec<u8>>],
    value: &[u8],
    len: usize,
) -> Result<Vec<u8>, String> {
    let k = ancestors_used(value).ok_or_else(|| "is not a path delta".to_string())?;
    if ancestors.len() != k {
        return Err(format!(
            "needs {k} ancestors on its read path, {} found",
            ancestors.len()
        ));
    }
    let prefix = ancestors
        .iter()
        .map(|a| a.as_slice())
        .collect::<Vec<_>>()
        .concat();
    decompress_with_prefix(&prefix, value, len)
}

/// Decompresses a path delta whose `k` ancestors (its codec bytes say how many) are given laid
/// end to end in `prefix`, oldest first, the base last.
pub(crate) fn decompress_with_prefix(
    prefix: &[u8],
    value: &[u8],
    len: usize,
) -> Result<Vec<u8>, String> {
    if ancestors_used(value).is_none() {
        return Err("is not a path delta".to_string());
    }
    let mut dctx = DCtx::create();
    dctx.set_parameter(DParameter::WindowLogMax(PATH_WINDOW_LOG_MAX))
        .map_err(|c| format!("cannot be decoded: {}", zstd_safe::get_error_name(c)))?;
    dctx.ref_prefix(prefix)
        .map_err(|c| format!("cannot be decoded: {}", zstd_safe::get_error_name(c)))?;
    let mut out = Vec::with_capacity(len);
    dctx.decompress(&mut out, &value[2..])
        .map_err(|c| format!("does not decompress: {}", zstd_safe::get_error_name(c)))?;
    if out.len() != len {
        return Err(format!(
            "holds {} bytes, but {len} were recorded",
            out.len()
        ));
    }
    Ok(out)
}

impl Store {
    /// The ancestors of a delta snapshot on its read path, nearest (its base) first, at most
    /// `limit` of them.
    pub(crate) fn path_keys(
        &self,
        manifest: &Manifest,
        limit: usize,
    ) -> Result<Vec<(Blake3, Manifest)>> {
        let mut keys = Vec::new();
        let mut current = manifest.clone();
        while keys.len() < limit.min(MAX_DEPTH as usize + 1) {
            let Layout::Delta { base, .. } = current.layout else {
                break;
            };
            let next = self.manifest(base)?.ok_or(StoreError::ManifestCorrupt {
                snapshot: base,
                reason: "is missing (a delta on its read path is built on it)".into(),
            })?;
            keys.push((base, next.clone()));
            current = next;
        }
        Ok(keys)
    }

    /// How many ancestors a path delta of a snapshot with this manifest would use: the nearest
    /// [`PATH_ANCESTORS`] on its read path, while their bytes stay within [`PATH_PREFIX_WRITTEN_MAX`].
    pub(crate) fn path_length(&self, manifest: &Manifest) -> Result<usize> {
        let mut total = 0usize;
        let mut k = 0;
        for (_, m) in self.path_keys(manifest, PATH_ANCESTORS)? {
            total = total.saturating_add(usize::try_from(m.len).unwrap_or(usize::MAX));
            if total > PATH_PREFIX_WRITTEN_MAX {
                break;
            }
            k += 1;
        }
        Ok(k)
    }

    /// The `k` nearest ancestors of a delta snapshot on its read path, oldest first, its base
    /// last: taken from `lower` (the levels just rebuilt below it, bottom first, the base last)
    /// when it holds them, else rebuilt (verified, usually from the cache).
    pub(crate) fn path_ancestors(
        &self,
        manifest: &Manifest,
        k: usize,
        lower: &[Arc<Vec<u8>>],
    ) -> Result<Vec<Arc<Vec<u8>>>> {
        if k <= lower.len() {
            return Ok(lower[lower.len() - k..].to_vec());
        }
        let keys = self.path_keys(manifest, k)?;
        if keys.len() != k {
            return Err(StoreError::DeltaCorrupt {
                snapshot: keys.first().map_or(Blake3([0; 32]), |(key, _)| *key),
                reason: format!(
                    "a path delta built on it needs {k} ancestors, its read path has {}",
                    keys.len()
                ),
            });
        }
        // Oldest first: each one rebuilt finds the one below it in the cache.
        let mut out = Vec::with_capacity(k);
        for (key, manifest) in keys.into_iter().rev() {
            out.push(self.materialize(key, manifest)?);
        }
        Ok(out)
    }
}
