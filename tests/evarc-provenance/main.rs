//! Integration tests of evarc-provenance: IDs, text extraction, anchoring and citations.

mod anchor;
mod cite;
mod csl_schema;
mod fixture;
mod id;
mod text;
mod versions;
