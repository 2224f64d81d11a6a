//! The records provenance keeps: documents, captures and provisions, as stored (JSON values).
//!
//! docs/format.md lists each field. Times are UTC with sub-second precision kept.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::anchor::QuoteSelector;
use crate::cite::CaptureMethod;
use crate::id::{DocumentId, ProvisionId};
use crate::{Blake3, Sha256};

/// One tracked document of one entity, with its source URL.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub id: DocumentId,
    pub entity: String,
    pub title: String,
    pub source_url: String,
    /// When the document was registered (the clock handed to provenance at that moment).
    pub registered_at: DateTime<Utc>,
}

/// What was exchanged over HTTP when evarc fetched a capture itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HttpExchange {
    pub requested_url: String,
    pub final_url: String,
    pub status: u16,
    pub reason: String,
    pub version: String,
    /// Response headers of the final response, in the order received.
    pub headers: Vec<(String, String)>,
    /// Each redirect hop: the URL asked, its status and its Location.
    pub redirects: Vec<Redirect>,
}

/// One redirect hop.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    pub url: String,
    pub status: u16,
    pub location: String,
}

/// The exact bytes of a document at one instant.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Capture {
    pub document: DocumentId,
    /// SHA-256 of the bytes (stored as 64 lower-case hex): the public hash.
    pub sha256: Sha256,
    /// BLAKE3 of the bytes (stored as 64 lower-case hex): the storage key.
    pub blake3: Blake3,
    pub byte_len: u64,
    /// When the bytes were fetched (HTTP) or, for imports, when the operator asserts they were.
    pub captured_at: DateTime<Utc>,
    pub method: CaptureMethod,
    pub media_type: String,
    /// The URL the bytes came from (the final URL after redirects for HTTP captures).
    pub source_url: String,
    pub http: Option<HttpExchange>,
    /// The document's own "last updated" date, as stated by the operator.
    pub last_updated: Option<NaiveDate>,
    /// An operator-recorded Wayback Machine or Perma.cc address of this capture.
    pub wayback: Option<String>,
    /// When these bytes were first seen for this document (the capture time).
    pub first_tracked: DateTime<Utc>,
    /// The latest capture time at which identical bytes were seen again.
    pub last_verified: DateTime<Utc>,
    /// When evarc wrote this record (the clock handed to provenance).
    pub recorded_at: DateTime<Utc>,
    /// A private capture does not exist for anonymous readers of `evarc serve` (issue 12).
    /// Additive: absent in records written before it, which read as public.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private: bool,
}

/// Which capture a provision is pinned to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CaptureRef {
    pub sha256: Sha256,
    pub captured_at: DateTime<Utc>,
}

/// A titled clause of a document, pinned to one capture by a quote.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Provision {
    pub id: ProvisionId,
    pub document: DocumentId,
    pub capture: CaptureRef,
    pub title: String,
    /// The quote exactly as the operator gave it.
    pub quote: String,
    pub severity: Option<String>,
    pub categories: Vec<String>,
    /// Where the quote sits in the capture's extracted text.
    pub selector: QuoteSelector,
    pub registered_at: DateTime<Utc>,
    /// Registered as private (a provision on a private capture is private whatever this says:
    /// `evarc_provenance::privacy`). Additive, absent in older records (public).
    #[serde(default, skip_serializing_if = "is_false")]
    pub private: bool,
}

/// Serde: an absent or false flag is not written, so public records keep their bytes.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(flag: &bool) -> bool {
    !*flag
}

/// The archive's settings.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub prefix: crate::id::Prefix,
    pub name: String,
    pub base_url: Option<String>,
}
