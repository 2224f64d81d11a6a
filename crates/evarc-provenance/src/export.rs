//! What an evidence package of some records holds (`evarc export`, and the package downloads
//! of `evarc serve`): which captures, with which citations anchored on each, which change
//! records, and which transparency-log evidence. Every front end calls [`Archive::export_plan`]
//! and hands the plan to `evarc-package`, which writes the formats; so the CLI and the server
//! give the same bytes for the same records.
//!
//! The plan holds no clock-derived value except the bagging date the caller hands in: the
//! access date printed in the citation texts defaults to the date of the latest capture
//! exported, so exporting the same IDs twice gives byte-identical packages.
//!
//! No checkpoint is made here (an export reads the archive only): records the latest
//! checkpoint does not cover are exported without proof and named in [`LogSummary::unproven`].

use std::io::{self, Read};

use chrono::{DateTime, NaiveDate, Utc};
use evarc_package::{CaptureBytes, ExportCapture, ExportOptions, LogEvidence, LogProof};
use evarc_store::Sha256;
use evarc_tlog::Checkpoint;
use serde::Serialize;

use crate::archive::Archive;
use crate::change::ChangeRecord;
use crate::citing::CaptureChoice;
use crate::error::{ProvenanceError, Result};
use crate::id::RecordId;
use crate::model::Capture;
use crate::tlog::LogSubject;

/// Which records to export, and how the captures of document IDs are chosen.
#[derive(Clone, Debug, Default)]
pub struct ExportRequest {
    /// The IDs asked for, in order (repeats are exported once).
    pub ids: Vec<RecordId>,
    /// Only the capture of each document ID with these bytes.
    pub only: Option<Sha256>,
    /// The captures of document IDs: every one (`Latest`), or the one in force at an instant.
    pub at: CaptureChoice,
    /// The reader's day printed in the citation texts; None: the date of the latest capture
    /// exported (reproducible).
    pub accessed: Option<NaiveDate>,
    /// The day the package is made (BagIt `Bagging-Date`), decided by the caller's clock.
    pub bagging_date: Option<NaiveDate>,
    /// Tool and version written into the package, e.g. `evarc 0.1.0`.
    pub software: String,
}

/// Everything a package of [`ExportRequest`] holds; `evarc-package` writes it in any format.
#[derive(Clone, Debug)]
pub struct ExportPlan {
    /// The captures, each with the citations of the requested IDs anchored on it.
    pub items: Vec<ExportCapture>,
    /// Options of the writers, the change records included ([`ExportOptions::changes`]).
    pub options: ExportOptions,
    /// The transparency-log evidence (None: no checkpoint covers any exported record).
    pub log: Option<LogEvidence>,
    pub log_summary: LogSummary,
}

impl ExportPlan {
    /// The documents exported, each once, sorted.
    pub fn documents(&self) -> Vec<String> {
        let mut documents: Vec<String> = self
            .items
            .iter()
            .map(|i| i.document.id.to_string())
            .collect();
        documents.sort();
        documents.dedup();
        documents
    }

    /// Captures counted once even when a document and a provision both ask for them.
    pub fn distinct_captures(&self) -> usize {
        let mut keys: Vec<(String, Sha256, DateTime<Utc>)> = self
            .items
            .iter()
            .map(|i| {
                (
                    i.document.id.to_string(),
                    i.capture.sha256,
                    i.capture.captured_at,
                )
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys.len()
    }

    /// Sum of the recorded byte lengths of the captures: what a package carries at least.
    pub fn capture_bytes(&self) -> u64 {
        self.items.iter().map(|i| i.capture.byte_len).sum()
    }

    /// Re-reads and re-hashes every capture of the plan now (streaming, one at a time): the
    /// first whose bytes do not verify, with the check. A server checks this before it sends
    /// the first byte of a package it streams.
    pub fn first_unverified(
        &self,
        archive: &Archive,
    ) -> Result<Option<(Capture, crate::cite::EvidenceCheck)>> {
        for item in &self.items {
            let check = archive.check_capture(&item.capture)?;
            if !check.is_verified() {
                return Ok(Some((item.capture.clone(), check)));
            }
        }
        Ok(None)
    }
}

/// What a package says about the log.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LogSummary {
    /// `<origin> <size> <root base64>` of the checkpoint the proofs are against, if any.
    pub checkpoint: Option<String>,
    /// Whether the package carries an RFC 3161 time-stamp over the checkpoint.
    pub timestamped: bool,
    /// Inclusion proofs included.
    pub proofs: usize,
    /// Records exported without a proof: no checkpoint covers their leaf yet.
    pub unproven: Vec<String>,
}

impl Archive {
    /// The whole content of a package of `request.ids`: captures with citations, change
    /// records, log evidence and the writers' options.
    pub fn export_plan(&self, request: &ExportRequest) -> Result<ExportPlan> {
        let items = self.export_items(&request.ids, request.only, &request.at)?;
        let accessed = request
            .accessed
            .unwrap_or_else(|| latest_capture_date(&items));
        let changes = self.export_changes(&request.ids, &items)?;
        let (log, log_summary) = self.export_log_evidence(&items)?;
        let options = ExportOptions {
            accessed,
            gzip: false,
            software: request.software.clone(),
            archive_name: self.config()?.name,
            operator: None,
            bagging_date: request.bagging_date,
            changes,
        };
        Ok(ExportPlan {
            items,
            options,
            log,
            log_summary,
        })
    }

    /// The captures to export, each with the citations of the requested IDs anchored on it: a
    /// document's citation of that very capture for a document ID (every capture, the one in
    /// force at `at`, or only the one with bytes `only`), a provision's citation for a
    /// provision ID.
    pub fn export_items(
        &self,
        ids: &[RecordId],
        only: Option<Sha256>,
        at: &CaptureChoice,
    ) -> Result<Vec<ExportCapture>> {
        let mut items = Vec::new();
        for id in ids {
            match id {
                RecordId::Document(doc) => {
                    let document = self.document(doc)?;
                    let mut captures = if at.is_latest() {
                        self.captures(doc)?
                    } else {
                        vec![self.choose_capture(doc, at)?]
                    };
                    if let Some(sha) = only {
                        captures.retain(|c| c.sha256 == sha);
                        if captures.is_empty() {
                            // Names where the bytes are instead, if anywhere.
                            self.capture_by_sha(doc, sha)?;
                        }
                    }
                    if captures.is_empty() {
                        return Err(ProvenanceError::InvalidInput(format!(
                            "{doc} has no captures to export"
                        )));
                    }
                    for capture in captures {
                        let citation = self.citation_of_capture(doc, &capture)?;
                        items.push(ExportCapture {
                            document: document.clone(),
                            capture,
                            citations: vec![citation],
                        });
                    }
                }
                RecordId::Provision(_) => {
                    let citation = self.citation(id)?;
                    let document = self.document(&citation.document_id)?;
                    let capture = self
                        .captures(&document.id)?
                        .into_iter()
                        .find(|c| {
                            c.sha256 == citation.capture.sha256
                                && c.captured_at == citation.capture.captured_at
                        })
                        .ok_or_else(|| {
                            ProvenanceError::InvalidInput(format!(
                                "the capture of {id} is not recorded"
                            ))
                        })?;
                    items.push(ExportCapture {
                        document,
                        capture,
                        citations: vec![citation],
                    });
                }
            }
        }
        Ok(items)
    }

    /// The change records that concern the exported records, each once, in ID order, with
    /// every provision's status computed now ([`Archive::changes_with_statuses`]): for a
    /// document ID, its change records up to its latest exported capture (the changes that led
    /// to the texts exported); for a provision ID, its document's change records after the
    /// provision's capture (what became of the clause in each later version). Superseded
    /// records are included, marked as such.
    pub fn export_changes(
        &self,
        ids: &[RecordId],
        items: &[ExportCapture],
    ) -> Result<Vec<ChangeRecord>> {
        let mut out: Vec<ChangeRecord> = Vec::new();
        for id in ids {
            // The document, and the window of change dates that concern the record.
            let (document, after, until) = match id {
                RecordId::Document(doc) => {
                    let Some(latest) = items
                        .iter()
                        .filter(|i| i.document.id == *doc)
                        .map(|i| i.capture.captured_at)
                        .max()
                    else {
                        continue;
                    };
                    (doc.clone(), None, Some(latest))
                }
                RecordId::Provision(p) => {
                    let provision = self.provision(p)?;
                    let from = provision.capture.captured_at;
                    (provision.document, Some(from), None)
                }
            };
            for change in self.changes_with_statuses(&document)? {
                let at = change.capture.captured_at;
                let concerns = after.is_none_or(|a| at > a) && until.is_none_or(|u| at <= u);
                if concerns && !out.iter().any(|c| c.id == change.id) {
                    out.push(change);
                }
            }
        }
        out.sort_by_key(|c| c.id.seq());
        Ok(out)
    }

    /// The transparency-log evidence of an export (docs/transparency-log.md, "Evidence in
    /// packages"): the latest kept checkpoint, the verifier key, the checkpoint's RFC 3161
    /// time-stamp when it has one, and the inclusion proof of every exported record's leaf
    /// that the checkpoint covers: each capture's, and each exported provision's.
    pub fn export_log_evidence(
        &self,
        items: &[ExportCapture],
    ) -> Result<(Option<LogEvidence>, LogSummary)> {
        let mut subjects: Vec<(LogProof, LogSubject)> = Vec::new();
        for item in items {
            let base = LogProof {
                document: item.document.id.to_string(),
                sha256: item.capture.sha256,
                captured_at: item.capture.captured_at,
                provision: None,
                proof: String::new(),
            };
            subjects.push((
                base.clone(),
                LogSubject::Capture {
                    document: item.document.clone(),
                    capture: item.capture.clone(),
                },
            ));
            for citation in &item.citations {
                if let RecordId::Provision(id) = &citation.record_id {
                    let proof = LogProof {
                        provision: Some(id.to_string()),
                        ..base.clone()
                    };
                    subjects.push((proof, LogSubject::Provision(self.provision(id)?)));
                }
            }
        }
        subjects.sort_by(|a, b| proof_key(&a.0).cmp(&proof_key(&b.0)));
        subjects.dedup_by(|a, b| proof_key(&a.0) == proof_key(&b.0));

        let mut summary = LogSummary::default();
        let (Some(verifier), Some(note)) = (self.verifier()?, self.latest_checkpoint()?) else {
            summary.unproven = subjects.iter().map(|(_, s)| s.name()).collect();
            return Ok((None, summary));
        };
        let head = Checkpoint::parse_unverified(&note)?;
        let mut proofs = Vec::new();
        for (mut proof, subject) in subjects {
            match self.inclusion_proof(&subject, Some(&note)) {
                Ok(inclusion) => {
                    proof.proof = inclusion.to_text();
                    proofs.push(proof);
                }
                Err(
                    ProvenanceError::NotLogged { .. } | ProvenanceError::NotInCheckpoint { .. },
                ) => {
                    summary.unproven.push(subject.name());
                }
                Err(err) => return Err(err),
            }
        }
        if proofs.is_empty() {
            return Ok((None, summary));
        }
        let timestamp = self.timestamp(head.size)?;
        summary.checkpoint = Some(format!(
            "{} {} {}",
            head.origin,
            head.size,
            head.root_base64()
        ));
        summary.timestamped = timestamp.is_some();
        summary.proofs = proofs.len();
        Ok((
            Some(LogEvidence {
                checkpoint: note,
                public_key: verifier.to_string(),
                timestamp,
                proofs,
            }),
            summary,
        ))
    }
}

fn proof_key(proof: &LogProof) -> (&str, &Sha256, DateTime<Utc>, Option<&str>) {
    (
        &proof.document,
        &proof.sha256,
        proof.captured_at,
        proof.provision.as_deref(),
    )
}

/// The UTC date of the latest capture exported: the default access date.
pub fn latest_capture_date(items: &[ExportCapture]) -> NaiveDate {
    items
        .iter()
        .map(|i| i.capture.captured_at.date_naive())
        .max()
        .unwrap_or_default()
}

/// Capture bytes from the store's verifying reader, for the package writers: a damaged chunk
/// or a snapshot that does not hash to its record fails the read (and the writer re-hashes
/// against the capture record). `wrap` lets a front end observe the reads (a progress bar).
pub struct StoreBytes<'a> {
    archive: &'a Archive,
    wrap: Box<WrapReader<'a>>,
}

/// What a front end puts around each reader (see [`StoreBytes::wrapped`]).
type WrapReader<'a> = dyn Fn(Box<dyn Read + 'a>) -> Box<dyn Read + 'a> + 'a;

impl<'a> StoreBytes<'a> {
    pub fn new(archive: &'a Archive) -> Self {
        Self {
            archive,
            wrap: Box::new(|r| r),
        }
    }

    /// Every reader opened goes through `wrap` (e.g. a progress bar counting bytes).
    pub fn wrapped(
        archive: &'a Archive,
        wrap: impl Fn(Box<dyn Read + 'a>) -> Box<dyn Read + 'a> + 'a,
    ) -> Self {
        Self {
            archive,
            wrap: Box::new(wrap),
        }
    }
}

impl CaptureBytes for StoreBytes<'_> {
    fn open(&self, capture: &Capture) -> io::Result<Box<dyn Read + '_>> {
        let reader = self
            .archive
            .store()
            .reader(capture.blake3)
            .map_err(io::Error::other)?;
        Ok((self.wrap)(Box::new(reader)))
    }
}
