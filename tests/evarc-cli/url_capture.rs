//! Issue 3: capturing a URL, against the local test server (loopback only, no network).

use std::time::Duration;

use crate::http_server::{Reply, TestServer};
use crate::json::Json;
use crate::util::{path_str, vector_input, Env, Run};

/// Known answers for the BLAKE3 test-vector input of 1024 bytes (the test server's `Large` body).
const VECTOR_1024_SHA256: &str = "2bce1ba628720664be4b9fdd77aae0678e5f0f3f02fc6ff641ec879094f6a404";
const VECTOR_1024_BLAKE3: &str = "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7";

const TERMS_HTML: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Terms</title></head>\n<body><h1>Example Terms of Use</h1>\n<p>You may not use the Service to train competing models without our written consent.</p>\n</body></html>\n";

fn capture_url(env: &Env, url: &str, more: &[&str]) -> Run {
    let mut args = vec![
        "archive",
        url,
        "--entity",
        "Example Corp",
        "--document",
        "Terms of Use",
    ];
    args.extend_from_slice(more);
    env.evarc(&args)
}

/// Nothing was archived: no snapshot, no document.
#[track_caller]
fn assert_empty_archive(env: &Env) {
    let run = env.evarc(&["verify", "--all"]).ok();
    assert!(
        run.stdout_text().starts_with("✓ 0 snapshots checked"),
        "{}",
        run.stdout_text()
    );
    assert_eq!(env.evarc(&["list"]).ok().stdout_text(), "");
}

#[test]
fn url_capture_records_status_final_url_redirects_and_headers() {
    let server = TestServer::start([
        (
            "/terms",
            Reply::ok(
                &[
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("X-Evidence-Test", "kept as sent"),
                    ("Last-Modified", "Tue, 05 May 2026 00:00:00 GMT"),
                ],
                TERMS_HTML,
            ),
        ),
        ("/moved", Reply::redirect(301, "/terms")),
        ("/start", Reply::redirect_absolute(302, "/moved")),
    ]);
    let env = Env::new();
    let start = server.url("/start");
    let run = capture_url(&env, &start, &["--last-updated", "2026-05-05"]).ok();
    let text = run.stdout_text();
    let fetched = format!("Fetched:  {start} → 200 OK ({})\n", server.url("/terms"));
    assert!(text.starts_with(&fetched), "{text}");
    assert!(
        text.contains(&format!(
            "Document: CA-D-00001 (new) Example Corp — Terms of Use <{start}>\n"
        )),
        "{text}"
    );
    let sha = run.field("SHA-256:");

    let show = Json::parse(
        &env.evarc(&["--json", "show", "CA-D-00001"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(show.str("document/source_url"), start);
    assert_eq!(show.array("captures").len(), 1);
    assert_eq!(show.str("captures/0/sha256"), sha);
    assert_eq!(show.str("captures/0/source_url"), server.url("/terms"));
    assert_eq!(
        show.str("captures/0/media_type"),
        "text/html; charset=utf-8"
    );
    assert_eq!(show.str("captures/0/method/kind"), "http-fetch");
    assert_eq!(show.int("captures/0/method/status"), 200);
    assert_eq!(
        show.str("captures/0/method/final_url"),
        server.url("/terms")
    );
    assert_eq!(show.str("captures/0/last_updated"), "2026-05-05");
    assert_eq!(show.str("captures/0/http/requested_url"), start);
    assert_eq!(show.str("captures/0/http/final_url"), server.url("/terms"));
    assert_eq!(show.int("captures/0/http/status"), 200);
    assert_eq!(show.str("captures/0/http/reason"), "OK");
    assert_eq!(show.str("captures/0/http/version"), "HTTP/1.1");
    let redirects = show.array("captures/0/http/redirects");
    assert_eq!(redirects.len(), 2);
    assert_eq!(show.str("captures/0/http/redirects/0/url"), start);
    assert_eq!(show.int("captures/0/http/redirects/0/status"), 302);
    assert_eq!(
        show.str("captures/0/http/redirects/0/location"),
        server.url("/moved")
    );
    assert_eq!(show.int("captures/0/http/redirects/1/status"), 301);
    assert_eq!(show.str("captures/0/http/redirects/1/location"), "/terms");
    let headers: Vec<(String, String)> = show
        .array("captures/0/http/headers")
        .iter()
        .map(|pair| (pair.str("0").to_owned(), pair.str("1").to_owned()))
        .collect();
    for (name, value) in [
        ("content-type", "text/html; charset=utf-8"),
        ("x-evidence-test", "kept as sent"),
        ("last-modified", "Tue, 05 May 2026 00:00:00 GMT"),
        ("content-length", &TERMS_HTML.len().to_string()),
    ] {
        assert!(
            headers.iter().any(|(n, v)| n == name && v == value),
            "header {name}: {value} not recorded: {headers:?}"
        );
    }

    // The bytes are the body as sent; the request asked for them unencoded.
    let run = env.evarc(&["get", &sha]).ok();
    assert_eq!(run.stdout, TERMS_HTML.as_bytes());
    let requests = server.requests();
    let last = requests.last().expect("the server saw requests");
    assert_eq!(last.method, "GET");
    assert_eq!(last.target, "/terms");
    assert_eq!(last.header("accept-encoding"), Some("identity"));

    // A provision can be pinned to the fetched capture, and the certification says how it was
    // captured.
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00001",
        "--title",
        "No Competing Models",
        "--quote",
        "You may not use the Service to train competing models",
    ])
    .ok();
    let run = env.evarc(&["certify", "CA-P-000001"]).ok();
    assert!(
        run.stdout_text().contains(&format!(
            "Method: HTTP fetch of the source URL by the tool (HTTP status 200; final URL after redirects: {})",
            server.url("/terms")
        )),
        "{}",
        run.stdout_text()
    );

    // The capture time of a URL is the fetch: it cannot be asserted.
    capture_url(&env, &start, &["--captured-at", "2026-05-12T09:51:22Z"])
        .one_line_error(2, &["--captured-at"]);
}

#[test]
fn http_errors_are_refused_unless_allowed() {
    let server = TestServer::start([
        (
            "/gone",
            Reply::status(
                410,
                "Gone",
                &[("Content-Type", "text/plain")],
                "this page is gone\n",
            ),
        ),
        ("/loop", Reply::redirect(302, "/loop")),
        ("/ftp", Reply::redirect(301, "ftp://example.org/terms")),
        ("/empty", Reply::ok(&[("Content-Type", "text/html")], "")),
    ]);
    let env = Env::new();
    let missing = server.url("/missing");
    capture_url(&env, &missing, &[]).one_line_error(2, &["404", "--allow-http-errors"]);
    env.evarc(&["archive", &server.url("/gone")])
        .one_line_error(2, &["410"]);
    capture_url(&env, &server.url("/loop"), &[]).one_line_error(2, &["/loop", "redirects"]);
    capture_url(&env, &server.url("/ftp"), &[]).one_line_error(2, &["ftp://example.org/terms"]);
    capture_url(&env, &server.url("/empty"), &[]).one_line_error(2, &["empty", "--allow-empty"]);
    assert_empty_archive(&env);

    let run = capture_url(&env, &missing, &["--allow-http-errors"]).ok();
    assert!(
        run.stdout_text().starts_with(&format!(
            "Fetched:  {missing} → 404 Not Found ({missing})\n"
        )),
        "{}",
        run.stdout_text()
    );
    let show = Json::parse(
        &env.evarc(&["--json", "show", "CA-D-00001"])
            .ok()
            .stdout_text(),
    );
    assert_eq!(show.int("captures/0/http/status"), 404);
    assert_eq!(show.str("captures/0/http/reason"), "Not Found");
    let run = env.evarc(&["get", &run.field("SHA-256:")]).ok();
    assert_eq!(run.stdout, b"not found\n");
}

#[test]
fn slow_and_silent_servers_time_out() {
    let server = TestServer::start([
        (
            "/slow",
            Reply::Slow {
                bytes: 600,
                delay: Duration::from_millis(50),
            },
        ),
        (
            "/silent",
            Reply::Silent {
                duration: Duration::from_secs(30),
            },
        ),
    ]);
    let env = Env::new();
    for path in ["/slow", "/silent"] {
        capture_url(&env, &server.url(path), &["--timeout", "1"])
            .one_line_error(2, &["timed out", path]);
    }
    assert_empty_archive(&env);
}

#[test]
fn oversized_responses_are_refused() {
    let server = TestServer::start([
        (
            "/declared",
            Reply::Large {
                bytes: 3 << 20,
                content_length: true,
            },
        ),
        (
            "/streamed",
            Reply::Large {
                bytes: 3 << 20,
                content_length: false,
            },
        ),
    ]);
    let env = Env::new();
    for path in ["/declared", "/streamed"] {
        capture_url(&env, &server.url(path), &["--max-bytes", "1000000"])
            .one_line_error(2, &["size limit", "1000000"]);
    }
    assert_empty_archive(&env);
    // Within the limit the same body is archived.
    let run = capture_url(&env, &server.url("/streamed"), &["--max-bytes", "4000000"]).ok();
    assert_eq!(run.field("Size:"), "3,145,728 bytes");
}

#[test]
fn bodies_are_stored_byte_exact() {
    // Latin-1 text that is not UTF-8, bytes a decoder would replace, and a chunked body.
    let latin1: Vec<u8> =
        b"<!doctype html><meta charset=iso-8859-1><p>Caf\xe9 cr\xe8me \xff\xfe\x80\x00 fin</p>\n"
            .to_vec();
    let server = TestServer::start([
        (
            "/latin1",
            Reply::ok(
                &[("Content-Type", "text/html; charset=iso-8859-1")],
                latin1.clone(),
            ),
        ),
        (
            "/vector",
            Reply::Large {
                bytes: 1024,
                content_length: true,
            },
        ),
        (
            "/chunked",
            Reply::Chunked {
                headers: vec![("Content-Type".into(), "text/plain".into())],
                chunks: vec![b"first ".to_vec(), b"second\r\n".to_vec(), vec![0xc3, 0x28]],
            },
        ),
    ]);
    let env = Env::new();
    let run = env.evarc(&["archive", &server.url("/latin1")]).ok();
    let sha = run.field("SHA-256:");
    let run = env.evarc(&["get", &sha]).ok();
    assert!(
        run.stdout == latin1,
        "non-UTF-8 body changed: {:?}",
        run.stdout
    );
    let out = env.path().join("latin1.html");
    env.evarc(&["get", &sha, "-o", path_str(&out)]).ok();
    assert!(std::fs::read(&out).expect("written") == latin1);

    let run = env.evarc(&["archive", &server.url("/vector")]).ok();
    assert_eq!(run.field("SHA-256:"), VECTOR_1024_SHA256);
    assert_eq!(run.field("BLAKE3:"), format!("blake3:{VECTOR_1024_BLAKE3}"));
    let run = env.evarc(&["get", VECTOR_1024_SHA256]).ok();
    assert_eq!(run.stdout, vector_input(1024));

    let run = env.evarc(&["archive", &server.url("/chunked")]).ok();
    let run = env.evarc(&["get", &run.field("SHA-256:")]).ok();
    assert_eq!(run.stdout, b"first second\r\n\xc3\x28".to_vec());

    // A quote in the Latin-1 capture is found in its decoded text.
    capture_url(&env, &server.url("/latin1"), &[]).ok();
    let run = env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00001",
            "--title",
            "Café",
            "--quote",
            "Café crème",
        ])
        .ok();
    assert_eq!(run.stdout_text(), "CA-P-000001\n");
}

#[test]
fn unreachable_and_invalid_urls_are_refused() {
    let env = Env::new();
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .expect("local address")
        .port();
    let url = format!("http://127.0.0.1:{port}/terms");
    let run = env.evarc(&["archive", &url, "--timeout", "5"]);
    assert_ne!(run.code, 0, "archiving an unreachable URL succeeded");
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    env.evarc(&["archive", "http://"])
        .one_line_error(2, &["not a valid URL"]);
    assert_empty_archive(&env);
}
