//! Delta snapshots: chains stay short, reads rebuild exact bytes, damage to a base is named.

use evarc_store::{BaseHint, Blake3, OpenMode, PutOptions, Store, StoreError};

use crate::fresh;

/// Version `n` of a synthetic page: mostly shared text, a few lines that change.
fn version(n: usize) -> Vec<u8> {
    let mut page = String::from("<html><body>\n");
    for line in 0..2000 {
        page.push_str(&format!(
            "<p>Clause {line}: the same words every time.</p>\n"
        ));
        if line % 500 == 0 {
            page.push_str(&format!(
                "<p>Revision {n}, nonce {}</p>\n",
                n * 7919 % 10007
            ));
        }
    }
    page.push_str("</body></html>\n");
    page.into_bytes()
}

fn put_after(store: &Store, bytes: &[u8], hint: Option<Blake3>) -> evarc_store::PutOutcome {
    let options = PutOptions {
        base_hint: hint.map(BaseHint::After),
        ..PutOptions::default()
    };
    store.put_with(bytes, options, |_| {}).expect("put")
}

#[test]
fn a_history_of_versions_is_stored_as_small_deltas_and_reads_back_exactly() {
    let (dir, store) = fresh();
    let mut keys = Vec::new();
    let mut hint = None;
    let mut stored = 0;
    for n in 0..100 {
        let out = put_after(&store, &version(n), hint);
        assert!(out.new);
        if n > 0 {
            stored += out.stored_bytes;
        }
        hint = Some(out.info.blake3);
        keys.push(out.info.blake3);
    }
    let raw = version(1).len() as u64;
    assert!(
        stored < 99 * raw / 50,
        "99 deltas take {stored} bytes for {raw}-byte versions"
    );
    drop(store);
    // A fresh process: nothing cached, every read rebuilds its chain.
    let store = Store::open(&dir.path().join("archive"), OpenMode::ReadOnly).expect("open");
    for (n, key) in keys.iter().enumerate() {
        assert_eq!(store.read(*key).expect("read"), version(n), "version {n}");
    }
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.verified, 100);
}

#[test]
fn damage_to_a_base_fails_every_snapshot_built_on_it_and_no_other() {
    let (dir, store) = fresh();
    let first = put_after(&store, &version(0), None).info;
    let second = put_after(&store, &version(1), Some(first.blake3)).info;
    let other = store.put(&b"unrelated bytes"[..]).expect("put").info;
    drop(store);
    // The keyframe's chunk is lost (from RocksDB, or from the bucket in `store_s3`).
    crate::delete_chunk(&dir.path().join("archive"), Blake3::of(&version(0)));
    let store = Store::open(&dir.path().join("archive"), OpenMode::ReadOnly).expect("open");
    let err = store
        .read(second.blake3)
        .expect_err("delta on a damaged base");
    assert!(
        matches!(err, StoreError::BaseDamaged { base, .. } if base == first.blake3),
        "{err}"
    );
    assert!(err.is_integrity_failure());
    assert_eq!(
        store.read(other.blake3).expect("unrelated"),
        b"unrelated bytes"
    );
    let report = store.scrub(|_, _| {}).expect("scrub");
    let failed: Vec<Blake3> = report.failures.iter().map(|f| f.blake3).collect();
    assert_eq!(failed.len(), 2, "{report:?}");
    assert!(failed.contains(&first.blake3) && failed.contains(&second.blake3));
    assert_eq!(report.verified, 1);
}

/// A keyframe whose chunk was swapped for other bytes that decode cleanly: a read of a delta on
/// it (which hashes only its result) still fails, and names the keyframe, never the delta alone.
#[test]
fn a_keyframe_chunk_that_decodes_to_other_bytes_is_named_by_reads_of_its_deltas() {
    let (dir, store) = fresh();
    let first = put_after(&store, &version(0), None).info;
    let second = put_after(&store, &version(1), Some(first.blake3)).info;
    drop(store);
    let mut other = version(0);
    other[10] ^= 0x20;
    crate::swap_chunk(&dir.path().join("archive"), Blake3::of(&version(0)), &other);
    let store = Store::open(&dir.path().join("archive"), OpenMode::ReadOnly).expect("open");
    for _ in 0..2 {
        let err = store
            .read(second.blake3)
            .expect_err("delta on a swapped keyframe");
        assert!(
            matches!(&err, StoreError::BaseDamaged { base, .. } if *base == first.blake3),
            "{err}"
        );
        assert!(err.is_integrity_failure());
    }
    assert!(
        store.read(first.blake3).is_err(),
        "the keyframe itself fails"
    );
}
