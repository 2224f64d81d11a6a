//! Rendering a [`TextDiff`] for a terminal or a pipe. The diff itself is computed in
//! `evarc_provenance::text_diff`; this only draws it.
//!
//! Lines: ` ` unchanged, `-` removed, `+` added, `~` changed, each with its line number in the
//! text it is from (the new text, except for removed lines). Inside a changed line, removed
//! words are shown as `[-…-]` and added words as `{+…+}`; on a colour terminal they are red
//! and green instead.

use std::fmt::Write as _;
use std::io::IsTerminal as _;

use evarc_provenance::text_diff::{LineOp, TextDiff, WordOp};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const STRIKE_RED: &str = "\x1b[9;31m";
const RESET: &str = "\x1b[0m";

/// Colour when standard output is a terminal and `NO_COLOR` is not set (no-color.org).
pub fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The hunks of `diff`, separated by `…` lines.
pub fn render(diff: &TextDiff, colour: bool) -> String {
    let mut out = String::new();
    for (i, hunk) in diff.hunks.iter().enumerate() {
        if i > 0 {
            out.push_str("…\n");
        }
        for line in &hunk.lines {
            let _ = match line {
                LineOp::Equal { new_line, text, .. } => writeln!(out, " {new_line:>6} {text}"),
                LineOp::Removed { old_line, text } => {
                    paint(&mut out, colour, RED, &format!("-{old_line:>6} {text}"))
                }
                LineOp::Added { new_line, text } => {
                    paint(&mut out, colour, GREEN, &format!("+{new_line:>6} {text}"))
                }
                LineOp::Changed {
                    new_line, words, ..
                } => writeln!(out, "~{new_line:>6} {}", render_words(words, colour)),
            };
        }
    }
    out
}

fn paint(out: &mut String, colour: bool, code: &str, text: &str) -> std::fmt::Result {
    if colour {
        writeln!(out, "{code}{text}{RESET}")
    } else {
        writeln!(out, "{text}")
    }
}

/// A changed line with its removed and added words marked.
pub fn render_words(words: &[WordOp], colour: bool) -> String {
    let mut out = String::new();
    for word in words {
        match (word, colour) {
            (WordOp::Equal(t), _) => out.push_str(t),
            (WordOp::Removed(t), true) => {
                let _ = write!(out, "{STRIKE_RED}{t}{RESET}");
            }
            (WordOp::Added(t), true) => {
                let _ = write!(out, "{GREEN}{t}{RESET}");
            }
            (WordOp::Removed(t), false) => {
                let _ = write!(out, "[-{t}-]");
            }
            (WordOp::Added(t), false) => {
                let _ = write!(out, "{{+{t}+}}");
            }
        }
    }
    out
}

/// `2 lines added, 1 line removed, 1 line changed`
pub fn summary(diff: &TextDiff) -> String {
    let count = |n: usize, what: &str| format!("{n} line{} {what}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}, {}",
        count(diff.lines_added, "added"),
        count(diff.lines_removed, "removed"),
        count(diff.lines_changed, "changed")
    )
}
