//! One module per command; `run` dispatches.

mod archive;
mod bucket;
mod cite;
mod config;
mod export;
mod export_log;
mod get;
mod history;
mod import;
mod import_ota;
mod import_remote;
mod import_warc;
mod init;
mod provision;
mod repack;
mod serve;
mod show;
mod text;
mod text_diff;
pub(crate) mod tlog;
mod token;
mod track;
mod verify;
mod version_pass;
mod versions;
mod withdraw;

use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::cli::{Cli, Command, ImportCommand, ProvisionCommand};
use crate::exit::Outcome;
use crate::output::Output;

/// Runs a parsed command line; returns how a completed run went (`exit::code_of` maps it).
pub fn run(cli: Cli) -> Result<Outcome> {
    let mut out = Output::new(cli.global.json);
    let g = &cli.global;
    let outcome = match cli.command {
        Command::Init(args) => init::run(g, args, &mut out),
        Command::Archive(args) => archive::run(g, args, &mut out),
        Command::Verify(args) => verify::run(g, args, &mut out),
        Command::Get(args) => get::run(g, args, &mut out),
        Command::Provision(ProvisionCommand::Add(args)) => provision::add(g, args, &mut out),
        Command::Cite(args) => cite::cite(g, args, &mut out),
        Command::Certify(args) => cite::certify(g, args, &mut out),
        Command::History(args) => history::history(g, args, &mut out),
        Command::Diff(args) => history::diff(g, args, &mut out),
        Command::Show(args) => show::show(g, args, &mut out),
        Command::List(args) => show::list(g, args, &mut out),
        Command::Search(args) => show::search(g, args, &mut out),
        Command::Export(args) => export::run(g, args, &mut out),
        Command::Import(ImportCommand::Manifest(args)) => import::manifest(g, args, &mut out),
        Command::Import(ImportCommand::Warc(args)) => import_warc::run(g, args, &mut out),
        Command::Import(ImportCommand::Ota(args)) => import_ota::run(g, args, &mut out),
        Command::Config(args) => config::run(g, args, &mut out),
        Command::Key => tlog::key(g, &mut out),
        Command::Checkpoint(args) => tlog::checkpoint(g, args, &mut out),
        Command::Prove(args) => tlog::prove(g, args, &mut out),
        Command::VerifyProof(_) if g.archive.is_some() => {
            anyhow::bail!(
                "verify-proof checks a proof offline and reads no archive: drop --archive"
            )
        }
        Command::VerifyProof(args) => tlog::verify_proof(args, &mut out),
        Command::Text(args) => text::run(g, args, &mut out),
        Command::Withdraw(args) => withdraw::run(g, args, &mut out),
        Command::Serve(args) => serve::run(g, args, &mut out),
        Command::Declare(args) => versions::declare(g, args, &mut out),
        Command::Reindex(args) => versions::reindex(g, args, &mut out),
        Command::Changes(args) => versions::changes(g, args, &mut out),
        Command::Repack(args) => repack::run(g, args, &mut out),
        Command::Track(args) => track::track(g, args, &mut out),
        Command::Provision(ProvisionCommand::Status(args)) => {
            versions::provision_status(g, args, &mut out)
        }
        Command::Import(ImportCommand::Declarations(args)) => {
            versions::import_declarations(g, args, &mut out)
        }
        Command::Token(command) => token::run(g, command, &mut out),
        Command::Restore(args) => bucket::restore(g, args, &mut out),
        Command::Replicate(args) => bucket::replicate(g, args, &mut out),
        Command::Repair(args) => bucket::repair(g, args, &mut out),
        Command::Gc(args) => bucket::gc(g, args, &mut out),
    }?;
    out.flush()?;
    Ok(outcome)
}

/// The clock: read here, in the CLI, and handed to provenance.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// `2026-05-12 09:51:22 UTC`, sub-seconds shown when present.
pub fn text_time(at: DateTime<Utc>) -> String {
    evarc_provenance::cite::text_time(at)
}

/// `1,234,567`
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
