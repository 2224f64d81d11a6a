//! Registering provisions: a titled clause pinned to a capture by a quote.

use chrono::{DateTime, Utc};
use evarc_store::{RecordBatch, Sha256};

use crate::archive::{encode, Archive};
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, ProvisionId, RecordId};
use crate::keys;
use crate::model::{Capture, CaptureRef, Provision};

/// A provision to register.
#[derive(Clone, Debug)]
pub struct ProvisionRequest {
    pub document: DocumentId,
    pub title: String,
    pub quote: String,
    /// SHA-256 of the capture to pin to; None: the document's latest capture.
    pub capture: Option<Sha256>,
    /// Register under this ID (when free) instead of the next in sequence.
    pub id: Option<ProvisionId>,
    pub severity: Option<String>,
    pub categories: Vec<String>,
    /// Register it as private ([`crate::privacy`]); a provision on a private capture is private
    /// anyway.
    pub private: bool,
}

impl Archive {
    /// Registers a provision, or returns the existing one for the same document, capture and
    /// quote (`false`). The quote must occur exactly once in the capture's extracted text (see
    /// [`Archive::add_provision_at`] to choose among several occurrences).
    pub fn add_provision(
        &self,
        request: ProvisionRequest,
        now: DateTime<Utc>,
    ) -> Result<(Provision, bool)> {
        self.add_provision_at(request, None, now)
    }

    /// [`Archive::add_provision`], pinning the quote to its `occurrence`-th occurrence (from 1)
    /// when it occurs more than once; None refuses an ambiguous quote, listing the occurrences.
    pub fn add_provision_at(
        &self,
        request: ProvisionRequest,
        occurrence: Option<usize>,
        now: DateTime<Utc>,
    ) -> Result<(Provision, bool)> {
        let title = request.title.trim();
        if title.is_empty() {
            return Err(ProvenanceError::InvalidInput(
                "a provision needs a title".into(),
            ));
        }
        crate::safe_text::check_free_text("provision title", title)?;
        if let Some(severity) = &request.severity {
            crate::safe_text::check_free_text("severity", severity)?;
        }
        for category in &request.categories {
            crate::safe_text::check_free_text("category", category)?;
        }
        if let Some(id) = &request.id {
            self.check_prefix(&RecordId::Provision(id.clone()))?;
        }
        let document = self.document(&request.document)?;
        let capture = match &request.capture {
            Some(sha) => self.capture_by_sha(&document.id, *sha)?,
            None => self.latest_capture(&document.id)?,
        };
        let sha = capture.sha256.0;
        // A later occurrence of the same quote is a different provision.
        let key_quote = match occurrence {
            Some(n) if n > 1 => format!("{}\u{0}#{n}", request.quote),
            _ => request.quote.clone(),
        };
        let by_key =
            keys::provision_by_key(document.id.seq(), &sha, capture.captured_at, &key_quote);
        if let Some(existing) = self.existing_provision(&by_key)? {
            return Ok((existing, false));
        }
        let selector = self.anchor_occurrence_in(&capture, &request.quote, occurrence)?;
        let _guard = self.write_lock();
        if let Some(existing) = self.existing_provision(&by_key)? {
            return Ok((existing, false));
        }
        let mut batch = RecordBatch::new();
        let id = self.allocate_provision_id(request.id, &mut batch)?;
        let provision = Provision {
            id: id.clone(),
            document: document.id.clone(),
            capture: CaptureRef {
                sha256: capture.sha256,
                captured_at: capture.captured_at,
            },
            title: title.to_owned(),
            quote: request.quote,
            severity: request.severity.filter(|s| !s.trim().is_empty()),
            categories: request.categories,
            selector,
            registered_at: now,
            private: request.private || capture.private,
        };
        let record_key = keys::provision(id.seq());
        // The provision's leaf joins the transparency log in the same batch as the record.
        self.log_record(
            &record_key,
            crate::tlog::provision_leaf(&provision),
            &mut batch,
        )?;
        batch.put(record_key, encode(&provision));
        batch.put(by_key, id.seq().to_be_bytes().to_vec());
        batch.put(keys::provision_of(document.id.seq(), id.seq()), Vec::new());
        self.store().commit_records(batch)?;
        Ok((provision, true))
    }

    /// Anchors `quote` in the extracted text of `capture`, reading its bytes verified (first
    /// occurrence).
    pub fn anchor_in(
        &self,
        capture: &Capture,
        quote: &str,
    ) -> Result<crate::anchor::QuoteSelector> {
        let text = self.quotable_text(capture)?;
        crate::anchor::anchor(&text, quote).map_err(|source| ProvenanceError::QuoteNotFound {
            document: capture.document.to_string(),
            sha256: capture.sha256,
            source,
        })
    }

    /// Anchors `quote` in the extracted text of `capture`: exactly one occurrence, or the
    /// `occurrence`-th ([`crate::anchor::anchor_unique`]).
    pub fn anchor_occurrence_in(
        &self,
        capture: &Capture,
        quote: &str,
        occurrence: Option<usize>,
    ) -> Result<crate::anchor::QuoteSelector> {
        let text = self.quotable_text(capture)?;
        crate::anchor::anchor_unique(&text, quote, occurrence).map_err(|source| {
            ProvenanceError::QuoteNotFound {
                document: capture.document.to_string(),
                sha256: capture.sha256,
                source,
            }
        })
    }

    /// The extracted text of a capture, or [`ProvenanceError::NoText`] when none could be
    /// extracted (a PDF, a binary, a page without text).
    pub fn quotable_text(&self, capture: &Capture) -> Result<String> {
        let text = self.capture_text(capture)?;
        if text.trim().is_empty() {
            return Err(ProvenanceError::NoText {
                document: capture.document.to_string(),
                sha256: capture.sha256,
                media_type: capture.media_type.clone(),
            });
        }
        Ok(text)
    }

    /// The extracted text of a capture (docs/text-extraction.md), from verified bytes.
    pub fn capture_text(&self, capture: &Capture) -> Result<String> {
        let key = capture.blake3;
        let bytes = self.store().read(key)?;
        Ok(crate::text::extract_text(&bytes, Some(&capture.media_type)))
    }

    fn existing_provision(&self, by_key: &[u8]) -> Result<Option<Provision>> {
        match self.store().record(by_key)? {
            None => Ok(None),
            Some(seq) => {
                let seq = keys::u64_at(&seq, 0).ok_or_else(|| ProvenanceError::RecordCorrupt {
                    key: "provkey/…".into(),
                    reason: "not an 8-byte sequence number".into(),
                })?;
                let id = ProvisionId::new(self.config()?.prefix, seq)?;
                self.provision(&id).map(Some)
            }
        }
    }

    fn allocate_provision_id(
        &self,
        explicit: Option<ProvisionId>,
        batch: &mut RecordBatch,
    ) -> Result<ProvisionId> {
        let highest = self.seq(keys::SEQ_PROVISION)?;
        let id = match explicit {
            Some(id) => {
                if let Some(existing) = self.json::<Provision>(&keys::provision(id.seq()))? {
                    return Err(ProvenanceError::IdTaken {
                        id: id.to_string(),
                        existing: format!("{:?} of {}", existing.title, existing.document),
                    });
                }
                id
            }
            None => ProvisionId::new(self.config()?.prefix, highest + 1)?,
        };
        batch.put(
            keys::SEQ_PROVISION,
            highest.max(id.seq()).to_be_bytes().to_vec(),
        );
        Ok(id)
    }
}
