//! WACZ export: layout, reproducibility, index and page list, `wacz validate`.

use std::io::Read;

use evarc_package::{surt_key, write_wacz, PackageError};

use crate::fixture::{items, options, MemBytes};
use crate::validators;

fn export(path: &std::path::Path) -> evarc_package::WaczSummary {
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    write_wacz(path, &items, &bytes, &options()).expect("export WACZ")
}

fn entry(path: &std::path::Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("open WACZ");
    let mut zip = zip::ZipArchive::new(file).expect("ZIP");
    let mut text = String::new();
    zip.by_name(name)
        .expect("entry")
        .read_to_string(&mut text)
        .expect("read entry");
    text
}

#[test]
fn layout_index_and_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("export.wacz");
    let summary = export(&path);
    let file = std::fs::File::open(&path).expect("open WACZ");
    let mut zip = zip::ZipArchive::new(file).expect("ZIP");
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    assert_eq!(
        names,
        [
            "archive/data.warc.gz",
            "indexes/index.cdx",
            "pages/pages.jsonl",
            "datapackage.json",
            "datapackage-digest.json"
        ]
    );
    let warc = zip.by_name("archive/data.warc.gz").expect("warc");
    assert_eq!(warc.compression(), zip::CompressionMethod::Stored);
    assert_eq!(warc.last_modified().map(|t| t.year()), Some(1980));
    drop(warc);

    let index = entry(&path, "indexes/index.cdx");
    let lines: Vec<&str> = index.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "sorted");
    assert!(lines[0].starts_with("com,amazon,aws)/agreement/ 20260513120000 {\"url\":"));
    let first = &summary.warc.records[0];
    let json: serde_json::Value = serde_json::from_str(
        lines
            .iter()
            .find(|l| l.contains("20260512095122"))
            .and_then(|l| l.splitn(3, ' ').nth(2))
            .expect("line of the first capture"),
    )
    .expect("CDXJ JSON");
    assert_eq!(json["offset"], first.offset.to_string());
    assert_eq!(json["length"], first.length.to_string());
    assert_eq!(json["status"], "200");
    assert_eq!(json["digest"], first.payload_digest);
    assert_eq!(json["filename"], "data.warc.gz");

    let pages = entry(&path, "pages/pages.jsonl");
    let mut pages = pages.lines();
    assert_eq!(
        pages.next(),
        Some(r#"{"format":"json-pages-1.0","id":"pages","title":"All Pages"}"#)
    );
    let page: serde_json::Value =
        serde_json::from_str(pages.next().expect("a page")).expect("page JSON");
    assert_eq!(page["ts"], "2026-05-12T09:51:22.250Z");
    assert_eq!(page["title"], "AWS Service Terms");
    assert_eq!(pages.count(), 2);

    let package: serde_json::Value =
        serde_json::from_str(&entry(&path, "datapackage.json")).expect("datapackage JSON");
    assert_eq!(package["profile"], "data-package");
    assert_eq!(package["wacz_version"], "1.1.1");
    assert_eq!(package["created"], "2026-05-14T08:00:00Z");
    assert_eq!(package["resources"].as_array().map(Vec::len), Some(3));
}

#[test]
fn export_is_reproducible_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.wacz");
    let b = dir.path().join("b.wacz");
    export(&a);
    export(&b);
    assert!(std::fs::read(&a).expect("a") == std::fs::read(&b).expect("b"));
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    let err = write_wacz(&a, &items, &bytes, &options()).expect_err("exists");
    assert!(matches!(err, PackageError::OutputExists { .. }), "{err}");
    // A failed export leaves nothing behind.
    let c = dir.path().join("c.wacz");
    bytes.0.clear();
    assert!(write_wacz(&c, &items, &bytes, &options()).is_err());
    assert!(!c.exists());
}

#[test]
fn surt_keys() {
    assert_eq!(
        surt_key("https://www.Example.com/A?b=1"),
        "com,example)/a?b=1"
    );
    assert_eq!(surt_key("http://example.com"), "com,example)/");
    assert_eq!(
        surt_key("http://example.com:8080/x#frag"),
        "com,example:8080)/x"
    );
    assert_eq!(surt_key("https://example.com:443/"), "com,example)/");
    assert_eq!(surt_key("urn:x:Y"), "urn:x:y");
}

#[test]
fn wacz_validate_passes() {
    let Some(wacz) = validators::find("wacz") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("export.wacz");
    export(&path);
    let text = validators::run(&wacz, &["validate", "-f"], &path);
    assert!(text.contains("Validation succeeded"), "{text}");
}
