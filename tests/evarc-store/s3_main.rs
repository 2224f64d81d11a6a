//! The store suites `put_get` and `delta` again, with snapshot bytes in a bucket of a real S3
//! server (s3s-fs, tests/s3_server.rs): the same tests as in `store`, not copies — `fresh`
//! creates each archive on the bucket here (issue 14). Without s3s-fs they run locally and
//! say so; `EVARC_REQUIRE_S3=1` (CI) makes that an error.

#[path = "../s3_server.rs"]
mod s3_server;

mod delta;
mod put_get;
mod s3_owner;
mod s3_reads;
mod s3_server_cleanup;

use evarc_store::{BlobsConfig, Store};

/// The shared server; its settings are put in this process's environment once, before any
/// archive is opened (the store reads `AWS_*` at each open, as in production).
pub fn server() -> Option<&'static s3_server::S3Server> {
    static SERVER: std::sync::OnceLock<Option<s3_server::S3Server>> = std::sync::OnceLock::new();
    SERVER
        .get_or_init(|| {
            let server = s3_server::S3Server::start("the store tests on a bucket")?;
            for (name, value) in server.env() {
                std::env::set_var(name, value);
            }
            Some(server)
        })
        .as_ref()
}

/// A fresh archive in a temporary directory, its snapshot bytes on the S3 server.
pub fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("archive");
    let store = match server() {
        Some(_) => {
            let url = format!(
                "s3://{}/{}",
                s3_server::BUCKET,
                s3_server::unique_prefix("store")
            );
            std::fs::write(dir.path().join(".blobs-url"), &url).expect("note the URL");
            let config = BlobsConfig::parse(&url).expect("a valid URL");
            Store::init_with(&path, Some(config)).expect("init archive on the bucket")
        }
        None => Store::init(&path).expect("init archive"),
    };
    (dir, store)
}

/// Deletes chunk `chunk`'s object from the bucket of the archive at `archive` (made by
/// `fresh`), and the local cache: the bucket lost it.
pub fn delete_chunk(archive: &std::path::Path, chunk: evarc_store::Blake3) {
    let Some(server) = server() else {
        let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
        let db =
            rocksdb::DB::open_cf(&rocksdb::Options::default(), archive, cfs).expect("open raw");
        db.delete_cf(db.cf_handle("chunks").expect("cf"), chunk.as_bytes())
            .expect("delete the chunk");
        return;
    };
    std::fs::remove_file(chunk_object(server, archive, chunk)).expect("delete the chunk's object");
    let _ = std::fs::remove_dir_all(archive.join("blob-cache"));
}

/// The file of the S3 server holding chunk `chunk`'s object for the archive at `archive`.
fn chunk_object(
    server: &s3_server::S3Server,
    archive: &std::path::Path,
    chunk: evarc_store::Blake3,
) -> std::path::PathBuf {
    let parent = archive.parent().expect("the archive's parent");
    let url = std::fs::read_to_string(parent.join(".blobs-url")).expect("the archive's URL");
    let hex = chunk.to_hex();
    server
        .root()
        .join(url.trim_start_matches("s3://"))
        .join("chunks")
        .join(&hex[..2])
        .join(&hex)
}

/// Replaces chunk `chunk`'s value with a valid chunk value of other bytes (as main.rs does), in
/// the bucket of the archive at `archive` (made by `fresh`), and drops the local cache.
pub fn swap_chunk(archive: &std::path::Path, chunk: evarc_store::Blake3, other: &[u8]) {
    let mut value = vec![1u8];
    value.extend(zstd::bulk::compress(other, 3).expect("compress"));
    let Some(server) = server() else {
        let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
        let db =
            rocksdb::DB::open_cf(&rocksdb::Options::default(), archive, cfs).expect("open raw");
        db.put_cf(db.cf_handle("chunks").expect("cf"), chunk.as_bytes(), value)
            .expect("swap the chunk");
        return;
    };
    std::fs::write(chunk_object(server, archive, chunk), value).expect("swap the chunk's object");
    let _ = std::fs::remove_dir_all(archive.join("blob-cache"));
}

/// Deterministic pseudo-random bytes (xorshift), as in main.rs.
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
