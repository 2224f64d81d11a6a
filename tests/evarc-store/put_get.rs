use evarc_store::{Blake3, DigestQuery, OpenMode, Sha256, Store, StoreError, CHUNK_SIZE};

use crate::{fresh, noise};

#[test]
fn put_then_read_returns_the_same_bytes_and_both_digests() {
    let (_dir, store) = fresh();
    let bytes = b"<html>Terms of service</html>".to_vec();
    let out = store.put(&bytes[..]).expect("put");
    assert!(out.new);
    assert_eq!(out.info.sha256, Sha256::of(&bytes));
    assert_eq!(out.info.blake3, Blake3::of(&bytes));
    assert_eq!(out.info.len, bytes.len() as u64);
    assert_eq!(store.read(out.info.blake3).expect("read"), bytes);
    let by_sha = store
        .resolve(DigestQuery::Sha256(out.info.sha256))
        .expect("by sha");
    assert_eq!(by_sha, out.info);
    let either: DigestQuery = out.info.blake3.to_hex().parse().expect("parse");
    assert_eq!(store.resolve(either).expect("by bare blake3"), out.info);
}

#[test]
fn second_put_of_same_bytes_stores_nothing_new() {
    let (_dir, store) = fresh();
    let bytes = noise(3 * CHUNK_SIZE + 17, 7);
    let first = store.put(&bytes[..]).expect("first put");
    let second = store.put(&bytes[..]).expect("second put");
    assert!(first.new);
    assert!(first.stored_bytes > 0);
    assert!(!second.new);
    assert_eq!(second.stored_bytes, 0);
    assert_eq!(first.info, second.info);
}

#[test]
fn multi_chunk_snapshot_round_trips_and_shares_chunks() {
    let (_dir, store) = fresh();
    let a = noise(2 * CHUNK_SIZE + 5, 1);
    let mut b = a.clone();
    b.extend_from_slice(b"appended");
    let first = store.put(&a[..]).expect("put a");
    let second = store.put(&b[..]).expect("put b");
    // b shares a's first two whole chunks: only the tail chunk is new.
    assert!(second.stored_bytes < first.stored_bytes / 2);
    assert_eq!(store.read(first.info.blake3).expect("read a"), a);
    assert_eq!(store.read(second.info.blake3).expect("read b"), b);
}

#[test]
fn empty_snapshot_is_consistent() {
    let (_dir, store) = fresh();
    let out = store.put(&b""[..]).expect("put empty");
    assert_eq!(out.info.len, 0);
    assert_eq!(store.read(out.info.blake3).expect("read"), b"");
    assert_eq!(store.verify(out.info.blake3).expect("verify").len, 0);
}

#[test]
fn unknown_and_malformed_digests_are_named() {
    let (_dir, store) = fresh();
    let missing = DigestQuery::Sha256(Sha256::of(b"never stored"));
    let err = store.resolve(missing).expect_err("unknown");
    assert!(matches!(err, StoreError::SnapshotNotFound { .. }), "{err}");
    assert!(err
        .to_string()
        .contains(&Sha256::of(b"never stored").to_hex()));
    for bad in ["", "abc", "zz", "md5:00", &"g".repeat(64), &"a".repeat(63)] {
        let err = bad.parse::<DigestQuery>().expect_err(bad);
        assert!(err.to_string().contains("malformed hash"), "{bad}: {err}");
    }
}

#[test]
fn reopen_keeps_snapshots_and_second_writer_gets_in_use() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    let out = store.put(&b"durable"[..]).expect("put");
    let err = Store::open(&path, OpenMode::ReadWrite).expect_err("second writer");
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()));
    let reader = Store::open(&path, OpenMode::ReadOnly).expect("reader beside writer");
    assert_eq!(reader.read(out.info.blake3).expect("read"), b"durable");
    drop(reader);
    drop(store);
    let reopened = Store::open(&path, OpenMode::ReadWrite).expect("reopen");
    assert_eq!(reopened.read(out.info.blake3).expect("read"), b"durable");
}

#[test]
fn open_refuses_missing_paths_and_non_archives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = Store::open(&dir.path().join("nope"), OpenMode::ReadOnly).expect_err("missing");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let err = Store::open(dir.path(), OpenMode::ReadOnly).expect_err("empty dir");
    assert!(matches!(err, StoreError::NotAnArchive { .. }), "{err}");
    std::fs::write(dir.path().join("x"), b"x").expect("write");
    let err = Store::init(dir.path()).expect_err("non-empty dir");
    assert!(matches!(err, StoreError::AlreadyExists { .. }), "{err}");
}

#[test]
fn records_commit_and_scan_by_prefix() {
    let (_dir, store) = fresh();
    let mut batch = evarc_store::RecordBatch::new();
    batch.put(b"doc/1".to_vec(), b"one".to_vec());
    batch.put(b"doc/2".to_vec(), b"two".to_vec());
    batch.put(b"doz".to_vec(), b"other".to_vec());
    store.commit_records(batch).expect("commit");
    let docs = store.records_with_prefix(b"doc/").expect("scan");
    assert_eq!(docs.len(), 2);
    let last = store.last_record_with_prefix(b"doc/").expect("last");
    assert_eq!(last.map(|(k, _)| k), Some(b"doc/2".to_vec()));
    assert_eq!(
        store.last_record_with_prefix(b"nothing/").expect("none"),
        None
    );
    assert_eq!(store.record(b"doz").expect("get"), Some(b"other".to_vec()));
}

/// Issue 10 (writers queue): a second writer waits for the lock, up to its limit.
#[test]
fn a_second_writer_waits_for_the_lock() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    let wait = std::time::Duration::from_millis(300);
    let err = Store::open_waiting(&path, OpenMode::ReadWrite, wait).expect_err("still held");
    assert!(
        matches!(err, StoreError::InUse { waited_secs: 0, .. }),
        "{err}"
    );
    let released = std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            Store::open_waiting(
                &path,
                OpenMode::ReadWrite,
                std::time::Duration::from_secs(60),
            )
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        drop(store);
        waiter.join().expect("waiting thread")
    });
    let store = released.expect("the lock was released within the wait");
    assert_eq!(store.mode(), OpenMode::ReadWrite);
}
