//! Issue 14: reading one snapshot of an archive on a bucket fetches only the objects that
//! snapshot needs (its chunks, or its delta and those of its base chain), each once, and
//! nothing of the rest of the archive; a second read is answered by the local blob cache.

use evarc_store::{BaseHint, Blake3, OpenMode, PutOptions, Store, CHUNK_SIZE};

use crate::{fresh, noise};

/// Version `n` of a page: 2,000 shared lines, a few that change.
fn version(n: usize) -> Vec<u8> {
    let mut page = String::new();
    for line in 0..2000 {
        page.push_str(&format!("<p>Clause {line}: the same words.</p>\n"));
        if line % 400 == 0 {
            page.push_str(&format!(
                "<p>Revision {n}, nonce {}</p>\n",
                n * 7919 % 10007
            ));
        }
    }
    page.into_bytes()
}

/// Size in the server's directory of the object `kind/hex[..2]/hex` of the archive in `dir`.
fn object_size(dir: &std::path::Path, kind: &str, key: Blake3) -> u64 {
    let server = crate::server().expect("the S3 server");
    let url = std::fs::read_to_string(dir.join(".blobs-url")).expect("the archive's URL");
    let hex = key.to_hex();
    let path = server
        .root()
        .join(url.trim_start_matches("s3://"))
        .join(kind)
        .join(&hex[..2])
        .join(&hex);
    std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .len()
}

#[test]
fn reading_one_snapshot_from_a_bucket_fetches_only_its_own_objects() {
    if crate::server().is_none() {
        eprintln!(
            "SKIPPED reading_one_snapshot_from_a_bucket_fetches_only_its_own_objects: no S3 server"
        );
        return;
    }
    let (dir, store) = fresh();
    let archive = store.path().to_owned();
    // A 3-chunk snapshot of incompressible bytes, five 1-chunk ones, 40 versions of a page.
    let big = noise(3 * CHUNK_SIZE, 11);
    let big_key = store.put(&big[..]).expect("put").info.blake3;
    for seed in 0..5 {
        store.put(&noise(CHUNK_SIZE, 100 + seed)[..]).expect("put");
    }
    let mut versions = Vec::new();
    let mut hint = None;
    for n in 0..40 {
        let options = PutOptions {
            base_hint: hint.map(BaseHint::After),
            ..PutOptions::default()
        };
        let key = store
            .put_with(&version(n)[..], options, |_| {})
            .expect("put a version")
            .info
            .blake3;
        hint = Some(key);
        versions.push(key);
    }
    drop(store);
    let cache = archive.join("blob-cache");
    std::fs::remove_dir_all(&cache).expect("empty the blob cache");

    // The multi-chunk snapshot: its three chunk objects, whole, once each.
    let store = Store::open(&archive, OpenMode::ReadOnly).expect("open");
    assert_eq!(store.read(big_key).expect("read"), big);
    let chunk_bytes: u64 = big
        .chunks(CHUNK_SIZE)
        .map(|raw| object_size(dir.path(), "chunks", Blake3::of(raw)))
        .sum();
    let fetched = store.blob_fetches().expect("an archive on a bucket");
    assert_eq!((fetched.objects, fetched.bytes), (3, chunk_bytes));
    // Read again: the local cache answers, nothing more is fetched.
    store.clear_cache();
    assert_eq!(store.read(big_key).expect("read again"), big);
    let again = store.blob_fetches().expect("an archive on a bucket");
    assert_eq!((again.objects, again.bytes), (3, chunk_bytes));
    assert_eq!(again.cache_hits, 3);
    drop(store);

    // A version deep in the history: its chain's objects only (a keyframe's chunk and a few
    // deltas), never the 40 versions nor the other snapshots.
    std::fs::remove_dir_all(&cache).expect("empty the blob cache");
    let store = Store::open(&archive, OpenMode::ReadOnly).expect("open");
    assert_eq!(store.read(versions[30]).expect("read"), version(30));
    let fetched = store.blob_fetches().expect("an archive on a bucket");
    let mut total_objects = 0u64;
    let mut total_bytes = 0u64;
    for key in &versions[1..] {
        total_objects += 1;
        total_bytes += object_size(dir.path(), "deltas", *key);
    }
    assert!(
        (2..=10).contains(&fetched.objects),
        "{} objects fetched for one version",
        fetched.objects
    );
    // The keyframe (version 0, one chunk) and some of the deltas: fewer bytes than the whole
    // history, and nothing of the 8 MiB of other snapshots.
    let keyframe = object_size(dir.path(), "chunks", Blake3::of(&version(0)));
    assert!(
        fetched.bytes > keyframe && fetched.bytes < keyframe + total_bytes,
        "{} bytes fetched; the keyframe has {keyframe}, the history's {total_objects} deltas {total_bytes}",
        fetched.bytes
    );
    // What was fetched is what the cache now holds: each object once.
    let cached: Vec<u64> = walk(&cache);
    assert_eq!(cached.len() as u64, fetched.objects);
    assert_eq!(cached.iter().sum::<u64>(), fetched.bytes);
}

/// Sizes of the files under `dir`.
fn walk(dir: &std::path::Path) -> Vec<u64> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read the cache").flatten() {
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            out.extend(walk(&entry.path()));
        } else {
            out.push(meta.len());
        }
    }
    out
}
