//! `evarc cite` and `evarc certify`.

use anyhow::{bail, Result};
use evarc_provenance::cite::{self, EvidenceCheck, Format, HashedSubject, Markup, RenderOptions};
use evarc_store::OpenMode;

use super::{now, parse_date, parse_record_id};
use crate::cli::{CertifyArgs, CiteArgs, GlobalArgs};
use crate::context::open;
use crate::exit::{OK, VERIFICATION_FAILED};
use crate::output::Output;

pub fn cite(global: &GlobalArgs, args: CiteArgs, out: &mut Output) -> Result<u8> {
    if let Ok(change) = args.id.trim().parse::<evarc_provenance::id::ChangeId>() {
        let format: Format = args.format.parse()?;
        return super::versions::cite_change(global, &change, format, out);
    }
    let id = parse_record_id(&args.id)?;
    let format: Format = args.format.parse()?;
    let markup: Markup = args.markup.parse()?;
    let accessed = match &args.accessed {
        Some(date) => parse_date("--accessed", date)?,
        None => now().date_naive(),
    };
    let archive = open(global, OpenMode::ReadOnly)?;
    let record = archive.citation(&id)?;
    // Formats that state the evidence check re-read and re-hash the bytes now; the others do
    // not print it, so nothing is claimed for them.
    let evidence = if format.states_evidence() {
        archive.check_evidence(&record.capture)?
    } else {
        EvidenceCheck::Verified
    };
    let failed = !evidence.is_verified();
    // The provenance block names the latest checkpoint proving the record's log leaf.
    let checkpoint = if matches!(format, Format::Provenance | Format::Markdown) {
        archive.proven_checkpoint(&archive.log_subject(&id)?)?
    } else {
        None
    };
    let text = cite::render_with_checkpoint(
        &record,
        format,
        &RenderOptions {
            accessed,
            markup,
            evidence,
        },
        checkpoint.as_ref(),
    );
    out.raw(text.as_bytes())?;
    if !text.ends_with('\n') {
        out.raw(b"\n")?;
    }
    if failed {
        out.flush()?;
        eprintln!(
            "error: the stored bytes of {id} (sha256:{}) did not verify",
            record.capture.sha256
        );
        return Ok(VERIFICATION_FAILED);
    }
    Ok(OK)
}

pub fn certify(global: &GlobalArgs, args: CertifyArgs, out: &mut Output) -> Result<u8> {
    if out.json {
        bail!("certify prints a text declaration; --json is not supported for it");
    }
    let id = parse_record_id(&args.id)?;
    let exhibit = match &args.exhibit {
        Some(path) => Some((path.clone(), super::verify::hash_file(path)?)),
        None => None,
    };
    let archive = open(global, OpenMode::ReadOnly)?;
    let record = archive.citation(&id)?;
    let expected = &record.capture.sha256;
    let (subject, name) = match exhibit {
        Some((path, (sha, _, _))) => {
            if &sha.to_hex() != expected {
                out.flush()?;
                eprintln!(
                    "error: refusing to certify: exhibit {} has SHA-256 {sha}, but {id} recorded {expected}",
                    path.display()
                );
                return Ok(VERIFICATION_FAILED);
            }
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            (
                HashedSubject::Exhibit {
                    path: path.display().to_string(),
                },
                name,
            )
        }
        None => {
            match archive.check_evidence(&record.capture)? {
                EvidenceCheck::Verified => {}
                EvidenceCheck::Missing => {
                    eprintln!("error: refusing to certify: the stored bytes of {id} (sha256:{expected}) are missing");
                    return Ok(VERIFICATION_FAILED);
                }
                EvidenceCheck::Damaged { reason } => {
                    eprintln!("error: refusing to certify: the stored bytes of {id} cannot be read back: {reason}");
                    return Ok(VERIFICATION_FAILED);
                }
                EvidenceCheck::Mismatch { actual_sha256 } => {
                    eprintln!("error: refusing to certify: the stored bytes of {id} hash to {actual_sha256}, but {expected} was recorded");
                    return Ok(VERIFICATION_FAILED);
                }
            }
            (HashedSubject::StoredBytes, exhibit_name(&record))
        }
    };
    let text = cite::certification(&record, &name, now(), &subject);
    out.raw(text.as_bytes())?;
    Ok(OK)
}

/// The file name `evarc get -o` would suggest for the stored bytes of a record.
fn exhibit_name(record: &cite::CitationRecord) -> String {
    let media = record.capture.media_type.to_ascii_lowercase();
    let ext = if media.starts_with("text/html") || media.starts_with("application/xhtml") {
        "html"
    } else if media.starts_with("application/pdf") {
        "pdf"
    } else if media.starts_with("text/plain") {
        "txt"
    } else {
        "bin"
    };
    format!(
        "{}-{}.{ext}",
        record.record_id,
        &record.capture.sha256[..16]
    )
}
