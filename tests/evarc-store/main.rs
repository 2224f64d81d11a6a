//! Integration tests of the snapshot store: one binary, modules by topic.

mod blast_radius;
mod damage;
mod delta;
mod old_format;
mod parity;
mod put_get;
mod repack;

use evarc_store::Store;

/// A fresh archive in a temporary directory.
pub fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::init(&dir.path().join("archive")).expect("init archive");
    (dir, store)
}

/// Puts `bytes` with a base hint; their BLAKE3 key.
pub fn put_hinted(
    store: &Store,
    bytes: &[u8],
    hint: Option<evarc_store::BaseHint>,
) -> evarc_store::Blake3 {
    let options = evarc_store::PutOptions {
        base_hint: hint,
        ..evarc_store::PutOptions::default()
    };
    store
        .put_with(bytes, options, |_| {})
        .expect("put")
        .info
        .blake3
}

/// Deletes chunk `chunk`'s value from the (closed) archive at `archive`.
pub fn delete_chunk(archive: &std::path::Path, chunk: evarc_store::Blake3) {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), archive, cfs).expect("open raw");
    db.delete_cf(db.cf_handle("chunks").expect("cf"), chunk.as_bytes())
        .expect("delete the chunk");
}

/// Replaces chunk `chunk`'s value in the (closed) archive at `archive` with a valid chunk value
/// (codec 1, a zstd frame) of other bytes of the same length: damage that decodes cleanly.
pub fn swap_chunk(archive: &std::path::Path, chunk: evarc_store::Blake3, other: &[u8]) {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), archive, cfs).expect("open raw");
    let mut value = vec![1u8];
    value.extend(zstd::bulk::compress(other, 3).expect("compress"));
    db.put_cf(db.cf_handle("chunks").expect("cf"), chunk.as_bytes(), value)
        .expect("swap the chunk");
}

/// Deterministic pseudo-random bytes (xorshift), incompressible like real binary data.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
