//! Issue 2: the store through the CLI — init, archive, get, verify, damage, refusals, one writer.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::util::{flip_stored_byte, noise, path_str, vector_input, Env};

/// Known answers for the one byte 0x00 (BLAKE3 test vector `input_len: 1`).
const ONE_BYTE_SHA256: &str = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
const ONE_BYTE_BLAKE3: &str = "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213";
/// Known answers for the BLAKE3 test-vector input of 1023 bytes.
const VECTOR_1023_SHA256: &str = "1c5e88a585b61754df6137d66632a7348557a88358afc401b0a0a4fc427104a9";
const VECTOR_1023_BLAKE3: &str = "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11";

#[test]
fn init_creates_an_empty_archive_once() {
    let env = Env::empty();
    let archive = env.archive();
    let run = env.raw(&["init", path_str(&archive)]).ok();
    assert_eq!(
        env.normalize(&run.stdout_text()),
        "Initialized empty evarc archive in [TMP]/archive (ID prefix CA, name \"evarc\")\n"
    );
    let run = env.evarc(&["verify", "--all"]).ok();
    assert_eq!(
        run.stdout_text(),
        "✓ 0 snapshots checked (0 bytes re-hashed): 0 verified, 0 failed; 0 capture records checked, 0 dangling\n"
    );

    let before = env.state();
    env.raw(&["init", path_str(&archive)]).one_line_error(
        2,
        &[
            "cannot create an archive at [TMP]/archive",
            "already holds an archive",
        ],
    );
    assert_eq!(env.state(), before, "a second init changed the archive");

    // Nor into a directory that holds something else.
    let other = env.path().join("not-empty");
    env.write("not-empty/notes.txt", b"keep me");
    env.raw(&["init", path_str(&other)])
        .one_line_error(2, &["[TMP]/not-empty", "not empty"]);
    assert_eq!(
        std::fs::read(other.join("notes.txt")).expect("the file is still there"),
        b"keep me"
    );

    // Prefix and name are chosen at init.
    let named = env.path().join("named");
    let run = env
        .raw(&[
            "init",
            path_str(&named),
            "--prefix",
            "XY",
            "--name",
            "Example Evidence Archive",
        ])
        .ok();
    assert_eq!(
        env.normalize(&run.stdout_text()),
        "Initialized empty evarc archive in [TMP]/named (ID prefix XY, name \"Example Evidence Archive\")\n"
    );
    env.raw(&["init", path_str(&env.path().join("bad")), "--prefix", "X1"])
        .one_line_error(2, &["invalid archive prefix \"X1\""]);
}

#[test]
fn archive_prints_digests_then_already_archived() {
    let env = Env::new();
    let file = env.write("zero.bin", &[0u8]);
    let first = env.evarc(&["archive", path_str(&file)]).ok();
    assert_eq!(
        first.stdout_text(),
        format!(
            "SHA-256:  {ONE_BYTE_SHA256}\nBLAKE3:   blake3:{ONE_BYTE_BLAKE3}\nSize:     1 bytes\nStatus:   new snapshot stored (2 bytes on disk)\n"
        )
    );
    let again = env.evarc(&["archive", path_str(&file)]).ok();
    assert_eq!(
        again.stdout_text(),
        format!(
            "SHA-256:  {ONE_BYTE_SHA256}\nBLAKE3:   blake3:{ONE_BYTE_BLAKE3}\nSize:     1 bytes\nStatus:   already archived (nothing new stored)\n"
        )
    );
    let run = env.evarc(&["verify", "--all"]).ok();
    assert!(
        run.stdout_text().starts_with("✓ 1 snapshot checked"),
        "{}",
        run.stdout_text()
    );
}

#[test]
fn archive_from_stdin_matches_the_known_answer() {
    let env = Env::new();
    let input = vector_input(1023);
    let run = env.evarc_stdin(&["archive", "-"], &input).ok();
    assert_eq!(run.field("SHA-256:"), VECTOR_1023_SHA256);
    assert_eq!(run.field("BLAKE3:"), format!("blake3:{VECTOR_1023_BLAKE3}"));
    assert_eq!(run.field("Size:"), "1,023 bytes");
    assert!(run.field("Status:").starts_with("new snapshot stored"));

    // The same bytes from a file are already there.
    let file = env.write("vector.bin", &input);
    let run = env.evarc(&["archive", path_str(&file)]).ok();
    assert_eq!(
        run.field("Status:"),
        "already archived (nothing new stored)"
    );

    // JSON mode says the same.
    let run = env.evarc_stdin(&["--json", "archive", "-"], &input).ok();
    let json = crate::json::Json::parse(&run.stdout_text());
    assert_eq!(json.str("snapshot/sha256"), VECTOR_1023_SHA256);
    assert_eq!(json.str("snapshot/blake3"), VECTOR_1023_BLAKE3);
    assert_eq!(json.int("snapshot/size"), 1023);
    assert_eq!(json.at("snapshot/new"), &crate::json::Json::Bool(false));
}

#[test]
fn get_returns_identical_bytes_by_every_hash_form() {
    let env = Env::new();
    // Two chunks and a bit, with every byte value, so nothing is lost to text handling.
    let input = noise(7, (1 << 20) + 4099);
    let file = env.write("input.bin", &input);
    let run = env.evarc(&["archive", path_str(&file)]).ok();
    let sha = run.field("SHA-256:");
    let blake3 = run
        .field("BLAKE3:")
        .strip_prefix("blake3:")
        .expect("BLAKE3 line has the blake3: prefix")
        .to_owned();
    let forms = [
        sha.clone(),
        format!("sha256:{sha}"),
        format!("blake3:{blake3}"),
        blake3.clone(),
        sha.to_uppercase(),
        format!("SHA256:{sha}"),
    ];
    for form in &forms {
        let run = env.evarc(&["get", form]).ok();
        assert!(
            run.stdout == input,
            "`get {form}` returned {} bytes that differ from the {} archived",
            run.stdout.len(),
            input.len()
        );
        assert_eq!(run.stderr, "", "`get {form}` wrote on stderr");
    }

    let out = env.path().join("restored.bin");
    let run = env.evarc(&["get", &blake3, "-o", path_str(&out)]).ok();
    assert!(run.stdout.is_empty(), "get -o printed on stdout");
    assert_eq!(
        run.stderr,
        format!("wrote [TMP]/restored.bin (1052675 bytes, sha256:{sha}, verified)\n")
    );
    assert!(
        std::fs::read(&out).expect("get -o wrote the file") == input,
        "get -o wrote different bytes"
    );
}

#[test]
fn verify_one_snapshot_a_file_and_the_whole_archive() {
    let env = Env::new();
    let input = vector_input(1023);
    let file = env.write("vector.bin", &input);
    env.evarc(&["archive", path_str(&file)]).ok();

    let run = env.evarc(&["verify", VECTOR_1023_SHA256]).ok();
    assert_eq!(
        run.stdout_text(),
        format!(
            "✓ verified: sha256:{VECTOR_1023_SHA256} (1,023 bytes) re-hashed identical to what was archived\n  blake3:{VECTOR_1023_BLAKE3}\n"
        )
    );
    env.evarc(&["verify", &format!("blake3:{VECTOR_1023_BLAKE3}")])
        .ok();

    let run = env.evarc(&["verify", "--file", path_str(&file)]).ok();
    assert_eq!(
        env.normalize(&run.stdout_text()),
        format!(
            "✓ [TMP]/vector.bin is byte-identical to archived snapshot sha256:{VECTOR_1023_SHA256} (1,023 bytes)\n  blake3:{VECTOR_1023_BLAKE3}\n"
        )
    );

    // One byte changed: not in the archive, exit 1.
    let mut changed = input.clone();
    changed[511] ^= 0x01;
    let other = env.write("changed.bin", &changed);
    let run = env.evarc(&["verify", "--file", path_str(&other)]).code(1);
    let text = env.normalize(&run.stdout_text());
    assert!(
        text.starts_with("✗ [TMP]/changed.bin matches no snapshot in this archive (SHA-256 ")
            && text.ends_with(
                ", 1,023 bytes)\n  no text could be extracted from it (application/octet-stream), so no closest capture can be named by text\n"
            ),
        "{text}"
    );

    let run = env.evarc(&["verify", "--all"]).ok();
    assert_eq!(
        run.stdout_text(),
        "✓ 1 snapshot checked (1,023 bytes re-hashed): 1 verified, 0 failed; 0 capture records checked, 0 dangling\n"
    );
}

/// Archives several incompressible files of 1–3 MB (stored verbatim in RocksDB), damages two of
/// them on disk, and checks every read path notices.
#[test]
fn damaged_archive_files_are_detected_and_never_served() {
    let env = Env::new();
    let sizes = [1_300_000usize, 2_100_000, 1_700_000, 2_900_000, 1_100_000];
    let mut snapshots = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let bytes = noise(100 + i as u64, *size);
        let file = env.write(&format!("noise-{i}.bin"), &bytes);
        let sha = env
            .evarc(&["archive", path_str(&file)])
            .ok()
            .field("SHA-256:");
        snapshots.push((sha, bytes, file));
    }
    // One more writer: RocksDB moves what the previous runs left in the write-ahead log into
    // table files when it opens, so the noise now sits in *.sst files.
    let small = env.write("small.txt", b"flush\n");
    env.evarc(&["archive", path_str(&small)]).ok();
    env.evarc(&["verify", "--all"]).ok();

    // Damage the first chunk of snapshot 1 and the second chunk of snapshot 3.
    let damaged = [(1usize, 300_000usize), (3, 1_500_000)];
    for (index, offset) in damaged {
        flip_stored_byte(&env.archive(), &snapshots[index].1[offset..offset + 64]);
    }

    let run = env.evarc(&["verify", "--all"]).code(1);
    let text = run.stdout_text();
    let named: BTreeSet<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("✗ sha256:"))
        .map(|rest| rest.chars().take(64).collect())
        .collect();
    let all: BTreeSet<String> = snapshots.iter().map(|(sha, _, _)| sha.clone()).collect();
    for (index, _) in damaged {
        assert!(
            named.contains(&snapshots[index].0),
            "verify --all does not name damaged snapshot {}:\n{text}",
            snapshots[index].0
        );
    }
    assert!(
        named.is_subset(&all),
        "verify --all names snapshots that were never archived:\n{text}"
    );
    let summary = text.lines().last().expect("a summary line");
    assert!(
        summary.starts_with("✗ 6 snapshots checked") && summary.contains(" failed;"),
        "{summary}"
    );

    for (sha, bytes, file) in &snapshots {
        if named.contains(sha) {
            let out = env.path().join(format!("get-{sha}.bin"));
            let run = env.evarc(&["get", sha, "-o", path_str(&out)]);
            assert_ne!(
                run.code, 0,
                "get of damaged snapshot {sha} succeeded: {}",
                run.stderr
            );
            assert!(
                !out.exists(),
                "get -o left a file behind for damaged snapshot {sha}"
            );
            assert!(run.stderr.contains("damaged"), "{}", run.stderr);
            let run = env.evarc(&["verify", sha]).code(1);
            assert!(
                run.stdout_text()
                    .starts_with(&format!("✗ FAILED: sha256:{sha}: ")),
                "{}",
                run.stdout_text()
            );
            let run = env.evarc(&["verify", "--file", path_str(file)]).code(1);
            assert!(
                run.stdout_text().contains("fails verification"),
                "{}",
                run.stdout_text()
            );
        } else {
            let run = env.evarc(&["get", sha]).ok();
            assert!(
                run.stdout == *bytes,
                "an undamaged snapshot {sha} came back different"
            );
        }
    }
}

#[test]
fn refused_inputs_are_one_line_errors_and_change_nothing() {
    let env = Env::new();
    let kept = env.write("kept.txt", b"already archived\n");
    env.evarc(&["archive", path_str(&kept)]).ok();
    let before = env.state();

    let empty = env.write("empty.txt", b"");
    env.evarc(&["archive", path_str(&empty)])
        .one_line_error(2, &["[TMP]/empty.txt is empty (0 bytes)", "--allow-empty"]);
    env.evarc_stdin(&["archive", "-"], b"")
        .one_line_error(2, &["standard input is empty (0 bytes)"]);
    env.evarc(&["archive", path_str(env.path())])
        .one_line_error(2, &["[TMP] is a directory"]);
    env.evarc(&["archive", path_str(&env.path().join("no-such-file.txt"))])
        .one_line_error(2, &["[TMP]/no-such-file.txt"]);

    let unreadable = env.write("unreadable.txt", b"secret\n");
    set_mode(&unreadable, 0o000);
    if std::fs::File::open(&unreadable).is_ok() {
        println!(
            "note: skipped the unreadable-file case: running as a user (root?) who can read a mode-000 file"
        );
    } else {
        env.evarc(&["archive", path_str(&unreadable)])
            .one_line_error(2, &["[TMP]/unreadable.txt", "ermission denied"]);
    }
    set_mode(&unreadable, 0o644);

    let unknown = "0".repeat(64);
    for command in ["get", "verify"] {
        env.evarc(&[command, &unknown]).one_line_error(
            2,
            &[&format!("no snapshot with hash {unknown} in this archive")],
        );
        env.evarc(&[command, &format!("blake3:{}", "ab".repeat(32))])
            .one_line_error(2, &["no snapshot with hash blake3:abab"]);
        env.evarc(&[command, "d4c6961"])
            .one_line_error(2, &["malformed hash \"d4c6961\"", "64 hex digits"]);
        env.evarc(&[command, &format!("md5:{}", "a".repeat(64))])
            .one_line_error(2, &["malformed hash", "unknown algorithm"]);
        env.evarc(&[command, &"g".repeat(64)])
            .one_line_error(2, &["malformed hash"]);
    }
    let out = env.path().join("never-written.bin");
    env.evarc(&["get", &unknown, "-o", path_str(&out)])
        .one_line_error(2, &["no snapshot with hash"]);
    assert!(!out.exists(), "get -o of an unknown hash created a file");

    let missing = env.path().join("nonexistent/x");
    for args in [
        vec!["archive", path_str(&kept)],
        vec!["verify", "--all"],
        vec!["get", ONE_BYTE_SHA256],
        vec!["list"],
    ] {
        let mut full = vec!["--archive", path_str(&missing)];
        full.extend(args);
        env.raw(&full)
            .one_line_error(2, &["[TMP]/nonexistent/x", "evarc init"]);
    }
    assert!(
        !missing.exists(),
        "a command created the missing archive {}",
        missing.display()
    );
    env.raw(&["--archive", "/nonexistent/x", "archive", path_str(&kept)])
        .one_line_error(2, &["/nonexistent/x"]);

    assert_eq!(env.state(), before, "a refused command changed the archive");
}

/// `archive DIR` suggests a command to use instead; it must be one that exists.
#[test]
fn directory_refusal_suggests_only_existing_commands() {
    let env = Env::new();
    let message = env
        .evarc(&["archive", path_str(env.path())])
        .one_line_error(2, &["is a directory"]);
    let help = env.raw(&["--help"]).ok().stdout_text();
    if let Some(at) = message.find("evarc ") {
        let command = message[at + "evarc ".len()..]
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
            .next()
            .unwrap_or_default();
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{command} "))),
            "the error suggests `evarc {command}`, which is not a command of this evarc: {message}"
        );
    }
}

/// One writer at a time: a second `archive` is refused naming the archive, readers carry on.
#[test]
fn second_writer_is_refused_while_readers_work() {
    let env = Env::new();
    let earlier = vector_input(1023);
    let earlier_file = env.write("earlier.bin", &earlier);
    env.evarc(&["archive", path_str(&earlier_file)]).ok();

    if !std::path::Path::new("/proc/locks").exists() {
        println!(
            "note: skipped: /proc/locks is not available to see when the writer holds its lock"
        );
        return;
    }
    let mut writer = env.spawn_with_stdin(&["archive", "-"]);
    let mut stdin = writer.stdin.take().expect("piped stdin");
    // The first bytes let `archive -` past its empty-input check; it then opens the archive
    // for writing and waits for the rest of standard input while holding the lock.
    stdin
        .write_all(b"first part of a slow upload\n")
        .expect("write to the writer");
    stdin.flush().expect("flush the writer's stdin");
    wait_for_lock(&env, &mut writer);

    let other = env.write("other.txt", b"second writer\n");
    let run = env.evarc(&["--wait", "0", "archive", path_str(&other)]);
    let message = run.one_line_error(2, &["[TMP]/archive", "in use"]);
    assert!(message.contains("another evarc process"), "{message}");

    // Readers are not blocked by the writer.
    env.evarc(&["verify", VECTOR_1023_SHA256]).ok();
    let run = env.evarc(&["get", VECTOR_1023_SHA256]).ok();
    assert!(
        run.stdout == earlier,
        "get during a write returned other bytes"
    );
    env.evarc(&["list"]).ok();

    stdin
        .write_all(b"and the rest of it\n")
        .expect("write to the writer");
    drop(stdin);
    let output = writer.wait_with_output().expect("wait for the writer");
    let run = crate::util::Run::from_output(&env, &["archive", "-"], output).ok();
    let sha = run.field("SHA-256:");
    let run = env.evarc(&["get", &sha]).ok();
    assert_eq!(
        run.stdout,
        b"first part of a slow upload\nand the rest of it\n".to_vec()
    );
    // And the lock is free again.
    env.evarc(&["archive", path_str(&other)]).ok();
}

/// Waits (without a time assertion: a generous bound only against hanging) until the child
/// holds a lock on the archive's `evarc.lock`, as listed in /proc/locks.
pub(crate) fn wait_for_lock(env: &Env, child: &mut std::process::Child) {
    use std::os::unix::fs::MetadataExt;
    let lock = env.archive().join("evarc.lock");
    let ino = std::fs::metadata(&lock)
        .expect("the archive has a lock file")
        .ino();
    let pid = child.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let locks = std::fs::read_to_string("/proc/locks").expect("read /proc/locks");
        let held = locks.lines().any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.contains(&pid.as_str())
                && fields
                    .iter()
                    .any(|f| f.rsplit(':').next() == Some(&ino.to_string()))
        });
        if held {
            return;
        }
        if let Some(status) = child.try_wait().expect("poll the writer") {
            panic!("the writer exited ({status}) before taking the lock");
        }
        assert!(
            Instant::now() < deadline,
            "the writer never took the archive lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Without `--archive`: `$EVARC_ARCHIVE` is used (and must exist); without either, the default
/// archive under `$HOME` is created on first use.
#[test]
fn archive_location_comes_from_the_environment() {
    let env = Env::empty();
    let file = env.write("note.txt", b"where does this go?\n");
    env.raw(&["archive", path_str(&file)])
        .one_line_error(2, &["[TMP]/env-archive-never-used", "evarc init"]);

    let from_env = env.path().join("from-env");
    env.raw(&["init", path_str(&from_env)]).ok();
    let mut cmd = env.command();
    cmd.env("EVARC_ARCHIVE", &from_env)
        .args(["archive", path_str(&file)]);
    let run =
        crate::util::Run::from_output(&env, &["archive"], cmd.output().expect("run evarc")).ok();
    let sha = run.field("SHA-256:");
    env.raw(&["--archive", path_str(&from_env), "verify", &sha])
        .ok();

    let mut cmd = env.command();
    cmd.env_remove("EVARC_ARCHIVE")
        .args(["archive", path_str(&file)]);
    crate::util::Run::from_output(&env, &["archive"], cmd.output().expect("run evarc")).ok();
    let default = env.path().join("home/.local/share/evarc");
    assert!(
        default.join("CURRENT").exists(),
        "no default archive was created at {}",
        default.display()
    );
    env.raw(&["--archive", path_str(&default), "verify", &sha])
        .ok();
}

/// Found by the crash torture after issue 16: a flush killed mid-way leaves a table file the
/// database never referenced (here: empty). It is not the archive's: the audit lists it as
/// unreferenced and stays clean, while damage to a referenced table is still found.
#[test]
fn a_table_file_left_by_an_interrupted_flush_is_not_damage() {
    let env = Env::new();
    let file = env.write("a.txt", b"bytes of the only capture\n");
    env.evarc(&["archive", path_str(&file)]).ok();
    std::fs::write(env.archive().join("999999.sst"), b"").expect("write a stray table file");
    let run = env.evarc(&["verify", "--all"]).ok();
    assert!(run.stdout_text().starts_with("✓ "), "{}", run.stdout_text());
    let json: serde_json::Value =
        serde_json::from_str(&env.evarc(&["--json", "verify", "--all"]).ok().stdout_text())
            .expect("one JSON report");
    assert_eq!(
        json["files_unreferenced"],
        serde_json::json!(["999999.sst"])
    );
    assert_eq!(json["file_damage"], serde_json::json!([]));
}
