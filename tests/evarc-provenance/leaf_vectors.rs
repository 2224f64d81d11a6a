//! Known-answer vectors of the transparency log's leaves: `tests/evarc-tlog/vectors/leaves.json`.
//!
//! A leaf's bytes are signed into checkpoints that others keep; they must never change for a record
//! that was logged. Each vector holds the records as stored (the JSON of `Document`, `Capture`,
//! `Provision`), the exact leaf bytes evarc logs for them and the RFC 6962 leaf hash. The test
//! deserialises the stored records, derives the leaf again and compares both.
//!
//! Generator: `EVARC_BLESS=1 cargo test -p evarc-provenance --test provenance leaf_vectors` writes the
//! file from [`cases`]. Adding a case or a leaf kind is a bless; changing an existing vector's bytes
//! is a break of every published checkpoint and must not be blessed.

use evarc_provenance::model::{Capture, Document, Provision};
use evarc_provenance::{capture_leaf, provision_leaf};
use serde_json::{json, Value};

const VECTORS: &str = "../../tests/evarc-tlog/vectors/leaves.json";

/// The records of each vector: a name and the stored records the leaf is derived from.
fn cases() -> Vec<(&'static str, Value)> {
    let document = json!({
        "id": "CA-D-00648",
        "entity": "AWS Bedrock",
        "title": "AWS Service Terms",
        "source_url": "https://aws.amazon.com/service-terms/",
        "registered_at": "2026-05-12T09:51:30.123456789Z"
    });
    let capture = json!({
        "document": "CA-D-00648",
        "sha256": "492e1601d4d5346d243101b83320edbd8bf3ced242b9b633833c99e42b0c312c",
        "blake3": "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        "byte_len": 1406,
        "captured_at": "2026-05-12T09:51:22Z",
        "method": {"kind": "file-import"},
        "media_type": "text/html; charset=utf-8",
        "source_url": "https://aws.amazon.com/service-terms/",
        "http": null,
        "last_updated": "2026-05-05",
        "wayback": null,
        "first_tracked": "2026-05-12T09:51:22Z",
        "last_verified": "2026-05-12T09:51:22Z",
        "recorded_at": "2026-05-12T09:51:30.2Z"
    });
    let unicode_document = json!({
        "id": "CA-D-00001",
        "entity": "Société Générale — “Legal” 🔒",
        "title": "Conditions générales d'utilisation\t(2026)",
        "source_url": "https://exemple.fr/cgu?lang=fr&v=2#top",
        "registered_at": "2026-01-01T00:00:00Z"
    });
    let subsecond_capture = json!({
        "document": "CA-D-00001",
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "blake3": "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        "byte_len": 0,
        "captured_at": "2026-02-03T04:05:06.500Z",
        "method": {"kind": "http-fetch", "status": 200, "final_url": "https://exemple.fr/cgu"},
        "media_type": "text/plain",
        "source_url": "",
        "http": null,
        "last_updated": null,
        "wayback": "https://web.archive.org/web/20260203040506/https://exemple.fr/cgu",
        "first_tracked": "2026-02-03T04:05:06.500Z",
        "last_verified": "2026-02-04T00:00:00Z",
        "recorded_at": "2026-02-03T04:05:07Z"
    });
    let provision = json!({
        "id": "CA-P-011417",
        "document": "CA-D-00648",
        "capture": {
            "sha256": "492e1601d4d5346d243101b83320edbd8bf3ced242b9b633833c99e42b0c312c",
            "captured_at": "2026-05-12T09:51:22Z"
        },
        "title": "Intellectual Property in Fine-Tuned Models and Custom Model Outputs",
        "quote": "As between you and AWS, you own the custom models that you create using the Services.",
        "severity": "high",
        "categories": ["intellectual-property", "ai-models"],
        "selector": {
            "exact": "As between you and AWS, you own the custom models that you create using the Services.",
            "prefix": "50.12 Intellectual Property\n\n",
            "suffix": " AWS does not use",
            "start": 593,
            "end": 678
        },
        "registered_at": "2026-05-12T10:00:00Z"
    });
    let unicode_provision = json!({
        "id": "CA-P-000002",
        "document": "CA-D-00001",
        "capture": {
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "captured_at": "2026-02-03T04:05:06.500Z"
        },
        "title": "Résumé \"quoted\" \\ backslash",
        "quote": "“Output” means content generated… in response to your Input 🔒\nnext line",
        "severity": null,
        "categories": [],
        "selector": {"exact": "x", "prefix": "", "suffix": "", "start": 0, "end": 1},
        "registered_at": "2026-02-03T04:05:08Z"
    });
    vec![
        (
            "capture, file import, whole seconds",
            json!({"document": document, "capture": capture}),
        ),
        (
            "capture, non-ASCII entity and title, sub-second time, empty bytes and URL",
            json!({"document": unicode_document, "capture": subsecond_capture}),
        ),
        ("provision", json!({"provision": provision})),
        (
            "provision, non-ASCII, quotes, backslash, newline, sub-second capture time",
            json!({"provision": unicode_provision}),
        ),
    ]
}

/// The leaf bytes evarc logs for one vector's records.
fn leaf_of(records: &Value) -> Vec<u8> {
    if let Some(provision) = records.get("provision") {
        let provision: Provision =
            serde_json::from_value(provision.clone()).expect("a stored provision");
        return provision_leaf(&provision);
    }
    let document: Document =
        serde_json::from_value(records["document"].clone()).expect("a stored document");
    let capture: Capture =
        serde_json::from_value(records["capture"].clone()).expect("a stored capture");
    capture_leaf(&document, &capture)
}

fn vector(name: &str, records: Value) -> Value {
    let leaf = leaf_of(&records);
    json!({
        "name": name,
        "records": records,
        "leaf": String::from_utf8(leaf.clone()).expect("leaves are UTF-8 JSON"),
        "leaf_hex": hex::encode(&leaf),
        "leaf_hash": hex::encode(evarc_provenance::evarc_tlog::leaf_hash(&leaf)),
    })
}

fn vectors_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(VECTORS)
}

#[test]
fn logged_leaves_keep_their_exact_bytes_and_hashes() {
    if std::env::var_os("EVARC_BLESS").is_some_and(|v| v == "1") {
        let all: Vec<Value> = cases()
            .into_iter()
            .map(|(name, records)| vector(name, records))
            .collect();
        let text = serde_json::to_string_pretty(&json!({
            "about": "evarc transparency-log leaves: stored records -> exact leaf bytes -> RFC 6962 leaf hash SHA-256(0x00 || leaf). Generated by tests/evarc-provenance/leaf_vectors.rs; never change an existing vector.",
            "vectors": all,
        }))
        .expect("vectors serialise");
        std::fs::write(vectors_path(), text + "\n").expect("write the vectors");
        return;
    }
    let text = std::fs::read_to_string(vectors_path()).expect("read leaves.json");
    let file: Value = serde_json::from_str(&text).expect("leaves.json parses");
    let vectors = file["vectors"].as_array().expect("a vectors array");
    assert!(vectors.len() >= cases().len(), "every case has a vector");
    for v in vectors {
        let name = v["name"].as_str().expect("a name");
        let leaf = leaf_of(&v["records"]);
        assert_eq!(
            hex::encode(&leaf),
            v["leaf_hex"].as_str().expect("leaf_hex"),
            "leaf bytes of {name:?}"
        );
        assert_eq!(
            String::from_utf8(leaf.clone()).expect("UTF-8"),
            v["leaf"].as_str().expect("leaf"),
            "leaf text of {name:?}"
        );
        assert_eq!(
            hex::encode(evarc_provenance::evarc_tlog::leaf_hash(&leaf)),
            v["leaf_hash"].as_str().expect("leaf_hash"),
            "leaf hash of {name:?}"
        );
    }
}

/// A proof reader (`verify-proof`) reads each committed leaf back: its kind, document, capture
/// time and the SHA-256 of the bytes it logged, which the bytes given must match.
#[test]
fn logged_leaves_read_back_to_their_records() {
    use evarc_provenance::{LeafKind, LoggedLeaf};
    let text = std::fs::read_to_string(vectors_path()).expect("read leaves.json");
    let file: Value = serde_json::from_str(&text).expect("leaves.json parses");
    for v in file["vectors"].as_array().expect("a vectors array") {
        let name = v["name"].as_str().expect("a name");
        let leaf = hex::decode(v["leaf_hex"].as_str().expect("leaf_hex")).expect("hex");
        let logged = LoggedLeaf::parse(&leaf).expect("a leaf this evarc writes reads back");
        let records = &v["records"];
        let (kind, sha, at, document) = match records.get("provision") {
            Some(p) => (
                LeafKind::Provision,
                &p["capture"]["sha256"],
                &p["capture"]["captured_at"],
                &p["document"],
            ),
            None => (
                LeafKind::Capture,
                &records["capture"]["sha256"],
                &records["capture"]["captured_at"],
                &records["document"]["id"],
            ),
        };
        assert_eq!(logged.kind, kind, "{name}");
        assert_eq!(logged.sha256.to_hex(), sha.as_str().expect("sha"), "{name}");
        assert_eq!(logged.captured_at, at.as_str().expect("time"), "{name}");
        assert_eq!(logged.document, document.as_str().expect("id"), "{name}");
        if let Some(p) = records.get("provision") {
            assert_eq!(
                logged.describe(),
                format!(
                    "provision {} of {}",
                    p["id"].as_str().expect("id"),
                    logged.document
                )
            );
        }
    }
}

#[test]
fn leaves_of_another_version_or_kind_are_named_not_guessed() {
    use evarc_provenance::LoggedLeaf;
    let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let v2 = format!(
        r#"{{"captured_at":"2026-01-01T00:00:00Z","document":"CA-D-00001","kind":"capture","sha256":"{sha}","v":2}}"#
    );
    assert_eq!(
        LoggedLeaf::parse(v2.as_bytes()).unwrap_err(),
        "a leaf of version 2 (this evarc reads version 1)"
    );
    let odd = format!(
        r#"{{"captured_at":"2026-01-01T00:00:00Z","document":"CA-D-00001","kind":"note","sha256":"{sha}","v":1}}"#
    );
    assert_eq!(
        LoggedLeaf::parse(odd.as_bytes()).unwrap_err(),
        "a leaf of unknown kind \"note\""
    );
    let bare = r#"{"captured_at":"2026-01-01T00:00:00Z","document":"CA-D-00001","kind":"provision","v":1}"#;
    assert_eq!(
        LoggedLeaf::parse(bare.as_bytes()).unwrap_err(),
        "a provision leaf without its SHA-256"
    );
    let no_id = format!(
        r#"{{"capture_sha256":"{sha}","captured_at":"2026-01-01T00:00:00Z","document":"CA-D-00001","kind":"provision","v":1}}"#
    );
    assert_eq!(
        LoggedLeaf::parse(no_id.as_bytes()).unwrap_err(),
        "a provision leaf without its ID"
    );
    assert!(LoggedLeaf::parse(b"not json")
        .unwrap_err()
        .starts_with("not an evarc log record ("));
    // A withdrawal's bytes are the capture it withdraws.
    let w = format!(
        r#"{{"capture_sha256":"{sha}","captured_at":"2026-01-01T00:00:00Z","document":"CA-D-00001","kind":"withdrawal","reason":"r","v":1,"withdrawn_at":"2026-02-01T00:00:00Z"}}"#
    );
    let logged = LoggedLeaf::parse(w.as_bytes()).expect("a withdrawal leaf");
    assert_eq!(logged.describe(), "withdrawal of a capture of CA-D-00001");
    logged
        .check_bytes(b"", "empty")
        .expect("the empty bytes hash to it");
    let err = logged.check_bytes(b"x", "x.html").unwrap_err().to_string();
    assert!(err.starts_with("x.html hashes to 2d711642"), "{err}");
    assert!(
        err.ends_with(&format!("but the record says {sha}")),
        "{err}"
    );
}
