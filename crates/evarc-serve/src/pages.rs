//! The HTML pages: home and search, the record page of every ID, errors.
//!
//! Every value from a record goes through maud's escaping; bidirectional-text controls are made
//! visible ([`clean`]) so a title cannot reorder what is shown around it.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use evarc_provenance::change::ChangeRecord;
use evarc_provenance::cite::{self, EvidenceCheck, Format, Markup as CiteMarkup};
use evarc_provenance::id::RecordId;
use evarc_provenance::model::{Capture, Document, Provision};
use evarc_provenance::versions::DocumentVersions;
use evarc_provenance::web::{QuoteContext, Resolved};
use evarc_provenance::SearchHit;
use maud::{html, Markup, DOCTYPE};

use crate::cache::{CachedPage, PageKey};
use crate::error::Failure;
use crate::state::{AppState, View};

/// The Content-Security-Policy of the server's own pages: its stylesheet and script only.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// How many recent captures the home page lists.
pub const RECENT: usize = 20;

/// Replaces bidirectional-text controls with a visible `[U+XXXX]`.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// A page in the site's layout.
pub fn layout(archive_name: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (clean(title)) " · " (clean(archive_name)) }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/app.js" defer {}
                link rel="alternate" type="application/atom+xml" title="New captures" href="/feed.atom";
            }
            body {
                header.site { a href="/" { (clean(archive_name)) } }
                main { (body) }
                footer.site {
                    "Served by evarc " (env!("CARGO_PKG_VERSION")) ". "
                    a href="/api/v1/openapi.json" { "API" } " · "
                    a href="/log/checkpoint" { "Log checkpoint" } " · "
                    a href="/feed.atom" { "Feed" }
                }
            }
        }
    }
}

/// An HTML response with the page security headers.
pub fn html_response(status: StatusCode, page: Markup) -> Response {
    with_page_headers((status, page.into_string()).into_response())
}

/// `response` with the headers of an HTML page: its type, the security headers, no caching.
fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    safety_headers(headers, PAGE_CSP);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The headers every response of the server carries whatever its body: its content security
/// policy, no MIME sniffing, no referrer sent onwards.
pub(crate) fn safety_headers(headers: &mut axum::http::HeaderMap, csp: &'static str) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The error page of a failure.
pub fn error_page(failure: &Failure) -> Response {
    let title = failure
        .status
        .canonical_reason()
        .unwrap_or("Error")
        .to_owned();
    html_response(
        failure.status,
        layout(
            "evarc",
            &title,
            html! {
                h1 { (failure.status.as_u16()) " " (title) }
                p { (clean(&failure.message)) }
            },
        ),
    )
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        error_page(&self)
    }
}

pub async fn not_found() -> Response {
    error_page(&Failure::not_found("no such page in this archive"))
}

/// `/search`'s query: the same as `/api/v1/search`'s (text, capture-date range).
pub use crate::api::SearchQuery;

/// The counts the home page shows, computed now.
struct Counts {
    documents: usize,
    provisions: usize,
    log_size: u64,
}

fn search_form(q: &str) -> Markup {
    search_form_with(q, "", "")
}

/// The search form, with the capture-date range (ISO dates or date-times, UTC).
fn search_form_with(q: &str, from: &str, to: &str) -> Markup {
    html! {
        form.search action="/search" method="get" role="search" {
            label for="q" { "Search entity, title, URL or quote" }
            input #q type="search" name="q" value=(q);
            label for="from" { "Captured from" }
            input #from type="text" name="from" value=(from) placeholder="YYYY-MM-DD" inputmode="numeric";
            label for="to" { "to" }
            input #to type="text" name="to" value=(to) placeholder="YYYY-MM-DD" inputmode="numeric";
            button type="submit" { "Search" }
        }
    }
}

pub async fn home(State(state): State<AppState>, reader: crate::access::Reader) -> Response {
    let result = state
        .with(move |archive| {
            let name = archive.config()?.name;
            let counts = Counts {
                documents: archive.documents_for(reader.0)?.len(),
                provisions: archive.provisions_for(reader.0)?.len(),
                log_size: archive.log_size()?,
            };
            let recent = archive.recent_captures_for(RECENT, reader.0)?;
            Ok((name, counts, recent))
        })
        .await;
    match result {
        Err(f) => f.into_response(),
        Ok((name, counts, recent)) => html_response(
            StatusCode::OK,
            layout(
                &name,
                "Home",
                html! {
                    h1 { (clean(&name)) }
                    p.meta {
                        (counts.documents) " documents · " (counts.provisions) " provisions · "
                        (counts.log_size) " transparency-log leaves"
                    }
                    (search_form(""))
                    h2 { "Recent captures" }
                    (captures_table(&recent))
                },
            ),
        ),
    }
}

fn captures_table(rows: &[(Document, Capture)]) -> Markup {
    html! {
        @if rows.is_empty() {
            p { "No captures yet." }
        } @else {
            table {
                thead { tr { th { "Captured" } th { "Document" } th { "SHA-256" } } }
                tbody {
                    @for (doc, c) in rows {
                        tr {
                            td { (cite::text_time(c.captured_at)) }
                            td { a href={ "/" (doc.id) } { (clean(&doc.entity)) " · " (clean(&doc.title)) } }
                            td.hash { a href={ "/raw/" (c.sha256) } { (c.sha256) } }
                        }
                    }
                }
            }
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
    reader: crate::access::Reader,
) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return Failure::bad_request(e.body_text()).into_response(),
    };
    let wanted = match crate::api::search_query(&query) {
        Ok(wanted) => wanted,
        Err(f) => return f.into_response(),
    };
    let searched = wanted.is_some();
    let q = query.q.unwrap_or_default();
    let from = query.from.unwrap_or_default();
    let to = query.to.unwrap_or_default();
    let result = state
        .with(move |archive| {
            let name = archive.config()?.name;
            let hits = match &wanted {
                None => Vec::new(),
                Some(wanted) => archive.search_with_for(wanted, reader.0)?,
            };
            let docs = archive.documents_for(reader.0)?;
            Ok((name, hits, docs))
        })
        .await;
    match result {
        Err(f) => f.into_response(),
        Ok((name, hits, docs)) => html_response(
            StatusCode::OK,
            layout(
                &name,
                "Search",
                html! {
                    h1 { "Search" }
                    (search_form_with(&q, &from, &to))
                    @if searched {
                        p.meta {
                            (hits.len()) " results"
                            @if !q.trim().is_empty() { " for “" (clean(&q)) "”" }
                            @if !from.trim().is_empty() { " captured from " (clean(from.trim())) }
                            @if !to.trim().is_empty() { " to " (clean(to.trim())) }
                        }
                        ul {
                            @for hit in &hits {
                                @match hit {
                                    SearchHit::Document(d) => li {
                                        a href={ "/" (d.id) } { (d.id) } " " (clean(&d.entity)) " · " (clean(&d.title))
                                    },
                                    SearchHit::Provision(p) => li {
                                        a href={ "/" (p.id) } { (p.id) } " " (clean(&p.title))
                                        @if let Some(d) = docs.iter().find(|d| d.id == p.document) {
                                            " (" (clean(&d.entity)) " · " (clean(&d.title)) ")"
                                        }
                                    },
                                }
                            }
                        }
                    }
                },
            ),
        ),
    }
}

/// The evidence line: the check just made, with the time it was made.
pub fn evidence_line(check: &EvidenceCheck, at: DateTime<Utc>) -> Markup {
    let when = cite::text_time(at);
    html! {
        @match check {
            EvidenceCheck::Verified => span.ok { "✓ Snapshot stored ✓ Hash verified " (when) },
            EvidenceCheck::Missing => span.bad { "✗ Snapshot missing ✗ Hash not verified " (when) },
            EvidenceCheck::Mismatch { actual_sha256 } => span.bad {
                "✓ Snapshot stored ✗ Hash not verified " (when) ": the stored bytes hash to " (actual_sha256)
            },
            EvidenceCheck::Damaged { reason } => span.bad {
                "✓ Snapshot stored ✗ Hash not verified " (when) ": " (reason)
            },
        }
    }
}

/// Everything the record page of a provision or document shows, gathered in one go.
struct RecordView {
    archive_name: String,
    resolved: Resolved,
    capture: Capture,
    citation: String,
    evidence: EvidenceCheck,
    checked_at: DateTime<Utc>,
    context: Option<QuoteContext>,
    captures: Vec<Capture>,
    provisions: Vec<Provision>,
    /// A document's text versions and change records (issue 13).
    versions: DocumentVersions,
    /// The start of the text version in force at the cited capture (a provision page's
    /// "Document last updated"); `None`: not known.
    last_updated: Option<evarc_provenance::web::LastUpdated>,
    changes: Vec<ChangeRecord>,
}

pub async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    reader: crate::access::Reader,
) -> Response {
    if let Ok(change) = id.trim().parse::<evarc_provenance::id::ChangeId>() {
        return crate::changes::page(state, change, reader).await;
    }
    let Ok(id) = id.trim().parse::<RecordId>() else {
        return not_found().await;
    };
    let key = PageKey::new(id.clone(), reader.0);
    let max_age = state.recheck_after();
    // A page rendered before, while the check it shows is still the current kept check: answered
    // on this thread, no archive work. The clock is read here, by the front end, and handed in.
    if let Some(view) = state.settled_view() {
        if let Some(page) = fresh_page(&view, &key, Utc::now(), max_age) {
            return page_response(page.body.clone());
        }
    }
    let texts = state.clone();
    let result = state
        .with_view(move |view| {
            let now = Utc::now();
            if let Some(page) = fresh_page(view, &key, now, max_age) {
                return Ok(page.body.clone());
            }
            let archive = &view.archive;
            let resolved = archive.resolve_for(&id, reader.0)?;
            let record = archive.citation_for(&id, reader.0)?;
            let citation = archive
                .render_citation_record(
                    &id,
                    &record,
                    Format::Record,
                    CiteMarkup::Plain,
                    now.date_naive(),
                )?
                .text;
            let checked = archive.evidence_view_checked(
                &id,
                &record,
                texts.texts(),
                &view.checks,
                now,
                max_age,
            )?;
            let last_updated = match &resolved {
                Resolved::Provision { .. } => {
                    archive.last_updated_at_for(&checked.capture, reader.0)?
                }
                Resolved::Document(_) => None,
            };
            let (captures, provisions, versions, changes) = match &resolved {
                Resolved::Provision { .. } => (
                    Vec::new(),
                    Vec::new(),
                    DocumentVersions::default(),
                    Vec::new(),
                ),
                Resolved::Document(d) => (
                    archive.captures_for(&d.id, reader.0)?,
                    archive.provisions_of_for(&d.id, reader.0)?,
                    archive.versions_for(&d.id, reader.0)?,
                    archive.changes_with_statuses_for(&d.id, reader.0)?,
                ),
            };
            let page = RecordView {
                archive_name: archive.config()?.name,
                resolved,
                capture: checked.capture,
                citation,
                evidence: checked.stamp.check,
                checked_at: checked.stamp.at,
                context: checked.context,
                captures,
                provisions,
                versions,
                last_updated,
                changes,
            };
            let body = Bytes::from(record_page(&page).into_string());
            // Only a page showing a check that verified is kept (a failed check is never
            // reused: the next request checks again).
            if page.evidence.is_verified() {
                view.pages.put(
                    key,
                    CachedPage {
                        body: body.clone(),
                        check: checked.key,
                        checked_at: page.checked_at,
                        day: now.date_naive(),
                    },
                );
            }
            Ok(body)
        })
        .await;
    match result {
        Err(f) => f.into_response(),
        Ok(body) => page_response(body),
    }
}

/// The kept page of `key` when it shows the current kept check of its bytes (made less than
/// `max_age` before `now`) and was rendered for today.
fn fresh_page(
    view: &View,
    key: &PageKey,
    now: DateTime<Utc>,
    max_age: std::time::Duration,
) -> Option<std::sync::Arc<CachedPage>> {
    let page = view.pages.get(key)?;
    (page.day == now.date_naive()
        && view.checks.fresh(&page.check, now, max_age) == Some(page.checked_at))
    .then_some(page)
}

/// A 200 record page with the page headers.
fn page_response(body: Bytes) -> Response {
    with_page_headers(body.into_response())
}

fn record_page(view: &RecordView) -> Markup {
    let (id, title, document) = match &view.resolved {
        Resolved::Provision {
            provision,
            document,
        } => (provision.id.to_string(), provision.title.clone(), document),
        Resolved::Document(d) => (d.id.to_string(), d.title.clone(), d),
    };
    let c = &view.capture;
    let memento = format!(
        "/web/{}/{}",
        cite::wayback_timestamp(c.captured_at),
        document.source_url
    );
    // Only a recorded Wayback capture is shown as one; otherwise a lookup, labelled as such
    // (issue 10: a Wayback capture that may not exist is never cited as the archived copy).
    let wayback_lookup = cite::computed_wayback_url(&document.source_url, c.captured_at);
    let status = match &c.method {
        cite::CaptureMethod::HttpFetch { status, .. } if !(200..300).contains(status) => {
            Some(*status)
        }
        _ => None,
    };
    let body = html! {
        @if !view.evidence.is_verified() {
            p.banner-bad role="alert" { "✗ Hash not verified: the stored bytes of this record do not match the hash recorded at capture. Do not rely on them." }
        }
        h1 { (clean(&title)) }
        p.meta {
            (clean(&document.entity)) " · "
            @if matches!(view.resolved, Resolved::Provision { .. }) {
                a href={ "/" (document.id) } { (clean(&document.title)) } " · "
            } @else {
                (clean(&document.title)) " · "
            }
            a href={ "/raw/" (c.sha256) } { "View original document" }
        }
        @if let Resolved::Provision { provision, .. } = &view.resolved {
            blockquote { (clean(&provision.quote)) }
            p.attribution { "— Excerpt from " (clean(&document.entity)) "’s " (clean(&document.title)) }
            h2 { "Provision details" }
            dl.fields {
                dt { "Document last updated" }
                dd {
                    // The start of the text version in force at the cited capture (issue 13),
                    // then the date the document itself states, when the capture recorded one.
                    @match &view.last_updated {
                        Some(u) => { "On or before " (cite::human_date(u.since.date_naive())) " (v" (u.version) ", first captured " (cite::text_time(u.since)) ")" },
                        None => "Not known",
                    }
                    @if let Some(d) = c.last_updated { "; the document states " (cite::human_date(d)) }
                }
                dt { "First tracked" } dd { (cite::text_time(c.first_tracked)) }
                dt { "Last verified" } dd { (cite::text_time(c.last_verified)) }
                dt { "Record ID" } dd { code { (provision.id) } }
                dt { "Document ID" } dd { a href={ "/" (document.id) } { code { (document.id) } } }
                @if let Some(s) = &provision.severity { dt { "Severity" } dd { (clean(s)) } }
                @if !provision.categories.is_empty() {
                    dt { "Categories" } dd { (clean(&provision.categories.join(", "))) }
                }
            }
        } @else {
            h2 { "Document details" }
            dl.fields {
                dt { "Entity" } dd { (clean(&document.entity)) }
                dt { "Document ID" } dd { code { (document.id) } }
                dt { "Document last updated" } dd {
                    @match view.versions.current() {
                        Some(v) => { (cite::text_time(v.first_captured_at)) " (first capture of the current text, v" (v.number) ")" },
                        None => "No text version computed yet",
                    }
                    @if let Some(d) = c.last_updated { "; the document states " (cite::human_date(d)) }
                }
                dt { "First tracked" } dd { @if let Some(first) = view.captures.first() { (cite::text_time(first.first_tracked)) } }
                dt { "Last verified" } dd { (cite::text_time(view.captures.iter().map(|c| c.last_verified).max().unwrap_or(c.last_verified))) }
                dt { "Captures" } dd { (view.captures.len()) }
            }
        }
        h2 { "Evidence Provenance" }
        dl.fields {
            dt { "Source URL" } dd { a.url href=(document.source_url) rel="noopener noreferrer nofollow" { (clean(&document.source_url)) } }
            @if let Some(wayback) = &c.wayback {
                dt { "Wayback Machine" } dd { a.url href=(wayback) rel="noopener noreferrer nofollow" { (clean(wayback)) } }
            } @else {
                dt { "Wayback lookup" } dd { a.url href=(wayback_lookup) rel="noopener noreferrer nofollow" { (clean(&wayback_lookup)) } " " span.note { "(no Wayback capture was recorded; this asks the Wayback Machine for the nearest one, which may not exist)" } }
            }
            dt { "This archive's memento" } dd { a href=(memento) { (clean(&memento)) } }
            dt { "Content hash (SHA-256)" } dd.hash { (c.sha256) }
            dt { "Captured" } dd { (cite::text_time(c.captured_at)) }
            @if let Some(s) = status { dt { "HTTP status" } dd { (s) } }
            dt { "Evidence" } dd #evidence { (evidence_line(&view.evidence, view.checked_at)) }
        }
        h2 { "Citation Record" }
        pre.citation #citation-record { (view.citation) }
        button.no-print type="button" data-copy="citation-record" { "Copy citation" }
        @if let Some(ctx) = &view.context {
            h2 { "Quote in context" }
            p.context { "…" (clean(&ctx.before)) mark { (clean(&ctx.exact)) } (clean(&ctx.after)) "…" }
        }
        @if let Resolved::Document(_) = &view.resolved {
            h2 { "Captures" }
            table {
                thead { tr { th { "Captured" } th { "Last verified" } th { "SHA-256" } } }
                tbody {
                    @for cap in view.captures.iter().rev() {
                        tr {
                            td { a href={ "/web/" (cite::wayback_timestamp(cap.captured_at)) "/" (document.source_url) } { (cite::text_time(cap.captured_at)) } }
                            td { (cite::text_time(cap.last_verified)) }
                            td.hash { a href={ "/raw/" (cap.sha256) } { (cap.sha256) } }
                        }
                    }
                }
            }
            (crate::changes::document_sections(document, &view.versions, &view.changes))
            h2 { "Provisions" }
            @if view.provisions.is_empty() { p { "None registered." } }
            ul {
                @for p in &view.provisions {
                    li { a href={ "/" (p.id) } { (p.id) } " " (clean(&p.title)) }
                }
            }
            p { a href={ "/feed/" (document.id) } { "Atom feed of new captures" } }
        }
        section.no-print {
            h2 { "Downloads" }
            ul.downloads {
                @for f in Format::ALL {
                    li { a href={ "/api/v1/citations/" (id) "?format=" (f.name()) "&download=1" } { "Citation (" (f.name()) ")" } }
                }
                @for kind in crate::package::PackageKind::ALL {
                    li { a href={ "/export/" (id) (kind.suffix()) } { "Evidence package (" (kind.label()) ")" } }
                }
                li { a href={ "/raw/" (c.sha256) "?download=1" } { "Captured bytes" } }
                li { a href={ "/log/proof/" (id) } { "Inclusion proof" } }
                li { a href="/log/checkpoint" { "Log checkpoint" } }
                li { a href="/log/key" { "Log public key" } }
            }
        }
    };
    layout(&view.archive_name, &title, body)
}
