//! The citation fixture (the AWS Service Terms record of docs/citations.md) and the known-answer
//! file helper.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use evarc_provenance::anchor::QuoteSelector;
use evarc_provenance::cite::{
    ArchiveCitation, CaptureCitation, CaptureMethod, CitationRecord, EvidenceCheck, Markup,
    ProvisionCitation, RenderOptions,
};
use evarc_provenance::id::{DocumentId, Prefix, ProvisionId, RecordId};

pub const SHA256: &str = "880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62";
pub const BLAKE3: &str = "5f0ad3c4b2a1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5";
pub const QUOTE: &str =
    "As between you and AWS, you own the custom models that you create using the Services.";
pub const ARCHIVE_NAME: &str = "Example Evidence Archive";

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid fixture time")
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid fixture date")
}

pub fn document_id() -> DocumentId {
    DocumentId::new(Prefix::default(), 648).expect("648 is a valid sequence")
}

/// The provision record CA-P-011417.
pub fn provision_record() -> CitationRecord {
    let prefix = "Section 50.12 Intellectual Property. ";
    CitationRecord {
        record_id: RecordId::Provision(
            ProvisionId::new(Prefix::default(), 11417).expect("valid sequence"),
        ),
        provision: Some(ProvisionCitation {
            title: "Intellectual Property in Fine-Tuned Models and Custom Model Outputs".to_owned(),
            quote: QUOTE.to_owned(),
            severity: Some("high".to_owned()),
            categories: vec!["intellectual-property".to_owned(), "ai-models".to_owned()],
            selector: QuoteSelector {
                exact: QUOTE.to_owned(),
                prefix: prefix.to_owned(),
                suffix: " AWS does not use".to_owned(),
                start: 10_240,
                end: 10_240 + QUOTE.chars().count(),
            },
        }),
        ..document_record()
    }
}

/// The document record CA-D-00648.
pub fn document_record() -> CitationRecord {
    CitationRecord {
        record_id: RecordId::Document(document_id()),
        document_id: document_id(),
        entity: "AWS Bedrock".to_owned(),
        document_title: "AWS Service Terms".to_owned(),
        source_url: "https://aws.amazon.com/service-terms/".to_owned(),
        last_updated: Some(date(2026, 5, 5)),
        provision: None,
        capture: CaptureCitation {
            captured_at: utc(2026, 5, 12, 9, 51, 22),
            sha256: evarc_provenance::Sha256::from_hex(SHA256).expect("fixture hex"),
            blake3: evarc_provenance::Blake3::from_hex(BLAKE3).expect("fixture hex"),
            byte_len: 1_048_576,
            media_type: "text/html; charset=utf-8".to_owned(),
            method: CaptureMethod::HttpFetch {
                status: 200,
                final_url: "https://aws.amazon.com/service-terms/".to_owned(),
            },
            first_tracked: utc(2026, 3, 1, 0, 0, 0),
            last_verified: utc(2026, 5, 12, 9, 51, 22),
            // The seed layouts (../shared/reference/citations.md) show a Wayback link in the
            // archived-copy place: only a recorded one may stand there.
            wayback: Some(
                "https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/"
                    .to_owned(),
            ),
            withdrawn: None,
        },
        archive: ArchiveCitation {
            name: ARCHIVE_NAME.to_owned(),
            base_url: None,
            tool: "evarc 0.1.0".to_owned(),
        },
    }
}

pub fn options() -> RenderOptions {
    RenderOptions {
        accessed: date(2026, 5, 13),
        markup: Markup::Plain,
        evidence: EvidenceCheck::Verified,
    }
}

/// Compares `actual` with `tests/evarc-provenance/expected/<name>`; `EVARC_BLESS=1` rewrites it.
pub fn assert_known_answer(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/evarc-provenance/expected")
        .join(name);
    if std::env::var_os("EVARC_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("write expected file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run with EVARC_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "output differs from {}; if the change is deliberate, rerun with EVARC_BLESS=1",
        path.display()
    );
}
