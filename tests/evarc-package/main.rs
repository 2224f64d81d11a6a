//! Integration tests of evarc-package: WARC, WACZ and BagIt exports, the WARC reader, path
//! safety, and the ecosystem's validators (warcio, wacz, bagit.py) when installed.

mod bagit;
mod fixture;
mod read;
mod safe;
mod validators;
mod wacz;
mod warc;
