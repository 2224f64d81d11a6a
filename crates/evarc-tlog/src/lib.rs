//! The transparency log of evarc: an append-only RFC 6962 / RFC 9162 Merkle tree, checkpoints
//! signed in the C2SP signed-note form, and inclusion and consistency proofs in text layouts a
//! stranger can check offline. `docs/transparency-log.md` describes all of it.
//!
//! - [`hash`]: leaf and node hashing (`SHA-256(0x00 ‖ leaf)`, `SHA-256(0x01 ‖ left ‖ right)`).
//! - [`tree`]: tree heads and proofs computed from stored complete-subtree hashes
//!   ([`NodeReader`]), and what to store when a leaf is appended ([`append`]).
//! - [`verify`]: the RFC 9162 §2.1.3.2 and §2.1.4.2 verification algorithms.
//! - [`note`], [`checkpoint`]: C2SP signed-note (Ed25519) and tlog-checkpoint.
//! - [`proof`]: the C2SP tlog-proof layout for inclusion proofs, and evarc's consistency-proof
//!   layout built the same way.
//! - [`timestamp`]: RFC 3161 time-stamp requests and a first check of the responses.
//!
//! Architecture invariant: pure code. No storage engine, no clock, no network and no randomness:
//! keys, nonces and tree nodes are handed in by the caller.

pub mod check;
pub mod checkpoint;
mod error;
pub mod hash;
pub mod note;
pub mod proof;
pub mod timestamp;
pub mod tree;
pub mod verify;

pub use checkpoint::Checkpoint;
pub use error::{NoteError, ProofError, ProofRejected, TreeError};
pub use hash::{empty_root, leaf_hash, node_hash, Hash};
pub use note::{Signer, Verifier};
pub use proof::{ConsistencyProof, InclusionProof};
pub use tree::{append, consistency_proof, inclusion_proof, root, MemoryTree, NodeId, NodeReader};
pub use verify::{verify_consistency, verify_inclusion};
