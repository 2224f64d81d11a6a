//! Extraction rules: which part of a page is the document's text (OTA's `select` / `remove`).
//!
//! A rule is a CSS selector or a range object (`startBefore`/`startAfter` and
//! `endBefore`/`endAfter`, each a CSS selector), as in Open Terms Archive declarations. The page
//! is parsed into a tree with the `scraper` crate (html5ever); the text nodes selected and not
//! removed are kept, every other text node is dropped, and the page is then extracted with the
//! ordinary algorithm of docs/text-extraction.md, so line and paragraph breaks follow the same
//! rules with or without extraction rules. Without `select` rules the whole page is kept.
//!
//! The text of a version is reproducible: [`EXTRACTOR_VERSION`] and the rules' digest are
//! recorded with it.

use std::collections::HashSet;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{Html, Selector as CssSelector};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Names the extraction code that produced a text: the text algorithm, the selector engine, the
/// way rules are applied and the version-text normalisation (invisible characters removed; long
/// dates in one format and relative times masked: [`crate::textnorm`]). It changes whenever any
/// of them changes what a capture yields; the texts of older versions stay reproducible
/// ([`crate::textnorm::for_extractor`]).
pub const EXTRACTOR_VERSION: &str =
    "evarc-text-1+scraper-0.29+rules-1+invisible-2+dates-3+relative-3";

/// OTA's named filters that evarc recognises. Each rewrites the target (`href`) of the page's
/// links — dropping a tracking query parameter, a redirect wrapper — and evarc's text never
/// contains link targets (attributes produce no text, docs/text-extraction.md), so under evarc
/// they leave the text as it is: the noise they remove in OTA's Markdown cannot occur. They are
/// kept in the rules (and so in the rules' digest); any other filter is reported unsupported.
pub const LINK_FILTERS: [&str; 3] = [
    "removeQueryParams",
    "removeRedirectFromLinks",
    "removeTrackingIDs",
];

/// True when `name` is one of [`LINK_FILTERS`].
pub fn is_link_filter(name: &str) -> bool {
    LINK_FILTERS.contains(&name)
}

/// One `select` or `remove` rule.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum Selector {
    /// A CSS selector: every element it matches.
    Css(String),
    /// Everything between a start and an end point in document order.
    Range(RangeSelector),
}

/// A range: starts before or after the first element matching one selector, ends before or after
/// the first element matching another.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RangeSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_after: Option<String>,
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Css(css) => f.write_str(css),
            Selector::Range(r) => {
                let mut parts = Vec::new();
                for (name, value) in [
                    ("startBefore", &r.start_before),
                    ("startAfter", &r.start_after),
                    ("endBefore", &r.end_before),
                    ("endAfter", &r.end_after),
                ] {
                    if let Some(v) = value {
                        parts.push(format!("{name}: {v}"));
                    }
                }
                write!(f, "{{{}}}", parts.join(", "))
            }
        }
    }
}

/// The rules of one page.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Rules {
    /// What to keep; empty: the whole page.
    #[serde(default)]
    pub select: Vec<Selector>,
    /// What to drop from what is kept.
    #[serde(default)]
    pub remove: Vec<Selector>,
    /// Recognised OTA filters ([`LINK_FILTERS`], with their parameters as `name(a, b)`); absent
    /// from the JSON when empty, so rules without filters keep their digest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<String>,
}

impl Rules {
    /// True when the rules keep the whole page (the default extraction).
    pub fn is_empty(&self) -> bool {
        // Link filters change no text (see [`LINK_FILTERS`]).
        self.select.is_empty() && self.remove.is_empty()
    }

    /// SHA-256 of the rules' canonical JSON: what a version records.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).expect("rules serialise: strings only");
        hex::encode(Sha256::digest(&json))
    }

    /// Refuses selectors the engine cannot parse, naming the first one.
    pub fn check(&self) -> Result<(), RuleError> {
        for name in &self.filter {
            let bare = name.split('(').next().unwrap_or(name);
            if !is_link_filter(bare) {
                return Err(RuleError::UnknownFilter { name: name.clone() });
            }
        }
        for rule in self.select.iter().chain(&self.remove) {
            for css in rule_selectors(rule) {
                parse_css(css)?;
            }
        }
        Ok(())
    }
}

/// Why a rule cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("invalid CSS selector {selector:?}: {reason}")]
    InvalidSelector { selector: String, reason: String },
    #[error("invalid range selector {selector}: it needs one of startBefore/startAfter and one of endBefore/endAfter")]
    InvalidRange { selector: String },
    #[error("unknown filter {name:?}: the filters evarc applies are removeQueryParams, removeRedirectFromLinks and removeTrackingIDs")]
    UnknownFilter { name: String },
}

/// The text of a page under rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extraction {
    pub text: String,
    /// `select` rules that matched nothing on this page (when all of them match nothing, the
    /// page has no text under these rules).
    pub unmatched: Vec<String>,
}

fn rule_selectors(rule: &Selector) -> Vec<&str> {
    match rule {
        Selector::Css(css) => vec![css.as_str()],
        Selector::Range(r) => [&r.start_before, &r.start_after, &r.end_before, &r.end_after]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect(),
    }
}

fn parse_css(css: &str) -> Result<CssSelector, RuleError> {
    CssSelector::parse(css).map_err(|e| RuleError::InvalidSelector {
        selector: css.to_owned(),
        // The engine's messages may span lines: one line here.
        reason: e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// Extracts the text of captured bytes under `rules`. Without rules (or for anything that is
/// not HTML) this is [`crate::text::extract_text`].
pub fn extract_with_rules(
    bytes: &[u8],
    media_type: Option<&str>,
    rules: &Rules,
) -> Result<Extraction, RuleError> {
    let essence = media_type
        .map(|m| {
            m.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|| {
            let sniffed = crate::text::sniff_media_type(bytes, None);
            sniffed.split(';').next().unwrap_or("").to_owned()
        });
    let is_html = matches!(essence.as_str(), "text/html" | "application/xhtml+xml");
    if rules.is_empty() || !is_html {
        return Ok(Extraction {
            text: crate::text::extract_text(bytes, media_type),
            unmatched: Vec::new(),
        });
    }
    rules.check()?;
    // Decode as text extraction does, then parse the tree.
    let decoded = crate::text::extract_source(bytes, media_type);
    let mut html = Html::parse_document(&decoded);
    let text_nodes: Vec<NodeId> = html
        .tree
        .root()
        .descendants()
        .filter(|n| n.value().is_text())
        .map(|n| n.id())
        .collect();
    let mut unmatched = Vec::new();
    let keep: HashSet<NodeId> = if rules.select.is_empty() {
        text_nodes.iter().copied().collect()
    } else {
        let mut keep = HashSet::new();
        for rule in &rules.select {
            let found = texts_of(&html, rule)?;
            if found.matched {
                keep.extend(found.texts);
            } else {
                unmatched.push(rule.to_string());
            }
        }
        keep
    };
    let mut drop: HashSet<NodeId> = HashSet::new();
    for rule in &rules.remove {
        drop.extend(texts_of(&html, rule)?.texts);
    }
    for id in text_nodes {
        if !keep.contains(&id) || drop.contains(&id) {
            if let Some(mut node) = html.tree.get_mut(id) {
                node.detach();
            }
        }
    }
    let serialised = html.html();
    Ok(Extraction {
        text: crate::text::extract_text(serialised.as_bytes(), Some("text/html; charset=utf-8")),
        unmatched,
    })
}

struct Found {
    matched: bool,
    texts: Vec<NodeId>,
}

/// The text nodes a rule designates.
fn texts_of(html: &Html, rule: &Selector) -> Result<Found, RuleError> {
    match rule {
        Selector::Css(css) => {
            let selector = parse_css(css)?;
            let mut texts = Vec::new();
            let mut matched = false;
            for element in html.select(&selector) {
                matched = true;
                for node in element.descendants() {
                    if node.value().is_text() {
                        texts.push(node.id());
                    }
                }
            }
            Ok(Found { matched, texts })
        }
        Selector::Range(range) => range_texts(html, range, rule),
    }
}

fn first_match(html: &Html, css: &str) -> Result<Option<NodeId>, RuleError> {
    let selector = parse_css(css)?;
    Ok(html.select(&selector).next().map(|e| e.id()))
}

fn range_texts(html: &Html, range: &RangeSelector, rule: &Selector) -> Result<Found, RuleError> {
    let invalid = || RuleError::InvalidRange {
        selector: rule.to_string(),
    };
    // (node, true: the point is at its opening edge; false: after its closing edge)
    let start = match (&range.start_before, &range.start_after) {
        (Some(css), None) => first_match(html, css)?.map(|id| (id, true)),
        (None, Some(css)) => first_match(html, css)?.map(|id| (id, false)),
        _ => return Err(invalid()),
    };
    let end = match (&range.end_before, &range.end_after) {
        (Some(css), None) => first_match(html, css)?.map(|id| (id, true)),
        (None, Some(css)) => first_match(html, css)?.map(|id| (id, false)),
        _ => return Err(invalid()),
    };
    let (Some(start), Some(end)) = (start, end) else {
        return Ok(Found {
            matched: false,
            texts: Vec::new(),
        });
    };
    let mut inside = false;
    let mut texts = Vec::new();
    for edge in html.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if (node.id(), true) == start {
                    inside = true;
                }
                if (node.id(), true) == end {
                    break;
                }
                if inside && node.value().is_text() {
                    texts.push(node.id());
                }
            }
            Edge::Close(node) => {
                if (node.id(), false) == end {
                    break;
                }
                if (node.id(), false) == start {
                    inside = true;
                }
            }
        }
    }
    Ok(Found {
        matched: true,
        texts,
    })
}
