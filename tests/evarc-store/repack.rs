//! Issue 14: a repack re-encodes stored values smaller, keeps every read exact and every chain
//! as it was, keeps spare copies valid, and readers keep reading while it runs.

use std::sync::atomic::{AtomicBool, Ordering};

use evarc_store::{BaseHint, Blake3, OpenMode, RepackOptions, Store, SPARE_DEPENDENTS};

use crate::fresh;

/// Version `n` of a page: shared text, a changing line, and a paragraph that comes and goes
/// (what level 3 with one base leaves on the table).
fn version(n: usize) -> Vec<u8> {
    let mut page = String::from("<html><body>\n");
    for line in 0..1500 {
        page.push_str(&format!(
            "<p>Clause {line}: the same words every time, {}.</p>\n",
            line * 31 % 97
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

/// A chain of `n` versions and a branch off its keyframe; returns the keys in version order
/// (the branch last, as version 1000).
fn history(store: &Store, n: usize) -> Vec<(usize, Blake3)> {
    let mut keys = Vec::new();
    let mut hint = None;
    for v in 0..n {
        let key = put(store, &version(v), hint.map(BaseHint::After));
        hint = Some(key);
        keys.push((v, key));
    }
    let branch = put(store, &version(1000), hint.map(BaseHint::BranchFrom));
    keys.push((1000, branch));
    keys
}

/// A raw key and value of a column family.
type KeyValue = (Box<[u8]>, Box<[u8]>);

/// Every manifest of the closed archive at `path`, read with RocksDB alone.
fn manifests(path: &std::path::Path) -> Vec<KeyValue> {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    let db = rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), path, cfs, false)
        .expect("raw open");
    db.iterator_cf(
        db.cf_handle("snapshots").expect("cf"),
        rocksdb::IteratorMode::Start,
    )
    .map(|item| item.expect("read"))
    .collect()
}

/// The codec byte of every primary delta value of the closed archive at `path`.
fn delta_codecs(path: &std::path::Path) -> Vec<u8> {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    let db = rocksdb::DB::open_cf_for_read_only(&rocksdb::Options::default(), path, cfs, false)
        .expect("raw open");
    db.iterator_cf(
        db.cf_handle("deltas").expect("cf"),
        rocksdb::IteratorMode::Start,
    )
    .map(|item| item.expect("read"))
    .filter(|(key, _)| key.len() == 32)
    .map(|(_, value)| value[0])
    .collect()
}

#[test]
fn repack_makes_values_smaller_and_every_read_exact() {
    let (dir, store) = fresh();
    let path = dir.path().join("archive");
    let keys = history(&store, SPARE_DEPENDENTS as usize + 10);
    drop(store);
    let manifests_before = manifests(&path);
    let store = Store::open(&path, OpenMode::ReadWrite).expect("open");
    store.flush_all().expect("flush");
    let before = store.space().expect("space");
    let report = store
        .repack(RepackOptions { level: 19 }, |_| {})
        .expect("repack");
    assert_eq!(report.snapshots as usize, keys.len());
    assert!(report.damaged.is_empty(), "{:?}", report.damaged);
    assert!(report.deltas_rewritten > 0, "{report:?}");
    assert!(
        report.value_bytes_after < report.value_bytes_before,
        "{report:?}"
    );
    let after = store.space().expect("space");
    // The same values, by kind and count; only their bytes changed.
    let counts = |s: &evarc_store::SpaceReport| {
        s.values
            .iter()
            .map(|(k, (n, _))| (k.clone(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&before), counts(&after));
    assert!(
        after.values["deltas"].1 < before.values["deltas"].1,
        "{before:?} {after:?}"
    );
    assert!(after.values.contains_key("parity groups"), "{after:?}");
    // A second repack finds nothing more to shrink.
    let again = store
        .repack(RepackOptions { level: 19 }, |_| {})
        .expect("repack again");
    assert_eq!(
        again.deltas_rewritten + again.chunks_rewritten,
        0,
        "{again:?}"
    );
    drop(store);
    // Chains as they were: every manifest (base, position, depth) unchanged.
    assert_eq!(manifests(&path), manifests_before);
    // Deltas deep enough in their chain became path deltas (codec 3), the first ones of a run
    // stayed deltas on their base alone (codec 2).
    let codecs = delta_codecs(&path);
    assert!(codecs.contains(&3) && codecs.contains(&2), "{codecs:?}");
    let store = Store::open(&path, OpenMode::ReadOnly).expect("open");
    for (v, key) in &keys {
        store.clear_cache();
        assert_eq!(store.read(*key).expect("read"), version(*v), "version {v}");
    }
    let scrub = store.scrub(|_, _| {}).expect("scrub");
    assert!(scrub.is_clean(), "{scrub:?}");
    assert_eq!(scrub.verified as usize, keys.len());
}

/// Spare copies re-encoded by the repack still rebuild a damaged shared keyframe and its
/// dependents (issue 16's guarantee holds after a repack).
#[test]
fn after_repack_a_damaged_shared_keyframe_is_still_read_from_its_spare() {
    let (dir, store) = fresh();
    let keys = history(&store, SPARE_DEPENDENTS as usize + 8);
    store
        .repack(RepackOptions::default(), |_| {})
        .expect("repack");
    drop(store);
    let path = dir.path().join("archive");
    {
        let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &path, cfs).expect("raw");
        let chunks = db.cf_handle("chunks").expect("cf");
        db.put_cf(chunks, Blake3::of(&version(0)).as_bytes(), b"\x00forged")
            .expect("damage the keyframe's chunk");
    }
    let store = Store::open(&path, OpenMode::ReadOnly).expect("open");
    for (v, key) in &keys {
        assert_eq!(store.read(*key).expect("read"), version(*v), "version {v}");
    }
}

/// Readers opened before and during a repack read every snapshot exactly, throughout.
#[test]
fn readers_beside_a_repack_read_every_snapshot_exactly() {
    let (dir, store) = fresh();
    let keys = history(&store, 40);
    let path = dir.path().join("archive");
    let expected: Vec<(Blake3, Vec<u8>)> = keys.iter().map(|(v, k)| (*k, version(*v))).collect();
    let done = AtomicBool::new(false);
    let reads = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0u32;
            let mut rounds = 0u32;
            while !done.load(Ordering::Relaxed) || rounds < 2 {
                let reader = Store::open(&path, OpenMode::ReadOnly).expect("open beside");
                for (key, bytes) in &expected {
                    reader.clear_cache();
                    assert_eq!(&reader.read(*key).expect("read beside repack"), bytes);
                    reads += 1;
                }
                rounds += 1;
            }
            reads
        });
        let report = store
            .repack(RepackOptions::default(), |_| {})
            .expect("repack");
        assert!(report.deltas_rewritten > 0);
        done.store(true, Ordering::Relaxed);
        reader.join().expect("reader")
    });
    assert!(reads as usize >= 2 * keys.len());
}

#[test]
fn repack_refuses_a_level_outside_zstd_range() {
    let (_dir, store) = fresh();
    let err = store
        .repack(RepackOptions { level: 23 }, |_| {})
        .expect_err("level 23");
    assert!(
        err.to_string().contains("zstd level 23 is outside 1 to 22"),
        "{err}"
    );
}

#[test]
fn repack_marks_the_archive_format_3_so_older_readers_refuse_it() {
    let (_dir, store) = fresh();
    history(&store, 12);
    assert_eq!(store.format_version().expect("format version"), 2);
    store
        .repack(RepackOptions::default(), |_| {})
        .expect("repack");
    assert_eq!(store.format_version().expect("format version"), 3);
    let path = store.path().to_path_buf();
    drop(store);
    // This evarc still opens it, for reading and writing, and leaves the version alone.
    let reopened = Store::open(&path, OpenMode::ReadWrite).expect("reopen");
    assert_eq!(reopened.format_version().expect("format version"), 3);
}
