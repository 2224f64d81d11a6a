//! Proof verification, exactly the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.

use crate::error::ProofError;
use crate::hash::{node_hash, Hash};

fn hex(h: &Hash) -> String {
    hex::encode(h)
}

/// Checks that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves with head `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength {
                expected: inclusion_len(index, size),
                actual: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength {
            expected: inclusion_len(index, size),
            actual: proof.len(),
        });
    }
    if &r != root {
        return Err(ProofError::RootMismatch {
            expected: hex(root),
            actual: hex(&r),
        });
    }
    Ok(())
}

/// The length of an inclusion proof (for error messages).
fn inclusion_len(index: u64, size: u64) -> usize {
    let (mut f, mut s, mut n) = (index, size - 1, 0);
    while s != 0 {
        if f & 1 == 0 && f == s {
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        }
        f >>= 1;
        s >>= 1;
        n += 1;
    }
    n
}

/// Checks that the tree of `old` leaves with head `old_root` is a prefix of the tree of `new`
/// leaves with head `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizeOutOfRange { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(ProofError::EqualSizeRootMismatch {
                size: old,
                first: hex(old_root),
                second: hex(new_root),
            });
        }
        return Ok(());
    }
    if old == 0 {
        // The empty tree is a prefix of every tree; the proof is empty.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength {
            expected: 1,
            actual: 0,
        });
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let mut fnode = old - 1;
    let mut snode = new - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if snode == 0 {
            return Err(ProofError::Malformed(format!(
                "{} hashes is too many for sizes {old} and {new}",
                proof.len()
            )));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::Malformed(format!(
            "{} hashes is too few for sizes {old} and {new}",
            proof.len()
        )));
    }
    if &fr != old_root {
        return Err(ProofError::RootMismatch {
            expected: hex(old_root),
            actual: hex(&fr),
        });
    }
    if &sr != new_root {
        return Err(ProofError::RootMismatch {
            expected: hex(new_root),
            actual: hex(&sr),
        });
    }
    Ok(())
}
