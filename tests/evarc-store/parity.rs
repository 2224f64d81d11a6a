//! Issue 14: parity groups insure the heavily shared chunk and delta values at a fraction of a
//! full copy, heal one damaged member, never return wrong bytes, and survive a repack (also of
//! an archive written with issue 16's full copies) and a crash during it.

use std::path::Path;

use evarc_store::{BaseHint, Blake3, OpenMode, RepackOptions, Store, StoreError};

use crate::fresh;

const CFS: [&str; 6] = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];

/// Version `n` of document `doc`: each document has its own keyframe.
fn version(doc: usize, n: usize) -> Vec<u8> {
    let mut page = format!("<html><body><h1>Document {doc}</h1>\n");
    for line in 0..1200 {
        page.push_str(&format!(
            "<p>Clause {line} of document {doc}: the same words, {}.</p>\n",
            (line * 31 + doc * 7) % 97
        ));
        if line % 300 == 0 {
            page.push_str(&format!(
                "<p>Revision {n}, nonce {}</p>\n",
                n * 7919 % 10007
            ));
        }
    }
    page.push_str("</body></html>\n");
    page.into_bytes()
}

use crate::put_hinted as put;

/// Version numbers of a document's branch (another line of versions off its keyframe).
const BRANCH: usize = 1000;

/// Per document: a line of 36 versions, then a branch of 36 more off its keyframe, so that the
/// keyframe's chunk and the branch head's delta are both insured. Returns (document, version,
/// key) of every snapshot and, per document, the branch head.
fn archive_of(store: &Store, docs: usize) -> (Vec<(usize, usize, Blake3)>, Vec<Blake3>) {
    let mut keys = Vec::new();
    let mut heads = Vec::new();
    for doc in 0..docs {
        let mut hint = None;
        for n in 0..36 {
            let key = put(store, &version(doc, n), hint.map(BaseHint::After));
            keys.push((doc, n, key));
            hint = Some(key);
        }
        let head = put(store, &version(doc, BRANCH), hint.map(BaseHint::BranchFrom));
        keys.push((doc, BRANCH, head));
        heads.push(head);
        let mut hint = head;
        for n in BRANCH + 1..BRANCH + 36 {
            hint = put(store, &version(doc, n), Some(BaseHint::After(hint)));
            keys.push((doc, n, hint));
        }
    }
    (keys, heads)
}

fn raw_db(path: &Path) -> rocksdb::DB {
    rocksdb::DB::open_cf(&rocksdb::Options::default(), path, CFS).expect("open raw")
}

/// Flips one byte in the middle of the stored value `key` of column family `cf`.
fn flip(path: &Path, cf: &str, key: &[u8]) {
    let db = raw_db(path);
    let handle = db.cf_handle(cf).expect("cf");
    let mut value = db.get_cf(handle, key).expect("read").expect("present");
    let at = value.len() / 2;
    value[at] ^= 0x20;
    db.put_cf(handle, key, value).expect("write");
}

/// The 33-byte keys of both families holding insurance, by tag.
fn tags(path: &Path) -> Vec<u8> {
    let db = raw_db(path);
    let mut out = Vec::new();
    for cf in ["chunks", "deltas"] {
        for item in db.iterator_cf(db.cf_handle(cf).expect("cf"), rocksdb::IteratorMode::Start) {
            let (key, _) = item.expect("read");
            if key.len() == 33 {
                out.push(key[0]);
            }
        }
    }
    out
}

/// Every snapshot reads back exactly (cache emptied first).
fn all_read(store: &Store, keys: &[(usize, usize, Blake3)]) {
    for (doc, n, key) in keys {
        store.clear_cache();
        assert_eq!(
            store.read(*key).expect("read"),
            version(*doc, *n),
            "document {doc}, version {n}"
        );
    }
}

/// Turns the parity groups of a closed archive into issue 16's full copies (`c`‖chunk in
/// `deltas`, `d`‖snapshot in `chunks`), as an archive written before parity groups has them.
fn as_full_copies(path: &Path) -> usize {
    let db = raw_db(path);
    let (chunks, deltas) = (
        db.cf_handle("chunks").expect("cf"),
        db.cf_handle("deltas").expect("cf"),
    );
    let mut copies = 0;
    for (cf, primary, tag) in [(deltas, chunks, b'c'), (chunks, deltas, b'd')] {
        let keys: Vec<Box<[u8]>> = db
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(|item| item.expect("read").0)
            .filter(|key| key.len() == 33 && (key[0] == b'p' || key[0] == b'q'))
            .collect();
        for key in keys {
            if key[0] == b'q' {
                let value = db
                    .get_cf(primary, &key[1..])
                    .expect("read")
                    .expect("primary");
                db.put_cf(cf, [&[tag][..], &key[1..]].concat(), value)
                    .expect("copy");
                copies += 1;
            }
            db.delete_cf(cf, &key).expect("delete");
        }
    }
    copies
}

/// A damaged byte in a shared keyframe's chunk, and one in a shared delta (each a member of a
/// group with other members), is healed from parity: every snapshot reads, bytes identical.
#[test]
fn a_flipped_byte_in_a_shared_keyframe_chunk_and_delta_is_healed_from_parity() {
    let (dir, store) = fresh();
    let (keys, heads) = archive_of(&store, 3);
    drop(store);
    let path = dir.path().join("archive");
    let tags = tags(&path);
    assert!(
        !tags.contains(&b'c') && !tags.contains(&b'd'),
        "no full copies: {tags:?}"
    );
    // Three keyframe chunks and three branch heads at least, in one group per kind.
    assert!(tags.iter().filter(|t| **t == b'q').count() >= 6, "{tags:?}");
    assert_eq!(tags.iter().filter(|t| **t == b'p').count(), 2, "{tags:?}");
    flip(&path, "chunks", Blake3::of(&version(0, 0)).as_bytes());
    flip(&path, "deltas", heads[1].as_bytes());
    let store = Store::open(&path, OpenMode::ReadOnly).expect("open");
    all_read(&store, &keys);
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}

/// Two damaged members of one group (the keyframe chunks of two documents): neither can be
/// rebuilt, and both are reported as damage, never as other bytes; the third document reads.
#[test]
fn two_damaged_members_of_one_group_are_reported_never_wrong_bytes() {
    let (dir, store) = fresh();
    let (keys, _) = archive_of(&store, 3);
    drop(store);
    let path = dir.path().join("archive");
    flip(&path, "chunks", Blake3::of(&version(0, 0)).as_bytes());
    flip(&path, "chunks", Blake3::of(&version(1, 0)).as_bytes());
    let store = Store::open(&path, OpenMode::ReadOnly).expect("open");
    for (doc, n, key) in &keys {
        store.clear_cache();
        match (doc, store.read(*key)) {
            (0 | 1, Err(err)) => assert!(err.is_integrity_failure(), "{err}"),
            (0 | 1, Ok(_)) => panic!("document {doc} version {n} read despite two damaged members"),
            (_, read) => assert_eq!(read.expect("read"), version(*doc, *n)),
        }
    }
    let err: StoreError = store.read(keys[0].2).expect_err("damaged");
    assert!(err.to_string().contains(&keys[0].2.to_hex()), "{err}");
}

/// A repack of an archive written with full copies folds them into parity groups (the copies
/// are gone) and every shared value stays healable.
#[test]
fn repack_folds_full_copies_into_parity_and_keeps_every_snapshot_healable() {
    let (dir, store) = fresh();
    let (keys, heads) = archive_of(&store, 3);
    drop(store);
    let path = dir.path().join("archive");
    let copies = as_full_copies(&path);
    assert!(copies >= 6, "{copies} copies");
    {
        // The old representation reads as before.
        flip(&path, "chunks", Blake3::of(&version(2, 0)).as_bytes());
        let store = Store::open(&path, OpenMode::ReadOnly).expect("open");
        all_read(&store, &keys);
    }
    // Undo the damage (the repack would report it), then repack.
    flip(&path, "chunks", Blake3::of(&version(2, 0)).as_bytes());
    let store = Store::open(&path, OpenMode::ReadWrite).expect("open");
    let report = store
        .repack(RepackOptions::default(), |_| {})
        .expect("repack");
    assert!(report.damaged.is_empty(), "{:?}", report.damaged);
    assert_eq!(report.spares_rewritten as usize, copies, "{report:?}");
    drop(store);
    let tags = tags(&path);
    assert!(!tags.contains(&b'c') && !tags.contains(&b'd'), "{tags:?}");
    assert_eq!(tags.iter().filter(|t| **t == b'q').count(), copies);
    for doc in 0..3 {
        flip(&path, "chunks", Blake3::of(&version(doc, 0)).as_bytes());
        flip(&path, "deltas", heads[(doc + 1) % 3].as_bytes());
        let store = Store::open(&path, OpenMode::ReadOnly).expect("open");
        all_read(&store, &keys);
        drop(store);
        flip(&path, "chunks", Blake3::of(&version(doc, 0)).as_bytes());
        flip(&path, "deltas", heads[(doc + 1) % 3].as_bytes());
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("list") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A repack killed after any of its batches (the archive's files copied as they are on disk
/// at that moment, the write-ahead log replayed at the next open) leaves every snapshot
/// readable and every shared value healable, whether its copy was folded into a group yet or
/// not.
#[test]
fn a_repack_killed_after_any_batch_leaves_every_snapshot_healable() {
    let (dir, store) = fresh();
    let (keys, heads) = archive_of(&store, 2);
    drop(store);
    let path = dir.path().join("archive");
    as_full_copies(&path);
    let crashes = dir.path().join("crashes");
    let store = Store::open(&path, OpenMode::ReadWrite).expect("open");
    let taken = std::sync::atomic::AtomicUsize::new(0);
    store
        .repack(RepackOptions::default(), |_| {
            let n = taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            copy_dir(&path, &crashes.join(n.to_string()));
        })
        .expect("repack");
    drop(store);
    let taken = taken.into_inner();
    assert!(taken >= 4, "{taken} batches");
    for n in 0..taken {
        let copy = crashes.join(n.to_string());
        // Reopened as after a crash: the write-ahead log is replayed.
        drop(Store::open(&copy, OpenMode::ReadWrite).expect("reopen after the crash"));
        flip(&copy, "chunks", Blake3::of(&version(0, 0)).as_bytes());
        flip(&copy, "deltas", heads[1].as_bytes());
        let store = Store::open(&copy, OpenMode::ReadOnly).expect("open");
        all_read(&store, &keys);
        drop(store);
        std::fs::remove_dir_all(&copy).expect("remove");
    }
}
