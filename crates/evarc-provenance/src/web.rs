//! What a reader-facing front end (`evarc serve`) asks of the archive: any record by ID, the
//! rendered citation with its evidence check, the verified bytes of a capture, the captures of a
//! URL over time (Memento, RFC 7089) and the quote in its context. The rules live here so every
//! front end decides alike; the server only renders.

use chrono::{DateTime, Utc};
use evarc_store::Sha256;

use crate::archive::Archive;
use crate::cite::{self, CitationRecord, EvidenceCheck, Format};
use crate::error::{ProvenanceError, Result};
use crate::id::RecordId;
use crate::model::{Capture, Document, Provision};

/// A record found by its ID.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Resolved {
    Document(Document),
    Provision {
        provision: Provision,
        document: Document,
    },
}

/// A citation rendered as `evarc cite` renders it, with the evidence check it states (only for
/// the formats that print one: [`Format::states_evidence`]).
#[derive(Clone, Debug)]
pub struct RenderedCitation {
    pub text: String,
    pub evidence: Option<EvidenceCheck>,
}

/// The bytes of a capture, read back whole and re-hashed just now, or why they are not given.
#[derive(Debug)]
pub enum VerifiedBytes {
    /// The stored bytes hash to the recorded SHA-256.
    Verified(Vec<u8>),
    /// They could not be read back, or hash to something else: never hand them out as good.
    NotVerified(EvidenceCheck),
}

/// The quote of a provision in the extracted text of its capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteContext {
    pub before: String,
    pub exact: String,
    pub after: String,
}

/// How many code points of context [`Archive::quote_context`] shows on each side.
pub const QUOTE_CONTEXT_CHARS: usize = 400;

/// Two source URLs name the same resource for Memento: scheme and host compare
/// case-insensitively, a default port and a trailing slash of the path do not count, and a
/// missing path is `/`. The fragment never reaches a server, so it is ignored.
pub fn same_url(a: &str, b: &str) -> bool {
    normalize_url(a) == normalize_url(b)
}

/// The key [`same_url`] compares: [`crate::normalise_url`] of the URL without its fragment
/// (a fragment never reaches a server, so it names no other resource).
pub fn normalize_url(url: &str) -> String {
    crate::normalise_url(url.trim().split('#').next().unwrap_or_default())
}

impl Archive {
    /// The document or provision with this ID.
    pub fn resolve(&self, id: &RecordId) -> Result<Resolved> {
        Ok(match id {
            RecordId::Document(d) => Resolved::Document(self.document(d)?),
            RecordId::Provision(p) => {
                let provision = self.provision(p)?;
                let document = self.document(&provision.document)?;
                Resolved::Provision {
                    provision,
                    document,
                }
            }
        })
    }

    /// The citation of `id` in `format`, exactly as `evarc cite` prints it: the formats that
    /// state the evidence check re-read and re-hash the bytes now, and the provenance block
    /// names the latest checkpoint proving the record. `accessed` is the reader's day.
    pub fn render_citation(
        &self,
        id: &RecordId,
        format: Format,
        markup: cite::Markup,
        accessed: chrono::NaiveDate,
    ) -> Result<RenderedCitation> {
        let record = self.citation(id)?;
        self.render_citation_record(id, &record, format, markup, accessed)
    }

    /// [`Archive::render_citation`] for a citation record already built: the formats that state
    /// the evidence check re-hash the bytes now and print its result (a failed one included:
    /// the caller must not serve it as good); rendering is [`Archive::render_cited`], the same
    /// as `evarc cite`.
    pub fn render_citation_record(
        &self,
        _id: &RecordId,
        record: &CitationRecord,
        format: Format,
        markup: cite::Markup,
        accessed: chrono::NaiveDate,
    ) -> Result<RenderedCitation> {
        let evidence = if format.states_evidence() {
            Some(self.check_evidence(&record.capture)?)
        } else {
            None
        };
        let options = crate::CiteOptions { accessed, markup };
        let cited = self.render_cited(
            record.clone(),
            format,
            &options,
            evidence.clone().unwrap_or(EvidenceCheck::Verified),
        )?;
        let mut text = cited.text;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(RenderedCitation { text, evidence })
    }

    /// The bytes of a capture, read back and re-hashed now; damaged bytes are never returned.
    pub fn verified_bytes(&self, capture: &Capture) -> Result<VerifiedBytes> {
        let checked = self.check_stored(capture.blake3, capture.sha256, |store, key| {
            store.read(key).map(|bytes| (Sha256::of(&bytes), bytes))
        })?;
        Ok(match checked {
            Ok(bytes) => VerifiedBytes::Verified(bytes),
            Err(check) => VerifiedBytes::NotVerified(check),
        })
    }

    /// The latest recorded capture with these bytes (of any document), if any.
    pub fn capture_with_sha(&self, sha256: &str) -> Result<Option<Capture>> {
        let sha = Sha256::from_hex(sha256)?;
        let mut captures = self.captures_with_sha(sha)?;
        captures.sort_by_key(|c| c.captured_at);
        Ok(captures.pop())
    }

    /// Every capture of a document whose source URL is `url` ([`same_url`]), oldest first:
    /// the mementos of a TimeMap. Only the matching documents are read (the normalised-URL
    /// index, [`Archive::documents_with_same_url`]).
    pub fn mementos(&self, url: &str) -> Result<Vec<Capture>> {
        let mut out = Vec::new();
        for doc in self.documents_with_same_url(url)? {
            out.extend(self.captures(&doc.id)?);
        }
        out.sort_by(|a, b| {
            (a.captured_at, &a.sha256, a.document.seq()).cmp(&(
                b.captured_at,
                &b.sha256,
                b.document.seq(),
            ))
        });
        Ok(out)
    }

    /// The memento of `url` nearest to `at` (RFC 7089 TimeGate): the smallest distance in time,
    /// the earlier one on a tie. `None` when the URL has no capture.
    pub fn nearest_memento(&self, url: &str, at: DateTime<Utc>) -> Result<Option<Capture>> {
        Ok(nearest(self.mementos(url)?, at))
    }

    /// The `limit` most recent captures of any document, newest first.
    pub fn recent_captures(&self, limit: usize) -> Result<Vec<(Document, Capture)>> {
        let mut all = Vec::new();
        for doc in self.documents()? {
            for c in self.captures(&doc.id)? {
                all.push((doc.clone(), c));
            }
        }
        all.sort_by_key(|(_, c)| std::cmp::Reverse(c.captured_at));
        all.truncate(limit);
        Ok(all)
    }

    /// The provision's quote in the extracted text of its capture, with up to
    /// [`QUOTE_CONTEXT_CHARS`] code points on each side. `None` when the capture's bytes do
    /// not verify (no context is shown from unverified bytes) or the selector no longer fits.
    pub fn quote_context(&self, provision: &Provision) -> Result<Option<QuoteContext>> {
        let sha = provision.capture.sha256;
        let capture = self
            .capture_at(&provision.document, provision.capture.captured_at, sha)?
            .ok_or_else(|| ProvenanceError::RecordCorrupt {
                key: provision.id.to_string(),
                reason: "its capture is not recorded".into(),
            })?;
        let VerifiedBytes::Verified(bytes) = self.verified_bytes(&capture)? else {
            return Ok(None);
        };
        Ok(quote_in_context(provision, &bytes, &capture.media_type))
    }

    /// The capture record `id`'s citation pins (its record is damaged when there is none).
    pub(crate) fn cited_capture(&self, id: &RecordId, record: &CitationRecord) -> Result<Capture> {
        self.capture_at(
            &record.document_id,
            record.capture.captured_at,
            record.capture.sha256,
        )?
        .ok_or_else(|| ProvenanceError::RecordCorrupt {
            key: id.to_string(),
            reason: "its cited capture is not recorded".into(),
        })
    }

    /// Everything a record page shows of the cited capture, with the bytes read back and
    /// re-hashed once: the capture, the evidence check and (for a provision, from verified bytes
    /// only) the quote in context.
    pub fn evidence_view(
        &self,
        id: &RecordId,
        record: &CitationRecord,
        texts: &TextCache,
    ) -> Result<EvidenceView> {
        let capture = self.cited_capture(id, record)?;
        let (check, context) = match self.verified_bytes(&capture)? {
            VerifiedBytes::Verified(bytes) => {
                let context = match id {
                    RecordId::Provision(p) => {
                        let text = texts.text(&capture, &bytes);
                        context_in_text(&self.provision(p)?, &text)
                    }
                    RecordId::Document(_) => None,
                };
                (EvidenceCheck::Verified, context)
            }
            VerifiedBytes::NotVerified(check) => (check, None),
        };
        Ok(EvidenceView {
            capture,
            check,
            context,
        })
    }
}

impl Archive {
    /// The `limit` newest change records that stand (superseded ones left out), newest first
    /// (by the date of the change, then ID), each with its document; only those of `entity`
    /// (compared without letter case) when given: the entries of a change-record feed.
    pub fn recent_changes(
        &self,
        limit: usize,
        entity: Option<&str>,
    ) -> Result<Vec<(Document, crate::change::ChangeRecord)>> {
        let mut documents: std::collections::HashMap<u64, Document> =
            std::collections::HashMap::new();
        let mut out = Vec::new();
        for change in self.changes()? {
            if change.superseded.is_some() {
                continue;
            }
            let document = match documents.entry(change.document.seq()) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(self.document(&change.document)?)
                }
            };
            if entity.is_some_and(|e| !document.entity.trim().eq_ignore_ascii_case(e.trim())) {
                continue;
            }
            let document = document.clone();
            out.push((document, change));
        }
        out.sort_by_key(|(_, c)| std::cmp::Reverse((c.capture.captured_at, c.id.seq())));
        out.truncate(limit);
        Ok(out)
    }
}

impl crate::versions::DocumentVersions {
    /// The version in force (the latest text): its first capture is when the document was last
    /// updated, as far as the captures show (a date the page asserts is the capture's
    /// `last_updated`, shown beside it). None before any text version exists.
    pub fn current(&self) -> Option<&crate::versions::Version> {
        self.versions.last()
    }
}

/// See [`Archive::evidence_view`].
#[derive(Clone, Debug)]
pub struct EvidenceView {
    pub capture: Capture,
    pub check: EvidenceCheck,
    pub context: Option<QuoteContext>,
}

/// The provision's quote in the extracted text of (verified) capture bytes, with up to
/// [`QUOTE_CONTEXT_CHARS`] code points on each side; `None` when the selector does not fit.
pub fn quote_in_context(
    provision: &Provision,
    bytes: &[u8],
    media_type: &str,
) -> Option<QuoteContext> {
    context_in_text(
        provision,
        &crate::text::extract_text(bytes, Some(media_type)),
    )
}

/// [`quote_in_context`] on text already extracted.
pub fn context_in_text(provision: &Provision, text: &str) -> Option<QuoteContext> {
    let chars: Vec<char> = text.chars().collect();
    let sel = &provision.selector;
    if sel.start > sel.end || sel.end > chars.len() {
        return None;
    }
    let from = sel.start.saturating_sub(QUOTE_CONTEXT_CHARS);
    let to = (sel.end + QUOTE_CONTEXT_CHARS).min(chars.len());
    let piece = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    Some(QuoteContext {
        before: piece(from, sel.start),
        exact: piece(sel.start, sel.end),
        after: piece(sel.end, to),
    })
}

/// Extracted texts of verified bytes, by SHA-256 and media type (the text is a function of
/// both), so a front end answering many requests extracts each capture once. Bounded: when
/// full, it is emptied. Only ever filled from bytes that were just verified.
#[derive(Debug, Default)]
pub struct TextCache {
    texts: std::sync::Mutex<std::collections::HashMap<(Sha256, String), std::sync::Arc<str>>>,
}

/// How many extracted texts a [`TextCache`] keeps.
pub const TEXT_CACHE_ENTRIES: usize = 256;

impl TextCache {
    /// The text extracted earlier from verified bytes of `capture`, if it is still kept.
    pub fn cached(&self, capture: &Capture) -> Option<std::sync::Arc<str>> {
        self.texts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(capture.sha256, capture.media_type.clone()))
            .cloned()
    }

    /// The extracted text of `bytes`, which the caller has verified to be `capture`'s.
    pub fn text(&self, capture: &Capture, bytes: &[u8]) -> std::sync::Arc<str> {
        let key = (capture.sha256, capture.media_type.clone());
        let mut texts = self
            .texts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(text) = texts.get(&key) {
            return text.clone();
        }
        drop(texts);
        let text: std::sync::Arc<str> =
            crate::text::extract_text(bytes, Some(&capture.media_type)).into();
        texts = self
            .texts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if texts.len() >= TEXT_CACHE_ENTRIES {
            texts.clear();
        }
        texts.insert(key, text.clone());
        text
    }
}

/// The capture nearest `at` among `captures`; the earlier one on a tie.
pub fn nearest(captures: Vec<Capture>, at: DateTime<Utc>) -> Option<Capture> {
    captures
        .into_iter()
        .min_by_key(|c| ((c.captured_at - at).abs(), c.captured_at))
}

/// [`nearest`] among captures kept by the caller (the same rule, without taking them).
pub fn nearest_in(captures: &[Capture], at: DateTime<Utc>) -> Option<&Capture> {
    captures
        .iter()
        .min_by_key(|c| ((c.captured_at - at).abs(), c.captured_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_without_case_default_port_or_trailing_slash() {
        assert!(same_url(
            "HTTPS://Example.org:443/terms/",
            "https://example.org/terms"
        ));
        assert!(same_url("http://example.org", "http://example.org/"));
        assert!(!same_url("http://example.org/a", "http://example.org/b"));
        assert!(!same_url(
            "http://example.org/a?x=1",
            "http://example.org/a"
        ));
        assert!(!same_url("http://example.org/", "https://example.org/"));
    }
}

/// "Document last updated" of a record page: the start of the text version in force at the
/// capture a record is pinned to ([`Archive::last_updated_at_for`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastUpdated {
    /// The version's number, as `audience` sees the document's versions.
    pub version: usize,
    /// The version's first capture: when the document was last updated, as far as the captures
    /// show.
    pub since: DateTime<Utc>,
}

impl Archive {
    /// The start of the document's text version in force at `capture` (the version whose
    /// captures include it), numbered as `audience` sees the versions; `None` ("not known") when
    /// the document has no text versions or that capture's text is not in one (not indexed yet,
    /// or the document's rules select nothing on it).
    pub fn last_updated_at_for(
        &self,
        capture: &Capture,
        audience: crate::Audience,
    ) -> Result<Option<LastUpdated>> {
        let versions = self.versions_for(&capture.document, audience)?;
        Ok(versions
            .versions
            .iter()
            .find(|v| {
                v.captures
                    .iter()
                    .any(|c| c.sha256 == capture.sha256 && c.captured_at == capture.captured_at)
            })
            .map(|v| LastUpdated {
                version: v.number,
                since: v.first_captured_at,
            }))
    }
}
