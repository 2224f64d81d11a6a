//! Issue 16: the live write-ahead log after a crash. A last record cut short by the end of the
//! file (a write the crash interrupted, never acknowledged) is RocksDB's normal recovery case and
//! must not read as damage; a flipped byte in the records before it must.

use std::path::{Path, PathBuf};

use chrono::{TimeZone as _, Utc};
use evarc_provenance::{Archive, CaptureRequest, DocumentRef};
use evarc_torture::evarc::Evarc;

use crate::{evarc_bin, scratch};

fn page(i: usize) -> Vec<u8> {
    format!("<html><body><p>Terms, version {i}.</p><p>Same words each time.</p></body></html>")
        .into_bytes()
}

/// Three captures acknowledged by a writer that then dies without closing the archive (so
/// without flushing: the captures are only in the write-ahead log), copied as the crash left
/// the files. Returns the copy and the name of its newest write-ahead log.
fn crashed_writer(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("writer");
    let archive = Archive::init(&path, None, None).expect("init");
    for i in 0..3 {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1 + i as u32, 12, 0, 0)
            .single()
            .expect("a date");
        let document = DocumentRef::Named {
            entity: "Crash Entity".into(),
            title: "Terms".into(),
            source_url: Some("https://example.com/terms".into()),
            id: None,
        };
        archive
            .capture(&page(i)[..], CaptureRequest::file_import(document, at), at)
            .expect("capture");
    }
    let copy = dir.join("crashed");
    std::fs::create_dir_all(&copy).expect("mkdir");
    for entry in std::fs::read_dir(&path).expect("read dir") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copy");
        }
    }
    // The writer "crashes": it is never closed, so it never flushes (its files stay as copied).
    std::mem::forget(archive);
    let wal = std::fs::read_dir(&copy)
        .expect("read dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".log"))
        .max()
        .expect("a write-ahead log");
    (copy, wal)
}

fn audit(archive: &Path) -> (i32, serde_json::Value, String) {
    let evarc = Evarc::new(evarc_bin(), archive.to_owned());
    let json = evarc.run(&["verify", "--all", "--json"]).expect("verify");
    assert!(!json.stderr.contains("error:"), "{}", json.stderr);
    let value = serde_json::from_slice(&json.stdout).expect("one JSON report");
    let text = evarc.run(&["verify", "--all"]).expect("verify");
    assert_eq!(text.code, json.code, "{}", text.stdout_text());
    (json.code, value, text.stdout_text())
}

#[test]
fn issue_16_a_torn_last_record_of_the_live_wal_is_not_damage() {
    let dir = scratch("torn-wal");
    let (archive, wal) = crashed_writer(dir.path());
    let path = archive.join(&wal);
    let len = std::fs::metadata(&path).expect("wal").len();
    assert!(
        len > 1000,
        "the captures are in the write-ahead log ({len} bytes)"
    );
    // The crash cut the last write short: its last 20 bytes never reached the file.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open wal");
    file.set_len(len - 20).expect("truncate");
    drop(file);

    let (code, report, text) = audit(&archive);
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("✓ "), "{text}");
    assert_eq!(report["clean"], true);
    assert_eq!(report["file_damage"], serde_json::json!([]));
    // The torn write was the third capture's (its record batch is the log's last record):
    // RocksDB drops it, the two acknowledged before it are whole.
    assert_eq!(report["captures_checked"], 2, "{report}");
    assert_eq!(report["snapshots_verified"], 2, "{report}");
}

#[test]
fn issue_16_a_flipped_byte_in_the_committed_part_of_the_live_wal_is_damage() {
    let dir = scratch("flipped-wal");
    let (archive, wal) = crashed_writer(dir.path());
    let path = archive.join(&wal);
    let mut bytes = std::fs::read(&path).expect("wal");
    // A byte of the last capture's record, which the writer had written whole and synced.
    let at = bytes.len() - 30;
    bytes[at] ^= 0x40;
    std::fs::write(&path, &bytes).expect("write");

    let (code, report, text) = audit(&archive);
    assert_eq!(code, 1, "{text}");
    assert_eq!(report["clean"], false);
    let damage = report["file_damage"].as_array().expect("file damage");
    assert_eq!(damage.len(), 1, "{report}");
    assert_eq!(damage[0]["file"], serde_json::json!(wal), "{report}");
    assert!(text.contains(&wal), "{text}");
}
