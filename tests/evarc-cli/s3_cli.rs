//! Issue 14, what only a bucket has: restore from the bucket alone, replicate and repair, gc,
//! and the failures of an object store (stopped mid-write, wrong credentials, missing bucket,
//! unreachable endpoint, malformed URL). Runs in the `cli_s3` binary against s3s-fs.

use std::io::BufRead as _;
use std::path::Path;
use std::process::Stdio;

use crate::aws_fixture::{self, DOCUMENT, RECORD_IDS};
use crate::s3_server::{self, S3Server, BUCKET};
use crate::util::{flip_chunk_value, noise, path_str, s3, Env, Run};

/// The shared server, or `None` after saying the test is skipped.
fn server(test: &str) -> Option<&'static S3Server> {
    let found = s3();
    if found.is_none() {
        eprintln!("SKIPPED {test}: no S3 server (s3s-fs not installed)");
    }
    found
}

/// `evarc --archive ARCHIVE ARGS…` in `env`'s environment.
fn at(env: &Env, archive: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--archive", path_str(archive)];
    all.extend_from_slice(args);
    env.raw(&all)
}

/// Everything an archive prints that restore must reproduce byte for byte.
fn observable(env: &Env, archive: &Path, proof_name: &str) -> String {
    let mut out = String::new();
    let mut show = |args: &[&str], run: Run| {
        out.push_str(&format!(
            "$ evarc {}\nexit {}\n{}\n",
            args.join(" "),
            run.code,
            String::from_utf8_lossy(&run.stdout)
        ));
    };
    for args in [
        vec!["verify", "--all"],
        vec!["history", DOCUMENT],
        vec!["list"],
        vec!["show", DOCUMENT],
    ] {
        show(&args, at(env, archive, &args));
    }
    for id in RECORD_IDS {
        for format in [
            "record",
            "provenance",
            "bluebook",
            "csl-json",
            "biblatex",
            "ris",
            "json",
            "markdown",
        ] {
            let args = ["cite", id, "--format", format, "--accessed", "2026-06-01"];
            show(&args, at(env, archive, &args));
        }
    }
    let proof = env.path().join(proof_name);
    let args = ["prove", DOCUMENT, "-o", path_str(&proof)];
    show(&args, at(env, archive, &args));
    out.push_str(&std::fs::read_to_string(&proof).unwrap_or_default());
    // `prove` names the file it wrote: the only difference allowed.
    out.replace(proof_name, "PROOF")
}

#[test]
fn restore_from_the_bucket_alone_reproduces_verify_cite_and_proofs() {
    let Some(_server) = server("restore_from_the_bucket_alone_reproduces_verify_cite_and_proofs")
    else {
        return;
    };
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    let checkpoint = env.path().join("cp.txt");
    env.evarc(&["checkpoint", "-o", path_str(&checkpoint)]).ok();
    let key = env.evarc(&["key"]).ok().stdout_text();
    let original = observable(env, &env.archive(), "proof-original.txt");
    assert!(original.contains("0 failed"), "{original}");

    // A fresh machine: nothing but the bucket (and the endpoint's settings).
    let restored = env.path().join("restored");
    // The signing key is handed in separately, never through the bucket.
    let key_file = env.path().join("handed-in-key");
    std::fs::copy(env.archive().join("tlog-signing-key"), &key_file).expect("copy the key");
    let run = env
        .raw(&[
            "restore",
            &url,
            path_str(&restored),
            "--signing-key",
            path_str(&key_file),
        ])
        .ok();
    assert!(
        run.stdout_text()
            .starts_with(&format!("Restored [TMP]/restored from {url}: "))
            || env
                .normalize(&run.stdout_text())
                .starts_with(&format!("Restored [TMP]/restored from {url}: ")),
        "{}",
        run.stdout_text()
    );
    let again = observable(env, &restored, "proof-restored.txt");
    assert_eq!(again, original, "the restored archive prints differently");
    // The checkpoint published before verifies the restored archive's proof.
    let proof = env.path().join("proof-restored.txt");
    env.raw(&[
        "verify-proof",
        "--proof",
        path_str(&proof),
        "--checkpoint",
        path_str(&checkpoint),
        "--key",
        key.trim(),
    ])
    .ok();
    // Restoring into a directory that holds something is refused, the bucket unchanged.
    env.raw(&["restore", &url, path_str(&restored)])
        .one_line_error(2, &["cannot create an archive at [TMP]/restored"]);
}

#[test]
fn a_restore_without_the_signing_key_verifies_and_says_checkpoints_need_it() {
    let Some(_server) =
        server("a_restore_without_the_signing_key_verifies_and_says_checkpoints_need_it")
    else {
        return;
    };
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    env.evarc(&["checkpoint"]).ok();
    let restored = env.path().join("restored");
    let run = env.raw(&["restore", &url, path_str(&restored)]).ok();
    let said = env.normalize(&run.stdout_text());
    assert!(
        said.contains(
            "! no signing key handed in (--signing-key FILE): the archive verifies and cites, but new checkpoints cannot be signed until the original archive's tlog-signing-key is copied to [TMP]/restored/tlog-signing-key (mode 600)"
        ),
        "{said}"
    );
    // Everything archived verifies: a missing private key is not damage (it used to be
    // "1 records unreadable", exit 1, saying "writing the signing key").
    let verify = at(env, &restored, &["verify", "--all"]).ok();
    let said = env.normalize(&verify.stdout_text());
    assert!(said.contains(" 0 failed"), "{said}");
    assert!(
        said.contains("! the signing key file [TMP]/restored/tlog-signing-key is missing: new checkpoints cannot be signed"),
        "{said}"
    );
    // A checkpoint says what is missing, and works once the key is put back.
    at(env, &restored, &["checkpoint"]).one_line_error(
        2,
        &[
            "the signing key file [TMP]/restored/tlog-signing-key is missing",
            "whose private key is kept only in that file",
        ],
    );
    std::fs::copy(
        env.archive().join("tlog-signing-key"),
        restored.join("tlog-signing-key"),
    )
    .expect("put the key back");
    at(env, &restored, &["checkpoint"]).ok();
    let verify = at(env, &restored, &["verify", "--all"]).ok();
    assert!(
        !verify.stdout_text().contains("signing key"),
        "{}",
        verify.stdout_text()
    );
}

/// `s3://evarc-test/PREFIX` for a test of its own.
fn fresh_url(name: &str) -> String {
    format!("s3://{BUCKET}/{}", s3_server::unique_prefix(name))
}

#[test]
fn wrong_credentials_missing_bucket_unreachable_endpoint_and_bad_urls_are_one_line_errors() {
    let Some(server) = server("wrong_credentials_missing_bucket_unreachable_endpoint_and_bad_urls")
    else {
        return;
    };
    let env = Env::empty();
    let archive = env.path().join("a");
    let url = fresh_url("errors");
    // Wrong secret: exit 3, naming the bucket and the endpoint.
    let output = env
        .command()
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        .args(["init", path_str(&archive), "--blobs", &url])
        .output()
        .expect("run evarc");
    let run = Run::from_output(&env, &["init"], output);
    run.one_line_error(
        3,
        &[&url, &server.endpoint(), "the credentials were refused"],
    );
    assert!(!archive.exists(), "a refused init left a directory");
    // A bucket that does not exist.
    env.raw(&[
        "init",
        path_str(&archive),
        "--blobs",
        "s3://no-such-bucket/p",
    ])
    .one_line_error(
        3,
        &[
            "s3://no-such-bucket/p",
            &server.endpoint(),
            "the bucket does not exist",
        ],
    );
    // An endpoint nobody listens on.
    let nobody = format!("http://127.0.0.1:{}", s3_server::free_port());
    env.raw(&[
        "init",
        path_str(&archive),
        "--blobs",
        &url,
        "--endpoint",
        &nobody,
    ])
    .one_line_error(3, &[&url, &nobody, "the endpoint cannot be reached"]);
    // Malformed URLs: exit 2.
    env.raw(&["init", path_str(&archive), "--blobs", "http://bucket/p"])
        .one_line_error(2, &["invalid bucket URL \"http://bucket/p\"", "s3://"]);
    env.raw(&["init", path_str(&archive), "--blobs", "s3://Bad_Bucket/p"])
        .one_line_error(2, &["invalid bucket URL", "bucket name"]);
    env.raw(&["restore", "s3://x", path_str(&archive)])
        .one_line_error(2, &["invalid bucket URL \"s3://x\""]);
    // A bucket prefix with no archive in it.
    env.raw(&["restore", &fresh_url("empty"), path_str(&archive)])
        .one_line_error(2, &["holds no evarc archive"]);
    assert!(!archive.exists());
}

#[test]
fn server_killed_mid_import_loses_no_acknowledged_capture() {
    if server("server_killed_mid_import_loses_no_acknowledged_capture").is_none() {
        return;
    }
    // A server of its own, to kill.
    let Some(mut own) = S3Server::start("server_killed_mid_import") else {
        return;
    };
    let env = Env::empty();
    let archive = env.archive();
    let url = fresh_url("kill");
    let own_vars = own.env();
    let with_own = |cmd: &mut std::process::Command| {
        cmd.envs(own_vars.clone());
    };
    let mut init = env.command();
    with_own(&mut init);
    let out = init
        .args(["init", path_str(&archive), "--blobs", &url])
        .output()
        .expect("run evarc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 120 captures of 20 documents (distinct bytes, so each one uploads).
    let mut manifest = String::from("captured_at\tentity\tdocument\tsource_url\tpath\n");
    for i in 0..120u64 {
        let doc = i % 20;
        env.write(&format!("files/{i}.bin"), &noise(i + 1, 96 << 10));
        manifest.push_str(&format!(
            "2026-03-01T{:02}:{:02}:00Z\tAcme\tDoc {doc}\thttps://acme.example/{doc}\tfiles/{i}.bin\n",
            i / 60,
            i % 60
        ));
    }
    let manifest = env.write("m.tsv", manifest.as_bytes());
    let mut import = env.command();
    with_own(&mut import);
    let mut child = import
        .args([
            "--archive",
            path_str(&archive),
            "--json",
            "import",
            "manifest",
        ])
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the import");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut acknowledged: Vec<String> = Vec::new();
    let mut killed = false;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("read the import's output");
        if line.contains("\"status\":\"archived\"") {
            let sha = line
                .split("\"sha256\":\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("an archived row names its sha256")
                .to_owned();
            acknowledged.push(sha);
        }
        if acknowledged.len() == 15 && !killed {
            own.kill();
            killed = true;
        }
    }
    let status = child.wait().expect("wait for the import");
    assert!(
        killed,
        "the import finished before 15 captures were acknowledged"
    );
    assert_eq!(
        status.code(),
        Some(3),
        "the import must fail with exit 3 once the server is gone"
    );
    assert!(acknowledged.len() >= 15 && acknowledged.len() < 120);
    own.restart();
    // Every capture the import acknowledged verifies, read from the bucket (no local cache).
    let _ = std::fs::remove_dir_all(archive.join("blob-cache"));
    for sha in &acknowledged {
        let mut verify = env.command();
        with_own(&mut verify);
        let out = verify
            .args([
                "--archive",
                path_str(&archive),
                "verify",
                &format!("sha256:{sha}"),
            ])
            .output()
            .expect("run evarc");
        assert!(
            out.status.success(),
            "acknowledged capture {sha} does not verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut all = env.command();
    with_own(&mut all);
    let out = all
        .args(["--archive", path_str(&archive), "verify", "--all"])
        .output()
        .expect("run evarc");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn replicate_is_incremental_and_repair_heals_a_flipped_table_file() {
    let Some(_server) = server("replicate_is_incremental_and_repair_heals_a_flipped_table_file")
    else {
        return;
    };
    // A local archive (bytes in RocksDB) with a replica on the bucket.
    let env = Env::empty();
    env.raw(&["init", path_str(&env.archive())]).ok();
    let first = aws_fixture::capture(
        &env,
        aws_fixture::FIRST_FILE,
        aws_fixture::FIRST_AT,
        &["--id", DOCUMENT],
    )
    .ok();
    aws_fixture::capture(&env, aws_fixture::SECOND_FILE, aws_fixture::SECOND_AT, &[]).ok();
    let url = fresh_url("replica");
    let run = env.evarc(&["replicate", &url]).ok();
    let text = run.stdout_text();
    assert!(
        // Two captures and their two version texts (version texts are snapshots too).
        text.starts_with(&format!("Replicated to {url}: 4 new blobs (")),
        "{text}"
    );
    assert!(
        text.contains("new record entries in records/0000000000000000"),
        "{text}"
    );
    // Nothing new: nothing sent.
    let run = env.evarc(&["replicate", &url]).ok();
    assert_eq!(
        run.stdout_text(),
        format!("Replicated to {url}: 0 new blobs (0 bytes), 0 new record entries\n")
    );
    let before = env.evarc(&["verify", "--all"]).ok().stdout_text();

    // One flipped byte in the first capture's chunk, in its table file.
    let blake3 = first
        .field("BLAKE3:")
        .trim_start_matches("blake3:")
        .to_owned();
    env.evarc(&["config", "set", "name", "Example Evidence Archive"])
        .ok();
    flip_chunk_value(&env.archive(), &blake3);
    env.evarc(&["verify", "--all"]).code(1);

    let run = env.evarc(&["repair", &url]).ok();
    let text = run.stdout_text();
    assert!(
        text.contains(&format!("repaired blake3:{blake3}\n")),
        "{text}"
    );
    // Every damaged snapshot repaired: how many depends on what shares the flipped table block
    // (the first capture's bytes, and what is built on them).
    let summary = text
        .lines()
        .find(|l| l.contains(" damaged snapshots repaired from "))
        .unwrap_or_else(|| panic!("no summary line: {text}"));
    let (repaired, rest) = summary.split_once(" of ").expect("N of M");
    let damaged = rest.split_whitespace().next().expect("M");
    assert_eq!(repaired, damaged, "{text}");
    assert_eq!(
        repaired.parse::<usize>().expect("a count"),
        text.lines()
            .filter(|l| l.starts_with("repaired blake3:"))
            .count(),
        "{text}"
    );
    assert!(
        summary.contains(&format!(" damaged snapshots repaired from {url} (")),
        "{text}"
    );
    assert!(!text.contains("NOT repaired"), "{text}");
    let after = env.evarc(&["verify", "--all"]).ok().stdout_text();
    assert_eq!(after, before);
    // Nothing left to repair.
    assert_eq!(
        env.evarc(&["repair", &url]).ok().stdout_text(),
        "No damaged snapshot: nothing to repair\n"
    );
}

#[test]
fn gc_lists_unreferenced_objects_and_deletes_only_with_delete() {
    let Some(server) = server("gc_lists_unreferenced_objects_and_deletes_only_with_delete") else {
        return;
    };
    let fixture = aws_fixture::build();
    let env = &fixture.env;
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    let run = env.evarc(&["gc"]).ok();
    assert!(
        run.stdout_text().starts_with("0 of ")
            && run.stdout_text().contains(" unreferenced (0 bytes)\n"),
        "{}",
        run.stdout_text()
    );
    // What a crash between an upload and its commit leaves: an object no manifest names.
    let prefix = url.trim_start_matches(&format!("s3://{BUCKET}/"));
    let orphan = "ab".repeat(32);
    let dir = server
        .root()
        .join(BUCKET)
        .join(prefix)
        .join("chunks")
        .join("ab");
    std::fs::create_dir_all(&dir).expect("create the orphan's directory");
    std::fs::write(dir.join(&orphan), b"orphan bytes").expect("write the orphan");
    let name = format!("chunks/ab/{orphan}");
    let run = env.evarc(&["gc"]).ok();
    let text = run.stdout_text();
    assert!(text.starts_with(&format!("{name}\t12\n1 of ")), "{text}");
    assert!(
        text.ends_with(&format!(
            " in {url} unreferenced (12 bytes): not deleted (dry run; --delete removes them)\n"
        )),
        "{text}"
    );
    assert!(dir.join(&orphan).exists());
    let run = env.evarc(&["gc", "--delete"]).ok();
    assert!(run
        .stdout_text()
        .ends_with(" unreferenced (12 bytes): deleted\n"));
    assert!(!dir.join(&orphan).exists());
    assert!(env.evarc(&["gc"]).ok().stdout_text().starts_with("0 of "));
    env.evarc(&["verify", "--all"]).ok();
}

#[test]
fn restore_after_the_writer_is_killed_finds_every_acknowledged_capture() {
    if server("restore_after_the_writer_is_killed_finds_every_acknowledged_capture").is_none() {
        return;
    }
    // A writer killed with SIGKILL never closes: its records reach the bucket only through
    // the pushes at its sync points (before, only at close: the bucket held no record segment).
    let env = Env::new();
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    let mut manifest = String::from("captured_at\tentity\tdocument\tsource_url\tpath\n");
    for i in 0..400u64 {
        let doc = i % 40;
        env.write(&format!("files/{i}.bin"), &noise(i + 1, 24 << 10));
        manifest.push_str(&format!(
            "2026-03-01T{:02}:{:02}:00Z\tAcme\tDoc {doc}\thttps://acme.example/{doc}\tfiles/{i}.bin\n",
            i / 60,
            i % 60
        ));
    }
    let manifest = env.write("m.tsv", manifest.as_bytes());
    let mut child = env
        .command()
        .args(["--archive", path_str(&env.archive()), "--json"])
        .args(["import", "manifest"])
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the import");
    let stdout = child.stdout.take().expect("piped stdout");
    // (document, sha256) of every capture the import reported durable, up to the kill and
    // whatever the pipe still held after it.
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    let mut killed = false;
    let field = |line: &str, name: &str| -> String {
        line.split(&format!("\"{name}\":\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .to_owned()
    };
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("read the import's output");
        if line.contains("\"status\":\"archived\"") {
            acknowledged.push((field(&line, "document"), field(&line, "sha256")));
        }
        if acknowledged.len() >= 60 && !killed {
            child.kill().expect("SIGKILL the import");
            killed = true;
        }
    }
    let status = child.wait().expect("wait for the import");
    assert!(
        killed,
        "the import finished before 60 captures were acknowledged"
    );
    assert_eq!(status.code(), None, "the import was killed: {status}");
    assert!(
        acknowledged.len() < 400,
        "every row was acknowledged before the kill"
    );

    // A fresh machine: the bucket only (and the signing key, handed in separately).
    let restored = env.path().join("restored");
    let key_file = env.path().join("handed-in-key");
    std::fs::copy(env.archive().join("tlog-signing-key"), &key_file).expect("copy the key");
    env.raw(&[
        "restore",
        &url,
        path_str(&restored),
        "--signing-key",
        path_str(&key_file),
    ])
    .ok();
    for (document, sha) in &acknowledged {
        let run = at(&env, &restored, &["verify", &format!("sha256:{sha}")]);
        assert_eq!(
            run.code,
            0,
            "acknowledged capture {sha} of {document} does not verify in the restored archive: {}{}",
            run.stdout_text(),
            run.stderr
        );
        let history = at(&env, &restored, &["--json", "history", document]).ok();
        assert!(
            history.stdout_text().contains(&format!("\"{sha}\"")),
            "{document}'s history in the restored archive lacks {sha}"
        );
    }
    // What the restored archive holds verifies as a whole.
    at(&env, &restored, &["verify", "--all"]).ok();
}
