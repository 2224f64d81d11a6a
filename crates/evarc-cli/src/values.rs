//! Typed values of the command line, parsed once (ripgrep's lowargs → hiargs): clap calls these
//! as `value_parser`s, so a bad value is a usage error naming the flag and the value (exit 2)
//! before any command runs, and `cmd/` receives `RecordId`s, `DocumentId`s, digests and dates.

use chrono::{DateTime, NaiveDate, Utc};
use evarc_provenance::cite::{CiteError, Format, Markup};
use evarc_provenance::id::{DocumentId, IdError, RecordId};
use evarc_provenance::{DigestError, Sha256};
use evarc_provenance::{HttpUrl, HttpUrlError};

/// A record ID, `CA-D-…` or `CA-P-…` (surrounding whitespace ignored).
pub fn record_id(text: &str) -> Result<RecordId, IdError> {
    text.trim().parse()
}

/// A document ID, `CA-D-…` (surrounding whitespace ignored).
pub fn document_id(text: &str) -> Result<DocumentId, IdError> {
    text.trim().parse()
}

/// A SHA-256 as users type it: 64 hex digits, optionally `sha256:` before them.
pub fn sha256(text: &str) -> Result<Sha256, DigestError> {
    Sha256::parse_user(text)
}

/// An absolute http(s) URL under the one rule of `evarc_provenance::http_url` (surrounding
/// whitespace ignored).
pub fn http_url(text: &str) -> Result<HttpUrl, HttpUrlError> {
    HttpUrl::parse(text)
}

/// A citation format name (`record`, `csl-json`, …; any letter case): an unknown one is
/// refused naming the choices.
pub fn citation_format(text: &str) -> Result<Format, CiteError> {
    text.trim().parse()
}

/// A markup name (`plain`, `markdown`, `html`; any letter case).
pub fn markup(text: &str) -> Result<Markup, CiteError> {
    text.trim().parse()
}

/// What a date or an instant should have looked like.
#[derive(Debug, thiserror::Error)]
#[error("expected {0}")]
pub struct ExpectedForm(&'static str);

/// A calendar date, `YYYY-MM-DD`.
pub fn date(text: &str) -> Result<NaiveDate, ExpectedForm> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ExpectedForm("a date as YYYY-MM-DD"))
}

/// An instant, RFC 3339 with an offset (`2026-05-12T09:51:22Z`), converted to UTC.
pub fn instant(text: &str) -> Result<DateTime<Utc>, ExpectedForm> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ExpectedForm("RFC 3339, e.g. 2026-05-12T09:51:22Z"))
}

/// True when a clap value error comes from one of these parsers (rendered as one line).
pub fn is_ours(err: &(dyn std::error::Error + 'static)) -> bool {
    err.is::<IdError>()
        || err.is::<DigestError>()
        || err.is::<ExpectedForm>()
        || err.is::<HttpUrlError>()
        || err.is::<CiteError>()
}

/// What the error line says after `invalid --flag "value": `: a URL's problem alone (its
/// value is already named), else the parser's whole message.
pub fn reason(err: &(dyn std::error::Error + 'static)) -> String {
    match err.downcast_ref::<HttpUrlError>() {
        Some(url) => url.problem.to_string(),
        None => err.to_string(),
    }
}

/// An instant in a field of an input file (a manifest's `captured_at`, a commit date): the
/// error names the field and the value, as a row's error line shows it.
pub fn field_instant(field: &str, text: &str) -> anyhow::Result<DateTime<Utc>> {
    instant(text).map_err(|why| anyhow::anyhow!("invalid {field} {text:?}: {why}"))
}

/// What `withdraw` is given: the bytes (a SHA-256) or a record.
#[derive(Clone, Debug)]
pub enum WithdrawTarget {
    Sha256(Sha256),
    Record(RecordId),
}

/// `sha256:<hex>` or 64 hex digits name the bytes; anything else must be a record ID.
pub fn withdraw_target(text: &str) -> Result<WithdrawTarget, IdError> {
    let trimmed = text.trim();
    let hex = trimmed.strip_prefix("sha256:").unwrap_or(trimmed);
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Ok(sha) = Sha256::from_hex(hex) {
            return Ok(WithdrawTarget::Sha256(sha));
        }
    }
    record_id(trimmed).map(WithdrawTarget::Record)
}

/// What `cite` is given: a document or provision, or a change record (`CA-C-…`).
#[derive(Clone, Debug)]
pub enum CitedId {
    Record(RecordId),
    Change(evarc_provenance::id::ChangeId),
}

/// A change record ID when it is one, else a record ID (whose error is reported).
pub fn cited_id(text: &str) -> Result<CitedId, IdError> {
    match text.trim().parse() {
        Ok(change) => Ok(CitedId::Change(change)),
        Err(_) => record_id(text).map(CitedId::Record),
    }
}
