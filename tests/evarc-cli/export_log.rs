//! Issue 7, "exports include the record's inclusion proof, the checkpoint and the public key":
//! every package format carries the log evidence, and a record taken out of a package verifies
//! offline, in a fresh directory with no archive, with `evarc verify-proof` (and its checkpoint's
//! time-stamp with `openssl ts -verify`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use evarc_package::{ReaderOptions, WarcReader, WarcRecord};
use serde_json::Value;

use crate::packages::{validate, validators};
use crate::tlog::{archive, serve_tsa, tsa_setup};
use crate::util::{find, path_str, Env};

const IDS: [&str; 2] = ["CA-D-00001", "CA-P-000001"];

/// One proof taken out of a package, with the exported bytes of the capture it proves.
struct Proven {
    name: String,
    proof: Vec<u8>,
    bytes: Vec<u8>,
}

/// The evidence taken out of a package.
struct Evidence {
    checkpoint: Vec<u8>,
    key: Vec<u8>,
    timestamp: Option<Vec<u8>>,
    proofs: Vec<Proven>,
}

fn export(env: &Env, format: &str, name: &str) -> PathBuf {
    let path = env.path().join(name);
    let mut args = vec!["export"];
    args.extend(IDS);
    args.extend(["-f", format, "-o", path_str(&path)]);
    env.evarc(&args).ok();
    path
}

/// The leaf a proof carries in its `extra` line (JSON).
fn leaf(proof: &[u8]) -> Value {
    let text = String::from_utf8_lossy(proof);
    let extra = text
        .lines()
        .find_map(|l| l.strip_prefix("extra "))
        .expect("the proof carries its leaf");
    let json = base64::engine::general_purpose::STANDARD
        .decode(extra)
        .expect("base64 leaf");
    serde_json::from_slice(&json).expect("JSON leaf")
}

/// The SHA-256 of the capture bytes a leaf names.
fn leaf_sha(proof: &[u8]) -> String {
    let leaf = leaf(proof);
    leaf.get("sha256")
        .or_else(|| leaf.get("capture_sha256"))
        .and_then(Value::as_str)
        .expect("a leaf names its bytes")
        .to_owned()
}

/// Records of a plain `.warc`: lower-cased header fields and the block.
fn warc_records(bytes: &[u8]) -> Vec<(BTreeMap<String, String>, Vec<u8>)> {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let end = pos + find(&bytes[pos..], b"\r\n\r\n").expect("end of a WARC header");
        let headers: BTreeMap<String, String> = String::from_utf8_lossy(&bytes[pos..end])
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
            .collect();
        let len: usize = headers["content-length"].parse().expect("Content-Length");
        let start = end + 4;
        records.push((headers, bytes[start..start + len].to_vec()));
        pos = start + len + 4;
    }
    records
}

/// From a WARC: the `Evarc-Log` records, each proof tied to its capture record by
/// `WARC-Concurrent-To`.
fn from_warc(path: &Path) -> Evidence {
    let records = warc_records(&fs::read(path).expect("read the WARC"));
    let item = |name: &str| {
        records
            .iter()
            .find(|(h, _)| h.get("evarc-log").map(String::as_str) == Some(name))
            .map(|(_, block)| block.clone())
    };
    let by_id: BTreeMap<&str, &Vec<u8>> = records
        .iter()
        .map(|(h, block)| (h["warc-record-id"].as_str(), block))
        .collect();
    let proofs: Vec<Proven> = records
        .iter()
        .filter_map(|(h, block)| {
            let record = h.get("evarc-log")?.strip_prefix("inclusion-proof ")?;
            let capture = by_id[h["warc-concurrent-to"].as_str()];
            Some(Proven {
                name: format!("warc {record}"),
                proof: block.clone(),
                bytes: capture.clone(),
            })
        })
        .collect();
    Evidence {
        checkpoint: item("checkpoint").expect("a checkpoint record"),
        key: item("verifier-key").expect("a key record"),
        timestamp: item("timestamp"),
        proofs,
    }
}

/// From a WACZ: the files under `log/`, each proof's capture from the WACZ's own WARC.
fn from_wacz(path: &Path) -> Evidence {
    let mut zip = zip::ZipArchive::new(fs::File::open(path).expect("open the WACZ")).expect("ZIP");
    let mut files = BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("ZIP entry");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read a ZIP entry");
        files.insert(entry.name().to_owned(), bytes);
    }
    let mut captures = BTreeMap::new();
    let reader = WarcReader::new(
        Cursor::new(files["archive/data.warc.gz"].clone()),
        ReaderOptions::default(),
    )
    .expect("read the WACZ's WARC");
    for record in reader {
        if let Ok(WarcRecord::Capture(mut capture)) = record {
            let bytes = capture.payload.to_vec().expect("payload");
            captures.insert(capture.payload_sha256.clone(), bytes);
        }
    }
    let proofs = files
        .iter()
        .filter(|(name, _)| name.starts_with("log/") && name.ends_with(".tlog-proof"))
        .map(|(name, proof)| Proven {
            name: format!("wacz {name}"),
            proof: proof.clone(),
            bytes: captures[&leaf_sha(proof)].clone(),
        })
        .collect();
    Evidence {
        checkpoint: files["log/checkpoint.txt"].clone(),
        key: files["log/key.txt"].clone(),
        timestamp: files.get("log/checkpoint.tsr").cloned(),
        proofs,
    }
}

/// From a bag: `data/log/`, each proof's capture the payload file named after its SHA-256.
fn from_bag(dir: &Path) -> Evidence {
    let log = dir.join("data/log");
    let read = |name: &str| fs::read(log.join(name)).ok();
    let document = dir.join("data/CA-D-00001");
    let mut proofs = Vec::new();
    for entry in fs::read_dir(&log).expect("data/log") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "tlog-proof") {
            continue;
        }
        let proof = fs::read(&path).expect("read a proof");
        let sha = leaf_sha(&proof);
        let capture = fs::read_dir(&document)
            .expect("the document's folder")
            .map(|e| e.expect("entry").path())
            .find(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                name.is_some_and(|n| n.contains(&sha[..16]) && n.ends_with(".txt"))
            })
            .expect("the capture's payload file");
        proofs.push(Proven {
            name: format!("bag {}", path.display()),
            proof,
            bytes: fs::read(capture).expect("read the capture"),
        });
    }
    Evidence {
        checkpoint: read("checkpoint.txt").expect("data/log/checkpoint.txt"),
        key: read("key.txt").expect("data/log/key.txt"),
        timestamp: read("checkpoint.tsr"),
        proofs,
    }
}

/// `evarc verify-proof` in `fresh` (no archive anywhere) on the evidence: every proof
/// verifies with its exported bytes (exit 0) and fails with one byte changed (exit 1).
fn verify_offline(fresh: &Env, format: &str, evidence: &Evidence) {
    assert_eq!(
        evidence.proofs.len(),
        3,
        "{format}: two captures and a provision"
    );
    let checkpoint = fresh.write(&format!("{format}/checkpoint.txt"), &evidence.checkpoint);
    let key = fresh.write(&format!("{format}/key.txt"), &evidence.key);
    for (i, proven) in evidence.proofs.iter().enumerate() {
        let proof = fresh.write(&format!("{format}/{i}.tlog-proof"), &proven.proof);
        let bytes = fresh.write(&format!("{format}/{i}.bytes"), &proven.bytes);
        let run = |bytes: &Path| {
            fresh
                .command()
                .args(["verify-proof", "--proof", path_str(&proof)])
                .args(["--checkpoint", path_str(&checkpoint)])
                .args(["--key", path_str(&key), "--bytes", path_str(bytes)])
                .output()
                .expect("run evarc verify-proof")
        };
        let ok = run(&bytes);
        assert_eq!(
            ok.status.code(),
            Some(0),
            "{}: {}",
            proven.name,
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(String::from_utf8_lossy(&ok.stdout).contains("the bytes given hash"));
        let mut tampered = proven.bytes.clone();
        tampered[0] ^= 0x01;
        let tampered = fresh.write(&format!("{format}/{i}.tampered"), &tampered);
        let failed = run(&tampered);
        assert_eq!(
            failed.status.code(),
            Some(1),
            "{}: a changed byte must fail",
            proven.name
        );
    }
}

/// `openssl ts -verify` of the exported token over the exported checkpoint.
fn verify_timestamp(fresh: &Env, format: &str, evidence: &Evidence, ca: &Path) {
    let tsr = evidence
        .timestamp
        .as_ref()
        .unwrap_or_else(|| panic!("{format}: the checkpoint's time-stamp is missing"));
    let data = fresh.write(&format!("{format}/checkpoint.txt"), &evidence.checkpoint);
    let tsr = fresh.write(&format!("{format}/checkpoint.tsr"), tsr);
    let output = Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-data",
            path_str(&data),
            "-in",
            path_str(&tsr),
        ])
        .args(["-CAfile", path_str(&ca.join("ca.pem"))])
        .args(["-untrusted", path_str(&ca.join("tsa.pem"))])
        .output()
        .expect("openssl ts -verify");
    assert!(
        output.status.success(),
        "{format}: openssl ts -verify: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn exported_records_verify_offline_from_every_package() {
    let env = archive();
    let ca = env.path().join("ca");
    fs::create_dir_all(&ca).expect("mkdir");
    let stamped = match tsa_setup(&ca) {
        Ok(()) => {
            let url = serve_tsa(ca.clone());
            env.evarc(&["checkpoint", "--tsa", &url]).ok();
            true
        }
        Err(reason) => {
            eprintln!("time-stamp checks skipped: openssl ts is not usable here: {reason}");
            env.evarc(&["checkpoint"]).ok();
            false
        }
    };
    let warc = export(&env, "warc", "out.warc");
    let warc_gz = export(&env, "warc", "out.warc.gz");
    let wacz = export(&env, "wacz", "out.wacz");
    let bag = export(&env, "bagit", "bag");
    if let Some(bin) = validators() {
        for path in [&warc, &warc_gz] {
            validate(&bin, "warcio", &["check", "-v", path_str(path)]);
        }
        validate(&bin, "wacz", &["validate", "-f", path_str(&wacz)]);
        validate(&bin, "bagit.py", &["--validate", path_str(&bag)]);
    }

    // Another machine: a fresh directory, no archive, only the package's contents.
    let fresh = Env::empty();
    for (format, evidence) in [
        ("warc", from_warc(&warc)),
        ("wacz", from_wacz(&wacz)),
        ("bagit", from_bag(&bag)),
    ] {
        verify_offline(&fresh, format, &evidence);
        if stamped {
            verify_timestamp(&fresh, format, &evidence, &ca);
        }
    }
    assert!(
        !fresh.archive().exists() && !fresh.path().join("env-archive-never-used").exists(),
        "verify-proof opened no archive"
    );
}

#[test]
fn exports_with_evidence_are_reproducible_and_say_what_they_carry() {
    let env = archive();
    // No checkpoint yet: exported as before, and the summary says so.
    let bare = env.path().join("bare.warc");
    let run = env
        .evarc(&["export", IDS[0], "-f", "warc", "-o", path_str(&bare)])
        .ok();
    assert!(
        run.stdout_text()
            .contains("transparency log: no checkpoint covers these records"),
        "{}",
        run.stdout_text()
    );
    assert!(find(&fs::read(&bare).expect("read"), b"Evarc-Log").is_none());

    env.evarc(&["checkpoint"]).ok();
    for (format, a, b) in [
        ("warc", "a.warc.gz", "b.warc.gz"),
        ("wacz", "a.wacz", "b.wacz"),
        ("bagit", "bag-a", "bag-b"),
    ] {
        let (a, b) = (export(&env, format, a), export(&env, format, b));
        assert_eq!(
            tree_or_file(&a),
            tree_or_file(&b),
            "two {format} exports differ"
        );
    }
    let out = env.path().join("summary.wacz");
    let mut args = vec!["--json", "export"];
    args.extend(IDS);
    args.extend(["-f", "wacz", "-o", path_str(&out)]);
    let json: Value = serde_json::from_slice(&env.evarc(&args).ok().stdout).expect("JSON");
    assert_eq!(json["log"]["proofs"], 3);
    assert_eq!(json["log"]["unproven"], serde_json::json!([]));
    assert!(json["log"]["checkpoint"]
        .as_str()
        .is_some_and(|c| c.starts_with("evarc/") && c.contains(" 4 ")));

    // A capture made after the checkpoint is exported without proof, and named.
    let three = env.write("three.txt", b"Terms, third version.\n");
    env.evarc(&[
        "archive",
        path_str(&three),
        "--entity",
        "Example",
        "--document",
        "Terms",
        "--url",
        "https://example.com/terms",
        "--captured-at",
        "2026-01-03T00:00:00Z",
    ])
    .ok();
    let later = env.path().join("later.warc");
    let text = env
        .evarc(&["export", IDS[0], "-f", "warc", "-o", path_str(&later)])
        .ok()
        .stdout_text();
    assert!(
        text.contains("2 inclusion proofs against checkpoint")
            && text.contains("not covered by a checkpoint yet"),
        "{text}"
    );
}

/// A file's bytes, or every file of a directory (relative path → bytes).
fn tree_or_file(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![path.to_owned()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for entry in fs::read_dir(&p).expect("read_dir") {
                stack.push(entry.expect("entry").path());
            }
        } else {
            let rel = p.strip_prefix(path).unwrap_or(&p).display().to_string();
            out.insert(rel, fs::read(&p).expect("read"));
        }
    }
    out
}
