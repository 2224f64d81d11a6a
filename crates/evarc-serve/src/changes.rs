//! Change records (issue 13) on the web: the page of one (`/CA-C-…`: its captures, the changed
//! passages with their word diffs, every provision's status in the new version, its citation),
//! the versions and change records of a document page, and Atom feeds of change records
//! (`/feed/changes.atom[?entity=…]`, `/feed/changes/<document ID>`).
//!
//! What changed, and each provision's status, are `evarc-provenance`'s (`change_view`,
//! `versions`, `recent_changes`); the citation is the renderer of `evarc cite CA-C-…`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use evarc_provenance::change::{word_ops, ChangeRecord, PassageKind, ProvisionStatus, WordChange};
use evarc_provenance::cite::{self, Format};
use evarc_provenance::id::{ChangeId, DocumentId};
use evarc_provenance::model::Document;
use evarc_provenance::text_diff::WordOp;
use evarc_provenance::versions::DocumentVersions;
use maud::{html, Markup};

use crate::error::Failure;
use crate::feed::{xml, FeedQuery, FEED_ENTRIES};
use crate::memento::origin;
use crate::pages::{clean, html_response, layout};
use crate::state::AppState;

/// A word diff: removed words struck through (`<del>`), added ones underlined (`<ins>`).
pub fn words(changes: &[WordChange]) -> Markup {
    html! {
        @for op in word_ops(changes) {
            @match op {
                WordOp::Equal(t) => (clean(&t)),
                WordOp::Removed(t) => del { (clean(&t)) },
                WordOp::Added(t) => ins { (clean(&t)) },
            }
        }
    }
}

/// One line saying how much changed.
pub fn summary(change: &ChangeRecord) -> String {
    let count = |kind| change.passages.iter().filter(|p| p.kind == kind).count();
    let mut line = format!(
        "{} words added, {} removed in {} passage{} ({} added, {} removed, {} changed)",
        change.words_added,
        change.words_removed,
        change.passages.len(),
        if change.passages.len() == 1 { "" } else { "s" },
        count(PassageKind::Added),
        count(PassageKind::Removed),
        count(PassageKind::Changed),
    );
    let touched: Vec<String> = change
        .provisions
        .iter()
        .filter(|p| !matches!(p.status, ProvisionStatus::Unchanged))
        .map(|p| format!("{} {}", p.provision, p.status.as_str()))
        .collect();
    if !touched.is_empty() {
        line.push_str(&format!("; {}", touched.join(", ")));
    }
    line
}

fn memento_link(document: &Document, at: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "/web/{}/{}",
        cite::wayback_timestamp(at),
        document.source_url
    )
}

/// `/CA-C-…`
pub async fn page(state: AppState, id: ChangeId, reader: crate::access::Reader) -> Response {
    let result = state
        .with(move |archive| {
            let change = archive.change_view_for(&id, reader.0)?;
            let document = archive.document(&change.document)?;
            let config = archive.config()?;
            let citation = cite::change::render_change(
                &change,
                &document,
                &config.name,
                config.base_url.as_deref(),
                Format::Record,
            )
            .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok((config.name, change, document, citation))
        })
        .await;
    match result {
        Err(f) => f.into_response(),
        Ok((name, change, document, citation)) => html_response(
            StatusCode::OK,
            change_page(&name, &change, &document, &citation),
        ),
    }
}

fn change_page(name: &str, change: &ChangeRecord, document: &Document, citation: &str) -> Markup {
    let title = format!(
        "Text change {} of {}",
        change.id,
        cite::human_date(change.capture.captured_at.date_naive())
    );
    let body = html! {
        @if let Some(s) = &change.superseded {
            p.banner-bad role="alert" {
                "Superseded " (cite::text_time(s.at)) ": " (clean(&s.reason))
                ". This change record no longer corresponds to a change of the extracted text."
            }
        }
        h1 { (title) }
        p.meta {
            (clean(&document.entity)) " · "
            a href={ "/" (document.id) } { (clean(&document.title)) }
        }
        p { (summary(change)) }
        h2 { "Change details" }
        dl.fields {
            dt { "Changed" } dd { (cite::text_time(change.capture.captured_at)) " (first capture with the new text)" }
            dt { "New text in" } dd {
                a href=(memento_link(document, change.capture.captured_at)) { (cite::text_time(change.capture.captured_at)) }
                " · " a.hash href={ "/raw/" (change.capture.sha256) } { (change.capture.sha256) }
            }
            dt { "Previous text in" } dd {
                a href=(memento_link(document, change.previous.captured_at)) { (cite::text_time(change.previous.captured_at)) }
                " · " a.hash href={ "/raw/" (change.previous.sha256) } { (change.previous.sha256) }
            }
            dt { "Record ID" } dd { code { (change.id) } }
            dt { "Document ID" } dd { a href={ "/" (document.id) } { code { (document.id) } } }
            dt { "Extracted by" } dd { (clean(&change.extractor)) ", rules " span.hash { (change.rules_sha256) } }
            dt { "Recorded" } dd { (cite::text_time(change.recorded_at)) }
        }
        h2 { "What changed" }
        @if change.passages.is_empty() { p { "No passage differs." } }
        ol.passages {
            @for p in &change.passages {
                li {
                    @match p.kind {
                        PassageKind::Added => {
                            p.meta { "Added at line " (p.line) }
                            p.passage { ins { (clean(&p.new)) } }
                        },
                        PassageKind::Removed => {
                            p.meta { "Removed at line " (p.line) }
                            p.passage { del { (clean(&p.old)) } }
                        },
                        PassageKind::Changed => {
                            p.meta { "Changed at line " (p.line) }
                            p.passage {
                                @if p.words.is_empty() { del { (clean(&p.old)) } " " ins { (clean(&p.new)) } }
                                @else { (words(&p.words)) }
                            }
                        },
                    }
                }
            }
        }
        h2 { "Provisions in the new version" }
        @if change.provisions.is_empty() {
            p { "No provision of this document is tracked." }
        } @else {
            table {
                thead { tr { th { "Provision" } th { "Status" } th { "Wording in the new version" } } }
                tbody {
                    @for p in &change.provisions {
                        tr {
                            td { a href={ "/" (p.provision) } { (p.provision) } " " (clean(&p.title)) }
                            td.status { (p.status.as_str()) }
                            td {
                                @if !p.words.is_empty() { (words(&p.words)) }
                                @else if let Some(w) = &p.wording { (clean(w)) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Citation Record" }
        pre.citation #citation-record { (citation) }
        button.no-print type="button" data-copy="citation-record" { "Copy citation" }
        p.no-print { a href={ "/feed/changes/" (document.id) } { "Atom feed of this document's changes" } }
    };
    layout(name, &title, body)
}

/// The "Versions" and "Change records" sections of a document page.
pub fn document_sections(
    document: &Document,
    versions: &DocumentVersions,
    changes: &[ChangeRecord],
) -> Markup {
    html! {
        h2 { "Versions" }
        @if versions.versions.is_empty() {
            p { "No text version computed yet." }
        } @else {
            p.meta { "A version is a distinct extracted text. A capture with the same text as the one before re-verifies that version; it is not a change." }
            table.versions {
                thead { tr { th { "Version" } th { "Since" } th { "Last verified" } th { "Captures" } } }
                tbody {
                    @for v in versions.versions.iter().rev() {
                        tr {
                            td {
                                "v" (v.number)
                                @if let Some(c) = &v.change { " · " a href={ "/" (c) } { (c) } }
                            }
                            td { (cite::text_time(v.first_captured_at)) }
                            td { (cite::text_time(v.last_verified)) }
                            td {
                                (v.captures.len())
                                @if v.captures.len() > 1 { " (" (v.captures.len() - 1) " re-verification" @if v.captures.len() > 2 { "s" } ")" }
                                ": "
                                @for (i, cap) in v.captures.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href=(memento_link(document, cap.captured_at)) { (cite::text_time(cap.captured_at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !versions.unindexed.is_empty() {
            p.meta { (versions.unindexed.len()) " capture(s) without a text version yet (evarc reindex)." }
        }
        @if !versions.without_text.is_empty() {
            p.meta { (versions.without_text.len()) " capture(s) on which the extraction rules select no text." }
        }
        h2 { "Change records" }
        @if changes.is_empty() {
            p { "No change of the text recorded." }
        } @else {
            ul.changes {
                @for c in changes.iter().rev() {
                    li {
                        (cite::text_time(c.capture.captured_at)) " · "
                        a href={ "/" (c.id) } { "View change record " (c.id) }
                        @if c.superseded.is_some() { " (superseded)" }
                        br;
                        span.meta { (summary(c)) }
                    }
                }
            }
        }
        p { a href={ "/feed/changes/" (document.id) } { "Atom feed of this document's change records" } }
    }
}

fn atom(origin: &str, self_path: &str, title: &str, rows: &[(Document, ChangeRecord)]) -> String {
    let updated = rows
        .iter()
        .map(|(_, c)| c.capture.captured_at)
        .max()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), cite::json_time);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    let self_url = xml(&format!("{origin}{self_path}"));
    out.push_str(&format!("  <id>{self_url}</id>\n"));
    out.push_str(&format!("  <title>{}</title>\n", xml(title)));
    out.push_str(&format!("  <updated>{updated}</updated>\n"));
    out.push_str(&format!("  <link rel=\"self\" href=\"{self_url}\"/>\n"));
    out.push_str("  <author><name>evarc</name></author>\n");
    for (doc, c) in rows {
        let link = xml(&format!("{origin}/{}", c.id));
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <id>{link}</id>\n"));
        out.push_str(&format!(
            "    <title>{}</title>\n",
            xml(&format!(
                "{} · {} changed {} ({})",
                doc.entity,
                doc.title,
                cite::text_time(c.capture.captured_at),
                c.id
            ))
        ));
        out.push_str(&format!(
            "    <updated>{}</updated>\n",
            cite::json_time(c.capture.captured_at)
        ));
        out.push_str(&format!("    <link href=\"{link}\"/>\n"));
        out.push_str(&format!(
            "    <link rel=\"related\" href=\"{}\"/>\n",
            xml(&format!("{origin}/{}", doc.id))
        ));
        out.push_str(&format!(
            "    <summary>{}</summary>\n",
            xml(&format!("{} {}", doc.id, summary(c)))
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

/// `/feed/changes.atom[?entity=…]`
pub async fn global_feed(
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
            if let Some(e) = &entity {
                let known = archive
                    .documents_for(reader.0)?
                    .iter()
                    .any(|d| d.entity.trim().eq_ignore_ascii_case(e.trim()));
                if !known {
                    return Err(Failure::not_found(format!("no documents of entity {e:?}")));
                }
            }
            let rows = archive.recent_changes_for(FEED_ENTRIES, entity.as_deref(), reader.0)?;
            Ok((config, entity, rows))
        })
        .await
    {
        Ok((config, entity, rows)) => {
            let origin = origin(config.base_url.as_deref(), &headers);
            let (path, title) = crate::feed::feed_path_and_title(
                "/feed/changes.atom",
                &config.name,
                "text changes",
                entity.as_deref(),
            );
            atom_response(atom(&origin, &path, &title, &rows))
        }
        Err(f) => f.into_response(),
    }
}

/// `/feed/changes/<document ID>` (optionally with `.atom`).
pub async fn document_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    reader: crate::access::Reader,
) -> Response {
    let Ok(id) = id.trim().trim_end_matches(".atom").parse::<DocumentId>() else {
        return Failure::not_found("expected /feed/changes/<document ID>").into_response();
    };
    match state
        .with(move |archive| {
            let config = archive.config()?;
            let doc = archive.document_for(&id, reader.0)?;
            let mut rows: Vec<(Document, ChangeRecord)> = archive
                .changes_with_statuses_for(&id, reader.0)?
                .into_iter()
                .filter(|c| c.superseded.is_none())
                .map(|c| (doc.clone(), c))
                .collect();
            rows.sort_by_key(|(_, c)| std::cmp::Reverse((c.capture.captured_at, c.id.seq())));
            rows.truncate(FEED_ENTRIES);
            Ok((config, doc, rows))
        })
        .await
    {
        Ok((config, doc, rows)) => {
            let origin = origin(config.base_url.as_deref(), &headers);
            atom_response(atom(
                &origin,
                &format!("/feed/changes/{}", doc.id),
                &format!(
                    "{}: text changes of {} · {}",
                    config.name, doc.entity, doc.title
                ),
                &rows,
            ))
        }
        Err(f) => f.into_response(),
    }
}
