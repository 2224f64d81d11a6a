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
