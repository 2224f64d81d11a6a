//! What a reader checks with a proof (`evarc_tlog::check`): each failure is the
//! `ProofRejected` variant naming the check, never a string.

use evarc_tlog::check::open_checkpoint;
use evarc_tlog::{
    consistency_proof, inclusion_proof, root, Checkpoint, ConsistencyProof, InclusionProof,
    MemoryTree, ProofRejected, Signer,
};

const ORIGIN: &str = "example.com/log";

fn signed(tree: &MemoryTree, size: u64, signer: &Signer) -> (Checkpoint, String) {
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size,
        root: root(tree, size).expect("root"),
        extensions: vec![],
    };
    let note = cp.sign(signer).expect("sign");
    (cp, note)
}

fn tree_of(n: u8) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..n {
        tree.push(&[i]);
    }
    tree
}

#[test]
fn an_inclusion_proof_verifies_and_each_wrong_part_is_named() {
    let signer = Signer::from_seed(ORIGIN, [7u8; 32]).expect("signer");
    let verifier = signer.verifier();
    let tree = tree_of(5);
    let (_, note) = signed(&tree, 5, &signer);
    let given = open_checkpoint(&note, &verifier, "checkpoint cp.txt").expect("opens");
    let proof = InclusionProof {
        extra: Some(vec![3]),
        index: 3,
        hashes: inclusion_proof(&tree, 3, 5).expect("proof"),
        checkpoint: note.clone(),
    };
    let head = proof
        .check_head(&given, &verifier)
        .expect("same checkpoint");
    let leaf = proof.leaf(None).expect("carried").expect("a leaf");
    assert_eq!(leaf, [3]);
    proof
        .check_leaf(&head, leaf)
        .expect("leaf 3 is in the tree");

    // Another leaf than the one carried; another leaf at that index.
    assert!(matches!(
        proof.leaf(Some(("leaf.json", &[4]))),
        Err(ProofRejected::OtherLeaf { record }) if record == "leaf.json"
    ));
    assert!(matches!(
        proof.check_leaf(&head, &[4]),
        Err(ProofRejected::Inclusion { index: 3, .. })
    ));
    // A checkpoint of another key; the proof against another tree.
    let other = Signer::from_seed(ORIGIN, [8u8; 32]).expect("other key");
    let err = open_checkpoint(&note, &other.verifier(), "checkpoint cp.txt").expect_err("key");
    assert!(err.to_string().starts_with("checkpoint cp.txt: "), "{err}");
    let (_, older) = signed(&tree, 4, &signer);
    let given_older = open_checkpoint(&older, &verifier, "older").expect("opens");
    assert!(matches!(
        proof.check_head(&given_older, &verifier),
        Err(ProofRejected::OtherCheckpoint {
            proof_size: 5,
            given_size: 4,
            ..
        })
    ));
    // No leaf carried and none given: nothing to check (the caller asks for one).
    let bare = InclusionProof {
        extra: None,
        ..proof
    };
    assert_eq!(bare.leaf(None).expect("no error"), None);
}

#[test]
fn a_consistency_proof_verifies_and_a_wrong_start_is_named() {
    let signer = Signer::from_seed(ORIGIN, [7u8; 32]).expect("signer");
    let verifier = signer.verifier();
    let tree = tree_of(7);
    let (_, old_note) = signed(&tree, 3, &signer);
    let (new_cp, new_note) = signed(&tree, 7, &signer);
    let given = open_checkpoint(&old_note, &verifier, "old").expect("opens");
    let proof = ConsistencyProof {
        old_size: 3,
        hashes: consistency_proof(&tree, 3, 7).expect("proof"),
        checkpoint: new_note,
    };
    assert_eq!(proof.check(&given, &verifier).expect("consistent"), new_cp);
    let (_, four) = signed(&tree, 4, &signer);
    let given_four = open_checkpoint(&four, &verifier, "four").expect("opens");
    assert!(matches!(
        proof.check(&given_four, &verifier),
        Err(ProofRejected::ConsistencyStart {
            proof_old_size: 3,
            checkpoint_size: 4
        })
    ));
    let tampered = ConsistencyProof {
        hashes: vec![[0u8; 32]; proof.hashes.len()],
        ..proof
    };
    assert!(matches!(
        tampered.check(&given, &verifier),
        Err(ProofRejected::Consistency(_))
    ));
}
