//! Record keys in the store's opaque `records` key space. docs/format.md lists them.
//!
//! Integers are big-endian so that key order is numeric order; times are nanoseconds since the
//! Unix epoch with the sign bit flipped, so that key order is time order.

use chrono::{DateTime, Utc};

pub const CONFIG_PREFIX: &str = "cfg/prefix";
pub const CONFIG_NAME: &str = "cfg/name";
pub const CONFIG_BASE_URL: &str = "cfg/base-url";
pub const SEQ_DOCUMENT: &str = "seq/doc";
pub const SEQ_PROVISION: &str = "seq/prov";
pub const DOCUMENT: &str = "doc/";
pub const DOCUMENT_BY_KEY: &str = "dockey/";
pub const DOCUMENT_BY_FOLDED_KEY: &str = "dockeyci/";
pub const CAPTURE: &str = "cap/";
pub const CAPTURE_BY_SHA: &str = "capsha/";
pub const PROVISION: &str = "prov/";
pub const PROVISION_BY_KEY: &str = "provkey/";
pub const PROVISION_BY_DOCUMENT: &str = "provdoc/";
pub const WITHDRAWAL: &str = "wd/";

fn key(prefix: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = prefix.as_bytes().to_vec();
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// Time as 8 bytes whose order is time order.
pub fn time(at: DateTime<Utc>) -> [u8; 8] {
    let nanos = at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    });
    ((nanos as u64) ^ (1 << 63)).to_be_bytes()
}

pub fn document(seq: u64) -> Vec<u8> {
    key(DOCUMENT, &[&seq.to_be_bytes()])
}

/// Same document = same entity + title + source URL.
pub fn document_by_key(entity: &str, title: &str, url: &str) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    for part in [entity, title, url] {
        hasher.update(&(part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    key(DOCUMENT_BY_KEY, &[hasher.finalize().as_bytes()])
}

/// Same document whatever the letter case of entity and title: lower-cased entity + lower-cased
/// title + source URL (as is). Points at the first document registered with that key.
pub fn document_by_folded_key(entity: &str, title: &str, url: &str) -> Vec<u8> {
    let (entity, title) = (entity.to_lowercase(), title.to_lowercase());
    let mut hasher = blake3::Hasher::new();
    for part in [entity.as_str(), title.as_str(), url] {
        hasher.update(&(part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    key(DOCUMENT_BY_FOLDED_KEY, &[hasher.finalize().as_bytes()])
}

pub fn captures_of(doc: u64) -> Vec<u8> {
    key(CAPTURE, &[&doc.to_be_bytes()])
}

pub fn capture(doc: u64, at: DateTime<Utc>, sha256: &[u8; 32]) -> Vec<u8> {
    key(CAPTURE, &[&doc.to_be_bytes(), &time(at), sha256])
}

/// The withdrawal of the capture keyed `capture(doc, at, sha256)`.
pub fn withdrawal(doc: u64, at: DateTime<Utc>, sha256: &[u8; 32]) -> Vec<u8> {
    key(WITHDRAWAL, &[&doc.to_be_bytes(), &time(at), sha256])
}

pub fn captures_by_sha(sha256: &[u8; 32]) -> Vec<u8> {
    key(CAPTURE_BY_SHA, &[sha256])
}

pub fn capture_by_sha(sha256: &[u8; 32], doc: u64, at: DateTime<Utc>) -> Vec<u8> {
    key(CAPTURE_BY_SHA, &[sha256, &doc.to_be_bytes(), &time(at)])
}

pub fn provision(seq: u64) -> Vec<u8> {
    key(PROVISION, &[&seq.to_be_bytes()])
}

/// Same provision = same document + same quote + same capture.
pub fn provision_by_key(doc: u64, sha256: &[u8; 32], at: DateTime<Utc>, quote: &str) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&doc.to_be_bytes());
    hasher.update(sha256);
    hasher.update(&time(at));
    hasher.update(quote.as_bytes());
    key(PROVISION_BY_KEY, &[hasher.finalize().as_bytes()])
}

pub fn provisions_of(doc: u64) -> Vec<u8> {
    key(PROVISION_BY_DOCUMENT, &[&doc.to_be_bytes()])
}

pub fn provision_of(doc: u64, seq: u64) -> Vec<u8> {
    key(
        PROVISION_BY_DOCUMENT,
        &[&doc.to_be_bytes(), &seq.to_be_bytes()],
    )
}

/// Reads a big-endian u64 at `offset` of a key.
pub fn u64_at(key: &[u8], offset: usize) -> Option<u64> {
    key.get(offset..offset + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
}

// The transparency log (docs/transparency-log.md).
pub const TLOG_SIZE: &str = "tlog/size";
pub const TLOG_KEY: &str = "tlog/key";
pub const TLOG_NODE: &str = "tlog/node/";
pub const TLOG_LEAF: &str = "tlog/leaf/";
pub const TLOG_INDEX: &str = "tlog/ix/";
pub const TLOG_CHECKPOINT: &str = "tlog/checkpoint/";
pub const TLOG_TIMESTAMP: &str = "tlog/tsr/";
pub const TLOG_ADOPTED: &str = "tlog/adopted";

/// The hash of the complete subtree at `level`, `index` (level 0: leaf hashes).
pub fn tlog_node(level: u8, index: u64) -> Vec<u8> {
    key(TLOG_NODE, &[&[level], &index.to_be_bytes()])
}

pub fn tlog_leaf(index: u64) -> Vec<u8> {
    key(TLOG_LEAF, &[&index.to_be_bytes()])
}

/// The leaf index of the record stored under `record_key` (a `cap/…` or `prov/…` key).
pub fn tlog_index(record_key: &[u8]) -> Vec<u8> {
    key(TLOG_INDEX, &[record_key])
}

pub fn tlog_checkpoint(size: u64) -> Vec<u8> {
    key(TLOG_CHECKPOINT, &[&size.to_be_bytes()])
}

pub fn tlog_timestamp(size: u64) -> Vec<u8> {
    key(TLOG_TIMESTAMP, &[&size.to_be_bytes()])
}

// Document indexes (docs/format.md): kept in the same batch as the document record, so that no
// per-capture path scans the documents. Each key ends with the document's sequence number; the
// value is empty. `idx/documents` marks an archive whose documents are all indexed.
pub const DOCUMENT_BY_NAME: &str = "docname/";
pub const DOCUMENT_BY_ENTITY: &str = "docent/";
pub const DOCUMENT_BY_URL: &str = "docurl/";
pub const INDEX_DOCUMENTS: &str = "idx/documents";
/// Documents by normalised source URL (Memento lookups); `idx/documents-nurl` marks an archive
/// whose documents all have their entry.
pub const DOCUMENT_BY_NORMALISED_URL: &str = "docnurl/";
pub const INDEX_DOCUMENTS_NORMALISED_URL: &str = "idx/documents-nurl";

fn digest_of(parts: &[&str]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(&(part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    *hasher.finalize().as_bytes()
}

/// Documents by entity and title, compared without letter case.
pub fn documents_by_name(entity: &str, title: &str) -> Vec<u8> {
    let (entity, title) = (entity.trim().to_lowercase(), title.trim().to_lowercase());
    key(DOCUMENT_BY_NAME, &[&digest_of(&[&entity, &title])])
}

/// Documents of an entity, compared without letter case; the last is the latest registered.
pub fn documents_by_entity(entity: &str) -> Vec<u8> {
    key(
        DOCUMENT_BY_ENTITY,
        &[&digest_of(&[&entity.trim().to_lowercase()])],
    )
}

/// Documents with exactly this source URL.
pub fn documents_by_url(url: &str) -> Vec<u8> {
    key(DOCUMENT_BY_URL, &[&digest_of(&[url.trim()])])
}

/// Documents whose source URL normalises to `normalised` (`web::normalize_url`: scheme and
/// host case, default port, trailing slash and fragment do not count).
pub fn documents_by_normalised_url(normalised: &str) -> Vec<u8> {
    key(DOCUMENT_BY_NORMALISED_URL, &[&digest_of(&[normalised])])
}

/// One index entry: the index prefix of a document, then its sequence number.
pub fn index_entry(prefix: &[u8], seq: u64) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

// Text versions and change records (docs/versions.md).
pub const RULES: &str = "rules/";
pub const CAPTURE_TEXT: &str = "captext/";
pub const TEXT: &str = "vtext/";
/// A version text kept as a snapshot in the store (since issue 11's corpus fix): its SHA-256 →
/// the snapshot's BLAKE3 key. Older archives hold the text whole under [`TEXT`].
pub const TEXT_SNAPSHOT: &str = "vsnap/";
pub const SEQ_CHANGE: &str = "seq/chg";
pub const CHANGE: &str = "chg/";
pub const CHANGE_BY_DOCUMENT: &str = "chgdoc/";
pub const CHANGE_BY_KEY: &str = "chgkey/";

pub fn rules(doc: u64) -> Vec<u8> {
    key(RULES, &[&doc.to_be_bytes()])
}

/// The text of a capture, keyed like the capture (`captext/` + doc + time + sha).
pub fn capture_text(doc: u64, at: DateTime<Utc>, sha256: &[u8; 32]) -> Vec<u8> {
    key(CAPTURE_TEXT, &[&doc.to_be_bytes(), &time(at), sha256])
}

pub fn text(sha256: &[u8; 32]) -> Vec<u8> {
    key(TEXT, &[sha256])
}

pub fn text_snapshot(sha256: &[u8; 32]) -> Vec<u8> {
    key(TEXT_SNAPSHOT, &[sha256])
}

pub fn change(seq: u64) -> Vec<u8> {
    key(CHANGE, &[&seq.to_be_bytes()])
}

pub fn changes_of(doc: u64) -> Vec<u8> {
    key(CHANGE_BY_DOCUMENT, &[&doc.to_be_bytes()])
}

pub fn change_of(doc: u64, seq: u64) -> Vec<u8> {
    key(
        CHANGE_BY_DOCUMENT,
        &[&doc.to_be_bytes(), &seq.to_be_bytes()],
    )
}

/// Same change = same document, same two captures, same two texts.
pub fn change_by_key(doc: u64, from: &[u8], to: &[u8], from_text: &str, to_text: &str) -> Vec<u8> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&doc.to_be_bytes());
    for part in [from, to, from_text.as_bytes(), to_text.as_bytes()] {
        hasher.update(&(part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    key(CHANGE_BY_KEY, &[hasher.finalize().as_bytes()])
}

// Private records (issue 12): `privdoc/` doc seq marks a document with at least one private
// capture, written in the capture's batch, so readers skip every privacy lookup for the others.
pub const PRIVATE_DOCUMENT: &str = "privdoc/";

pub fn private_document(doc: u64) -> Vec<u8> {
    key(PRIVATE_DOCUMENT, &[&doc.to_be_bytes()])
}
