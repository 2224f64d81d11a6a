//! `/raw/<sha256>`: the exact stored bytes of a capture, re-hashed before they are sent.
//!
//! Headers: the recorded media type, `ETag` = the SHA-256, immutable caching, and safety —
//! `Content-Security-Policy: sandbox` (an archived page's scripts never run in the archive's
//! origin), `X-Content-Type-Options: nosniff`, `Content-Disposition: attachment` for anything
//! that is not HTML, plain text, PDF or an image. Bytes that do not verify are never sent: the
//! answer is a 500 page saying "✗ Hash not verified".

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evarc_provenance::checks::CheckKey;
use evarc_provenance::model::Capture;
use maud::html;
use serde::Deserialize;

use crate::cache::{CachedRaw, RawKey};
use crate::error::Failure;
use crate::pages::{self, evidence_line, html_response, layout};
use crate::state::{AppState, View};

/// The policy of archived bytes: no script, no plugin, no same-origin access.
pub const RAW_CSP: &str = "sandbox";

#[derive(Deserialize, Default)]
pub struct RawQuery {
    #[serde(default)]
    pub download: Option<String>,
}

/// True for the media types a browser may show inline: HTML, plain text, PDF, images.
pub fn shown_inline(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "text/html"
        || essence == "application/xhtml+xml"
        || essence == "text/plain"
        || essence == "application/pdf"
        || (essence.starts_with("image/") && essence != "image/svg+xml")
}

/// A 64-hex SHA-256, lower-cased; anything else is not a capture address.
pub fn parse_sha256(text: &str) -> Option<String> {
    let text = text.trim().trim_start_matches("sha256:");
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

pub async fn raw(
    State(state): State<AppState>,
    Path(sha): Path<String>,
    query: Result<Query<RawQuery>, QueryRejection>,
    request_headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return Failure::bad_request(e.body_text()).into_response(),
    };
    let Some(sha) = parse_sha256(&sha) else {
        return pages::error_page(&Failure::not_found(
            "not a capture address: /raw/ takes the 64 hex digits of a SHA-256",
        ));
    };
    let etag = format!("\"{sha}\"");
    let key = RawKey {
        sha256: sha.clone(),
        sees_private: reader.0.sees_private(),
    };
    let max_age = state.recheck_after();
    // Bytes kept from a check that is still the current kept one: answered on this thread.
    let kept = state
        .settled_view()
        .and_then(|view| fresh_raw(&view, &key, Utc::now(), max_age));
    let answer = match kept {
        Some(raw) => Answer::Verified(raw),
        None => {
            let result = state
                .with_view(move |view| {
                    let now = Utc::now();
                    if let Some(raw) = fresh_raw(view, &key, now, max_age) {
                        return Ok(Answer::Verified(raw));
                    }
                    let archive = &view.archive;
                    let capture =
                        archive
                            .capture_with_sha_for(&sha, reader.0)?
                            .ok_or_else(|| {
                                Failure::not_found(format!(
                                    "no capture with SHA-256 {sha} in this archive"
                                ))
                            })?;
                    // One check of these bytes at a time: a request that waited reuses the
                    // bytes the check before it kept.
                    let turn = view.checks.turn(&CheckKey::of(&capture));
                    let _held = turn
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(raw) = fresh_raw(view, &key, Utc::now(), max_age) {
                        return Ok(Answer::Verified(raw));
                    }
                    // A real check of the stored bytes, kept for the next requests when it
                    // verified (a failed one removes the kept check: nothing is served).
                    let now = Utc::now();
                    let checked = archive.check_capture_kept(&capture, &view.checks, now)?;
                    Ok(match checked.bytes {
                        Some(bytes) => {
                            let check = CheckKey::of(&capture);
                            Answer::Verified(view.raws.put(
                                key,
                                CachedRaw {
                                    capture,
                                    bytes: Bytes::from(bytes),
                                    check,
                                },
                            ))
                        }
                        None => Answer::NotVerified {
                            name: archive.config()?.name,
                            capture: Box::new(capture),
                            check: checked.stamp.check,
                        },
                    })
                })
                .await;
            match result {
                Ok(v) => v,
                Err(f) => return f.into_response(),
            }
        }
    };
    let download = query.download.is_some();
    match answer {
        Answer::Verified(raw) => {
            if !download
                && request_headers
                    .get(header::IF_NONE_MATCH)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
            {
                let mut r = StatusCode::NOT_MODIFIED.into_response();
                set_capture_headers(r.headers_mut(), &raw.capture, download);
                return r;
            }
            capture_response(&raw.capture, raw.bytes.clone(), download)
        }
        Answer::NotVerified {
            name,
            capture,
            check,
        } => not_verified_page(&name, &capture, &check),
    }
}

enum Answer {
    Verified(Arc<CachedRaw>),
    NotVerified {
        name: String,
        capture: Box<Capture>,
        check: evarc_provenance::cite::EvidenceCheck,
    },
}

/// The kept bytes of `key` while the check they were kept with is the current kept check of
/// those bytes (made less than `max_age` before `now`).
fn fresh_raw(
    view: &View,
    key: &RawKey,
    now: chrono::DateTime<Utc>,
    max_age: std::time::Duration,
) -> Option<Arc<CachedRaw>> {
    let raw = view.raws.get(key)?;
    view.checks.fresh(&raw.check, now, max_age).map(|_| raw)
}

/// The verified bytes of a capture with the safety headers.
pub fn capture_response(capture: &Capture, bytes: impl Into<Bytes>, download: bool) -> Response {
    let mut response = bytes.into().into_response();
    set_capture_headers(response.headers_mut(), capture, download);
    response
}

fn set_capture_headers(headers: &mut HeaderMap, capture: &Capture, download: bool) {
    let media = HeaderValue::from_str(&capture.media_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, media);
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", capture.sha256)) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    crate::pages::safety_headers(headers, RAW_CSP);
    if download || !shown_inline(&capture.media_type) {
        if let Ok(v) =
            HeaderValue::from_str(&format!("attachment; filename=\"{}.bin\"", capture.sha256))
        {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
    }
}

/// The page answered instead of bytes that do not verify.
pub fn not_verified_page(
    archive_name: &str,
    capture: &Capture,
    check: &evarc_provenance::cite::EvidenceCheck,
) -> Response {
    let now = Utc::now();
    html_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        layout(
            archive_name,
            "Hash not verified",
            html! {
                h1.bad { "✗ Hash not verified" }
                p.banner-bad role="alert" {
                    "The stored bytes of this capture were read back just now and do not match the SHA-256 recorded at capture. They are not served."
                }
                dl.fields {
                    dt { "Document ID" } dd { a href={ "/" (capture.document) } { (capture.document) } }
                    dt { "Recorded SHA-256" } dd.hash { (capture.sha256) }
                    dt { "Captured" } dd { (evarc_provenance::cite::text_time(capture.captured_at)) }
                    dt { "Evidence" } dd { (evidence_line(check, now)) }
                }
            },
        ),
    )
}
