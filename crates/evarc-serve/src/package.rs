//! `/export/<ID>.warc.gz`, `/export/<ID>.wacz`, `/export/<ID>.bag.zip`: the evidence packages of
//! a document or provision as downloads, the same bytes `evarc export ID` writes.
//!
//! What a package holds is `evarc_provenance::export` (the one plan of the CLI and the server),
//! and `evarc-package` writes it; this module only picks the format, builds the file in a
//! private temporary directory and sends it. A BagIt bag is a directory: it is sent serialised
//! as one ZIP file whose single top-level directory is the bag (RFC 8493, section 4). The bytes
//! are re-hashed while written; damaged bytes fail the download (500, "✗ Hash not verified"),
//! never a package of them. A package whose captures exceed [`PACKAGE_LIMIT`] bytes is refused
//! (413) with a line saying to use `evarc export`.

use std::io::{Read, Write};

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use evarc_package::{write_bagit_with_log, write_wacz_with_log, write_warc_with_log, PackageError};
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

/// `/export/<ID><suffix>`.
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
    let result = state
        .with(move |archive| {
            let request = ExportRequest {
                ids: vec![id],
                bagging_date: Some(today),
                software: format!("evarc {}", env!("CARGO_PKG_VERSION")),
                ..ExportRequest::default()
            };
            let plan = archive.export_plan_for(&request, reader.0)?;
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
            build(archive, plan, kind)
        })
        .await;
    match result {
        Ok(bytes) => package_response(&name, kind, bytes),
        Err(f) => f.into_response(),
    }
}

fn package_response(name: &str, kind: PackageKind, bytes: Vec<u8>) -> Response {
    let mut response = bytes.into_response();
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

/// Writes the package of `plan` as `kind`, in a private temporary directory, and returns its
/// bytes.
fn build(archive: &Archive, mut plan: ExportPlan, kind: PackageKind) -> Result<Vec<u8>, Failure> {
    let bytes = StoreBytes::new(archive);
    let log = plan.log.as_ref();
    match kind {
        PackageKind::Warc => {
            plan.options.gzip = true;
            let mut out = Vec::new();
            write_warc_with_log(&mut out, &plan.items, &bytes, &plan.options, log)
                .map_err(package_failure)?;
            Ok(out)
        }
        PackageKind::Wacz => {
            let dir = temp_dir()?;
            let path = dir.path().join("package.wacz");
            write_wacz_with_log(&path, &plan.items, &bytes, &plan.options, log)
                .map_err(package_failure)?;
            std::fs::read(&path).map_err(io_failure)
        }
        PackageKind::Bagit => {
            let dir = temp_dir()?;
            let bag_name = plan
                .items
                .first()
                .and_then(|i| i.citations.first())
                .map(|c| c.record_id.to_string())
                .unwrap_or_else(|| "bag".to_owned());
            let bag = dir.path().join(&bag_name);
            write_bagit_with_log(&bag, &plan.items, &bytes, &plan.options, log)
                .map_err(package_failure)?;
            zip_directory(&bag, &bag_name).map_err(io_failure)
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
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if damaged {
        message = format!("✗ Hash not verified: no package is made of these bytes: {message}");
    }
    Failure::new(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// The bag directory as one ZIP file: every file under `name/`, sorted, stored with a fixed
/// time so equal bags give equal bytes.
fn zip_directory(dir: &std::path::Path, name: &str) -> std::io::Result<Vec<u8>> {
    let mut files = Vec::new();
    collect_files(dir, String::new(), &mut files)?;
    files.sort();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for rel in files {
        zip.start_file(format!("{name}/{rel}"), options)
            .map_err(std::io::Error::other)?;
        let mut content = Vec::new();
        std::fs::File::open(dir.join(&rel))?.read_to_end(&mut content)?;
        zip.write_all(&content)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
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
