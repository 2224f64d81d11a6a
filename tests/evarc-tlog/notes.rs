//! Signed notes, keys, checkpoints and proof files.

use evarc_tlog::note::{key_id, Signer, Verifier};
use evarc_tlog::proof::{ConsistencyProof, InclusionProof};
use evarc_tlog::{Checkpoint, NoteError};

fn signer() -> Signer {
    Signer::from_seed("example.com/log", [7u8; 32]).expect("signer")
}

#[test]
fn key_ids_follow_the_signed_note_recipe() {
    let s = signer();
    // SHA-256("example.com/log" ‖ 0x0A ‖ 0x01 ‖ public key)[:4], computed independently.
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(b"example.com/log\n\x01");
    h.update(s.public_key());
    let d = h.finalize();
    assert_eq!(s.key_id(), u32::from_be_bytes([d[0], d[1], d[2], d[3]]));
    assert_eq!(key_id("example.com/log", &s.public_key()), s.key_id());
}

#[test]
fn keys_round_trip_in_the_go_note_text_forms() {
    let s = signer();
    let text = s.to_text();
    assert!(text.starts_with("PRIVATE+KEY+example.com/log+"), "{text}");
    assert_eq!(
        Signer::parse(&text).expect("parse").public_key(),
        s.public_key()
    );
    let vkey = s.verifier().to_string();
    assert_eq!(
        vkey.split('+').nth(1),
        Some(format!("{:08x}", s.key_id()).as_str())
    );
    assert_eq!(Verifier::parse(&vkey).expect("parse"), s.verifier());
    // A key ID that does not match its key is refused.
    let mut wrong = vkey.clone();
    wrong.replace_range(
        vkey.find('+').expect("+") + 1..vkey.find('+').expect("+") + 2,
        "z",
    );
    assert!(Verifier::parse(&wrong).is_err());
    assert!(Signer::from_seed("has space", [1; 32]).is_err());
    assert!(Signer::from_seed("has+plus", [1; 32]).is_err());
}

#[test]
fn signed_checkpoints_verify_and_tampering_is_caught() {
    let s = signer();
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: 42,
        root: [9u8; 32],
        extensions: vec![],
    };
    let note = cp.sign(&s).expect("sign");
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(lines[0], "example.com/log");
    assert_eq!(lines[1], "42");
    assert_eq!(lines[2], cp.root_base64());
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("\u{2014} example.com/log "));
    assert_eq!(lines.len(), 5);
    assert_eq!(Checkpoint::open(&note, &s.verifier()).expect("open"), cp);

    let forged = note.replacen("\n42\n", "\n43\n", 1);
    assert!(matches!(
        Checkpoint::open(&forged, &s.verifier()),
        Err(NoteError::BadSignature { .. })
    ));
    let other = Signer::from_seed("example.com/log", [8u8; 32]).expect("other");
    assert!(matches!(
        Checkpoint::open(&note, &other.verifier()),
        Err(NoteError::NoSignature { .. })
    ));
    // Signatures of unknown keys are ignored; a known one still verifies.
    let cosigned = format!("{note}\u{2014} witness.example AAAAAAAA\n");
    assert!(Checkpoint::open(&cosigned, &s.verifier()).is_ok());
}

#[test]
fn proof_files_round_trip() {
    let s = signer();
    let cp = Checkpoint {
        origin: "example.com/log".into(),
        size: 3,
        root: [1u8; 32],
        extensions: vec![],
    }
    .sign(&s)
    .expect("sign");
    let proof = InclusionProof {
        extra: Some(b"{\"leaf\":1}".to_vec()),
        index: 2,
        hashes: vec![[3u8; 32], [4u8; 32]],
        checkpoint: cp.clone(),
    };
    let text = proof.to_text();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra eyJsZWFmIjoxfQ==\nindex 2\n"));
    assert!(text.ends_with(&format!("\n\n{cp}")));
    assert_eq!(InclusionProof::parse(&text).expect("parse"), proof);
    let bare = InclusionProof {
        extra: None,
        hashes: vec![],
        ..proof
    };
    assert_eq!(InclusionProof::parse(&bare.to_text()).expect("parse"), bare);
    assert!(InclusionProof::parse(&bare.to_text().replace("index 2", "index 02")).is_err());

    let consistency = ConsistencyProof {
        old_size: 1,
        hashes: vec![[5u8; 32]],
        checkpoint: cp,
    };
    assert_eq!(
        ConsistencyProof::parse(&consistency.to_text()).expect("parse"),
        consistency
    );
}
