//! Reading records back: documents, captures, provisions, search.

use chrono::{DateTime, NaiveDate, Utc};
use evarc_store::Sha256;

use crate::archive::{decode, Archive};
use crate::error::{ProvenanceError, Result};
use crate::id::{DocumentId, ProvisionId, RecordId};
use crate::keys;
use crate::model::{Capture, Document, Provision};

/// An instant to look a document up at: a UTC instant, or a calendar date (UTC), meaning the
/// end of that day: the capture in force at a date is the last one taken on or before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    Instant(DateTime<Utc>),
    Date(NaiveDate),
}

impl At {
    /// Parses `YYYY-MM-DD`, RFC 3339 (`2026-05-12T09:51:22Z`, any offset) or an ISO 8601 date
    /// and time without an offset (`2026-05-12T09:51:22`, `2026-05-12T09:51`), taken as UTC.
    pub fn parse(text: &str) -> Result<At> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(At::Date(date));
        }
        // An ISO 8601 date and time without an offset is UTC.
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Ok(At::Instant(t.and_utc()));
            }
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| At::Instant(t.with_timezone(&Utc)))
            .map_err(|_| {
                ProvenanceError::InvalidInput(format!(
                    "invalid date {text:?}: expected YYYY-MM-DD or RFC 3339, e.g. 2026-05-12T09:51:22Z"
                ))
            })
    }

    /// The last instant covered: the instant itself, or the last nanosecond of the date.
    pub fn upper_bound(self) -> DateTime<Utc> {
        match self {
            At::Instant(t) => t,
            At::Date(d) => d
                .and_hms_nano_opt(23, 59, 59, 999_999_999)
                .map_or(DateTime::<Utc>::MAX_UTC, |t| t.and_utc()),
        }
    }

    /// The first instant covered: the instant itself, or midnight at the start of the date.
    pub fn lower_bound(self) -> DateTime<Utc> {
        match self {
            At::Instant(t) => t,
            At::Date(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Instant(t) => f.write_str(&crate::cite::text_time(*t)),
            At::Date(d) => write!(f, "{d} (end of day, UTC)"),
        }
    }
}

/// What [`Archive::search_with`] looks for.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// Text looked for in entity, title, URL or quote (case-insensitive); a URL is also
    /// compared normalised ([`crate::normalise_url`]).
    pub text: String,
    /// Only records with a capture taken at or after this.
    pub from: Option<At>,
    /// Only records with a capture taken at or before this.
    pub to: Option<At>,
}

/// A search date range that cannot be used: the bound named (`from`, `to`) and its value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SearchRangeError {
    #[error("{bound}: invalid date {value:?}: expected YYYY-MM-DD or a date and time (RFC 3339, e.g. 2026-05-12T09:51:22Z; without an offset, UTC)")]
    BadDate { bound: &'static str, value: String },
}

impl SearchQuery {
    /// The query for `text` with the capture-date range `from`..=`to` (each a date, meaning the
    /// whole UTC day, or an instant; both bounds included), as `evarc search --from/--to` and
    /// the server's search take it. An empty or blank bound is no bound; a `from` after `to`
    /// finds nothing.
    pub fn with_range(
        text: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> std::result::Result<Self, SearchRangeError> {
        let bound = |name: &'static str, value: Option<&str>| {
            value
                .filter(|v| !v.trim().is_empty())
                .map(|v| {
                    At::parse(v).map_err(|_| SearchRangeError::BadDate {
                        bound: name,
                        value: v.to_owned(),
                    })
                })
                .transpose()
        };
        let query = SearchQuery {
            text: text.to_owned(),
            from: bound("from", from)?,
            to: bound("to", to)?,
        };
        Ok(query)
    }

    /// Whether `at` lies in the range (bounds included).
    pub fn in_range(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| at >= f.lower_bound())
            && self.to.is_none_or(|t| at <= t.upper_bound())
    }

    /// Whether a date range is given.
    pub fn dated(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

/// A record whose capture is wanted ([`Archive::capture_of`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureOf {
    Record(RecordId),
    Snapshot(Sha256),
}

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

    /// The capture of the document in force at `at`: the last one taken at or before it (a
    /// date: at or before the end of that day). [`Archive::as_of`] decides.
    pub fn capture_in_force_at(&self, id: &DocumentId, at: At) -> Result<Capture> {
        self.as_of(id, at.upper_bound())
    }

    /// The capture whose text a record's quotes are anchored in: a document's latest capture
    /// (or the one in force `at`), a provision's capture, or the latest capture with these
    /// bytes.
    pub fn capture_of(&self, record: &CaptureOf, at: Option<At>) -> Result<Capture> {
        match (record, at) {
            (CaptureOf::Record(RecordId::Document(id)), None) => {
                self.document(id)?;
                self.latest_capture(id)
            }
            (CaptureOf::Record(RecordId::Document(id)), Some(at)) => {
                self.capture_in_force_at(id, at)
            }
            (CaptureOf::Record(RecordId::Provision(id)), None) => {
                let provision = self.provision(id)?;
                let sha = provision.capture.sha256;
                self.capture_at(&provision.document, provision.capture.captured_at, sha)?
                    .ok_or_else(|| ProvenanceError::RecordCorrupt {
                        key: id.to_string(),
                        reason: format!(
                            "its capture sha256:{} of {} is not recorded",
                            provision.capture.sha256, provision.document
                        ),
                    })
            }
            (CaptureOf::Snapshot(sha), None) => self
                .captures_with_sha(*sha)?
                .into_iter()
                .max_by_key(|c| c.captured_at)
                .ok_or_else(|| ProvenanceError::UnknownRecord {
                    id: format!("capture with SHA-256 {sha}"),
                }),
            (_, Some(_)) => Err(ProvenanceError::InvalidInput(
                "a date selects a capture of a document; a provision or a SHA-256 names one capture already".into(),
            )),
        }
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
    pub fn capture_by_sha(&self, id: &DocumentId, sha: Sha256) -> Result<Capture> {
        if let Some(capture) = self
            .captures(id)?
            .into_iter()
            .rev()
            .find(|c| c.sha256 == sha)
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
        self.search_with(&SearchQuery {
            text: text.to_owned(),
            ..SearchQuery::default()
        })
    }

    /// Documents and provisions matching `query`: the text in entity, title, URL or quote
    /// (case-insensitive; URLs also compared normalised, so scheme/host case, a default port or
    /// a trailing slash make no difference). With dates, a document matches when one of its
    /// captures was taken in the range, a provision when its capture was.
    pub fn search_with(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        let needle = query.text.trim().to_lowercase();
        let url_needle = crate::normalise_url(&query.text).to_lowercase();
        let hit = |fields: &[&str]| fields.iter().any(|f| f.to_lowercase().contains(&needle));
        let url_hit = |url: &str| {
            !url_needle.is_empty()
                && crate::normalise_url(url)
                    .to_lowercase()
                    .contains(&url_needle)
        };
        let mut hits = Vec::new();
        let documents = self.documents()?;
        for doc in &documents {
            if !(hit(&[&doc.entity, &doc.title, &doc.source_url]) || url_hit(&doc.source_url)) {
                continue;
            }
            if query.dated()
                && !self
                    .captures(&doc.id)?
                    .iter()
                    .any(|c| query.in_range(c.captured_at))
            {
                continue;
            }
            hits.push(SearchHit::Document(doc.clone()));
        }
        for prov in self.provisions()? {
            let doc = documents.iter().find(|d| d.id == prov.document);
            let entity = doc.map_or("", |d| d.entity.as_str());
            if hit(&[&prov.title, &prov.quote, entity])
                && (!query.dated() || query.in_range(prov.capture.captured_at))
            {
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

#[cfg(test)]
mod tests {
    use super::At;

    #[test]
    fn a_date_covers_its_whole_utc_day_and_an_instant_itself() {
        let day = At::parse("2026-05-12").expect("a date");
        assert_eq!(day.lower_bound().to_rfc3339(), "2026-05-12T00:00:00+00:00");
        assert_eq!(
            day.upper_bound().to_rfc3339(),
            "2026-05-12T23:59:59.999999999+00:00"
        );
        let instant = At::parse("2026-05-12T11:51:22+02:00").expect("an instant");
        assert_eq!(
            instant.upper_bound().to_rfc3339(),
            "2026-05-12T09:51:22+00:00"
        );
        assert_eq!(instant.lower_bound(), instant.upper_bound());
        let err = At::parse("12/05/2026").expect_err("not a date").to_string();
        assert!(err.starts_with("invalid date \"12/05/2026\""), "{err}");
    }
}
