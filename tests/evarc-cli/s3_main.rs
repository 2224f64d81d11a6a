//! The key CLI suites again, with every archive's snapshot bytes in a bucket of a real S3
//! server (`s3s-fs`, see tests/s3_server.rs): the same tests as in `cli`, not copies —
//! `util::Env::new` inits each archive with `--blobs` here (issue 14). Plus the tests only a
//! bucket has (`s3_cli`: restore, replicate, repair, gc, failures of the server).
//!
//! Without s3s-fs the suites run locally and say so; `EVARC_REQUIRE_S3=1` (CI) makes that an
//! error.

#[path = "../s3_server.rs"]
mod s3_server;
/// Archives of this binary keep their snapshot bytes on the S3 server.
pub const BLOBS_ON_S3: bool = true;

mod aws_fixture;
#[allow(dead_code)] // Not every helper is used by these suites.
mod json;
mod util;

mod citations;
mod provenance_cli;
mod s3_cli;
mod s3_owner;
mod s3_repack;
mod s3_repair;
mod store_cli;
