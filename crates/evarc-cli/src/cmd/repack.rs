//! `evarc repack [--level N]`: re-encode stored snapshots at a higher zstd level, then say where
//! the bytes are before and after (measured now, from the database).

use anyhow::Result;
use evarc_provenance::{OpenMode, RepackOptions, SpaceReport};
use serde_json::json;

use super::thousands;
use crate::cli::{GlobalArgs, RepackArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

use crate::progress;

pub fn run(global: &GlobalArgs, args: RepackArgs, out: &mut Output) -> Result<Outcome> {
    let archive = open(global, OpenMode::ReadWrite)?;
    let before = archive.space()?;
    let bar = progress::items(0, "repacking");
    let started = std::time::Instant::now();
    let report = archive.repack(RepackOptions { level: args.level }, |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    })?;
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let after = archive.space()?;
    out.line(format!(
        "repacked {} snapshots at zstd level {} in {seconds:.1} s: {} deltas, {} chunks and {} spare copies re-encoded smaller",
        thousands(report.snapshots),
        args.level,
        thousands(report.deltas_rewritten),
        thousands(report.chunks_rewritten),
        thousands(report.spares_rewritten),
    ))?;
    out.line(format!(
        "  snapshot values: {} → {} bytes",
        thousands(report.value_bytes_before),
        thousands(report.value_bytes_after)
    ))?;
    out.line(format!(
        "  table files: {} → {} bytes",
        thousands(before.table_total()),
        thousands(after.table_total())
    ))?;
    for (name, bytes) in &after.table_bytes {
        let was = before.table_bytes.get(name).copied().unwrap_or(0);
        out.line(format!(
            "    {name:<10} {:>14} → {:>14}",
            thousands(was),
            thousands(*bytes)
        ))?;
    }
    out.line("  stored values by kind, after (count, bytes before block compression):")?;
    for (kind, (count, bytes)) in &after.values {
        out.line(format!(
            "    {kind:<24} {:>9} {:>14}",
            thousands(*count),
            thousands(*bytes)
        ))?;
    }
    if let Some(url) = &report.bucket {
        out.line(format!(
            "  {} new objects in {url}; the objects they replace are unreferenced: `evarc gc` lists them, `evarc gc --delete` removes them",
            thousands(report.objects_uploaded)
        ))?;
    }
    for (key, err) in &report.damaged {
        out.line(format!("✗ blake3:{key} left as it was: {err}"))?;
    }
    out.value(&json!({
        "snapshots": report.snapshots,
        "level": args.level,
        "seconds": seconds,
        "deltas_rewritten": report.deltas_rewritten,
        "chunks_rewritten": report.chunks_rewritten,
        "spares_rewritten": report.spares_rewritten,
        "value_bytes_before": report.value_bytes_before,
        "value_bytes_after": report.value_bytes_after,
        "bucket": report.bucket,
        "objects_uploaded": report.objects_uploaded,
        "before": space_json(&before),
        "after": space_json(&after),
        "damaged": report.damaged.iter().map(|(key, err)| json!({"blake3": key.to_hex(), "error": err.to_string()})).collect::<Vec<_>>(),
    }))?;
    Ok(Outcome::verified_unless(!report.damaged.is_empty()))
}

fn space_json(space: &SpaceReport) -> serde_json::Value {
    json!({
        "table_bytes": space.table_bytes,
        "table_total": space.table_total(),
        "values": space.values.iter().map(|(kind, (count, bytes))| (kind.clone(), json!({"count": count, "bytes": bytes}))).collect::<serde_json::Map<_, _>>(),
    })
}
