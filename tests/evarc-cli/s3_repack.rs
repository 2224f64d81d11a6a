//! Issue 14, `evarc repack` of an archive whose snapshot bytes live in a bucket: new encodings
//! go to new objects, the switch-over is committed locally and travels in the record segments,
//! `gc` lists and deletes the objects they replace; a repack killed mid-way leaves everything
//! readable; a local archive's repack reaches its replica under new names. Runs in the `cli_s3`
//! binary against s3s-fs.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::s3_server::BUCKET;
use crate::util::{path_str, s3, Env, Run};

/// Version `n` of page `doc`: shared text and a few lines that change.
fn page(doc: usize, n: usize) -> String {
    let mut page = format!("<html><body>\n<h1>Document {doc}</h1>\n");
    for line in 0..700 {
        page.push_str(&format!(
            "<p>Clause {line} of document {doc}: the same words every time, {}.</p>\n",
            (line * 31 + doc) % 97
        ));
        if line % 150 == 0 {
            page.push_str(&format!(
                "<p>Revision {n}, nonce {}</p>\n",
                (n * 7919 + doc * 13) % 10007
            ));
        }
    }
    page.push_str("</body></html>\n");
    page
}

/// Imports `versions` versions of each of `docs` documents (documents CA-D-00001 on).
fn import_versions(env: &Env, docs: usize, versions: usize) {
    let mut manifest = String::from("captured_at\tentity\tdocument\tsource_url\tpath\n");
    for n in 0..versions {
        for doc in 0..docs {
            let name = format!("d{doc}-v{n:02}.html");
            env.write(&name, page(doc, n).as_bytes());
            manifest.push_str(&format!(
                "2026-05-{:02}T{:02}:00:00Z\tExample\tTerms {doc}\thttps://example.com/terms/{doc}\t{name}\n",
                n + 1,
                doc % 24
            ));
        }
    }
    let manifest = env.write("manifest.tsv", manifest.as_bytes());
    env.evarc(&["import", "manifest", path_str(&manifest)]).ok();
}

/// `evarc --archive ARCHIVE ARGS…` in `env`'s environment.
fn at(env: &Env, archive: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--archive", path_str(archive)];
    all.extend_from_slice(args);
    env.raw(&all)
}

/// What a reader sees of the first `docs` documents: `verify --all`, `history` and every
/// citation format, read from the bucket (the archive's blob cache emptied first).
fn observable(env: &Env, archive: &Path, docs: usize) -> String {
    let _ = std::fs::remove_dir_all(archive.join("blob-cache"));
    let mut out = String::new();
    let mut show = |args: &[&str]| {
        let run = at(env, archive, args);
        out.push_str(&format!(
            "$ evarc {}\nexit {}\n{}\n",
            args.join(" "),
            run.code,
            String::from_utf8_lossy(&run.stdout)
        ));
    };
    show(&["verify", "--all"]);
    for doc in 1..=docs {
        let id = format!("CA-D-{doc:05}");
        show(&["history", &id]);
        for format in ["record", "provenance", "bluebook", "csl-json", "markdown"] {
            show(&["cite", &id, "--format", format, "--accessed", "2026-06-01"]);
        }
    }
    out
}

/// The objects of the bucket prefix of `url` under `chunks/` and `deltas/`: name and size.
fn objects(url: &str) -> Vec<(String, u64)> {
    let server = s3().expect("the S3 server");
    let prefix = url.trim_start_matches(&format!("s3://{BUCKET}/"));
    let root = server.root().join(BUCKET).join(prefix);
    let mut out = Vec::new();
    for dir in ["chunks", "deltas"] {
        let mut stack = vec![root.join(dir)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let meta = entry.metadata().expect("metadata");
                if meta.is_dir() {
                    stack.push(entry.path());
                } else {
                    let name = entry
                        .path()
                        .strip_prefix(&root)
                        .expect("under the prefix")
                        .to_string_lossy()
                        .into_owned();
                    out.push((name, meta.len()));
                }
            }
        }
    }
    out.sort();
    out
}

/// Objects whose name carries a tag (a re-encoded value: `…/<hex>.<32 hex>`).
fn tagged(objects: &[(String, u64)]) -> usize {
    objects
        .iter()
        .filter(|(name, _)| name.contains('.'))
        .count()
}

fn total(objects: &[(String, u64)]) -> u64 {
    objects.iter().map(|(_, size)| size).sum()
}

/// A copy of the archive directory (a reader whose view predates what follows).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the archive") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// `evarc restore URL DIR`, the original archive's signing key handed in.
fn restore(env: &Env, url: &str, dir: &Path) {
    let key = env.archive().join("tlog-signing-key");
    env.raw(&[
        "restore",
        url,
        path_str(dir),
        "--signing-key",
        path_str(&key),
    ])
    .ok();
}

/// Panics naming the first line where `actual` and `expected` differ.
#[track_caller]
fn assert_same(actual: &str, expected: &str, what: &str) {
    if actual == expected {
        return;
    }
    let (a, e): (Vec<&str>, Vec<&str>) = (actual.lines().collect(), expected.lines().collect());
    let at = (0..a.len().max(e.len()))
        .find(|i| a.get(*i) != e.get(*i))
        .unwrap_or(0);
    panic!(
        "{what} reads differently, first at line {at}:\n  now:    {:?}\n  before: {:?}",
        a.get(at),
        e.get(at)
    );
}

/// Deletes chunk `hex` from the local archive at `archive` (closed), and its spare copy if it
/// has one (`deltas` under `c` ‖ key, docs/format.md).
fn lose_chunk(archive: &Path, hex: &str) {
    let key: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    let options = rocksdb::Options::default();
    let families = rocksdb::DB::list_cf(&options, archive).expect("list column families");
    let db = rocksdb::DB::open_cf(&options, archive, &families).expect("open the database");
    // The chunk, its full spare copy (older archives) and its parity group's index entry
    // (docs/format.md, "Spare copies"): nothing local can heal it then.
    let spare: Vec<u8> = [b"c".as_slice(), &key].concat();
    let parity: Vec<u8> = [b"q".as_slice(), &key].concat();
    for (family, key) in [("chunks", &key), ("deltas", &spare), ("deltas", &parity)] {
        let cf = db.cf_handle(family).expect("a column family");
        db.delete_cf(cf, key).expect("delete the chunk");
        db.flush_cf(cf).expect("flush");
    }
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_slice(&run.stdout).expect("JSON output")
}

#[test]
fn bucket_repack_shrinks_the_objects_restore_reads_the_new_ones_and_gc_deletes_the_old() {
    if s3().is_none() {
        eprintln!("SKIPPED bucket_repack_shrinks_the_objects…: no S3 server");
        return;
    }
    let env = Env::new();
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    import_versions(&env, 3, 8);
    let original = observable(&env, &env.archive(), 3);
    assert!(original.contains("0 failed"), "{original}");
    let before = objects(&url);
    assert_eq!(tagged(&before), 0, "{before:?}");
    // A reader's view from before the repack: a copy of the directory (it names the old objects).
    let old_view = env.path().join("old-view");
    copy_dir(&env.archive(), &old_view);

    let run = env.evarc(&["--json", "repack"]).ok();
    let report = json(&run);
    // 24 captures and their 24 version texts.
    assert_eq!(report["snapshots"], 48, "{report}");
    assert_eq!(report["bucket"], serde_json::json!(url));
    let rewritten = report["deltas_rewritten"].as_u64().expect("a count")
        + report["chunks_rewritten"].as_u64().expect("a count");
    assert!(report["deltas_rewritten"].as_u64() >= Some(1), "{report}");
    assert_eq!(report["objects_uploaded"].as_u64(), Some(rewritten));
    assert!(
        report["value_bytes_after"].as_u64() < report["value_bytes_before"].as_u64(),
        "{report}"
    );
    // The new encodings are new objects; the old ones are still there.
    let after = objects(&url);
    assert_eq!(tagged(&after) as u64, rewritten, "{after:?}");
    assert_eq!(after.len(), before.len() + tagged(&after));
    // Nothing a reader sees changed, read from the bucket; the old view still reads.
    assert_same(
        &observable(&env, &env.archive(), 3),
        &original,
        "the archive",
    );
    assert_same(
        &observable(&env, &old_view, 3),
        &original,
        "a view from before the repack",
    );

    // gc lists exactly the objects the repack replaced, and deletes them only when told.
    let run = env.evarc(&["gc"]).ok();
    let text = run.stdout_text();
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split('\t').next().filter(|_| line.contains('\t')))
        .collect();
    assert_eq!(listed.len() as u64, rewritten, "{text}");
    for name in &listed {
        assert!(!name.contains('.'), "a new object listed: {text}");
        assert!(
            after.iter().any(|(object, _)| object == name),
            "{name} is not an object: {text}"
        );
    }
    let listed_bytes: u64 = after
        .iter()
        .filter(|(name, _)| listed.contains(&name.as_str()))
        .map(|(_, size)| size)
        .sum();
    assert!(
        text.ends_with(&format!(
            " in {url} unreferenced ({listed_bytes} bytes): not deleted (dry run; --delete removes them)\n"
        )),
        "{text}"
    );
    assert_eq!(objects(&url), after, "a dry run deleted something");
    let run = env.evarc(&["gc", "--delete"]).ok();
    assert!(
        run.stdout_text().ends_with(": deleted\n"),
        "{}",
        run.stdout_text()
    );
    let kept = objects(&url);
    assert_eq!(kept.len(), before.len(), "{kept:?}");
    // The bytes in the bucket fell: every object left is a referenced value.
    assert!(
        total(&kept) < total(&before),
        "{} bytes after, {} before",
        total(&kept),
        total(&before)
    );
    assert!(env.evarc(&["gc"]).ok().stdout_text().starts_with("0 of "));
    assert_same(
        &observable(&env, &env.archive(), 3),
        &original,
        "the archive",
    );
    // The old view finds the new objects once its own are gone.
    assert_same(
        &observable(&env, &old_view, 3),
        &original,
        "a view from before the repack",
    );

    // The bucket alone rebuilds an archive that reads the new objects.
    let restored = env.path().join("restored");
    restore(&env, &url, &restored);
    assert_same(
        &observable(&env, &restored, 3),
        &original,
        "the restored archive",
    );

    // A second repack finds nothing more to shrink and uploads nothing.
    let again = json(&env.evarc(&["--json", "repack"]).ok());
    assert_eq!(again["objects_uploaded"], 0, "{again}");
    assert_eq!(objects(&url), kept);
}

#[test]
fn bucket_repack_killed_mid_way_leaves_every_snapshot_readable_and_a_second_finishes() {
    if s3().is_none() {
        eprintln!("SKIPPED bucket_repack_killed_mid_way…: no S3 server");
        return;
    }
    let env = Env::new();
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    import_versions(&env, 6, 24);
    let original = observable(&env, &env.archive(), 2);
    assert!(original.contains("0 failed"), "{original}");
    let before = objects(&url);

    // Killed (SIGKILL) as soon as its first new object is in the bucket: later groups are still
    // to be re-encoded, the first one's switch-over may or may not be committed.
    let mut child = env
        .command()
        .args(["--archive", path_str(&env.archive()), "--json", "repack"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the repack");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        if tagged(&objects(&url)) > 0 {
            child.kill().expect("kill the repack");
            break;
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the repack hangs");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let status = child.wait().expect("wait for the repack");
    assert_eq!(
        status.code(),
        None,
        "the repack finished before it could be killed"
    );
    // Every snapshot reads, from old or new objects.
    assert_same(
        &observable(&env, &env.archive(), 2),
        &original,
        "the archive",
    );

    // A second repack finishes the job; a third finds nothing left.
    let second = json(&env.evarc(&["--json", "repack"]).ok());
    assert!(second["objects_uploaded"].as_u64() > Some(0), "{second}");
    let third = json(&env.evarc(&["--json", "repack"]).ok());
    assert_eq!(third["objects_uploaded"], 0, "{third}");
    assert_same(
        &observable(&env, &env.archive(), 2),
        &original,
        "the archive",
    );
    // What the killed run uploaded but never switched to is unreferenced like the old objects:
    // gc removes all of them, and everything still reads, also restored from the bucket.
    env.evarc(&["gc", "--delete"]).ok();
    let kept = objects(&url);
    assert_eq!(kept.len(), before.len());
    assert!(total(&kept) < total(&before));
    assert_same(
        &observable(&env, &env.archive(), 2),
        &original,
        "the archive",
    );
    let restored = env.path().join("restored");
    restore(&env, &url, &restored);
    assert_same(
        &observable(&env, &restored, 2),
        &original,
        "the restored archive",
    );
}

#[test]
fn local_repack_sends_new_encodings_to_the_replica_under_new_names_and_repair_uses_them() {
    if s3().is_none() {
        eprintln!("SKIPPED local_repack_sends_new_encodings…: no S3 server");
        return;
    }
    // A local archive (bytes in RocksDB) with a replica on the bucket.
    let env = Env::empty();
    env.raw(&["init", path_str(&env.archive())]).ok();
    import_versions(&env, 2, 8);
    let original = observable(&env, &env.archive(), 2);
    let url = format!(
        "s3://{BUCKET}/{}",
        crate::s3_server::unique_prefix("replica-repack")
    );
    env.evarc(&["replicate", &url]).ok();
    let sent = objects(&url);
    assert_eq!(tagged(&sent), 0);

    let report = json(&env.evarc(&["--json", "repack"]).ok());
    let rewritten = report["deltas_rewritten"].as_u64().expect("a count")
        + report["chunks_rewritten"].as_u64().expect("a count");
    assert!(rewritten > 0, "{report}");
    // The next replicate sends every re-encoded value under a new name, beside the old one.
    let run = env.evarc(&["replicate", &url]).ok();
    assert!(
        run.stdout_text()
            .starts_with(&format!("Replicated to {url}: {rewritten} new blobs (")),
        "{}",
        run.stdout_text()
    );
    let replica = objects(&url);
    assert_eq!(tagged(&replica) as u64, rewritten);
    assert_eq!(replica.len(), sent.len() + tagged(&replica));
    // Nothing new: nothing sent.
    assert!(env
        .evarc(&["replicate", &url])
        .ok()
        .stdout_text()
        .starts_with(&format!("Replicated to {url}: 0 new blobs (0 bytes)")));
    // The replica alone rebuilds an archive that reads like the original.
    let restored: PathBuf = env.path().join("restored");
    restore(&env, &url, &restored);
    assert_same(
        &observable(&env, &restored, 2),
        &original,
        "the restored archive",
    );

    // The first capture's chunk lost locally is repaired from the replica's new object.
    let history = env.evarc(&["history", "CA-D-00001"]).ok().stdout_text();
    let first = history
        .lines()
        .find(|line| line.ends_with("  first"))
        .and_then(|line| line.split("sha256:").nth(1))
        .and_then(|rest| rest.get(..64))
        .unwrap_or_else(|| panic!("no first capture in: {history}"))
        .to_owned();
    let blake3 = env
        .evarc(&["show", &format!("sha256:{first}")])
        .ok()
        .field("BLAKE3:")
        .trim_start_matches("blake3:")
        .to_owned();
    // Re-encoded by the repack: the replica holds it twice; the old object goes, so that
    // only the new one can repair it.
    let plain = format!("chunks/{}/{blake3}", &blake3[..2]);
    assert!(
        replica
            .iter()
            .any(|(name, _)| name.starts_with(&format!("{plain}."))),
        "{replica:?}"
    );
    let server = s3().expect("the S3 server");
    let prefix = url.trim_start_matches(&format!("s3://{BUCKET}/"));
    std::fs::remove_file(server.root().join(BUCKET).join(prefix).join(&plain))
        .expect("delete the old object");
    lose_chunk(&env.archive(), &blake3);
    env.evarc(&["verify", "--all"]).code(1);
    let run = env.evarc(&["repair", &url]).ok();
    assert!(
        run.stdout_text()
            .contains(&format!("repaired blake3:{blake3}\n")),
        "{}",
        run.stdout_text()
    );
    assert_same(
        &observable(&env, &env.archive(), 2),
        &original,
        "the archive",
    );
}
