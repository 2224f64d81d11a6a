//! `evarc-torture crash|corrupt|concurrency|growing-file|full-disk`: the long forms of the
//! reliability checks. Exit 0 when nothing was lost, missed or duplicated, 1 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use evarc_torture::{concurrency, corrupt, crash, evarc, flips, hostile, repack, rng::Rng};

#[derive(Parser)]
#[command(
    name = "evarc-torture",
    about = "Crash, corruption and concurrency torture for evarc"
)]
struct Cli {
    /// The evarc binary (default: $EVARC_BIN, else beside this one).
    #[arg(long, global = true)]
    evarc: Option<PathBuf>,
    /// Seed of every random choice (default: from the clock; always printed).
    #[arg(long, global = true)]
    seed: Option<u64>,
    /// Keep the work in this directory instead of a temporary one.
    #[arg(long, global = true)]
    work: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// SIGKILL imports and provision adds at random moments, check after each.
    Crash {
        #[arg(long, default_value_t = 50)]
        kills: u32,
        /// A TSV manifest to import (e.g. the corpus'); default: a generated one.
        #[arg(long)]
        manifest: Option<PathBuf>,
        #[arg(long, default_value_t = 12)]
        documents: usize,
        #[arg(long, default_value_t = 20)]
        versions: usize,
        /// One kill in N targets `provision add` (0: never).
        #[arg(long, default_value_t = 3)]
        provision_every: u32,
    },
    /// Flip, truncate or delete bytes and files of a closed archive, classify each injection.
    Corrupt {
        #[arg(long, default_value_t = 200)]
        rounds: u32,
        #[arg(long, default_value_t = 6)]
        documents: usize,
        #[arg(long, default_value_t = 8)]
        versions: usize,
    },
    /// Threads archiving and registering provisions at once; a second writer; readers.
    Concurrency {
        #[arg(long, default_value_t = 8)]
        threads: usize,
        #[arg(long, default_value_t = 50)]
        captures: usize,
    },
    /// Archive a file while another thread appends to it.
    GrowingFile {
        #[arg(long, default_value_t = 48 << 20)]
        initial: usize,
    },
    /// Issue 14: SIGKILL `evarc repack` at random moments on copies of one archive, readers
    /// running beside it; records, snapshots and `verify --all` checked after each kill.
    Repack {
        #[arg(long, default_value_t = 20)]
        kills: u32,
        /// A TSV manifest to import once (e.g. /tmp/ota/m300.tsv); default: a generated one.
        #[arg(long)]
        manifest: Option<PathBuf>,
        #[arg(long, default_value_t = 12)]
        documents: usize,
        #[arg(long, default_value_t = 20)]
        versions: usize,
    },
    /// Fill the (small) file system at DIR; needs a mount such as tmpfs of 20 MB.
    FullDisk { dir: PathBuf },
    /// Issue 16: N single-byte flips at random offsets over all the archive's files, each on a
    /// fresh copy; the distribution of affected captures, aborted and clean audits.
    Flips {
        #[arg(long, default_value_t = 100)]
        flips: u32,
        /// An existing archive to copy (never modified).
        #[arg(long)]
        archive: Option<PathBuf>,
        /// A TSV manifest to import once (e.g. /tmp/ota/manifest.tsv); default: a generated one.
        #[arg(long)]
        manifest: Option<PathBuf>,
        #[arg(long, default_value_t = 12)]
        documents: usize,
        #[arg(long, default_value_t = 20)]
        versions: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    let bin = match cli.evarc {
        Some(bin) => bin,
        None => evarc::locate()?,
    };
    let seed = cli.seed.unwrap_or_else(Rng::fresh_seed);
    let mut log = |line: &str| eprintln!("{line}");
    let (work, _tmp) = crash::work_dir(cli.work.as_deref(), "run")?;
    let problems: Vec<String> = match cli.command {
        Command::Crash {
            kills,
            manifest,
            documents,
            versions,
            provision_every,
        } => {
            let opts = crash::CrashOptions {
                kills,
                seed,
                manifest,
                documents,
                versions,
                provision_every,
                evarc: bin,
                work,
            };
            crash::run(&opts, &mut log)?.problems
        }
        Command::Corrupt {
            rounds,
            documents,
            versions,
        } => {
            let opts = corrupt::CorruptOptions {
                rounds,
                seed,
                documents,
                versions,
                evarc: bin,
                work,
            };
            let report = corrupt::run(&opts, &mut log)?;
            for (kind, verdicts) in &report.by_kind {
                println!("{kind}: {verdicts:?}");
            }
            report.missed
        }
        Command::Concurrency { threads, captures } => {
            let opts = concurrency::ConcurrencyOptions {
                threads,
                captures,
                evarc: bin,
                work,
            };
            concurrency::run(&opts, &mut log)?.problems
        }
        Command::GrowingFile { initial } => {
            let evarc = evarc::Evarc::new(bin, work.join("archive"));
            evarc.init()?;
            let (stored, total) = hostile::growing_file(&evarc, &work, initial, 64 << 20)?;
            println!("growing file: {stored} bytes stored (hash verified), file grew to {total}");
            Vec::new()
        }
        Command::Flips {
            flips: n,
            archive,
            manifest,
            documents,
            versions,
        } => {
            let opts = flips::FlipOptions {
                flips: n,
                seed,
                archive,
                manifest,
                documents,
                versions,
                evarc: bin,
                work,
            };
            let report = flips::run(&opts, &mut log)?;
            let (median, p90, max) = report.distribution();
            let (r_median, r_p90, r_max) = report.records_distribution();
            println!(
                "flips: {} single-byte flips (seed {seed}) on an archive of {} bytes: captures with unreadable bytes median {median}, p90 {p90}, max {max}; captures with an unreadable record median {r_median}, p90 {r_p90}, max {r_max}; aborted audits {}; clean audits of a damaged file {}",
                report.flips.len(),
                report.archive_bytes,
                report.aborted.len(),
                report.clean_damaged.len()
            );
            let mut by_file: std::collections::BTreeMap<String, (u32, usize)> = Default::default();
            for f in &report.flips {
                let kind = if f.file.ends_with(".sst") {
                    f.file.clone()
                } else {
                    f.file.split('-').next().unwrap_or("").to_owned()
                };
                let e = by_file.entry(kind).or_default();
                e.0 += 1;
                e.1 = e.1.max(f.affected);
            }
            for (file, (n, max)) in by_file {
                println!("  {file}: {n} flips, max {max} captures affected");
            }
            let mut by_hit: std::collections::BTreeMap<&str, (u32, usize, usize)> =
                Default::default();
            for f in &report.flips {
                let e = by_hit.entry(f.hit.as_str()).or_default();
                e.0 += 1;
                e.1 = e.1.max(f.affected);
                e.2 = e.2.max(f.records);
            }
            for (hit, (n, max, records)) in by_hit {
                println!("  {hit}: {n} flips, max {max} captures affected, max {records} capture records unreadable");
            }
            report.problems()
        }
        Command::Repack {
            kills,
            manifest,
            documents,
            versions,
        } => {
            let opts = repack::RepackOptions {
                kills,
                seed,
                manifest,
                documents,
                versions,
                evarc: bin,
                work,
            };
            let report = repack::run(&opts, &mut log)?;
            println!(
                "repack: {} kills (seed {seed}), {} repacks finished before their kill, {} readers beside them, {} verify --all runs; archive {} bytes, {} after a full repack",
                report.kills,
                report.completed_early,
                report.reader_runs,
                report.verify_all_runs,
                report.bytes_before,
                report.bytes_after
            );
            report.problems
        }
        Command::FullDisk { dir } => {
            let outcome = hostile::full_disk(&bin, &dir, &work)?;
            println!("full disk: {outcome:?}");
            let clean = outcome.exit == 3 && outcome.error.lines().count() == 1;
            if clean {
                Vec::new()
            } else {
                vec![format!("unclean failure: {outcome:?}")]
            }
        }
    };
    for p in &problems {
        println!("PROBLEM: {p}");
    }
    Ok(problems.is_empty())
}
