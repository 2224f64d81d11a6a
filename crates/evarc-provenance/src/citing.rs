//! The one entry point every front end cites through: which capture is cited (the latest, a
//! given one, or the one in force at an instant), the evidence check of its bytes, the
//! checkpoint proving its log leaf, and the rendered text.
//!
//! A citation is never rendered for bytes that do not verify: [`Archive::cite`] returns
//! [`ProvenanceError::EvidenceFailed`] instead, so no front end can print one by mistake.

use chrono::{DateTime, NaiveDate, Utc};
use evarc_store::Sha256;

use crate::archive::Archive;
use crate::cite::{
    self, CheckpointCitation, CitationRecord, EvidenceCheck, Format, HashedSubject, Markup,
    RenderOptions,
};
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, RecordId};
use crate::model::Capture;
use crate::tlog::LogSubject;

/// Which capture of a document is meant.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum CaptureChoice {
    /// The document's latest capture (a provision: its own capture).
    #[default]
    Latest,
    /// The capture with these bytes.
    Sha256(Sha256),
    /// The capture in force at this instant: the latest captured at or before it.
    At(DateTime<Utc>),
}

impl CaptureChoice {
    /// The capture in force at `at` (a date: at its end, UTC, so a capture made that day counts).
    pub fn at(at: crate::At) -> CaptureChoice {
        CaptureChoice::At(at.upper_bound())
    }

    /// True for [`CaptureChoice::Latest`].
    pub fn is_latest(&self) -> bool {
        matches!(self, CaptureChoice::Latest)
    }
}

/// Per-call options of [`Archive::cite`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CiteOptions {
    /// The reader's day (never part of the evidence).
    pub accessed: NaiveDate,
    pub markup: Markup,
}

/// A rendered citation and what it was computed from.
#[derive(Clone, Debug)]
pub struct Citation {
    pub record: CitationRecord,
    pub format: Format,
    /// Always [`EvidenceCheck::Verified`]: anything else is an error.
    pub evidence: EvidenceCheck,
    /// The checkpoint named in the provenance block, when one proves the record's leaf.
    pub checkpoint: Option<CheckpointCitation>,
    pub text: String,
}

impl Archive {
    /// The capture of document `id` that `choice` names.
    pub fn choose_capture(&self, id: &DocumentId, choice: &CaptureChoice) -> Result<Capture> {
        match choice {
            CaptureChoice::Latest => self.latest_capture(id),
            CaptureChoice::Sha256(sha) => self.capture_by_sha(id, *sha),
            CaptureChoice::At(at) => self.as_of(id, *at),
        }
    }

    /// The capture of document `id` in force at `at`: the latest captured at or before it.
    pub fn as_of(&self, id: &DocumentId, at: DateTime<Utc>) -> Result<Capture> {
        self.document(id)?;
        match self.previous_capture(id, at)? {
            Some(capture) => Ok(capture),
            None => {
                let first = self.captures(id)?.into_iter().next();
                Err(ProvenanceError::NoCaptureAt {
                    document: id.to_string(),
                    at: cite::text_time(at),
                    first: first.map(|c| cite::text_time(c.captured_at)),
                })
            }
        }
    }

    /// The citation record of `id` at the capture `choice` names. A provision is pinned to one
    /// capture: a choice naming another capture is refused.
    pub fn citation_with(&self, id: &RecordId, choice: &CaptureChoice) -> Result<CitationRecord> {
        match (id, choice) {
            (_, CaptureChoice::Latest) => self.citation(id),
            (RecordId::Document(doc), choice) => {
                let capture = self.choose_capture(doc, choice)?;
                self.citation_of_capture(doc, &capture)
            }
            (RecordId::Provision(prov), choice) => {
                let record = self.citation(id)?;
                let pinned = &record.capture;
                let matches = match choice {
                    CaptureChoice::Latest => true,
                    CaptureChoice::Sha256(sha) => *sha == pinned.sha256,
                    CaptureChoice::At(at) => {
                        let in_force = self.as_of(&record.document_id, *at)?;
                        in_force.sha256 == pinned.sha256
                            && in_force.captured_at == pinned.captured_at
                    }
                };
                if !matches {
                    return Err(ProvenanceError::ProvisionPinned {
                        provision: prov.to_string(),
                        sha256: pinned.sha256,
                        captured_at: cite::text_time(pinned.captured_at),
                    });
                }
                Ok(record)
            }
        }
    }

    /// The record whose log leaf proves a citation of `record`.
    fn cited_subject(&self, record: &CitationRecord) -> Result<LogSubject> {
        match &record.record_id {
            RecordId::Provision(_) => self.log_subject(&record.record_id),
            RecordId::Document(doc) => {
                let sha = record.capture.sha256;
                let capture = self
                    .capture_at(doc, record.capture.captured_at, sha)?
                    .ok_or_else(|| ProvenanceError::UnknownRecord {
                        id: format!("{doc} capture sha256:{}", record.capture.sha256),
                    })?;
                Ok(LogSubject::Capture {
                    document: self.document(doc)?,
                    capture,
                })
            }
        }
    }

    /// Re-hashes the cited bytes now; an error unless they verify.
    pub fn require_evidence(&self, record: &CitationRecord) -> Result<EvidenceCheck> {
        let check = self.check_evidence(&record.capture)?;
        if check.is_verified() {
            Ok(check)
        } else {
            Err(ProvenanceError::EvidenceFailed {
                record: record.record_id.to_string(),
                sha256: record.capture.sha256,
                check,
            })
        }
    }

    /// Cites `id` in `format`: the capture `choice` names, its bytes re-read and re-hashed now
    /// (every format, whether or not it prints the check), the checkpoint proving its leaf for
    /// the formats that name it, and the rendered text. Bytes that do not verify are
    /// [`ProvenanceError::EvidenceFailed`]: nothing is rendered.
    pub fn cite(
        &self,
        id: &RecordId,
        choice: &CaptureChoice,
        format: Format,
        options: &CiteOptions,
    ) -> Result<Citation> {
        let record = self.citation_with(id, choice)?;
        let evidence = self.require_evidence(&record)?;
        self.render_cited(record, format, options, evidence)
    }

    /// Renders `record` in `format` with the evidence check already made (`evidence`), adding
    /// the checkpoint proving its leaf for the formats that name one. [`Archive::cite`] calls it
    /// only with verified evidence; a front end that shows a failed check beside the citation
    /// (the server's record page) passes the failed check and must show it.
    pub fn render_cited(
        &self,
        record: CitationRecord,
        format: Format,
        options: &CiteOptions,
        evidence: EvidenceCheck,
    ) -> Result<Citation> {
        let checkpoint = if matches!(format, Format::Provenance | Format::Markdown) {
            self.proven_checkpoint(&self.cited_subject(&record)?)?
        } else {
            None
        };
        let text = cite::render_with_checkpoint(
            &record,
            format,
            &RenderOptions {
                accessed: options.accessed,
                markup: options.markup,
                evidence: evidence.clone(),
            },
            checkpoint.as_ref(),
        );
        Ok(Citation {
            record,
            format,
            evidence,
            checkpoint,
            text,
        })
    }
}

/// An exhibit file handed in to be certified: its name as given and its SHA-256 (hashed by the
/// caller, who reads files).
#[derive(Clone, Debug)]
pub struct Exhibit {
    pub path: String,
    pub sha256: Sha256,
}

/// A certification ready to print, and what it certifies.
#[derive(Clone, Debug)]
pub struct Certification {
    pub record: CitationRecord,
    pub subject: HashedSubject,
    /// The exhibit file name the declaration names.
    pub exhibit_name: String,
    /// True when the capture was chosen because the exhibit matched it (a document ID with no
    /// capture chosen): the front end says which capture that is.
    pub matched_exhibit: bool,
    pub verified_at: DateTime<Utc>,
    pub text: String,
}

impl Archive {
    /// Certifies `id` at the capture `choice` names: the exhibit, when given, must hash to that
    /// capture's SHA-256 (for a document with no capture chosen: to any of its captures, which
    /// is then the one certified); else the stored bytes are re-hashed now and must verify.
    /// A refusal is an error ([`ProvenanceError::is_integrity_failure`]); nothing is rendered.
    pub fn certify(
        &self,
        id: &RecordId,
        choice: &CaptureChoice,
        exhibit: Option<&Exhibit>,
        verified_at: DateTime<Utc>,
    ) -> Result<Certification> {
        let Some(exhibit) = exhibit else {
            let record = self.citation_with(id, choice)?;
            self.require_evidence(&record)?;
            let exhibit_name = exhibit_name(&record);
            let text = cite::certification(
                &record,
                &exhibit_name,
                verified_at,
                &HashedSubject::StoredBytes,
            );
            return Ok(Certification {
                record,
                subject: HashedSubject::StoredBytes,
                exhibit_name,
                matched_exhibit: false,
                verified_at,
                text,
            });
        };
        let matched_exhibit = matches!(id, RecordId::Document(_)) && choice.is_latest();
        let record = match id {
            RecordId::Document(doc) if matched_exhibit => {
                match self.capture_by_sha(doc, exhibit.sha256) {
                    Ok(capture) => self.citation_of_capture(doc, &capture)?,
                    Err(ProvenanceError::CaptureNotFound { .. }) => {
                        return Err(ProvenanceError::ExhibitNotACapture {
                            exhibit: exhibit.path.clone(),
                            actual: exhibit.sha256.to_hex(),
                            document: doc.to_string(),
                        })
                    }
                    Err(err) => return Err(err),
                }
            }
            _ => self.citation_with(id, choice)?,
        };
        if exhibit.sha256 != record.capture.sha256 {
            return Err(ProvenanceError::ExhibitMismatch {
                exhibit: exhibit.path.clone(),
                actual: exhibit.sha256,
                record: id.to_string(),
                expected: record.capture.sha256,
            });
        }
        let exhibit_name = std::path::Path::new(&exhibit.path).file_name().map_or_else(
            || exhibit.path.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
        let subject = HashedSubject::Exhibit {
            path: exhibit.path.clone(),
        };
        let text = cite::certification(&record, &exhibit_name, verified_at, &subject);
        Ok(Certification {
            record,
            subject,
            exhibit_name,
            matched_exhibit,
            verified_at,
            text,
        })
    }
}

/// The file name `evarc get -o` would suggest for the stored bytes of a record.
pub fn exhibit_name(record: &CitationRecord) -> String {
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
        &record.capture.sha256.to_hex()[..16]
    )
}

/// Why an evidence check failed, in words (for error messages).
pub(crate) fn evidence_failure(check: &EvidenceCheck, sha256: &Sha256) -> String {
    match check {
        EvidenceCheck::Verified => "they verified".to_owned(),
        EvidenceCheck::Missing => "they are missing".to_owned(),
        EvidenceCheck::Mismatch { actual_sha256 } => {
            format!("they hash to {actual_sha256}, but {sha256} was recorded")
        }
        EvidenceCheck::Damaged { reason } => format!("they cannot be read back: {reason}"),
    }
}
