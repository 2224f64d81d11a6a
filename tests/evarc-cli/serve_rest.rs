//! Issue 12, the server's remaining features: checkpoints through the API, tokens' "last used",
//! the capture-date range of search.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::serve_access::{archive_with_private_records, post, token};
use crate::serve_util::Server;
use crate::util::{path_str, Env};

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The body of a raw HTTP answer.
fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[test]
fn serve_post_checkpoint_signs_and_answers_what_evarc_checkpoint_json_prints() {
    let env = Env::new();
    let page = env.write("page.html", b"<html><body><p>Clause one.</p></body></html>");
    env.evarc(&[
        "archive",
        path_str(&page),
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
    let writer = token(&env, "writer", &["write"]);
    let reader = token(&env, "reader", &["read-private"]);
    let server = Server::start(&env);
    // No key and no checkpoint yet.
    assert_eq!(server.get("/log/checkpoint").status, 404);

    let (status, answer) = post(&server, "/api/v1/checkpoints", None, "");
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = post(&server, "/api/v1/checkpoints", Some(&reader), "");
    assert_eq!(status, 403, "{answer}");
    assert_eq!(
        json(body(&answer)),
        serde_json::json!({"error": "token \"reader\" does not have the write scope"})
    );
    assert_eq!(server.get("/log/checkpoint").status, 404, "nothing signed");

    let (status, answer) = post(&server, "/api/v1/checkpoints", Some(&writer), "");
    assert_eq!(status, 201, "{answer}");
    let answered = json(body(&answer));
    // The log has not grown: `evarc checkpoint` answers the same kept checkpoint, and its JSON
    // is the API's answer field for field.
    let cli = json(&env.evarc(&["--json", "checkpoint"]).ok().stdout_text());
    assert_eq!(answered, cli);
    assert_eq!(answered["size"], 1);
    assert_eq!(answered["timestamped"], false);
    let note = answered["checkpoint"].as_str().expect("the signed note");
    assert_eq!(server.get("/log/checkpoint").text(), note);
    // It verifies with the archive's key.
    let key = env.evarc(&["key"]).ok().stdout_text();
    assert!(
        note.starts_with(key.trim().split('+').next().expect("the key name")),
        "{note}\n{key}"
    );
    // Again without new leaves: the same checkpoint, 200.
    let (status, again) = post(&server, "/api/v1/checkpoints", Some(&writer), "");
    assert_eq!(status, 200, "{again}");
    assert_eq!(json(body(&again)), answered);
}

fn last_used(env: &Env, name: &str) -> Option<DateTime<Utc>> {
    let list = json(&env.evarc(&["--json", "token", "list"]).ok().stdout_text());
    let row = list["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no token {name}: {list}"))
        .clone();
    row["last_used_at"].as_str().map(|t| {
        DateTime::parse_from_rfc3339(t)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc)
    })
}

#[test]
fn token_list_shows_when_a_token_was_last_used_once_a_minute_surviving_a_restart() {
    let env = Env::new();
    archive_with_private_records(&env);
    let secret = token(&env, "counsel", &["read-private"]);
    token(&env, "idle", &["write"]);
    assert_eq!(last_used(&env, "counsel"), None);
    let list = env.evarc(&["token", "list"]).ok().stdout_text();
    assert!(
        list.lines().all(|l| l.ends_with("\tlast used never")),
        "{list}"
    );

    let server = Server::start(&env);
    let auth = format!("Bearer {secret}");
    // Anonymous requests use no token.
    assert_eq!(server.get("/api/v1/search?q=Terms").status, 200);
    let before = Utc::now() - chrono::Duration::seconds(1);
    let page = server.get_with("/CA-D-00002", &[("Authorization", auth.as_str())]);
    assert_eq!(page.status, 200);
    let after = Utc::now();
    // Recorded in the background, after the answer.
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = loop {
        if let Some(at) = last_used(&env, "counsel") {
            break at;
        }
        assert!(Instant::now() < deadline, "no last-used time recorded");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        before <= first && first <= after,
        "{before} {first} {after}"
    );
    assert_eq!(last_used(&env, "idle"), None);
    let list = env.evarc(&["token", "list"]).ok().stdout_text();
    let line = list
        .lines()
        .find(|l| l.starts_with("counsel\t"))
        .expect("counsel's line");
    assert!(
        line.ends_with(&format!(
            "\tactive\tlast used {}",
            first.format("%Y-%m-%d %H:%M:%S UTC")
        )),
        "{list}"
    );
    assert!(list.contains("idle\twrite\tcreated "), "{list}");

    // Within the minute, more requests write nothing.
    for _ in 0..5 {
        assert_eq!(
            server
                .get_with(
                    "/api/v1/audit/CA-P-000003",
                    &[("Authorization", auth.as_str())]
                )
                .status,
            200
        );
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(last_used(&env, "counsel"), Some(first));

    // A restarted server reads it back from the archive: still recorded, still not rewritten
    // within the minute.
    drop(server);
    assert_eq!(last_used(&env, "counsel"), Some(first));
    let server = Server::start(&env);
    let page = server.get_with("/CA-D-00002", &[("Authorization", auth.as_str())]);
    assert_eq!(page.status, 200);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(last_used(&env, "counsel"), Some(first));
}

fn ids(answer: &serde_json::Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results: {answer}"))
        .iter()
        .map(|r| r["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[test]
fn serve_search_date_range_bounds_are_inclusive_and_respect_privacy() {
    let env = Env::new();
    archive_with_private_records(&env);
    let counsel = token(&env, "counsel", &["read-private"]);
    let auth = format!("Bearer {counsel}");
    let server = Server::start(&env);
    let search = |query: &str| {
        let r = server.get(&format!("/api/v1/search?{query}"));
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        ids(&json(&r.text()))
    };
    // CA-D-00001 captured 2026-05-01T10:00:00Z (provision CA-P-000001 on it; CA-P-000002 is
    // private); CA-D-00002 is private, captured 2026-05-02T10:00:00Z.
    let public_doc = vec!["CA-D-00001".to_owned()];
    assert_eq!(search("q=Public&from=2026-05-01&to=2026-05-01"), public_doc);
    assert_eq!(
        search("q=Public&from=2026-05-01T10:00:00Z&to=2026-05-01T10:00:00Z"),
        public_doc
    );
    // Without an offset: UTC.
    assert_eq!(search("q=Public&from=2026-05-01T10:00:00"), public_doc);
    assert_eq!(search("q=Public&to=2026-05-01T10:00"), public_doc);
    assert!(search("q=Public&from=2026-05-01T10:00:01Z").is_empty());
    assert!(search("q=Public&to=2026-04-30").is_empty());
    assert!(search("q=Public&to=2026-05-01T09:59:59Z").is_empty());
    assert!(search("q=Public&from=2026-05-02").is_empty());
    // An offset counts: 12:00+02:00 is 10:00 UTC.
    assert_eq!(
        search("q=Public&from=2026-05-01T12:00:00%2B02:00&to=2026-05-01T12:00:00%2B02:00"),
        public_doc
    );
    // Combined with the quote text; an inverted range finds nothing.
    assert_eq!(
        search("q=thirty+days&from=2026-05-01&to=2026-05-01"),
        vec!["CA-P-000001".to_owned()]
    );
    assert_eq!(
        search("q=Example&from=2026-05-01&to=2026-05-31"),
        vec!["CA-D-00001".to_owned(), "CA-P-000001".to_owned()]
    );
    assert!(search("q=Example&from=2026-05-31&to=2026-05-01").is_empty());
    // A range is not a search: text is needed.
    let r = server.get("/api/v1/search?from=2026-05-01");
    assert_eq!(r.status, 400);
    assert_eq!(
        json(&r.text()),
        serde_json::json!({"error": "give the text to search for as ?q= (from= and to= narrow it to a capture-date range)"})
    );
    // The private document exists only for a read-private token.
    assert!(search("q=Terms&from=2026-05-02").is_empty());
    let r = server.get_with(
        "/api/v1/search?q=Terms&from=2026-05-02",
        &[("Authorization", auth.as_str())],
    );
    assert_eq!(
        ids(&json(&r.text())),
        vec!["CA-D-00002".to_owned(), "CA-P-000003".to_owned()]
    );
    let answer = json(
        &server
            .get("/api/v1/search?q=Public&from=2026-05-01&to=")
            .text(),
    );
    assert_eq!(
        answer["range"],
        serde_json::json!({"from": "2026-05-01", "to": null})
    );

    // The page: the same search, the range kept in the form.
    let page = server
        .get("/search?q=Public&from=2026-05-01&to=2026-05-01")
        .text();
    assert!(
        page.contains("1 results for “Public” captured from 2026-05-01 to 2026-05-01"),
        "{page}"
    );
    assert!(page.contains("href=\"/CA-D-00001\""), "{page}");
    assert!(
        page.contains("name=\"from\" value=\"2026-05-01\""),
        "{page}"
    );
    let page = server.get("/search?q=Public&from=2026-05-02").text();
    assert!(
        page.contains("0 results for “Public” captured from 2026-05-02"),
        "{page}"
    );
}

#[test]
fn serve_search_bad_dates_are_400_naming_the_parameter_and_value() {
    let env = Env::new();
    archive_with_private_records(&env);
    let server = Server::start(&env);
    let expected = "expected YYYY-MM-DD or a date and time (RFC 3339, e.g. 2026-05-12T09:51:22Z; without an offset, UTC)";
    for (query, message) in [
        (
            "q=Public&from=2026-13-01",
            format!("parameter from: invalid date \"2026-13-01\": {expected}"),
        ),
        (
            "q=Public&to=yesterday",
            format!("parameter to: invalid date \"yesterday\": {expected}"),
        ),
        (
            "q=Public&from=2026-05-01T25:00:00Z",
            format!("parameter from: invalid date \"2026-05-01T25:00:00Z\": {expected}"),
        ),
    ] {
        let r = server.get(&format!("/api/v1/search?{query}"));
        assert_eq!(r.status, 400, "{query}");
        assert_eq!(
            json(&r.text()),
            serde_json::json!({ "error": message }),
            "{query}"
        );
        let page = server.get(&format!("/search?{query}"));
        assert_eq!(page.status, 400, "{query}");
        let text = crate::serve_util::unescape(&page.text());
        assert!(text.contains(&message), "{query}: {text}");
    }
    // The CLI's search takes the same range, by the same library function.
    let run = env
        .evarc(&[
            "search",
            "Terms",
            "--from",
            "2026-05-02",
            "--to",
            "2026-05-02",
        ])
        .ok();
    assert!(
        run.stdout_text()
            .starts_with("CA-D-00002  Example — Draft Terms"),
        "{}",
        run.stdout_text()
    );
    env.evarc(&["search", "Terms", "--from", "2026-13-01"])
        .one_line_error(
            2,
            &["--from: invalid date \"2026-13-01\": expected YYYY-MM-DD"],
        );
}

#[test]
fn serve_provision_page_document_last_updated_is_the_start_of_the_version_in_force() {
    // The AWS fixture: CA-P-011417 is pinned to the first capture (v1, 2026-05-12, the page
    // stating 2026-05-05); a provision on the second capture is in v2 (2026-05-20).
    let fixture = crate::aws_fixture::build();
    fixture
        .env
        .evarc(&[
            "provision",
            "add",
            "CA-D-00648",
            "--id",
            "CA-P-011500",
            "--title",
            "Ownership again",
            "--quote",
            "As between you and AWS, you own the custom models that you create using the Services.",
        ])
        .ok();
    let server = Server::start(&fixture.env);
    let first = server.get("/CA-P-011417").text();
    assert!(
        first.contains("<dt>Document last updated</dt><dd>On or before May 12, 2026 (v1, first captured 2026-05-12 09:51:22 UTC); the document states May 5, 2026</dd>"),
        "{first}"
    );
    let second = server.get("/CA-P-011500").text();
    assert!(
        second.contains("<dt>Document last updated</dt><dd>On or before May 20, 2026 (v2, first captured 2026-05-20 20:43:05 UTC)</dd>"),
        "{second}"
    );
    drop(server);

    // An archive from before text versions (format 2): not known, beside the date stated.
    let env = crate::format_v2::unpack();
    let server = Server::start(&env);
    let page = server.get("/CA-P-011417");
    assert_eq!(page.status, 200);
    let html = page.text();
    let at = html
        .find("<dt>Document last updated</dt><dd>")
        .expect("the field");
    let field = &html[at..at + html[at..].find("</dd>").expect("its end")];
    assert!(
        field.starts_with("<dt>Document last updated</dt><dd>Not known"),
        "{field}"
    );
}

#[test]
fn serve_package_of_damaged_bytes_is_500_before_any_byte_in_every_format() {
    // The document's package holds both captures; the first one is damaged. A WARC is streamed
    // as it is written, so its captures are re-hashed before the answer starts: a 500, never a
    // 200 whose body stops (or goes on) at the damaged capture.
    let fixture = crate::aws_fixture::build();
    fixture.damage_first_capture();
    let server = Server::start(&fixture.env);
    for suffix in [".warc.gz", ".wacz", ".bag.zip"] {
        let r = server.get(&format!("/export/CA-D-00648{suffix}"));
        assert_eq!(r.status, 500, "{suffix}");
        assert!(
            r.text()
                .contains("✗ Hash not verified: no package is made of these bytes"),
            "{suffix}: {}",
            r.text()
        );
        assert_eq!(r.header("content-disposition"), None, "{suffix}");
    }
    // The CLI refuses to export them as well.
    let out = fixture.env.path().join("out.warc.gz");
    let run = fixture.env.evarc(&[
        "export",
        "CA-D-00648",
        "--format",
        "warc",
        "-o",
        path_str(&out),
    ]);
    assert_ne!(run.code, 0);
}
