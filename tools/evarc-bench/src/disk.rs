//! Bytes on disk: the evarc archive against per-file zstd, a solid tar | zstd, and git.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use crate::corpus::Capture;
use crate::measure::{quote, shell, tree_bytes};

pub fn measure(
    root: &Path,
    captures: &[Capture],
    archive: &Path,
    work: &Path,
    git: bool,
) -> Result<Value> {
    let evarc_bytes = tree_bytes(archive)?;
    // Each file compressed alone at zstd level 3: the zstd library the `zstd` CLI uses, in
    // process (same frames, without 2,572 process starts).
    let mut per_file = 0u64;
    for c in captures {
        let bytes = std::fs::read(root.join(&c.path))?;
        per_file += zstd::bulk::compress(&bytes, 3)?.len() as u64;
    }
    // The tar holds the files in path order (each document's captures together), as the
    // corpus' own tarball does; in capture order the same bytes compress far less.
    let sorted_list = work.join("files-by-path.lst");
    let mut paths: Vec<&str> = captures.iter().map(|c| c.path.as_str()).collect();
    paths.sort_unstable();
    let mut listing = Vec::new();
    for path in paths {
        listing.extend_from_slice(path.as_bytes());
        listing.push(0);
    }
    std::fs::write(&sorted_list, listing)?;
    let solid_out = work.join("solid.tar.zst");
    let solid = shell(
        &format!(
            "tar --null -T {} -cf - | zstd --long=27 -10 -T1 -c > {}",
            quote(&sorted_list),
            quote(&solid_out)
        ),
        root,
    )?;
    let solid_bytes = std::fs::metadata(&solid_out)?.len();
    let _ = std::fs::remove_file(&solid_out);
    let mut out = json!({
        "evarc_archive_bytes": evarc_bytes,
        "per_file_zstd3_bytes": per_file,
        "solid_tar_zstd_bytes": solid_bytes,
        "solid_tar_zstd_seconds": solid.seconds,
    });
    if git {
        let (bytes, import, repack) = git_repository(root, captures, work)?;
        out["git_repacked_bytes"] = json!(bytes);
        out["git_fast_import_seconds"] = json!(import);
        out["git_repack_seconds"] = json!(repack);
    }
    Ok(out)
}

/// One commit per capture with `git fast-import`, then `git repack -adf --window=250
/// --depth=50`; returns the repository's object bytes and both times.
fn git_repository(root: &Path, captures: &[Capture], work: &Path) -> Result<(u64, f64, f64)> {
    let repo = work.join("git");
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(&repo)?;
    shell("git init -q .", &repo)?;
    let stream = work.join("fast-import.stream");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&stream)?);
    for (i, c) in captures.iter().enumerate() {
        let bytes =
            std::fs::read(root.join(&c.path)).with_context(|| format!("reading {}", c.path))?;
        let when = chrono::DateTime::parse_from_rfc3339(&c.captured_at)
            .map(|t| t.timestamp())
            .unwrap_or(0);
        writeln!(out, "blob\nmark :{}\ndata {}", i + 1, bytes.len())?;
        out.write_all(&bytes)?;
        writeln!(out)?;
        let message = format!("{} {} {}", c.entity, c.document, c.captured_at);
        // One file per document, rewritten by each of its captures: git's own model of a
        // history, and what its delta search (by path) is built for.
        let document_path = format!("{}/{}.html", c.entity, c.document);
        writeln!(
            out,
            "commit refs/heads/main\ncommitter corpus <corpus@example.invalid> {when} +0000\ndata {}\n{message}",
            message.len()
        )?;
        // Paths with spaces and '#' are quoted C-style by fast-import's rules.
        let path = document_path.replace('\\', "\\\\").replace('"', "\\\"");
        writeln!(out, "M 100644 :{} \"{path}\"\n", i + 1)?;
    }
    out.flush()?;
    drop(out);
    let import = shell(
        &format!("git fast-import --quiet < {}", quote(&stream)),
        &repo,
    )?;
    let _ = std::fs::remove_file(&stream);
    let repack = shell("git repack -adf --window=250 --depth=50 -q", &repo)?;
    shell("git prune-packed && git prune", &repo)?;
    let bytes = tree_bytes(&repo.join(".git/objects"))?;
    Ok((bytes, import.seconds, repack.seconds))
}
