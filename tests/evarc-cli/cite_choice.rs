//! Issue 10, the citation items: which capture is cited (`--capture`, `--at`, `certify
//! --exhibit` of an earlier capture), `--json` of cite/certify/prove, withdrawals and
//! implausible capture times, on the AWS Service Terms fixture (`aws_fixture`).

use crate::aws_fixture::{self, DOCUMENT, FIRST_FILE, FIRST_SHA256, SECOND_SHA256};
use crate::json::Json;
use crate::util::path_str;

const ACCESSED: &str = "2026-05-13";

/// Issue 10 item 6: `certify CA-D-… --exhibit` of the document's earlier capture certifies
/// against that capture (it used to refuse, comparing with the latest only) and names it.
#[test]
fn certify_exhibit_of_an_earlier_capture_of_a_document() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let exhibit = aws_fixture::fixture_path(FIRST_FILE);
    let run = env
        .evarc(&["certify", DOCUMENT, "--exhibit", path_str(&exhibit)])
        .ok();
    let text = run.stdout_text();
    assert!(
        text.contains(&format!("   Hash recorded at capture: {FIRST_SHA256}\n")),
        "{text}"
    );
    assert!(
        text.contains("   Captured: 2026-05-12 09:51:22 UTC\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("   Exhibit file: {FIRST_FILE}\n")),
        "{text}"
    );
    assert_eq!(
        run.stderr,
        format!("certifying against the capture of {DOCUMENT} captured 2026-05-12 09:51:22 UTC (sha256:{FIRST_SHA256})\n")
    );
    // --at naming the other capture: the exhibit does not match it, refused.
    let run = env.evarc(&[
        "certify",
        DOCUMENT,
        "--exhibit",
        path_str(&exhibit),
        "--at",
        "2026-05-21",
    ]);
    run.one_line_error(1, &["refusing to certify", SECOND_SHA256, FIRST_SHA256]);
    // Stored bytes of an earlier capture, by --capture.
    let text = env
        .evarc(&["certify", DOCUMENT, "--capture", FIRST_SHA256])
        .ok()
        .stdout_text();
    assert!(text.contains(FIRST_SHA256), "{text}");
}

/// Issue 10 item 6: `--at DATE|DATETIME` and `--capture` cite the capture in force.
#[test]
fn cite_at_a_date_cites_the_capture_in_force() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let cite = |extra: &[&str]| {
        let mut args = vec!["cite", DOCUMENT, "-f", "bluebook", "--accessed", ACCESSED];
        args.extend_from_slice(extra);
        env.evarc(&args)
    };
    let first = cite(&["--at", "2026-05-15"]).ok().stdout_text();
    assert!(
        first.contains(&format!(
            "(captured May 12, 2026, 09:51:22 UTC; SHA-256: {FIRST_SHA256}; {DOCUMENT})"
        )),
        "{first}"
    );
    // A capture made that day counts: a date means the end of the day.
    let same_day = cite(&["--at", "2026-05-12"]).ok().stdout_text();
    assert_eq!(same_day, first);
    assert_eq!(cite(&["--capture", FIRST_SHA256]).ok().stdout_text(), first);
    // Just before the second capture, and at it.
    assert_eq!(
        cite(&["--at", "2026-05-20T20:43:04Z"]).ok().stdout_text(),
        first
    );
    let second = cite(&["--at", "2026-05-20T20:43:05Z"]).ok().stdout_text();
    assert!(second.contains(SECOND_SHA256), "{second}");
    assert_eq!(cite(&[]).ok().stdout_text(), second);
    cite(&["--at", "2026-05-01"]).one_line_error(
        2,
        &[
            "CA-D-00648 has no capture at or before 2026-05-01 23:59:59 UTC",
            "its first capture is 2026-05-12 09:51:22 UTC",
        ],
    );
    cite(&["--at", "yesterday"]).one_line_error(2, &["invalid --at \"yesterday\""]);
    // A provision is pinned to its capture.
    env.evarc(&["cite", "CA-P-012386", "--at", "2026-05-15"])
        .one_line_error(2, &["CA-P-012386 is pinned to capture", SECOND_SHA256]);
    env.evarc(&[
        "cite",
        "CA-P-011417",
        "--at",
        "2026-05-15",
        "--accessed",
        ACCESSED,
    ])
    .ok();
}

/// Issue 10 item 6: `show`, `get` and `export` take `--at` / `--capture` too.
#[test]
fn show_get_export_choose_the_capture_in_force() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let text = env
        .evarc(&["show", DOCUMENT, "--at", "2026-05-15"])
        .ok()
        .stdout_text();
    assert!(
        text.contains(&format!(
            "\nChosen:        2026-05-12 09:51:22 UTC sha256:{FIRST_SHA256} ("
        )),
        "{text}"
    );
    let json = Json::parse(
        &env.evarc(&["--json", "show", DOCUMENT, "--capture", FIRST_SHA256])
            .ok()
            .stdout_text(),
    );
    assert_eq!(json.str("capture/sha256"), FIRST_SHA256);

    let bytes = env
        .evarc(&["get", DOCUMENT, "--at", "2026-05-15"])
        .ok()
        .stdout;
    let expected = std::fs::read(aws_fixture::fixture_path(FIRST_FILE)).expect("fixture");
    assert!(bytes == expected, "get --at wrote other bytes");
    env.evarc(&["get", FIRST_SHA256, "--at", "2026-05-15"])
        .one_line_error(2, &["give a document ID"]);

    let out = env.path().join("at.warc");
    let json = Json::parse(
        &env.evarc(&[
            "--json",
            "export",
            DOCUMENT,
            "-f",
            "warc",
            "-o",
            path_str(&out),
            "--at",
            "2026-05-15",
        ])
        .ok()
        .stdout_text(),
    );
    assert_eq!(json.int("captures"), 1);
    let warc = std::fs::read(&out).expect("warc");
    let warc = String::from_utf8_lossy(&warc);
    assert!(warc.contains(FIRST_SHA256) && !warc.contains(SECOND_SHA256));
}

/// Issue 10 item 7 (cite, certify, prove): `--json` gives one JSON value, not text.
#[test]
fn cite_certify_prove_honour_json() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let run = env
        .evarc(&[
            "--json",
            "cite",
            "CA-P-011417",
            "-f",
            "bluebook",
            "--accessed",
            ACCESSED,
        ])
        .ok();
    let json = Json::parse(&run.stdout_text());
    assert_eq!(json.str("record_id"), "CA-P-011417");
    assert_eq!(json.str("format"), "bluebook");
    assert_eq!(json.str("capture/sha256"), FIRST_SHA256);
    assert_eq!(json.str("evidence"), "verified");
    assert!(json.is_null("withdrawn"));
    let text = env
        .evarc(&[
            "cite",
            "CA-P-011417",
            "-f",
            "bluebook",
            "--accessed",
            ACCESSED,
        ])
        .ok()
        .stdout_text();
    assert_eq!(json.str("text"), text);

    let json = Json::parse(
        &env.evarc(&["--json", "certify", "CA-P-011417"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(json.str("hashed/kind"), "stored-bytes");
    assert_eq!(json.str("capture/sha256"), FIRST_SHA256);
    assert!(json.str("text").starts_with("CERTIFICATION OF DATA"));

    env.evarc(&["key"]).ok();
    let old = env.path().join("old.checkpoint");
    env.evarc(&["checkpoint", "-o", path_str(&old)]).ok();
    let json = Json::parse(
        &env.evarc(&["--json", "prove", "CA-P-011417"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(json.str("kind"), "inclusion");
    assert!(
        json.str("proof").starts_with("c2sp.org/tlog-proof@v1\n"),
        "{}",
        json.str("proof")
    );
    assert!(json.int("tree_size") >= 1);
    aws_fixture::capture(env, FIRST_FILE, "2026-06-01T00:00:00Z", &[]).ok();
    env.evarc(&["checkpoint"]).ok();
    let json = Json::parse(
        &env.evarc(&["--json", "prove", "--consistency", path_str(&old)])
            .ok()
            .stdout_text(),
    );
    assert_eq!(json.str("kind"), "consistency");
    assert!(json.int("old_size") >= 1);
}

/// Issue 10 missing piece: `withdraw` marks a mistaken capture; citations and exports say it
/// was withdrawn, when and why; the bytes and the log stay; a capture is withdrawn once.
#[test]
fn withdrawn_capture_is_cited_as_withdrawn() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    env.evarc(&["key"]).ok();
    env.evarc(&["checkpoint"]).ok();
    let before = env.evarc(&["checkpoint"]).ok().stdout_text();
    let run = env
        .evarc(&[
            "withdraw",
            DOCUMENT,
            "--capture",
            FIRST_SHA256,
            "--reason",
            "wrong page captured",
        ])
        .ok();
    let line = run.stdout_text();
    assert!(
        line.starts_with(&format!(
            "withdrawn: capture {FIRST_SHA256} of {DOCUMENT} (captured 2026-05-12 09:51:22 UTC) at "
        )) && line.ends_with(": wrong page captured\n"),
        "{line}"
    );
    let record = env
        .evarc(&["cite", "CA-P-011417", "--accessed", ACCESSED])
        .ok()
        .stdout_text();
    let withdrawn = record
        .lines()
        .find_map(|l| l.strip_prefix("Withdrawn: "))
        .unwrap_or_else(|| panic!("no Withdrawn line: {record}"));
    assert!(
        withdrawn.ends_with(" UTC: wrong page captured"),
        "{withdrawn}"
    );
    let bluebook = env
        .evarc(&[
            "cite",
            "CA-P-011417",
            "-f",
            "bluebook",
            "--accessed",
            ACCESSED,
        ])
        .ok()
        .stdout_text();
    assert!(bluebook.contains("; withdrawn "), "{bluebook}");
    // The second capture is untouched.
    let latest = env
        .evarc(&["cite", DOCUMENT, "--accessed", ACCESSED])
        .ok()
        .stdout_text();
    assert!(!latest.contains("Withdrawn"), "{latest}");
    // The bytes stay and verify; the log grew by one leaf.
    env.evarc(&["verify", FIRST_SHA256]).ok();
    let after = env.evarc(&["checkpoint"]).ok().stdout_text();
    let size = |note: &str| -> u64 {
        note.lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .expect("checkpoint size")
    };
    assert_eq!(size(&after), size(&before) + 1, "{before}\n{after}");
    // Exports carry it.
    let bag = env.path().join("bag");
    env.evarc(&["export", "CA-P-011417", "-f", "bagit", "-o", path_str(&bag)])
        .ok();
    let mut found = false;
    for entry in walk(&bag) {
        if std::fs::read_to_string(&entry).is_ok_and(|t| t.contains("wrong page captured")) {
            found = true;
        }
    }
    assert!(found, "no file of the bag says the capture was withdrawn");
    // Once only; a reason is required.
    env.evarc(&["withdraw", "CA-P-011417", "--reason", "again"])
        .one_line_error(2, &["already withdrawn", "wrong page captured"]);
    env.evarc(&["withdraw", DOCUMENT, "--reason", "  "])
        .one_line_error(2, &["needs a reason"]);
    // By SHA-256: the only capture with those bytes.
    env.evarc(&["withdraw", SECOND_SHA256, "--reason", "test page"])
        .ok();
    let latest = env
        .evarc(&["cite", DOCUMENT, "-f", "ris", "--accessed", ACCESSED])
        .ok()
        .stdout_text();
    assert!(latest.contains(": test page\r\n"), "{latest}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Issue 10 missing piece: a capture time before 1991 or more than a day ahead is refused
/// unless `--force`.
#[test]
fn implausible_capture_times_are_refused_unless_forced() {
    let env = crate::util::Env::new();
    let file = env.write("page.html", b"<p>old</p>");
    let archive = |at: &str, force: bool| {
        let mut args = vec![
            "archive",
            path_str(&file),
            "--entity",
            "Ex",
            "--document",
            "Terms",
            "--url",
            "https://ex.com/t",
            "--captured-at",
            at,
        ];
        if force {
            args.push("--force");
        }
        env.evarc(&args)
    };
    archive("1985-06-01T00:00:00Z", false)
        .one_line_error(2, &["invalid --captured-at", "before 1991", "--force"]);
    archive("2999-01-01T00:00:00Z", false)
        .one_line_error(2, &["more than a day in the future", "--force"]);
    archive("1985-06-01T00:00:00Z", true).ok();
    archive("1991-01-01T00:00:00Z", false).ok();
}

/// Issue 10 rough edge: BagIt `Bagging-Date` is the export date (it was the capture date), and
/// `SOURCE_DATE_EPOCH` fixes it so that re-exports are byte-identical.
#[test]
fn bagging_date_is_the_export_date_and_honours_source_date_epoch() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let bagging_date = |bag: &std::path::Path| -> String {
        let info = std::fs::read_to_string(bag.join("bag-info.txt")).expect("bag-info.txt");
        info.lines()
            .find_map(|l| l.strip_prefix("Bagging-Date: "))
            .expect("Bagging-Date")
            .to_owned()
    };
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let bag = env.path().join("bag-today");
    env.evarc(&["export", DOCUMENT, "-f", "bagit", "-o", path_str(&bag)])
        .ok();
    let date = bagging_date(&bag);
    let after = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        date == today || date == after,
        "Bagging-Date {date}, today {today}"
    );

    let export = |name: &str, epoch: &str| {
        let bag = env.path().join(name);
        let args = ["export", DOCUMENT, "-f", "bagit", "-o", path_str(&bag)];
        let mut cmd = env.command();
        cmd.arg("--archive").arg(env.archive()).args(args);
        cmd.env("SOURCE_DATE_EPOCH", epoch);
        let output = cmd.output().expect("run evarc");
        (crate::util::Run::from_output(env, &args, output), bag)
    };
    let (run, a) = export("bag-a", "1780000000");
    run.ok();
    let (run, b) = export("bag-b", "1780000000");
    run.ok();
    assert_eq!(bagging_date(&a), "2026-05-28");
    for name in [
        "bag-info.txt",
        "tagmanifest-sha256.txt",
        "manifest-sha256.txt",
    ] {
        assert_eq!(
            std::fs::read(a.join(name)).expect("a"),
            std::fs::read(b.join(name)).expect("b"),
            "{name} differs between two exports with the same SOURCE_DATE_EPOCH"
        );
    }
    export("bag-bad", "next tuesday")
        .0
        .one_line_error(2, &["invalid SOURCE_DATE_EPOCH"]);
}

/// Issue 10 rough edge: a capture of an HTTP 500 page cited as "✓ Hash verified" with no
/// status; the provenance block, the JSON citation and `show` now state the recorded status.
#[test]
fn capture_of_an_http_500_page_cites_its_status() {
    use crate::http_server::{Reply, TestServer};
    let server = TestServer::start([
        (
            "/broken",
            Reply::status(
                500,
                "Internal Server Error",
                &[("Content-Type", "text/html")],
                "<p>oops</p>",
            ),
        ),
        (
            "/fine",
            Reply::ok(&[("Content-Type", "text/html")], "<p>fine</p>"),
        ),
    ]);
    let env = crate::util::Env::new();
    for (path, title) in [("/broken", "Broken"), ("/fine", "Fine")] {
        env.evarc(&[
            "archive",
            &server.url(path),
            "--entity",
            "Ex",
            "--document",
            title,
            "--allow-http-errors",
        ])
        .ok();
    }
    let text = env
        .evarc(&["cite", "CA-D-00001", "-f", "provenance"])
        .ok()
        .stdout_text();
    assert!(
        text.contains("\nHTTP status: 500\nEvidence: ✓ Snapshot stored ✓ Hash verified\n"),
        "{text}"
    );
    let json = Json::parse(
        &env.evarc(&["cite", "CA-D-00001", "-f", "json"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(json.int("capture/http_status"), 500);
    let show = env.evarc(&["show", "CA-D-00001"]).ok().stdout_text();
    assert!(show.contains("\nHTTP status:   500\n"), "{show}");
    // A 2xx capture shows no status line.
    let text = env
        .evarc(&["cite", "CA-D-00002", "-f", "provenance"])
        .ok()
        .stdout_text();
    assert!(!text.contains("HTTP status"), "{text}");
}

/// Issue 10 item 13: `--markup markdown` escaped the title only; the entity `_Under_ *Star*`
/// rendered in italics. Every field is escaped now, in every markup.
#[test]
fn markdown_markup_escapes_the_entity() {
    let env = crate::util::Env::new();
    let file = env.write("page.html", b"<p>Terms & more</p>");
    env.evarc(&[
        "archive",
        path_str(&file),
        "--entity",
        "_Under_ *Star*",
        "--document",
        "Terms <b>",
        "--url",
        "https://ex.com/t_(x)",
        "--captured-at",
        "2026-05-12T09:51:22Z",
    ])
    .ok();
    let sha = env
        .evarc(&["--json", "show", "CA-D-00001"])
        .ok()
        .stdout_text();
    let sha = Json::parse(&sha).str("captures/0/sha256").to_owned();
    let md = env
        .evarc(&[
            "cite",
            "CA-D-00001",
            "-f",
            "bluebook",
            "--markup",
            "markdown",
            "--accessed",
            ACCESSED,
        ])
        .ok()
        .stdout_text();
    assert_eq!(
        md,
        format!("\\_Under\\_ \\*Star\\*, *Terms \\<b\\>* (last visited May 13, 2026), https://ex.com/t\\_(x) (captured May 12, 2026, 09:51:22 UTC; SHA-256: {sha}; CA-D-00001).\n")
    );
    let html = env
        .evarc(&[
            "cite",
            "CA-D-00001",
            "-f",
            "bluebook",
            "--markup",
            "html",
            "--accessed",
            ACCESSED,
        ])
        .ok()
        .stdout_text();
    assert!(
        html.starts_with("_Under_ *Star*, <i>Terms &lt;b&gt;</i> (last visited"),
        "{html}"
    );
}
