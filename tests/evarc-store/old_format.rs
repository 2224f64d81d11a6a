//! Archives written by format version 1 (before delta snapshots) still open, read and verify,
//! and take version-2 snapshots once opened for writing. Fixture: fixtures/format-v1.tar.gz,
//! made by fixtures/make-format-v1.sh.

use std::path::{Path, PathBuf};

use evarc_store::{BaseHint, DigestQuery, OpenMode, PutOptions, Sha256, Store};

const V1_HTML: &str = "fad67fcc981bed4098b1191bb393c2661b9983ce309cc46f6f024abad49a71f8";
const V2_HTML: &str = "afb5ea9f1768684e52d803563b28b0388203da12bad28b99edb1e3f3202d4069";
const BIG_TXT: &str = "a742638b4d36aff90a9c97f7dc2d2bb9e389cc14b17969eab806a8e6d5cf56fc";

/// Unpacks the fixture into a fresh temporary directory; returns it and the archive path.
pub fn unpack_v1() -> (tempfile::TempDir, PathBuf) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/evarc-store/fixtures/format-v1.tar.gz");
    let dir = tempfile::tempdir().expect("temp dir");
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&fixture)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("run tar");
    assert!(status.success(), "unpacking {}", fixture.display());
    let archive = dir.path().join("archive");
    (dir, archive)
}

fn sha(hex: &str) -> DigestQuery {
    DigestQuery::Sha256(Sha256::from_hex(hex).expect("fixture hash"))
}

#[test]
fn a_version_1_archive_reads_and_verifies_read_only() {
    let (_dir, path) = unpack_v1();
    let store = Store::open(&path, OpenMode::ReadOnly).expect("open v1 read-only");
    assert_eq!(store.format_version().expect("version"), 1);
    for hex in [V1_HTML, V2_HTML, BIG_TXT] {
        let info = store.resolve(sha(hex)).expect("snapshot present");
        let bytes = store.read(info.blake3).expect("read");
        assert_eq!(Sha256::of(&bytes).to_hex(), hex);
    }
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.verified, 3);
}

#[test]
fn a_version_1_archive_opened_for_writing_takes_deltas() {
    let (_dir, path) = unpack_v1();
    let store = Store::open(&path, OpenMode::ReadWrite).expect("open v1 for writing");
    assert_eq!(store.format_version().expect("version"), 2);
    let base = store.resolve(sha(V2_HTML)).expect("v2 present");
    let mut next = store.read(base.blake3).expect("read");
    next.extend_from_slice(b"<p>Version three adds a clause.</p>\n");
    let options = PutOptions {
        base_hint: Some(BaseHint::After(base.blake3)),
        ..PutOptions::default()
    };
    let out = store
        .put_with(&next[..], options, |_| {})
        .expect("put delta");
    assert!(out.new);
    assert!(
        out.stored_bytes < 200,
        "a delta: {} bytes",
        out.stored_bytes
    );
    drop(store);
    let store = Store::open(&path, OpenMode::ReadOnly).expect("reopen");
    assert_eq!(store.read(out.info.blake3).expect("read delta"), next);
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.verified, 4);
}
