//! Issue 10 item 14: `import warc` of a revisit record whose block is empty (warcio's
//! `create_revisit_record` without HTTP headers) resolves as a revisit, and the output lines of
//! revisits and folded re-captures show the record's own WARC-Date.

use crate::util::{path_str, Env};

fn record(
    kind: &str,
    n: u32,
    uri: &str,
    date: &str,
    content_type: &str,
    block: &[u8],
    extra: &str,
) -> Vec<u8> {
    let mut out = format!(
        "WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: {date}\r\nWARC-Record-ID: <urn:uuid:{n:08x}-0000-4000-8000-000000000000>\r\n{extra}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        block.len()
    )
    .into_bytes();
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

#[test]
fn empty_revisit_block_resolves_as_a_revisit_with_its_own_date() {
    let env = Env::new();
    let body = b"<html><head><title>Terms</title></head><body><p>one</p></body></html>";
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    let uri = "https://example.com/terms";
    let digest = "WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n";
    let mut warc = record(
        "response",
        1,
        uri,
        "2026-05-01T00:00:00Z",
        "application/http; msgtype=response",
        &response,
        digest,
    );
    // As warcio writes it without HTTP headers: an empty block.
    let refers = format!(
        "{digest}WARC-Refers-To-Target-URI: {uri}\r\nWARC-Refers-To-Date: 2026-05-01T00:00:00Z\r\nWARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n"
    );
    warc.extend(record(
        "revisit",
        2,
        uri,
        "2026-05-06T00:00:00Z",
        "application/http; msgtype=response",
        b"",
        &refers,
    ));
    // The same response again, later: folded into the first capture.
    warc.extend(record(
        "response",
        3,
        uri,
        "2026-05-09T00:00:00Z",
        "application/http; msgtype=response",
        &response,
        digest,
    ));
    let file = env.write("revisit.warc", &warc);
    let run = env.evarc(&["import", "warc", path_str(&file)]).ok();
    let sha = {
        use std::fmt::Write as _;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(body);
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    assert_eq!(
        run.stdout_text(),
        format!(
            "CA-D-00001 2026-05-01 00:00:00 UTC sha256:{sha} new capture\n\
             CA-D-00001 2026-05-06 00:00:00 UTC sha256:{sha} already recorded, or identical to the previous capture (revisit)\n\
             CA-D-00001 2026-05-09 00:00:00 UTC sha256:{sha} already recorded, or identical to the previous capture\n"
        )
    );
    assert!(
        run.stderr
            .contains("3 imported (2 duplicates of stored bytes, 1 revisits, 2 already recorded)")
            && run.stderr.contains(" 0 damaged, 0 failed"),
        "{}",
        run.stderr
    );
}
