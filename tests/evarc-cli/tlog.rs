//! Issue 7: the transparency log. Keys, checkpoints, proofs verified offline, tampering below
//! the API detected, and RFC 3161 time-stamps from a local `openssl ts` authority.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use evarc_provenance::evarc_tlog::{self, Hash, NodeId, NodeReader};
use evarc_provenance::model::{Capture, Provision};

use crate::util::{path_str, Env};

const AT1: &str = "2026-01-01T00:00:00Z";
const AT2: &str = "2026-01-02T00:00:00Z";
const TEXT1: &[u8] = b"Terms, first version.\n";
const TEXT2: &[u8] = b"Terms, second version: data is kept for 30 days.\n";

/// An archive with two captures of CA-D-00001 and provision CA-P-000001 on the second.
pub(crate) fn archive() -> Env {
    let env = Env::new();
    for (name, bytes, at) in [("one.txt", TEXT1, AT1), ("two.txt", TEXT2, AT2)] {
        let file = env.write(name, bytes);
        env.evarc(&[
            "archive",
            path_str(&file),
            "--entity",
            "Example",
            "--document",
            "Terms",
            "--url",
            "https://example.com/terms",
            "--captured-at",
            at,
        ])
        .ok();
    }
    env.evarc(&[
        "provision",
        "add",
        "CA-D-00001",
        "--title",
        "Retention",
        "--quote",
        "data is kept for 30 days",
    ])
    .ok();
    env
}

fn key(env: &Env) -> String {
    env.evarc(&["key"]).ok().stdout_text().trim().to_owned()
}

/// `evarc checkpoint -o NAME`; returns the file.
fn checkpoint(env: &Env, name: &str) -> PathBuf {
    let path = env.path().join(name);
    env.evarc(&["checkpoint", "-o", path_str(&path)]).ok();
    path
}

fn prove(env: &Env, args: &[&str], name: &str) -> PathBuf {
    let path = env.path().join(name);
    let mut all = vec!["prove"];
    all.extend_from_slice(args);
    all.extend(["-o", path_str(&path)]);
    env.evarc(&all).ok();
    path
}

fn verify(env: &Env, proof: &Path, checkpoint: &Path, key: &str) -> crate::util::Run {
    env.command()
        .args(["verify-proof", "--proof", path_str(proof)])
        .args(["--checkpoint", path_str(checkpoint), "--key", key])
        .output()
        .map(|o| crate::util::Run::from_output(env, &["verify-proof"], o))
        .expect("run evarc")
}

#[test]
fn init_creates_a_private_key_and_key_prints_the_verifier_key() {
    let env = Env::new();
    let file = env.archive().join(evarc_provenance::SIGNING_KEY_FILE);
    let text = std::fs::read_to_string(&file).expect("key file");
    assert!(text.starts_with("PRIVATE+KEY+evarc/"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let vkey = key(&env);
    let verifier = evarc_tlog::Verifier::parse(&vkey).expect("a C2SP verifier key");
    assert!(verifier.name().starts_with("evarc/"));
    assert_eq!(key(&env), vkey, "the key is stable");
}

#[test]
fn proofs_of_captures_and_provisions_verify_offline() {
    let env = archive();
    let cp = checkpoint(&env, "cp.txt");
    let note = std::fs::read_to_string(&cp).expect("checkpoint");
    let lines: Vec<&str> = note.lines().collect();
    assert_eq!(
        lines[1], "4",
        "two captures, the change record of their text and one provision: {note}"
    );
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with("\u{2014} evarc/"));
    let vkey = key(&env);

    let doc = prove(&env, &["CA-D-00001"], "doc.tlog-proof");
    let text = std::fs::read_to_string(&doc).expect("proof");
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");
    assert!(
        text.contains("\nindex 1\n"),
        "the latest capture is leaf 1: {text}"
    );
    assert!(text.ends_with(&format!("\n\n{note}")));
    let run = verify(&env, &doc, &cp, &vkey).ok();
    assert!(run
        .stdout_text()
        .starts_with("verified: capture of CA-D-00001"));

    let prov = prove(&env, &["CA-P-000001"], "prov.tlog-proof");
    verify(&env, &prov, &cp, &vkey).ok();
    let first = prove(&env, &["--capture", &sha(TEXT1)], "first.tlog-proof");
    assert!(std::fs::read_to_string(&first)
        .expect("proof")
        .contains("\nindex 0\n"));
    verify(&env, &first, &cp, &vkey).ok();

    // The bytes themselves can be checked against the logged SHA-256.
    let bytes = env.write("exhibit.txt", TEXT2);
    env.command()
        .args([
            "verify-proof",
            "--proof",
            path_str(&prov),
            "--checkpoint",
            path_str(&cp),
        ])
        .args(["--key", &vkey, "--bytes", path_str(&bytes)])
        .status()
        .map(|s| assert!(s.success()))
        .expect("run");
    let wrong = env.write("wrong.txt", TEXT1);
    let status = env
        .command()
        .args([
            "verify-proof",
            "--proof",
            path_str(&prov),
            "--checkpoint",
            path_str(&cp),
        ])
        .args(["--key", &vkey, "--bytes", path_str(&wrong)])
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(1));

    // Another archive's key does not verify this log's checkpoint.
    let other = Env::new();
    verify(&env, &doc, &cp, &key(&other)).code(1);
    // A forged checkpoint does not verify.
    let forged = env.write("forged.txt", note.replacen("\n4\n", "\n5\n", 1).as_bytes());
    verify(&env, &doc, &forged, &vkey).code(1);
}

#[test]
fn the_provenance_citation_names_the_checkpoint_once_one_covers_the_record() {
    let env = archive();
    let cite = |id: &str| {
        env.evarc(&["cite", id, "--format", "provenance"])
            .ok()
            .stdout_text()
    };
    assert!(!cite("CA-P-000001").contains("Checkpoint:"));
    let cp = checkpoint(&env, "cp.txt");
    let note = std::fs::read_to_string(&cp).expect("checkpoint");
    let lines: Vec<&str> = note.lines().collect();
    let text = cite("CA-P-000001");
    let expected = format!("Checkpoint: {} {} {}\n", lines[0], lines[1], lines[2]);
    assert!(text.contains(&expected), "{text}");
    assert!(text.ends_with("Evidence: ✓ Snapshot stored ✓ Hash verified\n"));
    // A record added after the latest checkpoint is not proven by it yet.
    let file = env.write("three.txt", b"Third.\n");
    env.evarc(&["archive", path_str(&file), "--document", "CA-D-00001"])
        .ok();
    assert!(!cite("CA-D-00001").contains("Checkpoint:"));
}

#[test]
fn a_folded_recapture_appends_no_leaf() {
    let env = archive();
    let again = env.write("again.txt", TEXT2);
    env.evarc(&[
        "archive",
        path_str(&again),
        "--document",
        "CA-D-00001",
        "--captured-at",
        "2026-02-01T00:00:00Z",
    ])
    .ok();
    let cp = checkpoint(&env, "cp.txt");
    let note = std::fs::read_to_string(&cp).expect("checkpoint");
    // Two captures, their text's change record, one provision: the fold adds nothing.
    assert_eq!(note.lines().nth(1), Some("4"), "{note}");
}

#[test]
fn consistency_proofs_verify_between_checkpoints() {
    let env = archive();
    let old = checkpoint(&env, "old.txt");
    let file = env.write("three.txt", b"Third.\n");
    env.evarc(&["archive", path_str(&file), "--document", "CA-D-00001"])
        .ok();
    checkpoint(&env, "new.txt");
    let proof = prove(&env, &["--consistency", path_str(&old)], "c.proof");
    let text = std::fs::read_to_string(&proof).expect("proof");
    assert!(
        text.starts_with("evarc.tlog-consistency@v1\nold 4\n"),
        "{text}"
    );
    let run = verify(&env, &proof, &old, &key(&env)).ok();
    assert!(run
        .stdout_text()
        .contains("of 4 leaves is a prefix of its tree of 6 leaves"));
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

// ---- Tampering below the API (as tests/evarc-store/damage.rs does) ----

fn raw_db(path: &Path) -> rocksdb::DB {
    let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
    rocksdb::DB::open_cf(&rocksdb::Options::default(), path, cfs).expect("open raw")
}

fn records(db: &rocksdb::DB, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let cf = db.cf_handle("records").expect("cf");
    db.prefix_iterator_cf(cf, prefix)
        .map(|i| i.expect("iterate"))
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

struct Nodes(HashMap<NodeId, Hash>);

impl NodeReader for Nodes {
    type Error = String;
    fn node(&self, id: NodeId) -> Result<Hash, String> {
        self.0.get(&id).copied().ok_or_else(|| format!("{id:?}"))
    }
}

/// What a thorough forger does after changing records: rebuilds the whole log from `leaves`
/// so that it is self-consistent again (indices, nodes, size).
fn rebuild_log(db: &rocksdb::DB, leaves: &[(Vec<u8>, Vec<u8>)]) {
    let cf = db.cf_handle("records").expect("cf");
    for prefix in [
        &b"tlog/node/"[..],
        b"tlog/leaf/",
        b"tlog/ix/",
        b"tlog/checkpoint/",
    ] {
        for (k, _) in records(db, prefix) {
            db.delete_cf(cf, k).expect("delete");
        }
    }
    let mut nodes = Nodes(HashMap::new());
    for (i, (record_key, leaf)) in leaves.iter().enumerate() {
        let i = i as u64;
        for (id, hash) in
            evarc_tlog::append(&nodes, i, evarc_tlog::leaf_hash(leaf)).expect("append")
        {
            let mut key = b"tlog/node/".to_vec();
            key.push(id.level);
            key.extend(id.index.to_be_bytes());
            db.put_cf(cf, key, hash).expect("put");
            nodes.0.insert(id, hash);
        }
        let mut key = b"tlog/leaf/".to_vec();
        key.extend(i.to_be_bytes());
        db.put_cf(cf, key, leaf).expect("put");
        let mut ix = b"tlog/ix/".to_vec();
        ix.extend(record_key);
        db.put_cf(cf, ix, i.to_be_bytes()).expect("put");
    }
    db.put_cf(cf, "tlog/size", (leaves.len() as u64).to_be_bytes())
        .expect("put");
}

/// The (record key, leaf) pairs of the log, in order.
fn logged(db: &rocksdb::DB) -> Vec<(Vec<u8>, Vec<u8>)> {
    let index: HashMap<u64, Vec<u8>> = records(db, b"tlog/ix/")
        .into_iter()
        .map(|(k, v)| {
            let i = u64::from_be_bytes(v.try_into().expect("8 bytes"));
            (i, k[b"tlog/ix/".len()..].to_vec())
        })
        .collect();
    records(db, b"tlog/leaf/")
        .into_iter()
        .enumerate()
        .map(|(i, (_, leaf))| (index[&(i as u64)].clone(), leaf))
        .collect()
}

/// Rewrites the capture record with SHA-256 `find` with `change`; returns (key, new capture).
fn rewrite_capture(
    db: &rocksdb::DB,
    find: &str,
    change: impl Fn(&mut Capture),
) -> (Vec<u8>, Capture) {
    let cf = db.cf_handle("records").expect("cf");
    let (key, value) = records(db, b"cap/")
        .into_iter()
        .find(|(_, v)| String::from_utf8_lossy(v).contains(find))
        .expect("the second capture");
    let mut capture: Capture = serde_json::from_slice(&value).expect("capture");
    change(&mut capture);
    db.put_cf(cf, &key, serde_json::to_vec(&capture).expect("json"))
        .expect("put");
    (key, capture)
}

fn document_of(db: &rocksdb::DB) -> evarc_provenance::model::Document {
    let (_, value) = records(db, b"doc/").remove(0);
    serde_json::from_slice(&value).expect("document")
}

#[test]
fn a_rewritten_capture_hash_fails_its_proof_and_consistency() {
    let env = archive();
    let old = checkpoint(&env, "old.txt");
    let honest = prove(&env, &["CA-D-00001"], "honest.proof");
    let forged_sha = sha(b"forged bytes");
    {
        let db = raw_db(&env.archive());
        rewrite_capture(&db, &sha(TEXT2), |c| {
            c.sha256 = evarc_provenance::Sha256::from_hex(&forged_sha).expect("hex")
        });
    }
    // A record rewritten on its own no longer matches the log (its hash is part of its key).
    env.evarc(&["prove", "CA-D-00001"])
        .one_line_error(1, &["no leaf in the transparency log", "altered"]);
    // A forger who also rebuilds the log changes its tree head: the old checkpoint catches it.
    {
        let db = raw_db(&env.archive());
        let document = document_of(&db);
        let mut leaves = logged(&db);
        let (key, capture) = rewrite_capture(&db, &forged_sha, |_| {});
        // The record moves to the key its new hash gives (`cap/` doc · time · sha).
        let cf = db.cf_handle("records").expect("cf");
        let mut moved = key.clone();
        let n = moved.len();
        moved[n - 32..].copy_from_slice(&hex::decode(&forged_sha).expect("hex"));
        db.delete_cf(cf, &key).expect("delete");
        db.put_cf(cf, &moved, serde_json::to_vec(&capture).expect("json"))
            .expect("put");
        let entry = leaves.iter_mut().find(|(k, _)| *k == key).expect("logged");
        *entry = (moved, evarc_provenance::capture_leaf(&document, &capture));
        rebuild_log(&db, &leaves);
    }
    env.evarc(&["prove", "CA-D-00001", "--checkpoint", path_str(&old)])
        .one_line_error(1, &["the log was rewritten"]);
    env.evarc(&["checkpoint"]).ok();
    env.evarc(&["prove", "--consistency", path_str(&old)])
        .one_line_error(1, &["the log was rewritten"]);
    // The forged log's new proof does not verify against the old checkpoint, while the proof
    // taken before the forgery still does: the old checkpoint holder keeps the truth.
    let vkey = key(&env);
    let forged = prove(&env, &["CA-D-00001"], "forged.proof");
    verify(&env, &forged, &old, &vkey).code(1);
    verify(&env, &honest, &old, &vkey).ok();
}

#[test]
fn a_rewritten_capture_time_fails_its_proof() {
    let env = archive();
    let old = checkpoint(&env, "old.txt");
    {
        let db = raw_db(&env.archive());
        rewrite_capture(&db, &sha(TEXT2), |c| {
            c.captured_at = "2025-12-31T00:00:00Z".parse().expect("time");
        });
    }
    // A source URL is not part of the record's key: the leaf itself no longer matches.
    let env2 = archive();
    {
        let db = raw_db(&env2.archive());
        rewrite_capture(&db, &sha(TEXT2), |c| {
            c.source_url = "https://forged.example/".into()
        });
    }
    env2.evarc(&["prove", "CA-D-00001"])
        .one_line_error(1, &["no longer matches leaf 1", "altered"]);
    let err = env
        .evarc(&["prove", "CA-D-00001", "--checkpoint", path_str(&old)])
        .code(1)
        .stderr;
    assert!(err.contains("the record was altered"), "{err}");
}

#[test]
fn a_deleted_record_rewritten_out_of_the_log_fails_consistency() {
    let env = archive();
    let old = checkpoint(&env, "old.txt");
    let vkey = key(&env);
    let honest = prove(&env, &["CA-P-000001"], "prov.proof");
    {
        let db = raw_db(&env.archive());
        let cf = db.cf_handle("records").expect("cf");
        let (key, value) = records(&db, b"prov/").remove(0);
        let _: Provision = serde_json::from_slice(&value).expect("provision");
        db.delete_cf(cf, &key).expect("delete");
        let leaves: Vec<_> = logged(&db).into_iter().filter(|(k, _)| *k != key).collect();
        rebuild_log(&db, &leaves);
    }
    env.evarc(&["prove", "CA-P-000001"]).code(2);
    env.evarc(&["checkpoint"]).ok();
    env.evarc(&["prove", "--consistency", path_str(&old)])
        .one_line_error(1, &["the log was rewritten"]);
    env.evarc(&["prove", "CA-D-00001", "--checkpoint", path_str(&old)])
        .one_line_error(1, &["the log was rewritten"]);
    // The deleted provision's earlier proof still shows it was logged.
    verify(&env, &honest, &old, &vkey).ok();
}

// ---- Trusted time: a local RFC 3161 authority run by `openssl ts` ----

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A test CA and a TSA certificate (extendedKeyUsage timeStamping, critical), or None with the
/// reason when `openssl ts` cannot be used here.
pub(crate) fn tsa_setup(dir: &Path) -> Result<(), String> {
    if !openssl(dir, &["ts", "-help"]) && !openssl(dir, &["version"]) {
        return Err("no openssl".into());
    }
    let ok = openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ca.key",
        ],
    ) && openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=evarc test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    ) && openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "tsa.key",
        ],
    ) && openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "tsa.key",
            "-out",
            "tsa.csr",
            "-subj",
            "/CN=evarc test TSA",
        ],
    );
    if !ok {
        return Err("openssl could not create the test CA".into());
    }
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n",
    )
    .map_err(|e| e.to_string())?;
    if !openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "tsa.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    ) {
        return Err("openssl could not sign the TSA certificate".into());
    }
    std::fs::write(dir.join("serial"), "01\n").map_err(|e| e.to_string())?;
    let config = format!(
        "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = {}\nserial = $dir/serial\ncrypto_device = builtin\n\
         signer_cert = $dir/tsa.pem\nsigner_key = $dir/tsa.key\nsigner_digest = sha256\n\
         default_policy = 1.2.3.4.1\ndigests = sha256\naccuracy = secs:1\nordering = yes\n\
         tsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n",
        dir.display()
    );
    std::fs::write(dir.join("ts.cnf"), config).map_err(|e| e.to_string())?;
    Ok(())
}

/// Answers one POST with `openssl ts -reply` over its body; returns the URL.
pub(crate) fn serve_tsa(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/tsa", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("read head");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("content-length");
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).expect("read body");
        std::fs::write(dir.join("req.tsq"), &body).expect("write request");
        let ok = openssl(
            &dir,
            &[
                "ts",
                "-reply",
                "-config",
                "ts.cnf",
                "-queryfile",
                "req.tsq",
                "-out",
                "resp.tsr",
            ],
        );
        let reply = if ok {
            std::fs::read(dir.join("resp.tsr")).expect("response")
        } else {
            Vec::new()
        };
        let status = if ok {
            "200 OK"
        } else {
            "500 Internal Server Error"
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            reply.len()
        );
        let _ = stream.write_all(&reply);
    });
    url
}

#[test]
fn checkpoints_are_timestamped_by_an_rfc3161_authority() {
    let env = archive();
    let ca = env.path().join("ca");
    std::fs::create_dir_all(&ca).expect("mkdir");
    if let Err(reason) = tsa_setup(&ca) {
        eprintln!("skipped: openssl ts is not usable here: {reason}");
        return;
    }
    let url = serve_tsa(ca.clone());
    let cp = env.path().join("checkpoint.txt");
    let tsr = env.path().join("checkpoint.tsr");
    env.evarc(&[
        "checkpoint",
        "--tsa",
        &url,
        "-o",
        path_str(&cp),
        "--timestamp-out",
        path_str(&tsr),
    ])
    .ok();
    let verified = Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-data",
            path_str(&cp),
            "-in",
            path_str(&tsr),
        ])
        .args([
            "-CAfile",
            path_str(&ca.join("ca.pem")),
            "-untrusted",
            path_str(&ca.join("tsa.pem")),
        ])
        .output()
        .expect("openssl ts -verify");
    assert!(
        verified.status.success(),
        "openssl ts -verify: {}{}",
        String::from_utf8_lossy(&verified.stdout),
        String::from_utf8_lossy(&verified.stderr)
    );
    // A token over other data does not verify.
    let other = env.write("other.txt", b"not the checkpoint\n");
    let refused = Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-data",
            path_str(&other),
            "-in",
            path_str(&tsr),
        ])
        .args([
            "-CAfile",
            path_str(&ca.join("ca.pem")),
            "-untrusted",
            path_str(&ca.join("tsa.pem")),
        ])
        .output()
        .expect("openssl ts -verify");
    assert!(!refused.status.success());
}
