//! Reading records back: documents, captures, provisions, search.

use evarc_store::Sha256;

use crate::archive::{decode, Archive};
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, ProvisionId, RecordId};
use crate::keys;
use crate::model::{Capture, Document, Provision};

/// One record found by [`Archive::search`].
#[derive(Clone, Debug)]
pub enum SearchHit {
    Document(Document),
    Provision(Provision),
}

impl Archive {
    /// The document with this ID.
    pub fn document(&self, id: &DocumentId) -> Result<Document> {
        self.check_prefix(&RecordId::Document(id.clone()))?;
        self.json(&keys::document(id.seq()))?
            .ok_or_else(|| ProvenanceError::UnknownRecord { id: id.to_string() })
    }

    /// Every document, in ID order.
    pub fn documents(&self) -> Result<Vec<Document>> {
        self.store()
            .records_with_prefix(keys::DOCUMENT.as_bytes())?
            .into_iter()
            .map(|(k, v)| decode(&k, &v))
            .collect()
    }

    /// The document registered for exactly this entity, title and source URL.
    pub fn find_document(&self, entity: &str, title: &str, url: &str) -> Result<Option<Document>> {
        let (entity, title, url) = (entity.trim(), title.trim(), url.trim());
        match self.document_seq(&keys::document_by_key(entity, title, url))? {
            Some(seq) => self.document_at(seq).map(Some),
            None => match self.document_seq(&keys::document_by_folded_key(entity, title, url))? {
                Some(seq) => self.document_at(seq).map(Some),
                None => Ok(None),
            },
        }
    }

    /// The sequence number an index key (`dockey/`, `dockeyci/`) points at.
    pub(crate) fn document_seq(&self, key: &[u8]) -> Result<Option<u64>> {
        let Some(seq) = self.store().record(key)? else {
            return Ok(None);
        };
        keys::u64_at(&seq, 0)
            .map(Some)
            .ok_or_else(|| ProvenanceError::RecordCorrupt {
                key: "dockey/…".into(),
                reason: "not an 8-byte sequence number".into(),
            })
    }

    fn document_at(&self, seq: u64) -> Result<Document> {
        let id = DocumentId::new(self.config()?.prefix, seq)?;
        self.document(&id)
    }

    /// The capture of a document at exactly this time with exactly these bytes, if recorded.
    pub fn capture_at(
        &self,
        id: &DocumentId,
        at: chrono::DateTime<chrono::Utc>,
        sha: Sha256,
    ) -> Result<Option<Capture>> {
        self.json(&keys::capture(id.seq(), at, sha.as_bytes()))
    }

    /// The document's capture at `at` or the latest before it.
    pub fn previous_capture(
        &self,
        id: &DocumentId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Capture>> {
        let prefix = keys::captures_of(id.seq());
        let bound = keys::capture(id.seq(), at, &[0xff; 32]);
        self.store()
            .last_record_at_or_before(&prefix, &bound)?
            .map(|(k, v)| decode(&k, &v))
            .transpose()
    }

    /// The captures of a document, oldest first.
    pub fn captures(&self, id: &DocumentId) -> Result<Vec<Capture>> {
        self.store()
            .records_with_prefix(&keys::captures_of(id.seq()))?
            .into_iter()
            .map(|(k, v)| decode(&k, &v))
            .collect()
    }

    /// The document's latest capture.
    pub fn latest_capture(&self, id: &DocumentId) -> Result<Capture> {
        let prefix = keys::captures_of(id.seq());
        match self.store().last_record_with_prefix(&prefix)? {
            Some((k, v)) => decode(&k, &v),
            None => Err(ProvenanceError::NoCaptures {
                document: id.to_string(),
            }),
        }
    }

    /// The document's latest capture with these bytes; the error says where they are otherwise.
    pub fn capture_by_sha(&self, id: &DocumentId, sha256: &str) -> Result<Capture> {
        let sha = Sha256::from_hex(sha256.trim().trim_start_matches("sha256:"))?;
        if let Some(capture) = self
            .captures(id)?
            .into_iter()
            .rev()
            .find(|c| c.sha256 == sha.to_hex())
        {
            return Ok(capture);
        }
        let elsewhere: Vec<String> = self
            .captures_with_sha(sha)?
            .iter()
            .map(|c| c.document.to_string())
            .collect();
        let hint = if elsewhere.is_empty() {
            String::new()
        } else {
            format!(" (these bytes are a capture of {})", elsewhere.join(", "))
        };
        Err(ProvenanceError::CaptureNotFound {
            document: id.to_string(),
            sha256: sha.to_hex(),
            hint,
        })
    }

    /// Every capture, of any document, with these bytes.
    pub fn captures_with_sha(&self, sha: Sha256) -> Result<Vec<Capture>> {
        let prefix = keys::captures_by_sha(sha.as_bytes());
        let prefix_len = prefix.len();
        let mut out = Vec::new();
        for (key, _) in self.store().records_with_prefix(&prefix)? {
            let doc =
                keys::u64_at(&key, prefix_len).ok_or_else(|| ProvenanceError::RecordCorrupt {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "short capture index key".into(),
                })?;
            let time = key.get(prefix_len + 8..prefix_len + 16).unwrap_or_default();
            let mut capture_key = keys::captures_of(doc);
            capture_key.extend_from_slice(time);
            capture_key.extend_from_slice(sha.as_bytes());
            if let Some(capture) = self.json::<Capture>(&capture_key)? {
                out.push(capture);
            }
        }
        Ok(out)
    }

    /// The provision with this ID.
    pub fn provision(&self, id: &ProvisionId) -> Result<Provision> {
        self.check_prefix(&RecordId::Provision(id.clone()))?;
        self.json(&keys::provision(id.seq()))?
            .ok_or_else(|| ProvenanceError::UnknownRecord { id: id.to_string() })
    }

    /// Every provision of a document, in ID order.
    pub fn provisions_of(&self, id: &DocumentId) -> Result<Vec<Provision>> {
        let prefix = keys::provisions_of(id.seq());
        let mut out = Vec::new();
        for (key, _) in self.store().records_with_prefix(&prefix)? {
            let seq =
                keys::u64_at(&key, prefix.len()).ok_or_else(|| ProvenanceError::RecordCorrupt {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "short provision index key".into(),
                })?;
            let id = ProvisionId::new(self.config()?.prefix, seq)?;
            out.push(self.provision(&id)?);
        }
        Ok(out)
    }

    /// Every provision, in ID order.
    pub fn provisions(&self) -> Result<Vec<Provision>> {
        self.store()
            .records_with_prefix(keys::PROVISION.as_bytes())?
            .into_iter()
            .map(|(k, v)| decode(&k, &v))
            .collect()
    }

    /// Documents and provisions whose entity, title, URL or quote contains `text`
    /// (case-insensitive).
    pub fn search(&self, text: &str) -> Result<Vec<SearchHit>> {
        let needle = text.trim().to_lowercase();
        let hit = |fields: &[&str]| fields.iter().any(|f| f.to_lowercase().contains(&needle));
        let mut hits = Vec::new();
        let documents = self.documents()?;
        for doc in &documents {
            if hit(&[&doc.entity, &doc.title, &doc.source_url]) {
                hits.push(SearchHit::Document(doc.clone()));
            }
        }
        for prov in self.provisions()? {
            let doc = documents.iter().find(|d| d.id == prov.document);
            let entity = doc.map_or("", |d| d.entity.as_str());
            if hit(&[&prov.title, &prov.quote, entity]) {
                hits.push(SearchHit::Provision(prov));
            }
        }
        Ok(hits)
    }
}

/// Entities and titles are the same whatever their letter case.
pub(crate) fn same_label(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}
