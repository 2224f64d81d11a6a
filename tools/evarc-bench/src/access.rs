//! Random access in-process: read + verify a random capture, cite a random provision.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::{TimeZone, Utc};
use evarc_provenance::cite::{self, EvidenceCheck, Format, Markup, RenderOptions};
use evarc_provenance::id::RecordId;
use evarc_provenance::{Archive, ProvisionRequest};
use evarc_store::OpenMode;
use serde_json::{json, Value};

use crate::corpus::Rng;
use crate::measure::quantile;

/// Provisions registered for the cite figures.
const PROVISIONS: usize = 200;

fn summary(mut samples: Vec<Duration>) -> Value {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    json!({
        "samples": samples.len(),
        "p50_ms": ms(quantile(&mut samples, 0.50)),
        "p99_ms": ms(quantile(&mut samples, 0.99)),
        "max_ms": ms(quantile(&mut samples, 1.0)),
    })
}

pub fn measure(archive_path: &Path, samples: usize) -> Result<Value> {
    let registered = register_provisions(archive_path)?;
    let archive = Archive::open(archive_path, OpenMode::ReadOnly)?;
    let mut captures = Vec::new();
    for doc in archive.documents()? {
        captures.extend(archive.captures(&doc.id)?);
    }
    anyhow::ensure!(!captures.is_empty(), "the archive holds no captures");
    let mut rng = Rng::new(0x5eed);
    let mut reads = Vec::with_capacity(samples);
    for _ in 0..samples {
        let capture = &captures[rng.below(captures.len())];
        let key = capture.blake3;
        // Nothing cached: every read rebuilds and re-hashes from the stored bytes.
        archive.store().clear_cache();
        let start = Instant::now();
        let bytes = archive.store().read(key)?;
        reads.push(start.elapsed());
        anyhow::ensure!(bytes.len() as u64 == capture.byte_len);
    }
    let options = RenderOptions {
        accessed: Utc
            .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .single()
            .context("fixed date")?
            .date_naive(),
        markup: Markup::Plain,
        evidence: EvidenceCheck::Verified,
    };
    let (mut cites, mut provenance) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let id = RecordId::Provision(registered[rng.below(registered.len())].clone());
        let start = Instant::now();
        let record = archive.citation(&id)?;
        let text = cite::render(&record, Format::Record, &options);
        cites.push(start.elapsed());
        anyhow::ensure!(text.starts_with("Citation Record"));
        archive.store().clear_cache();
        let start = Instant::now();
        let record = archive.citation(&id)?;
        let check = archive.check_evidence(&record.capture)?;
        let opts = RenderOptions {
            evidence: check,
            ..options.clone()
        };
        let text = cite::render(&record, Format::Provenance, &opts);
        provenance.push(start.elapsed());
        anyhow::ensure!(text.contains("✓ Hash verified"));
    }
    Ok(json!({
        "read_verify": summary(reads),
        "cite_record": summary(cites),
        "cite_provenance": summary(provenance),
        "provisions": registered.len(),
    }))
}

/// `evarc-bench reads ARCHIVE`: read + verify of random captures of an existing archive, opened
/// read-only (nothing written), the snapshot cache emptied before each read; with `--also`, a
/// second archive of the same captures (e.g. before and after `evarc repack`) read in the same
/// loop, alternately, so that machine noise hits both alike.
#[derive(clap::Args)]
pub struct ReadsArgs {
    pub archive: std::path::PathBuf,
    #[arg(long)]
    pub also: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
    /// Also print the N slowest reads of each archive (document, capture, bytes, ms).
    #[arg(long, default_value_t = 0)]
    pub slowest: usize,
}

pub fn reads(args: ReadsArgs) -> Result<()> {
    let mut archives = vec![Archive::open(&args.archive, OpenMode::ReadOnly)?];
    if let Some(also) = &args.also {
        archives.push(Archive::open(also, OpenMode::ReadOnly)?);
    }
    let mut captures = Vec::new();
    for doc in archives[0].documents()? {
        captures.extend(archives[0].captures(&doc.id)?);
    }
    anyhow::ensure!(!captures.is_empty(), "the archive holds no captures");
    let mut rng = Rng::new(0x5eed);
    let mut reads = vec![Vec::with_capacity(args.samples); archives.len()];
    let mut timed: Vec<Vec<(std::time::Duration, usize)>> = vec![Vec::new(); archives.len()];
    for _ in 0..args.samples {
        let at = rng.below(captures.len());
        let capture = &captures[at];
        let key = capture.blake3;
        for (i, (archive, samples)) in archives.iter().zip(reads.iter_mut()).enumerate() {
            archive.store().clear_cache();
            let start = Instant::now();
            let bytes = archive.store().read(key)?;
            let took = start.elapsed();
            samples.push(took);
            timed[i].push((took, at));
            anyhow::ensure!(bytes.len() as u64 == capture.byte_len);
        }
    }
    let names = [Some(&args.archive), args.also.as_ref()];
    for ((name, samples), mut timed) in names.iter().flatten().zip(reads).zip(timed) {
        println!("{}: {}", name.display(), summary(samples));
        timed.sort_by_key(|t| std::cmp::Reverse(t.0));
        for (took, at) in timed.into_iter().take(args.slowest) {
            let c = &captures[at];
            println!(
                "  {:>8.3} ms  {}  {}  {} bytes",
                took.as_secs_f64() * 1e3,
                c.document,
                c.sha256,
                c.byte_len
            );
        }
    }
    Ok(())
}

/// Registers provisions quoting random passages of random captures (idempotent across runs).
fn register_provisions(path: &Path) -> Result<Vec<evarc_provenance::id::ProvisionId>> {
    let archive = Archive::open(path, OpenMode::ReadWrite)?;
    let mut captures = Vec::new();
    for doc in archive.documents()? {
        captures.extend(archive.captures(&doc.id)?);
    }
    let mut rng = Rng::new(0xc17e);
    let now = Utc
        .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .context("fixed date")?;
    let mut ids = Vec::new();
    let mut attempts = 0;
    while ids.len() < PROVISIONS && attempts < PROVISIONS * 10 {
        attempts += 1;
        let capture = &captures[rng.below(captures.len())];
        let text = archive.capture_text(capture)?;
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.len() < 20 {
            continue;
        }
        let start = rng.below(words.len() - 12);
        let quote = words[start..start + 10].join(" ");
        let request = ProvisionRequest {
            document: capture.document.clone(),
            title: format!("Benchmark clause {}", ids.len() + 1),
            quote,
            capture: Some(capture.sha256),
            id: None,
            severity: None,
            categories: Vec::new(),
            private: false,
        };
        if let Ok((provision, _)) = archive.add_provision(request, now) {
            ids.push(provision.id);
        }
    }
    Ok(ids)
}
