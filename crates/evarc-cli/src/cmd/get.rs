//! `evarc get HASH [-o FILE]`: the original bytes, verified as they are read.

use std::io::{Read as _, Write};

use base64::Engine as _;

use anyhow::{bail, Context as _, Result};
use evarc_provenance::{DigestQuery, OpenMode};

use crate::cli::{GetArgs, GlobalArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

pub fn run(global: &GlobalArgs, args: GetArgs, out: &mut Output) -> Result<Outcome> {
    let choice = super::cite::capture_choice(args.capture, args.at.as_deref())?;
    if let Some(path) = args.output.as_ref().filter(|p| !args.force && p.exists()) {
        bail!(
            "{} already exists: pass --force to replace it",
            path.display()
        );
    }
    let archive = open(global, OpenMode::ReadOnly)?;
    // A record ID names a capture (a document's latest or the one chosen, a provision's own);
    // a hash names the bytes themselves.
    let query: DigestQuery = match args.hash.trim().parse::<evarc_provenance::id::RecordId>() {
        Ok(id) => {
            let record = archive.citation_with(&id, &choice)?;
            format!("sha256:{}", record.capture.sha256).parse()?
        }
        Err(_) if !choice.is_latest() => anyhow::bail!(
            "--at and --capture choose a capture of a document: give a document ID (CA-D-…), not {:?}",
            args.hash
        ),
        Err(_) => args.hash.parse()?,
    };
    let info = archive.snapshot(query)?;
    let mut reader = archive.snapshot_reader(info.blake3)?;
    match args.output {
        Some(path) => {
            // Written beside the target and renamed into place only once every byte verified:
            // a damaged snapshot leaves no file behind.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write into {}", dir.display()))?;
            std::io::copy(&mut reader, tmp.as_file_mut()).map_err(|e| match e.get_ref() {
                Some(inner) if inner.is::<evarc_provenance::StoreError>() => {
                    anyhow::Error::new(reader.into_error(e))
                }
                _ => anyhow::Error::new(e).context(format!("writing {}", path.display())),
            })?;
            tmp.as_file_mut()
                .sync_all()
                .with_context(|| format!("writing {}", path.display()))?;
            tmp.persist(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            if out.json {
                out.value(&serde_json::json!({
                    "written": path, "sha256": info.sha256.to_hex(), "blake3": info.blake3.to_hex(), "size": info.len
                }))?;
            } else {
                eprintln!(
                    "wrote {} ({} bytes, sha256:{}, verified)",
                    path.display(),
                    info.len,
                    info.sha256
                );
            }
        }
        None if out.json => {
            // One JSON value: the bytes (base64) are printed only once every one verified.
            let mut bytes = Vec::with_capacity(usize::try_from(info.len).unwrap_or(0));
            reader
                .read_to_end(&mut bytes)
                .map_err(|e| match e.get_ref() {
                    Some(inner) if inner.is::<evarc_provenance::StoreError>() => {
                        anyhow::Error::new(reader.into_error(e))
                    }
                    _ => anyhow::Error::new(e).context("reading the snapshot"),
                })?;
            out.value(&serde_json::json!({
                "sha256": info.sha256.to_hex(),
                "blake3": info.blake3.to_hex(),
                "size": info.len,
                "verified": true,
                "content_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
            }))?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            std::io::copy(&mut reader, &mut stdout).map_err(|e| match e.get_ref() {
                Some(inner) if inner.is::<evarc_provenance::StoreError>() => {
                    anyhow::Error::new(reader.into_error(e))
                }
                _ => anyhow::Error::new(e).context("writing to standard output"),
            })?;
            stdout.flush().context("writing to standard output")?;
        }
    }
    Ok(Outcome::Done)
}
