//! Issue 14: a bucket prefix belongs to one archive. Its marker names the archive's ID; a second
//! archive (init --blobs, replicate) is refused with one line naming the URL and both IDs, and
//! the bucket is left as it was; a restored copy keeps the ID and goes on writing there, and the
//! original, which no longer knows the prefix's latest records, is then refused; a marker
//! written before archive IDs is adopted by the archive that already writes there. Runs in the
//! `cli_s3` binary against s3s-fs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::s3_server::{self, S3Server, BUCKET};
use crate::util::{fixtures_dir, noise, path_str, s3, Env, Run};

/// The marker an evarc before archive IDs wrote.
const OLD_MARKER: &str = "evarc archive blobs, format 1 (docs/format.md)\n";

fn server(test: &str) -> Option<&'static S3Server> {
    let found = s3();
    if found.is_none() {
        eprintln!("SKIPPED {test}: no S3 server (s3s-fs not installed)");
    }
    found
}

fn fresh_url(name: &str) -> String {
    format!("s3://{BUCKET}/{}", s3_server::unique_prefix(name))
}

/// Where the server keeps the objects of `url`'s prefix.
fn prefix_dir(server: &S3Server, url: &str) -> PathBuf {
    server.root().join(url.trim_start_matches("s3://"))
}

/// Every file under the prefix's directory with its bytes: what the bucket holds there.
fn bucket_state(server: &S3Server, url: &str) -> BTreeMap<String, Vec<u8>> {
    let root = prefix_dir(server, url);
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(&root)
                    .expect("under the root")
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, std::fs::read(&path).expect("read an object"));
            }
        }
    }
    out
}

/// The archive ID the prefix's marker names.
fn marker_id(server: &S3Server, url: &str) -> Option<String> {
    let text = std::fs::read_to_string(prefix_dir(server, url).join("evarc-archive"))
        .expect("the prefix has a marker");
    text.lines()
        .find_map(|line| line.strip_prefix("archive-id "))
        .map(str::to_owned)
}

fn set_old_marker(server: &S3Server, url: &str) {
    std::fs::write(prefix_dir(server, url).join("evarc-archive"), OLD_MARKER)
        .expect("write an old marker");
}

/// `evarc --archive ARCHIVE ARGS…`
fn at(env: &Env, archive: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--archive", path_str(archive)];
    all.extend_from_slice(args);
    env.raw(&all)
}

/// Archives a new page (distinct bytes per `n`) as a capture of one document, at hour `n`.
fn capture(env: &Env, archive: &Path, n: u64) -> Run {
    let file = env.write(&format!("page-{n}.html"), &noise(1000 + n, 20 << 10));
    let at_time = format!("2026-04-01T{n:02}:00:00Z");
    at(
        env,
        archive,
        &[
            "archive",
            path_str(&file),
            "--entity",
            "Acme",
            "--document",
            "Terms",
            "--url",
            "https://acme.example/terms",
            "--captured-at",
            &at_time,
        ],
    )
}

/// The 32-hex-digit ID after `label` in `message`.
fn id_after<'a>(message: &'a str, label: &str) -> &'a str {
    let rest = message
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("no {label:?} in {message}"));
    let id = &rest[..32.min(rest.len())];
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{label:?} is not followed by an ID: {message}"
    );
    id
}

#[test]
fn a_second_archive_on_one_prefix_is_refused_and_the_bucket_is_unchanged() {
    let Some(server) =
        server("a_second_archive_on_one_prefix_is_refused_and_the_bucket_is_unchanged")
    else {
        return;
    };
    // Archive A on the prefix, with a capture.
    let env = Env::new();
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    capture(&env, &env.archive(), 1).ok();
    let a_id = marker_id(server, &url).expect("the marker names the archive");
    assert_eq!(a_id.len(), 32, "{a_id}");
    let before = bucket_state(server, &url);
    assert!(
        before.keys().any(|k| k.starts_with("records/")),
        "{before:?}"
    );

    // A second archive made on the same prefix: refused, nothing made, the bucket unchanged.
    let second = env.path().join("second");
    let message = env
        .raw(&["init", path_str(&second), "--blobs", &url])
        .one_line_error(
            2,
            &[
                &url,
                &format!("belongs to another archive (archive ID {a_id})"),
                "this archive's ID is ",
            ],
        );
    assert_ne!(id_after(&message, "this archive's ID is "), a_id);
    assert!(!second.exists(), "a refused init left {}", second.display());
    assert_eq!(bucket_state(server, &url), before);

    // A local archive replicating to it: refused with its own ID, the bucket unchanged.
    let local = env.path().join("local");
    env.raw(&["init", path_str(&local)]).ok();
    capture(&env, &local, 2).ok();
    let message = at(&env, &local, &["replicate", &url]).one_line_error(
        2,
        &[
            &url,
            &format!("(archive ID {a_id})"),
            "this archive's ID is ",
        ],
    );
    let local_id = id_after(&message, "this archive's ID is ").to_owned();
    assert_ne!(local_id, a_id);
    assert_eq!(bucket_state(server, &url), before);
    // Its ID is kept: a second attempt names the same one.
    at(&env, &local, &["replicate", &url])
        .one_line_error(2, &[&format!("this archive's ID is {local_id}")]);
    // Its own replica elsewhere is fine, and names it.
    let replica = fresh_url("own-replica");
    at(&env, &local, &["replicate", &replica]).ok();
    assert_eq!(
        marker_id(server, &replica).as_deref(),
        Some(local_id.as_str())
    );
    // No new archive can be made on the local archive's replica either.
    let replica_before = bucket_state(server, &replica);
    env.raw(&["init", path_str(&second), "--blobs", &replica])
        .one_line_error(2, &[&replica, &format!("(archive ID {local_id})")]);
    assert_eq!(bucket_state(server, &replica), replica_before);
    assert!(!second.exists());
    // A goes on as before.
    capture(&env, &env.archive(), 3).ok();
    assert_eq!(marker_id(server, &url).as_deref(), Some(a_id.as_str()));
    env.evarc(&["verify", "--all"]).ok();
}

#[test]
fn a_restored_copy_goes_on_writing_and_the_original_is_then_refused() {
    let Some(server) = server("a_restored_copy_goes_on_writing_and_the_original_is_then_refused")
    else {
        return;
    };
    let env = Env::new();
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    capture(&env, &env.archive(), 1).ok();
    let id = marker_id(server, &url).expect("the marker names the archive");

    // Restored on another machine: the same archive, the same ID.
    let restored = env.path().join("restored");
    let key = env.path().join("handed-in-key");
    std::fs::copy(env.archive().join("tlog-signing-key"), &key).expect("copy the key");
    env.raw(&[
        "restore",
        &url,
        path_str(&restored),
        "--signing-key",
        path_str(&key),
    ])
    .ok();
    // It goes on writing there: a capture, then `replicate` to its own bucket.
    capture(&env, &restored, 2).ok();
    let run = at(&env, &restored, &["replicate", &url]).ok();
    assert!(
        run.stdout_text()
            .starts_with(&format!("Replicated to {url}: ")),
        "{}",
        run.stdout_text()
    );
    assert_eq!(marker_id(server, &url).as_deref(), Some(id.as_str()));
    // A second restore holds both captures, exactly as the restored copy does.
    let again = env.path().join("again");
    env.raw(&[
        "restore",
        &url,
        path_str(&again),
        "--signing-key",
        path_str(&key),
    ])
    .ok();
    let verify_restored = at(&env, &restored, &["verify", "--all"]).ok().stdout_text();
    assert_eq!(
        at(&env, &again, &["verify", "--all"]).ok().stdout_text(),
        verify_restored
    );
    assert_eq!(
        at(&env, &again, &["list"]).ok().stdout_text(),
        at(&env, &restored, &["list"]).ok().stdout_text()
    );

    // The original no longer knows the prefix's latest records: its next write is refused,
    // before anything is written, locally or in the bucket — never a mixture.
    let bucket_before = bucket_state(server, &url);
    let state_before = env.state();
    capture(&env, &env.archive(), 3).one_line_error(
        2,
        &[
            &url,
            &format!("written by another copy of archive {id}"),
            "this copy is refused",
        ],
    );
    assert_eq!(bucket_state(server, &url), bucket_before);
    assert_eq!(env.state(), state_before);
    // Nor may it collect garbage there: the restored copy's new objects are unreferenced in the
    // original's records (before, `gc --delete` removed them).
    env.evarc(&["gc", "--delete"]).one_line_error(
        2,
        &[&url, &format!("written by another copy of archive {id}")],
    );
    assert_eq!(bucket_state(server, &url), bucket_before);
    // The restored copy is unaffected and still writes there.
    capture(&env, &restored, 4).ok();
    at(&env, &restored, &["verify", "--all"]).ok();
}

#[test]
fn an_old_marker_is_adopted_by_the_archive_that_writes_there_only() {
    let Some(server) = server("an_old_marker_is_adopted_by_the_archive_that_writes_there_only")
    else {
        return;
    };
    // An archive on a bucket whose marker an earlier evarc wrote: its next write adopts it.
    let env = Env::new();
    let url = env.blobs().expect("an archive on the bucket").to_owned();
    capture(&env, &env.archive(), 1).ok();
    let id = marker_id(server, &url).expect("the marker names the archive");
    set_old_marker(server, &url);
    capture(&env, &env.archive(), 2).ok();
    assert_eq!(marker_id(server, &url).as_deref(), Some(id.as_str()));

    // An old marker over records: another archive cannot tell whose they are — refused.
    set_old_marker(server, &url);
    let other = env.path().join("other");
    env.raw(&["init", path_str(&other)]).ok();
    let before = bucket_state(server, &url);
    at(&env, &other, &["replicate", &url])
        .one_line_error(2, &[&url, "names none", "this archive's ID is "]);
    env.raw(&["init", path_str(&env.path().join("third")), "--blobs", &url])
        .one_line_error(2, &[&url, "names none"]);
    assert_eq!(bucket_state(server, &url), before);

    // An archive made before archive IDs (the committed format-v2 fixture) replicating: it gets
    // an ID, the replica's marker names it; an old marker there is adopted by it (its replica
    // cursor names the prefix), keeping that ID.
    let old = unpack_format_v2(&env);
    let replica = fresh_url("old-archive");
    at(&env, &old, &["replicate", &replica]).ok();
    let old_id = marker_id(server, &replica).expect("the replica's marker names the archive");
    set_old_marker(server, &replica);
    capture(&env, &old, 5).ok();
    at(&env, &old, &["replicate", &replica]).ok();
    assert_eq!(marker_id(server, &replica), Some(old_id));
    // The restore of that replica verifies like the archive.
    let restored = env.path().join("old-restored");
    let key = old.join("tlog-signing-key");
    env.raw(&[
        "restore",
        &replica,
        path_str(&restored),
        "--signing-key",
        path_str(&key),
    ])
    .ok();
    assert_eq!(
        at(&env, &restored, &["verify", "--all"]).ok().stdout_text(),
        at(&env, &old, &["verify", "--all"]).ok().stdout_text()
    );
}

/// The committed archive of an evarc before archive IDs, unpacked into `env`'s directory.
fn unpack_format_v2(env: &Env) -> PathBuf {
    let dir = env.path().join("format-v2");
    std::fs::create_dir_all(&dir).expect("create the fixture's directory");
    let tarball = fixtures_dir().join("format-v2").join("format-v2.tar.gz");
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&dir)
        .status()
        .expect("run tar");
    assert!(status.success(), "unpacking {}", tarball.display());
    let archive = dir.join("archive");
    assert!(archive.join("CURRENT").exists(), "{}", archive.display());
    archive
}

/// Reading the marker of a prefix in a bucket that does not exist names the bucket (exit 3), as
/// before the marker named an archive: the GET's 404 alone read as "no archive there" (exit 2).
#[test]
fn restore_and_repair_from_a_missing_bucket_name_it_exit_3() {
    let Some(server) = server("restore_and_repair_from_a_missing_bucket_name_it_exit_3") else {
        return;
    };
    let env = Env::empty();
    let restored = env.path().join("restored");
    env.raw(&["restore", "s3://no-such-bucket/p", path_str(&restored)])
        .one_line_error(
            3,
            &[
                "s3://no-such-bucket/p",
                &server.endpoint(),
                "the bucket does not exist",
            ],
        );
    assert!(!restored.exists());
    env.raw(&["init", path_str(&env.archive())]).ok();
    env.evarc(&["repair", "s3://no-such-bucket/p"])
        .one_line_error(
            3,
            &[
                "s3://no-such-bucket/p",
                &server.endpoint(),
                "the bucket does not exist",
            ],
        );
}
