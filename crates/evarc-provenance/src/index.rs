//! Document indexes: by entity and title, by entity, by source URL.
//!
//! Registering a document writes its index entries in the same batch as the record, so a capture
//! finds its document, its publisher's latest document (the delta base of a first capture) and a
//! WARC record's document by point lookups and short prefix scans: ingest cost does not grow with
//! the number of documents. Archives written before the indexes existed are indexed once, in one
//! batch, the first time they are opened for writing; read-only opens of such an archive fall
//! back to scanning the documents.

use evarc_store::{OpenMode, RecordBatch};

use crate::archive::Archive;
use crate::error::{ProvenanceError, Result};
use crate::id::DocumentId;
use crate::keys;
use crate::model::Document;
use crate::query::same_label;

impl Archive {
    /// Adds the index entries of a newly registered document to `batch`.
    pub(crate) fn index_document(document: &Document, batch: &mut RecordBatch) {
        let seq = document.id.seq();
        for prefix in [
            keys::documents_by_name(&document.entity, &document.title),
            keys::documents_by_entity(&document.entity),
            keys::documents_by_url(&document.source_url),
            keys::documents_by_normalised_url(&crate::web::normalize_url(&document.source_url)),
        ] {
            batch.put(keys::index_entry(&prefix, seq), Vec::new());
        }
    }

    /// Indexes every document of an archive written before the indexes existed (once; a
    /// no-op afterwards), and adds the normalised-URL index to an archive indexed before it
    /// existed. Called when the archive is opened for writing.
    pub(crate) fn ensure_document_index(&self) -> Result<()> {
        if self.store().mode() != OpenMode::ReadWrite {
            return Ok(());
        }
        if self.documents_indexed()? {
            return self.ensure_normalised_url_index();
        }
        let _guard = self.write_lock();
        let mut batch = RecordBatch::new();
        let mut folded = std::collections::HashSet::new();
        for document in self.documents()? {
            Self::index_document(&document, &mut batch);
            // The first document of each spelling-folded (entity, title, URL) is the one a
            // differently spelled request resolves to.
            let key = keys::document_by_folded_key(
                &document.entity,
                &document.title,
                &document.source_url,
            );
            if folded.insert(key.clone()) && self.store().record(&key)?.is_none() {
                batch.put(key, document.id.seq().to_be_bytes().to_vec());
            }
        }
        batch.put(keys::INDEX_DOCUMENTS, vec![1]);
        batch.put(keys::INDEX_DOCUMENTS_NORMALISED_URL, vec![1]);
        self.store().commit_records(batch)?;
        Ok(())
    }

    /// The `docnurl/` entries of every document of an archive indexed before that index
    /// existed, in one batch with its marker (once; a no-op afterwards).
    fn ensure_normalised_url_index(&self) -> Result<()> {
        if self.normalised_urls_indexed()? {
            return Ok(());
        }
        let _guard = self.write_lock();
        let mut batch = RecordBatch::new();
        for document in self.documents()? {
            let prefix =
                keys::documents_by_normalised_url(&crate::web::normalize_url(&document.source_url));
            batch.put(keys::index_entry(&prefix, document.id.seq()), Vec::new());
        }
        batch.put(keys::INDEX_DOCUMENTS_NORMALISED_URL, vec![1]);
        self.store().commit_records(batch)?;
        Ok(())
    }

    fn normalised_urls_indexed(&self) -> Result<bool> {
        Ok(self
            .store()
            .record(keys::INDEX_DOCUMENTS_NORMALISED_URL.as_bytes())?
            .is_some())
    }

    /// Documents whose source URL names the same resource as `url` for Memento
    /// ([`crate::web::same_url`]), in ID order: read from the normalised-URL index (only the
    /// matching documents), or by a scan of an archive not indexed yet (an old archive opened
    /// read-only).
    pub fn documents_with_same_url(&self, url: &str) -> Result<Vec<Document>> {
        let key = crate::web::normalize_url(url);
        let candidates = if self.normalised_urls_indexed()? {
            let prefix_id = self.config()?.prefix;
            let prefix = keys::documents_by_normalised_url(&key);
            let mut out = Vec::new();
            for (entry, _) in self.store().records_with_prefix(&prefix)? {
                let seq = self.index_seq(&prefix, &entry)?;
                out.push(self.document(&DocumentId::new(prefix_id.clone(), seq)?)?);
            }
            out
        } else {
            self.documents()?
        };
        // The index is keyed by a digest: compare the URLs themselves too.
        Ok(candidates
            .into_iter()
            .filter(|d| crate::web::normalize_url(&d.source_url) == key)
            .collect())
    }

    fn documents_indexed(&self) -> Result<bool> {
        Ok(self
            .store()
            .record(keys::INDEX_DOCUMENTS.as_bytes())?
            .is_some())
    }

    /// The documents listed under one index prefix, in ID order; `None` when the archive is
    /// not indexed (an old archive opened read-only).
    fn indexed_documents(&self, prefix: &[u8]) -> Result<Option<Vec<Document>>> {
        if !self.documents_indexed()? {
            return Ok(None);
        }
        let prefix_id = self.config()?.prefix;
        let mut out = Vec::new();
        for (key, _) in self.store().records_with_prefix(prefix)? {
            let seq = self.index_seq(prefix, &key)?;
            out.push(self.document(&DocumentId::new(prefix_id.clone(), seq)?)?);
        }
        Ok(Some(out))
    }

    /// Documents of this entity with this title (any source URL), compared without letter case.
    pub fn find_documents(&self, entity: &str, title: &str) -> Result<Vec<Document>> {
        let (entity, title) = (entity.trim(), title.trim());
        let candidates = match self.indexed_documents(&keys::documents_by_name(entity, title))? {
            Some(found) => found,
            None => self.documents()?,
        };
        Ok(candidates
            .into_iter()
            .filter(|d| same_label(&d.entity, entity) && same_label(&d.title, title))
            .collect())
    }

    /// The most recently registered (highest ID) document of this entity: the delta base of a
    /// publisher's new document. Entity spelling is compared without letter case here (it is only
    /// a compression hint); one index entry is read, however many documents the entity has.
    pub(crate) fn latest_document_of(&self, entity: &str) -> Result<Option<Document>> {
        if !self.documents_indexed()? {
            let entity = entity.trim();
            return Ok(self
                .documents()?
                .into_iter()
                .rev()
                .find(|d| d.entity == entity));
        }
        let prefix = keys::documents_by_entity(entity);
        let Some((key, _)) = self.store().last_record_with_prefix(&prefix)? else {
            return Ok(None);
        };
        let seq = self.index_seq(&prefix, &key)?;
        let id = DocumentId::new(self.config()?.prefix, seq)?;
        self.document(&id).map(Some)
    }

    fn index_seq(&self, prefix: &[u8], key: &[u8]) -> Result<u64> {
        keys::u64_at(key, prefix.len()).ok_or_else(|| ProvenanceError::RecordCorrupt {
            key: String::from_utf8_lossy(&key[..prefix.len().min(key.len())]).into_owned(),
            reason: "index entry without an 8-byte sequence number".into(),
        })
    }

    /// Documents whose source URL is exactly `url`, in ID order.
    pub fn documents_at_url(&self, url: &str) -> Result<Vec<Document>> {
        let url = url.trim();
        let candidates = match self.indexed_documents(&keys::documents_by_url(url))? {
            Some(found) => found,
            None => self.documents()?,
        };
        Ok(candidates
            .into_iter()
            .filter(|d| d.source_url == url)
            .collect())
    }
}
