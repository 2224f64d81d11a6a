//! Archiving captures: bytes into the store, a capture record onto a document.

use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use evarc_store::{
    BaseHint, Durability, PutOptions, PutOutcome, RecordBatch, Sha256, SnapshotInfo,
};

use crate::archive::{encode, Archive};
use crate::cite::CaptureMethod;
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, RecordId};
use crate::keys;
use crate::model::{Capture, Document, HttpExchange};

/// Which document a capture belongs to.
#[derive(Clone, Debug)]
pub enum DocumentRef {
    /// A registered document, by ID.
    Id(DocumentId),
    /// A document named by entity and title (and source URL). It is registered when new, under
    /// `id` when given; the source URL may be omitted when exactly one document of that entity
    /// and title exists.
    Named {
        entity: String,
        title: String,
        source_url: Option<String>,
        id: Option<DocumentId>,
    },
}

/// Everything recorded about one capture besides its bytes.
#[derive(Clone, Debug)]
pub struct CaptureRequest {
    pub document: DocumentRef,
    pub captured_at: DateTime<Utc>,
    pub method: CaptureMethod,
    /// None: sniffed from the bytes.
    pub media_type: Option<String>,
    /// The URL the bytes came from, when it differs from the document's (e.g. after redirects).
    pub source_url: Option<String>,
    pub http: Option<HttpExchange>,
    pub last_updated: Option<NaiveDate>,
    pub wayback: Option<String>,
    /// The SHA-256 the bytes are promised to have (e.g. by an import manifest): when they hash
    /// to anything else, nothing is recorded.
    pub expected_sha256: Option<Sha256>,
    /// A private capture: hidden from anonymous readers of `evarc serve` ([`crate::privacy`]).
    pub private: bool,
}

impl CaptureRequest {
    /// A file import of a document, with the capture time the operator asserts: no HTTP
    /// exchange, media type sniffed, nothing else known. Fields are public: set more as needed.
    pub fn file_import(document: DocumentRef, captured_at: DateTime<Utc>) -> Self {
        Self {
            document,
            captured_at,
            method: CaptureMethod::FileImport,
            media_type: None,
            source_url: None,
            http: None,
            last_updated: None,
            wayback: None,
            expected_sha256: None,
            private: false,
        }
    }
}

/// What archiving a capture did.
#[derive(Clone, Debug)]
pub struct CaptureOutcome {
    pub document: Document,
    pub document_created: bool,
    /// The capture record: the new one, or the earlier identical one whose `last_verified` moved.
    pub capture: Capture,
    pub capture_created: bool,
    pub snapshot: PutOutcome,
}

/// A capture's records, decided before the snapshot's outcome is known.
struct PlannedCapture {
    document: Document,
    document_created: bool,
    capture: Capture,
    capture_created: bool,
}

impl PlannedCapture {
    fn with_snapshot(self, snapshot: PutOutcome) -> CaptureOutcome {
        CaptureOutcome {
            document: self.document,
            document_created: self.document_created,
            capture: self.capture,
            capture_created: self.capture_created,
            snapshot,
        }
    }
}

/// Bytes kept from the start of the input to sniff its media type.
const SNIFF_LEN: usize = 8192;

impl Archive {
    /// Stores the bytes of `source` and records them as a capture of a document.
    ///
    /// The request is checked before any byte is stored. Bytes identical to the document's
    /// capture just before `captured_at` add no capture: that capture's `last_verified` moves on.
    /// `now` is the time this record is written (provenance never reads the clock).
    pub fn capture(
        &self,
        source: impl Read,
        request: CaptureRequest,
        now: DateTime<Utc>,
    ) -> Result<CaptureOutcome> {
        self.capture_with(source, request, now, Durability::Synced)
    }

    /// [`Archive::capture`], made durable now or at the next [`Archive::sync`] (bulk imports
    /// sync once per group of captures before reporting them).
    pub fn capture_with(
        &self,
        source: impl Read,
        request: CaptureRequest,
        now: DateTime<Utc>,
        durability: Durability,
    ) -> Result<CaptureOutcome> {
        self.capture_inner(source, request, now, durability, true)
    }

    /// [`Archive::capture_with`] without the text version: the capture is recorded "not indexed
    /// yet", for a bulk import that computes the versions of the documents it touched in one
    /// parallel pass at its end ([`Archive::index_versions`]). Until then (or after a crash in
    /// between) the capture has no version and no change record; the next import of the
    /// document or `reindex` computes them.
    pub fn capture_deferring_version(
        &self,
        source: impl Read,
        request: CaptureRequest,
        now: DateTime<Utc>,
        durability: Durability,
    ) -> Result<CaptureOutcome> {
        self.capture_inner(source, request, now, durability, false)
    }

    fn capture_inner(
        &self,
        source: impl Read,
        request: CaptureRequest,
        now: DateTime<Utc>,
        durability: Durability,
        version_now: bool,
    ) -> Result<CaptureOutcome> {
        self.check_capture_time(request.captured_at, now)?;
        self.check_request(&request)?;
        let base_hint = self.base_hint(&request)?;
        let mut head = Vec::new();
        let tee = HeadTee {
            inner: source,
            head: &mut head,
            keep_all: version_now,
        };
        let options = PutOptions {
            expected: request.expected_sha256,
            base_hint,
        };
        let prepared = self.store().prepare(tee, options, |_| {})?;
        let media_type = request
            .media_type
            .clone()
            .unwrap_or_else(|| crate::text::sniff_media_type(&head, None));
        // The text version is computed from the bytes in hand, before the lock (docs/versions.md).
        let text = if version_now && head.len() as u64 == prepared.info().len {
            self.extract_for_capture(&request, &head, &media_type)?
        } else {
            None
        };
        // A new text is stored as a snapshot that follows the document's previous version text
        // (a delta), before the capture that names it: a crash in between leaves a text
        // nothing names yet, which the next capture with that text reuses.
        // A text that is the captured bytes themselves (a plain-text page) is not stored ahead:
        // the capture's own commit stores those bytes and names them as the text, so the
        // capture is reported as the new snapshot it is.
        let mut text_is_capture = None;
        if let Some((record, Some(text))) = &text {
            if let Some(sha) = record
                .text_sha256
                .as_ref()
                .filter(|sha| **sha == prepared.info().sha256.to_hex())
            {
                let sha = Sha256::from_hex(sha)?.0;
                if self.version_text_snapshot(&sha)?.is_none()
                    && self.store().record(&keys::text(&sha))?.is_none()
                {
                    text_is_capture = Some(sha);
                }
            } else if let Some(sha) = &record.text_sha256 {
                let base = match self.existing_document(&request.document)? {
                    Some(doc) => {
                        self.text_base_before(&self.captures(&doc.id)?, request.captured_at)?
                    }
                    None => None,
                };
                self.store_version_texts([(sha.as_str(), text.as_str())], base, durability)?;
            }
        }
        let _guard = self.write_lock();
        let (planned, mut batch) =
            self.plan_capture(*prepared.info(), media_type, request, now, text)?;
        if let Some(sha) = text_is_capture {
            batch.put(
                keys::text_snapshot(&sha),
                prepared.info().blake3.as_bytes().to_vec(),
            );
        }
        // The snapshot and its capture record are committed in one synced write.
        let snapshot = self
            .store()
            .commit_prepared_with(prepared, Some(batch), durability)?;
        Ok(planned.with_snapshot(snapshot))
    }

    /// Records a capture of bytes already in the store (e.g. imported elsewhere).
    pub fn record_capture(
        &self,
        snapshot: PutOutcome,
        media_type: String,
        request: CaptureRequest,
        now: DateTime<Utc>,
    ) -> Result<CaptureOutcome> {
        self.check_capture_time(request.captured_at, now)?;
        self.check_request(&request)?;
        let _guard = self.write_lock();
        let (planned, batch) = self.plan_capture(snapshot.info, media_type, request, now, None)?;
        self.store().commit_records(batch)?;
        Ok(planned.with_snapshot(snapshot))
    }

    /// Refuses a capture time before 1991 (before the Web) or more than a day after `now`,
    /// unless [`Archive::allow_any_capture_time`] was called.
    pub fn check_capture_time(&self, captured_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
        if self.any_capture_time() {
            return Ok(());
        }
        let earliest = chrono::NaiveDate::from_ymd_opt(1991, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("1991-01-01 is a valid date")
            .and_utc();
        let problem = if captured_at < earliest {
            "before 1991".to_owned()
        } else if captured_at > now + chrono::Duration::days(1) {
            format!(
                "more than a day in the future (now: {})",
                crate::cite::text_time(now)
            )
        } else {
            return Ok(());
        };
        Err(ProvenanceError::ImplausibleCaptureTime {
            captured_at: crate::cite::text_time(captured_at),
            problem,
        })
    }

    /// Makes every capture so far durable.
    pub fn sync(&self) -> Result<()> {
        Ok(self.store().sync()?)
    }

    /// The snapshot a new capture is likely closest to: the document's previous capture, or for
    /// a document's first capture, the latest capture of the entity's most recently registered
    /// document (pages of one publisher share most of their markup). The store may then keep
    /// the capture as a delta against it.
    fn base_hint(&self, request: &CaptureRequest) -> Result<Option<BaseHint>> {
        let (capture, branch) = match self.existing_document(&request.document)? {
            Some(doc) => (self.previous_capture(&doc.id, request.captured_at)?, false),
            None => match &request.document {
                DocumentRef::Named { entity, .. } => match self.latest_document_of(entity)? {
                    Some(doc) => (self.previous_capture(&doc.id, request.captured_at)?, true),
                    None => (None, true),
                },
                DocumentRef::Id(_) => (None, false),
            },
        };
        let Some(capture) = capture else {
            return Ok(None);
        };
        let key = capture.blake3;
        Ok(Some(if branch {
            BaseHint::BranchFrom(key)
        } else {
            BaseHint::After(key)
        }))
    }

    /// The registered document a request names, if it is registered already.
    fn existing_document(&self, reference: &DocumentRef) -> Result<Option<Document>> {
        match reference {
            DocumentRef::Id(id) => self.document(id).map(Some),
            DocumentRef::Named {
                entity,
                title,
                source_url: Some(url),
                ..
            } => self.find_document(entity, title, url),
            DocumentRef::Named {
                entity,
                title,
                source_url: None,
                ..
            } => Ok(match self.find_documents(entity, title)?.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            }),
        }
    }

    /// The records a capture adds (document, capture), decided under the writer lock.
    fn plan_capture(
        &self,
        info: SnapshotInfo,
        media_type: String,
        request: CaptureRequest,
        now: DateTime<Utc>,
        text: Option<(crate::versions::CaptureText, Option<String>)>,
    ) -> Result<(PlannedCapture, RecordBatch)> {
        let mut batch = RecordBatch::new();
        let (document, document_created) =
            self.resolve_document(&request.document, now, &mut batch)?;
        let doc_seq = document.id.seq();
        let sha = info.sha256;
        let at = request.captured_at;
        if let Some(same) = self.capture_at(&document.id, at, sha)? {
            if let Some(url) = request
                .source_url
                .as_deref()
                .filter(|u| *u != same.source_url)
            {
                return Err(ProvenanceError::InvalidInput(format!(
                    "{} already has this capture (SHA-256 {}, captured {}) from {}: it cannot also come from {url}",
                    document.id,
                    same.sha256,
                    crate::cite::text_time(at),
                    same.source_url
                )));
            }
            let planned = PlannedCapture {
                document,
                document_created,
                capture: same,
                capture_created: false,
            };
            return Ok((planned, batch));
        }
        let previous = self.previous_capture(&document.id, at)?;
        // Identical bytes from the same source fold into the previous capture; bytes from
        // another source URL are a capture of their own, so that URL is never dropped.
        let source_url = request
            .source_url
            .clone()
            .unwrap_or_else(|| document.source_url.clone());
        // A private capture never folds into a public one, nor a public one into a private one:
        // what a reader may see stays what each capture said.
        let same_source = |c: &Capture| c.source_url == source_url && c.private == request.private;
        if let Some(previous) = previous.filter(|c| c.sha256 == sha && same_source(c)) {
            let mut folded = previous;
            folded.last_verified = folded.last_verified.max(at);
            batch.put(
                keys::capture(doc_seq, folded.captured_at, folded.sha256.as_bytes()),
                encode(&folded),
            );
            let planned = PlannedCapture {
                document,
                document_created,
                capture: folded,
                capture_created: false,
            };
            return Ok((planned, batch));
        }
        let capture = Capture {
            document: document.id.clone(),
            sha256: sha,
            blake3: info.blake3,
            byte_len: info.len,
            captured_at: at,
            method: request.method,
            media_type,
            source_url,
            http: request.http,
            last_updated: request.last_updated,
            wayback: request.wayback,
            first_tracked: at,
            last_verified: at,
            recorded_at: now,
            private: request.private,
        };
        let record_key = keys::capture(doc_seq, at, sha.as_bytes());
        // The capture's leaf joins the transparency log in the same batch as the record, and so
        // does the change record its text makes, if any.
        let nodes = crate::tlog::StoreNodes(self);
        let mut appender = self.log_appender(&nodes)?;
        appender.push(
            &record_key,
            crate::tlog::capture_leaf(&document, &capture),
            &mut batch,
        )?;
        if let Some(text) = text {
            self.plan_version(&capture, text, &mut appender, &mut batch, now)?;
        }
        batch.put(record_key, encode(&capture));
        batch.put(
            keys::capture_by_sha(sha.as_bytes(), doc_seq, at),
            Vec::new(),
        );
        if capture.private {
            batch.put(keys::private_document(doc_seq), Vec::new());
        }
        let planned = PlannedCapture {
            document,
            document_created,
            capture,
            capture_created: true,
        };
        Ok((planned, batch))
    }

    /// The text of new bytes under the document's rules (none for a new document), unless the
    /// capture will fold into or repeat an existing one.
    fn extract_for_capture(
        &self,
        request: &CaptureRequest,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<Option<(crate::versions::CaptureText, Option<String>)>> {
        let document = self.existing_document(&request.document)?;
        let rules = match &document {
            Some(doc) => self.document_rules(&doc.id)?,
            None => None,
        };
        match crate::versions::text_of(bytes, media_type, request.captured_at, rules.as_ref()) {
            Ok(text) => Ok(Some(text)),
            // Rules that cannot apply leave the capture to `reindex`; the capture still goes in.
            Err(_) => Ok(None),
        }
    }

    /// Refuses a request that cannot be recorded, before its bytes are stored.
    fn check_request(&self, request: &CaptureRequest) -> Result<()> {
        if let Some(media_type) = &request.media_type {
            if !is_media_type(media_type) {
                return Err(ProvenanceError::InvalidInput(format!(
                    "invalid media type {media_type:?}: expected type/subtype (RFC 6838), \
                     optionally with ;parameters, in printable ASCII"
                )));
            }
        }
        match &request.document {
            DocumentRef::Id(id) => {
                self.document(id)?;
            }
            DocumentRef::Named {
                entity,
                title,
                source_url,
                id,
            } => {
                check_label("entity", entity)?;
                check_label("document title", title)?;
                if let Some(url) = source_url {
                    check_url(url)?;
                }
                if let Some(id) = id {
                    self.check_prefix(&RecordId::Document(id.clone()))?;
                }
                if source_url.is_none() && self.find_documents(entity, title)?.is_empty() {
                    return Err(ProvenanceError::DocumentNeedsSourceUrl {
                        entity: entity.trim().to_owned(),
                        title: title.trim().to_owned(),
                        candidates: Vec::new(),
                    });
                }
            }
        }
        if let Some(wayback) = &request.wayback {
            check_http_url("Wayback URL", wayback)?;
        }
        if let Some(url) = &request.source_url {
            check_url(url)?;
            // A fetched capture came from the URL fetched: another source URL cannot be true.
            if let Some(http) = request.http.as_ref().filter(|h| h.final_url != *url) {
                return Err(ProvenanceError::InvalidInput(format!(
                    "the bytes were fetched from {}: a capture's source URL cannot be {url}",
                    http.final_url
                )));
            }
        }
        Ok(())
    }

    /// Finds or registers the document a request names; registration goes into `batch`.
    fn resolve_document(
        &self,
        reference: &DocumentRef,
        now: DateTime<Utc>,
        batch: &mut RecordBatch,
    ) -> Result<(Document, bool)> {
        let (entity, title, source_url, explicit) = match reference {
            DocumentRef::Id(id) => return Ok((self.document(id)?, false)),
            DocumentRef::Named {
                entity,
                title,
                source_url,
                id,
            } => (entity.trim(), title.trim(), source_url, id),
        };
        let source_url = match source_url {
            Some(url) => url.trim().to_owned(),
            None => {
                let found = self.find_documents(entity, title)?;
                return match found.as_slice() {
                    [one] => Ok((one.clone(), false)),
                    many => Err(ProvenanceError::DocumentNeedsSourceUrl {
                        entity: entity.to_owned(),
                        title: title.to_owned(),
                        candidates: many.iter().map(|d| d.id.to_string()).collect(),
                    }),
                };
            }
        };
        // The same entity, title and URL, in any letter case of entity and title, is the same
        // document: the first spelling registered stays.
        if let Some(existing) = self.find_document(entity, title, &source_url)? {
            if let Some(wanted) = explicit.as_ref().filter(|w| **w != existing.id) {
                return Err(ProvenanceError::InvalidInput(format!(
                    "cannot register this document as {wanted}: it is already registered as {}",
                    existing.id
                )));
            }
            return Ok((existing, false));
        }
        let by_key = keys::document_by_key(entity, title, &source_url);
        let by_folded_key = keys::document_by_folded_key(entity, title, &source_url);
        let id = self.allocate_document_id(explicit.clone(), batch)?;
        let document = Document {
            id: id.clone(),
            entity: entity.to_owned(),
            title: title.to_owned(),
            source_url,
            registered_at: now,
        };
        batch.put(keys::document(id.seq()), encode(&document));
        batch.put(by_key, id.seq().to_be_bytes().to_vec());
        batch.put(by_folded_key, id.seq().to_be_bytes().to_vec());
        Self::index_document(&document, batch);
        Ok((document, true))
    }

    fn allocate_document_id(
        &self,
        explicit: Option<DocumentId>,
        batch: &mut RecordBatch,
    ) -> Result<DocumentId> {
        let highest = self.seq(keys::SEQ_DOCUMENT)?;
        let id = match explicit {
            Some(id) => {
                self.check_prefix(&RecordId::Document(id.clone()))?;
                if let Some(existing) = self.json::<Document>(&keys::document(id.seq()))? {
                    return Err(ProvenanceError::IdTaken {
                        id: id.to_string(),
                        existing: format!("{:?} of {:?}", existing.title, existing.entity),
                    });
                }
                id
            }
            None => DocumentId::new(self.config()?.prefix, highest + 1)?,
        };
        batch.put(
            keys::SEQ_DOCUMENT,
            highest.max(id.seq()).to_be_bytes().to_vec(),
        );
        Ok(id)
    }
}

fn check_label(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.chars().any(|c| c.is_control()) {
        return Err(ProvenanceError::InvalidInput(format!(
            "invalid {what} {value:?}: expected non-empty text without control characters"
        )));
    }
    crate::safe_text::check_free_text(what, value)?;
    Ok(())
}

/// A source URL: no hidden characters (named as the free-text rule names them), then the one
/// http(s) URL rule ([`crate::HttpUrl`]).
fn check_url(url: &str) -> Result<()> {
    check_http_url("source URL", url)
}

/// `what` (as users know it) is an absolute http(s) URL under [`crate::HttpUrl`]'s rule.
pub(crate) fn check_http_url(what: &str, url: &str) -> Result<()> {
    crate::safe_text::check_free_text(what, url.trim())?;
    crate::HttpUrl::parse(url).map_err(|e| {
        ProvenanceError::InvalidInput(format!("invalid {what} {:?}: {}", e.value, e.problem))
    })?;
    Ok(())
}

/// Passes reads through, keeping the first [`SNIFF_LEN`] bytes, or with `keep_all` the first
/// [`KEEP_ALL_LEN`] (for text extraction on capture; larger inputs are left to `reindex`).
struct HeadTee<'a, R> {
    inner: R,
    head: &'a mut Vec<u8>,
    keep_all: bool,
}

/// Inputs up to this size are kept in memory while they are stored, to extract their text.
const KEEP_ALL_LEN: usize = 32 << 20;

impl<R: Read> Read for HeadTee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let limit = if self.keep_all {
            KEEP_ALL_LEN + 1
        } else {
            SNIFF_LEN
        };
        let room = limit.saturating_sub(self.head.len());
        self.head.extend_from_slice(&buf[..n.min(room)]);
        Ok(n)
    }
}

/// A media type as stored and later sent in `Content-Type`: `type/subtype` of RFC 7230 token
/// characters, optionally followed by `;` parameters in printable ASCII (no control characters).
fn is_media_type(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let (essence, params) = text.split_once(';').unwrap_or((text, ""));
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    token(kind) && token(subtype) && params.bytes().all(|b| (b' '..=b'~').contains(&b))
}

#[cfg(test)]
mod media_type_tests {
    use super::is_media_type;

    #[test]
    fn media_types_with_control_or_non_ascii_characters_are_refused() {
        for good in [
            "text/html",
            "text/html; charset=utf-8",
            "application/vnd.api+json",
        ] {
            assert!(is_media_type(good), "{good}");
        }
        for bad in [
            "NÙHJ\u{e}",
            "text/html\u{e}",
            "text",
            "/html",
            "text/",
            "tëxt/html",
            "text/html; a=\u{7f}",
        ] {
            assert!(!is_media_type(bad), "{bad:?}");
        }
    }
}
