//! Issue 13: extraction rules (CSS and ranges), OTA declaration parsing, passages and
//! provision tracking, as pure functions.

use evarc_provenance::declaration::parse_declaration;
use evarc_provenance::rules::{extract_with_rules, RangeSelector, Rules, Selector};
use evarc_provenance::versions::{equal_lines, passages, track_provision, ProvisionStatus};

const HTML: Option<&str> = Some("text/html; charset=utf-8");
const PAGE: &str = "<html><head><script>var nonce='x1';</script></head><body><nav>Menu</nav>\
    <main><h1>Terms</h1><p>One.</p><div class=\"ad\">Buy</div><p>Two.</p></main>\
    <footer>Footer</footer></body></html>";

fn css(s: &str) -> Selector {
    Selector::Css(s.to_owned())
}

#[test]
fn css_select_and_remove_keep_only_the_terms() {
    let rules = Rules {
        select: vec![css("main")],
        remove: vec![css(".ad")],
        filter: vec![],
    };
    let got = extract_with_rules(PAGE.as_bytes(), HTML, &rules).expect("rules apply");
    assert_eq!(got.text, "Terms\n\nOne.\n\nTwo.");
    assert!(got.unmatched.is_empty());
}

#[test]
fn range_selectors_cut_between_start_and_end_points() {
    let range = |sb: Option<&str>, sa: Option<&str>, eb: Option<&str>, ea: Option<&str>| {
        Selector::Range(RangeSelector {
            start_before: sb.map(str::to_owned),
            start_after: sa.map(str::to_owned),
            end_before: eb.map(str::to_owned),
            end_after: ea.map(str::to_owned),
        })
    };
    let text = |rule: Selector| {
        let rules = Rules {
            select: vec![rule],
            remove: vec![],
            filter: vec![],
        };
        extract_with_rules(PAGE.as_bytes(), HTML, &rules)
            .expect("rules apply")
            .text
    };
    assert_eq!(
        text(range(Some("h1"), None, Some("footer"), None)),
        "Terms\n\nOne.\n\nBuy\n\nTwo."
    );
    assert_eq!(
        text(range(None, Some("h1"), None, Some(".ad"))),
        "One.\n\nBuy"
    );
    let bad = Rules {
        select: vec![range(Some("h1"), None, None, None)],
        remove: vec![],
        filter: vec![],
    };
    assert!(extract_with_rules(PAGE.as_bytes(), HTML, &bad).is_err());
}

#[test]
fn no_rules_is_the_whole_text_and_unmatched_selectors_are_reported() {
    let whole = extract_with_rules(PAGE.as_bytes(), HTML, &Rules::default()).expect("no rules");
    assert_eq!(
        whole.text,
        evarc_provenance::text::extract_text(PAGE.as_bytes(), HTML)
    );
    let rules = Rules {
        select: vec![css("article"), css("main p")],
        remove: vec![],
        filter: vec![],
    };
    let got = extract_with_rules(PAGE.as_bytes(), HTML, &rules).expect("rules apply");
    assert_eq!(got.text, "One.\n\nTwo.");
    assert_eq!(got.unmatched, vec!["article".to_owned()]);
}

#[test]
fn declarations_parse_combine_ranges_unsupported_and_history() {
    let current = parse_declaration(
        "Svc.json",
        r#"{"name": "Service", "terms": {"Privacy Policy": {
            "select": ["main"], "executeClientScripts": true,
            "combine": [{"fetch": "https://a.example/p", "filter": ["f1", "f2"]},
                        {"fetch": "https://a.example/q", "select": {"startAfter": "h1", "endBefore": "footer"}}]}}}"#,
    )
    .expect("parses");
    assert_eq!(current.service, "Service");
    let terms = &current.terms[0];
    assert_eq!(terms.sources.len(), 2);
    assert_eq!(terms.sources[0].rules.select, vec![css("main")]);
    assert_eq!(
        terms.sources[0].unsupported,
        vec![
            "executeClientScripts: pages are not rendered in a browser".to_owned(),
            "filter (f1, f2): JavaScript filters are not run".to_owned()
        ]
    );
    assert!(matches!(
        terms.sources[1].rules.select[0],
        Selector::Range(_)
    ));
    let history = parse_declaration(
        "Svc.history.json",
        r#"{"Privacy Policy": [{"fetch": "https://a.example/p", "select": "div", "ValidUntil": "2026-07-09T19:07:00.000Z"}]}"#,
    )
    .expect("parses");
    assert!(history.history);
    assert_eq!(history.service, "Svc");
    assert_eq!(
        history.terms[0].valid_until.map(|t| t.to_rfc3339()),
        Some("2026-07-09T19:07:00+00:00".to_owned())
    );
    let err = parse_declaration(
        "X.json",
        r#"{"name": "X", "terms": {"T": {"select": "main"}}}"#,
    )
    .expect_err("no fetch");
    assert_eq!(
        err.to_string(),
        "declaration X.json: \"T\": needs a \"fetch\" URL or a \"combine\" array"
    );
}

#[test]
fn passages_are_line_level_with_word_diffs_and_provisions_are_tracked() {
    let old = "Title\n\nYou may cancel at any time.\n\nWe keep data for 30 days.\n\nContact us.";
    let new =
        "Title\n\nNew clause here.\n\nYou may cancel at any time.\n\nWe keep data for 90 days.";
    let (found, added, removed) = passages(old, new);
    let kinds: Vec<_> = found
        .iter()
        .map(|p| format!("{:?}@{}", p.kind, p.line))
        .collect();
    // The one line diff of evarc (text_diff): "Contact us." is removed, not folded into the
    // changed retention clause.
    assert_eq!(kinds, ["Added@3", "Changed@5", "Removed@7"]);
    assert_eq!((added, removed), (4, 3));
    let equal = equal_lines(old, new);
    let moved = track_provision(old, new, "You may cancel at any time.", &equal);
    assert_eq!(moved.status, ProvisionStatus::Unchanged);
    let amended = track_provision(old, new, "We keep data for 30 days.", &equal);
    assert_eq!(amended.status, ProvisionStatus::Amended);
    assert_eq!(
        amended.wording.as_deref(),
        Some("We keep data for 90 days.")
    );
    let removed = track_provision(old, new, "Contact us.", &equal);
    assert_eq!(removed.status, ProvisionStatus::Removed);
}

/// Change-record passages are text_diff's lines (as `evarc diff` shows them): a run of removed
/// or added lines is one passage with its paragraph breaks, a changed line carries text_diff's
/// word diff, and the stored JSON keeps its shape.
#[test]
fn passages_come_from_the_one_line_diff() {
    use evarc_provenance::text_diff::{diff_texts, LineOp};
    let old = "Title\n\nOne.\n\nTwo.\n\nThe fee is 10 euros per month.\n\nEnd.";
    let new = "Title\n\nThe fee is 12 euros per month.\n\nEnd.\n\nNew A.\n\nNew B.";
    let (found, added, removed) = passages(old, new);
    let shapes: Vec<String> = found
        .iter()
        .map(|p| format!("{:?}@{} {:?} {:?}", p.kind, p.line, p.old, p.new))
        .collect();
    assert_eq!(
        shapes,
        [
            "Removed@3 \"One.\\n\\nTwo.\" \"\"",
            "Changed@7 \"The fee is 10 euros per month.\" \"The fee is 12 euros per month.\"",
            "Added@7 \"\" \"New A.\\n\\nNew B.\"",
        ]
    );
    assert_eq!((added, removed), (5, 3));
    let diff = diff_texts(old, new, 0);
    let changed: Vec<_> = diff
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter_map(|l| match l {
            LineOp::Changed { words, .. } => Some(words.len()),
            _ => None,
        })
        .collect();
    assert_eq!(changed, vec![found[1].words.len()]);
    let json = serde_json::to_value(&found[1]).expect("serialisable");
    assert_eq!(
        json,
        serde_json::json!({"kind": "changed", "line": 7, "old": "The fee is 10 euros per month.",
            "new": "The fee is 12 euros per month.", "words": [
                {"op": "=", "text": "The fee is "}, {"op": "-", "text": "10"},
                {"op": "+", "text": "12"}, {"op": "=", "text": " euros per month."}]})
    );
}

/// A word joiner before a full stop (seen on ChatGPT's pages) is not a text change.
#[test]
fn invisible_format_characters_are_not_part_of_a_version_text() {
    use evarc_provenance::versions::text_of;
    let at = chrono::DateTime::parse_from_rfc3339("2026-05-01T00:00:00Z")
        .expect("time")
        .with_timezone(&chrono::Utc);
    let a = text_of(
        b"<p>Learn more about ChatGPT Business.</p>",
        "text/html",
        at,
        None,
    )
    .expect("extracts");
    let b = text_of(
        "<p>Learn more about ChatGPT Business\u{2060}.</p>".as_bytes(),
        "text/html",
        at,
        None,
    )
    .expect("extracts");
    assert_eq!(a.0.text_sha256, b.0.text_sha256);
    assert_eq!(b.1.as_deref(), Some("Learn more about ChatGPT Business."));
}
