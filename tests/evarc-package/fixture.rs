//! In-memory records and bytes: three captures of two documents with fixed times.

use std::collections::BTreeMap;
use std::io::{self, Read};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use evarc_package::{CaptureBytes, ExportCapture, ExportOptions};
use evarc_record::anchor::QuoteSelector;
use evarc_record::cite::{
    ArchiveCitation, CaptureCitation, CaptureMethod, CitationRecord, ProvisionCitation,
};
use evarc_record::id::{DocumentId, Prefix, ProvisionId, RecordId};
use evarc_record::model::{Capture, Document, HttpExchange};
use sha2::{Digest, Sha256};

pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid fixture time")
}

pub fn options() -> ExportOptions {
    ExportOptions {
        accessed: NaiveDate::from_ymd_opt(2026, 5, 13).expect("valid date"),
        gzip: true,
        software: "evarc 0.1.0".to_owned(),
        archive_name: "Example Evidence Archive".to_owned(),
        operator: Some("Jane Doe, paralegal".to_owned()),
        bagging_date: None,
        changes: Vec::new(),
    }
}

/// Capture bytes by SHA-256.
#[derive(Default)]
pub struct MemBytes(pub BTreeMap<String, Vec<u8>>);

impl MemBytes {
    pub fn add(&mut self, bytes: &[u8]) -> String {
        let hex = hex::encode(Sha256::digest(bytes));
        self.0.insert(hex.clone(), bytes.to_vec());
        hex
    }
}

impl CaptureBytes for MemBytes {
    fn open(&self, capture: &Capture) -> io::Result<Box<dyn Read + '_>> {
        let bytes = self
            .0
            .get(&capture.sha256.to_hex())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such capture"))?;
        Ok(Box::new(&bytes[..]))
    }
}

pub fn doc_id(seq: u64) -> DocumentId {
    DocumentId::new(Prefix::default(), seq).expect("valid sequence")
}

pub fn document(seq: u64, title: &str, url: &str) -> Document {
    Document {
        id: doc_id(seq),
        entity: "AWS Bedrock".to_owned(),
        title: title.to_owned(),
        source_url: url.to_owned(),
        registered_at: utc(2026, 3, 1, 0, 0, 0),
    }
}

pub fn capture(
    doc: &Document,
    bytes: &[u8],
    sha256: &str,
    at: DateTime<Utc>,
    media_type: &str,
    http: bool,
) -> Capture {
    Capture {
        document: doc.id.clone(),
        sha256: evarc_record::Sha256::from_hex(sha256).expect("fixture hex"),
        blake3: evarc_record::Blake3::from_hex(&blake3_hex(bytes)).expect("fixture hex"),
        byte_len: bytes.len() as u64,
        captured_at: at,
        method: if http {
            CaptureMethod::HttpFetch {
                status: 200,
                final_url: doc.source_url.clone(),
            }
        } else {
            CaptureMethod::FileImport
        },
        media_type: media_type.to_owned(),
        source_url: doc.source_url.clone(),
        http: http.then(|| HttpExchange {
            requested_url: doc.source_url.clone(),
            final_url: doc.source_url.clone(),
            status: 200,
            reason: "OK".to_owned(),
            version: "HTTP/1.1".to_owned(),
            headers: vec![
                ("Content-Type".to_owned(), media_type.to_owned()),
                ("Content-Length".to_owned(), "999".to_owned()),
                ("Transfer-Encoding".to_owned(), "chunked".to_owned()),
                ("Server".to_owned(), "Server".to_owned()),
                ("X-Evil".to_owned(), "a\r\nWARC-Type: forged".to_owned()),
            ],
            redirects: Vec::new(),
        }),
        last_updated: NaiveDate::from_ymd_opt(2026, 5, 5),
        wayback: None,
        first_tracked: at,
        last_verified: at,
        recorded_at: at,
        private: false,
    }
}

fn blake3_hex(bytes: &[u8]) -> String {
    // Not checked by the package; any 64 hex digits derived from the bytes will do.
    hex::encode(Sha256::digest(
        [b"blake3-stand-in".as_slice(), bytes].concat(),
    ))
}

pub fn citation(doc: &Document, cap: &Capture, provision: Option<u64>) -> CitationRecord {
    let quote = "As between you and AWS, you own the custom models.";
    CitationRecord {
        record_id: match provision {
            Some(seq) => RecordId::Provision(
                ProvisionId::new(Prefix::default(), seq).expect("valid sequence"),
            ),
            None => RecordId::Document(doc.id.clone()),
        },
        document_id: doc.id.clone(),
        entity: doc.entity.clone(),
        document_title: doc.title.clone(),
        source_url: doc.source_url.clone(),
        last_updated: cap.last_updated,
        provision: provision.map(|_| ProvisionCitation {
            title: "Intellectual Property – “Custom Models”".to_owned(),
            quote: quote.to_owned(),
            severity: Some("high".to_owned()),
            categories: vec!["ip".to_owned()],
            selector: QuoteSelector {
                exact: quote.to_owned(),
                prefix: "Section 50.12 ".to_owned(),
                suffix: " AWS".to_owned(),
                start: 14,
                end: 14 + quote.chars().count(),
            },
        }),
        capture: CaptureCitation {
            captured_at: cap.captured_at,
            sha256: cap.sha256,
            blake3: cap.blake3,
            byte_len: cap.byte_len,
            media_type: cap.media_type.clone(),
            method: cap.method.clone(),
            first_tracked: cap.first_tracked,
            last_verified: cap.last_verified,
            wayback: None,
            withdrawn: None,
        },
        archive: ArchiveCitation {
            name: "Example Evidence Archive".to_owned(),
            base_url: None,
            tool: "evarc 0.1.0".to_owned(),
        },
    }
}

pub const HTML_1: &[u8] =
    b"<!doctype html><html><head><title>AWS Service Terms &amp; Conditions</title></head>\n<body><p>As between you and AWS, you own the custom models.</p></body></html>\n";
pub const HTML_2: &[u8] =
    b"<!doctype html><html><head><title>AWS Service Terms (v2)</title></head><body>changed</body></html>\n";

/// Three captures: two of CA-D-00648 (HTTP, with sub-second time; file import) and one of
/// CA-D-00649 (plain text), given out of order and with the first repeated for a provision.
pub fn items(bytes: &mut MemBytes) -> Vec<ExportCapture> {
    let d1 = document(
        648,
        "AWS Service Terms",
        "https://aws.amazon.com/service-terms/",
    );
    let d2 = document(
        649,
        "AWS Customer Agreement",
        "https://aws.amazon.com/agreement/",
    );
    let s1 = bytes.add(HTML_1);
    let s2 = bytes.add(HTML_2);
    let text: Vec<u8> = (0..5000u32)
        .flat_map(|i| format!("line {i}\r\n").into_bytes())
        .collect();
    let s3 = bytes.add(&text);
    let at1 = utc(2026, 5, 12, 9, 51, 22) + chrono::Duration::milliseconds(250);
    let c1 = capture(&d1, HTML_1, &s1, at1, "text/html; charset=utf-8", true);
    let c2 = capture(
        &d1,
        HTML_2,
        &s2,
        utc(2026, 5, 14, 8, 0, 0),
        "text/html",
        false,
    );
    let c3 = capture(
        &d2,
        &text,
        &s3,
        utc(2026, 5, 13, 12, 0, 0),
        "text/plain",
        true,
    );
    vec![
        ExportCapture {
            citations: vec![citation(&d1, &c2, None)],
            document: d1.clone(),
            capture: c2,
        },
        ExportCapture {
            citations: vec![citation(&d1, &c1, None)],
            document: d1.clone(),
            capture: c1.clone(),
        },
        ExportCapture {
            citations: vec![citation(&d2, &c3, None)],
            document: d2,
            capture: c3,
        },
        ExportCapture {
            citations: vec![citation(&d1, &c1, Some(11417))],
            document: d1,
            capture: c1,
        },
    ]
}

/// All files under `dir`, relative path → bytes.
pub fn tree(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    out
}
