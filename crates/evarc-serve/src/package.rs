//! `/export/<ID>.warc.gz`, `/export/<ID>.wacz`, `/export/<ID>.bag.zip`: the evidence packages of
//! a document or provision as downloads, the same bytes `evarc export ID` writes.
//!
//! What a package holds is `evarc_provenance::export` (the one plan of the CLI and the server),
//! and `evarc-package` writes it; this module only picks the format and streams it ([`download`]:
//! a WARC as it is written, a WACZ or zipped bag from a private temporary directory), never the
//! whole package in memory. A BagIt bag is a directory: it is sent serialised as one ZIP file
//! whose single top-level directory is the bag (RFC 8493, section 4). The bytes are re-hashed
//! before the answer starts and again while written; damaged bytes fail the download (500,
//! "✗ Hash not verified"), never a package of them, and a failure once the answer has started
//! cuts the transfer short. A package whose captures exceed [`PACKAGE_LIMIT`] bytes is refused
//! (413) with a line saying to use `evarc export`.

use std::io::Write;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evarc_package::{write_bagit_with_log, write_wacz_with_log, write_warc_with_log, PackageError};
use evarc_provenance::cite::{self, EvidenceCheck};
use evarc_provenance::export::{ExportPlan, ExportRequest, StoreBytes};
use evarc_provenance::id::RecordId;
use evarc_provenance::Archive;

use crate::error::Failure;
use crate::pages::safety_headers;
use crate::state::AppState;

/// The largest package built on request, counted as the recorded bytes of its captures.
pub const PACKAGE_LIMIT: u64 = 256 * 1024 * 1024;

/// The package formats offered, with their file suffix and media type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageKind {
    Warc,
    Wacz,
    Bagit,
}

impl PackageKind {
    pub const ALL: [PackageKind; 3] = [PackageKind::Warc, PackageKind::Wacz, PackageKind::Bagit];

    /// The file suffix after the record ID.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Warc => ".warc.gz",
            Self::Wacz => ".wacz",
            Self::Bagit => ".bag.zip",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Warc => "WARC",
            Self::Wacz => "WACZ",
            Self::Bagit => "BagIt (ZIP)",
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Self::Warc => "application/gzip",
            Self::Wacz | Self::Bagit => "application/zip",
        }
    }

    /// `CA-P-011417.wacz` → (the ID, WACZ).
    fn parse(file: &str) -> Option<(RecordId, PackageKind)> {
        Self::ALL.into_iter().find_map(|kind| {
            let id = file.strip_suffix(kind.suffix())?;
            Some((id.parse::<RecordId>().ok()?, kind))
        })
    }
}

/// How much of a streamed package waits in memory: at most [`STREAM_CHUNKS`] chunks of
/// [`CHUNK`] bytes queued for the client, plus the one being filled.
pub const CHUNK: usize = 64 * 1024;
pub const STREAM_CHUNKS: usize = 4;

/// A piece of a streamed body, or the failure that ends it unfinished.
type Chunk = Result<axum::body::Bytes, std::io::Error>;

/// `/export/<ID><suffix>`.
///
/// The package is streamed, never held whole in memory. Every capture of it is re-read and
/// re-hashed first, so damaged bytes are a 500 before any byte is sent. Then the answer starts
/// (chunked): a WARC is written straight into it as it is made; a WACZ or bag (ZIP files, which
/// are written with seeks) is made in a private temporary directory and then sent from disk. A
/// failure after the answer has begun (bytes damaged or unreadable meanwhile, a disk error)
/// aborts the connection: the client sees a truncated transfer (no final chunk), never a
/// package that looks complete.
pub async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    reader: crate::access::Reader,
) -> Response {
    let Some((id, kind)) = PackageKind::parse(file.trim()) else {
        return Failure::not_found(
            "expected /export/<document or provision ID>.warc.gz, .wacz or .bag.zip",
        )
        .into_response();
    };
    // The clock is read here, by the front end: the day the package is made (BagIt
    // `Bagging-Date`), as `evarc export` takes it.
    let today = Utc::now().date_naive();
    let name = format!("{id}{}", kind.suffix());
    let request = ExportRequest {
        ids: vec![id],
        bagging_date: Some(today),
        software: format!("evarc {}", env!("CARGO_PKG_VERSION")),
        ..ExportRequest::default()
    };
    let (ready, answer) = tokio::sync::oneshot::channel();
    let (chunks, body) = tokio::sync::mpsc::channel::<Chunk>(STREAM_CHUNKS);
    let producer = state.clone();
    tokio::task::spawn_blocking(move || {
        let view = producer.view();
        let outcome = produce(&view.archive, &request, reader, kind, ready, chunks);
        // Nothing to do with a failure here: either it was answered (before the headers) or
        // the stream was ended with it.
        drop(outcome);
    });
    match answer.await {
        Ok(Ok(())) => package_response(&name, kind, body_of(body)),
        Ok(Err(f)) => f.into_response(),
        Err(_) => Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the package could not be built",
        )
        .into_response(),
    }
}

/// The body fed by a channel of chunks; an `Err` chunk aborts it.
pub(crate) fn body_of(chunks: tokio::sync::mpsc::Receiver<Chunk>) -> axum::body::Body {
    axum::body::Body::from_stream(futures_util::stream::unfold(
        chunks,
        |mut chunks| async move { chunks.recv().await.map(|chunk| (chunk, chunks)) },
    ))
}

/// Whether the answer may start (else the failure to answer with); the chunks follow.
type Ready = tokio::sync::oneshot::Sender<Result<(), Failure>>;

/// Plans, checks and writes the package (blocking: on its own thread).
fn produce(
    archive: &Archive,
    request: &ExportRequest,
    reader: crate::access::Reader,
    kind: PackageKind,
    ready: Ready,
    chunks: tokio::sync::mpsc::Sender<Chunk>,
) -> Result<(), Failure> {
    let plan = match plan_checked(archive, request, reader) {
        Ok(plan) => plan,
        Err(f) => {
            let _ = ready.send(Err(f));
            return Ok(());
        }
    };
    // The captures verified: the answer starts now (a big package can take longer to make
    // than the request timeout allows before the headers).
    if ready.send(Ok(())).is_err() {
        return Ok(());
    }
    match kind {
        PackageKind::Warc => stream_with(chunks, |out| write_warc(archive, plan, out)),
        PackageKind::Wacz | PackageKind::Bagit => stream_with(chunks, |out| {
            let (dir, path) = build_file(archive, plan, kind)?;
            let mut file = std::fs::File::open(&path).map_err(io_failure)?;
            std::io::copy(&mut file, out).map_err(io_failure)?;
            drop(dir);
            Ok(())
        }),
    }
}

/// The export plan of the request for this reader, within [`PACKAGE_LIMIT`], every capture
/// re-read and re-hashed (before the answer starts).
fn plan_checked(
    archive: &Archive,
    request: &ExportRequest,
    reader: crate::access::Reader,
) -> Result<ExportPlan, Failure> {
    let plan = archive.export_plan_for(request, reader.0)?;
    if plan.capture_bytes() > PACKAGE_LIMIT {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "this package would carry {} bytes of captures, more than the {} built on request: make it with `evarc export`",
                plan.capture_bytes(),
                PACKAGE_LIMIT
            ),
        ));
    }
    {
        if let Some((capture, check)) = plan.first_unverified(archive)? {
            let found = match check {
                EvidenceCheck::Missing => "the bytes are missing".to_owned(),
                EvidenceCheck::Mismatch { actual_sha256 } => {
                    format!("the stored bytes hash to {actual_sha256}")
                }
                EvidenceCheck::Damaged { reason } => reason,
                EvidenceCheck::Verified => String::new(),
            };
            return Err(Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "✗ Hash not verified: no package is made of these bytes: capture sha256:{} of {} ({}): {found}",
                    capture.sha256,
                    capture.document,
                    cite::text_time(capture.captured_at)
                ),
            ));
        }
    }
    Ok(plan)
}

/// Runs `write` into a [`ChunkWriter`] on `chunks`; a failure (or a short write) ends the
/// stream with an error, so the transfer is cut short.
fn stream_with(
    chunks: tokio::sync::mpsc::Sender<Chunk>,
    write: impl FnOnce(&mut ChunkWriter) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut out = ChunkWriter::new(chunks.clone());
    let result = write(&mut out).and_then(|()| out.finish().map_err(io_failure));
    if let Err(f) = &result {
        let _ = chunks.blocking_send(Err(std::io::Error::other(f.message.clone())));
    }
    result
}

/// Hands what is written to the response body in [`CHUNK`]-byte pieces, waiting while
/// [`STREAM_CHUNKS`] are queued (the client reads slower than the package is made).
pub(crate) struct ChunkWriter {
    chunks: tokio::sync::mpsc::Sender<Chunk>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    pub(crate) fn new(chunks: tokio::sync::mpsc::Sender<Chunk>) -> Self {
        Self {
            chunks,
            buffer: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.chunks
            .blocking_send(Ok(axum::body::Bytes::from(chunk)))
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
            })
    }

    /// Sends what is left.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = (CHUNK - self.buffer.len()).min(data.len());
        self.buffer.extend_from_slice(&data[..n]);
        if self.buffer.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn package_response(name: &str, kind: PackageKind, body: axum::body::Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.media_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // Made from the archive as it is now (log evidence grows with new checkpoints).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    safety_headers(headers, "sandbox");
    response
}

/// Writes the WARC of `plan` (gzip) into `out`, re-hashing every capture as it goes.
fn write_warc(
    archive: &Archive,
    mut plan: ExportPlan,
    out: &mut ChunkWriter,
) -> Result<(), Failure> {
    let bytes = StoreBytes::new(archive);
    plan.options.gzip = true;
    write_warc_with_log(out, &plan.items, &bytes, &plan.options, plan.log.as_ref())
        .map_err(package_failure)?;
    Ok(())
}

/// Writes the WACZ or the zipped bag of `plan` into a file of a private temporary directory
/// (removed when the directory is dropped).
fn build_file(
    archive: &Archive,
    plan: ExportPlan,
    kind: PackageKind,
) -> Result<(tempfile::TempDir, std::path::PathBuf), Failure> {
    let bytes = StoreBytes::new(archive);
    let log = plan.log.as_ref();
    let dir = temp_dir()?;
    match kind {
        PackageKind::Wacz | PackageKind::Warc => {
            let path = dir.path().join("package.wacz");
            write_wacz_with_log(&path, &plan.items, &bytes, &plan.options, log)
                .map_err(package_failure)?;
            Ok((dir, path))
        }
        PackageKind::Bagit => {
            let bag_name = plan
                .items
                .first()
                .and_then(|i| i.citations.first())
                .map(|c| c.record_id.to_string())
                .unwrap_or_else(|| "bag".to_owned());
            let bag = dir.path().join(&bag_name);
            write_bagit_with_log(&bag, &plan.items, &bytes, &plan.options, log)
                .map_err(package_failure)?;
            let path = dir.path().join("package.bag.zip");
            let file = std::fs::File::create(&path).map_err(io_failure)?;
            zip_directory(&bag, &bag_name, file).map_err(io_failure)?;
            Ok((dir, path))
        }
    }
}

fn temp_dir() -> Result<tempfile::TempDir, Failure> {
    tempfile::Builder::new()
        .prefix("evarc-serve-package-")
        .tempdir()
        .map_err(io_failure)
}

fn io_failure(err: std::io::Error) -> Failure {
    Failure::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("the package could not be built: {err}"),
    )
}

/// A damaged capture fails the download with the evidence verdict; other failures are 500s.
fn package_failure(err: PackageError) -> Failure {
    let damaged = matches!(
        &err,
        PackageError::CaptureMismatch { .. } | PackageError::CaptureRead { .. }
    );
    let mut message = evarc_provenance::error_chain(&err);
    if damaged {
        message = format!("✗ Hash not verified: no package is made of these bytes: {message}");
    }
    Failure::new(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// The bag directory as one ZIP file written to `out`: every file under `name/`, sorted,
/// stored with a fixed time so equal bags give equal bytes; each file copied through, not read
/// whole.
fn zip_directory(dir: &std::path::Path, name: &str, out: std::fs::File) -> std::io::Result<()> {
    let mut files = Vec::new();
    collect_files(dir, String::new(), &mut files)?;
    files.sort();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(out));
    for rel in files {
        zip.start_file(format!("{name}/{rel}"), options)
            .map_err(std::io::Error::other)?;
        std::io::copy(&mut std::fs::File::open(dir.join(&rel))?, &mut zip)?;
    }
    zip.finish().map_err(std::io::Error::other)?.flush()?;
    Ok(())
}

fn collect_files(
    dir: &std::path::Path,
    prefix: String,
    out: &mut Vec<String>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        if entry.file_type()?.is_dir() {
            collect_files(&entry.path(), rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package_of(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_streamed_package_arrives_whole_in_bounded_chunks() {
        let data = package_of(5 * CHUNK + 17);
        let expected = data.clone();
        let (chunks, body) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
        let writer = tokio::task::spawn_blocking(move || {
            stream_with(chunks, |out| out.write_all(&data).map_err(io_failure))
        });
        let received = axum::body::to_bytes(body_of(body), usize::MAX)
            .await
            .expect("the whole body");
        assert_eq!(received.as_ref(), expected.as_slice());
        assert!(writer.await.expect("the writer thread").is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failure_after_the_first_bytes_cuts_the_transfer_short() {
        let data = package_of(3 * CHUNK + 10);
        let (chunks, body) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
        let writer = tokio::task::spawn_blocking(move || {
            stream_with(chunks, |out| {
                out.write_all(&data).map_err(io_failure)?;
                Err(Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "✗ Hash not verified: damaged while streaming",
                ))
            })
        });
        let received = axum::body::to_bytes(body_of(body), usize::MAX).await;
        let err = received.expect_err("the body ends in an error, not as a complete package");
        assert!(
            err.to_string().contains("damaged while streaming")
                || format!("{err:?}").contains("damaged while streaming"),
            "{err:?}"
        );
        assert!(writer.await.expect("the writer thread").is_err());
    }
}
