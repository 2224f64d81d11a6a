//! `Archive::cite`, the entry point every front end cites through: the capture in force at an
//! instant (`as_of`), a provision pinned to its capture, withdrawals and implausible capture
//! times, on a fresh archive.

use chrono::{DateTime, Utc};
use evarc_provenance::cite::{Format, Markup};
use evarc_provenance::id::RecordId;
use evarc_provenance::{
    Archive, At, CaptureChoice, CaptureRequest, CiteOptions, DocumentRef, ProvenanceError,
    ProvisionRequest, WithdrawTarget,
};

use crate::fixture::{date, utc};

fn document() -> DocumentRef {
    DocumentRef::Named {
        entity: "Ex".into(),
        title: "Terms".into(),
        source_url: Some("https://ex.com/t".into()),
        id: None,
    }
}

fn capture(archive: &Archive, text: &str, at: DateTime<Utc>) -> evarc_provenance::Sha256 {
    let outcome = archive
        .capture(
            text.as_bytes(),
            CaptureRequest::file_import(document(), at),
            utc(2026, 6, 1, 0, 0, 0),
        )
        .expect("capture");
    outcome.capture.sha256
}

fn options() -> CiteOptions {
    CiteOptions {
        accessed: date(2026, 6, 1),
        markup: Markup::Plain,
    }
}

#[test]
fn cite_resolves_the_capture_in_force_and_pins_provisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    let first = capture(&archive, "<p>one</p>", utc(2026, 5, 1, 12, 0, 0));
    let second = capture(&archive, "<p>two</p>", utc(2026, 5, 10, 12, 0, 0));
    let doc: RecordId = "CA-D-00001".parse().expect("id");
    let cite = |choice: &CaptureChoice| {
        archive
            .cite(&doc, choice, Format::Json, &options())
            .map(|c| c.record.capture.sha256)
    };
    assert_eq!(cite(&CaptureChoice::Latest).expect("latest"), second);
    assert_eq!(
        cite(&CaptureChoice::at(At::Date(date(2026, 5, 9)))).expect("as of"),
        first
    );
    assert_eq!(
        cite(&CaptureChoice::At(utc(2026, 5, 10, 12, 0, 0))).expect("at"),
        second
    );
    assert_eq!(cite(&CaptureChoice::Sha256(first)).expect("sha"), first);
    assert!(matches!(
        cite(&CaptureChoice::at(At::Date(date(2026, 4, 30)))),
        Err(ProvenanceError::NoCaptureAt { .. })
    ));
    let citation = archive
        .cite(&doc, &CaptureChoice::Latest, Format::Provenance, &options())
        .expect("cite");
    assert!(citation.evidence.is_verified());
    assert!(
        citation
            .text
            .ends_with("Evidence: ✓ Snapshot stored ✓ Hash verified\n"),
        "{}",
        citation.text
    );

    let (provision, _) = archive
        .add_provision(
            ProvisionRequest {
                document: "CA-D-00001".parse().expect("id"),
                title: "One".into(),
                quote: "one".into(),
                capture: Some(first),
                id: None,
                severity: None,
                categories: Vec::new(),
                private: false,
            },
            utc(2026, 6, 1, 0, 0, 0),
        )
        .expect("provision");
    let prov = RecordId::Provision(provision.id);
    let pinned = archive.cite(
        &prov,
        &CaptureChoice::Sha256(second),
        Format::Record,
        &options(),
    );
    assert!(
        matches!(pinned, Err(ProvenanceError::ProvisionPinned { .. })),
        "{pinned:?}"
    );
    archive
        .cite(
            &prov,
            &CaptureChoice::at(At::Date(date(2026, 5, 2))),
            Format::Record,
            &options(),
        )
        .expect("the provision's own capture is in force then");
}

#[test]
fn withdrawal_is_logged_once_and_cited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    let sha = capture(&archive, "<p>one</p>", utc(2026, 5, 1, 12, 0, 0));
    let before = archive.log_size().expect("size");
    let target = WithdrawTarget::Sha256(sha);
    let withdrawal = archive
        .withdraw(&target, "mistake", utc(2026, 6, 2, 0, 0, 0))
        .expect("withdraw");
    assert_eq!(withdrawal.capture_sha256, sha);
    assert_eq!(archive.log_size().expect("size"), before + 1);
    let again = archive.withdraw(&target, "again", utc(2026, 6, 3, 0, 0, 0));
    assert!(
        matches!(again, Err(ProvenanceError::AlreadyWithdrawn { .. })),
        "{again:?}"
    );
    assert_eq!(archive.log_size().expect("size"), before + 1);
    let doc: RecordId = "CA-D-00001".parse().expect("id");
    let citation = archive
        .cite(&doc, &CaptureChoice::Latest, Format::Record, &options())
        .expect("a withdrawn capture is still cited");
    assert!(
        citation
            .text
            .contains("\nWithdrawn: 2026-06-02 00:00:00 UTC: mistake\n"),
        "{}",
        citation.text
    );
}

#[test]
fn implausible_capture_times_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    let now = utc(2026, 6, 1, 0, 0, 0);
    for at in [utc(1990, 12, 31, 23, 59, 59), utc(2026, 6, 2, 0, 0, 1)] {
        let refused = archive.capture(
            &b"<p>x</p>"[..],
            CaptureRequest::file_import(document(), at),
            now,
        );
        assert!(
            matches!(refused, Err(ProvenanceError::ImplausibleCaptureTime { .. })),
            "{at}: {refused:?}"
        );
    }
    assert!(archive.documents().expect("documents").is_empty());
    archive
        .capture(
            &b"<p>x</p>"[..],
            CaptureRequest::file_import(document(), utc(2026, 6, 2, 0, 0, 0)),
            now,
        )
        .expect("exactly a day ahead is allowed");
    archive.allow_any_capture_time();
    archive
        .capture(
            &b"<p>y</p>"[..],
            CaptureRequest::file_import(document(), utc(1985, 1, 1, 0, 0, 0)),
            now,
        )
        .expect("forced");
}

#[test]
fn certify_a_document_exhibit_against_the_capture_it_matches() {
    use evarc_provenance::Exhibit;
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::init(&dir.path().join("a"), None, None).expect("init");
    let first = capture(&archive, "<p>one</p>", utc(2026, 5, 1, 12, 0, 0));
    capture(&archive, "<p>two</p>", utc(2026, 5, 10, 12, 0, 0));
    let doc: RecordId = "CA-D-00001".parse().expect("id");
    let exhibit = Exhibit {
        path: "exhibits/one.html".into(),
        sha256: first,
    };
    let cert = archive
        .certify(
            &doc,
            &CaptureChoice::Latest,
            Some(&exhibit),
            utc(2026, 6, 1, 0, 0, 0),
        )
        .expect("the exhibit is the first capture");
    assert!(cert.matched_exhibit);
    assert_eq!(cert.record.capture.sha256, first);
    assert_eq!(cert.exhibit_name, "one.html");
    assert!(
        cert.text.contains("   Captured: 2026-05-01 12:00:00 UTC\n"),
        "{}",
        cert.text
    );
    // Naming the other capture: refused, as an integrity failure.
    let refused = archive
        .certify(
            &doc,
            &CaptureChoice::at(At::Date(date(2026, 5, 11))),
            Some(&exhibit),
            utc(2026, 6, 1, 0, 0, 0),
        )
        .expect_err("the exhibit is not the capture in force on May 11");
    assert!(refused.is_integrity_failure(), "{refused}");
    let other = Exhibit {
        path: "x".into(),
        sha256: evarc_store::Sha256::from_hex(&"ab".repeat(32)).expect("sha"),
    };
    let refused = archive
        .certify(
            &doc,
            &CaptureChoice::Latest,
            Some(&other),
            utc(2026, 6, 1, 0, 0, 0),
        )
        .expect_err("no capture has those bytes");
    assert!(
        matches!(refused, ProvenanceError::ExhibitNotACapture { .. }),
        "{refused}"
    );
}
