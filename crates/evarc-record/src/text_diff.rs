//! A typed diff of two extracted texts: hunks of line operations, with word operations inside
//! changed lines.
//!
//! The unit of comparison is a non-blank line of extracted text (a paragraph, a heading, a list
//! item): blank lines only separate paragraphs and are never reported. Line terminators are not
//! part of a line, so a paragraph that stops being the last one is not "changed". A removed line
//! followed by an added one that shares most of its words is reported as one *changed* line with
//! word operations, so a long paragraph that changes by a word shows that word.
//!
//! Front ends render a [`TextDiff`] (text, colour, HTML, JSON); they compute nothing.

use serde::Serialize;
use similar::{Algorithm, ChangeTag, DiffOp};

/// Two lines are paired as one changed line when at least this share of their characters is
/// common to both (word diff, whitespace included).
const PAIR_SIMILARITY: f64 = 0.5;

/// How many of the next added lines a removed line is compared with when looking for its
/// changed form (keeps pairing linear in long replaced runs).
const PAIR_WINDOW: usize = 8;

/// A diff of two texts.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TextDiff {
    /// Runs of changes with their context lines, in text order.
    pub hunks: Vec<Hunk>,
    /// Lines only in the new text.
    pub lines_added: usize,
    /// Lines only in the old text.
    pub lines_removed: usize,
    /// Lines present in both with some words changed.
    pub lines_changed: usize,
}

impl TextDiff {
    /// True when the texts have the same non-blank lines.
    pub fn is_empty(&self) -> bool {
        self.lines_added + self.lines_removed + self.lines_changed == 0
    }
}

/// A run of changes with up to `context` unchanged lines around it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    pub lines: Vec<LineOp>,
}

/// One line of a hunk. Line numbers are 1-based lines of the extracted text (blank lines count).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum LineOp {
    /// Present unchanged in both texts.
    Equal {
        old_line: usize,
        new_line: usize,
        text: String,
    },
    /// Only in the old text.
    Removed { old_line: usize, text: String },
    /// Only in the new text.
    Added { new_line: usize, text: String },
    /// The same line with some words changed.
    Changed {
        old_line: usize,
        new_line: usize,
        old_text: String,
        new_text: String,
        words: Vec<WordOp>,
    },
}

/// A piece of a changed line: consecutive words (and the whitespace between them) with one fate.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "op", content = "text", rename_all = "snake_case")]
pub enum WordOp {
    Equal(String),
    Removed(String),
    Added(String),
}

/// A non-blank line and its 1-based line number.
struct Line<'a> {
    number: usize,
    text: &'a str,
}

impl PartialEq for Line<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Line<'_> {}

impl std::hash::Hash for Line<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl Ord for Line<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(other.text)
    }
}

impl PartialOrd for Line<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    text.lines()
        .enumerate()
        .map(|(i, l)| Line {
            number: i + 1,
            text: l.trim_end(),
        })
        .filter(|l| !l.text.trim().is_empty())
        .collect()
}

/// Diffs two texts line by line (patience algorithm), pairing similar removed and added lines
/// into changed lines with word operations. `context` unchanged lines are kept around changes.
pub fn diff_texts(old: &str, new: &str, context: usize) -> TextDiff {
    let old_lines = lines(old);
    let new_lines = lines(new);
    let ops = similar::capture_diff_slices(Algorithm::Patience, &old_lines, &new_lines);
    let mut diff = empty_diff();
    for group in similar::group_diff_ops(ops, context) {
        let mut hunk = Hunk { lines: Vec::new() };
        for op in group {
            push_op(&mut hunk, &mut diff, op, &old_lines, &new_lines);
        }
        diff.hunks.push(hunk);
    }
    diff
}

/// The same diff as [`diff_texts`], every line of both texts in one hunk (unchanged lines
/// included, blank lines still left out): for callers that need the whole alignment, such as
/// change records (their passages and which lines a provision sits on).
pub fn diff_lines(old: &str, new: &str) -> TextDiff {
    let old_lines = lines(old);
    let new_lines = lines(new);
    let ops = similar::capture_diff_slices(Algorithm::Patience, &old_lines, &new_lines);
    let mut diff = empty_diff();
    let mut hunk = Hunk { lines: Vec::new() };
    for op in ops {
        push_op(&mut hunk, &mut diff, op, &old_lines, &new_lines);
    }
    if !hunk.lines.is_empty() {
        diff.hunks.push(hunk);
    }
    diff
}

fn empty_diff() -> TextDiff {
    TextDiff {
        hunks: Vec::new(),
        lines_added: 0,
        lines_removed: 0,
        lines_changed: 0,
    }
}

fn push_op(
    hunk: &mut Hunk,
    diff: &mut TextDiff,
    op: DiffOp,
    old_lines: &[Line<'_>],
    new_lines: &[Line<'_>],
) {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => {
            for i in 0..len {
                let (o, n) = (&old_lines[old_index + i], &new_lines[new_index + i]);
                hunk.lines.push(LineOp::Equal {
                    old_line: o.number,
                    new_line: n.number,
                    text: n.text.to_owned(),
                });
            }
        }
        DiffOp::Delete {
            old_index, old_len, ..
        } => push_replace(hunk, diff, &old_lines[old_index..old_index + old_len], &[]),
        DiffOp::Insert {
            new_index, new_len, ..
        } => push_replace(hunk, diff, &[], &new_lines[new_index..new_index + new_len]),
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => push_replace(
            hunk,
            diff,
            &old_lines[old_index..old_index + old_len],
            &new_lines[new_index..new_index + new_len],
        ),
    }
}

/// Removed lines `old` replaced by added lines `new`: pairs that are similar enough become changed
/// lines (in order, greedily), the rest removed then added.
fn push_replace(hunk: &mut Hunk, diff: &mut TextDiff, old: &[Line<'_>], new: &[Line<'_>]) {
    let mut j = 0;
    for o in old {
        // The first remaining new line similar to this old one, if any.
        let paired = new[j..]
            .iter()
            .take(PAIR_WINDOW)
            .position(|n| may_pair(o.text, n.text) && similarity(o.text, n.text) >= PAIR_SIMILARITY)
            .map(|k| j + k);
        let Some(k) = paired else {
            hunk.lines.push(LineOp::Removed {
                old_line: o.number,
                text: o.text.to_owned(),
            });
            diff.lines_removed += 1;
            continue;
        };
        for n in &new[j..k] {
            hunk.lines.push(LineOp::Added {
                new_line: n.number,
                text: n.text.to_owned(),
            });
            diff.lines_added += 1;
        }
        let n = &new[k];
        hunk.lines.push(LineOp::Changed {
            old_line: o.number,
            new_line: n.number,
            old_text: o.text.to_owned(),
            new_text: n.text.to_owned(),
            words: diff_words(o.text, n.text),
        });
        diff.lines_changed += 1;
        j = k + 1;
    }
    for n in &new[j..] {
        hunk.lines.push(LineOp::Added {
            new_line: n.number,
            text: n.text.to_owned(),
        });
        diff.lines_added += 1;
    }
}

/// False when `old` and `new` cannot reach [`PAIR_SIMILARITY`]: the characters a word diff finds
/// common are at most, per distinct token, the smaller count times its length. Linear, where the
/// word diff is quadratic in the worst case on dissimilar lines (issue 11: most of a corpus
/// import's version pass went to word diffs of lines that did not pair).
fn may_pair(old: &str, new: &str) -> bool {
    let total = old.chars().count() + new.chars().count();
    4 * common_chars_bound(old, new) >= total
}

/// An upper bound of the characters of the `Equal` operations of [`diff_words`]`(old, new)`.
fn common_chars_bound(old: &str, new: &str) -> usize {
    let mut counts: std::collections::HashMap<&str, (usize, usize)> =
        std::collections::HashMap::new();
    for t in tokens(old) {
        counts.entry(t).or_default().0 += 1;
    }
    for t in tokens(new) {
        if let Some(entry) = counts.get_mut(t) {
            entry.1 += 1;
        }
    }
    counts
        .iter()
        .map(|(t, (a, b))| (*a).min(*b) * t.chars().count())
        .sum()
}

/// Share of characters common to both lines under a word diff: 2·common / (len old + len new).
fn similarity(old: &str, new: &str) -> f64 {
    let total = old.chars().count() + new.chars().count();
    if total == 0 {
        return 1.0;
    }
    let common: usize = diff_words(old, new)
        .iter()
        .map(|w| match w {
            WordOp::Equal(t) => t.chars().count(),
            _ => 0,
        })
        .sum();
    (2 * common) as f64 / total as f64
}

/// Word operations turning `old` into `new`. Tokens are runs of letters and digits, runs of
/// whitespace, and single other characters (punctuation); consecutive tokens with the same
/// fate are merged.
pub fn diff_words(old: &str, new: &str) -> Vec<WordOp> {
    let old_tokens = tokens(old);
    let new_tokens = tokens(new);
    let ops = similar::capture_diff_slices(Algorithm::Patience, &old_tokens, &new_tokens);
    let mut out: Vec<WordOp> = Vec::new();
    let mut push = |tag: ChangeTag, value: &str| match (tag, out.last_mut()) {
        (ChangeTag::Equal, Some(WordOp::Equal(t)))
        | (ChangeTag::Delete, Some(WordOp::Removed(t)))
        | (ChangeTag::Insert, Some(WordOp::Added(t))) => t.push_str(value),
        (ChangeTag::Equal, _) => out.push(WordOp::Equal(value.to_owned())),
        (ChangeTag::Delete, _) => out.push(WordOp::Removed(value.to_owned())),
        (ChangeTag::Insert, _) => out.push(WordOp::Added(value.to_owned())),
    };
    for op in &ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let (removed, added) = match tag {
            similar::DiffTag::Equal => {
                for t in &old_tokens[old_range] {
                    push(ChangeTag::Equal, t);
                }
                continue;
            }
            similar::DiffTag::Delete => (&old_tokens[old_range], &[][..]),
            similar::DiffTag::Insert => (&[][..], &new_tokens[new_range]),
            similar::DiffTag::Replace => (&old_tokens[old_range], &new_tokens[new_range]),
        };
        for t in removed {
            push(ChangeTag::Delete, t);
        }
        for t in added {
            push(ChangeTag::Insert, t);
        }
    }
    out
}

/// Splits a line into words (letters and digits), whitespace runs and single other characters.
fn tokens(line: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Kind {
        Word,
        Space,
        Other,
    }
    let kind = |c: char| {
        if c.is_alphanumeric() {
            Kind::Word
        } else if c.is_whitespace() {
            Kind::Space
        } else {
            Kind::Other
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut previous: Option<Kind> = None;
    for (i, c) in line.char_indices() {
        let k = kind(c);
        if let Some(p) = &previous {
            if *p != k || k == Kind::Other {
                out.push(&line[start..i]);
                start = i;
            }
        }
        previous = Some(k);
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_bound_never_undercounts_common_characters() {
        let lines = [
            "",
            "The provider may suspend the service at any time.",
            "The provider may suspend or end the service at any time, with notice.",
            "Payment is due within 30 days of the invoice date.",
            "Zahlung innerhalb von 30 Tagen, spätestens am 1. des Monats.",
            "a a a a b b b , , , .",
            "b a b a . , . , a",
            "Last updated: May 1, 2026",
            "Last updated: June 3, 2026",
        ];
        for old in lines {
            for new in lines {
                let common: usize = diff_words(old, new)
                    .iter()
                    .map(|w| match w {
                        WordOp::Equal(t) => t.chars().count(),
                        _ => 0,
                    })
                    .sum();
                assert!(common_chars_bound(old, new) >= common, "{old:?} / {new:?}");
                if !may_pair(old, new) {
                    assert!(similarity(old, new) < PAIR_SIMILARITY, "{old:?} / {new:?}");
                }
            }
        }
        assert!(may_pair(
            "The provider may suspend the service at any time.",
            "The provider may suspend or end the service at any time, with notice."
        ));
        assert!(!may_pair(
            "The provider may suspend the service at any time.",
            "Zahlung innerhalb von 30 Tagen, spätestens am 1. des Monats."
        ));
    }

    #[test]
    fn a_paragraph_that_stops_being_the_last_is_not_changed() {
        let diff = diff_texts("one\n\ntwo", "one\n\ntwo\n\nthree", 2);
        assert_eq!(diff.lines_added, 1);
        assert_eq!(diff.lines_removed, 0);
        assert_eq!(diff.lines_changed, 0);
        assert_eq!(
            diff.hunks,
            vec![Hunk {
                lines: vec![
                    LineOp::Equal {
                        old_line: 1,
                        new_line: 1,
                        text: "one".into()
                    },
                    LineOp::Equal {
                        old_line: 3,
                        new_line: 3,
                        text: "two".into()
                    },
                    LineOp::Added {
                        new_line: 5,
                        text: "three".into()
                    },
                ]
            }]
        );
    }

    #[test]
    fn a_word_changed_in_a_long_paragraph_is_a_changed_line_showing_the_word() {
        let old = "The customer may terminate this agreement at any time by giving thirty days notice in writing.";
        let new = "The customer may terminate this agreement at any time by giving sixty days notice in writing.";
        let diff = diff_texts(old, new, 0);
        assert_eq!(
            (diff.lines_added, diff.lines_removed, diff.lines_changed),
            (0, 0, 1)
        );
        let LineOp::Changed { words, .. } = &diff.hunks[0].lines[0] else {
            panic!("expected a changed line: {diff:?}");
        };
        assert_eq!(
            words,
            &vec![
                WordOp::Equal(
                    "The customer may terminate this agreement at any time by giving ".into()
                ),
                WordOp::Removed("thirty".into()),
                WordOp::Added("sixty".into()),
                WordOp::Equal(" days notice in writing.".into()),
            ]
        );
    }

    /// The JSON shape front ends (the CLI's --json, the server) hand on: pinned.
    #[test]
    fn serialises_with_op_tags() {
        let diff = diff_texts(
            "keep\n\nold word\n\ngone away entirely",
            "keep\n\nnew word",
            1,
        );
        let json = serde_json::to_value(&diff).expect("serialisable");
        assert_eq!(
            json,
            serde_json::json!({
                "hunks": [{"lines": [
                    {"op": "equal", "old_line": 1, "new_line": 1, "text": "keep"},
                    {"op": "changed", "old_line": 3, "new_line": 3, "old_text": "old word",
                     "new_text": "new word", "words": [
                        {"op": "removed", "text": "old"},
                        {"op": "added", "text": "new"},
                        {"op": "equal", "text": " word"},
                    ]},
                    {"op": "removed", "old_line": 5, "text": "gone away entirely"},
                ]}],
                "lines_added": 0,
                "lines_removed": 1,
                "lines_changed": 1,
            })
        );
    }

    #[test]
    fn unrelated_lines_are_removed_and_added_not_changed() {
        let diff = diff_texts("alpha beta gamma", "completely different words", 0);
        assert_eq!(
            (diff.lines_added, diff.lines_removed, diff.lines_changed),
            (1, 1, 0)
        );
    }

    #[test]
    fn diff_lines_keeps_every_line_in_one_hunk() {
        let old = "a\n\nb\n\nc\n\nd\n\ne\n\nf";
        let new = "a\n\nb\n\nc\n\nd\n\ne\n\nF";
        let all = diff_lines(old, new);
        assert_eq!(all.hunks.len(), 1);
        assert_eq!(all.hunks[0].lines.len(), 7);
        assert_eq!((all.lines_added, all.lines_removed), (1, 1), "{all:?}");
        // The same operations as diff_texts, which keeps only the context asked for.
        let some = diff_texts(old, new, 1);
        assert_eq!(some.hunks[0].lines[..], all.hunks[0].lines[4..]);
        assert!(diff_lines("x", "x").is_empty());
    }

    #[test]
    fn identical_texts_and_blank_line_differences_give_an_empty_diff() {
        assert!(diff_texts("a\n\nb\n", "a\n\nb", 2).is_empty());
        assert!(diff_texts("a\nb", "a\n\n\nb\n", 2).is_empty());
        assert!(diff_texts("", "", 2).hunks.is_empty());
    }
}
