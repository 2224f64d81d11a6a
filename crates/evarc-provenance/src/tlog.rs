//! The archive's transparency log: every new capture and every provision registration appends
//! a leaf (a canonical encoding of the record) to an RFC 6962 Merkle tree kept beside the
//! records, in the same atomic batch as the record; signed checkpoints commit to its head.
//! `docs/transparency-log.md` specifies the leaves, the keys and the files.
//!
//! Architecture invariant: the log is append-only. Nothing here rewrites or deletes a leaf or a
//! node; a re-capture folded into an earlier capture (identical bytes) appends nothing. The
//! signing key is handed in (its 32-byte seed) by the caller: provenance draws no randomness.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use evarc_store::RecordBatch;
use evarc_tlog::proof::{ConsistencyProof, InclusionProof};
use evarc_tlog::tree::PendingNodes;
use evarc_tlog::{Checkpoint, Hash, NodeId, NodeReader, Signer, TreeError, Verifier};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::archive::{decode, Archive};
use crate::cite::CheckpointCitation;
use crate::error::{ProvenanceError, Result};
use crate::keys;
use crate::model::{Capture, Document, Provision};
use evarc_store::Sha256 as Sha256Digest;

/// The private signing key's file name inside the archive directory (mode 0600).
pub const SIGNING_KEY_FILE: &str = "tlog-signing-key";

/// The version of the leaf encodings (`"v"`).
pub const LEAF_VERSION: u32 = 1;

/// The leaf of a capture: canonical JSON, keys in byte order (fields are declared sorted).
#[derive(Serialize)]
struct CaptureLeaf<'a> {
    byte_len: u64,
    captured_at: String,
    document: String,
    entity: &'a str,
    kind: &'static str,
    sha256: &'a Sha256Digest,
    source_url: &'a str,
    title: &'a str,
    v: u32,
}

/// The leaf of a provision: canonical JSON, keys in byte order.
#[derive(Serialize)]
struct ProvisionLeaf<'a> {
    capture_sha256: &'a Sha256Digest,
    captured_at: String,
    document: String,
    id: String,
    kind: &'static str,
    quote: &'a str,
    title: &'a str,
    v: u32,
}

/// RFC 3339 UTC with the fewest sub-second digits (0, 3, 6 or 9) that keep the instant.
fn leaf_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The leaf bytes of a capture of `document`.
pub fn capture_leaf(document: &Document, capture: &Capture) -> Vec<u8> {
    let leaf = CaptureLeaf {
        byte_len: capture.byte_len,
        captured_at: leaf_time(capture.captured_at),
        document: capture.document.to_string(),
        entity: &document.entity,
        kind: "capture",
        sha256: &capture.sha256,
        source_url: &capture.source_url,
        title: &document.title,
        v: LEAF_VERSION,
    };
    serde_json::to_vec(&leaf).expect("a leaf serialises: strings and integers")
}

/// The leaf bytes of a provision.
pub fn provision_leaf(provision: &Provision) -> Vec<u8> {
    let leaf = ProvisionLeaf {
        capture_sha256: &provision.capture.sha256,
        captured_at: leaf_time(provision.capture.captured_at),
        document: provision.document.to_string(),
        id: provision.id.to_string(),
        kind: "provision",
        quote: &provision.quote,
        title: &provision.title,
        v: LEAF_VERSION,
    };
    serde_json::to_vec(&leaf).expect("a leaf serialises: strings and integers")
}

/// What a leaf of the log says, read back from its bytes by a reader checking a proof (`evarc
/// verify-proof`): the kinds and fields written by [`capture_leaf`], [`provision_leaf`] and
/// [`crate::withdrawal_leaf`], so that the rule "which field holds the bytes' SHA-256" lives
/// beside the encoders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedLeaf {
    pub kind: LeafKind,
    /// The document's ID, as logged.
    pub document: String,
    /// The capture time, as logged (RFC 3339 UTC).
    pub captured_at: String,
    /// The SHA-256 of the captured bytes (a capture's own, or the capture a provision quotes or
    /// a withdrawal withdraws).
    pub sha256: Sha256Digest,
    /// The provision's ID (provision leaves, which always carry one; `None` for the others).
    pub provision: Option<String>,
}

/// The kinds of leaf the log holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    Capture,
    Provision,
    Withdrawal,
}

/// The fields every leaf kind may carry (the rest are ignored).
#[derive(serde::Deserialize)]
struct LeafFields {
    kind: String,
    v: u32,
    document: String,
    captured_at: String,
    sha256: Option<Sha256Digest>,
    capture_sha256: Option<Sha256Digest>,
    id: Option<String>,
}

impl LoggedLeaf {
    /// Reads leaf bytes; the error says why they are not a leaf of a version this code writes.
    pub fn parse(leaf: &[u8]) -> std::result::Result<Self, String> {
        let fields: LeafFields =
            serde_json::from_slice(leaf).map_err(|e| format!("not an evarc log record ({e})"))?;
        if fields.v != LEAF_VERSION {
            return Err(format!(
                "a leaf of version {} (this evarc reads version {LEAF_VERSION})",
                fields.v
            ));
        }
        let (kind, sha256) = match fields.kind.as_str() {
            "capture" => (LeafKind::Capture, fields.sha256),
            "provision" => (LeafKind::Provision, fields.capture_sha256),
            "withdrawal" => (LeafKind::Withdrawal, fields.capture_sha256),
            other => return Err(format!("a leaf of unknown kind {other:?}")),
        };
        let sha256 = sha256.ok_or_else(|| format!("a {} leaf without its SHA-256", fields.kind))?;
        let provision = match kind {
            LeafKind::Provision => Some(
                fields
                    .id
                    .ok_or_else(|| "a provision leaf without its ID".to_owned())?,
            ),
            _ => None,
        };
        Ok(Self {
            kind,
            document: fields.document,
            captured_at: fields.captured_at,
            sha256,
            provision,
        })
    }

    /// What the leaf records, in words: `capture of CA-D-00001`, `provision CA-P-000001 of
    /// CA-D-00001`, `withdrawal of a capture of CA-D-00001`.
    pub fn describe(&self) -> String {
        match self.kind {
            LeafKind::Capture => format!("capture of {}", self.document),
            LeafKind::Provision => format!(
                "provision {} of {}",
                self.provision.as_deref().unwrap_or_default(),
                self.document
            ),
            LeafKind::Withdrawal => format!("withdrawal of a capture of {}", self.document),
        }
    }

    /// Checks that `bytes` (named `name`, e.g. their file) are the bytes the leaf logged.
    pub fn check_bytes(
        &self,
        bytes: &[u8],
        name: &str,
    ) -> std::result::Result<(), evarc_tlog::ProofRejected> {
        let actual = Sha256Digest::of(bytes);
        if actual != self.sha256 {
            return Err(evarc_tlog::ProofRejected::BytesDiffer {
                bytes: name.to_owned(),
                actual: actual.to_hex(),
                expected: self.sha256.to_hex(),
            });
        }
        Ok(())
    }
}

/// A record with a leaf in the log.
// Built once per command and passed by reference: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum LogSubject {
    Capture {
        document: Document,
        capture: Capture,
    },
    Provision(Provision),
}

impl LogSubject {
    fn record_key(&self) -> Result<Vec<u8>> {
        Ok(match self {
            LogSubject::Capture { capture, .. } => keys::capture(
                capture.document.seq(),
                capture.captured_at,
                &capture.sha256.0,
            ),
            LogSubject::Provision(p) => keys::provision(p.id.seq()),
        })
    }

    fn leaf(&self) -> Vec<u8> {
        match self {
            LogSubject::Capture { document, capture } => capture_leaf(document, capture),
            LogSubject::Provision(p) => provision_leaf(p),
        }
    }

    /// How errors name the record.
    pub fn name(&self) -> String {
        match self {
            LogSubject::Capture { capture, .. } => {
                format!("capture sha256:{} of {}", capture.sha256, capture.document)
            }
            LogSubject::Provision(p) => p.id.to_string(),
        }
    }
}

/// A record's place in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub index: u64,
    pub leaf: Vec<u8>,
}

/// The stored complete-subtree hashes, read from the records.
pub(crate) struct StoreNodes<'a>(pub(crate) &'a Archive);

impl NodeReader for StoreNodes<'_> {
    type Error = ProvenanceError;
    fn node(&self, id: NodeId) -> Result<Hash> {
        let key = keys::tlog_node(id.level, id.index);
        let bytes = self.0.store().record(&key)?;
        bytes
            .and_then(|b| Hash::try_from(b.as_slice()).ok())
            .ok_or_else(|| ProvenanceError::RecordCorrupt {
                key: format!("tlog/node/{}/{}", id.level, id.index),
                reason: "missing or not 32 bytes".into(),
            })
    }
}

fn tree_error(err: TreeError<ProvenanceError>) -> ProvenanceError {
    match err {
        TreeError::Source(e) => e,
        other => ProvenanceError::InvalidInput(other.to_string()),
    }
}

/// Leaves appended within one batch (under the writer lock).
pub(crate) struct LogAppender<'a> {
    nodes: PendingNodes<'a, StoreNodes<'a>>,
    size: u64,
}

impl Archive {
    /// The number of leaves in the log.
    pub fn log_size(&self) -> Result<u64> {
        self.seq(keys::TLOG_SIZE)
    }

    /// Starts appending leaves to `batch`; the caller holds the writer lock and commits once.
    pub(crate) fn log_appender<'a>(&'a self, nodes: &'a StoreNodes<'a>) -> Result<LogAppender<'a>> {
        Ok(LogAppender {
            nodes: PendingNodes::new(nodes),
            size: self.log_size()?,
        })
    }

    /// Appends the leaf of the record under `record_key` to the log, in `batch`.
    pub(crate) fn log_record(
        &self,
        record_key: &[u8],
        leaf: Vec<u8>,
        batch: &mut RecordBatch,
    ) -> Result<u64> {
        let nodes = StoreNodes(self);
        let mut appender = self.log_appender(&nodes)?;
        appender.push(record_key, leaf, batch)
    }

    /// The public key checkpoints are signed with, once the archive has one.
    pub fn verifier(&self) -> Result<Option<Verifier>> {
        match self.store().record(keys::TLOG_KEY.as_bytes())? {
            None => Ok(None),
            Some(bytes) => {
                let text =
                    String::from_utf8(bytes).map_err(|_| ProvenanceError::RecordCorrupt {
                        key: keys::TLOG_KEY.into(),
                        reason: "not UTF-8".into(),
                    })?;
                Ok(Some(Verifier::parse(&text)?))
            }
        }
    }

    fn key_path(&self) -> PathBuf {
        self.store().path().join(SIGNING_KEY_FILE)
    }

    /// Creates the archive's Ed25519 signing key from a 32-byte seed drawn by the caller (a
    /// CSPRNG): the private key goes to `tlog-signing-key` (mode 0600) in the archive directory,
    /// the public key to the records. Refused when a key exists.
    pub fn create_signing_key(&self, seed: [u8; 32]) -> Result<Verifier> {
        let _guard = self.write_lock();
        if let Some(existing) = self.verifier()? {
            return Err(ProvenanceError::InvalidInput(format!(
                "this archive already has a signing key: {existing}"
            )));
        }
        let public = Signer::from_seed("evarc", seed)?.public_key();
        let name = format!("evarc/{}", &hex::encode(Sha256::digest(public))[..16]);
        let signer = Signer::from_seed(&name, seed)?;
        let path = self.key_path();
        let key_err = |source| ProvenanceError::KeyFile {
            action: "writing",
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(key_err)?;
        file.write_all(format!("{}\n", signer.to_text()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(key_err)?;
        let verifier = signer.verifier();
        let mut batch = RecordBatch::new();
        batch.put(keys::TLOG_KEY, verifier.to_string().into_bytes());
        self.store().commit_records(batch)?;
        Ok(verifier)
    }

    /// Installs a signing key handed in separately (e.g. after `restore`, issue 14): the text of
    /// a `tlog-signing-key` file, refused unless it matches the public key in the records.
    pub fn install_signing_key(&self, text: &str) -> Result<Verifier> {
        let verifier = self.verifier()?.ok_or(ProvenanceError::NoSigningKey)?;
        let path = self.key_path();
        let signer = Signer::parse(text)?;
        if signer.verifier() != verifier {
            return Err(ProvenanceError::SigningKeyMismatch {
                path: path.display().to_string(),
                expected: verifier.to_string(),
            });
        }
        let key_err = |source| ProvenanceError::KeyFile {
            action: "writing",
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(key_err)?;
        file.write_all(format!("{}\n", signer.to_text()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(key_err)?;
        Ok(verifier)
    }

    /// The private signing key, checked against the public key in the records.
    pub(crate) fn signer(&self) -> Result<Signer> {
        let verifier = self.verifier()?.ok_or(ProvenanceError::NoSigningKey)?;
        let path = self.key_path();
        let text = std::fs::read_to_string(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ProvenanceError::SigningKeyMissing {
                    path: path.display().to_string(),
                    expected: verifier.to_string(),
                }
            } else {
                ProvenanceError::KeyFile {
                    action: "reading",
                    path: path.display().to_string(),
                    source,
                }
            }
        })?;
        let signer = Signer::parse(&text)?;
        if signer.verifier() != verifier {
            return Err(ProvenanceError::SigningKeyMismatch {
                path: path.display().to_string(),
                expected: verifier.to_string(),
            });
        }
        Ok(signer)
    }

    /// The tree head of the first `size` leaves, from the stored nodes.
    pub fn log_root(&self, size: u64) -> Result<Hash> {
        evarc_tlog::root(&StoreNodes(self), size)
    }

    /// Signs and keeps a checkpoint of the log as it is now; returns the signed note. Records
    /// written before the log existed are appended first (once).
    pub fn checkpoint(&self) -> Result<String> {
        let _guard = self.write_lock();
        let signer = self.signer()?;
        self.adopt_unlogged()?;
        let size = self.log_size()?;
        if let Some(existing) = self.checkpoint_text(size)? {
            return Ok(existing);
        }
        let checkpoint = Checkpoint {
            origin: signer.name().to_owned(),
            size,
            root: self.log_root(size)?,
            extensions: Vec::new(),
        };
        let note = checkpoint.sign(&signer)?;
        let mut batch = RecordBatch::new();
        batch.put(keys::tlog_checkpoint(size), note.clone().into_bytes());
        self.store().commit_records(batch)?;
        Ok(note)
    }

    /// The kept checkpoint of `size` leaves.
    pub fn checkpoint_text(&self, size: u64) -> Result<Option<String>> {
        self.store()
            .record(&keys::tlog_checkpoint(size))?
            .map(|b| {
                String::from_utf8(b).map_err(|_| ProvenanceError::RecordCorrupt {
                    key: format!("tlog/checkpoint/{size}"),
                    reason: "not UTF-8".into(),
                })
            })
            .transpose()
    }

    /// The latest kept checkpoint (signed note), if any.
    pub fn latest_checkpoint(&self) -> Result<Option<String>> {
        match self
            .store()
            .last_record_with_prefix(keys::TLOG_CHECKPOINT.as_bytes())?
        {
            None => Ok(None),
            Some((key, value)) => Ok(Some(String::from_utf8(value).map_err(|_| {
                ProvenanceError::RecordCorrupt {
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: "not UTF-8".into(),
                }
            })?)),
        }
    }

    /// Keeps an RFC 3161 time-stamp response next to the checkpoint of `size` leaves.
    pub fn keep_timestamp(&self, size: u64, response: &[u8]) -> Result<()> {
        if self.checkpoint_text(size)?.is_none() {
            return Err(ProvenanceError::UnknownCheckpoint { size });
        }
        let mut batch = RecordBatch::new();
        batch.put(keys::tlog_timestamp(size), response.to_vec());
        Ok(self.store().commit_records(batch)?)
    }

    /// The time-stamp response kept with the checkpoint of `size` leaves.
    pub fn timestamp(&self, size: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.store().record(&keys::tlog_timestamp(size))?)
    }

    /// The leaf of `subject`, recomputed from the record as it is now and checked against the
    /// leaf hash in the log.
    pub fn log_entry(&self, subject: &LogSubject) -> Result<LogEntry> {
        let record_key = subject.record_key()?;
        let index = match self.store().record(&keys::tlog_index(&record_key))? {
            None => {
                return Err(ProvenanceError::NotLogged {
                    record: subject.name(),
                })
            }
            Some(bytes) => {
                keys::u64_at(&bytes, 0).ok_or_else(|| ProvenanceError::RecordCorrupt {
                    key: "tlog/ix/…".into(),
                    reason: "not an 8-byte index".into(),
                })?
            }
        };
        let leaf = subject.leaf();
        let stored = StoreNodes(self).node(NodeId { level: 0, index })?;
        if stored != evarc_tlog::leaf_hash(&leaf) {
            return Err(ProvenanceError::LeafMismatch {
                record: subject.name(),
                index,
            });
        }
        Ok(LogEntry { index, leaf })
    }

    /// Checks a signed checkpoint with the archive's key, and that the log still has its head.
    pub fn check_checkpoint(&self, note: &str) -> Result<Checkpoint> {
        let verifier = self.verifier()?.ok_or(ProvenanceError::NoSigningKey)?;
        let checkpoint = Checkpoint::open(note, &verifier)?;
        let size = self.log_size()?;
        if checkpoint.size > size {
            return Err(ProvenanceError::CheckpointMismatch {
                size: checkpoint.size,
                expected: checkpoint.root_base64(),
                actual: format!("(none: the log has only {size} leaves)"),
            });
        }
        let actual = self.log_root(checkpoint.size)?;
        if actual != checkpoint.root {
            use base64::Engine as _;
            return Err(ProvenanceError::CheckpointMismatch {
                size: checkpoint.size,
                expected: checkpoint.root_base64(),
                actual: base64::engine::general_purpose::STANDARD.encode(actual),
            });
        }
        Ok(checkpoint)
    }

    /// The inclusion proof of `subject` against `checkpoint` (a signed note; None: the latest
    /// kept checkpoint). The leaf travels in the proof's `extra` line.
    pub fn inclusion_proof(
        &self,
        subject: &LogSubject,
        checkpoint: Option<&str>,
    ) -> Result<InclusionProof> {
        let entry = self.log_entry(subject)?;
        let note = match checkpoint {
            Some(note) => note.to_owned(),
            None => self.latest_checkpoint()?.ok_or_else(|| {
                ProvenanceError::InvalidInput(
                    "this archive has no checkpoint yet: make one with `evarc checkpoint`".into(),
                )
            })?,
        };
        let head = self.check_checkpoint(&note)?;
        if entry.index >= head.size {
            return Err(ProvenanceError::NotInCheckpoint {
                record: subject.name(),
                index: entry.index,
                size: head.size,
            });
        }
        let hashes = evarc_tlog::inclusion_proof(&StoreNodes(self), entry.index, head.size)
            .map_err(tree_error)?;
        Ok(InclusionProof {
            extra: Some(entry.leaf),
            index: entry.index,
            hashes,
            checkpoint: note,
        })
    }

    /// The consistency proof from the checkpoint `old` (a signed note of this archive) to the
    /// latest kept checkpoint.
    pub fn consistency_proof(&self, old: &str) -> Result<ConsistencyProof> {
        let old = self.check_checkpoint(old)?;
        let latest = self.latest_checkpoint()?.ok_or_else(|| {
            ProvenanceError::InvalidInput("this archive has no checkpoint yet".into())
        })?;
        let new = self.check_checkpoint(&latest)?;
        let hashes = evarc_tlog::consistency_proof(&StoreNodes(self), old.size, new.size)
            .map_err(tree_error)?;
        Ok(ConsistencyProof {
            old_size: old.size,
            hashes,
            checkpoint: latest,
        })
    }

    /// The record whose leaf a record ID names: a provision's own, a document's latest capture.
    pub fn log_subject(&self, id: &crate::id::RecordId) -> Result<LogSubject> {
        Ok(match id {
            crate::id::RecordId::Provision(p) => LogSubject::Provision(self.provision(p)?),
            crate::id::RecordId::Document(d) => LogSubject::Capture {
                document: self.document(d)?,
                capture: self.latest_capture(d)?,
            },
        })
    }

    /// The latest checkpoint that proves `subject`'s leaf, as a citation names it; None when the
    /// record is not logged or no checkpoint covers it yet. A record that no longer matches its
    /// leaf, or a log that no longer matches the checkpoint, is an error.
    pub fn proven_checkpoint(&self, subject: &LogSubject) -> Result<Option<CheckpointCitation>> {
        if self.verifier()?.is_none() {
            return Ok(None);
        }
        let Some(note) = self.latest_checkpoint()? else {
            return Ok(None);
        };
        match self.inclusion_proof(subject, Some(&note)) {
            Ok(_) => {}
            Err(ProvenanceError::NotLogged { .. } | ProvenanceError::NotInCheckpoint { .. }) => {
                return Ok(None)
            }
            Err(err) => return Err(err),
        }
        let head = Checkpoint::parse_unverified(&note)?;
        Ok(Some(CheckpointCitation {
            origin: head.origin.clone(),
            size: head.size,
            root: head.root_base64(),
        }))
    }

    /// Appends leaves for captures and provisions recorded before the log existed (by an older
    /// evarc), once: `tlog/adopted` marks it done. Caller holds the writer lock.
    fn adopt_unlogged(&self) -> Result<()> {
        if self
            .store()
            .record(keys::TLOG_ADOPTED.as_bytes())?
            .is_some()
        {
            return Ok(());
        }
        let nodes = StoreNodes(self);
        let mut appender = self.log_appender(&nodes)?;
        let mut batch = RecordBatch::new();
        let mut documents: HashMap<u64, Document> = HashMap::new();
        for (key, value) in self.store().records_with_prefix(keys::CAPTURE.as_bytes())? {
            if self.store().record(&keys::tlog_index(&key))?.is_some() {
                continue;
            }
            let capture: Capture = decode(&key, &value)?;
            let seq = capture.document.seq();
            let document = match documents.get(&seq) {
                Some(d) => d.clone(),
                None => {
                    let d = self.document(&capture.document)?;
                    documents.insert(seq, d.clone());
                    d
                }
            };
            appender.push(&key, capture_leaf(&document, &capture), &mut batch)?;
        }
        for (key, value) in self
            .store()
            .records_with_prefix(keys::PROVISION.as_bytes())?
        {
            if self.store().record(&keys::tlog_index(&key))?.is_some() {
                continue;
            }
            let provision: Provision = decode(&key, &value)?;
            appender.push(&key, provision_leaf(&provision), &mut batch)?;
        }
        batch.put(keys::TLOG_ADOPTED, appender.size.to_be_bytes().to_vec());
        Ok(self.store().commit_records(batch)?)
    }
}

impl LogAppender<'_> {
    /// Appends one leaf: its bytes, its hash and the subtrees it completes, the new size and
    /// the record's index entry, all into `batch`.
    pub(crate) fn push(
        &mut self,
        record_key: &[u8],
        leaf: Vec<u8>,
        batch: &mut RecordBatch,
    ) -> Result<u64> {
        let index = self.size;
        let nodes = evarc_tlog::append(&self.nodes, index, evarc_tlog::leaf_hash(&leaf))?;
        for (id, hash) in nodes {
            batch.put(keys::tlog_node(id.level, id.index), hash.to_vec());
            self.nodes.pending.insert(id, hash);
        }
        batch.put(keys::tlog_leaf(index), leaf);
        batch.put(keys::tlog_index(record_key), index.to_be_bytes().to_vec());
        self.size = index + 1;
        batch.put(keys::TLOG_SIZE, self.size.to_be_bytes().to_vec());
        Ok(index)
    }
}

/// A checkpoint just signed and kept: what `evarc checkpoint --json` prints and `POST
/// /api/v1/checkpoints` answers (fields in byte order, as both print them).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct CheckpointReport {
    /// The signed note (C2SP), as kept.
    pub checkpoint: String,
    pub origin: String,
    /// The root hash, base64.
    pub root: String,
    pub size: u64,
    /// Whether an RFC 3161 time-stamp was obtained for it.
    pub timestamped: bool,
}

impl CheckpointReport {
    /// The report of the signed checkpoint `note`.
    pub fn of(note: &str, timestamped: bool) -> Result<Self> {
        let head = Checkpoint::parse_unverified(note)?;
        Ok(Self {
            checkpoint: note.to_owned(),
            origin: head.origin.clone(),
            root: head.root_base64(),
            size: head.size,
            timestamped,
        })
    }
}

impl Archive {
    /// Signs and keeps a checkpoint of the log as it is now ([`Archive::checkpoint`]), first
    /// creating the archive's signing key from `seed` when it has none (archives made before the
    /// log get their key on first use; the caller draws the seed from a CSPRNG, as for
    /// [`Archive::create_signing_key`]). The archive is open for writing.
    pub fn publish_checkpoint(&self, seed: impl FnOnce() -> Option<[u8; 32]>) -> Result<String> {
        if self.verifier()?.is_none() {
            let seed = seed().ok_or_else(|| {
                ProvenanceError::InvalidInput(
                    "the archive has no signing key yet and no randomness was available to make one"
                        .into(),
                )
            })?;
            self.create_signing_key(seed)?;
        }
        self.checkpoint()
    }
}
