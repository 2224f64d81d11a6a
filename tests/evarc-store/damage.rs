//! Damage injected below the store's API is detected and named, never returned as bytes.

use evarc_store::{Blake3, OpenMode, Store, StoreError, CHUNK_SIZE};

use crate::{fresh, noise};

/// Opens the archive's RocksDB directly, as an attacker or a failing disk would see it.
fn raw_db(path: &std::path::Path) -> rocksdb::DB {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    rocksdb::DB::open_cf(&rocksdb::Options::default(), path, cfs).expect("open raw")
}

#[test]
fn a_deleted_chunk_fails_read_and_scrub_names_the_snapshot() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    let damaged = store.put(&noise(2 * CHUNK_SIZE, 3)[..]).expect("put").info;
    let intact = store.put(&b"intact"[..]).expect("put").info;
    drop(store);
    {
        let db = raw_db(&path);
        let chunk = Blake3::of(&noise(2 * CHUNK_SIZE, 3)[CHUNK_SIZE..]);
        db.delete_cf(db.cf_handle("chunks").expect("cf"), chunk.as_bytes())
            .expect("delete");
    }
    let store = Store::open(&path, OpenMode::ReadWrite).expect("reopen");
    let err = store.read(damaged.blake3).expect_err("damaged read");
    assert!(
        matches!(err, StoreError::ChunkMissing { index: 1, .. }),
        "{err}"
    );
    assert!(err.is_integrity_failure());
    assert_eq!(store.read(intact.blake3).expect("intact"), b"intact");
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert_eq!(report.checked, 2);
    assert_eq!(report.verified, 1);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].blake3, damaged.blake3);
    assert_eq!(report.failures[0].sha256, Some(damaged.sha256));
}

#[test]
fn a_rewritten_chunk_is_caught_before_its_bytes_are_returned() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    let info = store.put(&b"original bytes"[..]).expect("put").info;
    drop(store);
    {
        let db = raw_db(&path);
        let chunk = Blake3::of(b"original bytes");
        let mut forged = vec![0u8]; // raw codec
        forged.extend_from_slice(b"forged!! bytes");
        db.put_cf(
            db.cf_handle("chunks").expect("cf"),
            chunk.as_bytes(),
            forged,
        )
        .expect("forge");
    }
    let store = Store::open(&path, OpenMode::ReadOnly).expect("reopen");
    let err = store.read(info.blake3).expect_err("forged read");
    assert!(matches!(err, StoreError::ChunkCorrupt { .. }), "{err}");
    assert!(err.to_string().contains(&info.blake3.to_hex()));
}

#[test]
fn a_rewritten_manifest_hash_is_a_mismatch_naming_both_hashes() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    let info = store.put(&b"evidence"[..]).expect("put").info;
    drop(store);
    {
        let db = raw_db(&path);
        let cf = db.cf_handle("snapshots").expect("cf");
        let mut manifest = db
            .get_cf(cf, info.blake3.as_bytes())
            .expect("get")
            .expect("some");
        manifest[1] ^= 0xff; // first byte of the recorded SHA-256
        db.put_cf(cf, info.blake3.as_bytes(), manifest)
            .expect("put");
    }
    let store = Store::open(&path, OpenMode::ReadOnly).expect("reopen");
    let err = store.read(info.blake3).expect_err("mismatch");
    match &err {
        StoreError::HashMismatch { actual, .. } => assert_eq!(actual, &info.sha256.to_hex()),
        other => panic!("expected a hash mismatch, got {other}"),
    }
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert_eq!(report.failures.len(), 1);
}

/// Issue 6 (corruption torture): the empty lock file holds no data; an archive whose lock file
/// was deleted still opens, read-only and for writing (which recreates it).
#[test]
fn issue_6_a_deleted_lock_file_does_not_lose_the_archive() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    let info = store.put(&b"kept"[..]).expect("put").info;
    drop(store);
    std::fs::remove_file(path.join("evarc.lock")).expect("delete the lock file");
    let reader = Store::open(&path, OpenMode::ReadOnly).expect("opens read-only");
    assert_eq!(reader.read(info.blake3).expect("read"), b"kept");
    drop(reader);
    let writer = Store::open(&path, OpenMode::ReadWrite).expect("opens for writing");
    assert!(path.join("evarc.lock").exists());
    drop(writer);
}

/// Issue 6 (corruption torture): a deleted CURRENT is damage (an integrity failure, exit 1),
/// not "no archive here, create one with init".
#[test]
fn issue_6_a_deleted_current_file_is_reported_as_damage() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    store.put(&b"kept"[..]).expect("put");
    drop(store);
    std::fs::remove_file(path.join("CURRENT")).expect("delete CURRENT");
    let err = Store::open(&path, OpenMode::ReadOnly).expect_err("damaged");
    assert!(matches!(err, StoreError::DatabaseDamaged { .. }), "{err}");
    assert!(err.is_integrity_failure());
}
