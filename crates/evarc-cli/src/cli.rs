//! The command line, as clap sees it. Validation into typed values happens in the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// evarc: a content-addressed evidence archive.
///
/// Archive the exact bytes of a document, verify them later, and cite them.
/// Exit codes: 0 success, 1 verification failed, 2 usage or input error, 3 I/O or storage failure.
#[derive(Parser, Debug)]
#[command(name = "evarc", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Archive directory [default: $EVARC_ARCHIVE, else the platform data directory, e.g.
    /// ~/.local/share/evarc, created on first use]
    #[arg(long, global = true, value_name = "PATH")]
    pub archive: Option<PathBuf>,
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new, empty archive.
    Init(InitArgs),
    /// Store the exact bytes of a file, of standard input (`-`) or of a URL.
    Archive(ArchiveArgs),
    /// Re-hash stored bytes: one snapshot, a file handed in, or the whole archive.
    Verify(VerifyArgs),
    /// Write the original bytes of a snapshot.
    Get(GetArgs),
    /// Register provisions: titled clauses pinned to a capture by a quote.
    #[command(subcommand)]
    Provision(ProvisionCommand),
    /// Print the citation of a document or provision.
    Cite(CiteArgs),
    /// Print a hash certification (FRE 902(14) shape) after re-hashing the bytes.
    Certify(CertifyArgs),
    /// The captures of a document over time, with the provisions anchored in each.
    History(HistoryArgs),
    /// A readable diff of the extracted text of two captures of a document.
    Diff(DiffArgs),
    /// Everything known of one record (document, provision or snapshot hash).
    Show(ShowArgs),
    /// List documents (optionally of one entity).
    List(ListArgs),
    /// Find documents and provisions by entity, title, URL or quote.
    Search(SearchArgs),
    /// Write documents and provisions as a WARC, WACZ or BagIt evidence package.
    Export(ExportArgs),
    /// Bring in captures made by other tools.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Read or change the archive's settings: base-url, name, prefix.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the archive's public key (C2SP signed-note verifier key), creating it if missing.
    Key,
    /// Sign and keep a checkpoint of the transparency log; prints it.
    Checkpoint(CheckpointArgs),
    /// Write an inclusion proof of a record's log leaf, or a consistency proof.
    Prove(ProveArgs),
    /// Check a proof offline, with a checkpoint and a public key: no archive needed.
    VerifyProof(VerifyProofArgs),
    /// Set a document's extraction rules by hand (CSS selectors), as a declaration would.
    ///
    /// Versions follow on `evarc reindex`. Exit codes: 0 set, 2 bad input, 3 storage failure.
    Declare(DeclareArgs),
    /// Recompute text versions and change records from the stored bytes (all documents, or one).
    ///
    /// Stored bytes, logs and issued IDs are untouched; a change record that no longer
    /// corresponds to a text change is marked superseded. Exit codes: 0 done, 2 bad input,
    /// 3 storage failure.
    Reindex(ReindexArgs),
    /// Change records: when a document's text changed, and what changed.
    ///
    /// With a change record ID (CA-C-…), that record in full: passages and provisions.
    /// Exit codes: 0 done, 2 bad input, 3 storage failure.
    Changes(ChangesArgs),
    /// Fetch every tracked document's page (documents with rules, or those named) as
    /// `evarc archive URL` does, archive it, and say per document: unchanged, new version
    /// CA-C-…, or failed. One request per host every --delay-ms.
    ///
    /// Exit codes (for cron): 0 every document fetched, 1 some failed, 2 bad input, 3 storage.
    Track(TrackArgs),
}

#[derive(Args, Debug)]
pub struct TrackArgs {
    /// Documents to fetch (CA-D-…) [default: every document with rules].
    #[arg(value_name = "CA-D-…")]
    pub documents: Vec<String>,
    /// Bind these OTA declarations first (a file or a folder), as `import declarations`.
    #[arg(long, value_name = "DIR")]
    pub declarations: Option<PathBuf>,
    /// Milliseconds between two requests to the same host.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub delay_ms: u64,
    /// The User-Agent sent [default: evarc/VERSION (+evidence capture; archive: BASE-URL or NAME)].
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// Give up on one page after this many seconds, body included.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

#[derive(Args, Debug)]
pub struct DeclareArgs {
    /// The document (CA-D-…).
    pub document: String,
    /// A CSS selector of the text to keep (repeatable; default: the whole page).
    #[arg(long, value_name = "CSS")]
    pub select: Vec<String>,
    /// A CSS selector of text to drop from what is kept (repeatable).
    #[arg(long, value_name = "CSS")]
    pub remove: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ReindexArgs {
    /// The document (CA-D-…) [default: every document].
    pub document: Option<String>,
}

#[derive(Args, Debug)]
pub struct ChangesArgs {
    /// A document (CA-D-…), an entity, or a change record (CA-C-…) [default: every document].
    pub what: Option<String>,
    /// Only changes first captured on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Also list superseded change records.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct CheckpointArgs {
    /// Also obtain an RFC 3161 time-stamp token over the checkpoint from this TSA URL.
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// Write the time-stamp response (DER, `.tsr`) to this file as well.
    #[arg(long, value_name = "FILE", requires = "tsa")]
    pub timestamp_out: Option<PathBuf>,
    /// Write the checkpoint to this file as well.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// TSA request: give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["id", "capture", "consistency"])))]
pub struct ProveArgs {
    /// The record: a provision (its leaf) or a document (its latest capture's leaf, or the
    /// capture given by --capture).
    pub id: Option<String>,
    /// The capture with this SHA-256 (of the document ID given, else the only capture with it).
    #[arg(long, value_name = "SHA256")]
    pub capture: Option<String>,
    /// Prove against this checkpoint of the archive [default: the latest kept checkpoint].
    #[arg(long, value_name = "FILE", conflicts_with = "consistency")]
    pub checkpoint: Option<PathBuf>,
    /// Prove that this older checkpoint is a prefix of the latest one.
    #[arg(long, value_name = "OLD_CHECKPOINT", conflicts_with_all = ["id", "capture"])]
    pub consistency: Option<PathBuf>,
    /// Write the proof here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyProofArgs {
    /// The proof: an inclusion proof (`c2sp.org/tlog-proof@v1`) or a consistency proof.
    #[arg(long, value_name = "FILE")]
    pub proof: PathBuf,
    /// The checkpoint the proof must be against (for a consistency proof: the older one).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// The log's verifier key (`<name>+<key ID>+<base64 key>`), or a file holding it.
    #[arg(long, value_name = "KEY")]
    pub key: String,
    /// The record's leaf (its canonical JSON) [default: the leaf carried in the proof].
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// The captured bytes: their SHA-256 must be the one the leaf records.
    #[arg(long, value_name = "FILE")]
    pub bytes: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to create the archive (default: as for --archive).
    pub path: Option<PathBuf>,
    /// ID prefix of the archive's records: 2–8 letters [default: CA].
    #[arg(long)]
    pub prefix: Option<String>,
    /// The archive's name, as cited.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct ArchiveArgs {
    /// A file, `-` for standard input, or an http(s) URL.
    pub input: std::ffi::OsString,
    /// Who publishes the document (with --document, records a capture of it).
    #[arg(long, requires = "document")]
    pub entity: Option<String>,
    /// The document's title, or the ID of a registered document (CA-D-…).
    #[arg(long)]
    pub document: Option<String>,
    /// The document's source URL (default for a URL input: the URL itself).
    #[arg(long, value_name = "SOURCE")]
    pub url: Option<String>,
    /// Register a new document under this ID (when free) instead of the next in sequence.
    #[arg(long, value_name = "CA-D-…")]
    pub id: Option<String>,
    /// When the bytes were captured, asserted by the operator (RFC 3339; default: now).
    /// Not allowed for a URL, whose capture time is the fetch.
    #[arg(long, value_name = "RFC3339")]
    pub captured_at: Option<String>,
    /// The document's own "last updated" date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub last_updated: Option<String>,
    /// The address of a Wayback Machine or Perma.cc capture of the same page.
    #[arg(long, value_name = "URL")]
    pub wayback: Option<String>,
    /// The media type of the bytes (default: sniffed, or the Content-Type of a URL).
    #[arg(long, value_name = "TYPE")]
    pub media_type: Option<String>,
    /// Archive an empty input (0 bytes) instead of refusing it.
    #[arg(long)]
    pub allow_empty: bool,
    /// URL capture: give up after this many seconds, body included.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// URL capture: refuse responses larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 256 << 20)]
    pub max_bytes: u64,
    /// URL capture: archive a non-2xx response instead of refusing it.
    #[arg(long)]
    pub allow_http_errors: bool,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["hash", "file", "all"])))]
pub struct VerifyArgs {
    /// A snapshot's SHA-256 or BLAKE3: 64 hex digits, `sha256:<hex>` or `blake3:<hex>`.
    pub hash: Option<String>,
    /// Say whether this file is byte-identical to an archived snapshot, and which.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Re-read and re-hash every snapshot of the archive.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    /// The snapshot's SHA-256 or BLAKE3 (as for `verify`).
    pub hash: String,
    /// Write to this file (atomically, only once verified) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ProvisionCommand {
    /// Register a provision of a document; prints its ID.
    Add(ProvisionAddArgs),
    /// A provision's timeline across the document's text versions (unchanged, moved, amended
    /// with its word diff, removed). Exit codes: 0 done, 2 bad input, 3 storage failure.
    Status(ProvisionStatusArgs),
}

#[derive(Args, Debug)]
pub struct ProvisionStatusArgs {
    /// The provision (CA-P-…).
    pub provision: String,
}

#[derive(Args, Debug)]
pub struct ProvisionAddArgs {
    /// The document (CA-D-…).
    pub document: String,
    /// The provision's title.
    #[arg(long)]
    pub title: String,
    /// The clause, quoted exactly as it appears in the capture's text.
    #[arg(long)]
    pub quote: String,
    /// SHA-256 of the capture to pin to (default: the document's latest capture).
    #[arg(long, value_name = "SHA256")]
    pub capture: Option<String>,
    /// Register under this ID (when free) instead of the next in sequence.
    #[arg(long, value_name = "CA-P-…")]
    pub id: Option<String>,
    /// Severity label (free text, e.g. high).
    #[arg(long)]
    pub severity: Option<String>,
    /// A category (repeatable).
    #[arg(long = "category", value_name = "CATEGORY")]
    pub categories: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CiteArgs {
    /// The record (CA-D-… or CA-P-…).
    pub id: String,
    /// record, provenance, bluebook, csl-json, biblatex, ris, json or markdown.
    #[arg(long, short, default_value = "record")]
    pub format: String,
    /// The reader's access date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE")]
    pub accessed: Option<String>,
    /// plain, markdown or html (italics in Bluebook).
    #[arg(long, default_value = "plain")]
    pub markup: String,
}

#[derive(Args, Debug)]
pub struct CertifyArgs {
    /// The record (CA-D-… or CA-P-…).
    pub id: String,
    /// Certify this exhibit file instead of the stored bytes: it must hash identically.
    #[arg(long, value_name = "FILE")]
    pub exhibit: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The document (CA-D-…).
    pub document: String,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The document (CA-D-…).
    pub document: String,
    /// SHA-256 of the older capture [default: the second latest].
    #[arg(long, value_name = "SHA256", requires = "to")]
    pub from: Option<String>,
    /// SHA-256 of the newer capture [default: the latest].
    #[arg(long, value_name = "SHA256", requires = "from")]
    pub to: Option<String>,
    /// Lines of context around each change.
    #[arg(long, default_value_t = 2)]
    pub context: usize,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A document or provision ID, or a snapshot hash.
    pub id: String,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only documents of this entity (exact, case-insensitive).
    #[arg(long)]
    pub entity: Option<String>,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Text to look for (case-insensitive).
    pub text: String,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a setting (or all settings).
    Get { key: Option<String> },
    /// Change a setting: base-url, name, or prefix (only before the first ID is issued).
    Set { key: String, value: String },
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Captures listed in a TSV, CSV or JSON Lines manifest (columns captured_at, entity,
    /// document, source_url, path relative to the manifest, and optionally sha256 and bytes).
    Manifest(ImportManifestArgs),
    /// The response and resource records of WARC files (.warc, .warc.gz); revisits resolved.
    Warc(ImportWarcArgs),
    /// Open Terms Archive declarations (a SERVICE.json / SERVICE.history.json file or a folder
    /// of them): binds each terms type's extraction rules to the matching documents.
    ///
    /// Unsupported features (filter, executeClientScripts) are reported per document; the rest
    /// applies. Versions follow on `evarc reindex`. Exit codes: 0 read, 2 bad input, 3 storage.
    Declarations(ImportDeclarationsArgs),
}

#[derive(Args, Debug)]
pub struct ImportDeclarationsArgs {
    /// A declaration file or a folder of them.
    pub path: PathBuf,
}

#[derive(Args, Debug)]
pub struct ImportManifestArgs {
    /// The manifest file (.tsv, .csv, .jsonl; sniffed otherwise).
    pub manifest: PathBuf,
}

#[derive(Args, Debug)]
pub struct ImportWarcArgs {
    /// The WARC files (.warc or .warc.gz; gzip is detected).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Who publishes the documents [default: the host of each target URI].
    #[arg(long)]
    pub entity: Option<String>,
    /// The title of every imported document [default: the page's HTML <title>, else the URI].
    #[arg(long, value_name = "TITLE")]
    pub document: Option<String>,
}

/// The package formats of `evarc export`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageFormat {
    /// WARC 1.1: `.warc`, or `.warc.gz` (one gzip member per record) when PATH ends with `.gz`.
    Warc,
    /// WACZ: the WARC with a CDXJ index, page list and datapackage, in one ZIP file.
    Wacz,
    /// BagIt 1.0: a directory with the bytes, every citation text and SHA-256 manifests.
    Bagit,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Documents (all their captures) and provisions (their capture): CA-D-…, CA-P-….
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// The package format.
    #[arg(long, short, value_enum)]
    pub format: PackageFormat,
    /// Where to write the package: a new file (warc, wacz) or a new or empty directory (bagit).
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,
    /// Export only this capture of each document ID (its SHA-256).
    #[arg(long, value_name = "SHA256")]
    pub capture: Option<String>,
    /// The access date printed in the citation texts (YYYY-MM-DD) [default: the date of the
    /// latest capture exported, so the package holds no clock-derived value].
    #[arg(long, value_name = "DATE")]
    pub accessed: Option<String>,
}
