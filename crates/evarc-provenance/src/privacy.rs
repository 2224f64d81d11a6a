//! Private records (issue 12): what a reader who may not see private records sees.
//!
//! The one place that decides what "private" covers:
//! - a capture recorded as private (`archive --private`, the API's `private` flag);
//! - a provision registered as private, and any provision pinned to a private capture;
//! - a document none of whose captures is public (all private, or withdrawn ones aside, none
//!   public): for such a reader it does not exist;
//! - bytes (`/raw/<sha256>`): visible when at least one capture with those bytes is;
//! - a change record (docs/versions.md) when either of its two captures is private: it would
//!   show that capture's text. (So a public reader sees no change record across a private
//!   capture: the next public one's record compares against the private text.)
//!
//! For such a reader a private record does not exist: the `*_for` functions answer
//! [`ProvenanceError::UnknownRecord`] (a front end's 404), never "forbidden", so the existence
//! of a private record is not revealed. The operator on the local archive (the CLI) and a
//! reader holding a `read-private` token ([`crate::tokens`]) see everything
//! ([`Audience::Everything`]). Records written before the flag existed read as public.

use chrono::{DateTime, NaiveDate, Utc};
use evarc_store::Sha256;

use crate::archive::Archive;
use crate::cite::{CitationRecord, Format, Markup};
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, RecordId};
use crate::model::{Capture, Document, Provision};
use crate::query::SearchHit;
use crate::web::{RenderedCitation, Resolved};

/// Who is reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// An anonymous reader (or a token without the `read-private` scope): private records do
    /// not exist.
    Public,
    /// The operator, or a reader with a `read-private` token: every record.
    Everything,
}

impl Audience {
    /// True when private records are shown.
    pub fn sees_private(self) -> bool {
        self == Audience::Everything
    }
}

fn unknown(id: impl ToString) -> ProvenanceError {
    ProvenanceError::UnknownRecord { id: id.to_string() }
}

impl Archive {
    /// Has this document any private capture? (A point lookup of its `privdoc/` marker: the
    /// documents without one need no further privacy check.)
    pub fn has_private_captures(&self, id: &DocumentId) -> Result<bool> {
        Ok(self
            .store()
            .record(&crate::keys::private_document(id.seq()))?
            .is_some())
    }

    /// The sequence numbers of the documents with at least one private capture (one scan of
    /// the `privdoc/` markers; usually none).
    pub fn documents_with_private_captures(&self) -> Result<std::collections::HashSet<u64>> {
        let prefix = crate::keys::PRIVATE_DOCUMENT.as_bytes();
        Ok(self
            .store()
            .records_with_prefix(prefix)?
            .into_iter()
            .filter_map(|(key, _)| crate::keys::u64_at(&key, prefix.len()))
            .collect())
    }

    /// Is this provision private (registered so, or pinned to a private capture)?
    pub fn provision_is_private(&self, provision: &Provision) -> Result<bool> {
        if provision.private {
            return Ok(true);
        }
        if !self.has_private_captures(&provision.document)? {
            return Ok(false);
        }
        let sha = provision.capture.sha256;
        Ok(self
            .capture_at(&provision.document, provision.capture.captured_at, sha)?
            .is_some_and(|c| c.private))
    }

    /// Is this document private (no public capture)?
    pub fn document_is_private(&self, id: &DocumentId) -> Result<bool> {
        if !self.has_private_captures(id)? {
            return Ok(false);
        }
        let captures = self.captures(id)?;
        Ok(!captures.is_empty() && captures.iter().all(|c| c.private))
    }

    /// The captures of a document `audience` may see, oldest first.
    pub fn captures_for(&self, id: &DocumentId, audience: Audience) -> Result<Vec<Capture>> {
        let mut captures = self.captures(id)?;
        if !audience.sees_private() {
            captures.retain(|c| !c.private);
        }
        Ok(captures)
    }

    /// The document, when `audience` may see it; else [`ProvenanceError::UnknownRecord`].
    pub fn document_for(&self, id: &DocumentId, audience: Audience) -> Result<Document> {
        let document = self.document(id)?;
        if !audience.sees_private() && self.document_is_private(id)? {
            return Err(unknown(id));
        }
        Ok(document)
    }

    /// The provision, when `audience` may see it; else [`ProvenanceError::UnknownRecord`].
    pub fn provision_for(
        &self,
        id: &crate::id::ProvisionId,
        audience: Audience,
    ) -> Result<Provision> {
        let provision = self.provision(id)?;
        if !audience.sees_private() && self.provision_is_private(&provision)? {
            return Err(unknown(id));
        }
        Ok(provision)
    }

    /// Fails with [`ProvenanceError::UnknownRecord`] when `audience` may not see `id`.
    pub fn require_visible(&self, id: &RecordId, audience: Audience) -> Result<()> {
        match id {
            RecordId::Document(d) => self.document_for(d, audience).map(drop),
            RecordId::Provision(p) => self.provision_for(p, audience).map(drop),
        }
    }

    /// The provisions of a document `audience` may see.
    pub fn provisions_of_for(&self, id: &DocumentId, audience: Audience) -> Result<Vec<Provision>> {
        let mut out = Vec::new();
        for p in self.provisions_of(id)? {
            if audience.sees_private() || !self.provision_is_private(&p)? {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Every document `audience` may see.
    pub fn documents_for(&self, audience: Audience) -> Result<Vec<Document>> {
        let documents = self.documents()?;
        if audience.sees_private() {
            return Ok(documents);
        }
        let marked = self.documents_with_private_captures()?;
        let mut out = Vec::new();
        for d in documents {
            if !marked.contains(&d.id.seq()) || !self.document_is_private(&d.id)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Every provision `audience` may see.
    pub fn provisions_for(&self, audience: Audience) -> Result<Vec<Provision>> {
        let provisions = self.provisions()?;
        if audience.sees_private() {
            return Ok(provisions);
        }
        let marked = self.documents_with_private_captures()?;
        let mut out = Vec::new();
        for p in provisions {
            let private = p.private
                || (marked.contains(&p.document.seq()) && self.provision_is_private(&p)?);
            if !private {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// [`Archive::resolve`] for `audience`.
    pub fn resolve_for(&self, id: &RecordId, audience: Audience) -> Result<Resolved> {
        self.require_visible(id, audience)?;
        self.resolve(id)
    }

    /// The citation record of `id` for `audience`: a document is cited at its latest capture
    /// that audience may see (a provision at its own capture).
    pub fn citation_for(&self, id: &RecordId, audience: Audience) -> Result<CitationRecord> {
        self.require_visible(id, audience)?;
        match id {
            RecordId::Document(doc) if !audience.sees_private() => {
                let capture = self
                    .captures_for(doc, audience)?
                    .pop()
                    .ok_or_else(|| unknown(doc))?;
                self.citation_of_capture(doc, &capture)
            }
            _ => self.citation(id),
        }
    }

    /// [`Archive::render_citation`] for `audience` (see [`Archive::citation_for`]).
    pub fn render_citation_for(
        &self,
        id: &RecordId,
        audience: Audience,
        format: Format,
        markup: Markup,
        accessed: NaiveDate,
    ) -> Result<RenderedCitation> {
        let record = self.citation_for(id, audience)?;
        self.render_citation_record(id, &record, format, markup, accessed)
    }

    /// The captures with these bytes that `audience` may see.
    pub fn captures_with_sha_for(&self, sha: Sha256, audience: Audience) -> Result<Vec<Capture>> {
        let mut captures = self.captures_with_sha(sha)?;
        if !audience.sees_private() {
            captures.retain(|c| !c.private);
        }
        Ok(captures)
    }

    /// The latest capture with these bytes that `audience` may see (the raw bytes' record).
    pub fn capture_with_sha_for(
        &self,
        sha256: &str,
        audience: Audience,
    ) -> Result<Option<Capture>> {
        let mut captures = self.captures_with_sha_for(Sha256::from_hex(sha256)?, audience)?;
        captures.sort_by_key(|c| c.captured_at);
        Ok(captures.pop())
    }

    /// The mementos of `url` that `audience` may see, oldest first.
    pub fn mementos_for(&self, url: &str, audience: Audience) -> Result<Vec<Capture>> {
        let mut mementos = self.mementos(url)?;
        if !audience.sees_private() {
            mementos.retain(|c| !c.private);
        }
        Ok(mementos)
    }

    /// The memento of `url` nearest `at` among those `audience` may see.
    pub fn nearest_memento_for(
        &self,
        url: &str,
        at: DateTime<Utc>,
        audience: Audience,
    ) -> Result<Option<Capture>> {
        Ok(crate::web::nearest(self.mementos_for(url, audience)?, at))
    }

    /// The `limit` most recent captures `audience` may see, newest first.
    pub fn recent_captures_for(
        &self,
        limit: usize,
        audience: Audience,
    ) -> Result<Vec<(Document, Capture)>> {
        let mut all = self.recent_captures(usize::MAX)?;
        if !audience.sees_private() {
            all.retain(|(_, c)| !c.private);
        }
        all.truncate(limit);
        Ok(all)
    }

    /// [`Archive::search`] for `audience`.
    pub fn search_for(&self, text: &str, audience: Audience) -> Result<Vec<SearchHit>> {
        let hits = self.search(text)?;
        if audience.sees_private() {
            return Ok(hits);
        }
        let mut out = Vec::new();
        for hit in hits {
            let visible = match &hit {
                SearchHit::Document(d) => !self.document_is_private(&d.id)?,
                SearchHit::Provision(p) => !self.provision_is_private(p)?,
            };
            if visible {
                out.push(hit);
            }
        }
        Ok(out)
    }

    /// [`Archive::search_with`] for `audience`: with dates, a document matches only by a
    /// capture that audience may see.
    pub fn search_with_for(
        &self,
        query: &crate::SearchQuery,
        audience: Audience,
    ) -> Result<Vec<SearchHit>> {
        let hits = self.search_with(query)?;
        if audience.sees_private() {
            return Ok(hits);
        }
        let mut out = Vec::new();
        for hit in hits {
            let visible = match &hit {
                SearchHit::Document(d) => {
                    !self.document_is_private(&d.id)?
                        && (!query.dated()
                            || self
                                .captures_for(&d.id, audience)?
                                .iter()
                                .any(|c| query.in_range(c.captured_at)))
                }
                SearchHit::Provision(p) => !self.provision_is_private(p)?,
            };
            if visible {
                out.push(hit);
            }
        }
        Ok(out)
    }

    /// [`Archive::log_subject`] for `audience`: a document's latest capture that audience may
    /// see.
    pub fn log_subject_for(&self, id: &RecordId, audience: Audience) -> Result<crate::LogSubject> {
        self.require_visible(id, audience)?;
        match id {
            RecordId::Document(doc) if !audience.sees_private() => Ok(crate::LogSubject::Capture {
                document: self.document(doc)?,
                capture: self
                    .captures_for(doc, audience)?
                    .pop()
                    .ok_or_else(|| unknown(doc))?,
            }),
            _ => self.log_subject(id),
        }
    }

    /// Is this change record private (either of its captures private)?
    pub fn change_is_private(&self, change: &crate::change::ChangeRecord) -> Result<bool> {
        if !self.has_private_captures(&change.document)? {
            return Ok(false);
        }
        for capture in [&change.capture, &change.previous] {
            let sha = capture.sha256;
            if self
                .capture_at(&change.document, capture.captured_at, sha)?
                .is_some_and(|c| c.private)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The change record, when `audience` may see it; else [`ProvenanceError::UnknownRecord`].
    pub fn change_for(
        &self,
        id: &crate::id::ChangeId,
        audience: Audience,
    ) -> Result<crate::change::ChangeRecord> {
        let change = self.change(id)?;
        if !audience.sees_private() && self.change_is_private(&change)? {
            return Err(unknown(id));
        }
        Ok(change)
    }

    /// The change records of a document that `audience` may see.
    pub fn changes_of_for(
        &self,
        id: &DocumentId,
        audience: Audience,
    ) -> Result<Vec<crate::change::ChangeRecord>> {
        let mut out = Vec::new();
        for change in self.changes_of(id)? {
            if audience.sees_private() || !self.change_is_private(&change)? {
                out.push(change);
            }
        }
        Ok(out)
    }

    /// A document's versions as `audience` sees them: private captures left out, versions
    /// left with no capture dropped and the rest numbered again, first and last times taken
    /// from the captures that remain, and a change record `audience` may not see not named.
    pub fn versions_for(
        &self,
        id: &DocumentId,
        audience: Audience,
    ) -> Result<crate::versions::DocumentVersions> {
        self.document_for(id, audience)?;
        let mut versions = self.versions(id)?;
        if audience.sees_private() {
            return Ok(versions);
        }
        let hidden: std::collections::HashSet<String> = self
            .changes_of(id)?
            .into_iter()
            .filter_map(|c| match self.change_is_private(&c) {
                Ok(true) => Some(Ok(c.id.to_string())),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_>>()?;
        versions.unindexed.retain(|c| !c.private);
        versions.without_text.retain(|c| !c.private);
        let mut kept = Vec::new();
        for mut version in versions.versions.drain(..) {
            version.captures.retain(|c| !c.private);
            let (Some(first), Some(last)) = (version.captures.first(), version.captures.last())
            else {
                continue;
            };
            version.first_captured_at = first.captured_at;
            version.last_verified = last.last_verified;
            if version
                .change
                .as_ref()
                .is_some_and(|c| hidden.contains(&c.to_string()))
            {
                version.change = None;
            }
            version.number = kept.len() + 1;
            kept.push(version);
        }
        versions.versions = kept;
        Ok(versions)
    }

    /// [`Archive::changes_with_statuses`] without the change records `audience` may not see.
    pub fn changes_with_statuses_for(
        &self,
        id: &DocumentId,
        audience: Audience,
    ) -> Result<Vec<crate::change::ChangeRecord>> {
        self.document_for(id, audience)?;
        let mut out = Vec::new();
        for change in self.changes_with_statuses(id)? {
            if audience.sees_private() || !self.change_is_private(&change)? {
                out.push(change);
            }
        }
        Ok(out)
    }

    /// [`Archive::change_view`] when `audience` may see the change record; else
    /// [`ProvenanceError::UnknownRecord`].
    pub fn change_view_for(
        &self,
        id: &crate::id::ChangeId,
        audience: Audience,
    ) -> Result<crate::change::ChangeRecord> {
        self.change_for(id, audience)?;
        self.change_view(id)
    }

    /// [`Archive::recent_changes`] among the change records `audience` may see.
    pub fn recent_changes_for(
        &self,
        limit: usize,
        entity: Option<&str>,
        audience: Audience,
    ) -> Result<Vec<(Document, crate::change::ChangeRecord)>> {
        let mut out = Vec::new();
        for (document, change) in self.recent_changes(usize::MAX, entity)? {
            if out.len() == limit {
                break;
            }
            if audience.sees_private() || !self.change_is_private(&change)? {
                out.push((document, change));
            }
        }
        Ok(out)
    }

    /// [`Archive::export_plan`] for `audience`: every requested record must be visible to it,
    /// and the package holds only the captures, change records and log evidence it may see.
    pub fn export_plan_for(
        &self,
        request: &crate::export::ExportRequest,
        audience: Audience,
    ) -> Result<crate::export::ExportPlan> {
        for id in &request.ids {
            self.require_visible(id, audience)?;
        }
        if audience.sees_private() {
            return self.export_plan(request);
        }
        let mut plan = self.export_plan(request)?;
        plan.items.retain(|item| !item.capture.private);
        if plan.items.is_empty() {
            let id = request
                .ids
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(ProvenanceError::UnknownRecord { id });
        }
        let mut changes = Vec::new();
        for change in plan.options.changes.drain(..) {
            if !self.change_is_private(&change)? {
                changes.push(change);
            }
        }
        plan.options.changes = changes;
        let (log, log_summary) = self.export_log_evidence(&plan.items)?;
        plan.log = log;
        plan.log_summary = log_summary;
        Ok(plan)
    }
}
