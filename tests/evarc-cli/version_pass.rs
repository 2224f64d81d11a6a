//! Issue 11 (corpus figures): bulk imports store captures first and compute their text versions
//! in one pass at the end; version texts are delta snapshots, counted on their own by
//! `verify --all`.

use crate::util::{path_str, redact_between, Env};

const HEADER: &str = "captured_at\tentity\tdocument\tsource_url\tpath\n";

fn page(nonce: &str, clause: &str) -> String {
    format!(
        "<!doctype html><html><head><script nonce=\"{nonce}\">var x=1;</script></head><body><nav>Home</nav><main><h1>Terms</h1><p>{clause}</p></main></body></html>"
    )
}

const PAGES: [(&str, &str, &str); 4] = [
    ("a", "You may cancel at any time.", "2026-05-01T00:00:00Z"),
    ("b", "You may cancel at any time.", "2026-05-02T00:00:00Z"),
    (
        "c",
        "You may cancel within 30 days.",
        "2026-05-03T00:00:00Z",
    ),
    (
        "d",
        "You may cancel within 14 days.",
        "2026-05-04T00:00:00Z",
    ),
];

/// The same four captures, through `import manifest` (stored first, versions in a pass at the
/// end) and one `evarc archive` each (versions inline): the same versions, change records and
/// history; the import reports its pass and its time.
#[test]
fn import_manifest_versions_equal_those_of_captures_archived_one_by_one() {
    let imported = Env::new();
    let mut manifest = HEADER.to_owned();
    for (nonce, clause, at) in PAGES {
        imported.write(&format!("{nonce}.html"), page(nonce, clause).as_bytes());
        manifest.push_str(&format!(
            "{at}\tExample\tTerms\thttps://example.org/terms\t{nonce}.html\n"
        ));
    }
    let list = imported.write("m.tsv", manifest.as_bytes());
    let run = imported
        .evarc(&["import", "manifest", path_str(&list)])
        .ok();
    assert_eq!(
        redact_between(&run.stderr, "(", " s)", "[TIME]"),
        "text versions: 4 captures of 1 document indexed, 2 new change records ([TIME] s)\n\
         4 archived, 0 already there, 0 hash mismatches, 0 failed\n"
    );
    // A rerun (without a sha256 column, captures are archived again: they fold into the
    // identical ones) has nothing to index and says nothing about it.
    let again = imported
        .evarc(&["import", "manifest", path_str(&list)])
        .ok();
    assert_eq!(
        again.stderr,
        "4 archived, 0 already there, 0 hash mismatches, 0 failed\n"
    );

    let inline = Env::new();
    for (nonce, clause, at) in PAGES {
        let file = inline.write(&format!("{nonce}.html"), page(nonce, clause).as_bytes());
        inline
            .evarc(&[
                "archive",
                path_str(&file),
                "--entity",
                "Example",
                "--document",
                "Terms",
                "--url",
                "https://example.org/terms",
                "--captured-at",
                at,
            ])
            .ok();
    }
    for args in [
        &["changes"][..],
        &["changes", "CA-C-000002"],
        &["history", "CA-D-00001"],
        &["text", "CA-D-00001", "--at", "2026-05-03T12:00:00Z"],
    ] {
        assert_eq!(
            imported.evarc(args).ok().stdout_text(),
            inline.evarc(args).ok().stdout_text(),
            "evarc {}",
            args.join(" ")
        );
    }
}

/// `--json`: the pass is one object before the summary.
#[test]
fn import_manifest_json_reports_the_version_pass_before_the_summary() {
    let env = Env::new();
    let mut manifest = HEADER.to_owned();
    for (nonce, clause, at) in &PAGES[..3] {
        env.write(&format!("{nonce}.html"), page(nonce, clause).as_bytes());
        manifest.push_str(&format!(
            "{at}\tExample\tTerms\thttps://example.org/terms\t{nonce}.html\n"
        ));
    }
    let list = env.write("m.tsv", manifest.as_bytes());
    let run = env
        .evarc(&["--json", "import", "manifest", path_str(&list)])
        .ok();
    let lines: Vec<serde_json::Value> = run
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let mut pass = lines[lines.len() - 2].clone();
    assert!(pass["seconds"].as_f64().is_some_and(|s| s >= 0.0), "{pass}");
    pass["seconds"] = serde_json::json!(0);
    assert_eq!(
        pass,
        serde_json::json!({"status": "versions", "documents": 1, "captures": 3,
            "changes_new": 1, "changes_superseded": 0, "seconds": 0})
    );
    assert_eq!(lines[lines.len() - 1]["status"], "summary");
}

/// Version texts are snapshots of their own: `verify --all` re-hashes them and counts them
/// apart from the captures' snapshots (which keep their count).
#[test]
fn verify_all_counts_version_texts_apart_from_capture_snapshots() {
    let env = Env::new();
    let mut bytes = 0;
    for (nonce, clause, at) in &PAGES[..3] {
        let body = page(nonce, clause);
        bytes += body.len();
        let file = env.write(&format!("{nonce}.html"), body.as_bytes());
        env.evarc(&[
            "archive",
            path_str(&file),
            "--entity",
            "Example",
            "--document",
            "Terms",
            "--url",
            "https://example.org/terms",
            "--captured-at",
            at,
        ])
        .ok();
    }
    let run = env.evarc(&["verify", "--all"]).ok();
    assert_eq!(
        run.stdout_text(),
        format!(
            "✓ 3 snapshots checked ({bytes} bytes re-hashed): 3 verified, 0 failed; 3 capture records checked, 0 dangling; 2 version texts checked\n"
        )
    );
    let json: serde_json::Value =
        serde_json::from_str(&env.evarc(&["--json", "verify", "--all"]).ok().stdout_text())
            .expect("JSON");
    assert_eq!(json["snapshots_checked"], 3);
    assert_eq!(json["version_texts_checked"], 2);
}
