//! `evarc-bench`: measures evarc on a manifest corpus (../shared/corpus layout), side by side
//! with the reference tools on the same bytes, and a synthetic scale run. docs/benchmarks.md
//! says how to run it and records the results.

// A benchmark measures the store itself, beside provenance (clippy.toml keeps front ends off it).
#![allow(clippy::disallowed_methods)]

mod access;
mod corpus;
mod disk;
mod encodings;
mod flat;
mod load;
mod measure;
mod scale;
mod space;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "evarc-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest, audit, bytes on disk and random access on a manifest corpus.
    Corpus(corpus::CorpusArgs),
    /// Write a synthetic corpus of N small captures of M documents (manifest + files).
    Generate(scale::GenerateArgs),
    /// Ingest rate from the first to the last 10k of N synthetic captures, and cite latency.
    Scale(scale::ScaleArgs),
    /// Import of new documents into an empty archive and into a big one, side by side.
    Flat(flat::FlatArgs),
    /// HTTP load at a fixed rate (open loop), latency from the intended send time.
    Load(load::LoadArgs),
    /// Sizes of snapshot encodings tried on a manifest corpus, without an archive.
    Encodings(encodings::EncodingsArgs),
    /// Read + verify random captures of existing archives (read-only), side by side.
    Reads(access::ReadsArgs),
    /// Where an archive's bytes are: table files per column family, values by kind, other files.
    Space(space::SpaceArgs),
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Corpus(args) => corpus::run(args),
        Command::Generate(args) => scale::generate(args),
        Command::Scale(args) => scale::run(args),
        Command::Flat(args) => flat::run(args),
        Command::Load(args) => load::run(args),
        Command::Encodings(args) => encodings::run(args),
        Command::Reads(args) => access::reads(args),
        Command::Space(args) => space::run(args),
    }
}

/// The `evarc` binary: given, or built next to this one.
pub fn evarc_binary(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path);
    }
    let me = std::env::current_exe()?;
    let beside = me.with_file_name("evarc");
    anyhow::ensure!(
        beside.exists(),
        "no evarc binary at {}: build it (cargo build --release -p evarc-cli) or pass --evarc",
        beside.display()
    );
    Ok(beside)
}
