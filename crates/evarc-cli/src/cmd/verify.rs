//! `evarc verify HASH | --file PATH | --all`: re-hash and say plainly whether bytes are intact.

use std::io::Read;

use anyhow::{Context as _, Result};
use evarc_provenance::compare::NearMiss;
use evarc_provenance::model::Capture;
use evarc_provenance::Archive;
use evarc_provenance::{Blake3, DigestQuery, OpenMode, Sha256, SnapshotInfo};
use serde_json::json;
use sha2::Digest as _;

use super::{text_diff, text_time, thousands};
use crate::cli::{GlobalArgs, VerifyArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

use crate::progress;

pub fn run(global: &GlobalArgs, args: VerifyArgs, out: &mut Output) -> Result<Outcome> {
    if let Some(hash) = &args.hash {
        let query: DigestQuery = hash.parse()?;
        let archive = open(global, OpenMode::ReadOnly)?;
        return one(&archive, query, out);
    }
    if let Some(path) = &args.file {
        let (sha, b3, len) = hash_file(path)?;
        let archive = open(global, OpenMode::ReadOnly)?;
        return file(&archive, path, sha, b3, len, out);
    }
    let archive = open(global, OpenMode::ReadOnly)?;
    all(&archive, out)
}

fn capture_lines(captures: &[Capture]) -> Vec<String> {
    captures
        .iter()
        .map(|c| format!("{} captured {}", c.document, text_time(c.captured_at)))
        .collect()
}

fn one(archive: &Archive, query: DigestQuery, out: &mut Output) -> Result<Outcome> {
    let check = archive.check_snapshot(query)?;
    let (info, captures) = (check.recorded, check.captures);
    match check.outcome {
        Ok(info) => {
            out.line(format!(
                "✓ verified: sha256:{} ({} bytes) re-hashed identical to what was archived",
                info.sha256,
                thousands(info.len)
            ))?;
            out.line(format!("  blake3:{}", info.blake3))?;
            for line in capture_lines(&captures) {
                out.line(format!("  {line}"))?;
            }
            out.value(
                &json!({"verified": true, "snapshot": info_json(&info), "captures": captures}),
            )?;
            Ok(Outcome::Done)
        }
        Err(err) => {
            out.line(format!("✗ FAILED: sha256:{}: {err}", info.sha256))?;
            for line in capture_lines(&captures) {
                out.line(format!("  affects {line}"))?;
            }
            out.value(&json!({"verified": false, "snapshot": info_json(&info), "error": err.to_string(), "captures": captures}))?;
            Ok(Outcome::VerificationFailed)
        }
    }
}

fn info_json(info: &SnapshotInfo) -> serde_json::Value {
    json!({"sha256": info.sha256.to_hex(), "blake3": info.blake3.to_hex(), "size": info.len})
}

/// SHA-256, BLAKE3 and length of a file, in one pass.
pub fn hash_file(path: &std::path::Path) -> Result<(Sha256, Blake3, u64)> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        anyhow::bail!("{} is a directory, not a file", path.display());
    }
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let bar = progress::bytes(Some(meta.len()), "hashing");
    let mut sha = sha2::Sha256::new();
    let mut b3 = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        sha.update(&buf[..n]);
        b3.update(&buf[..n]);
        len += n as u64;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok((
        Sha256(sha.finalize().into()),
        Blake3(*b3.finalize().as_bytes()),
        len,
    ))
}

fn file(
    archive: &Archive,
    path: &std::path::Path,
    sha: Sha256,
    b3: Blake3,
    len: u64,
    out: &mut Output,
) -> Result<Outcome> {
    let shown = path.display();
    let Some(check) = archive.check_bytes_of(sha, b3, len)? else {
        out.line(format!(
            "✗ {shown} matches no snapshot in this archive (SHA-256 {sha}, {} bytes)",
            thousands(len)
        ))?;
        let closest = near_miss(archive, path, len, out)?;
        let mut value = file_json(path, (sha, b3, len), None, None, &[]);
        value["closest"] = closest;
        out.value(&value)?;
        return Ok(Outcome::VerificationFailed);
    };
    let (info, captures) = (check.recorded, check.captures);
    // The file matches the recorded hashes; the archived copy must still verify too.
    if let Err(err) = check.outcome {
        out.line(format!(
            "✗ {shown} has the recorded hashes of sha256:{sha}, but the archived copy fails verification: {err}"
        ))?;
        out.value(&file_json(
            path,
            (sha, b3, len),
            Some(&info),
            Some(&err.to_string()),
            &captures,
        ))?;
        return Ok(Outcome::VerificationFailed);
    }
    out.line(format!(
        "✓ {shown} is byte-identical to archived snapshot sha256:{sha} ({} bytes)",
        thousands(len)
    ))?;
    out.line(format!("  blake3:{b3}"))?;
    for line in capture_lines(&captures) {
        out.line(format!("  {line}"))?;
    }
    out.value(&file_json(
        path,
        (sha, b3, len),
        Some(&info),
        None,
        &captures,
    ))?;
    Ok(Outcome::Done)
}

/// The one shape of `verify --file --json`, matched or not: the file's own hashes, whether it
/// is identical to a snapshot (`snapshot` and `captures` then say which), and whether the
/// archived copy re-verified (`null` when there is none; `error` says why it failed).
fn file_json(
    path: &std::path::Path,
    (sha, b3, len): (Sha256, Blake3, u64),
    snapshot: Option<&SnapshotInfo>,
    error: Option<&str>,
    captures: &[Capture],
) -> serde_json::Value {
    json!({
        "identical": snapshot.is_some(),
        "archived_copy_verified": snapshot.map(|_| error.is_none()),
        "error": error,
        "file": path,
        "sha256": sha.to_hex(),
        "blake3": b3.to_hex(),
        "size": len,
        "snapshot": snapshot.map(info_json),
        "captures": captures,
        "closest": null,
    })
}

/// Files larger than this are not compared by text (the near-miss search reads them whole).
const NEAR_MISS_MAX_BYTES: u64 = 32 << 20;

/// Names the archived capture closest to a file that matches none, and shows what differs.
fn near_miss(
    archive: &Archive,
    path: &std::path::Path,
    len: u64,
    out: &mut Output,
) -> Result<serde_json::Value> {
    if len > NEAR_MISS_MAX_BYTES {
        out.line(format!(
            "  (not compared by text: larger than {} bytes)",
            thousands(NEAR_MISS_MAX_BYTES)
        ))?;
        return Ok(json!(null));
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.file_name().and_then(|n| n.to_str());
    Ok(match archive.near_miss(&bytes, name, 2)? {
        NearMiss::NoText { media_type } => {
            out.line(format!(
                "  no text could be extracted from it ({media_type}), so no closest capture can be named by text"
            ))?;
            json!({"no_text": media_type})
        }
        NearMiss::NoneSimilar => {
            out.line("  no archived capture has similar text")?;
            json!(null)
        }
        NearMiss::Closest {
            capture,
            similarity,
            diff,
        } => {
            out.line(format!(
                "  closest capture: {} captured {} sha256:{} ({:.1}% of word sequences in common)",
                capture.document,
                text_time(capture.captured_at),
                capture.sha256,
                // Rounded down: a near-miss never shows as 100%.
                (similarity * 1000.0).floor() / 10.0
            ))?;
            if diff.is_empty() {
                out.line(
                    "  its extracted text is identical: only the bytes (markup, layout) differ",
                )?;
            } else {
                out.line("  what differs from that capture's text (- archived, + this file):")?;
                out.raw_text(&text_diff::render(
                    &diff,
                    !out.json && text_diff::colour_wanted(),
                ))?;
                out.line(text_diff::summary(&diff))?;
            }
            json!({"capture": capture, "similarity": similarity, "lines_added": diff.lines_added, "lines_removed": diff.lines_removed, "lines_changed": diff.lines_changed, "hunks": diff.hunks})
        }
    })
}

/// `verify --all`: renders [`Archive::audit`] (the rules live in evarc-provenance).
fn all(archive: &Archive, out: &mut Output) -> Result<Outcome> {
    let bar = progress::items(0, "verifying");
    let report = archive.audit(|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    for finding in &report.snapshot_failures {
        out.line(format!(
            "✗ sha256:{} (blake3:{}): {}",
            finding.sha256.as_deref().unwrap_or("unknown"),
            finding.blake3,
            finding.error
        ))?;
        for c in &finding.captures {
            out.line(format!(
                "  affects {} captured {}",
                c.document,
                text_time(c.captured_at)
            ))?;
        }
    }
    for capture in &report.dangling_captures {
        out.line(format!(
            "✗ {} captured {}: its snapshot sha256:{} is missing from the archive",
            capture.document,
            text_time(capture.captured_at),
            capture.sha256
        ))?;
    }
    for (capture, reason) in &report.unindexed_captures {
        out.line(format!(
            "✗ {} captured {}: sha256:{} cannot be found by its hash: {reason}",
            capture.document,
            text_time(capture.captured_at),
            capture.sha256
        ))?;
    }
    for damage in &report.record_damage {
        match &damage.capture {
            Some(c) => out.line(format!(
                "✗ capture record of {} captured {} (sha256:{}, named by its log leaf) cannot be read: {}",
                c.document,
                text_time(c.captured_at),
                c.sha256,
                damage.error
            ))?,
            None => out.line(format!(
                "✗ {} {} cannot be read: {}",
                damage.kind.label(),
                damage.name,
                damage.error
            ))?,
        }
    }
    for err in &report.listing_errors {
        out.line(format!("✗ {err}"))?;
    }
    for damage in &report.file_damage {
        out.line(format!(
            "✗ file {} damaged at offset {}: {}{}",
            damage.file,
            damage.offset,
            damage.reason,
            if damage.records_affected {
                ""
            } else {
                " (file damaged, no record affected)"
            }
        ))?;
    }
    let clean = report.is_clean();
    let affected = report.affected_captures();
    let unreadable_records = report.captures_with_unreadable_records();
    if !clean {
        out.line(format!(
            "✗ {} files checked block by block ({} blocks and log records): {} damaged places; {} captures with unreadable bytes, {} records unreadable ({} of them capture records)",
            thousands(report.files_checked),
            thousands(report.blocks_checked),
            report.file_damage.len(),
            thousands(affected.len() as u64),
            report.record_damage.len(),
            unreadable_records.len(),
        ))?;
    }
    let plural = |n: u64, one: &'static str, many: &'static str| if n == 1 { one } else { many };
    // Version texts (issue 13) are counted on their own, and only named when there are some.
    let texts = match report.version_texts_checked {
        0 => String::new(),
        n => format!(
            "; {} {} checked",
            thousands(n),
            plural(n, "version text", "version texts")
        ),
    };
    out.line(format!(
        "{} {} {} checked ({} bytes re-hashed): {} verified, {} failed; {} capture {} checked, {} dangling{texts}",
        if clean { "✓" } else { "✗" },
        thousands(report.snapshots_checked),
        plural(report.snapshots_checked, "snapshot", "snapshots"),
        thousands(report.bytes),
        thousands(report.snapshots_verified),
        thousands(report.snapshot_failures.len() as u64),
        thousands(report.captures_checked),
        plural(report.captures_checked, "record", "records"),
        report.dangling_captures.len(),
    ))?;
    let mut value = json!({
        "clean": clean,
        "snapshots_checked": report.snapshots_checked,
        "snapshots_verified": report.snapshots_verified,
        "bytes": report.bytes,
        "failures": report.snapshot_failures,
        "dangling_captures": report.dangling_captures,
        "unindexed_captures": report.unindexed_captures.iter().map(|(c, reason)| json!({"capture": c, "reason": reason})).collect::<Vec<_>>(),
        "listing_errors": report.listing_errors,
        "captures_checked": report.captures_checked,
        "record_damage": report.record_damage,
        "file_damage": report.file_damage,
        "files_checked": report.files_checked,
        "file_bytes_checked": report.file_bytes_checked,
        "blocks_checked": report.blocks_checked,
        "files_unchecked": report.files_unchecked,
        "files_unreferenced": report.files_unreferenced,
        "documents_checked": report.documents_checked,
        "provisions_checked": report.provisions_checked,
        "log_leaves_checked": report.log_leaves_checked,
        "affected_captures": affected,
        "captures_with_unreadable_records": unreadable_records,
    });
    if report.version_texts_checked > 0 {
        value["version_texts_checked"] = json!(report.version_texts_checked);
    }
    if let Some(path) = &report.signing_key_missing {
        // Not damage: what is archived verifies; only new checkpoints need the key.
        out.line(format!(
            "! the signing key file {path} is missing: new checkpoints cannot be signed until the archive's key is put back there (a copy of the original archive's tlog-signing-key, mode 600; `evarc restore --signing-key FILE` installs it when restoring)"
        ))?;
        value["signing_key_missing"] = json!(path);
    }
    out.value(&value)?;
    Ok(Outcome::verified_unless(!clean))
}
