//! Real captures from `../shared/corpus` (Open Terms Archive, ODC-BY 1.0: "Open Terms Archive
//! contributors"). Slow, so it runs only with `EVARC_CORPUS_TESTS=1`; it prints why it skipped
//! otherwise.
//!
//! Unpacks the first captures of `manifest.tsv` (with `zstd` and `tar`), archives each as a
//! capture of its document with the manifest's entity, document, source URL and capture time,
//! then checks documents, histories and a clean `verify --all`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::json::Json;
use crate::util::{path_str, Env};

const CORPUS: &str = "ota-genai-eu-2026-05.tar.zst";
const ENABLE_VAR: &str = "EVARC_CORPUS_TESTS";
/// Captures of the manifest archived (its first lines, oldest first).
const SUBSET: usize = 150;

fn corpus_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(CORPUS)
}

/// One line of `manifest.tsv`.
struct Entry {
    captured_at: String,
    entity: String,
    document: String,
    source_url: String,
    path: String,
    sha256: String,
}

#[test]
fn corpus_subset_archives_with_ordered_histories() {
    let corpus = corpus_path();
    if !corpus.exists() {
        println!("skipped: corpus {} absent", corpus.display());
        return;
    }
    if std::env::var_os(ENABLE_VAR).is_none_or(|v| v != "1") {
        println!("skipped: corpus test is slow; set {ENABLE_VAR}=1 to run it");
        return;
    }
    let env = Env::new();
    let unpacked = env.path().join("corpus");
    std::fs::create_dir_all(&unpacked).expect("create the unpack directory");

    untar(&corpus, &unpacked, &["manifest.tsv".to_owned()]);
    let manifest =
        std::fs::read_to_string(unpacked.join("manifest.tsv")).expect("read manifest.tsv");
    let mut lines = manifest.lines();
    assert_eq!(
        lines.next(),
        Some("captured_at\tentity\tdocument\tsource_url\tpath\tsha256\tbytes"),
        "unexpected manifest header"
    );
    let entries: Vec<Entry> = lines
        .take(SUBSET)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 7, "manifest line with {} fields: {line}", f.len());
            Entry {
                captured_at: f[0].to_owned(),
                entity: f[1].to_owned(),
                document: f[2].to_owned(),
                source_url: f[3].to_owned(),
                path: f[4].to_owned(),
                sha256: f[5].to_owned(),
            }
        })
        .collect();
    untar(
        &corpus,
        &unpacked,
        &entries.iter().map(|e| e.path.clone()).collect::<Vec<_>>(),
    );

    // document ID → capture times as archived
    let mut documents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in &entries {
        let file = unpacked.join(&entry.path);
        let run = env
            .evarc(&[
                "--json",
                "archive",
                path_str(&file),
                "--entity",
                &entry.entity,
                "--document",
                &entry.document,
                "--url",
                &entry.source_url,
                "--captured-at",
                &entry.captured_at,
            ])
            .ok();
        let json = Json::parse(&run.stdout_text());
        assert_eq!(
            json.str("snapshot/sha256"),
            entry.sha256,
            "{} hashed differently from the manifest",
            entry.path
        );
        documents
            .entry(json.str("document/id").to_owned())
            .or_default()
            .push(entry.captured_at.clone());
    }

    let distinct: BTreeSet<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.entity.as_str(),
                e.document.as_str(),
                e.source_url.as_str(),
            )
        })
        .collect();
    assert_eq!(documents.len(), distinct.len());
    let list = env.evarc(&["list"]).ok().stdout_text();
    assert_eq!(list.lines().count(), distinct.len(), "{list}");

    for (id, archived) in &documents {
        let history = Json::parse(&env.evarc(&["--json", "history", id]).ok().stdout_text());
        let times: Vec<String> = history
            .array("captures")
            .iter()
            .map(|c| c.str("capture/captured_at").to_owned())
            .collect();
        let mut expected = archived.clone();
        expected.sort();
        assert_eq!(times, expected, "history of {id} is not in time order");
    }

    let run = env.evarc(&["verify", "--all"]).ok();
    let summary = run.stdout_text();
    assert!(
        summary.starts_with(&format!("✓ {SUBSET} snapshots checked")),
        "{summary}"
    );
    println!(
        "corpus: {} captures of {} documents archived and verified",
        entries.len(),
        documents.len()
    );
}

/// `zstd -dc --long=27 CORPUS | tar -x -C DIR --verbatim-files-from -T LIST` for these names.
fn untar(corpus: &Path, dir: &Path, names: &[String]) {
    let list = dir.join(".names");
    std::fs::write(&list, names.join("\n") + "\n").expect("write the list of names");
    let mut zstd = Command::new("zstd")
        .args(["-dc", "--long=27"])
        .arg(corpus)
        .stdout(Stdio::piped())
        .spawn()
        .expect("run zstd (needed for the corpus test)");
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dir)
        .arg("--verbatim-files-from")
        .arg("-T")
        .arg(&list)
        .stdin(zstd.stdout.take().expect("zstd stdout is piped"))
        .status()
        .expect("run tar (needed for the corpus test)");
    assert!(status.success(), "tar failed: {status}");
    let status = zstd.wait().expect("wait for zstd");
    assert!(status.success(), "zstd failed: {status}");
    std::fs::remove_file(&list).expect("remove the list of names");
}
