//! Open Terms Archive declarations: a service's terms types, where each is fetched from, and the
//! rules that extract its text.
//!
//! Two file shapes are read, as OTA publishes them:
//! - `SERVICE.json`: `{"name": …, "terms": {TERMS_TYPE: DECLARATION}}`;
//! - `SERVICE.history.json`: `{TERMS_TYPE: [DECLARATION + "validUntil", …]}`, older declarations
//!   that applied until the date given (`validUntil`, also read as `ValidUntil`).
//!
//! A declaration has `fetch` (one URL) or `combine` (several pages, each with its own `fetch`
//! and optionally its own `select`/`remove`, inheriting the declaration's otherwise), and
//! `select` / `remove` (a CSS selector, a range object, or an array of both). The link filters
//! of [`crate::rules::LINK_FILTERS`] are recognised by name; other `filter`s (JavaScript
//! functions) and `executeClientScripts` (a browser) are not supported: they are reported, and
//! the rest of the declaration still applies.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::rules::{RangeSelector, Rules, Selector};

/// Why a declaration file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("declaration {file}: {reason}")]
pub struct DeclarationError {
    pub file: String,
    pub reason: String,
}

/// The declarations of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceDeclaration {
    /// The service name: the `name` field, else the file name without `.json`/`.history.json`.
    pub service: String,
    pub terms: Vec<TermsDeclaration>,
    /// True for a `*.history.json` file.
    pub history: bool,
}

/// How one terms type of a service is fetched and extracted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermsDeclaration {
    pub terms_type: String,
    /// One page, or the parts of a `combine`, in order.
    pub sources: Vec<SourceDeclaration>,
    /// For a history entry: the instant until which this declaration applied.
    pub valid_until: Option<DateTime<Utc>>,
}

/// One fetched page and its rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceDeclaration {
    pub fetch: String,
    pub rules: Rules,
    /// Features of the declaration evarc does not apply, e.g. `executeClientScripts`.
    pub unsupported: Vec<String>,
}

/// Parses one declaration file's text. `file_name` gives the service name when the file has no
/// `name`, and tells a history file (`*.history.json`) from a current one.
pub fn parse_declaration(
    file_name: &str,
    text: &str,
) -> Result<ServiceDeclaration, DeclarationError> {
    let err = |reason: String| DeclarationError {
        file: file_name.to_owned(),
        reason,
    };
    let value: Value =
        serde_json::from_str(text).map_err(|e| err(format!("not valid JSON: {e}")))?;
    let Value::Object(root) = value else {
        return Err(err("expected a JSON object".into()));
    };
    let stem = file_name.strip_suffix(".json").unwrap_or(file_name);
    let (stem, history) = match stem.strip_suffix(".history") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let mut out = ServiceDeclaration {
        service: root
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(stem)
            .to_owned(),
        terms: Vec::new(),
        history,
    };
    if history {
        for (terms_type, entries) in &root {
            let Value::Array(entries) = entries else {
                return Err(err(format!(
                    "history of {terms_type:?}: expected an array of declarations"
                )));
            };
            for entry in entries {
                let Value::Object(entry) = entry else {
                    return Err(err(format!(
                        "history of {terms_type:?}: expected declaration objects"
                    )));
                };
                out.terms.push(terms(terms_type, entry).map_err(&err)?);
            }
        }
    } else {
        let terms_map = match root.get("terms") {
            Some(Value::Object(map)) => map,
            Some(_) => return Err(err("\"terms\" must be an object".into())),
            None => return Err(err("no \"terms\" object".into())),
        };
        for (terms_type, decl) in terms_map {
            let Value::Object(decl) = decl else {
                return Err(err(format!("{terms_type:?}: expected an object")));
            };
            out.terms.push(terms(terms_type, decl).map_err(&err)?);
        }
    }
    Ok(out)
}

fn terms(terms_type: &str, decl: &Map<String, Value>) -> Result<TermsDeclaration, String> {
    let ctx = |reason: String| format!("{terms_type:?}: {reason}");
    let valid_until = match decl.get("validUntil").or_else(|| decl.get("ValidUntil")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| ctx(format!("validUntil {s:?}: {e}")))?
                .with_timezone(&Utc),
        ),
        Some(other) => return Err(ctx(format!("validUntil {other}: expected a date string"))),
    };
    let parent_select = selectors(decl.get("select")).map_err(|e| ctx(format!("select: {e}")))?;
    let parent_remove = selectors(decl.get("remove")).map_err(|e| ctx(format!("remove: {e}")))?;
    let parent_unsupported = unsupported(decl);
    let (parent_filter, _) = filters(decl);
    let mut sources = Vec::new();
    match (decl.get("fetch"), decl.get("combine")) {
        (Some(Value::String(url)), None) => sources.push(SourceDeclaration {
            fetch: url.clone(),
            rules: Rules {
                select: parent_select.unwrap_or_default(),
                remove: parent_remove.unwrap_or_default(),
                filter: parent_filter,
            },
            unsupported: parent_unsupported,
        }),
        (None, Some(Value::Array(parts))) => {
            for (i, part) in parts.iter().enumerate() {
                let Value::Object(part) = part else {
                    return Err(ctx(format!("combine[{i}]: expected an object")));
                };
                let Some(Value::String(url)) = part.get("fetch") else {
                    return Err(ctx(format!("combine[{i}]: no \"fetch\" URL")));
                };
                let select = selectors(part.get("select"))
                    .map_err(|e| ctx(format!("combine[{i}].select: {e}")))?;
                let remove = selectors(part.get("remove"))
                    .map_err(|e| ctx(format!("combine[{i}].remove: {e}")))?;
                let mut filter = parent_filter.clone();
                for name in filters(part).0 {
                    if !filter.contains(&name) {
                        filter.push(name);
                    }
                }
                let mut unsupported = parent_unsupported.clone();
                for feature in self::unsupported(part) {
                    if !unsupported.contains(&feature) {
                        unsupported.push(feature);
                    }
                }
                sources.push(SourceDeclaration {
                    fetch: url.clone(),
                    rules: Rules {
                        select: select.or_else(|| parent_select.clone()).unwrap_or_default(),
                        remove: remove.or_else(|| parent_remove.clone()).unwrap_or_default(),
                        filter,
                    },
                    unsupported,
                });
            }
        }
        (Some(_), Some(_)) => return Err(ctx("both \"fetch\" and \"combine\"".into())),
        _ => return Err(ctx("needs a \"fetch\" URL or a \"combine\" array".into())),
    }
    Ok(TermsDeclaration {
        terms_type: terms_type.to_owned(),
        sources,
        valid_until,
    })
}

/// `select`/`remove`: a selector, a range object or an array of them; None when absent.
fn selectors(value: Option<&Value>) -> Result<Option<Vec<Selector>>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::new();
    for item in items {
        out.push(match item {
            Value::String(css) => Selector::Css(css.clone()),
            Value::Object(obj) => {
                let field = |name: &str| -> Result<Option<String>, String> {
                    match obj.get(name) {
                        None => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.clone())),
                        Some(other) => Err(format!("{name} {other}: expected a CSS selector")),
                    }
                };
                let range = RangeSelector {
                    start_before: field("startBefore")?,
                    start_after: field("startAfter")?,
                    end_before: field("endBefore")?,
                    end_after: field("endAfter")?,
                };
                let starts = usize::from(range.start_before.is_some())
                    + usize::from(range.start_after.is_some());
                let ends = usize::from(range.end_before.is_some())
                    + usize::from(range.end_after.is_some());
                if starts != 1 || ends != 1 {
                    return Err(format!(
                        "range {item}: needs one of startBefore/startAfter and one of endBefore/endAfter"
                    ));
                }
                Selector::Range(range)
            }
            other => return Err(format!("{other}: expected a CSS selector or a range object")),
        });
    }
    Ok(Some(out))
}

/// The features of a declaration object evarc does not apply: `filter`s other than the
/// recognised link filters ([`crate::rules::LINK_FILTERS`]), and `executeClientScripts`.
fn unsupported(decl: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let (_, unknown) = filters(decl);
    if !unknown.is_empty() {
        out.push(format!(
            "filter ({}): JavaScript filters are not run",
            unknown.join(", ")
        ));
    }
    if decl
        .get("executeClientScripts")
        .is_some_and(|v| v.as_bool() == Some(true))
    {
        out.push("executeClientScripts: pages are not rendered in a browser".to_owned());
    }
    out
}

/// A declaration object's `filter` entries: the recognised ones (as stored in the rules: `name`,
/// or `name(param, …)` for one with parameters) and the names of the others.
fn filters(decl: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let Some(filter) = decl.get("filter") else {
        return (known, unknown);
    };
    let items: Vec<&Value> = match filter {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for item in items {
        match item {
            Value::String(name) if crate::rules::is_link_filter(name) => known.push(name.clone()),
            Value::String(name) => unknown.push(name.clone()),
            // `{"removeQueryParams": ["utm_source", …]}`: a filter with parameters.
            Value::Object(obj) if obj.len() == 1 => {
                let Some((name, params)) = obj.iter().next() else {
                    continue;
                };
                let params: Option<Vec<&str>> = match params {
                    Value::Array(p) => p.iter().map(Value::as_str).collect(),
                    Value::String(p) => Some(vec![p.as_str()]),
                    _ => None,
                };
                match params {
                    Some(params) if crate::rules::is_link_filter(name) => {
                        known.push(format!("{name}({})", params.join(", ")));
                    }
                    _ => unknown.push(name.clone()),
                }
            }
            other => unknown.push(other.to_string()),
        }
    }
    (known, unknown)
}

/// What binding one terms type of a declaration did.
#[derive(serde::Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub service: String,
    pub terms_type: String,
    /// The documents bound, with the page (`fetch`) each one is.
    pub documents: Vec<BoundDocument>,
    /// `fetch` URLs of the declaration that match no document of the archive.
    pub unmatched: Vec<String>,
}

/// One document bound to rules.
#[derive(serde::Serialize, Clone, Debug, PartialEq, Eq)]
pub struct BoundDocument {
    pub document: crate::id::DocumentId,
    pub title: String,
    pub fetch: String,
    pub unsupported: Vec<String>,
    /// Older rules (history declarations) bound too.
    pub history: usize,
    /// The document's URL is not the declared page's (the page moved): bound by its title, as
    /// the only document of the terms type left for the only declared page left.
    pub moved: bool,
}

/// A URL compared loosely: scheme and host case-insensitive, no fragment, no trailing slash.
fn url_key(url: &str, with_query: bool) -> String {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or(url);
    let url = if with_query {
        url
    } else {
        url.split('?').next().unwrap_or(url)
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    format!(
        "{}://{}/{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase(),
        path.trim_end_matches('/')
    )
}

/// True when the document's title names a page of the declaration: the terms type (single
/// page) or the terms type followed by ` #fragment` (a part of a `combine`).
fn is_part(doc: &crate::model::Document, decl: &TermsDeclaration) -> bool {
    doc.title
        .trim()
        .strip_prefix(decl.terms_type.as_str())
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(" #"))
}

/// The page of a declaration a document is: its title names a page of the declaration
/// ([`is_part`]) and its URL is that page's; with `true` when it is bound by its title alone
/// (a single-page declaration whose page moved).
fn source_for<'a>(
    doc: &crate::model::Document,
    decl: &'a TermsDeclaration,
) -> Option<(&'a SourceDeclaration, bool)> {
    if !is_part(doc, decl) {
        return None;
    }
    for with_query in [true, false] {
        let key = url_key(&doc.source_url, with_query);
        if let Some(found) = decl
            .sources
            .iter()
            .find(|s| url_key(&s.fetch, with_query) == key)
        {
            return Some((found, false));
        }
    }
    // A single-page declaration names the document by title alone (the page may have moved).
    match decl.sources.as_slice() {
        [one] if doc.title.trim() == decl.terms_type => Some((one, true)),
        _ => None,
    }
}

impl crate::Archive {
    /// The documents of the declared services that `bindings` left without a declared page:
    /// their text stays the whole page, chrome included, a common source of noise.
    pub fn undeclared_documents(
        &self,
        declarations: &[ServiceDeclaration],
        bindings: &[Binding],
    ) -> crate::Result<Vec<crate::model::Document>> {
        let bound: std::collections::HashSet<u64> = bindings
            .iter()
            .flat_map(|b| &b.documents)
            .map(|d| d.document.seq())
            .collect();
        let mut out = Vec::new();
        for doc in self.documents()? {
            let declared_service = declarations
                .iter()
                .any(|s| doc.entity.trim().eq_ignore_ascii_case(s.service.trim()));
            if declared_service
                && !bound.contains(&doc.id.seq())
                && self.document_rules(&doc.id)?.is_none()
            {
                out.push(doc);
            }
        }
        Ok(out)
    }

    /// Binds declarations to the archive's documents (entity = service name, title = terms type,
    /// `#fragment` titles = the parts of a `combine`), replacing their rules. History files add
    /// older rules (`validUntil`). Versions change only on `reindex`.
    pub fn bind_declarations(
        &self,
        declarations: &[ServiceDeclaration],
        origin: &str,
        now: DateTime<Utc>,
    ) -> crate::Result<Vec<Binding>> {
        use crate::versions::{DocumentRules, RulesPeriod};
        use std::collections::BTreeMap;
        let documents = self.documents()?;
        let mut rules: BTreeMap<u64, DocumentRules> = BTreeMap::new();
        let mut out = Vec::new();
        // Current declarations first, then history periods onto the same documents.
        let mut ordered: Vec<&ServiceDeclaration> = declarations.iter().collect();
        ordered.sort_by_key(|d| d.history);
        for service in ordered {
            for decl in &service.terms {
                let mut binding = Binding {
                    service: service.service.clone(),
                    terms_type: decl.terms_type.clone(),
                    documents: Vec::new(),
                    unmatched: Vec::new(),
                };
                let mut used = Vec::new();
                let service_docs: Vec<&crate::model::Document> = documents
                    .iter()
                    .filter(|d| d.entity.trim().eq_ignore_ascii_case(service.service.trim()))
                    .collect();
                let mut pairs: Vec<(&crate::model::Document, &SourceDeclaration, bool)> =
                    service_docs
                        .iter()
                        .filter_map(|doc| source_for(doc, decl).map(|(s, moved)| (*doc, s, moved)))
                        .collect();
                // A combine part whose page moved: when exactly one declared page matches no
                // document and exactly one document of the terms type matches no page, they
                // are the same page (the corpus names a part by the URL it was captured at).
                let left_pages: Vec<&SourceDeclaration> = decl
                    .sources
                    .iter()
                    .filter(|s| !pairs.iter().any(|(_, p, _)| p.fetch == s.fetch))
                    .collect();
                let left_docs: Vec<&&crate::model::Document> = service_docs
                    .iter()
                    .filter(|d| is_part(d, decl) && !pairs.iter().any(|(p, _, _)| p.id == d.id))
                    .collect();
                if let ([page], [doc]) = (left_pages.as_slice(), left_docs.as_slice()) {
                    pairs.push((**doc, *page, true));
                }
                for (doc, source, moved) in pairs {
                    used.push(source.fetch.clone());
                    let entry = rules.entry(doc.id.seq()).or_insert_with(|| DocumentRules {
                        document: doc.id.clone(),
                        rules: Default::default(),
                        history: Vec::new(),
                        unsupported: Vec::new(),
                        origin: origin.to_owned(),
                        set_at: now,
                    });
                    match decl.valid_until {
                        Some(until) => entry.history.push(RulesPeriod {
                            valid_until: until,
                            rules: source.rules.clone(),
                        }),
                        None => entry.rules = source.rules.clone(),
                    }
                    for feature in &source.unsupported {
                        if !entry.unsupported.contains(feature) {
                            entry.unsupported.push(feature.clone());
                        }
                    }
                    binding.documents.push(BoundDocument {
                        document: doc.id.clone(),
                        title: doc.title.clone(),
                        fetch: source.fetch.clone(),
                        unsupported: source.unsupported.clone(),
                        history: usize::from(decl.valid_until.is_some()),
                        moved,
                    });
                }
                binding.unmatched = decl
                    .sources
                    .iter()
                    .filter(|s| !used.contains(&s.fetch))
                    .map(|s| s.fetch.clone())
                    .collect();
                out.push(binding);
            }
        }
        for entry in rules.values() {
            self.set_document_rules(entry)?;
        }
        Ok(out)
    }
}
