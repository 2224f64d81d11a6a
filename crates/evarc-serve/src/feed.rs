//! Atom feeds (RFC 4287) of new captures: the whole archive (`/feed.atom`, `?entity=` for one
//! entity) and one document (`/feed/<document ID>`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use evarc_provenance::cite;
use evarc_provenance::id::DocumentId;
use evarc_provenance::model::{Capture, Document};
use serde::Deserialize;

use crate::error::Failure;
use crate::memento::origin;
use crate::state::AppState;

/// Entries per feed.
pub const FEED_ENTRIES: usize = 50;

pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn atom(origin: &str, self_path: &str, title: &str, rows: &[(Document, Capture)]) -> String {
    let updated = rows
        .iter()
        .map(|(_, c)| c.captured_at)
        .max()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), cite::json_time);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    out.push_str(&format!(
        "  <id>{}</id>\n",
        xml(&format!("{origin}{self_path}"))
    ));
    out.push_str(&format!("  <title>{}</title>\n", xml(title)));
    out.push_str(&format!("  <updated>{updated}</updated>\n"));
    out.push_str(&format!(
        "  <link rel=\"self\" href=\"{}\"/>\n",
        xml(&format!("{origin}{self_path}"))
    ));
    out.push_str("  <author><name>evarc</name></author>\n");
    for (doc, c) in rows {
        let memento = format!(
            "{origin}/web/{}/{}",
            cite::wayback_timestamp(c.captured_at),
            doc.source_url
        );
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>{}</id>\n", xml(&memento)));
        out.push_str(&format!(
            "    <title>{}</title>\n",
            xml(&format!(
                "{} · {} captured {}",
                doc.entity,
                doc.title,
                cite::text_time(c.captured_at)
            ))
        ));
        out.push_str(&format!(
            "    <updated>{}</updated>\n",
            cite::json_time(c.captured_at)
        ));
        out.push_str(&format!(
            "    <link href=\"{}\"/>\n",
            xml(&format!("{origin}/{}", doc.id))
        ));
        out.push_str(&format!(
            "    <link rel=\"related\" href=\"{}\"/>\n",
            xml(&memento)
        ));
        out.push_str(&format!(
            "    <summary>{}</summary>\n",
            xml(&format!(
                "{} SHA-256 {} ({} bytes, {})",
                doc.id, c.sha256, c.byte_len, c.media_type
            ))
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

fn atom_response(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

#[derive(Deserialize, Default)]
pub struct FeedQuery {
    #[serde(default)]
    pub entity: Option<String>,
}

/// `/feed.atom[?entity=…]`
pub async fn global(
    State(state): State<AppState>,
    query: Result<Query<FeedQuery>, QueryRejection>,
    headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return Failure::bad_request(e.body_text()).into_response(),
    };
    let entity = q.entity.filter(|e| !e.trim().is_empty());
    match state
        .with(move |archive| {
            let config = archive.config()?;
            let mut rows = archive.recent_captures_for(usize::MAX, reader.0)?;
            if let Some(e) = &entity {
                rows.retain(|(d, _)| d.entity.eq_ignore_ascii_case(e.trim()));
                if rows.is_empty() {
                    return Err(Failure::not_found(format!("no captures of entity {e:?}")));
                }
            }
            rows.truncate(FEED_ENTRIES);
            Ok((config, entity, rows))
        })
        .await
    {
        Ok((config, entity, rows)) => {
            let origin = origin(config.base_url.as_deref(), &headers);
            let (path, title) = feed_path_and_title(
                "/feed.atom",
                &config.name,
                "new captures",
                entity.as_deref(),
            );
            atom_response(atom(&origin, &path, &title, &rows))
        }
        Err(f) => f.into_response(),
    }
}

/// `/feed/<document ID>` (optionally with `.atom`).
pub async fn document(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let Ok(id) = id.trim().trim_end_matches(".atom").parse::<DocumentId>() else {
        return Failure::not_found("expected /feed/<document ID>").into_response();
    };
    match state
        .with(move |archive| {
            let config = archive.config()?;
            let doc = archive.document_for(&id, reader.0)?;
            let mut rows: Vec<(Document, Capture)> = archive
                .captures_for(&id, reader.0)?
                .into_iter()
                .rev()
                .map(|c| (doc.clone(), c))
                .collect();
            rows.truncate(FEED_ENTRIES);
            Ok((config, doc, rows))
        })
        .await
    {
        Ok((config, doc, rows)) => {
            let origin = origin(config.base_url.as_deref(), &headers);
            atom_response(atom(
                &origin,
                &format!("/feed/{}", doc.id),
                &format!(
                    "{}: new captures of {} · {}",
                    config.name, doc.entity, doc.title
                ),
                &rows,
            ))
        }
        Err(f) => f.into_response(),
    }
}

/// A global feed's path and title, narrowed to one entity when asked (`?entity=…`).
pub(crate) fn feed_path_and_title(
    path: &str,
    archive_name: &str,
    what: &str,
    entity: Option<&str>,
) -> (String, String) {
    match entity {
        Some(e) => (
            format!(
                "{path}?entity={}",
                percent_encoding::utf8_percent_encode(e, percent_encoding::NON_ALPHANUMERIC)
            ),
            format!("{archive_name}: {what} of {e}"),
        ),
        None => (path.to_owned(), format!("{archive_name}: {what}")),
    }
}
