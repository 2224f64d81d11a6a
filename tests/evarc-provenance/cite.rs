//! Known-answer tests of every citation format, checked against docs/citations.md's reference.

use evarc_provenance::cite::{
    bluebook_date, certification, human_date, json_time, render, text_time, CaptureMethod,
    EvidenceCheck, Format, HashedSubject, Markup,
};
use serde_json::Value;

use crate::fixture::{
    assert_known_answer, date, document_record, options, provision_record, utc, ARCHIVE_NAME,
    QUOTE, SHA256,
};

// Reference layouts, copied from the citations reference.
const REF_RECORD: &str = "Citation Record
Entity: AWS Bedrock
Document: AWS Service Terms
Record ID: CA-P-011417
Captured: 2026-05-12 09:51:22 UTC
SHA-256: 880a4da359a0dff0…
URL: https://conductatlas.com/platform/aws-bedrock/aws-service-terms/intellectual-property-in-fine-tuned-models-and-custom-model-outputs/
Accessed: May 13, 2026
Permanent archival reference. Stable identifier suitable for legal filings, compliance documentation, and research citation.
";

const REF_PROVENANCE: &str = "Evidence Provenance
Source URL: https://aws.amazon.com/service-terms/
Wayback Machine: https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/
Content hash (SHA-256): 880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62
Record ID: CA-P-011417
Document ID: CA-D-00648
Captured: 2026-05-12 09:51:22 UTC
Evidence: ✓ Snapshot stored ✓ Hash verified
";

const REF_BLUEBOOK_DOCUMENT: &str = "AWS Bedrock, AWS Service Terms (last updated May 5, 2026), https://aws.amazon.com/service-terms/ [https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/] (captured May 12, 2026, 09:51:22 UTC; SHA-256: 880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62; CA-D-00648).
";

const REF_CSL: &str = r#"[{"id":"CA-P-011417","type":"webpage","title":"Intellectual Property in Fine-Tuned Models and Custom Model Outputs",
  "container-title":"AWS Service Terms","author":[{"literal":"AWS Bedrock"}],
  "URL":"https://aws.amazon.com/service-terms/",
  "issued":{"date-parts":[[2026,5,5]]},"accessed":{"date-parts":[[2026,5,13]]},
  "archive":"<archive name>","archive_location":"https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/",
  "note":"Captured: 2026-05-12T09:51:22Z\nSHA-256: 880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62\nDocument ID: CA-D-00648",
  "custom":{"sha256":"880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62","captured":"2026-05-12T09:51:22Z","document-id":"CA-D-00648"}}]"#;

const REF_BIBLATEX: &str = "@online{CA-P-011417,
  author   = {{AWS Bedrock}},
  title    = {Intellectual Property in Fine-Tuned Models and Custom Model Outputs},
  date     = {2026-05-05},
  url      = {https://aws.amazon.com/service-terms/},
  urldate  = {2026-05-13},
  addendum = {Archived at \\url{https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/}; captured 2026-05-12T09:51:22Z; SHA-256 880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62; CA-D-00648},
}
";

const REF_RIS: &str = "TY  - ELEC\r
TI  - Intellectual Property in Fine-Tuned Models and Custom Model Outputs\r
AU  - AWS Bedrock\r
T2  - AWS Service Terms\r
DA  - 2026/05/05/\r
UR  - https://aws.amazon.com/service-terms/\r
Y2  - 2026/05/13/\r
N1  - Archived at https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/\r
N1  - Captured 2026-05-12T09:51:22Z; SHA-256 880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62; CA-D-00648; CA-P-011417\r
ER  - \r
";

#[test]
fn known_answers_for_every_format() {
    for format in Format::ALL {
        let name = format.name();
        assert_known_answer(
            &format!("provision.{name}.txt"),
            &render(&provision_record(), format, &options()),
        );
        assert_known_answer(
            &format!("document.{name}.txt"),
            &render(&document_record(), format, &options()),
        );
    }
    let mut opts = options();
    for markup in [Markup::Markdown, Markup::Html] {
        opts.markup = markup;
        assert_known_answer(
            &format!("provision.bluebook.{markup}.txt"),
            &render(&provision_record(), Format::Bluebook, &opts),
        );
    }
    let cert = certification(
        &provision_record(),
        "exhibit-12-aws-service-terms.html",
        utc(2026, 5, 13, 14, 2, 9),
        &HashedSubject::StoredBytes,
    );
    assert_known_answer("provision.certification.txt", &cert);
}

#[test]
fn record_matches_reference() {
    // The reference URL is the source site's own slug; evarc's rule is base URL + ID, else the
    // source URL. Every other byte is the reference's.
    let expected = REF_RECORD.replace(
        "https://conductatlas.com/platform/aws-bedrock/aws-service-terms/intellectual-property-in-fine-tuned-models-and-custom-model-outputs/",
        "https://aws.amazon.com/service-terms/",
    );
    assert_eq!(
        render(&provision_record(), Format::Record, &options()),
        expected
    );
    let mut based = provision_record();
    based.archive.base_url = Some("https://evidence.example.org/".to_owned());
    let expected = REF_RECORD.replace(
        "https://conductatlas.com/platform/aws-bedrock/aws-service-terms/intellectual-property-in-fine-tuned-models-and-custom-model-outputs/",
        "https://evidence.example.org/CA-P-011417",
    );
    assert_eq!(render(&based, Format::Record, &options()), expected);
    let doc = render(&document_record(), Format::Record, &options());
    assert!(doc.contains("\nRecord ID: CA-D-00648\n"), "{doc}");
}

#[test]
fn provenance_matches_reference_and_states_the_check() {
    assert_eq!(
        render(&provision_record(), Format::Provenance, &options()),
        REF_PROVENANCE
    );
    let mut opts = options();
    opts.evidence = EvidenceCheck::Missing;
    let out = render(&provision_record(), Format::Provenance, &opts);
    assert!(out.ends_with("\nEvidence: ✗ Snapshot missing\n"), "{out}");
    opts.evidence = EvidenceCheck::Mismatch {
        actual_sha256: evarc_provenance::Sha256([0; 32]),
    };
    let out = render(&provision_record(), Format::Provenance, &opts);
    assert!(
        out.ends_with("\nEvidence: ✓ Snapshot stored ✗ Hash mismatch\n"),
        "{out}"
    );
    let mut recorded = provision_record();
    recorded.capture.wayback = Some("https://perma.cc/ABCD-1234".to_owned());
    let out = render(&recorded, Format::Provenance, &options());
    assert!(
        out.contains("\nWayback Machine: https://perma.cc/ABCD-1234\n"),
        "{out}"
    );
}

#[test]
fn bluebook_matches_reference() {
    assert_eq!(
        render(&document_record(), Format::Bluebook, &options()),
        REF_BLUEBOOK_DOCUMENT
    );
    let provision = render(&provision_record(), Format::Bluebook, &options());
    let expected = REF_BLUEBOOK_DOCUMENT
        .replace("] (captured", &format!("] (\"{QUOTE}\") (captured"))
        .replace("; CA-D-00648).", "; CA-P-011417).");
    assert_eq!(provision, expected);
}

#[test]
fn bluebook_variants() {
    let mut undated = document_record();
    undated.last_updated = None;
    let out = render(&undated, Format::Bluebook, &options());
    assert!(
        out.contains("AWS Service Terms (last visited May 13, 2026), https://"),
        "{out}"
    );
    let mut opts = options();
    opts.accessed = date(2026, 9, 5);
    let out = render(&undated, Format::Bluebook, &opts);
    assert!(out.contains("(last visited Sept. 5, 2026)"), "{out}");
    let mut based = document_record();
    based.archive.base_url = Some("https://evidence.example.org".to_owned());
    let out = render(&based, Format::Bluebook, &options());
    assert!(
        out.contains(" [https://evidence.example.org/CA-D-00648] "),
        "{out}"
    );
    opts = options();
    opts.markup = Markup::Markdown;
    let out = render(&document_record(), Format::Bluebook, &opts);
    assert!(
        out.starts_with("AWS Bedrock, *AWS Service Terms* (last updated"),
        "{out}"
    );
    opts.markup = Markup::Html;
    let mut html = document_record();
    html.document_title = "Terms & <Conditions>".to_owned();
    let out = render(&html, Format::Bluebook, &opts);
    assert!(
        out.starts_with("AWS Bedrock, <i>Terms &amp; &lt;Conditions&gt;</i> (last"),
        "{out}"
    );
}

#[test]
fn t12_and_human_dates() {
    let months = [
        "Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
        "Dec.",
    ];
    for (i, abbr) in months.iter().enumerate() {
        let month = u32::try_from(i + 1).expect("small");
        assert_eq!(
            bluebook_date(date(2026, month, 5)),
            format!("{abbr} 5, 2026")
        );
    }
    assert_eq!(human_date(date(2026, 5, 13)), "May 13, 2026");
    assert_eq!(human_date(date(2026, 9, 1)), "September 1, 2026");
    assert_eq!(
        text_time(utc(2026, 5, 12, 9, 51, 22)),
        "2026-05-12 09:51:22 UTC"
    );
    assert_eq!(
        json_time(utc(2026, 5, 12, 9, 51, 22)),
        "2026-05-12T09:51:22Z"
    );
    let fractional = utc(2026, 5, 12, 9, 51, 22) + chrono::Duration::milliseconds(250);
    assert_eq!(json_time(fractional), "2026-05-12T09:51:22.250Z");
}

#[test]
fn csl_json_matches_reference() {
    let reference = REF_CSL
        .replace('\n', "")
        .replace("<archive name>", ARCHIVE_NAME);
    let expected: Value = serde_json::from_str(&reference).expect("reference is JSON");
    let out = render(&provision_record(), Format::CslJson, &options());
    assert_eq!(out.matches('\n').count(), 1, "single line: {out}");
    let actual: Value = serde_json::from_str(&out).expect("output is JSON");
    assert_eq!(actual, expected);
    // Key order as in the reference.
    let keys: Vec<&str> = out
        .match_indices("\":")
        .map(|(i, _)| i)
        .map(|i| {
            let start = out[..i].rfind('"').expect("key start") + 1;
            &out[start..i]
        })
        .collect();
    let top: Vec<&str> = keys
        .into_iter()
        .filter(|k| {
            [
                "id",
                "type",
                "title",
                "container-title",
                "author",
                "URL",
                "issued",
                "accessed",
                "archive",
                "archive_location",
                "note",
                "custom",
            ]
            .contains(k)
        })
        .collect();
    assert_eq!(
        top,
        [
            "id",
            "type",
            "title",
            "container-title",
            "author",
            "URL",
            "issued",
            "accessed",
            "archive",
            "archive_location",
            "note",
            "custom"
        ]
    );

    let doc: Value = serde_json::from_str(&render(&document_record(), Format::CslJson, &options()))
        .expect("JSON");
    assert_eq!(doc[0]["title"], "AWS Service Terms");
    assert_eq!(doc[0]["container-title"], "AWS Bedrock");
    let mut undated = document_record();
    undated.last_updated = None;
    let undated: Value =
        serde_json::from_str(&render(&undated, Format::CslJson, &options())).expect("JSON");
    assert!(undated[0].get("issued").is_none());
}

#[test]
fn biblatex_matches_reference_and_escapes() {
    assert_eq!(
        render(&provision_record(), Format::Biblatex, &options()),
        REF_BIBLATEX
    );
    let mut tricky = provision_record();
    tricky.entity = "R&D_Co {Ltd}".to_owned();
    if let Some(p) = tricky.provision.as_mut() {
        p.title = "100% #1 $5 & a_b {x} ~y ^z \\w\nnext".to_owned();
    }
    tricky.source_url = "https://example.com/a_b%20c#frag?x={y}".to_owned();
    let out = render(&tricky, Format::Biblatex, &options());
    assert!(
        out.contains("  author   = {{R\\&D\\_Co \\{Ltd\\}}},\n"),
        "{out}"
    );
    assert!(out.contains(
        "  title    = {100\\% \\#1 \\$5 \\& a\\_b \\{x\\} \\textasciitilde{}y \\textasciicircum{}z \\textbackslash{}w next},\n"
    ), "{out}");
    assert!(
        out.contains("  url      = {https://example.com/a_b%20c#frag?x=%7By%7D},\n"),
        "{out}"
    );
}

#[test]
fn ris_matches_reference_and_neutralises() {
    assert_eq!(
        render(&provision_record(), Format::Ris, &options()),
        REF_RIS
    );
    let mut tricky = provision_record();
    tricky.entity = "Acme, Inc.".to_owned();
    tricky.document_title = "Terms\r\nof\nService".to_owned();
    let out = render(&tricky, Format::Ris, &options());
    assert!(out.contains("\r\nAU  - Acme Inc.\r\n"), "{out}");
    assert!(out.contains("\r\nT2  - Terms  of Service\r\n"), "{out}");
    for line in out.split("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
    }
    assert!(out.starts_with("TY  - ELEC\r\n"));
    assert!(out.ends_with("\r\nER  - \r\n"));
    let doc = render(&document_record(), Format::Ris, &options());
    assert!(
        doc.contains("\r\nTI  - AWS Service Terms\r\nAU  - AWS Bedrock\r\nT2  - AWS Bedrock\r\n"),
        "{doc}"
    );
    assert!(doc.contains("; CA-D-00648\r\nER  - \r\n"), "{doc}");
}

#[test]
fn unicode_is_kept_exactly() {
    let mut record = provision_record();
    let title = "“Fine-Tuned” Modèles — naïve café 🚀";
    let quote = "You own the “custom” models — très bien 👍";
    record.document_title = "Conditions générales ‘AWS’".to_owned();
    if let Some(p) = record.provision.as_mut() {
        p.title = title.to_owned();
        p.quote = quote.to_owned();
    }
    for format in Format::ALL {
        let out = render(&record, format, &options());
        if !matches!(format, Format::Provenance | Format::Biblatex) {
            assert!(
                out.contains("Conditions générales ‘AWS’"),
                "{format}: {out}"
            );
        }
        if !matches!(
            format,
            Format::Record | Format::Provenance | Format::Bluebook
        ) {
            assert!(out.contains(title), "{format}: {out}");
        }
        if matches!(format, Format::Bluebook | Format::Json | Format::Markdown) {
            assert!(out.contains(quote), "{format}: {out}");
        }
    }
}

#[test]
fn json_is_complete() {
    let out = render(&provision_record(), Format::Json, &options());
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["schema"], "evarc-citation/1");
    assert_eq!(v["record_id"], "CA-P-011417");
    assert_eq!(v["document"]["id"], "CA-D-00648");
    assert_eq!(v["capture"]["sha256"], SHA256);
    assert_eq!(v["capture"]["byte_len"], 1_048_576);
    assert_eq!(v["capture"]["captured_at"], "2026-05-12T09:51:22Z");
    assert_eq!(v["capture"]["method"]["kind"], "http-fetch");
    assert_eq!(v["provision"]["selectors"][0]["type"], "TextQuoteSelector");
    assert_eq!(
        v["provision"]["selectors"][1]["type"],
        "TextPositionSelector"
    );
    assert_eq!(v["evidence"]["status"], "verified");
    let mut imported = document_record();
    imported.capture.method = CaptureMethod::FileImport;
    let v: Value =
        serde_json::from_str(&render(&imported, Format::Json, &options())).expect("JSON");
    assert_eq!(
        v["capture"]["method"],
        serde_json::json!({"kind": "file-import"})
    );
    assert!(v["provision"].is_null());
}

#[test]
fn format_and_markup_names() {
    for format in Format::ALL {
        assert_eq!(format.name().parse::<Format>(), Ok(format));
    }
    assert_eq!("CSL-JSON".parse::<Format>(), Ok(Format::CslJson));
    let err = "apa".parse::<Format>().expect_err("unknown");
    assert!(
        err.to_string()
            .starts_with("unknown citation format \"apa\": expected one of record,"),
        "{err}"
    );
    assert_eq!("html".parse::<Markup>(), Ok(Markup::Html));
    assert!("rtf".parse::<Markup>().is_err());
}

#[test]
fn certification_states_what_hashing_proves() {
    let mut record = provision_record();
    record.capture.method = CaptureMethod::FileImport;
    let cert = certification(
        &record,
        "exhibit.html",
        utc(2026, 5, 13, 14, 2, 9),
        &HashedSubject::Exhibit {
            path: "/tmp/exhibit.html".to_owned(),
        },
    );
    assert!(cert.contains("asserted by the operator"), "{cert}");
    assert!(
        cert.contains("the exhibit file \"/tmp/exhibit.html\""),
        "{cert}"
    );
    assert!(cert.contains("Hash recorded at capture: 880a4da359a0dff037c3d51956decd29ac6fa13b72df323303ce916dc8798c62"));
    assert!(
        cert.contains("Hashing does not prove that the server at the source URL sent those bytes")
    );
    assert!(cert.ends_with("I declare under penalty of perjury that the foregoing is true and correct. Executed on ____________. ____________ (signature)\n"));
}

/// A format that does not declare it states the evidence must not print it (the bytes are
/// re-hashed for every format by `Archive::cite` all the same).
#[test]
fn only_evidence_formats_print_the_evidence_check() {
    let record = provision_record();
    for format in Format::ALL {
        let mut opts = options();
        opts.evidence = EvidenceCheck::Missing;
        let text = render(&record, format, &opts);
        let printed = text.contains("Snapshot missing") || text.contains("\"missing\"");
        assert_eq!(printed, format.states_evidence(), "{format:?}");
    }
}

/// Issue 10 item 5: without a recorded Wayback address and without a base URL, no format names
/// a computed Wayback link as the archived copy; the provenance block labels it as a lookup.
#[test]
fn unrecorded_wayback_is_never_cited_as_the_archived_copy() {
    let lookup = "https://web.archive.org/web/20260512095122/https://aws.amazon.com/service-terms/";
    let mut record = provision_record();
    record.capture.wayback = None;
    for format in Format::ALL {
        let out = render(&record, format, &options());
        match format {
            Format::Provenance => {
                assert!(
                    out.contains(&format!("\nWayback lookup: {lookup}\n")),
                    "{out}"
                );
                assert!(!out.contains("Wayback Machine"), "{out}");
            }
            Format::Markdown => {
                assert!(
                    out.contains(&format!("- **Wayback lookup:** <{lookup}>\n")),
                    "{out}"
                );
                assert!(!out.contains("Wayback Machine"), "{out}");
            }
            Format::Json => {
                let v: Value = serde_json::from_str(&out).expect("json");
                assert_eq!(v["urls"]["wayback"], Value::Null);
                assert_eq!(v["urls"]["archived_copy"], Value::Null);
                assert_eq!(v["urls"]["wayback_lookup"], lookup);
            }
            _ => assert!(!out.contains("web.archive.org"), "{format:?}: {out}"),
        }
    }
    let bluebook = render(&record, Format::Bluebook, &options());
    assert!(
        bluebook.contains("https://aws.amazon.com/service-terms/ (\"As between"),
        "{bluebook}"
    );
    // A base URL is the archived copy, whatever is recorded.
    record.archive.base_url = Some("https://evidence.example.org/".to_owned());
    let ris = render(&record, Format::Ris, &options());
    assert!(
        ris.contains("N1  - Archived at https://evidence.example.org/CA-P-011417\r\n"),
        "{ris}"
    );
}

/// Issue 10 item 13: Markdown markup escapes every field, HTML markup every field too.
#[test]
fn markdown_markup_escapes_the_entity_and_every_field() {
    let mut record = provision_record();
    record.entity = "_Under_ *Star*".to_owned();
    record.document_title = "Terms [v2] & `code`".to_owned();
    record.provision.as_mut().expect("provision").quote = "- 1. ~~gone~~ <b>".to_owned();
    let mut opts = options();
    opts.markup = Markup::Markdown;
    let out = render(&record, Format::Bluebook, &opts);
    assert!(
        out.starts_with("\\_Under\\_ \\*Star\\*, *Terms \\[v2\\] \\& \\`code\\`* (last updated"),
        "{out}"
    );
    assert!(out.contains("(\"- 1. \\~\\~gone\\~\\~ \\<b\\>\")"), "{out}");
    opts.markup = Markup::Html;
    let out = render(&record, Format::Bluebook, &opts);
    assert!(
        out.starts_with("_Under_ *Star*, <i>Terms [v2] &amp; `code`</i>"),
        "{out}"
    );
    assert!(out.contains("&lt;b&gt;"), "{out}");
    let md = render(&record, Format::Markdown, &options());
    assert!(
        md.contains("- **Entity:** \\_Under\\_ \\*Star\\*\n"),
        "{md}"
    );
    assert!(md.contains("\n> \\- 1. \\~\\~gone\\~\\~ \\<b\\>\n"), "{md}");
}

/// Issue 10 withdrawal: every format says the capture was withdrawn, when and why.
#[test]
fn withdrawn_capture_says_so_in_every_format() {
    let mut record = provision_record();
    record.capture.withdrawn = Some(evarc_provenance::cite::WithdrawalCitation {
        withdrawn_at: utc(2026, 6, 1, 10, 0, 0),
        reason: "wrong page captured".to_owned(),
    });
    for format in Format::ALL {
        let out = render(&record, format, &options());
        assert!(out.contains("wrong page captured"), "{format:?}: {out}");
        assert!(
            out.contains("2026-06-01") || out.contains("June 1, 2026"),
            "{format:?}: {out}"
        );
    }
    let out = render(&record, Format::Record, &options());
    assert!(
        out.contains("\nWithdrawn: 2026-06-01 10:00:00 UTC: wrong page captured\n"),
        "{out}"
    );
    let out = render(&record, Format::Bluebook, &options());
    assert!(
        out.ends_with("; CA-P-011417; withdrawn June 1, 2026: wrong page captured).\n"),
        "{out}"
    );
    let cert = certification(
        &record,
        "x.html",
        utc(2026, 6, 2, 0, 0, 0),
        &HashedSubject::StoredBytes,
    );
    assert!(
        cert.contains("   Withdrawn: 2026-06-01 10:00:00 UTC: wrong page captured"),
        "{cert}"
    );
}

/// Issue 10 rough edge: a capture of an HTTP 500 page shows the status in the provenance block
/// and the JSON; a 2xx capture does not.
#[test]
fn non_2xx_http_status_is_shown() {
    let mut record = provision_record();
    let out = render(&record, Format::Provenance, &options());
    assert!(!out.contains("HTTP status"), "{out}");
    record.capture.method = CaptureMethod::HttpFetch {
        status: 500,
        final_url: "https://aws.amazon.com/service-terms/".to_owned(),
    };
    let out = render(&record, Format::Provenance, &options());
    assert!(out.contains("\nHTTP status: 500\n"), "{out}");
    let v: Value = serde_json::from_str(&render(&record, Format::Json, &options())).expect("json");
    assert_eq!(v["capture"]["http_status"], 500);
}
