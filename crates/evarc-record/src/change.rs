//! Change records as data: what changed between two text versions of a document, passage by
//! passage (with word-level changes), and what became of each provision. Computed and stored by
//! `evarc-provenance` (its `versions` module); rendered by `cite` and the front ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{ChangeId, DocumentId, ProvisionId};
use crate::model::CaptureRef;

/// What kind of passage changed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PassageKind {
    Added,
    Removed,
    Changed,
}

/// A run of words in a word diff.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WordChange {
    /// `=` same, `+` inserted, `-` deleted.
    pub op: char,
    pub text: String,
}

/// One changed passage: lines added, removed, or replaced (with their word diff).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    pub kind: PassageKind,
    /// 1-based first line in the older text (removed, changed) or the newer one (added).
    pub line: usize,
    pub old: String,
    pub new: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<WordChange>,
}

/// A provision's fate in a new version.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProvisionStatus {
    /// The same wording, with the same text around it.
    Unchanged,
    /// The same wording, elsewhere or among different neighbours.
    Moved,
    /// Re-anchored by a fuzzy match: the wording changed.
    Amended,
    /// No passage resembles the wording any more.
    Removed,
    /// The wording was not in the previous version's text (e.g. outside the rules' selection,
    /// or removed earlier).
    Absent,
}

impl ProvisionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::Moved => "moved",
            Self::Amended => "amended",
            Self::Removed => "removed",
            Self::Absent => "absent",
        }
    }
}

/// A provision's status in one change record.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProvisionChange {
    pub provision: ProvisionId,
    pub title: String,
    pub status: ProvisionStatus,
    /// The wording in the new version (amended: the re-anchored passage).
    pub wording: Option<String>,
    /// Amended: the word diff from the old wording to the new.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<WordChange>,
}

/// Why a change record no longer stands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Superseded {
    pub at: DateTime<Utc>,
    pub reason: String,
}

/// A change of a document's text between two consecutive captures.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: ChangeId,
    pub document: DocumentId,
    /// The first capture showing the new text (its time is the change's date).
    pub capture: CaptureRef,
    /// The capture just before it, with the old text.
    pub previous: CaptureRef,
    pub from_text_sha256: String,
    pub to_text_sha256: String,
    pub rules_sha256: String,
    pub extractor: String,
    pub passages: Vec<Passage>,
    pub words_added: u64,
    pub words_removed: u64,
    pub provisions: Vec<ProvisionChange>,
    pub recorded_at: DateTime<Utc>,
    pub superseded: Option<Superseded>,
}

/// The change record's word diff as [`crate::text_diff::WordOp`]s: what every front end renders
/// (the same marks as a text diff's changed lines).
pub fn word_ops(words: &[WordChange]) -> Vec<crate::text_diff::WordOp> {
    use crate::text_diff::WordOp;
    words
        .iter()
        .map(|w| match w.op {
            '+' => WordOp::Added(w.text.clone()),
            '-' => WordOp::Removed(w.text.clone()),
            _ => WordOp::Equal(w.text.clone()),
        })
        .collect()
}
