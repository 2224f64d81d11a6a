//! evarc's records as pure data: stable IDs, the stored record model (documents, captures,
//! provisions), quote anchoring (W3C selectors), text extraction and text diffs, free-text safety
//! checks, and the citation renderers.
//!
//! Architecture invariant: nothing here touches storage, reads the clock, draws randomness or does
//! I/O. Everything is a function of its arguments, so evidence packages (`evarc-package`), fuzz
//! targets and any front end can use it without linking RocksDB. `evarc-provenance` re-exports
//! these modules under the same names.

pub mod anchor;
pub mod change;
pub mod cite;
pub mod http_url;
pub mod id;
pub mod model;
pub mod safe_text;
pub mod text;
pub mod text_diff;
mod url_norm;

/// The digest types of the record model (`evarc-digest`, shared with the store).
pub use evarc_digest::{Blake3, DigestError, DigestQuery, Sha256};
pub use http_url::{HttpUrl, HttpUrlError, UrlProblem};
pub use url_norm::normalise_url;
