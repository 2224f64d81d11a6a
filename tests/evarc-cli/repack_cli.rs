//! `evarc repack` (issue 14): re-encodes stored values smaller, everything still verifies and
//! cites identically, and bad input is one line.

use crate::util::{path_str, Env};

/// Version `n` of a page: shared text and a line that changes.
fn page(n: usize) -> String {
    let mut page = String::from("<html><body>\n");
    for line in 0..800 {
        page.push_str(&format!(
            "<p>Clause {line}: the same words every time, {}.</p>\n",
            line * 31 % 97
        ));
        if line % 200 == 0 {
            page.push_str(&format!(
                "<p>Revision {n}, nonce {}</p>\n",
                n * 7919 % 10007
            ));
        }
    }
    page.push_str("</body></html>\n");
    page
}

/// An archive with 12 versions of one document, imported from a manifest.
fn archive_with_versions(env: &Env) {
    let mut manifest = String::from("captured_at\tentity\tdocument\tsource_url\tpath\n");
    for n in 0..12 {
        let name = format!("v{n:02}.html");
        env.write(&name, page(n).as_bytes());
        manifest.push_str(&format!(
            "2026-05-{:02}T10:00:00Z\tExample\tTerms\thttps://example.com/terms\t{name}\n",
            n + 1
        ));
    }
    let manifest = env.write("manifest.tsv", manifest.as_bytes());
    env.evarc(&["import", "manifest", path_str(&manifest)]).ok();
}

/// The text output with the measured time and the table file sizes (RocksDB's table files carry
/// session IDs and times) replaced, everything else compared whole.
fn redacted(text: &str) -> String {
    text.lines()
        .map(|line| {
            if let Some(at) = line.find(" in ") {
                if let Some(end) = line[at..].find(" s: ") {
                    return format!("{}[TIME]{}", &line[..at + 4], &line[at + end..]);
                }
            }
            if line.starts_with("  table files:") {
                return "  table files: [BYTES]".to_owned();
            }
            if line.starts_with("    ") && line.contains('→') {
                let name = line.split_whitespace().next().unwrap_or("");
                return format!("    {name} [BYTES]");
            }
            line.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn repack_reencodes_deltas_smaller_and_everything_still_verifies_and_cites() {
    let env = Env::new();
    archive_with_versions(&env);
    let history = env.evarc(&["history", "CA-D-00001"]).ok().stdout_text();
    let cite = env.evarc(&["cite", "CA-D-00001"]).ok().stdout_text();
    let before = env.state();
    let run = env.evarc(&["--json", "repack"]).ok();
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    // 12 captures and their 12 version texts (version texts are snapshots too).
    assert_eq!(json["snapshots"], 24);
    assert_eq!(json["level"], 19);
    assert!(
        json["deltas_rewritten"].as_u64().unwrap_or(0) >= 1,
        "{json}"
    );
    assert!(
        json["value_bytes_after"].as_u64() < json["value_bytes_before"].as_u64(),
        "{json}"
    );
    // Each line of versions (the captures', the version texts') is one keyframe and deltas.
    assert_eq!(json["after"]["values"]["deltas"]["count"], 22);
    assert_eq!(json["after"]["values"]["chunks"]["count"], 2);
    assert_eq!(json["damaged"], serde_json::json!([]));
    // Nothing a reader sees changed.
    assert_eq!(env.state(), before);
    assert_eq!(
        env.evarc(&["history", "CA-D-00001"]).ok().stdout_text(),
        history
    );
    assert_eq!(env.evarc(&["cite", "CA-D-00001"]).ok().stdout_text(), cite);
    // A second repack finds nothing more to shrink; its text output, whole.
    let again = env.evarc(&["repack", "--level", "19"]).ok().stdout_text();
    let expected = "\
repacked 24 snapshots at zstd level 19 in [TIME] s: 0 deltas, 0 chunks and 0 spare copies re-encoded smaller
  snapshot values: VALUES → VALUES bytes
  table files: [BYTES]
    chunks [BYTES]
    deltas [BYTES]
    meta [BYTES]
    records [BYTES]
    sha256 [BYTES]
    snapshots [BYTES]
  stored values by kind, after (count, bytes before block compression):";
    let values = json["value_bytes_after"].to_string();
    let text = redacted(&again).replace(
        &format!("{} → {}", thousands(&values), thousands(&values)),
        "VALUES → VALUES",
    );
    assert!(text.starts_with(expected), "{text}");
    assert!(
        text.contains("\n    deltas                          22 "),
        "{text}"
    );
    assert!(
        text.contains("\n    chunks                           2 "),
        "{text}"
    );
}

fn thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn repack_refuses_a_level_outside_1_to_22_and_changes_nothing() {
    let env = Env::new();
    archive_with_versions(&env);
    let before = env.state();
    // clap's usage errors, as for every command: the problem on the first line, exit 2.
    for level in ["23", "0"] {
        let run = env.evarc(&["repack", "--level", level]).code(2);
        assert!(run.stdout.is_empty());
        assert!(
            run.stderr.starts_with(&format!(
                "error: invalid value '{level}' for '--level <LEVEL>': {level} is not in 1..=22\n"
            )),
            "{}",
            run.stderr
        );
    }
    assert_eq!(env.state(), before);
}
