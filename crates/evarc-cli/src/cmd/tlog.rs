//! `evarc key`, `evarc checkpoint`, `evarc prove` and `evarc verify-proof`: the transparency
//! log (docs/transparency-log.md). `verify-proof` opens no archive: it needs only the proof, a
//! checkpoint and the public key, and the checks are `evarc-tlog`'s.

use std::fs;
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use evarc_provenance::evarc_tlog::proof::{is_consistency_proof, ConsistencyProof, InclusionProof};
use evarc_provenance::evarc_tlog::{check, timestamp, Checkpoint, ProofRejected, Verifier};
use evarc_provenance::id::RecordId;
use evarc_provenance::{Archive, CheckpointReport, LogSubject, LoggedLeaf};
use evarc_provenance::{OpenMode, Sha256};

use crate::cli::{CheckpointArgs, GlobalArgs, ProveArgs, VerifyProofArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

/// A signing-key seed from the operating system's CSPRNG.
pub fn random_seed() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|cause| NoRandomness {
        what: "the signing key",
        cause,
    })?;
    Ok(seed)
}

fn random_nonce() -> Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|cause| NoRandomness {
        what: "the nonce",
        cause,
    })?;
    Ok(u64::from_be_bytes(bytes) >> 1)
}

/// The archive's verifier key, created (archive opened for writing) when it has none yet:
/// archives made before the log existed get their key on first use.
fn ensure_key(global: &GlobalArgs) -> Result<(Archive, Verifier)> {
    let archive = open(global, OpenMode::ReadOnly)?;
    if let Some(verifier) = archive.verifier()? {
        return Ok((archive, verifier));
    }
    drop(archive);
    let archive = open(global, OpenMode::ReadWrite)?;
    let verifier = match archive.verifier()? {
        Some(v) => v,
        None => archive.create_signing_key(random_seed()?)?,
    };
    Ok((archive, verifier))
}

pub fn key(global: &GlobalArgs, out: &mut Output) -> Result<Outcome> {
    let (_, verifier) = ensure_key(global)?;
    out.line(verifier.to_string())?;
    out.value(&serde_json::json!({
        "verifier_key": verifier.to_string(),
        "name": verifier.name(),
        "key_id": format!("{:08x}", verifier.key_id()),
        "public_key": hex::encode(verifier.public_key()),
    }))?;
    Ok(Outcome::Done)
}

pub fn checkpoint(global: &GlobalArgs, args: CheckpointArgs, out: &mut Output) -> Result<Outcome> {
    let (archive, _) = ensure_key(global)?;
    let archive = if archive.mode() == OpenMode::ReadWrite {
        archive
    } else {
        drop(archive);
        open(global, OpenMode::ReadWrite)?
    };
    let note = archive.checkpoint()?;
    let head = Checkpoint::parse_unverified(&note)?;
    if let Some(path) = &args.output {
        fs::write(path, &note).with_context(|| format!("writing {}", path.display()))?;
    }
    let mut stamped = false;
    if let Some(url) = &args.tsa {
        let response = request_timestamp(url.as_str(), note.as_bytes(), args.timeout)?;
        archive.keep_timestamp(head.size, &response)?;
        if let Some(path) = &args.timestamp_out {
            fs::write(path, &response).with_context(|| format!("writing {}", path.display()))?;
        }
        stamped = true;
    }
    out.raw_text(&note)?;
    out.value(&CheckpointReport::of(&note, stamped)?)?;
    Ok(Outcome::Done)
}

/// POSTs an RFC 3161 request over `data` and checks the response grants a token for it.
fn request_timestamp(url: &str, data: &[u8], timeout: u64) -> Result<Vec<u8>> {
    let nonce = random_nonce()?;
    let request = timestamp::request(data, nonce);
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(timeout))
        .build();
    let response = agent
        .post(url)
        .set("Content-Type", "application/timestamp-query")
        .set("Accept", "application/timestamp-reply")
        .send_bytes(&request)
        .map_err(|e| match e {
            ureq::Error::Status(status, response) => TsaError::Refused {
                url: url.to_owned(),
                status,
                text: response.status_text().to_owned(),
            },
            ureq::Error::Transport(source) => TsaError::Unreachable {
                url: url.to_owned(),
                source: Box::new(source),
            },
        })?;
    let mut body = Vec::new();
    response
        .into_reader()
        .take(1 << 20)
        .read_to_end(&mut body)
        .map_err(TsaError::Unreadable)?;
    timestamp::check_response(&body, data, nonce)
        .with_context(|| format!("the time-stamp response of {url}"))?;
    Ok(body)
}

pub fn prove(global: &GlobalArgs, args: ProveArgs, out: &mut Output) -> Result<Outcome> {
    let archive = open(global, OpenMode::ReadOnly)?;
    // (kind, proof text, leaf index, old size, checkpoint) for the --json shape.
    let (kind, text, index, old_size, checkpoint_text) = if let Some(old) = &args.consistency {
        let old = read_text(old)?;
        let proof = archive.consistency_proof(&old)?;
        let text = proof.to_text();
        (
            "consistency",
            text,
            None,
            Some(proof.old_size),
            proof.checkpoint,
        )
    } else {
        let subject = subject(&archive, args.id.clone(), args.capture)?;
        let checkpoint = args.checkpoint.as_deref().map(read_text).transpose()?;
        let proof = archive.inclusion_proof(&subject, checkpoint.as_deref())?;
        let text = proof.to_text();
        ("inclusion", text, Some(proof.index), None, proof.checkpoint)
    };
    let tree_size = evarc_provenance::evarc_tlog::Checkpoint::parse_unverified(&checkpoint_text)
        .ok()
        .map(|c| c.size);
    let value = serde_json::json!({
        "kind": kind,
        "path": args.output.as_ref().map(|p| p.display().to_string()),
        "index": index,
        "old_size": old_size,
        "tree_size": tree_size,
        "proof": text,
    });
    match &args.output {
        Some(path) => {
            fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            out.line(format!("wrote {}", path.display()))?;
            out.value(&value)?;
        }
        None if out.json => out.value(&value)?,
        None => out.raw(text.as_bytes())?,
    }
    Ok(Outcome::Done)
}

/// The record `prove` is asked about.
fn subject(archive: &Archive, id: Option<RecordId>, sha: Option<Sha256>) -> Result<LogSubject> {
    match (id, sha) {
        (Some(RecordId::Provision(p)), None) => Ok(LogSubject::Provision(archive.provision(&p)?)),
        (Some(RecordId::Provision(_)), Some(_)) => {
            bail!("--capture selects a capture of a document; a provision has one capture")
        }
        (Some(RecordId::Document(doc)), sha) => {
            let document = archive.document(&doc)?;
            let capture = match sha {
                Some(sha) => archive.capture_by_sha(&doc, sha)?,
                None => archive.latest_capture(&doc)?,
            };
            Ok(LogSubject::Capture { document, capture })
        }
        (None, Some(sha)) => {
            let mut captures = archive.captures_with_sha(sha)?;
            match captures.len() {
                1 => {
                    let capture = captures.remove(0);
                    let document = archive.document(&capture.document)?;
                    Ok(LogSubject::Capture { document, capture })
                }
                0 => bail!("no capture has SHA-256 {}", sha.to_hex()),
                n => bail!(
                    "{n} captures have SHA-256 {}: give the document ID too",
                    sha.to_hex()
                ),
            }
        }
        (None, None) => bail!("give a record ID, --capture or --consistency"),
    }
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// The operating system gave no randomness (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("no randomness for {what}: {cause}")]
pub struct NoRandomness {
    pub what: &'static str,
    /// (getrandom 0.2's error is not a `std::error::Error` without its `std` feature.)
    pub cause: getrandom::Error,
}

/// A time-stamp request that failed on the way (the response's own checks are `evarc-tlog`'s
/// `TimestampError`). `exit::code_for`: a refusal 2, as for URL capture; the rest 3.
#[derive(Debug, thiserror::Error)]
pub enum TsaError {
    #[error("the time-stamp authority {url} refused the request: HTTP {status} {text}")]
    Refused {
        url: String,
        status: u16,
        text: String,
    },
    #[error("time-stamp request to {url} failed: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: Box<ureq::Transport>,
    },
    #[error("reading the time-stamp response: {0}")]
    Unreadable(#[source] std::io::Error),
}

pub fn verify_proof(args: VerifyProofArgs, out: &mut Output) -> Result<Outcome> {
    let key_text = if Path::new(&args.key).is_file() {
        read_text(Path::new(&args.key))?
    } else {
        args.key.clone()
    };
    let verifier = Verifier::parse(&key_text).context("invalid --key")?;
    let checkpoint_text = read_text(&args.checkpoint)?;
    let given = check::open_checkpoint(
        &checkpoint_text,
        &verifier,
        format!("checkpoint {}", args.checkpoint.display()),
    )?;
    let proof_text = read_text(&args.proof)?;
    if is_consistency_proof(&proof_text) {
        let proof = ConsistencyProof::parse(&proof_text).context("invalid --proof")?;
        let new = proof.check(&given, &verifier)?;
        out.line(format!(
            "verified: the log {} of {} leaves is a prefix of its tree of {} leaves ({})",
            given.origin,
            given.size,
            new.size,
            new.root_base64()
        ))?;
        out.value(&serde_json::json!({
            "verified": true, "kind": "consistency", "origin": given.origin,
            "old_size": given.size, "new_size": new.size, "new_root": new.root_base64(),
        }))?;
        return Ok(Outcome::Done);
    }
    let proof = InclusionProof::parse(&proof_text).context("invalid --proof")?;
    let head = proof.check_head(&given, &verifier)?;
    let record = match &args.record {
        Some(path) => Some(fs::read(path).with_context(|| format!("reading {}", path.display()))?),
        None => None,
    };
    let record_name = args.record.as_ref().map(|p| p.display().to_string());
    let given_leaf = record_name.as_deref().zip(record.as_deref());
    let Some(leaf) = proof.leaf(given_leaf)? else {
        bail!("the proof carries no leaf: give the record with --record FILE");
    };
    proof.check_leaf(&head, leaf)?;
    let logged = LoggedLeaf::parse(leaf).map_err(|reason| ProofRejected::UnreadableLeaf {
        index: proof.index,
        reason,
    })?;
    if let Some(path) = &args.bytes {
        let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        logged.check_bytes(&bytes, &path.display().to_string())?;
    }
    let record: serde_json::Value = serde_json::from_slice(leaf).unwrap_or_default();
    let (what, sha) = (logged.describe(), logged.sha256);
    out.line(format!(
        "verified: {what} (sha256:{sha}, captured {}) is leaf {} of {} in its tree of {} leaves",
        logged.captured_at, proof.index, head.origin, head.size
    ))?;
    if args.bytes.is_some() {
        out.line("verified: the bytes given hash to the logged SHA-256")?;
    }
    out.value(&serde_json::json!({
        "verified": true, "kind": "inclusion", "origin": head.origin, "size": head.size,
        "root": head.root_base64(), "index": proof.index, "record": record,
        "bytes_verified": args.bytes.is_some(),
    }))?;
    Ok(Outcome::Done)
}
