//! Comparing captures by their text: the diff of two captures, and the capture most like a file.

use std::collections::HashSet;

use crate::archive::Archive;
use crate::error::Result;
use crate::model::Capture;
use crate::text_diff::{diff_texts, TextDiff};

/// How two captures differ, as a reader should be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureDiff {
    /// The same bytes: nothing changed.
    IdenticalBytes,
    /// The bytes differ, but no text could be extracted from one or both sides, so nothing can
    /// be said about the text. Each side is `Some(media type)` when it has no text.
    NoText {
        older: Option<String>,
        newer: Option<String>,
    },
    /// The bytes differ, but the extracted text has the same lines (markup or layout changed).
    SameText,
    /// The text changed.
    Changed(TextDiff),
}

/// Extracted text, or the media type from which none could be extracted.
pub fn text_or_media_type(text: &str, capture: &Capture) -> Option<String> {
    text.trim().is_empty().then(|| capture.media_type.clone())
}

/// What an archived capture looks like beside bytes that match no snapshot.
#[derive(Clone, Debug)]
pub enum NearMiss {
    /// No text could be extracted from the bytes (their sniffed media type).
    NoText { media_type: String },
    /// No capture's text shares a word sequence with the bytes' text.
    NoneSimilar,
    /// The most similar capture, the share of word 3-grams both texts have (0–1), and the diff
    /// from the capture's text to the bytes' text (empty: same text, other bytes).
    Closest {
        capture: Box<Capture>,
        similarity: f64,
        diff: TextDiff,
    },
}

/// Candidates compared by text in [`Archive::near_miss`] (documents, then captures of the best).
pub const NEAR_MISS_CANDIDATES: usize = 64;

impl Archive {
    /// Names the capture closest to `bytes` (a file that matches no snapshot) and what differs:
    /// see [`Archive::closest_capture`]; `file_name` hints the media type and the document.
    pub fn near_miss(
        &self,
        bytes: &[u8],
        file_name: Option<&str>,
        context: usize,
    ) -> Result<NearMiss> {
        let media_type = crate::text::sniff_media_type(bytes, file_name);
        let text = crate::text::extract_text(bytes, Some(&media_type));
        if text.trim().is_empty() {
            return Ok(NearMiss::NoText { media_type });
        }
        let stem = file_name.map(|n| n.rsplit_once('.').map_or(n, |(stem, _)| stem));
        let Some((capture, similarity)) =
            self.closest_capture(&text, bytes.len() as u64, stem, NEAR_MISS_CANDIDATES)?
        else {
            return Ok(NearMiss::NoneSimilar);
        };
        let diff = diff_texts(&self.capture_text(&capture)?, &text, context);
        Ok(NearMiss::Closest {
            capture: Box::new(capture),
            similarity,
            diff,
        })
    }

    /// Compares two captures: bytes first, then (when both have text) their extracted text,
    /// with `context` unchanged lines around each change. Both captures' bytes are read verified.
    pub fn diff_captures(
        &self,
        older: &Capture,
        newer: &Capture,
        context: usize,
    ) -> Result<(CaptureDiff, String, String)> {
        let old_text = self.capture_text(older)?;
        let new_text = self.capture_text(newer)?;
        let outcome = if older.sha256 == newer.sha256 {
            CaptureDiff::IdenticalBytes
        } else {
            let (o, n) = (
                text_or_media_type(&old_text, older),
                text_or_media_type(&new_text, newer),
            );
            if o.is_some() || n.is_some() {
                CaptureDiff::NoText { older: o, newer: n }
            } else {
                let diff = diff_texts(&old_text, &new_text, context);
                if diff.is_empty() {
                    CaptureDiff::SameText
                } else {
                    CaptureDiff::Changed(diff)
                }
            }
        };
        Ok((outcome, old_text, new_text))
    }

    /// The capture whose text is most like `text` (extracted from `bytes_len` bytes), with its
    /// similarity (0–1), among at most `limit` candidates: the latest capture of each document
    /// whose URL or title `name_hint` names first, then the latest captures of the other
    /// documents closest in size; then up to `limit` captures of the best document (ties to
    /// the one closest in size). None when nothing shares a word
    /// sequence with `text`.
    pub fn closest_capture(
        &self,
        text: &str,
        bytes_len: u64,
        name_hint: Option<&str>,
        limit: usize,
    ) -> Result<Option<(Capture, f64)>> {
        let wanted = shingles(text);
        if wanted.is_empty() {
            return Ok(None);
        }
        let hint = name_hint.map(str::to_lowercase).filter(|h| !h.is_empty());
        let mut candidates: Vec<(bool, u64, Capture)> = Vec::new();
        for doc in self.documents()? {
            let Ok(latest) = self.latest_capture(&doc.id) else {
                continue;
            };
            let named = hint.as_deref().is_some_and(|h| {
                doc.source_url.to_lowercase().contains(h) || doc.title.to_lowercase() == h
            });
            let distance = latest.byte_len.abs_diff(bytes_len);
            candidates.push((!named, distance, latest));
        }
        candidates.sort_by_key(|(not_named, distance, _)| (*not_named, *distance));
        let mut best: Option<(Capture, f64)> = None;
        for (_, _, capture) in candidates.into_iter().take(limit) {
            let score = jaccard(&wanted, &shingles(&self.capture_text(&capture)?));
            if score > 0.0 && best.as_ref().is_none_or(|(_, s)| score > *s) {
                best = Some((capture, score));
            }
        }
        let Some((latest, score)) = best else {
            return Ok(None);
        };
        // An older capture of the same document may be closer still.
        // Ties (the same text in other bytes) go to the capture closest in size.
        let size_gap = |c: &Capture| c.byte_len.abs_diff(bytes_len);
        let mut best = (latest.clone(), score);
        for capture in self
            .captures(&latest.document)?
            .into_iter()
            .rev()
            .take(limit)
        {
            if capture.sha256 == latest.sha256 {
                continue;
            }
            let score = jaccard(&wanted, &shingles(&self.capture_text(&capture)?));
            if score > best.1 || (score == best.1 && size_gap(&capture) < size_gap(&best.0)) {
                best = (capture, score);
            }
        }
        Ok(Some(best))
    }
}

/// The set of word 3-grams of a text (lower-cased), hashed.
fn shingles(text: &str) -> HashSet<u64> {
    use std::hash::{Hash, Hasher};
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    let n = 3.min(words.len());
    if n == 0 {
        return HashSet::new();
    }
    words
        .windows(n)
        .map(|w| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_of_word_sequences() {
        let a = shingles("one two three four five");
        assert_eq!(jaccard(&a, &a), 1.0);
        let b = shingles("one two three four six");
        assert!((jaccard(&a, &b) - 0.5).abs() < 1e-9);
        assert_eq!(jaccard(&a, &shingles("nothing in common here")), 0.0);
    }
}
