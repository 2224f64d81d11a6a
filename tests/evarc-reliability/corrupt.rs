//! Damage to a closed archive: detected and named, never wrong bytes or a false "✓".

use evarc_torture::corrupt::{self, CorruptOptions};

use crate::{evarc_bin, log, scratch, seed};

#[test]
fn twenty_injections_are_detected_or_harmless_never_missed() {
    let dir = scratch("corrupt");
    let opts = CorruptOptions {
        rounds: 20,
        seed: seed(6_002),
        documents: 5,
        versions: 6,
        evarc: evarc_bin(),
        work: dir.path().to_owned(),
    };
    let report = corrupt::run(&opts, &mut |l| log(l)).expect("the corruption torture runs");
    assert_eq!(report.rounds, 20);
    assert!(
        report.missed.is_empty(),
        "seed {}: {:#?}",
        opts.seed,
        report.missed
    );
    assert!(report.by_verdict.get("detected").copied().unwrap_or(0) > 0);
}

/// Issue 6 (found by `corrupt`, seed 62): damage to the SHA-256 index hides captures from
/// `get SHA256`; `verify --all` must name them by document, not only print a storage error.
#[test]
fn issue_6_verify_all_names_captures_hidden_by_a_damaged_sha256_index() {
    let dir = crate::scratch("index");
    let evarc = crate::archive_in(dir.path());
    let file = dir.path().join("page.html");
    std::fs::write(&file, b"<p>indexed</p>").expect("write");
    evarc
        .ok(&[
            "archive",
            &file.to_string_lossy(),
            "--entity",
            "E",
            "--document",
            "Indexed",
            "--url",
            "https://example.org/i",
        ])
        .expect("archive");
    {
        let cfs = ["meta", "snapshots", "sha256", "chunks", "records", "deltas"];
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &evarc.archive, cfs)
            .expect("open raw");
        let cf = db.cf_handle("sha256").expect("sha256 cf");
        let keys: Vec<Box<[u8]>> = db
            .iterator_cf(cf, rocksdb::IteratorMode::Start)
            .map(|item| item.expect("index entry").0)
            .collect();
        for key in keys {
            db.delete_cf(cf, key).expect("delete");
        }
    }
    let verify = evarc.run(&["verify", "--all"]).expect("verify");
    assert_eq!(verify.code, 1, "{}", verify.stdout_text());
    assert!(
        verify.stdout_text().contains("CA-D-00001 captured"),
        "{}",
        verify.stdout_text()
    );
}
