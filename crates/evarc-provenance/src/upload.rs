//! A capture sent to a server (`POST /api/v1/captures`, `evarc archive --remote`), and what
//! archiving it reports (the same object `evarc archive --json` prints, wherever it ran).
//!
//! The upload carries exactly a [`CaptureRequest`] and the bytes (base64), so a capture archived
//! through a server goes through the same [`Archive::capture`] rules as one archived locally.

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::capture::{CaptureOutcome, CaptureRequest, DocumentRef};
use crate::cite::CaptureMethod;
use crate::error::{ProvenanceError, Result};
use crate::id::DocumentId;
use crate::model::{Capture, HttpExchange};
use crate::PutOutcome;

/// The body of `POST /api/v1/captures` (JSON). docs/serve.md describes each field.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaptureUpload {
    /// A registered document's ID (`CA-D-…`), or the title of a document of `entity`.
    pub document: String,
    /// Who publishes the document (with a title; not with a document ID).
    #[serde(default)]
    pub entity: Option<String>,
    /// The document's source URL (a new document needs it unless its title is unique).
    #[serde(default)]
    pub url: Option<String>,
    /// Register a new document under this ID.
    #[serde(default)]
    pub id: Option<String>,
    /// This capture's source URL when it differs from the document's (e.g. after redirects).
    #[serde(default)]
    pub source_url: Option<String>,
    /// When the bytes were captured [default: when the server receives them].
    #[serde(default)]
    pub captured_at: Option<DateTime<Utc>>,
    /// How the bytes were obtained [default: a file import].
    #[serde(default)]
    pub method: Option<CaptureMethod>,
    /// [default: sniffed from the bytes]
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub http: Option<HttpExchange>,
    #[serde(default)]
    pub last_updated: Option<NaiveDate>,
    #[serde(default)]
    pub wayback: Option<String>,
    /// The SHA-256 the bytes must have (hex): anything else is refused, nothing recorded.
    #[serde(default)]
    pub sha256: Option<String>,
    /// A private capture ([`crate::privacy`]).
    #[serde(default)]
    pub private: bool,
    /// The bytes, base64 (standard alphabet, padded).
    pub content_base64: String,
}

impl CaptureUpload {
    /// The upload of `bytes` as `request` describes them.
    pub fn new(request: &CaptureRequest, bytes: &[u8]) -> Self {
        let (document, entity, url, id) = match &request.document {
            DocumentRef::Id(id) => (id.to_string(), None, None, None),
            DocumentRef::Named {
                entity,
                title,
                source_url,
                id,
            } => (
                title.clone(),
                Some(entity.clone()),
                source_url.clone(),
                id.as_ref().map(ToString::to_string),
            ),
        };
        Self {
            document,
            entity,
            url,
            id,
            source_url: request.source_url.clone(),
            captured_at: Some(request.captured_at),
            method: Some(request.method.clone()),
            media_type: request.media_type.clone(),
            http: request.http.clone(),
            last_updated: request.last_updated,
            wayback: request.wayback.clone(),
            sha256: request.expected_sha256.map(|s| s.to_hex()),
            private: request.private,
            content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The capture request and the bytes; `now` is the capture time when none is given.
    pub fn into_request(self, now: DateTime<Utc>) -> Result<(CaptureRequest, Vec<u8>)> {
        let invalid = |what: String| ProvenanceError::InvalidInput(what);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.content_base64.trim())
            .map_err(|e| invalid(format!("content_base64 is not base64: {e}")))?;
        let as_id = self.document.trim().parse::<DocumentId>();
        let document = match (as_id, self.entity) {
            (Ok(id), None) => {
                if self.id.is_some() || self.url.is_some() {
                    return Err(invalid(format!(
                        "{id} is a registered document: id and url describe a new one"
                    )));
                }
                DocumentRef::Id(id)
            }
            (Ok(id), Some(entity)) => {
                return Err(invalid(format!(
                    "entity {entity:?} names the publisher of a new document; {id} is already registered"
                )))
            }
            (Err(_), Some(entity)) => DocumentRef::Named {
                entity,
                title: self.document,
                source_url: self.url,
                id: self
                    .id
                    .as_deref()
                    .map(|t| t.trim().parse::<DocumentId>())
                    .transpose()?,
            },
            (Err(_), None) => {
                return Err(invalid(
                    "a document title needs its entity (who publishes it), or give a document ID"
                        .into(),
                ))
            }
        };
        let expected_sha256 = self
            .sha256
            .as_deref()
            .map(crate::Sha256::from_hex)
            .transpose()?;
        let request = CaptureRequest {
            document,
            captured_at: self.captured_at.unwrap_or(now),
            method: self.method.unwrap_or(CaptureMethod::FileImport),
            media_type: self.media_type,
            source_url: self.source_url,
            http: self.http,
            last_updated: self.last_updated,
            wayback: self.wayback,
            expected_sha256,
            private: self.private,
        };
        Ok((request, bytes))
    }
}

/// What archiving a capture reports: `evarc archive --json`, and the answer of
/// `POST /api/v1/captures`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ArchiveReport {
    pub document: DocumentReport,
    pub capture: Capture,
    pub capture_new: bool,
    pub snapshot: SnapshotReport,
}

/// The document of an [`ArchiveReport`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DocumentReport {
    pub id: DocumentId,
    pub entity: String,
    pub title: String,
    pub source_url: String,
    pub new: bool,
}

/// The snapshot of an [`ArchiveReport`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SnapshotReport {
    pub sha256: String,
    pub blake3: String,
    pub size: u64,
    pub new: bool,
    pub stored_bytes: u64,
}

impl SnapshotReport {
    pub fn of(outcome: &PutOutcome) -> Self {
        Self {
            sha256: outcome.info.sha256.to_hex(),
            blake3: outcome.info.blake3.to_hex(),
            size: outcome.info.len,
            new: outcome.new,
            stored_bytes: outcome.stored_bytes,
        }
    }
}

impl ArchiveReport {
    pub fn of(outcome: &CaptureOutcome) -> Self {
        Self {
            document: DocumentReport {
                id: outcome.document.id.clone(),
                entity: outcome.document.entity.clone(),
                title: outcome.document.title.clone(),
                source_url: outcome.document.source_url.clone(),
                new: outcome.document_created,
            },
            capture: outcome.capture.clone(),
            capture_new: outcome.capture_created,
            snapshot: SnapshotReport::of(&outcome.snapshot),
        }
    }
}

/// The body of `POST /api/v1/provisions` (JSON): what `evarc provision add` takes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProvisionUpload {
    /// The document (`CA-D-…`).
    pub document: String,
    pub title: String,
    /// The clause, exactly as it appears in the capture's extracted text.
    pub quote: String,
    /// SHA-256 of the capture to pin to [default: the document's latest capture].
    #[serde(default)]
    pub capture: Option<String>,
    /// Register under this ID (`CA-P-…`) when free.
    #[serde(default)]
    pub id: Option<String>,
    /// When the quote occurs more than once, the occurrence to pin (from 1).
    #[serde(default)]
    pub occurrence: Option<usize>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// A private provision ([`crate::privacy`]).
    #[serde(default)]
    pub private: bool,
}

impl ProvisionUpload {
    /// The provision request and the occurrence asked for.
    pub fn into_request(self) -> Result<(crate::ProvisionRequest, Option<usize>)> {
        let request = crate::ProvisionRequest {
            document: self.document.trim().parse::<DocumentId>()?,
            title: self.title,
            quote: self.quote,
            capture: self
                .capture
                .as_deref()
                .map(crate::Sha256::parse_user)
                .transpose()?,
            id: self
                .id
                .as_deref()
                .map(|t| t.trim().parse::<crate::id::ProvisionId>())
                .transpose()?,
            severity: self.severity,
            categories: self.categories,
            private: self.private,
        };
        Ok((request, self.occurrence))
    }
}

/// Reads an upload ([`CaptureUpload`], [`ProvisionUpload`]) from its JSON text. A number with a
/// zero fraction (`3.0`) is the integer it equals, as JSON Schema (the OpenAPI document of the
/// server) counts it, wherever the upload takes an integer (a status, an occurrence).
pub fn from_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    let mut value: serde_json::Value = serde_json::from_slice(body)?;
    integral_numbers(&mut value);
    serde_json::from_value(value)
}

/// Replaces every number with a zero fraction by the integer it equals.
fn integral_numbers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            let Some(f) = n.as_f64() else { return };
            // Exactly representable range of integers in an f64.
            const EXACT: f64 = 9_007_199_254_740_992.0;
            if f.fract() == 0.0 && f.abs() <= EXACT {
                // Within the exact range, the conversion is lossless.
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                *value = serde_json::Value::from(i);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn integral_floats_read_as_integers_and_others_stay_refused() {
        let upload: super::ProvisionUpload = super::from_json(
            br#"{"document":"CA-D-00001","title":"T","quote":"q","occurrence":2.0}"#,
        )
        .expect("2.0 is the integer 2");
        assert_eq!(upload.occurrence, Some(2));
        assert!(super::from_json::<super::ProvisionUpload>(
            br#"{"document":"CA-D-00001","title":"T","quote":"q","occurrence":2.5}"#,
        )
        .is_err());
    }
}
