//! Deterministic text extraction from captured bytes, used to anchor quotes and to diff captures.
//!
//! The algorithm is specified in `docs/text-extraction.md`; a change to it changes the positions
//! of every quote selector, so it is versioned by that document and covered by known-answer tests.
//!
//! Architecture invariant: extraction never panics and never fails. Bytes it cannot read yield
//! an empty string (unknown binary data, PDF — see the docs for why PDF is not extracted).

use std::borrow::Cow;
use std::cell::RefCell;

use encoding_rs::Encoding;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::TokenizerResult;

/// How many leading bytes are examined when sniffing the media type or a `<meta charset>`.
const SNIFF_LEN: usize = 1024;
/// Decoded HTML is fed to the tokenizer in pieces of at most this many bytes.
const FEED_CHUNK: usize = 1 << 20;

/// Guesses the media type of captured bytes. Signatures in the bytes win over the file name hint.
///
/// Returns one of `application/pdf`, `text/html; charset=<label>`, `text/html`,
/// `text/plain; charset=utf-8`, `text/plain` or `application/octet-stream`.
pub fn sniff_media_type(bytes: &[u8], file_name_hint: Option<&str>) -> String {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    let body = strip_bom_and_space(head);
    if body.starts_with(b"%PDF-") {
        return "application/pdf".to_owned();
    }
    let ext = file_name_hint
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let html_by_name = matches!(ext.as_deref(), Some("html" | "htm" | "xhtml" | "shtml"));
    if ext.as_deref() == Some("pdf") {
        return "application/pdf".to_owned();
    }
    if html_by_name || looks_like_html(body) {
        return match html_charset(bytes) {
            Some(label) => format!("text/html; charset={label}"),
            None => "text/html".to_owned(),
        };
    }
    if looks_binary(head) {
        return "application/octet-stream".to_owned();
    }
    if std::str::from_utf8(bytes).is_ok() || Encoding::for_bom(bytes).is_some() {
        "text/plain; charset=utf-8".to_owned()
    } else {
        "text/plain".to_owned()
    }
}

/// Extracts the text of captured bytes. `media_type` is the recorded media type (parameters
/// allowed); `None` sniffs it from the bytes. Never panics; unreadable input yields `""`.
pub fn extract_text(bytes: &[u8], media_type: Option<&str>) -> String {
    let sniffed;
    let media_type = match media_type {
        Some(m) => m,
        None => {
            sniffed = sniff_media_type(bytes, None);
            &sniffed
        }
    };
    let (essence, charset) = parse_media_type(media_type);
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => {
            let label = charset.or_else(|| html_charset(bytes));
            html_to_text(&decode(bytes, label.as_deref()))
        }
        e if is_plain_text(e) => plain_text(&decode(bytes, charset.as_deref())),
        // PDF and everything else: not extracted (see docs/text-extraction.md).
        _ => String::new(),
    }
}

/// The decoded source of HTML bytes, decoded exactly as [`extract_text`] decodes them (BOM, then
/// the charset parameter or `<meta charset>`, then UTF-8). For extraction rules that parse it.
pub fn extract_source(bytes: &[u8], media_type: Option<&str>) -> String {
    let charset = media_type.and_then(|m| parse_media_type(m).1);
    let label = charset.or_else(|| html_charset(bytes));
    decode(bytes, label.as_deref()).into_owned()
}

fn is_plain_text(essence: &str) -> bool {
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json" | "application/xml" | "application/ld+json"
        )
}

/// Splits `text/html; charset=UTF-8` into (`text/html`, `Some("UTF-8")`).
fn parse_media_type(media_type: &str) -> (String, Option<String>) {
    let mut parts = media_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    });
    (essence, charset)
}

/// Decodes bytes: a byte-order mark wins, then the charset label, then UTF-8. Malformed
/// sequences become U+FFFD.
fn decode<'a>(bytes: &'a [u8], label: Option<&str>) -> Cow<'a, str> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom_len..]).0;
    }
    let encoding = label
        .and_then(|l| Encoding::for_label(l.as_bytes()))
        .map(Encoding::output_encoding)
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode_without_bom_handling(bytes).0
}

/// Plain text as is: only line endings are normalised (CRLF and lone CR become LF).
fn plain_text(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn strip_bom_and_space(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// WHATWG-style HTML signatures: the first tag names a typical HTML element.
fn looks_like_html(body: &[u8]) -> bool {
    const TAGS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
        b"<!--",
        b"<meta",
    ];
    TAGS.iter().any(|tag| {
        body.len() > tag.len()
            && body[..tag.len()].eq_ignore_ascii_case(tag)
            && (tag.ends_with(b"--")
                || matches!(body[tag.len()], b' ' | b'>' | b'\t' | b'\n' | b'\r'))
    })
}

/// Binary if the header holds a control byte that never occurs in text (WHATWG MIME sniffing).
fn looks_binary(head: &[u8]) -> bool {
    if Encoding::for_bom(head).is_some() {
        return false;
    }
    head.iter()
        .any(|&b| matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F))
}

/// Finds `charset=` inside a `<meta …>` tag within the first 1024 bytes.
fn html_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    let lower: Vec<u8> = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let tag_start = from + pos;
        let tag_end = lower[tag_start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(lower.len(), |p| tag_start + p);
        let tag = &lower[tag_start..tag_end];
        if let Some(cpos) = find(tag, b"charset=") {
            let value = &tag[cpos + b"charset=".len()..];
            let value = value
                .strip_prefix(b"\"")
                .or_else(|| value.strip_prefix(b"'"))
                .unwrap_or(value);
            let end = value
                .iter()
                .position(|&b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                .unwrap_or(value.len());
            let label = &value[..end];
            if let Some(encoding) = Encoding::for_label(label) {
                // A meta tag cannot honestly declare UTF-16 (WHATWG): treat it as UTF-8.
                let encoding =
                    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
                        encoding_rs::UTF_8
                    } else {
                        encoding
                    };
                return Some(encoding.name().to_ascii_lowercase());
            }
        }
        from = tag_end.max(tag_start + 1);
        if from >= lower.len() {
            break;
        }
    }
    if std::str::from_utf8(bytes).is_ok() {
        Some("utf-8".to_owned())
    } else {
        None
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Pending separator before the next character of text; the strongest one wins.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Space,
    Line,
    Blank,
}

struct TextSink {
    state: RefCell<TextState>,
}

struct TextState {
    out: String,
    gap: Gap,
    /// Inside a raw-text element whose text is dropped (`script`, `style`, …).
    skipping_raw: bool,
    /// Nesting depth of `<template>` (its contents are inert and dropped).
    template_depth: usize,
    /// Nesting depth of `<pre>`/`<textarea>`/`<listing>`: newlines are kept there.
    pre_depth: usize,
}

impl TextState {
    fn push_char(&mut self, c: char) {
        if self.skipping_raw || self.template_depth > 0 {
            return;
        }
        if c == '\n' && self.pre_depth > 0 {
            self.gap = if self.gap >= Gap::Line {
                Gap::Blank
            } else {
                Gap::Line
            };
            return;
        }
        if c.is_whitespace() {
            self.gap = self.gap.max(Gap::Space);
            return;
        }
        if c == '\0' {
            return;
        }
        if !self.out.is_empty() {
            match self.gap {
                Gap::None => {}
                Gap::Space => self.out.push(' '),
                Gap::Line => self.out.push('\n'),
                Gap::Blank => self.out.push_str("\n\n"),
            }
        }
        self.gap = Gap::None;
        self.out.push(c);
    }

    fn hard_break(&mut self) {
        self.gap = if self.gap >= Gap::Line {
            Gap::Blank
        } else {
            Gap::Line
        };
    }
}

/// Elements whose start and end end the current line.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "body"
            | "caption"
            | "center"
            | "dd"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "header"
            | "hgroup"
            | "html"
            | "legend"
            | "li"
            | "main"
            | "menu"
            | "nav"
            | "option"
            | "search"
            | "section"
            | "summary"
            | "tbody"
            | "tfoot"
            | "thead"
            | "tr"
    )
}

/// Elements that are separated from their neighbours by a blank line.
fn is_paragraph(name: &str) -> bool {
    matches!(
        name,
        "p" | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "hr"
            | "ol"
            | "ul"
            | "pre"
            | "table"
            | "listing"
            | "textarea"
            | "xmp"
    )
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let mut st = self.state.borrow_mut();
        match token {
            Token::CharacterTokens(text) => {
                for c in text.chars() {
                    st.push_char(c);
                }
            }
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let start = tag.kind == TagKind::StartTag;
                if st.skipping_raw {
                    // The tokenizer only leaves raw text at the matching end tag.
                    if !start {
                        st.skipping_raw = false;
                    }
                    return TokenSinkResult::Continue;
                }
                match name {
                    "template" if start => st.template_depth += 1,
                    "template" => st.template_depth = st.template_depth.saturating_sub(1),
                    _ if st.template_depth > 0 => {}
                    "script" | "style" | "noscript" | "title" | "iframe" | "noembed"
                    | "noframes" | "xmp"
                        if start && !tag.self_closing =>
                    {
                        st.skipping_raw = name != "xmp";
                        let kind = match name {
                            "script" => RawKind::ScriptData,
                            "title" => RawKind::Rcdata,
                            _ => RawKind::Rawtext,
                        };
                        if name == "xmp" {
                            st.gap = st.gap.max(Gap::Blank);
                        }
                        return TokenSinkResult::RawData(kind);
                    }
                    "textarea" if start => {
                        st.gap = st.gap.max(Gap::Blank);
                        st.pre_depth += 1;
                        return TokenSinkResult::RawData(RawKind::Rcdata);
                    }
                    "plaintext" if start => {
                        st.gap = st.gap.max(Gap::Blank);
                        st.pre_depth += 1;
                        return TokenSinkResult::Plaintext;
                    }
                    "br" => st.hard_break(),
                    "td" | "th" => st.gap = st.gap.max(Gap::Space),
                    _ if is_paragraph(name) => {
                        if matches!(name, "pre" | "listing" | "textarea") {
                            if start {
                                st.pre_depth += 1;
                            } else {
                                st.pre_depth = st.pre_depth.saturating_sub(1);
                            }
                        }
                        st.gap = st.gap.max(Gap::Blank);
                    }
                    _ if is_block(name) => st.gap = st.gap.max(Gap::Line),
                    _ => {}
                }
            }
            Token::NullCharacterToken
            | Token::CommentToken(_)
            | Token::DoctypeToken(_)
            | Token::EOFToken
            | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }
}

/// HTML to text, as specified in docs/text-extraction.md.
fn html_to_text(html: &str) -> String {
    let sink = TextSink {
        state: RefCell::new(TextState {
            out: String::new(),
            gap: Gap::None,
            skipping_raw: false,
            template_depth: 0,
            pre_depth: 0,
        }),
    };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    let mut rest = html;
    while !rest.is_empty() {
        let mut cut = rest.len().min(FEED_CHUNK);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        input.push_back(StrTendril::from_slice(piece));
        rest = tail;
        while let TokenizerResult::Script(()) = tokenizer.feed(&input) {}
    }
    tokenizer.end();
    tokenizer.sink.state.into_inner().out
}
