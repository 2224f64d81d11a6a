//! Quote anchoring with W3C Web Annotation selectors (TextQuoteSelector + TextPositionSelector).
//!
//! A quote is matched against extracted text (see [`crate::text`]) after both are normalised:
//! NFC, every run of whitespace read as one space, and the quote's leading and trailing whitespace
//! ignored. Positions and `exact` always refer to the ORIGINAL extracted text, in Unicode code
//! points, end exclusive. The algorithm is specified in `docs/text-extraction.md`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use unicode_normalization::char::{canonical_combining_class, compose};
use unicode_normalization::UnicodeNormalization;

/// Characters of context kept before and after the quote.
pub const CONTEXT_CHARS: usize = 32;

/// Where a quote sits in a capture's extracted text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct QuoteSelector {
    /// The quoted passage exactly as it occurs in the extracted text.
    pub exact: String,
    /// Up to 32 code points of text before `exact`.
    pub prefix: String,
    /// Up to 32 code points of text after `exact`.
    pub suffix: String,
    /// Code point offset of the first character of `exact`.
    pub start: usize,
    /// Code point offset just past the last character of `exact`.
    pub end: usize,
}

/// Why a quote could not be anchored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// The quote is empty or only whitespace.
    #[error(
        "the quote is empty: give the exact words of the provision as they appear in the capture"
    )]
    EmptyQuote,
    /// The quote does not occur in the text; `closest` is the most similar passage.
    #[error(
        "quote not found in the captured text: \"{}\"; closest passage: \"{}\"",
        shorten(.quote),
        shorten(.closest)
    )]
    NotFound { quote: String, closest: String },
    /// The quote occurs more than once and no occurrence was chosen.
    #[error(
        "the quote occurs {} times in the captured text; say which occurrence is meant: {}",
        .occurrences.len(),
        list_occurrences(.occurrences)
    )]
    Ambiguous {
        quote: String,
        occurrences: Vec<Occurrence>,
    },
    /// The chosen occurrence does not exist.
    #[error("occurrence {wanted} of the quote was asked for, but it occurs {count} time(s)")]
    NoSuchOccurrence { wanted: usize, count: usize },
}

/// One occurrence of a quote in a text: its number (from 1), where it is, and its context.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub number: usize,
    /// Code point offsets in the text, end exclusive.
    pub start: usize,
    pub end: usize,
    /// Up to 32 code points before, the passage, up to 32 after (whitespace runs as one space).
    pub context: String,
}

fn list_occurrences(occurrences: &[Occurrence]) -> String {
    occurrences
        .iter()
        .map(|o| {
            format!(
                "{} at characters {}–{} (\"{}\")",
                o.number, o.start, o.end, o.context
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Text for one-line messages: runs of whitespace (line breaks included) become one space, and
/// long text keeps its first and last 80 characters around an ellipsis.
fn shorten(text: &str) -> String {
    const KEEP: usize = 80;
    let text = &text.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = text.chars().count();
    if count <= 2 * KEEP + 10 {
        return text.to_owned();
    }
    let head: String = text.chars().take(KEEP).collect();
    let tail: String = text.chars().skip(count - KEEP).collect();
    format!("{head} … {tail}")
}

/// Where a selector's quote is in a newer text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relocation {
    /// `exact` occurs verbatim at the same `start..end`.
    Unchanged,
    /// The quote still occurs, but elsewhere or with different whitespace/normalisation.
    Moved { start: usize, end: usize },
    /// The quote no longer occurs; `closest` is the most similar passage of the new text.
    Changed { closest: String },
}

/// Text normalised for matching, with each normalised char's range in the original text.
struct Normalized {
    text: String,
    /// Byte offset in `text` of each normalised char.
    offsets: Vec<usize>,
    /// Original byte range covered by each normalised char.
    spans: Vec<(usize, usize)>,
}

impl Normalized {
    fn new(original: &str) -> Normalized {
        let mut out = Normalized {
            text: String::with_capacity(original.len()),
            offsets: Vec::new(),
            spans: Vec::new(),
        };
        let mut segment_start = 0;
        let mut prev: Option<char> = None;
        for (i, c) in original.char_indices() {
            if i > 0 && starts_segment(prev, c) {
                out.push_segment(original, segment_start, i);
                segment_start = i;
            }
            prev = Some(c);
        }
        if segment_start < original.len() {
            out.push_segment(original, segment_start, original.len());
        }
        out
    }

    fn push_segment(&mut self, original: &str, start: usize, end: usize) {
        let segment = &original[start..end];
        let whitespace = segment.chars().all(char::is_whitespace);
        if whitespace {
            // A run of whitespace (possibly several segments) is one space spanning the run.
            if self.text.ends_with(' ') {
                if let Some(last) = self.spans.last_mut() {
                    last.1 = end;
                }
                return;
            }
            self.offsets.push(self.text.len());
            self.spans.push((start, end));
            self.text.push(' ');
            return;
        }
        for c in segment.nfc() {
            let c = if c.is_whitespace() {
                ' '
            } else {
                fold_typographic(c)
            };
            self.offsets.push(self.text.len());
            self.spans.push((start, end));
            self.text.push(c);
        }
    }

    /// Index of the normalised char starting at byte `offset` of `text`.
    fn index_of(&self, offset: usize) -> usize {
        self.offsets.partition_point(|&o| o < offset)
    }
}

/// A segment starts at a starter that does not compose with the previous character.
fn starts_segment(prev: Option<char>, c: char) -> bool {
    if canonical_combining_class(c) != 0 {
        return false;
    }
    // Hangul trailing consonants compose with a preceding LV syllable.
    if ('\u{11A8}'..='\u{11C2}').contains(&c) {
        return false;
    }
    match prev {
        Some(p) if p.is_whitespace() && c.is_whitespace() => false,
        Some(p) => compose(p, c).is_none(),
        None => true,
    }
}

/// Typographic quotes, apostrophes and dashes read as their ASCII forms, so that a quote typed
/// with straight quotes matches text set with curly ones (and the other way round).
fn fold_typographic(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' => '-',
        other => other,
    }
}

/// Normalises a quote for matching: NFC, whitespace runs → one space, trimmed.
fn normalize_quote(quote: &str) -> String {
    let mut out = String::with_capacity(quote.len());
    for c in quote.nfc() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(fold_typographic(c));
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Anchors `quote` in `text` at its first occurrence (prefix and suffix disambiguate repeats).
pub fn anchor(text: &str, quote: &str) -> Result<QuoteSelector, AnchorError> {
    let needle = normalize_quote(quote);
    if needle.is_empty() {
        return Err(AnchorError::EmptyQuote);
    }
    let norm = Normalized::new(text);
    match find_normalized(&norm, &needle, 0) {
        Some((start, end)) => Ok(selector_at(text, start, end)),
        None => Err(AnchorError::NotFound {
            quote: quote.to_owned(),
            closest: closest_passage(text, &norm, &needle),
        }),
    }
}

/// Anchors `quote` in `text`, refusing an ambiguous quote: with `occurrence` None the quote
/// must occur exactly once; `Some(n)` picks the n-th occurrence (from 1, in text order).
pub fn anchor_unique(
    text: &str,
    quote: &str,
    occurrence: Option<usize>,
) -> Result<QuoteSelector, AnchorError> {
    let needle = normalize_quote(quote);
    if needle.is_empty() {
        return Err(AnchorError::EmptyQuote);
    }
    let norm = Normalized::new(text);
    let mut found = Vec::new();
    let mut from = 0;
    while let Some((start, end)) = find_normalized(&norm, &needle, from) {
        found.push((start, end));
        // Occurrences may overlap: look again from the next normalised char.
        let pos = from + norm.text[from..].find(needle.as_str()).unwrap_or(0);
        from = pos + norm.text[pos..].chars().next().map_or(1, char::len_utf8);
    }
    let count = found.len();
    match (count, occurrence) {
        (0, _) => Err(AnchorError::NotFound {
            quote: quote.to_owned(),
            closest: closest_passage(text, &norm, &needle),
        }),
        (_, Some(n)) if n == 0 || n > count => {
            Err(AnchorError::NoSuchOccurrence { wanted: n, count })
        }
        (_, Some(n)) => Ok(selector_at(text, found[n - 1].0, found[n - 1].1)),
        (1, None) => Ok(selector_at(text, found[0].0, found[0].1)),
        (_, None) => Err(AnchorError::Ambiguous {
            quote: quote.to_owned(),
            occurrences: found
                .iter()
                .enumerate()
                .map(|(i, &(start, end))| {
                    let sel = selector_at(text, start, end);
                    Occurrence {
                        number: i + 1,
                        start: sel.start,
                        end: sel.end,
                        context: shorten(&format!("{}[{}]{}", sel.prefix, sel.exact, sel.suffix)),
                    }
                })
                .collect(),
        }),
    }
}

/// Finds `needle` in the normalised text at or after normalised byte `from`; returns the
/// original byte range.
fn find_normalized(norm: &Normalized, needle: &str, from: usize) -> Option<(usize, usize)> {
    let pos = from + norm.text.get(from..)?.find(needle)?;
    let first = norm.index_of(pos);
    let last = norm.index_of(pos + needle.len()) - 1;
    Some((norm.spans[first].0, norm.spans[last].1))
}

/// Builds a selector for the original byte range `start..end` of `text`.
fn selector_at(text: &str, start: usize, end: usize) -> QuoteSelector {
    let before = &text[..start];
    let start_cp = before.chars().count();
    let exact = &text[start..end];
    let mut prefix: Vec<char> = before.chars().rev().take(CONTEXT_CHARS).collect();
    prefix.reverse();
    QuoteSelector {
        exact: exact.to_owned(),
        prefix: prefix.into_iter().collect(),
        suffix: text[end..].chars().take(CONTEXT_CHARS).collect(),
        start: start_cp,
        end: start_cp + exact.chars().count(),
    }
}

/// Locates a previously anchored quote in a newer text.
///
/// Rule: `Unchanged` when `exact` occurs verbatim at the recorded `start..end`. Otherwise, among
/// the verbatim occurrences, the first whose surrounding text still ends with `prefix` and begins
/// with `suffix` wins, else the occurrence nearest the recorded start: `Moved`. Without a
/// verbatim occurrence, the normalised match of [`anchor`] gives `Moved` (first occurrence).
/// Otherwise `Changed`, with the closest passage.
pub fn relocate(new_text: &str, sel: &QuoteSelector) -> Relocation {
    if sel.exact.is_empty() {
        return Relocation::Changed {
            closest: String::new(),
        };
    }
    let mut best: Option<(usize, usize, usize)> = None; // (start cp, end cp, distance)
    let exact_len = sel.exact.chars().count();
    let mut cp = 0;
    let mut last_byte = 0;
    for (byte, _) in new_text.match_indices(sel.exact.as_str()) {
        cp += new_text[last_byte..byte].chars().count();
        last_byte = byte;
        let (start, end) = (cp, cp + exact_len);
        if start == sel.start && end == sel.end {
            return Relocation::Unchanged;
        }
        let context_matches = new_text[..byte].ends_with(sel.prefix.as_str())
            && new_text[byte + sel.exact.len()..].starts_with(sel.suffix.as_str());
        let distance = if context_matches {
            0
        } else {
            1 + start.abs_diff(sel.start)
        };
        if best.is_none_or(|(_, _, d)| distance < d) {
            best = Some((start, end, distance));
        }
    }
    if let Some((start, end, _)) = best {
        return Relocation::Moved { start, end };
    }
    match anchor(new_text, &sel.exact) {
        Ok(found)
            if found.start == sel.start && found.end == sel.end && found.exact == sel.exact =>
        {
            Relocation::Unchanged
        }
        Ok(found) => Relocation::Moved {
            start: found.start,
            end: found.end,
        },
        Err(AnchorError::NotFound { closest, .. }) => Relocation::Changed { closest },
        Err(
            AnchorError::EmptyQuote
            | AnchorError::Ambiguous { .. }
            | AnchorError::NoSuchOccurrence { .. },
        ) => Relocation::Changed {
            closest: String::new(),
        },
    }
}

/// Moves one gram into (`entering`) or out of the window, keeping `score` = the number of the
/// quote's grams present in the window (multiset intersection size).
fn slide(counts: &mut HashMap<u64, (u32, u32)>, key: u64, entering: bool, score: &mut u64) {
    if let Some((want, have)) = counts.get_mut(&key) {
        if entering {
            if *have < *want {
                *score += 1;
            }
            *have += 1;
        } else {
            *have -= 1;
            if *have < *want {
                *score -= 1;
            }
        }
    }
}

/// Packs up to three lower-cased chars into one key.
fn gram_key(chars: &[char]) -> u64 {
    chars.iter().fold(0u64, |key, &c| {
        let lower = c.to_lowercase().next().unwrap_or(c);
        (key << 21) | u64::from(lower)
    })
}

/// The passage of `text` most similar to `needle`: the window of the needle's length (in
/// normalised chars) sharing the most character trigrams with it (case-insensitive; ties go to
/// the earliest window). Linear in the text and quote lengths.
fn closest_passage(text: &str, norm: &Normalized, needle: &str) -> String {
    let hay: Vec<char> = norm.text.chars().collect();
    if hay.is_empty() {
        return String::new();
    }
    let pattern: Vec<char> = needle.chars().collect();
    let n = 3.min(pattern.len()).min(hay.len());
    let window_chars = pattern.len().min(hay.len());
    let window = window_chars + 1 - n; // grams per window
    let hay_grams = hay.len() + 1 - n;
    // key → (count in quote, count in current window)
    let mut counts: HashMap<u64, (u32, u32)> = HashMap::new();
    for gram in pattern.windows(n) {
        counts.entry(gram_key(gram)).or_default().0 += 1;
    }
    let mut score: u64 = 0;
    for i in 0..window {
        slide(&mut counts, gram_key(&hay[i..i + n]), true, &mut score);
    }
    let (mut best_score, mut best_start) = (score, 0);
    for start in 1..=(hay_grams - window) {
        let out_key = gram_key(&hay[start - 1..start - 1 + n]);
        slide(&mut counts, out_key, false, &mut score);
        let last = start + window - 1;
        let in_key = gram_key(&hay[last..last + n]);
        slide(&mut counts, in_key, true, &mut score);
        if score > best_score {
            best_score = score;
            best_start = start;
        }
    }
    let first = best_start;
    let last = (best_start + window_chars - 1).min(norm.spans.len() - 1);
    let (start, end) = (norm.spans[first].0, norm.spans[last].1);
    let (start, end) = widen_to_words(text, start, end);
    text[start..end].trim().to_owned()
}

/// Moves `start` back and `end` forward to the nearest whitespace (at most 40 bytes each way),
/// so that a passage does not begin or end in the middle of a word.
fn widen_to_words(text: &str, start: usize, end: usize) -> (usize, usize) {
    const REACH: usize = 40;
    let starts_clean = text[start..].chars().next().is_none_or(char::is_whitespace)
        || text[..start]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
    let ends_clean = text[..end]
        .chars()
        .next_back()
        .is_none_or(char::is_whitespace)
        || text[end..].chars().next().is_none_or(char::is_whitespace);
    if starts_clean && ends_clean {
        return (start, end);
    }
    let before = if starts_clean { "" } else { &text[..start] };
    let new_start = before
        .char_indices()
        .rev()
        .take_while(|(i, _)| start - i <= REACH)
        .find(|(_, c)| c.is_whitespace())
        .map_or(start, |(i, c)| i + c.len_utf8());
    let after = if ends_clean { "" } else { &text[end..] };
    let new_end = after
        .char_indices()
        .take_while(|(i, _)| *i <= REACH)
        .find(|(_, c)| c.is_whitespace())
        .map_or(end, |(i, _)| end + i);
    (new_start, new_end)
}
