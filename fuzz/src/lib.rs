//! Fuzz target bodies; see `harness.rs`.
pub mod harness;
