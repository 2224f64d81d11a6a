//! Path safety: nothing from a WARC or a record makes a path outside the output directory.

use std::path::{Component, Path};

use evarc_package::{html_title, safe_component, write_bagit};

use crate::fixture::{capture, citation, document, options, tree, utc, MemBytes};

const HOSTILE: [&str; 12] = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "",
    "a\0b",
    "C:\\Windows\\system32",
    "..\\..\\boot.ini",
    "line\r\nbreak",
    "CON",
    "nul.txt",
    "\u{202e}gnp.exe",
];

fn assert_safe(name: &str) {
    assert!(!name.is_empty());
    assert!(name.len() <= 96, "{name}");
    assert!(!name.starts_with('.'), "{name}");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')),
        "{name:?}"
    );
    let mut components = Path::new(name).components();
    assert!(
        matches!(components.next(), Some(Component::Normal(_))),
        "{name}"
    );
    assert!(components.next().is_none(), "{name}");
}

#[test]
fn hostile_names_become_one_safe_component() {
    let long = "x/".repeat(5000);
    for input in HOSTILE.iter().copied().chain([long.as_str()]) {
        let name = safe_component(input);
        assert_safe(&name);
    }
    assert_eq!(safe_component("CA-D-00648"), "CA-D-00648");
    assert_eq!(safe_component("../../etc/passwd"), "etc_passwd");
    assert_eq!(safe_component("CON"), "_CON");
}

#[test]
fn hostile_titles_are_plain_text() {
    let html = b"<html><head><title>../../etc/passwd\0\r\n  &lt;x&gt; &#x41;</title>";
    assert_eq!(html_title(html).as_deref(), Some("../../etc/passwd <x> A"));
    assert_eq!(html_title(b"<titlex>no</titlex>"), None);
    assert_eq!(
        html_title(b"<TITLE lang=en>Caps</TITLE>").as_deref(),
        Some("Caps")
    );
    let long = format!("<title>{}</title>", "a".repeat(10_000));
    assert_eq!(
        html_title(long.as_bytes()).map(|t| t.chars().count()),
        Some(512)
    );
}

#[test]
fn a_bag_of_hostile_records_stays_inside_its_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bag = dir.path().join("bag");
    let mut bytes = MemBytes::default();
    let body = b"hostile";
    let sha = bytes.add(body);
    let doc = document(1, "../../etc/passwd", "file:///../../etc/passwd\0");
    let mut items = Vec::new();
    for (i, media) in ["../../x", "text/html\r\n", "/abs"].iter().enumerate() {
        let mut cap = capture(
            &doc,
            body,
            &sha,
            utc(2026, 1, 1, 0, 0, i as u32),
            media,
            false,
        );
        cap.source_url = doc.source_url.clone();
        items.push(evarc_package::ExportCapture {
            citations: vec![citation(&doc, &cap, None)],
            document: doc.clone(),
            capture: cap,
        });
    }
    write_bagit(&bag, &items, &bytes, &options()).expect("bag");
    let files = tree(&bag);
    for path in files.keys() {
        for part in Path::new(path).components() {
            assert!(matches!(part, Component::Normal(_)), "{path}");
        }
    }
    // Nothing was written beside the bag.
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
    assert_eq!(siblings.len(), 1);
    // Media types only choose among known extensions (`text/html\r\n` is still HTML).
    assert_eq!(files.keys().filter(|k| k.ends_with(".bin")).count(), 2);
    assert_eq!(files.keys().filter(|k| k.ends_with(".html")).count(), 1);
}
