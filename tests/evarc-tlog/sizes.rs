//! Proofs verify for trees of every size 1..=1000, against roots computed the RFC's way.

use evarc_tlog::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion, Hash, MemoryTree,
};

/// `MTH` straight from RFC 6962 §2.1, recursively over leaf hashes.
fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => evarc_tlog::empty_root(),
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}

fn leaf(i: u64) -> Vec<u8> {
    format!("leaf {i}").into_bytes()
}

#[test]
fn every_leaf_of_every_size_up_to_1000_is_proven() {
    let mut tree = MemoryTree::new();
    let mut leaves = Vec::new();
    let mut roots = vec![evarc_tlog::empty_root()];
    for size in 1..=1000u64 {
        tree.push(&leaf(size - 1));
        leaves.push(leaf_hash(&leaf(size - 1)));
        let head = root(&tree, size).expect("root");
        // The full reference recursion is quadratic overall; check it on a sample of sizes.
        if size <= 64 || size % 97 == 0 || size == 1000 {
            assert_eq!(head, reference_root(&leaves), "size {size}");
        }
        roots.push(head);
    }
    for size in 1..=1000u64 {
        let head = roots[size as usize];
        for index in 0..size {
            let proof = inclusion_proof(&tree, index, size).expect("proof");
            verify_inclusion(index, size, &leaves[index as usize], &proof, &head)
                .unwrap_or_else(|e| panic!("leaf {index} of {size}: {e}"));
        }
    }
}

#[test]
fn consistency_between_sizes_up_to_1000_is_proven() {
    let mut tree = MemoryTree::new();
    let mut roots = vec![evarc_tlog::empty_root()];
    for size in 1..=1000u64 {
        tree.push(&leaf(size - 1));
        roots.push(root(&tree, size).expect("root"));
    }
    // Every old size against a spread of new sizes (all pairs for small trees).
    for new in 1..=1000u64 {
        let olds: Vec<u64> = if new <= 100 {
            (0..=new).collect()
        } else {
            (0..=new)
                .step_by(37)
                .chain([new - 1, new, new / 2])
                .collect()
        };
        for old in olds {
            let proof = consistency_proof(&tree, old, new).expect("proof");
            verify_consistency(old, new, &roots[old as usize], &roots[new as usize], &proof)
                .unwrap_or_else(|e| panic!("{old} → {new}: {e}"));
            if old > 0 && old < new {
                let wrong = roots[old as usize - 1];
                assert!(
                    verify_consistency(old, new, &wrong, &roots[new as usize], &proof).is_err(),
                    "{old} → {new} accepted a wrong old root"
                );
            }
        }
    }
}

#[test]
fn proof_memory_stays_logarithmic_for_a_million_leaves() {
    // Only the complete-subtree nodes are kept; a proof reads O(log² n) of them.
    let mut tree = MemoryTree::new();
    for i in 0..(1u64 << 20) + 3 {
        tree.push_hash(leaf_hash(&i.to_be_bytes()));
    }
    let size = tree.size();
    let head = root(&tree, size).expect("root");
    for index in [0, 1, 524_287, size / 3, size - 1] {
        let proof = inclusion_proof(&tree, index, size).expect("proof");
        assert!(proof.len() <= 21);
        verify_inclusion(index, size, &leaf_hash(&index.to_be_bytes()), &proof, &head)
            .expect("verifies");
    }
    let old = 1_000_001;
    let proof = consistency_proof(&tree, old, size).expect("proof");
    verify_consistency(old, size, &root(&tree, old).expect("root"), &head, &proof).expect("ok");
}
