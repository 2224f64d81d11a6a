//! Issue 11/13 corpus figures: version texts kept as delta snapshots, and the version pass of
//! bulk imports (captures stored first, their versions computed afterwards).

use evarc_provenance::{Archive, CaptureRequest, DocumentRef, Durability, RecordKind};

use crate::fixture::utc;

const URL: &str = "https://acme.example/terms";

fn archive() -> (tempfile::TempDir, Archive) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    (dir, archive)
}

fn terms() -> DocumentRef {
    DocumentRef::Named {
        entity: "Acme".to_owned(),
        title: "Terms".to_owned(),
        source_url: Some(URL.to_owned()),
        id: None,
    }
}

/// Five captures: a nonce changes every time, the clause twice.
fn pages() -> Vec<(Vec<u8>, chrono::DateTime<chrono::Utc>)> {
    [
        ("a", "You may cancel at any time."),
        ("b", "You may cancel at any time."),
        ("c", "You may cancel within 30 days."),
        ("d", "You may cancel within 30 days."),
        ("e", "You may cancel within 14 days."),
    ]
    .iter()
    .enumerate()
    .map(|(i, (nonce, clause))| {
        let page = format!(
            "<html><head><script nonce=\"{nonce}\">x()</script></head><body><main><h1>Terms</h1><p>{clause}</p></main></body></html>"
        );
        (page.into_bytes(), utc(2026, 5, i as u32 + 1, 0, 0, 0))
    })
    .collect()
}

/// Versions (number, text SHA-256, captures) and standing change records (ID, date, new text).
type Timeline = (Vec<(usize, String, usize)>, Vec<(String, String, String)>);

/// The versions and standing change records of the archive's first document, in a form that
/// two archives built differently can be compared by.
fn timeline(archive: &Archive) -> Timeline {
    let id: evarc_provenance::id::DocumentId = "CA-D-00001".parse().expect("document ID");
    let versions = archive.versions(&id).expect("versions");
    assert!(versions.unindexed.is_empty(), "{:?}", versions.unindexed);
    let versions = versions
        .versions
        .iter()
        .map(|v| (v.number, v.text_sha256.clone(), v.captures.len()))
        .collect();
    let changes = archive
        .changes_of(&id)
        .expect("changes")
        .into_iter()
        .filter(|c| c.superseded.is_none())
        .map(|c| {
            (
                c.id.to_string(),
                c.capture.captured_at.to_rfc3339(),
                c.to_text_sha256,
            )
        })
        .collect();
    (versions, changes)
}

fn inline_reference() -> (tempfile::TempDir, Archive) {
    let (dir, archive) = archive();
    let now = utc(2026, 6, 1, 0, 0, 0);
    for (bytes, at) in pages() {
        archive
            .capture(&bytes[..], CaptureRequest::file_import(terms(), at), now)
            .expect("capture");
    }
    (dir, archive)
}

#[test]
fn version_pass_after_deferred_captures_gives_what_capturing_inline_gives() {
    let (_ref_dir, reference) = inline_reference();
    let (_dir, archive) = archive();
    let now = utc(2026, 6, 1, 0, 0, 0);
    for (bytes, at) in pages() {
        archive
            .capture_deferring_version(
                &bytes[..],
                CaptureRequest::file_import(terms(), at),
                now,
                Durability::Deferred,
            )
            .expect("capture");
    }
    let id: evarc_provenance::id::DocumentId = "CA-D-00001".parse().expect("document ID");
    // Before the pass (or after a crash before it): no version, no change record.
    let before = archive.versions(&id).expect("versions");
    assert_eq!((before.versions.len(), before.unindexed.len()), (0, 5));
    assert!(archive.changes_of(&id).expect("changes").is_empty());
    let pass = archive
        .index_versions(std::slice::from_ref(&id), 2, now)
        .expect("pass");
    assert_eq!(pass.captures_indexed, 5);
    assert_eq!(pass.documents_indexed, 1);
    assert_eq!(
        pass.changes_new
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["CA-C-000001", "CA-C-000002"]
    );
    assert_eq!(timeline(&archive), timeline(&reference));
    // A second pass finds nothing to do.
    let again = archive.index_versions(&[id], 2, now).expect("pass");
    assert_eq!((again.captures_indexed, again.documents_unchanged), (0, 1));
    assert_eq!(timeline(&archive), timeline(&reference));
}

/// A crash between storing captures and the version pass, then an inline capture: the inline
/// capture makes no change record against captures without text (it would be wrong), and the
/// next pass completes the document as if nothing had happened.
#[test]
fn crash_before_the_version_pass_never_gives_a_wrong_change_record() {
    let (_ref_dir, reference) = inline_reference();
    let (_dir, archive) = archive();
    let now = utc(2026, 6, 1, 0, 0, 0);
    let pages = pages();
    for (bytes, at) in &pages[..4] {
        archive
            .capture_deferring_version(
                &bytes[..],
                CaptureRequest::file_import(terms(), *at),
                now,
                Durability::Deferred,
            )
            .expect("capture");
    }
    let (bytes, at) = &pages[4];
    archive
        .capture(&bytes[..], CaptureRequest::file_import(terms(), *at), now)
        .expect("inline capture");
    let id: evarc_provenance::id::DocumentId = "CA-D-00001".parse().expect("document ID");
    assert!(archive.changes_of(&id).expect("changes").is_empty());
    let pass = archive.index_versions(&[id], 1, now).expect("pass");
    assert_eq!(pass.captures_indexed, 4);
    assert_eq!(timeline(&archive), timeline(&reference));
}

/// A capture imported later between two indexed ones: the change record that spanned it is
/// superseded and the two it splits into are issued, as `reindex` would.
#[test]
fn capture_inserted_between_indexed_ones_supersedes_the_change_it_splits() {
    let (_dir, archive) = archive();
    let now = utc(2026, 6, 1, 0, 0, 0);
    let pages = pages();
    for i in [0, 4] {
        let (bytes, at) = &pages[i];
        archive
            .capture(&bytes[..], CaptureRequest::file_import(terms(), *at), now)
            .expect("capture");
    }
    let id: evarc_provenance::id::DocumentId = "CA-D-00001".parse().expect("document ID");
    let (bytes, at) = &pages[2];
    archive
        .capture_deferring_version(
            &bytes[..],
            CaptureRequest::file_import(terms(), *at),
            now,
            Durability::Synced,
        )
        .expect("capture");
    let pass = archive
        .index_versions(std::slice::from_ref(&id), 1, now)
        .expect("pass");
    assert_eq!(
        pass.changes_superseded
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["CA-C-000001"]
    );
    assert_eq!(pass.changes_new.len(), 2);
    let versions = archive.versions(&id).expect("versions").versions;
    assert_eq!(versions.len(), 3);
    assert_eq!(
        archive
            .version_text(&versions[1].text_sha256)
            .expect("text"),
        "Terms\n\nYou may cancel within 30 days."
    );
}

/// New version texts are snapshots named by `vsnap/` records, not whole `vtext/` records, and
/// read back verified.
#[test]
fn version_texts_are_kept_as_snapshots_not_whole_records() {
    let (_dir, archive) = inline_reference();
    let id: evarc_provenance::id::DocumentId = "CA-D-00001".parse().expect("document ID");
    let versions = archive.versions(&id).expect("versions").versions;
    assert_eq!(versions.len(), 3);
    for version in &versions {
        let sha = hex::decode(&version.text_sha256).expect("hex");
        let key = |prefix: &[u8]| [prefix, &sha[..]].concat();
        let store = archive.store();
        assert!(store.record(&key(b"vtext/")).expect("read").is_none());
        let snapshot = store.record(&key(b"vsnap/")).expect("read").expect("vsnap");
        let snapshot = evarc_provenance::Blake3::from_slice(&snapshot).expect("32 bytes");
        let info = store.info(snapshot).expect("info").expect("present");
        assert_eq!(info.sha256.to_hex(), version.text_sha256);
    }
    let report = archive.audit(|_, _| {}).expect("audit");
    assert!(report.is_clean(), "{report:?}");
    // 5 capture snapshots; the 3 texts are counted on their own.
    assert_eq!(
        (
            report.snapshots_checked,
            report.snapshots_verified,
            report.version_texts_checked
        ),
        (5, 5, 3)
    );
}

/// Archives written before keep version texts whole under `vtext/`: they still read, and the
/// audit re-hashes them (a damaged one is record damage, not an orphan).
#[test]
fn whole_version_texts_of_older_archives_still_read_and_are_audited() {
    let (_dir, archive) = archive();
    let text = "Terms\n\nAn old text kept whole.";
    let sha = evarc_provenance::Sha256::of(text.as_bytes());
    let key = [&b"vtext/"[..], sha.as_bytes()].concat();
    let mut batch = evarc_store::RecordBatch::new();
    batch.put(key.clone(), text.as_bytes().to_vec());
    archive.store().commit_records(batch).expect("commit");
    assert_eq!(archive.version_text(&sha.to_hex()).expect("reads"), text);
    let report = archive.audit(|_, _| {}).expect("audit");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        (report.snapshots_checked, report.version_texts_checked),
        (0, 1)
    );
    let mut batch = evarc_store::RecordBatch::new();
    batch.put(key, b"Terms\n\nAn old text kept whole!".to_vec());
    archive.store().commit_records(batch).expect("commit");
    let report = archive.audit(|_, _| {}).expect("audit");
    assert!(!report.is_clean());
    assert_eq!(report.record_damage.len(), 1);
    assert_eq!(
        report.record_damage[0].kind.label(),
        RecordKind::VersionText.label()
    );
    assert!(archive.version_text(&sha.to_hex()).is_err());
}
