//! The version pass of bulk imports (docs/versions.md): captures are stored first, without
//! their text, and the versions of the documents an import touched are computed afterwards,
//! documents in parallel. Until then those captures are "not indexed yet": a crash in between
//! leaves them for the next import or `evarc reindex`, never a wrong change record.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::archive::Archive;
use crate::error::Result;
use crate::id::{ChangeId, DocumentId};
use crate::order::RegistrationTurns;
use crate::versions::TextReuse;

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
        let turns = RegistrationTurns::new();
        let outcomes: Mutex<
            Vec<(
                usize,
                Result<Option<(usize, crate::versions::ReindexReport)>>,
            )>,
        > = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..workers.clamp(1, documents.len().max(1)) {
                scope.spawn(|| loop {
                    let next = queue
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .pop_front();
                    let Some((turn, id)) = next else { break };
                    let outcome = self.index_document_versions(id, &turns, turn, now);
                    // A failed document passes its turn too: the others still get written.
                    turns.pass(turn);
                    outcomes
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((turn, outcome));
                });
            }
        });
        let mut outcomes = outcomes
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        outcomes.sort_by_key(|(turn, _)| *turn);
        let mut pass = VersionPass::default();
        for (_, outcome) in outcomes {
            match outcome? {
                None => pass.documents_unchanged += 1,
                Some((captures, report)) => {
                    pass.documents_indexed += 1;
                    pass.captures_indexed += captures;
                    pass.changes_new.extend(report.changes_new);
                    pass.changes_superseded.extend(report.changes_superseded);
                }
            }
        }
        pass.changes_new.sort_by_key(ChangeId::seq);
        Ok(pass)
    }

    /// One document of the pass: extraction now, writing in its turn.
    fn index_document_versions(
        &self,
        id: &DocumentId,
        turns: &RegistrationTurns,
        turn: usize,
        now: DateTime<Utc>,
    ) -> Result<Option<(usize, crate::versions::ReindexReport)>> {
        let extracted = self.extract_texts(id, TextReuse::KeepRecorded);
        turns.wait(turn);
        let extracted = extracted?;
        if extracted.nothing_new() {
            return Ok(None);
        }
        let captures = extracted.new_count();
        let report = self.write_versions(id, extracted, now)?;
        Ok(Some((captures, report)))
    }
}
