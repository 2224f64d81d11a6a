//! `evarc cite` and `evarc certify`: argument parsing and printing only. Which capture is cited,
//! the evidence check and the checkpoint are decided by `Archive::cite` (evarc-provenance).

use anyhow::Result;
use evarc_provenance::cite::{self, HashedSubject};
use evarc_provenance::OpenMode;
use evarc_provenance::{CaptureChoice, CiteOptions, Exhibit};
use serde_json::json;

use super::now;
use crate::cli::{CertifyArgs, CiteArgs, GlobalArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;
use crate::values::CitedId;

/// `--capture SHA256` / `--at DATE|DATETIME` as a capture choice (clap keeps them exclusive).
pub(crate) fn capture_choice(
    capture: Option<evarc_provenance::Sha256>,
    at: Option<&str>,
) -> Result<CaptureChoice> {
    if let Some(sha) = capture {
        return Ok(CaptureChoice::Sha256(sha));
    }
    let Some(at) = at else {
        return Ok(CaptureChoice::Latest);
    };
    let at = evarc_provenance::At::parse(at).map_err(|_| {
        anyhow::anyhow!(
            "invalid --at {at:?}: expected a date (YYYY-MM-DD) or an RFC 3339 instant (2026-05-12T09:51:22Z)"
        )
    })?;
    Ok(CaptureChoice::at(at))
}

pub fn cite(global: &GlobalArgs, args: CiteArgs, out: &mut Output) -> Result<Outcome> {
    let id = match args.id {
        CitedId::Change(change) => {
            return super::versions::cite_change(global, &change, args.format, out);
        }
        CitedId::Record(id) => id,
    };
    let (format, markup) = (args.format, args.markup);
    let choice = capture_choice(args.capture, args.at.as_deref())?;
    let accessed = args.accessed.unwrap_or_else(|| now().date_naive());
    let archive = open(global, OpenMode::ReadOnly)?;
    // Bytes that do not verify are an error here: nothing reaches stdout, exit 1.
    let citation = archive.cite(&id, &choice, format, &CiteOptions { accessed, markup })?;
    if out.json {
        let capture = &citation.record.capture;
        out.value(&json!({
            "record_id": citation.record.record_id.to_string(),
            "document_id": citation.record.document_id.to_string(),
            "format": format.name(),
            "markup": markup.to_string(),
            "capture": {
                "sha256": capture.sha256,
                "captured_at": cite::json_time(capture.captured_at),
            },
            "evidence": "verified",
            "withdrawn": capture.withdrawn.as_ref().map(|w| json!({
                "at": cite::json_time(w.withdrawn_at),
                "reason": w.reason,
            })),
            "accessed": accessed.format("%Y-%m-%d").to_string(),
            "text": citation.text,
        }))?;
        return Ok(Outcome::Done);
    }
    out.raw(citation.text.as_bytes())?;
    if !citation.text.ends_with('\n') {
        out.raw(b"\n")?;
    }
    Ok(Outcome::Done)
}

pub fn certify(global: &GlobalArgs, args: CertifyArgs, out: &mut Output) -> Result<Outcome> {
    let id = args.id;
    let choice = capture_choice(args.capture, args.at.as_deref())?;
    let exhibit = match &args.exhibit {
        Some(path) => Some(Exhibit {
            path: path.display().to_string(),
            sha256: super::verify::hash_file(path)?.0,
        }),
        None => None,
    };
    let archive = open(global, OpenMode::ReadOnly)?;
    // Which capture, whether the bytes or the exhibit match: decided by provenance; a refusal
    // is an error (exit 1), with nothing on stdout.
    let cert = match archive.certify(&id, &choice, exhibit.as_ref(), now()) {
        Ok(cert) => cert,
        // A refusal is the typed error (exit 1 from `exit::code_for`), with nothing on stdout.
        Err(err) if err.is_integrity_failure() && err.store_error().is_none() => {
            out.flush()?;
            if err.to_string().starts_with("refusing to certify") {
                return Err(err.into());
            }
            return Err(anyhow::Error::new(err).context("refusing to certify"));
        }
        Err(err) => return Err(err.into()),
    };
    let record = &cert.record;
    if out.json {
        out.value(&json!({
            "record_id": record.record_id.to_string(),
            "document_id": record.document_id.to_string(),
            "capture": {
                "sha256": record.capture.sha256,
                "captured_at": cite::json_time(record.capture.captured_at),
            },
            "hashed": match &cert.subject {
                HashedSubject::StoredBytes => json!({"kind": "stored-bytes"}),
                HashedSubject::Exhibit { path } => json!({"kind": "exhibit", "path": path}),
            },
            "exhibit_name": cert.exhibit_name,
            "verified_at": cite::json_time(cert.verified_at),
            "withdrawn": record.capture.withdrawn.as_ref().map(|w| json!({
                "at": cite::json_time(w.withdrawn_at),
                "reason": w.reason,
            })),
            "text": cert.text,
        }))?;
        return Ok(Outcome::Done);
    }
    if cert.matched_exhibit {
        // Which capture the exhibit matched, on stderr: the declaration itself names it too.
        eprintln!(
            "certifying against the capture of {} captured {} (sha256:{})",
            record.document_id,
            cite::text_time(record.capture.captured_at),
            record.capture.sha256
        );
    }
    out.raw(cert.text.as_bytes())?;
    Ok(Outcome::Done)
}
