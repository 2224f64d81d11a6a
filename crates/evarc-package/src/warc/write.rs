//! Writing an export as one WARC 1.1 file: a `warcinfo` record, then per capture a `response`
//! (HTTP headers recorded) or `resource` record and a `metadata` record with its citations.
//! With log evidence ([`LogEvidence`]), `metadata` records carry the checkpoint, the verifier key
//! and the time-stamp after the warcinfo, and each capture's inclusion proofs after it.

use std::io::{self, Read, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use super::http::response_head;
use crate::digest::{record_id, sha256_label, CountingWriter};
use crate::error::PackageError;
use crate::export::{
    changes_json, check, citations_json, copy_verified, normalize, package_date, read_error,
    CaptureBytes, CopyError, ExportCapture, ExportOptions,
};
use crate::log::{key_file, place_proofs, LogEvidence, PlacedProof};

/// What was written, record by record, for indexes (CDXJ) and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarcSummary {
    /// The `WARC-Record-ID` of the `warcinfo` record.
    pub warcinfo_id: String,
    /// Capture and metadata records in file order (the warcinfo record is not listed).
    pub records: Vec<WarcRecordSummary>,
    /// Total bytes written.
    pub bytes: u64,
}

/// One record written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarcRecordSummary {
    /// `response`, `resource` or `metadata` (citations and log evidence).
    pub record_type: &'static str,
    /// `<urn:uuid:…>`.
    pub record_id: String,
    pub target_uri: String,
    pub date: DateTime<Utc>,
    /// Byte offset of the record (of its gzip member in a `.warc.gz`).
    pub offset: u64,
    /// Bytes the record takes in the file (its gzip member in a `.warc.gz`).
    pub length: u64,
    /// Media type of the payload (`application/json` for metadata).
    pub media_type: String,
    /// HTTP status for `response` records.
    pub status: Option<u16>,
    /// `sha256:<64 hex>` of the payload (of the block for metadata).
    pub payload_digest: String,
    /// The document the record belongs to, and its title (for page lists).
    pub document_id: String,
    pub document_title: String,
    /// For metadata: the record ID of the capture record it is concurrent to (None for the
    /// checkpoint, key and time-stamp records).
    pub concurrent_to: Option<String>,
}

/// Writes `items` as a WARC 1.1 file to `out` (plain, or one gzip member per record when
/// `opts.gzip`). Capture bytes are re-hashed while written; a mismatch fails the export.
/// The order, dates and record IDs come from the records, so equal inputs give equal bytes.
pub fn write_warc(
    out: impl Write,
    items: &[ExportCapture],
    bytes: &dyn CaptureBytes,
    opts: &ExportOptions,
) -> Result<WarcSummary, PackageError> {
    write_warc_with_log(out, items, bytes, opts, None)
}

/// [`write_warc`], with the transparency-log evidence of the records when `log` is given:
/// after the warcinfo, `metadata` records holding the checkpoint, the verifier key and the
/// time-stamp response; after each capture's citations, one `metadata` record per inclusion
/// proof of that capture (`WARC-Concurrent-To` the capture, `WARC-Refers-To` the checkpoint).
/// Each carries an `Evarc-Log` field naming what it holds (docs/packages.md).
pub fn write_warc_with_log(
    out: impl Write,
    items: &[ExportCapture],
    bytes: &dyn CaptureBytes,
    opts: &ExportOptions,
    log: Option<&LogEvidence>,
) -> Result<WarcSummary, PackageError> {
    let items = normalize(items)?;
    let mut writer = RecordWriter {
        out: CountingWriter {
            inner: out,
            count: 0,
        },
        gzip: opts.gzip,
    };
    let capture_ids: Vec<String> = items.iter().map(capture_record_id).collect();
    let mut info_fields = vec![
        "warcinfo",
        opts.archive_name.as_str(),
        opts.software.as_str(),
    ];
    info_fields.extend(capture_ids.iter().map(String::as_str));
    if let Some(log) = log {
        info_fields.extend(["tlog", log.checkpoint.as_str()]);
    }
    let changes = changes_json(opts)?;
    if !changes.is_empty() {
        info_fields.push("changes");
        info_fields.extend(changes.iter().map(|(id, _)| id.as_str()));
    }
    let warcinfo_id = record_id(&info_fields);

    let info = warcinfo_block(&items, opts, log.is_some(), changes.len());
    let header = Header {
        record_type: "warcinfo",
        record_id: &warcinfo_id,
        warcinfo_id: None,
        date: package_date(&items),
        target_uri: None,
        concurrent_to: None,
        refers_to: None,
        log_item: None,
        block_digest: sha256_label(info.as_bytes()),
        payload_digest: None,
        content_type: "application/warc-fields",
        content_length: info.len() as u64,
    };
    writer.record(&header, &mut |w| {
        w.write_all(info.as_bytes()).map_err(out_err)
    })?;

    let mut records = Vec::with_capacity(items.len() * 2);
    let date = package_date(&items);
    let (checkpoint_id, proofs) = match log {
        Some(log) => {
            let checkpoint_id = writer.log_records(log, &warcinfo_id, date, &mut records)?;
            (Some(checkpoint_id), place_proofs(&items, log))
        }
        None => (None, Vec::new()),
    };
    for (index, (item, capture_id)) in items.iter().zip(&capture_ids).enumerate() {
        let summary = writer.capture(item, capture_id, &warcinfo_id, bytes)?;
        let metadata = writer.metadata(item, &summary, &warcinfo_id, opts)?;
        records.push(summary.clone());
        records.push(metadata);
        if let Some(checkpoint_id) = &checkpoint_id {
            for placed in proofs.iter().filter(|p| p.item == index) {
                let proof = writer.proof(placed, &summary, checkpoint_id, &warcinfo_id)?;
                records.push(proof);
            }
        }
    }
    for ((id, json), change) in changes.iter().zip(sorted_changes(opts)) {
        records.push(writer.change(id, json, change, &warcinfo_id)?);
    }
    writer.out.flush().map_err(out_err)?;
    Ok(WarcSummary {
        warcinfo_id,
        records,
        bytes: writer.out.count,
    })
}

/// The record ID of a capture's response/resource record.
fn capture_record_id(item: &ExportCapture) -> String {
    record_id(&[
        "capture",
        &item.document.id.to_string(),
        &item.capture.sha256.to_hex(),
        &warc_date(item.capture.captured_at),
    ])
}

/// `WARC-Date`: RFC 3339 UTC, sub-second digits kept when nonzero (WARC 1.1 allows them).
pub(crate) fn warc_date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The change records in the order [`changes_json`] gives them (ID order, each once).
fn sorted_changes(opts: &ExportOptions) -> Vec<&evarc_record::change::ChangeRecord> {
    let mut changes: Vec<&evarc_record::change::ChangeRecord> = opts.changes.iter().collect();
    changes.sort_by_key(|c| c.id.seq());
    changes.dedup_by_key(|c| c.id.seq());
    changes
}

fn warcinfo_block(
    items: &[ExportCapture],
    opts: &ExportOptions,
    logged: bool,
    changes: usize,
) -> String {
    let mut block = String::new();
    let mut field = |name: &str, value: &str| {
        block.push_str(name);
        block.push_str(": ");
        block.push_str(&one_line(value));
        block.push_str("\r\n");
    };
    field("software", &opts.software);
    field("format", "WARC File Format 1.1");
    field(
        "conformsTo",
        "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
    );
    field("isPartOf", &opts.archive_name);
    if let Some(operator) = &opts.operator {
        field("operator", operator);
    }
    field(
        "description",
        &format!(
            "Evidence export of {} capture(s); each capture is followed by a metadata record \
             holding its citation records (evarc JSON citation format).",
            items.len()
        ),
    );
    if logged {
        field(
            "evarc-log",
            "The metadata records marked Evarc-Log hold the transparency log's signed checkpoint, \
             its verifier key, its RFC 3161 time-stamp when there is one, and each record's \
             inclusion proof (C2SP tlog-proof): check them with evarc verify-proof.",
        );
    }
    if changes > 0 {
        field(
            "evarc-changes",
            &format!(
                "After the captures, {changes} metadata record(s) with target URI \
                 urn:evarc:change:<ID> hold the change records (evarc JSON) of the exported \
                 documents and provisions: what changed between two text versions, and each \
                 provision's status."
            ),
        );
    }
    block
}

fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The `WARC-Target-URI` of evidence about a capture of `page`: `urn:evarc:<kind>:<page>`, after
/// Webrecorder's `urn:pageinfo:<page>`. Evidence never carries the page's own URI, so replay
/// tools (pywb indexes every record with a target URI) never take it for a capture of the page.
fn evidence_uri(kind: &str, page: &str) -> String {
    format!("urn:evarc:{kind}:{page}")
}

/// A URI for `WARC-Target-URI`: whitespace, controls and `<>"` percent-encoded.
fn target_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    for c in uri.trim().chars() {
        if c.is_control() || c == ' ' || matches!(c, '<' | '>' | '"') {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

struct Header<'a> {
    record_type: &'a str,
    record_id: &'a str,
    warcinfo_id: Option<&'a str>,
    date: DateTime<Utc>,
    target_uri: Option<&'a str>,
    concurrent_to: Option<&'a str>,
    refers_to: Option<&'a str>,
    /// The `Evarc-Log` extension field: what log evidence the record holds.
    log_item: Option<&'a str>,
    block_digest: String,
    payload_digest: Option<String>,
    content_type: &'a str,
    content_length: u64,
}

impl Header<'_> {
    fn render(&self) -> String {
        let mut h = format!(
            "WARC/1.1\r\nWARC-Type: {}\r\nWARC-Record-ID: {}\r\n",
            self.record_type, self.record_id
        );
        if let Some(info) = self.warcinfo_id {
            h.push_str(&format!("WARC-Warcinfo-ID: {info}\r\n"));
        }
        h.push_str(&format!("WARC-Date: {}\r\n", warc_date(self.date)));
        if let Some(uri) = self.target_uri {
            h.push_str(&format!("WARC-Target-URI: {uri}\r\n"));
        }
        if let Some(to) = self.concurrent_to {
            h.push_str(&format!("WARC-Concurrent-To: {to}\r\n"));
        }
        if let Some(to) = self.refers_to {
            h.push_str(&format!("WARC-Refers-To: {to}\r\n"));
        }
        h.push_str(&format!("WARC-Block-Digest: {}\r\n", self.block_digest));
        if let Some(p) = &self.payload_digest {
            h.push_str(&format!("WARC-Payload-Digest: {p}\r\n"));
        }
        if let Some(item) = self.log_item {
            h.push_str(&format!("Evarc-Log: {item}\r\n"));
        }
        h.push_str(&format!(
            "Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
            self.content_type, self.content_length
        ));
        h
    }
}

struct RecordWriter<W> {
    out: CountingWriter<W>,
    gzip: bool,
}

type BlockFn<'a> = dyn FnMut(&mut dyn Write) -> Result<(), PackageError> + 'a;

impl<W: Write> RecordWriter<W> {
    /// Writes one record (its own gzip member when gzipping); returns (offset, length).
    fn record(
        &mut self,
        header: &Header<'_>,
        block: &mut BlockFn<'_>,
    ) -> Result<(u64, u64), PackageError> {
        let offset = self.out.count;
        if self.gzip {
            let mut gz = GzBuilder::new()
                .mtime(0)
                .write(&mut self.out, Compression::default());
            gz.write_all(header.render().as_bytes()).map_err(out_err)?;
            block(&mut gz)?;
            gz.write_all(b"\r\n\r\n").map_err(out_err)?;
            gz.finish().map_err(out_err)?;
        } else {
            self.out
                .write_all(header.render().as_bytes())
                .map_err(out_err)?;
            block(&mut self.out)?;
            self.out.write_all(b"\r\n\r\n").map_err(out_err)?;
        }
        Ok((offset, self.out.count - offset))
    }

    fn capture(
        &mut self,
        item: &ExportCapture,
        capture_id: &str,
        warcinfo_id: &str,
        bytes: &dyn CaptureBytes,
    ) -> Result<WarcRecordSummary, PackageError> {
        let capture = &item.capture;
        let uri = target_uri(&capture.source_url);
        if uri.is_empty() {
            return Err(PackageError::BadHeaderValue {
                document: item.document.id.to_string(),
                field: "source URL",
                value: capture.source_url.clone(),
            });
        }
        let media_type = media_type(&capture.media_type);
        let payload_digest = format!("sha256:{}", capture.sha256);
        let (record_type, head, block_digest, content_type) = match &capture.http {
            Some(http) => {
                let head = response_head(http, capture.byte_len);
                let block_digest = block_digest_of(item, &head, bytes)?;
                let ct = "application/http; msgtype=response".to_owned();
                ("response", head, block_digest, ct)
            }
            None => (
                "resource",
                Vec::new(),
                payload_digest.clone(),
                media_type.clone(),
            ),
        };
        let header = Header {
            record_type,
            record_id: capture_id,
            warcinfo_id: Some(warcinfo_id),
            date: capture.captured_at,
            target_uri: Some(&uri),
            concurrent_to: None,
            refers_to: None,
            log_item: None,
            block_digest,
            payload_digest: Some(payload_digest.clone()),
            content_type: &content_type,
            content_length: head.len() as u64 + capture.byte_len,
        };
        let (offset, length) = self.record(&header, &mut |w| {
            w.write_all(&head).map_err(out_err)?;
            copy_verified(item, bytes, w).map_err(|e| match e {
                CopyError::Package(p) => p,
                CopyError::Output(io) => out_err(io),
            })
        })?;
        Ok(WarcRecordSummary {
            record_type,
            record_id: capture_id.to_owned(),
            target_uri: uri,
            date: capture.captured_at,
            offset,
            length,
            media_type,
            status: capture.http.as_ref().map(|h| h.status),
            payload_digest,
            document_id: item.document.id.to_string(),
            document_title: item.document.title.clone(),
            concurrent_to: None,
        })
    }

    fn metadata(
        &mut self,
        item: &ExportCapture,
        capture: &WarcRecordSummary,
        warcinfo_id: &str,
        opts: &ExportOptions,
    ) -> Result<WarcRecordSummary, PackageError> {
        let json = citations_json(item, opts);
        let id = record_id(&["metadata", &capture.record_id]);
        let digest = sha256_label(json.as_bytes());
        let target = evidence_uri("citations", &capture.target_uri);
        let header = Header {
            record_type: "metadata",
            record_id: &id,
            warcinfo_id: Some(warcinfo_id),
            date: capture.date,
            target_uri: Some(&target),
            concurrent_to: Some(&capture.record_id),
            refers_to: Some(&capture.record_id),
            log_item: None,
            block_digest: digest.clone(),
            payload_digest: None,
            content_type: "application/json",
            content_length: json.len() as u64,
        };
        let (offset, length) = self.record(&header, &mut |w| {
            w.write_all(json.as_bytes()).map_err(out_err)
        })?;
        Ok(WarcRecordSummary {
            record_type: "metadata",
            record_id: id,
            target_uri: target,
            date: capture.date,
            offset,
            length,
            media_type: "application/json".to_owned(),
            status: None,
            payload_digest: digest,
            document_id: capture.document_id.clone(),
            document_title: capture.document_title.clone(),
            concurrent_to: Some(capture.record_id.clone()),
        })
    }
}

impl<W: Write> RecordWriter<W> {
    /// One change record as a `metadata` record (`urn:evarc:change:<ID>`, dated by the first
    /// capture with the new text).
    fn change(
        &mut self,
        id: &str,
        json: &str,
        change: &evarc_record::change::ChangeRecord,
        warcinfo_id: &str,
    ) -> Result<WarcRecordSummary, PackageError> {
        let record = record_id(&["change", id]);
        let target = format!("urn:evarc:change:{id}");
        let digest = sha256_label(json.as_bytes());
        let date = change.capture.captured_at;
        let header = Header {
            record_type: "metadata",
            record_id: &record,
            warcinfo_id: Some(warcinfo_id),
            date,
            target_uri: Some(&target),
            concurrent_to: None,
            refers_to: None,
            log_item: None,
            block_digest: digest.clone(),
            payload_digest: None,
            content_type: "application/json",
            content_length: json.len() as u64,
        };
        let (offset, length) = self.record(&header, &mut |w| {
            w.write_all(json.as_bytes()).map_err(out_err)
        })?;
        Ok(WarcRecordSummary {
            record_type: "metadata",
            record_id: record.clone(),
            target_uri: target,
            date,
            offset,
            length,
            media_type: "application/json".to_owned(),
            status: None,
            payload_digest: digest,
            document_id: change.document.to_string(),
            document_title: String::new(),
            concurrent_to: None,
        })
    }

    /// One `metadata` record holding `block` as is; returns its summary.
    fn log_record(
        &mut self,
        header: LogHeader<'_>,
        block: &[u8],
    ) -> Result<WarcRecordSummary, PackageError> {
        let digest = sha256_label(block);
        let rendered = Header {
            record_type: "metadata",
            record_id: header.record_id,
            warcinfo_id: Some(header.warcinfo_id),
            date: header.date,
            target_uri: header.target_uri,
            concurrent_to: header.concurrent_to,
            refers_to: header.refers_to,
            log_item: Some(header.log_item),
            block_digest: digest.clone(),
            payload_digest: None,
            content_type: header.content_type,
            content_length: block.len() as u64,
        };
        let (offset, length) =
            self.record(&rendered, &mut |w| w.write_all(block).map_err(out_err))?;
        Ok(WarcRecordSummary {
            record_type: "metadata",
            record_id: header.record_id.to_owned(),
            target_uri: header.target_uri.unwrap_or_default().to_owned(),
            date: header.date,
            offset,
            length,
            media_type: header.content_type.to_owned(),
            status: None,
            payload_digest: digest,
            document_id: header.document.0.to_owned(),
            document_title: header.document.1.to_owned(),
            concurrent_to: header.concurrent_to.map(str::to_owned),
        })
    }

    /// The checkpoint, key and time-stamp records; returns the checkpoint's record ID.
    fn log_records(
        &mut self,
        log: &LogEvidence,
        warcinfo_id: &str,
        date: DateTime<Utc>,
        records: &mut Vec<WarcRecordSummary>,
    ) -> Result<String, PackageError> {
        let checkpoint_id = record_id(&["tlog-checkpoint", &log.checkpoint]);
        let base = LogHeader {
            record_id: &checkpoint_id,
            warcinfo_id,
            date,
            target_uri: None,
            concurrent_to: None,
            refers_to: None,
            log_item: "checkpoint",
            content_type: TEXT,
            document: ("", ""),
        };
        records.push(self.log_record(base, log.checkpoint.as_bytes())?);
        let key = key_file(log);
        let key_id = record_id(&["tlog-key", &checkpoint_id, key.trim_end()]);
        let header = LogHeader {
            record_id: &key_id,
            refers_to: Some(&checkpoint_id),
            log_item: "verifier-key",
            ..base
        };
        records.push(self.log_record(header, key.as_bytes())?);
        if let Some(tsr) = &log.timestamp {
            let tsr_id = record_id(&["tlog-timestamp", &checkpoint_id]);
            let header = LogHeader {
                record_id: &tsr_id,
                refers_to: Some(&checkpoint_id),
                log_item: "timestamp",
                content_type: "application/timestamp-reply",
                ..base
            };
            records.push(self.log_record(header, tsr)?);
        }
        Ok(checkpoint_id)
    }

    /// One inclusion proof, concurrent to its capture record, referring to the checkpoint.
    fn proof(
        &mut self,
        placed: &PlacedProof<'_>,
        capture: &WarcRecordSummary,
        checkpoint_id: &str,
        warcinfo_id: &str,
    ) -> Result<WarcRecordSummary, PackageError> {
        let record = placed.proof.record();
        let id = record_id(&["tlog-proof", &capture.record_id, record, checkpoint_id]);
        let item = format!("inclusion-proof {record}");
        let target = evidence_uri("tlog-proof", &capture.target_uri);
        let header = LogHeader {
            record_id: &id,
            warcinfo_id,
            date: capture.date,
            target_uri: Some(&target),
            concurrent_to: Some(&capture.record_id),
            refers_to: Some(checkpoint_id),
            log_item: &item,
            content_type: TEXT,
            document: (&capture.document_id, &capture.document_title),
        };
        self.log_record(header, placed.proof.proof.as_bytes())
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

/// The header fields of a log evidence record.
#[derive(Clone, Copy)]
struct LogHeader<'a> {
    record_id: &'a str,
    warcinfo_id: &'a str,
    date: DateTime<Utc>,
    target_uri: Option<&'a str>,
    concurrent_to: Option<&'a str>,
    refers_to: Option<&'a str>,
    log_item: &'a str,
    content_type: &'a str,
    /// Document ID and title (empty for the checkpoint, key and time-stamp).
    document: (&'a str, &'a str),
}

/// `sha256:` of the HTTP head followed by the capture bytes, checking the bytes on the way.
fn block_digest_of(
    item: &ExportCapture,
    head: &[u8],
    bytes: &dyn CaptureBytes,
) -> Result<String, PackageError> {
    let mut reader = bytes.open(&item.capture).map_err(|e| read_error(item, e))?;
    let mut block = Sha256::new();
    let mut payload = Sha256::new();
    block.update(head);
    let mut len = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(item, e)),
        };
        block.update(&buf[..n]);
        payload.update(&buf[..n]);
        len += n as u64;
    }
    check(item, &hex::encode(payload.finalize()), len)?;
    Ok(format!("sha256:{}", hex::encode(block.finalize())))
}

fn media_type(recorded: &str) -> String {
    let cleaned = one_line(recorded).trim().to_owned();
    if cleaned.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        cleaned
    }
}

fn out_err(err: io::Error) -> PackageError {
    PackageError::WarcOutput(err)
}
