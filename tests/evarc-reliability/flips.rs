//! Issue 16: the audit always finishes, names what damage affects, and is never clean on a
//! damaged file; the bounded form of `evarc-torture flips`.

use evarc_torture::evarc::Evarc;
use evarc_torture::flips::{self, FlipOptions};
use evarc_torture::rng::Rng;
use evarc_torture::workload;

use crate::{evarc_bin, log, scratch, seed};

#[test]
fn issue_16_single_byte_flips_never_abort_the_audit_and_are_never_clean() {
    let dir = scratch("flips");
    let opts = FlipOptions {
        flips: 12,
        seed: seed(16_016),
        archive: None,
        manifest: None,
        documents: 4,
        versions: 40,
        evarc: evarc_bin(),
        work: dir.path().to_owned(),
    };
    let report = flips::run(&opts, &mut |l| log(l)).expect("the flip torture runs");
    assert_eq!(report.flips.len(), 12);
    assert!(
        report.problems().is_empty(),
        "seed {}: {:#?}",
        opts.seed,
        report.problems()
    );
    for flip in &report.flips {
        assert_eq!(flip.exit, 1, "{flip:?}");
    }
    // The blast radius is measured on the corpus (docs/reliability.md): this generated archive
    // packs dozens of tiny deltas per table block, so one flip here can cost more captures.
}

/// Before issue 16, damage to a block of provenance records made `verify --all` stop with
/// `error: storage error … Corruption: block checksum mismatch` and no report. Now every record
/// is read on its own: the audit names what it could not read (captures by their log leaves)
/// and goes on to the end, in text and JSON.
#[test]
fn issue_16_verify_all_goes_on_past_a_damaged_block_of_records() {
    let dir = scratch("records");
    let corpus = dir.path().join("corpus");
    workload::generate(&corpus, 3, 12, false, &mut Rng::new(16)).expect("corpus");
    let evarc = Evarc::new(evarc_bin(), dir.path().join("archive"));
    evarc.init().expect("init");
    evarc
        .ok(&[
            "import",
            "manifest",
            &corpus.join("manifest.tsv").to_string_lossy(),
        ])
        .expect("import");
    let table = {
        let opts = rocksdb::Options::default();
        let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
        let db = rocksdb::DB::open_cf_for_read_only(&opts, &evarc.archive, cfs, false)
            .expect("open raw");
        let files = db.live_files().expect("live files");
        files
            .into_iter()
            .filter(|f| f.column_family_name == "records")
            .max_by_key(|f| f.size)
            .expect("a table of records")
            .name
    };
    let path = evarc.archive.join(table.trim_start_matches('/'));
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes.len() / 3;
    bytes[at] ^= 0x55;
    std::fs::write(&path, &bytes).expect("write");

    let json = evarc.run(&["verify", "--all", "--json"]).expect("verify");
    assert_eq!(json.code, 1, "{}", json.stderr);
    assert!(!json.stderr.contains("error:"), "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON report");
    assert_eq!(value["clean"], false);
    let damage = value["file_damage"].as_array().expect("file damage");
    assert!(
        damage
            .iter()
            .any(|d| d["file"].as_str() == path.file_name().and_then(|n| n.to_str())),
        "{damage:?}"
    );
    let records = value["record_damage"].as_array().expect("record damage");
    assert!(!records.is_empty(), "{value}");
    // The snapshots themselves were untouched: the audit re-hashed all of them anyway.
    assert_eq!(value["snapshots_checked"], value["snapshots_verified"]);
    let text = evarc.run(&["verify", "--all"]).expect("verify");
    assert_eq!(text.code, 1, "{}", text.stderr);
    let out = text.stdout_text();
    assert!(out.contains("cannot be read"), "{out}");
    for capture in value["affected_captures"].as_array().expect("affected") {
        let doc = capture["document"].as_str().expect("document");
        assert!(out.contains(doc), "{doc} not named:\n{out}");
    }
}

/// Found by the bounded flips (seed 16016, flip 10): a flipped byte in the `meta` table (the
/// format version) made every command, `verify --all` included, stop at open with a storage
/// error. Read-only, the archive now opens as the current format and the audit reports it.
#[test]
fn issue_16_a_damaged_format_version_block_is_reported_not_fatal() {
    let dir = scratch("meta");
    let evarc = crate::archive_in(dir.path());
    let file = dir.path().join("page.html");
    std::fs::write(&file, b"<p>meta</p>").expect("write");
    evarc
        .ok(&["archive", &file.to_string_lossy()])
        .expect("archive");
    let table = {
        let opts = rocksdb::Options::default();
        let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
        let db = rocksdb::DB::open_cf_for_read_only(&opts, &evarc.archive, cfs, false)
            .expect("open raw");
        db.live_files()
            .expect("live files")
            .into_iter()
            .find(|f| f.column_family_name == "meta")
            .expect("a table of meta")
            .name
    };
    let path = evarc.archive.join(table.trim_start_matches('/'));
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[20] ^= 0x5a; // inside the first (data) block
    std::fs::write(&path, &bytes).expect("write");
    let json = evarc.run(&["verify", "--all", "--json"]).expect("verify");
    assert_eq!(json.code, 1, "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON report");
    let records = value["record_damage"].as_array().expect("record damage");
    assert!(
        records.iter().any(|r| r["name"] == "meta/format-version"),
        "{value}"
    );
    assert_eq!(value["snapshots_verified"], 1);
}

/// Found by the bounded flips (seed 16016 after issue 14's merge): a flipped byte in the MANIFEST
/// (RocksDB's list of table files) made every read-only open fail with "Corruption: checksum
/// mismatch in file …/MANIFEST-…", so `verify --all` stopped with an error line and no report
/// although every table was intact. Now the tables are read through a MANIFEST rebuilt from them
/// in a temporary directory, the damage is reported, and the archive itself is not changed.
#[test]
fn issue_16_a_damaged_manifest_is_reported_and_the_tables_still_verified() {
    let dir = scratch("manifest");
    let evarc = crate::archive_in(dir.path());
    for i in 0..3 {
        let file = dir.path().join(format!("page{i}.html"));
        std::fs::write(&file, format!("<p>version {i} of the page</p>")).expect("write");
        evarc
            .ok(&["archive", &file.to_string_lossy()])
            .expect("archive");
    }
    let manifest = std::fs::read_dir(&evarc.archive)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("MANIFEST-"))
        })
        .expect("a MANIFEST");
    let mut bytes = std::fs::read(&manifest).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&manifest, &bytes).expect("write");
    let json = evarc.run(&["verify", "--all", "--json"]).expect("verify");
    assert_eq!(json.code, 1, "{}", json.stderr);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON report");
    let records = value["record_damage"].as_array().expect("record damage");
    assert!(records.iter().any(|r| r["name"] == "MANIFEST"), "{value}");
    assert_eq!(value["snapshots_verified"], 3, "{value}");
    let text = evarc.run(&["verify", "--all"]).expect("verify");
    assert_eq!(text.code, 1);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("MANIFEST rebuilt from them"), "{out}");
    assert!(out.contains("damaged at offset"), "{out}");
    assert_eq!(
        std::fs::read(&manifest).expect("read"),
        bytes,
        "the archive is not changed"
    );
}
