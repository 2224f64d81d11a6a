//! A cheap HTML `<title>` extractor for naming imported documents.
//!
//! Not an HTML parser: it finds the first `<title …>` start tag and the next `</title`, decodes
//! the common character references and collapses whitespace. Good enough for a default title
//! that the operator can override; never used for evidence.

const MAX_TITLE_CHARS: usize = 512;

/// The text of the first `<title>` element in `html` (bytes decoded as UTF-8, lossily).
pub fn html_title(html: &[u8]) -> Option<String> {
    let lower: Vec<u8> = html.iter().map(u8::to_ascii_lowercase).collect();
    let start = find(&lower, b"<title", 0)?;
    // The tag must end right after its name (`<title>` or `<title attr…>`, not `<titlex>`).
    let after_name = lower.get(start + 6)?;
    if !(after_name == &b'>' || after_name.is_ascii_whitespace() || after_name == &b'/') {
        return None;
    }
    let open_end = find(&lower, b">", start)? + 1;
    let end = find(&lower, b"</title", open_end).unwrap_or(html.len());
    let raw = String::from_utf8_lossy(&html[open_end..end]);
    let decoded = decode_entities(&raw);
    let title: String = evarc_record::safe_text::neutralise(&decoded)
        .chars()
        .take(MAX_TITLE_CHARS)
        .collect();
    (!title.is_empty()).then_some(title)
}

/// A title taken from another tool's data (a WARC's page title or target URI), made acceptable
/// as a document title: control, bidirectional and invisible format characters (U+202E,
/// U+200B…: `evarc_record::safe_text::hidden_kind`) become spaces, whitespace runs one
/// space, and it is cut to `max_chars` characters (`…` appended).
pub fn sanitize_title(raw: &str, max_chars: usize) -> String {
    let joined = evarc_record::safe_text::neutralise(raw);
    match joined.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", joined[..cut].trim_end()),
        None => joined,
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let semi = rest.find(';').filter(|&i| i <= 10);
        let decoded = semi.and_then(|i| entity(&rest[1..i]));
        match (semi, decoded) {
            (Some(i), Some(c)) => {
                out.push(c);
                rest = &rest[i + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        "ndash" => Some('–'),
        "mdash" => Some('—'),
        "rsquo" => Some('’'),
        "lsquo" => Some('‘'),
        "rdquo" => Some('”'),
        "ldquo" => Some('“'),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_in_warc_titles_are_neutralised() {
        let html = "<title>Terms \u{202E}fdp.exe\u{202C} &#x200B;of Use</title>".as_bytes();
        assert_eq!(html_title(html).as_deref(), Some("Terms fdp.exe of Use"));
        assert_eq!(sanitize_title("a\u{2066}b\u{feff}\tc", 200), "a b c");
        assert_eq!(sanitize_title("abcdef", 3), "abc…");
    }
}
