//! Issue 16: one damaged byte must not take hundreds of snapshots with it, and every damaged
//! byte of the archive's files is found, also where no record read goes.

use evarc_store::{check_files, BaseHint, Blake3, OpenMode, Store, SPARE_DEPENDENTS};

use crate::fresh;

fn version(n: usize) -> Vec<u8> {
    let mut page = String::from("<html><body>\n");
    for line in 0..1500 {
        page.push_str(&format!(
            "<p>Clause {line}: the same words every time.</p>\n"
        ));
        if line % 400 == 0 {
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

fn raw_db(path: &std::path::Path) -> rocksdb::DB {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    rocksdb::DB::open_cf(&rocksdb::Options::default(), path, cfs).expect("open raw")
}

/// Before issue 16 a damaged keyframe failed every snapshot of the chain and every branch off
/// it (up to 300 captures on the corpus); now its spare copy, kept in another column family,
/// rebuilds them all.
#[test]
fn issue_16_a_damaged_shared_keyframe_is_read_from_its_spare_copy() {
    let (dir, store) = fresh();
    let keyframe = put(&store, &version(0), None);
    let mut keys = vec![keyframe];
    let mut hint = keyframe;
    let versions = SPARE_DEPENDENTS as usize + 8;
    for n in 1..versions {
        hint = put(&store, &version(n), Some(BaseHint::After(hint)));
        keys.push(hint);
    }
    // A branch (another document of the same publisher) off the keyframe.
    let branch = put(&store, &version(1000), Some(BaseHint::BranchFrom(hint)));
    drop(store);
    let path = dir.path().join("archive");
    {
        let db = raw_db(&path);
        let chunks = db.cf_handle("chunks").expect("cf");
        let chunk = Blake3::of(&version(0));
        db.put_cf(chunks, chunk.as_bytes(), b"\x00forged bytes")
            .expect("damage the keyframe's only chunk");
        let snapshots = db.cf_handle("snapshots").expect("cf");
        db.put_cf(snapshots, keyframe.as_bytes(), b"\x07damaged manifest")
            .expect("damage the keyframe's manifest");
    }
    let store = Store::open(&path, OpenMode::ReadOnly).expect("open");
    for (n, key) in keys.iter().enumerate() {
        assert_eq!(
            store.read(*key).expect("read through the spare"),
            version(n),
            "version {n}"
        );
    }
    assert_eq!(store.read(branch).expect("branch"), version(1000));
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.verified as usize, versions + 1);
}

/// A snapshot with few dependents keeps no spare: the archive grows only by the copies of the
/// few snapshots many others are built on.
#[test]
fn issue_16_spare_copies_stay_few() {
    let (dir, store) = fresh();
    let mut hint = put(&store, &version(0), None);
    for n in 1..20 {
        hint = put(&store, &version(n), Some(BaseHint::After(hint)));
    }
    drop(store);
    let db = raw_db(&dir.path().join("archive"));
    let spares = db
        .iterator_cf(
            db.cf_handle("deltas").expect("cf"),
            rocksdb::IteratorMode::Start,
        )
        .filter(|item| item.as_ref().expect("read").0.len() == 33)
        .count();
    assert_eq!(
        spares, 0,
        "20 versions: no ancestor has {SPARE_DEPENDENTS} dependents"
    );
}

/// Before issue 16 a flipped byte where no record read goes (here: the padding of a table
/// file's footer) left `verify --all` clean. The file check reads every byte against a checksum
/// or the format, and names the file and offset.
#[test]
fn issue_16_a_flipped_byte_no_read_touches_is_found_by_the_file_check() {
    let (dir, store) = fresh();
    let key = put(&store, &version(0), None);
    drop(store);
    let path = dir.path().join("archive");
    let clean = check_files(&path).expect("check");
    assert!(clean.is_clean(), "{:?}", clean.damage().collect::<Vec<_>>());
    let (files, _, blocks) = clean.checked();
    assert!(files >= 3 && blocks >= 10, "{files} files, {blocks} blocks");
    let table = std::fs::read_dir(&path)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|x| x == "sst"))
        .expect("a table file");
    let mut bytes = std::fs::read(&table).expect("read");
    let at = bytes.len() - 53 + 30; // inside the footer's zero padding
    bytes[at] ^= 0x40;
    std::fs::write(&table, &bytes).expect("write");
    let store = Store::open(&path, OpenMode::ReadOnly).expect("still opens");
    assert_eq!(store.read(key).expect("still reads"), version(0));
    let report = check_files(&path).expect("check");
    let damage: Vec<_> = report.damage().collect();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(damage[0].offset, at as u64);
    assert!(damage[0].reason.contains("padding"), "{}", damage[0]);
    // Every other byte of the same file: a block checksum or the footer catches each flip.
    for offset in (0..bytes.len()).step_by(97) {
        let mut copy = std::fs::read(&table).expect("read");
        copy[at] ^= 0x40; // undo
        copy[offset] ^= 0x01;
        std::fs::write(&table, &copy).expect("write");
        let report = check_files(&path).expect("check");
        assert!(
            !report.is_clean(),
            "a flip at offset {offset} went unnoticed"
        );
        copy[offset] ^= 0x01;
        copy[at] ^= 0x40;
        std::fs::write(&table, &copy).expect("write");
    }
}

/// The index block of a table file (at the handle its footer records).
fn index_block(table: &[u8]) -> (usize, usize) {
    let footer = &table[table.len() - 53..];
    let mut at = 1;
    let mut varint = || {
        let mut value = 0usize;
        for shift in (0..64).step_by(7) {
            let byte = footer[at];
            at += 1;
            value |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    };
    let (_metaindex, _metaindex_len) = (varint(), varint());
    (varint(), varint())
}

/// Before, a flipped byte in the index block of the `deltas` table made RocksDB refuse the whole
/// file: every delta snapshot without a spare failed (on the corpus, the archive's deltas). The
/// data blocks are intact, and are now read without the index: nothing is lost, and the file
/// check still reports the damage.
#[test]
fn issue_16_a_flipped_byte_in_a_table_index_block_loses_no_snapshot() {
    let (dir, store) = fresh();
    let mut keys = vec![put(&store, &version(0), None)];
    for n in 1..20 {
        let hint = *keys.last().expect("a version");
        keys.push(put(&store, &version(n), Some(BaseHint::After(hint))));
    }
    drop(store);
    let path = dir.path().join("archive");
    let table = {
        let db = raw_db(&path);
        let files = db.live_files().expect("live files");
        files
            .into_iter()
            .find(|f| f.column_family_name == "deltas")
            .expect("a table of deltas")
            .name
    };
    let table = path.join(table.trim_start_matches('/'));
    let mut bytes = std::fs::read(&table).expect("read");
    let (index, index_len) = index_block(&bytes);
    bytes[index + index_len / 2] ^= 0x10;
    std::fs::write(&table, &bytes).expect("write");

    let store = Store::open(&path, OpenMode::ReadOnly).expect("opens");
    for (n, key) in keys.iter().enumerate() {
        assert_eq!(store.read(*key).expect("read"), version(n), "version {n}");
    }
    let report = store.scrub(|_, _| {}).expect("scrub");
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.verified, 20);
    let files = check_files(&path).expect("check");
    let damage: Vec<_> = files.damage().collect();
    assert!(
        damage
            .iter()
            .any(|d| d.offset == index as u64 && d.reason.starts_with("index block")),
        "{damage:?}"
    );
}

/// Issue 11: spares were re-compressed at zstd level 19 as they were written (against the
/// rebuilt base for deltas), the largest CPU item of a corpus import. Since issue 14 the values
/// are insured by parity groups over the primary values as stored (no copy at all), which still
/// rebuild what they stand in for.
#[test]
fn shared_values_are_insured_by_parity_over_the_stored_values_not_copies() {
    let (dir, store) = fresh();
    let keyframe = put(&store, &version(0), None);
    let mut hint = keyframe;
    for n in 1..40 {
        hint = put(&store, &version(n), Some(BaseHint::After(hint)));
    }
    // A branch with more than SPARE_DEPENDENTS versions: its head's delta gets insured.
    let head = put(&store, &version(1000), Some(BaseHint::BranchFrom(hint)));
    let mut hint = head;
    for n in 1001..1040 {
        hint = put(&store, &version(n), Some(BaseHint::After(hint)));
    }
    drop(store);
    let db = raw_db(&dir.path().join("archive"));
    let (chunks, deltas) = (
        db.cf_handle("chunks").expect("cf"),
        db.cf_handle("deltas").expect("cf"),
    );
    // Members indexed (`q`‖key) beside their groups (`p`‖number), in the other family; no
    // full copies (`c`, `d`).
    let mut tags = Vec::new();
    for (cf, primary_cf) in [(deltas, chunks), (chunks, deltas)] {
        for item in db.iterator_cf(cf, rocksdb::IteratorMode::Start) {
            let (key, _) = item.expect("read");
            if key.len() == 33 {
                tags.push(key[0]);
                if key[0] == b'q' {
                    assert!(
                        db.get_cf(primary_cf, &key[1..]).expect("read").is_some(),
                        "a member's primary"
                    );
                }
            }
        }
    }
    assert!(!tags.contains(&b'c') && !tags.contains(&b'd'), "{tags:?}");
    assert!(tags.contains(&b'p') && tags.contains(&b'q'), "{tags:?}");
    assert!(
        db.get_cf(chunks, [&[b'q'][..], head.as_bytes()].concat())
            .expect("read")
            .is_some(),
        "the branch head's delta is insured"
    );
    assert!(
        db.get_cf(
            deltas,
            [&[b'q'][..], Blake3::of(&version(0)).as_bytes()].concat()
        )
        .expect("read")
        .is_some(),
        "the keyframe's chunk is insured"
    );
    // The parity group rebuilds the branch head when its primary is gone.
    db.delete_cf(deltas, head.as_bytes()).expect("delete");
    drop(db);
    let store = Store::open(&dir.path().join("archive"), OpenMode::ReadOnly).expect("open");
    assert_eq!(
        store.read(head).expect("read through the parity group"),
        version(1000)
    );
}
