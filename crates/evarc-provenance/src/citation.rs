//! Building the citation of a record from what the archive holds.

use crate::archive::Archive;
use crate::cite::{
    ArchiveCitation, CaptureCitation, CitationRecord, EvidenceCheck, ProvisionCitation,
};
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, RecordId};
use crate::model::{Capture, Document};
use evarc_store::{Blake3, Sha256};

impl Archive {
    /// Everything a citation of `id` prints: the document, the capture cited (the provision's,
    /// or the document's latest) and the archive's settings.
    pub fn citation(&self, id: &RecordId) -> Result<CitationRecord> {
        let (document, capture, provision) = match id {
            RecordId::Document(doc) => {
                let document = self.document(doc)?;
                let capture = self.latest_capture(doc)?;
                (document, capture, None)
            }
            RecordId::Provision(prov) => {
                let provision = self.provision(prov)?;
                let document = self.document(&provision.document)?;
                let sha = provision.capture.sha256;
                let capture = self
                    .capture_at(&document.id, provision.capture.captured_at, sha)?
                    .ok_or_else(|| ProvenanceError::RecordCorrupt {
                        key: provision.id.to_string(),
                        reason: format!(
                            "its capture {} of {} is not recorded",
                            provision.capture.sha256, document.id
                        ),
                    })?;
                (document, capture, Some(provision))
            }
        };
        let archive = self.archive_citation()?;
        let withdrawn = self.withdrawal(&capture)?.map(|w| w.citation());
        Ok(citation_record(
            id.clone(),
            &document,
            &capture,
            withdrawn,
            provision.map(|p| ProvisionCitation {
                title: p.title,
                quote: p.quote,
                severity: p.severity,
                categories: p.categories,
                selector: p.selector,
            }),
            archive,
        ))
    }

    /// The citation of document `id` anchored on one of its captures, not only the latest
    /// (an export cites each capture it ships). The capture must be a capture of `id`.
    pub fn citation_of_capture(
        &self,
        id: &DocumentId,
        capture: &Capture,
    ) -> Result<CitationRecord> {
        if &capture.document != id {
            return Err(ProvenanceError::InvalidInput(format!(
                "capture sha256:{} is a capture of {}, not of {id}",
                capture.sha256, capture.document
            )));
        }
        let document = self.document(id)?;
        let withdrawn = self.withdrawal(capture)?.map(|w| w.citation());
        Ok(citation_record(
            RecordId::Document(id.clone()),
            &document,
            capture,
            withdrawn,
            None,
            self.archive_citation()?,
        ))
    }

    /// The archive part of every citation: its settings and this tool.
    fn archive_citation(&self) -> Result<ArchiveCitation> {
        let config = self.config()?;
        Ok(ArchiveCitation {
            name: config.name,
            base_url: config.base_url,
            tool: format!("evarc {}", env!("CARGO_PKG_VERSION")),
        })
    }

    /// Re-reads and re-hashes the bytes of a capture now: what the `provenance` format's last
    /// line and `certify` state.
    pub fn check_evidence(&self, capture: &CaptureCitation) -> Result<EvidenceCheck> {
        self.check_bytes(capture.blake3, capture.sha256)
    }

    /// [`Archive::check_evidence`] of a capture record.
    pub fn check_capture(&self, capture: &Capture) -> Result<EvidenceCheck> {
        self.check_bytes(capture.blake3, capture.sha256)
    }

    /// The stored bytes re-read through the store's verifying reader (nothing kept) and
    /// classified by the one evidence rule ([`Archive::check_stored`]).
    fn check_bytes(&self, key: Blake3, sha256: Sha256) -> Result<EvidenceCheck> {
        let checked = self.check_stored(key, sha256, |store, key| {
            store.verify(key).map(|info| (info.sha256, ()))
        })?;
        Ok(checked.err().unwrap_or(EvidenceCheck::Verified))
    }
}

fn citation_record(
    record_id: RecordId,
    document: &Document,
    capture: &Capture,
    withdrawn: Option<crate::cite::WithdrawalCitation>,
    provision: Option<ProvisionCitation>,
    archive: ArchiveCitation,
) -> CitationRecord {
    CitationRecord {
        record_id,
        document_id: document.id.clone(),
        entity: document.entity.clone(),
        document_title: document.title.clone(),
        source_url: document.source_url.clone(),
        last_updated: capture.last_updated,
        provision,
        capture: CaptureCitation {
            captured_at: capture.captured_at,
            sha256: capture.sha256,
            blake3: capture.blake3,
            byte_len: capture.byte_len,
            media_type: capture.media_type.clone(),
            method: capture.method.clone(),
            first_tracked: capture.first_tracked,
            last_verified: capture.last_verified,
            wayback: capture.wayback.clone(),
            withdrawn,
        },
        archive,
    }
}
