//! What a reader checks with a proof file, a checkpoint and the log's public key (`evarc
//! verify-proof`, docs/transparency-log.md): every failure is a [`ProofRejected`] saying which
//! check failed. Reading the files and naming them is the caller's.

use crate::checkpoint::Checkpoint;
use crate::error::ProofRejected;
use crate::hash::leaf_hash;
use crate::note::Verifier;
use crate::proof::{ConsistencyProof, InclusionProof};
use crate::verify::{verify_consistency, verify_inclusion};

/// Opens a checkpoint with the log's key; `what` names it in the error (e.g. its file).
pub fn open_checkpoint(
    note: &str,
    verifier: &Verifier,
    what: impl Into<String>,
) -> Result<Checkpoint, ProofRejected> {
    Checkpoint::open(note, verifier).map_err(|source| ProofRejected::Checkpoint {
        what: what.into(),
        source,
    })
}

const PROOF_CHECKPOINT: &str = "the proof's checkpoint";

impl ConsistencyProof {
    /// Checks that the tree of the checkpoint `given` is a prefix of the tree of the proof's
    /// own checkpoint: that one is signed by `verifier`, the proof starts at `given`'s size and
    /// leads to both roots. Returns the proof's (newer) checkpoint.
    pub fn check(
        &self,
        given: &Checkpoint,
        verifier: &Verifier,
    ) -> Result<Checkpoint, ProofRejected> {
        let new = open_checkpoint(&self.checkpoint, verifier, PROOF_CHECKPOINT)?;
        if self.old_size != given.size {
            return Err(ProofRejected::ConsistencyStart {
                proof_old_size: self.old_size,
                checkpoint_size: given.size,
            });
        }
        verify_consistency(given.size, new.size, &given.root, &new.root, &self.hashes)
            .map_err(ProofRejected::Consistency)?;
        Ok(new)
    }
}

impl InclusionProof {
    /// The proof's checkpoint, signed by `verifier` and the same as the checkpoint `given`.
    pub fn check_head(
        &self,
        given: &Checkpoint,
        verifier: &Verifier,
    ) -> Result<Checkpoint, ProofRejected> {
        let head = open_checkpoint(&self.checkpoint, verifier, PROOF_CHECKPOINT)?;
        if head != *given {
            return Err(ProofRejected::OtherCheckpoint {
                proof_size: head.size,
                proof_root: head.root_base64(),
                given_size: given.size,
                given_root: given.root_base64(),
            });
        }
        Ok(head)
    }

    /// The leaf to check: the record given (`name` names it), which must then be the leaf the
    /// proof carries if it carries one; else the carried leaf; `None` when there is neither.
    pub fn leaf<'a>(
        &'a self,
        record: Option<(&str, &'a [u8])>,
    ) -> Result<Option<&'a [u8]>, ProofRejected> {
        match (record, &self.extra) {
            (Some((name, leaf)), extra) => {
                if extra.as_deref().is_some_and(|e| e != leaf) {
                    return Err(ProofRejected::OtherLeaf {
                        record: name.to_owned(),
                    });
                }
                Ok(Some(leaf))
            }
            (None, Some(extra)) => Ok(Some(extra)),
            (None, None) => Ok(None),
        }
    }

    /// Checks that `leaf` (the leaf's bytes) is leaf [`InclusionProof::index`] of the tree of
    /// `head` (from [`InclusionProof::check_head`]).
    pub fn check_leaf(&self, head: &Checkpoint, leaf: &[u8]) -> Result<(), ProofRejected> {
        verify_inclusion(
            self.index,
            head.size,
            &leaf_hash(leaf),
            &self.hashes,
            &head.root,
        )
        .map_err(|source| ProofRejected::Inclusion {
            index: self.index,
            source,
        })
    }
}
