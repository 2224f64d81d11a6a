//! The WARC reader: damage, truncation, resync, hostile lengths, chunked bodies, revisits.

use std::io::Cursor;

use evarc_package::{write_warc, DamagedRecord, ReaderOptions, WarcReader, WarcRecord};
use sha2::{Digest, Sha256};

use crate::fixture::{items, options, MemBytes};

fn read_all(bytes: Vec<u8>) -> Vec<Result<WarcRecord, DamagedRecord>> {
    WarcReader::new(Cursor::new(bytes), ReaderOptions::default())
        .expect("reader")
        .collect()
}

fn uris(items: &[Result<WarcRecord, DamagedRecord>]) -> Vec<String> {
    items
        .iter()
        .map(|i| match i {
            Ok(WarcRecord::Capture(c)) => c.target_uri.clone(),
            Ok(WarcRecord::Revisit(r)) => format!("revisit {}", r.target_uri),
            Err(d) => format!("damaged at {}", d.offset),
        })
        .collect()
}

fn gz_export() -> (Vec<u8>, evarc_package::WarcSummary) {
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    let mut out = Vec::new();
    let summary = write_warc(&mut out, &items, &bytes, &options()).expect("export");
    (out, summary)
}

#[test]
fn truncated_warc_gz_yields_intact_records_and_the_damage_offset() {
    let (out, summary) = gz_export();
    let second = &summary.records[2];
    assert_eq!(second.record_type, "response");
    let cut = (second.offset + second.length / 2) as usize;
    let items = read_all(out[..cut].to_vec());
    assert_eq!(
        uris(&items),
        [
            summary.records[0].target_uri.clone(),
            format!("damaged at {}", second.offset)
        ]
    );
    let Err(damage) = &items[1] else {
        panic!("expected damage")
    };
    assert!(
        damage.reason.contains("truncated") || damage.reason.contains("EOF"),
        "{damage}"
    );
}

#[test]
fn damaged_member_in_the_middle_is_skipped_and_the_rest_read() {
    let (out, summary) = gz_export();
    let second = &summary.records[2];
    let third = &summary.records[4];
    // Cut a stretch out of the middle of the second capture's gzip member.
    let from = (second.offset + second.length / 3) as usize;
    let to = (second.offset + 2 * second.length / 3) as usize;
    let spliced = [&out[..from], &out[to..]].concat();
    let items = read_all(spliced);
    assert_eq!(
        uris(&items),
        [
            summary.records[0].target_uri.clone(),
            format!("damaged at {}", second.offset),
            third.target_uri.clone(),
        ]
    );
    // Flipped bytes inside a member (CRC or deflate error) are reported the same way.
    let mut flipped = out.clone();
    for b in &mut flipped[from..from + 16] {
        *b ^= 0x55;
    }
    let items = read_all(flipped);
    assert_eq!(uris(&items).len(), 3, "{:?}", uris(&items));
    assert!(items[1].is_err());
}

#[test]
fn plain_warc_with_a_lying_content_length_resyncs_on_the_next_record() {
    let mut bytes = MemBytes::default();
    let items = items(&mut bytes);
    let opts = evarc_package::ExportOptions {
        gzip: false,
        ..options()
    };
    let mut out = Vec::new();
    let summary = write_warc(&mut out, &items, &bytes, &opts).expect("export");
    let second = &summary.records[2];
    let text = String::from_utf8(out).expect("UTF-8 fixture");
    let start = second.offset as usize;
    let header_end = start + text[start..].find("\r\n\r\n").expect("header end");
    let len_at = start
        + text[start..header_end]
            .find("Content-Length: ")
            .expect("length")
        + 16;
    let len_end = len_at + text[len_at..].find("\r\n").expect("eol");
    let hostile = format!(
        "{}{}{}",
        &text[..len_at],
        "999999999999999999",
        &text[len_end..]
    );
    let items = read_all(hostile.into_bytes());
    let found = uris(&items);
    assert_eq!(found[0], summary.records[0].target_uri);
    assert_eq!(found[1], format!("damaged at {}", second.offset));
    assert_eq!(found[2], summary.records[4].target_uri);
    assert_eq!(found.len(), 3);
}

fn record(fields: &str, block: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "WARC/1.0\r\n{fields}Content-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

#[test]
fn chunked_response_revisit_and_skipped_types() {
    let body = b"<html><title>Chunked</title>hello world</html>";
    let mut http =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    http.extend_from_slice(format!("{:x}\r\n", 20).as_bytes());
    http.extend_from_slice(&body[..20]);
    http.extend_from_slice(format!("\r\n{:x};ext=1\r\n", body.len() - 20).as_bytes());
    http.extend_from_slice(&body[20..]);
    http.extend_from_slice(b"\r\n0\r\nX-Trailer: 1\r\n\r\n");
    let sha = hex::encode(Sha256::digest(body));
    let mut file = record(
        "WARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Date: 2020-01-01T00:00:00Z\r\nContent-Type: application/warc-fields\r\n",
        b"software: test\r\n",
    );
    file.extend(record(
        "WARC-Type: request\r\nWARC-Record-ID: <urn:uuid:2>\r\nWARC-Target-URI: http://example.com/\r\nWARC-Date: 2020-01-01T00:00:00Z\r\nContent-Type: application/http; msgtype=request\r\n",
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    ));
    file.extend(record(
        "WARC-Type: response\r\nWARC-Record-ID: <urn:uuid:3>\r\nWARC-Target-URI: http://example.com/\r\nWARC-Date: 2020-01-01T00:00:00.5Z\r\nContent-Type: application/http; msgtype=response\r\n",
        &http,
    ));
    file.extend(record(
        &format!("WARC-Type: revisit\r\nWARC-Record-ID: <urn:uuid:4>\r\nWARC-Target-URI: http://example.com/\r\nWARC-Date: 2020-02-01T00:00:00Z\r\nWARC-Refers-To-Target-URI: http://example.com/\r\nWARC-Refers-To-Date: 2020-01-01T00:00:00Z\r\nWARC-Payload-Digest: sha256:{sha}\r\nWARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\nContent-Type: application/http; msgtype=response\r\n"),
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
    ));
    let mut reader = WarcReader::new(Cursor::new(file), ReaderOptions::default()).expect("reader");
    let Some(Ok(WarcRecord::Capture(mut c))) = reader.next() else {
        panic!("expected the response")
    };
    assert_eq!(c.payload.to_vec().expect("payload"), body);
    assert_eq!(c.payload_sha256, sha);
    assert_eq!(c.status, Some(200));
    assert_eq!(c.title.as_deref(), Some("Chunked"));
    assert_eq!(c.date.timestamp_subsec_millis(), 500);
    let Some(Ok(WarcRecord::Revisit(r))) = reader.next() else {
        panic!("expected the revisit")
    };
    assert_eq!(r.payload_sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(
        r.refers_to_target_uri.as_deref(),
        Some("http://example.com/")
    );
    assert!(r.refers_to_date.is_some());
    assert!(reader.next().is_none());
    assert_eq!(reader.skipped(), 2);
}

#[test]
fn digest_mismatch_is_damage_but_the_next_record_still_reads() {
    let a = record(
        "WARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:a>\r\nWARC-Target-URI: file:///a.txt\r\nWARC-Date: 2020-01-01T00:00:00Z\r\nWARC-Block-Digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\r\nContent-Type: text/plain\r\n",
        b"WARC/1.0 inside a payload\r\n",
    );
    let b = record(
        "WARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:b>\r\nWARC-Target-URI: file:///b.txt\r\nWARC-Date: 2020-01-01T00:00:00Z\r\nContent-Type: text/plain\r\n",
        b"b",
    );
    let items = read_all([a, b].concat());
    assert_eq!(uris(&items), ["damaged at 0", "file:///b.txt"]);
}

#[test]
fn large_payloads_spool_to_disk() {
    let big = vec![b'x'; 300_000];
    let file = record(
        "WARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:big>\r\nWARC-Target-URI: file:///big.bin\r\nWARC-Date: 2020-01-01T00:00:00Z\r\nContent-Type: application/octet-stream\r\n",
        &big,
    );
    let opts = ReaderOptions {
        in_memory_bytes: 1024,
        ..ReaderOptions::default()
    };
    let mut reader = WarcReader::new(Cursor::new(file.clone()), opts).expect("reader");
    let Some(Ok(WarcRecord::Capture(mut c))) = reader.next() else {
        panic!("expected the resource")
    };
    assert!(c.payload.is_on_disk());
    assert_eq!(c.payload.len(), 300_000);
    assert_eq!(c.payload.to_vec().expect("payload"), big);
    // A block over the cap is damage, not an allocation.
    let capped = ReaderOptions {
        max_block_bytes: 1000,
        ..ReaderOptions::default()
    };
    let items: Vec<_> = WarcReader::new(Cursor::new(file), capped)
        .expect("reader")
        .collect();
    assert_eq!(uris(&items), ["damaged at 0"]);
}

#[test]
fn garbage_never_panics() {
    let (out, _) = gz_export();
    for len in [0usize, 1, 2, 3, 10, 17, 100, 333] {
        let _ = read_all(out[..len.min(out.len())].to_vec());
        let _ = read_all(vec![0x1f; len]);
        let _ = read_all(b"WARC/1.1\r\n".repeat(len));
    }
    assert!(read_all(Vec::new()).is_empty());
    let items = read_all(b"not a warc at all".to_vec());
    assert_eq!(uris(&items), ["damaged at 0"]);
}
