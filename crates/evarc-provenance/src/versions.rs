//! Text versions and change records (docs/versions.md).
//!
//! Each capture's text is extracted under the document's rules (see [`crate::rules`]) and kept
//! with the rules and the extractor version that produced it. A **version** is a run of
//! consecutive captures with the same text; a **change record** (`CA-C-…`) marks the first
//! capture of each new version, with the capture before it, the passages that changed (line
//! diff, word diff inside changed passages) and every provision's status. Change records are
//! logged in the transparency log in the same batch as the record; a change record that no
//! longer corresponds to a text change after re-extraction is marked superseded, never deleted.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use evarc_store::{Durability, RecordBatch, Sha256};
use serde::{Deserialize, Serialize};
use similar::TextDiff;

use crate::archive::{decode, encode, Archive};
use crate::error::{ProvenanceError, Result};
use crate::id::{ChangeId, DocumentId, ProvisionId};
use crate::keys;
use crate::model::{Capture, CaptureRef, Provision};
use crate::rules::{extract_with_rules, Rules, EXTRACTOR_VERSION};
use crate::tlog::StoreNodes;
pub use evarc_record::change::{
    ChangeRecord, Passage, PassageKind, ProvisionChange, ProvisionStatus, Superseded, WordChange,
};

/// Extraction rules bound to a document, with the older rules that applied before a date.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DocumentRules {
    pub document: DocumentId,
    pub rules: Rules,
    /// Older rules: each applies to captures taken before its `valid_until` (earliest first).
    #[serde(default)]
    pub history: Vec<RulesPeriod>,
    /// Features of the declaration that are not applied (e.g. `executeClientScripts`).
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// Where the rules come from: a declaration file, or `declare`.
    pub origin: String,
    pub set_at: DateTime<Utc>,
}

/// Rules that applied until an instant.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RulesPeriod {
    pub valid_until: DateTime<Utc>,
    pub rules: Rules,
}

impl DocumentRules {
    /// The rules for a capture taken at `at`.
    pub fn at(&self, at: DateTime<Utc>) -> &Rules {
        let mut periods: Vec<&RulesPeriod> = self.history.iter().collect();
        periods.sort_by_key(|p| p.valid_until);
        periods
            .into_iter()
            .find(|p| at < p.valid_until)
            .map_or(&self.rules, |p| &p.rules)
    }
}

/// The text of one capture, as extracted: reproducible from the bytes, the rules and the
/// extractor version.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CaptureText {
    /// SHA-256 of the UTF-8 text; None when the rules select nothing on this capture.
    pub text_sha256: Option<String>,
    pub chars: u64,
    pub rules: Rules,
    pub extractor: String,
    /// `select` rules that matched nothing on this capture.
    #[serde(default)]
    pub unmatched: Vec<String>,
}

/// One version: a run of captures with the same text.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// 1-based, in time order.
    pub number: usize,
    pub text_sha256: String,
    /// The change record that opened it (None for the first version, or when not yet indexed).
    pub change: Option<ChangeId>,
    /// The first capture with this text: the document was last updated then.
    pub first_captured_at: DateTime<Utc>,
    /// The latest time this text was seen (the last capture's `last_verified`).
    pub last_verified: DateTime<Utc>,
    pub captures: Vec<Capture>,
}

/// A document's versions, and the captures outside them.
#[derive(Serialize, Clone, Debug, Default)]
pub struct DocumentVersions {
    pub versions: Vec<Version>,
    /// Captures whose text has not been extracted yet (`evarc reindex`).
    pub unindexed: Vec<Capture>,
    /// Captures on which the rules select nothing.
    pub without_text: Vec<Capture>,
}

/// A provision across versions.
#[derive(Serialize, Clone, Debug)]
pub struct TimelineEntry {
    pub version: usize,
    pub first_captured_at: DateTime<Utc>,
    pub change: Option<ChangeId>,
    pub status: ProvisionStatus,
    pub wording: Option<String>,
    pub words: Vec<WordChange>,
}

/// What a reindex did to one document.
#[derive(Serialize, Clone, Debug, Default)]
pub struct ReindexReport {
    pub document: Option<DocumentId>,
    pub captures: usize,
    pub versions: usize,
    pub changes_new: Vec<ChangeId>,
    pub changes_kept: usize,
    pub changes_superseded: Vec<ChangeId>,
    pub without_text: usize,
}

/// The leaf of a change record: canonical JSON, keys in byte order.
#[derive(Serialize)]
struct ChangeLeaf<'a> {
    capture_sha256: &'a Sha256,
    captured_at: String,
    document: String,
    extractor: &'a str,
    from_text_sha256: &'a str,
    id: String,
    kind: &'static str,
    previous_captured_at: String,
    previous_sha256: &'a Sha256,
    rules_sha256: &'a str,
    to_text_sha256: &'a str,
    v: u32,
}

/// The leaf bytes of a change record.
pub fn change_leaf(change: &ChangeRecord) -> Vec<u8> {
    let time = |at: DateTime<Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let leaf = ChangeLeaf {
        capture_sha256: &change.capture.sha256,
        captured_at: time(change.capture.captured_at),
        document: change.document.to_string(),
        extractor: &change.extractor,
        from_text_sha256: &change.from_text_sha256,
        id: change.id.to_string(),
        kind: "change",
        previous_captured_at: time(change.previous.captured_at),
        previous_sha256: &change.previous.sha256,
        rules_sha256: &change.rules_sha256,
        to_text_sha256: &change.to_text_sha256,
        v: crate::tlog::LEAF_VERSION,
    };
    serde_json::to_vec(&leaf).expect("a leaf serialises: strings and integers")
}

fn sha_hex(text: &str) -> String {
    Sha256::of(text.as_bytes()).to_hex()
}

fn capture_key(capture: &Capture) -> Result<Vec<u8>> {
    Ok(keys::capture(
        capture.document.seq(),
        capture.captured_at,
        &capture.sha256.0,
    ))
}

fn capture_ref(capture: &Capture) -> CaptureRef {
    CaptureRef {
        sha256: capture.sha256,
        captured_at: capture.captured_at,
    }
}

/// Extracts a capture's text under rules: the record and the text.
pub fn text_of(
    bytes: &[u8],
    media_type: &str,
    captured_at: DateTime<Utc>,
    rules: Option<&DocumentRules>,
) -> Result<(CaptureText, Option<String>)> {
    let rules = rules.map(|r| r.at(captured_at).clone()).unwrap_or_default();
    let extraction = extract_with_rules(bytes, Some(media_type), &rules)
        .map_err(|e| ProvenanceError::InvalidInput(e.to_string()))?;
    let nothing = !rules.select.is_empty() && extraction.unmatched.len() == rules.select.len();
    let text = (!nothing).then(|| crate::textnorm::version_text(&extraction.text));
    Ok((
        CaptureText {
            text_sha256: text.as_deref().map(sha_hex),
            chars: text.as_deref().map_or(0, |t| t.chars().count() as u64),
            rules,
            extractor: EXTRACTOR_VERSION.to_owned(),
            unmatched: extraction.unmatched,
        },
        text,
    ))
}

pub use crate::textnorm::strip_invisible;

/// Word diff as runs of equal, inserted and deleted words.
pub fn word_diff(old: &str, new: &str) -> Vec<WordChange> {
    // The one word diff of evarc (`text_diff::diff_words`, also what `evarc diff` marks), in
    // the change record's shape.
    crate::text_diff::diff_words(old, new)
        .into_iter()
        .map(word_change)
        .collect()
}

/// The passages that differ between two texts, from the one line diff of evarc
/// ([`crate::text_diff::diff_lines`], as `evarc diff`): a run of consecutive removed (or added)
/// lines is one removed (added) passage, with the text between its first and last line as it
/// stands (paragraph breaks kept); a changed line is a changed passage with its word diff. Also
/// the number of words added and removed.
pub fn passages(old: &str, new: &str) -> (Vec<Passage>, u64, u64) {
    use crate::text_diff::LineOp;
    let old_lines: Vec<&str> = old.split('\n').collect();
    let new_lines: Vec<&str> = new.split('\n').collect();
    // Lines first..=last (1-based) of a text, as they stand.
    let span = |lines: &[&str], first: usize, last: usize| {
        lines[first - 1..last].join("\n").trim_end().to_owned()
    };
    let count = |s: &str| s.split_whitespace().count() as u64;
    let mut out: Vec<Passage> = Vec::new();
    let (mut added, mut removed) = (0u64, 0u64);
    // The open run: kind, first line, last line.
    let mut run: Option<(PassageKind, usize, usize)> = None;
    let close = |run: &mut Option<(PassageKind, usize, usize)>, out: &mut Vec<Passage>| {
        if let Some((kind, first, last)) = run.take() {
            let (old, new) = match kind {
                PassageKind::Removed => (span(&old_lines, first, last), String::new()),
                _ => (String::new(), span(&new_lines, first, last)),
            };
            out.push(Passage {
                kind,
                line: first,
                old,
                new,
                words: Vec::new(),
            });
        }
    };
    let diff = crate::text_diff::diff_lines(old, new);
    for op in diff.hunks.into_iter().flat_map(|h| h.lines) {
        let (kind, line) = match &op {
            LineOp::Removed { old_line, text } => {
                removed += count(text);
                (PassageKind::Removed, *old_line)
            }
            LineOp::Added { new_line, text } => {
                added += count(text);
                (PassageKind::Added, *new_line)
            }
            LineOp::Equal { .. } | LineOp::Changed { .. } => {
                close(&mut run, &mut out);
                if let LineOp::Changed {
                    old_line,
                    old_text,
                    new_text,
                    words,
                    ..
                } = op
                {
                    let words: Vec<WordChange> = words.into_iter().map(word_change).collect();
                    for w in &words {
                        match w.op {
                            '+' => added += count(&w.text),
                            '-' => removed += count(&w.text),
                            _ => {}
                        }
                    }
                    out.push(Passage {
                        kind: PassageKind::Changed,
                        line: old_line,
                        old: old_text,
                        new: new_text,
                        words,
                    });
                }
                continue;
            }
        };
        match &mut run {
            Some((k, _, last)) if *k == kind => *last = line,
            _ => {
                close(&mut run, &mut out);
                run = Some((kind, line, line));
            }
        }
    }
    close(&mut run, &mut out);
    (out, added, removed)
}

fn word_change(op: crate::text_diff::WordOp) -> WordChange {
    match op {
        crate::text_diff::WordOp::Equal(text) => WordChange { op: '=', text },
        crate::text_diff::WordOp::Added(text) => WordChange { op: '+', text },
        crate::text_diff::WordOp::Removed(text) => WordChange { op: '-', text },
    }
}

/// The old text's lines (0-based, end exclusive) that the line diff leaves untouched: runs of
/// lines that are unchanged or blank.
pub fn equal_lines(old_text: &str, new_text: &str) -> Vec<(usize, usize)> {
    use crate::text_diff::LineOp;
    let mut same: Vec<bool> = old_text.split('\n').map(|l| l.trim().is_empty()).collect();
    let diff = crate::text_diff::diff_lines(old_text, new_text);
    for op in diff.hunks.iter().flat_map(|h| &h.lines) {
        if let LineOp::Equal { old_line, .. } = op {
            if let Some(s) = same.get_mut(old_line - 1) {
                *s = true;
            }
        }
    }
    let mut out = Vec::new();
    let mut start = None;
    for (i, &s) in same.iter().enumerate() {
        match (s, start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                out.push((a, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        out.push((a, same.len()));
    }
    out
}

/// A provision's status in a new text, given its wording in the old one. `equal` is
/// [`equal_lines`] of the two texts: a wording whose lines the diff leaves untouched is
/// unchanged; one that still occurs verbatim elsewhere is moved; otherwise it is re-anchored by
/// the closest passage (amended) or gone (removed).
pub fn track_provision(
    old_text: &str,
    new_text: &str,
    wording: &str,
    equal: &[(usize, usize)],
) -> ProvisionChange {
    let mut change = ProvisionChange {
        provision: placeholder_provision(),
        title: String::new(),
        status: ProvisionStatus::Absent,
        wording: None,
        words: Vec::new(),
    };
    let Ok(old_sel) = crate::anchor::anchor(old_text, wording) else {
        return change;
    };
    let exact = old_sel.exact.as_str();
    let line_of = |cp: usize| old_text.chars().take(cp).filter(|&c| c == '\n').count();
    let (first, last) = (line_of(old_sel.start), line_of(old_sel.end));
    if equal.iter().any(|&(a, b)| a <= first && last < b) {
        change.status = ProvisionStatus::Unchanged;
        change.wording = Some(exact.to_owned());
        return change;
    }
    if new_text.contains(exact) {
        change.status = ProvisionStatus::Moved;
        change.wording = Some(exact.to_owned());
        return change;
    }
    match crate::anchor::relocate(new_text, &old_sel) {
        crate::anchor::Relocation::Unchanged | crate::anchor::Relocation::Moved { .. } => {
            change.status = ProvisionStatus::Moved;
            change.wording = Some(exact.to_owned());
        }
        crate::anchor::Relocation::Changed { closest } => {
            let closest = extend_to_sentence_end(new_text, exact, &closest);
            let ratio = TextDiff::from_words(exact, closest.as_str()).ratio();
            if ratio >= AMENDED_MIN_SIMILARITY && !closest.is_empty() {
                change.status = ProvisionStatus::Amended;
                change.words = word_diff(exact, &closest);
                change.wording = Some(closest);
            } else {
                change.status = ProvisionStatus::Removed;
            }
        }
    }
    change
}

/// The closest passage has the old wording's length; when the old wording ended a sentence,
/// the new one is read on to the end of its sentence (or line), at most 500 characters further.
fn extend_to_sentence_end(new_text: &str, exact: &str, closest: &str) -> String {
    let ends_sentence = exact.trim_end().ends_with(['.', ';', '!', '?', ':']);
    let Some(at) = new_text.find(closest) else {
        return closest.to_owned();
    };
    if !ends_sentence || closest.trim_end().ends_with(['.', ';', '!', '?', ':']) {
        return closest.to_owned();
    }
    let rest = &new_text[at + closest.len()..];
    let mut end = 0;
    for (i, c) in rest.char_indices().take(500) {
        if c == '\n' {
            break;
        }
        end = i + c.len_utf8();
        if matches!(c, '.' | ';' | '!' | '?') {
            break;
        }
    }
    format!("{closest}{}", &rest[..end])
}

/// The word similarity (0–1, `similar`'s ratio) above which the closest passage is the same
/// provision amended rather than a different text.
pub const AMENDED_MIN_SIMILARITY: f32 = 0.5;

fn placeholder_provision() -> ProvisionId {
    ProvisionId::new(crate::id::Prefix::default(), 1).expect("1 is a valid sequence")
}

/// Which recorded capture texts a version computation keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextReuse {
    /// Every capture's text is extracted again (`reindex`, after a rule change).
    None,
    /// Only captures without a text record are extracted (the version pass of bulk imports).
    KeepRecorded,
}

/// A document's capture texts, extracted but not yet written.
pub(crate) struct Extracted {
    rules: Option<DocumentRules>,
    captures: Vec<Capture>,
    /// Each capture's text record, and whether it is new (to be written).
    records: Vec<(CaptureText, bool)>,
    /// Texts in hand by SHA-256 (the new ones; older ones are read back when needed).
    texts: HashMap<String, String>,
    /// SHA-256 of the texts extracted now, in time order of their first capture.
    new_texts: Vec<String>,
    /// The version boundaries, once planned ([`Archive::plan_versions`]).
    boundaries: Option<Vec<PlannedBoundary>>,
    versions: usize,
    without_text: usize,
}

/// A boundary between two versions (capture indexes), with what its change record would hold.
struct PlannedBoundary {
    previous: usize,
    capture: usize,
    from: String,
    to: String,
    by_key: Vec<u8>,
    statuses: Vec<ProvisionChange>,
    /// Passages and words added/removed; None when the change record exists already.
    diff: Option<(Vec<Passage>, u64, u64)>,
}

impl Extracted {
    /// True when every capture already had its text record.
    pub(crate) fn nothing_new(&self) -> bool {
        self.records.iter().all(|(_, new)| !new)
    }

    /// Captures whose text was extracted now.
    pub(crate) fn new_count(&self) -> usize {
        self.records.iter().filter(|(_, new)| *new).count()
    }
}

impl Archive {
    /// The rules bound to a document, if any.
    pub fn document_rules(&self, id: &DocumentId) -> Result<Option<DocumentRules>> {
        self.document(id)?;
        self.json(&keys::rules(id.seq()))
    }

    /// Binds rules to a document (replacing earlier ones). Versions change only on `reindex`.
    pub fn set_document_rules(&self, rules: &DocumentRules) -> Result<()> {
        self.document(&rules.document)?;
        rules
            .rules
            .check()
            .map_err(|e| ProvenanceError::InvalidInput(e.to_string()))?;
        for period in &rules.history {
            period
                .rules
                .check()
                .map_err(|e| ProvenanceError::InvalidInput(e.to_string()))?;
        }
        let _guard = self.write_lock();
        let mut batch = RecordBatch::new();
        batch.put(keys::rules(rules.document.seq()), encode(rules));
        Ok(self.store().commit_records(batch)?)
    }

    /// The recorded text of a capture, if extracted.
    pub fn capture_text_record(&self, capture: &Capture) -> Result<Option<CaptureText>> {
        self.json(&keys::capture_text(
            capture.document.seq(),
            capture.captured_at,
            &capture.sha256.0,
        ))
    }

    /// The change record with this ID.
    pub fn change(&self, id: &ChangeId) -> Result<ChangeRecord> {
        let prefix = self.config()?.prefix;
        if id.prefix() != &prefix {
            return Err(ProvenanceError::ForeignPrefix {
                id: id.to_string(),
                prefix: prefix.to_string(),
            });
        }
        self.json(&keys::change(id.seq()))?
            .ok_or_else(|| ProvenanceError::UnknownRecord { id: id.to_string() })
    }

    /// A document's change records, in ID order (superseded ones included).
    pub fn changes_of(&self, id: &DocumentId) -> Result<Vec<ChangeRecord>> {
        let prefix = keys::changes_of(id.seq());
        let mut out = Vec::new();
        for (key, _) in self.store().records_with_prefix(&prefix)? {
            let seq =
                keys::u64_at(&key, prefix.len()).ok_or_else(|| ProvenanceError::RecordCorrupt {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "short change index key".into(),
                })?;
            out.push(self.change(&ChangeId::new(self.config()?.prefix, seq)?)?);
        }
        Ok(out)
    }

    /// Every change record, in ID order.
    pub fn changes(&self) -> Result<Vec<ChangeRecord>> {
        self.store()
            .records_with_prefix(keys::CHANGE.as_bytes())?
            .into_iter()
            .map(|(k, v)| decode(&k, &v))
            .collect()
    }

    /// A document's change records with every provision's status computed now, in time order:
    /// provisions registered after a record was made (on an older capture) are tracked too.
    /// Superseded records keep the statuses stored with them.
    pub fn changes_with_statuses(&self, id: &DocumentId) -> Result<Vec<ChangeRecord>> {
        let mut changes = self.changes_of(id)?;
        changes.sort_by_key(|c| (c.capture.captured_at, c.id.seq()));
        let provisions = self.provisions_of(id)?;
        if provisions.is_empty() {
            return Ok(changes);
        }
        let mut wordings: HashMap<u64, Option<String>> = HashMap::new();
        let mut texts: HashMap<String, String> = HashMap::new();
        for change in &mut changes {
            if change.superseded.is_some() {
                continue;
            }
            for sha in [&change.from_text_sha256, &change.to_text_sha256] {
                if !texts.contains_key(sha) {
                    texts.insert(sha.clone(), self.version_text(sha)?);
                }
            }
            change.provisions = provision_statuses(
                &provisions,
                change.previous.captured_at,
                &texts[&change.from_text_sha256],
                &texts[&change.to_text_sha256],
                &mut wordings,
            );
        }
        Ok(changes)
    }

    /// One change record with its provisions' statuses computed now (see
    /// [`Archive::changes_with_statuses`]).
    pub fn change_view(&self, id: &ChangeId) -> Result<ChangeRecord> {
        let change = self.change(id)?;
        if change.superseded.is_some() {
            return Ok(change);
        }
        Ok(self
            .changes_with_statuses(&change.document)?
            .into_iter()
            .find(|c| c.id == *id)
            .unwrap_or(change))
    }

    /// The version a capture belongs to, with its text: the document's text under its rules as
    /// recorded for that capture (what change records compare), or
    /// [`ProvenanceError::InvalidInput`] naming why the capture has none (not indexed yet, or
    /// the rules select nothing on it).
    pub fn version_of_capture(&self, capture: &Capture) -> Result<(Version, String)> {
        let versions = self.versions(&capture.document)?;
        let same = |c: &Capture| c.sha256 == capture.sha256 && c.captured_at == capture.captured_at;
        if let Some(version) = versions
            .versions
            .into_iter()
            .find(|v| v.captures.iter().any(same))
        {
            let text = self.version_text(&version.text_sha256)?;
            return Ok((version, text));
        }
        let when = crate::cite::text_time(capture.captured_at);
        let why = if versions.without_text.iter().any(same) {
            "the document's rules select nothing on it"
        } else {
            "its text has not been indexed yet"
        };
        Err(ProvenanceError::InvalidInput(format!(
            "the capture of {} of {when} has no version text: {why}",
            capture.document
        )))
    }

    /// A document's versions: runs of captures with the same text, in time order.
    pub fn versions(&self, id: &DocumentId) -> Result<DocumentVersions> {
        let captures = self.captures(id)?;
        let changes: HashMap<(Sha256, DateTime<Utc>), ChangeId> = self
            .changes_of(id)?
            .into_iter()
            .filter(|c| c.superseded.is_none())
            .map(|c| ((c.capture.sha256, c.capture.captured_at), c.id))
            .collect();
        let mut out = DocumentVersions::default();
        for capture in captures {
            let Some(record) = self.capture_text_record(&capture)? else {
                out.unindexed.push(capture);
                continue;
            };
            let Some(sha) = record.text_sha256 else {
                out.without_text.push(capture);
                continue;
            };
            match out.versions.last_mut() {
                Some(last) if last.text_sha256 == sha => {
                    last.last_verified = last.last_verified.max(capture.last_verified);
                    last.captures.push(capture);
                }
                _ => {
                    let change = changes.get(&(capture.sha256, capture.captured_at)).cloned();
                    out.versions.push(Version {
                        number: out.versions.len() + 1,
                        text_sha256: sha,
                        change,
                        first_captured_at: capture.captured_at,
                        last_verified: capture.last_verified,
                        captures: vec![capture],
                    });
                }
            }
        }
        Ok(out)
    }

    /// A provision's status in every version after the one it was registered in.
    pub fn provision_timeline(&self, id: &ProvisionId) -> Result<Vec<TimelineEntry>> {
        let provision = self.provision(id)?;
        let versions = self.versions(&provision.document)?.versions;
        let mut out = Vec::new();
        let mut wording: Option<String> = Some(provision.quote.clone());
        let mut previous_text: Option<String> = None;
        for version in &versions {
            let registered_here = version.captures.iter().any(|c| {
                c.sha256 == provision.capture.sha256
                    && c.captured_at == provision.capture.captured_at
            });
            let text = self.version_text(&version.text_sha256)?;
            if registered_here {
                out.push(TimelineEntry {
                    version: version.number,
                    first_captured_at: version.first_captured_at,
                    change: version.change.clone(),
                    status: ProvisionStatus::Unchanged,
                    wording: Some(provision.quote.clone()),
                    words: Vec::new(),
                });
                previous_text = Some(text);
                continue;
            }
            let Some(old) = previous_text.as_deref() else {
                continue; // before the provision was registered
            };
            let mut entry = TimelineEntry {
                version: version.number,
                first_captured_at: version.first_captured_at,
                change: version.change.clone(),
                status: ProvisionStatus::Absent,
                wording: None,
                words: Vec::new(),
            };
            if let Some(current) = wording.as_deref() {
                let tracked = track_provision(old, &text, current, &equal_lines(old, &text));
                entry.status = tracked.status;
                entry.words = tracked.words;
                entry.wording = tracked.wording.clone();
                if matches!(
                    tracked.status,
                    ProvisionStatus::Removed | ProvisionStatus::Absent
                ) {
                    wording = None;
                } else {
                    wording = tracked.wording;
                }
            }
            out.push(entry);
            previous_text = Some(text);
        }
        Ok(out)
    }

    /// Extracts the text of a capture from verified bytes under the document's rules.
    fn extract_capture(
        &self,
        capture: &Capture,
        rules: Option<&DocumentRules>,
    ) -> Result<(CaptureText, Option<String>)> {
        let bytes = self.store().read(capture.blake3)?;
        text_of(&bytes, &capture.media_type, capture.captured_at, rules)
    }

    /// Recomputes a document's versions from its stored bytes under its current rules: capture
    /// texts are re-extracted, change records are issued for new text changes, kept for those
    /// that still hold, and marked superseded for those that no longer do. Bytes, logs and
    /// issued IDs are untouched.
    pub fn reindex(&self, id: &DocumentId, now: DateTime<Utc>) -> Result<ReindexReport> {
        let extracted = self.extract_texts(id, TextReuse::None)?;
        self.write_versions(id, extracted, now, Durability::Synced)
    }

    /// The texts of a document's captures: re-extracted (`reindex`), or with `KeepRecorded`
    /// only those of captures not indexed yet (the rest keep their recorded text).
    pub(crate) fn extract_texts(&self, id: &DocumentId, reuse: TextReuse) -> Result<Extracted> {
        self.document(id)?;
        let rules = self.document_rules(id)?;
        let captures = self.captures(id)?;
        let recorded: Vec<Option<CaptureText>> = match reuse {
            TextReuse::None => vec![None; captures.len()],
            TextReuse::KeepRecorded => captures
                .iter()
                .map(|c| self.capture_text_record(c))
                .collect::<Result<_>>()?,
        };
        let todo: Vec<&Capture> = captures
            .iter()
            .zip(&recorded)
            .filter(|(_, r)| r.is_none())
            .map(|(c, _)| c)
            .collect();
        // Extraction is pure and the slow part: spread it over the cores, outside the lock.
        let workers = match reuse {
            TextReuse::None => std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get)
                .clamp(1, 8),
            // The version pass runs documents in parallel already.
            TextReuse::KeepRecorded => 1,
        };
        let chunk = todo.len().div_ceil(workers).max(1);
        let fresh: Vec<Result<(CaptureText, Option<String>)>> = if workers == 1 {
            todo.iter()
                .map(|c| self.extract_capture(c, rules.as_ref()))
                .collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = todo
                    .chunks(chunk)
                    .map(|part| {
                        let rules = rules.as_ref();
                        scope.spawn(move || {
                            part.iter()
                                .map(|c| self.extract_capture(c, rules))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("extraction threads do not panic"))
                    .collect()
            })
        };
        let mut fresh = fresh.into_iter();
        let mut texts: HashMap<String, String> = HashMap::new();
        let mut new_texts: Vec<String> = Vec::new();
        let mut records = Vec::with_capacity(captures.len());
        for old in recorded {
            if let Some(old) = old {
                records.push((old, false));
                continue;
            }
            let (record, text) = fresh
                .next()
                .expect("one extraction per capture without a text record")?;
            if let (Some(sha), Some(text)) = (&record.text_sha256, text) {
                if !texts.contains_key(sha) {
                    new_texts.push(sha.clone());
                    texts.insert(sha.clone(), text);
                }
            }
            records.push((record, true));
        }
        Ok(Extracted {
            rules,
            captures,
            records,
            texts,
            new_texts,
            boundaries: None,
            versions: 0,
            without_text: 0,
        })
    }

    /// Plans what [`Archive::write_versions`] will write, outside the writer lock: the
    /// document's version boundaries, which change records already exist, and for new ones
    /// their passages and provision statuses (the diffs are the slow part).
    pub(crate) fn plan_versions(&self, id: &DocumentId, extracted: &mut Extracted) -> Result<()> {
        let provisions = self.provisions_of(id)?;
        // The timeline of captures with text, and its boundaries.
        let mut boundaries: Vec<(usize, usize)> = Vec::new();
        let mut last: Option<usize> = None;
        extracted.without_text = 0;
        extracted.versions = 0;
        for (i, (record, _)) in extracted.records.iter().enumerate() {
            let Some(sha) = &record.text_sha256 else {
                extracted.without_text += 1;
                continue;
            };
            match last {
                Some(prev) if extracted.records[prev].0.text_sha256.as_ref() != Some(sha) => {
                    extracted.versions += 1;
                    boundaries.push((prev, i));
                }
                None => extracted.versions += 1,
                _ => {}
            }
            last = Some(i);
        }
        let mut wordings: HashMap<u64, Option<String>> = HashMap::new();
        let mut planned = Vec::with_capacity(boundaries.len());
        for (prev, at) in boundaries {
            let (previous, capture) = (&extracted.captures[prev], &extracted.captures[at]);
            let sha_of = |i: usize| {
                extracted.records[i]
                    .0
                    .text_sha256
                    .clone()
                    .unwrap_or_default()
            };
            let (from, to) = (sha_of(prev), sha_of(at));
            let by_key = keys::change_by_key(
                id.seq(),
                &capture_key(previous)?,
                &capture_key(capture)?,
                &from,
                &to,
            );
            let kept = self.store().record(&by_key)?.is_some();
            // Texts recorded earlier are read back only when needed: for a new change record,
            // or to follow provisions' wordings through every change.
            if !kept || !provisions.is_empty() {
                for sha in [&from, &to] {
                    if !extracted.texts.contains_key(sha) {
                        let text = self.version_text(sha)?;
                        extracted.texts.insert(sha.clone(), text);
                    }
                }
            }
            let old_text = extracted.texts.get(&from).map_or("", String::as_str);
            let new_text = extracted.texts.get(&to).map_or("", String::as_str);
            let statuses = provision_statuses(
                &provisions,
                previous.captured_at,
                old_text,
                new_text,
                &mut wordings,
            );
            let diff = (!kept).then(|| passages(old_text, new_text));
            planned.push(PlannedBoundary {
                previous: prev,
                capture: at,
                from,
                to,
                by_key,
                statuses,
                diff,
            });
        }
        extracted.boundaries = Some(planned);
        Ok(())
    }

    /// Writes what [`Archive::extract_texts`] found (planned by [`Archive::plan_versions`] if
    /// not yet): new version texts as snapshots (each a delta on the document's previous one),
    /// capture text records, change records issued, kept or superseded. Idempotent: running it
    /// again on the same captures changes nothing.
    pub(crate) fn write_versions(
        &self,
        id: &DocumentId,
        mut extracted: Extracted,
        now: DateTime<Utc>,
        durability: Durability,
    ) -> Result<ReindexReport> {
        if extracted.boundaries.is_none() {
            self.plan_versions(id, &mut extracted)?;
        }
        let Extracted {
            rules,
            captures,
            records,
            texts,
            new_texts,
            boundaries,
            versions,
            without_text,
        } = extracted;
        let document = self.document(id)?;
        let _guard = self.write_lock();
        // The new texts first, in time order, each following the document's text before it.
        let first_new = captures
            .iter()
            .zip(&records)
            .find(|(_, (_, new))| *new)
            .map(|(c, _)| c.captured_at);
        if let Some(first_new) = first_new {
            let base = self.text_base_before(&captures, first_new)?;
            self.store_version_texts(
                new_texts
                    .iter()
                    .map(|sha| (sha.as_str(), texts[sha].as_str())),
                base,
                Durability::Deferred,
            )?;
        }
        let mut batch = RecordBatch::new();
        for (capture, (record, new)) in captures.iter().zip(&records) {
            if *new {
                let key = keys::capture_text(id.seq(), capture.captured_at, &capture.sha256.0);
                batch.put(key, encode(record));
            }
        }
        let existing = self.changes_of(id)?;
        let mut report = ReindexReport {
            document: Some(document.id.clone()),
            captures: captures.len(),
            versions,
            without_text,
            ..ReindexReport::default()
        };
        let nodes = StoreNodes(self);
        let mut appender = self.log_appender(&nodes)?;
        let mut highest = self.seq(keys::SEQ_CHANGE)?;
        let mut current: HashSet<u64> = HashSet::new();
        let rules_sha = |c: &Capture| {
            rules
                .as_ref()
                .map(|r| r.at(c.captured_at).clone())
                .unwrap_or_default()
                .digest()
        };
        for boundary in boundaries.unwrap_or_default() {
            let (previous, capture) = (&captures[boundary.previous], &captures[boundary.capture]);
            // Checked again under the lock: what the plan saw may have been written since.
            if let Some(seq) = self.store().record(&boundary.by_key)? {
                let seq = keys::u64_at(&seq, 0).ok_or_else(|| ProvenanceError::RecordCorrupt {
                    key: "chgkey/…".into(),
                    reason: "not an 8-byte sequence number".into(),
                })?;
                current.insert(seq);
                let mut change = self.change(&ChangeId::new(self.config()?.prefix, seq)?)?;
                if change.superseded.take().is_some() {
                    batch.put(keys::change(seq), encode(&change));
                }
                report.changes_kept += 1;
                continue;
            }
            let (passages, words_added, words_removed) = match boundary.diff {
                Some(diff) => diff,
                None => passages(
                    texts.get(&boundary.from).map_or("", String::as_str),
                    texts.get(&boundary.to).map_or("", String::as_str),
                ),
            };
            highest += 1;
            let change_id = ChangeId::new(self.config()?.prefix, highest)?;
            let change = ChangeRecord {
                id: change_id.clone(),
                document: id.clone(),
                capture: capture_ref(capture),
                previous: capture_ref(previous),
                from_text_sha256: boundary.from,
                to_text_sha256: boundary.to,
                rules_sha256: rules_sha(capture),
                extractor: EXTRACTOR_VERSION.to_owned(),
                passages,
                words_added,
                words_removed,
                provisions: boundary.statuses,
                recorded_at: now,
                superseded: None,
            };
            let record_key = keys::change(highest);
            appender.push(&record_key, change_leaf(&change), &mut batch)?;
            batch.put(record_key, encode(&change));
            batch.put(boundary.by_key, highest.to_be_bytes().to_vec());
            batch.put(keys::change_of(id.seq(), highest), Vec::new());
            current.insert(highest);
            report.changes_new.push(change_id);
        }
        for mut change in existing {
            if current.contains(&change.id.seq()) || change.superseded.is_some() {
                continue;
            }
            change.superseded = Some(Superseded {
                at: now,
                reason: "re-extraction no longer shows this text change".into(),
            });
            batch.put(keys::change(change.id.seq()), encode(&change));
            report.changes_superseded.push(change.id);
        }
        batch.put(keys::SEQ_CHANGE, highest.to_be_bytes().to_vec());
        self.store().commit_records_with(batch, durability)?;
        Ok(report)
    }

    /// On capture: the text record of a new capture and, when its text differs from the
    /// latest earlier capture with text, a change record, all into the capture's batch.
    /// A capture older than the document's latest is left to `reindex` (no change record).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn plan_version(
        &self,
        capture: &Capture,
        extracted: (CaptureText, Option<String>),
        appender: &mut crate::tlog::LogAppender<'_>,
        batch: &mut RecordBatch,
        now: DateTime<Utc>,
    ) -> Result<Option<ChangeId>> {
        let (record, text) = extracted;
        let id = &capture.document;
        let sha = capture.sha256.0;
        batch.put(
            keys::capture_text(id.seq(), capture.captured_at, &sha),
            encode(&record),
        );
        let (Some(to), Some(text)) = (record.text_sha256.clone(), text) else {
            return Ok(None);
        };
        // The text itself was stored as a snapshot before this batch (`capture_with`).
        let captures = self.captures(id)?;
        if captures.iter().any(|c| c.captured_at > capture.captured_at) {
            return Ok(None);
        }
        let mut previous = None;
        for earlier in captures.iter().rev() {
            if earlier.captured_at >= capture.captured_at {
                continue;
            }
            match self.capture_text_record(earlier)? {
                None => return Ok(None), // not indexed yet: `reindex` decides
                Some(r) => {
                    if let Some(sha) = r.text_sha256 {
                        previous = Some((earlier, sha));
                        break;
                    }
                }
            }
        }
        let Some((previous, from)) = previous else {
            return Ok(None);
        };
        if from == to {
            return Ok(None);
        }
        let old_text = self.version_text(&from)?;
        let provisions = self.provisions_of(id)?;
        // Current wordings: from the latest standing change record, else the provisions' own.
        let mut wordings: HashMap<u64, Option<String>> = HashMap::new();
        if let Some(last) = self
            .changes_of(id)?
            .into_iter()
            .rev()
            .find(|c| c.superseded.is_none())
        {
            for p in last.provisions {
                let keep = !matches!(p.status, ProvisionStatus::Removed | ProvisionStatus::Absent);
                wordings.insert(p.provision.seq(), p.wording.filter(|_| keep));
            }
        }
        let statuses = provision_statuses(
            &provisions,
            previous.captured_at,
            &old_text,
            &text,
            &mut wordings,
        );
        let from_key = capture_key(previous)?;
        let to_key = capture_key(capture)?;
        let by_key = keys::change_by_key(id.seq(), &from_key, &to_key, &from, &to);
        let highest = self.seq(keys::SEQ_CHANGE)? + 1;
        let change_id = ChangeId::new(self.config()?.prefix, highest)?;
        let (passages, words_added, words_removed) = passages(&old_text, &text);
        let change = ChangeRecord {
            id: change_id.clone(),
            document: id.clone(),
            capture: capture_ref(capture),
            previous: capture_ref(previous),
            from_text_sha256: from,
            to_text_sha256: to,
            rules_sha256: record.rules.digest(),
            extractor: record.extractor,
            passages,
            words_added,
            words_removed,
            provisions: statuses,
            recorded_at: now,
            superseded: None,
        };
        let record_key = keys::change(highest);
        appender.push(&record_key, change_leaf(&change), batch)?;
        batch.put(record_key, encode(&change));
        batch.put(by_key, highest.to_be_bytes().to_vec());
        batch.put(keys::change_of(id.seq(), highest), Vec::new());
        batch.put(keys::SEQ_CHANGE, highest.to_be_bytes().to_vec());
        Ok(Some(change_id))
    }
}

/// Every provision registered at or before `previous`, tracked from its current wording.
fn provision_statuses(
    provisions: &[Provision],
    previous_at: DateTime<Utc>,
    old_text: &str,
    new_text: &str,
    wordings: &mut HashMap<u64, Option<String>>,
) -> Vec<ProvisionChange> {
    let mut out = Vec::new();
    let equal = if provisions.is_empty() {
        Vec::new()
    } else {
        equal_lines(old_text, new_text)
    };
    for p in provisions {
        if p.capture.captured_at > previous_at {
            continue;
        }
        let wording = wordings
            .entry(p.id.seq())
            .or_insert_with(|| Some(p.quote.clone()));
        let mut change = match wording.as_deref() {
            Some(w) => track_provision(old_text, new_text, w, &equal),
            None => ProvisionChange {
                provision: p.id.clone(),
                title: String::new(),
                status: ProvisionStatus::Absent,
                wording: None,
                words: Vec::new(),
            },
        };
        change.provision = p.id.clone();
        change.title = p.title.clone();
        *wording = match change.status {
            ProvisionStatus::Removed | ProvisionStatus::Absent => None,
            _ => change.wording.clone(),
        };
        out.push(change);
    }
    out
}
