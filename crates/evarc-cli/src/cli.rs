//! The command line, as clap sees it: IDs, digests and dates are parsed here, once, by the
//! `value_parser`s of `values.rs`; the commands receive typed values.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand};
use evarc_provenance::id::{DocumentId, RecordId};
use evarc_provenance::Sha256;

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
    /// A command that writes waits up to this many seconds for another evarc process writing
    /// to the same archive to finish (0: fail at once). Readers never wait.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new, empty archive.
    ///
    /// Exit codes: 0 created; 2 the directory is not empty, or an invalid prefix or name; 3 I/O or storage failure.
    Init(InitArgs),
    /// Store the exact bytes of a file, of standard input (`-`) or of a URL.
    ///
    /// Exit codes: 0 stored (and recorded); 2 usage or input error (missing or empty input, invalid field, unknown document, a URL refused or answering non-2xx, the archive in use by another writer); 3 I/O or storage failure.
    Archive(ArchiveArgs),
    /// Re-hash stored bytes: one snapshot, a file handed in, or the whole archive.
    ///
    /// Exit codes: 0 everything checked verified (the file is byte-identical to a snapshot); 1 verification failed (bytes missing, damaged or different; the file matches no snapshot); 2 malformed or unknown hash, unreadable file; 3 I/O or storage failure.
    Verify(VerifyArgs),
    /// Write the original bytes of a snapshot.
    ///
    /// Exit codes: 0 written, every byte verified; 1 the stored bytes fail verification (with -o nothing is written); 2 malformed or unknown hash, or -o names an existing file without --force; 3 I/O or storage failure.
    Get(GetArgs),
    /// Register provisions: titled clauses pinned to a capture by a quote.
    ///
    /// Exit codes: 0 registered (or already registered); 1 the capture's stored bytes fail verification; 2 unknown document or capture, a quote not in the capture, an invalid title; 3 I/O or storage failure.
    #[command(subcommand)]
    Provision(ProvisionCommand),
    /// Print the citation of a document or provision.
    ///
    /// Exit codes: 0 printed; 1 the cited bytes fail verification; 2 unknown ID or format; 3 I/O or storage failure.
    Cite(CiteArgs),
    /// Print a hash certification (FRE 902(14) shape) after re-hashing the bytes.
    ///
    /// Exit codes: 0 certified; 1 the stored bytes, or the exhibit, do not hash to the recorded SHA-256; 2 unknown ID, unreadable exhibit; 3 I/O or storage failure.
    Certify(CertifyArgs),
    /// The captures of a document over time, with the provisions anchored in each.
    ///
    /// Exit codes: 0 printed; 2 malformed or unknown document ID; 3 I/O or storage failure.
    History(HistoryArgs),
    /// A readable diff of the extracted text of two captures of a document: added, removed and
    /// changed paragraphs, with the changed words marked inside changed ones.
    ///
    /// Exit codes: 0 printed (whether or not the text changed); 1 stored bytes fail verification; 2 unknown document or capture, fewer than two captures; 3 I/O or storage failure.
    Diff(DiffArgs),
    /// Everything known of one record (document, provision or snapshot hash).
    ///
    /// Exit codes: 0 printed; 2 malformed or unknown ID or hash; 3 I/O or storage failure.
    Show(ShowArgs),
    /// List documents (optionally of one entity).
    ///
    /// Exit codes: 0 printed (also when nothing matches); 2 no archive; 3 I/O or storage failure.
    List(ListArgs),
    /// Find documents and provisions by entity, title, URL or quote.
    ///
    /// Exit codes: 0 printed (also when nothing matches); 2 no archive; 3 I/O or storage failure.
    Search(SearchArgs),
    /// Write documents and provisions as a WARC, WACZ or BagIt evidence package.
    ///
    /// Exit codes: 0 written; 1 stored bytes or log evidence fail verification (no partial output is left); 2 unknown ID or capture, an existing output, a missing output folder; 3 I/O or storage failure.
    Export(ExportArgs),
    /// Bring in captures made by other tools.
    ///
    /// Exit codes: 0 every record imported or skipped; 1 a row's file does not hash to its SHA-256, or a WARC record is damaged (the intact ones are archived); 2 unreadable input, or the archive refused a row or record; 3 I/O or storage failure.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Read or change the archive's settings: base-url, name, prefix.
    ///
    /// Exit codes: 0 done; 2 unknown key, invalid value, or no archive; 3 I/O or storage failure.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the archive's public key (C2SP signed-note verifier key), creating it if missing.
    ///
    /// Exit codes: 0 printed; 1 the key file does not match the archive's public key; 2 no archive; 3 I/O or storage failure.
    Key,
    /// Sign and keep a checkpoint of the transparency log; prints it.
    ///
    /// Exit codes: 0 signed and kept; 1 the log no longer matches (altered); 2 the TSA refused the request, invalid arguments; 3 I/O or storage failure, TSA unreachable.
    Checkpoint(CheckpointArgs),
    /// Write an inclusion proof of a record's log leaf, or a consistency proof.
    ///
    /// Exit codes: 0 written; 1 the record no longer matches its leaf, or the log was rewritten; 2 unknown record or checkpoint, a record the checkpoint does not cover; 3 I/O or storage failure.
    Prove(ProveArgs),
    /// Check a proof offline, with a checkpoint and a public key: no archive needed.
    ///
    /// Exit codes: 0 the proof verifies; 1 it does not (or --bytes do not hash to the leaf's SHA-256); 2 unreadable or malformed proof, checkpoint or key.
    VerifyProof(VerifyProofArgs),
    /// Print the extracted text that quotes are anchored in (copy exact quotes from it).
    ///
    /// Exit codes: 0 printed; 2 unknown record or hash, no capture at that date, no text could be extracted; 3 I/O or storage failure.
    Text(TextArgs),
    /// Mark a mistaken capture as withdrawn (append-only, logged): its bytes and log leaf stay,
    /// and every citation and export says it was withdrawn, when and why.
    ///
    /// Exit codes: 0 withdrawn; 2 unknown capture or record, already withdrawn, no reason given; 3 I/O or storage failure.
    Withdraw(WithdrawArgs),
    /// Serve the archive over HTTP: a page per record ID, raw bytes, Memento, JSON API, log.
    ///
    /// Exit codes: 0 stopped cleanly; 2 invalid --listen address or no archive; 3 the address is in use, I/O or storage failure.
    Serve(ServeArgs),
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
    /// Re-encode the stored snapshots at a higher zstd level (smaller archive, same read paths),
    /// then compact the database; prints where the bytes are before and after.
    ///
    /// Safe to interrupt at any point: each group of values is replaced atomically by values
    /// checked to decode to the same verified bytes; readers keep working meanwhile.
    /// On an archive on a bucket the new values go to new objects; `evarc gc --delete` then
    /// removes the objects they replace.
    /// Exit codes: 0 repacked; 1 some snapshots fail verification (left as they were: see `evarc verify --all`); 2 usage error, or the archive in use by another writer; 3 I/O or storage failure.
    Repack(RepackArgs),
    /// Fetch every tracked document's page (documents with rules, or those named) as
    /// `evarc archive URL` does, archive it, and say per document: unchanged, new version
    /// CA-C-…, or failed. One request per host every --delay-ms.
    ///
    /// Exit codes: 0 every document fetched; 1 some failed (suited to cron); 2 bad input; 3 storage failure.
    Track(TrackArgs),
    /// Access tokens of `evarc serve`: create (printed once, only its hash is kept), list, revoke.
    ///
    /// Exit codes: 0 done; 2 invalid name or scope, a name already taken, an unknown or already revoked token, no archive; 3 I/O or storage failure.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Rebuild an archive from an S3 bucket alone (its record log and snapshot bytes).
    ///
    /// The new archive keeps its snapshot bytes in the bucket. Endpoint, region and credentials come from AWS_ENDPOINT_URL (or --endpoint), AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; the signing key is not in the bucket (copy tlog-signing-key in separately).
    ///
    /// Exit codes: 0 restored; 2 a malformed URL, a bucket holding no archive, the directory not empty; 3 the bucket cannot be reached (unreachable endpoint, refused credentials, missing bucket) or another I/O failure.
    Restore(RestoreArgs),
    /// Send what is new since the last run (snapshot bytes, records, log) to a replica in an S3 bucket.
    ///
    /// Exit codes: 0 replicated; 2 a malformed URL; 3 the bucket cannot be reached (unreachable endpoint, refused credentials, missing bucket) or another I/O failure.
    Replicate(BucketArgs),
    /// Re-fetch from a replica every snapshot `verify --all` finds damaged, naming each one repaired and each one that cannot be.
    ///
    /// Exit codes: 0 nothing damaged remains; 1 some snapshots could not be repaired; 2 a malformed URL or a bucket holding no archive; 3 the bucket cannot be reached or another I/O failure.
    Repair(BucketArgs),
    /// List the objects of the archive's bucket that no manifest references (with --delete, remove them).
    ///
    /// Exit codes: 0 listed (or removed); 2 the archive keeps its bytes locally; 3 the bucket cannot be reached or another I/O failure.
    Gc(GcArgs),
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it once (only its SHA-256 is stored).
    ///
    /// Exit codes: 0 created; 2 invalid or taken name, no scope; 3 I/O or storage failure.
    Create(TokenCreateArgs),
    /// List tokens: name, scopes, created, revoked, last used (never the secret).
    ///
    /// "last used" is the time of an authenticated request to `evarc serve`, recorded at most once a minute per token (so up to a minute early); "never" when none was recorded.
    ///
    /// Exit codes: 0 printed; 2 no archive; 3 I/O or storage failure.
    List,
    /// Revoke a token: the server refuses it from then on (within a second).
    ///
    /// Exit codes: 0 revoked; 2 unknown or already revoked token; 3 I/O or storage failure.
    Revoke(TokenRevokeArgs),
}

#[derive(Args, Debug)]
pub struct TokenCreateArgs {
    /// The token's name (letters, digits, '-', '_', '.', '@'; unique in the archive).
    #[arg(long)]
    pub name: String,
    /// What it allows: write (POST captures and provisions), read-private (see private
    /// records). Repeatable.
    #[arg(long = "scope", value_name = "SCOPE", required = true)]
    pub scopes: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TokenRevokeArgs {
    /// The token's name.
    pub name: String,
}

#[derive(Args, Debug)]
pub struct TextArgs {
    /// A document (its latest capture), a provision (its capture) or a capture's SHA-256.
    pub target: String,
    /// The document's capture in force at this date (YYYY-MM-DD, end of day UTC) or instant
    /// (RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// Print the capture's version text instead: the document's text under its extraction rules,
    /// normalised, as its versions and change records compare it (docs/versions.md).
    #[arg(long)]
    pub version_text: bool,
}

#[derive(Args, Debug)]
pub struct WithdrawArgs {
    /// The capture: its SHA-256 (when only one capture has those bytes), a document ID (its
    /// latest capture, or the one given by --capture) or a provision ID (its capture).
    #[arg(value_parser = crate::values::withdraw_target)]
    pub target: crate::values::WithdrawTarget,
    /// With a document ID: the capture with this SHA-256.
    #[arg(long, value_name = "SHA256", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
    /// Why the capture is withdrawn (printed in every citation of it).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address bound is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Show a check of a capture's bytes that verified again for this many seconds before
    /// checking them again (0: check on every request); a failed check is never reused.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub recheck_after: u64,
}

#[derive(Args, Debug)]
pub struct TrackArgs {
    /// Documents to fetch (CA-D-…) [default: every document with rules].
    #[arg(value_name = "CA-D-…", value_parser = crate::values::document_id)]
    pub documents: Vec<DocumentId>,
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
    #[arg(value_parser = crate::values::document_id)]
    pub document: DocumentId,
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
    #[arg(value_parser = crate::values::document_id)]
    pub document: Option<DocumentId>,
}

#[derive(Args, Debug)]
pub struct RepackArgs {
    /// zstd level of the re-encoded values (1 to 22).
    #[arg(long, default_value_t = evarc_provenance::REPACK_LEVEL, value_parser = clap::value_parser!(i32).range(1..=22))]
    pub level: i32,
}

#[derive(Args, Debug)]
pub struct ChangesArgs {
    /// A document (CA-D-…), an entity, or a change record (CA-C-…) [default: every document].
    pub what: Option<String>,
    /// Only changes first captured on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = crate::values::date)]
    pub since: Option<NaiveDate>,
    /// Also list superseded change records.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct CheckpointArgs {
    /// Also obtain an RFC 3161 time-stamp token over the checkpoint from this TSA URL.
    #[arg(long, value_name = "URL", value_parser = crate::values::http_url)]
    pub tsa: Option<evarc_provenance::HttpUrl>,
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
    #[arg(value_parser = crate::values::record_id)]
    pub id: Option<RecordId>,
    /// The capture with this SHA-256 (of the document ID given, else the only capture with it).
    #[arg(long, value_name = "SHA256", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
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
    /// Not offered: verify-proof reads no archive. (Takes the global --archive's place so that
    /// the help does not list it, and refuses it when given.)
    #[arg(id = "archive", long = "archive", hide = true, value_name = "PATH", value_parser = refuse_archive)]
    pub no_archive: Option<PathBuf>,
}

/// The value parser of `verify-proof --archive`: always refused.
fn refuse_archive(_: &str) -> Result<PathBuf, String> {
    Err("verify-proof checks a proof offline and reads no archive: drop --archive".into())
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
    /// Keep the snapshot bytes in an S3 bucket (s3://BUCKET/PREFIX) instead of the directory.
    #[arg(long, value_name = "S3-URL")]
    pub blobs: Option<String>,
    /// The S3 endpoint (an S3-compatible server), recorded in the archive [default: $AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL", requires = "blobs")]
    pub endpoint: Option<String>,
    /// Megabytes of snapshot bytes cached on local disk for an archive on a bucket.
    #[arg(long, value_name = "MB", requires = "blobs", default_value_t = 256)]
    pub blob_cache_mb: u64,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The bucket and prefix holding the archive (s3://BUCKET/PREFIX).
    #[arg(value_name = "S3-URL")]
    pub url: String,
    /// Where to create the restored archive (a new or empty directory).
    pub path: PathBuf,
    /// The archive's signing key file (`tlog-signing-key`, kept apart from the bucket): checked
    /// against the public key in the records and installed, so that new checkpoints can be signed.
    #[arg(long, value_name = "FILE")]
    pub signing_key: Option<PathBuf>,
    /// The S3 endpoint (an S3-compatible server) [default: $AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

#[derive(Args, Debug)]
pub struct BucketArgs {
    /// The replica's bucket and prefix (s3://BUCKET/PREFIX).
    #[arg(value_name = "S3-URL")]
    pub url: String,
    /// The S3 endpoint (an S3-compatible server) [default: $AWS_ENDPOINT_URL].
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
}

#[derive(Args, Debug)]
pub struct GcArgs {
    /// Remove the unreferenced objects (default: only list them).
    #[arg(long)]
    pub delete: bool,
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
    #[arg(long, value_name = "SOURCE", value_parser = crate::values::http_url)]
    pub url: Option<evarc_provenance::HttpUrl>,
    /// Register a new document under this ID (when free) instead of the next in sequence.
    #[arg(long, value_name = "CA-D-…", value_parser = crate::values::document_id)]
    pub id: Option<DocumentId>,
    /// When the bytes were captured, asserted by the operator (RFC 3339; default: now).
    /// Not allowed for a URL, whose capture time is the fetch.
    #[arg(long, value_name = "RFC3339", value_parser = crate::values::instant)]
    pub captured_at: Option<DateTime<Utc>>,
    /// The document's own "last updated" date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = crate::values::date)]
    pub last_updated: Option<NaiveDate>,
    /// The address of a Wayback Machine or Perma.cc capture of the same page.
    #[arg(long, value_name = "URL", value_parser = crate::values::http_url)]
    pub wayback: Option<evarc_provenance::HttpUrl>,
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
    /// Record a --captured-at before 1991 or more than a day in the future (refused otherwise).
    #[arg(long)]
    pub force: bool,
    /// Record a private capture: it does not exist for anonymous readers of `evarc serve`.
    #[arg(long)]
    pub private: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// Send captures to a running `evarc serve` instead of a local archive.
#[derive(Args, Debug, Clone)]
pub struct RemoteArgs {
    /// Send the capture to the `evarc serve` at this URL (needs a token with the write scope)
    /// instead of archiving it locally.
    #[arg(long, value_name = "URL", requires = "token", value_parser = crate::values::http_url)]
    pub remote: Option<evarc_provenance::HttpUrl>,
    /// The bearer token for --remote (`evarc token create --scope write` prints it)
    /// [default: $EVARC_TOKEN].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "EVARC_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
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
    /// Replace the file given by --output when it exists (refused otherwise).
    #[arg(long, requires = "output")]
    pub force: bool,
    /// With a document ID instead of a hash: the capture in force at this instant, YYYY-MM-DD
    /// (end of that day, UTC) or RFC 3339 [default: the latest capture].
    #[arg(long, value_name = "DATE|DATETIME")]
    pub at: Option<String>,
    /// With a document ID: the capture with this SHA-256.
    #[arg(long, value_name = "SHA256", conflicts_with = "at", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
}

// Parsed once per process: the size of the typed arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum ProvisionCommand {
    /// Register a provision of a document; prints its ID.
    ///
    /// Exit codes: 0 registered (or already registered); 1 the capture's stored bytes fail verification; 2 unknown document or capture, a quote not in the capture, an invalid title; 3 I/O or storage failure.
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
    #[arg(value_parser = crate::values::document_id)]
    pub document: DocumentId,
    /// The provision's title.
    #[arg(long)]
    pub title: String,
    /// The clause, quoted exactly as it appears in the capture's text (`evarc text` prints it).
    #[arg(
        long,
        required_unless_present = "quote_file",
        conflicts_with = "quote_file"
    )]
    pub quote: Option<String>,
    /// Read the quote from this file (UTF-8), for quotes too long for the command line.
    #[arg(long, value_name = "FILE")]
    pub quote_file: Option<PathBuf>,
    /// When the quote occurs more than once, pin it to this occurrence (1 = first).
    #[arg(long, value_name = "N")]
    pub occurrence: Option<usize>,
    /// SHA-256 of the capture to pin to (default: the document's latest capture).
    #[arg(long, value_name = "SHA256", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
    /// Register under this ID (when free) instead of the next in sequence.
    #[arg(long, value_name = "CA-P-…")]
    pub id: Option<String>,
    /// Severity label (free text, e.g. high).
    #[arg(long)]
    pub severity: Option<String>,
    /// A category (repeatable).
    #[arg(long = "category", value_name = "CATEGORY")]
    pub categories: Vec<String>,
    /// Register a private provision: it does not exist for anonymous readers of `evarc serve`
    /// (a provision on a private capture is private anyway).
    #[arg(long)]
    pub private: bool,
}

#[derive(Args, Debug)]
pub struct CiteArgs {
    /// The record (CA-D-… or CA-P-…).
    #[arg(value_parser = crate::values::cited_id)]
    pub id: crate::values::CitedId,
    /// record, provenance, bluebook, csl-json, biblatex, ris, json or markdown.
    #[arg(long, short, default_value = "record", value_parser = crate::values::citation_format)]
    pub format: evarc_provenance::cite::Format,
    /// The reader's access date (YYYY-MM-DD) [default: today, UTC].
    #[arg(long, value_name = "DATE", value_parser = crate::values::date)]
    pub accessed: Option<NaiveDate>,
    /// plain, markdown or html (italics in Bluebook).
    #[arg(long, default_value = "plain", value_parser = crate::values::markup)]
    pub markup: evarc_provenance::cite::Markup,
    /// Cite the capture with this SHA-256 (of a document; a provision's own capture only).
    #[arg(long, value_name = "SHA256", conflicts_with = "at", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
    /// Cite the capture in force at this instant: YYYY-MM-DD (end of that day, UTC) or RFC 3339.
    #[arg(long, value_name = "DATE|DATETIME")]
    pub at: Option<String>,
}

#[derive(Args, Debug)]
pub struct CertifyArgs {
    /// The record (CA-D-… or CA-P-…).
    #[arg(value_parser = crate::values::record_id)]
    pub id: RecordId,
    /// Certify this exhibit file instead of the stored bytes: it must hash identically (for a
    /// document: to one of its captures, which the certification names).
    #[arg(long, value_name = "FILE")]
    pub exhibit: Option<PathBuf>,
    /// Certify the capture with this SHA-256 (of a document; a provision's own capture only).
    #[arg(long, value_name = "SHA256", conflicts_with = "at", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
    /// Certify the capture in force at this instant: YYYY-MM-DD (end of that day, UTC) or RFC 3339.
    #[arg(long, value_name = "DATE|DATETIME")]
    pub at: Option<String>,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The document (CA-D-…).
    #[arg(value_parser = crate::values::document_id)]
    pub document: DocumentId,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The document (CA-D-…).
    #[arg(value_parser = crate::values::document_id)]
    pub document: DocumentId,
    /// SHA-256 of the older capture [default: the capture just before --to; without --to, the
    /// second latest].
    #[arg(long, value_name = "SHA256", value_parser = crate::values::sha256)]
    pub from: Option<Sha256>,
    /// SHA-256 of the newer capture [default: the latest].
    #[arg(long, value_name = "SHA256", value_parser = crate::values::sha256)]
    pub to: Option<Sha256>,
    /// Lines of context around each change.
    #[arg(long, default_value_t = 2)]
    pub context: usize,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A document or provision ID, or a snapshot hash.
    pub id: String,
    /// Show the capture with this SHA-256 (of a document; a provision's own capture only).
    #[arg(long, value_name = "SHA256", conflicts_with = "at", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
    /// Show the capture in force at this instant: YYYY-MM-DD (end of that day, UTC) or RFC 3339.
    #[arg(long, value_name = "DATE|DATETIME")]
    pub at: Option<String>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only documents of this entity (exact, case-insensitive).
    #[arg(long)]
    pub entity: Option<String>,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Text to look for (case-insensitive); a URL matches whatever its scheme/host case,
    /// default port or trailing slash.
    pub text: String,
    /// Only records with a capture taken on or after this date (YYYY-MM-DD) or instant.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only records with a capture taken on or before this date (YYYY-MM-DD) or instant.
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print a setting (or all settings).
    ///
    /// Keys: base-url (the public address record IDs are joined to; empty when unset), name (the
    /// archive's name, as cited), prefix (the ID prefix, e.g. CA).
    ///
    /// Exit codes: 0 printed, 2 unknown key or no archive, 3 storage failure.
    Get {
        /// The setting to print: base-url, name or prefix [default: all, one `key = value` line each].
        #[arg(value_name = "KEY")]
        key: Option<String>,
    },
    /// Change a setting.
    ///
    /// Keys: base-url (an absolute http(s) URL, e.g. https://evidence.example.org/), name (text,
    /// as cited), prefix (2–8 letters; only before the first ID is issued).
    ///
    /// Exit codes: 0 changed, 2 unknown key, invalid value or no archive, 3 storage failure.
    Set {
        /// The setting to change: base-url, name or prefix.
        #[arg(value_name = "KEY")]
        key: String,
        /// Its new value.
        #[arg(value_name = "VALUE")]
        value: String,
    },
    /// Return a setting to its default: base-url (none), name (evarc), prefix (CA; only before
    /// the first ID is issued).
    ///
    /// Exit codes: 0 unset, 2 unknown key or no archive, 3 storage failure.
    Unset {
        /// The setting to unset: base-url, name or prefix.
        #[arg(value_name = "KEY")]
        key: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Captures listed in a TSV, CSV or JSON Lines manifest (columns captured_at, entity,
    /// document, source_url, path relative to the manifest, and optionally sha256 and bytes).
    ///
    /// Exit codes: 0 every row archived or skipped; 1 a row's file does not hash to its SHA-256; 2 unreadable manifest, or a row refused; 3 I/O or storage failure.
    Manifest(ImportManifestArgs),
    /// The response and resource records of WARC files (.warc, .warc.gz); revisits resolved.
    ///
    /// Exit codes: 0 every record imported or skipped; 1 a record was damaged (the intact ones are archived); 2 unreadable file, or the archive refused a record; 3 I/O or storage failure.
    Warc(ImportWarcArgs),
    /// An Open Terms Archive snapshots git repository: each commit's changed file is one
    /// capture (entity = service folder, document = file name, time = commit date, URL = the
    /// X-source-document-location trailer), in commit order.
    ///
    /// Exit codes: 0 every capture archived or already there; 2 not a readable git repository, or a capture refused (e.g. no source URL trailer); 3 I/O or storage failure; 130 interrupted (Ctrl-C).
    Ota(ImportOtaArgs),
    /// Open Terms Archive declarations (a SERVICE.json / SERVICE.history.json file or a folder
    /// of them): binds each terms type's extraction rules to the matching documents.
    ///
    /// Unsupported features (filter, executeClientScripts) are reported per document; the rest
    /// applies. Versions follow on `evarc reindex`. Exit codes: 0 read, 2 bad input, 3 storage.
    Declarations(ImportDeclarationsArgs),
}

#[derive(Args, Debug)]
pub struct ImportOtaArgs {
    /// The snapshots repository (a clone of an OTA `*-snapshots` repository).
    #[arg(value_name = "SNAPSHOTS_GIT_DIR")]
    pub repository: PathBuf,
    /// Only commits dated on or after this day (UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE", value_parser = crate::values::date)]
    pub since: Option<NaiveDate>,
    /// Only commits dated on or before this day (UTC), YYYY-MM-DD.
    #[arg(long, value_name = "DATE", value_parser = crate::values::date)]
    pub until: Option<NaiveDate>,
    /// Only these services (folder names; repeat the option for several).
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
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
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Record capture times before 1991 or more than a day in the future (such rows are refused
    /// otherwise).
    #[arg(long)]
    pub force: bool,
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
    #[arg(required = true, value_name = "ID", value_parser = crate::values::record_id)]
    pub ids: Vec<RecordId>,
    /// The package format.
    #[arg(long, short, value_enum)]
    pub format: PackageFormat,
    /// Where to write the package: a new file (warc, wacz) or a new or empty directory (bagit).
    #[arg(long, short, value_name = "PATH")]
    pub output: PathBuf,
    /// Export only this capture of each document ID (its SHA-256).
    #[arg(long, value_name = "SHA256", conflicts_with = "at", value_parser = crate::values::sha256)]
    pub capture: Option<Sha256>,
    /// Export only the capture of each document ID in force at this instant: YYYY-MM-DD (end of
    /// that day, UTC) or RFC 3339.
    #[arg(long, value_name = "DATE|DATETIME")]
    pub at: Option<String>,
    /// The access date printed in the citation texts (YYYY-MM-DD) [default: the date of the
    /// latest capture exported, so the package holds no clock-derived value].
    #[arg(long, value_name = "DATE", value_parser = crate::values::date)]
    pub accessed: Option<NaiveDate>,
}
