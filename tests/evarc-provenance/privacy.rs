//! Issue 12: what "private" covers, decided once in `evarc_provenance::privacy`.

use chrono::{DateTime, TimeZone, Utc};
use evarc_provenance::{
    Archive, Audience, CaptureRequest, DocumentRef, ProvenanceError, ProvisionRequest,
};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, day, 10, 0, 0)
        .single()
        .expect("a valid test time")
}

fn capture(archive: &Archive, text: &str, day: u32, private: bool) -> evarc_provenance::Sha256 {
    let document = DocumentRef::Named {
        entity: "Example".into(),
        title: "Terms".into(),
        source_url: Some("https://example.org/terms".into()),
        id: None,
    };
    let request = CaptureRequest {
        media_type: Some("text/html; charset=utf-8".into()),
        private,
        ..CaptureRequest::file_import(document, at(day))
    };
    let html = format!("<html><body><p>{text}</p></body></html>");
    archive
        .capture(html.as_bytes(), request, at(28))
        .expect("archive a capture")
        .capture
        .sha256
}

#[test]
fn private_captures_provisions_documents_and_change_records() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    let v1 = capture(&archive, "We keep data for thirty days.", 1, false);
    let v2 = capture(&archive, "We keep data for ninety days.", 2, true);
    // The public bytes again, privately: a capture of its own (never folded into the public one).
    let v3 = capture(&archive, "We keep data for thirty days.", 3, true);
    assert_eq!(v1, v3);
    let doc = "CA-D-00001".parse().expect("an ID");
    let all = archive.captures(&doc).expect("captures");
    assert_eq!(all.len(), 3);
    let public = archive
        .captures_for(&doc, Audience::Public)
        .expect("captures");
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].sha256, v1);
    assert!(!archive.document_is_private(&doc).expect("read"));

    // A provision on a private capture is private, whatever its request said (recorded so).
    let (on_private, _) = archive
        .add_provision(
            ProvisionRequest {
                document: doc.clone(),
                title: "Retention".into(),
                quote: "ninety days".into(),
                capture: Some(v2),
                id: None,
                severity: None,
                categories: Vec::new(),
                private: false,
            },
            at(28),
        )
        .expect("a provision");
    assert!(on_private.private);
    assert!(archive.provision_is_private(&on_private).expect("read"));
    let err = archive
        .provision_for(&on_private.id, Audience::Public)
        .expect_err("hidden");
    assert!(
        matches!(err, ProvenanceError::UnknownRecord { .. }),
        "{err}"
    );
    assert!(archive
        .provision_for(&on_private.id, Audience::Everything)
        .is_ok());

    // Change records: v1→v2 and v2→v3 each show a private text.
    let changes = archive.changes_of(&doc).expect("changes");
    assert!(!changes.is_empty(), "text changes make change records");
    assert!(archive
        .changes_of_for(&doc, Audience::Public)
        .expect("changes")
        .is_empty());
    assert_eq!(
        archive
            .changes_of_for(&doc, Audience::Everything)
            .expect("changes")
            .len(),
        changes.len()
    );
    let err = archive
        .change_for(&changes[0].id, Audience::Public)
        .expect_err("hidden");
    assert!(
        matches!(err, ProvenanceError::UnknownRecord { .. }),
        "{err}"
    );

    // Bytes are visible when one capture with them is public.
    assert!(archive
        .capture_with_sha_for(&v1.to_hex(), Audience::Public)
        .expect("read")
        .is_some());
    assert!(archive
        .capture_with_sha_for(&v2.to_hex(), Audience::Public)
        .expect("read")
        .is_none());
    // The public citation of the document is its latest public capture.
    let record = archive
        .citation_for(&doc.clone().into(), Audience::Public)
        .expect("a citation");
    assert_eq!(record.capture.captured_at, at(1));
}

#[test]
fn a_document_whose_captures_are_all_private_does_not_exist_for_the_public() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    capture(&archive, "Draft terms.", 1, true);
    let doc = "CA-D-00001".parse().expect("an ID");
    assert!(archive.document_is_private(&doc).expect("read"));
    assert!(archive
        .documents_for(Audience::Public)
        .expect("read")
        .is_empty());
    assert_eq!(
        archive
            .documents_for(Audience::Everything)
            .expect("read")
            .len(),
        1
    );
    assert!(archive
        .search_for("draft", Audience::Public)
        .expect("search")
        .is_empty());
    assert!(archive
        .mementos_for("https://example.org/terms", Audience::Public)
        .expect("read")
        .is_empty());
    let err = archive
        .document_for(&doc, Audience::Public)
        .expect_err("hidden");
    assert_eq!(
        err.to_string(),
        archive
            .document(&"CA-D-00099".parse().expect("an ID"))
            .expect_err("unknown")
            .to_string()
            .replace("CA-D-00099", "CA-D-00001")
    );
}
