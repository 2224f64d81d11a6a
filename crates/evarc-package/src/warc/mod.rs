//! WARC 1.1 (ISO 28500:2017): writing an export, reading records back.

pub mod read;
pub mod write;

mod http;
mod source;
