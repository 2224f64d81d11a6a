//! Tree heads and proofs from stored complete subtrees.
//!
//! **Storage choice.** A log stores, for every *complete* subtree, its hash as soon as the
//! subtree is complete: level 0 holds the leaf hashes, level `l` the hash of leaves
//! `[i·2^l, (i+1)·2^l)` once the last of them is appended. Appending leaf `n` therefore writes
//! the leaf hash plus one node per trailing 1-bit of `n` (two writes on average, at most 64),
//! reading only those nodes' left siblings ([`append`]). Every hash RFC 6962 needs, `MTH` of any
//! range the proof algorithms visit, is one stored node or a fold of at most 64 of them, so a
//! tree head or a proof costs O(log² n) node reads and O(log n) memory whatever the size.

use std::collections::HashMap;

use crate::error::TreeError;
use crate::hash::{empty_root, leaf_hash, node_hash, Hash};

/// The complete subtree at `level` covering leaves `[index·2^level, (index+1)·2^level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

/// Where the hashes of complete subtrees are kept (a key-value store, a vector).
pub trait NodeReader {
    type Error;
    /// The stored hash of a complete subtree. Asked only for subtrees of the tree being read.
    fn node(&self, id: NodeId) -> Result<Hash, Self::Error>;
}

/// The nodes to store when the leaf with hash `leaf` is appended to a tree of `size` leaves:
/// the leaf itself and every subtree it completes, lowest first.
pub fn append<R: NodeReader>(
    reader: &R,
    size: u64,
    leaf: Hash,
) -> Result<Vec<(NodeId, Hash)>, R::Error> {
    let mut index = size;
    let mut level = 0u8;
    let mut hash = leaf;
    let mut out = vec![(NodeId { level, index }, hash)];
    while index & 1 == 1 {
        let left = reader.node(NodeId {
            level,
            index: index - 1,
        })?;
        hash = node_hash(&left, &hash);
        level += 1;
        index >>= 1;
        out.push((NodeId { level, index }, hash));
    }
    Ok(out)
}

/// The tree head (`MTH`) of the first `size` leaves.
pub fn root<R: NodeReader>(reader: &R, size: u64) -> Result<Hash, R::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    subtree(reader, 0, size)
}

/// The RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves: sibling
/// hashes from the leaf's up to the root's child.
pub fn inclusion_proof<R: NodeReader>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(reader, index, 0, size, &mut out).map_err(TreeError::Source)?;
    Ok(out)
}

/// The RFC 9162 §2.1.4.1 consistency proof between the trees of `old` and `new` leaves (empty
/// when `old` is 0 or equals `new`).
pub fn consistency_proof<R: NodeReader>(
    reader: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if old > new {
        return Err(TreeError::SizeOutOfRange { old, new });
    }
    let mut out = Vec::new();
    if old > 0 && old < new {
        subproof(reader, old, 0, new, true, &mut out).map_err(TreeError::Source)?;
    }
    Ok(out)
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[start : start+len])`, len ≥ 1, for the ranges the RFC's recursion visits: their left
/// halves are always complete, aligned subtrees.
fn subtree<R: NodeReader>(reader: &R, start: u64, len: u64) -> Result<Hash, R::Error> {
    if len.is_power_of_two() && start.is_multiple_of(len) {
        return reader.node(NodeId {
            level: len.trailing_zeros() as u8,
            index: start / len,
        });
    }
    let k = split(len);
    let left = subtree(reader, start, k)?;
    let right = subtree(reader, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// `PATH(m, D[start : start+n])`.
fn path<R: NodeReader>(
    reader: &R,
    m: u64,
    start: u64,
    n: u64,
    out: &mut Vec<Hash>,
) -> Result<(), R::Error> {
    if n == 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(reader, m, start, k, out)?;
        out.push(subtree(reader, start + k, n - k)?);
    } else {
        path(reader, m - k, start + k, n - k, out)?;
        out.push(subtree(reader, start, k)?);
    }
    Ok(())
}

/// `SUBPROOF(m, D[start : start+n], b)`.
fn subproof<R: NodeReader>(
    reader: &R,
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), R::Error> {
    if m == n {
        if !complete {
            out.push(subtree(reader, start, n)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(reader, m, start, k, complete, out)?;
        out.push(subtree(reader, start + k, n - k)?);
    } else {
        subproof(reader, m - k, start + k, n - k, false, out)?;
        out.push(subtree(reader, start, k)?);
    }
    Ok(())
}

/// A tree kept in memory (tests, tools): every complete subtree's hash, level by level.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

/// A node a [`MemoryTree`] was asked for but does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no node at level {} index {}", .0.level, .0.index)]
pub struct MissingNode(pub NodeId);

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf (its bytes, hashed here); returns its index.
    pub fn push(&mut self, leaf: &[u8]) -> u64 {
        self.push_hash(leaf_hash(leaf))
    }

    /// Appends a leaf by its hash; returns its index.
    pub fn push_hash(&mut self, hash: Hash) -> u64 {
        let size = self.size();
        let nodes = append(self, size, hash).expect("a memory tree holds every left sibling");
        for (id, hash) in nodes {
            let level = usize::from(id.level);
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
        }
        size
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }
}

impl NodeReader for MemoryTree {
    type Error = MissingNode;
    fn node(&self, id: NodeId) -> Result<Hash, MissingNode> {
        usize::try_from(id.index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(id.level))?.get(i))
            .copied()
            .ok_or(MissingNode(id))
    }
}

/// Nodes about to be stored, read before the store (several appends in one batch).
pub struct PendingNodes<'a, R> {
    pub inner: &'a R,
    pub pending: HashMap<NodeId, Hash>,
}

impl<'a, R: NodeReader> PendingNodes<'a, R> {
    pub fn new(inner: &'a R) -> Self {
        Self {
            inner,
            pending: HashMap::new(),
        }
    }
}

impl<R: NodeReader> NodeReader for PendingNodes<'_, R> {
    type Error = R::Error;
    fn node(&self, id: NodeId) -> Result<Hash, R::Error> {
        match self.pending.get(&id) {
            Some(hash) => Ok(*hash),
            None => self.inner.node(id),
        }
    }
}
