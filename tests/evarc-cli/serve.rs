//! Issue 12: `evarc serve` on the AWS fixture: pages, raw bytes and their headers, Memento, the
//! JSON API, the log, hostile input, damage, and writes beside a running server.

use std::time::{Duration, Instant};

use crate::aws_fixture::{self, FIRST_SHA256, SECOND_SHA256, SOURCE_URL};
use crate::serve_util::{citation_block, unescape, Server};
use crate::util::{path_str, Env};

const PROVISION: &str = "CA-P-011417";

#[test]
fn serve_provision_page_shows_the_seed_layout_and_the_cite_block_byte_for_byte() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let before = chrono::Utc::now();
    let page = server.get(&format!("/{PROVISION}"));
    let after = chrono::Utc::now();
    assert_eq!(page.status, 200);
    let html = page.text();
    let cite = fixture.env.evarc(&["cite", PROVISION]).ok();
    assert_eq!(citation_block(&html), cite.stdout_text());
    for needle in [
        "<h1>Intellectual Property in Fine-Tuned Models and Custom Model Outputs</h1>",
        "AWS Bedrock · <a href=\"/CA-D-00648\">AWS Service Terms</a>",
        &format!("<a href=\"/raw/{FIRST_SHA256}\">View original document</a>"),
        "<blockquote>As between you and AWS, you own the custom models that you create using the Services.</blockquote>",
        "— Excerpt from AWS Bedrock’s AWS Service Terms",
        // The start of the text version in force at the pinned capture, then the date the
        // page itself states.
        "<dt>Document last updated</dt><dd>On or before May 12, 2026 (v1, first captured 2026-05-12 09:51:22 UTC); the document states May 5, 2026</dd>",
        "<dt>First tracked</dt><dd>2026-05-12 09:51:22 UTC</dd>",
        "<dt>Record ID</dt><dd><code>CA-P-011417</code></dd>",
        // No Wayback capture was recorded: the link is offered as a lookup, never as the copy.
        "<dt>Wayback lookup</dt><dd><a class=\"url\" href=\"https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/\"",
        "/web/20260512095122/https://aws.amazon.com/service-terms/",
        &format!("<dd class=\"hash\">{FIRST_SHA256}</dd>"),
        "<mark>As between you and AWS, you own the custom models that you create using the Services.</mark>",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    assert!(!html.contains("<dt>Wayback Machine</dt>"), "{html}");
    // The evidence check was made during this request: its time lies between before and after.
    let marker = "✓ Snapshot stored ✓ Hash verified ";
    let at = html
        .split(marker)
        .nth(1)
        .and_then(|rest| rest.get(..23))
        .expect("the page states the evidence check");
    let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S UTC")
        .expect("the check's time")
        .and_utc();
    assert!(
        at >= before - chrono::Duration::seconds(1) && at <= after,
        "check time {at} not within the request ({before}..{after})"
    );
}

#[test]
fn serve_citation_downloads_equal_evarc_cite_in_every_format() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    for format in [
        "record",
        "provenance",
        "bluebook",
        "csl-json",
        "biblatex",
        "ris",
        "json",
        "markdown",
    ] {
        let served = server.get(&format!(
            "/api/v1/citations/{PROVISION}?format={format}&accessed=2026-05-13&download=1"
        ));
        assert_eq!(served.status, 200, "{format}");
        assert!(served
            .header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment")));
        let cite = fixture
            .env
            .evarc(&[
                "cite",
                PROVISION,
                "--format",
                format,
                "--accessed",
                "2026-05-13",
            ])
            .ok();
        assert_eq!(served.text(), cite.stdout_text(), "format {format}");
    }
}

#[test]
fn serve_raw_bytes_are_exact_with_safety_headers() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let bin = env.write("blob.bin", &[0u8, 159, 146, 150, 1, 2, 3, 255]);
    env.evarc(&[
        "archive",
        path_str(&bin),
        "--entity",
        "Example",
        "--document",
        "Binary",
        "--url",
        "https://example.org/blob.bin",
        "--media-type",
        "application/octet-stream",
        "--captured-at",
        "2026-06-01T00:00:00Z",
    ])
    .ok();
    let server = Server::start(env);
    let raw = server.get(&format!("/raw/{FIRST_SHA256}"));
    assert_eq!(raw.status, 200);
    assert_eq!(
        raw.body,
        std::fs::read(aws_fixture::fixture_path(aws_fixture::FIRST_FILE)).expect("fixture")
    );
    assert_eq!(raw.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        raw.header("etag"),
        Some(format!("\"{FIRST_SHA256}\"").as_str())
    );
    assert_eq!(
        raw.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(raw.header("content-security-policy"), Some("sandbox"));
    assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(raw.header("content-disposition"), None);
    let again = server.get_with(
        &format!("/raw/{FIRST_SHA256}"),
        &[("If-None-Match", &format!("\"{FIRST_SHA256}\""))],
    );
    assert_eq!(again.status, 304);

    let sha = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest([0u8, 159, 146, 150, 1, 2, 3, 255]))
    };
    let blob = server.get(&format!("/raw/{sha}"));
    assert_eq!(blob.status, 200);
    assert_eq!(blob.body, [0u8, 159, 146, 150, 1, 2, 3, 255]);
    assert_eq!(blob.header("content-security-policy"), Some("sandbox"));
    assert_eq!(
        blob.header("content-disposition"),
        Some(format!("attachment; filename=\"{sha}.bin\"").as_str())
    );
}

#[test]
/// Bidirectional controls never reach the records (they are refused on input, issue 10), so only
/// markup is left to escape here; the pages still neutralise bidi controls in what they render.
fn serve_escapes_a_script_title() {
    let env = Env::new();
    let page = env.write(
        "page.html",
        b"<html><body><p>Terms of use apply here.</p></body></html>",
    );
    env.evarc(&[
        "archive",
        path_str(&page),
        "--entity",
        "Evil <script>alert(1)</script> Corp",
        "--document",
        "Terms gnp.exe",
        "--url",
        "https://example.org/terms",
        "--captured-at",
        "2026-06-01T00:00:00Z",
    ])
    .ok();
    let server = Server::start(&env);
    let html = server.get("/CA-D-00001").text();
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(
        html.contains("Evil &lt;script&gt;alert(1)&lt;/script&gt; Corp"),
        "{html}"
    );
    let search = server.get("/search?q=%3Cscript%3E").text();
    assert!(!search.contains("<script>alert(1)"), "{search}");
    assert!(search.contains("&lt;script&gt;"), "{search}");
}

#[test]
fn serve_refuses_path_traversal_and_unknown_ids_with_404() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    for path in [
        "/raw/../../../../etc/passwd",
        "/raw/..%2f..%2f..%2fetc%2fpasswd",
        "/raw/%2e%2e/%2e%2e/etc/passwd",
        "/web/20260512095122/../../../../etc/passwd",
        "/web/20260512095122/file:///etc/passwd",
        "/timegate/..%2f..%2fetc%2fpasswd",
        "/timemap/link/file:///etc/passwd",
        "/assets/..%2f..%2fCargo.toml",
        "/CA-P-999999",
        "/CA-D-99999",
        "/XX-P-011417",
        "/not-an-id",
        "/log/proof/CA-P-999999",
        "/feed/CA-D-99999",
    ] {
        let (status, answer) = server.get_raw(path);
        assert_eq!(status, 404, "{path}: {answer}");
        assert!(!answer.contains("root:"), "{path}");
    }
    let api = server.get("/api/v1/records/CA-P-999999");
    assert_eq!(api.status, 404);
    assert_eq!(
        api.text(),
        "{\"error\":\"no record CA-P-999999 in this archive\"}"
    );
}

#[test]
fn serve_damaged_snapshot_is_never_served_as_good() {
    let fixture = aws_fixture::build();
    fixture.damage_first_capture();
    let server = Server::start(&fixture.env);
    let raw = server.get(&format!("/raw/{FIRST_SHA256}"));
    assert_eq!(raw.status, 500);
    let text = raw.text();
    assert!(text.contains("✗ Hash not verified"), "{text}");
    assert!(!text.contains("custom models that you create"), "{text}");
    assert_eq!(raw.header("etag"), None);
    let memento = server.get(&format!("/web/20260512095122/{SOURCE_URL}"));
    assert_eq!(memento.status, 500);
    assert!(memento.text().contains("✗ Hash not verified"));
    let page = server.get(&format!("/{PROVISION}")).text();
    assert!(page.contains("✗ Hash not verified"), "{page}");
    assert!(!page.contains("✓ Hash verified"), "{page}");
    let audit = server.get(&format!("/api/v1/audit/{PROVISION}")).text();
    assert!(audit.contains("\"verified\":false"), "{audit}");
    // A provenance download states the failed check and is not a 200.
    let prov = server.get(&format!("/api/v1/citations/{PROVISION}?format=provenance"));
    assert_eq!(prov.status, 500);
}

/// Issue 11, one evidence rule: the raw bytes (`Archive::verified_bytes`) and the audit's
/// evidence check (`Archive::check_evidence`) classify damaged bytes alike, same status and
/// same detail.
#[test]
fn serve_raw_bytes_and_the_audit_classify_damaged_bytes_alike() {
    let fixture = aws_fixture::build();
    fixture.damage_first_capture();
    let server = Server::start(&fixture.env);
    let audit: serde_json::Value =
        serde_json::from_slice(&server.get(&format!("/api/v1/audit/{PROVISION}")).body)
            .expect("audit JSON");
    assert_eq!(audit["sha256"], FIRST_SHA256);
    let evidence = &audit["evidence"];
    let detail = match evidence["status"].as_str() {
        Some("damaged") => evidence["reason"].as_str(),
        Some("mismatch") => evidence["actual_sha256"].as_str(),
        other => panic!("damaged bytes audited as {other:?}: {audit}"),
    }
    .expect("the detail of a failed check");
    let raw = server.get(&format!("/raw/{FIRST_SHA256}"));
    assert_eq!(raw.status, 500);
    let page = unescape(&raw.text());
    assert!(
        page.contains("✓ Snapshot stored ✗ Hash not verified"),
        "{page}"
    );
    assert!(
        page.contains(&format!(": {detail}")),
        "{detail} not in {page}"
    );
}

#[test]
fn serve_memento_timegate_timemap_and_redirects() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let base = &server.base;
    // Nearest to 2026-05-19 is the second capture (2026-05-20T20:43:05Z).
    let gate = server.get_with(
        &format!("/timegate/{SOURCE_URL}"),
        &[("Accept-Datetime", "Tue, 19 May 2026 00:00:00 GMT")],
    );
    assert_eq!(gate.status, 302);
    assert_eq!(
        gate.header("location"),
        Some(format!("{base}/web/20260520204305/{SOURCE_URL}").as_str())
    );
    assert_eq!(gate.header("vary"), Some("accept-datetime"));
    let early = server.get_with(
        &format!("/timegate/{SOURCE_URL}"),
        &[("Accept-Datetime", "Wed, 13 May 2026 00:00:00 GMT")],
    );
    assert_eq!(
        early.header("location"),
        Some(format!("{base}/web/20260512095122/{SOURCE_URL}").as_str())
    );
    let bad = server.get_with(
        &format!("/timegate/{SOURCE_URL}"),
        &[("Accept-Datetime", "yesterday")],
    );
    assert_eq!(bad.status, 400);

    let near = server.get(&format!("/web/2026051300/{SOURCE_URL}"));
    assert_eq!(near.status, 302);
    assert_eq!(
        near.header("location"),
        Some(format!("{base}/web/20260512095122/{SOURCE_URL}").as_str())
    );
    let exact = server.get(&format!("/web/20260520204305/{SOURCE_URL}"));
    assert_eq!(exact.status, 200);
    assert_eq!(
        exact.header("memento-datetime"),
        Some("Wed, 20 May 2026 20:43:05 GMT")
    );
    let link = exact.header("link").expect("a Link header");
    assert!(
        link.contains(&format!("<{SOURCE_URL}>; rel=\"original\"")),
        "{link}"
    );
    assert!(
        link.contains(&format!("<{base}/timegate/{SOURCE_URL}>; rel=\"timegate\"")),
        "{link}"
    );
    assert_eq!(exact.header("content-security-policy"), Some("sandbox"));

    let map = server.get(&format!("/timemap/link/{SOURCE_URL}"));
    assert_eq!(
        map.header("content-type"),
        Some("application/link-format; charset=utf-8")
    );
    assert_eq!(
        map.text(),
        format!(
            "<{SOURCE_URL}>; rel=\"original\",\n\
             <{base}/timegate/{SOURCE_URL}>; rel=\"timegate\",\n\
             <{base}/timemap/link/{SOURCE_URL}>; rel=\"self\"; type=\"application/link-format\"; from=\"Tue, 12 May 2026 09:51:22 GMT\"; until=\"Wed, 20 May 2026 20:43:05 GMT\",\n\
             <{base}/web/20260512095122/{SOURCE_URL}>; rel=\"first memento\"; datetime=\"Tue, 12 May 2026 09:51:22 GMT\",\n\
             <{base}/web/20260520204305/{SOURCE_URL}>; rel=\"last memento\"; datetime=\"Wed, 20 May 2026 20:43:05 GMT\"\n"
        )
    );
    let json: serde_json::Value =
        serde_json::from_slice(&server.get(&format!("/timemap/json/{SOURCE_URL}")).body)
            .expect("JSON TimeMap");
    assert_eq!(json["mementos"]["list"][1]["sha256"], SECOND_SHA256);
    assert_eq!(
        server.get("/timegate/https://example.org/never").status,
        404
    );
}

#[test]
fn serve_hands_out_log_proofs_that_verify_offline() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    env.evarc(&["checkpoint"]).ok();
    let server = Server::start(env);
    let checkpoint = server.get("/log/checkpoint");
    assert_eq!(checkpoint.status, 200);
    let key = server.get("/log/key").text();
    let proof = server.get(&format!("/log/proof/{PROVISION}"));
    assert_eq!(proof.status, 200);
    let cp = env.write("checkpoint.txt", &checkpoint.body);
    let pf = env.write("proof.txt", &proof.body);
    let run = env
        .raw(&[
            "verify-proof",
            "--proof",
            path_str(&pf),
            "--checkpoint",
            path_str(&cp),
            "--key",
            key.trim(),
        ])
        .ok();
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn serve_shows_new_records_written_by_the_cli_while_it_runs() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let server = Server::start(env);
    assert_eq!(server.get("/CA-D-00649").status, 404);
    let page = env.write(
        "other.html",
        b"<html><body><p>Other terms.</p></body></html>",
    );
    // A CLI write while the server has the archive open read-only.
    env.evarc(&[
        "archive",
        path_str(&page),
        "--entity",
        "Other",
        "--document",
        "Other Terms",
        "--url",
        "https://example.org/other",
    ])
    .ok();
    let start = Instant::now();
    let mut status = 0;
    while start.elapsed() < Duration::from_secs(1) {
        status = server.get("/CA-D-00649").status;
        if status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status, 200, "the new record did not appear within a second");
    let home = unescape(&server.get("/").text());
    assert!(home.contains("2 documents"), "{home}");
}

#[test]
fn serve_openapi_document_describes_every_api_route_and_each_answers() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let doc = server.get("/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    let spec: serde_json::Value = serde_json::from_slice(&doc.body).expect("OpenAPI JSON");
    assert_eq!(spec["openapi"], "3.1.0");
    let paths: Vec<&str> = spec["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/v1/audit/{id}",
            "/api/v1/captures",
            "/api/v1/captures/{sha256}",
            "/api/v1/checkpoints",
            "/api/v1/citations/{id}",
            "/api/v1/history/{id}",
            "/api/v1/provisions",
            "/api/v1/records/{id}",
            "/api/v1/search",
        ]
    );
    for path in [
        format!("/api/v1/audit/{PROVISION}"),
        format!("/api/v1/captures/{FIRST_SHA256}"),
        format!("/api/v1/citations/{PROVISION}"),
        "/api/v1/history/CA-D-00648".to_owned(),
        format!("/api/v1/records/{PROVISION}"),
        "/api/v1/search?q=bedrock".to_owned(),
    ] {
        let r = server.get(&path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    for (path, status) in [
        ("/api/v1/search", 400),
        ("/api/v1/search?q=", 400),
        ("/api/v1/citations/CA-P-011417?format=apa", 400),
        ("/api/v1/citations/CA-P-011417?accessed=yesterday", 400),
        ("/api/v1/history/CA-P-011417", 404),
        ("/api/v1/captures/xyz", 404),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(r.text().starts_with("{\"error\":"), "{path}: {}", r.text());
    }
}

#[test]
fn serve_bad_listen_address_is_exit_2_and_a_taken_port_exit_3() {
    let env = Env::new();
    env.evarc(&["serve", "--listen", "localhost"])
        .one_line_error(2, &["invalid --listen \"localhost\"", "127.0.0.1:8080"]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("its address").to_string();
    env.evarc(&["serve", "--listen", &addr])
        .one_line_error(3, &[&format!("cannot listen on {addr}")]);
    let missing = Env::empty();
    missing.evarc(&["serve"]).one_line_error(2, &["evarc init"]);
}

/// The official Python `memento-client`, pointed at the TimeGate, finds the nearest memento.
/// It first asks the original URL itself, so the document's URL is on the test server.
#[test]
fn serve_memento_client_finds_the_nearest_memento_through_the_timegate() {
    let Some(bin) = crate::packages::validators() else {
        return;
    };
    let python = bin.join("python");
    let has_client = std::process::Command::new(&python)
        .args(["-c", "import memento_client"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        assert!(
            std::env::var_os("EVARC_REQUIRE_VALIDATORS").is_none_or(|v| v != "1"),
            "EVARC_REQUIRE_VALIDATORS=1 but memento_client is missing: run tools/validators-venv.sh"
        );
        eprintln!("skipping: memento_client is not installed (run tools/validators-venv.sh)");
        return;
    }
    let env = Env::new();
    let server = Server::start(&env);
    let original = format!("{}/original-page", server.base);
    for (name, at) in [
        ("v1.html", "2026-01-01T00:00:00Z"),
        ("v2.html", "2026-03-01T00:00:00Z"),
    ] {
        let file = env.write(name, format!("<p>{name}</p>").as_bytes());
        env.evarc(&[
            "archive",
            path_str(&file),
            "--entity",
            "Local",
            "--document",
            "Original",
            "--url",
            &original,
            "--captured-at",
            at,
        ])
        .ok();
    }
    std::thread::sleep(Duration::from_millis(600));
    let script = format!(
        "import datetime\n\
         from memento_client import MementoClient\n\
         mc = MementoClient(timegate_uri='{base}/timegate/', check_native_timegate=False)\n\
         for d in [datetime.datetime(2026, 1, 20), datetime.datetime(2026, 2, 10), datetime.datetime(2027, 1, 1)]:\n\
         \x20   c = mc.get_memento_info('{original}', d)['mementos']['closest']\n\
         \x20   print(d.date(), c['datetime'].isoformat(), c['uri'][0])\n",
        base = server.base
    );
    let out = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .expect("run memento_client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = &server.base;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "2026-01-20 2026-01-01T00:00:00 {base}/web/20260101000000/{original}\n\
             2026-02-10 2026-03-01T00:00:00 {base}/web/20260301000000/{original}\n\
             2027-01-01 2026-03-01T00:00:00 {base}/web/20260301000000/{original}\n"
        )
    );
}

/// A small router fuzz: deterministic hostile paths and queries on every route prefix; no answer
/// is a server error, and the server keeps answering.
#[test]
fn serve_hostile_paths_and_queries_never_fail_the_server() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let prefixes = [
        "/",
        "/raw/",
        "/web/",
        "/web/2026/",
        "/web/99999999999999/",
        "/timegate/",
        "/timemap/link/",
        "/timemap/json/",
        "/feed/",
        "/feed.atom?entity=",
        "/log/proof/",
        "/log/consistency/",
        "/api/v1/records/",
        "/api/v1/citations/CA-P-011417?format=",
        "/api/v1/citations/CA-P-011417?accessed=",
        "/api/v1/history/",
        "/api/v1/captures/",
        "/api/v1/search?q=",
        "/search?q=",
        "/assets/",
    ];
    let pieces = [
        "..",
        "%2e%2e",
        "%2f",
        "/",
        "%00",
        "%ff",
        "%c0%af",
        "CA-P-",
        "CA-D-",
        "011417",
        "http:",
        "https://",
        "//",
        "?",
        "&",
        "=",
        "#",
        "%",
        "%%",
        "%zz",
        "é",
        "%E2%80%AE",
        "<script>",
        "\u{202e}",
        "9999999999999999999999",
        "-1",
        "0",
        "sha256:",
        "a",
        " ",
        "+",
        ";",
        "\\",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..600 {
        let prefix = prefixes[i % prefixes.len()];
        let mut path = prefix.to_owned();
        for _ in 0..(next() % 6 + 1) {
            path.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        // Only what a client can put on the request line: encode the rest.
        let path: String = path
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '#' && c != '\\' {
                    c.to_string()
                } else {
                    let mut buf = [0u8; 4];
                    c.encode_utf8(&mut buf)
                        .bytes()
                        .map(|b| format!("%{b:02X}"))
                        .collect()
                }
            })
            .collect();
        let (status, answer) = server.get_raw(&path);
        assert!(status < 500, "{path}: {answer}");
    }
    assert_eq!(server.get("/").status, 200);
}

/// schemathesis found it: a repeated query parameter was answered in plain text, not JSON.
#[test]
fn serve_api_answers_a_repeated_query_parameter_with_a_json_400() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    for path in [
        "/api/v1/citations/CA-P-011417?markup=plain&markup=plain",
        "/api/v1/search?q=a&q=b",
    ] {
        let r = server.get(path);
        assert_eq!(r.status, 400, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert!(r.text().contains("duplicate field"), "{}", r.text());
    }
    let page = server.get("/search?q=a&q=b");
    assert_eq!(page.status, 400);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
}

#[test]
fn serve_document_page_lists_captures_provisions_and_feeds() {
    let fixture = aws_fixture::build();
    let server = Server::start(&fixture.env);
    let page = server.get("/CA-D-00648");
    assert_eq!(page.status, 200);
    let html = page.text();
    for needle in [
        "<h1>AWS Service Terms</h1>",
        &format!("<a href=\"/raw/{SECOND_SHA256}\">{SECOND_SHA256}</a>"),
        &format!("<a href=\"/raw/{FIRST_SHA256}\">{FIRST_SHA256}</a>"),
        "<a href=\"/web/20260512095122/https://aws.amazon.com/service-terms/\">2026-05-12 09:51:22 UTC</a>",
        "<a href=\"/CA-P-011417\">CA-P-011417</a> Intellectual Property in Fine-Tuned Models and Custom Model Outputs",
        "<a href=\"/CA-P-012387\">CA-P-012387</a> Résumé of Output Rights 🔒",
        "<dt>First tracked</dt><dd>2026-05-12 09:51:22 UTC</dd>",
        "<dt>Captures</dt><dd>2</dd>",
        "<a href=\"/feed/CA-D-00648\">",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    // The document's citation block is `evarc cite CA-D-00648`.
    let cite = fixture.env.evarc(&["cite", "CA-D-00648"]).ok();
    assert_eq!(citation_block(&html), cite.stdout_text());
    let feed = server.get("/feed/CA-D-00648").text();
    assert_eq!(feed.matches("<entry>").count(), 2, "{feed}");
    assert!(feed.contains(&format!("SHA-256 {SECOND_SHA256}")), "{feed}");
    let entity = server.get("/feed.atom?entity=AWS%20Bedrock");
    assert_eq!(entity.status, 200);
    assert_eq!(server.get("/feed.atom?entity=Nobody").status, 404);
}

#[test]
fn serve_cuts_off_slow_clients_and_refuses_huge_headers() {
    use std::io::{Read as _, Write as _};
    let env = Env::new();
    let server = Server::start(&env);
    let addr = server.base.trim_start_matches("http://").to_owned();
    // A client that never finishes its request head is disconnected (header timeout 5 s).
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("send part of a head");
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("set a read timeout");
    let start = Instant::now();
    let mut answer = Vec::new();
    let _ = slow.read_to_end(&mut answer);
    let waited = start.elapsed();
    assert!(
        waited < Duration::from_secs(15),
        "a slow client was kept for {waited:?}"
    );
    // A 64 KiB header is refused without reaching the routes.
    let mut big = std::net::TcpStream::connect(&addr).expect("connect");
    let filler = "a".repeat(64 * 1024);
    let _ = write!(
        big,
        "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: {filler}\r\n\r\n"
    );
    let mut answer = Vec::new();
    let _ = big.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    assert_eq!(server.get("/").status, 200);
}

#[test]
fn serve_consistency_proof_between_two_checkpoints_verifies_offline() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let old = env.evarc(&["checkpoint"]).ok().stdout_text();
    let size: u64 = old
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("the checkpoint's size line");
    let page = env.write(
        "later.html",
        b"<html><body><p>Later terms.</p></body></html>",
    );
    env.evarc(&[
        "archive",
        path_str(&page),
        "--entity",
        "Later",
        "--document",
        "Later Terms",
        "--url",
        "https://example.org/later",
    ])
    .ok();
    env.evarc(&["checkpoint"]).ok();
    let server = Server::start(env);
    let proof = server.get(&format!("/log/consistency/{size}"));
    assert_eq!(proof.status, 200, "{}", proof.text());
    let key = server.get("/log/key").text();
    let old_file = env.write("old-checkpoint.txt", old.as_bytes());
    let proof_file = env.write("consistency.txt", &proof.body);
    let run = env.raw(&[
        "verify-proof",
        "--proof",
        path_str(&proof_file),
        "--checkpoint",
        path_str(&old_file),
        "--key",
        key.trim(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.get("/log/consistency/999999").status, 404);
    assert_eq!(server.get("/log/consistency/x").status, 404);
}
