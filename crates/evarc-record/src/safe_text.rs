//! Free text that cannot hide or reorder what is printed beside it.
//!
//! Titles, entities, severities, categories and the archive's name are printed into citations
//! next to hashes and IDs. A bidirectional control (U+202E RIGHT-TO-LEFT OVERRIDE…) or an
//! invisible format character (U+200B ZERO WIDTH SPACE…) in them can make a reader see another
//! hash, date or name than the one printed. They are refused on input
//! ([`check_free_text`]) and neutralised where text comes from other tools ([`neutralise`]).

/// Why a free-text field was refused: the field and the first offending code point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {field} contains {}, {kind}: remove it (character {position} of {value:?})", code_point_name(*.code_point))]
pub struct UnsafeText {
    /// The field, as users know it (`entity`, `document title`, `provision title`…).
    pub field: String,
    /// The offending character.
    pub code_point: char,
    /// Its position in the value (1-based, in characters).
    pub position: usize,
    /// What kind of character it is.
    pub kind: &'static str,
    /// The value refused (escaped when printed).
    pub value: String,
}

/// What kind of hidden character `c` is, if it is one that free text must not carry.
///
/// Bidi_Control (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069), every other format
/// character (General_Category Cf: U+00AD, U+200B, U+2060–U+2064, U+FEFF, tags…) except the
/// joiners U+200C and U+200D that scripts need for correct spelling, the line and paragraph
/// separators U+2028 and U+2029, and C0/C1 controls.
pub fn hidden_kind(c: char) -> Option<&'static str> {
    let cp = u32::from(c);
    if matches!(cp, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069) {
        return Some("a bidirectional control character that can reorder the text around it");
    }
    if matches!(cp, 0x2028 | 0x2029) {
        return Some("an invisible line or paragraph separator");
    }
    if c.is_control() {
        return Some("a control character");
    }
    let format = matches!(
        cp,
        0x00AD
            | 0x0600..=0x0605
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B
            | 0x2060..=0x2064
            | 0x206A..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    format.then_some("an invisible format character")
}

/// Refuses a value carrying a hidden character (see [`hidden_kind`]), naming the field and the
/// code point.
pub fn check_free_text(field: &str, value: &str) -> Result<(), UnsafeText> {
    match value
        .chars()
        .enumerate()
        .find_map(|(i, c)| hidden_kind(c).map(|kind| (i, c, kind)))
    {
        None => Ok(()),
        Some((i, c, kind)) => Err(UnsafeText {
            field: field.to_owned(),
            code_point: c,
            position: i + 1,
            kind,
            value: value.to_owned(),
        }),
    }
}

/// The value with every hidden character replaced by a space, then whitespace collapsed: for
/// text taken from other tools (a WARC's HTML titles), which is data, not a command to refuse.
pub fn neutralise(value: &str) -> String {
    value
        .chars()
        .map(|c| if hidden_kind(c).is_some() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `U+202E RIGHT-TO-LEFT OVERRIDE` for the characters users most likely meet, else `U+XXXX`.
pub fn code_point_name(c: char) -> String {
    let name = match u32::from(c) {
        0x00AD => "SOFT HYPHEN",
        0x061C => "ARABIC LETTER MARK",
        0x200B => "ZERO WIDTH SPACE",
        0x200E => "LEFT-TO-RIGHT MARK",
        0x200F => "RIGHT-TO-LEFT MARK",
        0x202A => "LEFT-TO-RIGHT EMBEDDING",
        0x202B => "RIGHT-TO-LEFT EMBEDDING",
        0x202C => "POP DIRECTIONAL FORMATTING",
        0x202D => "LEFT-TO-RIGHT OVERRIDE",
        0x202E => "RIGHT-TO-LEFT OVERRIDE",
        0x2028 => "LINE SEPARATOR",
        0x2029 => "PARAGRAPH SEPARATOR",
        0x2060 => "WORD JOINER",
        0x2066 => "LEFT-TO-RIGHT ISOLATE",
        0x2067 => "RIGHT-TO-LEFT ISOLATE",
        0x2068 => "FIRST STRONG ISOLATE",
        0x2069 => "POP DIRECTIONAL ISOLATE",
        0xFEFF => "ZERO WIDTH NO-BREAK SPACE",
        _ => "",
    };
    if name.is_empty() {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("U+{:04X} {name}", u32::from(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_invisible_characters_are_named() {
        let err = check_free_text("entity", "Acme\u{202E}gpj.exe").expect_err("RLO refused");
        assert_eq!(
            err.to_string(),
            "the entity contains U+202E RIGHT-TO-LEFT OVERRIDE, a bidirectional control character \
             that can reorder the text around it: remove it (character 5 of \"Acme\\u{202e}gpj.exe\")"
        );
        let err = check_free_text("document title", "Terms\u{200B}").expect_err("ZWSP refused");
        assert_eq!(err.code_point, '\u{200B}');
        assert_eq!(err.kind, "an invisible format character");
        assert_eq!(
            check_free_text("x", "\u{E0041}")
                .expect_err("tag")
                .code_point,
            '\u{E0041}'
        );
    }

    #[test]
    fn ordinary_text_and_joiners_pass() {
        for ok in [
            "Amazon Web Services",
            "Société Générale — CGU",
            "می\u{200C}خواهم",
            "👩\u{200D}💻",
            "شروط الخدمة",
        ] {
            assert_eq!(check_free_text("title", ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn neutralise_replaces_and_collapses() {
        assert_eq!(
            neutralise("Terms \u{202E}lmth.exe\u{202C} of\u{200B}Use"),
            "Terms lmth.exe of Use"
        );
    }
}
