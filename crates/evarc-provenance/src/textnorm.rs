//! The normalisations that turn a capture's extracted text into a version text
//! (docs/versions.md, "Reproducibility").
//!
//! Each one removes a difference between two captures that is not a difference of the terms:
//! - invisible format characters (soft hyphen, zero-width characters, word joiner, BOM);
//! - the two English long date formats: "24 February 2025" and "February 24 2025" are written
//!   "February 24, 2025" (a changed date is still a change: only the format is unified; the
//!   year may be glued to a following word, as inline elements are joined without a space);
//! - a line that is only a relative time, optionally after a label ("Updated: 20 days ago",
//!   "Updated over a week ago", "Updated yesterday"; the bare words yesterday, today… only after
//!   a label): the relative part becomes `[relative time]`, since
//!   it depends on when the page was fetched, never on the terms. A relative time inside a
//!   sentence of the terms is left alone.
//!
//! Which normalisations apply is part of the extractor version recorded with every text
//! ([`crate::rules::EXTRACTOR_VERSION`]); [`for_extractor`] applies those of an older extractor
//! version, so a text recorded by it is still reproducible.

/// Extractor versions whose version texts can be reproduced, oldest first, and what each adds.
pub const EXTRACTORS: [&str; 3] = [
    "evarc-text-1+scraper-0.29+rules-1",
    "evarc-text-1+scraper-0.29+rules-1+invisible-2",
    crate::rules::EXTRACTOR_VERSION,
];

/// The version text of an extracted text under the current extractor.
pub fn version_text(extracted: &str) -> String {
    let text = strip_invisible(extracted);
    let text = relative_times(&text);
    long_dates(&text)
}

/// The version text of an extracted text under the extractor version `extractor` (one of
/// [`EXTRACTORS`]); None for an extractor this build does not know.
pub fn for_extractor(extractor: &str, extracted: &str) -> Option<String> {
    match EXTRACTORS.iter().position(|e| *e == extractor)? {
        0 => Some(extracted.to_owned()),
        1 => Some(strip_invisible(extracted)),
        _ => Some(version_text(extracted)),
    }
}

/// Invisible format characters a page may sprinkle into its text without changing a word: soft
/// hyphen, zero-width space / joiners / direction marks, word joiner and invisible operators,
/// byte-order mark.
pub fn strip_invisible(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
            )
        })
        .collect()
}

/// What a relative time becomes.
pub const RELATIVE_TIME: &str = "[relative time]";

use crate::cite::MONTHS;

/// Rewrites "24 February 2025" and "February 24 2025" / "February 04, 2025" as
/// "February 24, 2025" (full English month names, capitalised; day 1–31; four-digit year).
pub fn long_dates(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let at_word_start = i == 0 || !is_word_byte(bytes[i - 1]);
        if at_word_start && (bytes[i].is_ascii_digit() || bytes[i].is_ascii_uppercase()) {
            if let Some((len, canonical)) = date_at(&text[i..]) {
                out.push_str(&text[copied..i]);
                out.push_str(&canonical);
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// A long date at the start of `s`: its length in bytes and its canonical form.
fn date_at(s: &str) -> Option<(usize, String)> {
    let (day, month, year, len) = if s.as_bytes()[0].is_ascii_digit() {
        // D Month YYYY
        let (day, mut n) = number(s, 2)?;
        n += space(&s[n..])?;
        let (month, m) = month(&s[n..])?;
        n += m;
        n += space(&s[n..])?;
        let (year, y) = year(&s[n..])?;
        (day, month, year, n + y)
    } else {
        // Month D, YYYY / Month D YYYY
        let (month, mut n) = month(s)?;
        n += space(&s[n..])?;
        let (day, d) = number(&s[n..], 2)?;
        n += d;
        if s[n..].starts_with(',') {
            n += 1;
        }
        n += space(&s[n..])?;
        let (year, y) = year(&s[n..])?;
        (day, month, year, n + y)
    };
    if !(1..=31).contains(&day) {
        return None;
    }
    // A letter may follow: inline elements are joined without a space ("2025Previous Version"
    // on Anthropic's pages); a digit may not (not a four-digit year).
    if s[len..].bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((len, format!("{month} {day}, {year}")))
}

/// 1 to `max` ASCII digits at the start, not followed by another digit.
fn number(s: &str, max: usize) -> Option<(u32, usize)> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 || len > max {
        return None;
    }
    Some((s[..len].parse().ok()?, len))
}

fn year(s: &str) -> Option<(&str, usize)> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    (len == 4).then(|| (&s[..4], 4))
}

/// One space (the extractor writes every run of whitespace as one space).
fn space(s: &str) -> Option<usize> {
    s.starts_with(' ').then_some(1)
}

fn month(s: &str) -> Option<(&'static str, usize)> {
    let name = MONTHS.iter().find(|m| s.starts_with(**m))?;
    if s[name.len()..].bytes().next().is_some_and(is_word_byte) {
        return None;
    }
    Some((name, name.len()))
}

/// Labels a relative time may follow on its line (compared case-insensitively).
const LABELS: [&str; 8] = [
    "last updated",
    "last modified",
    "updated",
    "modified",
    "edited",
    "posted",
    "published",
    "last edited",
];

/// Replaces each line that is only a relative time, after an optional label, by the label and
/// [`RELATIVE_TIME`].
pub fn relative_times(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match relative_line(line) {
            Some(label_end) => {
                out.push_str(&line[..label_end]);
                out.push_str(RELATIVE_TIME);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// For a line that is `[label[:]] relative time`, the byte length of what is kept before the
/// relative time (the label and its separator, leading whitespace included).
fn relative_line(line: &str) -> Option<usize> {
    let trimmed_start = line.len() - line.trim_start().len();
    let rest = &line[trimmed_start..];
    let lower = rest.to_ascii_lowercase();
    let mut keep = trimmed_start;
    let mut body = lower.as_str();
    let mut labelled = false;
    if let Some(label) = LABELS.iter().find(|l| {
        lower.starts_with(**l)
            && lower[l.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == ':' || c == ' ')
    }) {
        let after = &lower[label.len()..];
        let sep = after.len() - after.trim_start_matches([':', ' ']).len();
        keep += label.len() + sep;
        body = &after[sep..];
        labelled = true;
    }
    is_relative_time(body.trim_end(), labelled).then_some(keep)
}

/// `N units ago` (and its qualified forms); the bare words (yesterday, today, …) only after a
/// label, since a line "Today" may be a heading of the terms.
fn is_relative_time(s: &str, labelled: bool) -> bool {
    const FIXED: [&str; 8] = [
        "yesterday",
        "today",
        "just now",
        "this week",
        "last week",
        "this month",
        "last month",
        "a moment ago",
    ];
    if FIXED.contains(&s) {
        return labelled;
    }
    let mut words: Vec<&str> = s.split(' ').collect();
    if words.last() != Some(&"ago") {
        return false;
    }
    words.pop();
    // Qualifiers: "over a week ago", "about 3 hours ago", "more than a year ago".
    let words: &[&str] = match words.as_slice() {
        ["over" | "about" | "almost" | "nearly", rest @ ..] => rest,
        ["more" | "less", "than", rest @ ..] => rest,
        all => all,
    };
    let (count, unit) = match words {
        [count, unit] => (*count, *unit),
        ["a", "few", unit] => ("2", *unit),
        _ => return false,
    };
    let count_ok = matches!(count, "a" | "an" | "one")
        || (!count.is_empty() && count.len() <= 4 && count.bytes().all(|b| b.is_ascii_digit()));
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    count_ok
        && matches!(
            unit,
            "second" | "sec" | "minute" | "min" | "hour" | "hr" | "day" | "week" | "month" | "year"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_dates_take_one_format() {
        assert_eq!(
            long_dates("Effective 24 February 2025."),
            "Effective February 24, 2025."
        );
        assert_eq!(
            long_dates("Effective February 24, 2025."),
            "Effective February 24, 2025."
        );
        assert_eq!(long_dates("May 04 2026"), "May 4, 2026");
        assert_eq!(
            long_dates("Effective 28 August 2025Previous Version"),
            "Effective August 28, 2025Previous Version"
        );
        // Not dates: a day out of range, a longer number, a lower-case month, a 5-digit year.
        for same in [
            "32 May 2026",
            "123 May 2026",
            "1 may 2026",
            "May 1, 20265",
            "Mayday 1, 2026",
            "x1 May 2026",
        ] {
            assert_eq!(long_dates(same), same);
        }
        // A changed date stays a change.
        assert_ne!(
            long_dates("Effective 1 May 2026"),
            long_dates("Effective May 2, 2026")
        );
    }

    #[test]
    fn relative_times_only_on_their_own_line() {
        assert_eq!(
            relative_times("Title\nUpdated: 20 days ago\nText"),
            "Title\nUpdated: [relative time]\nText"
        );
        assert_eq!(
            relative_times("Updated over a week ago"),
            "Updated [relative time]"
        );
        assert_eq!(
            relative_times("  Last updated yesterday"),
            "  Last updated [relative time]"
        );
        assert_eq!(relative_times("6 hours ago"), "[relative time]");
        for same in [
            "Claims arising 30 days ago are barred.",
            "Updated: 20 May 2026",
            "Updated",
            "ago",
            "Updated: twenty days ago",
            "Today",
        ] {
            assert_eq!(relative_times(same), same);
        }
    }

    #[test]
    fn older_extractors_reproduce_their_texts() {
        let text = "A\u{2060}. Effective 1 May 2026\nUpdated: 3 hours ago";
        assert_eq!(for_extractor(EXTRACTORS[0], text).as_deref(), Some(text));
        assert_eq!(
            for_extractor(EXTRACTORS[1], text).as_deref(),
            Some("A. Effective 1 May 2026\nUpdated: 3 hours ago")
        );
        assert_eq!(
            for_extractor(EXTRACTORS[2], text).as_deref(),
            Some("A. Effective May 1, 2026\nUpdated: [relative time]")
        );
        assert_eq!(for_extractor("evarc-text-0", text), None);
    }
}
