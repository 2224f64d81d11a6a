//! `/api/v1/…`: the same records as JSON, described by `/api/v1/openapi.json` (OpenAPI 3.1).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evarc_provenance::cite::{self, EvidenceCheck, Format, Markup};
use evarc_provenance::id::{DocumentId, RecordId};
use evarc_provenance::SearchHit;
use serde::Deserialize;
use serde_json::json;

use crate::error::Failure;
use crate::raw::parse_sha256;
use crate::state::AppState;

pub const OPENAPI: &str = include_str!("../assets/openapi.json");

/// API failures are JSON: `{"error": "…"}`.
fn api_error(f: Failure) -> Response {
    (f.status, axum::Json(json!({ "error": f.message }))).into_response()
}

fn json_response(value: &serde_json::Value) -> Response {
    axum::Json(value).into_response()
}

fn parse_id(text: &str) -> Result<RecordId, Failure> {
    text.trim()
        .parse::<RecordId>()
        .map_err(|e| Failure::not_found(e.to_string()))
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `evidence` of the audit answers: a word, and the detail when not verified.
fn evidence_json(check: &EvidenceCheck) -> serde_json::Value {
    match check {
        EvidenceCheck::Verified => json!({ "status": "verified" }),
        EvidenceCheck::Missing => json!({ "status": "missing" }),
        EvidenceCheck::Mismatch { actual_sha256 } => {
            json!({ "status": "mismatch", "actual_sha256": actual_sha256 })
        }
        EvidenceCheck::Damaged { reason } => json!({ "status": "damaged", "reason": reason }),
    }
}

/// `/api/v1/records/<ID>`: evarc's complete record (the `json` citation format), with the
/// evidence check made now.
pub async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: crate::access::Reader,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(f) => return api_error(f),
    };
    let today = Utc::now().date_naive();
    match state
        .with(move |archive| {
            Ok(archive.render_citation_for(&id, reader.0, Format::Json, Markup::Plain, today)?)
        })
        .await
    {
        Ok(rendered) => {
            ([(header::CONTENT_TYPE, "application/json")], rendered.text).into_response()
        }
        Err(f) => api_error(f),
    }
}

#[derive(Deserialize, Default)]
pub struct CitationQuery {
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub markup: Option<String>,
    #[serde(default)]
    pub accessed: Option<String>,
    #[serde(default)]
    pub download: Option<String>,
}

fn media_type(format: Format) -> (&'static str, &'static str) {
    match format {
        Format::CslJson => ("application/vnd.citationstyles.csl+json", "json"),
        Format::Json => ("application/json", "json"),
        Format::Ris => ("application/x-research-info-systems", "ris"),
        Format::Biblatex => ("application/x-bibtex; charset=utf-8", "bib"),
        Format::Markdown => ("text/markdown; charset=utf-8", "md"),
        _ => ("text/plain; charset=utf-8", "txt"),
    }
}

/// `/api/v1/citations/<ID>?format=…`: the citation exactly as `evarc cite` prints it.
pub async fn citation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<CitationQuery>, QueryRejection>,
    reader: crate::access::Reader,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return api_error(Failure::bad_request(e.body_text())),
    };
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(f) => return api_error(f),
    };
    let format: Format = match q.format.as_deref().unwrap_or("record").parse() {
        Ok(f) => f,
        Err(e) => return api_error(Failure::bad_request(e.to_string())),
    };
    let markup: Markup = match q.markup.as_deref().unwrap_or("plain").parse() {
        Ok(m) => m,
        Err(e) => return api_error(Failure::bad_request(e.to_string())),
    };
    let accessed = match q.accessed.as_deref() {
        None => Utc::now().date_naive(),
        Some(d) => match chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                return api_error(Failure::bad_request(format!(
                    "invalid accessed date {d:?}: expected YYYY-MM-DD"
                )))
            }
        },
    };
    let name = id.to_string();
    match state
        .with(move |archive| {
            Ok(archive.render_citation_for(&id, reader.0, format, markup, accessed)?)
        })
        .await
    {
        Ok(rendered) => {
            let (media, ext) = media_type(format);
            let status = match &rendered.evidence {
                Some(check) if !check.is_verified() => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::OK,
            };
            let mut r = (status, rendered.text).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
            if q.download.is_some() {
                if let Ok(v) = HeaderValue::from_str(&format!(
                    "attachment; filename=\"{name}-{}.{ext}\"",
                    format.name()
                )) {
                    r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
                }
            }
            r
        }
        Err(f) => api_error(f),
    }
}

/// `/api/v1/history/<document ID>`: the document, its captures and its provisions.
pub async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: crate::access::Reader,
) -> Response {
    let id = match id.trim().parse::<DocumentId>() {
        Ok(id) => id,
        Err(e) => return api_error(Failure::not_found(e.to_string())),
    };
    match state
        .with(move |archive| {
            let document = archive.document_for(&id, reader.0)?;
            let captures = archive.captures_for(&id, reader.0)?;
            let provisions = archive.provisions_of_for(&id, reader.0)?;
            Ok(json!({ "document": document, "captures": captures, "provisions": provisions }))
        })
        .await
    {
        Ok(v) => json_response(&v),
        Err(f) => api_error(f),
    }
}

/// `/api/v1/captures/<sha256>`: every capture with these bytes.
pub async fn captures(
    State(state): State<AppState>,
    Path(sha): Path<String>,
    reader: crate::access::Reader,
) -> Response {
    let Some(sha) = parse_sha256(&sha) else {
        return api_error(Failure::not_found(
            "expected the 64 hex digits of a SHA-256",
        ));
    };
    match state
        .with(move |archive| {
            let digest = evarc_provenance::Sha256::from_hex(&sha)
                .map_err(|e| Failure::bad_request(e.to_string()))?;
            let captures = archive.captures_with_sha_for(digest, reader.0)?;
            if captures.is_empty() {
                return Err(Failure::not_found(format!("no capture with SHA-256 {sha}")));
            }
            Ok(json!({ "sha256": sha, "captures": captures }))
        })
        .await
    {
        Ok(v) => json_response(&v),
        Err(f) => api_error(f),
    }
}

/// `/api/v1/audit/<ID>`: the evidence check of a record's cited capture, made now.
pub async fn audit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: crate::access::Reader,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(f) => return api_error(f),
    };
    match state
        .with(move |archive| {
            let record = archive.citation_for(&id, reader.0)?;
            let check = archive.check_evidence(&record.capture)?;
            let checked_at = Utc::now();
            Ok(json!({
                "id": id.to_string(),
                "document_id": record.document_id.to_string(),
                "sha256": record.capture.sha256,
                "captured": cite::json_time(record.capture.captured_at),
                "checked_at": cite::json_time(checked_at),
                "verified": check.is_verified(),
                "evidence": evidence_json(&check),
            }))
        })
        .await
    {
        Ok(v) => json_response(&v),
        Err(f) => api_error(f),
    }
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: Option<String>,
    /// Captures taken on or after this date or instant (UTC).
    #[serde(default)]
    pub from: Option<String>,
    /// Captures taken on or before this date (the whole day) or instant (UTC).
    #[serde(default)]
    pub to: Option<String>,
}

/// The search a query asks for (text and capture-date range), by provenance's rules; a bad
/// bound is a 400 naming the parameter and its value. `None`: no text to search for (a date
/// range narrows a search, it is not one).
pub fn search_query(q: &SearchQuery) -> Result<Option<evarc_provenance::SearchQuery>, Failure> {
    let text = q.q.as_deref().unwrap_or_default();
    let query = evarc_provenance::SearchQuery::with_range(text, q.from.as_deref(), q.to.as_deref())
        .map_err(|e| Failure::bad_request(format!("parameter {e}")))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(query))
}

/// `/api/v1/search?q=…`: documents and provisions by entity, title, URL or quote.
pub async fn search(
    State(state): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
    reader: crate::access::Reader,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return api_error(Failure::bad_request(e.body_text())),
    };
    let query = match search_query(&q) {
        Ok(Some(query)) => query,
        Ok(None) => return api_error(Failure::bad_request(
            "give the text to search for as ?q= (from= and to= narrow it to a capture-date range)",
        )),
        Err(f) => return api_error(f),
    };
    let text = query.text.clone();
    let range = json!({
        "from": q.from.filter(|v| !v.trim().is_empty()),
        "to": q.to.filter(|v| !v.trim().is_empty()),
    });
    match state
        .with(move |archive| {
            let hits = archive.search_with_for(&query, reader.0)?;
            let results: Vec<serde_json::Value> = hits
                .into_iter()
                .map(|hit| match hit {
                    SearchHit::Document(d) => json!({
                        "kind": "document", "id": d.id.to_string(), "entity": d.entity,
                        "title": d.title, "source_url": d.source_url,
                    }),
                    SearchHit::Provision(p) => json!({
                        "kind": "provision", "id": p.id.to_string(),
                        "document_id": p.document.to_string(), "title": p.title, "quote": p.quote,
                    }),
                })
                .collect();
            Ok(json!({ "query": text, "range": range, "results": results }))
        })
        .await
    {
        Ok(v) => json_response(&v),
        Err(f) => api_error(f),
    }
}
