//! Torture for evarc (issue 6): crashes, corruption, concurrency and hostile files.
//!
//! The `evarc-torture` binary runs the long forms by hand; `tests/evarc-reliability` runs bounded
//! forms in CI. docs/reliability.md records the figures and the commands that produced them.
//! Every random choice comes from a seeded generator whose seed is printed.

// Torture checks the store itself, beside provenance (clippy.toml keeps front ends off it).
#![allow(clippy::disallowed_methods)]

pub mod concurrency;
pub mod corrupt;
pub mod crash;
pub mod evarc;
pub mod flips;
pub mod hostile;
pub mod repack;
pub mod rng;
pub mod state;
pub mod workload;
