//! The version pass of bulk imports (docs/versions.md): captures are stored first, without
//! their text, and the versions of the documents an import touched are computed afterwards,
//! documents in parallel. Until then those captures are "not indexed yet": a crash in between
//! leaves them for the next import or `evarc reindex`, never a wrong change record.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use evarc_store::Durability;
use serde::Serialize;

use crate::archive::Archive;
use crate::error::Result;
use crate::id::{ChangeId, DocumentId};
use crate::versions::{Extracted, ReindexReport, TextReuse};

/// What a version pass did.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionPass {
    /// Documents whose captures all had their text already.
    pub documents_unchanged: usize,
    /// Documents with captures indexed now.
    pub documents_indexed: usize,
    /// Captures whose text was extracted now.
    pub captures_indexed: usize,
    /// Change records issued, in ID order.
    pub changes_new: Vec<ChangeId>,
    /// Change records that a capture inserted between two others superseded.
    pub changes_superseded: Vec<ChangeId>,
}

impl Archive {
    /// Computes the versions of every capture of `documents` that has none yet: texts extracted
    /// from the stored bytes (documents in parallel, at most `workers` at a time), new version
    /// texts stored as delta snapshots, change records issued. Writes happen document by
    /// document in the order given (the same input gives the same change-record IDs). Captures
    /// that have their text keep it; a document whose new captures fall between older ones is
    /// recomputed as `reindex` would, keeping its rules' texts.
    pub fn index_versions(
        &self,
        documents: &[DocumentId],
        workers: usize,
        now: DateTime<Utc>,
    ) -> Result<VersionPass> {
        let queue = Mutex::new(documents.iter().enumerate().collect::<VecDeque<_>>());
        let pass = Pass {
            ready: Mutex::new(BTreeMap::new()),
            writer: Mutex::new(0),
            outcomes: Mutex::new(Vec::new()),
        };
        std::thread::scope(|scope| {
            for _ in 0..workers.clamp(1, documents.len().max(1)) {
                scope.spawn(|| loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .pop_front();
                    let Some((turn, id)) = next else { break };
                    // Extraction and diffs in parallel, outside the writer lock.
                    let planned = self.extract_texts(id, TextReuse::KeepRecorded).and_then(
                        |mut extracted| {
                            if !extracted.nothing_new() {
                                self.plan_versions(id, &mut extracted)?;
                            }
                            Ok(extracted)
                        },
                    );
                    pass.ready
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(turn, (id, planned));
                    // Whoever is free writes what is ready, in turn order; a worker busy
                    // writing leaves the next documents to the others.
                    if let Ok(mut next) = pass.writer.try_lock() {
                        self.write_ready(&pass, &mut next, now);
                    }
                });
            }
        });
        let mut next = pass.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.write_ready(&pass, &mut next, now);
        drop(next);
        // Every document's records were written deferred: one sync makes them all durable.
        self.store().sync()?;
        let mut outcomes = pass
            .outcomes
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        outcomes.sort_by_key(|(turn, _)| *turn);
        let mut report = VersionPass::default();
        for (_, outcome) in outcomes {
            match outcome? {
                None => report.documents_unchanged += 1,
                Some((captures, reindexed)) => {
                    report.documents_indexed += 1;
                    report.captures_indexed += captures;
                    report.changes_new.extend(reindexed.changes_new);
                    report
                        .changes_superseded
                        .extend(reindexed.changes_superseded);
                }
            }
        }
        report.changes_new.sort_by_key(ChangeId::seq);
        Ok(report)
    }

    /// Writes the planned documents whose turn has come (`next`), in order.
    fn write_ready(&self, pass: &Pass<'_>, next: &mut usize, now: DateTime<Utc>) {
        loop {
            let ready = pass
                .ready
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(next);
            let Some((id, planned)) = ready else { return };
            let outcome = planned.and_then(|extracted| {
                if extracted.nothing_new() {
                    return Ok(None);
                }
                let captures = extracted.new_count();
                let written = self.write_versions(id, extracted, now, Durability::Deferred)?;
                Ok(Some((captures, written)))
            });
            pass.outcomes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((*next, outcome));
            *next += 1;
        }
    }
}

/// Documents planned and waiting for their turn to be written, the next turn (held by the
/// thread writing), and what each document's writing did.
struct Pass<'a> {
    ready: Mutex<BTreeMap<usize, (&'a DocumentId, Result<Extracted>)>>,
    writer: Mutex<usize>,
    #[allow(clippy::type_complexity)]
    outcomes: Mutex<Vec<(usize, Result<Option<(usize, ReindexReport)>>)>>,
}
