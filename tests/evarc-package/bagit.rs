//! BagIt export: layout, manifests, refusal of non-empty directories, `bagit.py --validate`.

use evarc_package::{write_bagit, PackageError};
use sha2::{Digest, Sha256};

use crate::fixture::{items, options, tree, MemBytes, HTML_1};
use crate::validators;

fn export(dir: &std::path::Path) -> evarc_package::BagSummary {
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    write_bagit(dir, &items, &bytes, &options()).expect("export bag")
}

#[test]
fn layout_and_manifests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bag = dir.path().join("bag");
    let summary = export(&bag);
    let files = tree(&bag);
    let sha1 = hex::encode(Sha256::digest(HTML_1));
    let capture = format!("data/CA-D-00648/20260512T095122Z-{}.html", &sha1[..16]);
    assert_eq!(files[&capture], HTML_1);
    let citations = format!("data/CA-D-00648/20260512T095122Z-{}.citations", &sha1[..16]);
    for record in ["CA-D-00648", "CA-P-011417"] {
        for name in [
            "record.txt",
            "provenance.txt",
            "bluebook.txt",
            "csl.json",
            "biblatex.bib",
            "ris.ris",
            "citation.json",
            "markdown.md",
        ] {
            assert!(
                files.contains_key(&format!("{citations}/{record}/{name}")),
                "{record}/{name}"
            );
        }
    }
    assert_eq!(
        files["bagit.txt"],
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
    let info = String::from_utf8(files["bag-info.txt"].clone()).expect("UTF-8");
    assert!(info.contains("Source-Organization: Example Evidence Archive\n"));
    assert!(info.contains("External-Identifier: CA-D-00648\n"));
    assert!(info.contains("External-Identifier: CA-D-00649\n"));
    assert!(info.contains("External-Identifier: CA-P-011417\n"));
    assert!(info.contains("Bagging-Date: 2026-05-14\n"));
    assert!(info.contains(&format!(
        "Payload-Oxum: {}.{}\n",
        summary.payload_bytes, summary.payload_files
    )));
    let payload: Vec<&String> = files.keys().filter(|k| k.starts_with("data/")).collect();
    assert_eq!(payload.len() as u64, summary.payload_files);
    let manifest = String::from_utf8(files["manifest-sha256.txt"].clone()).expect("UTF-8");
    assert_eq!(manifest.lines().count(), payload.len());
    for line in manifest.lines() {
        let (hex, path) = line.split_once("  ").expect("manifest line");
        assert_eq!(hex, hex::encode(Sha256::digest(&files[path])), "{path}");
    }
    let tags = String::from_utf8(files["tagmanifest-sha256.txt"].clone()).expect("UTF-8");
    let tag_paths: Vec<&str> = tags.lines().map(|l| &l[66..]).collect();
    assert_eq!(
        tag_paths,
        ["bag-info.txt", "bagit.txt", "manifest-sha256.txt"]
    );
}

#[test]
fn export_is_reproducible() {
    let dir = tempfile::tempdir().expect("temp dir");
    export(&dir.path().join("a"));
    export(&dir.path().join("b"));
    assert!(tree(&dir.path().join("a")) == tree(&dir.path().join("b")));
}

#[test]
fn refuses_a_non_empty_directory_and_accepts_an_empty_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("keep.txt"), "mine").expect("write");
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    let err = write_bagit(dir.path(), &items, &bytes, &options()).expect_err("not empty");
    assert!(matches!(err, PackageError::OutputNotEmpty { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt")).expect("kept"),
        "mine"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    write_bagit(&empty, &items, &bytes, &options()).expect("empty dir is fine");
    // A failed export leaves the (empty) directory as it was.
    let failed = dir.path().join("failed");
    std::fs::create_dir(&failed).expect("mkdir");
    bytes.0.clear();
    assert!(write_bagit(&failed, &items, &bytes, &options()).is_err());
    assert!(tree(&failed).is_empty());
}

#[test]
fn bagit_validate_passes() {
    let Some(bagit) = validators::find("bagit.py") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let bag = dir.path().join("bag");
    export(&bag);
    let text = validators::run(&bagit, &["--validate"], &bag);
    assert!(text.contains("is valid"), "{text}");
}
