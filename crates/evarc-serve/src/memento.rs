//! Memento (RFC 7089) in the Wayback URL shape: mementos at `/web/<YYYYMMDDhhmmss>/<URL>`, a
//! TimeGate at `/timegate/<URL>` and TimeMaps at `/timemap/link/<URL>` and
//! `/timemap/json/<URL>`. Which capture is nearest is `evarc-provenance`'s rule
//! ([`evarc_provenance::web::nearest`]); this module only speaks HTTP.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use evarc_provenance::cite;
use evarc_provenance::model::Capture;
use evarc_provenance::web::VerifiedBytes;

use crate::cache::{CachedMementos, MementoKey};
use crate::error::Failure;
use crate::raw::{capture_response, not_verified_page};
use crate::state::AppState;

const MEMENTO_DATETIME: HeaderName = HeaderName::from_static("memento-datetime");
const LINK: HeaderName = HeaderName::from_static("link");

/// The original URL in a Memento path: what follows the prefix, with the query string; a
/// wholly percent-encoded URL is decoded once, and a slash a proxy collapsed is restored.
pub fn original_url(uri: &Uri, prefix: &str) -> Result<String, Failure> {
    let path = uri.path();
    let rest = path.strip_prefix(prefix).unwrap_or_default();
    let mut url = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_owned(),
    };
    if url.len() > 7 && url[..7].eq_ignore_ascii_case("http%3a")
        || url.len() > 8 && url[..8].eq_ignore_ascii_case("https%3a")
    {
        url = percent_encoding::percent_decode_str(&url)
            .decode_utf8()
            .map_err(|_| Failure::bad_request("the original URL is not UTF-8"))?
            .into_owned();
    }
    for scheme in ["http:", "https:"] {
        if url.len() > scheme.len()
            && url[..scheme.len()].eq_ignore_ascii_case(scheme)
            && !url[scheme.len()..].starts_with("//")
        {
            url = format!("{scheme}//{}", url[scheme.len()..].trim_start_matches('/'));
        }
    }
    match evarc_provenance::HttpUrl::parse(&url) {
        Ok(url) => Ok(url.into_string()),
        Err(_) => Err(Failure::not_found(
            "expected an absolute http(s) URL after the Memento prefix, e.g. /timegate/https://example.org/",
        )),
    }
}

/// `Tue, 12 May 2026 09:51:22 GMT` (RFC 7089 / RFC 1123).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A `YYYYMMDDhhmmss` timestamp, or a shorter prefix of one (`2026`, `202605`), as an instant:
/// the missing digits are the earliest valid ones.
pub fn parse_timestamp(ts: &str) -> Option<DateTime<Utc>> {
    if ts.is_empty() || ts.len() > 14 || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let filler = "00000101000000";
    let full = format!("{ts}{}", &filler[ts.len()..]);
    NaiveDateTime::parse_from_str(&full, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// The server's public origin: the archive's base URL, else `http://<Host>`.
pub fn origin(base_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(base) = base_url {
        return base.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// A URL made safe inside `<…>` of a Link header.
fn link_target(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '<' | '>' | '"' | ' ' | ',' | ';' => out.push_str(&format!("%{:02X}", u32::from(c))),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn memento_url(origin: &str, capture_at: DateTime<Utc>, url: &str) -> String {
    format!(
        "{origin}/web/{}/{}",
        cite::wayback_timestamp(capture_at),
        url
    )
}

fn link_header(origin: &str, url: &str, memento: Option<&Capture>) -> String {
    let mut parts = vec![
        format!("<{}>; rel=\"original\"", link_target(url)),
        format!(
            "<{}>; rel=\"timegate\"",
            link_target(&format!("{origin}/timegate/{url}"))
        ),
        format!(
            "<{}>; rel=\"timemap\"; type=\"application/link-format\"",
            link_target(&format!("{origin}/timemap/link/{url}"))
        ),
    ];
    if let Some(c) = memento {
        parts.push(format!(
            "<{}>; rel=\"memento\"; datetime=\"{}\"",
            link_target(&memento_url(origin, c.captured_at, url)),
            http_date(c.captured_at)
        ));
    }
    parts.join(", ")
}

fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// `/web/<timestamp>/<URL>`: the nearest memento; redirected to its exact timestamp.
pub async fn memento(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let path = uri.path().strip_prefix("/web/").unwrap_or_default();
    let Some((ts, _)) = path.split_once('/') else {
        return Failure::not_found("expected /web/<YYYYMMDDhhmmss>/<URL>").into_response();
    };
    let ts = ts.to_owned();
    let Some(at) = parse_timestamp(&ts) else {
        return Failure::not_found(
            "expected /web/<YYYYMMDDhhmmss>/<URL>: the timestamp is 1 to 14 digits",
        )
        .into_response();
    };
    let url = match original_url(&uri, &format!("/web/{ts}/")) {
        Ok(u) => u,
        Err(f) => return f.into_response(),
    };
    let result = state
        .with(move |archive| {
            let config = archive.config()?;
            let Some(capture) = archive.nearest_memento_for(&url, at, reader.0)? else {
                return Err(Failure::not_found(format!("{url} is not archived here")));
            };
            let exact = cite::wayback_timestamp(capture.captured_at) == ts;
            let bytes = if exact {
                Some(archive.verified_bytes(&capture)?)
            } else {
                None
            };
            Ok((config, url, capture, bytes))
        })
        .await;
    let (config, url, capture, bytes) = match result {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let origin = origin(config.base_url.as_deref(), &headers);
    let link = link_header(&origin, &url, Some(&capture));
    let mut response = match bytes {
        None => {
            let mut r = StatusCode::FOUND.into_response();
            insert(
                r.headers_mut(),
                header::LOCATION,
                &memento_url(&origin, capture.captured_at, &url),
            );
            r
        }
        Some(VerifiedBytes::Verified(bytes)) => capture_response(&capture, bytes, false),
        Some(VerifiedBytes::NotVerified(check)) => {
            not_verified_page(&config.name, &capture, &check)
        }
    };
    let is_memento = response.status() != StatusCode::FOUND;
    let h = response.headers_mut();
    // Only the memento itself carries Memento-Datetime; the redirect to it does not.
    if is_memento {
        insert(h, MEMENTO_DATETIME, &http_date(capture.captured_at));
    }
    insert(h, LINK, &link);
    response
}

/// `/timegate/<URL>`: 302 to the memento nearest `Accept-Datetime` (the latest without it).
pub async fn timegate(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let url = match original_url(&uri, "/timegate/") {
        Ok(u) => u,
        Err(f) => return f.into_response(),
    };
    let at = match headers.get("accept-datetime") {
        None => None,
        Some(v) => match v
            .to_str()
            .ok()
            .and_then(|s| DateTime::parse_from_rfc2822(s.trim()).ok())
        {
            Some(t) => Some(t.with_timezone(&Utc)),
            None => {
                return Failure::bad_request(
                    "invalid Accept-Datetime: expected an RFC 1123 date such as Tue, 12 May 2026 09:51:22 GMT",
                )
                .into_response()
            }
        },
    };
    // The memento list of this URL as this reader sees it, kept per view of the archive.
    let key = MementoKey {
        url: url.clone(),
        sees_private: reader.0.sees_private(),
    };
    let kept = state
        .settled_view()
        .and_then(|view| view.mementos.get(&key));
    let kept = match kept {
        Some(kept) => Ok(kept),
        None => {
            state
                .with_view(move |view| {
                    if let Some(kept) = view.mementos.get(&key) {
                        return Ok(kept);
                    }
                    let archive = &view.archive;
                    let mementos = CachedMementos {
                        captures: archive.mementos_for(&key.url, reader.0)?,
                        base_url: archive.config()?.base_url,
                    };
                    Ok(view.mementos.put(key, mementos))
                })
                .await
        }
    };
    // Without Accept-Datetime the TimeGate answers the latest memento.
    let result = kept.and_then(|kept| {
        let at = at.unwrap_or_else(|| {
            kept.captures
                .last()
                .map_or_else(Utc::now, |c| c.captured_at)
        });
        match evarc_provenance::web::nearest_in(&kept.captures, at) {
            Some(capture) => Ok((kept.base_url.clone(), url, capture.captured_at)),
            None => Err(Failure::not_found(format!("{url} is not archived here"))),
        }
    });
    let (base_url, url, captured_at) = match result {
        Ok(v) => v,
        Err(f) => {
            let mut r = f.into_response();
            r.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept-datetime"));
            return r;
        }
    };
    let origin = origin(base_url.as_deref(), &headers);
    let mut r = StatusCode::FOUND.into_response();
    let h = r.headers_mut();
    insert(
        h,
        header::LOCATION,
        &memento_url(&origin, captured_at, &url),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-datetime"));
    let link = [
        format!("<{}>; rel=\"original\"", link_target(&url)),
        format!(
            "<{}>; rel=\"timemap\"; type=\"application/link-format\"",
            link_target(&format!("{origin}/timemap/link/{url}"))
        ),
    ]
    .join(", ");
    insert(h, LINK, &link);
    r
}

async fn timemap(
    state: AppState,
    uri: Uri,
    headers: HeaderMap,
    prefix: &'static str,
    reader: crate::access::Reader,
) -> Result<(String, String, Vec<Capture>), Failure> {
    let url = original_url(&uri, prefix)?;
    let (config, url, mementos) = state
        .with(move |archive| {
            let mementos = archive.mementos_for(&url, reader.0)?;
            if mementos.is_empty() {
                return Err(Failure::not_found(format!("{url} is not archived here")));
            }
            Ok((archive.config()?, url, mementos))
        })
        .await?;
    Ok((origin(config.base_url.as_deref(), &headers), url, mementos))
}

/// `/timemap/link/<URL>`: every memento, `application/link-format`.
pub async fn timemap_link(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let (origin, url, mementos) = match timemap(state, uri, headers, "/timemap/link/", reader).await
    {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let first = mementos.first().map(|c| c.captured_at);
    let last = mementos.last().map(|c| c.captured_at);
    let mut lines = vec![
        format!("<{}>; rel=\"original\"", link_target(&url)),
        format!(
            "<{}>; rel=\"timegate\"",
            link_target(&format!("{origin}/timegate/{url}"))
        ),
    ];
    let mut self_line = format!(
        "<{}>; rel=\"self\"; type=\"application/link-format\"",
        link_target(&format!("{origin}/timemap/link/{url}"))
    );
    if let (Some(f), Some(l)) = (first, last) {
        self_line.push_str(&format!(
            "; from=\"{}\"; until=\"{}\"",
            http_date(f),
            http_date(l)
        ));
    }
    lines.push(self_line);
    let n = mementos.len();
    for (i, c) in mementos.iter().enumerate() {
        let rel = match (i == 0, i + 1 == n) {
            (true, true) => "first last memento",
            (true, false) => "first memento",
            (false, true) => "last memento",
            (false, false) => "memento",
        };
        lines.push(format!(
            "<{}>; rel=\"{rel}\"; datetime=\"{}\"",
            link_target(&memento_url(&origin, c.captured_at, &url)),
            http_date(c.captured_at)
        ));
    }
    let body = lines.join(",\n") + "\n";
    (
        [(
            header::CONTENT_TYPE,
            "application/link-format; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/timemap/json/<URL>`: the same TimeMap as JSON.
pub async fn timemap_json(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let (origin, url, mementos) = match timemap(state, uri, headers, "/timemap/json/", reader).await
    {
        Ok(v) => v,
        Err(f) => return f.into_response(),
    };
    let list: Vec<serde_json::Value> = mementos
        .iter()
        .map(|c| {
            serde_json::json!({
                "datetime": cite::json_time(c.captured_at),
                "uri": memento_url(&origin, c.captured_at, &url),
                "sha256": c.sha256,
                "document_id": c.document.to_string(),
            })
        })
        .collect();
    let body = serde_json::json!({
        "original_uri": url,
        "timegate_uri": format!("{origin}/timegate/{url}"),
        "timemap_uri": {
            "link_format": format!("{origin}/timemap/link/{url}"),
            "json_format": format!("{origin}/timemap/json/{url}"),
        },
        "mementos": {
            "first": list.first(),
            "last": list.last(),
            "list": list,
        },
    });
    axum::Json(body).into_response()
}
