//! Issue 12, "Writes, access and privacy": tokens (`evarc token`), the write API
//! (`POST /api/v1/captures`, `/provisions`), `--remote`, and private records, which do not exist
//! for an anonymous reader of `evarc serve` on any route family.

use std::io::{Read as _, Write as _};

use crate::serve_util::Server;
use crate::util::{path_str, Env};

const PUBLIC_HTML: &[u8] =
    b"<html><body><p>Public clause: we keep your data for thirty days.</p><p>Second public clause about cookies.</p></body></html>";
const PRIVATE_HTML: &[u8] =
    b"<html><body><p>Secret clause: internal draft terms.</p></body></html>";

/// An archive with a public document (CA-D-00001: a public provision CA-P-000001 and a private
/// one CA-P-000002) and a private one (CA-D-00002, its capture private, its provision
/// CA-P-000003 private by being on it). Returns the private capture's SHA-256.
pub(crate) fn archive_with_private_records(env: &Env) -> String {
    let public = env.write("public.html", PUBLIC_HTML);
    let private = env.write("private.html", PRIVATE_HTML);
    env.evarc(&[
        "archive",
        path_str(&public),
        "--entity",
        "Example",
        "--document",
        "Public Terms",
        "--url",
        "https://example.org/public",
        "--captured-at",
        "2026-05-01T10:00:00Z",
    ])
    .ok();
    let sha = env
        .evarc(&[
            "archive",
            path_str(&private),
            "--entity",
            "Example",
            "--document",
            "Draft Terms",
            "--url",
            "https://example.org/draft",
            "--captured-at",
            "2026-05-02T10:00:00Z",
            "--private",
        ])
        .ok()
        .field("SHA-256:");
    for (doc, title, quote, private) in [
        (
            "CA-D-00001",
            "Retention",
            "we keep your data for thirty days",
            false,
        ),
        (
            "CA-D-00001",
            "Cookies",
            "Second public clause about cookies",
            true,
        ),
        ("CA-D-00002", "Draft", "internal draft terms", false),
    ] {
        let mut args = vec!["provision", "add", doc, "--title", title, "--quote", quote];
        if private {
            args.push("--private");
        }
        env.evarc(&args).ok();
    }
    env.evarc(&["checkpoint"]).ok();
    sha
}

pub(crate) fn token(env: &Env, name: &str, scopes: &[&str]) -> String {
    let mut args = vec!["token", "create", "--name", name];
    for scope in scopes {
        args.extend(["--scope", scope]);
    }
    let run = env.evarc(&args).ok();
    let text = run.stdout_text();
    assert_eq!(
        text.lines().count(),
        1,
        "the token alone on stdout: {text:?}"
    );
    text.trim().to_owned()
}

/// A request sent byte for byte; the status and the whole answer.
fn send(server: &Server, request: &str, body: &[u8]) -> (u16, String) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("set a read timeout");
    stream.write_all(request.as_bytes()).expect("send the head");
    let _ = stream.write_all(body);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    (status, answer)
}

pub(crate) fn post(server: &Server, path: &str, token: Option<&str>, json: &str) -> (u16, String) {
    let addr = server.base.trim_start_matches("http://");
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n",
        json.len()
    );
    send(server, &head, json.as_bytes())
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn token_is_printed_once_and_only_its_hash_is_stored() {
    let env = Env::new();
    let secret = token(&env, "ci-writer", &["write"]);
    assert!(secret.starts_with("evarc_"), "{secret}");
    assert_eq!(secret.len(), "evarc_".len() + 64);
    assert!(secret["evarc_".len()..]
        .bytes()
        .all(|b| b.is_ascii_hexdigit()));
    // A second token differs (256 random bits each).
    let other = token(&env, "reader", &["read-private"]);
    assert_ne!(secret, other);
    let list = env.evarc(&["token", "list"]).ok().stdout_text();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with("ci-writer\twrite\tcreated "), "{list}");
    assert!(lines[0].ends_with("\tactive\tlast used never"), "{list}");
    assert!(
        lines[1].starts_with("reader\tread-private\tcreated "),
        "{list}"
    );
    let json = env.evarc(&["--json", "token", "list"]).ok().stdout_text();
    assert!(!json.contains(&secret) && !json.contains(&other), "{json}");
    // Read every byte the archive keeps: neither secret (nor its hex part) is there.
    let mut stack = vec![env.archive()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the archive directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).expect("read an archive file");
            files += 1;
            for text in [&secret, &other] {
                for needle in [text.as_str(), &text["evarc_".len()..]] {
                    assert!(
                        crate::util::find(&bytes, needle.as_bytes()).is_none(),
                        "{} holds a token secret",
                        path.display()
                    );
                }
            }
        }
    }
    assert!(files > 3, "the archive's files were read ({files})");
}

#[test]
fn token_names_and_scopes_are_checked_and_revoke_is_once() {
    let env = Env::new();
    token(&env, "w", &["write"]);
    env.evarc(&["token", "create", "--name", "w", "--scope", "write"])
        .one_line_error(2, &["a token named \"w\" exists already"]);
    env.evarc(&["token", "create", "--name", "x", "--scope", "admin"])
        .one_line_error(2, &["unknown token scope \"admin\"", "--scope"]);
    env.evarc(&["token", "create", "--name", "bad name", "--scope", "write"])
        .one_line_error(2, &["invalid token name \"bad name\""]);
    let revoked = env.evarc(&["token", "revoke", "w"]).ok().stdout_text();
    assert!(
        revoked.starts_with("revoked: token \"w\" at 20"),
        "{revoked}"
    );
    env.evarc(&["token", "revoke", "w"])
        .one_line_error(2, &["token \"w\" was already revoked at "]);
    env.evarc(&["token", "revoke", "nobody"])
        .one_line_error(2, &["no token named \"nobody\""]);
    let list = env.evarc(&["token", "list"]).ok().stdout_text();
    assert!(
        list.starts_with("w\twrite\tcreated ") && list.contains("\trevoked 20"),
        "{list}"
    );
}

#[test]
fn serve_write_api_refuses_missing_unknown_revoked_tokens_401_and_wrong_scope_403() {
    let env = Env::new();
    let writer = token(&env, "writer", &["write"]);
    let reader = token(&env, "reader", &["read-private"]);
    let gone = token(&env, "gone", &["write"]);
    env.evarc(&["token", "revoke", "gone"]).ok();
    let server = Server::start(&env);
    let body = r#"{"document":"Terms","entity":"Example","url":"https://example.org/t","content_base64":"aGVsbG8="}"#;
    let unknown = format!("evarc_{}", "0".repeat(64));
    for (token, status, says) in [
        (None, 401, "writing needs a token with the write scope"),
        (Some(unknown.as_str()), 401, "unknown token"),
        (Some("not-a-token"), 401, "not an evarc token"),
        (
            Some(gone.as_str()),
            401,
            "token \\\"gone\\\" was revoked at",
        ),
        (
            Some(reader.as_str()),
            403,
            "token \\\"reader\\\" does not have the write scope",
        ),
    ] {
        let (got, answer) = post(&server, "/api/v1/captures", token, body);
        assert_eq!(got, status, "{answer}");
        assert!(answer.contains(says), "{answer}");
        if status == 401 {
            assert_eq!(
                header(&answer, "www-authenticate"),
                Some("Bearer realm=\"evarc\"")
            );
        }
    }
    // A revoked or unknown token is refused on reads too (never silently anonymous).
    let refused = server.get_with("/", &[("Authorization", &format!("Bearer {gone}"))]);
    assert_eq!(refused.status, 401);
    // Nothing was written by the refused requests; the writer's is.
    assert_eq!(env.evarc(&["list"]).ok().stdout_text(), "");
    let (status, answer) = post(&server, "/api/v1/captures", Some(&writer), body);
    assert_eq!(status, 201, "{answer}");
    let list = env.evarc(&["list"]).ok().stdout_text();
    assert!(
        list.contains("CA-D-00001") && list.contains("Terms"),
        "{list}"
    );
}

#[test]
fn serve_write_body_over_the_limit_is_refused_413() {
    let env = Env::new();
    let writer = token(&env, "writer", &["write"]);
    let server = Server::start(&env);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/captures HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {writer}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        (64 << 20) + 1
    );
    let (status, answer) = send(&server, &head, b"{");
    assert_eq!(status, 413, "{answer}");
    // A body that is not the expected object: 400, one line saying why.
    let (status, answer) = post(&server, "/api/v1/captures", Some(&writer), "{\"nope\":1}");
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("the body is not the expected JSON object"),
        "{answer}"
    );
}

#[test]
fn remote_archive_prints_what_a_local_archive_prints() {
    let served = Env::new();
    let local = Env::new();
    let writer = token(&served, "writer", &["write"]);
    let server = Server::start(&served);
    let page = local.write("page.html", PUBLIC_HTML);
    let args = [
        "archive",
        path_str(&page),
        "--entity",
        "Example",
        "--document",
        "Public Terms",
        "--url",
        "https://example.org/public",
        "--captured-at",
        "2026-05-01T10:00:00Z",
    ];
    let mut remote_args = args.to_vec();
    remote_args.extend(["--remote", server.base.as_str(), "--token", writer.as_str()]);
    for round in 0..2 {
        let here = local.evarc(&args).ok().stdout_text();
        let there = local.raw(&remote_args).ok().stdout_text();
        assert_eq!(there, here, "round {round}");
    }
    // JSON too, but for the moment each archive wrote its record.
    let redact = |text: String| crate::util::redact_line(&text, "    \"recorded_at\":", "…");
    let mut json_args = vec!["--json"];
    json_args.extend(args);
    let mut json_remote = vec!["--json"];
    json_remote.extend(remote_args.iter().copied());
    assert_eq!(
        redact(local.raw(&json_remote).ok().stdout_text()),
        redact(local.evarc(&json_args).ok().stdout_text())
    );
    // The served archive has the record, as `evarc archive` made it there.
    let shown = served.evarc(&["show", "CA-D-00001"]).ok().stdout_text();
    assert!(shown.contains("Public Terms"), "{shown}");
}

#[test]
fn remote_archive_errors_are_one_line_with_local_exit_codes() {
    let env = Env::new();
    let reader = token(&env, "reader", &["read-private"]);
    let server = Server::start(&env);
    let page = env.write("page.html", PUBLIC_HTML);
    let base = [
        "archive",
        path_str(&page),
        "--entity",
        "Example",
        "--document",
        "Public Terms",
        "--url",
        "https://example.org/public",
    ];
    let with = |remote: &str, token: &str| {
        let mut args = base.to_vec();
        args.extend(["--remote", remote, "--token", token]);
        env.raw(&args)
    };
    with(&server.base, &reader).one_line_error(
        2,
        &[
            "refused the token (HTTP 403)",
            "does not have the write scope",
        ],
    );
    // Nothing listens on port 9 of loopback: a network error is exit 3.
    with("http://127.0.0.1:9", &reader)
        .one_line_error(3, &["cannot reach the server at http://127.0.0.1:9"]);
    let mut no_token = base.to_vec();
    no_token.extend(["--remote", server.base.as_str()]);
    let run = env.raw(&no_token).code(2);
    assert!(run.stderr.contains("--token"), "{}", run.stderr);
    // A remote capture names its document: bare bytes are refused before anything is sent.
    env.raw(&[
        "archive",
        path_str(&page),
        "--remote",
        &server.base,
        "--token",
        &reader,
    ])
    .one_line_error(2, &["--remote sends captures"]);
}

#[test]
fn import_manifest_remote_prints_the_lines_of_a_local_import() {
    let served = Env::new();
    let local = Env::new();
    let writer = token(&served, "writer", &["write"]);
    let server = Server::start(&served);
    local.write("m/a.html", PUBLIC_HTML);
    local.write("m/b.html", PRIVATE_HTML);
    let manifest = local.write(
        "m/manifest.tsv",
        format!(
            "captured_at\tentity\tdocument\tsource_url\tpath\tsha256\n\
             2026-05-01T10:00:00Z\tExample\tA\thttps://example.org/a\ta.html\t\n\
             2026-05-02T10:00:00Z\tExample\tB\thttps://example.org/b\tb.html\t{}\n\
             2026-05-03T10:00:00Z\tExample\tC\thttps://example.org/c\t../outside.html\t\n",
            "0".repeat(64)
        )
        .as_bytes(),
    );
    let here = local
        .evarc(&["import", "manifest", path_str(&manifest)])
        .code(1);
    let there = local
        .raw(&[
            "import",
            "manifest",
            path_str(&manifest),
            "--remote",
            &server.base,
            "--token",
            &writer,
        ])
        .code(1);
    assert_eq!(there.stdout_text(), here.stdout_text());
    assert!(there
        .stdout_text()
        .starts_with("CA-D-00001 2026-05-01 10:00:00 UTC sha256:"));
    for needle in [
        "line 3: ",
        "SHA-256 was ",
        "line 4: path \"../outside.html\" must be relative to the manifest",
        "1 archived, 0 already there, 1 hash mismatches, 1 failed",
    ] {
        assert!(there.stderr.contains(needle), "{needle}: {}", there.stderr);
    }
    assert!(served
        .evarc(&["list"])
        .ok()
        .stdout_text()
        .contains("CA-D-00001"));
}

/// Every route family, for a private document (by its ID, URL and bytes) and a private
/// provision on a public document.
fn private_routes(sha: &str) -> Vec<String> {
    let mut routes = Vec::new();
    for id in ["CA-D-00002", "CA-P-000002", "CA-P-000003"] {
        for route in [
            format!("/{id}"),
            format!("/api/v1/records/{id}"),
            format!("/api/v1/citations/{id}?format=record"),
            format!("/api/v1/citations/{id}?format=bluebook"),
            format!("/api/v1/audit/{id}"),
            format!("/log/proof/{id}"),
        ] {
            routes.push(route);
        }
    }
    routes.extend([
        format!("/raw/{sha}"),
        format!("/api/v1/captures/{sha}"),
        "/api/v1/history/CA-D-00002".to_owned(),
        "/feed/CA-D-00002".to_owned(),
        "/timegate/https://example.org/draft".to_owned(),
        "/timemap/link/https://example.org/draft".to_owned(),
        "/timemap/json/https://example.org/draft".to_owned(),
        "/web/20260502100000/https://example.org/draft".to_owned(),
        "/web/2026/https://example.org/draft".to_owned(),
    ]);
    routes
}

#[test]
fn serve_private_records_are_404_for_anonymous_readers_on_every_route_family() {
    let env = Env::new();
    let sha = archive_with_private_records(&env);
    let reader = token(&env, "reader", &["read-private"]);
    let writer = token(&env, "writer", &["write"]);
    let server = Server::start(&env);
    let unknown = server.get("/CA-D-00099");
    for route in private_routes(&sha) {
        let anonymous = server.get(&route);
        assert_eq!(
            anonymous.status,
            404,
            "anonymous {route}: {}",
            anonymous.text()
        );
        // Not even the wording differs from a record that does not exist.
        assert!(
            !anonymous.text().contains("private"),
            "{route}: {}",
            anonymous.text()
        );
        let write_only = server.get_with(&route, &[("Authorization", &format!("Bearer {writer}"))]);
        assert_eq!(write_only.status, 404, "write-only token {route}");
        let allowed = server.get_with(&route, &[("Authorization", &format!("Bearer {reader}"))]);
        let expected = if route.starts_with("/timegate/") || route.starts_with("/web/2026/") {
            302
        } else {
            200
        };
        assert_eq!(
            allowed.status,
            expected,
            "read-private {route}: {}",
            allowed.text()
        );
    }
    assert_eq!(unknown.status, 404);
    // Lists and searches leave them out for anonymous readers, and show them with the token.
    let bearer = format!("Bearer {reader}");
    for (route, secret) in [
        ("/", "Draft Terms"),
        ("/", "2 documents"),
        ("/search?q=terms", "Draft Terms"),
        ("/search?q=clause", "Cookies"),
        ("/api/v1/search?q=terms", "Draft Terms"),
        ("/api/v1/search?q=cookies", "CA-P-000002"),
        ("/feed.atom", "Draft Terms"),
        ("/feed.atom?entity=Example", "Draft Terms"),
        ("/CA-D-00001", "CA-P-000002"),
        ("/api/v1/history/CA-D-00001", "CA-P-000002"),
    ] {
        let anonymous = server.get(route).text();
        assert!(
            !anonymous.contains(secret),
            "anonymous {route} shows {secret:?}"
        );
        let allowed = server.get_with(route, &[("Authorization", &bearer)]).text();
        assert!(
            allowed.contains(secret),
            "read-private {route} lacks {secret:?}"
        );
    }
    let home = server.get("/").text();
    assert!(home.contains("1 documents · 1 provisions"), "{home}");
    // The public records stay public.
    for route in ["/CA-D-00001", "/CA-P-000001", "/log/proof/CA-P-000001"] {
        assert_eq!(server.get(route).status, 200, "{route}");
    }
}

#[test]
fn cli_on_the_local_archive_shows_and_cites_private_records() {
    let env = Env::new();
    let sha = archive_with_private_records(&env);
    let list = env.evarc(&["list"]).ok().stdout_text();
    assert!(
        list.contains("CA-D-00002") && list.contains("Draft Terms"),
        "{list}"
    );
    for id in ["CA-D-00002", "CA-P-000002", "CA-P-000003"] {
        let cite = env.evarc(&["cite", id]).ok().stdout_text();
        assert!(cite.contains(id), "{cite}");
    }
    let raw = env.evarc(&["get", &sha]).ok();
    assert_eq!(raw.stdout, PRIVATE_HTML);
}

#[test]
fn serve_write_api_private_capture_and_provision_through_the_remote() {
    let env = Env::new();
    let writer = token(&env, "writer", &["write"]);
    let reader = token(&env, "reader", &["read-private"]);
    let server = Server::start(&env);
    let page = env.write("draft.html", PRIVATE_HTML);
    env.raw(&[
        "archive",
        path_str(&page),
        "--entity",
        "Example",
        "--document",
        "Draft Terms",
        "--url",
        "https://example.org/draft",
        "--private",
        "--remote",
        &server.base,
        "--token",
        &writer,
    ])
    .ok();
    let (status, answer) = post(
        &server,
        "/api/v1/provisions",
        Some(&writer),
        r#"{"document":"CA-D-00001","title":"Draft","quote":"internal draft terms"}"#,
    );
    assert_eq!(status, 201, "{answer}");
    assert!(answer.contains("\"id\":\"CA-P-000001\""), "{answer}");
    let (status, answer) = post(
        &server,
        "/api/v1/provisions",
        Some(&writer),
        r#"{"document":"CA-D-00001","title":"Missing","quote":"not in the text"}"#,
    );
    assert_eq!(status, 400, "{answer}");
    assert!(answer.contains("quote not found"), "{answer}");
    // Written through the server, seen by the next request: private for anonymous readers.
    assert_eq!(server.get("/CA-P-000001").status, 404);
    let bearer = format!("Bearer {reader}");
    assert_eq!(
        server
            .get_with("/CA-P-000001", &[("Authorization", &bearer)])
            .status,
        200
    );
    // And the CLI, beside the server, sees it too.
    let cite = env.evarc(&["cite", "CA-P-000001"]).ok().stdout_text();
    assert!(
        cite.contains("Record ID: CA-P-000001\nCaptured: "),
        "{cite}"
    );
}

#[test]
fn serve_document_with_public_and_private_captures_shows_and_cites_its_public_one() {
    let env = Env::new();
    let v1 = env.write("v1.html", PUBLIC_HTML);
    let v2 = env.write("v2.html", PRIVATE_HTML);
    let public_sha = env
        .evarc(&[
            "archive",
            path_str(&v1),
            "--entity",
            "Example",
            "--document",
            "Terms",
            "--url",
            "https://example.org/terms",
            "--captured-at",
            "2026-05-01T10:00:00Z",
        ])
        .ok()
        .field("SHA-256:");
    let private_sha = env
        .evarc(&[
            "archive",
            path_str(&v2),
            "--document",
            "CA-D-00001",
            "--captured-at",
            "2026-05-02T10:00:00Z",
            "--private",
        ])
        .ok()
        .field("SHA-256:");
    // The public bytes again, privately: a capture of its own, not folded into the public one.
    let again = env
        .evarc(&[
            "archive",
            path_str(&v1),
            "--document",
            "CA-D-00001",
            "--captured-at",
            "2026-05-03T10:00:00Z",
            "--private",
        ])
        .ok()
        .stdout_text();
    assert!(again.contains("(new capture)"), "{again}");
    let reader = token(&env, "reader", &["read-private"]);
    let server = Server::start(&env);
    let page = server.get("/CA-D-00001");
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&public_sha) && !page.text().contains(&private_sha));
    assert!(
        !page.text().contains("2026-05-03"),
        "the private re-capture is not listed"
    );
    assert_eq!(server.get(&format!("/raw/{private_sha}")).status, 404);
    assert_eq!(server.get(&format!("/raw/{public_sha}")).status, 200);
    // Cited at its latest public capture, exactly as `evarc cite --at` prints that one (the
    // operator's `--capture` would name the later, private capture of the same bytes).
    let served = server
        .get("/api/v1/citations/CA-D-00001?format=record&accessed=2026-06-01")
        .text();
    let cite = env
        .evarc(&[
            "cite",
            "CA-D-00001",
            "--at",
            "2026-05-01T12:00:00Z",
            "--accessed",
            "2026-06-01",
        ])
        .ok()
        .stdout_text();
    assert_eq!(served, cite);
    let gate = server.get_with(
        "/timegate/https://example.org/terms",
        &[("Accept-Datetime", "Sun, 31 May 2026 00:00:00 GMT")],
    );
    assert_eq!(gate.status, 302);
    assert!(
        gate.header("location")
            .is_some_and(|l| l.ends_with("/web/20260501100000/https://example.org/terms")),
        "{:?}",
        gate.header("location")
    );
    let bearer = format!("Bearer {reader}");
    let full = server
        .get_with("/CA-D-00001", &[("Authorization", &bearer)])
        .text();
    assert!(
        full.contains(&private_sha) && full.contains("2026-05-03"),
        "{full}"
    );
}

#[test]
fn serve_token_created_or_revoked_by_the_cli_takes_effect_within_a_second() {
    let env = Env::new();
    let server = Server::start(&env);
    let reader = token(&env, "late", &["read-private"]);
    let bearer = format!("Bearer {reader}");
    let within_a_second = |expected: u16| {
        let start = std::time::Instant::now();
        let mut status = 0;
        while start.elapsed() < std::time::Duration::from_secs(1) {
            status = server.get_with("/", &[("Authorization", &bearer)]).status;
            if status == expected {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        status
    };
    assert_eq!(
        within_a_second(200),
        200,
        "a new token is accepted within a second"
    );
    env.evarc(&["token", "revoke", "late"]).ok();
    assert_eq!(
        within_a_second(401),
        401,
        "a revoked token is refused within a second"
    );
}

#[test]
fn remote_archive_of_a_url_sends_the_http_exchange_and_prints_the_local_output() {
    use crate::http_server::{Reply, TestServer};
    let origin = TestServer::start([(
        "/terms",
        Reply::ok(
            &[
                ("Content-Type", "text/html; charset=utf-8"),
                ("X-Evidence-Test", "kept as sent"),
            ],
            PUBLIC_HTML.to_vec(),
        ),
    )]);
    let url = format!("http://{}/terms", origin.addr);
    let served = Env::new();
    let local = Env::new();
    let writer = token(&served, "writer", &["write"]);
    let server = Server::start(&served);
    let args = [
        "--json",
        "archive",
        url.as_str(),
        "--entity",
        "Example",
        "--document",
        "Terms",
        "--private",
    ];
    let mut remote = args.to_vec();
    remote.extend(["--remote", server.base.as_str(), "--token", writer.as_str()]);
    // The two fetches happen at two instants: only the times may differ.
    let untimed = |text: String| {
        text.lines()
            .filter(|l| {
                ![
                    "\"captured_at\"",
                    "\"first_tracked\"",
                    "\"last_verified\"",
                    "\"recorded_at\"",
                ]
                .iter()
                .any(|k| l.trim_start().starts_with(k))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let here = untimed(local.evarc(&args).ok().stdout_text());
    let there = untimed(local.raw(&remote).ok().stdout_text());
    assert_eq!(there, here);
    assert!(
        there.contains("\"x-evidence-test\"") && there.contains("\"private\": true"),
        "{there}"
    );
    let text = local.raw(&remote[1..]).ok().stdout_text();
    assert!(
        text.starts_with(&format!("Fetched:  {url} → 200 OK ({url})\n")),
        "{text}"
    );
    assert!(text.contains("\nPrivate:  yes"), "{text}");
}

#[test]
fn serve_writes_and_cli_writes_on_one_archive_queue_and_all_land() {
    let env = Env::new();
    let writer = token(&env, "writer", &["write"]);
    let server = Server::start(&env);
    for i in 0..4 {
        env.write(
            &format!("r{i}.html"),
            format!("<p>remote {i}</p>").as_bytes(),
        );
        env.write(
            &format!("l{i}.html"),
            format!("<p>local {i}</p>").as_bytes(),
        );
    }
    let archive = |prefix: &'static str, i: usize, remote: bool| {
        let file = env.path().join(format!("{prefix}{i}.html"));
        let title = format!("{prefix} {i}");
        let url = format!("https://example.org/{prefix}{i}");
        let mut args = vec![
            "archive".to_owned(),
            path_str(&file).to_owned(),
            "--entity".to_owned(),
            "Example".to_owned(),
            "--document".to_owned(),
            title,
            "--url".to_owned(),
            url,
        ];
        if remote {
            args.extend([
                "--remote".to_owned(),
                server.base.clone(),
                "--token".to_owned(),
                writer.clone(),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if remote {
            env.raw(&args).ok();
        } else {
            env.evarc(&args).ok();
        }
    };
    std::thread::scope(|scope| {
        scope.spawn(|| (0..4).for_each(|i| archive("r", i, true)));
        scope.spawn(|| (0..4).for_each(|i| archive("l", i, false)));
    });
    let list = env.evarc(&["list"]).ok().stdout_text();
    assert_eq!(list.lines().count(), 8, "{list}");
    for i in 0..4 {
        assert!(
            list.contains(&format!("r {i}")) && list.contains(&format!("l {i}")),
            "{list}"
        );
    }
    env.evarc(&["verify", "--all"]).ok();
}

/// axum refuses bodies over 2 MB in its body extractors unless told otherwise: a capture of a
/// few MiB must reach the archive (the limit is WRITE_BODY_LIMIT, 64 MiB).
#[test]
fn remote_archive_of_a_file_over_axums_2_mb_default_is_accepted() {
    let env = Env::new();
    let writer = token(&env, "writer", &["write"]);
    let server = Server::start(&env);
    let big = env.write("big.bin", &crate::util::noise(7, 3 << 20));
    let run = env
        .raw(&[
            "archive",
            path_str(&big),
            "--entity",
            "Example",
            "--document",
            "Large",
            "--url",
            "https://example.org/large",
            "--remote",
            &server.base,
            "--token",
            &writer,
        ])
        .ok();
    assert_eq!(run.field("Size:"), "3,145,728 bytes");
    env.evarc(&["verify", "--all"]).ok();
}

/// The routes of change records and packages (issue 12 beside issue 13) follow the same rule: a
/// change record across a private capture, and a private capture inside a package, do not exist
/// for an anonymous reader; a `read-private` token sees them.
#[test]
fn serve_change_records_feeds_versions_and_packages_hide_private_captures() {
    let env = Env::new();
    let v1 = env.write("v1.html", PUBLIC_HTML);
    let v2 = env.write("v2.html", PRIVATE_HTML);
    env.evarc(&[
        "archive",
        path_str(&v1),
        "--entity",
        "Example",
        "--document",
        "Terms",
        "--url",
        "https://example.org/terms",
        "--captured-at",
        "2026-05-01T10:00:00Z",
    ])
    .ok();
    env.evarc(&[
        "archive",
        path_str(&v2),
        "--document",
        "CA-D-00001",
        "--captured-at",
        "2026-05-02T10:00:00Z",
        "--private",
    ])
    .ok();
    let changes = env.evarc(&["changes", "CA-D-00001"]).ok().stdout_text();
    assert!(changes.contains("CA-C-000001"), "{changes}");
    let reader = token(&env, "reader", &["read-private"]);
    let server = Server::start(&env);
    let bearer = format!("Bearer {reader}");
    let auth = [("Authorization", bearer.as_str())];

    assert_eq!(server.get("/CA-C-000001").status, 404);
    assert_eq!(server.get_with("/CA-C-000001", &auth).status, 200);
    for feed in ["/feed/changes.atom", "/feed/changes/CA-D-00001"] {
        let public = server.get(feed);
        assert_eq!(public.status, 200, "{feed}");
        assert!(!public.text().contains("CA-C-000001"), "{feed}");
        let private = server.get_with(feed, &auth);
        assert!(private.text().contains("CA-C-000001"), "{feed}");
    }
    let page = server.get("/CA-D-00001").text();
    assert!(!page.contains("CA-C-000001") && !page.contains("Secret clause"));
    assert!(!page.contains("v2"), "one version for an anonymous reader");
    assert!(server
        .get_with("/CA-D-00001", &auth)
        .text()
        .contains("CA-C-000001"));

    let public = server.get("/export/CA-D-00001.warc.gz");
    assert_eq!(public.status, 200);
    let private = server.get_with("/export/CA-D-00001.warc.gz", &auth);
    assert_eq!(private.status, 200);
    let records = |bytes: &[u8]| {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_string(&mut text)
            .expect("a gzip WARC");
        text
    };
    let (public, private) = (records(&public.body), records(&private.body));
    assert!(public.contains("Public clause") && !public.contains("Secret clause"));
    assert!(!public.contains("urn:evarc:change:CA-C-000001"));
    assert!(private.contains("Secret clause") && private.contains("urn:evarc:change:CA-C-000001"));
}
