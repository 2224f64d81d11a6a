//! Issue 15: `evarc import ota`, on a small Open Terms Archive snapshots repository the test
//! builds with the `git` command (commit dates, `X-source-document-location` trailers,
//! `<service>/<terms type>[ #page].html` paths), compared with an `import manifest` of the same
//! captures.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::util::{path_str, redact_between, Env};

/// One snapshot commit: (commit date, service, file name, source URL, contents).
type Snapshot = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const SNAPSHOTS: [Snapshot; 7] = [
    (
        "2026-05-01T10:00:00Z",
        "Example Corp",
        "Terms of Service.html",
        "https://example.org/terms",
        "<html><body>Terms v1</body></html>\n",
    ),
    (
        "2026-05-01T10:00:05Z",
        "Example Corp",
        "Privacy Policy #eu.html",
        "https://example.org/privacy/eu",
        "<html><body>EU privacy v1</body></html>\n",
    ),
    (
        "2026-05-01T10:00:09Z",
        "Example Corp",
        "Privacy Policy #us.html",
        "https://example.org/privacy/us?lang=en",
        "<html><body>US privacy v1</body></html>\n",
    ),
    (
        "2026-05-02T08:30:00Z",
        "Other Service",
        "Terms of Service.html",
        "https://other.example/tos",
        "<html><body>Other terms v1</body></html>\n",
    ),
    (
        "2026-05-03T12:00:00Z",
        "Example Corp",
        "Terms of Service.html",
        "https://example.org/terms",
        "<html><body>Terms v2</body></html>\n",
    ),
    (
        "2026-05-04T12:00:00Z",
        "Other Service",
        "Terms of Service.html",
        "https://other.example/tos",
        "<html><body>Other terms v2</body></html>\n",
    ),
    // Back to the first version: a capture of its own (the bytes are stored once).
    (
        "2026-05-05T09:15:00Z",
        "Example Corp",
        "Terms of Service.html",
        "https://example.org/terms",
        "<html><body>Terms v1</body></html>\n",
    ),
];

fn git(dir: &Path, args: &[&str], date: &str) {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "OTA-Bot")
        .env("GIT_AUTHOR_EMAIL", "bot@opentermsarchive.org")
        .env("GIT_COMMITTER_NAME", "OTA-Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@opentermsarchive.org")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An OTA-shaped snapshots repository of `SNAPSHOTS`, plus a README commit (not a snapshot).
fn snapshots_repository(env: &Env) -> std::path::PathBuf {
    let repo = env.path().join("demo-snapshots");
    std::fs::create_dir_all(&repo).expect("create the repository folder");
    git(&repo, &["init", "-q", "-b", "main"], "2026-05-01T09:00:00Z");
    std::fs::write(repo.join("README.md"), "# Demo snapshots\n").expect("write README");
    git(&repo, &["add", "README.md"], "2026-05-01T09:00:00Z");
    git(
        &repo,
        &["commit", "-q", "-m", "Initial commit"],
        "2026-05-01T09:00:00Z",
    );
    for (at, service, file, url, contents) in SNAPSHOTS {
        std::fs::create_dir_all(repo.join(service)).expect("create the service folder");
        std::fs::write(repo.join(service).join(file), contents).expect("write a snapshot");
        git(&repo, &["add", "-A"], at);
        let message = format!(
            "Record new changes of {service} {file}\n\n\
             X-source-document-location: {url}\n\
             X-engine-version: 2.9.0\n"
        );
        git(&repo, &["commit", "-q", "-m", &message], at);
    }
    repo
}

/// The same captures as files beside a TSV manifest.
fn manifest_of(env: &Env) -> std::path::PathBuf {
    let mut tsv = String::from("captured_at\tentity\tdocument\tsource_url\tpath\n");
    for (i, (at, service, file, url, contents)) in SNAPSHOTS.iter().enumerate() {
        let name = format!("files/{i}.html");
        env.write(&name, contents.as_bytes());
        let document = file.trim_end_matches(".html");
        tsv.push_str(&format!("{at}\t{service}\t{document}\t{url}\t{name}\n"));
    }
    env.write("manifest.tsv", tsv.as_bytes())
}

/// A document as imported: entity, title, source URL, captures (time, SHA-256, media type).
type Document = (String, String, String, Vec<(String, String, String)>);

/// Every document (entity, title, URL) with its captures (time, SHA-256, media type), from `list` and
/// `history`: what an import recorded, independent of the IDs it issued.
fn contents(env: &Env) -> BTreeSet<Document> {
    let list: Value =
        serde_json::from_slice(&env.evarc(&["--json", "list"]).ok().stdout).expect("list JSON");
    let documents = list
        .as_array()
        .or_else(|| list["documents"].as_array())
        .expect("a list of documents")
        .clone();
    documents
        .iter()
        .map(|entry| {
            let doc = if entry["document"].is_object() {
                &entry["document"]
            } else {
                entry
            };
            let id = doc["id"].as_str().expect("document id");
            let history: Value =
                serde_json::from_slice(&env.evarc(&["--json", "history", id]).ok().stdout)
                    .expect("history JSON");
            let captures = history["captures"]
                .as_array()
                .expect("captures")
                .iter()
                .map(|c| {
                    (
                        c["capture"]["captured_at"]
                            .as_str()
                            .expect("time")
                            .to_owned(),
                        c["capture"]["sha256"].as_str().expect("sha").to_owned(),
                        c["capture"]["media_type"]
                            .as_str()
                            .expect("media type")
                            .to_owned(),
                    )
                })
                .collect();
            (
                doc["entity"].as_str().expect("entity").to_owned(),
                doc["title"].as_str().expect("title").to_owned(),
                doc["source_url"].as_str().expect("url").to_owned(),
                captures,
            )
        })
        .collect()
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

#[test]
fn ota_import_equals_a_manifest_import_of_the_same_captures() {
    let env = Env::new();
    let repo = snapshots_repository(&env);
    let run = env.evarc(&["import", "ota", path_str(&repo)]).ok();
    assert_eq!(
        redact_between(&run.stderr, "(", " s)", "[TIME]"),
        "text versions: 7 captures of 4 documents indexed, 3 new change records ([TIME] s)\n\
         7 archived, 0 already there, 0 hash mismatches, 0 failed\n"
    );
    assert_eq!(run.stdout_text().lines().count(), 7);
    assert!(
        run.stdout_text()
            .contains(" 2026-05-05 09:15:00 UTC sha256:"),
        "{}",
        run.stdout_text()
    );

    let by_manifest = Env::new();
    let manifest = manifest_of(&by_manifest);
    by_manifest
        .evarc(&["import", "manifest", path_str(&manifest)])
        .ok();
    let imported = contents(&env);
    assert_eq!(imported, contents(&by_manifest));
    // 4 documents: the two pages of the privacy policy are documents of their own.
    assert_eq!(imported.len(), 4, "{imported:?}");
    let terms = imported
        .iter()
        .find(|d| d.0 == "Example Corp" && d.1 == "Terms of Service")
        .expect("Example Corp's terms");
    assert_eq!(terms.2, "https://example.org/terms");
    assert_eq!(
        terms.3.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        [
            "2026-05-01T10:00:00Z",
            "2026-05-03T12:00:00Z",
            "2026-05-05T09:15:00Z"
        ]
    );
    assert_eq!(terms.3[0].1, terms.3[2].1, "same bytes, same SHA-256");

    // A rerun archives nothing and says so, capture by capture.
    let again = env.evarc(&["import", "ota", path_str(&repo)]).ok();
    assert_eq!(
        again.stderr,
        "0 archived, 7 already there, 0 hash mismatches, 0 failed\n"
    );
    assert!(again
        .stdout_text()
        .lines()
        .all(|l| l.ends_with(" already archived")));
    assert_eq!(contents(&env), imported);
}

#[test]
fn ota_import_takes_only_the_dates_and_services_asked_for() {
    let env = Env::new();
    let repo = snapshots_repository(&env);
    let run = env
        .evarc(&[
            "--json",
            "import",
            "ota",
            path_str(&repo),
            "--since",
            "2026-05-02",
            "--until",
            "2026-05-04",
            "--service",
            "Other Service",
        ])
        .ok();
    let lines: Vec<Value> = run
        .stdout_text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let times: Vec<&str> = lines
        .iter()
        .filter(|l| l["status"] == "archived")
        .map(|l| l["captured_at"].as_str().expect("captured_at"))
        .collect();
    assert_eq!(times, ["2026-05-02T08:30:00Z", "2026-05-04T12:00:00Z"]);
    assert_eq!(
        lines.last().expect("a summary"),
        &serde_json::json!({"status": "summary", "archived": 2, "skipped": 0, "mismatched": 0, "failed": 0})
    );
    let docs = contents(&env);
    assert_eq!(docs.len(), 1);
    assert_eq!(
        sorted_lines(
            &docs
                .iter()
                .map(|d| format!("{} / {} / {}", d.0, d.1, d.2))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        ["Other Service / Terms of Service / https://other.example/tos"]
    );
}

#[test]
fn ota_import_of_something_that_is_not_a_repository_is_one_clear_error() {
    let env = Env::new();
    let folder = env.path().join("not-a-repo");
    std::fs::create_dir_all(&folder).expect("create a folder");
    env.evarc(&["import", "ota", path_str(&folder)])
        .one_line_error(2, &["not-a-repo is not a readable git repository"]);
    let repo = snapshots_repository(&env);
    env.evarc(&["import", "ota", path_str(&repo), "--since", "May 2"])
        .one_line_error(2, &["\"May 2\"", "YYYY-MM-DD"]);
    // Nothing was imported by either.
    assert!(contents(&env).is_empty());
}

#[test]
fn ota_commit_without_a_source_url_trailer_is_one_failed_capture() {
    let env = Env::new();
    let repo = snapshots_repository(&env);
    let at = "2026-05-06T07:00:00Z";
    std::fs::write(repo.join("Other Service/Terms of Service.html"), "v3\n").expect("write");
    git(&repo, &["add", "-A"], at);
    git(
        &repo,
        &["commit", "-q", "-m", "Manual edit, no trailer"],
        at,
    );
    let run = env.evarc(&["import", "ota", path_str(&repo)]).code(2);
    assert_eq!(run.stdout_text().lines().count(), 7);
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(&repo)
        .output()
        .expect("git rev-parse");
    let commit = String::from_utf8_lossy(&commit.stdout).trim().to_owned();
    assert_eq!(
        redact_between(
            &run.stderr,
            "indexed, 3 new change records (",
            " s)",
            "[TIME]"
        ),
        format!(
            "capture 8: commit {commit} (Other Service/Terms of Service.html) has no \
             X-source-document-location trailer: no source URL\n\
             text versions: 7 captures of 4 documents indexed, 3 new change records ([TIME] s)\n\
             7 archived, 0 already there, 0 hash mismatches, 1 failed\n"
        )
    );
}
