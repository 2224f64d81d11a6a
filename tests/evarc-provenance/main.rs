//! Integration tests of evarc-provenance: IDs, text extraction, anchoring and citations.

mod anchor;
mod cite;
mod citing;
mod csl_schema;
mod documents;
mod fixture;
mod id;
mod leaf_vectors;
mod privacy;
mod text;
mod version_pass;
mod versions;
