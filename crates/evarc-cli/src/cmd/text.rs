//! `evarc text CAPTURE|ID [--at DATE]`: the extracted text that quotes are anchored in.

use anyhow::{Context as _, Result};
use evarc_provenance::id::RecordId;
use evarc_provenance::{At, CaptureOf};
use evarc_provenance::{DigestQuery, OpenMode};
use serde_json::json;

use crate::cli::{GlobalArgs, TextArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

pub fn run(global: &GlobalArgs, args: TextArgs, out: &mut Output) -> Result<Outcome> {
    let at = args.at.as_deref().map(At::parse).transpose()?;
    let archive = open(global, OpenMode::ReadOnly)?;
    let target = args.target.trim();
    let what = match target.parse::<RecordId>() {
        Ok(id) => CaptureOf::Record(id),
        Err(id_err) => {
            let Ok(query) = target.parse::<DigestQuery>() else {
                return Err(anyhow::Error::from(id_err).context(format!(
                    "{target:?} is neither a record ID (CA-D-…, CA-P-…) nor a SHA-256"
                )));
            };
            CaptureOf::Snapshot(archive.snapshot(query)?.sha256)
        }
    };
    let capture = archive.capture_of(&what, at)?;
    if args.version_text {
        let (version, text) = archive.version_of_capture(&capture).with_context(|| {
            format!(
                "`evarc reindex {}` extracts the texts of its captures",
                capture.document
            )
        })?;
        out.line(&text)?;
        out.value(&json!({
            "capture": capture,
            "version": version.number,
            "text_sha256": version.text_sha256,
            "change": version.change,
            "first_captured_at": version.first_captured_at,
            "text": text,
        }))?;
        return Ok(Outcome::Done);
    }
    let text = archive.quotable_text(&capture)?;
    out.line(&text)?;
    out.value(&json!({"capture": capture, "text": text}))?;
    Ok(Outcome::Done)
}
