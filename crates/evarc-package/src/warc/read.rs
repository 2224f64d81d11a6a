//! Reading WARC files (`.warc`, `.warc.gz`) record by record, surviving damage.
//!
//! [`WarcReader`] yields `response` and `resource` records as [`ImportedCapture`]s and
//! `revisit` records as [`Revisit`]s, with the byte offset of each record (of its gzip member in
//! a `.warc.gz`). Other record types are skipped. A damaged or truncated record yields a
//! [`DamagedRecord`] with its offset; the reader then resynchronises on the next gzip member
//! (`1f 8b 08`) or the next line starting `WARC/1.` and goes on. Blocks are streamed into a
//! spooled temporary file, never sized from `Content-Length`.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use flate2::bufread::GzDecoder;
use sha2::{Digest, Sha256};
use tempfile::SpooledTempFile;

use super::source::{read_line, Dechunk, HashingBufRead, Source};
use crate::title::html_title;

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
const WARC_LINE: &[u8] = b"\nWARC/1.";
const MAX_HEADER_BYTES: usize = 256 * 1024;
const TITLE_PREFIX_BYTES: usize = 256 * 1024;

/// Limits of the reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderOptions {
    /// A record block larger than this is reported damaged and skipped (default 8 GiB).
    pub max_block_bytes: u64,
    /// Payloads up to this size stay in memory; larger ones spool to a temporary file
    /// (default 16 MiB).
    pub in_memory_bytes: usize,
    /// Where spooled payloads go (default: the system's temporary directory).
    pub temp_dir: Option<PathBuf>,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            max_block_bytes: 8 << 30,
            in_memory_bytes: 16 << 20,
            temp_dir: None,
        }
    }
}

/// One record read.
#[derive(Debug)]
pub enum WarcRecord {
    Capture(ImportedCapture),
    Revisit(Revisit),
}

/// A `response` or `resource` record: the bytes of one capture made elsewhere.
#[derive(Debug)]
pub struct ImportedCapture {
    /// `response` or `resource`.
    pub record_type: String,
    pub target_uri: String,
    /// `WARC-Date`: when the capture was made.
    pub date: DateTime<Utc>,
    /// HTTP status of a `response` record.
    pub status: Option<u16>,
    /// HTTP response headers of a `response` record, in order.
    pub headers: Vec<(String, String)>,
    /// The HTTP `Content-Type` of a response, else the record's `Content-Type`.
    pub media_type: Option<String>,
    /// The payload: the HTTP body after transfer decoding (content encoding kept, as sent), or
    /// the whole block of a `resource` record.
    pub payload: Payload,
    /// SHA-256 of the payload (64 lower hex).
    pub payload_sha256: String,
    /// `WARC-Payload-Digest` as written in the record, if any (for resolving revisits).
    pub warc_payload_digest: Option<String>,
    /// `WARC-Record-ID`.
    pub record_id: String,
    /// The HTML `<title>` of the payload, when it is HTML and has one.
    pub title: Option<String>,
    /// Byte offset of the record (of its gzip member in a `.warc.gz`).
    pub offset: u64,
}

/// A `revisit` record: the same payload as an earlier capture, seen again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revisit {
    pub target_uri: String,
    pub date: DateTime<Utc>,
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub record_id: String,
    /// `WARC-Refers-To`: the record ID of the original, when given.
    pub refers_to: Option<String>,
    pub refers_to_target_uri: Option<String>,
    pub refers_to_date: Option<DateTime<Utc>>,
    /// `WARC-Payload-Digest` as written.
    pub warc_payload_digest: Option<String>,
    /// The payload digest as SHA-256 hex, when it is a SHA-256 digest (hex or base32).
    pub payload_sha256: Option<String>,
    pub offset: u64,
}

/// A record that could not be read: where it starts and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("damaged WARC record at byte offset {offset}: {reason}")]
pub struct DamagedRecord {
    pub offset: u64,
    pub reason: String,
}

/// The payload bytes of an imported capture: in memory when small, else in a temporary file.
#[derive(Debug)]
pub struct Payload {
    file: SpooledTempFile,
    len: u64,
}

impl Payload {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the payload was spooled to a temporary file.
    pub fn is_on_disk(&self) -> bool {
        self.file.is_rolled()
    }

    /// Positions reading at the first byte again.
    pub fn rewind(&mut self) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0)).map(|_| ())
    }

    /// The whole payload in memory (for small payloads and tests).
    pub fn to_vec(&mut self) -> io::Result<Vec<u8>> {
        self.rewind()?;
        let mut out = Vec::new();
        self.file.read_to_end(&mut out)?;
        self.rewind()?;
        Ok(out)
    }
}

impl Read for Payload {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

enum State<R> {
    Idle(Source<R>),
    Member {
        offset: u64,
        reader: Box<BufReader<GzDecoder<Source<R>>>>,
    },
    Done,
}

/// Reads a `.warc` or `.warc.gz` (detected by the gzip magic) record by record.
pub struct WarcReader<R> {
    state: State<R>,
    gzip: bool,
    opts: ReaderOptions,
    /// After damage, further failures are part of the same damage until a record reads.
    resyncing: bool,
    /// The offset last reported damaged: one damaged gzip member is reported once.
    last_reported: Option<u64>,
    skipped: u64,
}

/// Why a record failed, and whether the file's framing is still trustworthy after it.
struct Damage {
    reason: String,
    framing_intact: bool,
}

fn damage(reason: impl Into<String>) -> Damage {
    Damage {
        reason: reason.into(),
        framing_intact: false,
    }
}

fn io_damage(err: io::Error) -> Damage {
    damage(match err.kind() {
        io::ErrorKind::UnexpectedEof => format!("truncated ({err})"),
        _ => err.to_string(),
    })
}

impl<R: Read + Seek> WarcReader<R> {
    /// Starts reading `inner` from its beginning.
    pub fn new(inner: R, opts: ReaderOptions) -> io::Result<Self> {
        let mut source = Source::new(inner);
        source.seek_to(0)?;
        let head = source.fill_buf()?;
        let gzip = head.starts_with(&GZIP_MAGIC[..2.min(head.len())]) && !head.is_empty();
        Ok(WarcReader {
            state: State::Idle(source),
            gzip,
            opts,
            resyncing: false,
            last_reported: None,
            skipped: 0,
        })
    }

    /// Whether the file is gzipped (`.warc.gz`).
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// How many records of other types (warcinfo, request, metadata, …) were skipped so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Reports damage at `offset` (once per damaged stretch) and resynchronises.
    fn damaged(
        &mut self,
        mut source: Source<R>,
        offset: u64,
        d: Damage,
    ) -> Option<Result<WarcRecord, DamagedRecord>> {
        let first = !self.resyncing && self.last_reported != Some(offset);
        if d.framing_intact {
            self.state = State::Idle(source);
        } else {
            self.resyncing = true;
            let pattern: &[u8] = if self.gzip { &GZIP_MAGIC } else { WARC_LINE };
            self.state = match source.scan(offset + 1, pattern) {
                Ok(Some(found)) => {
                    let start = if self.gzip { found } else { found + 1 };
                    match source.seek_to(start) {
                        Ok(()) => State::Idle(source),
                        Err(_) => State::Done,
                    }
                }
                _ => State::Done,
            };
        }
        if !first {
            return None;
        }
        self.last_reported = Some(offset);
        Some(Err(DamagedRecord {
            offset,
            reason: d.reason,
        }))
    }
}

impl<R: Read + Seek> Iterator for WarcReader<R> {
    type Item = Result<WarcRecord, DamagedRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return None,
                State::Idle(mut source) if !self.gzip => {
                    let offset = source.pos;
                    match skip_blank_lines(&mut source) {
                        Ok(true) => return None,
                        Ok(false) => {}
                        Err(err) => {
                            if let Some(item) = self.damaged(source, offset, io_damage(err)) {
                                return Some(item);
                            }
                            continue;
                        }
                    }
                    let offset = source.pos;
                    match read_record(&mut source, offset, &self.opts) {
                        Ok(found) => {
                            self.resyncing = false;
                            self.state = State::Idle(source);
                            match found {
                                Some(record) => return Some(Ok(record)),
                                None => self.skipped += 1,
                            }
                        }
                        Err(d) => {
                            if let Some(item) = self.damaged(source, offset, d) {
                                return Some(item);
                            }
                        }
                    }
                }
                State::Idle(mut source) => {
                    let offset = source.pos;
                    let head = match source.fill_buf() {
                        Ok([]) => return None,
                        Ok(head) => head,
                        Err(err) => {
                            if let Some(item) = self.damaged(source, offset, io_damage(err)) {
                                return Some(item);
                            }
                            continue;
                        }
                    };
                    if head[0] != GZIP_MAGIC[0] || head.get(1).is_some_and(|&b| b != GZIP_MAGIC[1])
                    {
                        let d =
                            damage("not a gzip member (a .warc.gz record must start with 1f 8b)");
                        if let Some(item) = self.damaged(source, offset, d) {
                            return Some(item);
                        }
                        continue;
                    }
                    self.state = State::Member {
                        offset,
                        reader: Box::new(BufReader::with_capacity(
                            64 * 1024,
                            GzDecoder::new(source),
                        )),
                    };
                }
                State::Member { offset, mut reader } => {
                    let result = match skip_blank_lines(&mut *reader) {
                        Ok(true) => {
                            // End of the member: its bytes are consumed exactly.
                            let source = reader.into_inner().into_inner();
                            self.state = State::Idle(source);
                            continue;
                        }
                        Ok(false) => read_record(&mut *reader, offset, &self.opts),
                        Err(err) => Err(io_damage(err)),
                    };
                    match result {
                        Ok(found) => {
                            self.resyncing = false;
                            self.state = State::Member { offset, reader };
                            match found {
                                Some(record) => return Some(Ok(record)),
                                None => self.skipped += 1,
                            }
                        }
                        Err(d) if d.framing_intact => {
                            // The gzip member goes on: keep reading it.
                            self.state = State::Member { offset, reader };
                            if !self.resyncing && self.last_reported != Some(offset) {
                                self.last_reported = Some(offset);
                                return Some(Err(DamagedRecord {
                                    offset,
                                    reason: d.reason,
                                }));
                            }
                        }
                        Err(d) => {
                            let source = reader.into_inner().into_inner();
                            if let Some(item) = self.damaged(source, offset, d) {
                                return Some(item);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Skips CR/LF between records. `Ok(true)` at the end of the stream.
fn skip_blank_lines<B: BufRead + ?Sized>(r: &mut B) -> io::Result<bool> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(true);
        }
        let n = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if n == 0 {
            return Ok(false);
        }
        r.consume(n);
    }
}

/// Header fields in order, names as written.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads `Name: value` lines up to an empty line (continuation lines folded in).
fn read_fields<B: BufRead + ?Sized>(r: &mut B, what: &str) -> Result<Fields, Damage> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut total = 0usize;
    loop {
        let line = read_line(r, MAX_HEADER_BYTES).map_err(io_damage)?;
        if line.is_empty() {
            return Err(damage(format!("truncated {what} header")));
        }
        total += line.len();
        if total > MAX_HEADER_BYTES {
            return Err(damage(format!(
                "{what} header longer than {MAX_HEADER_BYTES} bytes"
            )));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            return Ok(Fields(fields));
        }
        if text.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(text.trim());
                continue;
            }
        }
        match text.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                fields.push((name.trim().to_owned(), value.trim().to_owned()))
            }
            _ => return Err(damage(format!("bad {what} header line {text:?}"))),
        }
    }
}

/// Reads one record starting at the current position. `Ok(None)` for skipped record types.
fn read_record<B: BufRead + ?Sized>(
    r: &mut B,
    offset: u64,
    opts: &ReaderOptions,
) -> Result<Option<WarcRecord>, Damage> {
    let version = read_line(r, 64).map_err(|_| damage("no WARC version line"))?;
    if !version.starts_with(b"WARC/1.") {
        return Err(damage(format!(
            "expected a WARC/1.x version line, found {:?}",
            String::from_utf8_lossy(&version).trim_end()
        )));
    }
    let fields = read_fields(r, "WARC")?;
    let length: u64 = fields
        .get("Content-Length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| damage("missing or invalid Content-Length"))?;
    if length > opts.max_block_bytes {
        return Err(damage(format!(
            "block of {length} bytes exceeds the limit of {} bytes",
            opts.max_block_bytes
        )));
    }
    let record_type = fields.get("WARC-Type").unwrap_or("").to_ascii_lowercase();
    let mut block = HashingBufRead::new(r.take(length));
    let outcome = match record_type.as_str() {
        "response" | "resource" | "revisit" => {
            read_capture(&mut block, &record_type, &fields, offset, opts)
        }
        _ => Ok(None),
    };
    // Whatever the block held beyond what was parsed is read to keep the framing.
    let drained = io::copy(&mut block, &mut io::sink());
    if block.count < length {
        return Err(damage(format!(
            "truncated: block has {} of its {length} bytes",
            block.count
        )));
    }
    drained.map_err(io_damage)?;
    let outcome = outcome?;
    let actual = hex::encode(block.hasher.finalize());
    if let Some(expected) = fields.get("WARC-Block-Digest") {
        if sha256_hex(expected).is_some_and(|e| e != actual) {
            return Err(Damage {
                reason: format!("block digest mismatch: header says {expected}, block hashes to sha256:{actual}"),
                framing_intact: true,
            });
        }
    }
    Ok(outcome)
}

fn read_capture<B: BufRead>(
    block: &mut B,
    record_type: &str,
    fields: &Fields,
    offset: u64,
    opts: &ReaderOptions,
) -> Result<Option<WarcRecord>, Damage> {
    let intact = |reason: String| Damage {
        reason,
        framing_intact: true,
    };
    let target_uri = fields
        .get("WARC-Target-URI")
        .map(|u| u.trim_start_matches('<').trim_end_matches('>').to_owned())
        .ok_or_else(|| intact(format!("{record_type} record without WARC-Target-URI")))?;
    let date = fields
        .get("WARC-Date")
        .and_then(parse_date)
        .ok_or_else(|| intact(format!("{record_type} record without a valid WARC-Date")))?;
    let record_id = fields.get("WARC-Record-ID").unwrap_or("").to_owned();
    let warc_payload_digest = fields.get("WARC-Payload-Digest").map(str::to_owned);
    let is_http = fields
        .get("Content-Type")
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/http"));
    // A revisit may carry no HTTP head at all (warcio's `create_revisit_record` without HTTP
    // headers writes an empty block): it is still a revisit, with no status.
    let empty_revisit = record_type == "revisit" && block.fill_buf().map_err(io_damage)?.is_empty();
    let (status, headers) = if is_http && record_type != "resource" && !empty_revisit {
        let (status, headers) = read_http_head(block)?;
        (Some(status), headers)
    } else {
        (None, Vec::new())
    };
    if record_type == "revisit" {
        return Ok(Some(WarcRecord::Revisit(Revisit {
            target_uri,
            date,
            status,
            headers,
            record_id,
            refers_to: fields.get("WARC-Refers-To").map(str::to_owned),
            refers_to_target_uri: fields.get("WARC-Refers-To-Target-URI").map(str::to_owned),
            refers_to_date: fields.get("WARC-Refers-To-Date").and_then(parse_date),
            payload_sha256: warc_payload_digest.as_deref().and_then(sha256_hex),
            warc_payload_digest,
            offset,
        })));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let media_type = if status.is_some() {
        header("Content-Type").map(str::to_owned)
    } else {
        fields.get("Content-Type").map(str::to_owned)
    };
    let chunked = header("Transfer-Encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
        && Dechunk::looks_chunked(block).map_err(io_damage)?;
    let mut spool = match &opts.temp_dir {
        Some(dir) => SpooledTempFile::new_in(opts.in_memory_bytes, dir),
        None => SpooledTempFile::new(opts.in_memory_bytes),
    };
    let mut hashing = SpoolWriter {
        out: &mut spool,
        hasher: Sha256::new(),
        len: 0,
        prefix: Vec::new(),
    };
    let copied = if chunked {
        io::copy(&mut Dechunk::new(&mut *block), &mut hashing)
    } else {
        io::copy(block, &mut hashing)
    };
    copied.map_err(|e| match e.kind() {
        io::ErrorKind::InvalidData => intact(format!("bad chunked body: {e}")),
        _ => io_damage(e),
    })?;
    let payload_sha256 = hex::encode(hashing.hasher.finalize());
    let len = hashing.len;
    let title = is_html(media_type.as_deref(), &hashing.prefix)
        .then(|| html_title(&hashing.prefix))
        .flatten();
    if !chunked {
        if let Some(expected) = warc_payload_digest.as_deref() {
            if sha256_hex(expected).is_some_and(|e| e != payload_sha256) {
                return Err(intact(format!(
                    "payload digest mismatch: header says {expected}, payload hashes to sha256:{payload_sha256}"
                )));
            }
        }
    }
    let mut payload = Payload { file: spool, len };
    payload.rewind().map_err(io_damage)?;
    Ok(Some(WarcRecord::Capture(ImportedCapture {
        record_type: record_type.to_owned(),
        target_uri,
        date,
        status,
        headers,
        media_type,
        payload,
        payload_sha256,
        warc_payload_digest,
        record_id,
        title,
        offset,
    })))
}

/// Writes into the spool, hashing, counting and keeping the first bytes for the title.
struct SpoolWriter<'a> {
    out: &'a mut SpooledTempFile,
    hasher: Sha256,
    len: u64,
    prefix: Vec<u8>,
}

impl Write for SpoolWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        let room = TITLE_PREFIX_BYTES.saturating_sub(self.prefix.len()).min(n);
        self.prefix.extend_from_slice(&buf[..room]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn is_html(media_type: Option<&str>, prefix: &[u8]) -> bool {
    match media_type {
        Some(mt) => {
            let mt = mt.to_ascii_lowercase();
            mt.contains("html")
        }
        None => {
            let head =
                String::from_utf8_lossy(&prefix[..prefix.len().min(1024)]).to_ascii_lowercase();
            head.contains("<html") || head.contains("<!doctype html")
        }
    }
}

/// `HTTP/1.1 200 OK` and its header fields.
fn read_http_head<B: BufRead>(block: &mut B) -> Result<(u16, Vec<(String, String)>), Damage> {
    let intact = |reason: String| Damage {
        reason,
        framing_intact: true,
    };
    let line = read_line(block, 8192).map_err(|e| intact(format!("bad HTTP status line: {e}")))?;
    let text = String::from_utf8_lossy(&line);
    let mut parts = text.trim_end().splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/"))
        .ok_or_else(|| intact(format!("bad HTTP status line {:?}", text.trim_end())))?;
    let fields = read_fields(block, "HTTP").map_err(|d| intact(d.reason))?;
    Ok((status, fields.0))
}

/// Parses `WARC-Date` (RFC 3339; WARC 1.1 allows fractional seconds).
fn parse_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The SHA-256 hex of a `sha256:` digest written in hex (any case) or base32; `None` for
/// other algorithms or encodings.
pub(crate) fn sha256_hex(digest: &str) -> Option<String> {
    let (algo, value) = digest.trim().split_once(':')?;
    let algo = algo.to_ascii_lowercase().replace('-', "");
    if algo != "sha256" {
        return None;
    }
    let value = value.trim();
    if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(value.to_ascii_lowercase());
    }
    base32_decode(value.trim_end_matches('='))
        .filter(|b| b.len() == 32)
        .map(hex::encode)
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
