//! `evarc-bench space`: where an archive's bytes are (table files per column family, stored
//! values by kind, and the other files of its directory), read-only.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

#[derive(clap::Args)]
pub struct SpaceArgs {
    /// The archive directory.
    pub archive: PathBuf,
    /// Also compress the `records` column family's entries (key order) in blocks of several
    /// sizes at several zstd levels, as its table blocks would be: bytes and CPU time.
    #[arg(long)]
    pub records_trial: bool,
    /// Also split the snapshot values into the captures' and the version texts' (the snapshots
    /// `vsnap/` records name), read from the table files directly.
    #[arg(long)]
    pub texts: bool,
}

pub fn run(args: SpaceArgs) -> Result<()> {
    let store = evarc_store::Store::open(&args.archive, evarc_store::OpenMode::ReadOnly)
        .with_context(|| format!("opening {}", args.archive.display()))?;
    let report = store.space()?;
    println!("{:<28} {:>12}", "column family", "table bytes");
    for (cf, bytes) in &report.table_bytes {
        println!("{cf:<28} {bytes:>12}");
    }
    println!("{:<28} {:>12}", "all table files", report.table_total());
    println!();
    println!(
        "{:<28} {:>8} {:>12}",
        "values (before compression)", "count", "bytes"
    );
    for (kind, (count, bytes)) in &report.values {
        println!("{kind:<28} {count:>8} {bytes:>12}");
    }
    println!();
    println!("{:<28} {:>12}", "other files", "bytes");
    let mut entries: Vec<_> = std::fs::read_dir(&args.archive)?
        .filter_map(std::result::Result::ok)
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    let mut other = 0u64;
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".sst") {
            continue;
        }
        let len = entry.metadata()?.len();
        other += len;
        println!("{name:<28} {len:>12}");
    }
    println!("{:<28} {other:>12}", "all other files");
    if args.records_trial {
        records_trial(&store)?;
    }
    if args.texts {
        let texts: Vec<Vec<u8>> = store
            .records_with_prefix(b"vsnap/")?
            .into_iter()
            .map(|(_, value)| value)
            .collect();
        drop(store);
        texts_split(&args.archive, &texts)?;
    }
    Ok(())
}

/// Primary value bytes (deltas, or the chunks of chunked ones) of the version-text snapshots.
fn texts_split(archive: &std::path::Path, texts: &[Vec<u8>]) -> Result<()> {
    let cfs = [
        "default",
        "meta",
        "snapshots",
        "sha256",
        "chunks",
        "records",
        "deltas",
    ];
    let db = rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), archive, cfs, false)
        .with_context(|| format!("opening {} read-only", archive.display()))?;
    let cf = |name| db.cf_handle(name).context("a column family is missing");
    let (mut deltas, mut delta_bytes, mut chunked, mut chunk_bytes) = (0u64, 0u64, 0u64, 0u64);
    for key in texts {
        if let Some(value) = db.get_cf(cf("deltas")?, key)? {
            deltas += 1;
            delta_bytes += value.len() as u64;
            continue;
        }
        // A chunked manifest (docs/format.md): 50 bytes, then the chunks' BLAKE3 keys.
        let Some(manifest) = db.get_cf(cf("snapshots")?, key)? else {
            continue;
        };
        chunked += 1;
        for chunk in manifest.get(50..).unwrap_or_default().chunks_exact(32) {
            chunk_bytes += db
                .get_cf(cf("chunks")?, chunk)?
                .map_or(0, |v| v.len() as u64);
        }
    }
    // Every delta by its place in its chain (docs/format.md, "Delta chains"): a branch head
    // (the first version of a document branched off another's keyframe), an anchor (every 8th
    // position, a delta on a Fenwick ancestor) or a member of a run (a delta on the previous
    // version); the version texts apart.
    let text_keys: std::collections::HashSet<&[u8]> = texts.iter().map(Vec::as_slice).collect();
    let mut roles: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for item in db.iterator_cf(cf("deltas")?, rocksdb::IteratorMode::Start) {
        let (key, value) = item?;
        if key.len() != 32 {
            continue;
        }
        let manifest = db.get_cf(cf("snapshots")?, &key)?.unwrap_or_default();
        let position = manifest
            .get(74..82)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes);
        let line = position % (8 << 20);
        let role = match (
            text_keys.contains(&key[..]),
            position >= 8 << 20 && line == 0,
        ) {
            (true, _) => "text deltas",
            (false, true) => "branch heads",
            (false, false) if line % 8 == 0 => "anchors",
            (false, false) => "run members",
        };
        let entry = roles.entry(role).or_default();
        entry.0 += 1;
        entry.1 += value.len() as u64;
    }
    println!();
    println!("deltas by place in their chain");
    for (role, (count, bytes)) in &roles {
        println!("{:<28} {count:>8} {bytes:>12}", format!("  {role}"));
    }
    println!();
    println!("version texts: {} snapshots", texts.len());
    println!("{:<28} {:>8} {:>12}", "  as deltas", deltas, delta_bytes);
    println!("{:<28} {:>8} {:>12}", "  chunked", chunked, chunk_bytes);
    Ok(())
}

/// zstd over the records' entries packed into blocks (key order, entries not split).
fn records_trial(store: &evarc_store::Store) -> Result<()> {
    let records = store.records_with_prefix(b"")?;
    let raw: usize = records.iter().map(|(k, v)| k.len() + v.len()).sum();
    println!();
    println!(
        "records: {} entries, {raw} bytes of keys and values",
        records.len()
    );
    println!(
        "{:>10} {:>6} {:>12} {:>10}",
        "block", "level", "bytes", "cpu ms"
    );
    for block in [16usize << 10, 32 << 10, 64 << 10] {
        for level in [3, 6, 9, 12, 19] {
            let started = std::time::Instant::now();
            let mut total = 0usize;
            let mut buf = Vec::with_capacity(block * 2);
            for (k, v) in &records {
                buf.extend_from_slice(k);
                buf.extend_from_slice(v);
                if buf.len() >= block {
                    total += zstd::bulk::compress(&buf, level)?.len();
                    buf.clear();
                }
            }
            if !buf.is_empty() {
                total += zstd::bulk::compress(&buf, level)?.len();
            }
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            println!("{block:>10} {level:>6} {total:>12} {ms:>10.1}");
        }
    }
    Ok(())
}
