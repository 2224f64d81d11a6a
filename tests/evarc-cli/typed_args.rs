//! Issue 11, arguments parsed once: IDs, digests and dates are typed clap values, so a bad one
//! is refused before any command runs, on one line naming the argument and the value (exit 2),
//! and nothing is written.

use crate::util::Env;

/// A malformed date is refused by clap, naming the flag, the value and the expected form.
#[test]
fn a_bad_accessed_date_is_one_usage_line_naming_the_flag_and_the_value() {
    let env = Env::new();
    let message = env
        .evarc(&["cite", "CA-D-00001", "--accessed", "2026-13-01"])
        .one_line_error(2, &["--accessed", "2026-13-01", "YYYY-MM-DD"]);
    assert_eq!(
        message,
        "error: invalid --accessed \"2026-13-01\": expected a date as YYYY-MM-DD"
    );
}

/// A malformed SHA-256 says what is wrong with it (the digest's own error), under the flag.
#[test]
fn a_bad_capture_digest_is_one_usage_line_naming_the_flag_and_the_digest_error() {
    let env = Env::new();
    let message = env
        .evarc(&["diff", "CA-D-00001", "--from", "d4c6961"])
        .one_line_error(2, &["--from", "d4c6961"]);
    assert_eq!(
        message,
        "error: invalid --from \"d4c6961\": malformed hash \"d4c6961\": expected 64 hex digits, got 7 characters"
    );
}

/// A malformed record ID is refused by the ID's own parser, under the argument's name.
#[test]
fn a_bad_record_id_is_one_usage_line_naming_the_argument() {
    let env = Env::new();
    let message = env
        .evarc(&["export", "CA-X-1", "--format", "warc", "-o", "out.warc"])
        .one_line_error(2, &["CA-X-1"]);
    assert!(
        message.starts_with("error: invalid <ID> \"CA-X-1\": "),
        "{message}"
    );
    assert!(!env.path().join("out.warc").exists());
}

/// Every URL flag takes the one `HttpUrl` rule: a bad value is a clap usage line naming the
/// flag, the value and what is wrong with it; nothing is fetched, sent or written.
#[test]
fn a_bad_url_is_one_usage_line_naming_the_flag_the_value_and_the_rule() {
    let env = Env::new();
    env.write("page.html", b"<p>terms</p>");
    let before = env.state();
    let cases: [(&[&str], &str); 6] = [
        (
            &["archive", "page.html", "--entity", "E", "--document", "T", "--url", "ftp://mirror.example/t"],
            "error: invalid --url \"ftp://mirror.example/t\": expected an absolute http(s) URL (http:// or https://, then a host)",
        ),
        (
            &["archive", "page.html", "--entity", "E", "--document", "T", "--url", "https://"],
            "error: invalid --url \"https://\": expected a host after https://",
        ),
        (
            &["archive", "page.html", "--entity", "E", "--document", "T", "--url", "https://example.org/a b"],
            "error: invalid --url \"https://example.org/a b\": expected an absolute http(s) URL without whitespace (character 22; percent-encode it as %20)",
        ),
        (
            &["archive", "page.html", "--entity", "E", "--document", "T", "--url", "https://e.org/", "--wayback", "web.archive.org/x"],
            "error: invalid --wayback \"web.archive.org/x\": expected an absolute http(s) URL (http:// or https://, then a host)",
        ),
        (
            &["archive", "page.html", "--remote", "localhost:8080", "--token", "t"],
            "error: invalid --remote \"localhost:8080\": expected an absolute http(s) URL (http:// or https://, then a host)",
        ),
        (
            &["checkpoint", "--tsa", "http:///tsa"],
            "error: invalid --tsa \"http:///tsa\": expected a host after http://",
        ),
    ];
    for (args, expected) in cases {
        let message = env.evarc(args).one_line_error(2, &[]);
        assert_eq!(message, expected, "{args:?}");
    }
    // Refused before the archive was opened: nothing changed.
    assert_eq!(env.state(), before);
}

/// `--format` and `--markup` of `cite` are typed clap values: an unknown name is refused before
/// the archive is opened, naming the flag, the value and the choices.
#[test]
fn an_unknown_citation_format_or_markup_is_one_usage_line_naming_the_choices() {
    let env = Env::new();
    let message = env
        .evarc(&["cite", "CA-D-00001", "-f", "apa"])
        .one_line_error(2, &[]);
    assert_eq!(
        message,
        "error: invalid --format \"apa\": unknown citation format \"apa\": expected one of record, provenance, bluebook, csl-json, biblatex, ris, json, markdown"
    );
    // A change record is cited with the same formats.
    let message = env
        .evarc(&["cite", "CA-C-00001", "--format", "mla"])
        .one_line_error(2, &[]);
    assert_eq!(
        message,
        "error: invalid --format \"mla\": unknown citation format \"mla\": expected one of record, provenance, bluebook, csl-json, biblatex, ris, json, markdown"
    );
    let message = env
        .evarc(&["cite", "CA-D-00001", "--markup", "rtf"])
        .one_line_error(2, &[]);
    assert_eq!(
        message,
        "error: invalid --markup \"rtf\": unknown markup \"rtf\": expected one of plain, markdown, html"
    );
}
