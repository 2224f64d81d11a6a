//! WACZ: the WARC of an export in a ZIP with a CDXJ index, a page list and a data package.
//!
//! Layout (docs/packages.md): `archive/data.warc.gz` (stored), `indexes/index.cdx`,
//! `pages/pages.jsonl`, `datapackage.json`, `datapackage-digest.json` (deflated), and with log
//! evidence `log/checkpoint.txt`, `log/key.txt`, `log/checkpoint.tsr`,
//! `log/<document>-<stem>.tlog-proof`, `log/<provision>.tlog-proof` (deflated). Every entry
//! has the fixed ZIP time 1980-01-01 00:00:00 and mode 0644, so equal inputs give equal bytes.
//!
//! `datapackage.json` says `"wacz_version": "1.1.1"` with `"profile": "data-package"`: that is
//! what `wacz validate` (py-wacz) accepts. The contents follow WACZ 1.2.0 otherwise (CDXJ
//! index, pages list, sha256 per resource, datapackage-digest.json).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::digest::HashingWriter;
use crate::error::PackageError;
use crate::export::{normalize, package_date, CaptureBytes, ExportCapture, ExportOptions};
use crate::log::{log_files, LogEvidence};
use crate::warc::write::{write_warc_with_log, WarcRecordSummary, WarcSummary};

/// The `wacz_version` written (the version py-wacz's validator accepts).
pub const WACZ_VERSION: &str = "1.1.1";

/// What a WACZ holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaczSummary {
    pub warc: WarcSummary,
    /// Each resource of `datapackage.json`: path, `sha256:<hex>`, bytes.
    pub resources: Vec<(String, String, u64)>,
}

#[derive(Serialize)]
struct Resource {
    name: String,
    path: String,
    hash: String,
    bytes: u64,
}

#[derive(Serialize)]
struct DataPackage<'a> {
    profile: &'static str,
    resources: &'a [Resource],
    wacz_version: &'static str,
    title: &'a str,
    description: String,
    created: String,
    software: &'a str,
}

#[derive(Serialize)]
struct DataPackageDigest {
    path: &'static str,
    hash: String,
}

#[derive(Serialize)]
struct CdxjFields<'a> {
    url: &'a str,
    mime: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    digest: &'a str,
    length: String,
    offset: String,
    filename: &'static str,
}

#[derive(Serialize)]
struct PagesHeader {
    format: &'static str,
    id: &'static str,
    title: &'static str,
}

#[derive(Serialize)]
struct Page<'a> {
    id: String,
    url: &'a str,
    ts: String,
    title: &'a str,
}

/// Writes `items` as a WACZ file at `path` (which must not exist yet). On failure the partial
/// file is removed.
pub fn write_wacz(
    path: &Path,
    items: &[ExportCapture],
    bytes: &dyn CaptureBytes,
    opts: &ExportOptions,
) -> Result<WaczSummary, PackageError> {
    write_wacz_with_log(path, items, bytes, opts, None)
}

/// [`write_wacz`], with the transparency-log evidence when `log` is given: inside the WARC
/// (see [`crate::write_warc_with_log`]) and as files under `log/`, each a `datapackage.json`
/// resource.
pub fn write_wacz_with_log(
    path: &Path,
    items: &[ExportCapture],
    bytes: &dyn CaptureBytes,
    opts: &ExportOptions,
    log: Option<&LogEvidence>,
) -> Result<WaczSummary, PackageError> {
    let items = normalize(items)?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => PackageError::OutputExists {
                path: path.to_owned(),
            },
            _ => PackageError::Write {
                path: path.to_owned(),
                source,
            },
        })?;
    let result = write_zip(path, file, &items, bytes, opts, log);
    if result.is_err() {
        let _ = fs::remove_file(path);
    }
    result
}

fn write_zip(
    path: &Path,
    file: File,
    items: &[ExportCapture],
    bytes: &dyn CaptureBytes,
    opts: &ExportOptions,
    log: Option<&LogEvidence>,
) -> Result<WaczSummary, PackageError> {
    let zip_err = |source| PackageError::Zip {
        path: path.to_owned(),
        source,
    };
    let io_err = |source| PackageError::Write {
        path: path.to_owned(),
        source,
    };
    let base = SimpleFileOptions::default()
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let total: u64 = items.iter().map(|i| i.capture.byte_len).sum();
    let stored = base
        .compression_method(CompressionMethod::Stored)
        .large_file(total > 3 << 30);
    let deflated = base.compression_method(CompressionMethod::Deflated);

    let mut zip = ZipWriter::new(file);
    let mut resources = Vec::new();

    zip.start_file("archive/data.warc.gz", stored)
        .map_err(zip_err)?;
    let mut hashing = HashingWriter::new(&mut zip);
    let warc_opts = ExportOptions {
        gzip: true,
        ..opts.clone()
    };
    let warc = write_warc_with_log(&mut hashing, items, bytes, &warc_opts, log)?;
    let (hex, len, _) = hashing.finish();
    resources.push(resource(
        "archive/data.warc.gz",
        format!("sha256:{hex}"),
        len,
    ));

    let mut files = vec![
        (
            "indexes/index.cdx".to_owned(),
            cdxj(&warc.records).into_bytes(),
        ),
        (
            "pages/pages.jsonl".to_owned(),
            pages(&warc.records).into_bytes(),
        ),
    ];
    if let Some(log) = log {
        files.extend(
            log_files(items, log)
                .into_iter()
                .map(|(name, content)| (format!("log/{name}"), content)),
        );
    }
    for (name, content) in &files {
        zip.start_file(name.as_str(), deflated).map_err(zip_err)?;
        zip.write_all(content).map_err(io_err)?;
        resources.push(resource(
            name,
            crate::digest::sha256_label(content),
            content.len() as u64,
        ));
    }

    let created = package_date(items).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let package = DataPackage {
        profile: "data-package",
        resources: &resources,
        wacz_version: WACZ_VERSION,
        title: &opts.archive_name,
        description: format!(
            "Evidence export of {} capture(s) by {}; each capture's citation records are in the \
             metadata record that follows it in the WARC.{}",
            items.len(),
            opts.software,
            if log.is_some() {
                " The transparency log's checkpoint, verifier key, time-stamp and inclusion \
                 proofs are under log/ (check them with evarc verify-proof)."
            } else {
                ""
            }
        ),
        created,
        software: &opts.software,
    };
    let package_json = to_json(&package);
    zip.start_file("datapackage.json", deflated)
        .map_err(zip_err)?;
    zip.write_all(package_json.as_bytes()).map_err(io_err)?;
    let digest = DataPackageDigest {
        path: "datapackage.json",
        hash: crate::digest::sha256_label(package_json.as_bytes()),
    };
    zip.start_file("datapackage-digest.json", deflated)
        .map_err(zip_err)?;
    zip.write_all(to_json(&digest).as_bytes()).map_err(io_err)?;
    let file = zip.finish().map_err(zip_err)?;
    file.sync_all().map_err(io_err)?;
    Ok(WaczSummary {
        warc,
        resources: resources
            .into_iter()
            .map(|r| (r.path, r.hash, r.bytes))
            .collect(),
    })
}

/// A resource named by its file name, or by its whole path under `log/` (where file names
/// repeat across document folders): data package resource names are unique.
fn resource(path: &str, hash: String, bytes: u64) -> Resource {
    let name = if path.starts_with("log/") {
        path
    } else {
        path.rsplit('/').next().unwrap_or(path)
    };
    Resource {
        name: name.to_ascii_lowercase(),
        path: path.to_owned(),
        hash,
        bytes,
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| String::from("{}"));
    text.push('\n');
    text
}

fn captures(records: &[WarcRecordSummary]) -> impl Iterator<Item = &WarcRecordSummary> {
    records.iter().filter(|r| r.record_type != "metadata")
}

/// CDXJ lines (`<SURT key> <14-digit timestamp> <JSON>`), sorted, one per capture record.
fn cdxj(records: &[WarcRecordSummary]) -> String {
    let mut lines: Vec<String> = captures(records)
        .map(|r| {
            let fields = CdxjFields {
                url: &r.target_uri,
                mime: r.media_type.split(';').next().unwrap_or("").trim(),
                status: r.status.map(|s| s.to_string()),
                digest: &r.payload_digest,
                length: r.length.to_string(),
                offset: r.offset.to_string(),
                filename: "data.warc.gz",
            };
            format!(
                "{} {} {}\n",
                surt_key(&r.target_uri),
                r.date.format("%Y%m%d%H%M%S"),
                serde_json::to_string(&fields).unwrap_or_default()
            )
        })
        .collect();
    lines.sort();
    lines.concat()
}

/// `pages/pages.jsonl`: the header line, then one page per capture in WARC order.
fn pages(records: &[WarcRecordSummary]) -> String {
    let header = PagesHeader {
        format: "json-pages-1.0",
        id: "pages",
        title: "All Pages",
    };
    let mut out = serde_json::to_string(&header).unwrap_or_default();
    out.push('\n');
    for r in captures(records) {
        let page = Page {
            id: r
                .record_id
                .trim_start_matches("<urn:uuid:")
                .trim_end_matches('>')
                .replace('-', ""),
            url: &r.target_uri,
            ts: crate::warc_date(r.date),
            title: &r.document_title,
        };
        out.push_str(&serde_json::to_string(&page).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// The SURT-style sort key of a URL as CDXJ indexes use it: `https://www.Example.com:443/a?b`
/// → `com,example)/a?b` (scheme, `www.` and default ports dropped, host reversed, lower-case).
/// Anything that is not an http(s) URL is just lower-cased.
pub fn surt_key(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    let rest = match evarc_record::http_url::split_scheme(&lower) {
        Some((_, rest)) => rest,
        None => return lower,
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = path.split('#').next().unwrap_or("");
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (host, None),
    };
    let host = host
        .strip_prefix("www.")
        .unwrap_or(host)
        .trim_end_matches('.');
    let mut key = host.split('.').rev().collect::<Vec<_>>().join(",");
    if let Some(port) = port.filter(|p| *p != "80" && *p != "443") {
        key.push(':');
        key.push_str(port);
    }
    key.push(')');
    key.push_str(&path);
    key
}
