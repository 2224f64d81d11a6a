//! Issue 10: document resolution (letter case of entity and title), a capture's own source URL,
//! hidden characters in free text, and which captures a comparison is between — decided here,
//! in provenance, whatever the front end.

use evarc_provenance::model::HttpExchange;
use evarc_provenance::safe_text::UnsafeText;
use evarc_provenance::{Archive, CaptureRequest, DocumentRef, ProvenanceError};

use crate::fixture::utc;

const URL: &str = "https://acme.example/terms";

fn archive() -> (tempfile::TempDir, Archive) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    (dir, archive)
}

fn named(entity: &str, title: &str, url: Option<&str>) -> DocumentRef {
    DocumentRef::Named {
        entity: entity.to_owned(),
        title: title.to_owned(),
        source_url: url.map(str::to_owned),
        id: None,
    }
}

#[test]
fn entity_and_title_in_another_letter_case_resolve_to_the_first_spelling() {
    let (_dir, archive) = archive();
    let at = utc(2026, 1, 1, 0, 0, 0);
    // When the records are written: after every capture time used below.
    let now = utc(2026, 2, 1, 0, 0, 0);
    let first = archive
        .capture(
            &b"one"[..],
            CaptureRequest::file_import(named("Acme", "Terms", Some(URL)), at),
            now,
        )
        .expect("first capture");
    assert!(first.document_created);
    let again = archive
        .capture(
            &b"two"[..],
            CaptureRequest::file_import(
                named("ACME", "terms", Some(URL)),
                utc(2026, 1, 2, 0, 0, 0),
            ),
            now,
        )
        .expect("second capture");
    assert!(!again.document_created);
    assert_eq!(again.document, first.document);
    assert_eq!(
        (
            again.document.entity.as_str(),
            again.document.title.as_str()
        ),
        ("Acme", "Terms")
    );
    // Without a URL too, and the lookup by key.
    let third = archive
        .capture(
            &b"three"[..],
            CaptureRequest::file_import(named("acme", "TERMS", None), utc(2026, 1, 3, 0, 0, 0)),
            now,
        )
        .expect("third capture");
    assert_eq!(third.document.id, first.document.id);
    assert_eq!(
        archive
            .find_document("aCmE", "tErMs", URL)
            .expect("lookup")
            .map(|d| d.id),
        Some(first.document.id.clone())
    );
    // Another URL is another document.
    let other = archive
        .capture(
            &b"one"[..],
            CaptureRequest::file_import(
                named("acme", "terms", Some("https://acme.example/other")),
                at,
            ),
            now,
        )
        .expect("other document");
    assert!(other.document_created);
    assert_eq!(archive.documents().expect("documents").len(), 2);
}

#[test]
fn a_captures_own_source_url_is_recorded_and_never_folded_away() {
    let (_dir, archive) = archive();
    let at = utc(2026, 1, 1, 0, 0, 0);
    // When the records are written: after every capture time used below.
    let now = utc(2026, 2, 1, 0, 0, 0);
    let first = archive
        .capture(
            &b"same"[..],
            CaptureRequest::file_import(named("Acme", "Terms", Some(URL)), at),
            now,
        )
        .expect("first capture");
    let id = first.document.id.clone();
    let mut request =
        CaptureRequest::file_import(DocumentRef::Id(id.clone()), utc(2026, 1, 2, 0, 0, 0));
    request.source_url = Some("https://mirror.example/terms".into());
    let mirrored = archive
        .capture(&b"same"[..], request, at)
        .expect("mirror capture");
    assert!(
        mirrored.capture_created,
        "identical bytes from another source are a new capture"
    );
    assert_eq!(mirrored.capture.source_url, "https://mirror.example/terms");
    // The same bytes from the document's own URL fold as before.
    let folded = archive
        .capture(
            &b"same"[..],
            CaptureRequest::file_import(DocumentRef::Id(id.clone()), utc(2026, 1, 3, 0, 0, 0)),
            now,
        )
        .expect("folded capture");
    assert_eq!(
        archive.captures(&id).expect("captures").len(),
        3,
        "{folded:?}"
    );
    // A fetched capture's source is the URL fetched.
    let mut fetched = CaptureRequest::file_import(DocumentRef::Id(id), utc(2026, 1, 4, 0, 0, 0));
    fetched.source_url = Some("https://elsewhere.example/".into());
    fetched.http = Some(HttpExchange {
        requested_url: URL.into(),
        final_url: URL.into(),
        status: 200,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: Vec::new(),
        redirects: Vec::new(),
    });
    match archive.capture(&b"x"[..], fetched, now) {
        Err(ProvenanceError::InvalidInput(message)) => assert_eq!(
            message,
            "the bytes were fetched from https://acme.example/terms: a capture's source URL cannot be https://elsewhere.example/"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn hidden_characters_in_free_text_are_a_typed_error() {
    let (_dir, archive) = archive();
    let at = utc(2026, 1, 1, 0, 0, 0);
    let request = CaptureRequest::file_import(named("Acme\u{202E}", "Terms", Some(URL)), at);
    match archive.capture(&b"x"[..], request, at) {
        Err(ProvenanceError::UnsafeText(UnsafeText {
            field,
            code_point,
            position,
            ..
        })) => {
            assert_eq!(
                (field.as_str(), code_point, position),
                ("entity", '\u{202E}', 5)
            );
        }
        other => panic!("expected UnsafeText, got {other:?}"),
    }
    assert!(archive.documents().expect("documents").is_empty());
    assert!(matches!(
        archive.set_name("x\u{2069}"),
        Err(ProvenanceError::UnsafeText(UnsafeText {
            code_point: '\u{2069}',
            ..
        }))
    ));
}

#[test]
fn capture_pair_defaults_the_missing_side() {
    let (_dir, archive) = archive();
    let at = |d| utc(2026, 1, d, 0, 0, 0);
    let mut shas = Vec::new();
    for (day, bytes) in [(1, &b"a"[..]), (2, b"b"), (3, b"c")] {
        let doc = named("Acme", "Terms", Some(URL));
        let outcome = archive
            .capture(bytes, CaptureRequest::file_import(doc, at(day)), at(day))
            .expect("capture");
        shas.push(outcome.capture.sha256);
    }
    let id = archive.documents().expect("documents")[0].id.clone();
    let pair = |from: Option<&evarc_provenance::Sha256>, to: Option<&evarc_provenance::Sha256>| {
        let (a, b) = archive
            .capture_pair(&id, from.copied(), to.copied())
            .expect("pair");
        (a.sha256, b.sha256)
    };
    assert_eq!(pair(None, None), (shas[1], shas[2]));
    assert_eq!(pair(Some(&shas[0]), None), (shas[0], shas[2]));
    assert_eq!(pair(None, Some(&shas[1])), (shas[0], shas[1]));
    assert_eq!(pair(Some(&shas[0]), Some(&shas[1])), (shas[0], shas[1]));
    assert!(archive.capture_pair(&id, None, Some(shas[0])).is_err());
}
