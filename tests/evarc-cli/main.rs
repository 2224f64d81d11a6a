//! Integration tests of the `evarc` binary: each test runs the real program in a fresh temporary
//! directory and compares whole outputs (long ones against files in `expected/`; regenerate them
//! with `EVARC_BLESS=1 cargo test -p evarc-cli --test cli`, then review the diff).
//!
//! - `store_cli`: issue 2, the snapshot store (init, archive, get, verify, damage, one writer);
//! - `provenance_cli`, `citations`: issue 3, documents, captures, provisions and citations on the
//!   AWS Service Terms fixture (`aws_fixture`, `fixtures/`);
//! - `url_capture`: issue 3, capturing URLs from a local test server (`http_server`);
//! - `corpus`: real captures from `../shared/corpus` (only with `EVARC_CORPUS_TESTS=1`).

#[path = "../s3_server.rs"]
mod s3_server;
/// This binary keeps archives' bytes locally; `cli_s3` (s3_main.rs) runs suites on a bucket.
pub const BLOBS_ON_S3: bool = false;

mod aws_fixture;
mod http_server;
mod json;
mod serve_util;
mod util;

mod browser;
mod citations;
mod cite_choice;
mod cli_surface;
mod corpus;
mod export_log;
mod format_v2;
mod interop;
mod noise;
mod ota;
mod packages;
mod process;
mod provenance_cli;
mod repack_cli;
mod serve;
mod serve_access;
mod serve_pages;
mod serve_rest;
// i12-speed: evidence checks reused for --recheck-after, cached pages and raw bytes.
mod serve_speed;
mod store_cli;
mod text_cli;
mod tlog;
mod typed_args;
mod url_capture;
mod version_pass;
mod versions;
mod warc_revisit;
