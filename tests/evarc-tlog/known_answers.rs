//! The RFC 6962 reference tree (vectors/rfc6962.json, with its source noted inside).

use evarc_tlog::{
    consistency_proof, empty_root, inclusion_proof, root, verify_consistency, verify_inclusion,
    Hash, MemoryTree,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    leaves: Vec<String>,
    empty_root: String,
    roots: Vec<String>,
    inclusion: Vec<Inclusion>,
    consistency: Vec<Consistency>,
}

#[derive(Deserialize)]
struct Inclusion {
    index: u64,
    size: u64,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct Consistency {
    old: u64,
    new: u64,
    proof: Vec<String>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("vectors/rfc6962.json")).expect("vectors parse")
}

fn h(text: &str) -> Hash {
    hex::decode(text)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

fn hashes(texts: &[String]) -> Vec<Hash> {
    texts.iter().map(|t| h(t)).collect()
}

fn tree(v: &Vectors) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in &v.leaves {
        tree.push(&hex::decode(leaf).expect("hex"));
    }
    tree
}

#[test]
fn roots_of_every_prefix_match_the_reference() {
    let v = vectors();
    let tree = tree(&v);
    assert_eq!(empty_root(), h(&v.empty_root));
    assert_eq!(root(&tree, 0).expect("root"), h(&v.empty_root));
    for (i, expected) in v.roots.iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(
            hex::encode(root(&tree, size).expect("root")),
            *expected,
            "size {size}"
        );
    }
}

#[test]
fn inclusion_proofs_match_and_verify() {
    let v = vectors();
    let tree = tree(&v);
    for case in &v.inclusion {
        let proof = inclusion_proof(&tree, case.index, case.size).expect("proof");
        assert_eq!(
            proof,
            hashes(&case.proof),
            "leaf {} of {}",
            case.index,
            case.size
        );
        let leaf =
            evarc_tlog::leaf_hash(&hex::decode(&v.leaves[case.index as usize]).expect("hex"));
        let head = h(&v.roots[case.size as usize - 1]);
        verify_inclusion(case.index, case.size, &leaf, &proof, &head).expect("verifies");
        // Every corruption fails.
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i][0] ^= 8;
            assert!(verify_inclusion(case.index, case.size, &leaf, &bad, &head).is_err());
        }
        assert!(verify_inclusion(case.index + 1, case.size, &leaf, &proof, &head).is_err());
        assert!(verify_inclusion(case.index, case.size * 2, &leaf, &proof, &head).is_err());
        let mut longer = proof.clone();
        longer.push(head);
        assert!(verify_inclusion(case.index, case.size, &leaf, &longer, &head).is_err());
        if !proof.is_empty() {
            let shorter = &proof[..proof.len() - 1];
            assert!(verify_inclusion(case.index, case.size, &leaf, shorter, &head).is_err());
        }
    }
}

#[test]
fn consistency_proofs_match_and_verify() {
    let v = vectors();
    let tree = tree(&v);
    for case in &v.consistency {
        let proof = consistency_proof(&tree, case.old, case.new).expect("proof");
        assert_eq!(proof, hashes(&case.proof), "{} → {}", case.old, case.new);
        let old = h(&v.roots[case.old as usize - 1]);
        let new = h(&v.roots[case.new as usize - 1]);
        verify_consistency(case.old, case.new, &old, &new, &proof).expect("verifies");
        if proof.is_empty() {
            continue;
        }
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i][0] ^= 16;
            assert!(verify_consistency(case.old, case.new, &old, &new, &bad).is_err());
        }
        assert!(verify_consistency(case.old, case.new, &new, &old, &proof).is_err());
        assert!(verify_consistency(case.old, case.new, &old, &new, &[]).is_err());
        assert!(verify_consistency(case.old, case.new, &old, &new, &proof[1..]).is_err());
        let mut longer = proof.clone();
        longer.push(old);
        assert!(verify_consistency(case.old, case.new, &old, &new, &longer).is_err());
    }
}
