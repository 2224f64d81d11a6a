//! Issue 3: documents, captures and provisions through the CLI, on the AWS fixture.

use crate::aws_fixture::{
    self, add_provision, capture, ProvisionSpec, DOCUMENT, FIRST_AT, FIRST_FILE, FIRST_SHA256,
    PROVISIONS, SECOND_AT, SECOND_FILE, SECOND_SHA256,
};
use crate::json::Json;
use crate::util::{assert_expected, path_str, redact_between, redact_line, Env, Run};

/// `archive` output without the zstd-dependent size on disk.
fn stable_archive_output(run: &Run) -> String {
    redact_between(
        &run.stdout_text(),
        "new snapshot stored (",
        " bytes on disk)",
        "[N]",
    )
}

#[test]
fn fixture_registers_documents_captures_and_provision_ids() {
    let fixture = aws_fixture::build();
    assert_expected(
        "aws/archive-2026-05-12.txt",
        stable_archive_output(&fixture.first_capture).as_bytes(),
    );
    assert_expected(
        "aws/archive-2026-05-20.txt",
        stable_archive_output(&fixture.second_capture).as_bytes(),
    );
    assert_eq!(fixture.first_capture.field("SHA-256:"), FIRST_SHA256);
    assert_eq!(fixture.second_capture.field("SHA-256:"), SECOND_SHA256);

    // Explicit IDs are kept; the next provision without --id continues above the highest.
    for (spec, run) in PROVISIONS.iter().zip(&fixture.provisions) {
        assert_eq!(run.stdout_text(), format!("{}\n", spec.id));
        let pinned = spec.capture.unwrap_or(SECOND_SHA256);
        assert!(
            run.stderr.starts_with(&format!(
                "pinned to capture sha256:{pinned} of {DOCUMENT} ("
            )),
            "{}",
            run.stderr
        );
    }

    // Registering the same quote and capture again returns the same ID and adds nothing.
    let env = &fixture.env;
    let before = history_json(env);
    for spec in &PROVISIONS {
        let run = add_provision(env, spec).ok();
        assert_eq!(run.stdout_text(), format!("{}\n", spec.id));
        assert!(
            run.stderr.starts_with(&format!(
                "{} was already registered for this quote and capture\n",
                spec.id
            )),
            "{}",
            run.stderr
        );
    }
    // Also when the explicit ID is left out, and for the default (latest) capture.
    let spec = &PROVISIONS[0];
    let again = ProvisionSpec {
        explicit_id: false,
        extra: &[],
        ..*spec
    };
    assert_eq!(
        add_provision(env, &again).ok().stdout_text(),
        "CA-P-011417\n"
    );
    assert_eq!(history_json(env), before);

    // The same document named again is the same document.
    let run = capture(env, SECOND_FILE, SECOND_AT, &[]).ok();
    assert!(run
        .stdout_text()
        .starts_with("Document: CA-D-00648 AWS Bedrock — AWS Service Terms <https://aws.amazon.com/service-terms/>\n"));
    // A new provision takes the next number.
    let run = env
        .evarc(&[
            "provision",
            "add",
            DOCUMENT,
            "--title",
            "Third-Party Models",
            "--quote",
            "Third-party models are made available by their providers",
        ])
        .ok();
    assert_eq!(run.stdout_text(), "CA-P-012388\n");
    // A second document continues the document sequence above CA-D-00648.
    let page = env.write(
        "agreement.html",
        b"<!doctype html><p>AWS Customer Agreement.</p>\n",
    );
    let run = env
        .evarc(&[
            "archive",
            path_str(&page),
            "--entity",
            "AWS Bedrock",
            "--document",
            "AWS Customer Agreement",
            "--url",
            "https://aws.amazon.com/agreement/",
            "--captured-at",
            FIRST_AT,
        ])
        .ok();
    assert!(
        run.stdout_text().starts_with("Document: CA-D-00649 (new) "),
        "{}",
        run.stdout_text()
    );
}

fn history_json(env: &Env) -> String {
    env.evarc(&["--json", "history", DOCUMENT])
        .ok()
        .stdout_text()
}

#[test]
fn history_lists_captures_in_time_order_with_their_provisions() {
    let fixture = aws_fixture::build();
    let run = fixture.env.evarc(&["history", DOCUMENT]).ok();
    assert_expected("aws/history.txt", &run.stdout);

    let json = Json::parse(&history_json(&fixture.env));
    let captures = json.array("captures");
    assert_eq!(captures.len(), 2);
    assert_eq!(json.str("captures/0/capture/captured_at"), FIRST_AT);
    assert_eq!(json.str("captures/1/capture/captured_at"), SECOND_AT);
    assert_eq!(json.str("captures/0/capture/sha256"), FIRST_SHA256);
    let ids = |i: usize| -> Vec<String> {
        json.array(&format!("captures/{i}/provisions"))
            .iter()
            .map(|p| match p {
                Json::String(s) => s.clone(),
                other => panic!("provision ID {other}"),
            })
            .collect()
    };
    assert_eq!(ids(0), ["CA-P-011410", "CA-P-011417", "CA-P-012387"]);
    assert_eq!(ids(1), ["CA-P-012386"]);
}

/// A capture archived out of order still lists in time order.
#[test]
fn history_orders_captures_by_capture_time_not_arrival() {
    let env = Env::new();
    capture(&env, SECOND_FILE, SECOND_AT, &[]).ok();
    capture(&env, FIRST_FILE, FIRST_AT, &[]).ok();
    let run = env.evarc(&["history", "CA-D-00001"]).ok();
    let text = run.stdout_text();
    let first = text
        .find("2026-05-12 09:51:22 UTC  sha256:")
        .expect("first capture listed");
    let second = text
        .find("2026-05-20 20:43:05 UTC  sha256:")
        .expect("second capture listed");
    assert!(first < second, "{text}");
}

#[test]
fn diff_shows_changed_lines_and_the_fate_of_each_provision() {
    let fixture = aws_fixture::build();
    let run = fixture.env.evarc(&["diff", DOCUMENT]).ok();
    assert_expected("aws/diff.txt", &run.stdout);
    let text = run.stdout_text();
    assert!(text.contains("  CA-P-011410 Use of Your Content for Model Training: unchanged\n"));
    assert!(text.contains(
        "  CA-P-011417 Intellectual Property in Fine-Tuned Models and Custom Model Outputs: moved ("
    ));
    assert!(
        text.contains("  CA-P-012387 Résumé of Output Rights 🔒: changed; closest passage now: ")
    );
    assert!(text.contains("+    "), "no added line: {text}");
    // Issue 10: a paragraph that changes by a few words is one changed line showing the words.
    assert!(
        text.contains("~    29 Last Updated: May [-5-]{+19+}, 2026\n"),
        "no word-level change: {text}"
    );
    assert!(
        !text.contains("-    "),
        "an unchanged or changed line shown as removed: {text}"
    );

    // Explicit captures, either way round; the same capture twice is "identical".
    let run = fixture
        .env
        .evarc(&[
            "diff",
            DOCUMENT,
            "--from",
            FIRST_SHA256,
            "--to",
            SECOND_SHA256,
        ])
        .ok();
    assert_eq!(run.stdout_text(), text);
    let run = fixture
        .env
        .evarc(&[
            "diff",
            DOCUMENT,
            "--from",
            FIRST_SHA256,
            "--to",
            FIRST_SHA256,
        ])
        .ok();
    assert!(run.stdout_text().contains("identical bytes: no change\n"));

    let env = Env::new();
    capture(&env, FIRST_FILE, FIRST_AT, &[]).ok();
    env.evarc(&["diff", "CA-D-00001"])
        .one_line_error(2, &["CA-D-00001 has 1 capture", "two"]);
}

#[test]
fn show_list_and_search_find_records() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let show = env.evarc(&["show", DOCUMENT]).ok().stdout_text();
    assert_expected(
        "aws/show-document.txt",
        redact_line(&show, "Registered:    ", "[NOW]").as_bytes(),
    );
    for spec in &PROVISIONS {
        let show = env.evarc(&["show", spec.id]).ok().stdout_text();
        assert_expected(
            &format!("aws/show-{}.txt", spec.id),
            redact_line(&show, "Registered: ", "[NOW]").as_bytes(),
        );
    }
    let run = env.evarc(&["show", FIRST_SHA256]).ok();
    assert_expected("aws/show-snapshot.txt", &run.stdout);
    let run = env
        .evarc(&["show", &format!("sha256:{SECOND_SHA256}")])
        .ok();
    assert!(run
        .stdout_text()
        .contains("Capture:  CA-D-00648 at 2026-05-20 20:43:05 UTC\n"));

    let list = "CA-D-00648  AWS Bedrock — AWS Service Terms  (2 captures, latest 2026-05-20 20:43:05 UTC)\n";
    assert_eq!(env.evarc(&["list"]).ok().stdout_text(), list);
    assert_eq!(
        env.evarc(&["list", "--entity", "aws bedrock"])
            .ok()
            .stdout_text(),
        list
    );
    let run = env.evarc(&["list", "--entity", "AWS"]).ok();
    assert_eq!(run.stdout_text(), "");
    assert_eq!(run.stderr, "no documents\n");

    let document_hit =
        "CA-D-00648  AWS Bedrock — AWS Service Terms  <https://aws.amazon.com/service-terms/>";
    let searches: [(&str, &[&str]); 7] = [
        ("bedrock", &[document_hit, "CA-P-011417  ", "CA-P-012387  "]),
        ("SERVICE TERMS", &[document_hit]),
        ("aws.amazon.com/service-terms", &[document_hit]),
        ("résumé", &["CA-P-012387  Résumé of Output Rights 🔒  (CA-D-00648)"]),
        ("🔒", &["CA-P-012387  "]),
        (
            "custom models that you create",
            &["CA-P-011417  Intellectual Property in Fine-Tuned Models and Custom Model Outputs  (CA-D-00648)"],
        ),
        ("“output” means", &["CA-P-012387  "]),
    ];
    for (text, wanted) in searches {
        let out = env.evarc(&["search", text]).ok().stdout_text();
        for line in wanted {
            assert!(
                out.lines().any(|l| l.starts_with(line)),
                "search {text:?} lacks {line:?}:\n{out}"
            );
        }
    }
    // Provision titles and quotes only match their provision.
    let out = env.evarc(&["search", "abuse detection"]).ok().stdout_text();
    assert_eq!(
        out,
        "CA-P-012386  Automated Abuse Detection  (CA-D-00648)\n"
    );
    let run = env.evarc(&["search", "no such words anywhere"]).ok();
    assert_eq!(run.stdout_text(), "");
    assert!(run.stderr.starts_with("no matches for "), "{}", run.stderr);
    env.evarc(&["search", "  "])
        .one_line_error(2, &["search needs some text"]);
}

/// The same bytes captured again add no capture; the capture's "last verified" moves on.
#[test]
fn identical_recapture_moves_last_verified() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let run = capture(env, SECOND_FILE, "2026-05-25T08:00:00Z", &[]).ok();
    assert_eq!(
        run.stdout_text()
            .lines()
            .nth(1)
            .expect("a Capture line"),
        "Capture:  2026-05-20 20:43:05 UTC (identical bytes; last verified 2026-05-25 08:00:00 UTC)"
    );
    assert_eq!(
        run.field("Status:"),
        "already archived (nothing new stored)"
    );

    let json = Json::parse(&history_json(env));
    assert_eq!(json.array("captures").len(), 2);
    assert_eq!(json.str("captures/1/capture/captured_at"), SECOND_AT);
    assert_eq!(json.str("captures/1/capture/first_tracked"), SECOND_AT);
    assert_eq!(
        json.str("captures/1/capture/last_verified"),
        "2026-05-25T08:00:00Z"
    );
    assert_eq!(json.str("captures/0/capture/last_verified"), FIRST_AT);

    let show = Json::parse(&env.evarc(&["--json", "show", DOCUMENT]).ok().stdout_text());
    assert_eq!(show.str("captures/1/last_verified"), "2026-05-25T08:00:00Z");
    let history = env.evarc(&["history", DOCUMENT]).ok().stdout_text();
    assert!(
        history.contains("changed; seen unchanged until 2026-05-25 08:00:00 UTC\n"),
        "{history}"
    );
    let cite = env
        .evarc(&["cite", DOCUMENT, "-f", "json", "--accessed", "2026-05-26"])
        .ok();
    let cite = Json::parse(&cite.stdout_text());
    assert_eq!(cite.str("capture/captured_at"), SECOND_AT);
    assert_eq!(cite.str("capture/last_verified"), "2026-05-25T08:00:00Z");

    // The older bytes seen again later are a change back: a new capture.
    let run = capture(env, FIRST_FILE, "2026-05-27T00:00:00Z", &[]).ok();
    assert!(
        run.stdout_text().contains("(new capture)"),
        "{}",
        run.stdout_text()
    );
    let json = Json::parse(&history_json(env));
    assert_eq!(json.array("captures").len(), 3);
}

/// Every refusal: exit 2, one line, and nothing written (list, history, show unchanged).
#[test]
fn refusals_are_one_line_and_write_nothing() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let other_page = env.write(
        "agreement.html",
        "<!doctype html><meta charset=utf-8><p>This AWS Customer Agreement (“Agreement”) governs your use.</p>\n".as_bytes(),
    );
    let run = env
        .evarc(&[
            "archive",
            path_str(&other_page),
            "--entity",
            "AWS Bedrock",
            "--document",
            "AWS Customer Agreement",
            "--url",
            "https://aws.amazon.com/agreement/",
            "--captured-at",
            FIRST_AT,
        ])
        .ok();
    let other_sha = run.field("SHA-256:");
    let state = || {
        let show = env.evarc(&["show", DOCUMENT]).ok().stdout_text();
        format!(
            "{}{}{}",
            env.state(),
            env.evarc(&["history", DOCUMENT]).ok().stdout_text(),
            redact_line(&show, "Registered:    ", "[NOW]")
        )
    };
    let before = state();

    // Unknown and malformed IDs.
    for command in ["cite", "show", "certify"] {
        env.evarc(&[command, "CA-P-999999"])
            .one_line_error(2, &["no record CA-P-999999 in this archive"]);
        env.evarc(&[command, "CA-X-00001"])
            .one_line_error(2, &["invalid ID \"CA-X-00001\""]);
    }
    env.evarc(&["cite", "CA-D-00001"])
        .one_line_error(2, &["no record CA-D-00001"]);
    env.evarc(&["cite", "hello"])
        .one_line_error(2, &["invalid ID \"hello\""]);
    env.evarc(&["cite", "CA-P-000000"])
        .one_line_error(2, &["sequence numbers start at 1"]);
    env.evarc(&["history", "CA-P-011417"])
        .one_line_error(2, &["invalid ID \"CA-P-011417\""]);
    env.evarc(&["history", "CA-D-00999"])
        .one_line_error(2, &["no record CA-D-00999"]);
    env.evarc(&["diff", "nonsense"])
        .one_line_error(2, &["invalid ID"]);
    env.evarc(&["cite", "XY-D-00648"])
        .one_line_error(2, &["XY-D-00648", "prefix CA"]);
    env.evarc(&["cite", DOCUMENT, "-f", "apa"])
        .one_line_error(2, &["unknown citation format \"apa\""]);
    env.evarc(&["cite", DOCUMENT, "-f", "bluebook", "--markup", "rtf"])
        .one_line_error(2, &["unknown markup \"rtf\""]);

    // Dates.
    for bad in ["2026-05-32", "13/05/2026", "May 13, 2026", "2026-02-30"] {
        env.evarc(&["cite", DOCUMENT, "--accessed", bad])
            .one_line_error(2, &["invalid --accessed", "YYYY-MM-DD"]);
    }
    let first = aws_fixture::fixture_path(FIRST_FILE);
    let named = |more: &[&str]| {
        let mut args = vec![
            "archive",
            path_str(&first),
            "--entity",
            "AWS Bedrock",
            "--document",
            "AWS Service Terms",
            "--url",
            "https://aws.amazon.com/service-terms/",
        ];
        args.extend_from_slice(more);
        env.evarc(&args)
    };
    for bad in [
        "2026-05-12",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-05-12 09:51:22",
    ] {
        named(&["--captured-at", bad]).one_line_error(2, &["invalid --captured-at", "RFC 3339"]);
    }
    named(&["--captured-at", "2999-01-01T00:00:00Z"])
        .one_line_error(2, &["--captured-at", "future"]);
    for bad in ["May 5, 2026", "2026-02-30", "20260505"] {
        named(&[
            "--captured-at",
            "2026-05-21T00:00:00Z",
            "--last-updated",
            bad,
        ])
        .one_line_error(2, &["invalid --last-updated", "YYYY-MM-DD"]);
    }
    named(&[
        "--captured-at",
        "2026-05-21T00:00:00Z",
        "--wayback",
        "web.archive.org/x",
    ])
    .one_line_error(2, &["invalid --wayback"]);

    // Documents: a taken ID, an unknown document, a missing source URL, a bad URL.
    env.evarc(&[
        "archive",
        path_str(&first),
        "--entity",
        "Example Corp",
        "--document",
        "Terms",
        "--url",
        "https://example.org/terms",
        "--id",
        DOCUMENT,
        "--captured-at",
        FIRST_AT,
    ])
    .one_line_error(2, &["CA-D-00648 is already taken"]);
    env.evarc(&["archive", path_str(&first), "--document", "CA-D-00999"])
        .one_line_error(2, &["no record CA-D-00999"]);
    env.evarc(&[
        "archive",
        path_str(&first),
        "--entity",
        "Example Corp",
        "--document",
        "Privacy Policy",
    ])
    .one_line_error(2, &["--url"]);
    env.evarc(&[
        "archive",
        path_str(&first),
        "--entity",
        "Example Corp",
        "--document",
        "Privacy Policy",
        "--url",
        "example.org/privacy",
    ])
    .one_line_error(2, &["invalid --url \"example.org/privacy\"", "http(s)"]);
    env.evarc(&["archive", path_str(&first), "--document", "Privacy Policy"])
        .one_line_error(2, &["--entity"]);

    let provision = |capture: &str, quote: &str, more: &[&str]| {
        let mut args = vec![
            "provision",
            "add",
            DOCUMENT,
            "--title",
            "Never Registered",
            "--quote",
            quote,
            "--capture",
            capture,
        ];
        args.extend_from_slice(more);
        env.evarc(&args)
    };
    // Provisions: quote not in the capture (the message shows the closest passage). That
    // message is checked for being one line by the two `quote_not_found_message_*` tests.
    let refused_quote = |run: Run, needles: &[&str]| {
        let run = run.code(2);
        assert!(
            run.stdout.is_empty(),
            "a refused provision printed on stdout"
        );
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        for needle in needles {
            assert!(
                run.stderr.contains(needle),
                "lacks {needle:?}: {}",
                run.stderr
            );
        }
    };
    refused_quote(
        provision(
            FIRST_SHA256,
            "As between you and AWS, you own the custom models that you build with the Services.",
            &[],
        ),
        &[
            "quote not found",
            "closest passage: \"As between you and AWS, you own the custom models that you create using the Service",
        ],
    );
    // A clause of the second capture is not in the first.
    refused_quote(
        provision(
            FIRST_SHA256,
            "Amazon Bedrock uses automated abuse detection mechanisms",
            &[],
        ),
        &["quote not found", FIRST_SHA256, "closest passage"],
    );
    provision(FIRST_SHA256, "   ", &[]).one_line_error(2, &["quote is empty"]);
    // Another document's capture, an unknown capture, a malformed one.
    provision(&other_sha, "AWS Customer Agreement", &[]).one_line_error(
        2,
        &[
            &format!("CA-D-00648 has no capture with SHA-256 {other_sha}"),
            "these bytes are a capture of CA-D-00649",
        ],
    );
    provision(&"ab".repeat(32), "AWS Service Terms", &[])
        .one_line_error(2, &["CA-D-00648 has no capture with SHA-256 abab"]);
    provision("492e1601", "AWS Service Terms", &[]).one_line_error(2, &["malformed hash"]);
    // A taken provision ID, a foreign prefix, a missing title.
    provision(
        FIRST_SHA256,
        "Third-party models are made available by their providers",
        &["--id", "CA-P-011417"],
    )
    .one_line_error(2, &["CA-P-011417 is already taken"]);
    provision(
        FIRST_SHA256,
        "Third-party models are made available by their providers",
        &["--id", "XY-P-000001"],
    )
    .one_line_error(2, &["XY-P-000001", "prefix CA"]);
    env.evarc(&[
        "provision",
        "add",
        DOCUMENT,
        "--title",
        " ",
        "--quote",
        "Third-party models",
    ])
    .one_line_error(2, &["title"]);
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00999",
        "--title",
        "T",
        "--quote",
        "q",
    ])
    .one_line_error(2, &["no record CA-D-00999"]);

    assert_eq!(state(), before, "a refused command changed the archive");
    let out = env.evarc(&["search", "Never Registered"]).ok();
    assert_eq!(out.stdout_text(), "");
}

/// The closest passage of a refused quote may span paragraphs; the message stays one line.
#[test]
fn quote_not_found_message_is_one_line_across_paragraphs() {
    let fixture = aws_fixture::build();
    fixture
        .env
        .evarc(&[
            "provision",
            "add",
            DOCUMENT,
            "--capture",
            FIRST_SHA256,
            "--title",
            "Definitions",
            "--quote",
            "have the meanings given in the AWS Customer Agreement (the “Agreement”) 50. Amazon Bedrock 50.3 Use of Content",
        ])
        .one_line_error(2, &["quote not found", "closest passage"]);
}

/// The refusal of a quote names the capture and the closest passage once, not twice.
#[test]
fn quote_not_found_message_says_it_once() {
    let fixture = aws_fixture::build();
    let message = fixture
        .env
        .evarc(&[
            "provision",
            "add",
            DOCUMENT,
            "--capture",
            FIRST_SHA256,
            "--title",
            "Intellectual Property",
            "--quote",
            "As between you and AWS, you own the custom models that you build with the Services.",
        ])
        .one_line_error(2, &["quote not found", "closest passage"]);
    assert_eq!(
        message.matches("closest passage").count(),
        1,
        "the message repeats itself: {message}"
    );
}

/// Naming a registered document with a different free `--id` is refused, and the message says
/// which ID the document already has rather than calling the free ID taken.
#[test]
fn explicit_id_for_a_registered_document_names_its_id() {
    let fixture = aws_fixture::build();
    let message = capture(
        &fixture.env,
        FIRST_FILE,
        "2026-05-21T00:00:00Z",
        &["--id", "CA-D-00999"],
    )
    .one_line_error(2, &["CA-D-00999", "already registered as CA-D-00648"]);
    assert!(
        !message.contains("taken by nothing"),
        "the message calls the free ID CA-D-00999 taken: {message}"
    );
}

/// IDs keep their padding up to 99999 / 999999 and simply grow longer afterwards.
#[test]
fn ids_grow_past_their_padding() {
    let env = Env::new();
    let page = env.write(
        "page.html",
        b"<!doctype html><p>First clause.</p><p>Second clause.</p>\n",
    );
    let archive = |title: &str, more: &[&str]| {
        let mut args = vec![
            "archive",
            path_str(&page),
            "--entity",
            "Example Corp",
            "--document",
            title,
            "--url",
            "https://example.org/terms",
            "--captured-at",
            FIRST_AT,
        ];
        args.extend_from_slice(more);
        env.evarc(&args).ok()
    };
    assert!(archive("Terms", &["--id", "CA-D-99999"])
        .stdout_text()
        .starts_with("Document: CA-D-99999 (new) "));
    assert!(archive("Privacy", &[])
        .stdout_text()
        .starts_with("Document: CA-D-100000 (new) "));
    let add = |quote: &str, more: &[&str]| {
        let mut args = vec![
            "provision",
            "add",
            "ca-d-99999",
            "--title",
            "Clause",
            "--quote",
            quote,
        ];
        args.extend_from_slice(more);
        env.evarc(&args).ok().stdout_text()
    };
    assert_eq!(
        add("First clause.", &["--id", "CA-P-999999"]),
        "CA-P-999999\n"
    );
    assert_eq!(add("Second clause.", &[]), "CA-P-1000000\n");
    env.evarc(&["cite", "CA-P-1000000", "--accessed", "2026-05-13"])
        .ok();
    env.evarc(&["show", "CA-D-100000"]).ok();
}

/// The same instant written with an offset is the same capture time.
#[test]
fn capture_times_are_converted_to_utc() {
    let fixture = aws_fixture::build();
    let run = capture(&fixture.env, FIRST_FILE, "2026-05-12T11:51:22+02:00", &[]).ok();
    assert!(
        run.stdout_text()
            .contains("\nCapture:  2026-05-12 09:51:22 UTC (identical bytes; "),
        "{}",
        run.stdout_text()
    );
    let json = Json::parse(&history_json(&fixture.env));
    assert_eq!(json.array("captures").len(), 2);
}
