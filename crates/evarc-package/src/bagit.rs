//! BagIt 1.0 (RFC 8493): the capture bytes and every citation text, with SHA-256 manifests.
//!
//! ```text
//! bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
//! data/<document ID>/<capture time>-<sha256 first 16>.<ext>            the captured bytes
//! data/<document ID>/<capture time>-<sha256 first 16>.citations/<record ID>/
//!     record.txt provenance.txt bluebook.txt csl.json biblatex.bib ris.ris citation.json
//!     markdown.md
//! data/log/checkpoint.txt key.txt checkpoint.tsr                     with log evidence
//! data/log/<document ID>-<stem>.tlog-proof  data/log/<provision ID>.tlog-proof
//! ```
//! Every path component comes from [`safe_component`]; collisions get `-2`, `-3`, ….

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use evarc_record::cite::{render, Format};
use sha2::{Digest, Sha256};

use crate::error::PackageError;
use crate::export::{
    copy_verified, normalize, package_date, render_options, CaptureBytes, CopyError, ExportCapture,
    ExportOptions,
};
use crate::log::{capture_stem, log_files, LogEvidence};
use crate::safe::{media_type_extension, safe_component};

/// The citation files written per record: format and file name.
const CITATION_FILES: [(Format, &str); 8] = [
    (Format::Record, "record.txt"),
    (Format::Provenance, "provenance.txt"),
    (Format::Bluebook, "bluebook.txt"),
    (Format::CslJson, "csl.json"),
    (Format::Biblatex, "biblatex.bib"),
    (Format::Ris, "ris.ris"),
    (Format::Json, "citation.json"),
    (Format::Markdown, "markdown.md"),
];

/// What a bag holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BagSummary {
    /// Each payload file: path relative to the bag (`data/…`), SHA-256 hex, bytes.
    pub payload: Vec<(String, String, u64)>,
    /// `Payload-Oxum`: total payload bytes and file count.
    pub payload_bytes: u64,
    pub payload_files: u64,
}

/// Writes `items` as a BagIt 1.0 bag in `dir`, which must not exist or be an empty directory.
/// On failure what was written is removed.
pub fn write_bagit(
    dir: &Path,
    items: &[ExportCapture],
    bytes: &dyn CaptureBytes,
    opts: &ExportOptions,
) -> Result<BagSummary, PackageError> {
    write_bagit_with_log(dir, items, bytes, opts, None)
}

/// [`write_bagit`], with the transparency-log evidence as payload files under `data/log/`
/// (so the manifests cover them) when `log` is given.
pub fn write_bagit_with_log(
    dir: &Path,
    items: &[ExportCapture],
    bytes: &dyn CaptureBytes,
    opts: &ExportOptions,
    log: Option<&LogEvidence>,
) -> Result<BagSummary, PackageError> {
    let items = normalize(items)?;
    let existed = prepare_dir(dir)?;
    let mut bag = Bag {
        root: dir.to_owned(),
        payload: Vec::new(),
        used: BTreeSet::new(),
    };
    let result = bag.write(&items, bytes, opts, log);
    if result.is_err() {
        let _ = fs::remove_dir_all(dir);
        if existed {
            let _ = fs::create_dir(dir);
        }
    }
    result
}

/// Creates `dir` or checks that it is empty. Returns whether it existed.
fn prepare_dir(dir: &Path) -> Result<bool, PackageError> {
    let write_err = |source| PackageError::Write {
        path: dir.to_owned(),
        source,
    };
    match fs::symlink_metadata(dir) {
        Ok(meta) => {
            let empty = meta.is_dir() && fs::read_dir(dir).map_err(write_err)?.next().is_none();
            if !empty {
                return Err(PackageError::OutputNotEmpty {
                    path: dir.to_owned(),
                });
            }
            Ok(true)
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(write_err)?;
            Ok(false)
        }
        Err(err) => Err(write_err(err)),
    }
}

struct Bag {
    root: PathBuf,
    payload: Vec<(String, String, u64)>,
    used: BTreeSet<String>,
}

impl Bag {
    fn write(
        &mut self,
        items: &[ExportCapture],
        bytes: &dyn CaptureBytes,
        opts: &ExportOptions,
        log: Option<&LogEvidence>,
    ) -> Result<BagSummary, PackageError> {
        let render_opts = render_options(opts);
        for item in items {
            let doc = safe_component(&item.document.id.to_string());
            let stem = capture_stem(item);
            let ext = media_type_extension(&item.capture.media_type);
            let file = self.unique(&format!("data/{doc}"), &stem, &format!(".{ext}"));
            self.capture_file(&file, item, bytes)?;
            let citations = self.unique(&format!("data/{doc}"), &stem, ".citations");
            for citation in &item.citations {
                let record = safe_component(&citation.record_id.to_string());
                let record_dir = self.unique(&citations, &record, "");
                for (format, name) in CITATION_FILES {
                    let text = render(citation, format, &render_opts);
                    self.payload_file(&format!("{record_dir}/{name}"), text.as_bytes())?;
                }
            }
        }
        if let Some(log) = log {
            for (name, content) in log_files(items, log) {
                self.payload_file(&format!("data/log/{name}"), &content)?;
            }
        }
        for (id, json) in crate::export::changes_json(opts)? {
            let name = safe_component(&id);
            self.payload_file(&format!("data/changes/{name}.json"), json.as_bytes())?;
        }
        self.payload.sort();
        let payload_bytes: u64 = self.payload.iter().map(|p| p.2).sum();
        let payload_files = self.payload.len() as u64;

        let mut manifest = String::new();
        for (path, hex, _) in &self.payload {
            manifest.push_str(&format!("{hex}  {}\n", encode_path(path)));
        }
        let mut tags = [
            self.tag_file(
                "bagit.txt",
                b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
            )?,
            self.tag_file(
                "bag-info.txt",
                bag_info(items, opts, log.is_some(), payload_bytes, payload_files).as_bytes(),
            )?,
            self.tag_file("manifest-sha256.txt", manifest.as_bytes())?,
        ];
        tags.sort();
        let tagmanifest: String = tags
            .iter()
            .map(|(path, hex)| format!("{hex}  {}\n", encode_path(path)))
            .collect();
        self.tag_file("tagmanifest-sha256.txt", tagmanifest.as_bytes())?;
        Ok(BagSummary {
            payload: self.payload.clone(),
            payload_bytes,
            payload_files,
        })
    }

    /// `parent/stem+suffix`, or `parent/stem-2+suffix`, … if taken (case-insensitively, for
    /// case-insensitive file systems).
    fn unique(&mut self, parent: &str, stem: &str, suffix: &str) -> String {
        let mut n = 1u32;
        loop {
            let candidate = if n == 1 {
                format!("{parent}/{stem}{suffix}")
            } else {
                format!("{parent}/{stem}-{n}{suffix}")
            };
            if self.used.insert(candidate.to_ascii_lowercase()) {
                return candidate;
            }
            n += 1;
        }
    }

    fn create(&self, rel: &str) -> Result<(File, PathBuf), PackageError> {
        let path = self.root.join(rel);
        let write_err = |source| PackageError::Write {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(write_err)?;
        }
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(write_err)?;
        Ok((file, path))
    }

    fn capture_file(
        &mut self,
        rel: &str,
        item: &ExportCapture,
        bytes: &dyn CaptureBytes,
    ) -> Result<(), PackageError> {
        let (mut file, path) = self.create(rel)?;
        copy_verified(item, bytes, &mut file).map_err(|e| match e {
            CopyError::Package(p) => p,
            CopyError::Output(source) => PackageError::Write {
                path: path.clone(),
                source,
            },
        })?;
        file.sync_all()
            .map_err(|source| PackageError::Write { path, source })?;
        // copy_verified checked the bytes against the recorded hash and length.
        self.payload.push((
            rel.to_owned(),
            item.capture.sha256.to_hex(),
            item.capture.byte_len,
        ));
        Ok(())
    }

    fn payload_file(&mut self, rel: &str, content: &[u8]) -> Result<(), PackageError> {
        let hex = self.write_file(rel, content)?;
        self.payload
            .push((rel.to_owned(), hex, content.len() as u64));
        Ok(())
    }

    fn tag_file(&mut self, rel: &str, content: &[u8]) -> Result<(String, String), PackageError> {
        Ok((rel.to_owned(), self.write_file(rel, content)?))
    }

    fn write_file(&mut self, rel: &str, content: &[u8]) -> Result<String, PackageError> {
        let (mut file, path) = self.create(rel)?;
        file.write_all(content)
            .and_then(|()| file.sync_all())
            .map_err(|source| PackageError::Write { path, source })?;
        Ok(hex::encode(Sha256::digest(content)))
    }
}

fn bag_info(
    items: &[ExportCapture],
    opts: &ExportOptions,
    logged: bool,
    payload_bytes: u64,
    payload_files: u64,
) -> String {
    let mut ids: BTreeSet<String> = items.iter().map(|i| i.document.id.to_string()).collect();
    ids.extend(
        items
            .iter()
            .flat_map(|i| i.citations.iter().map(|c| c.record_id.to_string())),
    );
    let mut info = String::new();
    let mut field = |name: &str, value: &str| {
        let value: String = value
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        info.push_str(&format!("{name}: {}\n", value.trim()));
    };
    field("Source-Organization", &opts.archive_name);
    if let Some(operator) = &opts.operator {
        field("Contact-Name", operator);
    }
    let changes = if opts.changes.is_empty() {
        ""
    } else {
        " data/changes holds the change records (evarc JSON) of the exported documents and \
         provisions."
    };
    field(
        "External-Description",
        &format!(
            "Evidence export of {} capture(s): the captured bytes and their citation records in \
             every text format. SHA-256 of each capture as recorded at capture time.{}{changes}",
            items.len(),
            if logged {
                " data/log holds the transparency log's checkpoint, verifier key, time-stamp and \
                 inclusion proofs (check them with evarc verify-proof)."
            } else {
                ""
            }
        ),
    );
    for id in &ids {
        field("External-Identifier", id);
    }
    let bagging_date = opts
        .bagging_date
        .unwrap_or_else(|| package_date(items).date_naive());
    field("Bagging-Date", &bagging_date.format("%Y-%m-%d").to_string());
    field("Bag-Software-Agent", &opts.software);
    field("Payload-Oxum", &format!("{payload_bytes}.{payload_files}"));
    info
}

/// RFC 8493 §2.1.3: `%`, CR and LF in manifest paths are percent-encoded.
fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
