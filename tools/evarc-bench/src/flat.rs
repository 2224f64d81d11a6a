//! Ingest cost against archive size: the same new documents imported into an empty archive and
//! into an archive that already holds many documents, side by side (issue 11's "flat cost").
//!
//! The base archive is built once in process (one capture per document, publishers round robin);
//! each run copies it (not timed) and times `evarc import manifest` of N new one-page documents,
//! and `evarc import warc` of the same pages as a WARC of new URLs, into a copy of it and into a
//! fresh archive. Rounds interleave the two so that machine noise hits both; medians are reported.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{ensure, Context as _, Result};
use chrono::{TimeZone, Utc};
use evarc_provenance::{Archive, CaptureRequest, DocumentRef};
use evarc_store::Durability;
use serde_json::json;

use crate::measure::{median, quote, shell};
use crate::scale::synthetic_capture;

#[derive(clap::Args)]
pub struct FlatArgs {
    /// Documents already in the big archive.
    #[arg(long, default_value_t = 100_000)]
    pub base_documents: u64,
    /// New documents imported in each timed run.
    #[arg(long, default_value_t = 2_000)]
    pub new_documents: u64,
    /// Timed rounds (each: empty and big, manifest and WARC).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The evarc binary [default: beside this one].
    #[arg(long)]
    pub evarc: Option<PathBuf>,
    /// Scratch directory [default: a temporary directory].
    #[arg(long)]
    pub work: Option<PathBuf>,
    /// Reuse the big archive WORK/base of an earlier run with the same --base-documents.
    #[arg(long)]
    pub reuse_base: bool,
    /// Write the results as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(args: FlatArgs) -> Result<()> {
    let evarc = crate::evarc_binary(args.evarc.clone())?;
    let scratch = tempfile::tempdir()?;
    let work = args
        .work
        .clone()
        .unwrap_or_else(|| scratch.path().to_owned());
    std::fs::create_dir_all(&work)?;

    let started = Instant::now();
    let base = work.join("base");
    if !(args.reuse_base && base.exists()) {
        if base.exists() {
            std::fs::remove_dir_all(&base)?;
        }
        build_base(&base, args.base_documents)?;
    }
    eprintln!(
        "base archive: {} documents in {:.1} s",
        args.base_documents,
        started.elapsed().as_secs_f64()
    );
    let pages = work.join("new");
    if pages.exists() {
        std::fs::remove_dir_all(&pages)?;
    }
    write_new_documents(&pages, args.base_documents, args.new_documents)?;
    let warc = work.join("new.warc.gz");
    make_warc(&evarc, &work, &pages, &warc)?;

    let ev = quote(&evarc);
    let manifest = quote(&pages.join("manifest.tsv"));
    let warc_q = quote(&warc);
    let mut times: [Vec<f64>; 4] = Default::default();
    for round in 0..args.runs {
        for (slot, big, what) in [
            (0, false, "manifest"),
            (1, true, "manifest"),
            (2, false, "warc"),
            (3, true, "warc"),
        ] {
            let target = work.join("target");
            if target.exists() {
                std::fs::remove_dir_all(&target)?;
            }
            if big {
                copy_dir(&base, &target)?;
            } else {
                shell(&format!("{ev} init {} >/dev/null", quote(&target)), &work)?;
            }
            let import = match what {
                "manifest" => format!("import manifest {manifest}"),
                _ => format!("import warc {warc_q}"),
            };
            let run = shell(
                &format!("{ev} --archive {} {import} >/dev/null", quote(&target)),
                &work,
            )?;
            eprintln!(
                "round {round}: {what} into {} archive: {:.2} s",
                if big { "big" } else { "empty" },
                run.seconds
            );
            times[slot].push(run.seconds);
        }
    }
    let [manifest_empty, manifest_big, warc_empty, warc_big] = times.map(|t| median(&t));
    let result = json!({
        "base_documents": args.base_documents,
        "new_documents": args.new_documents,
        "runs": args.runs,
        "import_manifest": {
            "empty_s": manifest_empty,
            "big_s": manifest_big,
            "ratio": manifest_big / manifest_empty,
        },
        "import_warc": {
            "empty_s": warc_empty,
            "big_s": warc_big,
            "ratio": warc_big / warc_empty,
        },
    });
    println!(
        "{} new documents, medians of {} runs:\n  import manifest: empty {:.2} s, {} documents {:.2} s: {:.2}x\n  import warc:     empty {:.2} s, {} documents {:.2} s: {:.2}x",
        args.new_documents,
        args.runs,
        manifest_empty,
        args.base_documents,
        manifest_big,
        manifest_big / manifest_empty,
        warc_empty,
        args.base_documents,
        warc_big,
        warc_big / warc_empty,
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&result)? + "\n")?;
    }
    Ok(())
}

/// The big archive: `documents` documents of 10 publishers, one capture each.
fn build_base(path: &Path, documents: u64) -> Result<()> {
    let archive = Archive::init(path, None, None)?;
    let at = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("fixed date");
    std::thread::scope(|scope| -> Result<()> {
        let lanes: Vec<_> = (0..2u64)
            .map(|lane| {
                let archive = &archive;
                scope.spawn(move || -> Result<()> {
                    for doc in (0..documents).filter(|d| d % 2 == lane) {
                        let document = DocumentRef::Named {
                            entity: format!("Publisher {}", doc % 10),
                            title: format!("Document {doc}"),
                            source_url: Some(format!("https://example.org/{doc}")),
                            id: None,
                        };
                        let request = CaptureRequest {
                            media_type: Some("text/html; charset=utf-8".into()),
                            ..CaptureRequest::file_import(document, at)
                        };
                        let bytes = synthetic_capture(doc, documents);
                        archive.capture_with(&bytes[..], request, at, Durability::Deferred)?;
                        if doc % 512 < 2 {
                            archive.sync()?;
                        }
                    }
                    archive.sync()?;
                    Ok(())
                })
            })
            .collect();
        for lane in lanes {
            lane.join().expect("ingest thread")?;
        }
        Ok(())
    })?;
    Ok(())
}

/// `count` new one-page documents (URLs not in the base archive) as a manifest folder.
fn write_new_documents(dir: &Path, first: u64, count: u64) -> Result<()> {
    std::fs::create_dir_all(dir.join("pages"))?;
    let mut manifest = std::io::BufWriter::new(std::fs::File::create(dir.join("manifest.tsv"))?);
    writeln!(manifest, "captured_at\tentity\tdocument\tsource_url\tpath")?;
    for doc in first..first + count {
        let path = format!("pages/{doc}.html");
        std::fs::write(dir.join(&path), synthetic_capture(doc, first + count))?;
        writeln!(
            manifest,
            "2026-06-01T00:00:00Z\tPublisher {}\tNew document {doc}\thttps://new.example.org/{doc}\t{path}",
            doc % 10
        )?;
    }
    manifest.flush()?;
    Ok(())
}

/// The same pages as a WARC of new URLs: imported into a scratch archive, then exported.
fn make_warc(evarc: &Path, work: &Path, pages: &Path, warc: &Path) -> Result<()> {
    let scratch = work.join("warc-source");
    for old in [&scratch, &warc.to_path_buf()] {
        if old.is_dir() {
            std::fs::remove_dir_all(old)?;
        } else if old.exists() {
            std::fs::remove_file(old)?;
        }
    }
    let ev = quote(evarc);
    shell(&format!("{ev} init {} >/dev/null", quote(&scratch)), work)?;
    shell(
        &format!(
            "{ev} --archive {} import manifest {} >/dev/null",
            quote(&scratch),
            quote(&pages.join("manifest.tsv"))
        ),
        work,
    )?;
    let list = std::process::Command::new(evarc)
        .arg("--archive")
        .arg(&scratch)
        .args(["--json", "list"])
        .output()
        .context("evarc list")?;
    ensure!(list.status.success(), "evarc list failed");
    let listed: serde_json::Value =
        serde_json::from_slice(&list.stdout).context("evarc list --json output")?;
    let ids: Vec<String> = listed
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v["document"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ensure!(!ids.is_empty(), "no documents listed to export");
    let status = std::process::Command::new(evarc)
        .arg("--archive")
        .arg(&scratch)
        .arg("export")
        .args(&ids)
        .args(["--format", "warc", "-o"])
        .arg(warc)
        .stdout(std::process::Stdio::null())
        .status()
        .context("evarc export")?;
    ensure!(status.success(), "evarc export failed");
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .context("cp -a")?;
    ensure!(
        status.success(),
        "cp -a {} {}",
        from.display(),
        to.display()
    );
    Ok(())
}
