use evarc_provenance::anchor::{
    anchor, anchor_unique, relocate, AnchorError, QuoteSelector, Relocation,
};

const TEXT: &str = "Section 50.12 Intellectual Property.\nAs between you and AWS, you own the custom\nmodels that you create. Café “quoted” — done.";

fn slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

#[test]
fn exact_match_gives_code_point_positions() {
    let sel = anchor(TEXT, "you own the custom").expect("found");
    assert_eq!(sel.exact, "you own the custom");
    assert_eq!(slice(TEXT, sel.start, sel.end), sel.exact);
    assert_eq!(sel.prefix, "operty.\nAs between you and AWS, ");
    assert_eq!(sel.prefix.chars().count(), 32);
    assert_eq!(sel.suffix, "\nmodels that you create. Café “q");
    // Positions count code points, not bytes: "é", "“" and "”" are multi-byte.
    let sel = anchor(TEXT, "“quoted” — done.").expect("found");
    assert_eq!(sel.end, TEXT.chars().count());
    assert_eq!(sel.suffix, "");
    assert_eq!(slice(TEXT, sel.start, sel.end), "“quoted” — done.");
}

#[test]
fn whitespace_insensitive_and_exact_is_original() {
    let sel = anchor(TEXT, "  the custom   models\tthat ").expect("found across the line break");
    assert_eq!(sel.exact, "the custom\nmodels that");
    assert_eq!(slice(TEXT, sel.start, sel.end), sel.exact);
}

#[test]
fn nfc_insensitive_both_ways() {
    // Quote decomposed, text composed.
    let sel = anchor(TEXT, "Cafe\u{301} “quoted”").expect("found");
    assert_eq!(sel.exact, "Café “quoted”");
    // Text decomposed, quote composed: positions refer to the decomposed original.
    let text = "x Cafe\u{301} y";
    let sel = anchor(text, "Café").expect("found");
    assert_eq!(sel.exact, "Cafe\u{301}");
    assert_eq!((sel.start, sel.end), (2, 7));
    assert_eq!(sel.suffix, " y");
}

#[test]
fn empty_quote_is_an_error() {
    assert_eq!(anchor(TEXT, ""), Err(AnchorError::EmptyQuote));
    assert_eq!(anchor(TEXT, " \n\t "), Err(AnchorError::EmptyQuote));
}

#[test]
fn first_of_several_occurrences() {
    let text = "alpha beta. alpha beta. alpha beta.";
    let sel = anchor(text, "alpha beta").expect("found");
    assert_eq!((sel.start, sel.end), (0, 10));
    assert_eq!(sel.prefix, "");
    assert_eq!(sel.suffix, ". alpha beta. alpha beta.");
}

#[test]
fn not_found_shows_closest_passage() {
    let err = anchor(TEXT, "you own the bespoke models").expect_err("absent");
    let AnchorError::NotFound { quote, closest } = &err else {
        panic!("unexpected {err:?}");
    };
    assert_eq!(quote, "you own the bespoke models");
    assert!(closest.contains("own the custom"), "{closest}");
    let message = err.to_string();
    assert!(
        message.starts_with("quote not found in the captured text: \"you own the bespoke models\""),
        "{message}"
    );
    assert!(message.contains("closest passage: \""), "{message}");
    // A long quote is shortened in the message but kept whole in the error.
    let long = "zzz ".repeat(500);
    let err = anchor(TEXT, &long).expect_err("absent");
    assert!(err.to_string().chars().count() < 500, "{err}");
}

#[test]
fn not_found_in_empty_or_short_text() {
    let err = anchor("", "x").expect_err("absent");
    assert_eq!(
        err,
        AnchorError::NotFound {
            quote: "x".to_owned(),
            closest: String::new()
        }
    );
    let err = anchor("ab", "abc").expect_err("absent");
    assert_eq!(
        err,
        AnchorError::NotFound {
            quote: "abc".to_owned(),
            closest: "ab".to_owned()
        }
    );
}

#[test]
fn one_megabyte_text_sanity() {
    let mut text = "lorem ipsum dolor sit amet ".repeat(40_000);
    text.push_str("the needle clause is here");
    text.push_str(&" consectetur adipiscing".repeat(1_000));
    let sel = anchor(&text, "the needle\nclause is here").expect("found");
    assert_eq!(sel.start, 27 * 40_000);
    let err = anchor(&text, "the needle clause was here").expect_err("absent");
    let AnchorError::NotFound { closest, .. } = err else {
        panic!("not found expected")
    };
    assert!(closest.contains("needle clause"), "{closest}");
    // A huge quote against a large text finishes (linear closest-passage search).
    let quote = "dolor amet sit ".repeat(70_000);
    assert!(matches!(
        anchor(&text, &quote),
        Err(AnchorError::NotFound { .. })
    ));
}

fn selector(text: &str, quote: &str) -> QuoteSelector {
    anchor(text, quote).expect("anchored")
}

#[test]
fn relocation() {
    let old = "Intro. Clause one applies. Clause two applies.";
    let sel = selector(old, "Clause two applies.");
    assert_eq!(relocate(old, &sel), Relocation::Unchanged);
    let moved = "New intro paragraph. Intro. Clause one applies. Clause two applies.";
    assert_eq!(
        relocate(moved, &sel),
        Relocation::Moved { start: 48, end: 67 }
    );
    let reflowed = "Intro. Clause one applies. Clause two\n  applies.";
    assert_eq!(
        relocate(reflowed, &sel),
        Relocation::Moved { start: 27, end: 48 }
    );
    let changed = "Intro. Clause one applies. Clause two no longer applies.";
    let Relocation::Changed { closest } = relocate(changed, &sel) else {
        panic!("changed expected")
    };
    // The window has the quote's length and shares the most trigrams with it.
    assert_eq!(closest, "applies. Clause two");
}

#[test]
fn relocation_prefers_matching_context() {
    let old = "A: same words. B: same words.";
    let sel = selector(old, "same words");
    assert_eq!(sel.start, 3);
    let mut second = sel.clone();
    second.start = 18;
    second.end = 28;
    second.prefix = "A: same words. B: ".to_owned();
    second.suffix = ".".to_owned();
    // Insert text before: both occurrences move; the one after "B: " keeps its context.
    let new = "Preface. A: same words. B: same words.";
    assert_eq!(
        relocate(new, &second),
        Relocation::Moved { start: 27, end: 37 }
    );
    assert_eq!(
        relocate(new, &sel),
        Relocation::Moved { start: 12, end: 22 }
    );
}

// Issue 10: typographic quotes, apostrophes and dashes match their ASCII forms.
#[test]
fn typographic_quotes_apostrophes_and_dashes_match_ascii_forms() {
    // ASCII quote, typographic text.
    let sel = anchor(TEXT, "Café \"quoted\" - done.").expect("curly quotes and dash folded");
    assert_eq!(sel.exact, "Café “quoted” — done.");
    assert_eq!(slice(TEXT, sel.start, sel.end), sel.exact);
    // Typographic quote, ASCII text.
    let text = "Don't say \"never\" -- or 50-50.";
    let sel = anchor(text, "Don’t say “never”").expect("apostrophe and quotes folded");
    assert_eq!(sel.exact, "Don't say \"never\"");
    let sel = anchor(text, "50–50").expect("en dash folded");
    assert_eq!(sel.exact, "50-50");
    // Other punctuation still has to match.
    assert!(anchor(text, "Don't say «never»").is_ok());
    assert!(matches!(
        anchor(text, "Don't say (never)"),
        Err(AnchorError::NotFound { .. })
    ));
}

// Issue 10: an ambiguous quote is refused, listing each occurrence with its context.
#[test]
fn an_ambiguous_quote_is_refused_unless_an_occurrence_is_chosen() {
    let text = "the provider may end the service. Later: the provider may end the service at once.";
    let Err(AnchorError::Ambiguous { occurrences, quote }) =
        anchor_unique(text, "the  provider may end", None)
    else {
        panic!("an ambiguous quote was accepted");
    };
    assert_eq!(quote, "the  provider may end");
    assert_eq!(occurrences.len(), 2);
    assert_eq!(
        (
            occurrences[0].number,
            occurrences[0].start,
            occurrences[0].end
        ),
        (1, 0, 20)
    );
    assert_eq!(occurrences[1].number, 2);
    assert_eq!(
        slice(text, occurrences[1].start, occurrences[1].end),
        "the provider may end"
    );
    assert!(occurrences[1]
        .context
        .contains("Later: [the provider may end] the service at once."));
    let message = anchor_unique(text, "the provider may end", None)
        .expect_err("ambiguous")
        .to_string();
    assert!(
        message.starts_with("the quote occurs 2 times in the captured text"),
        "{message}"
    );
    assert!(message.contains("1 at characters 0–20"), "{message}");

    let second = anchor_unique(text, "the provider may end", Some(2)).expect("second occurrence");
    assert_eq!(
        (second.start, second.end),
        (occurrences[1].start, occurrences[1].end)
    );
    let first = anchor_unique(text, "the provider may end", Some(1)).expect("first occurrence");
    assert_eq!(first.start, 0);
    assert_eq!(
        anchor_unique(text, "the provider may end", Some(3)),
        Err(AnchorError::NoSuchOccurrence {
            wanted: 3,
            count: 2
        })
    );
    // A quote that occurs once needs no choice; Some(1) is accepted too.
    assert!(anchor_unique(text, "at once", None).is_ok());
    assert!(anchor_unique(text, "at once", Some(1)).is_ok());
    // Overlapping occurrences count separately.
    assert!(matches!(
        anchor_unique("aaa", "aa", None),
        Err(AnchorError::Ambiguous { occurrences, .. }) if occurrences.len() == 2
    ));
}
