//! Integration tests of evarc-provenance: IDs, text extraction, anchoring and citations.

// The provenance tests look at the store underneath (clippy.toml keeps front ends off it).
#![allow(clippy::disallowed_methods)]

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
