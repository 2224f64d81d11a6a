//! Issue 14: two copies of one archive (the original and a copy restored from its bucket) both
//! open for writing on one prefix. The copy that writes a record segment second finds the
//! number taken (asked first, then a conditional create, `If-None-Match: *`, which s3s-fs
//! honours) and is refused, never overwriting the other's segment: the bucket holds one copy's
//! records, never a mixture.

use evarc_store::{BlobStore as _, BlobsConfig, S3Blobs, Store, StoreError};

use crate::{fresh, noise};

/// Every segment object of the prefix of the archive made by `fresh` in `dir`, with its bytes.
fn segments(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let server = crate::server().expect("the S3 server");
    let url = std::fs::read_to_string(dir.join(".blobs-url")).expect("the archive's URL");
    let records = server
        .root()
        .join(url.trim_start_matches("s3://"))
        .join("records");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&records)
        .expect("the prefix has records")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read a segment"))
        })
        .filter(|(name, _)| name.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    out.sort();
    out
}

#[test]
fn a_segment_another_copy_wrote_meanwhile_is_never_overwritten() {
    if crate::server().is_none() {
        eprintln!(
            "SKIPPED a_segment_another_copy_wrote_meanwhile_is_never_overwritten: no S3 server"
        );
        return;
    }
    let (dir, original) = fresh();
    original.put(&noise(40_000, 1)[..]).expect("put");
    original.sync().expect("sync");
    let id = original.archive_id().expect("read").expect("an ID");
    let url = std::fs::read_to_string(dir.path().join(".blobs-url")).expect("the URL");
    let config = BlobsConfig::parse(&url).expect("a valid URL");

    // Restored elsewhere while the original stays open, and written to first.
    let (restored, _) = Store::restore(&config, &dir.path().join("restored")).expect("restore");
    assert_eq!(restored.archive_id().expect("read"), Some(id));
    restored.put(&noise(40_000, 2)[..]).expect("put");
    restored.sync().expect("sync");
    let before = segments(dir.path());

    // The original's next segment would take the same number: refused, the other's kept.
    let err = original
        .put(&noise(40_000, 3)[..])
        .expect_err("the original must be refused");
    match &err {
        StoreError::PrefixDiverged {
            url: named,
            id: named_id,
            reason,
            ..
        } => {
            assert_eq!(named, &url);
            assert_eq!(named_id, &id.to_string());
            // Refused at the segment's write, not by a listing at open.
            assert_eq!(reason, "it appeared while this copy was writing", "{err}");
        }
        other => panic!("expected PrefixDiverged, got {other}"),
    }
    assert_eq!(segments(dir.path()), before);
    // And stays refused (its closing upload too): the bucket still holds the restored copy's
    // records only.
    drop(original);
    assert_eq!(segments(dir.path()), before);
    restored
        .put(&noise(40_000, 4)[..])
        .expect("the restored copy goes on");
    restored.sync().expect("sync");
    assert_eq!(segments(dir.path()).len(), before.len() + 1);
}

#[test]
fn a_conditional_create_never_overwrites_an_object() {
    if crate::server().is_none() {
        eprintln!("SKIPPED a_conditional_create_never_overwrites_an_object: no S3 server");
        return;
    }
    let url = format!(
        "s3://{}/{}",
        crate::s3_server::BUCKET,
        crate::s3_server::unique_prefix("create")
    );
    let s3 = S3Blobs::connect(&BlobsConfig::parse(&url).expect("a valid URL")).expect("connect");
    assert!(s3
        .put_new("records/0000000000000000", b"one".to_vec())
        .expect("create"));
    assert!(!s3
        .put_new("records/0000000000000000", b"two".to_vec())
        .expect("a second create is answered, not an error"));
    assert_eq!(
        s3.get("records/0000000000000000").expect("get"),
        Some(b"one".to_vec())
    );
}
