//! WARC export: reproducibility, round trip through the reader, verification, warcio.

use std::io::Cursor;

use evarc_package::{record_id, write_warc, PackageError, ReaderOptions, WarcReader, WarcRecord};

use crate::fixture::{items, options, MemBytes, HTML_1};
use crate::validators;

fn export(gzip: bool) -> (Vec<u8>, evarc_package::WarcSummary, MemBytes) {
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    let mut out = Vec::new();
    let opts = evarc_package::ExportOptions { gzip, ..options() };
    let summary = write_warc(&mut out, &items, &bytes, &opts).expect("export WARC");
    (out, summary, bytes)
}

#[test]
fn export_is_reproducible() {
    for gzip in [false, true] {
        let (a, sa, _) = export(gzip);
        let (b, sb, _) = export(gzip);
        assert!(a == b, "two exports differ (gzip {gzip})");
        assert_eq!(sa, sb);
    }
}

#[test]
fn layout_has_warcinfo_then_capture_and_metadata_per_capture() {
    let (out, summary, _) = export(false);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("WARC/1.1\r\nWARC-Type: warcinfo\r\n"));
    // The repeated capture is merged: 3 captures, each with its metadata record.
    let types: Vec<&str> = summary.records.iter().map(|r| r.record_type).collect();
    assert_eq!(
        types,
        ["response", "metadata", "response", "metadata", "resource", "metadata"]
    );
    // Chronological: sub-second time of the first capture is kept.
    assert!(text.contains("WARC-Date: 2026-05-12T09:51:22.250Z\r\n"));
    assert!(text.contains("WARC-Date: 2026-05-14T08:00:00Z\r\n"));
    // Recorded transfer headers dropped, a correct Content-Length written, no header injection.
    assert!(!text.contains("Transfer-Encoding"));
    assert!(!text.contains("Content-Length: 999"));
    assert!(text.contains(&format!("Content-Length: {}\r\n", HTML_1.len())));
    assert!(text.contains("X-Evil: a  WARC-Type: forged\r\n"));
    assert!(text.contains("HTTP/1.1 200 OK\r\n"));
    // Digests are sha256:<64 hex>.
    for line in text
        .lines()
        .filter(|l| l.starts_with("WARC-Block-Digest") || l.starts_with("WARC-Payload-Digest"))
    {
        let value = line.split_once(": ").expect("header").1;
        let hex = value.strip_prefix("sha256:").expect("sha256 label");
        assert_eq!(hex.len(), 64, "{line}");
        assert!(hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
    // Metadata tied to its capture.
    for pair in summary.records.chunks(2) {
        assert_eq!(
            pair[1].concurrent_to.as_deref(),
            Some(pair[0].record_id.as_str())
        );
        assert!(text.contains(&format!("WARC-Concurrent-To: {}\r\n", pair[0].record_id)));
    }
}

#[test]
fn record_ids_are_derived_uuids() {
    let id = record_id(&["capture", "CA-D-00648", "abc"]);
    assert_eq!(id, record_id(&["capture", "CA-D-00648", "abc"]));
    assert_ne!(id, record_id(&["capture", "CA-D-0064", "8abc"]));
    let uuid = id
        .strip_prefix("<urn:uuid:")
        .and_then(|s| s.strip_suffix('>'))
        .expect("urn:uuid form");
    let groups: Vec<&str> = uuid.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(groups[2].starts_with('8'), "version 8: {uuid}");
    assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
}

#[test]
fn round_trip_gives_the_same_bytes_hashes_dates_and_uris() {
    for gzip in [false, true] {
        let (out, summary, bytes) = export(gzip);
        let mut captures = Vec::new();
        let reader = WarcReader::new(Cursor::new(out), ReaderOptions::default()).expect("reader");
        assert_eq!(reader.is_gzip(), gzip);
        for item in reader {
            match item.expect("intact record") {
                WarcRecord::Capture(c) => captures.push(c),
                WarcRecord::Revisit(r) => panic!("unexpected revisit {r:?}"),
            }
        }
        let written: Vec<_> = summary
            .records
            .iter()
            .filter(|r| r.record_type != "metadata")
            .collect();
        assert_eq!(captures.len(), written.len());
        for (c, w) in captures.iter_mut().zip(written) {
            assert_eq!(c.target_uri, w.target_uri);
            assert_eq!(c.date, w.date);
            assert_eq!(c.record_id, w.record_id);
            assert_eq!(c.offset, w.offset);
            assert_eq!(c.status, w.status);
            assert_eq!(format!("sha256:{}", c.payload_sha256), w.payload_digest);
            let stored = &bytes.0[&c.payload_sha256];
            assert_eq!(&c.payload.to_vec().expect("payload"), stored);
        }
        assert_eq!(
            captures[0].title.as_deref(),
            Some("AWS Service Terms & Conditions")
        );
        assert_eq!(
            captures[0].media_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(captures[2].record_type, "resource");
        assert_eq!(captures[2].title.as_deref(), Some("AWS Service Terms (v2)"));
    }
}

#[test]
fn metadata_record_carries_the_citations_as_json() {
    let (out, _, _) = export(false);
    let text = String::from_utf8_lossy(&out);
    let start = text.find("WARC-Type: metadata").expect("metadata record");
    let body_start = start + text[start..].find("\r\n\r\n").expect("header end") + 4;
    let body_end = body_start
        + text[body_start..]
            .find("\r\n\r\nWARC/1.1")
            .expect("record end");
    let json: serde_json::Value =
        serde_json::from_str(&text[body_start..body_end]).expect("metadata is JSON");
    let ids: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|c| c["record_id"].as_str().expect("record_id"))
        .collect();
    assert_eq!(ids, ["CA-D-00648", "CA-P-011417"]);
    assert_eq!(json[0]["evidence"]["status"], "verified");
}

#[test]
fn changed_bytes_fail_the_export() {
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    let sha = items[1].capture.sha256.to_hex();
    bytes.0.insert(sha.clone(), b"tampered".to_vec());
    let err = write_warc(Vec::new(), &items, &bytes, &options()).expect_err("mismatch");
    match err {
        PackageError::CaptureMismatch { expected, .. } => assert_eq!(expected, sha),
        other => panic!("unexpected error {other}"),
    }
    bytes.0.remove(&sha);
    let err = write_warc(Vec::new(), &items, &bytes, &options()).expect_err("missing");
    assert!(matches!(err, PackageError::CaptureRead { .. }), "{err}");
    let err = write_warc(Vec::new(), &[], &bytes, &options()).expect_err("empty");
    assert!(matches!(err, PackageError::NoCaptures));
}

#[test]
fn warcio_check_passes() {
    let Some(warcio) = validators::find("warcio") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for gzip in [false, true] {
        let (out, _, _) = export(gzip);
        let path = dir.path().join(if gzip {
            "export.warc.gz"
        } else {
            "export.warc"
        });
        std::fs::write(&path, out).expect("write WARC");
        let text = validators::run(&warcio, &["check", "-v"], &path);
        assert!(!text.contains("failed"), "{text}");
        assert_eq!(text.matches("digest pass").count(), 7, "{text}");
    }
}

#[test]
fn warcio_check_detects_a_wrong_sha256_hex_digest() {
    let Some(warcio) = validators::find("warcio") else {
        return;
    };
    let (out, _, _) = export(false);
    let text = String::from_utf8(out).expect("plain WARC of text fixtures is UTF-8");
    let at = text
        .find("WARC-Payload-Digest: sha256:")
        .expect("payload digest")
        + 28;
    let mut tampered = text.into_bytes();
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tampered.warc");
    std::fs::write(&path, tampered).expect("write WARC");
    let output = std::process::Command::new(&warcio)
        .args(["check", "-v"])
        .arg(&path)
        .output()
        .expect("run warcio");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{report}");
    assert!(report.contains("payload digest failed"), "{report}");
}
