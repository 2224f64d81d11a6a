//! Issue 12, the load goal: `evarc serve` reuses a real check of a capture's stored bytes for
//! `--recheck-after SECONDS` (default 60, 0 = every request) and shows when it was made; pages
//! and raw bytes are kept only while the check they rest on is current, a failed check is never
//! reused, a new view of the archive drops everything, and readers with and without a
//! `read-private` token never share a kept page.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::aws_fixture::{self, ENTITY, FIRST_SHA256, SOURCE_URL, TITLE};
use crate::serve_util::Server;
use crate::util::{path_str, Env};

const PROVISION: &str = "CA-P-011417";
const VERIFIED: &str = "✓ Snapshot stored ✓ Hash verified ";

/// The time of the evidence check a page shows ("✓ … Hash verified 2026-… UTC").
fn check_time(page: &str) -> DateTime<Utc> {
    let at = page
        .split(VERIFIED)
        .nth(1)
        .and_then(|rest| rest.get(..23))
        .unwrap_or_else(|| panic!("the page states a verified check:\n{page}"));
    NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S UTC")
        .expect("the check's time")
        .and_utc()
}

fn page(server: &Server) -> String {
    let page = server.get(&format!("/{PROVISION}"));
    assert_eq!(page.status, 200, "{}", page.text());
    page.text()
}

/// Waits until the wall clock's second has moved past `at`'s (the page shows whole seconds).
fn wait_past(at: DateTime<Utc>) {
    while Utc::now() < at + chrono::Duration::milliseconds(1100) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_check_time_is_reused_within_recheck_after_and_renewed_after_it() {
    let fixture = aws_fixture::build();
    let server = Server::start_with(&fixture.env, &["--recheck-after", "3"]);
    let before = Utc::now();
    let first = check_time(&page(&server));
    let after = Utc::now();
    // A real check made for the first request: its time lies within it.
    assert!(
        first >= before - chrono::Duration::seconds(1) && first <= after,
        "check time {first} not within the request ({before}..{after})"
    );
    wait_past(first);
    // Within the window: the same check, with its own (earlier) time, not the request's.
    let second_page = page(&server);
    assert_eq!(check_time(&second_page), first, "{second_page}");
    assert!(second_page.contains("<mark>As between you and AWS"));
    // The raw bytes are served within the window as well.
    assert_eq!(server.get(&format!("/raw/{FIRST_SHA256}")).status, 200);
    // After the window: a new check, with a later time.
    while Utc::now() < first + chrono::Duration::milliseconds(4100) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let third = check_time(&page(&server));
    assert!(
        third > first,
        "no new check after the window: {third} vs {first}"
    );
    assert_eq!(check_time(&page(&server)), third);
}

#[test]
fn serve_recheck_after_0_checks_on_every_request() {
    let fixture = aws_fixture::build();
    let server = Server::start_with(&fixture.env, &["--recheck-after", "0"]);
    let first = check_time(&page(&server));
    wait_past(first);
    let before = Utc::now();
    let second = check_time(&page(&server));
    assert!(
        second > first && second >= before - chrono::Duration::seconds(1),
        "the second request did not check again: {second} vs {first}"
    );
}

#[test]
fn serve_byte_flip_drops_kept_checks_pages_and_raw_bytes() {
    for window in ["3600", "0"] {
        let fixture = aws_fixture::build();
        let server = Server::start_with(&fixture.env, &["--recheck-after", window]);
        // Checked, rendered and the raw bytes kept while all was well.
        assert!(page(&server).contains(VERIFIED));
        let raw = server.get(&format!("/raw/{FIRST_SHA256}"));
        assert_eq!(raw.status, 200);
        fixture.damage_first_capture();
        // The server sees the changed archive within its directory look (250 ms) and drops what
        // it kept: the next requests check the bytes again, even inside a one-hour window.
        let start = Instant::now();
        let (mut page_text, mut raw) = (String::new(), None);
        while start.elapsed() < Duration::from_secs(2) {
            page_text = server.get(&format!("/{PROVISION}")).text();
            let r = server.get(&format!("/raw/{FIRST_SHA256}"));
            let done = page_text.contains("✗ Hash not verified") && r.status == 500;
            raw = Some(r);
            if done {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            page_text.contains("✗ Hash not verified") && !page_text.contains(VERIFIED),
            "--recheck-after {window}: the damage is not shown:\n{page_text}"
        );
        let raw = raw.expect("asked for the raw bytes");
        assert_eq!(raw.status, 500, "--recheck-after {window}");
        let text = raw.text();
        assert!(text.contains("✗ Hash not verified"), "{text}");
        assert!(!text.contains("custom models that you create"), "{text}");
        // A failed check is never reused: every later request checks again and fails again.
        for _ in 0..2 {
            assert_eq!(server.get(&format!("/raw/{FIRST_SHA256}")).status, 500);
            assert!(server
                .get(&format!("/{PROVISION}"))
                .text()
                .contains("✗ Hash not verified"));
        }
    }
}

#[test]
fn serve_private_page_kept_for_a_token_is_never_served_anonymously() {
    let env = Env::new();
    let terms = env.write(
        "terms.html",
        b"<html><body><p>Public clause.</p><p>Secret clause about pricing.</p></body></html>",
    );
    let sha = env
        .evarc(&[
            "archive",
            path_str(&terms),
            "--entity",
            "Example",
            "--document",
            "Terms",
            "--url",
            "https://example.org/terms",
            "--private",
        ])
        .ok()
        .field("SHA-256:");
    let sha = sha.trim_start_matches("sha256:").to_owned();
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00001",
        "--title",
        "Pricing secret",
        "--quote",
        "Secret clause about pricing",
    ])
    .ok();
    let secret = env
        .evarc(&[
            "token",
            "create",
            "--name",
            "reader",
            "--scope",
            "read-private",
        ])
        .ok()
        .stdout_text()
        .trim()
        .to_owned();
    let bearer = format!("Bearer {secret}");
    let auth = [("Authorization", bearer.as_str())];
    let server = Server::start(&env);
    for _ in 0..2 {
        // Kept for the token holder (the second answer comes from what was kept)…
        let seen = server.get_with("/CA-P-000001", &auth);
        assert_eq!(seen.status, 200);
        assert!(seen.text().contains("Pricing secret"));
        assert_eq!(server.get_with(&format!("/raw/{sha}"), &auth).status, 200);
        // …and never for an anonymous reader: 404, nothing of the record.
        for path in ["/CA-P-000001".to_owned(), format!("/raw/{sha}")] {
            let anonymous = server.get(&path);
            assert_eq!(anonymous.status, 404, "{path}");
            let text = anonymous.text();
            assert!(!text.contains("Pricing secret"), "{text}");
            assert!(!text.contains("Secret clause"), "{text}");
        }
    }
}

#[test]
fn serve_timegate_kept_mementos_give_way_to_a_capture_archived_while_it_runs() {
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let server = Server::start(env);
    let ask = || {
        server
            .get_with(
                &format!("/timegate/{SOURCE_URL}"),
                &[("Accept-Datetime", "Mon, 01 Jun 2026 00:00:00 GMT")],
            )
            .header("location")
            .map(str::to_owned)
    };
    let kept = format!("{}/web/20260520204305/{SOURCE_URL}", server.base);
    // Twice: the second answer comes from the kept memento list.
    assert_eq!(ask().as_deref(), Some(kept.as_str()));
    assert_eq!(ask().as_deref(), Some(kept.as_str()));
    let later = env.write(
        "later.html",
        b"<html><body><p>AWS Service Terms, June edition.</p></body></html>",
    );
    env.evarc(&[
        "archive",
        path_str(&later),
        "--entity",
        ENTITY,
        "--document",
        TITLE,
        "--url",
        SOURCE_URL,
        "--captured-at",
        "2026-06-01T08:00:00Z",
    ])
    .ok();
    let new = format!("{}/web/20260601080000/{SOURCE_URL}", server.base);
    let start = Instant::now();
    let mut answer = None;
    while start.elapsed() < Duration::from_secs(1) {
        answer = ask();
        if answer.as_deref() == Some(new.as_str()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        answer.as_deref(),
        Some(new.as_str()),
        "the new capture did not reach the TimeGate within a second"
    );
}
