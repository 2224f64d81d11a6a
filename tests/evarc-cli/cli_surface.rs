//! Issue 10 (items 7, 10, 12 and the rough edges of the command line): `--json` on every
//! command, `--url` with a document ID, bidirectional and invisible characters in free text,
//! `get --force`, `config unset`, entity/title letter case, help texts and `diff --from`.

use crate::json::Json;
use crate::util::{path_str, Env, Run};

const PAGE_1: &str =
    "<html><head><title>Terms</title></head><body><p>one</p><p>two</p></body></html>";
const PAGE_2: &str =
    "<html><head><title>Terms</title></head><body><p>one</p><p>two</p><p>three</p></body></html>";
const URL: &str = "https://acme.example/terms";

/// An archive with one document (CA-D-00001, "Acme" / "Terms") captured twice, and the SHA-256
/// of each capture.
fn two_captures() -> (Env, String, String) {
    let env = Env::new();
    let one = env.write("v1.html", PAGE_1.as_bytes());
    let two = env.write("v2.html", PAGE_2.as_bytes());
    let first = env
        .evarc(&[
            "archive",
            path_str(&one),
            "--entity",
            "Acme",
            "--document",
            "Terms",
            "--url",
            URL,
            "--captured-at",
            "2026-01-01T00:00:00Z",
        ])
        .ok()
        .field("SHA-256:");
    let second = env
        .evarc(&[
            "archive",
            path_str(&two),
            "--document",
            "CA-D-00001",
            "--captured-at",
            "2026-02-01T00:00:00Z",
        ])
        .ok()
        .field("SHA-256:");
    (env, first, second)
}

/// Standard output parsed as one JSON value.
#[track_caller]
fn json_of(run: &Run) -> Json {
    Json::parse(&run.stdout_text())
}

/// Standard output parsed as JSON Lines (at least one line).
#[track_caller]
fn json_lines_of(run: &Run) -> Vec<Json> {
    let text = run.stdout_text();
    let lines: Vec<Json> = text.lines().map(Json::parse).collect();
    assert!(!lines.is_empty(), "no JSON lines from {}", run.command);
    lines
}

/// The member names of a JSON object, in order.
fn keys(value: &Json) -> Vec<String> {
    match value {
        Json::Object(members) => members.iter().map(|(k, _)| k.clone()).collect(),
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn every_subcommand_prints_json_with_json() {
    let (env, first, second) = two_captures();
    let (one, two) = (env.path().join("v1.html"), env.path().join("v2.html"));
    let out = env.path().join("out");
    let cp = env.path().join("cp.txt");
    let proof = env.path().join("proof.txt");
    let manifest = env.write(
        "m.tsv",
        b"captured_at\tentity\tdocument\tsource_url\tpath\n2026-03-01T00:00:00Z\tAcme\tOther\thttps://acme.example/other\tv1.html\n",
    );
    let fresh = env.path().join("fresh");
    // One JSON value from each of these (cite, certify and prove are covered with the citation
    // work of issue 10).
    let single: Vec<Vec<String>> = [
        vec!["verify", first.as_str()],
        vec!["verify", "--file", path_str(&one)],
        vec!["verify", "--all"],
        vec!["get", first.as_str()],
        vec!["get", first.as_str(), "-o", path_str(&out.join("got.html"))],
        vec![
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "Two",
            "--quote",
            "two",
        ],
        vec!["history", "CA-D-00001"],
        vec!["text", "CA-D-00001"],
        vec!["diff", "CA-D-00001"],
        vec!["diff", "CA-D-00001", "--from", first.as_str()],
        vec!["show", "CA-D-00001"],
        vec!["show", "CA-P-000001"],
        vec!["show", second.as_str()],
        vec!["list"],
        vec!["search", "acme"],
        vec![
            "export",
            "CA-D-00001",
            "-f",
            "warc",
            "-o",
            path_str(&out.join("x.warc")),
        ],
        vec!["config", "get"],
        vec!["config", "get", "name"],
        vec!["config", "set", "base-url", "https://evidence.example.org/"],
        vec!["config", "unset", "base-url"],
        vec!["key"],
        vec!["checkpoint", "-o", path_str(&cp)],
    ]
    .iter()
    .map(|args| args.iter().map(|a| (*a).to_owned()).collect())
    .collect();
    std::fs::create_dir_all(&out).expect("create the output folder");
    for args in &single {
        let mut argv: Vec<&str> = vec!["--json"];
        argv.extend(args.iter().map(String::as_str));
        let run = env.evarc(&argv).ok();
        json_of(&run);
    }
    // Standard output is JSON even where text mode prints the proof itself.
    let run = env
        .evarc(&["--json", "prove", "CA-D-00001", "-o", path_str(&proof)])
        .ok();
    json_of(&run);
    let key = env.evarc(&["key"]).ok().stdout_text();
    let run = env
        .raw(&[
            "--json",
            "verify-proof",
            "--proof",
            path_str(&proof),
            "--checkpoint",
            path_str(&cp),
            "--key",
            key.trim(),
        ])
        .ok();
    assert_eq!(json_of(&run).at("verified"), &Json::Bool(true));
    // Streams: one JSON object per line.
    let lines = json_lines_of(
        &env.evarc(&["--json", "import", "manifest", path_str(&manifest)])
            .ok(),
    );
    assert_eq!(lines.last().map(|l| l.str("status")), Some("summary"));
    let lines = json_lines_of(
        &env.evarc(&["--json", "import", "warc", path_str(&out.join("x.warc"))])
            .ok(),
    );
    assert_eq!(lines.last().map(|l| l.str("status")), Some("summary"));
    // init, and archive of a file, of a document capture and of bytes only.
    json_of(&env.raw(&["--json", "init", path_str(&fresh)]).ok());
    let bytes_only = env
        .raw(&[
            "--json",
            "--archive",
            path_str(&fresh),
            "archive",
            path_str(&two),
        ])
        .ok();
    assert_eq!(json_of(&bytes_only).str("snapshot/sha256"), second);
}

#[test]
fn get_json_prints_the_verified_bytes_as_base64() {
    let (env, first, _) = two_captures();
    let run = env.evarc(&["--json", "get", &first]).ok();
    let value = json_of(&run);
    assert_eq!(value.str("sha256"), first);
    assert_eq!(value.at("verified"), &Json::Bool(true));
    assert_eq!(value.int("size"), PAGE_1.len() as i64);
    // "<html><head><title>Terms" in base64.
    assert!(value
        .str("content_base64")
        .starts_with("PGh0bWw+PGhlYWQ+PHRpdGxlPlRlcm1z"));
}

#[test]
fn diff_json_prints_only_json() {
    let (env, first, second) = two_captures();
    let value = json_of(&env.evarc(&["--json", "diff", "CA-D-00001"]).ok());
    assert_eq!(value.str("from/sha256"), first);
    assert_eq!(value.str("to/sha256"), second);
}

#[test]
fn verify_file_json_has_one_shape_matched_or_not() {
    let (env, first, _) = two_captures();
    let other = env.write("other.txt", b"not archived\n");
    let matched = json_of(
        &env.evarc(&[
            "--json",
            "verify",
            "--file",
            path_str(&env.path().join("v1.html")),
        ])
        .ok(),
    );
    let unmatched = json_of(
        &env.evarc(&["--json", "verify", "--file", path_str(&other)])
            .code(1),
    );
    assert_eq!(keys(&matched), keys(&unmatched));
    assert_eq!(
        keys(&matched),
        [
            "archived_copy_verified",
            "blake3",
            "captures",
            "closest",
            "error",
            "file",
            "identical",
            "sha256",
            "size",
            "snapshot"
        ]
    );
    assert_eq!(matched.at("identical"), &Json::Bool(true));
    assert_eq!(matched.at("archived_copy_verified"), &Json::Bool(true));
    assert_eq!(matched.str("sha256"), first);
    assert_eq!(matched.str("snapshot/sha256"), first);
    assert_eq!(matched.array("captures").len(), 1);
    assert_eq!(unmatched.at("identical"), &Json::Bool(false));
    assert!(unmatched.is_null("archived_copy_verified"));
    assert!(unmatched.is_null("snapshot"));
    assert!(unmatched.is_null("error"));
    assert_eq!(unmatched.array("captures").len(), 0);
    assert_eq!(unmatched.int("size"), 13);
}

#[test]
fn archive_url_with_document_id_is_recorded_as_the_captures_source_url() {
    let (env, first, _) = two_captures();
    let one = env.path().join("v1.html");
    let mirror = "https://mirror.example/terms";
    let run = env
        .evarc(&[
            "archive",
            path_str(&one),
            "--document",
            "CA-D-00001",
            "--url",
            mirror,
            "--captured-at",
            "2026-03-01T00:00:00Z",
        ])
        .ok();
    let text = run.stdout_text();
    assert!(
        text.starts_with(&format!(
            "Document: CA-D-00001 Acme — Terms <{URL}>\nSource:   {mirror}\nCapture:  2026-03-01 00:00:00 UTC (new capture)\n"
        )),
        "{text}"
    );
    // Identical bytes from another source are a capture of their own, not folded away.
    let shown = json_of(&env.evarc(&["--json", "show", "CA-D-00001"]).ok());
    let captures = shown.array("captures");
    assert_eq!(captures.len(), 3);
    assert_eq!(captures[2].str("source_url"), mirror);
    assert_eq!(captures[2].str("sha256"), first);
    assert_eq!(captures[0].str("source_url"), URL);
    // A URL that is not http(s) is refused, naming it; --entity beside an ID is refused too.
    env.evarc(&[
        "archive",
        path_str(&one),
        "--document",
        "CA-D-00001",
        "--url",
        "ftp://mirror.example/t",
        "--captured-at",
        "2026-03-02T00:00:00Z",
    ])
    .one_line_error(2, &["ftp://mirror.example/t", "http(s)"]);
    env.evarc(&[
        "archive",
        path_str(&one),
        "--document",
        "CA-D-00001",
        "--entity",
        "Other",
        "--captured-at",
        "2026-03-02T00:00:00Z",
    ])
    .one_line_error(2, &["--entity", "CA-D-00001"]);
    assert_eq!(
        json_of(&env.evarc(&["--json", "show", "CA-D-00001"]).ok())
            .array("captures")
            .len(),
        3
    );
}

#[test]
fn bidi_and_invisible_characters_in_free_text_are_refused() {
    let (env, _, _) = two_captures();
    let before = env.state();
    let one = env.path().join("v1.html");
    let cases: [(&[&str], &str, &str); 6] = [
        (
            &[
                "--entity",
                "Acme\u{202E}lmth.exe",
                "--document",
                "T",
                "--url",
                URL,
            ],
            "the entity contains U+202E RIGHT-TO-LEFT OVERRIDE",
            "character 5",
        ),
        (
            &[
                "--entity",
                "Acme",
                "--document",
                "Terms\u{200B}",
                "--url",
                URL,
            ],
            "the document title contains U+200B ZERO WIDTH SPACE",
            "character 6",
        ),
        (
            &[
                "--entity",
                "Acme",
                "--document",
                "\u{2067}Terms",
                "--url",
                URL,
            ],
            "the document title contains U+2067 RIGHT-TO-LEFT ISOLATE",
            "character 1",
        ),
        (
            &[
                "--entity",
                "Acme\u{200F}",
                "--document",
                "Terms",
                "--url",
                URL,
            ],
            "the entity contains U+200F RIGHT-TO-LEFT MARK",
            "bidirectional",
        ),
        (
            &[
                "--entity",
                "Acme",
                "--document",
                "Terms\u{FEFF}",
                "--url",
                URL,
            ],
            "U+FEFF ZERO WIDTH NO-BREAK SPACE",
            "invisible",
        ),
        (
            &[
                "--entity",
                "Acme",
                "--document",
                "Terms\u{E0041}",
                "--url",
                URL,
            ],
            "U+E0041",
            "invisible",
        ),
    ];
    for (more, needle, detail) in cases {
        let mut args = vec![
            "archive",
            path_str(&one),
            "--captured-at",
            "2026-03-01T00:00:00Z",
        ];
        args.extend_from_slice(more);
        env.evarc(&args).one_line_error(2, &[needle, detail]);
    }
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00001",
        "--title",
        "Two\u{202D}",
        "--quote",
        "two",
    ])
    .one_line_error(
        2,
        &["the provision title contains U+202D LEFT-TO-RIGHT OVERRIDE"],
    );
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00001",
        "--title",
        "Two",
        "--quote",
        "two",
        "--category",
        "a\u{2066}b",
    ])
    .one_line_error(2, &["the category contains U+2066 LEFT-TO-RIGHT ISOLATE"]);
    env.evarc(&["config", "set", "name", "Evidence\u{202E}"])
        .one_line_error(2, &["the archive name contains U+202E"]);
    env.evarc(&["config", "set", "base-url", "https://e.example/\u{2066}x"])
        .one_line_error(2, &["the base URL contains U+2066 LEFT-TO-RIGHT ISOLATE"]);
    env.evarc(&[
        "archive",
        path_str(&one),
        "--document",
        "CA-D-00001",
        "--wayback",
        "https://web.archive.org/web/2026/\u{202E}x",
        "--captured-at",
        "2026-03-01T00:00:00Z",
    ])
    // --wayback and --url are typed (`HttpUrl`): clap refuses them, naming the flag.
    .one_line_error(2, &["invalid --wayback", "U+202E RIGHT-TO-LEFT OVERRIDE"]);
    env.evarc(&[
        "archive",
        path_str(&one),
        "--entity",
        "Acme",
        "--document",
        "New",
        "--url",
        "https://acme.example/\u{200B}new",
        "--captured-at",
        "2026-03-01T00:00:00Z",
    ])
    .one_line_error(2, &["invalid --url", "U+200B ZERO WIDTH SPACE"]);
    assert_eq!(env.state(), before);
    // Joiners that scripts need are ordinary text.
    env.evarc(&[
        "archive",
        path_str(&one),
        "--entity",
        "می\u{200C}خواهم",
        "--document",
        "Terms",
        "--url",
        URL,
        "--captured-at",
        "2026-03-01T00:00:00Z",
    ])
    .ok();
}

#[test]
fn bidi_controls_in_warc_titles_are_neutralised_on_import() {
    let env = Env::new();
    let page = env.write(
        "page.html",
        "<html><head><title>Terms &#x202E;fdp.exe\u{202C} of\u{200B}Use</title></head><body><p>x</p></body></html>".as_bytes(),
    );
    env.evarc(&[
        "archive",
        path_str(&page),
        "--entity",
        "Acme",
        "--document",
        "Terms",
        "--url",
        URL,
        "--captured-at",
        "2026-01-01T00:00:00Z",
    ])
    .ok();
    let warc = env.path().join("x.warc");
    env.evarc(&["export", "CA-D-00001", "-f", "warc", "-o", path_str(&warc)])
        .ok();
    let other = env.path().join("other");
    env.raw(&["init", path_str(&other)]).ok();
    env.raw(&[
        "--archive",
        path_str(&other),
        "import",
        "warc",
        path_str(&warc),
    ])
    .ok();
    let list = env
        .raw(&["--json", "--archive", path_str(&other), "list"])
        .ok();
    assert_eq!(
        json_of(&list).str("0/document/title"),
        "Terms fdp.exe of Use"
    );
}

#[test]
fn entity_and_title_in_another_letter_case_match_the_existing_document() {
    let (env, _, _) = two_captures();
    let one = env.path().join("v1.html");
    let run = env
        .evarc(&[
            "archive",
            path_str(&one),
            "--entity",
            "ACME",
            "--document",
            "terms",
            "--url",
            URL,
            "--captured-at",
            "2026-03-01T00:00:00Z",
        ])
        .ok();
    assert!(
        run.stdout_text()
            .starts_with(&format!("Document: CA-D-00001 Acme — Terms <{URL}>\n")),
        "{}",
        run.stdout_text()
    );
    // Without --url too (the one document of that entity and title).
    env.evarc(&[
        "archive",
        path_str(&one),
        "--entity",
        "acme",
        "--document",
        "TERMS",
        "--captured-at",
        "2026-03-02T00:00:00Z",
    ])
    .ok();
    let list = json_of(&env.evarc(&["--json", "list"]).ok());
    match list {
        Json::Array(docs) => assert_eq!(docs.len(), 1),
        other => panic!("list --json is not an array: {other}"),
    }
    // The same bytes again: the third capture, seen again on 2026-03-02.
    let shown = json_of(&env.evarc(&["--json", "show", "CA-D-00001"]).ok());
    assert_eq!(shown.array("captures").len(), 3);
    assert_eq!(
        shown.str("captures/2/last_verified"),
        "2026-03-02T00:00:00Z"
    );
}

#[test]
fn get_output_to_an_existing_file_is_refused_without_force() {
    let (env, first, _) = two_captures();
    let target = env.write("exhibit.html", b"my notes, not to be lost\n");
    env.evarc(&["get", &first, "-o", path_str(&target)])
        .one_line_error(2, &["exhibit.html already exists", "--force"]);
    assert_eq!(
        std::fs::read(&target).expect("read the kept file"),
        b"my notes, not to be lost\n"
    );
    env.evarc(&["get", &first, "-o", path_str(&target), "--force"])
        .ok();
    assert_eq!(
        std::fs::read(&target).expect("read the written file"),
        PAGE_1.as_bytes()
    );
}

#[test]
fn config_unset_returns_settings_to_their_defaults() {
    let env = Env::new();
    env.evarc(&["config", "set", "base-url", "https://evidence.example.org/"])
        .ok();
    env.evarc(&["config", "set", "name", "Exhibits"]).ok();
    assert_eq!(
        env.evarc(&["config", "get"]).ok().stdout_text(),
        "base-url = https://evidence.example.org/\nname = Exhibits\nprefix = CA\n"
    );
    assert_eq!(
        env.evarc(&["config", "unset", "base-url"])
            .ok()
            .stdout_text(),
        "base-url unset\n"
    );
    env.evarc(&["config", "unset", "name"]).ok();
    assert_eq!(
        env.evarc(&["config", "get"]).ok().stdout_text(),
        "base-url = \nname = evarc\nprefix = CA\n"
    );
    assert!(json_of(&env.evarc(&["--json", "config", "get"]).ok()).is_null("base_url"));
    env.evarc(&["config", "unset", "colour"])
        .one_line_error(2, &["unknown setting \"colour\"", "base-url, name, prefix"]);
}

/// Every subcommand, as `evarc help` lists them, with its sub-subcommands.
const SUBCOMMANDS: &[&[&str]] = &[
    &["init"],
    &["archive"],
    &["verify"],
    &["get"],
    &["provision"],
    &["provision", "add"],
    &["cite"],
    &["certify"],
    &["history"],
    &["diff"],
    &["show"],
    &["list"],
    &["search"],
    &["export"],
    &["import"],
    &["import", "manifest"],
    &["import", "warc"],
    &["import", "ota"],
    &["config"],
    &["config", "get"],
    &["config", "set"],
    &["config", "unset"],
    &["key"],
    &["checkpoint"],
    &["prove"],
    &["text"],
    &["withdraw"],
    &["serve"],
    &["declare"],
    &["reindex"],
    &["changes"],
    &["track"],
    &["provision", "status"],
    &["import", "declarations"],
    &["token"],
    &["token", "create"],
    &["token", "list"],
    &["token", "revoke"],
    &["restore"],
    &["replicate"],
    &["repair"],
    &["gc"],
    &["repack"],
];

#[test]
fn every_subcommand_help_states_its_exit_codes() {
    let env = Env::empty();
    for sub in SUBCOMMANDS.iter().chain([&["verify-proof"][..]].iter()) {
        let mut args = sub.to_vec();
        args.push("--help");
        let help = env.raw(&args).ok().stdout_text();
        assert!(
            help.contains("Exit codes: 0 "),
            "evarc {}: {help}",
            sub.join(" ")
        );
    }
    // The top-level list names exactly these commands (so a new one is added here too).
    let top = env.raw(&["--help"]).ok().stdout_text();
    let listed: Vec<&str> = top
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands: section")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    for name in listed {
        assert!(
            name == "verify-proof" || SUBCOMMANDS.iter().any(|s| s == &[name]),
            "{name} is not in SUBCOMMANDS"
        );
    }
}

#[test]
fn config_help_describes_the_arguments_and_lists_the_keys() {
    let env = Env::empty();
    let get = env.raw(&["config", "get", "--help"]).ok().stdout_text();
    assert!(
        get.contains("[KEY]\n          The setting to print: base-url, name or prefix"),
        "{get}"
    );
    assert!(get.contains("Keys: base-url"), "{get}");
    let set = env.raw(&["config", "set", "--help"]).ok().stdout_text();
    assert!(
        set.contains("<KEY>\n          The setting to change: base-url, name or prefix"),
        "{set}"
    );
    assert!(set.contains("<VALUE>\n          Its new value"), "{set}");
    assert!(
        set.contains("prefix (2–8 letters; only before the first ID is issued)"),
        "{set}"
    );
}

#[test]
fn verify_proof_does_not_offer_archive() {
    let env = Env::empty();
    let help = env.raw(&["verify-proof", "--help"]).ok().stdout_text();
    assert!(!help.contains("--archive"), "{help}");
    let args = ["--proof", "p", "--checkpoint", "c", "--key", "k"];
    let mut after = vec!["verify-proof"];
    after.extend_from_slice(&args);
    after.extend_from_slice(&["--archive", "x"]);
    let run = env.raw(&after).code(2);
    assert!(
        run.stderr
            .contains("verify-proof checks a proof offline and reads no archive"),
        "{}",
        run.stderr
    );
    let mut before = vec!["--archive", "x", "verify-proof"];
    before.extend_from_slice(&args);
    env.raw(&before).one_line_error(
        2,
        &["verify-proof checks a proof offline and reads no archive"],
    );
}

#[test]
fn diff_from_alone_compares_with_the_latest_capture() {
    let (env, first, second) = two_captures();
    let three = env.write(
        "v3.html",
        b"<html><head><title>Terms</title></head><body><p>one</p><p>four</p></body></html>",
    );
    env.evarc(&[
        "archive",
        path_str(&three),
        "--document",
        "CA-D-00001",
        "--captured-at",
        "2026-03-01T00:00:00Z",
    ])
    .ok();
    let from = json_of(
        &env.evarc(&["--json", "diff", "CA-D-00001", "--from", &first])
            .ok(),
    );
    assert_eq!(from.str("from/sha256"), first);
    assert_eq!(from.str("to/captured_at"), "2026-03-01T00:00:00Z");
    // --to alone: the capture just before it.
    let to = json_of(
        &env.evarc(&["--json", "diff", "CA-D-00001", "--to", &second])
            .ok(),
    );
    assert_eq!(to.str("from/sha256"), first);
    assert_eq!(to.str("to/sha256"), second);
    env.evarc(&["diff", "CA-D-00001", "--to", &first])
        .one_line_error(
            2,
            &[
                "CA-D-00001 has no capture before sha256:",
                "nothing to compare",
            ],
        );
}
