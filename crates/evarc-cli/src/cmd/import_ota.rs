//! `evarc import ota SNAPSHOTS_GIT_DIR`: an Open Terms Archive snapshots repository, read by
//! evarc-package's [`OtaSnapshots`], imported by the same machinery as `import manifest`
//! ([`import_rows`]): each snapshot is a manifest row whose bytes come from git.

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use evarc_package::{OtaCapture, OtaFilter, OtaSnapshots};
use evarc_provenance::Archive;
use evarc_provenance::{OpenMode, Sha256};

use super::import::{already_recorded, import_rows, record_capture, Fate, Row, RowSource};
use crate::cli::{GlobalArgs, ImportOtaArgs};
use crate::context::open;
use crate::exit::Outcome;
use crate::output::Output;

pub fn run(global: &GlobalArgs, args: ImportOtaArgs, out: &mut Output) -> Result<Outcome> {
    let filter = OtaFilter {
        since: args.since,
        until: args.until,
        services: args.services,
    };
    let snapshots = OtaSnapshots::open(&args.repository)?;
    let captures = snapshots.captures(&filter)?;
    let rows = captures
        .iter()
        .enumerate()
        .map(|(i, capture)| (i + 1, row_of(capture)))
        .collect();
    let archive = open(global, OpenMode::ReadWrite)?;
    let source = GitSnapshots {
        repository: &args.repository,
        snapshots: &snapshots,
        by_path: captures
            .iter()
            .map(|c| (format!("{}:{}", c.commit, c.path), c))
            .collect(),
    };
    import_rows(&archive, rows, &source, out)
}

/// The manifest row of a snapshot; `path` is `<commit>:<path>`, how git names the file.
fn row_of(capture: &OtaCapture) -> Result<Row> {
    let source_url = capture.source_url.clone().with_context(|| {
        format!(
            "commit {} ({}) has no {} trailer: no source URL",
            capture.commit,
            capture.path,
            evarc_package::OTA_SOURCE_TRAILER
        )
    })?;
    Ok(Row {
        captured_at: capture.captured_at.to_rfc3339(),
        entity: capture.service.clone(),
        document: capture.document.clone(),
        source_url,
        path: format!("{}:{}", capture.commit, capture.path),
        sha256: None,
        bytes: None,
    })
}

struct GitSnapshots<'a> {
    repository: &'a std::path::Path,
    snapshots: &'a OtaSnapshots,
    /// Each snapshot by its row's `path`.
    by_path: HashMap<String, &'a OtaCapture>,
}

impl RowSource for GitSnapshots<'_> {
    fn unit(&self) -> &'static str {
        "capture"
    }

    fn resume_command(&self) -> String {
        format!("evarc import ota {}", self.repository.display())
    }

    fn import(&self, archive: &Archive, row: &Row) -> Result<Fate> {
        let capture = self
            .by_path
            .get(&row.path)
            .with_context(|| format!("no snapshot {}", row.path))?;
        let at = crate::values::field_instant("commit date", &row.captured_at)?;
        let bytes = self.snapshots.read(capture)?;
        let sha = Sha256::of(&bytes);
        // A rerun finds the capture recorded and stores nothing.
        if let Some(skipped) = already_recorded(archive, row, at, sha)? {
            return Ok(skipped);
        }
        record_capture(archive, row, at, Some(sha), bytes.as_slice(), &row.path)
    }
}
