//! `evarc-bench encodings`: tries snapshot encodings on a manifest corpus without an archive.
//!
//! Each document's distinct versions, in capture order, are laid out as the store lays them out
//! (a keyframe, then runs of 8 versions linked by a Fenwick tree: docs/format.md) and compressed
//! with the zstd library the store uses, under several encodings side by side:
//! - `single-L`: each version a zstd frame at level L with its chain base as prefix and
//!   long-distance matching (what the store wrote at level 3 before 2026-12-02, and what
//!   `evarc repack` re-encodes at a higher level); `single-L-hash19`: the same with a hash table
//!   of 2^19 entries instead of long-distance matching (what the store writes at level 3 now);
//! - `path-L`: the prefix is every snapshot on the version's read path (keyframe, Fenwick
//!   ancestors, base), concatenated: the bytes a read rebuilds anyway, so no extra read cost;
//! - `prev-L`: each version against the one before (unbounded read depth; a reference point);
//! - keyframes alone at level L, and per-document solid `zstd --long -10` (no random access).
//!
//! The sizes are sums of frame bytes (what the `deltas` and `chunks` values hold, without
//! RocksDB's per-value overhead).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use serde_json::json;
use zstd::zstd_safe::{CCtx, CParameter};

use crate::corpus::read_manifest;

#[derive(clap::Args)]
pub struct EncodingsArgs {
    /// The corpus manifest (manifest.tsv of ../shared/corpus, unpacked).
    pub manifest: PathBuf,
    /// zstd levels to try, comma-separated.
    #[arg(long, default_value = "3,19", value_delimiter = ',')]
    pub levels: Vec<i32>,
    /// Write the results as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Versions per run, as the store's chains (crates/evarc-store/src/delta.rs).
const RUN: usize = 8;

fn base_position(n: usize) -> usize {
    if !n.is_multiple_of(RUN) {
        n - 1
    } else {
        let q = n / RUN;
        (q - (q & q.wrapping_neg())) * RUN
    }
}

/// The positions a read of `n` rebuilds, keyframe first, `n` excluded.
fn read_path(n: usize) -> Vec<usize> {
    let mut path = Vec::new();
    let mut at = n;
    while at > 0 {
        at = base_position(at);
        path.push(at);
    }
    path.reverse();
    path
}

fn window_log(total: usize) -> u32 {
    let bits = usize::BITS - total.max(1).leading_zeros();
    bits.clamp(10, 27)
}

/// A zstd frame of `data` with `prefix`, at `level`, long matching, a window over both.
fn frame(prefix: &[u8], data: &[u8], level: i32) -> Result<usize> {
    frame_with(prefix, data, level, None)
}

/// [`frame`], or with a hash table of 2^`hash_log` entries instead of long matching (what the
/// store does for deltas of at most 8 MiB below level 10: crates/evarc-store/src/delta.rs).
fn frame_with(prefix: &[u8], data: &[u8], level: i32, hash_log: Option<u32>) -> Result<usize> {
    let mut cctx = CCtx::create();
    let err = |c: usize| anyhow::anyhow!("zstd: {}", zstd::zstd_safe::get_error_name(c));
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .map_err(err)?;
    cctx.set_parameter(CParameter::WindowLog(window_log(prefix.len() + data.len())))
        .map_err(err)?;
    match hash_log {
        Some(bits) => cctx.set_parameter(CParameter::HashLog(bits)),
        None => cctx.set_parameter(CParameter::EnableLongDistanceMatching(true)),
    }
    .map_err(err)?;
    if !prefix.is_empty() {
        cctx.ref_prefix(prefix).map_err(err)?;
    }
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
    cctx.compress2(&mut out, data).map_err(err)?;
    Ok(out.len())
}

pub fn run(args: EncodingsArgs) -> Result<()> {
    let root = args
        .manifest
        .parent()
        .context("the manifest has no directory")?
        .to_owned();
    let captures = read_manifest(&args.manifest)?;
    // Each document's captures in capture order; identical consecutive bytes stored once.
    let mut documents: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
    for c in &captures {
        documents
            .entry((c.entity.clone(), c.document.clone()))
            .or_default()
            .push((c.captured_at.clone(), c.path.clone()));
    }
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    let mut seconds: BTreeMap<String, f64> = BTreeMap::new();
    let mut add = |name: String, bytes: usize, started: Instant| {
        *sizes.entry(name.clone()).or_default() += bytes as u64;
        *seconds.entry(name).or_default() += started.elapsed().as_secs_f64();
    };
    let (mut versions_total, mut raw_total) = (0usize, 0u64);
    for rows in documents.values_mut() {
        rows.sort();
        let mut versions: Vec<Vec<u8>> = Vec::new();
        for (_, path) in rows.iter() {
            let bytes =
                std::fs::read(root.join(path)).with_context(|| format!("reading {path}"))?;
            if !versions.contains(&bytes) {
                raw_total += bytes.len() as u64;
                versions.push(bytes);
            }
        }
        versions_total += versions.len();
        let started = Instant::now();
        let solid: Vec<u8> = versions.concat();
        add("solid-doc-10".into(), frame(&[], &solid, 10)?, started);
        for &level in &args.levels {
            let started = Instant::now();
            add(
                format!("keyframes-{level}"),
                frame(&[], &versions[0], level)?,
                started,
            );
            for n in 1..versions.len() {
                let started = Instant::now();
                let base = &versions[base_position(n)];
                add(
                    format!("single-{level}"),
                    frame(base, &versions[n], level)?,
                    started,
                );
                let started = Instant::now();
                add(
                    format!("single-{level}-hash19"),
                    frame_with(base, &versions[n], level, Some(19))?,
                    started,
                );
                let started = Instant::now();
                let prefix: Vec<u8> = read_path(n)
                    .into_iter()
                    .flat_map(|p| versions[p].iter().copied())
                    .collect();
                add(
                    format!("path-{level}"),
                    frame(&prefix, &versions[n], level)?,
                    started,
                );
                let started = Instant::now();
                add(
                    format!("prev-{level}"),
                    frame(&versions[n - 1], &versions[n], level)?,
                    started,
                );
            }
        }
    }
    println!(
        "{} documents, {versions_total} distinct versions, {raw_total} bytes",
        documents.len()
    );
    println!("{:<16} {:>12} {:>10}", "encoding", "bytes", "seconds");
    for (name, bytes) in &sizes {
        println!("{name:<16} {bytes:>12} {:>10.1}", seconds[name]);
    }
    if let Some(path) = args.json {
        let out = json!({
            "documents": documents.len(),
            "versions": versions_total,
            "raw_bytes": raw_total,
            "bytes": sizes,
            "seconds": seconds,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}
