//! The whole-archive audit (`evarc verify --all`, and the server): every snapshot re-hashed, every
//! block of every file checked, every record read, and each piece of damage tied to the records
//! it makes unreadable. It never stops at the first damaged place: each record is read on its
//! own (point lookups), so damage to one block spoils only the records stored in it, and the
//! transparency log's leaves (which hold each capture's document ID, time and SHA-256) name the
//! captures whose own records cannot be read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use evarc_store::{Blake3, FilesReport, ScrubReport, Sha256};
use serde::Serialize;

use crate::archive::{decode, Archive};
use crate::error::Result;
use crate::id::{DocumentId, Prefix, ProvisionId};
use crate::keys;
use crate::model::{Capture, Document, Provision};

/// A capture as the audit names it: from its record, or recovered from its log leaf.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CaptureName {
    pub document: String,
    pub captured_at: DateTime<Utc>,
    pub sha256: String,
}

impl From<&Capture> for CaptureName {
    fn from(c: &Capture) -> Self {
        Self {
            document: c.document.to_string(),
            captured_at: c.captured_at,
            sha256: c.sha256.to_hex(),
        }
    }
}

/// A snapshot that did not verify and the captures it makes unreadable.
#[derive(Debug, Serialize)]
pub struct SnapshotDamage {
    pub sha256: Option<String>,
    pub blake3: String,
    pub error: String,
    pub captures: Vec<CaptureName>,
}

/// What kind of record could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordKind {
    Settings,
    Counter,
    Document,
    CaptureList,
    Capture,
    Provision,
    LogLeaf,
    Index,
    SigningKey,
    VersionText,
}

impl RecordKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Settings => "settings",
            Self::Counter => "ID counter",
            Self::Document => "document",
            Self::CaptureList => "capture list",
            Self::Capture => "capture",
            Self::Provision => "provision",
            Self::LogLeaf => "log leaf",
            Self::Index => "index",
            Self::SigningKey => "signing key",
            Self::VersionText => "version record",
        }
    }
}

/// A record that could not be read (or is missing), named as well as the archive still allows.
#[derive(Debug, Serialize)]
pub struct RecordDamage {
    pub kind: RecordKind,
    /// The record's ID or key (`CA-D-00648`, `CA-P-011417`, `tlog/leaf/17`, `capsha/…`).
    pub name: String,
    /// The capture, when the record is one (recovered from the log leaf).
    pub capture: Option<CaptureName>,
    pub error: String,
}

/// Damage in a file, and whether a record read ran into it.
#[derive(Debug, Serialize)]
pub struct FileFinding {
    pub file: String,
    pub offset: u64,
    pub reason: String,
    /// False: "file damaged, no record affected" (a block no record read touched, or a spare
    /// copy that the reads did not need).
    pub records_affected: bool,
}

/// The typed outcome of [`Archive::audit`]; front ends only render it.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub snapshots_checked: u64,
    pub snapshots_verified: u64,
    pub bytes: u64,
    pub snapshot_failures: Vec<SnapshotDamage>,
    /// Capture records whose snapshot is absent.
    pub dangling_captures: Vec<Capture>,
    /// Capture records whose snapshot cannot be found by its SHA-256, with the reason.
    pub unindexed_captures: Vec<(Capture, String)>,
    pub record_damage: Vec<RecordDamage>,
    /// Damage found while listing snapshots.
    pub listing_errors: Vec<String>,
    pub file_damage: Vec<FileFinding>,
    pub files_checked: u64,
    pub file_bytes_checked: u64,
    pub blocks_checked: u64,
    /// Files whose format has no checksum (not data RocksDB reads): named, not checked.
    pub files_unchecked: Vec<String>,
    /// Files the database does not reference (left by an interrupted write): not checked.
    pub files_unreferenced: Vec<String>,
    pub documents_checked: u64,
    pub captures_checked: u64,
    pub provisions_checked: u64,
    pub log_leaves_checked: u64,
    /// Version texts checked (snapshots and whole texts of older archives), not counted in
    /// `snapshots_checked` unless a capture shares the snapshot.
    pub version_texts_checked: u64,
    /// The signing key file, when it is missing (not damage: new checkpoints cannot be signed
    /// until it is put back).
    pub signing_key_missing: Option<String>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.snapshot_failures.is_empty()
            && self.dangling_captures.is_empty()
            && self.unindexed_captures.is_empty()
            && self.record_damage.is_empty()
            && self.listing_errors.is_empty()
            && self.file_damage.is_empty()
    }

    /// Every capture whose archived bytes the damage makes unreadable: its snapshot fails, is
    /// missing, or cannot be found by its SHA-256 (the blast radius of issue 16).
    pub fn affected_captures(&self) -> BTreeSet<CaptureName> {
        let mut out = BTreeSet::new();
        for f in &self.snapshot_failures {
            out.extend(f.captures.iter().cloned());
        }
        out.extend(self.dangling_captures.iter().map(CaptureName::from));
        out.extend(
            self.unindexed_captures
                .iter()
                .map(|(c, _)| CaptureName::from(c)),
        );
        out
    }

    /// Captures whose own record cannot be read, named by their log leaves (their bytes may
    /// still verify: the leaf holds the SHA-256).
    pub fn captures_with_unreadable_records(&self) -> BTreeSet<CaptureName> {
        self.record_damage
            .iter()
            .filter_map(|r| r.capture.clone())
            .collect()
    }
}

/// A leaf of the log, as much as the audit needs.
#[derive(serde::Deserialize)]
struct Leaf {
    kind: String,
    document: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    captured_at: Option<String>,
}

impl Archive {
    /// Audits the whole archive. `progress(done, total)` follows the snapshot re-hashing.
    /// Errors only when the archive's files cannot be listed or read at all (I/O).
    pub fn audit(&self, progress: impl Fn(u64, u64) + Sync) -> Result<AuditReport> {
        let store = self.store();
        // Only the files the database references are the archive; a killed flush or compaction
        // may leave others behind (RocksDB deletes them at the next write).
        let live = store.live_table_files().ok();
        let files = evarc_store::check_files_live(store.path(), live.as_ref())?;
        let scrub = store.scrub(progress)?;
        let mut report = AuditReport::new(&scrub, &files);
        let mut records = Records::default();
        self.read_records(&mut report, &mut records);
        self.check_captures(&mut report, &records, &scrub);
        self.check_version_texts(&mut report, &records, &scrub);
        // Each piece of file damage: did some record read run into it?
        let mut errors: Vec<String> = report.listing_errors.clone();
        errors.extend(report.snapshot_failures.iter().map(|f| f.error.clone()));
        errors.extend(report.record_damage.iter().map(|r| r.error.clone()));
        errors.extend(report.unindexed_captures.iter().map(|(_, r)| r.clone()));
        for damage in files.damage() {
            report.file_damage.push(FileFinding {
                records_affected: errors.iter().any(|e| e.contains(&damage.file)),
                file: damage.file.clone(),
                offset: damage.offset,
                reason: damage.reason.clone(),
            });
        }
        Ok(report)
    }

    fn read_records(&self, report: &mut AuditReport, records: &mut Records) {
        if let Some((what, damage)) = self.store().open_damage() {
            report.damaged(RecordKind::Settings, what, None, damage.to_owned());
        }
        let prefix = match self.config() {
            Ok(config) => Some(config.prefix),
            Err(err) => {
                report.damaged(RecordKind::Settings, "cfg/", None, err.to_string());
                None
            }
        };
        // The log first: its leaves name records whose own keys may be unreadable.
        let size = match self.log_size() {
            Ok(size) => size,
            Err(err) => {
                report.damaged(RecordKind::Counter, keys::TLOG_SIZE, None, err.to_string());
                0
            }
        };
        for index in 0..size {
            let key = keys::tlog_leaf(index);
            match self.store().record(&key) {
                Ok(Some(bytes)) => {
                    report.log_leaves_checked += 1;
                    match serde_json::from_slice::<Leaf>(&bytes) {
                        Ok(leaf) => records.leaves.push(leaf),
                        Err(e) => report.damaged(
                            RecordKind::LogLeaf,
                            &format!("tlog/leaf/{index}"),
                            None,
                            format!("does not decode: {e}"),
                        ),
                    }
                }
                Ok(None) => report.damaged(
                    RecordKind::LogLeaf,
                    &format!("tlog/leaf/{index}"),
                    None,
                    format!("is missing (the log holds {size} leaves)"),
                ),
                Err(err) => report.damaged(
                    RecordKind::LogLeaf,
                    &format!("tlog/leaf/{index}"),
                    None,
                    err.to_string(),
                ),
            }
        }
        let prefix = prefix
            .or_else(|| {
                records
                    .leaves
                    .iter()
                    .find_map(|l| l.document.parse::<DocumentId>().ok())
                    .map(|id| id.prefix().clone())
            })
            .unwrap_or_else(|| Prefix::new("CA").expect("CA is a valid prefix"));
        // Documents and provisions by their counters, each read on its own.
        let max_doc = self.counter(report, keys::SEQ_DOCUMENT, records.leaf_max_document());
        for seq in 1..=max_doc {
            let Ok(id) = DocumentId::new(prefix.clone(), seq) else {
                continue;
            };
            match self.json::<Document>(&keys::document(seq)) {
                Ok(Some(_)) => report.documents_checked += 1,
                Ok(None) => {}
                Err(err) => {
                    report.damaged(RecordKind::Document, &id.to_string(), None, err.to_string())
                }
            }
            // The document's captures, listed by key prefix.
            match self
                .store()
                .records_with_prefix(&keys::captures_of(seq))
                .map_err(crate::ProvenanceError::from)
                .and_then(|rows| {
                    rows.iter()
                        .map(|(k, v)| decode::<Capture>(k, v))
                        .collect::<Result<Vec<_>>>()
                }) {
                Ok(captures) => {
                    records.listed_documents.insert(id.to_string());
                    records.captures.extend(captures);
                }
                Err(err) => report.damaged(
                    RecordKind::CaptureList,
                    &format!("captures of {id}"),
                    None,
                    err.to_string(),
                ),
            }
        }
        let max_prov = self.counter(report, keys::SEQ_PROVISION, 0);
        for seq in 1..=max_prov {
            let Ok(id) = ProvisionId::new(prefix.clone(), seq) else {
                continue;
            };
            match self.json::<Provision>(&keys::provision(seq)) {
                Ok(Some(_)) => report.provisions_checked += 1,
                Ok(None) => {}
                Err(err) => report.damaged(
                    RecordKind::Provision,
                    &id.to_string(),
                    None,
                    err.to_string(),
                ),
            }
        }
        // The signing key file must hold the private half of the public key in the records.
        match self.verifier() {
            Ok(Some(_)) => match self.signer() {
                Ok(_) => {}
                // Not damage: the records and their log verify with the public key (a restored
                // archive whose key was not handed in); checkpoints cannot be signed meanwhile.
                Err(crate::ProvenanceError::SigningKeyMissing { path, .. }) => {
                    report.signing_key_missing = Some(path);
                }
                Err(err) => report.damaged(
                    RecordKind::SigningKey,
                    crate::SIGNING_KEY_FILE,
                    None,
                    evarc_store::error_chain(&err),
                ),
            },
            Ok(None) => {}
            Err(err) => report.damaged(
                RecordKind::SigningKey,
                keys::TLOG_KEY,
                None,
                err.to_string(),
            ),
        }
        // Indexes kept beside the records: each must read to its end.
        for index in [
            keys::CAPTURE_BY_SHA,
            keys::DOCUMENT_BY_KEY,
            keys::PROVISION_BY_KEY,
            keys::PROVISION_BY_DOCUMENT,
            keys::TLOG_NODE,
            keys::TLOG_INDEX,
            keys::TLOG_CHECKPOINT,
            keys::TLOG_TIMESTAMP,
        ] {
            if let Err(err) = self.store().records_with_prefix(index.as_bytes()) {
                report.damaged(RecordKind::Index, index, None, err.to_string());
            }
        }
        // Captures named by the log but not read: recovered from their leaves.
        let read: BTreeSet<CaptureName> = records.captures.iter().map(CaptureName::from).collect();
        for leaf in &records.leaves {
            let Some(name) = leaf.capture_name() else {
                continue;
            };
            if read.contains(&name) {
                continue;
            }
            let Ok(id) = name.document.parse::<DocumentId>() else {
                continue;
            };
            let Ok(sha) = Sha256::from_hex(&name.sha256) else {
                continue;
            };
            let key = keys::capture(id.seq(), name.captured_at, sha.as_bytes());
            match self.json::<Capture>(&key) {
                Ok(Some(capture)) => records.captures.push(capture),
                Ok(None) if records.listed_documents.contains(&name.document) => report.damaged(
                    RecordKind::Capture,
                    &name.document.clone(),
                    Some(name),
                    "its record is missing (the log has its leaf)".into(),
                ),
                Ok(None) => report.damaged(
                    RecordKind::Capture,
                    &name.document.clone(),
                    Some(name),
                    "its record cannot be read (its document's captures cannot be listed)".into(),
                ),
                Err(err) => report.damaged(
                    RecordKind::Capture,
                    &name.document.clone(),
                    Some(name),
                    err.to_string(),
                ),
            }
        }
    }

    /// A counter's value; when unreadable, `fallback` (what the log shows) and a finding.
    fn counter(&self, report: &mut AuditReport, key: &str, fallback: u64) -> u64 {
        match self.seq(key) {
            Ok(n) => n.max(fallback),
            Err(err) => {
                report.damaged(RecordKind::Counter, key, None, err.to_string());
                // Probe a little past what the log shows, so documents without leaves are read.
                fallback + 64
            }
        }
    }

    /// Every readable capture record must point at a snapshot that is present, verified and
    /// findable by its SHA-256; every failed snapshot names its captures.
    fn check_captures(&self, report: &mut AuditReport, records: &Records, scrub: &ScrubReport) {
        let failed: BTreeSet<Blake3> = scrub.failures.iter().map(|f| f.blake3).collect();
        let mut by_sha: BTreeMap<String, BTreeSet<CaptureName>> = BTreeMap::new();
        let mut by_blake3: BTreeMap<Blake3, BTreeSet<CaptureName>> = BTreeMap::new();
        for leaf in &records.leaves {
            if let Some(name) = leaf.capture_name() {
                by_sha.entry(name.sha256.clone()).or_default().insert(name);
            }
        }
        for capture in &records.captures {
            report.captures_checked += 1;
            let name = CaptureName::from(capture);
            by_sha
                .entry(capture.sha256.to_hex())
                .or_default()
                .insert(name.clone());
            by_blake3.entry(capture.blake3).or_default().insert(name);
            // A record whose digests are not 64 hex digits does not read at all (typed digests):
            // it is reported where it is read, as a damaged record.
            let (key, sha) = (capture.blake3, capture.sha256);
            if !failed.contains(&key) {
                match self.store().contains(key) {
                    Ok(true) => {}
                    Ok(false) => {
                        report.dangling_captures.push(capture.clone());
                        continue;
                    }
                    Err(err) => {
                        report.unindexed_captures.push((
                            capture.clone(),
                            format!("its manifest cannot be read: {err}"),
                        ));
                        continue;
                    }
                }
            }
            // `get SHA256` goes through the SHA-256 index: damage to it hides the capture.
            match self.store().find_sha256(sha) {
                Ok(Some(info)) if info.blake3 == key => {}
                Ok(Some(info)) => report.unindexed_captures.push((
                    capture.clone(),
                    format!("its SHA-256 index entry points at blake3:{}", info.blake3),
                )),
                Ok(None) => report
                    .unindexed_captures
                    .push((capture.clone(), "its SHA-256 index entry is missing".into())),
                Err(err) => report.unindexed_captures.push((
                    capture.clone(),
                    format!("its SHA-256 index entry cannot be read: {err}"),
                )),
            }
        }
        for finding in &scrub.failures {
            let mut captures: BTreeSet<CaptureName> = BTreeSet::new();
            if let Some(sha) = finding.sha256 {
                captures.extend(by_sha.get(&sha.to_hex()).into_iter().flatten().cloned());
            }
            captures.extend(
                by_blake3
                    .get(&finding.blake3)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            report.snapshot_failures.push(SnapshotDamage {
                sha256: finding.sha256.map(|s| s.to_hex()),
                blake3: finding.blake3.to_hex(),
                error: finding.error.to_string(),
                captures: captures.into_iter().collect(),
            });
        }
    }
}

impl Archive {
    /// Version texts (re-hashed by the scrub, or whole) are counted apart from the captures'
    /// snapshots; damage to one is record damage of kind "version text".
    fn check_version_texts(
        &self,
        report: &mut AuditReport,
        records: &Records,
        scrub: &ScrubReport,
    ) {
        let captured: BTreeSet<Blake3> = records.captures.iter().map(|c| c.blake3).collect();
        let failed: BTreeSet<Blake3> = scrub.failures.iter().map(|f| f.blake3).collect();
        let texts = self.audit_version_texts(&captured, &failed);
        report.version_texts_checked = texts.checked;
        let text_only = &texts.text_only_snapshots;
        let text_only_failed = text_only.iter().filter(|k| failed.contains(k)).count() as u64;
        let text_only_count = text_only.len() as u64;
        report.snapshots_checked = report.snapshots_checked.saturating_sub(text_only_count);
        report.snapshots_verified = report
            .snapshots_verified
            .saturating_sub(text_only_count.saturating_sub(text_only_failed));
        report.bytes = report.bytes.saturating_sub(texts.text_only_bytes);
        report
            .snapshot_failures
            .retain(|f| Blake3::from_hex(&f.blake3).map_or(true, |k| !text_only.contains(&k)));
        for (name, error) in texts.damage {
            report.damaged(RecordKind::VersionText, &name, None, error);
        }
    }
}

#[derive(Default)]
struct Records {
    leaves: Vec<Leaf>,
    /// Documents whose captures were listed without error.
    listed_documents: BTreeSet<String>,
    captures: Vec<Capture>,
}

impl Records {
    fn leaf_max_document(&self) -> u64 {
        self.leaves
            .iter()
            .filter_map(|l| l.document.parse::<DocumentId>().ok())
            .map(|id| id.seq())
            .max()
            .unwrap_or(0)
    }
}

impl Leaf {
    fn capture_name(&self) -> Option<CaptureName> {
        if self.kind != "capture" {
            return None;
        }
        Some(CaptureName {
            document: self.document.clone(),
            captured_at: DateTime::parse_from_rfc3339(self.captured_at.as_deref()?)
                .ok()?
                .with_timezone(&Utc),
            sha256: self.sha256.clone()?,
        })
    }
}

impl AuditReport {
    fn new(scrub: &ScrubReport, files: &FilesReport) -> Self {
        let (files_checked, file_bytes_checked, blocks_checked) = files.checked();
        Self {
            snapshots_checked: scrub.checked,
            snapshots_verified: scrub.verified,
            bytes: scrub.bytes,
            snapshot_failures: Vec::new(),
            dangling_captures: Vec::new(),
            unindexed_captures: Vec::new(),
            record_damage: Vec::new(),
            listing_errors: scrub
                .listing_errors
                .iter()
                .map(ToString::to_string)
                .collect(),
            file_damage: Vec::new(),
            files_checked,
            file_bytes_checked,
            blocks_checked,
            files_unchecked: files.unchecked().into_iter().map(str::to_owned).collect(),
            files_unreferenced: files
                .unreferenced()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            documents_checked: 0,
            captures_checked: 0,
            provisions_checked: 0,
            log_leaves_checked: 0,
            version_texts_checked: 0,
            signing_key_missing: None,
        }
    }

    fn damaged(
        &mut self,
        kind: RecordKind,
        name: &str,
        capture: Option<CaptureName>,
        error: String,
    ) {
        self.record_damage.push(RecordDamage {
            kind,
            name: name.to_owned(),
            capture,
            error,
        });
    }
}
