//! Synthetic corpora: a generator (manifest + files) and an in-process scale run.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::{DateTime, TimeZone, Utc};
use evarc_provenance::cite::{self, EvidenceCheck, Format, Markup, RenderOptions};
use evarc_provenance::id::{DocumentId, RecordId};
use evarc_provenance::{Archive, CaptureRequest, DocumentRef, ProvisionRequest};
use evarc_store::Durability;
use serde_json::json;

use crate::corpus::Rng;
use crate::measure::{quantile, tree_bytes};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Captures to write.
    #[arg(long)]
    pub captures: u64,
    /// Documents they are spread over (round robin).
    #[arg(long)]
    pub documents: u64,
    /// Output folder (manifest.tsv and captures/).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct ScaleArgs {
    /// Captures to ingest.
    #[arg(long, default_value_t = 1_000_000)]
    pub captures: u64,
    /// Documents they are spread over (round robin).
    #[arg(long, default_value_t = 1_000)]
    pub documents: u64,
    /// Window of the ingest-rate figures.
    #[arg(long, default_value_t = 10_000)]
    pub window: u64,
    /// Provisions registered at the end, for the cite latency.
    #[arg(long, default_value_t = 1_000)]
    pub provisions: u64,
    /// Archive directory [default: a temporary directory].
    #[arg(long)]
    pub archive: Option<PathBuf>,
    /// Write the results as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// The bytes of capture `n` (of document `n % documents`): a page of about 2 KB of which a
/// line changes at every capture and a clause every 50.
pub fn synthetic_capture(n: u64, documents: u64) -> Vec<u8> {
    let doc = n % documents;
    let version = n / documents;
    let mut rng = Rng::new(doc.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xd0c);
    let words = [
        "service",
        "terms",
        "user",
        "content",
        "model",
        "output",
        "liability",
        "warranty",
        "license",
        "data",
        "privacy",
        "account",
        "agreement",
        "provider",
        "customer",
    ];
    let mut page = format!("<html><head><title>Document {doc}</title></head><body>\n");
    for clause in 0..30 {
        page.push_str(&format!("<p>{doc}.{clause} "));
        for _ in 0..8 {
            page.push_str(words[rng.below(words.len())]);
            page.push(' ');
        }
        if clause == (version / 50) % 30 {
            page.push_str(&format!("(amended in revision {})", version / 50));
        }
        page.push_str("</p>\n");
    }
    page.push_str(&format!(
        "<footer>fetched {n}; token {:016x}</footer></body></html>\n",
        n.wrapping_mul(0x2545_f491_4f6c_dd1d)
    ));
    page.into_bytes()
}

fn capture_time(n: u64) -> DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("fixed date");
    base + chrono::Duration::seconds(i64::try_from(n).unwrap_or(i64::MAX / 2))
}

pub fn generate(args: GenerateArgs) -> Result<()> {
    std::fs::create_dir_all(args.out.join("captures"))?;
    let mut manifest =
        std::io::BufWriter::new(std::fs::File::create(args.out.join("manifest.tsv"))?);
    writeln!(manifest, "captured_at\tentity\tdocument\tsource_url\tpath")?;
    for n in 0..args.captures {
        let doc = n % args.documents;
        let dir = format!("captures/doc{doc:06}");
        if n < args.documents {
            std::fs::create_dir_all(args.out.join(&dir))?;
        }
        let path = format!("{dir}/{n:09}.html");
        std::fs::write(args.out.join(&path), synthetic_capture(n, args.documents))?;
        writeln!(
            manifest,
            "{}\tPublisher {}\tDocument {doc}\thttps://example.org/{doc}\t{path}",
            capture_time(n).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            doc % 10
        )?;
    }
    manifest.flush()?;
    eprintln!("wrote {} captures to {}", args.captures, args.out.display());
    Ok(())
}

pub fn run(args: ScaleArgs) -> Result<()> {
    let scratch = tempfile::tempdir()?;
    let path = args
        .archive
        .clone()
        .unwrap_or_else(|| scratch.path().join("archive"));
    let archive = Archive::init(&path, None, None)?;
    let done = AtomicU64::new(0);
    let workers = 2u64;
    let start = Instant::now();
    let mut marks: Vec<Duration> = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let mut handles = Vec::new();
        for lane in 0..workers {
            let (archive, done, args) = (&archive, &done, &args);
            handles.push(scope.spawn(move || -> Result<()> {
                let mut since_sync = 0;
                for n in (0..args.captures).filter(|n| (n % args.documents) % workers == lane) {
                    let doc = n % args.documents;
                    let document = DocumentRef::Named {
                        entity: format!("Publisher {}", doc % 10),
                        title: format!("Document {doc}"),
                        source_url: Some(format!("https://example.org/{doc}")),
                        id: None,
                    };
                    let request = CaptureRequest {
                        media_type: Some("text/html; charset=utf-8".into()),
                        ..CaptureRequest::file_import(document, capture_time(n))
                    };
                    let bytes = synthetic_capture(n, args.documents);
                    archive.capture_with(
                        &bytes[..],
                        request,
                        capture_time(n),
                        Durability::Deferred,
                    )?;
                    since_sync += 1;
                    if since_sync == 256 {
                        archive.sync()?;
                        since_sync = 0;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                archive.sync()?;
                Ok(())
            }));
        }
        let mut next_mark = args.window;
        while next_mark <= args.captures {
            if done.load(Ordering::Relaxed) >= next_mark {
                marks.push(start.elapsed());
                next_mark += args.window;
                if next_mark.is_multiple_of(args.window * 10) {
                    eprintln!(
                        "{} captures, {:.1} s",
                        next_mark - args.window,
                        start.elapsed().as_secs_f64()
                    );
                }
            } else if handles.iter().all(|h| h.is_finished()) {
                break;
            } else {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        for handle in handles {
            handle.join().expect("ingest thread")?;
        }
        Ok(())
    })?;
    let total = start.elapsed();
    let rate = |from: Duration, to: Duration| args.window as f64 / (to - from).as_secs_f64();
    let rates: Vec<f64> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| rate(if i == 0 { Duration::ZERO } else { marks[i - 1] }, *m))
        .collect();
    let first = rates.first().copied();
    let last = rates.last().copied();
    // Single windows are noisy (a compaction or a sync lands in one): the medians of the first
    // and last ten windows show the trend.
    let ten = rates.len().min(10);
    let first_ten = (ten > 0).then(|| crate::measure::median(&rates[..ten]));
    let last_ten = (ten > 0).then(|| crate::measure::median(&rates[rates.len() - ten..]));
    eprintln!("registering {} provisions", args.provisions);
    let now = capture_time(args.captures);
    let mut ids = Vec::new();
    let prefix = archive.config()?.prefix;
    for i in 0..args.provisions {
        let doc = DocumentId::new(prefix.clone(), 1 + (i * 7919) % args.documents)?;
        let request = ProvisionRequest {
            document: doc,
            title: format!("Scale clause {i}"),
            quote: "fetched".into(),
            capture: None,
            id: None,
            severity: None,
            categories: Vec::new(),
            private: false,
        };
        ids.push(archive.add_provision(request, now)?.0.id);
    }
    let options = RenderOptions {
        accessed: now.date_naive(),
        markup: Markup::Plain,
        evidence: EvidenceCheck::Verified,
    };
    let mut rng = Rng::new(42);
    let mut cites = Vec::new();
    for _ in 0..2000 {
        let id = RecordId::Provision(ids[rng.below(ids.len())].clone());
        let t = Instant::now();
        let record = archive.citation(&id)?;
        let text = cite::render(&record, Format::Record, &options);
        cites.push(t.elapsed());
        anyhow::ensure!(text.starts_with("Citation Record"));
    }
    drop(archive);
    let bytes = tree_bytes(&path).context("archive size")?;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let results = json!({
        "captures": args.captures,
        "documents": args.documents,
        "seconds": total.as_secs_f64(),
        "captures_per_second": args.captures as f64 / total.as_secs_f64(),
        "window": args.window,
        "first_window_per_second": first,
        "last_window_per_second": last,
        "last_over_first": first.zip(last).map(|(f, l)| l / f),
        "median_first_10_windows_per_second": first_ten,
        "median_last_10_windows_per_second": last_ten,
        "last_10_over_first_10": first_ten.zip(last_ten).map(|(f, l)| l / f),
        "window_rates_per_second": rates,
        "archive_bytes": bytes,
        "records": args.captures + args.provisions,
        "cite_record_p50_ms": ms(quantile(&mut cites, 0.5)),
        "cite_record_p99_ms": ms(quantile(&mut cites, 0.99)),
    });
    println!("{}", serde_json::to_string_pretty(&results)?);
    if let Some(out) = &args.json {
        std::fs::write(out, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}
