//! `evarc restore`, `replicate`, `repair` and `gc`: an archive and an S3 bucket (issue 14).
//! The rules are the store's; this renders what it reports.

use anyhow::{Context as _, Result};
use evarc_provenance::{Archive, BlobsConfig, OpenMode};

use crate::cli::{BucketArgs, GcArgs, GlobalArgs, RestoreArgs};
use crate::context;
use crate::exit::Outcome;
use crate::output::Output;

/// The bucket of a command line: the URL, with `--endpoint` when given.
pub fn bucket_config(url: &str, endpoint: Option<&str>) -> Result<BlobsConfig> {
    let config = BlobsConfig::parse(url)?;
    Ok(match endpoint {
        Some(endpoint) => config.with_endpoint(endpoint),
        None => config,
    }
    .record_environment())
}

pub fn restore(_global: &GlobalArgs, args: RestoreArgs, out: &mut Output) -> Result<Outcome> {
    let config = bucket_config(&args.url, args.endpoint.as_deref())?;
    // The key file is read first: a missing file refuses the restore before anything is made.
    let key_text = match &args.signing_key {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the signing key {}", path.display()))?,
        ),
        None => None,
    };
    let (archive, report) = Archive::restore(&config, &args.path)?;
    let key_installed = key_text.is_some();
    if let Some(text) = key_text {
        archive.install_signing_key(&text)?;
    }
    drop(archive);
    out.line(format!(
        "Restored {} from {}: {} record segment{}, {} entr{}, {} snapshot{}",
        args.path.display(),
        report.url,
        report.segments,
        plural(report.segments),
        report.entries,
        if report.entries == 1 { "y" } else { "ies" },
        report.snapshots,
        plural(report.snapshots),
    ))?;
    if !key_installed {
        out.line(format!(
            "! no signing key handed in (--signing-key FILE): the archive verifies and cites, but new checkpoints cannot be signed until the original archive's tlog-signing-key is copied to {} (mode 600)",
            args.path.join("tlog-signing-key").display()
        ))?;
    }
    out.value(&serde_json::json!({
        "archive": args.path,
        "bucket": report.url,
        "segments": report.segments,
        "entries": report.entries,
        "snapshots": report.snapshots,
    }))?;
    Ok(Outcome::Done)
}

pub fn replicate(global: &GlobalArgs, args: BucketArgs, out: &mut Output) -> Result<Outcome> {
    let config = bucket_config(&args.url, args.endpoint.as_deref())?;
    let archive = context::open(global, OpenMode::ReadWrite)?;
    let report = archive.replicate(&config)?;
    out.line(format!(
        "Replicated to {}: {} new blob{} ({} bytes), {} new record entr{}{}",
        report.url,
        report.blobs,
        plural(report.blobs),
        report.blob_bytes,
        report.entries,
        if report.entries == 1 { "y" } else { "ies" },
        match &report.segment {
            Some(name) => format!(" in {name}"),
            None => String::new(),
        }
    ))?;
    out.value(&serde_json::json!({
        "bucket": report.url,
        "blobs": report.blobs,
        "blob_bytes": report.blob_bytes,
        "entries": report.entries,
        "segment": report.segment,
    }))?;
    Ok(Outcome::Done)
}

pub fn repair(global: &GlobalArgs, args: BucketArgs, out: &mut Output) -> Result<Outcome> {
    let config = bucket_config(&args.url, args.endpoint.as_deref())?;
    let (path, _) = context::archive_path(global)?;
    let wait = std::time::Duration::from_secs(global.wait);
    let report = Archive::repair(&path, &config, wait)?;
    if report.damaged.is_empty() {
        out.line("No damaged snapshot: nothing to repair")?;
    }
    for key in &report.repaired {
        out.line(format!("repaired blake3:{key}"))?;
    }
    for (key, error) in &report.unrepaired {
        out.line(format!("NOT repaired blake3:{key}: {error}"))?;
    }
    if !report.damaged.is_empty() {
        out.line(format!(
            "{} of {} damaged snapshot{} repaired from {} ({} value{} fetched)",
            report.repaired.len(),
            report.damaged.len(),
            plural(report.damaged.len() as u64),
            report.url,
            report.fetched,
            plural(report.fetched),
        ))?;
    }
    out.value(&serde_json::json!({
        "replica": report.url,
        "damaged": report.damaged.iter().map(|k| format!("blake3:{k}")).collect::<Vec<_>>(),
        "repaired": report.repaired.iter().map(|k| format!("blake3:{k}")).collect::<Vec<_>>(),
        "unrepaired": report.unrepaired.iter().map(|(k, e)| serde_json::json!({"snapshot": format!("blake3:{k}"), "error": e})).collect::<Vec<_>>(),
        "fetched": report.fetched,
    }))?;
    Ok(Outcome::verified_unless(!report.unrepaired.is_empty()))
}

pub fn gc(global: &GlobalArgs, args: GcArgs, out: &mut Output) -> Result<Outcome> {
    let archive = context::open(global, OpenMode::ReadWrite)?;
    let report = archive.gc(args.delete)?;
    for (name, size) in &report.unreferenced {
        out.line(format!("{name}\t{size}"))?;
    }
    let bytes: u64 = report.unreferenced.iter().map(|(_, size)| size).sum();
    out.line(format!(
        "{} of {} object{} in {} unreferenced ({} bytes){}",
        report.unreferenced.len(),
        report.objects,
        plural(report.objects),
        report.url,
        bytes,
        if report.unreferenced.is_empty() {
            ""
        } else if report.deleted {
            ": deleted"
        } else {
            ": not deleted (dry run; --delete removes them)"
        }
    ))?;
    out.value(&serde_json::json!({
        "bucket": report.url,
        "objects": report.objects,
        "unreferenced": report.unreferenced.iter().map(|(n, s)| serde_json::json!({"name": n, "size": s})).collect::<Vec<_>>(),
        "deleted": report.deleted,
    }))?;
    Ok(Outcome::Done)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
