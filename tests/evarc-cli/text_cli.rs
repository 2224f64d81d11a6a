//! Issue 10 (text items): `diff` shows only what changed, word by word; documents without text;
//! `evarc text`; `provision add --quote-file/--occurrence`, typographic quotes, PDFs;
//! `verify --file` of a near-miss; `search --from/--to` and URL spellings.

use crate::aws_fixture::{self, DOCUMENT, FIRST_SHA256, SECOND_SHA256};
use crate::json::Json;
use crate::util::{path_str, Env, Run};

/// Archives `bytes` as a capture of document "Terms" of entity "Example" at `at`.
fn capture(env: &Env, name: &str, bytes: &[u8], at: &str) -> Run {
    let path = env.write(name, bytes);
    env.evarc(&[
        "archive",
        path_str(&path),
        "--entity",
        "Example",
        "--document",
        "Terms",
        "--url",
        "https://example.test/terms",
        "--captured-at",
        at,
    ])
    .ok()
}

fn sha_of(run: &Run) -> String {
    run.field("SHA-256:")
}

#[test]
fn diff_of_an_appended_paragraph_shows_only_the_new_paragraph() {
    let env = Env::new();
    let one = capture(
        &env,
        "v1.html",
        b"<p>one</p><p>two</p>",
        "2026-01-01T00:00:00Z",
    );
    let two = capture(
        &env,
        "v2.html",
        b"<p>one</p><p>two</p><p>three</p>",
        "2026-01-02T00:00:00Z",
    );
    let run = env.evarc(&["diff", "CA-D-00001"]).ok();
    assert_eq!(
        run.stdout_text(),
        format!(
            "--- CA-D-00001 sha256:{} (2026-01-01 00:00:00 UTC)\n\
             +++ CA-D-00001 sha256:{} (2026-01-02 00:00:00 UTC)\n      \
             1 one\n      \
             3 two\n\
             +     5 three\n\
             1 line added, 0 lines removed, 0 lines changed\n",
            sha_of(&one),
            sha_of(&two)
        )
    );
}

#[test]
fn diff_does_not_show_an_unchanged_last_clause_as_removed_and_re_added() {
    let env = Env::new();
    let clause = "50.4. You may not use the Services to build a competing foundation model.";
    let v1 = format!(
        "<!doctype html><h2>50.3 Use</h2><p>AWS will not train on Your Content.</p><p>{clause}</p>"
    );
    let v2 = format!(
        "<!doctype html><h2>50.3 Use</h2><p>AWS will not train on Your Content.</p><p>{clause}</p><p>50.5. Abuse detection applies.</p>"
    );
    capture(&env, "aws-v1.html", v1.as_bytes(), "2026-05-12T09:51:22Z");
    capture(&env, "aws-v2.html", v2.as_bytes(), "2026-05-20T20:43:05Z");
    let run = env.evarc(&["diff", "CA-D-00001", "--context", "0"]).ok();
    let text = run.stdout_text();
    let body: Vec<&str> = text.lines().skip(2).collect();
    assert_eq!(
        body,
        [
            "+     7 50.5. Abuse detection applies.",
            "1 line added, 0 lines removed, 0 lines changed"
        ],
        "{text}"
    );
    // JSON: the typed diff, nothing removed.
    let json = Json::parse(
        &env.evarc(&["--json", "diff", "CA-D-00001"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(json.str("outcome"), "changed");
    assert_eq!(json.int("lines_removed"), 0);
    assert_eq!(json.int("lines_added"), 1);
}

#[test]
fn diff_of_a_long_paragraph_changed_by_one_word_shows_the_word() {
    let env = Env::new();
    let long = "The customer may terminate this agreement at any time by giving WORD days notice in writing to the provider, and the provider shall refund any fees paid in advance for the remainder of the term.";
    capture(
        &env,
        "a.txt",
        long.replace("WORD", "thirty").as_bytes(),
        "2026-01-01T00:00:00Z",
    );
    capture(
        &env,
        "b.txt",
        long.replace("WORD", "sixty").as_bytes(),
        "2026-01-02T00:00:00Z",
    );
    let text = env.evarc(&["diff", "CA-D-00001"]).ok().stdout_text();
    let body: Vec<&str> = text.lines().skip(2).collect();
    assert_eq!(
        body,
        [
            &*format!("~     1 {}", long.replace("WORD", "[-thirty-]{+sixty+}")),
            "0 lines added, 0 lines removed, 1 line changed"
        ],
        "{text}"
    );
    let json = Json::parse(
        &env.evarc(&["--json", "diff", "CA-D-00001"])
            .ok()
            .stdout_text(),
    );
    let line = json.at("hunks/0/lines/0");
    assert_eq!(line.str("op"), "changed");
    assert_eq!(line.str("words/1/op"), "removed");
    assert_eq!(line.str("words/1/text"), "thirty");
    assert_eq!(line.str("words/2/op"), "added");
    assert_eq!(line.str("words/2/text"), "sixty");
}

#[test]
fn diff_of_documents_without_text_says_no_text_could_be_extracted() {
    let env = Env::new();
    capture(
        &env,
        "a.pdf",
        b"%PDF-1.4\nfirst\n%%EOF\n",
        "2026-01-01T00:00:00Z",
    );
    capture(
        &env,
        "b.pdf",
        b"%PDF-1.4\nsecond\n%%EOF\n",
        "2026-01-02T00:00:00Z",
    );
    let text = env.evarc(&["diff", "CA-D-00001"]).ok().stdout_text();
    let body: Vec<&str> = text.lines().skip(2).collect();
    assert_eq!(
        body,
        ["no text could be extracted from either capture (application/pdf), so the text cannot be compared; the bytes differ (21 → 22 bytes)"],
        "{text}"
    );
    assert!(!text.contains("identical"), "{text}");

    // Two binaries.
    let env = Env::new();
    capture(&env, "a.bin", b"\x00\x01\x02binary", "2026-01-01T00:00:00Z");
    capture(&env, "b.bin", b"\x00\x01\x03binary", "2026-01-02T00:00:00Z");
    let text = env.evarc(&["diff", "CA-D-00001"]).ok().stdout_text();
    assert!(
        text.contains("no text could be extracted from either capture (application/octet-stream), so the text cannot be compared; the bytes differ (9 → 9 bytes)\n"),
        "{text}"
    );
    let json = Json::parse(
        &env.evarc(&["--json", "diff", "CA-D-00001"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(json.str("outcome"), "no_text");
    assert_eq!(json.str("no_text/from"), "application/octet-stream");
}

#[test]
fn text_prints_the_extracted_text_of_a_document_provision_or_hash() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let latest = env.evarc(&["text", DOCUMENT]).ok().stdout_text();
    assert!(
        latest.contains("Output is Your Content & you may use it"),
        "{latest}"
    );
    assert!(
        latest.starts_with("AWS › Legal\n\nAWS Service Terms"),
        "{latest}"
    );
    // The same text by the latest capture's hash.
    assert_eq!(
        env.evarc(&["text", SECOND_SHA256]).ok().stdout_text(),
        latest
    );
    // A provision: the text of its capture (the first), where its quote is found.
    let first = env.evarc(&["text", "CA-P-011417"]).ok().stdout_text();
    assert_eq!(env.evarc(&["text", FIRST_SHA256]).ok().stdout_text(), first);
    assert!(first.contains("Output is Your Content.\n"), "{first}");
    // --at: the capture in force at a date (end of day) or an instant.
    assert_eq!(
        env.evarc(&["text", DOCUMENT, "--at", "2026-05-19"])
            .ok()
            .stdout_text(),
        first
    );
    assert_eq!(
        env.evarc(&["text", DOCUMENT, "--at", "2026-05-20T20:43:05Z"])
            .ok()
            .stdout_text(),
        latest
    );
    env.evarc(&["text", DOCUMENT, "--at", "2026-05-01"])
        .one_line_error(2, &["CA-D-00648 has no capture at or before 2026-05-01"]);
    env.evarc(&["text", DOCUMENT, "--at", "May 1"])
        .one_line_error(2, &["invalid date \"May 1\""]);
    env.evarc(&["text", "CA-P-011417", "--at", "2026-05-19"])
        .one_line_error(2, &["a date selects a capture of a document"]);
    let json = Json::parse(
        &env.evarc(&["--json", "text", "CA-P-011417"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(format!("{}\n", json.str("text")), first);
    assert_eq!(json.str("capture/sha256"), FIRST_SHA256);
}

#[test]
fn a_provision_on_a_pdf_says_no_text_could_be_extracted() {
    let env = Env::new();
    capture(
        &env,
        "a.pdf",
        b"%PDF-1.4\nfirst\n%%EOF\n",
        "2026-01-01T00:00:00Z",
    );
    let message = env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "T",
            "--quote",
            "first",
        ])
        .one_line_error(2, &["no text could be extracted", "(application/pdf)"]);
    assert!(!message.contains("closest passage"), "{message}");
    env.evarc(&["text", "CA-D-00001"])
        .one_line_error(2, &["no text could be extracted", "(application/pdf)"]);
}

#[test]
fn an_ambiguous_quote_is_refused_listing_occurrences_unless_occurrence_is_given() {
    let env = Env::new();
    capture(
        &env,
        "t.html",
        b"<p>1. The provider may end the service.</p><p>2. The customer may also end the service.</p>",
        "2026-01-01T00:00:00Z",
    );
    let before = env.state();
    let message = env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "End",
            "--quote",
            "end the service",
        ])
        .one_line_error(
            2,
            &[
                "the quote occurs 2 times in the captured text",
                "1 at characters 20–35",
                "2 at characters",
                "[end the service]",
                "choose one with --occurrence N",
            ],
        );
    assert!(
        message.ends_with("; choose one with --occurrence N"),
        "{message}"
    );
    assert_eq!(
        env.state(),
        before,
        "a refused provision changed the archive"
    );
    let run = env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "End",
            "--quote",
            "end the service",
            "--occurrence",
            "2",
        ])
        .ok();
    assert_eq!(run.stdout_text(), "CA-P-000001\n");
    assert!(run.stderr.contains("characters 63–78"), "{}", run.stderr);
    // The first occurrence is another provision.
    let run = env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "End",
            "--quote",
            "end the service",
            "--occurrence",
            "1",
        ])
        .ok();
    assert_eq!(run.stdout_text(), "CA-P-000002\n");
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00001",
        "--title",
        "End",
        "--quote",
        "end the service",
        "--occurrence",
        "3",
    ])
    .one_line_error(
        2,
        &["occurrence 3 of the quote was asked for, but it occurs 2 time(s)"],
    );
}

#[test]
fn provision_quote_file_and_typographic_quotes() {
    let env = Env::new();
    let clause = "“Output” means content generated by a model — as between you and AWS, Output is Your Content.";
    capture(
        &env,
        "t.html",
        format!("<p>{clause}</p><p>{}</p>", "Filler words. ".repeat(2000)).as_bytes(),
        "2026-01-01T00:00:00Z",
    );
    // Straight quotes and a hyphen match the curly quotes and the em dash.
    let run = env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "Output",
            "--quote",
            "\"Output\" means content generated by a model - as between you and AWS",
        ])
        .ok();
    assert_eq!(run.stdout_text(), "CA-P-000001\n");
    let json = Json::parse(
        &env.evarc(&["--json", "show", "CA-P-000001"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(
        json.str("provision/selector/exact"),
        "“Output” means content generated by a model — as between you and AWS"
    );
    // A long quote from a file (here the whole filler paragraph: 28 000 characters).
    let quote = env.write("quote.txt", "Filler words. ".repeat(2000).trim().as_bytes());
    let run = env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "Filler",
            "--quote-file",
            path_str(&quote),
        ])
        .ok();
    assert_eq!(run.stdout_text(), "CA-P-000002\n");
    assert!(run.stderr.contains("characters 95–28094"), "{}", run.stderr);
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00001",
        "--title",
        "X",
        "--quote-file",
        "missing.txt",
    ])
    .one_line_error(2, &["cannot read the quote file missing.txt"]);
}

#[test]
fn verify_file_of_a_near_miss_names_the_closest_capture_and_shows_the_diff() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let original = std::fs::read_to_string(aws_fixture::fixture_path(aws_fixture::FIRST_FILE))
        .expect("fixture");
    let altered = original.replace("you own the custom models", "you may own the custom models");
    assert_ne!(altered, original);
    let path = env.write("exhibit.html", altered.as_bytes());
    let run = env.evarc(&["verify", "--file", path_str(&path)]).code(1);
    let text = env.normalize(&run.stdout_text());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("✗ [TMP]/exhibit.html matches no snapshot in this archive"),
        "{text}"
    );
    assert_eq!(
        lines[1],
        format!("  closest capture: CA-D-00648 captured 2026-05-12 09:51:22 UTC sha256:{FIRST_SHA256} (96.9% of word sequences in common)"),
        "{text}"
    );
    assert_eq!(
        lines[2],
        "  what differs from that capture's text (- archived, + this file):"
    );
    assert!(
        text.contains("~    19 As between you and AWS, you {+may +}own the custom models"),
        "{text}"
    );
    assert!(
        text.ends_with("0 lines added, 0 lines removed, 1 line changed\n"),
        "{text}"
    );
    let json = Json::parse(
        &env.evarc(&["--json", "verify", "--file", path_str(&path)])
            .code(1)
            .stdout_text(),
    );
    assert_eq!(json.at("identical"), &Json::Bool(false));
    assert_eq!(json.str("closest/capture/sha256"), FIRST_SHA256);
    assert_eq!(json.int("closest/lines_changed"), 1);

    // Unrelated text names no capture.
    let path = env.write(
        "other.txt",
        b"Nothing like any archived page at all, really.",
    );
    let text = env
        .evarc(&["verify", "--file", path_str(&path)])
        .code(1)
        .stdout_text();
    assert!(
        text.ends_with("  no archived capture has similar text\n"),
        "{text}"
    );
}

#[test]
fn search_matches_urls_whatever_their_spelling_and_filters_by_capture_date() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let expected =
        "CA-D-00648  AWS Bedrock — AWS Service Terms  <https://aws.amazon.com/service-terms/>\n";
    for spelling in [
        "https://aws.amazon.com/service-terms/",
        "https://aws.amazon.com/service-terms",
        "HTTPS://AWS.Amazon.com:443/service-terms",
        "aws.amazon.com/service-terms",
    ] {
        assert_eq!(
            env.evarc(&["search", spelling]).ok().stdout_text(),
            expected,
            "{spelling}"
        );
    }
    // Dates: the document has captures on 2026-05-12 and 2026-05-20.
    let within = |from: &str, to: &str| {
        let mut args = vec!["search", "service-terms"];
        if !from.is_empty() {
            args.extend(["--from", from]);
        }
        if !to.is_empty() {
            args.extend(["--to", to]);
        }
        env.evarc(&args).ok().stdout_text()
    };
    assert_eq!(within("2026-05-20", ""), expected);
    assert_eq!(within("", "2026-05-12"), expected);
    assert_eq!(within("2026-05-13", "2026-05-19"), "");
    assert_eq!(within("2026-05-21", ""), "");
    assert_eq!(within("2026-05-20T20:43:06Z", ""), "");
    // Provisions are dated by their capture: three are pinned to the first, one to the second.
    let provisions = env
        .evarc(&["search", "AWS Bedrock", "--from", "2026-05-13"])
        .ok()
        .stdout_text();
    assert_eq!(
        provisions,
        format!("{expected}CA-P-012386  Automated Abuse Detection  (CA-D-00648)\n")
    );
    env.evarc(&["search", "aws", "--from", "yesterday"])
        .one_line_error(2, &["invalid date \"yesterday\""]);
}
