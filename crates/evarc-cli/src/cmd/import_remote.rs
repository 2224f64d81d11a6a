//! `evarc import manifest FILE --remote URL --token T`: each row's file sent to a running
//! `evarc serve` (`POST /api/v1/captures`), in manifest order, one at a time. The lines, the
//! summary and the exit codes are those of a local import; the server archives each capture
//! through the same provenance call (a capture already recorded folds, so a rerun is safe).

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use evarc_provenance::{CaptureRequest, CaptureUpload, DocumentRef};
use serde_json::json;

use super::import::{open_row_file, Fate, Row, Tally};
use crate::exit::{self, Outcome};
use crate::output::Output;

use crate::remote::{Remote, RemoteError};

pub fn manifest(
    remote: &Remote,
    rows: Vec<(usize, Result<Row>)>,
    base: &Path,
    out: &mut Output,
) -> Result<Outcome> {
    let mut tally = Tally::default();
    tally.unit = "line";
    for (line, row) in rows {
        let fate = match row.and_then(|row| send_row(remote, base, &row)) {
            Ok(fate) => fate,
            // A server that cannot be reached or fails stops the import (exit 3): every line
            // printed before was archived.
            Err(err) => match err
                .downcast_ref::<RemoteError>()
                .map(|_| exit::code_for(&err))
            {
                Some(exit::ENVIRONMENT) => return Err(err),
                Some(exit::VERIFICATION_FAILED) => Fate::Mismatch(crate::error_line::render(&err)),
                _ => Fate::Failed(crate::error_line::render(&err)),
            },
        };
        tally.report(out, line, fate)?;
    }
    if out.json {
        out.json_line(&json!({"status": "summary", "archived": tally.archived, "skipped": tally.skipped, "mismatched": tally.mismatched, "failed": tally.failed}))?;
    } else {
        eprintln!(
            "{} archived, {} already there, {} hash mismatches, {} failed",
            tally.archived, tally.skipped, tally.mismatched, tally.failed
        );
    }
    Ok(if tally.mismatched > 0 {
        Outcome::VerificationFailed
    } else if tally.failed > 0 {
        Outcome::InputRefused
    } else {
        Outcome::Done
    })
}

fn send_row(remote: &Remote, base: &Path, row: &Row) -> Result<Fate> {
    let (at, expected) = row.time_and_sha256()?;
    let (mut file, path) = open_row_file(base, row)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(len) = row.bytes.as_deref().filter(|b| !b.trim().is_empty()) {
        let expected_len: u64 = len
            .trim()
            .parse()
            .with_context(|| format!("bad bytes column {len:?}"))?;
        if bytes.len() as u64 != expected_len {
            return Ok(Fate::Mismatch(format!(
                "{} is {} bytes, the manifest says {expected_len}",
                path.display(),
                bytes.len()
            )));
        }
    }
    let document = DocumentRef::Named {
        entity: row.entity.clone(),
        title: row.document.clone(),
        source_url: Some(row.source_url.clone()),
        id: None,
    };
    let request = CaptureRequest {
        expected_sha256: expected,
        ..CaptureRequest::file_import(document, at)
    };
    let report = remote
        .send_capture(&CaptureUpload::new(&request, &bytes))
        .map_err(|e| match e {
            // The row's file is named before the server's reason.
            e @ RemoteError::HashMismatch { .. } => {
                anyhow::Error::new(e).context(path.display().to_string())
            }
            e => e.into(),
        })?;
    Ok(Fate::Archived {
        document: report.document.id.to_string(),
        new_document: report.document.new,
        capture_new: report.capture_new,
        sha256: report.snapshot.sha256,
        at,
        snapshot_new: report.snapshot.new,
    })
}
