//! The version pass at the end of a bulk import (`import manifest`, `import ota`, `import
//! warc`): captures were stored without their text; provenance now computes the versions of
//! the documents the import touched, in parallel, and this renders what it did and its time.

use std::time::Instant;

use anyhow::Result;
use evarc_provenance::id::DocumentId;
use evarc_provenance::Archive;
use serde_json::json;

use super::{now, thousands};
use crate::output::Output;

/// Computes the versions of `documents` (in the order given: change-record IDs follow it) and
/// reports it when some capture got its text: one line on stderr, or a `"status": "versions"`
/// object with `--json`.
pub(super) fn run(archive: &Archive, documents: &[DocumentId], out: &mut Output) -> Result<()> {
    if documents.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let workers = archive.import_workers();
    let pass = archive.index_versions(documents, workers, now())?;
    let seconds = started.elapsed().as_secs_f64();
    if pass.captures_indexed == 0 {
        return Ok(());
    }
    if out.json {
        out.json_line(&json!({
            "status": "versions",
            "documents": pass.documents_indexed,
            "captures": pass.captures_indexed,
            "changes_new": pass.changes_new.len(),
            "changes_superseded": pass.changes_superseded.len(),
            "seconds": (seconds * 1000.0).round() / 1000.0,
        }))?;
    } else {
        let plural =
            |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        let superseded = match pass.changes_superseded.len() {
            0 => String::new(),
            n => format!(", {n} superseded"),
        };
        eprintln!(
            "text versions: {} {} of {} {} indexed, {} new change {}{superseded} ({seconds:.2} s)",
            thousands(pass.captures_indexed as u64),
            plural(pass.captures_indexed, "capture", "captures"),
            thousands(pass.documents_indexed as u64),
            plural(pass.documents_indexed, "document", "documents"),
            thousands(pass.changes_new.len() as u64),
            plural(pass.changes_new.len(), "record", "records"),
        );
    }
    Ok(())
}
